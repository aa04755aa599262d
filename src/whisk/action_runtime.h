// ActionRuntime: what runs one activation of an action and reports how it went.
//
// The controller (the OpenWhisk REST API, invocation, sequences and the
// activation records) decides *what* runs; a runtime decides *how*. Two
// implementations exist: built-in C++ functions registered in the binary, and
// actionloop executables in warm process pools (native_runtime.h). Both answer
// with the same RunOutcome, so the controller records every activation the
// same way.
//
// The outcome classes are OpenWhisk's (spec openwhisk.md 3.5): success,
// application error (the action returned an object with `error`), developer
// error (crash, timeout, bad output, init failure) and internal error.
//
// Thread-safety: Run() may be called from any number of threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "json/json.h"

namespace wisp::whisk {

// statusCode of an activation's response, as the records spell it.
enum class ActivationStatus : int {
  kSuccess = 0,
  kApplicationError = 1,
  kDeveloperError = 2,
  kWhiskError = 3,
};

// The text OpenWhisk stores next to the code: "success", "application error",
// "action developer error", "whisk internal error".
const char* ActivationStatusText(ActivationStatus status);

// Immutable text shared instead of copied: an action's code can be
// megabytes, and every invoke hands it to a runtime. It converts from a
// string (tests, small code) or shares one that something else keeps alive
// (the controller's cached action document).
class SharedText {
 public:
  SharedText() = default;
  SharedText(std::string text) : text_(std::make_shared<const std::string>(std::move(text))) {}  // NOLINT: implicit
  SharedText(const char* text) : SharedText(std::string(text)) {}                                // NOLINT: implicit
  explicit SharedText(std::shared_ptr<const std::string> text) : text_(std::move(text)) {}

  std::string_view view() const { return text_ ? std::string_view(*text_) : std::string_view(); }
  operator std::string_view() const { return view(); }  // NOLINT: implicit, as std::string's
  bool empty() const { return view().empty(); }
  size_t size() const { return view().size(); }

 private:
  std::shared_ptr<const std::string> text_;
};

// The code an action runs. For built-in actions only `builtin` is set.
struct ActionCode {
  // One warm pool per key. The controller makes it unique per action version
  // and code, e.g. "/guest/pkg/name@0.0.3".
  std::string pool_key;
  // The action across its versions (the controller uses its document id,
  // "guest/pkg/name"): what Retire() names. Empty: the pool_key.
  std::string action;
  std::string kind;  // "native", "builtin", "nodejs:20", "python:3" or "cpp"
  SharedText code;   // the executable, or base64 when binary
  // Content digest of `binary` and `code` (ContentDigest()), so a runtime can
  // keep one copy of the installed code per content. Empty: the runtime
  // computes it when it needs it.
  std::string digest;
  bool binary = false;  // code is base64: an executable, or a zip holding `exec`
  std::string main = "main";
  std::string builtin;  // name of a built-in function ("/whisk.system/utils/echo")
  // Parameters marked `init` and any environment for /init, as strings.
  Json init_env = Json::object();
  // Native only: the process is started with `__OW_WAIT_FOR_ACK=1` and must
  // write {"ok":true} on fd 3 before it reads its first request (the Go
  // actionloop launcher and the C++ SDK do). Its initialisation then has its
  // own time limit, and `init_time` measures it. Without it, wisp writes the
  // first request at once. The controller sets it from the action's
  // `wait-for-ack` annotation (docs/actionloop.md).
  bool wait_for_ack = false;
  // Paths outside its installed directory that the action's process must
  // read (the compiled executable of a `cpp` action); the sandbox shows them
  // read-only (sandbox.h).
  std::vector<std::string> read_only_paths;
};

// One activation's input and its limits.
struct RunRequest {
  Json value = Json::object();         // the merged parameters
  std::string namespace_name;          // __OW_NAMESPACE: the invoker's namespace
  std::string action_name;             // __OW_ACTION_NAME: "/ns/[pkg/]name"
  std::string action_version;          // __OW_ACTION_VERSION
  std::string activation_id;           // __OW_ACTIVATION_ID (32 hex)
  std::string transaction_id;          // __OW_TRANSACTION_ID: the request's trace id
  std::optional<std::string> api_key;  // __OW_API_KEY, only with provide-api-key
  std::string api_host;                // __OW_API_HOST
  std::chrono::milliseconds timeout{60'000};
  size_t log_limit_bytes = 10 * 1024 * 1024;
  int max_instances = 0;  // this action's process cap; 0 = the runtime's default
  // The action's `limits.memory` in bytes; 0: no limit. How each kind
  // enforces it is in docs/security.md "Sandbox".
  uint64_t memory_bytes = 0;
  // False: the process gets no network (a namespace of its own, when the
  // sandbox is active). The controller clears it for the annotation
  // `sandbox-network: false` or the server option --sandbox-network=off.
  bool network = true;
};

struct RunOutcome {
  ActivationStatus status = ActivationStatus::kSuccess;
  // An object or array on success; always {"error": ...} otherwise.
  Json result = Json::object();
  // OpenWhisk's log lines: "2026-11-28T01:02:03.456789Z stdout: text".
  std::vector<std::string> logs;
  bool cold = false;     // a new process was started (initTime is then set)
  bool timeout = false;  // the time limit was hit (annotation timeout:true)
  std::chrono::milliseconds init_time{0};
  std::chrono::milliseconds wait_time{0};       // queued before a process was free
  std::chrono::system_clock::time_point start;  // init start when cold, else run start
  std::chrono::system_clock::time_point end;
};

class ActionRuntime {
 public:
  virtual ~ActionRuntime() = default;
  // Runs one activation to its end and reports the outcome; never throws.
  // Failures of the action are outcomes (developer error), not Status.
  virtual RunOutcome Run(const ActionCode& code, const RunRequest& request) = 0;
  // The action `action` (ActionCode::action) was updated or deleted: what a
  // runtime keeps for its earlier versions (idle processes, installed code)
  // may go. `current_digest` is the content digest of its code from now on
  // ("" when deleted); installed code with that digest stays.
  virtual void Retire(const std::string& action, const std::string& current_digest) {
    (void)action;
    (void)current_digest;
  }
};

// The content digest of an action's code, as ActionCode::digest expects it:
// "b-" (binary) or "t-" (text), then the code's SHA-256 in hex.
std::string ContentDigest(bool binary, std::string_view code);

}  // namespace wisp::whisk
