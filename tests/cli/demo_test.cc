// `wisp demo`, run as a user runs it: the server, both simulators, a manifest
// deployed with the simulators' URLs and a fast schedule, the dashboard user,
// and a clean stop on Ctrl-C.
//
// The built-in Stack Overflow manifest needs the /whisk.system/stackoverflow
// package: one test gives it a stand-in of four echo actions, the other
// deploys its own manifest (--manifest) with the same variables.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <regex>
#include <set>

#include "cli/wsk_fixture.h"
#include "http/client.h"
#include "json/json.h"
#include "util/base64.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::Subprocess;

constexpr char kManifest[] = R"(packages:
  probe:
    dependencies:
      so:
        location: /whisk.system/utils
        inputs:
          api_url: "${SO_API_URL}"
          slackURL: "${SLACK_URL}"
    actions:
      echo: { code: echo, runtime: builtin }
    triggers:
      probe-or:
        feed: /whisk.system/alarms/alarm
        inputs:
          cron: "${SO_CRON}"
          trigger_payload: { tags: [openwhisk, serverless], search_type: or }
    rules:
      probe-or-rule: { trigger: probe-or, action: echo }
)";

// The first URL on the banner line that starts with `label`.
std::string UrlAfter(const std::string& banner, const std::string& label) {
  std::smatch m;
  if (!std::regex_search(banner, m, std::regex("\n  " + label + " +(https?://[^ \n]+)"))) return "";
  return m[1];
}

TEST(DemoTest, RunsServerSimulatorsManifestAndUserUntilCtrlC) {
  const std::string dir = testing::MakeTempDir();
  std::ofstream(dir + "/manifest.yaml") << kManifest;
  Subprocess demo({WISP_BINARY, "demo", "--data-dir", dir + "/data", "--api-port", "0", "--couch-port", "0", "--user",
                   "alice:s3cret-pw", "--manifest", dir + "/manifest.yaml", "--cron", "*/1 * * * * *"},
                  dir + "/demo-stderr.txt");
  ASSERT_TRUE(demo.started());
  ASSERT_NE(demo.ReadLineContaining("Ctrl-C stops everything.", 60s), "")
      << demo.output() << testing::ReadAll(dir + "/demo-stderr.txt");
  const std::string banner = demo.output();
  EXPECT_NE(banner.find("created binding so\ncreated action probe/echo\ncreated trigger probe-or\n"
                        "created rule probe-or-rule\n"),
            std::string::npos)
      << banner;

  const std::string api = UrlAfter(banner, "OpenWhisk API");
  std::string couch = UrlAfter(banner, "CouchDB API");
  if (!couch.empty() && couch.back() == '/') couch.pop_back();
  const std::string stackexchange = UrlAfter(banner, "Stack Exchange");
  const std::string slack = UrlAfter(banner, "Slack webhook");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("\\(AUTH=([^)]+)\\)"))) << banner;
  const std::string auth = m[1];
  ASSERT_FALSE(api.empty() || couch.empty() || stackexchange.empty() || slack.empty()) << banner;
  EXPECT_NE(banner.find("  Dashboard       " + api + "/  (user alice, password s3cret-pw)"), std::string::npos)
      << banner;
  EXPECT_NE(banner.find("wisp activation list --apihost " + api + " --auth " + auth), std::string::npos) << banner;

  // The simulators answer on their own ports.
  http::Client client;
  Result<http::ClientResponse> questions = client.Get(stackexchange + "/questions?site=stackoverflow&pagesize=5");
  ASSERT_TRUE(questions.ok()) << questions.status().ToString();
  EXPECT_EQ(questions->status, 200);
  EXPECT_NE(questions->body.find("\"items\""), std::string::npos);
  Result<http::ClientResponse> posted = client.Post(slack, R"({"text":"hello from the demo test"})");
  ASSERT_TRUE(posted.ok()) << posted.status().ToString();
  EXPECT_EQ(posted->status, 200);

  // The deploy went through the REST API with the simulators' URLs.
  auto wisp = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {WISP_BINARY, "--apihost", api, "--auth", auth});
    Subprocess p(args, dir + "/client-stderr.txt");
    Outcome r;
    p.ReadLineContaining("\x01 never printed", 30s);
    r.code = p.Wait(30s);
    r.out = p.output();
    return r;
  };
  Outcome binding = wisp({"package", "get", "so"});
  EXPECT_NE(binding.out.find("\"value\": \"" + stackexchange + "\""), std::string::npos) << binding.out;
  // The webhook is a secret parameter: shown masked (docs/security.md "Secrets").
  EXPECT_EQ(binding.out.find(slack), std::string::npos) << binding.out;
  EXPECT_NE(binding.out.find("\"value\": \"********\""), std::string::npos) << binding.out;

  // The fast schedule fires the trigger, and the rule runs the action with its payload.
  std::string echo_id;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (echo_id.empty() && std::chrono::steady_clock::now() < deadline) {
    Outcome list = wisp({"activation", "list"});
    if (std::regex_search(list.out, m, std::regex("([0-9a-f]{32}) builtin .* /guest/echo:"))) echo_id = m[1];
  }
  ASSERT_FALSE(echo_id.empty()) << "the alarm never ran the rule's action";
  EXPECT_NE(wisp({"activation", "result", echo_id}).out.find("\"search_type\": \"or\""), std::string::npos);

  // The dashboard user can log in to the store with the role advocate.
  http::ClientRequest session;
  session.url = couch + "/_session";
  session.headers.Set("Authorization", "Basic " + Base64Encode("alice:s3cret-pw"));
  Result<http::ClientResponse> who = client.Send(session);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->status, 200) << who->body;
  EXPECT_NE(who->body.find("\"name\":\"alice\""), std::string::npos) << who->body;
  EXPECT_NE(who->body.find("\"advocate\""), std::string::npos) << who->body;

  EXPECT_EQ(demo.Signal(SIGINT, 30s), 0) << testing::ReadAll(dir + "/demo-stderr.txt");
  EXPECT_NE(demo.output().find("wisp demo stopped.\n"), std::string::npos);
}

