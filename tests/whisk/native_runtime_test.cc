// NativeRuntime against real child processes: the SDK's probe action
// (tests/whisk/actions/probe_action.cc), the hello example, and small shell
// scripts written by the tests.
#include "whisk/native_runtime.h"

#include <dirent.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <signal.h>
#include <sys/stat.h>
#include <zip.h>
#include <filesystem>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "testing/temp_dir.h"
#include "testing/zip_archive.h"
#include "util/base64.h"
#include "util/ids.h"
#include "whisk/actionloop_process.h"

namespace wisp::whisk {
namespace {

using std::chrono::milliseconds;
using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr milliseconds kWait{10'000};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

// True while `pid` names a process that is not yet reaped (zombies count:
// they are exactly what must not be left behind).
bool ProcessExists(pid_t pid) { return kill(pid, 0) == 0 || errno != ESRCH; }

// True while `pid` runs (a zombie does not run). For grandchildren, which
// whoever adopts them reaps.
bool ProcessRuns(pid_t pid) {
  std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
  std::string text;
  std::getline(stat, text);
  if (text.empty()) return false;
  const size_t close = text.rfind(')');
  return close != std::string::npos && close + 2 < text.size() && text[close + 2] != 'Z';
}

int OpenFdCount() {
  int count = 0;
  DIR* dir = opendir("/proc/self/fd");
  while (dirent* entry = readdir(dir)) {
    if (entry->d_name[0] != '.') ++count;
  }
  closedir(dir);
  return count - 1;  // the directory's own descriptor
}

// Waits for `condition` with a deadline (what the kernel does after a
// SIGKILL is not something wisp can be notified of).
bool WaitUntil(const std::function<bool()>& condition, milliseconds deadline = kWait) {
  const auto give_up = std::chrono::steady_clock::now() + deadline;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

// The string fields of a request line, as the test's Request() fills them.
std::map<std::string, std::string> Metadata(const RunRequest& request) {
  return {{"namespace", "guest"},
          {"action_name", "/guest/probe"},
          {"action_version", "0.0.1"},
          {"activation_id", request.activation_id},
          {"transaction_id", request.transaction_id},
          {"api_host", "http://127.0.0.1:3233"}};
}

// "action_name" -> "__OW_ACTION_NAME".
std::string EnvName(const std::string& field) {
  std::string name = "__OW_";
  for (char c : field) name.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  return name;
}

pid_t PidOf(const RunOutcome& out) { return static_cast<pid_t>(out.result.value("pid", int64_t{-1})); }

class NativeRuntimeTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_FALSE(dir_.path().empty()); }

  std::unique_ptr<NativeRuntime> MakeRuntime(NativeRuntime::Options options = {}) {
    options.scratch_dir = dir_.path() + "/native";
    options.api_host = "http://127.0.0.1:3233";
    auto runtime = NativeRuntime::Create(options);
    EXPECT_TRUE(runtime.ok()) << runtime.status().ToString();
    return runtime.ok() ? std::move(*runtime) : nullptr;
  }

  static ActionCode Script(const std::string& key, const std::string& text) {
    ActionCode code;
    code.pool_key = key;
    code.kind = "native";
    code.code = text;
    return code;
  }

  // The probe, as its base64 executable (binary:true).
  static ActionCode Probe(const std::string& key, bool ack = true) {
    static const std::string encoded = Base64Encode(ReadFile(PROBE_ACTION));
    ActionCode code;
    code.pool_key = key;
    code.kind = "native";
    code.binary = true;
    code.code = encoded;
    code.wait_for_ack = ack;
    return code;
  }

  static RunRequest Request(Json value = Json::object(), milliseconds timeout = kWait) {
    RunRequest request;
    request.value = std::move(value);
    request.namespace_name = "guest";
    request.action_name = "/guest/probe";
    request.action_version = "0.0.1";
    request.activation_id = NewId();
    request.transaction_id = "tid-" + NewId();
    request.timeout = timeout;
    return request;
  }

  // The next run of the probe is cold, in a new process.
  static void ExpectNextRunIsColdInANewProcess(NativeRuntime& runtime, pid_t old_pid) {
    RunOutcome next = runtime.Run(Probe("/guest/probe@0.0.1"), Request());
    ASSERT_EQ(next.status, ActivationStatus::kSuccess) << next.result;
    EXPECT_TRUE(next.cold);
    EXPECT_NE(PidOf(next), old_pid);
  }

  testing::TempDir dir_;
};

TEST_F(NativeRuntimeTest, SecondRunIsWarmInTheSameProcess) {
  auto runtime = MakeRuntime();
  RunOutcome first = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  EXPECT_TRUE(first.cold);
  EXPECT_LE(first.start, first.end);

  RunOutcome second = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  ASSERT_EQ(second.status, ActivationStatus::kSuccess) << second.result;
  EXPECT_FALSE(second.cold);
  EXPECT_EQ(second.init_time, milliseconds(0));
  EXPECT_EQ(PidOf(second), PidOf(first));
  EXPECT_EQ(runtime->ProcessCount("/guest/probe@0.0.1"), 1);
}

TEST_F(NativeRuntimeTest, HelloExampleGreetsAndLogs) {
  auto runtime = MakeRuntime();
  ActionCode code = Probe("/guest/hello@0.0.1");
  code.code = Base64Encode(ReadFile(HELLO_ACTION));
  RunOutcome out = runtime->Run(code, Request({{"name", "Ada"}}));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_EQ(out.result, Json({{"greeting", "Hello, Ada!"}}));
  // OpenWhisk's line shape, which `wsk activation logs --strip` expects; no sentinel.
  ASSERT_EQ(out.logs.size(), 1u) << ::testing::PrintToString(out.logs);
  EXPECT_TRUE(std::regex_match(out.logs[0],
                               std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z stdout: hello: greeting Ada)")))
      << out.logs[0];

  RunOutcome bad = runtime->Run(code, Request({{"name", 7}}));
  EXPECT_EQ(bad.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(bad.result, Json({{"error", "name must be a string"}}));
}

// `wisp serve`'s default data dir is relative ("./wisp-data"): a relative
// scratch dir used to break every native action, as the child changes into
// its pool's directory before it runs the (then relative) program path.
TEST_F(NativeRuntimeTest, RelativeScratchDirectoryWorks) {
  const std::filesystem::path before = std::filesystem::current_path();
  std::filesystem::current_path(dir_.path());
  NativeRuntime::Options options;
  options.scratch_dir = "relative/native";
  auto runtime = NativeRuntime::Create(options);
  ASSERT_TRUE(runtime.ok()) << runtime.status().ToString();
  RunOutcome out = (*runtime)->Run(
      Script("/guest/rel@0.0.1", "#!/bin/sh\nwhile read -r l; do echo '{\"ok\":1}' >&3; done\n"), Request());
  std::filesystem::current_path(before);
  EXPECT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_EQ(out.result, Json({{"ok", 1}}));
}

TEST_F(NativeRuntimeTest, ScriptReadsTheRequestLineAndAnswersOnFd3) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/echo@0.0.1",
                           "#!/bin/sh\n"
                           "while read -r line; do printf '{\"got\":%s}\\n' \"$line\" >&3; done\n");
  RunRequest request = Request({{"x", 1}});
  RunOutcome out = runtime->Run(code, request);
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  const Json& got = out.result["got"];
  EXPECT_EQ(got["value"], Json({{"x", 1}}));
  for (const auto& [field, value] : Metadata(request)) EXPECT_EQ(got[field], value) << field;
  EXPECT_TRUE(got["deadline"].is_string());
  EXPECT_FALSE(got.contains("api_key"));
}

TEST_F(NativeRuntimeTest, ActionSeesOwVariablesOfEachActivation) {
  auto runtime = MakeRuntime();
  RunRequest request = Request({{"env", true}});
  request.api_key = "uuid:secret";
  const int64_t before = Clock::System().NowMillis();
  RunOutcome first = runtime->Run(Probe("/guest/probe@0.0.1"), request);
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  const Json& env = first.result["env"];
  EXPECT_EQ(env["__OW_API_KEY"], "uuid:secret");
  for (const auto& [field, value] : Metadata(request)) EXPECT_EQ(env[EnvName(field)], value) << field;
  EXPECT_GE(std::stoll(env["__OW_DEADLINE"].get<std::string>()), before + kWait.count());
  // Nothing but wisp's variables: no PATH, HOME or anything of wisp's own.
  for (const auto& [name, value] : env.items()) EXPECT_THAT(name, StartsWith("__OW_"));

  // Warm, the per-activation variables follow the new request.
  RunRequest again = Request({{"env", true}});
  again.api_key = "uuid:secret";
  RunOutcome second = runtime->Run(Probe("/guest/probe@0.0.1"), again);
  ASSERT_FALSE(second.cold);
  EXPECT_EQ(second.result["env"]["__OW_ACTIVATION_ID"], again.activation_id);

  // Without provide-api-key there is no key, neither at start nor per request.
  RunOutcome keyless = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"env", true}}));
  ASSERT_EQ(keyless.status, ActivationStatus::kSuccess) << keyless.result;
  EXPECT_TRUE(keyless.cold) << "a process that held a key must not serve a caller without one";
  EXPECT_FALSE(keyless.result["env"].contains("__OW_API_KEY"));
}

