// The document engine through its C++ API: revisions, conflicts, changes,
// local docs, attachments, compaction, durability across reopen, and group
// commit under concurrent writers.
#include "store/database.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <thread>

#include "store/sqlite.h"
#include "store/store.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

using namespace std::chrono_literals;

std::string TempDir() {
  char tmpl[] = "/tmp/wisp-store-XXXXXX";
  return mkdtemp(tmpl);
}

class DatabaseTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = TempDir();
    Reopen();
  }
  void TearDown() override {
    db_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() {
    db_.reset();
    auto db = Database::Open(dir_ + "/test.sqlite", "test");
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    db_ = std::move(*db);
  }
  WriteResult Put(Json doc) { return db_->Put(std::move(doc)); }
  Json MustGet(const std::string& id, GetOptions o = {}) {
    auto doc = db_->Get(id, o);
    EXPECT_TRUE(doc.ok()) << id << ": " << doc.status().ToString();
    return doc.ok() ? *doc : Json();
  }

  std::string dir_;
  std::unique_ptr<Database> db_;
};

TEST_F(DatabaseTest, NewDocumentGetsFirstGenerationRev) {
  WriteResult r = Put({{"_id", "q1"}, {"title", "How?"}});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(r.rev.rfind("1-", 0), 0u);
  EXPECT_EQ(r.rev.size(), 34u) << "1- and 32 hex";
  Json doc = MustGet("q1");
  EXPECT_EQ(doc["_id"], "q1");
  EXPECT_EQ(doc["_rev"], r.rev);
  EXPECT_EQ(doc["title"], "How?");
}

TEST_F(DatabaseTest, UpdateWithCurrentRevSucceedsAndStaleRevConflicts) {
  WriteResult first = Put({{"_id", "q1"}, {"v", 1}});
  WriteResult second = Put({{"_id", "q1"}, {"_rev", first.rev}, {"v", 2}});
  ASSERT_TRUE(second.status.ok());
  EXPECT_EQ(second.rev.rfind("2-", 0), 0u);
  WriteResult stale = Put({{"_id", "q1"}, {"_rev", first.rev}, {"v", 3}});
  EXPECT_TRUE(stale.status.IsConflict()) << stale.status.ToString();
  WriteResult no_rev = Put({{"_id", "q1"}, {"v", 4}});
  EXPECT_TRUE(no_rev.status.IsConflict());
  EXPECT_EQ(MustGet("q1")["v"], 2);
}

TEST_F(DatabaseTest, SameEditOnTwoReplicasGivesTheSameRev) {
  auto other = Database::Open(dir_ + "/other.sqlite", "other");
  ASSERT_TRUE(other.ok());
  WriteResult a = Put({{"_id", "x"}, {"n", 1}});
  WriteResult b = (*other)->Put({{"_id", "x"}, {"n", 1}});
  EXPECT_EQ(a.rev, b.rev);
}

TEST_F(DatabaseTest, DeletedDocumentReadsAsDeletedAndCanBeRecreated) {
  WriteResult created = Put({{"_id", "d"}, {"v", 1}});
  WriteResult deleted = Put({{"_id", "d"}, {"_rev", created.rev}, {"_deleted", true}});
  ASSERT_TRUE(deleted.status.ok());
  auto gone = db_->Get("d", {});
  EXPECT_TRUE(gone.status().IsNotFound());
  EXPECT_EQ(gone.status().message(), "deleted");
  GetOptions at_rev;
  at_rev.rev = deleted.rev;
  EXPECT_EQ(MustGet("d", at_rev)["_deleted"], true);

  WriteResult again = Put({{"_id", "d"}, {"v", 2}});
  ASSERT_TRUE(again.status.ok()) << again.status.ToString();
  EXPECT_EQ(again.rev.rfind("3-", 0), 0u) << "extends the deleted branch";
  EXPECT_EQ(MustGet("d")["v"], 2);
}

TEST_F(DatabaseTest, MissingDocumentIsNotFoundMissing) {
  auto r = db_->Get("nope", {});
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "missing");
}

TEST_F(DatabaseTest, ReplicatedConflictingBranchesPickTheSameWinnerEverywhere) {
  const Json left = {{"_id", "c"}, {"_rev", "2-aaaa"}, {"side", "left"},
                     {"_revisions", {{"start", 2}, {"ids", {"aaaa", "root"}}}}};
  const Json right = {{"_id", "c"}, {"_rev", "2-bbbb"}, {"side", "right"},
                      {"_revisions", {{"start", 2}, {"ids", {"bbbb", "root"}}}}};
  auto r1 = db_->BulkDocs({left, right}, /*new_edits=*/false);
  ASSERT_TRUE(r1[0].status.ok() && r1[1].status.ok());
  auto other = Database::Open(dir_ + "/other.sqlite", "other");
  ASSERT_TRUE(other.ok());
  (*other)->BulkDocs({right, left}, false);  // the other order

  GetOptions o;
  o.conflicts = true;
  Json here = MustGet("c", o);
  Json there = *(*other)->Get("c", o);
  EXPECT_EQ(here["_rev"], "2-bbbb") << "higher hash wins at equal generation";
  EXPECT_EQ(here["_rev"], there["_rev"]);
  EXPECT_EQ(here["_conflicts"], Json::array({"2-aaaa"}));
}

