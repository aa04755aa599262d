#include "store/rev_tree.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <ostream>
#include <random>
#include <string>
#include <utility>
#include <vector>

namespace wisp::store {

// So that failures print "3-abc" rather than bytes.
void PrintTo(const Rev& rev, std::ostream* os) { *os << rev.ToString(); }
void PrintTo(const RevInfo& info, std::ostream* os) { *os << info.rev.ToString() << ":" << info.status; }

namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::UnorderedElementsAreArray;

Rev R(std::string_view text) {
  Result<Rev> rev = Rev::Parse(text);
  EXPECT_TRUE(rev.ok()) << text;
  return rev.value_or(Rev{});
}

std::vector<Rev> Revs(std::initializer_list<std::string_view> texts) {
  std::vector<Rev> out;
  for (std::string_view t : texts) out.push_back(R(t));
  return out;
}

// A tree built by Merge, asserting each merge is accepted.
void MergeOk(RevTree& tree, std::initializer_list<std::string_view> path, bool deleted = false) {
  Result<bool> merged = tree.Merge(Revs(path), deleted);
  ASSERT_TRUE(merged.ok()) << merged.status().ToString();
}

// 1-a <- 2-b <- 3-c, by interactive edits.
RevTree Linear3() {
  RevTree tree;
  EXPECT_TRUE(tree.AddEdit(std::nullopt, R("1-a"), false).ok());
  EXPECT_TRUE(tree.AddEdit(R("1-a"), R("2-b"), false).ok());
  EXPECT_TRUE(tree.AddEdit(R("2-b"), R("3-c"), false).ok());
  return tree;
}

// ---- Rev ----

TEST(RevTest, ParseSplitsGenerationAndId) {
  Result<Rev> rev = Rev::Parse("3-abc");
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(rev->generation, 3);
  EXPECT_EQ(rev->hash, "abc");
  EXPECT_EQ(rev->ToString(), "3-abc");
}

TEST(RevTest, ParseKeepsEverythingAfterTheFirstDashAsTheId) {
  Result<Rev> rev = Rev::Parse("12-x-y-z");
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(rev->generation, 12);
  EXPECT_EQ(rev->hash, "x-y-z");
}

TEST(RevTest, ParseAcceptsOpaqueIdsOfOtherLengthsAsReplicationDoes) {
  EXPECT_TRUE(Rev::Parse("1-X").ok());
  EXPECT_EQ(Rev::Parse("1-NotHex!")->hash, "NotHex!");
  EXPECT_EQ(Rev::Parse("2-ABCDEF")->hash, "ABCDEF");  // only 32-character ids are treated as hex
}

TEST(RevTest, ParseLowercases32CharacterHexIds) {
  Result<Rev> rev = Rev::Parse("5-0123456789ABCDEF0123456789abcdef");
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(rev->hash, "0123456789abcdef0123456789abcdef");
}

TEST(RevTest, ParseRejects32CharacterIdsThatAreNotHex) {
  EXPECT_TRUE(Rev::Parse("5-0123456789abcdef0123456789abcdeg").status().IsInvalidArgument());
}

TEST(RevTest, ParseRejectsMalformedRevs) {
  for (std::string_view bad : {"", "abc", "0-x", "-1-x", "1-", "-", "-x", "x-1", "1x-abc", "+1-a", " 1-a", "1 -a",
                               "00-a", "99999999999999999999-a"}) {
    Result<Rev> rev = Rev::Parse(bad);
    EXPECT_FALSE(rev.ok()) << '"' << bad << '"';
    if (!rev.ok()) {
      EXPECT_TRUE(rev.status().IsInvalidArgument()) << bad;
      EXPECT_EQ(rev.status().message(), "Invalid rev format");
    }
  }
}

TEST(RevTest, ParseAcceptsLeadingZerosInTheGenerationAsCouchDbDoes) {
  Result<Rev> rev = Rev::Parse("007-a");
  ASSERT_TRUE(rev.ok());
  EXPECT_EQ(rev->generation, 7);
  EXPECT_EQ(rev->ToString(), "7-a");
}

TEST(RevTest, OrdersByGenerationThenIdBytewise) {
  EXPECT_LT(R("2-z"), R("10-a"));  // numerically, not as text
  EXPECT_LT(R("2-B"), R("2-a"));   // 'B' (0x42) sorts before 'a' (0x61)
  EXPECT_EQ(R("3-abc"), (Rev{3, "abc"}));
}

// ---- NewRevHash ----

bool IsLowerHex32(const std::string& s) {
  return s.size() == 32 &&
         std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

TEST(NewRevHashTest, IsThirtyTwoLowercaseHexDigits) {
  EXPECT_TRUE(IsLowerHex32(NewRevHash(Json::object(), std::nullopt, false)));
  EXPECT_TRUE(IsLowerHex32(NewRevHash(Json{{"x", "y"}}, R("4-abc"), true)));
}

TEST(NewRevHashTest, EncodingIsPinnedSoReplicasOfEveryVersionAgree) {
  // md5('[false,0,"",{}]') and md5('[true,1,"abc",{"a":1,"b":[true,null]}]').
  EXPECT_EQ(NewRevHash(Json::object(), std::nullopt, false), "d2422118a02a398f9502ebcbaa7b90bd");
  Json body = json::Parse(R"({"b":[true,null],"a":1})").value();
  EXPECT_EQ(NewRevHash(body, R("1-abc"), true), "df1319500cf5bad98128d4165d814c7d");
}

TEST(NewRevHashTest, SameEditGivesSameRevWhateverTheKeyOrder) {
  Json one = json::Parse(R"({"a":1,"nested":{"x":[1,2],"y":"z"}})").value();
  Json two = json::Parse(R"({"nested":{"y":"z","x":[1,2]},"a":1})").value();
  EXPECT_EQ(NewRevHash(one, R("2-abc"), false), NewRevHash(two, R("2-abc"), false));
}

TEST(NewRevHashTest, DependsOnBodyParentAndDeletion) {
  Json body{{"a", 1}};
  std::string base = NewRevHash(body, R("1-abc"), false);
  EXPECT_NE(base, NewRevHash(Json{{"a", 2}}, R("1-abc"), false));
  EXPECT_NE(base, NewRevHash(body, R("1-abd"), false));
  EXPECT_NE(base, NewRevHash(body, R("2-abc"), false));
  EXPECT_NE(base, NewRevHash(body, std::nullopt, false));
  EXPECT_NE(base, NewRevHash(body, R("1-abc"), true));
}

// ---- Interactive edits ----

TEST(RevTreeEditTest, EditsBuildALinearHistory) {
  RevTree tree = Linear3();
  EXPECT_EQ(tree.size(), 3u);
  EXPECT_EQ(tree.Winner(), R("3-c"));
  EXPECT_FALSE(tree.WinnerDeleted());
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("3-c")));
  EXPECT_THAT(tree.Conflicts(), IsEmpty());
  EXPECT_TRUE(tree.IsLeaf(R("3-c")));
  EXPECT_FALSE(tree.IsLeaf(R("2-b")));
  EXPECT_TRUE(tree.HasBody(R("1-a")));
}

