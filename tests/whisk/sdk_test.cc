// The C++ SDK's side of the actionloop protocol, in-process over pipes.
#include "whisk/sdk/action.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <stdexcept>
#include <string>
#include <vector>

namespace wisp::whisk::sdk {
namespace {

// Feeds `input` to ServeOn() and returns the lines it wrote on the result fd.
std::vector<Json> Serve(const std::string& input, const ActionFunction& main, int* rc = nullptr) {
  int in[2], out[2];
  EXPECT_EQ(pipe(in), 0);
  EXPECT_EQ(pipe(out), 0);
  EXPECT_EQ(write(in[1], input.data(), input.size()), static_cast<ssize_t>(input.size()));
  close(in[1]);
  const int status = ServeOn(in[0], out[1], main);
  if (rc) *rc = status;
  close(in[0]);
  close(out[1]);
  std::string text;
  char buffer[4096];
  for (ssize_t n; (n = read(out[0], buffer, sizeof(buffer))) > 0;) text.append(buffer, static_cast<size_t>(n));
  close(out[0]);
  std::vector<Json> lines;
  for (size_t begin = 0, end; (end = text.find('\n', begin)) != std::string::npos; begin = end + 1) {
    auto line = json::Parse(text.substr(begin, end - begin));
    EXPECT_TRUE(line.ok()) << text;
    if (line.ok()) lines.push_back(*line);
  }
  return lines;
}

class SdkTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* name : {"__OW_PROXY_VERSION", "__OW_WAIT_FOR_ACK", "__OW_API_KEY", "__OW_ACTIVATION_ID"}) {
      unsetenv(name);
    }
  }
};

std::string Env(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "<unset>";
}

TEST_F(SdkTest, AnswersEachRequestWithItsMetadataExported) {
  auto echo = [](const Json& args) -> Result<Json> {
    return Json{{"args", args}, {"id", Env("__OW_ACTIVATION_ID")}, {"key", Env("__OW_API_KEY")}};
  };
  int rc = -1;
  std::vector<Json> lines = Serve(R"({"value":{"n":1},"activation_id":"a1","api_key":"k:s"})"
                                  "\n"
                                  R"({"value":{"n":2},"activation_id":"a2"})"
                                  "\n",
                                  echo, &rc);
  EXPECT_EQ(rc, 0);
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], Json({{"args", {{"n", 1}}}, {"id", "a1"}, {"key", "k:s"}}));
  // The second request has no key: the first one's must not linger.
  EXPECT_EQ(lines[1], Json({{"args", {{"n", 2}}}, {"id", "a2"}, {"key", "<unset>"}}));
}

TEST_F(SdkTest, ErrorsAndExceptionsBecomeErrorResults) {
  auto failing = [](const Json& args) -> Result<Json> {
    if (args.value("throw", false)) throw std::runtime_error("bad state");
    return Status::InvalidArgument("no good");
  };
  std::vector<Json> lines = Serve("{\"value\":{}}\n{\"value\":{\"throw\":true}}\nnot json\n", failing);
  ASSERT_EQ(lines.size(), 3u);
  EXPECT_EQ(lines[0], Json({{"error", "no good"}}));
  EXPECT_EQ(lines[1], Json({{"error", "the action threw: bad state"}}));
  EXPECT_THAT(lines[2]["error"].get<std::string>(),
              ::testing::StartsWith("the activation request is not a JSON object"));
}

TEST_F(SdkTest, AcknowledgesFirstWhenAsked) {
  setenv("__OW_WAIT_FOR_ACK", "1", 1);
  std::vector<Json> lines = Serve("{\"value\":{}}\n", [](const Json&) -> Result<Json> { return Json::array(); });
  unsetenv("__OW_WAIT_FOR_ACK");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], Json({{"ok", true}}));
  EXPECT_EQ(lines[1], Json::array());
}

}  // namespace
}  // namespace wisp::whisk::sdk