TEST_F(DatabaseTest, ReplicatedWriteOfAKnownRevIsANoOp) {
  const Json doc = {{"_id", "r"}, {"_rev", "1-abc"}, {"v", 1}};
  db_->BulkDocs({doc}, false);
  const int64_t seq = db_->update_seq();
  auto again = db_->BulkDocs({doc}, false);
  EXPECT_TRUE(again[0].status.ok());
  EXPECT_EQ(db_->update_seq(), seq) << "nothing changed, nothing to sync";
}

TEST_F(DatabaseTest, ReplicatedWriteNeedsARev) {
  auto r = db_->BulkDocs({Json{{"_id", "x"}, {"v", 1}}}, false);
  EXPECT_TRUE(r[0].status.IsInvalidArgument());
}

TEST_F(DatabaseTest, RevisionHistoryAndRevsInfo) {
  WriteResult a = Put({{"_id", "h"}, {"v", 1}});
  WriteResult b = Put({{"_id", "h"}, {"_rev", a.rev}, {"v", 2}});
  GetOptions o;
  o.revs = true;
  o.revs_info = true;
  Json doc = MustGet("h", o);
  EXPECT_EQ(doc["_revisions"]["start"], 2);
  EXPECT_EQ(doc["_revisions"]["ids"].size(), 2u);
  EXPECT_EQ("2-" + doc["_revisions"]["ids"][0].get<std::string>(), b.rev);
  EXPECT_EQ(doc["_revs_info"][0]["rev"], b.rev);
  EXPECT_EQ(doc["_revs_info"][0]["status"], "available");
}

TEST_F(DatabaseTest, RevsLimitStemsOldHistory) {
  ASSERT_TRUE(db_->SetRevsLimit(3).ok());
  std::string rev;
  for (int i = 0; i < 6; ++i) {
    Json doc = {{"_id", "s"}, {"i", i}};
    if (!rev.empty()) doc["_rev"] = rev;
    rev = Put(doc).rev;
  }
  GetOptions o;
  o.revs = true;
  EXPECT_EQ(MustGet("s", o)["_revisions"]["ids"].size(), 3u);
}

TEST_F(DatabaseTest, ChangesListEachDocumentOnceAtItsLatestSeq) {
  WriteResult a = Put({{"_id", "a"}, {"v", 1}});
  Put({{"_id", "b"}, {"v", 1}});
  Put({{"_id", "a"}, {"_rev", a.rev}, {"v", 2}});
  ChangesPage page = db_->Changes({});
  ASSERT_EQ(page.results.size(), 2u);
  EXPECT_EQ(page.results[0]["id"], "b");
  EXPECT_EQ(page.results[0]["seq"], 2);
  EXPECT_EQ(page.results[1]["id"], "a");
  EXPECT_EQ(page.results[1]["seq"], 3);
  EXPECT_EQ(page.last_seq, 3);
  EXPECT_EQ(page.pending, 0);
}

TEST_F(DatabaseTest, ChangesHonourSinceLimitAndPending) {
  for (int i = 0; i < 5; ++i) Put({{"_id", "d" + std::to_string(i)}});
  ChangesOptions o;
  o.since = 1;
  o.limit = 2;
  ChangesPage page = db_->Changes(o);
  ASSERT_EQ(page.results.size(), 2u);
  EXPECT_EQ(page.results[0]["seq"], 2);
  EXPECT_EQ(page.last_seq, 3);
  EXPECT_EQ(page.pending, 2);
  o.since = 5;
  EXPECT_TRUE(db_->Changes(o).results.empty());
  EXPECT_EQ(db_->Changes(o).last_seq, 5);
}

// A listener goes on from last_seq: a read that fails must not report a
// position past changes it never returned. The table vanishing under a
// cached statement stands in for any failed read (a lock past the busy
// timeout, an I/O error).
TEST_F(DatabaseTest, ChangesThatFailToReadDoNotSkipAhead) {
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(Put({{"_id", "d" + std::to_string(i)}}).status.ok());
  ChangesOptions o;
  ASSERT_EQ(db_->Changes(o).results.size(), 3u);  // the reader now holds the prepared query

  auto other = Connection::Open(dir_ + "/test.sqlite", true, std::chrono::milliseconds(1000));
  ASSERT_TRUE(other.ok()) << other.status().ToString();
  ASSERT_TRUE((*other)->Exec("ALTER TABLE docs RENAME TO docs_away").ok());

  o.since = 1;
  ChangesPage page = db_->Changes(o);
  EXPECT_FALSE(page.status.ok());
  EXPECT_TRUE(page.results.empty());
  EXPECT_EQ(page.last_seq, 1) << "seq 2 and 3 were never returned";

  ASSERT_TRUE((*other)->Exec("ALTER TABLE docs_away RENAME TO docs").ok());
  page = db_->Changes(o);
  EXPECT_TRUE(page.status.ok()) << page.status.ToString();
  ASSERT_EQ(page.results.size(), 2u);
  EXPECT_EQ(page.last_seq, 3);
}

