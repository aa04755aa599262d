// `wisp deploy` and `wisp undeploy` of a wskdeploy manifest, run as a user
// runs them against a running `wisp serve`.
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <regex>

#include "cli/wsk_fixture.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;

class DeployTest : public testing::WskTest {
 protected:
  void SetUp() override {
    WskTest::SetUp();
    unsetenv("DEPLOY_TEST_WHO");
    unsetenv("DEPLOY_TEST_CRON");
    manifest_ = dir_ + "/manifest.yaml";
  }
  void TearDown() override {
    unsetenv("DEPLOY_TEST_WHO");
    unsetenv("DEPLOY_TEST_CRON");
    WskTest::TearDown();
  }

  // The "version" of an entity, from `wisp TYPE get NAME`.
  std::string Version(const std::string& type, const std::string& name) {
    Outcome got = Wisp({type, "get", name});
    std::smatch m;
    if (got.code != 0 || !std::regex_search(got.out, m, std::regex("\n  \"version\": \"([0-9.]+)\""))) {
      return "<" + type + " " + name + ": " + got.err + ">";
    }
    return m[1];
  }

  std::vector<std::string> Versions() {
    return {Version("package", "demo"),      Version("package", "utils"),  Version("action", "demo/echo"),
            Version("action", "demo/twice"), Version("trigger", "yearly"), Version("trigger", "poke"),
            Version("rule", "on-yearly"),    Version("rule", "on-poke")};
  }

  // How many times the alarm feed action has run in this namespace.
  size_t FeedCalls() {
    Outcome list = Wisp({"activation", "list", "-l", "200"});
    size_t n = 0;
    for (size_t at = list.out.find("/alarm:"); at != std::string::npos; at = list.out.find("/alarm:", at + 1)) ++n;
    return n;
  }

  std::string manifest_;
};

constexpr char kManifest[] = R"(# a sequence, a cron trigger, a plain trigger, rules and a binding
project:
  name: deploy-test
packages:
  demo:
    inputs:
      team: advocates
    dependencies:
      utils:
        location: /whisk.system/utils
        inputs: { extra: 1 }
    actions:
      echo:
        code: echo
        runtime: builtin
        inputs:
          who: ${DEPLOY_TEST_WHO:-world}
    sequences:
      twice:
        actions: echo, echo
    triggers:
      yearly:
        feed: /whisk.system/alarms/alarm
        inputs:
          cron: "${DEPLOY_TEST_CRON:-0 0 1 1 *}"
          trigger_payload: { tags: [a, b], search_type: or }
      poke:
        inputs: { from: manifest }
    rules:
      on-yearly: { trigger: yearly, action: twice }
      on-poke: { trigger: poke, action: echo }
)";