TEST(RevTreeEditTest, EditParentOfANewDocumentIsNone) {
  RevTree tree;
  Result<std::optional<Rev>> parent = tree.EditParent(std::nullopt, false);
  ASSERT_TRUE(parent.ok());
  EXPECT_FALSE(parent->has_value());
}

TEST(RevTreeEditTest, PutWithStaleRevReturnsConflict) {
  RevTree tree = Linear3();
  Status s = tree.AddEdit(R("2-b"), R("3-x"), false);
  EXPECT_TRUE(s.IsConflict()) << s.ToString();
  EXPECT_EQ(s.message(), "Document update conflict.");
  EXPECT_FALSE(tree.Contains(R("3-x")));
}

TEST(RevTreeEditTest, PutWithUnknownRevReturnsConflict) {
  RevTree tree = Linear3();
  EXPECT_TRUE(tree.AddEdit(R("3-zzz"), R("4-x"), false).IsConflict());
}

TEST(RevTreeEditTest, PutWithoutRevOnALiveDocumentReturnsConflict) {
  RevTree tree = Linear3();
  EXPECT_TRUE(tree.AddEdit(std::nullopt, R("1-x"), false).IsConflict());
  EXPECT_TRUE(tree.EditParent(std::nullopt, false).status().IsConflict());
}

TEST(RevTreeEditTest, NewDocumentWithARevReturnsConflict) {
  // PouchDB "4712 invalid rev for new doc generates conflict".
  RevTree tree;
  EXPECT_TRUE(tree.AddEdit(R("1-a"), R("2-b"), false).IsConflict());
  EXPECT_TRUE(tree.empty());
}

TEST(RevTreeEditTest, EditWithTheWrongGenerationIsInvalid) {
  RevTree tree = Linear3();
  EXPECT_TRUE(tree.AddEdit(R("3-c"), R("5-x"), false).IsInvalidArgument());
  EXPECT_TRUE(tree.AddEdit(R("3-c"), Rev{4, ""}, false).IsInvalidArgument());
  RevTree fresh;
  EXPECT_TRUE(fresh.AddEdit(std::nullopt, R("2-x"), false).IsInvalidArgument());
}

TEST(RevTreeEditTest, EditCreatingAnExistingRevReturnsConflict) {
  RevTree tree;
  MergeOk(tree, {"2-b", "1-a"});
  MergeOk(tree, {"2-c", "1-a"});
  // 2-b is a leaf, but 3-... cannot reuse an id that exists elsewhere.
  MergeOk(tree, {"3-dup", "2-c", "1-a"});
  EXPECT_TRUE(tree.AddEdit(R("2-b"), R("3-dup"), false).IsConflict());
}

TEST(RevTreeEditTest, DeletingTheOnlyLeafMakesTheWinnerDeleted) {
  RevTree tree = Linear3();
  ASSERT_TRUE(tree.AddEdit(R("3-c"), R("4-d"), true).ok());
  EXPECT_EQ(tree.Winner(), R("4-d"));
  EXPECT_TRUE(tree.WinnerDeleted());
  EXPECT_TRUE(tree.IsDeleted(R("4-d")));
  EXPECT_TRUE(tree.HasBody(R("4-d")));  // a tombstone is a leaf with a (small) body
}

TEST(RevTreeEditTest, CreatingADeletedDocumentIsAllowed) {
  RevTree tree;
  ASSERT_TRUE(tree.AddEdit(std::nullopt, R("1-a"), true).ok());
  EXPECT_TRUE(tree.WinnerDeleted());
}

