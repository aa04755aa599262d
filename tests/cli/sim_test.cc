// `wisp sim stackexchange` and `wisp sim slack` start as processes, print
// where they listen, answer, and replay a fault script.
#include <gtest/gtest.h>

#include <csignal>
#include <fstream>
#include <regex>

#include "http/client.h"
#include "json/json.h"
#include "testing/subprocess.h"
#include "testing/temp_dir.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Subprocess;

int PortIn(const std::string& line) {
  std::smatch m;
  if (std::regex_search(line, m, std::regex(R"(127\.0\.0\.1:(\d+))"))) return std::stoi(m[1]);
  return -1;
}

TEST(SimCommandTest, StackExchangeSimulatorServesQuestionsAndReplaysFaults) {
  testing::TempDir dir;
  const std::string script = dir.path() + "/faults.jsonl";
  std::ofstream(script) << "{\"request\": 1, \"fault\": \"http\", \"status\": 503}\n";
  Subprocess p({WISP_BINARY, "sim", "stackexchange", "--port", "0", "--seed", "7", "--fault-script", script});
  const int port = PortIn(p.ReadLineContaining("Stack Exchange simulator listening", 20s));
  ASSERT_GT(port, 0) << p.output();
  http::Client client;
  const std::string url = "http://127.0.0.1:" + std::to_string(port) + "/2.3/questions?site=stackoverflow&pagesize=5";
  auto first = client.Get(url);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->status, 503);
  EXPECT_NE(first->body.find("<html>"), std::string::npos);
  auto second = client.Get(url);
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 200);
  auto body = json::ParseObject(second->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["items"].size(), 5u);
  EXPECT_TRUE((*body)["has_more"].get<bool>());
  EXPECT_EQ(p.Signal(SIGTERM, 10s), 0);
}

TEST(SimCommandTest, SlackSimulatorRecordsWebhookMessages) {
  Subprocess p({WISP_BINARY, "sim", "slack", "--port", "0"});
  const int port = PortIn(p.ReadLineContaining("Slack simulator listening", 20s));
  ASSERT_GT(port, 0) << p.output();
  http::Client client;
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  auto posted = client.Post(base + "/services/T1/B1/secret", R"({"text":"hello"})");
  ASSERT_TRUE(posted.ok());
  EXPECT_EQ(posted->status, 200);
  EXPECT_EQ(posted->body, "ok");
  auto listed = client.Get(base + "/admin/messages");
  ASSERT_TRUE(listed.ok());
  EXPECT_NE(listed->body.find("hello"), std::string::npos);
  EXPECT_EQ(p.Signal(SIGTERM, 10s), 0);
}

TEST(SimCommandTest, BadFaultScriptIsAClearError) {
  Subprocess p({WISP_BINARY, "sim", "slack", "--fault-script", "/nonexistent/faults.jsonl"});
  EXPECT_EQ(p.Wait(10s), 2);
}

}  // namespace
}  // namespace wisp
