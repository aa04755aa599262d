// The action sandbox (sandbox.h) and the memory limit, with real processes:
// what an action cannot read, that a timeout ends every process it started,
// and that running out of memory is an activation error. The bwrap cases are
// skipped (with the probe's reason) where bubblewrap cannot run; each one
// first runs the same action without the sandbox, to show that the setup
// would let it through.
#include "whisk/sandbox.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "testing/temp_dir.h"
#include "util/base64.h"
#include "util/ids.h"
#include "whisk/language_runtime.h"
#include "whisk/native_runtime.h"

namespace wisp::whisk {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;

constexpr milliseconds kWait{20'000};
constexpr char kOutOfMemory[] = "The action exhausted its memory and was aborted.";

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// The processes whose command line contains `marker`.
int ProcessesWith(const std::string& marker) {
  int count = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) ++count;
  }
  return count;
}

bool WaitForNoProcessWith(const std::string& marker, milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (ProcessesWith(marker) > 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(10));
  }
  return true;
}

void KillProcessesWith(const std::string& marker) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::isdigit(static_cast<unsigned char>(name[0]))) continue;
    std::string cmdline = ReadFile(entry.path().string() + "/cmdline");
    std::replace(cmdline.begin(), cmdline.end(), '\0', ' ');
    if (cmdline.find(marker) != std::string::npos) kill(std::stoi(name), SIGKILL);
  }
}

class SandboxTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(dir_.path().empty());
    // What the store keeps: an action must not see it.
    std::ofstream(dir_.path() + "/_users.sqlite") << "store secret";
  }

  // A sandbox that works here, or the reason the test is skipped.
  static std::shared_ptr<const Sandbox> WorkingSandbox() {
    static const auto sandbox = std::make_shared<const Sandbox>(Sandbox::Probe({}));
    return sandbox;
  }

  std::unique_ptr<NativeRuntime> MakeRuntime(std::shared_ptr<const Sandbox> sandbox, const std::string& name,
                                             std::map<std::string, std::shared_ptr<Language>> languages = {}) {
    NativeRuntime::Options options;
    options.scratch_dir = dir_.path() + "/" + name;
    options.api_host = "http://127.0.0.1:3233";
    options.sandbox = std::move(sandbox);
    options.languages = std::move(languages);
    auto runtime = NativeRuntime::Create(options);
    EXPECT_TRUE(runtime.ok()) << runtime.status().ToString();
    return runtime.ok() ? std::move(*runtime) : nullptr;
  }

  static ActionCode Script(const std::string& name, const std::string& text) {
    ActionCode code;
    code.pool_key = "/guest/" + name + "@0.0.1";
    code.action = "guest/" + name;
    code.kind = "native";
    code.code = text;
    return code;
  }

  static ActionCode Probe() {
    ActionCode code;
    code.pool_key = "/guest/probe@0.0.1";
    code.kind = "native";
    code.binary = true;
    code.code = Base64Encode(ReadFile(PROBE_ACTION));
    code.wait_for_ack = true;
    return code;
  }

  static RunRequest Request(Json value = Json::object(), milliseconds timeout = kWait) {
    RunRequest request;
    request.value = std::move(value);
    request.namespace_name = "guest";
    request.action_name = "/guest/probe";
    request.activation_id = NewId();
    request.timeout = timeout;
    return request;
  }

  wisp::testing::TempDir dir_;
};

TEST_F(SandboxTest, ProbeSaysWhyWhenBubblewrapIsMissing) {
  Sandbox::Options options;
  options.bwrap = dir_.path() + "/no-bwrap-here";
  Sandbox sandbox = Sandbox::Probe(options);
  EXPECT_FALSE(sandbox.active());
  EXPECT_THAT(sandbox.unavailable_reason(), HasSubstr("bubblewrap"));
}

