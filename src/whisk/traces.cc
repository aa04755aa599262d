#include "whisk/traces.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "whisk/action_runtime.h"
#include "whisk/entity.h"

namespace wisp::whisk {
namespace {

// Deeper than any real trace (sequences nest at most 32 deep); a bound that
// keeps a hand-edited record from recursing without end.
constexpr int kMaxDepth = 256;

std::string StatusText(const Json& record) {
  const Json response = record.value("response", Json::object());
  const int64_t code = json::GetInt(response, "statusCode", 3);
  return ActivationStatusText(static_cast<ActivationStatus>(code < 0 || code > 3 ? 3 : code));
}

// One activation's node, without children.
Json ActivationNode(const Json& record) {
  const Json annotations = record.value("annotations", Json::array());
  const Json path = KeyValue(annotations, "path");
  const Json kind = KeyValue(annotations, "kind");
  const bool trigger = path.is_null();
  Json node = {{"activationId", record.value("activationId", "")},
               {"name", path.is_string() ? path.get<std::string>()
                                         : json::GetString(record, "namespace") + "/" + json::GetString(record, "name")},
               {"type", trigger ? "trigger" : kind == "sequence" ? "sequence" : "action"},
               {"kind", trigger ? Json("trigger") : kind},
               {"status", StatusText(record)},
               {"start", json::GetInt(record, "start")}};
  if (json::GetInt(record, "end") != 0) {
    node["end"] = json::GetInt(record, "end");
    node["duration"] = json::GetInt(record, "duration");
  }
  if (const Json wait = KeyValue(annotations, "waitTime"); wait.is_number()) node["waitTime"] = wait;
  if (!trigger && kind != "sequence") {
    const Json init = KeyValue(annotations, "initTime");
    node["cold"] = init.is_number();
    if (init.is_number()) node["initTime"] = init;
  }
  node["children"] = Json::array();
  return node;
}

class TreeBuilder {
 public:
  explicit TreeBuilder(std::vector<Json> records) {
    std::sort(records.begin(), records.end(), [](const Json& a, const Json& b) {
      const int64_t sa = json::GetInt(a, "start"), sb = json::GetInt(b, "start");
      if (sa != sb) return sa < sb;
      return json::GetString(a, "activationId") < json::GetString(b, "activationId");
    });
    for (Json& record : records) {
      std::string id = json::GetString(record, "activationId");
      if (id.empty() || records_.contains(id)) continue;
      order_.push_back(id);
      records_.emplace(std::move(id), std::move(record));
    }
    // A trigger's rule lines claim the activations they started.
    for (const std::string& id : order_) {
      const Json& record = records_.at(id);
      if (!KeyValue(record.value("annotations", Json::array()), "path").is_null()) continue;
      for (const Json& line : record.value("logs", Json::array())) {
        Result<Json> rule = line.is_string() ? json::ParseObject(line.get<std::string>()) : Status::InvalidArgument("");
        if (!rule.ok()) continue;
        const std::string started = json::GetString(*rule, "activationId");
        if (!started.empty() && records_.contains(started)) claimed_by_rule_.insert(started);
      }
    }
    for (const std::string& id : order_) {
      const std::string parent = ParentOf(records_.at(id));
      if (claimed_by_rule_.contains(id)) continue;  // placed by its trigger's rule node
      if (!parent.empty() && parent != id && records_.contains(parent)) {
        children_[parent].push_back(id);
      } else {
        roots_.push_back(id);
      }
    }
    // A sequence lists its components in the order they ran; start times
    // alone can tie (same millisecond), and ids are not ordered within one.
    for (auto& [parent, kids] : children_) {
      const Json& logs = records_.at(parent).value("logs", Json::array());
      std::map<std::string, size_t> position;
      for (size_t i = 0; i < logs.size(); ++i) {
        if (logs[i].is_string()) position.emplace(logs[i].get<std::string>(), i);
      }
      if (position.empty()) continue;
      std::stable_sort(kids.begin(), kids.end(), [&position](const std::string& a, const std::string& b) {
        const auto pa = position.find(a), pb = position.find(b);
        const size_t ia = pa == position.end() ? position.size() : pa->second;
        const size_t ib = pb == position.end() ? position.size() : pb->second;
        return ia < ib;
      });
    }
  }

  Json Build(const std::string& trace_id) {
    Json roots = Json::array();
    for (const std::string& id : roots_) roots.push_back(Node(id, 0));
    // Whatever a cycle of parent links kept out of reach becomes a root.
    for (const std::string& id : order_) {
      if (!placed_.contains(id)) roots.push_back(Node(id, 0));
    }
    int64_t start = 0, end = 0, errors = 0;
    for (const auto& [id, record] : records_) {
      const int64_t s = json::GetInt(record, "start"), e = json::GetInt(record, "end");
      if (s != 0 && (start == 0 || s < start)) start = s;
      end = std::max({end, e, s});
      if (json::GetInt(record.value("response", Json::object()), "statusCode", 3) != 0) ++errors;
    }
    return {{"trace_id", trace_id}, {"activations", records_.size()}, {"errors", errors}, {"start", start},
            {"end", end},           {"duration", end - start},         {"roots", std::move(roots)}};
  }

 private:
  static std::string ParentOf(const Json& record) {
    const std::string cause = json::GetString(record, "cause");
    return cause.empty() ? json::GetString(record, "parent_id") : cause;
  }

  Json Node(const std::string& id, int depth) {
    placed_.insert(id);
    const Json& record = records_.at(id);
    Json node = ActivationNode(record);
    if (depth >= kMaxDepth) return node;
    Json& children = node["children"];
    if (node["type"] == "trigger") {
      for (const Json& line : record.value("logs", Json::array())) {
        Result<Json> rule = line.is_string() ? json::ParseObject(line.get<std::string>()) : Status::InvalidArgument("");
        if (!rule.ok()) continue;
        Json rule_node = {{"type", "rule"},
                          {"rule", json::GetString(*rule, "rule")},
                          {"action", json::GetString(*rule, "action")},
                          {"status", rule->value("success", false) ? "success" : "error"},
                          {"children", Json::array()}};
        if (rule->contains("error")) rule_node["error"] = (*rule)["error"];
        const std::string started = json::GetString(*rule, "activationId");
        if (!started.empty()) rule_node["activationId"] = started;
        if (claimed_by_rule_.contains(started) && !placed_.contains(started)) {
          rule_node["children"].push_back(Node(started, depth + 2));
        }
        children.push_back(std::move(rule_node));
      }
    }
    if (const auto it = children_.find(id); it != children_.end()) {
      for (const std::string& child : it->second) {
        if (!placed_.contains(child)) children.push_back(Node(child, depth + 1));
      }
    }
    return node;
  }

  std::map<std::string, Json> records_;
  std::vector<std::string> order_;  // ids in start order
  std::set<std::string> claimed_by_rule_;
  std::map<std::string, std::vector<std::string>> children_;  // in start order
  std::vector<std::string> roots_;
  std::set<std::string> placed_;
};

}  // namespace

Json BuildTraceTree(const std::string& trace_id, std::vector<Json> records) {
  return TreeBuilder(std::move(records)).Build(trace_id);
}

}  // namespace wisp::whisk