TEST_F(NativeRuntimeTest, InitParametersBecomeEnvironmentButCannotOverrideOwVariables) {
  auto runtime = MakeRuntime();
  ActionCode code = Probe("/guest/probe@0.0.1");
  code.init_env = {{"GREETING", "hi"}, {"COUNT", 3}, {"CONFIG", {{"a", 1}}}, {"__OW_API_KEY", "spoofed"}};
  RunOutcome out = runtime->Run(code, Request({{"env", true}}));
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  const Json& env = out.result["env"];
  EXPECT_EQ(env["GREETING"], "hi");
  EXPECT_EQ(env["COUNT"], "3");
  EXPECT_EQ(env["CONFIG"], R"({"a":1})");
  EXPECT_FALSE(env.contains("__OW_API_KEY"));
}

TEST_F(NativeRuntimeTest, IdleProcessIsReclaimedAndTheNextRunIsCold) {
  FakeClock clock;
  NativeRuntime::Options options;
  options.idle_timeout = milliseconds(60'000);
  options.clock = &clock;
  auto runtime = MakeRuntime(options);
  RunOutcome first = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;

  clock.Advance(milliseconds(59'000));  // not yet
  RunOutcome warm = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  EXPECT_FALSE(warm.cold);
  EXPECT_EQ(PidOf(warm), PidOf(first));

  clock.Advance(milliseconds(60'001));
  ASSERT_TRUE(runtime->WaitForProcessesAtMost(0, kWait));
  EXPECT_FALSE(ProcessExists(PidOf(first))) << "reclaimed, and reaped";
  EXPECT_EQ(runtime->GetStats().reclaimed, 1u);
  EXPECT_EQ(runtime->GetStats().pools, 0) << "scaled to zero";
  ExpectNextRunIsColdInANewProcess(*runtime, PidOf(first));
}

// The executable a process runs, as the kernel sees it.
struct ExeFile {
  std::string path;
  ino_t inode = 0;
  mode_t mode = 0;
};
ExeFile ExeOf(pid_t pid) {
  ExeFile exe;
  std::error_code ec;
  exe.path = std::filesystem::read_symlink("/proc/" + std::to_string(pid) + "/exe", ec).string();
  struct stat st;
  if (stat(("/proc/" + std::to_string(pid) + "/exe").c_str(), &st) == 0) {
    exe.inode = st.st_ino;
    exe.mode = st.st_mode;
  }
  return exe;
}

// Directories of installed code under the runtime's code root.
std::vector<std::string> InstalledDirs(const std::string& scratch) {
  std::vector<std::string> dirs;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(scratch, ec)) dirs.push_back(entry.path().string());
  return dirs;
}

TEST_F(NativeRuntimeTest, ColdStartsAfterTheFirstRunTheInstalledFileWithoutWritingIt) {
  auto runtime = MakeRuntime();
  RunOutcome first = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  ASSERT_TRUE(first.cold);
  const ExeFile exe = ExeOf(PidOf(first));
  ASSERT_NE(exe.inode, 0u);
  EXPECT_THAT(exe.path, StartsWith(dir_.path() + "/native/"));
  EXPECT_EQ(exe.mode & 0222, 0u) << "the installed code is read-only";

  // A new version with the same code, and another namespace: new pools, new
  // processes, the same file.
  RunOutcome next_version = runtime->Run(Probe("/guest/probe@0.0.2"), Request());
  RunRequest other_namespace = Request();
  other_namespace.namespace_name = "other";
  RunOutcome other = runtime->Run(Probe("/guest/probe@0.0.2"), other_namespace);
  for (const RunOutcome* out : {&next_version, &other}) {
    ASSERT_EQ(out->status, ActivationStatus::kSuccess) << out->result;
    EXPECT_TRUE(out->cold);
    EXPECT_NE(PidOf(*out), PidOf(first));
    EXPECT_EQ(ExeOf(PidOf(*out)).inode, exe.inode);
  }
  EXPECT_EQ(runtime->GetStats().cold_starts, 3u);
  EXPECT_EQ(runtime->GetStats().installs, 1u) << "written once, for the first cold start";
  EXPECT_EQ(runtime->GetStats().installed, 1);
}

TEST_F(NativeRuntimeTest, RetireStopsIdleProcessesAndRemovesTheInstalledCode) {
  auto runtime = MakeRuntime();
  ActionCode code = Probe("/guest/probe@0.0.1");
  code.action = "guest/probe";
  RunOutcome out = runtime->Run(code, Request());
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  ASSERT_EQ(InstalledDirs(NativeRuntime::CodeRoot(dir_.path() + "/native")).size(), 1u);

  runtime->Retire("guest/other", "");  // another action: nothing of this one goes
  EXPECT_TRUE(ProcessExists(PidOf(out)));
  EXPECT_EQ(InstalledDirs(NativeRuntime::CodeRoot(dir_.path() + "/native")).size(), 1u);

  runtime->Retire("guest/probe", "");  // deleted
  EXPECT_FALSE(ProcessExists(PidOf(out))) << "stopped and reaped";
  EXPECT_TRUE(InstalledDirs(NativeRuntime::CodeRoot(dir_.path() + "/native")).empty());
  EXPECT_EQ(runtime->GetStats().installed, 0);
  EXPECT_EQ(runtime->GetStats().processes, 0);
  EXPECT_EQ(runtime->GetStats().pools, 0);

  // Running it again installs it again.
  RunOutcome again = runtime->Run(code, Request());
  ASSERT_EQ(again.status, ActivationStatus::kSuccess) << again.result;
  EXPECT_TRUE(again.cold);
  EXPECT_EQ(runtime->GetStats().installs, 2u);
}

TEST_F(NativeRuntimeTest, NewCodeGetsANewFileAndTheOldOneGoesWhenRetired) {
  auto runtime = MakeRuntime();
  ActionCode v1 = Probe("/guest/probe@0.0.1");
  v1.action = "guest/probe";
  ActionCode v2 = v1;
  v2.pool_key = "/guest/probe@0.0.2";
  // Bytes after the end of an ELF file change its digest, not what it does.
  v2.code = Base64Encode(ReadFile(PROBE_ACTION) + "version 2");
  RunOutcome first = runtime->Run(v1, Request());
  RunOutcome second = runtime->Run(v2, Request());
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  ASSERT_EQ(second.status, ActivationStatus::kSuccess) << second.result;
  const ExeFile old_exe = ExeOf(PidOf(first));
  const ExeFile new_exe = ExeOf(PidOf(second));
  EXPECT_NE(old_exe.inode, new_exe.inode);
  EXPECT_NE(old_exe.path, new_exe.path);
  EXPECT_EQ(runtime->GetStats().installs, 2u);

  runtime->Retire("guest/probe", ContentDigest(v2.binary, v2.code));
  EXPECT_FALSE(std::filesystem::exists(std::filesystem::path(old_exe.path).parent_path()));
  EXPECT_TRUE(std::filesystem::exists(new_exe.path)) << "the current version's code stays";
  EXPECT_EQ(runtime->GetStats().installed, 1);
  RunOutcome cold = runtime->Run(v2, Request());
  ASSERT_EQ(cold.status, ActivationStatus::kSuccess) << cold.result;
  EXPECT_EQ(ExeOf(PidOf(cold)).inode, new_exe.inode);
  EXPECT_EQ(runtime->GetStats().installs, 2u);
}

TEST_F(NativeRuntimeTest, RetiredCodeStaysOnDiskWhileAProcessRunsFromIt) {
  auto runtime = MakeRuntime();
  ActionCode code = Probe("/guest/probe@0.0.1");
  code.action = "guest/probe";
  RunOutcome warmup = runtime->Run(code, Request());
  ASSERT_EQ(warmup.status, ActivationStatus::kSuccess) << warmup.result;
  const std::string dir = std::filesystem::path(ExeOf(PidOf(warmup)).path).parent_path().string();

  RunOutcome hung;
  std::thread hanging([&] { hung = runtime->Run(code, Request({{"hang", true}}, milliseconds(500))); });
  ASSERT_TRUE(WaitUntil([&] { return runtime->GetStats().idle == 0; }));
  runtime->Retire("guest/probe", "");
  EXPECT_TRUE(std::filesystem::exists(dir)) << "its process still runs";
  hanging.join();
  EXPECT_TRUE(hung.timeout);
  EXPECT_FALSE(std::filesystem::exists(dir)) << "gone with the last process";
}

TEST_F(NativeRuntimeTest, TimeoutKillsTheProcessAndTheNextRunIsCold) {
  auto runtime = MakeRuntime();
  RunOutcome warmup = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  ASSERT_EQ(warmup.status, ActivationStatus::kSuccess) << warmup.result;

  RunOutcome hung = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"hang", true}}, milliseconds(300)));
  EXPECT_EQ(hung.status, ActivationStatus::kDeveloperError);
  EXPECT_TRUE(hung.timeout);
  EXPECT_EQ(hung.result, Json({{"error", "The action exceeded its time limits of 300 milliseconds."}}));
  EXPECT_FALSE(ProcessExists(PidOf(warmup)));
  ExpectNextRunIsColdInANewProcess(*runtime, PidOf(warmup));
}

