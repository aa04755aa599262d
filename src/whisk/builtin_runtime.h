// BuiltinRuntime: the ActionRuntime for actions of kind `builtin`, C++
// functions compiled into the binary and looked up by name.
//
// An action's `exec.code` names the function ("echo", "sort", ...). The
// functions of OpenWhisk's `/whisk.system/utils` catalog are registered by
// RegisterUtilsCatalog(); other modules may register more before the server
// starts. A function returns the activation's result; a result object with an
// `error` key is an application error, and a thrown exception a developer
// error (the runtime catches it). Built-in actions are always warm: no
// process starts, so `cold` is false and there is no initTime.
//
// Thread-safety: Register() before the server starts; Run() and Has() may
// then be called from any thread at once.
#pragma once

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "util/clock.h"
#include "whisk/action_runtime.h"

namespace wisp::whisk {

// What a built-in function sees besides its arguments.
struct BuiltinContext {
  const RunRequest& request;
  // Append plain text; the runtime adds the timestamp and applies the log limit.
  std::vector<std::string>& logs;
};

using BuiltinFunction = std::function<Json(const Json& args, BuiltinContext& context)>;

class BuiltinRuntime final : public ActionRuntime {
 public:
  explicit BuiltinRuntime(Clock& clock = Clock::System()) : clock_(clock) {}

  void Register(std::string name, BuiltinFunction function);
  bool Has(const std::string& name) const { return functions_.count(name) > 0; }

  RunOutcome Run(const ActionCode& code, const RunRequest& request) override;

 private:
  Clock& clock_;
  std::map<std::string, BuiltinFunction> functions_;
};

// The functions behind /whisk.system/utils: echo, cat, sort, head, split,
// date and namespace, with the catalog's argument names and results.
void RegisterUtilsCatalog(BuiltinRuntime& runtime);

// The names RegisterUtilsCatalog() registers, in catalog order.
const std::vector<std::string>& UtilsCatalogNames();

}  // namespace wisp::whisk