TEST_F(DatabaseTest, ChangesIncludeDocsDeletedFlagAndAllLeaves) {
  WriteResult a = Put({{"_id", "a"}, {"v", 1}});
  Put({{"_id", "a"}, {"_rev", a.rev}, {"_deleted", true}});
  db_->BulkDocs({Json{{"_id", "c"}, {"_rev", "1-x"}}, Json{{"_id", "c"}, {"_rev", "1-y"}}}, false);
  ChangesOptions o;
  o.include_docs = true;
  o.all_docs_style = true;
  ChangesPage page = db_->Changes(o);
  ASSERT_EQ(page.results.size(), 2u);
  EXPECT_EQ(page.results[0]["deleted"], true);
  EXPECT_EQ(page.results[0]["doc"]["_deleted"], true);
  EXPECT_EQ(page.results[1]["changes"].size(), 2u) << "both leaves of the conflict";
}

TEST_F(DatabaseTest, ChangesFilterByDocIdsAndByPredicate) {
  Put({{"_id", "a"}, {"type", "question"}});
  Put({{"_id", "b"}, {"type", "user"}});
  Put({{"_id", "c"}, {"type", "question"}});
  ChangesOptions ids;
  ids.doc_ids = std::set<std::string>{"b"};
  ChangesPage by_id = db_->Changes(ids);
  ASSERT_EQ(by_id.results.size(), 1u);
  EXPECT_EQ(by_id.results[0]["id"], "b");
  EXPECT_EQ(by_id.last_seq, 3);
  ChangesOptions pred;
  pred.filter = [](const Json& doc) { return doc.value("type", "") == "question"; };
  EXPECT_EQ(db_->Changes(pred).results.size(), 2u);
}

TEST_F(DatabaseTest, WaitForChangeWakesOnAWriteFromAnotherThread) {
  const int64_t since = db_->update_seq();
  std::thread writer([&] { Put({{"_id", "late"}}); });
  EXPECT_TRUE(db_->WaitForChange(since, std::chrono::steady_clock::now() + 10s));
  writer.join();
  EXPECT_FALSE(db_->WaitForChange(db_->update_seq(), std::chrono::steady_clock::now() + 10ms));
}

TEST_F(DatabaseTest, AllDocsRangesKeysAndCounts) {
  for (const char* id : {"a", "b", "c", "d"}) Put({{"_id", id}});
  WriteResult gone = Put({{"_id", "e"}});
  Put({{"_id", "e"}, {"_rev", gone.rev}, {"_deleted", true}});

  Json all = db_->AllDocs({});
  EXPECT_EQ(all["total_rows"], 4) << "deleted docs do not count";
  EXPECT_EQ(all["rows"].size(), 4u);

  AllDocsOptions range;
  range.startkey = "b";
  range.endkey = "c";
  Json r = db_->AllDocs(range);
  ASSERT_EQ(r["rows"].size(), 2u);
  EXPECT_EQ(r["rows"][0]["id"], "b");
  EXPECT_EQ(r["offset"], 1);
  range.inclusive_end = false;
  EXPECT_EQ(db_->AllDocs(range)["rows"].size(), 1u);

  AllDocsOptions desc;
  desc.descending = true;
  desc.limit = 2;
  Json d = db_->AllDocs(desc);
  ASSERT_EQ(d["rows"].size(), 2u);
  EXPECT_EQ(d["rows"][0]["id"], "d");

  AllDocsOptions keys;
  keys.keys = std::vector<std::string>{"c", "zzz", "e"};
  keys.include_docs = true;
  Json k = db_->AllDocs(keys);
  ASSERT_EQ(k["rows"].size(), 3u);
  EXPECT_EQ(k["rows"][0]["doc"]["_id"], "c");
  EXPECT_EQ(k["rows"][1]["error"], "not_found");
  EXPECT_EQ(k["rows"][2]["value"]["deleted"], true);
  EXPECT_TRUE(k["rows"][2]["doc"].is_null());
}