TEST_F(NativeRuntimeTest, TimeoutAlsoKillsWhatTheActionStarted) {
  auto runtime = MakeRuntime();
  const std::string pid_file = dir_.path() + "/sleeper.pid";
  ActionCode code = Script("/guest/sleepy@0.0.1",
                           "#!/bin/sh\n"
                           "read -r line\n"
                           "sleep 1000 &\n"
                           "echo $! > " +
                               pid_file +
                               "\n"
                               "wait\n");
  RunOutcome out = runtime->Run(code, Request(Json::object(), milliseconds(1000)));
  EXPECT_TRUE(out.timeout);
  const std::string pid_text = ReadFile(pid_file);
  ASSERT_FALSE(pid_text.empty()) << "the script did not get to start its child in time";
  const pid_t sleeper = static_cast<pid_t>(std::stol(pid_text));
  EXPECT_TRUE(WaitUntil([&] { return !ProcessRuns(sleeper); })) << "the whole process group is killed";
}

TEST_F(NativeRuntimeTest, CrashMidRunIsDeveloperErrorAndKeepsItsLogs) {
  auto runtime = MakeRuntime();
  RunOutcome warmup = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  RunOutcome crashed = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"crash", true}}));
  EXPECT_EQ(crashed.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(crashed.result, Json({{"error", "The action did not produce a valid response and exited unexpectedly."}}));
  EXPECT_FALSE(crashed.timeout);
  ASSERT_EQ(crashed.logs.size(), 2u) << ::testing::PrintToString(crashed.logs);
  EXPECT_THAT(crashed.logs[0], HasSubstr(" stdout: about to crash"));
  EXPECT_THAT(crashed.logs[1],
              HasSubstr(" stderr: The action did not initialize or run as expected. Log data might be missing."));
  EXPECT_FALSE(ProcessExists(PidOf(warmup)));
  ExpectNextRunIsColdInANewProcess(*runtime, PidOf(warmup));
}