// The built-in manifest on the built-in package: questions flow from the
// simulated Stack Exchange into the questions database, and Slack hears about
// each new one exactly once.
TEST(DemoTest, QuestionsFlowIntoTheStoreAndEachNewOneReachesSlackOnce) {
  const std::string dir = testing::MakeTempDir();
  Subprocess demo({WISP_BINARY, "demo", "--data-dir", dir + "/data", "--api-port", "0", "--couch-port", "0", "--user",
                   "alice:s3cret-pw", "--cron", "*/2 * * * * *", "--event-interval", "1"},
                  dir + "/demo-stderr.txt");
  ASSERT_TRUE(demo.started());
  ASSERT_NE(demo.ReadLineContaining("Ctrl-C stops everything.", 60s), "")
      << demo.output() << testing::ReadAll(dir + "/demo-stderr.txt");
  const std::string banner = demo.output();
  std::string couch = UrlAfter(banner, "CouchDB API");
  if (!couch.empty() && couch.back() == '/') couch.pop_back();
  const std::string slack = UrlAfter(banner, "Slack webhook");
  const std::string slack_admin = slack.substr(0, slack.find("/services/")) + "/admin/messages";
  std::smatch m;
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("\\(admin ([^:]+):([^)]+)\\)"))) << banner;
  const std::string admin = m[1].str() + ":" + m[2].str();

  http::Client client;
  auto get_json = [&](const std::string& url, const std::string& credentials) {
    http::ClientRequest request;
    request.url = url;
    if (!credentials.empty()) request.headers.Set("Authorization", "Basic " + Base64Encode(credentials));
    Result<http::ClientResponse> response = client.Send(request);
    if (!response.ok() || response->status != 200) return Json();
    Result<Json> parsed = json::Parse(response->body);
    return parsed.ok() ? *parsed : Json();
  };
  // The ids of the questions stored and notified, and the question ids named
  // by Slack's messages, once they agree (a message and its notified_at are
  // written one after the other, so the two are compared when both settled).
  std::multiset<std::string> posted;
  std::set<std::string> notified;
  size_t stored = 0;
  Json since = 0;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (std::chrono::steady_clock::now() < deadline) {
    // Each round waits for the next change to the questions database.
    const Json changes = get_json(couch + "/questions/_changes?feed=longpoll&timeout=10000&since=" +
                                      (since.is_string() ? since.get<std::string>() : since.dump()),
                                  admin);
    if (changes.is_object() && changes.contains("last_seq")) since = changes["last_seq"];
    const Json docs = get_json(couch + "/questions/_all_docs?include_docs=true", admin);
    const Json messages = get_json(slack_admin, "");
    if (!docs.is_object() || !messages.is_object()) continue;
    notified.clear();
    stored = 0;
    for (const Json& row : docs["rows"]) {
      if (row["doc"].value("type", "") != "question") continue;
      ++stored;
      if (row["doc"].contains("notified_at")) notified.insert(row["id"].get<std::string>());
    }
    posted.clear();
    for (const Json& message : messages["messages"]) {
      const std::string text = message["payload"].value("text", "");
      if (std::regex_search(text, m, std::regex("stackoverflow\\.com/questions/([0-9]+)/"))) posted.insert(m[1]);
    }
    if (stored >= 10 && !posted.empty() && posted.size() == notified.size()) break;
  }
  EXPECT_GE(stored, 10u) << "questions did not reach the store";
  ASSERT_FALSE(posted.empty()) << "Slack heard nothing";
  EXPECT_EQ(std::set<std::string>(posted.begin(), posted.end()).size(), posted.size()) << "a question was posted twice";
  EXPECT_EQ(std::set<std::string>(posted.begin(), posted.end()), notified);

  EXPECT_EQ(demo.Signal(SIGINT, 30s), 0) << testing::ReadAll(dir + "/demo-stderr.txt");
}

