#include "whisk/sandbox.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>

namespace wisp::whisk {
namespace {

// What programs commonly read in /etc: the dynamic linker's cache, name
// resolution, users and groups (for getpwuid), TLS roots, the time zone,
// Debian's alternatives (some /usr/bin entries point there). Not /etc
// itself: it may hold secrets readable by wisp's user (/etc/shadow when wisp
// runs as root).
constexpr const char* kEtcPaths[] = {
    "/etc/ld.so.cache",  "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/resolv.conf", "/etc/hosts",
    "/etc/host.conf",    "/etc/gai.conf",   "/etc/nsswitch.conf", "/etc/passwd",      "/etc/group",
    "/etc/ssl",          "/etc/ca-certificates", "/etc/alternatives", "/etc/localtime", "/etc/timezone",
    "/etc/protocols",    "/etc/services",   "/etc/mime.types",
};

// The merged-/usr links of Debian (`/bin -> usr/bin`); on a system where they
// are real directories they are bound read-only instead.
constexpr const char* kUsrLinks[] = {"/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"};

void Add(std::vector<std::string>& args, std::initializer_list<std::string> words) {
  args.insert(args.end(), words.begin(), words.end());
}

std::vector<std::string> BaseArgs() {
  std::vector<std::string> args;
  // New namespaces for everything (network is given back below when
  // allowed), no capability, a session of its own (no TIOCSTI into wisp's
  // terminal), and death with wisp.
  Add(args, {"--unshare-all", "--cap-drop", "ALL", "--new-session", "--die-with-parent"});
  Add(args, {"--ro-bind", "/usr", "/usr"});
  std::error_code ec;
  for (const char* link : kUsrLinks) {
    const auto status = std::filesystem::symlink_status(link, ec);
    if (std::filesystem::is_symlink(status)) {
      Add(args, {"--symlink", std::filesystem::read_symlink(link, ec).string(), link});
    } else if (std::filesystem::is_directory(status)) {
      Add(args, {"--ro-bind", link, link});
    }
  }
  for (const char* path : kEtcPaths) Add(args, {"--ro-bind-try", path, path});
  Add(args, {"--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp"});
  return args;
}

}  // namespace

Sandbox Sandbox::Disabled(std::string why, const Options& options) { return Sandbox(false, std::move(why), options); }

Sandbox Sandbox::Probe(const Options& options) {
  if (access(options.bwrap.c_str(), X_OK) != 0) {
    return Disabled(options.bwrap + " is not installed (Debian package bubblewrap)", options);
  }
  Sandbox candidate(true, "", options);
  SpawnOptions probe;
  probe.program = "/usr/bin/true";
  Result<std::unique_ptr<ChildProcess>> child = ChildProcess::Spawn(candidate.Wrap(probe, Confinement{}));
  if (!child.ok()) return Disabled("cannot start bwrap: " + child.status().message(), options);
  const bool ended = (*child)->WaitForExit(std::chrono::seconds(10));
  if (ended && (*child)->ExitCode() == 0) return candidate;
  std::string why = ended ? "bwrap failed (" + (*child)->Describe() + ")" : "bwrap did not finish within 10 s";
  char buffer[512];
  const ssize_t n = read((*child)->stderr_fd(), buffer, sizeof(buffer));
  if (n > 0) {
    std::string text(buffer, static_cast<size_t>(n));
    while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
    why += ": " + text;
  }
  return Disabled(why, options);
}

SpawnOptions Sandbox::Wrap(const SpawnOptions& inner, const Confinement& confinement) const {
  // The program and its arguments, behind prlimit when memory is limited.
  std::vector<std::string> command;
  if (confinement.memory_bytes > 0) {
    const std::string bytes = std::to_string(confinement.memory_bytes);
    command = {options_.prlimit, "--data=" + bytes + ":" + bytes, "--"};
  }
  command.push_back(inner.program);
  command.insert(command.end(), inner.args.begin(), inner.args.end());

  SpawnOptions outer;
  outer.env = inner.env;
  if (!active_) {
    outer.program = command.front();
    outer.args.assign(command.begin() + 1, command.end());
    outer.working_dir = inner.working_dir;
    return outer;
  }
  outer.program = options_.bwrap;
  outer.args = BaseArgs();
  if (confinement.network) outer.args.push_back("--share-net");
  for (const std::string& path : confinement.read_only) Add(outer.args, {"--ro-bind", path, path});
  if (!inner.working_dir.empty()) Add(outer.args, {"--chdir", inner.working_dir});
  outer.args.push_back("--");
  outer.args.insert(outer.args.end(), command.begin(), command.end());
  return outer;
}

}  // namespace wisp::whisk