TEST_F(NativeRuntimeTest, ProcessThatNeverAcknowledgesTimesOutDuringInitialization) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/mute@0.0.1", "#!/bin/sh\nexec sleep 1000\n");
  code.wait_for_ack = true;
  RunOutcome out = runtime->Run(code, Request(Json::object(), milliseconds(300)));
  EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
  EXPECT_TRUE(out.timeout);
  EXPECT_TRUE(out.cold);
  EXPECT_GE(out.init_time, milliseconds(300));
  EXPECT_EQ(out.result,
            Json({{"error", "The action exceeded its time limits of 300 milliseconds during initialization."}}));
  EXPECT_TRUE(runtime->WaitForProcessesAtMost(0, kWait));
}

TEST_F(NativeRuntimeTest, AcknowledgementIsCheckedWhenAsked) {
  auto runtime = MakeRuntime();
  ActionCode acks = Script("/guest/acks@0.0.1",
                           "#!/bin/sh\n"
                           "[ -n \"$__OW_WAIT_FOR_ACK\" ] && echo '{\"ok\":true}' >&3\n"
                           "while read -r line; do echo '{\"served\":true}' >&3; done\n");
  acks.wait_for_ack = true;
  RunOutcome ok = runtime->Run(acks, Request());
  EXPECT_EQ(ok.status, ActivationStatus::kSuccess) << ok.result;
  EXPECT_EQ(ok.result, Json({{"served", true}}));

  ActionCode wrong = Script("/guest/wrong@0.0.1", "#!/bin/sh\necho '{\"hello\":1}' >&3\nexec sleep 1000\n");
  wrong.wait_for_ack = true;
  RunOutcome bad = runtime->Run(wrong, Request());
  EXPECT_EQ(bad.status, ActivationStatus::kDeveloperError);
  EXPECT_THAT(bad.result["error"].get<std::string>(),
              StartsWith("The action failed during initialization: the action was asked to acknowledge"));

  ActionCode quits = Script("/guest/quits@0.0.1", "#!/bin/sh\necho 'cannot start' >&2\nexit 3\n");
  quits.wait_for_ack = true;
  RunOutcome gone = runtime->Run(quits, Request());
  EXPECT_EQ(gone.result, Json({{"error", "The action did not initialize and exited unexpectedly."}}));
  ASSERT_FALSE(gone.logs.empty());
  EXPECT_THAT(gone.logs[0], HasSubstr(" stderr: cannot start"));
  EXPECT_TRUE(runtime->WaitForProcessesAtMost(1, kWait));  // only `acks` stays
}