// The HTTP API's text of _all_docs says what AllDocs() says, whichever path
// made it: documents spliced from their stored text, or the DOM.
TEST_F(DatabaseTest, AllDocsTextAgreesWithAllDocsForEveryRangeAndOption) {
  Put({{"_id", "a"}, {"title", "caf\u00e9 & <b>"}, {"n", 1}});
  Put({{"_id", "b \"quoted\" \\ id"}});  // an empty body
  Put({{"_id", "c"}, {"_attachments", {{"note.txt", {{"content_type", "text/plain"}, {"data", "aGk="}}}}}});
  WriteResult gone = Put({{"_id", "d"}, {"x", true}});
  Put({{"_id", "d"}, {"_rev", gone.rev}, {"_deleted", true}});
  WriteResult edited = Put({{"_id", "e"}, {"v", 1}});
  Put({{"_id", "e"}, {"_rev", edited.rev}, {"v", 2}, {"nested", {{"z", Json::array({1, "two", nullptr})}}}});
  Put({{"_id", "_design/q"}, {"language", "query"}});
  // A replicated revision id may hold any text, quotes included.
  ASSERT_TRUE(db_->BulkDocs({Json{{"_id", "f"}, {"_revisions", {{"start", 1}, {"ids", {"q\"uote\\d"}}}}, {"v", 1}}},
                            /*new_edits=*/false)[0].status.ok());

  std::vector<AllDocsOptions> cases(8);
  cases[1].include_docs = true;
  cases[2].include_docs = true;
  cases[2].startkey = "b";
  cases[2].endkey = "e";
  cases[2].inclusive_end = false;
  cases[3].include_docs = true;
  cases[3].descending = true;
  cases[3].startkey = "d";
  cases[3].skip = 1;
  cases[3].limit = 2;
  cases[4].include_docs = true;
  cases[4].update_seq = true;
  cases[5].include_docs = true;
  cases[5].conflicts = true;
  cases[6].include_docs = true;
  cases[6].keys = std::vector<std::string>{"e", "d", "nope"};
  cases[7].include_docs = true;
  cases[7].limit = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    Result<Json> text = json::Parse(db_->AllDocsText(cases[i]));
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    EXPECT_EQ(*text, db_->AllDocs(cases[i]));
  }
  Result<Json> all = json::Parse(db_->AllDocsText(cases[1]));
  ASSERT_TRUE(all.ok());
  ASSERT_EQ((*all)["rows"].size(), 6u);  // _design/q sorts first; d is deleted
  EXPECT_EQ((*all)["rows"][1]["doc"]["title"], "caf\u00e9 & <b>");
  EXPECT_EQ((*all)["rows"][2]["doc"], Json({{"_id", "b \"quoted\" \\ id"}, {"_rev", (*all)["rows"][2]["value"]["rev"]}}));
  EXPECT_TRUE((*all)["rows"][3]["doc"]["_attachments"]["note.txt"]["stub"].get<bool>());
}

// _bulk_get's text answers say what OpenRevs() says: leaves, revisions
// asked for, latest, deleted leaves, missing ones, and each option.
TEST_F(DatabaseTest, OpenRevsTextAgreesWithOpenRevs) {
  WriteResult one = Put({{"_id", "d"}, {"v", 1}, {"_attachments", {{"a.txt", {{"content_type", "text/plain"}, {"data", "aGk="}}}}}});
  WriteResult two = Put({{"_id", "d"}, {"_rev", one.rev}, {"v", 2}, {"_attachments", {{"a.txt", {{"stub", true}}}}}});
  // A conflicting branch from replication, and a deleted one.
  ASSERT_TRUE(db_->BulkDocs({Json{{"_id", "d"}, {"_rev", "2-b"}, {"_revisions", {{"start", 2}, {"ids", {"b", one.rev.substr(2)}}}}, {"w", "b"}}},
                            /*new_edits=*/false)[0].status.ok());
  ASSERT_TRUE(db_->BulkDocs({Json{{"_id", "d"}, {"_rev", "2-c"}, {"_revisions", {{"start", 2}, {"ids", {"c", one.rev.substr(2)}}}}, {"_deleted", true}}},
                            /*new_edits=*/false)[0].status.ok());
  Put({{"_id", "empty \"q\""}});
  // A replicated revision id may hold any text, quotes included.
  ASSERT_TRUE(db_->BulkDocs({Json{{"_id", "odd"}, {"_revisions", {{"start", 1}, {"ids", {"q\"uote\\d"}}}}, {"v", 1}}},
                            /*new_edits=*/false)[0].status.ok());

  auto as_json = [](const std::vector<OpenRevText>& answers) {
    Json out = Json::array();
    for (const OpenRevText& a : answers) {
      if (a.doc.empty()) {
        out.push_back({{"missing", a.missing}});
        continue;
      }
      Result<Json> doc = json::Parse(a.doc);
      EXPECT_TRUE(doc.ok()) << a.doc;
      out.push_back({{"ok", doc.ok() ? *doc : Json()}});
    }
    return out;
  };
  struct Case {
    std::string id;
    std::vector<std::string> revs;
    GetOptions options;
  };
  GetOptions revs;
  revs.revs = true;
  GetOptions latest = revs;
  latest.latest = true;
  GetOptions rich = revs;
  rich.conflicts = true;
  rich.attachments = true;
  rich.revs_info = true;
  const std::vector<Case> cases = {
      {"d", {}, {}},
      {"d", {}, revs},
      {"d", {two.rev, "2-c", "9-nope", "bad"}, revs},
      {"d", {one.rev}, latest},
      {"d", {one.rev}, rich},
      {"empty \"q\"", {}, revs},
      {"absent", {"1-x"}, revs},
      {"odd", {}, revs},
  };
  for (size_t i = 0; i < cases.size(); ++i) {
    SCOPED_TRACE("case " + std::to_string(i));
    Result<Json> dom = db_->OpenRevs(cases[i].id, cases[i].revs, cases[i].options);
    Result<std::vector<OpenRevText>> text = db_->OpenRevsText(cases[i].id, cases[i].revs, cases[i].options);
    ASSERT_EQ(dom.ok(), text.ok());
    if (dom.ok()) EXPECT_EQ(as_json(*text), *dom);
  }
  EXPECT_TRUE(db_->OpenRevsText("absent", {}, revs).status().IsNotFound());
}