TEST(RevTreeEditTest, RecreatingADeletedDocumentExtendsTheDeletedWinner) {
  RevTree tree = Linear3();
  ASSERT_TRUE(tree.AddEdit(R("3-c"), R("4-d"), true).ok());
  Result<std::optional<Rev>> parent = tree.EditParent(std::nullopt, false);
  ASSERT_TRUE(parent.ok());
  ASSERT_TRUE(parent->has_value());
  EXPECT_EQ(**parent, R("4-d"));

  Rev next{5, NewRevHash(Json{{"again", true}}, **parent, false)};
  ASSERT_TRUE(tree.AddEdit(std::nullopt, next, false).ok());
  EXPECT_EQ(tree.Winner(), next);
  EXPECT_FALSE(tree.WinnerDeleted());
  EXPECT_THAT(tree.PathTo(next), ElementsAre(next, R("4-d"), R("3-c"), R("2-b"), R("1-a")));
  EXPECT_THAT(tree.Leaves(), ElementsAre(next));  // no new root, no conflict
}

TEST(RevTreeEditTest, RecreatingWithAGenerationOneRevIsInvalid) {
  RevTree tree;
  ASSERT_TRUE(tree.AddEdit(std::nullopt, R("1-a"), false).ok());
  ASSERT_TRUE(tree.AddEdit(R("1-a"), R("2-b"), true).ok());
  EXPECT_TRUE(tree.AddEdit(std::nullopt, R("1-x"), false).IsInvalidArgument());
}

TEST(RevTreeEditTest, EditNamingTheTombstoneOfADeletedDocumentReturnsConflict) {
  // CouchDB 3 answers 409 here (apache/couchdb#3177); recreate without a rev.
  RevTree tree;
  ASSERT_TRUE(tree.AddEdit(std::nullopt, R("1-a"), false).ok());
  ASSERT_TRUE(tree.AddEdit(R("1-a"), R("2-b"), true).ok());
  EXPECT_TRUE(tree.AddEdit(R("2-b"), R("3-c"), false).IsConflict());
  EXPECT_TRUE(tree.AddEdit(R("2-b"), R("3-c"), true).IsConflict());
}

TEST(RevTreeEditTest, DeletingADeletedDocumentWithoutRevReturnsConflict) {
  RevTree tree;
  ASSERT_TRUE(tree.AddEdit(std::nullopt, R("1-a"), true).ok());
  EXPECT_TRUE(tree.AddEdit(std::nullopt, R("2-b"), true).IsConflict());
}

TEST(RevTreeEditTest, ALosingLeafCanBeEditedWhileTheDocumentIsLive) {
  RevTree tree;
  MergeOk(tree, {"2-b", "1-a"});
  MergeOk(tree, {"2-c", "1-a"});
  ASSERT_EQ(tree.Winner(), R("2-c"));
  // Resolving the conflict: delete the loser.
  ASSERT_TRUE(tree.AddEdit(R("2-b"), R("3-del"), true).ok());
  EXPECT_EQ(tree.Winner(), R("2-c"));
  EXPECT_THAT(tree.Conflicts(), IsEmpty());
  EXPECT_THAT(tree.DeletedConflicts(), ElementsAre(R("3-del")));
}

TEST(RevTreeEditTest, ADeletedLosingLeafCanBeEditedWhileTheDocumentIsLive) {
  RevTree tree;
  MergeOk(tree, {"3-live", "2-b", "1-a"});
  MergeOk(tree, {"2-gone", "1-a"}, /*deleted=*/true);
  ASSERT_TRUE(tree.AddEdit(R("2-gone"), R("3-back"), false).ok());
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("3-back")));
}

// ---- Winner ----

TEST(RevTreeWinnerTest, LiveLeafBeatsAHigherGenerationDeletedLeaf) {
  RevTree tree;
  MergeOk(tree, {"2-b", "1-a"});
  MergeOk(tree, {"5-e", "4-d", "3-c", "2-x", "1-a"}, /*deleted=*/true);
  EXPECT_EQ(tree.Winner(), R("2-b"));
  EXPECT_FALSE(tree.WinnerDeleted());
  EXPECT_THAT(tree.Conflicts(), IsEmpty());
  EXPECT_THAT(tree.DeletedConflicts(), ElementsAre(R("5-e")));
}

TEST(RevTreeWinnerTest, HigherGenerationWinsAmongLiveLeaves) {
  RevTree tree;
  MergeOk(tree, {"3-a", "2-a", "1-a"});
  MergeOk(tree, {"2-z", "1-a"});
  EXPECT_EQ(tree.Winner(), R("3-a"));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("2-z")));
}

TEST(RevTreeWinnerTest, GreatestIdBreaksGenerationTiesBytewise) {
  RevTree tree;
  MergeOk(tree, {"2-B", "1-a"});
  MergeOk(tree, {"2-a", "1-a"});
  MergeOk(tree, {"2-Z", "1-a"});
  EXPECT_EQ(tree.Winner(), R("2-a"));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("2-Z"), R("2-B")));
}

TEST(RevTreeWinnerTest, WhenEveryLeafIsDeletedTheBestDeletedLeafWins) {
  RevTree tree;
  MergeOk(tree, {"3-a", "2-a", "1-a"}, true);
  MergeOk(tree, {"3-b", "2-b", "1-a"}, true);
  MergeOk(tree, {"2-c", "1-a"}, true);
  EXPECT_EQ(tree.Winner(), R("3-b"));
  EXPECT_TRUE(tree.WinnerDeleted());
  EXPECT_THAT(tree.Conflicts(), IsEmpty());
  EXPECT_THAT(tree.DeletedConflicts(), ElementsAre(R("3-a"), R("2-c")));
}

TEST(RevTreeWinnerTest, LeavesListsWinnerFirstThenLiveThenDeleted) {
  RevTree tree;
  MergeOk(tree, {"2-a", "1-a"});
  MergeOk(tree, {"2-b", "1-a"});
  MergeOk(tree, {"4-d", "3-d", "2-d", "1-a"}, true);
  MergeOk(tree, {"1-other"});  // an unrelated root
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("2-b"), R("2-a"), R("1-other"), R("4-d")));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("2-a"), R("1-other")));
  EXPECT_THAT(tree.DeletedConflicts(), ElementsAre(R("4-d")));
}

