// RevTree: the revision history of one document, as CouchDB keeps it
// (spec couchdb.md §2 "Revision model").
//
// A document's history is a forest: every edit adds a revision below the one
// it was based on, replication can bring in edits made elsewhere (a branch,
// i.e. a conflict), and stemming can cut old ancestors off (a path whose root
// is gone starts a new tree). The leaves are the document's current
// revisions; one of them, chosen the same way on every replica, is the winner.
//
//   RevTree tree;                                       // a new document
//   WISP_ASSIGN_OR_RETURN(std::optional<Rev> parent, tree.EditParent(given_rev, deleted));
//   Rev rev{parent ? parent->generation + 1 : 1, NewRevHash(body, parent, deleted)};
//   WISP_RETURN_IF_ERROR(tree.AddEdit(given_rev, rev, deleted));
//   tree.Stem(revs_limit);
//
//   // new_edits=false (replication): merge the sender's `_revisions` path.
//   bool had = tree.Contains(path[0]);
//   WISP_ASSIGN_OR_RETURN(bool changed, tree.Merge(path, deleted));
//   tree.Stem(revs_limit);   // store path[0]'s body only when !had
//
// Pure logic: no storage, no I/O. Each node records whether its body is still
// stored. Leaves always have one; an ancestor's body may be missing (it came
// in as history only, or compaction dropped it).
//
// Thread-safety: a RevTree is a value; it is not synchronised.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "json/json.h"
#include "util/result.h"
#include "util/status.h"

namespace wisp::store {

// How many revisions each root-to-leaf path keeps unless a database says
// otherwise (`_revs_limit`).
inline constexpr size_t kDefaultRevsLimit = 1000;

// The statuses `_revs_info` reports, as the wire spells them.
inline constexpr std::string_view kRevStatusAvailable = "available";
inline constexpr std::string_view kRevStatusMissing = "missing";
inline constexpr std::string_view kRevStatusDeleted = "deleted";

// A revision id, "3-abc": the generation (edits since creation, from 1) and an
// opaque id that the server which made the edit chose.
struct Rev {
  int64_t generation = 0;
  std::string hash;

  // Parses "N-id". N is a positive decimal integer; id is any non-empty text
  // (everything after the first '-'), except that a 32-character id must be
  // hexadecimal and is lowercased, as CouchDB stores those as 16 bytes.
  // Fails with InvalidArgument ("Invalid rev format") otherwise.
  static Result<Rev> Parse(std::string_view text);

  // "N-id".
  std::string ToString() const;

  // By generation, then by id byte-wise: the order CouchDB sorts revs in.
  friend bool operator==(const Rev&, const Rev&) = default;
  friend std::strong_ordering operator<=>(const Rev&, const Rev&) = default;
};

// One entry of `_revs_info`: a revision and one of the kRevStatus* names.
struct RevInfo {
  Rev rev;
  std::string_view status;

  friend bool operator==(const RevInfo&, const RevInfo&) = default;
};

// The id of the revision that an edit creates: 32 lowercase hex digits, the
// MD5 of a canonical encoding of (deleted, parent, body). Deterministic, so
// the same edit made on two replicas gets the same rev and does not conflict.
// `body` is the document without its `_`-prefixed fields; a caller that wants
// attachment changes to change the rev folds their digests into it.
std::string NewRevHash(const Json& body, const std::optional<Rev>& parent, bool deleted);
// The same, from `body` already encoded with json::Dump(): a write that
// stores the text anyway need not encode the body twice.
std::string NewRevHash(std::string_view body_text, const std::optional<Rev>& parent, bool deleted);

class RevTree {
 public:
  // A document without revisions.
  RevTree() = default;

  bool empty() const { return nodes_.empty(); }
  // The number of revisions held (leaves and ancestors).
  size_t size() const { return nodes_.size(); }

  // ---- Interactive edits (new_edits=true) ----

  // The revision an edit based on `given` (the `_rev` the client sent, or none)
  // would extend, or nullopt when the edit creates a root ("1-…"). Fails with
  // Conflict when CouchDB would answer 409:
  //  - the document has a live leaf and `given` is absent, unknown or not a leaf;
  //  - the document is new and `given` is present;
  //  - every leaf is deleted and `given` is present (CouchDB 3 recreates a
  //    deleted document only from a rev-less write), or the write is itself a
  //    deletion.
  // A rev-less write to a deleted document extends the deleted winner, so the
  // new generation is the tombstone's plus one.
  Result<std::optional<Rev>> EditParent(const std::optional<Rev>& given, bool deleted) const;

  // Adds `new_rev` as a child of EditParent(given, deleted), with its body.
  // Fails with Conflict as EditParent does, or when `new_rev` already exists;
  // with InvalidArgument when `new_rev` is not one generation past its parent
  // (1 for a root) or its id is empty.
  Status AddEdit(const std::optional<Rev>& given, const Rev& new_rev, bool deleted);

  // ---- Replicated writes (new_edits=false) ----