TEST_F(NativeRuntimeTest, GarbageAndScalarsAreDeveloperErrorsArraysSucceed) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/replies@0.0.1",
                           "#!/bin/sh\n"
                           "while read -r line; do\n"
                           "  case \"$line\" in\n"
                           "    *garbage*) echo 'this is not json' >&3 ;;\n"
                           "    *scalar*) echo '42' >&3 ;;\n"
                           "    *array*) echo '[1,2]' >&3 ;;\n"
                           "    *) echo \"{\\\"pid\\\":$$}\" >&3 ;;\n"
                           "  esac\n"
                           "done\n");
  RunOutcome garbage = runtime->Run(code, Request({{"garbage", true}}));
  EXPECT_EQ(garbage.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(garbage.result,
            Json({{"error", "The action did not produce a valid JSON or JSON Array response: this is not json"}}));
  RunOutcome scalar = runtime->Run(code, Request({{"scalar", true}}));
  EXPECT_EQ(scalar.result, Json({{"error", "The action did not produce a valid JSON or JSON Array response: 42"}}));
  RunOutcome array = runtime->Run(code, Request({{"array", true}}));
  EXPECT_EQ(array.status, ActivationStatus::kSuccess);
  EXPECT_EQ(array.result, Json::array({1, 2}));
  // A bad answer is the action's fault, not the process's: it stays warm.
  RunOutcome warm = runtime->Run(code, Request());
  EXPECT_FALSE(warm.cold);
  EXPECT_EQ(runtime->ProcessCount("/guest/replies@0.0.1"), 1);
}

TEST_F(NativeRuntimeTest, NoResultLineIsDeveloperError) {
  auto runtime = MakeRuntime();
  ActionCode exits = Script("/guest/exits@0.0.1", "#!/bin/sh\nread -r line\necho 'bye'\nexit 0\n");
  RunOutcome out = runtime->Run(exits, Request());
  EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(out.result, Json({{"error", "The action did not produce a valid response and exited unexpectedly."}}));
  ASSERT_FALSE(out.logs.empty());
  EXPECT_THAT(out.logs[0], HasSubstr(" stdout: bye"));

  // Closing fd 3 while staying alive is the same, and the process is killed.
  ActionCode closes = Script("/guest/closes@0.0.1", "#!/bin/sh\nexec 3>&-\nread -r line\nexec sleep 1000\n");
  RunOutcome closed = runtime->Run(closes, Request());
  EXPECT_EQ(closed.result, out.result);
  EXPECT_FALSE(closed.timeout);
  EXPECT_TRUE(runtime->WaitForProcessesAtMost(0, kWait));
}

