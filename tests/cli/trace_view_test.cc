// RenderTrace: the tree `wisp trace ID` prints.
#include "cli/trace_view.h"

#include <gtest/gtest.h>

namespace wisp::cli {
namespace {

TEST(RenderTraceTest, DrawsTheTreeWithStatusesTimingsAndStarts) {
  const Json trace = Json::parse(R"({
    "trace_id": "tr", "namespace": "guest", "activations": 4, "errors": 1, "duration": 42,
    "roots": [{"type": "trigger", "name": "guest/t", "status": "success", "activationId": "T", "children": [
      {"type": "rule", "rule": "guest/r", "action": "guest/seq", "status": "success", "children": [
        {"type": "sequence", "name": "guest/seq", "status": "application error", "duration": 40,
         "activationId": "S", "children": [
          {"type": "action", "name": "guest/a", "status": "success", "duration": 5, "cold": true, "initTime": 3,
           "activationId": "A", "children": []},
          {"type": "action", "name": "guest/b", "status": "application error", "duration": 30, "cold": false,
           "waitTime": 2, "activationId": "B", "children": []}]}]}]}]})");
  EXPECT_EQ(RenderTrace(trace),
            "trace tr in guest: 4 activations, 1 errors, 42 ms\n"
            "trigger guest/t  success  T\n"
            "\u2514\u2500 rule guest/r -> guest/seq  success\n"
            "   \u2514\u2500 sequence guest/seq  application error  40 ms  S\n"
            "      \u251c\u2500 action guest/a  success  5 ms  cold (init 3 ms)  A\n"
            "      \u2514\u2500 action guest/b  application error  30 ms  warm  waited 2 ms  B\n");
}

TEST(RenderTraceTest, AFailedRuleShowsItsError) {
  const Json trace = Json::parse(R"({"trace_id": "tr", "activations": 1, "errors": 0, "duration": 0,
    "roots": [{"type": "trigger", "name": "guest/t", "status": "success", "activationId": "T", "children": [
      {"type": "rule", "rule": "guest/r", "action": "guest/gone", "status": "error", "error": "not found",
       "children": []}]}]})");
  EXPECT_NE(RenderTrace(trace).find("rule guest/r -> guest/gone  error: not found\n"), std::string::npos);
}

}  // namespace
}  // namespace wisp::cli
