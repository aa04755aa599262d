// The Slack client against the Slack simulator on loopback: delivery,
// escaping, retries after 429 and 5xx, and permanent errors that are not
// retried. Waits advance a FakeClock instead of sleeping.
#include <gtest/gtest.h>

#include "apps/stackoverflow/codec.h"
#include "apps/stackoverflow/slack_client.h"
#include "apps/stackoverflow/slack_sim.h"

namespace wisp::stackoverflow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class SlackTest : public ::testing::Test {
 protected:
  void StartSim(const std::string& script = "") {
    SlackSimOptions options;
    auto parsed = FaultScript::Parse(script);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    options.faults = *parsed;
    sim_ = std::make_unique<SlackSim>(clock_, std::move(options));
    ASSERT_TRUE(sim_->Start().ok());
  }
  SlackClient Client() {
    return SlackClient(http_, {}, [this](milliseconds d) {
      slept_ += d;
      clock_.Advance(d);
    });
  }

  FakeClock clock_;
  http::Client http_;
  std::unique_ptr<SlackSim> sim_;
  milliseconds slept_{0};
};

const Json kQuestion = {{"question_id", 42},
                        {"title", "link &lt;a&gt; tag &amp; &quot;href&quot; | why doesn&#39;t it work? &amp;lt;"},
                        {"link", "https://stackoverflow.com/questions/42/link-a-tag"},
                        {"tags", {"html", "c#"}},
                        {"owner", {{"display_name", "Jo&#227;o &lt;dev&gt;"}}}};

TEST(SlackFormatTest, DecodesEntitiesOnceThenEscapesForMrkdwn) {
  EXPECT_EQ(DecodeHtmlEntities("doesn&#39;t &quot;x&quot; &amp;lt; &#x1F600; &#231; &bogus; &#;"),
            "doesn't \"x\" &lt; \xF0\x9F\x98\x80 \xC3\xA7 &bogus; &#;");
  EXPECT_EQ(SlackEscape("a & b < c > d * _"), "a &amp; b &lt; c &gt; d * _");
  const std::string text = json::GetString(NewQuestionMessage(kQuestion), "text");
  EXPECT_NE(text.find("<https://stackoverflow.com/questions/42/link-a-tag|link &lt;a&gt; tag &amp; \"href\" "
                      "\xE2\x88\xA3 why doesn't it work? &amp;lt;>"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("`html` `c#`"), std::string::npos) << text;
  EXPECT_NE(text.find("Jo\xC3\xA3o &lt;dev&gt;"), std::string::npos) << text;
}

TEST_F(SlackTest, DeliversAndTheSimulatorRecords) {
  StartSim();
  ASSERT_TRUE(Client().Post(sim_->webhook_url(), NewQuestionMessage(kQuestion)).ok());
  ASSERT_TRUE(Client().PostBot(sim_->bot_url(), kQuestion).ok());
  const std::vector<SlackMessage> messages = sim_->Messages();
  ASSERT_EQ(messages.size(), 2u);
  EXPECT_EQ(messages[0].path, "/services/T0001/B0001/sim");
  EXPECT_EQ(messages[0].payload, NewQuestionMessage(kQuestion));
  EXPECT_EQ(messages[1].payload, (Json{{"type", "new-question"}, {"data", kQuestion}}));

  auto listed = http_.Get("http://127.0.0.1:" + std::to_string(sim_->port()) + "/admin/messages");
  ASSERT_TRUE(listed.ok());
  auto body = json::ParseObject(listed->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["messages"].size(), 2u);
}

TEST_F(SlackTest, ValidatesPayloadsAsSlackDoes) {
  StartSim();
  auto post = [&](std::string body, std::string type) {
    http::ClientRequest r{.method = "POST", .url = sim_->webhook_url()};
    r.headers.Set("Content-Type", type);
    r.body = std::move(body);
    return http_.Send(r);
  };
  auto broken = post("{\"text\": ", "application/json");
  ASSERT_TRUE(broken.ok());
  EXPECT_EQ(broken->status, 400);
  EXPECT_EQ(broken->body, "invalid_payload");
  auto empty = post("{\"username\": \"x\"}", "application/json");
  EXPECT_EQ(empty->status, 400);
  EXPECT_EQ(empty->body, "no_text");
  auto form = post("payload=%7B%22text%22%3A%22hi%22%7D", "application/x-www-form-urlencoded");
  EXPECT_EQ(form->status, 200);
  EXPECT_EQ(form->body, "ok");
  EXPECT_EQ(sim_->Messages().size(), 1u);

  Status s = Client().Post(sim_->webhook_url(), Json{{"username", "x"}});
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find("no_text"), std::string::npos);
}