TEST_F(DatabaseTest, RevsDiffReportsMissingRevsAndAncestors) {
  WriteResult a = Put({{"_id", "a"}});
  Json diff = db_->RevsDiff({{"a", {a.rev, "2-ffff"}}, {"new", {"1-abc"}}});
  EXPECT_EQ(diff["a"]["missing"], Json::array({"2-ffff"}));
  EXPECT_EQ(diff["a"]["possible_ancestors"], Json::array({a.rev}));
  EXPECT_EQ(diff["new"]["missing"], Json::array({"1-abc"}));
  EXPECT_TRUE(db_->RevsDiff({{"a", {a.rev}}}).empty());
}

TEST_F(DatabaseTest, LocalDocsHaveCounterRevsAndStayOutOfChanges) {
  WriteResult one = db_->PutLocal("_local/cp", {{"last_seq", 5}});
  ASSERT_TRUE(one.status.ok());
  EXPECT_EQ(one.rev, "0-1");
  WriteResult two = db_->PutLocal("_local/cp", {{"_rev", "0-1"}, {"last_seq", 9}});
  EXPECT_EQ(two.rev, "0-2");
  EXPECT_EQ((*db_->GetLocal("_local/cp"))["last_seq"], 9);
  EXPECT_TRUE(db_->Changes({}).results.empty());
  EXPECT_EQ(db_->AllDocs({})["rows"].size(), 0u);
  EXPECT_TRUE(db_->DeleteLocal("_local/cp").status.ok());
  EXPECT_TRUE(db_->GetLocal("_local/cp").status().IsNotFound());
  EXPECT_TRUE(db_->PutLocal("_local/x", {{"_attachments", Json::object()}}).status.IsInvalidArgument());
}

TEST_F(DatabaseTest, InlineAttachmentBecomesAStubWithMd5Digest) {
  // "hello" -> md5 5d41402abc4b2a76b9719d911017c592
  WriteResult w = Put({{"_id", "att"},
                       {"_attachments", {{"note.txt", {{"content_type", "text/plain"}, {"data", "aGVsbG8="}}}}}});
  ASSERT_TRUE(w.status.ok()) << w.status.ToString();
  Json stub = MustGet("att")["_attachments"]["note.txt"];
  EXPECT_EQ(stub["stub"], true);
  EXPECT_EQ(stub["length"], 5);
  EXPECT_EQ(stub["revpos"], 1);
  EXPECT_EQ(stub["digest"], "md5-XUFAKrxLKna5cZ2REBfFkg==");
  auto att = db_->GetAttachment("att", "note.txt", std::nullopt);
  ASSERT_TRUE(att.ok());
  EXPECT_EQ(att->data, "hello");
  EXPECT_EQ(att->content_type, "text/plain");

  GetOptions inline_data;
  inline_data.attachments = true;
  EXPECT_EQ(MustGet("att", inline_data)["_attachments"]["note.txt"]["data"], "aGVsbG8=");
}

TEST_F(DatabaseTest, StubKeepsTheAttachmentAndUnknownStubIsMissingStub) {
  WriteResult w = Put({{"_id", "att"}, {"_attachments", {{"a", {{"content_type", "text/plain"}, {"data", "aGk="}}}}}});
  Json doc = MustGet("att");
  doc["extra"] = true;
  WriteResult kept = Put(doc);
  ASSERT_TRUE(kept.status.ok()) << kept.status.ToString();
  EXPECT_EQ(db_->GetAttachment("att", "a", std::nullopt)->data, "hi");
  EXPECT_EQ(MustGet("att")["_attachments"]["a"]["revpos"], 1) << "revpos stays where the bytes came in";

  Json bad = MustGet("att");
  bad["_attachments"]["ghost"] = {{"stub", true}};
  WriteResult missing = Put(bad);
  EXPECT_EQ(missing.error, "missing_stub");
  EXPECT_EQ(missing.status.code(), StatusCode::kPreconditionFailed);
}

