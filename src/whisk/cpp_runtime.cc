#include "whisk/cpp_runtime.h"

#include <sys/wait.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "util/log.h"

namespace wisp::whisk {
namespace {

constexpr size_t kMaxCompilerOutput = 64 * 1024;

// FNV-1a, 64 bits: names the cache entry; the stored source is compared on a
// hit, so a collision costs a rebuild, never a wrong program.
std::string ContentHash(const std::string& text) {
  uint64_t hash = 1469598103934665603ull;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 1099511628211ull;
  }
  char out[17];
  std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash));
  return std::string(out) + "-" + std::to_string(text.size());
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}

std::string ShellQuote(const std::string& word) {
  std::string out = "'";
  for (char c : word) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::vector<std::string> Split(const std::string& text) {
  std::vector<std::string> words;
  std::istringstream in(text);
  for (std::string word; in >> word;) words.push_back(word);
  return words;
}

}  // namespace

Result<std::unique_ptr<CppRuntime>> CppRuntime::Create(Options options, ActionRuntime* native) {
  if (options.cache_dir.empty() || native == nullptr)
    return Status::InvalidArgument("CppRuntime needs a cache directory");
  std::error_code ec;
  std::filesystem::create_directories(options.cache_dir, ec);
  if (ec) return Status::IoError("cannot create " + options.cache_dir + ": " + ec.message());
  options.cache_dir = std::filesystem::absolute(options.cache_dir, ec).string();
  // The build tree's SDK, recorded by src/whisk/CMakeLists.txt.
  if (options.compiler.empty()) options.compiler = WISP_CPP_COMPILER;
  if (options.compile_flags.empty()) options.compile_flags = Split(WISP_CPP_SDK_COMPILE_FLAGS);
  if (options.link_flags.empty()) options.link_flags = Split(WISP_CPP_SDK_LINK_FLAGS);
  return std::unique_ptr<CppRuntime>(new CppRuntime(std::move(options), native));
}

uint64_t CppRuntime::compiles() const {
  std::lock_guard lock(build_mu_);
  return compiles_;
}

Result<std::string> CppRuntime::Build(const std::string& source) {
  if (source.empty()) return Status::InvalidArgument("Missing main/no code to execute.");
  namespace fs = std::filesystem;
  std::string flags;
  for (const auto& f : options_.compile_flags) flags += f + ' ';
  for (const auto& f : options_.link_flags) flags += f + ' ';
  const std::string dir = options_.cache_dir + "/" + ContentHash(options_.compiler + '\n' + flags + '\n' + source);
  const std::string exec_path = dir + "/action";
  std::lock_guard lock(build_mu_);
  std::error_code ec;
  if (fs::exists(exec_path, ec) && ReadFile(dir + "/action.cpp") == source) return exec_path;

  fs::remove_all(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Status::IoError("cannot create " + dir + ": " + ec.message());
  {
    std::ofstream out(dir + "/action.cpp", std::ios::binary);
    out << source;
    if (!out) return Status::IoError("cannot write the action's source");
  }
  // The compiler writes `action.tmp`, renamed once complete, so a crash in
  // the middle never leaves an executable that looks built.
  std::string command = "cd " + ShellQuote(dir) + " && exec timeout -k 5 " +
                        std::to_string(options_.compile_timeout.count()) + " " + ShellQuote(options_.compiler);
  for (const auto& f : options_.compile_flags) command += " " + ShellQuote(f);
  command += " action.cpp -o action.tmp";
  for (const auto& f : options_.link_flags) command += " " + ShellQuote(f);
  command += " 2>&1";
  ++compiles_;
  FILE* pipe = popen(command.c_str(), "r");
  if (pipe == nullptr) return Status::Internal("cannot start the C++ compiler");
  std::string output;
  char buffer[4096];
  while (size_t n = fread(buffer, 1, sizeof(buffer), pipe)) {
    if (output.size() < kMaxCompilerOutput) output.append(buffer, std::min(n, kMaxCompilerOutput - output.size()));
  }
  const int status = pclose(pipe);
  if (status != 0) {
    fs::remove_all(dir, ec);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 124) {
      return Status::InvalidArgument("The C++ action did not compile within " +
                                     std::to_string(options_.compile_timeout.count()) + " seconds.");
    }
    // Paths of wisp's cache mean nothing to the developer.
    for (size_t at; (at = output.find(dir + "/")) != std::string::npos;) output.erase(at, dir.size() + 1);
    return Status::InvalidArgument("The C++ action does not compile:\n" + output);
  }
  fs::rename(dir + "/action.tmp", exec_path, ec);
  if (ec) return Status::IoError("cannot install the compiled action: " + ec.message());
  log::Info("whisk", "C++ action compiled", {{"dir", dir}});
  return exec_path;
}

RunOutcome CppRuntime::Run(const ActionCode& code, const RunRequest& request) {
  Result<std::string> exec_path =
      code.binary ? Result<std::string>(Status::InvalidArgument("A cpp action's code is C++ source text, not base64."))
                  : Build(std::string(code.code.view()));
  if (!exec_path.ok()) {
    RunOutcome out;
    out.start = out.end = std::chrono::system_clock::now();
    out.cold = true;
    out.status = ActivationStatus::kDeveloperError;
    out.result = Json::object({{"error", exec_path.status().message()}});
    return out;
  }
  // The native runtime runs a one-line script that becomes the cached
  // executable (exec keeps the process, its group and its pipes).
  ActionCode native = code;
  native.kind = "native";
  native.binary = false;
  native.code = "#!/bin/sh\nexec '" + *exec_path + "'\n";
  native.digest.clear();  // the digest of the source, not of this script
  native.wait_for_ack = true;
  // The executable stays in the build cache; a sandbox must show it.
  native.read_only_paths.push_back(std::filesystem::path(*exec_path).parent_path().string());
  return native_->Run(native, request);
}

}  // namespace wisp::whisk
