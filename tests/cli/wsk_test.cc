// The wsk-compatible client commands, run as a user runs them: the real
// `wisp` binary against a running `wisp serve`, with a temporary
// WSK_CONFIG_FILE. Each test asserts the printed lines and exit codes.
#include <algorithm>

#include "cli/wsk_fixture.h"

namespace wisp {
namespace {

using namespace std::chrono_literals;
using testing::Outcome;
using testing::ReadAll;
using testing::WskTest;

TEST_F(WskTest, PropertySetGetUnsetUseTheWskpropsFile) {
  Outcome set = Wisp({"property", "set", "--apihost", apihost_, "--auth", auth_});
  ASSERT_EQ(set.code, 0) << set.err;
  EXPECT_NE(set.out.find("ok: whisk API host set to " + apihost_), std::string::npos) << set.out;
  EXPECT_NE(set.out.find("ok: whisk auth set."), std::string::npos);
  std::string file = ReadAll(props_);
  EXPECT_NE(file.find("APIHOST=" + apihost_ + "\n"), std::string::npos) << file;
  EXPECT_NE(file.find("AUTH=" + auth_ + "\n"), std::string::npos) << file;
  struct stat st {};
  ASSERT_EQ(stat(props_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u) << "the file holds a key";

  Outcome get = Wisp({"property", "get", "--apihost"});
  EXPECT_EQ(get.code, 0);
  EXPECT_EQ(get.out, "whisk API host\t\t" + apihost_ + "\n");

  Outcome unset = Wisp({"property", "unset", "--auth"});
  EXPECT_EQ(unset.code, 0);
  EXPECT_EQ(unset.out, "ok: whisk auth unset.\n");
  EXPECT_EQ(ReadAll(props_).find("AUTH="), std::string::npos);

  // Without credentials the server says 401 and wsk exits 401-256.
  Outcome denied = Wisp({"action", "list"});
  EXPECT_EQ(denied.code, 401 - 256);
  EXPECT_NE(denied.err.find("error: Unable to get the list of actions:"), std::string::npos) << denied.err;

  // The environment and the global flag supply what the file lacks.
  setenv("WHISK_AUTH", auth_.c_str(), 1);
  EXPECT_EQ(Wisp({"action", "list"}).code, 0);
  unsetenv("WHISK_AUTH");
  EXPECT_EQ(Wisp({"action", "list", "-u", auth_}).code, 0);
  EXPECT_EQ(Wisp({"-u", auth_, "namespace", "list"}).out, "namespaces\nguest\n");
}

TEST_F(WskTest, ActionLifecycleWithBuiltinAndTables) {
  Configure();
  Outcome create = Wisp({"action", "create", "echo", "--kind", "builtin", "echo", "-p", "greeting", "hi", "-m", "128"});
  ASSERT_EQ(create.code, 0) << create.err;
  EXPECT_EQ(create.out, "ok: created action echo\n");

  Outcome again = Wisp({"action", "create", "echo", "--kind", "builtin", "echo"});
  EXPECT_EQ(again.code, 409 - 256);
  EXPECT_NE(again.err.find("error: Unable to create action 'echo': resource already exists (code "), std::string::npos)
      << again.err;

  Outcome list = Wisp({"action", "list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_TRUE(std::regex_search(list.out, std::regex("^actions\n/guest/echo {59} private builtin\n$"))) << list.out;

  Outcome get = Wisp({"action", "get", "echo"});
  EXPECT_EQ(get.code, 0);
  EXPECT_EQ(get.out.rfind("ok: got action echo\n{", 0), 0u) << get.out;
  EXPECT_NE(get.out.find("\"memory\": 128"), std::string::npos) << get.out;

  Outcome result = Wisp({"action", "invoke", "echo", "-r", "-p", "n", "3"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_NE(result.out.find("\"greeting\": \"hi\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"n\": 3"), std::string::npos) << result.out;

  Outcome blocking = Wisp({"action", "invoke", "echo", "-b"});
  EXPECT_EQ(blocking.code, 0);
  std::smatch m;
  ASSERT_TRUE(std::regex_search(blocking.out, m, std::regex("^ok: invoked /_/echo with id ([0-9a-f]{32})\n")))
      << blocking.out;
  EXPECT_NE(blocking.out.find("\"activationId\": \"" + m[1].str() + "\""), std::string::npos);

  Outcome async = Wisp({"action", "invoke", "echo"});
  EXPECT_EQ(async.code, 0);
  EXPECT_TRUE(std::regex_match(async.out, std::regex("ok: invoked /_/echo with id [0-9a-f]{32}\n"))) << async.out;

  Outcome update = Wisp({"action", "update", "echo", "--web", "true"});
  EXPECT_EQ(update.code, 0) << update.err;
  EXPECT_EQ(update.out, "ok: updated action echo\n");
  EXPECT_NE(Wisp({"action", "get", "echo"}).out.find("\"web-export\""), std::string::npos);
  Outcome url = Wisp({"action", "get", "echo", "--url"});
  EXPECT_EQ(url.out, "ok: got action echo\n" + apihost_ + "/api/v1/web/guest/default/echo\n");

  Outcome seq = Wisp({"action", "create", "twice", "--sequence", "echo,echo"});
  EXPECT_EQ(seq.code, 0) << seq.err;
  EXPECT_NE(Wisp({"action", "invoke", "twice", "-r", "-p", "k", "v"}).out.find("\"k\": \"v\""), std::string::npos);

  EXPECT_EQ(Wisp({"action", "delete", "twice"}).out, "ok: deleted action twice\n");
  Outcome missing = Wisp({"action", "get", "twice"});
  EXPECT_EQ(missing.code, 404 - 256);
  EXPECT_NE(missing.err.find("The requested resource does not exist."), std::string::npos) << missing.err;
}

TEST_F(WskTest, ActivationsListGetLogsResult) {
  Configure();
  ASSERT_EQ(Wisp({"action", "create", "echo", "--kind", "builtin", "echo"}).code, 0);
  Outcome invoke = Wisp({"action", "invoke", "echo", "-b", "-p", "x", "42"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(invoke.out, m, std::regex("with id ([0-9a-f]{32})"))) << invoke.out;
  std::string id = m[1];

  Outcome list = Wisp({"activation", "list"});
  EXPECT_EQ(list.code, 0);
  EXPECT_EQ(list.out.rfind("Datetime            Activation ID                    Kind      Start Duration   Status", 0),
            0u)
      << list.out;
  EXPECT_NE(list.out.find(id + " builtin"), std::string::npos) << list.out;
  EXPECT_NE(list.out.find("success         /guest/echo:0.0.1"), std::string::npos) << list.out;

  Outcome last = Wisp({"activation", "get", "--last"});
  EXPECT_EQ(last.code, 0);
  EXPECT_EQ(last.out.rfind("ok: got activation " + id + "\n", 0), 0u) << last.out;

  Outcome result = Wisp({"activation", "result", id});
  EXPECT_EQ(result.code, 0);
  EXPECT_NE(result.out.find("\"x\": 42"), std::string::npos) << result.out;

  EXPECT_EQ(Wisp({"activation", "logs", id, "--strip"}).code, 0);

  Outcome bad = Wisp({"activation", "get", "not-an-id"});
  EXPECT_EQ(bad.code, 400 - 256);
  EXPECT_NE(bad.err.find("Activation id length is 9 but must be 32."), std::string::npos) << bad.err;

  Outcome none = Wisp({"activation", "get"});
  EXPECT_EQ(none.code, 2);
  EXPECT_NE(none.err.find("An activation ID is required."), std::string::npos);
}

TEST_F(WskTest, PackagesTriggersRulesAndList) {
  Configure();
  ASSERT_EQ(Wisp({"action", "create", "echo", "--kind", "builtin", "echo"}).code, 0);
  EXPECT_EQ(Wisp({"package", "create", "utils", "-p", "a", "1"}).out, "ok: created package utils\n");
  EXPECT_EQ(Wisp({"package", "update", "utils", "--shared", "yes"}).out, "ok: updated package utils\n");
  EXPECT_EQ(Wisp({"package", "bind", "utils", "mine"}).out, "ok: created binding mine\n");
  Outcome plist = Wisp({"package", "list"});
  EXPECT_NE(plist.out.find("/guest/utils"), std::string::npos) << plist.out;
  EXPECT_NE(plist.out.find(" shared\n"), std::string::npos) << plist.out;
  EXPECT_EQ(Wisp({"package", "get", "utils"}).out.rfind("ok: got package utils\n", 0), 0u);

  EXPECT_EQ(Wisp({"trigger", "create", "tick", "-p", "p", "1"}).out, "ok: created trigger tick\n");
  EXPECT_EQ(Wisp({"rule", "create", "onTick", "tick", "echo"}).out, "ok: created rule onTick\n");
  Outcome rlist = Wisp({"rule", "list"});
  EXPECT_TRUE(std::regex_search(rlist.out, std::regex("/guest/onTick +private +active\n"))) << rlist.out;
  EXPECT_EQ(Wisp({"rule", "disable", "onTick"}).out, "ok: disabled rule onTick\n");
  EXPECT_NE(Wisp({"rule", "get", "onTick"}).out.find("\"status\": \"inactive\""), std::string::npos);
  EXPECT_EQ(Wisp({"rule", "enable", "onTick"}).out, "ok: enabled rule onTick\n");

  Outcome missing_rule = Wisp({"rule", "create", "broken", "nosuch", "echo"});
  EXPECT_EQ(missing_rule.code, 400 - 256) << missing_rule.err;

  Outcome all = Wisp({"list"});
  EXPECT_EQ(all.code, 0);
  EXPECT_EQ(all.out.rfind("Entities in namespace: default\npackages\n", 0), 0u) << all.out;
  EXPECT_NE(all.out.find("triggers\n/guest/tick"), std::string::npos) << all.out;
  EXPECT_NE(all.out.find("rules\n/guest/onTick"), std::string::npos) << all.out;

  EXPECT_EQ(Wisp({"rule", "delete", "onTick", "--disable"}).out, "ok: deleted rule onTick\n");
  EXPECT_EQ(Wisp({"trigger", "delete", "tick"}).out, "ok: deleted trigger tick\n");
  EXPECT_EQ(Wisp({"package", "delete", "mine"}).out, "ok: deleted package mine\n");
  EXPECT_EQ(Wisp({"package", "delete", "utils"}).out, "ok: deleted package utils\n");
  EXPECT_EQ(Wisp({"trigger", "get", "tick"}).code, 404 - 256);
}

// A fire without an active rule is a 204 and no activation; with one, the
// trigger's activation names the rule, and the rule runs the action with the
// trigger's parameters and the fire's payload.
TEST_F(WskTest, TriggerFireRunsTheActionOfAnActiveRule) {
  Configure();
  ASSERT_EQ(Wisp({"trigger", "create", "tick", "-p", "from", "trigger"}).code, 0);
  Outcome idle = Wisp({"trigger", "fire", "tick"});
  EXPECT_EQ(idle.code, 0) << idle.err;
  EXPECT_EQ(idle.out, "ok: triggered /_/tick\n");

  ASSERT_EQ(Wisp({"action", "create", "echo", "--kind", "builtin", "echo"}).code, 0);
  ASSERT_EQ(Wisp({"rule", "create", "onTick", "tick", "echo"}).code, 0);
  Outcome fired = Wisp({"trigger", "fire", "tick", "-p", "n", "7"});
  EXPECT_EQ(fired.code, 0) << fired.err;
  std::smatch m;
  ASSERT_TRUE(std::regex_match(fired.out, m, std::regex("ok: triggered /_/tick with id ([0-9a-f]{32})\n"))) << fired.out;
  Outcome record = Wisp({"activation", "get", m[1].str()});
  EXPECT_EQ(record.code, 0) << record.err;
  EXPECT_NE(record.out.find("\"name\": \"tick\""), std::string::npos) << record.out;
  EXPECT_NE(record.out.find("\\\"rule\\\":\\\"guest/onTick\\\""), std::string::npos) << record.out;

  // The rule's activation is asynchronous: wait for it with a deadline.
  std::string echo_id;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (echo_id.empty() && std::chrono::steady_clock::now() < deadline) {
    Outcome list = Wisp({"activation", "list", "echo"});
    if (std::regex_search(list.out, m, std::regex("([0-9a-f]{32}) builtin .* /guest/echo:"))) echo_id = m[1];
  }
  ASSERT_FALSE(echo_id.empty()) << "the rule never ran echo";
  Outcome result = Wisp({"activation", "result", echo_id});
  EXPECT_NE(result.out.find("\"from\": \"trigger\""), std::string::npos) << result.out;
  EXPECT_NE(result.out.find("\"n\": 7"), std::string::npos) << result.out;
}

// A feed is an ordinary action the client invokes with a lifecycle event; a
// built-in echo stands in for it so the test sees exactly what wisp sent.
TEST_F(WskTest, TriggerFeedIsCalledWithCreateAndDelete) {
  Configure();
  ASSERT_EQ(Wisp({"action", "create", "feed", "--kind", "builtin", "echo"}).code, 0);
  Outcome create = Wisp({"trigger", "create", "every", "--feed", "feed", "-p", "cron", "*/5 * * * *"});
  ASSERT_EQ(create.code, 0) << create.err;
  EXPECT_TRUE(std::regex_search(create.out,
                                std::regex("^ok: invoked /_/feed with id [0-9a-f]{32}\nok: created trigger every\n$")))
      << create.out;
  Outcome got = Wisp({"trigger", "get", "every"});
  EXPECT_NE(got.out.find("\"key\": \"feed\""), std::string::npos) << got.out;
  EXPECT_EQ(got.out.find("\"cron\""), std::string::npos) << "feed parameters belong to the feed, not the trigger";
  Outcome seen = Wisp({"activation", "result", "--last"});
  EXPECT_NE(seen.out.find("\"lifecycleEvent\": \"CREATE\""), std::string::npos) << seen.out;
  EXPECT_NE(seen.out.find("\"triggerName\": \"/_/every\""), std::string::npos) << seen.out;
  EXPECT_NE(seen.out.find("\"cron\": \"*/5 * * * *\""), std::string::npos) << seen.out;
  EXPECT_NE(seen.out.find("\"authKey\": \"" + auth_ + "\""), std::string::npos);

  Outcome del = Wisp({"trigger", "delete", "every"});
  EXPECT_EQ(del.code, 0) << del.err;
  EXPECT_NE(del.out.find("ok: deleted trigger every"), std::string::npos);
  EXPECT_NE(Wisp({"activation", "result", "--last"}).out.find("\"lifecycleEvent\": \"DELETE\""), std::string::npos);

  // A feed that cannot be invoked leaves no trigger behind.
  Outcome failed = Wisp({"trigger", "create", "orphan", "--feed", "/whisk.system/nosuch/feed"});
  EXPECT_NE(failed.code, 0);
  EXPECT_NE(failed.err.find("error: Unable to invoke the feed action '/whisk.system/nosuch/feed' with CREATE:"),
            std::string::npos)
      << failed.err;
  EXPECT_EQ(Wisp({"trigger", "get", "orphan"}).code, 404 - 256);
}

// An executable file is a native (actionloop) action; its stderr lines are
// the activation's logs, which --strip shows without the timestamp prefix.
TEST_F(WskTest, ExecutableFileIsANativeActionWithLogs) {
  Configure();
  std::string script = dir_ + "/hello.sh";
  std::ofstream(script)
      << "#!/bin/sh\nwhile read line; do echo 'said hello' >&2; echo '{\"hello\":\"world\"}' >&3; done\n";
  ASSERT_EQ(chmod(script.c_str(), 0755), 0);
  Outcome create = Wisp({"action", "create", "hello", script});
  ASSERT_EQ(create.code, 0) << create.err;
  EXPECT_TRUE(std::regex_search(Wisp({"action", "list"}).out, std::regex("/guest/hello +private native\n")));
  Outcome result = Wisp({"action", "invoke", "hello", "-r"});
  EXPECT_EQ(result.code, 0) << result.err;
  EXPECT_EQ(result.out, "{\n  \"hello\": \"world\"\n}\n");
  Outcome logs = Wisp({"activation", "logs", "--last", "--strip"});
  EXPECT_EQ(logs.code, 0) << logs.err;
  EXPECT_EQ(logs.out, "said hello\n");
  Outcome raw = Wisp({"activation", "logs", "--last"});
  EXPECT_TRUE(std::regex_search(raw.out, std::regex("^\\d{4}-\\d\\d-\\d\\dT[^ ]+Z +stderr: said hello\n$"))) << raw.out;
}

TEST_F(WskTest, SourceFilesAreNodeAndPythonActions) {
  Configure();
  std::ofstream(dir_ + "/hello.js") << "function main(p) { console.log('js says hi'); return {js: p.n + 1}; }\n";
  std::ofstream(dir_ + "/hello.py") << "def main(args):\n    return {'py': args['n'] * 2}\n";
  ASSERT_EQ(Wisp({"action", "create", "js", dir_ + "/hello.js"}).code, 0);
  ASSERT_EQ(Wisp({"action", "create", "py", dir_ + "/hello.py"}).code, 0);
  EXPECT_TRUE(std::regex_search(Wisp({"action", "list"}).out, std::regex("/guest/js +private nodejs:20\n")));
  Outcome js = Wisp({"action", "invoke", "js", "-r", "-p", "n", "1"});
  EXPECT_EQ(js.code, 0) << js.err;
  EXPECT_EQ(js.out, "{\n  \"js\": 2\n}\n");
  EXPECT_EQ(Wisp({"activation", "logs", "--last", "--strip"}).out, "js says hi\n");
  Outcome py = Wisp({"action", "invoke", "py", "-r", "-p", "n", "4"});
  EXPECT_EQ(py.out, "{\n  \"py\": 8\n}\n") << py.err;
}

TEST_F(WskTest, BadArgumentsExitTwoWithAClearMessage) {
  Configure();
  Outcome no_artifact = Wisp({"action", "create", "x"});
  EXPECT_EQ(no_artifact.code, 2);
  EXPECT_NE(no_artifact.err.find("error: An action name and code artifact are required."), std::string::npos);

  Outcome no_file = Wisp({"action", "create", "x", dir_ + "/missing.bin", "--native"});
  EXPECT_EQ(no_file.code, 2);
  EXPECT_NE(no_file.err.find("is not a valid file or it does not exist"), std::string::npos) << no_file.err;

  std::ofstream(dir_ + "/plain.txt") << "hello";
  Outcome unknown_kind = Wisp({"action", "create", "x", dir_ + "/plain.txt"});
  EXPECT_EQ(unknown_kind.code, 2);
  EXPECT_NE(unknown_kind.err.find("Cannot infer the kind"), std::string::npos) << unknown_kind.err;

  Outcome bad_web = Wisp({"action", "create", "x", "--kind", "builtin", "echo", "--web", "maybe"});
  EXPECT_EQ(bad_web.code, 2);
  EXPECT_NE(bad_web.err.find("Invalid argument 'maybe' for --web flag."), std::string::npos) << bad_web.err;

  Outcome unsupported = Wisp({"action", "create", "x", "--kind", "java:8", dir_ + "/plain.txt"});
  EXPECT_EQ(unsupported.code, 400 - 256);
  EXPECT_NE(unsupported.err.find("The specified runtime 'java:8' is not supported"), std::string::npos)
      << unsupported.err;

  EXPECT_EQ(Wisp({"action", "frobnicate"}).code, 2);
  EXPECT_EQ(Wisp({"rule", "create", "only-a-name"}).code, 2);

  Outcome unreachable = Wisp({"--apihost", "http://127.0.0.1:1", "namespace", "list"});
  EXPECT_EQ(unreachable.code, 3);
  EXPECT_NE(unreachable.err.find("error: Unable to obtain the list of available namespaces:"), std::string::npos);
}

TEST_F(WskTest, VerboseShowsTheHttpExchangeWithoutTheKey) {
  Configure();
  Outcome r = Wisp({"-v", "namespace", "list"});
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("REQUEST:\n[GET]\t" + apihost_ + "/api/v1/namespaces\n"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("RESPONSE:Got response with code 200"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("Response body received:\n[\"guest\"]"), std::string::npos) << r.out;
  EXPECT_EQ(r.out.find(auth_.substr(auth_.find(':') + 1)), std::string::npos);  // the secret is not printed
}

// `activation logs` with --grep, --since, --until and --action searches the
// logs of every activation in range; with an id it still shows one.
TEST_F(WskTest, ActivationLogsSearchesAcrossActivations) {
  Configure();
  for (const std::string name : {"alpha", "beta"}) {
    const std::string script = dir_ + "/" + name + ".sh";
    std::ofstream(script) << "#!/bin/sh\nwhile read line; do echo '" + name + " says " +
                                 (name == "alpha" ? "needle" : "hay") +
                                 "' >&2; echo '{}' >&3; done\n";
    ASSERT_EQ(chmod(script.c_str(), 0755), 0);
    ASSERT_EQ(Wisp({"action", "create", name, script}).code, 0);
  }
  std::vector<std::string> alpha_ids;
  std::smatch m;
  for (const char* name : {"alpha", "beta", "alpha"}) {
    Outcome invoke = Wisp({"action", "invoke", name, "-b"});
    ASSERT_TRUE(std::regex_search(invoke.out, m, std::regex("with id ([0-9a-f]{32})"))) << invoke.out;
    if (std::string(name) == "alpha") alpha_ids.push_back(m[1]);
  }

  Outcome needle = Wisp({"activation", "logs", "--grep", "needle", "--strip"});
  EXPECT_EQ(needle.code, 0) << needle.err;
  EXPECT_EQ(needle.out, alpha_ids[0] + " /guest/alpha alpha says needle\n" + alpha_ids[1] +
                            " /guest/alpha alpha says needle\n");  // oldest first

  Outcome beta = Wisp({"activation", "logs", "--action", "beta"});
  EXPECT_TRUE(std::regex_match(beta.out, std::regex("[0-9a-f]{32} /guest/beta \\S+Z +stderr: beta says hay\n")))
      << beta.out;
  const std::string recent = Wisp({"activation", "logs", "--since", "10m", "--grep", "says"}).out;
  EXPECT_EQ(std::count(recent.begin(), recent.end(), '\n'), 3) << recent;
  EXPECT_EQ(Wisp({"activation", "logs", "--since", "2200-01-01", "--grep", "says"}).out, "");
  EXPECT_EQ(Wisp({"activation", "logs", "--until", "1", "--grep", "says"}).out, "");
  EXPECT_EQ(Wisp({"activation", "logs", "--grep", "needle", "--limit", "1", "--strip"}).out,
            alpha_ids[1] + " /guest/alpha alpha says needle\n");

  // The single-activation form, with a --grep that filters its lines.
  EXPECT_EQ(Wisp({"activation", "logs", alpha_ids[0], "--strip"}).out, "alpha says needle\n");
  EXPECT_EQ(Wisp({"activation", "logs", alpha_ids[0], "--grep", "hay"}).out, "");

  Outcome bare = Wisp({"activation", "logs"});
  EXPECT_EQ(bare.code, 2);
  EXPECT_NE(bare.err.find("An activation ID is required"), std::string::npos) << bare.err;
  Outcome bad_time = Wisp({"activation", "logs", "--since", "yesterday"});
  EXPECT_EQ(bad_time.code, 2);
  EXPECT_NE(bad_time.err.find("'yesterday' is not a time"), std::string::npos) << bad_time.err;
}

// `wisp trace ID` prints the tree of a trace; an activation id stands for
// the trace it belongs to.
TEST_F(WskTest, TraceShowsASequenceAndItsComponents) {
  Configure();
  ASSERT_EQ(Wisp({"action", "create", "echo", "--kind", "builtin", "echo"}).code, 0);
  ASSERT_EQ(Wisp({"action", "create", "twice", "--sequence", "echo,echo"}).code, 0);
  Outcome invoke = Wisp({"action", "invoke", "twice", "-b"});
  std::smatch m;
  ASSERT_TRUE(std::regex_search(invoke.out, m, std::regex("with id ([0-9a-f]{32})"))) << invoke.out;
  const std::string id = m[1];

  Outcome trace = Wisp({"trace", id});
  EXPECT_EQ(trace.code, 0) << trace.err;
  EXPECT_TRUE(std::regex_search(
      trace.out,
      std::regex("^trace [0-9a-f]{32} in guest: 3 activations, 0 errors, \\d+ ms\n"
                 "sequence guest/twice  success  \\d+ ms  (waited \\d+ ms  )?" + id + "\n")))
      << trace.out;
  EXPECT_TRUE(std::regex_search(trace.out, std::regex("\u251c\u2500 action guest/echo  success  \\d+ ms  warm")))
      << trace.out;
  EXPECT_TRUE(std::regex_search(trace.out, std::regex("\u2514\u2500 action guest/echo  success  \\d+ ms  warm")))
      << trace.out;

  Outcome as_json = Wisp({"trace", id, "--json"});
  EXPECT_NE(as_json.out.find("\"type\": \"sequence\""), std::string::npos) << as_json.out;
  Outcome missing = Wisp({"trace", "nosuchtrace"});
  EXPECT_EQ(missing.code, 404 - 256);
}

}  // namespace
}  // namespace wisp