TEST_F(NativeRuntimeTest, ErrorFieldIsApplicationErrorWithOnlyThatField) {
  auto runtime = MakeRuntime();
  RunOutcome sdk = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"error", "boom"}}));
  EXPECT_EQ(sdk.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(sdk.result, Json({{"error", "boom"}}));

  ActionCode script = Script("/guest/fails@0.0.1",
                             "#!/bin/sh\nwhile read -r l; do echo '{\"error\":{\"code\":7},\"extra\":1}' >&3; done\n");
  RunOutcome out = runtime->Run(script, Request());
  EXPECT_EQ(out.status, ActivationStatus::kApplicationError);
  EXPECT_EQ(out.result, Json({{"error", {{"code", 7}}}}));
}

TEST_F(NativeRuntimeTest, OversizedResultIsApplicationErrorAndTheProcessStaysInStep) {
  NativeRuntime::Options options;
  options.max_result_bytes = 1000;
  auto runtime = MakeRuntime(options);
  RunOutcome big = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"big", 5000}}));
  EXPECT_EQ(big.status, ActivationStatus::kApplicationError);
  const std::string error = big.result["error"].get<std::string>();
  EXPECT_THAT(error, StartsWith("The action produced a response that exceeded the allowed length: "));
  EXPECT_THAT(error, HasSubstr(" > 1000 bytes. The truncated response was: {"));
  RunOutcome next = runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  EXPECT_EQ(next.status, ActivationStatus::kSuccess) << next.result;
  EXPECT_FALSE(next.cold);
}

// Runs `count` activations at once; returns their outcomes.
std::vector<RunOutcome> RunConcurrently(NativeRuntime& runtime, const std::vector<ActionCode>& codes,
                                        const std::vector<RunRequest>& requests) {
  std::vector<RunOutcome> outcomes(codes.size());
  std::vector<std::thread> threads;
  for (size_t i = 0; i < codes.size(); ++i) {
    threads.emplace_back([&, i] { outcomes[i] = runtime.Run(codes[i], requests[i]); });
  }
  for (auto& thread : threads) thread.join();
  return outcomes;
}

// The most runs that overlapped in time, from the intervals the probe reported.
int MaxOverlap(const std::vector<RunOutcome>& outcomes) {
  std::vector<std::pair<int64_t, int>> edges;
  for (const RunOutcome& out : outcomes) {
    edges.emplace_back(out.result["begin_ns"].get<int64_t>(), +1);
    edges.emplace_back(out.result["end_ns"].get<int64_t>(), -1);
  }
  std::sort(edges.begin(), edges.end());  // an end sorts before a begin at the same instant
  int now = 0, most = 0;
  for (const auto& [at, delta] : edges) most = std::max(most, now += delta);
  return most;
}

TEST_F(NativeRuntimeTest, ConcurrentInvokesOfOneActionStayUnderItsCap) {
  auto runtime = MakeRuntime();
  std::vector<ActionCode> codes(6, Probe("/guest/probe@0.0.1"));
  std::vector<RunRequest> requests;
  for (int i = 0; i < 6; ++i) {
    requests.push_back(Request({{"busy_ms", 300}}));
    requests.back().max_instances = 2;
  }
  std::vector<RunOutcome> outcomes = RunConcurrently(*runtime, codes, requests);
  std::set<pid_t> pids;
  int queued = 0;
  for (const RunOutcome& out : outcomes) {
    ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
    pids.insert(PidOf(out));
    if (out.wait_time > milliseconds(0)) ++queued;
  }
  EXPECT_LE(pids.size(), 2u) << "never more than two processes";
  EXPECT_EQ(MaxOverlap(outcomes), 2) << "two at a time, not one and not three";
  EXPECT_GE(queued, 1);
  EXPECT_LE(runtime->ProcessCount("/guest/probe@0.0.1"), 2);
}

TEST_F(NativeRuntimeTest, GlobalCapHoldsAcrossActionsAndIdleProcessesMakeRoom) {
  NativeRuntime::Options options;
  options.max_processes = 2;
  auto runtime = MakeRuntime(options);
  std::vector<ActionCode> codes;
  std::vector<RunRequest> requests;
  for (int i = 0; i < 6; ++i) {
    codes.push_back(Probe(i % 2 ? "/guest/a@0.0.1" : "/guest/b@0.0.1"));
    requests.push_back(Request({{"busy_ms", 100}}));
  }
  std::vector<RunOutcome> outcomes = RunConcurrently(*runtime, codes, requests);
  for (const RunOutcome& out : outcomes) ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_LE(MaxOverlap(outcomes), 2);
  EXPECT_LE(runtime->GetStats().processes, 2);

  // Both slots hold idle processes; a third action still runs, in the place
  // of the one idle the longest.
  RunOutcome third = runtime->Run(Probe("/guest/c@0.0.1"), Request());
  EXPECT_EQ(third.status, ActivationStatus::kSuccess) << third.result;
  EXPECT_LE(runtime->GetStats().processes, 2);
  EXPECT_GE(runtime->GetStats().reclaimed, 1u);
}