TEST_F(DatabaseTest, RefusedDocumentInABatchLeavesNoTraceAndSparesTheOthers) {
  ASSERT_TRUE(Put({{"_id", "taken"}, {"v", 1}}).status.ok());
  const int64_t seq_before = db_->update_seq();
  std::vector<Json> batch = {
      {{"_id", "a"}, {"v", 1}},
      // Its first attachment's bytes are stored before its second turns out to be a bad stub.
      {{"_id", "b"},
       {"_attachments", {{"new", {{"content_type", "text/plain"}, {"data", "aGk="}}}, {"old", {{"stub", true}}}}}},
      {{"_id", "taken"}, {"v", 2}},  // no _rev: a conflict
      {{"_id", "c"}, {"v", 1}},
  };
  std::vector<WriteResult> results = db_->BulkDocs(std::move(batch), true);
  ASSERT_EQ(results.size(), 4u);
  EXPECT_TRUE(results[0].status.ok());
  EXPECT_EQ(results[1].error, "missing_stub");
  EXPECT_TRUE(results[2].status.IsConflict());
  EXPECT_TRUE(results[3].status.ok());
  EXPECT_TRUE(db_->Get("b", {}).status().IsNotFound());
  EXPECT_EQ(MustGet("taken")["v"], 1);
  EXPECT_EQ(MustGet("c")["v"], 1);
  EXPECT_EQ(db_->update_seq(), seq_before + 2) << "only the two stored documents took a sequence number";
  EXPECT_EQ(db_->Info()["doc_count"], 3);
  EXPECT_TRUE(db_->CheckIntegrity().ok());
}

TEST_F(DatabaseTest, AttsSinceInlinesOnlyAttachmentsNewerThanAKnownRevision) {
  WriteResult first = db_->PutAttachment("doc", "old", std::nullopt, "text/plain", "old bytes");
  WriteResult second = db_->PutAttachment("doc", "new", first.rev, "text/plain", "new bytes");
  ASSERT_TRUE(second.status.ok()) << second.status.ToString();
  GetOptions since_first;
  since_first.atts_since = std::vector<std::string>{"9-unknown", first.rev};
  Json doc = MustGet("doc", since_first);
  EXPECT_EQ(doc["_attachments"]["old"]["stub"], true);
  EXPECT_EQ(doc["_attachments"]["new"]["data"], Base64Encode("new bytes"));
  EXPECT_FALSE(doc["_attachments"]["new"].contains("stub"));
  // No known revision: everything is sent.
  GetOptions since_unknown;
  since_unknown.atts_since = std::vector<std::string>{"1-" + std::string(32, '0')};
  Json all = MustGet("doc", since_unknown);
  EXPECT_EQ(all["_attachments"]["old"]["data"], Base64Encode("old bytes"));
  // The same rule for open_revs.
  auto revs = db_->OpenRevs("doc", {second.rev}, since_first);
  ASSERT_TRUE(revs.ok());
  EXPECT_EQ((*revs)[0]["ok"]["_attachments"]["old"]["stub"], true);
}

TEST_F(DatabaseTest, OsBufferedWritesAreReadableAtOnceAndSurviveAReopen) {
  WriteResult buffered = db_->Put({{"_id", "record"}, {"n", 1}}, true, Durability::kOsBuffered);
  ASSERT_TRUE(buffered.status.ok()) << buffered.status.ToString();
  EXPECT_EQ(MustGet("record")["_rev"], buffered.rev) << "visible as soon as the call returns";
  ASSERT_TRUE(Put({{"_id", "synced"}}).status.ok()) << "a synced write after a buffered one";
  Reopen();
  EXPECT_EQ(MustGet("record")["n"], 1);
  EXPECT_TRUE(db_->Get("synced", {}).ok());
  EXPECT_TRUE(db_->CheckIntegrity().ok());
}

TEST_F(DatabaseTest, StandaloneAttachmentPutAndDelete) {
  WriteResult created = db_->PutAttachment("doc", "f.bin", std::nullopt, "application/octet-stream", std::string("\0\1\2", 3));
  ASSERT_TRUE(created.status.ok()) << created.status.ToString();
  EXPECT_EQ(db_->GetAttachment("doc", "f.bin", std::nullopt)->data, std::string("\0\1\2", 3));
  WriteResult without_rev = db_->PutAttachment("doc", "g", std::nullopt, "text/plain", "x");
  EXPECT_TRUE(without_rev.status.IsConflict());
  WriteResult removed = db_->DeleteAttachment("doc", "f.bin", created.rev);
  ASSERT_TRUE(removed.status.ok());
  EXPECT_TRUE(db_->GetAttachment("doc", "f.bin", std::nullopt).status().IsNotFound());
}