TEST(RevTreeWinnerTest, EmptyTreeHasNoWinner) {
  RevTree tree;
  EXPECT_EQ(tree.Winner(), Rev{});
  EXPECT_FALSE(tree.WinnerDeleted());
  EXPECT_THAT(tree.Leaves(), IsEmpty());
}

// ---- Replicated merges (new_edits=false) ----

TEST(RevTreeMergeTest, MergeIntoAnEmptyTreeAddsThePathWithOnlyTheLeafAvailable) {
  RevTree tree;
  Result<bool> changed = tree.Merge(Revs({"3-c", "2-b", "1-a"}), false);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_EQ(tree.Winner(), R("3-c"));
  EXPECT_THAT(tree.RevsInfo(R("3-c")),
              ElementsAre(RevInfo{R("3-c"), kRevStatusAvailable}, RevInfo{R("2-b"), kRevStatusMissing},
                          RevInfo{R("1-a"), kRevStatusMissing}));
}

TEST(RevTreeMergeTest, MergingAnExistingPathIsANoop) {
  RevTree tree;
  MergeOk(tree, {"3-c", "2-b", "1-a"});
  Json before = tree.ToJson();
  Result<bool> again = tree.Merge(Revs({"3-c", "2-b", "1-a"}), false);
  ASSERT_TRUE(again.ok());
  EXPECT_FALSE(*again);
  EXPECT_EQ(tree.ToJson(), before);
}

TEST(RevTreeMergeTest, MergingAKnownLeafKeepsItsBodyAndDeletedFlag) {
  RevTree tree = Linear3();
  Result<bool> changed = tree.Merge(Revs({"3-c", "2-b"}), /*deleted=*/true);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_FALSE(tree.WinnerDeleted());
}

TEST(RevTreeMergeTest, MergingAnAncestorIsANoopAndLeavesItsBodyMissing) {
  RevTree tree;
  MergeOk(tree, {"3-c", "2-b", "1-a"});
  Result<bool> changed = tree.Merge(Revs({"2-b", "1-a"}), false);
  ASSERT_TRUE(changed.ok());
  EXPECT_FALSE(*changed);
  EXPECT_FALSE(tree.HasBody(R("2-b")));
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("3-c")));
}

TEST(RevTreeMergeTest, PathExtendingALeafGrafts) {
  RevTree tree = Linear3();
  Result<bool> changed = tree.Merge(Revs({"5-e", "4-d", "3-c", "2-b"}), false);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("5-e")));
  EXPECT_THAT(tree.PathTo(R("5-e")), ElementsAre(R("5-e"), R("4-d"), R("3-c"), R("2-b"), R("1-a")));
  EXPECT_TRUE(tree.HasBody(R("3-c")));   // kept from the local edit
  EXPECT_FALSE(tree.HasBody(R("4-d")));  // history only
}

TEST(RevTreeMergeTest, PathBranchingFromACommonAncestorMakesAConflict) {
  RevTree tree = Linear3();
  MergeOk(tree, {"3-x", "2-b", "1-a"});
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("3-x"), R("3-c")));
  EXPECT_EQ(tree.Winner(), R("3-x"));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("3-c")));
}

TEST(RevTreeMergeTest, UnrelatedPathBecomesANewRoot) {
  RevTree tree = Linear3();
  MergeOk(tree, {"4-q", "3-p"});
  EXPECT_EQ(tree.size(), 5u);
  EXPECT_THAT(tree.PathTo(R("4-q")), ElementsAre(R("4-q"), R("3-p")));
  EXPECT_EQ(tree.Winner(), R("4-q"));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("3-c")));
}

TEST(RevTreeMergeTest, PathWithOlderHistoryRestoresStemmedAncestorsAndJoinsRoots) {
  RevTree tree;
  MergeOk(tree, {"5-e", "4-d"});  // a stemmed history: its root is 4-d
  MergeOk(tree, {"2-b", "1-a"});  // an unrelated one, for now
  ASSERT_THAT(tree.PathTo(R("5-e")), ElementsAre(R("5-e"), R("4-d")));
  MergeOk(tree, {"4-d", "3-c", "2-b", "1-a"});
  EXPECT_THAT(tree.PathTo(R("5-e")), ElementsAre(R("5-e"), R("4-d"), R("3-c"), R("2-b"), R("1-a")));
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("5-e")));
  EXPECT_TRUE(tree.HasBody(R("2-b")));  // it arrived as a leaf before
}

TEST(RevTreeMergeTest, PathContradictingKnownAncestryIsCutWhereItDisagrees) {
  RevTree tree;
  MergeOk(tree, {"3-c", "2-b", "1-a"});
  // Claims 3-c descends from 2-x: the tree's own history wins.
  Result<bool> changed = tree.Merge(Revs({"4-d", "3-c", "2-x", "1-y"}), false);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);
  EXPECT_FALSE(tree.Contains(R("2-x")));
  EXPECT_FALSE(tree.Contains(R("1-y")));
  EXPECT_THAT(tree.PathTo(R("4-d")), ElementsAre(R("4-d"), R("3-c"), R("2-b"), R("1-a")));
}

TEST(RevTreeMergeTest, DeletedLeafMakesTheWinnerDeleted) {
  RevTree tree = Linear3();
  MergeOk(tree, {"4-d", "3-c"}, /*deleted=*/true);
  EXPECT_TRUE(tree.WinnerDeleted());
  EXPECT_EQ(tree.Winner(), R("4-d"));
}

