#include "store/rev_tree.h"

#include <openssl/evp.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <functional>
#include <limits>
#include <utility>

#include "util/text.h"

namespace wisp::store {
namespace {

constexpr int kFlagDeleted = 1;
constexpr int kFlagBodyMissing = 2;
constexpr int64_t kFormatVersion = 1;
constexpr size_t kHexRevIdLength = 32;  // CouchDB stores ids of this length as 16 raw bytes

bool IsHexDigit(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

char ToLowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

Status InvalidRev() { return Status::InvalidArgument("Invalid rev format"); }

Status EditConflict() { return Status::Conflict("Document update conflict."); }

}  // namespace

// ---- Rev ----

Result<Rev> Rev::Parse(std::string_view text) {
  size_t dash = text.find('-');
  if (dash == std::string_view::npos || dash == 0) return InvalidRev();
  std::string_view digits = text.substr(0, dash);
  std::string_view id = text.substr(dash + 1);
  if (id.empty()) return InvalidRev();
  if (!std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; })) return InvalidRev();
  int64_t generation = 0;
  auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), generation);
  if (ec != std::errc() || end != digits.data() + digits.size() || generation < 1) return InvalidRev();

  Rev rev{generation, std::string(id)};
  if (rev.hash.size() == kHexRevIdLength) {
    if (!std::all_of(rev.hash.begin(), rev.hash.end(), IsHexDigit)) return InvalidRev();
    std::transform(rev.hash.begin(), rev.hash.end(), rev.hash.begin(), ToLowerAscii);
  }
  return rev;
}

std::string Rev::ToString() const { return std::to_string(generation) + "-" + hash; }

// ---- NewRevHash ----

std::string NewRevHash(const Json& body, const std::optional<Rev>& parent, bool deleted) {
  // Json objects keep their keys sorted, so Dump is canonical: the same body
  // parsed on two replicas encodes the same, whatever its key order on the wire.
  return NewRevHash(std::string_view(json::Dump(body)), parent, deleted);
}

std::string NewRevHash(std::string_view body_text, const std::optional<Rev>& parent, bool deleted) {
  // The compact encoding of [deleted, parent generation, parent hash, body].
  std::string text = "[";
  text += deleted ? "true" : "false";
  text += ',';
  text += std::to_string(parent ? parent->generation : 0);
  text += ',';
  text += json::Dump(Json(parent ? parent->hash : std::string()));
  text += ',';
  text += body_text;
  text += ']';
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(text.data(), text.size(), digest, &length, EVP_md5(), nullptr) != 1) {
    // MD5 is always compiled into libcrypto; without it there is no rev to give.
    std::abort();
  }
  return HexLower(std::string_view(reinterpret_cast<const char*>(digest), length));
}

// ---- RevTree: internals ----

size_t RevTree::RevHasher::operator()(const Rev& rev) const noexcept {
  return std::hash<std::string>()(rev.hash) * 31 + std::hash<int64_t>()(rev.generation);
}

int RevTree::Find(const Rev& rev) const {
  auto it = index_.find(rev);
  return it == index_.end() ? -1 : it->second;
}

int RevTree::Insert(const Rev& rev, bool deleted, bool has_body) {
  int i = static_cast<int>(nodes_.size());
  nodes_.push_back(Node{rev, -1, 0, deleted, has_body});
  index_.emplace(rev, i);
  return i;
}

void RevTree::Reindex() {
  index_.clear();
  index_.reserve(nodes_.size());
  for (size_t i = 0; i < nodes_.size(); ++i) {
    nodes_[i].children = 0;
    index_.emplace(nodes_[i].rev, static_cast<int>(i));
  }
  for (const Node& n : nodes_) {
    if (n.parent >= 0) ++nodes_[n.parent].children;
  }
}

std::vector<int> RevTree::LeafIndices() const {
  std::vector<int> leaves;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (nodes_[i].children == 0) leaves.push_back(static_cast<int>(i));
  }
  // Winner first: live before deleted, then generation, then id.
  std::sort(leaves.begin(), leaves.end(), [&](int a, int b) {
    const Node& x = nodes_[a];
    const Node& y = nodes_[b];
    if (x.deleted != y.deleted) return !x.deleted;
    return y.rev < x.rev;
  });
  return leaves;
}