TEST_F(DatabaseTest, CompactionDropsOldBodiesButKeepsHistory) {
  WriteResult a = Put({{"_id", "k"}, {"v", 1}});
  Put({{"_id", "k"}, {"_rev", a.rev}, {"v", 2}});
  GetOptions old;
  old.rev = a.rev;
  EXPECT_TRUE(db_->Get("k", old).ok());
  ASSERT_TRUE(db_->Compact().ok());
  EXPECT_TRUE(db_->Get("k", old).status().IsNotFound());
  GetOptions revs;
  revs.revs_info = true;
  Json doc = MustGet("k", revs);
  EXPECT_EQ(doc["_revs_info"][1]["status"], "missing");
  EXPECT_TRUE(db_->CheckIntegrity().ok());
}

TEST_F(DatabaseTest, BadDocumentsGetCouchDbsErrors) {
  auto results = db_->BulkDocs({Json::array(), Json{{"_id", "_bad"}}, Json{{"_id", "x"}, {"_secret", 1}},
                                Json{{"_id", 5}}, Json{{"_id", "ok"}}},
                               true);
  EXPECT_TRUE(results[0].status.IsInvalidArgument());
  EXPECT_EQ(results[1].error, "illegal_docid");
  EXPECT_EQ(results[2].error, "doc_validation");
  EXPECT_EQ(results[2].status.message(), "Bad special document member: _secret");
  EXPECT_EQ(results[3].error, "illegal_docid");
  EXPECT_TRUE(results[4].status.ok()) << "one bad doc spoils nothing else";
}

TEST_F(DatabaseTest, OversizedDocumentIsRefused) {
  db_.reset();
  DatabaseOptions small;
  small.max_document_bytes = 100;
  db_ = std::move(*Database::Open(dir_ + "/small.sqlite", "small", small));
  WriteResult r = Put({{"_id", "big"}, {"text", std::string(200, 'x')}});
  EXPECT_TRUE(r.status.IsPayloadTooLarge());
  EXPECT_EQ(r.error, "document_too_large");
  EXPECT_TRUE(db_->Get("big", {}).status().IsNotFound());
}

TEST_F(DatabaseTest, AttachmentBytesDoNotCountTowardTheDocumentLimit) {
  db_.reset();
  DatabaseOptions small;
  small.max_document_bytes = 200;
  db_ = std::move(*Database::Open(dir_ + "/small.sqlite", "small", small));
  // 600 bytes of data, 800 in base64: only the stub (about 130 bytes) is the document.
  const std::string data(600, 'z');
  WriteResult r = Put({{"_id", "a"}, {"_attachments", {{"f", {{"content_type", "text/plain"}, {"data", Base64Encode(data)}}}}}});
  ASSERT_TRUE(r.status.ok()) << r.status.ToString();
  EXPECT_EQ(db_->GetAttachment("a", "f", std::nullopt)->data, data);
}

TEST_F(DatabaseTest, EverythingSurvivesAReopen) {
  WriteResult a = Put({{"_id", "a"}});
  Put({{"_id", "b"}});
  Put({{"_id", "a"}, {"_rev", a.rev}, {"_deleted", true}});
  ASSERT_TRUE(db_->SetRevsLimit(42).ok());
  Reopen();
  EXPECT_EQ(db_->update_seq(), 3);
  EXPECT_EQ(db_->Info()["doc_count"], 1);
  EXPECT_EQ(db_->Info()["doc_del_count"], 1);
  EXPECT_EQ(db_->RevsLimit(), 42);
  EXPECT_EQ(MustGet("b")["_id"], "b");
}

TEST_F(DatabaseTest, ConcurrentWritersAreGroupCommittedWithoutLoss) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        if (Put({{"_id", "t" + std::to_string(t) + "-" + std::to_string(i)}, {"i", i}}).status.ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), kThreads * kPerThread);
  EXPECT_EQ(db_->update_seq(), kThreads * kPerThread);
  EXPECT_EQ(db_->Info()["doc_count"], kThreads * kPerThread);
  EXPECT_TRUE(db_->CheckIntegrity().ok());
}

TEST_F(DatabaseTest, InfoHasWhatReplicatorsRequire) {
  Json info = db_->Info();
  EXPECT_EQ(info["db_name"], "test");
  EXPECT_EQ(info["instance_start_time"], "0");
  EXPECT_TRUE(info.contains("update_seq"));
  EXPECT_EQ(info["compact_running"], false);
}

TEST(DatabaseNames, FollowCouchDbsRules) {
  EXPECT_TRUE(IsValidDatabaseName("questions"));
  EXPECT_TRUE(IsValidDatabaseName("a/b$c(d)+e-f_1"));
  EXPECT_TRUE(IsValidDatabaseName("_users"));
  EXPECT_FALSE(IsValidDatabaseName("Questions"));
  EXPECT_FALSE(IsValidDatabaseName("1db"));
  EXPECT_FALSE(IsValidDatabaseName("_private"));
  EXPECT_FALSE(IsValidDatabaseName(""));
}