TEST(RevTreeMergeTest, RejectsMalformedPaths) {
  RevTree tree;
  EXPECT_TRUE(tree.Merge({}, false).status().IsInvalidArgument());
  EXPECT_TRUE(tree.Merge(Revs({"3-c", "1-a"}), false).status().IsInvalidArgument());
  EXPECT_TRUE(tree.Merge(Revs({"1-a", "2-b"}), false).status().IsInvalidArgument());
  EXPECT_TRUE(tree.Merge({Rev{1, "a"}, Rev{0, "z"}}, false).status().IsInvalidArgument());
  EXPECT_TRUE(tree.Merge({Rev{2, ""}, Rev{1, "a"}}, false).status().IsInvalidArgument());
  EXPECT_TRUE(tree.empty());
}

// ---- Convergence of replicas ----

struct History {
  std::vector<Rev> path;  // leaf first
  bool deleted;
};

// The shape of a tree independent of which bodies are stored: each revision
// with its parent, and each leaf's deleted flag.
std::vector<std::string> Shape(const RevTree& tree) {
  std::vector<std::string> out;
  Json revs = tree.ToJson()["revs"];
  for (const Json& r : revs) {
    int parent = r[2].get<int>();
    Rev rev{r[0].get<int64_t>(), r[1].get<std::string>()};
    std::string line = rev.ToString() + " <- " + (parent < 0 ? "root" : revs[parent][1].get<std::string>());
    if (tree.IsLeaf(rev)) line += tree.IsDeleted(rev) ? " leaf deleted" : " leaf";
    out.push_back(line);
  }
  return out;
}

// Every leaf's history, as a replicator sends it.
std::vector<History> LeafHistories(const RevTree& tree) {
  std::vector<History> out;
  for (const Rev& leaf : tree.Leaves()) out.push_back({tree.PathTo(leaf), tree.IsDeleted(leaf)});
  return out;
}

void MergeAll(RevTree& tree, const std::vector<History>& histories, size_t revs_limit) {
  for (const History& h : histories) {
    std::vector<Rev> path = h.path;
    if (path.size() > revs_limit) path.resize(revs_limit);
    ASSERT_TRUE(tree.Merge(path, h.deleted).ok());
    tree.Stem(revs_limit);
  }
}

// A random document history: edits on random revisions (so branches), some
// deletions, and now and then an unrelated root. Returns the history of every
// revision, as some replica could have seen it at one time.
std::vector<History> RandomUniverse(std::mt19937& rng, RevTree& universe) {
  std::vector<History> histories;
  std::vector<Rev> all;
  auto random_id = [&rng] {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string id;
    for (int i = 0; i < 8; ++i) id.push_back(kHex[rng() % 16]);
    return id;
  };
  int steps = 10 + static_cast<int>(rng() % 40);
  for (int step = 0; step < steps; ++step) {
    std::vector<Rev> path;
    if (all.empty() || rng() % 10 == 0) {
      path.push_back(Rev{1, random_id()});
    } else {
      const Rev& base = all[rng() % all.size()];
      path = universe.PathTo(base);
      path.insert(path.begin(), Rev{base.generation + 1, random_id()});
    }
    bool deleted = rng() % 5 == 0;
    EXPECT_TRUE(universe.Merge(path, deleted).ok());
    all.push_back(path.front());
    histories.push_back({path, deleted});
  }
  return histories;
}

TEST(RevTreeConvergenceTest, MergeOrderDoesNotChangeTheTree) {
  std::mt19937 rng(20240601);
  for (int round = 0; round < 200; ++round) {
    RevTree universe;
    std::vector<History> histories = RandomUniverse(rng, universe);
    std::vector<History> shuffled = histories;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    RevTree a;
    RevTree b;
    MergeAll(a, histories, kDefaultRevsLimit);
    MergeAll(b, shuffled, kDefaultRevsLimit);
    ASSERT_EQ(Shape(a), Shape(b)) << "round " << round;
    ASSERT_EQ(Shape(a), Shape(universe)) << "round " << round;
    EXPECT_EQ(a.Winner(), b.Winner());
  }
}

TEST(RevTreeConvergenceTest, ReplicasExchangingLeafHistoriesAgreeOnTheWinner) {
  std::mt19937 rng(7);
  for (int round = 0; round < 200; ++round) {
    RevTree universe;
    std::vector<History> histories = RandomUniverse(rng, universe);
    // Each replica saw some of the edits, together all of them, in its own order.
    std::vector<History> seen_a;
    std::vector<History> seen_b;
    for (const History& h : histories) {
      uint32_t who = rng() % 3;  // 0: a only, 1: b only, 2: both
      if (who != 1) seen_a.push_back(h);
      if (who != 0) seen_b.push_back(h);
    }
    std::shuffle(seen_a.begin(), seen_a.end(), rng);
    std::shuffle(seen_b.begin(), seen_b.end(), rng);
    RevTree a;
    RevTree b;
    MergeAll(a, seen_a, kDefaultRevsLimit);
    MergeAll(b, seen_b, kDefaultRevsLimit);

    // Replicate both ways, in either order.
    std::vector<History> from_a = LeafHistories(a);
    std::vector<History> from_b = LeafHistories(b);
    if (rng() % 2 == 0) {
      MergeAll(a, from_b, kDefaultRevsLimit);
      MergeAll(b, from_a, kDefaultRevsLimit);
    } else {
      MergeAll(b, from_a, kDefaultRevsLimit);
      MergeAll(a, from_b, kDefaultRevsLimit);
    }
    ASSERT_EQ(Shape(a), Shape(b)) << "round " << round;
    ASSERT_EQ(Shape(a), Shape(universe)) << "round " << round;
    EXPECT_EQ(a.Winner(), universe.Winner());
    EXPECT_EQ(a.WinnerDeleted(), b.WinnerDeleted());
    EXPECT_EQ(a.Conflicts(), b.Conflicts());
    EXPECT_EQ(a.DeletedConflicts(), b.DeletedConflicts());
  }
}