// The native action of the test below: what it could read and write.
constexpr char kSnoop[] = R"sh(#!/bin/sh
while read -r line; do
  if cat "$DATA/_users.sqlite" >/dev/null 2>&1; then store=readable; else store=hidden; fi
  if ls "$DATA" 2>/dev/null | grep -q sqlite; then data=listed; else data=hidden; fi
  others=$(ls "$CODE_ROOT" 2>/dev/null | wc -l)
  if touch ./planted 2>/dev/null; then code=writable; else code=read-only; fi
  if echo x > "$TMPFILE" 2>/dev/null; then tmp=writable; else tmp=none; fi
  if ls /root >/dev/null 2>&1 && [ -n "$(ls -A /root 2>/dev/null)" ]; then home=listed; else home=hidden; fi
  echo "{\"store\":\"$store\",\"data\":\"$data\",\"others\":$others,\"code\":\"$code\",\"tmp\":\"$tmp\",\"home\":\"$home\"}" >&3
done
)sh";

TEST_F(SandboxTest, NativeActionCannotReadTheStoreOrOtherActionsCode) {
  auto sandbox = WorkingSandbox();
  if (!sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  ActionCode code = Script("snoop", kSnoop);
  const std::string tmp_file = "/tmp/wisp-sandbox-test-" + NewId();
  code.init_env = {{"DATA", dir_.path()}, {"TMPFILE", tmp_file}};
  const ActionCode other = Script("other", "#!/bin/sh\nwhile read -r line; do echo '{}' >&3; done\n");

  // Without the sandbox the same action reads the store: the setup is sound.
  auto plain = MakeRuntime(nullptr, "plain");
  ASSERT_EQ(plain->Run(other, Request()).status, ActivationStatus::kSuccess);
  code.init_env["CODE_ROOT"] = NativeRuntime::CodeRoot(dir_.path() + "/plain");
  RunOutcome open = plain->Run(code, Request());
  ASSERT_EQ(open.status, ActivationStatus::kSuccess) << open.result;
  EXPECT_EQ(open.result["store"], "readable");
  EXPECT_EQ(open.result["data"], "listed");
  EXPECT_EQ(open.result["others"], 2) << "its own code and the other action's";
  EXPECT_TRUE(std::filesystem::remove(tmp_file)) << "it wrote wisp's /tmp";

  auto confined = MakeRuntime(sandbox, "sandboxed");
  ASSERT_EQ(confined->Run(other, Request()).status, ActivationStatus::kSuccess);
  code.init_env["CODE_ROOT"] = NativeRuntime::CodeRoot(dir_.path() + "/sandboxed");
  RunOutcome out = confined->Run(code, Request());
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_EQ(out.result["store"], "hidden");
  EXPECT_EQ(out.result["data"], "hidden");
  EXPECT_EQ(out.result["others"], 1) << "only its own code";
  EXPECT_EQ(out.result["code"], "read-only");
  EXPECT_EQ(out.result["tmp"], "writable");
  EXPECT_EQ(out.result["home"], "hidden");
  EXPECT_FALSE(std::filesystem::exists(tmp_file)) << "its /tmp is its own";
}

TEST_F(SandboxTest, TimeoutEndsEveryProcessTheActionStartedEvenOutsideItsGroup) {
  auto sandbox = WorkingSandbox();
  if (!sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  // A grandchild in a session of its own, which a process-group kill misses;
  // its unique sleep time marks it in /proc.
  const std::string marker = "7" + std::to_string(NewId().size() * 1000 + (getpid() % 1000)) + ".25";
  const std::string text = "#!/bin/sh\nread -r line\nsetsid sleep " + marker + " >/dev/null 2>&1 &\nsleep 600\n";

  auto plain = MakeRuntime(nullptr, "plain");
  RunOutcome escaped = plain->Run(Script("escape", text), Request(Json::object(), milliseconds(1500)));
  EXPECT_TRUE(escaped.timeout);
  EXPECT_EQ(ProcessesWith("sleep " + marker), 1) << "without the sandbox the grandchild survives";
  KillProcessesWith("sleep " + marker);
  ASSERT_TRUE(WaitForNoProcessWith("sleep " + marker, kWait));

  auto confined = MakeRuntime(sandbox, "sandboxed");
  RunOutcome out = confined->Run(Script("escape", text), Request(Json::object(), milliseconds(1500)));
  EXPECT_TRUE(out.timeout);
  EXPECT_EQ(out.result["error"], "The action exceeded its time limits of 1500 milliseconds.");
  EXPECT_TRUE(WaitForNoProcessWith("sleep " + marker, kWait)) << "a process of the action outlived its timeout";
}

TEST_F(SandboxTest, NetworkCanBeTakenAway) {
  auto sandbox = WorkingSandbox();
  if (!sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  // The network interfaces the action sees, from its /proc.
  const std::string text =
      "#!/bin/sh\nwhile read -r line; do n=$(tail -n +3 /proc/net/dev | wc -l); "
      "echo \"{\\\"interfaces\\\":$n}\" >&3; done\n";
  std::istringstream host(ReadFile("/proc/net/dev"));
  int host_interfaces = -2;  // two header lines
  for (std::string line; std::getline(host, line);) ++host_interfaces;

  auto confined = MakeRuntime(sandbox, "sandboxed");
  RunRequest request = Request();
  request.network = false;
  RunOutcome off = confined->Run(Script("net-off", text), request);
  ASSERT_EQ(off.status, ActivationStatus::kSuccess) << off.result;
  EXPECT_EQ(off.result["interfaces"], 1) << "only a loopback of its own";
  request.network = true;
  RunOutcome on = confined->Run(Script("net-on", text), request);
  ASSERT_EQ(on.status, ActivationStatus::kSuccess) << on.result;
  EXPECT_EQ(on.result["interfaces"], host_interfaces) << "wisp's own network";
}

// The memory limit holds with or without bwrap (prlimit applies it).
class MemoryLimitTest : public SandboxTest, public ::testing::WithParamInterface<bool> {
 protected:
  std::shared_ptr<const Sandbox> SandboxUnderTest() {
    if (!GetParam()) return std::make_shared<const Sandbox>(Sandbox::Disabled("test", {}));
    return WorkingSandbox();
  }
};

TEST_P(MemoryLimitTest, NativeActionOverItsMemoryEndsWithTheMemoryError) {
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
  // The probe is built with ASan or TSan here, whose shadow memory reserves
  // terabytes of private memory, which RLIMIT_DATA counts: no memory limit
  // lets it start. The plain build runs this test.
  GTEST_SKIP() << "a sanitizer-built probe cannot start under a data-size limit (RLIMIT_DATA)";
#endif
  auto sandbox = SandboxUnderTest();
  if (GetParam() && !sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  auto runtime = MakeRuntime(sandbox, "native");
  RunRequest within = Request({{"alloc_mb", 32}});
  within.memory_bytes = 128ull << 20;
  RunOutcome fits = runtime->Run(Probe(), within);
  ASSERT_EQ(fits.status, ActivationStatus::kSuccess) << fits.result;
  EXPECT_EQ(fits.result["allocated_mb"], 32);

  RunRequest over = Request({{"alloc_mb", 1024}});
  over.memory_bytes = 128ull << 20;
  RunOutcome out = runtime->Run(Probe(), over);
  EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(out.result["error"], kOutOfMemory);
}

TEST_P(MemoryLimitTest, InterpretedActionsOverTheirMemoryEndWithTheMemoryError) {
  auto sandbox = SandboxUnderTest();
  if (GetParam() && !sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  Result<std::map<std::string, std::shared_ptr<Language>>> languages =
      CreateLanguages("nodejs:20=0,python:3=0", dir_.path() + "/launchers", sandbox,
                      NativeRuntime::CodeRoot(dir_.path() + "/languages"));
  ASSERT_TRUE(languages.ok()) << languages.status().ToString();
  ASSERT_TRUE(languages->count("nodejs:20") && languages->count("python:3")) << "node and python3 are needed";
  auto runtime = MakeRuntime(sandbox, "languages", *languages);

  struct Case {
    const char* kind;
    const char* fits;
    const char* grows;
  };
  const Case cases[] = {
      {"python:3", "def main(args):\n    b = bytearray(16 << 20)\n    return {'ok': len(b)}\n",
       "def main(args):\n    keep = []\n    while True:\n        keep.append(bytearray(16 << 20))\n"},
      {"nodejs:20", "function main() { const a = new Array(1e5).fill(1); return {ok: a.length}; }\n",
       "function main() { const keep = []; while (true) keep.push(new Array(1e6).fill(Math.random())); }\n"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.kind);
    ActionCode fits;
    fits.kind = c.kind;
    fits.pool_key = std::string("/guest/fits-") + c.kind;
    fits.code = c.fits;
    RunRequest request = Request();
    request.memory_bytes = 128ull << 20;
    RunOutcome ok = runtime->Run(fits, request);
    EXPECT_EQ(ok.status, ActivationStatus::kSuccess) << ok.result;

    ActionCode grows = fits;
    grows.pool_key = std::string("/guest/grows-") + c.kind;
    grows.code = c.grows;
    RunOutcome out = runtime->Run(grows, request);
    EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
    EXPECT_EQ(out.result["error"], kOutOfMemory) << ::testing::PrintToString(out.logs);
    EXPECT_FALSE(out.timeout);
  }
}

INSTANTIATE_TEST_SUITE_P(WithAndWithoutBwrap, MemoryLimitTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Sandboxed") : std::string("Plain");
                         });

TEST_F(SandboxTest, LanguageActionsRunInTheSandboxFromStemCells) {
  auto sandbox = WorkingSandbox();
  if (!sandbox->active()) GTEST_SKIP() << "no sandbox here: " << sandbox->unavailable_reason();
  Result<std::map<std::string, std::shared_ptr<Language>>> languages = CreateLanguages(
      "nodejs:20=1,python:3=1", dir_.path() + "/launchers", sandbox, NativeRuntime::CodeRoot(dir_.path() + "/langs"));
  ASSERT_TRUE(languages.ok()) << languages.status().ToString();
  for (const auto& [kind, language] : *languages) ASSERT_TRUE(language->WaitForStemCells(1, kWait)) << kind;
  auto runtime = MakeRuntime(sandbox, "langs", *languages);
  const std::string store = dir_.path() + "/_users.sqlite";
  ActionCode node;
  node.kind = "nodejs:20";
  node.pool_key = "/guest/node-snoop";
  node.code = "const fs = require('fs');\nfunction main() { return {store: fs.existsSync('" + store +
              "'), own: fs.existsSync(__filename)}; }\n";
  ActionCode python;
  python.kind = "python:3";
  python.pool_key = "/guest/python-snoop";
  // The code root (0311) holds every action's code: it cannot be listed.
  python.code = "import os\ndef main(args):\n    try:\n        others = len(os.listdir(os.path.dirname(os.getcwd())))\n"
                "    except PermissionError:\n        others = 'denied'\n"
                "    return {'store': os.path.exists('" + store + "'), 'own': os.path.exists(__file__), 'others': others}\n";
  for (const ActionCode& code : {node, python}) {
    SCOPED_TRACE(code.kind);
    RunRequest request = Request();
    request.memory_bytes = 256ull << 20;  // the stem cells' memory
    RunOutcome out = runtime->Run(code, request);
    ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result << ::testing::PrintToString(out.logs);
    EXPECT_EQ(out.result["store"], false);
    EXPECT_EQ(out.result["own"], true);
  }
  RunRequest request = Request();
  request.memory_bytes = 256ull << 20;
  EXPECT_EQ(runtime->Run(python, request).result["others"], "denied");
}

}  // namespace
}  // namespace wisp::whisk