TEST_F(NativeRuntimeTest, QueuedRunGivesUpAfterTheMaximumWait) {
  NativeRuntime::Options options;
  options.max_queue_wait = milliseconds(200);
  auto runtime = MakeRuntime(options);
  RunRequest hang = Request({{"hang", true}}, milliseconds(3000));
  hang.max_instances = 1;
  RunOutcome hung;
  std::thread holder([&] { hung = runtime->Run(Probe("/guest/probe@0.0.1"), hang); });
  ASSERT_TRUE(WaitUntil([&] { return runtime->GetStats().processes == 1; }));

  RunRequest queued = Request();
  queued.max_instances = 1;
  RunOutcome refused = runtime->Run(Probe("/guest/probe@0.0.1"), queued);
  EXPECT_EQ(refused.status, ActivationStatus::kWhiskError);
  EXPECT_EQ(refused.result, Json({{"error", "Failed to provision resources to run the action."}}));
  holder.join();
  EXPECT_TRUE(hung.timeout);
}

TEST_F(NativeRuntimeTest, LogsAreCapturedPerActivationAndTruncatedAtTheLimit) {
  auto runtime = MakeRuntime();
  RunRequest request = Request({{"log", 100}});
  request.log_limit_bytes = 200;
  RunOutcome out = runtime->Run(Probe("/guest/probe@0.0.1"), request);
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  ASSERT_GE(out.logs.size(), 2u);
  // The first lines, in order, while they fit in 200 bytes; then the notice.
  size_t used = 0, kept = 0;
  for (; kept + 1 < out.logs.size(); ++kept) {
    const std::string text = "log line " + std::to_string(kept);
    ASSERT_THAT(out.logs[kept], HasSubstr(" stdout: " + text));
    used += text.size() + 1;
  }
  EXPECT_LE(used, 200u);
  EXPECT_GT(used + ("log line " + std::to_string(kept)).size() + 1, 200u) << "the next line would not fit";
  EXPECT_THAT(out.logs.back(),
              HasSubstr(" stderr: Logs were truncated because the total bytes size exceeds the limit of 200 bytes."));

  // Nothing of that flood spills into the next activation.
  RunOutcome next = runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"log", 1}, {"stderr", "warn"}}));
  ASSERT_FALSE(next.cold);
  ASSERT_EQ(next.logs.size(), 2u) << ::testing::PrintToString(next.logs);
  EXPECT_THAT(next.logs, ::testing::Contains(HasSubstr(" stdout: log line 0")));
  EXPECT_THAT(next.logs, ::testing::Contains(HasSubstr(" stderr: warn")));
}

TEST_F(NativeRuntimeTest, ScriptLogsWithoutSentinelsAreCaptured) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/chatty@0.0.1",
                           "#!/bin/sh\n"
                           "while read -r line; do echo out; echo err >&2; echo '{}' >&3; done\n");
  for (int i = 0; i < 3; ++i) {
    RunOutcome out = runtime->Run(code, Request());
    ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
    EXPECT_EQ(out.logs.size(), 2u) << ::testing::PrintToString(out.logs);
    EXPECT_THAT(out.logs, ::testing::Contains(HasSubstr(" stdout: out")));
    EXPECT_THAT(out.logs, ::testing::Contains(HasSubstr(" stderr: err")));
  }
}

TEST_F(NativeRuntimeTest, FloodAfterTheResultDoesNotHoldTheRun) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/flood@0.0.1", "#!/bin/sh\nread -r line\necho '{}' >&3\nexec yes flood\n");
  RunRequest request = Request();
  request.log_limit_bytes = 1000;
  RunOutcome out = runtime->Run(code, request);
  EXPECT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_LE(out.logs.size(), 1000u / 6 + 1);
}

using testing::MakeZip;

TEST_F(NativeRuntimeTest, ZipPayloadRunsExecBesideTheFilesItShips) {
  auto runtime = MakeRuntime();
  ActionCode code = Probe("/guest/zipped@0.0.1", /*ack=*/false);
  code.code = MakeZip(dir_.path() + "/action.zip",
                      {{"exec",
                        "#!/bin/sh\n"
                        "while read -r line; do printf '{\"greeting\":\"%s\"}\\n' \"$(cat data/greeting.txt)\" >&3; "
                        "done\n"},
                       {"data/greeting.txt", "hello from the zip"}});
  RunOutcome out = runtime->Run(code, Request());
  ASSERT_EQ(out.status, ActivationStatus::kSuccess) << out.result;
  EXPECT_EQ(out.result, Json({{"greeting", "hello from the zip"}}));
}