TEST(RevTreeConvergenceTest, StemmedReplicasFedInCausalOrderAgreeOnLeavesAndWinner) {
  // With stemming, convergence needs each replica to see an edit after the
  // edit it was based on (as replication delivers them); see
  // RevTreeStemTest.StemmedRevisionSentAgainComesBackAsALeaf for what an old
  // state arriving late does.
  std::mt19937 rng(99);
  constexpr size_t kLimit = 3;
  for (int round = 0; round < 200; ++round) {
    RevTree universe;
    std::vector<History> histories = RandomUniverse(rng, universe);
    // Each replica gets every edit, in its own random order in which every
    // edit comes after its parent.
    auto causal_shuffle = [&rng](std::vector<History> v) {
      std::shuffle(v.begin(), v.end(), rng);
      std::stable_sort(v.begin(), v.end(), [](const History& x, const History& y) {
        return x.path.front().generation < y.path.front().generation;
      });
      return v;
    };
    RevTree a;
    RevTree b;
    MergeAll(a, causal_shuffle(histories), kLimit);
    MergeAll(b, causal_shuffle(histories), kLimit);
    // Then they replicate to each other, which must change no leaf.
    MergeAll(a, LeafHistories(b), kLimit);
    MergeAll(b, LeafHistories(a), kLimit);

    RevTree stemmed = universe;
    stemmed.Stem(kLimit);
    ASSERT_EQ(a.Leaves(), b.Leaves()) << "round " << round;
    ASSERT_EQ(a.Leaves(), stemmed.Leaves()) << "round " << round;
    EXPECT_EQ(a.Winner(), universe.Winner());
    EXPECT_EQ(a.WinnerDeleted(), universe.WinnerDeleted());
    EXPECT_EQ(a.Conflicts(), b.Conflicts());
    EXPECT_EQ(a.DeletedConflicts(), b.DeletedConflicts());
  }
}

// ---- Stemming ----

RevTree LinearMerged(int length) {
  std::vector<Rev> path;
  for (int g = length; g >= 1; --g) path.push_back(Rev{g, "r" + std::to_string(g)});
  RevTree tree;
  EXPECT_TRUE(tree.Merge(path, false).ok());
  return tree;
}

TEST(RevTreeStemTest, KeepsTheNewestRevsOfALinearHistory) {
  RevTree tree = LinearMerged(10);
  std::vector<Rev> removed = tree.Stem(3);
  EXPECT_EQ(removed.size(), 7u);
  EXPECT_EQ(removed.front(), (Rev{1, "r1"}));
  EXPECT_EQ(removed.back(), (Rev{7, "r7"}));
  EXPECT_THAT(tree.PathTo(Rev{10, "r10"}), ElementsAre(Rev{10, "r10"}, Rev{9, "r9"}, Rev{8, "r8"}));
  EXPECT_TRUE(tree.Missing({Rev{7, "r7"}}).size() == 1);
  EXPECT_EQ(tree.Winner(), (Rev{10, "r10"}));
}

TEST(RevTreeStemTest, KeepsOneThousandRevsByDefault) {
  // PouchDB "4204 respect revs_limit": a 5000-deep history keeps 1000 ids.
  RevTree tree = LinearMerged(5000);
  EXPECT_EQ(tree.Stem().size(), 4000u);
  EXPECT_EQ(tree.PathTo(Rev{5000, "r5000"}).size(), 1000u);
  EXPECT_EQ(tree.PathTo(Rev{5000, "r5000"}).back(), (Rev{4001, "r4001"}));
}

TEST(RevTreeStemTest, LimitAboveTheDepthChangesNothing) {
  RevTree tree = Linear3();
  Json before = tree.ToJson();
  EXPECT_THAT(tree.Stem(3), IsEmpty());
  EXPECT_EQ(tree.ToJson(), before);
}

TEST(RevTreeStemTest, KeepsEveryLeafAndAncestorsRecentOnAnyPath) {
  // 1-a <- 2-b <- 3..6 (main line), and 2-b <- 3-x (a short branch).
  RevTree tree;
  MergeOk(tree, {"6-f", "5-e", "4-d", "3-c", "2-b", "1-a"});
  MergeOk(tree, {"3-x", "2-b", "1-a"});
  std::vector<Rev> removed = tree.Stem(2);
  EXPECT_THAT(removed, ElementsAre(R("1-a"), R("3-c"), R("4-d")));
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("6-f"), R("3-x")));
  // 2-b is within 2 of 3-x, so it stays, but 3-c is gone: 5-e becomes a root.
  EXPECT_THAT(tree.PathTo(R("3-x")), ElementsAre(R("3-x"), R("2-b")));
  EXPECT_THAT(tree.PathTo(R("6-f")), ElementsAre(R("6-f"), R("5-e")));
  EXPECT_TRUE(tree.IsLeaf(R("3-x")));
  EXPECT_FALSE(tree.IsLeaf(R("2-b")));
}

TEST(RevTreeStemTest, LimitZeroKeepsOnlyLeaves) {
  RevTree tree = Linear3();
  tree.Stem(0);
  EXPECT_EQ(tree.size(), 1u);
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("3-c")));
}