TEST_F(SlackTest, RetriesA429AfterRetryAfter) {
  StartSim(R"({"request": 1, "fault": "http", "status": 429, "retry_after": 7})");
  ASSERT_TRUE(Client().Post(sim_->webhook_url(), Json{{"text", "hello"}}).ok());
  EXPECT_EQ(slept_, seconds(7));
  EXPECT_EQ(sim_->requests(), 2);
  EXPECT_EQ(sim_->Messages().size(), 1u);
}

TEST_F(SlackTest, BacksOffOn5xxThenSucceeds) {
  StartSim(R"({"from": 1, "to": 2, "fault": "http", "status": 500})");
  ASSERT_TRUE(Client().Post(sim_->webhook_url(), Json{{"text", "hello"}}).ok());
  EXPECT_EQ(slept_, seconds(1) + seconds(2)) << "doubling delays";
  EXPECT_EQ(sim_->Messages().size(), 1u);
}

TEST_F(SlackTest, GivesUpAfterMaxAttemptsWhenSlackStaysDown) {
  StartSim(R"({"from": 1, "fault": "http", "status": 503})");
  Status s = Client().Post(sim_->webhook_url(), Json{{"text", "hello"}});
  EXPECT_EQ(s.code(), StatusCode::kUnavailable);
  EXPECT_EQ(sim_->requests(), SlackOptions{}.max_attempts);
  EXPECT_TRUE(sim_->Messages().empty());
}

TEST_F(SlackTest, PermanentErrorsAreNotRetried) {
  StartSim();
  const std::string path = "/services/T0001/B0001/sim";
  struct Case {
    std::string state;
    StatusCode code;
    std::string body;
  };
  for (const Case& c : {Case{"deleted", StatusCode::kNotFound, "no_service"},
                        Case{"archived", StatusCode::kPreconditionFailed, "channel_is_archived"},
                        Case{"restricted", StatusCode::kPermissionDenied, "action_prohibited"}}) {
    ASSERT_TRUE(sim_->SetHookState(path, c.state).ok());
    const int64_t before = sim_->requests();
    Status s = Client().Post(sim_->webhook_url(), Json{{"text", "hello"}});
    EXPECT_EQ(s.code(), c.code) << c.state;
    EXPECT_NE(s.message().find(c.body), std::string::npos) << s.message();
    EXPECT_EQ(sim_->requests(), before + 1) << c.state << " was retried";
  }
  EXPECT_EQ(slept_, milliseconds(0));
  EXPECT_TRUE(sim_->Messages().empty());
  ASSERT_TRUE(sim_->SetHookState(path, "active").ok());
  EXPECT_TRUE(Client().Post(sim_->webhook_url(), Json{{"text", "back"}}).ok());
}

TEST_F(SlackTest, ScriptedSlowAnswerHitsTheClientTimeout) {
  StartSim(R"({"request": 1, "fault": "slow", "ms": 1500})");
  SlackOptions options;
  options.timeout = milliseconds(300);
  options.max_attempts = 2;
  SlackClient client(http_, options, [this](milliseconds d) { clock_.Advance(d); });
  // The first attempt times out; the retry is delivered.
  EXPECT_TRUE(client.Post(sim_->webhook_url(), Json{{"text", "hello"}}).ok());
}

}  // namespace
}  // namespace wisp::stackoverflow