// ---- Interactive edits ----

Result<std::optional<Rev>> RevTree::EditParent(const std::optional<Rev>& given, bool deleted) const {
  if (empty()) {
    // A new document: a `_rev` names a revision that does not exist.
    if (given) return EditConflict();
    return std::optional<Rev>();
  }
  if (WinnerDeleted()) {
    // CouchDB 3 recreates a deleted document only from a write without a rev
    // that is not itself a deletion, and bases it on the deleted winner so
    // the tree does not grow a new root (couch_db_updater merge_rev_tree).
    if (given || deleted) return EditConflict();
    return std::optional<Rev>(Winner());
  }
  if (!given || !IsLeaf(*given)) return EditConflict();
  return given;
}

Status RevTree::AddEdit(const std::optional<Rev>& given, const Rev& new_rev, bool deleted) {
  WISP_ASSIGN_OR_RETURN(std::optional<Rev> parent, EditParent(given, deleted));
  int64_t expected = parent ? parent->generation + 1 : 1;
  if (new_rev.generation != expected) {
    return Status::InvalidArgument("new revision " + new_rev.ToString() + " should be of generation " +
                                   std::to_string(expected));
  }
  if (new_rev.hash.empty()) return Status::InvalidArgument("new revision has an empty id");
  if (Contains(new_rev)) return EditConflict();
  int parent_index = parent ? Find(*parent) : -1;
  int i = Insert(new_rev, deleted, /*has_body=*/true);
  if (parent_index >= 0) {
    nodes_[i].parent = parent_index;
    ++nodes_[parent_index].children;
  }
  return Status::Ok();
}

// ---- Replicated writes ----

Result<bool> RevTree::Merge(const std::vector<Rev>& path_leaf_first, bool deleted) {
  if (path_leaf_first.empty()) return Status::InvalidArgument("empty revision path");
  for (size_t i = 0; i < path_leaf_first.size(); ++i) {
    const Rev& rev = path_leaf_first[i];
    if (rev.hash.empty()) return Status::InvalidArgument("revision path has an empty id");
    if (rev.generation < 1) return Status::InvalidArgument("revision path goes below generation 1");
    if (i > 0 && rev.generation != path_leaf_first[i - 1].generation - 1) {
      return Status::InvalidArgument("revision path generations must descend by one");
    }
  }

  // Where the path disagrees with a parent the tree already knows, trust the
  // tree and merge only the part of the path below that point.
  size_t length = path_leaf_first.size();
  for (size_t i = 0; i + 1 < length; ++i) {
    int known = Find(path_leaf_first[i]);
    if (known < 0) continue;
    int parent = nodes_[known].parent;
    if (parent >= 0 && nodes_[parent].rev != path_leaf_first[i + 1]) {
      length = i + 1;
      break;
    }
  }

  bool changed = false;
  for (size_t k = 0; k < length; ++k) {
    const Rev& rev = path_leaf_first[k];
    if (Contains(rev)) continue;
    // Only the leaf comes with a body; ancestors are history.
    bool is_leaf = k == 0;
    Insert(rev, is_leaf && deleted, /*has_body=*/is_leaf);
    changed = true;
  }

  // Link each node to its parent along the path, where the tree has no parent
  // for it yet (a new node, or a root left by stemming).
  for (size_t k = 0; k + 1 < length; ++k) {
    int i = Find(path_leaf_first[k]);
    int p = Find(path_leaf_first[k + 1]);
    if (nodes_[i].parent < 0) {
      nodes_[i].parent = p;
      ++nodes_[p].children;
      changed = true;
    }
  }
  return changed;
}