TEST_F(NativeRuntimeTest, BadPayloadsFailInitialization) {
  auto runtime = MakeRuntime();
  auto error_of = [&](const ActionCode& code) {
    RunOutcome out = runtime->Run(code, Request());
    EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
    EXPECT_TRUE(out.cold);
    return out.result.value("error", std::string());
  };
  ActionCode no_exec = Probe("/guest/noexec@0.0.1", false);
  no_exec.code = MakeZip(dir_.path() + "/noexec.zip", {{"main.sh", "#!/bin/sh\n"}});
  EXPECT_EQ(error_of(no_exec), "The action's zip file has no executable named 'exec' at its root");

  ActionCode escape = Probe("/guest/escape@0.0.1", false);
  escape.code = MakeZip(dir_.path() + "/escape.zip", {{"exec", "#!/bin/sh\n"}, {"../evil", "x"}});
  EXPECT_THAT(error_of(escape), HasSubstr("entry outside its root: ../evil"));
  EXPECT_FALSE(std::filesystem::exists(dir_.path() + "/native/evil"));

  ActionCode link = Probe("/guest/link@0.0.1", false);
  link.code = MakeZip(dir_.path() + "/link.zip", {{"exec", "#!/bin/sh\n"}, {"passwd.link", "/etc/passwd"}});
  EXPECT_EQ(error_of(link), "The action's zip file holds a link, which is not supported: passwd.link");

  ActionCode not_base64 = Probe("/guest/b64@0.0.1", false);
  not_base64.code = "%%% not base64 %%%";
  EXPECT_THAT(error_of(not_base64), StartsWith("The action's code is marked binary but is not base64"));

  EXPECT_EQ(error_of(Script("/guest/empty@0.0.1", "")), "Missing main/no code to execute.");
  EXPECT_EQ(error_of(Script("/guest/noshebang@0.0.1", "echo hi\n")),
            "The action failed during initialization: cannot execute the action: Exec format error "
            "(a script needs a #! line)");
  EXPECT_TRUE(runtime->WaitForProcessesAtMost(0, kWait));
  EXPECT_EQ(runtime->GetStats().pools, 0) << "failed pools are forgotten with their directories";
}

TEST_F(NativeRuntimeTest, ZipThatUnpacksTooLargeIsRefused) {
  NativeRuntime::Options options;
  options.max_unpacked_bytes = 1000;
  auto runtime = MakeRuntime(options);
  ActionCode bomb = Probe("/guest/bomb@0.0.1", false);
  bomb.code = MakeZip(dir_.path() + "/bomb.zip", {{"exec", "#!/bin/sh\n"}, {"zeros", std::string(100'000, '\0')}});
  EXPECT_LT(bomb.code.size(), 100'000u) << "the test needs a zip smaller than what it unpacks to";
  RunOutcome out = runtime->Run(bomb, Request());
  EXPECT_EQ(out.status, ActivationStatus::kDeveloperError);
  EXPECT_EQ(out.result, Json({{"error", "The action's zip file unpacks to more than 1000 bytes"}}));
}

TEST_F(NativeRuntimeTest, OtherKindsAreNotForThisRuntime) {
  auto runtime = MakeRuntime();
  ActionCode code = Script("/guest/js@0.0.1", "function main() {}");
  code.kind = "nodejs:20";
  RunOutcome out = runtime->Run(code, Request());
  EXPECT_EQ(out.status, ActivationStatus::kWhiskError);
}

TEST_F(NativeRuntimeTest, ShutdownKillsEveryChildAndRefusesWork) {
  auto runtime = MakeRuntime();
  RunOutcome idle = runtime->Run(Probe("/guest/idle@0.0.1"), Request());
  RunOutcome busy_warmup = runtime->Run(Probe("/guest/busy@0.0.1"), Request());
  ASSERT_EQ(busy_warmup.status, ActivationStatus::kSuccess);

  RunOutcome hung;
  std::thread hanging([&] { hung = runtime->Run(Probe("/guest/busy@0.0.1"), Request({{"hang", true}})); });
  // The hanging run holds its process once the pool has no idle one left.
  ASSERT_TRUE(WaitUntil([&] { return runtime->GetStats().idle == 1; }));
  runtime->Shutdown();
  hanging.join();
  EXPECT_EQ(hung.status, ActivationStatus::kDeveloperError);
  EXPECT_FALSE(hung.timeout);
  EXPECT_FALSE(ProcessExists(PidOf(idle)));
  EXPECT_FALSE(ProcessExists(PidOf(busy_warmup)));
  EXPECT_EQ(runtime->GetStats().processes, 0);

  RunOutcome refused = runtime->Run(Probe("/guest/idle@0.0.1"), Request());
  EXPECT_EQ(refused.status, ActivationStatus::kWhiskError);
  EXPECT_EQ(refused.result, Json({{"error", "Failed to provision resources to run the action."}}));
}

TEST_F(NativeRuntimeTest, NoDescriptorOutlivesTheRuntime) {
  const int before = OpenFdCount();
  {
    auto runtime = MakeRuntime();
    runtime->Run(Probe("/guest/probe@0.0.1"), Request());
    runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"crash", true}}));
    runtime->Run(Probe("/guest/probe@0.0.1"), Request({{"hang", true}}, milliseconds(200)));
    runtime->Run(Script("/guest/bad@0.0.1", "echo no shebang\n"), Request());
    runtime->Run(Probe("/guest/probe@0.0.1"), Request());
  }
  EXPECT_EQ(OpenFdCount(), before);
}

TEST(FormatLogLine, IsOpenWhisksShape) {
  const Clock::WallTime at = Clock::WallTime(std::chrono::seconds(1'700'000'000)) + std::chrono::microseconds(1234);
  EXPECT_EQ(FormatLogLine(at, "stdout", "hi"), "2023-11-14T22:13:20.001234000Z stdout: hi");
}

}  // namespace
}  // namespace wisp::whisk
