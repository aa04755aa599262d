// Alert rules and the AlertManager: the rules file, the ok -> pending ->
// firing -> ok cycle on a FakeClock, one message per change of state even
// when a delivery fails and is retried, and the shipped rules against the
// Stack Overflow pipeline's actions, the simulators and a FakeClock: a Stack
// Exchange outage fires "NoSuccessfulPoll" and its end resolves it; a Slack
// outage fires "SlackDeliveriesFailing". Messages go to the Slack simulator,
// which records each one it takes.
#include "cli/alerts.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "apps/stackoverflow/actions.h"
#include "apps/stackoverflow/pipeline_metrics.h"
#include "apps/stackoverflow/slack_sim.h"
#include "apps/stackoverflow/stackexchange_sim.h"
#include "testing/temp_dir.h"
#include "whisk/controller.h"
#include "whisk/entity.h"

namespace wisp::cli {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kAlertsPath[] = "/services/TALERTS/BALERTS/alerts";

AlertRule Rule(std::string name, std::string expr, std::string op, double threshold, std::chrono::seconds for_duration) {
  AlertRule rule;
  rule.name = std::move(name);
  rule.expr = std::move(expr);
  rule.op = std::move(op);
  rule.threshold = threshold;
  rule.for_duration = for_duration;
  rule.severity = "critical";
  rule.summary = "a test alert";
  return rule;
}

double Active(const MetricsRegistry& registry, const std::string& alert) {
  for (const MetricSample& s : registry.Samples()) {
    if (s.name == "wisp_alert_active" && s.labels.at("alert") == alert) return s.value;
  }
  return -1;
}

// The texts the Slack simulator took at `path`.
std::vector<std::string> Texts(const stackoverflow::SlackSim& slack, const std::string& path = kAlertsPath) {
  std::vector<std::string> texts;
  for (const stackoverflow::SlackMessage& m : slack.Messages()) {
    if (m.path == path) texts.push_back(json::GetString(m.payload, "text"));
  }
  return texts;
}

std::vector<std::string> Matching(const std::vector<std::string>& texts, const std::string& part) {
  std::vector<std::string> out;
  for (const std::string& t : texts) {
    if (t.find(part) != std::string::npos) out.push_back(t);
  }
  return out;
}

// --- the rules file -----------------------------------------------------------

TEST(AlertRulesTest, ShippedRulesParseAndCoverTheIssuesFourCases) {
  Result<std::vector<AlertRule>> rules = ParseAlertRules(kDefaultAlertRules);
  ASSERT_TRUE(rules.ok()) << rules.status().ToString();
  std::map<std::string, AlertRule> by_name;
  for (const AlertRule& r : *rules) by_name[r.name] = r;
  ASSERT_EQ(by_name.size(), 4u);
  EXPECT_EQ(by_name["ActivationErrorRate"].threshold, 0.05);
  EXPECT_EQ(by_name["ActivationErrorRate"].for_duration, minutes(5));
  EXPECT_EQ(by_name["NoSuccessfulPoll"].threshold, 1800);
  EXPECT_EQ(by_name["StackExchangeQuotaLow"].op, "<");
  EXPECT_EQ(by_name["StackExchangeQuotaLow"].threshold, 0.1);
  EXPECT_EQ(by_name["SlackDeliveriesFailing"].op, ">");
}

TEST(AlertRulesTest, BadRulesFilesSayWhichRuleAndWhy) {
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"rules: 3", "needs `rules:`"},
      {"rules:\n  - name: A\n    expr: x\n    threshold: 1\n    colour: red\n", "unknown field `colour`"},
      {"rules:\n  - name: A\n    expr: x\n", "A: needs a `threshold`"},
      {"rules:\n  - name: A\n    expr: rate(x)\n    threshold: 1\n", "A: alert expression"},
      {"rules:\n  - name: A\n    expr: x\n    threshold: high\n", "must be a number"},
      {"rules:\n  - name: A\n    expr: x\n    threshold: 1\n    for: soon\n", "`for`"},
      {"rules:\n  - name: A\n    expr: x\n    threshold: 1\n    op: '=>'\n", "unknown comparison"},
      {"rules:\n  - {name: A, expr: x, threshold: 1}\n  - {name: A, expr: y, threshold: 1}\n", "used twice"},
      {"rules: [", "not YAML"},
  };
  for (const auto& [text, message] : cases) {
    Result<std::vector<AlertRule>> rules = ParseAlertRules(text);
    ASSERT_FALSE(rules.ok()) << text;
    EXPECT_TRUE(rules.status().IsInvalidArgument()) << text;
    EXPECT_THAT(rules.status().message(), HasSubstr(message)) << text;
  }
}

