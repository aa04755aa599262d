// The interpreted kinds (nodejs:20, python:3) in NativeRuntime's pools, with
// the real interpreters and wisp's launchers: loading, results, logs, the
// environment, zips, the bad inputs and the stem cells.
#include "whisk/language_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <filesystem>
#include <set>
#include <thread>

#include "testing/temp_dir.h"
#include "testing/zip_archive.h"
#include "util/ids.h"
#include "whisk/native_runtime.h"

namespace wisp::whisk {
namespace {

using std::chrono::milliseconds;
using ::testing::AllOf;
using ::testing::Contains;
using ::testing::HasSubstr;
using testing::MakeZip;
using ::testing::StartsWith;

constexpr milliseconds kWait{20'000};

bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

class LanguageRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    Result<std::map<std::string, std::shared_ptr<Language>>> languages =
        CreateLanguages(stem_cells_, dir_.path() + "/launchers");
    ASSERT_TRUE(languages.ok()) << languages.status().ToString();
    languages_ = *languages;
    ASSERT_TRUE(languages_.count("nodejs:20")) << "node is needed for these tests";
    ASSERT_TRUE(languages_.count("python:3")) << "python3 is needed for these tests";
    NativeRuntime::Options options;
    options.scratch_dir = dir_.path() + "/native";
    options.api_host = "http://127.0.0.1:3233";
    options.languages = languages_;
    auto runtime = NativeRuntime::Create(options);
    ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
    runtime_ = std::move(*runtime);
  }

  static ActionCode Code(const std::string& kind, const std::string& name, const std::string& text) {
    ActionCode code;
    code.pool_key = "/guest/" + name + "@0.0.1";
    code.action = "guest/" + name;
    code.kind = kind;
    code.code = text;
    return code;
  }
  static ActionCode Node(const std::string& name, const std::string& text) { return Code("nodejs:20", name, text); }
  static ActionCode Python(const std::string& name, const std::string& text) { return Code("python:3", name, text); }

  static RunRequest Request(Json value = Json::object(), milliseconds timeout = kWait) {
    RunRequest request;
    request.value = std::move(value);
    request.namespace_name = "guest";
    request.action_name = "/guest/lang";
    request.action_version = "0.0.1";
    request.activation_id = NewId();
    request.transaction_id = "tid-" + NewId();
    request.timeout = timeout;
    return request;
  }

  RunOutcome Run(const ActionCode& code, RunRequest request = Request()) {
    actions_run_.insert(code.action);
    return runtime_->Run(code, request);
  }

  // Every process of the runtime ended and, once the actions are deleted
  // (retired), their installed code is gone too.
  void ExpectNothingLeft() {
    EXPECT_TRUE(runtime_->WaitForProcessesAtMost(0, kWait));
    for (const std::string& action : actions_run_) runtime_->Retire(action, "");
    std::vector<std::string> left;
    for (const auto& entry : std::filesystem::directory_iterator(dir_.path() + "/native")) {
      if (entry.path() != NativeRuntime::CodeRoot(dir_.path() + "/native")) left.push_back(entry.path().string());
    }
    for (const auto& entry : std::filesystem::directory_iterator(NativeRuntime::CodeRoot(dir_.path() + "/native"))) {
      left.push_back(entry.path().string());
    }
    EXPECT_TRUE(left.empty()) << left.front();
  }