TEST_F(DeployTest, SecondDeployChangesNothingChangedInputsUpdateUndeployLeavesNothing) {
  Configure();
  std::ofstream(manifest_) << kManifest;

  Outcome first = Wisp({"deploy", "-m", manifest_});
  ASSERT_EQ(first.code, 0) << first.out << first.err;
  EXPECT_EQ(first.out,
            "created package demo\ncreated binding utils\ncreated action demo/echo\ncreated sequence demo/twice\n"
            "created trigger yearly\ncreated trigger poke\ncreated rule on-yearly\ncreated rule on-poke\n"
            "ok: deployed " +
                manifest_ + ": 8 created, 0 updated, 0 unchanged\n");
  EXPECT_EQ(FeedCalls(), 1u) << "the alarm feed got CREATE once";
  const std::vector<std::string> versions = Versions();
  for (const std::string& v : versions) EXPECT_EQ(v, "0.0.1");

  // What was deployed works: the rule runs the action with the trigger's and
  // the action's parameters.
  Outcome fired = Wisp({"trigger", "fire", "poke"});
  ASSERT_EQ(fired.code, 0) << fired.err;
  Outcome result = Wisp({"action", "invoke", "demo/echo", "-r"});
  EXPECT_NE(result.out.find("\"who\": \"world\""), std::string::npos) << result.out;
  EXPECT_NE(Wisp({"package", "get", "utils"}).out.find("\"key\": \"extra\""), std::string::npos);

  Outcome second = Wisp({"deploy", "-m", manifest_});
  ASSERT_EQ(second.code, 0) << second.err;
  EXPECT_EQ(second.out,
            "unchanged package demo\nunchanged binding utils\nunchanged action demo/echo\n"
            "unchanged sequence demo/twice\nunchanged trigger yearly\nunchanged trigger poke\n"
            "unchanged rule on-yearly\nunchanged rule on-poke\n"
            "ok: deployed " +
                manifest_ + ": 0 created, 0 updated, 8 unchanged\n");
  EXPECT_EQ(Versions(), versions) << "nothing was written again";
  EXPECT_EQ(FeedCalls(), 1u) << "the feed was not created again";

  // A changed input updates its entity only; a changed feed input re-creates
  // the feed (DELETE, then CREATE).
  setenv("DEPLOY_TEST_WHO", "there", 1);
  setenv("DEPLOY_TEST_CRON", "0 0 2 1 *", 1);
  Outcome third = Wisp({"deploy", "-m", manifest_});
  ASSERT_EQ(third.code, 0) << third.err;
  EXPECT_NE(third.out.find("updated action demo/echo\n"), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("unchanged sequence demo/twice\n"), std::string::npos) << third.out;
  EXPECT_NE(third.out.find("updated trigger yearly\n"), std::string::npos) << third.out;
  EXPECT_NE(third.out.find(": 0 created, 2 updated, 6 unchanged\n"), std::string::npos) << third.out;
  EXPECT_EQ(Version("action", "demo/echo"), "0.0.2");
  EXPECT_EQ(Version("action", "demo/twice"), "0.0.1");
  EXPECT_EQ(FeedCalls(), 3u);
  EXPECT_NE(Wisp({"action", "invoke", "demo/echo", "-r"}).out.find("\"who\": \"there\""), std::string::npos);
  // A rule disabled by hand is enabled again.
  ASSERT_EQ(Wisp({"rule", "disable", "on-poke"}).code, 0);
  Outcome fourth = Wisp({"deploy", "-m", manifest_});
  EXPECT_NE(fourth.out.find("enabled rule on-poke\n"), std::string::npos) << fourth.out;
  EXPECT_NE(Wisp({"rule", "get", "on-poke"}).out.find("\"status\": \"active\""), std::string::npos);

  Outcome undeploy = Wisp({"undeploy", "-m", manifest_});
  ASSERT_EQ(undeploy.code, 0) << undeploy.err;
  EXPECT_EQ(undeploy.out,
            "deleted rule on-yearly\ndeleted rule on-poke\ndeleted trigger yearly\ndeleted trigger poke\n"
            "deleted sequence demo/twice\ndeleted action demo/echo\ndeleted binding utils\ndeleted package demo\n"
            "ok: undeployed " +
                manifest_ + ": 8 deleted, 0 already gone\n");
  EXPECT_EQ(FeedCalls(), 4u) << "the feed got DELETE";
  EXPECT_EQ(Wisp({"list"}).out, "Entities in namespace: default\npackages\nactions\ntriggers\nrules\n");

  Outcome again = Wisp({"undeploy", "-m", manifest_});
  EXPECT_EQ(again.code, 0) << again.err;
  EXPECT_NE(again.out.find("already gone: rule on-yearly\n"), std::string::npos) << again.out;
  EXPECT_NE(again.out.find(": 0 deleted, 8 already gone\n"), std::string::npos) << again.out;
}

TEST_F(DeployTest, BadManifestsAndRefusedEntitiesFailClearly) {
  Configure();
  Outcome missing = Wisp({"deploy", "-m", dir_ + "/nope.yaml"});
  EXPECT_EQ(missing.code, 2);
  EXPECT_EQ(missing.err, "error: manifest '" + dir_ + "/nope.yaml' is not a valid file or it does not exist\n");

  std::ofstream(manifest_) << "packages:\n  p:\n    actions: [unclosed\n";
  Outcome syntax = Wisp({"deploy", "-m", manifest_});
  EXPECT_EQ(syntax.code, 2);
  EXPECT_TRUE(std::regex_search(syntax.err, std::regex("^error: " + manifest_ + ":[0-9]+: invalid YAML: ")))
      << syntax.err;

  std::ofstream(manifest_) << "packages:\n  p:\n    actions:\n      a:\n        code: echo\n        runtime: builtin\n"
                              "        timeout: 5\n";
  Outcome unknown = Wisp({"deploy", "-m", manifest_});
  EXPECT_EQ(unknown.code, 2);
  EXPECT_EQ(unknown.err, "error: " + manifest_ + ":7: unknown key `timeout` in action `a`\n");

  // The server refuses a rule whose action does not exist; its words reach the user.
  std::ofstream(manifest_) << "packages:\n  default:\n    triggers:\n      t: {}\n"
                              "    rules:\n      r: { trigger: t, action: nosuch }\n";
  Outcome refused = Wisp({"deploy", "-m", manifest_});
  EXPECT_EQ(refused.code, 400 - 256) << refused.err;
  EXPECT_NE(refused.out.find("created trigger t\n"), std::string::npos) << refused.out;
  EXPECT_TRUE(
      std::regex_search(refused.err, std::regex("^error: Unable to create rule 'r': .*does not exist.* \\(code ")))
      << refused.err;
  EXPECT_NE(refused.err.find("stopped (1 created, 0 updated before the error)"), std::string::npos) << refused.err;

  Outcome unreachable = Wisp({"--apihost", "http://127.0.0.1:1", "deploy", "-m", manifest_});
  EXPECT_EQ(unreachable.code, 3) << unreachable.err;
}

}  // namespace
}  // namespace wisp