std::vector<Rev> RevTree::Stem(size_t revs_limit) {
  size_t limit = std::max<size_t>(revs_limit, 1);
  // Distance from each node down to its nearest leaf. Children are exactly one
  // generation younger, so visiting by descending generation settles every
  // child before its parent.
  std::vector<int> order(nodes_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(),
            [this](int a, int b) { return nodes_[a].rev.generation > nodes_[b].rev.generation; });
  constexpr size_t kFar = std::numeric_limits<size_t>::max() / 2;
  std::vector<size_t> distance(nodes_.size(), kFar);
  for (int i : order) {
    if (nodes_[i].children == 0) distance[i] = 0;
    int p = nodes_[i].parent;
    if (p >= 0) distance[p] = std::min(distance[p], distance[i] + 1);
  }

  std::vector<Rev> removed;
  std::vector<int> remap(nodes_.size(), -1);
  std::vector<Node> kept;
  for (size_t i = 0; i < nodes_.size(); ++i) {
    if (distance[i] < limit) {
      remap[i] = static_cast<int>(kept.size());
      kept.push_back(nodes_[i]);
    } else {
      removed.push_back(nodes_[i].rev);
    }
  }
  if (removed.empty()) return removed;
  for (Node& n : kept) n.parent = n.parent >= 0 ? remap[n.parent] : -1;
  nodes_ = std::move(kept);
  Reindex();
  std::sort(removed.begin(), removed.end());
  return removed;
}

// ---- Queries ----

Rev RevTree::Winner() const {
  if (empty()) return Rev{};
  return nodes_[LeafIndices().front()].rev;
}

bool RevTree::WinnerDeleted() const {
  if (empty()) return false;
  return nodes_[LeafIndices().front()].deleted;
}

std::vector<Rev> RevTree::Leaves() const {
  std::vector<Rev> out;
  for (int i : LeafIndices()) out.push_back(nodes_[i].rev);
  return out;
}

std::vector<Rev> RevTree::Conflicts() const {
  std::vector<Rev> out;
  std::vector<int> leaves = LeafIndices();
  for (size_t k = 1; k < leaves.size(); ++k) {
    if (!nodes_[leaves[k]].deleted) out.push_back(nodes_[leaves[k]].rev);
  }
  return out;
}

std::vector<Rev> RevTree::DeletedConflicts() const {
  std::vector<Rev> out;
  std::vector<int> leaves = LeafIndices();
  for (size_t k = 1; k < leaves.size(); ++k) {
    if (nodes_[leaves[k]].deleted) out.push_back(nodes_[leaves[k]].rev);
  }
  return out;
}

std::vector<Rev> RevTree::LeavesFrom(const Rev& rev) const {
  std::vector<Rev> out;
  int target = Find(rev);
  if (target < 0) return out;
  int64_t target_generation = nodes_[target].rev.generation;
  for (int leaf : LeafIndices()) {
    for (int i = leaf; i >= 0 && nodes_[i].rev.generation >= target_generation; i = nodes_[i].parent) {
      if (i == target) {
        out.push_back(nodes_[leaf].rev);
        break;
      }
    }
  }
  return out;
}

bool RevTree::IsLeaf(const Rev& rev) const {
  int i = Find(rev);
  return i >= 0 && nodes_[i].children == 0;
}

bool RevTree::IsDeleted(const Rev& rev) const {
  int i = Find(rev);
  return i >= 0 && nodes_[i].deleted;
}

bool RevTree::HasBody(const Rev& rev) const {
  int i = Find(rev);
  return i >= 0 && nodes_[i].has_body;
}

std::vector<Rev> RevTree::PathTo(const Rev& rev) const {
  std::vector<Rev> path;
  for (int i = Find(rev); i >= 0; i = nodes_[i].parent) path.push_back(nodes_[i].rev);
  return path;
}

std::vector<RevInfo> RevTree::RevsInfo(const Rev& rev) const {
  std::vector<RevInfo> info;
  for (int i = Find(rev); i >= 0; i = nodes_[i].parent) {
    const Node& n = nodes_[i];
    std::string_view status = !n.has_body ? kRevStatusMissing : n.deleted ? kRevStatusDeleted : kRevStatusAvailable;
    info.push_back(RevInfo{n.rev, status});
  }
  return info;
}

// ---- _revs_diff ----

std::vector<Rev> RevTree::Missing(const std::vector<Rev>& revs) const {
  std::vector<Rev> missing;
  for (const Rev& rev : revs) {
    if (Contains(rev)) continue;
    if (std::find(missing.begin(), missing.end(), rev) != missing.end()) continue;
    missing.push_back(rev);
  }
  return missing;
}

