// The Stack Overflow pipeline: the four actions of /whisk.system/stackoverflow
// one by one, then end to end through the controller, deployed as the
// manifest deploys it (a binding `so` with inputs, the sequences
// stackoverflow/socron = [so/collector, so/invoker] and stackoverflow/qhandler
// = [so/storer, so/notifier]), against the Stack Exchange and Slack simulators
// on loopback ports and the embedded store in a temporary directory. The
// simulators and the clients' waits share a FakeClock: a 10 s backoff costs
// no real time, and the world only changes when the test moves the clock.
#include <gtest/gtest.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "apps/stackoverflow/actions.h"
#include "apps/stackoverflow/slack_sim.h"
#include "apps/stackoverflow/stackexchange_sim.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "testing/http_test_server.h"
#include "testing/temp_dir.h"
#include "whisk/builtin_runtime.h"
#include "whisk/controller.h"

namespace wisp::stackoverflow {
namespace {

using std::chrono::milliseconds;
using std::chrono::minutes;
using whisk::EntityName;

const std::vector<std::string> kTags = {"javascript", "python"};

class PipelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    auto store = store::Store::Open(dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    store_ = std::move(*store);
    ASSERT_TRUE(identities_.Add("guest", "guest", whisk::kDevGuestCredential).ok());
    ASSERT_TRUE(identities_.Add("whisk.system", "whisk.system", whisk::kDevSystemCredential).ok());
    guest_ = *identities_.Find("guest");

    whisk::ControllerOptions options;
    // Every item is one activation: the test namespace may run thousands a minute.
    options.invocations_per_minute = 1'000'000;
    options.concurrent_invocations = 1'000;
    controller_ = std::make_unique<whisk::Controller>(*store_, options);
    services_ = std::make_unique<PipelineServices>(
        PipelineServices{.store = store_.get(),
                         .invoke_handler = InvokeThroughController(
                             *controller_, [this](const std::string& ns) { return identities_.Find(ns); }),
                         .http = http_,
                         .clock = clock_,
                         .sleep = [this](milliseconds d) { clock_.Advance(d); },
                         // The Slack simulator does not enforce Retry-After: no time needs to pass.
                         .slack_sleep = [](milliseconds) {}});
    // A handler that measures how many of its activations run at once.
    builtin_.Register("probe", [this](const Json& args, whisk::BuiltinContext&) {
      const int now = ++probe_in_flight_;
      for (int seen = probe_max_in_flight_; now > seen && !probe_max_in_flight_.compare_exchange_weak(seen, now);) {
      }
      std::this_thread::sleep_for(milliseconds(20));
      --probe_in_flight_;
      if (args["question"].value("fail", false)) return Json{{"error", "probe: told to fail"}};
      return Json{{"id", std::to_string(args["question"].value("question_id", 0))}, {"status", "new"}};
    });
    controller_->SetBuiltinNames({"probe"});  // installed as /whisk.system/utils/probe
    InstallStackoverflowCatalog(builtin_, *controller_, *services_);
    controller_->SetRuntime("builtin", &builtin_);
    ASSERT_TRUE(controller_->Start().ok());
  }

  void TearDown() override {
    controller_->Drain();
    controller_.reset();
    couch_.reset();
  }

  // The simulators; `questions` in the initial world, world events every
  // `event_interval` of clock time (a day: none unless the test injects).
  void StartSims(const std::string& se_script = "", const std::string& slack_script = "", int questions = 300,
                 std::chrono::seconds event_interval = std::chrono::seconds(30)) {
    StackExchangeSimOptions se;
    se.initial_questions = questions;
    se.event_interval = event_interval;
    auto se_faults = FaultScript::Parse(se_script);
    ASSERT_TRUE(se_faults.ok()) << se_faults.status().ToString();
    se.faults = *se_faults;
    se_ = std::make_unique<StackExchangeSim>(clock_, se);
    ASSERT_TRUE(se_->Start().ok());
    SlackSimOptions slack;
    auto slack_faults = FaultScript::Parse(slack_script);
    ASSERT_TRUE(slack_faults.ok()) << slack_faults.status().ToString();
    slack.faults = *slack_faults;
    slack_ = std::make_unique<SlackSim>(clock_, slack);
    ASSERT_TRUE(slack_->Start().ok());
  }

  // A CouchDB (wisp's own CouchDB API over a second store) on a loopback port.
  void StartRemoteCouch() {
    auto store = store::Store::Open(remote_dir_.path());
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    remote_store_ = std::move(*store);
    auto router = std::make_shared<http::Router>();
    store::CouchApiOptions options;
    options.admin_name = "admin";
    options.admin_password = "s3cret";
    store::AddCouchRoutes(*router, *remote_store_, options);
    http::ListenerOptions listener;
    listener.name = "couch";
    listener.router = router;
    listener.render_error = store::RenderCouchError;
    couch_ = std::make_unique<testing::TestServer>(std::move(listener));
  }
  Json RemoteInputs() const {
    return Json{{"store_url", couch_->base_url()}, {"store_username", "admin"}, {"store_password", "s3cret"}};
  }