TEST(RevTreeStemTest, ReplicatedHistoryIsStemmedAgainAfterMerge) {
  RevTree tree = LinearMerged(10);
  tree.Stem(3);
  Json stemmed = tree.ToJson();
  std::vector<Rev> full;
  for (int g = 10; g >= 1; --g) full.push_back(Rev{g, "r" + std::to_string(g)});
  Result<bool> changed = tree.Merge(full, false);
  ASSERT_TRUE(changed.ok());
  EXPECT_TRUE(*changed);  // ancestors came back...
  EXPECT_EQ(tree.size(), 10u);
  tree.Stem(3);
  EXPECT_EQ(tree.ToJson(), stemmed);  // ...and went again
}

TEST(RevTreeStemTest, StemmedRevisionSentAgainComesBackAsALeaf) {
  // As in CouchDB: once 2-b is stemmed, a path ending at it cannot be placed
  // under 3-c any more, so it becomes a new root and a (spurious) conflict.
  // This is why lowering revs_limit makes conflicts (apache/couchdb#1994).
  RevTree tree;
  MergeOk(tree, {"4-d", "3-c", "2-b", "1-a"});
  tree.Stem(2);
  ASSERT_FALSE(tree.Contains(R("2-b")));
  MergeOk(tree, {"2-b", "1-a"});
  EXPECT_THAT(tree.Leaves(), ElementsAre(R("4-d"), R("2-b")));
  EXPECT_THAT(tree.Conflicts(), ElementsAre(R("2-b")));
}

TEST(RevTreeStemTest, StemmedTreeStillAcceptsEdits) {
  RevTree tree = LinearMerged(10);
  tree.Stem(2);
  ASSERT_TRUE(tree.AddEdit(Rev{10, "r10"}, R("11-k"), false).ok());
  EXPECT_THAT(tree.PathTo(R("11-k")), ElementsAre(R("11-k"), Rev{10, "r10"}, Rev{9, "r9"}));
}

// ---- PathTo / RevsInfo / LeavesFrom ----

TEST(RevTreePathTest, PathToListsAncestryNewestFirst) {
  RevTree tree = Linear3();
  EXPECT_THAT(tree.PathTo(R("3-c")), ElementsAre(R("3-c"), R("2-b"), R("1-a")));
  EXPECT_THAT(tree.PathTo(R("2-b")), ElementsAre(R("2-b"), R("1-a")));
  EXPECT_THAT(tree.PathTo(R("9-nope")), IsEmpty());
}

TEST(RevTreePathTest, RevsInfoReportsAvailableMissingAndDeleted) {
  RevTree tree = Linear3();
  ASSERT_TRUE(tree.AddEdit(R("3-c"), R("4-d"), true).ok());
  ASSERT_TRUE(tree.AddEdit(std::nullopt, R("5-e"), false).ok());
  ASSERT_TRUE(tree.MarkBodyMissing(R("2-b")).ok());
  EXPECT_THAT(tree.RevsInfo(R("5-e")),
              ElementsAre(RevInfo{R("5-e"), kRevStatusAvailable}, RevInfo{R("4-d"), kRevStatusDeleted},
                          RevInfo{R("3-c"), kRevStatusAvailable}, RevInfo{R("2-b"), kRevStatusMissing},
                          RevInfo{R("1-a"), kRevStatusAvailable}));
  // A compacted tombstone is missing, like any other compacted ancestor.
  ASSERT_TRUE(tree.MarkBodyMissing(R("4-d")).ok());
  EXPECT_EQ(tree.RevsInfo(R("5-e"))[1].status, kRevStatusMissing);
  EXPECT_THAT(tree.RevsInfo(R("9-nope")), IsEmpty());
}

TEST(RevTreePathTest, LeavesFromReturnsTheLeavesDescendingFromARev) {
  RevTree tree;
  MergeOk(tree, {"3-c", "2-b", "1-a"});
  MergeOk(tree, {"3-x", "2-b", "1-a"}, true);
  MergeOk(tree, {"2-y", "1-a"});
  EXPECT_THAT(tree.LeavesFrom(R("2-b")), ElementsAre(R("3-c"), R("3-x")));
  EXPECT_THAT(tree.LeavesFrom(R("1-a")), ElementsAre(R("3-c"), R("2-y"), R("3-x")));
  EXPECT_THAT(tree.LeavesFrom(R("3-c")), ElementsAre(R("3-c")));
  EXPECT_THAT(tree.LeavesFrom(R("9-nope")), IsEmpty());
}

// ---- _revs_diff ----

TEST(RevTreeRevsDiffTest, MissingListsUnknownRevsOnceInRequestOrder) {
  RevTree tree = Linear3();
  EXPECT_THAT(tree.Missing(Revs({"4-x", "2-b", "3-c", "1-z", "4-x"})), ElementsAre(R("4-x"), R("1-z")));
  EXPECT_THAT(tree.Missing(Revs({"1-a", "3-c"})), IsEmpty());
}

TEST(RevTreeRevsDiffTest, ARevWhoseBodyIsGoneIsNotMissing) {
  RevTree tree;
  MergeOk(tree, {"3-c", "2-b", "1-a"});
  EXPECT_THAT(tree.Missing(Revs({"2-b"})), IsEmpty());
}

TEST(RevTreeRevsDiffTest, StemmedRevsAreMissing) {
  RevTree tree = LinearMerged(5);
  tree.Stem(2);
  EXPECT_THAT(tree.Missing({Rev{3, "r3"}, Rev{4, "r4"}}), ElementsAre(Rev{3, "r3"}));
}