// --- the manager on a fake clock -------------------------------------------------

class AlertManagerTest : public ::testing::Test {
 protected:
  void StartSlack(const std::string& faults = "") {
    stackoverflow::SlackSimOptions options;
    auto script = stackoverflow::FaultScript::Parse(faults);
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    options.faults = *script;
    slack_ = std::make_unique<stackoverflow::SlackSim>(clock_, options);
    ASSERT_TRUE(slack_->Start().ok());
  }
  std::string AlertsUrl() const { return "http://127.0.0.1:" + std::to_string(slack_->port()) + kAlertsPath; }
  std::unique_ptr<AlertManager> Manager(std::vector<AlertRule> rules, AlertTargets targets) {
    auto manager = AlertManager::Create(std::move(rules), std::move(targets), registry_, clock_, http_);
    EXPECT_TRUE(manager.ok()) << manager.status().ToString();
    return manager.ok() ? std::move(*manager) : nullptr;
  }

  FakeClock clock_;
  MetricsRegistry registry_;
  http::Client http_;
  std::unique_ptr<stackoverflow::SlackSim> slack_;
};

TEST_F(AlertManagerTest, FiresAfterForDurationOnceAndResolvesOnce) {
  StartSlack();
  Gauge& depth = registry_.AddGauge("queue_depth", "Depth.").WithLabels({});
  auto alerts = Manager({Rule("DeepQueue", "queue_depth", ">", 10, minutes(5))}, {.slack_url = AlertsUrl()});
  ASSERT_NE(alerts, nullptr);

  depth.Set(20);
  alerts->Evaluate();  // holds from now: pending
  clock_.Advance(minutes(4));
  alerts->Evaluate();
  EXPECT_TRUE(Texts(*slack_).empty()) << "pending for 4 of 5 minutes";
  EXPECT_EQ(Active(registry_, "DeepQueue"), 0);
  EXPECT_EQ(alerts->State()["alerts"][0]["state"], "ok");

  clock_.Advance(minutes(1));
  alerts->Evaluate();
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(1));
    alerts->Evaluate();  // still firing: nothing new to say
  }
  std::vector<std::string> texts = Texts(*slack_);
  ASSERT_EQ(texts.size(), 1u);
  EXPECT_THAT(texts[0], HasSubstr("DeepQueue is firing"));
  EXPECT_THAT(texts[0], HasSubstr("value 20"));
  EXPECT_EQ(Active(registry_, "DeepQueue"), 1);
  const Json state = alerts->State()["alerts"][0];
  EXPECT_EQ(state["state"], "firing");
  EXPECT_EQ(state["value"], 20);
  EXPECT_EQ(state["threshold"], 10);
  EXPECT_EQ(state["summary"], "a test alert");
  EXPECT_EQ(state["since"], FormatIso8601(clock_.Now() - minutes(5)));

  depth.Set(3);
  alerts->Evaluate();
  alerts->Evaluate();
  texts = Texts(*slack_);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_THAT(texts[1], HasSubstr("DeepQueue resolved"));
  EXPECT_EQ(Active(registry_, "DeepQueue"), 0);
  EXPECT_EQ(alerts->State()["alerts"][0]["state"], "ok");
}

TEST_F(AlertManagerTest, AFailedDeliveryIsRetriedInOrderWithoutDuplicates) {
  // Slack's first two answers are 500s.
  StartSlack(R"({"from": 1, "to": 2, "fault": "http", "status": 500})");
  Gauge& errors = registry_.AddGauge("errors", "Errors.").WithLabels({});
  auto alerts = Manager({Rule("Errors", "errors", ">", 0, std::chrono::seconds(0))},
                        {.slack_url = AlertsUrl(), .webhook_url = slack_->bot_url()});
  ASSERT_NE(alerts, nullptr);

  errors.Set(1);
  alerts->Evaluate();  // fires; Slack refuses, and the webhook after it too
  EXPECT_EQ(alerts->pending_notifications(), 1u + 1u);
  errors.Set(0);
  alerts->Evaluate();  // resolves; both firings are delivered first, then both resolutions
  alerts->Evaluate();
  alerts->Evaluate();
  EXPECT_EQ(alerts->pending_notifications(), 0u);

  const std::vector<std::string> texts = Texts(*slack_);
  ASSERT_EQ(texts.size(), 2u);
  EXPECT_THAT(texts[0], HasSubstr("Errors is firing"));
  EXPECT_THAT(texts[1], HasSubstr("Errors resolved"));
  std::vector<std::string> states;
  for (const stackoverflow::SlackMessage& m : slack_->Messages()) {
    if (m.path.rfind("/bot", 0) == 0) {
      EXPECT_EQ(m.payload["alert"], "Errors");
      states.push_back(json::GetString(m.payload, "state"));
    }
  }
  EXPECT_EQ(states, (std::vector<std::string>{"firing", "resolved"}));
}