  // The package parameters a binding would give, as an args object.
  Json Params() const {
    Json args = whisk::KeyValuesToObject(PackageParameters());
    args["api_url"] = se_->base_url();
    args["apikey"] = "test-key";
    args["slackURL"] = slack_->webhook_url();
    return args;
  }

  // What `wisp deploy` makes of the manifest.
  void Deploy(Json inputs = Json::object()) {
    Json parameters = Json::array({{{"key", "api_url"}, {"value", se_->base_url()}},
                                   {{"key", "apikey"}, {"value", "test-key"}},
                                   {{"key", "slackURL"}, {"value", slack_->webhook_url()}},
                                   {{"key", "dbname"}, {"value", "questions"}}});
    for (const auto& [k, v] : inputs.items()) parameters.push_back({{"key", k}, {"value", v}});
    Json binding = {{"binding", {{"namespace", "whisk.system"}, {"name", "stackoverflow"}}},
                    {"parameters", parameters}};
    ASSERT_TRUE(controller_->PutPackage(guest_, "guest", "so", binding, false).ok());
    ASSERT_TRUE(controller_->PutPackage(guest_, "guest", "stackoverflow", Json::object(), false).ok());
    const auto sequence = [&](const std::string& name, const std::vector<std::string>& components) {
      Json exec = {{"exec", {{"kind", "sequence"}, {"components", components}}}};
      auto put = controller_->PutAction(guest_, EntityName{"guest", "stackoverflow", name}, exec, false);
      ASSERT_TRUE(put.ok()) << put.status().ToString();
    };
    sequence("socron", {"/_/so/collector", "/_/so/invoker"});
    sequence("qhandler", {"/_/so/storer", "/_/so/notifier"});
  }