TEST(StoreTest, UuidSurvivesRestartAndDatabasesAreListed) {
  const std::string dir = TempDir();
  std::string uuid;
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok());
    uuid = (*store)->uuid();
    EXPECT_EQ(uuid.size(), 32u);
    ASSERT_TRUE((*store)->CreateDatabase("questions").ok());
    ASSERT_TRUE((*store)->CreateDatabase("a/b").ok());
    EXPECT_EQ((*store)->CreateDatabase("questions").code(), StatusCode::kPreconditionFailed);
    EXPECT_TRUE((*store)->CreateDatabase("Bad").IsInvalidArgument());
    auto db = (*store)->GetDatabase("questions");
    ASSERT_TRUE(db.ok());
    (*db)->Put({{"_id", "q"}});
  }
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->uuid(), uuid);
  EXPECT_EQ((*store)->ListDatabases(), (std::vector<std::string>{"a/b", "questions"}));
  EXPECT_TRUE((*(*store)->GetDatabase("questions"))->Get("q", {}).ok());
  EXPECT_TRUE((*store)->DeleteDatabase("questions").ok());
  EXPECT_TRUE((*store)->GetDatabase("questions").status().IsNotFound());
  EXPECT_TRUE((*store)->DeleteDatabase("questions").IsNotFound());
  std::filesystem::remove_all(dir);
}

// Every file in DIR/dbs, by name.
std::vector<std::string> DbsFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir + "/dbs")) {
    files.push_back(entry.path().filename().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

// '(' is escaped as "%28" in file names, so the longest legal name of them
// (238 bytes) would be a file name of 714: Linux allows 255.
TEST(StoreTest, LongestNameOfEscapedCharactersWorksAcrossReopenAndDelete) {
  const std::string dir = TempDir();
  const std::string name = "a" + std::string(237, '(');
  ASSERT_TRUE(IsValidDatabaseName(name));
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->CreateDatabase(name).ok());
    EXPECT_EQ((*store)->CreateDatabase(name).code(), StatusCode::kPreconditionFailed);
    auto db = (*store)->GetDatabase(name);
    ASSERT_TRUE(db.ok()) << db.status().ToString();
    EXPECT_EQ((*db)->Info()["db_name"], name);
    EXPECT_TRUE((*db)->Put({{"_id", "q"}, {"n", 1}}).status.ok());
    EXPECT_EQ((*store)->ListDatabases(), std::vector<std::string>{name});
    for (const std::string& file : DbsFiles(dir)) EXPECT_LE(file.size(), 255u) << file;
  }
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->ListDatabases(), std::vector<std::string>{name});
  auto db = (*store)->GetDatabase(name);
  ASSERT_TRUE(db.ok()) << db.status().ToString();
  auto doc = (*db)->Get("q", {});
  ASSERT_TRUE(doc.ok()) << doc.status().ToString();
  EXPECT_EQ((*doc)["n"], 1);
  db->reset();

  ASSERT_TRUE((*store)->DeleteDatabase(name).ok());
  EXPECT_TRUE((*store)->ListDatabases().empty());
  EXPECT_TRUE((*store)->GetDatabase(name).status().IsNotFound());
  EXPECT_EQ(DbsFiles(dir), std::vector<std::string>{}) << "the database file and the file with its name are gone";
  EXPECT_TRUE((*store)->CreateDatabase(name + "(").IsInvalidArgument()) << "239 bytes is one too many";
  std::filesystem::remove_all(dir);
}

// Data directories written before long names were fixed keep working: a name
// whose escaped file name fits keeps that file name.
TEST(StoreTest, NamesThatFitKeepTheirEscapedFileName) {
  const std::string dir = TempDir();
  const std::string fits = std::string(237, 'b') + "(";     // "...%28.sqlite-journal" is 255 bytes
  const std::string too_long = std::string(235, 'c') + "((";  // one byte more
  const std::string short_name = "a(b)";
  {
    auto store = Store::Open(dir);
    ASSERT_TRUE(store.ok());
    for (const std::string& name : {fits, too_long}) ASSERT_TRUE((*store)->CreateDatabase(name).ok()) << name;
  }
  // A database as an older wisp wrote it, next to the others.
  ASSERT_TRUE(Database::Open(dir + "/dbs/a%28b%29.sqlite", short_name).ok());

  const std::vector<std::string> files = DbsFiles(dir);
  EXPECT_TRUE(std::count(files.begin(), files.end(), std::string(237, 'b') + "%28.sqlite"));
  EXPECT_FALSE(std::count(files.begin(), files.end(), std::string(235, 'c') + "%28%28.sqlite"));
  auto store = Store::Open(dir);
  ASSERT_TRUE(store.ok());
  EXPECT_EQ((*store)->ListDatabases(), (std::vector<std::string>{short_name, fits, too_long}));
  for (const std::string& name : {fits, too_long, short_name}) {
    EXPECT_TRUE((*store)->GetDatabase(name).ok()) << name;
    EXPECT_TRUE((*store)->DeleteDatabase(name).ok()) << name;
  }
  EXPECT_EQ(DbsFiles(dir), std::vector<std::string>{});
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace wisp::store