TEST(RevTreeRevsDiffTest, PossibleAncestorsAreLeavesBelowTheHighestMissingGeneration) {
  RevTree tree;
  MergeOk(tree, {"2-b", "1-a"});
  MergeOk(tree, {"3-c", "2-c", "1-a"}, /*deleted=*/true);
  MergeOk(tree, {"5-e", "4-e", "3-e", "2-e", "1-a"});
  std::vector<Rev> missing = tree.Missing(Revs({"4-q", "3-r", "2-b"}));
  ASSERT_THAT(missing, ElementsAre(R("4-q"), R("3-r")));
  // Generation below 4: 2-b and the deleted 3-c; not 5-e.
  EXPECT_THAT(tree.PossibleAncestors(missing), ElementsAre(R("2-b"), R("3-c")));
  EXPECT_THAT(tree.PossibleAncestors({R("2-z")}), IsEmpty());
  EXPECT_THAT(tree.PossibleAncestors({}), IsEmpty());
}

// ---- Compaction ----

TEST(RevTreeCompactionTest, NonLeafBodiesCanBeDroppedButLeafBodiesStay) {
  RevTree tree = Linear3();
  EXPECT_THAT(tree.NonLeafRevsWithBodies(), ElementsAre(R("1-a"), R("2-b")));
  EXPECT_TRUE(tree.MarkBodyMissing(R("3-c")).IsInvalidArgument());
  EXPECT_TRUE(tree.MarkBodyMissing(R("7-zzz")).IsNotFound());
  for (const Rev& rev : tree.NonLeafRevsWithBodies()) ASSERT_TRUE(tree.MarkBodyMissing(rev).ok());
  EXPECT_THAT(tree.NonLeafRevsWithBodies(), IsEmpty());
  EXPECT_FALSE(tree.HasBody(R("1-a")));
  EXPECT_TRUE(tree.HasBody(R("3-c")));
  EXPECT_TRUE(tree.MarkBodyMissing(R("2-b")).ok());  // idempotent
}

// ---- JSON ----

RevTree Busy() {
  RevTree tree = Linear3();
  EXPECT_TRUE(tree.AddEdit(R("3-c"), R("4-d"), true).ok());
  EXPECT_TRUE(tree.MarkBodyMissing(R("2-b")).ok());
  MergeOk(tree, {"3-x", "2-b", "1-a"});
  MergeOk(tree, {"9-i", "8-h"});
  return tree;
}

TEST(RevTreeJsonTest, RoundTripPreservesTheTree) {
  RevTree tree = Busy();
  Result<RevTree> back = RevTree::FromJson(tree.ToJson());
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(*back, tree);
  EXPECT_EQ(back->Leaves(), tree.Leaves());
  EXPECT_EQ(back->Winner(), tree.Winner());
  EXPECT_EQ(back->RevsInfo(R("4-d")), tree.RevsInfo(R("4-d")));
  EXPECT_EQ(back->PathTo(R("9-i")), tree.PathTo(R("9-i")));
  EXPECT_TRUE(back->IsDeleted(R("4-d")));
  EXPECT_FALSE(back->HasBody(R("8-h")));
  // Still usable for edits after loading.
  EXPECT_TRUE(back->AddEdit(R("3-x"), R("4-y"), false).ok());
}

TEST(RevTreeJsonTest, RoundTripOfAnEmptyTree) {
  Result<RevTree> back = RevTree::FromJson(RevTree().ToJson());
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(back->empty());
}

TEST(RevTreeJsonTest, EncodingIsCompactAndCanonical) {
  RevTree one;
  MergeOk(one, {"2-b", "1-a"});
  MergeOk(one, {"2-c", "1-a"}, true);
  RevTree two;
  MergeOk(two, {"2-c", "1-a"}, true);
  MergeOk(two, {"2-b", "1-a"});
  EXPECT_EQ(json::Dump(one.ToJson()), R"({"revs":[[1,"a",-1,2],[2,"b",0,0],[2,"c",0,1]],"v":1})");
  EXPECT_EQ(json::Dump(two.ToJson()), json::Dump(one.ToJson()));
  EXPECT_EQ(one, two);
}

TEST(RevTreeJsonTest, FromJsonRejectsMalformedTrees) {
  for (std::string_view text : {
           R"([])",
           R"({"revs":[]})",
           R"({"v":2,"revs":[]})",
           R"({"v":1})",
           R"({"v":1,"revs":{}})",
           R"({"v":1,"revs":[[1,"a",-1]]})",
           R"({"v":1,"revs":[["1","a",-1,0]]})",
           R"({"v":1,"revs":[[0,"a",-1,0]]})",
           R"({"v":1,"revs":[[1,"",-1,0]]})",
           R"({"v":1,"revs":[[1,"a",-2,0]]})",
           R"({"v":1,"revs":[[1,"a",1,0]]})",
           R"({"v":1,"revs":[[1,"a",-1,4]]})",
           R"({"v":1,"revs":[[1,"a",-1,0],[1,"a",-1,0]]})",
           R"({"v":1,"revs":[[1,"a",-1,0],[3,"c",0,0]]})",
           R"({"v":1,"revs":[[2,"a",1,0],[3,"b",0,0]]})",
           R"({"v":1,"revs":[[1,"a",-1,2]]})",
       }) {
    Result<RevTree> tree = RevTree::FromJson(json::Parse(text).value());
    EXPECT_TRUE(tree.status().IsInvalidArgument()) << text;
  }
}

}  // namespace
}  // namespace wisp::store
