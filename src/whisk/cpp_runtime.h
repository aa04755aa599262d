// CppRuntime: the `cpp` kind. The action's code is C++ source written against
// wisp's C++ action SDK (src/whisk/sdk/action.h); it is compiled into an
// actionloop executable, and that executable runs in the native runtime's
// warm pools like any native action (docs/runtimes.md).
//
// Builds are cached by content: DATA/native/cpp/<hash>/ holds the source and
// its executable, so a server compiles a given source once (on create, where
// a compile error is a 400 with the compiler's message, or on the first run
// after a restart found no cache), and a restart reuses what is on disk. The
// compiler runs with a time limit and its output is kept to 64 KiB.
//
// The SDK's headers and static libraries are those of the build tree the
// binary was built in (CMake records their paths), so the kind needs that
// tree and a C++20 compiler on the machine; Options says where.
//
// Thread-safety: Run() and Build() may be called from any number of threads;
// builds are serialised (one compiler at a time), and a source that is being
// built by one caller is not built again by another.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "util/result.h"
#include "whisk/action_runtime.h"

namespace wisp::whisk {

class CppRuntime final : public ActionRuntime {
 public:
  struct Options {
    std::string cache_dir;  // required; created if missing
    std::string compiler;   // empty: the one CMake built wisp with
    // Compiler arguments before the source (include directories, -std) and
    // after it (the SDK's libraries); empty: the build tree's.
    std::vector<std::string> compile_flags;
    std::vector<std::string> link_flags;
    std::chrono::seconds compile_timeout{120};
  };

  // `native` runs the executables; it must outlive this runtime.
  static Result<std::unique_ptr<CppRuntime>> Create(Options options, ActionRuntime* native);

  // The cached executable of `source`, compiled now when there is none.
  // InvalidArgument with the compiler's output when it does not compile.
  Result<std::string> Build(const std::string& source);

  // Builds (or finds) the executable, then runs it as a native action with
  // acknowledgement. A build failure is a developer error with the compiler's
  // message.
  RunOutcome Run(const ActionCode& code, const RunRequest& request) override;

  uint64_t compiles() const;  // compilations since creation; for tests

 private:
  CppRuntime(Options options, ActionRuntime* native) : options_(std::move(options)), native_(native) {}

  Options options_;
  ActionRuntime* native_;
  mutable std::mutex build_mu_;  // one compile at a time
  uint64_t compiles_ = 0;        // GUARDED_BY(build_mu_)
};

}  // namespace wisp::whisk
