// `wisp demo`, run as a user runs it: the server, both simulators, a manifest
// deployed with the simulators' URLs and a fast schedule, the dashboard user,
// and a clean stop on Ctrl-C.
//
// The built-in Stack Overflow manifest needs the /whisk.system/stackoverflow
// package: one test gives it a stand-in of four echo actions, the other
// deploys its own manifest (--manifest) with the same variables.
#include <gtest/gtest.h>

#include <fstream>
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

}  // namespace
}  // namespace wisp
