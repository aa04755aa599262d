// BuildTraceTree: where each stored record goes in its trace's tree.
#include "whisk/traces.h"

#include <gtest/gtest.h>

#include <set>

namespace wisp::whisk {
namespace {

// A stored record as the controller writes it.
Json Record(const std::string& id, const std::string& path, const std::string& kind, int64_t start,
            Json extra = Json::object()) {
  Json annotations = Json::array();
  if (!path.empty()) annotations.push_back({{"key", "path"}, {"value", path}});
  if (!kind.empty()) annotations.push_back({{"key", "kind"}, {"value", kind}});
  Json record = {{"activationId", id},       {"namespace", "guest"}, {"name", path.empty() ? "t" : path},
                 {"annotations", annotations}, {"start", start},     {"end", start + 10},
                 {"duration", 10},           {"trace_id", "tr"},     {"response", {{"statusCode", 0}}},
                 {"logs", Json::array()}};
  for (auto& [k, v] : extra.items()) record[k] = v;
  return record;
}

std::string Ids(const Json& nodes) {
  std::string out;
  for (const Json& n : nodes) out += (out.empty() ? "" : ",") + n.value("activationId", std::string("-"));
  return out;
}

TEST(TraceTreeTest, TriggerRuleSequenceComponentsAndHandlers) {
  std::vector<Json> records;
  Json trigger = Record("trig", "", "", 100);
  trigger["logs"] = Json::array({json::Dump(Json{{"rule", "guest/r"}, {"action", "guest/socron"},
                                                 {"success", true}, {"activationId", "seq"}})});
  records.push_back(trigger);
  records.push_back(Record("seq", "guest/socron", "sequence", 101, {{"parent_id", "trig"}}));
  records.push_back(Record("collect", "guest/collector", "builtin", 102, {{"cause", "seq"}}));
  Json invoker = Record("invoke", "guest/invoker", "builtin", 103, {{"cause", "seq"}});
  invoker["annotations"].push_back({{"key", "initTime"}, {"value", 7}});
  records.push_back(invoker);
  records.push_back(Record("h2", "guest/qhandler", "sequence", 105, {{"parent_id", "invoke"}}));
  records.push_back(Record("h1", "guest/qhandler", "sequence", 104, {{"parent_id", "invoke"}}));
  records.push_back(Record("store1", "guest/storer", "builtin", 104, {{"cause", "h1"}}));
  Json failed = Record("notify1", "guest/notifier", "builtin", 106, {{"cause", "h1"}});
  failed["response"]["statusCode"] = 1;
  records.push_back(failed);

  const Json tree = BuildTraceTree("tr", records);
  EXPECT_EQ(tree["activations"], 8);
  EXPECT_EQ(tree["errors"], 1);
  ASSERT_EQ(tree["roots"].size(), 1u);
  const Json& root = tree["roots"][0];
  EXPECT_EQ(root["type"], "trigger");
  ASSERT_EQ(root["children"].size(), 1u);
  const Json& rule = root["children"][0];
  EXPECT_EQ(rule["type"], "rule");
  EXPECT_EQ(rule["rule"], "guest/r");
  EXPECT_EQ(Ids(rule["children"]), "seq");
  const Json& seq = rule["children"][0];
  EXPECT_EQ(seq["type"], "sequence");
  EXPECT_FALSE(seq.contains("cold"));
  EXPECT_EQ(Ids(seq["children"]), "collect,invoke");
  EXPECT_EQ(seq["children"][0]["cold"], false);
  const Json& inv = seq["children"][1];
  EXPECT_EQ(inv["cold"], true);
  EXPECT_EQ(inv["initTime"], 7);
  EXPECT_EQ(Ids(inv["children"]), "h1,h2");  // start order
  EXPECT_EQ(Ids(inv["children"][0]["children"]), "store1,notify1");
  EXPECT_EQ(inv["children"][0]["children"][1]["status"], "application error");
}

// Components that start in the same millisecond keep the order in which
// the sequence ran them, whatever their ids (demo runs hit this).
TEST(TraceTreeTest, ASequencesComponentsFollowItsLogsWhenTheirStartsTie) {
  std::vector<Json> records;
  records.push_back(Record("seq", "guest/qhandler", "sequence", 100,
                           {{"logs", Json::array({"zz-storer", "aa-notifier"})}}));
  records.push_back(Record("aa-notifier", "guest/notifier", "builtin", 101, {{"cause", "seq"}}));
  records.push_back(Record("zz-storer", "guest/storer", "builtin", 101, {{"cause", "seq"}}));
  const Json tree = BuildTraceTree("tr", records);
  ASSERT_EQ(tree["roots"].size(), 1u);
  EXPECT_EQ(Ids(tree["roots"][0]["children"]), "zz-storer,aa-notifier");
}

TEST(TraceTreeTest, AnActivationWhoseParentIsMissingIsARoot) {
  const Json tree = BuildTraceTree("tr", {Record("a", "guest/a", "nodejs:20", 1, {{"parent_id", "gone"}}),
                                          Record("b", "guest/b", "nodejs:20", 2)});
  EXPECT_EQ(Ids(tree["roots"]), "a,b");
}

TEST(TraceTreeTest, AFailedRuleShowsItsError) {
  Json trigger = Record("trig", "", "", 1);
  trigger["logs"] = Json::array(
      {json::Dump(Json{{"rule", "guest/r"}, {"action", "guest/gone"}, {"success", false}, {"error", "no action"}})});
  const Json tree = BuildTraceTree("tr", {trigger});
  const Json& rule = tree["roots"][0]["children"][0];
  EXPECT_EQ(rule["status"], "error");
  EXPECT_EQ(rule["error"], "no action");
  EXPECT_TRUE(rule["children"].empty());
}

TEST(TraceTreeTest, ACycleOfParentLinksDoesNotLoseOrRepeatRecords) {
  const Json tree = BuildTraceTree("tr", {Record("a", "guest/a", "builtin", 1, {{"parent_id", "b"}}),
                                          Record("b", "guest/b", "builtin", 2, {{"parent_id", "a"}})});
  std::multiset<std::string> seen;
  std::function<void(const Json&)> walk = [&](const Json& nodes) {
    for (const Json& n : nodes) {
      seen.insert(n["activationId"].get<std::string>());
      walk(n["children"]);
    }
  };
  walk(tree["roots"]);
  EXPECT_EQ(seen, (std::multiset<std::string>{"a", "b"}));
}

}  // namespace
}  // namespace wisp::whisk
