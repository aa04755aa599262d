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

#include "cli/wsk_fixture.h"
#include "http/client.h"
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
  EXPECT_NE(binding.out.find("\"value\": \"" + slack + "\""), std::string::npos) << binding.out;

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

// The built-in manifest, deployed on a data dir whose /whisk.system/stackoverflow
// is a stand-in: four echo actions. The fast schedule runs socron, whose
// result carries the trigger's payload and the binding's simulator URL.
TEST(DemoTest, BuiltInManifestRunsTheSearchesOnTheSimulator) {
  const std::string dir = testing::MakeTempDir();
  {
    Subprocess serve({WISP_BINARY, "serve", "--data-dir", dir + "/data", "--api-port", "0", "--couch-port", "0",
                      "--log-file", dir + "/serve.log"},
                     dir + "/serve-stderr.txt");
    const std::string line = serve.ReadLineContaining("APIHOST=", 30s);
    ASSERT_FALSE(line.empty()) << serve.output();
    const std::string apihost = line.substr(line.find('=') + 1, line.find_last_not_of("\r\n") - line.find('='));
    std::smatch m;
    const std::string keys = testing::ReadAll(dir + "/data/whisk_auth.json");
    ASSERT_TRUE(std::regex_search(keys, m, std::regex("\"whisk.system\":\"([^\"]+)\""))) << keys;
    const std::string system_key = m[1];
    auto as_system = [&](std::vector<std::string> args) {
      args.insert(args.begin(), {WISP_BINARY, "--apihost", apihost, "--auth", system_key});
      Subprocess p(args, dir + "/client-stderr.txt");
      p.ReadLineContaining("\x01 never printed", 30s);
      return p.Wait(30s);
    };
    ASSERT_EQ(as_system({"package", "update", "stackoverflow", "--shared", "yes"}), 0)
        << testing::ReadAll(dir + "/client-stderr.txt");
    for (const char* action : {"collector", "invoker", "storer", "notifier"}) {
      ASSERT_EQ(as_system({"action", "update", std::string("stackoverflow/") + action, "--kind", "builtin", "echo"}), 0)
          << testing::ReadAll(dir + "/client-stderr.txt");
    }
    ASSERT_EQ(serve.Signal(SIGTERM, 30s), 0);
  }

  Subprocess demo({WISP_BINARY, "demo", "--data-dir", dir + "/data", "--api-port", "0", "--couch-port", "0", "--cron",
                   "*/1 * * * * *"},
                  dir + "/demo-stderr.txt");
  ASSERT_NE(demo.ReadLineContaining("Ctrl-C stops everything.", 60s), "")
      << demo.output() << testing::ReadAll(dir + "/demo-stderr.txt");
  const std::string banner = demo.output();
  for (const char* line :
       {"created binding so\n", "created sequence stackoverflow/socron\n", "created sequence stackoverflow/qhandler\n",
        "created trigger so-serverless-or\n", "created rule so-nodejs-openwhisk-and-rule\n"}) {
    EXPECT_NE(banner.find(line), std::string::npos) << line << banner;
  }
  EXPECT_TRUE(std::regex_search(banner, std::regex("Dashboard +http://127.0.0.1:[0-9]+/  \\(user advocate, "
                                                   "password [A-Za-z0-9]+\\)")))
      << banner;
  const std::string api = UrlAfter(banner, "OpenWhisk API");
  const std::string stackexchange = UrlAfter(banner, "Stack Exchange");
  std::smatch m;
  ASSERT_TRUE(std::regex_search(banner, m, std::regex("\\(AUTH=([^)]+)\\)"))) << banner;
  const std::string auth = m[1];

  std::string socron_id;
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (socron_id.empty() && std::chrono::steady_clock::now() < deadline) {
    Subprocess list({WISP_BINARY, "--apihost", api, "--auth", auth, "activation", "list"}, dir + "/list-stderr.txt");
    list.ReadLineContaining("\x01 never printed", 30s);
    list.Wait(30s);
    if (std::regex_search(list.output(), m, std::regex("([0-9a-f]{32}) sequence .* /guest/socron:"))) {
      socron_id = m[1];
    }
  }
  ASSERT_FALSE(socron_id.empty()) << "no search ran";
  Subprocess result({WISP_BINARY, "--apihost", api, "--auth", auth, "activation", "result", socron_id},
                    dir + "/result-stderr.txt");
  result.ReadLineContaining("\x01 never printed", 30s);
  result.Wait(30s);
  EXPECT_NE(result.output().find("\"search_type\": \""), std::string::npos) << result.output();
  EXPECT_NE(result.output().find("\"api_url\": \"" + stackexchange + "\""), std::string::npos) << result.output();
  EXPECT_EQ(demo.Signal(SIGINT, 30s), 0);
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