TEST_F(AlertManagerTest, AnExpressionWithoutDataDoesNotFire) {
  StartSlack();
  auto alerts = Manager({Rule("Stale", "time() - min(never_set_seconds)", ">", 60, std::chrono::seconds(0))},
                        {.slack_url = AlertsUrl()});
  ASSERT_NE(alerts, nullptr);
  alerts->Evaluate();
  clock_.Advance(minutes(90));
  alerts->Evaluate();
  EXPECT_TRUE(Texts(*slack_).empty());
  EXPECT_TRUE(alerts->State()["alerts"][0]["value"].is_null());
}

// --- the shipped rules against the pipeline and the simulators --------------------

class PipelineAlertsTest : public AlertManagerTest {
 protected:
  void SetUp() override {
    auto store = store::Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    controller_ = std::make_unique<whisk::Controller>(*store_, whisk::ControllerOptions{});
    pipeline_metrics_ = std::make_unique<stackoverflow::PipelineMetrics>(registry_);
    services_ = std::make_unique<stackoverflow::PipelineServices>(stackoverflow::PipelineServices{
        .store = store_.get(),
        .invoke_handler = stackoverflow::InvokeThroughController(
            *controller_, [](const std::string&) -> Result<whisk::Identity> { return Status::NotFound("none"); }),
        .http = http_,
        .clock = clock_,
        .sleep = [this](milliseconds d) { clock_.Advance(d); },
        .slack_sleep = [](milliseconds) {},
        .metrics = pipeline_metrics_.get()});
  }

  void StartSims(const std::string& se_faults, const std::string& slack_faults = "") {
    stackoverflow::StackExchangeSimOptions se;
    se.initial_questions = 40;  // one page a poll
    se.event_interval = std::chrono::hours(24);
    auto script = stackoverflow::FaultScript::Parse(se_faults);
    ASSERT_TRUE(script.ok()) << script.status().ToString();
    se.faults = *script;
    se_ = std::make_unique<stackoverflow::StackExchangeSim>(clock_, se);
    ASSERT_TRUE(se_->Start().ok());
    StartSlack(slack_faults);
    Result<std::vector<AlertRule>> rules = ParseAlertRules(kDefaultAlertRules);
    ASSERT_TRUE(rules.ok());
    alerts_ = Manager(std::move(*rules), {.slack_url = AlertsUrl()});
    ASSERT_NE(alerts_, nullptr);
  }

  Json Params() const {
    Json args = whisk::KeyValuesToObject(stackoverflow::PackageParameters());
    args["api_url"] = se_->base_url();
    args["apikey"] = "test-key";
    args["slackURL"] = slack_->webhook_url();
    args["tags"] = Json::array({"python", "javascript"});
    return args;
  }
  bool Poll() { return !stackoverflow::Collect(*services_, Params(), logs_).contains("error"); }
  std::string State(const std::string& alert) const {
    const Json state = alerts_->State();
    for (const Json& a : state["alerts"]) {
      if (a["name"] == alert) return a["state"];
    }
    return "missing";
  }

  testing::TempDir dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<whisk::Controller> controller_;
  std::unique_ptr<stackoverflow::PipelineMetrics> pipeline_metrics_;
  std::unique_ptr<stackoverflow::PipelineServices> services_;
  std::unique_ptr<stackoverflow::StackExchangeSim> se_;
  std::unique_ptr<AlertManager> alerts_;
  std::vector<std::string> logs_;
};