  testing::TempDir dir_;
  std::string stem_cells_ = "nodejs:20=0,python:3=0";
  std::set<std::string> actions_run_;
  std::map<std::string, std::shared_ptr<Language>> languages_;
  std::unique_ptr<NativeRuntime> runtime_;
};

TEST_F(LanguageRuntimeTest, NodeActionReturnsLogsAndStaysWarm) {
  ActionCode code = Node("hello",
                         "function main(params) {\n"
                         "  console.log('hello ' + params.name);\n"
                         "  console.error('to stderr');\n"
                         "  return {greeting: 'Hello, ' + params.name, pid: process.pid,\n"
                         "          activation: process.env.__OW_ACTIVATION_ID, ns: process.env.__OW_NAMESPACE};\n"
                         "}\n");
  RunRequest request = Request({{"name", "Ada"}});
  RunOutcome first = Run(code, request);
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  EXPECT_EQ(first.result["greeting"], "Hello, Ada");
  EXPECT_EQ(first.result["activation"], request.activation_id);
  EXPECT_EQ(first.result["ns"], "guest");
  EXPECT_TRUE(first.cold);
  ASSERT_EQ(first.logs.size(), 2u) << ::testing::PrintToString(first.logs);
  EXPECT_THAT(first.logs[0], HasSubstr(" stdout: hello Ada"));
  EXPECT_THAT(first.logs[1], HasSubstr(" stderr: to stderr"));

  RunRequest again = Request({{"name", "Grace"}});
  RunOutcome second = Run(code, again);
  ASSERT_EQ(second.status, ActivationStatus::kSuccess) << second.result;
  EXPECT_FALSE(second.cold);
  EXPECT_EQ(second.result["pid"], first.result["pid"]);
  EXPECT_EQ(second.result["activation"], again.activation_id);
  ASSERT_EQ(second.logs.size(), 2u) << "each activation has only its own lines";
  EXPECT_THAT(second.logs[0], HasSubstr("hello Grace"));
}

TEST_F(LanguageRuntimeTest, NodeExportsMainPromisesAndErrors) {
  ActionCode exported = Node("exported", "exports.handler = async (p) => ({twice: p.n * 2});\n");
  exported.main = "handler";
  RunOutcome out = Run(exported, Request({{"n", 21}}));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_EQ(out.result, Json({{"twice", 42}}));

  RunOutcome later =
      Run(Node("later", "function main() { return new Promise(r => setTimeout(() => r({done: true}), 5)); }"));
  EXPECT_EQ(later.result, Json({{"done", true}}));

  RunOutcome error = Run(Node("error", "function main() { return {error: 'bad input', other: 1}; }"));
  EXPECT_EQ(error.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(error.result, Json({{"error", "bad input"}}));

  RunOutcome rejected = Run(Node("rejected", "async function main() { throw new Error('boom'); }"));
  EXPECT_EQ(rejected.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(rejected.result, Json({{"error", "An error has occurred: Error: boom"}}));
  EXPECT_THAT(rejected.logs, Contains(AllOf(HasSubstr("stderr: Error: boom"))));

  RunOutcome thrown = Run(Node("thrown", "function main() { null.x; }"));
  EXPECT_EQ(thrown.status, ActivationStatus::kApplicationError);
  EXPECT_THAT(thrown.result["error"].get<std::string>(), StartsWith("An error has occurred: TypeError"));
}

TEST_F(LanguageRuntimeTest, NodeLoadFailuresAreInitializationErrors) {
  RunOutcome syntax = Run(Node("syntax", "function main() {\n  return {a: };\n}\n"));
  EXPECT_EQ(syntax.status, ActivationStatus::kDeveloperError);
  EXPECT_TRUE(syntax.cold);
  EXPECT_THAT(syntax.result["error"].get<std::string>(),
              StartsWith("The action failed during initialization: SyntaxError"));
  EXPECT_THAT(syntax.logs, Contains(HasSubstr("main.js:2")));

  RunOutcome no_main = Run(Node("nomain", "function other() { return {}; }"));
  EXPECT_EQ(no_main.status, ActivationStatus::kDeveloperError);
  EXPECT_THAT(no_main.result["error"].get<std::string>(), HasSubstr("the action has no function 'main'"));

  RunOutcome empty = Run(Node("empty", ""));
  EXPECT_EQ(empty.result, Json({{"error", "Missing main/no code to execute."}}));
  ExpectNothingLeft();
}

TEST_F(LanguageRuntimeTest, NodeBadRunsAreDeveloperErrors) {
  RunOutcome never = Run(Node("never", "function main() { return new Promise(() => {}); }"),
                         Request(Json::object(), milliseconds(500)));
  EXPECT_EQ(never.status, ActivationStatus::kDeveloperError);
  EXPECT_TRUE(never.timeout);
  EXPECT_EQ(never.result, Json({{"error", "The action exceeded its time limits of 500 milliseconds."}}));

  RunOutcome exits = Run(Node("exits", "function main() { console.log('bye'); process.exit(3); }"));
  EXPECT_EQ(exits.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(exits.result, Json({{"error", "The action did not produce a valid response and exited unexpectedly."}}));
  EXPECT_THAT(exits.logs, Contains(HasSubstr("stdout: bye")));
  ExpectNothingLeft();

  // A wrong answer leaves the process in step: it stays warm.
  RunOutcome scalar = Run(Node("scalar", "function main() { return 'just text'; }"));
  EXPECT_EQ(scalar.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(scalar.result,
            Json({{"error", "The action did not produce a valid JSON or JSON Array response: \"just text\""}}));
  EXPECT_EQ(runtime_->GetStats().idle, 1);
}

TEST_F(LanguageRuntimeTest, NodeZipRequiresItsOwnNodeModules) {
  ActionCode code = Node("zipped", "");
  code.binary = true;
  code.code = MakeZip(dir_.path() + "/node.zip",
                      {{"package.json", R"({"name":"zipped","main":"lib/entry.js"})"},
                       {"lib/entry.js",
                        "const shout = require('shout');\n"
                        "exports.main = (p) => ({said: shout(p.word)});\n"},
                       {"node_modules/shout/index.js", "module.exports = (s) => s.toUpperCase() + '!';\n"}});
  RunOutcome out = Run(code, Request({{"word", "hi"}}));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result << ::testing::PrintToString(out.logs);
  EXPECT_EQ(out.result, Json({{"said", "HI!"}}));

  ActionCode escape = Node("escape", "");
  escape.binary = true;
  escape.code = MakeZip(dir_.path() + "/escape.zip", {{"index.js", "exports.main = () => ({})"}, {"../evil", "x"}});
  RunOutcome refused = Run(escape);
  EXPECT_EQ(refused.status, ActivationStatus::kDeveloperError);
  EXPECT_THAT(refused.result["error"].get<std::string>(), HasSubstr("entry outside its root: ../evil"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/native/evil"));
}

TEST_F(LanguageRuntimeTest, PythonActionsFilesZipsAndVirtualenvs) {
  RunOutcome out =
      Run(Python("py",
                 "import os\n"
                 "def main(args):\n"
                 "    print('hello', args.get('name'))\n"
                 "    return {'greeting': 'Hello, ' + args.get('name'), 'ns': os.environ['__OW_NAMESPACE']}\n"),
          Request({{"name", "Ada"}}));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result << ::testing::PrintToString(out.logs);
  EXPECT_EQ(out.result, Json({{"greeting", "Hello, Ada"}, {"ns", "guest"}}));
  ASSERT_EQ(out.logs.size(), 1u) << ::testing::PrintToString(out.logs);
  EXPECT_THAT(out.logs[0], HasSubstr("stdout: hello Ada"));

  ActionCode zip = Python("pyzip", "");
  zip.binary = true;
  zip.code = MakeZip(dir_.path() + "/py.zip",
                     {{"__main__.py",
                       "import helper\nimport vendored\n"
                       "def main(args):\n    return {'v': helper.value() + vendored.VALUE}\n"},
                      {"helper.py", "def value():\n    return 'helper+'\n"},
                      {"virtualenv/lib/python3.11/site-packages/vendored.py", "VALUE = 'vendored'\n"},
                      {"virtualenv/lib/python3.9/site-packages/vendored.py", "VALUE = 'vendored'\n"}});
  RunOutcome zipped = Run(zip);
  ASSERT_EQ(zipped.status, ActivationStatus::kSuccess) << zipped.result << ::testing::PrintToString(zipped.logs);
  EXPECT_EQ(zipped.result, Json({{"v", "helper+vendored"}}));
}

TEST_F(LanguageRuntimeTest, PythonBadInputs) {
  RunOutcome syntax = Run(Python("pysyntax", "def main(args)\n    return {}\n"));
  EXPECT_EQ(syntax.status, ActivationStatus::kDeveloperError);
  EXPECT_THAT(syntax.result["error"].get<std::string>(),
              StartsWith("The action failed during initialization: SyntaxError"));

  RunOutcome no_main = Run(Python("pynomain", "def other(args):\n    return {}\n"));
  EXPECT_THAT(no_main.result["error"].get<std::string>(), HasSubstr("the action has no function 'main'"));

  RunOutcome slow = Run(Python("pyslow", "import time\ndef main(args):\n    time.sleep(60)\n"),
                        Request(Json::object(), milliseconds(500)));
  EXPECT_TRUE(slow.timeout);
  EXPECT_EQ(slow.status, ActivationStatus::kDeveloperError);

  RunOutcome exits = Run(Python("pyexit", "import os\ndef main(args):\n    os._exit(2)\n"));
  EXPECT_EQ(exits.result, Json({{"error", "The action did not produce a valid response and exited unexpectedly."}}));
  ExpectNothingLeft();

  RunOutcome raised = Run(Python("pyraise", "def main(args):\n    raise ValueError('nope')\n"));
  EXPECT_EQ(raised.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(raised.result, Json({{"error", "An error has occurred: ValueError: nope"}}));
  EXPECT_THAT(raised.logs, Contains(HasSubstr("stderr: ValueError: nope")));

  RunOutcome scalar = Run(Python("pyscalar", "def main(args):\n    return 42\n"));
  EXPECT_EQ(scalar.status, ActivationStatus::kDeveloperError);
}

class StemCellTest : public LanguageRuntimeTest {
 protected:
  StemCellTest() { stem_cells_ = "nodejs:default=1,python:3=1"; }
};

TEST_F(StemCellTest, ColdStartTakesAPrewarmedProcessAndOneTakesItsPlace) {
  Language& node = *languages_.at("nodejs:20");
  ASSERT_TRUE(node.WaitForStemCells(1, kWait));
  const std::vector<int> ready = node.StemCellPids();
  ASSERT_EQ(ready.size(), 1u);
  RunOutcome out = Run(Node("stem", "function main() { return {pid: process.pid, dir: process.cwd()}; }"));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_TRUE(out.cold);
  EXPECT_EQ(out.result["pid"], ready[0]) << "the stem cell ran the action";
  EXPECT_THAT(out.result["dir"].get<std::string>(), StartsWith(NativeRuntime::CodeRoot(dir_.path() + "/native") + "/"));
  ASSERT_TRUE(node.WaitForStemCells(1, kWait)) << "a new stem cell replaces the one taken";
  EXPECT_NE(node.StemCellPids().at(0), ready[0]);

  Language& python = *languages_.at("python:3");
  ASSERT_TRUE(python.WaitForStemCells(1, kWait));
  const int py_pid = python.StemCellPids().at(0);
  RunOutcome py = Run(Python("pystem", "import os\ndef main(args):\n    return {'pid': os.getpid()}\n"));
  EXPECT_EQ(py.result["pid"], py_pid);

  runtime_->Shutdown();  // also stops the stem cells
  EXPECT_EQ(node.ReadyStemCells(), 0);
  const auto gone = std::chrono::steady_clock::now() + kWait;
  while (ProcessExists(py_pid) && std::chrono::steady_clock::now() < gone) std::this_thread::yield();
  EXPECT_FALSE(ProcessExists(py_pid));
}

TEST(ParseStemCells, AcceptsKindsAndRejectsTheRest) {
  Result<std::map<std::string, int>> counts = ParseStemCells("nodejs:default=2,python:3=0");
  ASSERT_TRUE(counts.ok()) << counts.status().ToString();
  EXPECT_EQ(*counts, (std::map<std::string, int>{{"nodejs:20", 2}, {"python:3", 0}}));
  EXPECT_TRUE(ParseStemCells("").ok());
  EXPECT_FALSE(ParseStemCells("java:8=1").ok());
  EXPECT_FALSE(ParseStemCells("nodejs:20").ok());
  EXPECT_FALSE(ParseStemCells("nodejs:20=-1").ok());
  EXPECT_FALSE(ParseStemCells("nodejs:20=x").ok());
}

// A sandboxed stem cell binds the code root when it starts, which may be
// before the runtime exists: the root must be there already, and the
// runtime must not replace it (a bind of a removed directory is a dead tree,
// and bwrap refuses a missing one: "Can't find source path").
TEST(CodeRoot, ExistsOnceTheLanguagesAreCreated) {
  testing::TempDir dir;
  const std::string code_root = NativeRuntime::CodeRoot(dir.path() + "/native");
  Result<std::map<std::string, std::shared_ptr<Language>>> languages =
      CreateLanguages("", dir.path() + "/launchers", nullptr, code_root);
  ASSERT_TRUE(languages.ok()) << languages.status().ToString();
  EXPECT_TRUE(std::filesystem::is_directory(code_root));
}

TEST(CodeRoot, RuntimeEmptiesALeftoverRootWithoutReplacingIt) {
  testing::TempDir dir;
  const std::string scratch = dir.path() + "/native";
  const std::string code_root = NativeRuntime::CodeRoot(scratch);
  std::filesystem::create_directories(code_root + "/leftover/deep");
  // What a stem cell's bind mount holds: this directory, not its path.
  const int held = open(code_root.c_str(), O_RDONLY | O_DIRECTORY);
  ASSERT_GE(held, 0);
  NativeRuntime::Options options;
  options.scratch_dir = scratch;
  auto runtime = NativeRuntime::Create(options);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  struct stat st {};
  ASSERT_EQ(fstat(held, &st), 0);
  close(held);
  EXPECT_GT(st.st_nlink, 0u) << "the code root was removed while something held it";
  EXPECT_FALSE(std::filesystem::exists(code_root + "/leftover"));
}

}  // namespace
}  // namespace wisp::whisk