std::vector<Rev> RevTree::PossibleAncestors(const std::vector<Rev>& missing) const {
  std::vector<Rev> out;
  if (missing.empty()) return out;
  int64_t highest = 0;
  for (const Rev& rev : missing) highest = std::max(highest, rev.generation);
  for (int i : LeafIndices()) {
    if (nodes_[i].rev.generation < highest) out.push_back(nodes_[i].rev);
  }
  return out;
}

// ---- Compaction ----

Status RevTree::MarkBodyMissing(const Rev& rev) {
  int i = Find(rev);
  if (i < 0) return Status::NotFound("no revision " + rev.ToString());
  if (nodes_[i].children == 0) return Status::InvalidArgument("leaf revision " + rev.ToString() + " keeps its body");
  nodes_[i].has_body = false;
  return Status::Ok();
}

std::vector<Rev> RevTree::NonLeafRevsWithBodies() const {
  std::vector<Rev> out;
  for (const Node& n : nodes_) {
    if (n.children > 0 && n.has_body) out.push_back(n.rev);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// ---- Storage ----

Json RevTree::ToJson() const {
  std::vector<int> order(nodes_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = static_cast<int>(i);
  std::sort(order.begin(), order.end(), [this](int a, int b) { return nodes_[a].rev < nodes_[b].rev; });
  std::vector<int> position(nodes_.size());
  for (size_t k = 0; k < order.size(); ++k) position[order[k]] = static_cast<int>(k);

  Json revs = Json::array();
  for (int i : order) {
    const Node& n = nodes_[i];
    int flags = (n.deleted ? kFlagDeleted : 0) | (n.has_body ? 0 : kFlagBodyMissing);
    revs.push_back(Json::array({n.rev.generation, n.rev.hash, n.parent >= 0 ? position[n.parent] : -1, flags}));
  }
  return Json{{"v", kFormatVersion}, {"revs", std::move(revs)}};
}

Result<RevTree> RevTree::FromJson(const Json& value) {
  auto bad = [](const std::string& why) { return Status::InvalidArgument("malformed revision tree: " + why); };
  if (!value.is_object()) return bad("not an object");
  auto version = value.find("v");
  if (version == value.end() || !version->is_number_integer() || version->get<int64_t>() != kFormatVersion) {
    return bad("unknown version");
  }
  auto revs = value.find("revs");
  if (revs == value.end() || !revs->is_array()) return bad("no revs array");

  RevTree tree;
  tree.nodes_.reserve(revs->size());
  for (const Json& entry : *revs) {
    if (!entry.is_array() || entry.size() != 4 || !entry[0].is_number_integer() || !entry[1].is_string() ||
        !entry[2].is_number_integer() || !entry[3].is_number_integer()) {
      return bad("an entry is not [generation, id, parent, flags]");
    }
    Node n;
    n.rev.generation = entry[0].get<int64_t>();
    n.rev.hash = entry[1].get<std::string>();
    int64_t parent = entry[2].get<int64_t>();
    int64_t flags = entry[3].get<int64_t>();
    if (n.rev.generation < 1 || n.rev.hash.empty()) return bad("invalid revision");
    if (parent < -1 || parent >= static_cast<int64_t>(revs->size())) return bad("parent out of range");
    if (flags < 0 || flags > (kFlagDeleted | kFlagBodyMissing)) return bad("unknown flags");
    n.parent = static_cast<int>(parent);
    n.deleted = (flags & kFlagDeleted) != 0;
    n.has_body = (flags & kFlagBodyMissing) == 0;
    tree.nodes_.push_back(std::move(n));
  }
  tree.Reindex();
  if (tree.index_.size() != tree.nodes_.size()) return bad("duplicate revision");
  for (const Node& n : tree.nodes_) {
    // One generation per link also rules out cycles.
    if (n.parent >= 0 && tree.nodes_[n.parent].rev.generation != n.rev.generation - 1) {
      return bad("parent of " + n.rev.ToString() + " is not one generation older");
    }
  }
  for (const Node& n : tree.nodes_) {
    if (n.children == 0 && !n.has_body) return bad("leaf " + n.rev.ToString() + " has no body");
  }
  return tree;
}

}  // namespace wisp::store