TEST(DemoTest, BadUserFlagExitsTwo) {
  const std::string dir = testing::MakeTempDir();
  Subprocess demo({WISP_BINARY, "demo", "--data-dir", dir + "/data", "--user", "no-colon"}, dir + "/stderr.txt");
  ASSERT_TRUE(demo.started());
  EXPECT_EQ(demo.Wait(30s), 2);
  EXPECT_NE(testing::ReadAll(dir + "/stderr.txt").find("--user must be NAME:PASSWORD"), std::string::npos);
}

// The trace of one poll of the demo holds every activation the poll caused,
// found independently by following the records' own links: the trigger's
// rule line, the sequence's components, the invoker's handler ids and each
// handler's components. `wisp trace` prints the same tree.
TEST(DemoTest, TheTraceOfAPollHoldsEveryActivationItCaused) {
  const std::string dir = testing::MakeTempDir();
  Subprocess demo({WISP_BINARY, "demo", "--data-dir", dir + "/data", "--api-port", "0", "--couch-port", "0", "--user",
                   "alice:s3cret-pw", "--cron", "*/2 * * * * *", "--event-interval", "1"},
                  dir + "/demo-stderr.txt");
  ASSERT_TRUE(demo.started());
  ASSERT_NE(demo.ReadLineContaining("Ctrl-C stops everything.", 60s), "")
      << demo.output() << testing::ReadAll(dir + "/demo-stderr.txt");
  const std::string banner = demo.output();
  const std::string api = UrlAfter(banner, "OpenWhisk API");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("\\(AUTH=([^)]+)\\)"))) << banner;
  const std::string auth = m[1];

  http::Client client;
  auto get_json = [&](const std::string& path) {
    http::ClientRequest request;
    request.url = api + "/api/v1/namespaces/_/" + path;
    request.headers.Set("Authorization", "Basic " + Base64Encode(auth));
    Result<http::ClientResponse> response = client.Send(request);
    if (!response.ok() || response->status != 200) return Json();
    Result<Json> parsed = json::Parse(response->body);
    return parsed.ok() ? *parsed : Json();
  };
  auto ids_of = [](const Json& list) {
    std::set<std::string> ids;
    for (const Json& id : list) ids.insert(id.get<std::string>());
    return ids;
  };

  // A finished poll that stored questions: its socron record holds the
  // invoker's result (a sequence answers with its last component's).
  Json socron;
  const auto deadline = std::chrono::steady_clock::now() + 90s;
  while (socron.is_null() && std::chrono::steady_clock::now() < deadline) {
    for (const Json& record : get_json("activations?docs=true&limit=50&name=stackoverflow/socron")) {
      const Json result = record["response"].value("result", Json::object());
      if (result.value("invoked", 0) > 0 && !result.value("activation_ids_truncated", true)) {
        socron = record;
        break;
      }
    }
  }
  ASSERT_FALSE(socron.is_null()) << "no poll stored a question";
  const std::string socron_id = socron["activationId"];

  // What the poll caused, by the records' links.
  std::set<std::string> expected = {socron_id};
  std::string trigger_id;
  const int64_t socron_start = socron["start"];
  for (const Json& record : get_json("activations?docs=true&limit=200&since=" + std::to_string(socron_start - 10'000) +
                                     "&upto=" + std::to_string(socron_start))) {
    for (const Json& line : record.value("logs", Json::array())) {
      Result<Json> rule = json::ParseObject(line.is_string() ? line.get<std::string>() : "");
      if (rule.ok() && rule->value("activationId", "") == socron_id) trigger_id = record["activationId"];
    }
  }
  ASSERT_FALSE(trigger_id.empty()) << "no trigger record started " << socron_id;
  expected.insert(trigger_id);
  const std::set<std::string> components = ids_of(socron["logs"]);
  ASSERT_EQ(components.size(), 2u);
  expected.insert(components.begin(), components.end());
  const std::set<std::string> handlers = ids_of(socron["response"]["result"]["activation_ids"]);
  for (const std::string& handler : handlers) {
    expected.insert(handler);
    const Json record = get_json("activations/" + handler);
    const std::set<std::string> parts = ids_of(record.value("logs", Json::array()));
    EXPECT_EQ(parts.size(), 2u) << "qhandler " << handler << " is storer -> notifier";
    expected.insert(parts.begin(), parts.end());
  }

  const Json trace = get_json("traces/" + socron_id);
  ASSERT_TRUE(trace.is_object()) << "GET traces/" << socron_id;
  std::set<std::string> in_tree;
  std::function<void(const Json&)> walk = [&](const Json& nodes) {
    for (const Json& node : nodes) {
      if (node.contains("activationId") && node["type"] != "rule") in_tree.insert(node["activationId"]);
      walk(node["children"]);
    }
  };
  walk(trace["roots"]);
  EXPECT_EQ(in_tree, expected);
  EXPECT_EQ(trace["activations"], expected.size());
  ASSERT_EQ(trace["roots"].size(), 1u);
  const Json& trigger = trace["roots"][0];
  EXPECT_EQ(trigger["type"], "trigger");
  ASSERT_EQ(trigger["children"].size(), 1u);
  const Json& rule = trigger["children"][0];
  EXPECT_EQ(rule["type"], "rule");
  ASSERT_EQ(rule["children"].size(), 1u);
  const Json& sequence = rule["children"][0];
  EXPECT_EQ(sequence["name"], "guest/stackoverflow/socron");
  ASSERT_EQ(sequence["children"].size(), 2u);
  EXPECT_EQ(sequence["children"][0]["name"], "whisk.system/stackoverflow/collector");
  const Json& invoker = sequence["children"][1];
  EXPECT_EQ(invoker["name"], "whisk.system/stackoverflow/invoker");
  EXPECT_EQ(invoker["children"].size(), handlers.size());
  for (const Json& handler : invoker["children"]) {
    EXPECT_EQ(handler["name"], "guest/stackoverflow/qhandler");
    ASSERT_EQ(handler["children"].size(), 2u);
    EXPECT_EQ(handler["children"][0]["name"], "whisk.system/stackoverflow/storer");
    EXPECT_EQ(handler["children"][1]["name"], "whisk.system/stackoverflow/notifier");
  }

  // The CLI draws the same tree.
  Subprocess cli({WISP_BINARY, "--apihost", api, "--auth", auth, "trace", socron_id}, dir + "/trace-stderr.txt");
  cli.ReadLineContaining("\x01 never printed", 30s);
  EXPECT_EQ(cli.Wait(30s), 0) << testing::ReadAll(dir + "/trace-stderr.txt");
  const std::string out = cli.output();
  EXPECT_TRUE(std::regex_search(out, std::regex("^trace [0-9a-f]{32} in guest: " + std::to_string(expected.size()) +
                                                " activations, 0 errors")))
      << out;
  EXPECT_NE(out.find("\ntrigger guest/so-"), std::string::npos) << out;
  EXPECT_NE(out.find("\u2514\u2500 rule guest/so-"), std::string::npos) << out;
  EXPECT_NE(out.find("sequence guest/stackoverflow/socron  success"), std::string::npos) << out;
  EXPECT_NE(out.find("action whisk.system/stackoverflow/collector  success"), std::string::npos) << out;
  size_t handler_lines = 0;
  for (size_t at = out.find("sequence guest/stackoverflow/qhandler"); at != std::string::npos;
       at = out.find("sequence guest/stackoverflow/qhandler", at + 1)) {
    ++handler_lines;
  }
  EXPECT_EQ(handler_lines, handlers.size()) << out;
  EXPECT_NE(out.find("action whisk.system/stackoverflow/notifier"), std::string::npos) << out;

  EXPECT_EQ(demo.Signal(SIGINT, 30s), 0) << testing::ReadAll(dir + "/demo-stderr.txt");
}

}  // namespace
}  // namespace wisp