TEST_F(PipelineAlertsTest, StackExchangeOutageFiresNoSuccessfulPollAndItsEndResolvesIt) {
  // The first request answers; requests 2 to 60 are 503 pages (the client
  // tries each poll 4 times), so polls fail for well over 30 minutes.
  StartSims(R"({"from": 2, "to": 60, "fault": "http", "status": 503})");
  ASSERT_TRUE(Poll()) << ::testing::PrintToString(logs_);
  const Clock::WallTime last_success = clock_.Now();
  alerts_->Evaluate();
  EXPECT_EQ(State("NoSuccessfulPoll"), "ok");

  std::optional<Clock::WallTime> fired, resolved;
  for (int round = 0; round < 40 && !resolved; ++round) {
    clock_.Advance(minutes(5));
    const bool ok = Poll();
    alerts_->Evaluate();
    if (!fired && State("NoSuccessfulPoll") == "firing") {
      EXPECT_FALSE(ok);
      fired = clock_.Now();
    }
    if (fired && ok) {
      EXPECT_EQ(State("NoSuccessfulPoll"), "ok") << "a successful poll resolves the alert at once";
      resolved = clock_.Now();
    }
  }
  ASSERT_TRUE(fired.has_value()) << "the alert never fired";
  ASSERT_TRUE(resolved.has_value()) << "the alert never resolved";
  EXPECT_GT(*fired - last_success, minutes(30));
  EXPECT_LE(*fired - last_success, minutes(30) + minutes(5) + minutes(1)) << "fired at the first round past 30 min";

  // One firing and one resolution arrived, nothing else about it.
  const std::vector<std::string> texts = Matching(Texts(*slack_), "NoSuccessfulPoll");
  ASSERT_EQ(texts.size(), 2u) << ::testing::PrintToString(texts);
  EXPECT_THAT(texts[0], HasSubstr("NoSuccessfulPoll is firing"));
  EXPECT_THAT(texts[1], HasSubstr("NoSuccessfulPoll resolved"));
  EXPECT_EQ(Active(registry_, "NoSuccessfulPoll"), 0);
  // The quota is plentiful with a key, and nothing else fired.
  EXPECT_EQ(Texts(*slack_).size(), 2u) << ::testing::PrintToString(Texts(*slack_));
}

TEST_F(PipelineAlertsTest, SlackOutageFiresSlackDeliveriesFailingOnce) {
  StartSims("");
  alerts_->Evaluate();  // the baseline: no failure yet
  const Json polled = stackoverflow::Collect(*services_, Params(), logs_);
  ASSERT_FALSE(polled.contains("error")) << polled.dump();
  ASSERT_GE(polled["items"].size(), 2u);

  // The pipeline's webhook is gone (404 no_service); the alerts' hook still works.
  const std::string hook_path = slack_->webhook_url().substr(slack_->webhook_url().find("/services/"));
  ASSERT_TRUE(slack_->SetHookState(hook_path, "deleted").ok());
  auto notify = [&](const Json& question) {
    Json args = Params();
    args["question"] = question;
    const Json stored = stackoverflow::StoreQuestion(*services_, args, logs_);
    for (const auto& [k, v] : stored.items()) args[k] = v;
    return stackoverflow::NotifyNewQuestion(*services_, args, logs_);
  };
  EXPECT_TRUE(notify(polled["items"][0]).contains("error"));
  clock_.Advance(minutes(1));
  alerts_->Evaluate();
  EXPECT_EQ(State("SlackDeliveriesFailing"), "firing");
  EXPECT_EQ(Active(registry_, "SlackDeliveriesFailing"), 1);
  EXPECT_TRUE(notify(polled["items"][1]).contains("error"));
  for (int i = 0; i < 5; ++i) {
    clock_.Advance(minutes(1));
    alerts_->Evaluate();  // still failing: no second message
  }

  // Slack is back; the questions that owe their message get it, and once the
  // failures leave the 15-minute window the alert resolves.
  ASSERT_TRUE(slack_->SetHookState(hook_path, "active").ok());
  EXPECT_EQ(notify(polled["items"][0])["notified"], true);
  EXPECT_EQ(notify(polled["items"][1])["notified"], true);
  for (int i = 0; i < 16; ++i) {
    clock_.Advance(minutes(1));
    alerts_->Evaluate();
  }
  EXPECT_EQ(State("SlackDeliveriesFailing"), "ok");

  const std::vector<std::string> texts = Texts(*slack_);
  ASSERT_EQ(texts.size(), 2u) << ::testing::PrintToString(texts);
  EXPECT_THAT(texts[0], StartsWith(":rotating_light: [critical] SlackDeliveriesFailing is firing"));
  EXPECT_THAT(texts[1], HasSubstr("SlackDeliveriesFailing resolved"));
  // The pipeline's own messages: one per question, after the outage.
  EXPECT_EQ(Texts(*slack_, hook_path).size(), 2u);
}

}  // namespace
}  // namespace wisp::cli
