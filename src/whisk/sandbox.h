// Sandbox: runs action processes under bubblewrap (`bwrap`, Debian package
// `bubblewrap`) and under their memory limit. docs/security.md "Sandbox"
// describes what an action can and cannot see.
//
// A sandboxed process gets a root of its own: the system read-only (`/usr`,
// the `/bin` and `/lib` links, the parts of `/etc` that programs need), a
// private `/tmp`, `/proc` and `/dev` of its own, the read-only paths of its
// Confinement (its code) and nothing else: not wisp's data directory, not
// the home directories. It runs in new user, pid, ipc, uts and cgroup
// namespaces with every capability dropped, in a new session, and dies with
// wisp (`--die-with-parent`). Because the process is pid 1's child in its
// own pid namespace, killing the sandbox (bwrap, which ChildProcess started)
// kills every process the action started, also one that left the process
// group with setsid(). With Confinement::network false it also gets a
// network namespace of its own (only a loopback of its own: no way out, and
// no way to wisp's API).
//
// The memory limit (Confinement::memory_bytes) is RLIMIT_DATA, set by
// util-linux's `prlimit` just before the program runs, inside the sandbox.
// It counts allocations, not reservations, so a Node.js script started as a
// native action still starts. The interpreted kinds limit memory their own
// way instead (language_runtime.h) and set no memory_bytes here.
//
// `--die-with-parent` ties a sandbox to the thread that started it (Linux's
// parent-death signal follows the creating thread): processes are started
// by long-lived threads (the controller's invoker pool, a Language's refill
// thread), and one whose thread ended is found dead and replaced, as any
// process that died while idle.
//
// Probe() runs bwrap once with the flags every action gets: where user
// namespaces are not allowed (some containers, some kernels), the sandbox is
// unavailable, and active() says so with a reason for wisp's start-up log.
//
// Thread-safety: immutable after Probe(); Wrap() may be called from any thread.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "whisk/child_process.h"

namespace wisp::whisk {

// What one process may see and use.
struct Confinement {
  // Paths (directories or files, absolute) visible read-only at the same path.
  std::vector<std::string> read_only;
  bool network = true;        // false: a network namespace of its own
  uint64_t memory_bytes = 0;  // RLIMIT_DATA; 0: none

  bool operator==(const Confinement&) const = default;
};

class Sandbox {
 public:
  struct Options {
    std::string bwrap = "/usr/bin/bwrap";
    std::string prlimit = "/usr/bin/prlimit";
  };

  // Finds bwrap and runs `/bin/true` in a sandbox once (a few milliseconds).
  static Sandbox Probe(const Options& options);
  // No sandbox: Wrap() only applies the memory limit. `why` is for logs.
  static Sandbox Disabled(std::string why, const Options& options);

  // True when processes run under bwrap.
  bool active() const { return active_; }
  // Why the sandbox is not active (empty when it is).
  const std::string& unavailable_reason() const { return why_; }

  // `inner` (program, args, env, working directory) rewritten to run in the
  // sandbox with `confinement`: the program becomes bwrap (and prlimit inside
  // it, for a memory limit). The working directory must be one of the
  // read-only paths or below one; it is entered inside the sandbox.
  SpawnOptions Wrap(const SpawnOptions& inner, const Confinement& confinement) const;

 private:
  Sandbox(bool active, std::string why, Options options)
      : active_(active), why_(std::move(why)), options_(std::move(options)) {}

  bool active_;
  std::string why_;
  Options options_;
};

}  // namespace wisp::whisk