  // Merges one history: `path_leaf_first` is the `_revisions` list, newest
  // first, generations descending by one. Revisions already present are kept
  // as they are (a known leaf keeps its body and deleted flag); new ancestors
  // come in without a body; the leaf, when new, has a body and `deleted`. A
  // path that overlaps the tree grafts onto it (and may put back ancestors
  // that stemming removed: call Stem afterwards); one that shares nothing
  // becomes a new root. When the path names a known revision's parent
  // differently from the tree, the tree's history wins and the path is cut
  // there. Returns whether the tree changed. Fails with InvalidArgument when
  // the path is empty, has an empty id, a generation below 1, or generations
  // that do not descend by one.
  Result<bool> Merge(const std::vector<Rev>& path_leaf_first, bool deleted);

  // Keeps only the revisions within `revs_limit` of some leaf, as CouchDB's
  // stemming does: each root-to-leaf path keeps its newest `revs_limit`
  // revisions (a shared ancestor survives when it is recent on any path), and
  // a revision whose parent is cut becomes a root. Leaves always stay; a limit
  // of 0 counts as 1. Returns the revisions removed, in ascending order.
  std::vector<Rev> Stem(size_t revs_limit = kDefaultRevsLimit);

  // ---- Queries ----

  // The winning revision: a live leaf before a deleted one, then the highest
  // generation, then the greatest id byte-wise. Requires !empty(); an empty
  // tree answers Rev{}.
  Rev Winner() const;
  // Whether the winner is a deletion, i.e. every leaf is. False when empty.
  bool WinnerDeleted() const;

  // Every leaf, deleted ones included, winner first, then in descending
  // winner order (the order of `_conflicts` and `open_revs=all`).
  std::vector<Rev> Leaves() const;
  // The live leaves other than the winner (`_conflicts`), descending.
  std::vector<Rev> Conflicts() const;
  // The deleted leaves other than the winner (`_deleted_conflicts`), descending.
  std::vector<Rev> DeletedConflicts() const;
  // The leaves at or below `rev` (`latest=true`), descending; empty when
  // `rev` is unknown.
  std::vector<Rev> LeavesFrom(const Rev& rev) const;

  bool Contains(const Rev& rev) const { return index_.contains(rev); }
  // False for unknown revisions.
  bool IsLeaf(const Rev& rev) const;
  // Whether `rev` is a deletion. False for unknown revisions.
  bool IsDeleted(const Rev& rev) const;
  // Whether `rev`'s body is still stored. False for unknown revisions.
  bool HasBody(const Rev& rev) const;

  // `rev` and its known ancestors, newest first, ending at its root (the
  // `_revisions` list). Empty when `rev` is unknown.
  std::vector<Rev> PathTo(const Rev& rev) const;
  // PathTo(rev) with each revision's status (`_revs_info`): missing when its
  // body is gone, else deleted or available.
  std::vector<RevInfo> RevsInfo(const Rev& rev) const;

  // ---- _revs_diff ----

  // The revisions of `revs` not in the tree (stemmed ones included), in the
  // order given, without repeats.
  std::vector<Rev> Missing(const std::vector<Rev>& revs) const;
  // CouchDB's `possible_ancestors` for a set of missing revisions: the leaves
  // whose generation is below the highest missing generation, descending.
  // Empty when `missing` is.
  std::vector<Rev> PossibleAncestors(const std::vector<Rev>& missing) const;

  // ---- Compaction ----

  // Records that `rev`'s body is no longer stored. Fails with NotFound for an
  // unknown rev and InvalidArgument for a leaf, whose body must stay.
  Status MarkBodyMissing(const Rev& rev);
  // The non-leaf revisions that still have a body (what compaction can drop),
  // ascending.
  std::vector<Rev> NonLeafRevsWithBodies() const;

  // ---- Storage ----

  // A compact, canonical encoding (equal trees give equal JSON, whatever
  // order their revisions arrived in):
  //   {"v":1,"revs":[[generation,"id",parent,flags],...]}
  // with revisions sorted by (generation, id), `parent` the index of the
  // parent in that array or -1 for a root, and `flags` bit 0 = deleted,
  // bit 1 = body missing.
  Json ToJson() const;
  // The inverse of ToJson. Fails with InvalidArgument when the value is not
  // of that shape or breaks the tree's rules (duplicate revs, a parent that
  // is not one generation older, a leaf without a body).
  static Result<RevTree> FromJson(const Json& value);

  // Same revisions, links and flags.
  friend bool operator==(const RevTree& a, const RevTree& b) { return a.ToJson() == b.ToJson(); }

 private:
  struct Node {
    Rev rev;
    int parent = -1;  // index into nodes_, or -1 for a root
    int children = 0;
    bool deleted = false;
    bool has_body = true;
  };

  struct RevHasher {
    size_t operator()(const Rev& rev) const noexcept;
  };

  // The index of `rev` in nodes_, or -1.
  int Find(const Rev& rev) const;
  // Appends a root without children; returns its index.
  int Insert(const Rev& rev, bool deleted, bool has_body);
  // Indices of the leaves, best first.
  std::vector<int> LeafIndices() const;
  // Rebuilds index_ and children counts from nodes_.
  void Reindex();

  std::vector<Node> nodes_;
  std::unordered_map<Rev, int, RevHasher> index_;
};

}  // namespace wisp::store