  // One poll, as the cron's rule starts it: socron with the trigger payload.
  // The invoker's result, or the error when the poll failed.
  Json Poll(const std::vector<std::string>& tags = kTags, const std::string& type = "or") {
    whisk::InvokeOptions options;
    options.blocking = true;
    options.result_only = true;
    options.wait = milliseconds(120'000);
    auto reply = controller_->Invoke(guest_, EntityName{"guest", "stackoverflow", "socron"},
                                     Json{{"tags", tags}, {"search_type", type}}, options);
    EXPECT_TRUE(reply.ok()) << reply.status().ToString();
    if (!reply.ok()) return Json{{"error", reply.status().ToString()}};
    EXPECT_NE(reply->status, 202) << "the poll did not end in time";
    return reply->body;
  }

  // Polls until one moves the watermark with no failed item (as the cron
  // would keep polling); at most `max_polls`. Returns the polls that were not.
  int PollUntilClean(int max_polls = 8) {
    for (int i = 0; i < max_polls; ++i) {
      const Json result = Poll();
      if (!result.contains("error") && result["failed"] == 0 && result["watermark"]["advanced"] == true) return i;
    }
    ADD_FAILURE() << "no clean poll in " << max_polls;
    return max_polls;
  }

  std::shared_ptr<store::Database> Db() {
    auto db = (remote_store_ ? remote_store_ : store_)->GetDatabase("questions");
    EXPECT_TRUE(db.ok()) << db.status().ToString();
    return db.ok() ? *db : nullptr;
  }
  Json Doc(const std::string& id) {
    auto doc = Db()->Get(id, {});
    EXPECT_TRUE(doc.ok()) << id << ": " << doc.status().ToString();
    return doc.ok() ? *doc : Json();
  }
  // Every question document, by id.
  std::map<std::string, Json> Docs() {
    std::map<std::string, Json> docs;
    store::AllDocsOptions options;
    options.include_docs = true;
    Json all = Db()->AllDocs(options);
    for (const Json& row : all["rows"]) {
      if (row["doc"].value("type", "") == "question") docs[row["id"].get<std::string>()] = row["doc"];
    }
    return docs;
  }
  static bool HasAnyTag(const Json& q, const std::vector<std::string>& tags) {
    for (const Json& t : q["tags"]) {
      if (std::find(tags.begin(), tags.end(), t.get<std::string>()) != tags.end()) return true;
    }
    return false;
  }
  static Json SortedTags(Json q) {
    std::sort(q["tags"].begin(), q["tags"].end());
    return q;
  }
  // Question ids of the Slack messages, in the order received.
  std::vector<std::string> NotifiedIds() {
    std::vector<std::string> ids;
    static const std::regex link("/questions/([0-9]+)");
    for (const SlackMessage& m : slack_->Messages()) {
      if (m.path.rfind("/services/", 0) != 0) continue;  // the bot's copy is not a Slack message
      std::smatch match;
      const std::string text = m.payload.value("text", "");
      if (std::regex_search(text, match, link)) ids.push_back(match[1]);
    }
    return ids;
  }

  // The end state every run must reach: each live question on the tags is
  // stored at its latest version (deleted ones stay, as DESIGN keeps them),
  // and Slack heard about each stored question exactly once.
  void ExpectFinalState() {
    const std::map<std::string, Json> docs = Docs();
    size_t live = 0;
    for (const Json& truth : se_->Truth()) {
      if (!HasAnyTag(truth, kTags)) continue;
      ++live;
      const std::string id = std::to_string(truth["question_id"].get<int64_t>());
      auto doc = docs.find(id);
      ASSERT_NE(doc, docs.end()) << "question " << id << " was never stored";
      EXPECT_EQ(doc->second["question"], SortedTags(truth)) << "question " << id << " is not at its latest version";
    }
    EXPECT_GT(live, 50u);
    EXPECT_GE(docs.size(), live);
    std::vector<std::string> notified = NotifiedIds();
    std::multiset<std::string> counted(notified.begin(), notified.end());
    for (const auto& [id, doc] : docs) {
      EXPECT_EQ(counted.count(id), 1u) << "question " << id << " messages";
      EXPECT_TRUE(doc.contains("notified_at")) << id;
    }
    EXPECT_EQ(notified.size(), docs.size());
    const Status integrity = Db()->CheckIntegrity();
    EXPECT_TRUE(integrity.ok()) << integrity.ToString();
  }

  // Writes `fields` onto the stored document, as the dashboard would.
  void Triage(const std::string& id, const Json& fields) {
    Json doc = Doc(id);
    for (const auto& [k, v] : fields.items()) doc[k] = v;
    ASSERT_TRUE(Db()->Put(doc).status.ok());
  }

  testing::TempDir dir_;
  FakeClock clock_;
  http::Client http_;
  whisk::Identities identities_;
  whisk::Identity guest_;
  std::unique_ptr<store::Store> store_;
  // A second store behind the CouchDB API, for `store_url` (when set, the
  // questions are expected there).
  testing::TempDir remote_dir_;
  std::unique_ptr<store::Store> remote_store_;
  std::unique_ptr<testing::TestServer> couch_;
  whisk::BuiltinRuntime builtin_;
  std::unique_ptr<StackExchangeSim> se_;
  std::unique_ptr<SlackSim> slack_;
  std::unique_ptr<PipelineServices> services_;
  std::unique_ptr<whisk::Controller> controller_;  // last: it stops before what its actions use
  std::vector<std::string> logs_;
  std::atomic<int> probe_in_flight_{0};
  std::atomic<int> probe_max_in_flight_{0};
};

// --- the package --------------------------------------------------------------

TEST_F(PipelineTest, PackageIsPublishedWithTheContractsParameters) {
  auto package = controller_->GetPackage(guest_, "whisk.system", "stackoverflow");
  ASSERT_TRUE(package.ok()) << package.status().ToString();
  EXPECT_EQ((*package)["publish"], true);
  const Json params = whisk::KeyValuesToObject((*package)["parameters"]);
  EXPECT_EQ(params["dbname"], "questions");
  EXPECT_EQ(params["site"], "stackoverflow");
  EXPECT_EQ(params["api_url"], "https://api.stackexchange.com/2.3");
  EXPECT_EQ(params["handler"], "stackoverflow/qhandler");
  EXPECT_EQ(params["concurrency"], 8);
  for (const std::string& key : {"apikey", "slackURL", "botURL", "store_url", "store_username", "store_password"}) {
    EXPECT_EQ(params[key], "") << key;
  }
  std::set<std::string> actions;
  for (const Json& a : (*package)["actions"]) actions.insert(a["name"].get<std::string>());
  EXPECT_EQ(actions, (std::set<std::string>{"collector", "invoker", "storer", "notifier"}));
}

// --- storer -------------------------------------------------------------------

TEST_F(PipelineTest, StorerCreatesANewQuestionWithSortedTagsAndEmptyTriage) {
  StartSims();
  Json question = se_->Truth().front();
  std::reverse(question["tags"].begin(), question["tags"].end());
  Json args = Params();
  args["question"] = question;
  const Json out = StoreQuestion(*services_, args, logs_);
  const std::string id = std::to_string(question["question_id"].get<int64_t>());
  EXPECT_EQ(out["id"], id);
  EXPECT_EQ(out["status"], "new");
  EXPECT_EQ(out["notify"], true);
  const Json doc = Doc(id);
  EXPECT_EQ(doc["type"], "question");
  EXPECT_EQ(doc["status"], "new");
  EXPECT_TRUE(doc["owner"].is_null());
  EXPECT_EQ(doc["notes"], Json::array());
  EXPECT_EQ(doc["custom_tags"], Json::array());
  EXPECT_EQ(doc["question"], SortedTags(se_->Truth().front()));
  EXPECT_FALSE(doc.contains("notified_at"));
}

TEST_F(PipelineTest, StorerUpdatesKeepingTriageFieldsAndSkipsWhatIsNotNewer) {
  StartSims();
  const Json original = se_->Truth().back();  // the least recent activity
  const int64_t qid = original["question_id"].get<int64_t>();
  const std::string id = std::to_string(qid);
  Json args = Params();
  args["question"] = original;
  ASSERT_EQ(StoreQuestion(*services_, args, logs_)["status"], "new");
  const Json triage = {{"owner", "ada"},
                       {"assigned_at", 1700000100},
                       {"assigned_by", "grace"},
                       {"answered", true},
                       {"notes", Json::array({{{"text", "looks like a bug"}}})},
                       {"custom_tags", Json::array({"p1"})},
                       {"notified_at", "2023-11-14T22:13:20.000Z"}};
  Triage(id, triage);

  clock_.Advance(minutes(5));
  auto edited = se_->Inject("edit", qid);
  ASSERT_TRUE(edited.ok()) << edited.status().ToString();
  args["question"] = *edited;
  const Json out = StoreQuestion(*services_, args, logs_);
  EXPECT_EQ(out["status"], "updated");
  EXPECT_EQ(out["notify"], false);
  Json doc = Doc(id);
  EXPECT_EQ(doc["status"], "updated");
  EXPECT_EQ(doc["question"], SortedTags(*edited));
  for (const auto& [k, v] : triage.items()) EXPECT_EQ(doc[k], v) << k;

  // The older version again (an overlapping window): skipped, nothing written.
  const std::string rev = doc["_rev"];
  args["question"] = original;
  EXPECT_EQ(StoreQuestion(*services_, args, logs_)["status"], "skipped");
  args["question"] = *edited;
  EXPECT_EQ(StoreQuestion(*services_, args, logs_)["status"], "skipped");
  EXPECT_EQ(Doc(id)["_rev"], rev);
}

TEST_F(PipelineTest, StorerRetriesConflictsAndKeepsConcurrentTriage) {
  StartSims();
  const Json base = se_->Truth().front();
  const std::string id = std::to_string(base["question_id"].get<int64_t>());
  Json args = Params();
  args["question"] = base;
  ASSERT_EQ(StoreQuestion(*services_, args, logs_)["status"], "new");

  // Storers with ever newer versions race a user who keeps editing notes.
  constexpr int kVersions = 40;
  std::atomic<bool> stop{false};
  std::atomic<int> user_writes{0};
  std::thread user([&] {
    while (!stop) {
      auto doc = Db()->Get(id, {});
      if (!doc.ok()) continue;
      (*doc)["notes"].push_back({{"text", "note"}});
      if (Db()->Put(*doc).status.ok()) ++user_writes;
    }
  });
  std::vector<std::thread> storers;
  std::atomic<int> failures{0};
  for (int v = 1; v <= kVersions; ++v) {
    storers.emplace_back([&, v] {
      Json a = args;
      a["question"]["last_activity_date"] = base["last_activity_date"].get<int64_t>() + v;
      std::vector<std::string> logs;
      if (StoreQuestion(*services_, a, logs).contains("error")) ++failures;
    });
  }
  for (std::thread& t : storers) t.join();
  stop = true;
  user.join();
  EXPECT_EQ(failures, 0);
  const Json doc = Doc(id);
  EXPECT_EQ(doc["question"]["last_activity_date"], base["last_activity_date"].get<int64_t>() + kVersions);
  EXPECT_EQ(doc["notes"].size(), static_cast<size_t>(user_writes.load())) << "no user write was lost";
}

TEST_F(PipelineTest, StorerRejectsAQuestionWithoutId) {
  StartSims();
  Json args = Params();
  args["question"] = {{"title", "no id"}};
  const Json out = StoreQuestion(*services_, args, logs_);
  ASSERT_TRUE(out.contains("error"));
  EXPECT_NE(out["error"].get<std::string>().find("question_id"), std::string::npos);
  EXPECT_TRUE(StoreQuestion(*services_, Params(), logs_).contains("error"));
}

// --- notifier -----------------------------------------------------------------

TEST_F(PipelineTest, NotifierPostsOnceAndRecordsNotifiedAt) {
  StartSims();
  Json args = Params();
  args["botURL"] = slack_->bot_url();
  args["question"] = se_->Truth().front();
  Json stored = StoreQuestion(*services_, args, logs_);
  for (const auto& [k, v] : stored.items()) args[k] = v;
  const Json first = NotifyNewQuestion(*services_, args, logs_);
  EXPECT_EQ(first["notified"], true) << first.dump();
  const Json doc = Doc(stored["id"]);
  EXPECT_EQ(doc["notified_at"], first["notified_at"]);

  // The same question again (a retried activation, an overlapping poll).
  const Json again = NotifyNewQuestion(*services_, args, logs_);
  EXPECT_EQ(again["notified"], false);
  EXPECT_EQ(again["reason"], "already notified");
  stored = StoreQuestion(*services_, args, logs_);
  EXPECT_EQ(stored["status"], "skipped");
  EXPECT_EQ(stored["notify"], false);

  const std::vector<SlackMessage> messages = slack_->Messages();
  ASSERT_EQ(messages.size(), 2u);  // the webhook and the bot
  EXPECT_EQ(NotifiedIds(), std::vector<std::string>{stored["id"].get<std::string>()});
  const SlackMessage& bot = messages[0].path.rfind("/bot", 0) == 0 ? messages[0] : messages[1];
  EXPECT_EQ(bot.payload["type"], "new-question");
  EXPECT_EQ(bot.payload["data"]["question_id"], args["question"]["question_id"]);
}

// Two searches whose tags overlap, or a poll that overlaps a slow one, run
// the notifier of one question at the same time: Slack still hears once.
TEST_F(PipelineTest, ConcurrentNotifiersOfOneQuestionPostOnce) {
  // Slack is slow on the first message, so the others arrive while it is out.
  StartSims("", R"({"request": 1, "fault": "slow", "ms": 300})");
  Json args = Params();
  args["question"] = se_->Truth().front();
  const Json stored = StoreQuestion(*services_, args, logs_);
  for (const auto& [k, v] : stored.items()) args[k] = v;
  ASSERT_EQ(args["notify"], true);

  constexpr int kNotifiers = 6;
  std::vector<Json> results(kNotifiers);
  std::vector<std::vector<std::string>> logs(kNotifiers);
  std::vector<std::thread> threads;
  for (int i = 0; i < kNotifiers; ++i) {
    threads.emplace_back([&, i] { results[i] = NotifyNewQuestion(*services_, args, logs[i]); });
  }
  for (std::thread& t : threads) t.join();

  int sent = 0;
  for (const Json& r : results) {
    EXPECT_FALSE(r.contains("error")) << r.dump();
    if (r.value("notified", false)) ++sent;
  }
  EXPECT_EQ(sent, 1);
  EXPECT_EQ(NotifiedIds(), std::vector<std::string>{stored["id"].get<std::string>()});
  const Json doc = Doc(stored["id"]);
  EXPECT_TRUE(doc.contains("notified_at"));
}

TEST_F(PipelineTest, NotifierSkipsUpdatesAndRunsWithoutSlack) {
  StartSims();
  Json args = Params();
  args["id"] = "1";
  args["status"] = "updated";
  args["notify"] = false;
  EXPECT_EQ(NotifyNewQuestion(*services_, args, logs_)["notified"], false);
  args["notify"] = true;
  args["slackURL"] = "";
  const Json out = NotifyNewQuestion(*services_, args, logs_);
  EXPECT_EQ(out["notified"], false);
  EXPECT_EQ(out["reason"], "no slackURL configured");
  EXPECT_EQ(slack_->requests(), 0);
}

TEST_F(PipelineTest, PermanentSlackErrorIsAnApplicationErrorWithoutRetries) {
  StartSims();
  ASSERT_TRUE(slack_->SetHookState("/services/T0001/B0001/sim", "deleted").ok());
  Json args = Params();
  args["question"] = se_->Truth().front();
  const Json stored = StoreQuestion(*services_, args, logs_);
  for (const auto& [k, v] : stored.items()) args[k] = v;
  std::vector<std::string> logs;
  const Json out = NotifyNewQuestion(*services_, args, logs);
  ASSERT_TRUE(out.contains("error"));
  EXPECT_NE(out["error"].get<std::string>().find("no_service"), std::string::npos) << out.dump();
  ASSERT_FALSE(logs.empty());
  EXPECT_NE(logs.back().find("no_service"), std::string::npos);
  EXPECT_EQ(slack_->requests(), 1) << "a 404 is not retried";
  EXPECT_FALSE(Doc(stored["id"]).contains("notified_at"));
  // The question still owes its message: the next poll's storer says so.
  EXPECT_EQ(StoreQuestion(*services_, args, logs_)["notify"], true);
}

// --- collector ----------------------------------------------------------------

TEST_F(PipelineTest, CollectorReturnsTheWindowsItemsAndTheWatermarkToBe) {
  StartSims();
  Json args = Params();
  args["tags"] = kTags;
  args["search_type"] = "or";
  const Json out = Collect(*services_, args, logs_);
  ASSERT_FALSE(out.contains("error")) << out.dump();
  size_t expected = 0;
  for (const Json& q : se_->Truth()) expected += HasAnyTag(q, kTags);
  EXPECT_EQ(out["items"].size(), expected);
  EXPECT_EQ(out["complete"], true);
  const int64_t now = std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
  EXPECT_EQ(out["watermark"]["value"], now);
  EXPECT_EQ(out["watermark"]["name"], WatermarkName("stackoverflow", "or", {"python", "javascript"}));
  EXPECT_EQ(out["window"]["max"], now);

  // Bad payloads are application errors with a readable reason.
  args["tags"] = Json::array();
  EXPECT_NE(Collect(*services_, args, logs_)["error"].get<std::string>().find("tags"), std::string::npos);
  args["tags"] = kTags;
  args["search_type"] = "xor";
  EXPECT_TRUE(Collect(*services_, args, logs_).contains("error"));
}

TEST_F(PipelineTest, ApiErrorIsAnApplicationErrorWithTheReasonInTheLogs) {
  StartSims(R"({"from": 1, "fault": "error", "error_id": 400, "message": "site is invalid"})");
  Deploy();
  whisk::InvokeOptions options;
  options.blocking = true;
  auto reply = controller_->Invoke(guest_, EntityName{"guest", "so", "collector"},
                                   Json{{"tags", kTags}, {"search_type", "or"}}, options);
  ASSERT_TRUE(reply.ok()) << reply.status().ToString();
  EXPECT_EQ(reply->status, 502);
  auto record = controller_->GetActivation(guest_, "guest", reply->activation_id);
  ASSERT_TRUE(record.ok());
  EXPECT_EQ((*record)["response"]["statusCode"], 1);  // application error
  EXPECT_NE((*record)["response"]["result"]["error"].get<std::string>().find("bad_parameter"), std::string::npos);
  EXPECT_NE(json::Dump((*record)["logs"]).find("site is invalid"), std::string::npos);
}

// --- invoker ------------------------------------------------------------------

TEST_F(PipelineTest, InvokerBoundsTheActivationsInFlightAndRecordsEachOne) {
  StartSims();
  Json args = Params();
  args["handler"] = "/whisk.system/utils/probe";
  args["concurrency"] = 4;
  args["items"] = Json::array();
  for (int i = 1; i <= 40; ++i) args["items"].push_back({{"question_id", i}});
  args["watermark"] = {{"name", "so-watermark:test"}, {"value", 1700000000}};
  const Json out = InvokeHandlers(*services_, "guest", "trace-invoker", args, logs_);
  EXPECT_EQ(out["invoked"], 40);
  EXPECT_EQ(out["new"], 40);
  EXPECT_EQ(out["failed"], 0);
  EXPECT_EQ(probe_max_in_flight_, 4) << "never more than `concurrency`, and that many when there is work";
  std::set<std::string> ids;
  for (const Json& id : out["activation_ids"]) {
    ids.insert(id.get<std::string>());
    auto record = controller_->GetActivation(guest_, "guest", id.get<std::string>());
    ASSERT_TRUE(record.ok()) << "each item has its own activation record";
    EXPECT_EQ((*record)["name"], "probe");
    EXPECT_EQ((*record)["trace_id"], "trace-invoker");
  }
  EXPECT_EQ(ids.size(), 40u);
  EXPECT_EQ(out["watermark"]["advanced"], true);
  auto stored = Db()->GetLocal("_local/so-watermark:test");
  ASSERT_TRUE(stored.ok()) << stored.status().ToString();
  EXPECT_EQ((*stored)["watermark"], 1700000000);
}

TEST_F(PipelineTest, InvokerKeepsTheWatermarkWhenAnItemFails) {
  StartSims();
  Json args = Params();
  args["handler"] = "/whisk.system/utils/probe";
  args["items"] = Json::array({{{"question_id", 1}}, {{"question_id", 2}, {"fail", true}}, {{"question_id", 3}}});
  args["watermark"] = {{"name", "so-watermark:test"}, {"value", 1700000000}};
  const Json out = InvokeHandlers(*services_, "guest", "", args, logs_);
  EXPECT_EQ(out["new"], 2);
  EXPECT_EQ(out["failed"], 1);
  EXPECT_EQ(out["watermark"]["advanced"], false);
  EXPECT_NE(out["watermark"]["reason"].get<std::string>().find("1 of 3 items failed"), std::string::npos);
  ASSERT_EQ(out["failures"].size(), 1u);
  EXPECT_EQ(out["failures"][0]["question_id"], 2);
  EXPECT_NE(out["failures"][0]["error"].get<std::string>().find("told to fail"), std::string::npos);
  auto db = store_->GetDatabase("questions");
  EXPECT_TRUE(!db.ok() || !(*db)->GetLocal("_local/so-watermark:test").ok()) << "the watermark did not move";

  // A handler that does not exist fails every item, visibly.
  args["handler"] = "stackoverflow/nothing";
  EXPECT_EQ(InvokeHandlers(*services_, "guest", "", args, logs_)["failed"], 3);
}

// --- end to end ---------------------------------------------------------------

TEST_F(PipelineTest, FivePollsKeepTheDatabaseEqualToTheWorld) {
  StartSims();
  Deploy();
  std::string triaged;  // a question a user works on between polls
  const Json triage = {{"owner", "ada"}, {"notes", Json::array({{{"text", "asked the author"}}})}};
  for (int poll = 1; poll <= 5; ++poll) {
    const Json result = Poll();
    ASSERT_FALSE(result.contains("error")) << result.dump();
    EXPECT_EQ(result["failed"], 0);
    EXPECT_EQ(result["watermark"]["advanced"], true);
    EXPECT_EQ(result["invoked"].get<int64_t>(),
              result["new"].get<int64_t>() + result["updated"].get<int64_t>() + result["skipped"].get<int64_t>());
    if (poll == 1) {
      EXPECT_GT(result["new"].get<int64_t>(), 50);
      // Every item has its own activation record, caused by no sequence of the poll's.
      const std::string one = result["activation_ids"][0];
      auto record = controller_->GetActivation(guest_, "guest", one);
      ASSERT_TRUE(record.ok());
      EXPECT_EQ((*record)["name"], "qhandler");
      EXPECT_EQ((*record)["response"]["statusCode"], 0);
    }
    if (poll == 2) {
      triaged = Docs().begin()->first;
      Triage(triaged, triage);
    }
    // Activity between polls: the world's own events, plus chosen ones.
    clock_.Advance(minutes(10));
    for (const char* kind : {"new", "new", "answer", "accept", "close", "edit", "delete"}) {
      ASSERT_TRUE(se_->Inject(kind).ok()) << kind;
    }
    if (poll == 3) ASSERT_TRUE(se_->Inject("edit", std::stoll(triaged)).ok());
  }
  // The last activity is fetched by one more poll, as the next cron tick would.
  const Json last = Poll();
  EXPECT_EQ(last["failed"], 0);
  ExpectFinalState();
  const Json doc = Doc(triaged);
  EXPECT_EQ(doc["status"], "updated");
  EXPECT_EQ(doc["owner"], "ada");
  EXPECT_EQ(doc["notes"], triage["notes"]);
}

TEST_F(PipelineTest, ABacklogLargerThanOnePollIsReadOverSeveralPolls) {
  StartSims();
  Deploy({{"max_pages", 1}});
  int polls = 0;
  int64_t invoked = 0;
  for (bool complete = false; !complete && polls < 10; ++polls) {
    const Json result = Poll();
    ASSERT_EQ(result["failed"], 0) << result.dump();
    EXPECT_EQ(result["watermark"]["advanced"], true);
    EXPECT_LE(result["invoked"].get<int64_t>(), 100);
    invoked += result["invoked"].get<int64_t>();
    complete = result["complete"];
  }
  EXPECT_GT(polls, 1);
  ExpectFinalState();
  EXPECT_LE(static_cast<size_t>(invoked), Docs().size() + 2 * polls) << "a poll re-reads only its first second";
}

TEST_F(PipelineTest, AFiredTriggerRunsThePollThroughItsRule) {
  StartSims();
  Deploy();
  ASSERT_TRUE(controller_->PutTrigger(guest_, "guest", "so-cpp-or", Json::object(), false).ok());
  auto rule = controller_->PutRule(guest_, "guest", "so-cpp-or-rule",
                                   Json{{"trigger", "/_/so-cpp-or"}, {"action", "/_/stackoverflow/socron"}}, false);
  ASSERT_TRUE(rule.ok()) << rule.status().ToString();
  auto fired = controller_->FireTrigger(guest_, "guest", "so-cpp-or", Json{{"tags", kTags}, {"search_type", "or"}},
                                        Json(), "trace-fire");
  ASSERT_TRUE(fired.ok()) << fired.status().ToString();
  ASSERT_TRUE(fired->has_value());
  controller_->Drain();
  ExpectFinalState();
}

TEST_F(PipelineTest, ARemoteCouchDbGetsTheSameState) {
  StartSims();
  StartRemoteCouch();
  Deploy(RemoteInputs());
  ASSERT_EQ(Poll()["failed"], 0);
  const std::string id = Docs().begin()->first;
  Triage(id, {{"owner", "ada"}, {"custom_tags", {"remote"}}});
  clock_.Advance(minutes(10));
  ASSERT_TRUE(se_->Inject("edit", std::stoll(id)).ok());
  ASSERT_TRUE(se_->Inject("new").ok());
  const Json second = Poll();
  EXPECT_EQ(second["failed"], 0);
  EXPECT_EQ(second["watermark"]["advanced"], true);
  ExpectFinalState();
  const Json doc = Doc(id);
  EXPECT_EQ(doc["status"], "updated");
  EXPECT_EQ(doc["owner"], "ada");
  EXPECT_EQ(doc["custom_tags"], Json::array({"remote"}));
  // Nothing went to the embedded store, the watermark included.
  EXPECT_FALSE(store_->GetDatabase("questions").ok());
  auto watermark = remote_store_->GetDatabase("questions")
                       .value()
                       ->GetLocal("_local/" + WatermarkName("stackoverflow", "or", kTags));
  ASSERT_TRUE(watermark.ok()) << watermark.status().ToString();
}

TEST_F(PipelineTest, ARemoteCouchDbWithBadCredentialsIsAnApplicationError) {
  StartSims();
  StartRemoteCouch();
  Json args = Params();
  const Json remote = RemoteInputs();
  for (const auto& [k, v] : remote.items()) args[k] = v;
  args["store_password"] = "wrong";
  args["question"] = se_->Truth().front();
  const Json out = StoreQuestion(*services_, args, logs_);
  ASSERT_TRUE(out.contains("error"));
  EXPECT_NE(out["error"].get<std::string>().find("unauthorized"), std::string::npos) << out.dump();
}

// --- faults: each run ends where a clean run ends -------------------------------

struct FaultCase {
  const char* name;
  const char* stackexchange;
  const char* slack;
  // The last request each script misbehaves on: the run must get past it.
  int64_t stackexchange_until = 0;
  int64_t slack_until = 0;
  // Whether some poll must fail (the clients' own retries cannot absorb it).
  bool a_poll_fails = false;
};

class PipelineFaultTest : public PipelineTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(PipelineFaultTest, EndsInTheCleanRunsState) {
  // No random world events: the world changes only where the test says, so
  // the clock moving in a backoff cannot change what a clean run would see.
  StartSims(GetParam().stackexchange, GetParam().slack, 300, std::chrono::hours(24 * 365));
  Deploy();
  const FaultCase& fault = GetParam();
  int failed_polls = 0;
  for (int round = 0; round < 3; ++round) {
    failed_polls += PollUntilClean();
    clock_.Advance(minutes(10));
    for (const char* kind : {"new", "new", "edit", "answer", "delete"}) ASSERT_TRUE(se_->Inject(kind).ok());
  }
  failed_polls += PollUntilClean();
  ExpectFinalState();
  EXPECT_GT(se_->requests(), fault.stackexchange_until) << "the script's faults were all served";
  EXPECT_GT(slack_->requests(), fault.slack_until);
  if (fault.a_poll_fails) {
    EXPECT_GT(failed_polls, 0);
  } else {
    EXPECT_EQ(failed_polls, 0) << "the clients' retries absorb this fault";
  }
}

INSTANTIATE_TEST_SUITE_P(
    Faults, PipelineFaultTest,
    ::testing::Values(FaultCase{"clean", "", ""},
                      FaultCase{"backoff", R"({"request": 1, "fault": "backoff", "seconds": 10})", "", 1},
                      FaultCase{"throttle", R"({"request": 2, "fault": "throttle", "seconds": 5})", "", 2},
                      FaultCase{"http502", R"({"from": 1, "to": 2, "fault": "http", "status": 502})", "", 2},
                      FaultCase{"html503", R"({"request": 2, "fault": "http", "status": 503})", "", 2},
                      // Longer than the client's retries: the first poll fails, a later one catches up.
                      FaultCase{"outage503", R"({"from": 1, "to": 6, "fault": "http", "status": 503})", "", 6, 0, true},
                      FaultCase{"truncated_gzip", R"({"request": 2, "fault": "truncated_gzip"})", "", 2},
                      FaultCase{"slack429then500", "",
                                "{\"request\": 1, \"fault\": \"http\", \"status\": 429, \"retry_after\": 1}\n"
                                "{\"request\": 2, \"fault\": \"http\", \"status\": 500}",
                                0, 2},
                      // Slack down longer than one activation's retries (60 failures, at
                      // most 5 per item and 8 items in flight: some items fail), the
                      // watermark stays, and later polls send what is owed.
                      FaultCase{"slack_outage", "", R"({"from": 1, "to": 60, "fault": "http", "status": 500})", 0, 60,
                                true}),
    [](const ::testing::TestParamInfo<FaultCase>& info) { return std::string(info.param.name); });

}  // namespace
}  // namespace wisp::stackoverflow
