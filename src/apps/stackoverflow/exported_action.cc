#include "apps/stackoverflow/exported_action.h"

#include <algorithm>
#include <iostream>

#include "apps/stackoverflow/actions.h"
#include "apps/stackoverflow/rest_invoke.h"
#include "util/environment.h"
#include "util/log.h"
#include "whisk/sdk/action.h"

namespace wisp::stackoverflow {
namespace {

// The actions mark stderr lines with a "stderr:" prefix (BuiltinContext's
// convention); here each goes to its stream, in order.
void WriteLogs(const std::vector<std::string>& logs) {
  constexpr std::string_view kStderr = "stderr:";
  for (const std::string& line : logs) {
    if (line.starts_with(kStderr)) {
      std::cerr << line.substr(kStderr.size()) << "\n";
    } else {
      std::cout << line << "\n";
    }
  }
}

}  // namespace

int ServeExportedAction(const std::string& action) {
  const std::vector<std::string>& names = ActionNames();
  if (std::find(names.begin(), names.end(), action) == names.end()) {
    std::cerr << "wisp actionloop: no action '" << action << "' (collector, invoker, storer or notifier)\n";
    return 2;
  }
  // The actions' own warnings already reach the activation's log as lines;
  // the server log would print them twice.
  log::Options quiet;
  quiet.level = log::Level::kError;
  quiet.format = log::Format::kText;
  (void)log::Configure(quiet);

  // Self-signed API hosts are common in OpenWhisk deployments; the
  // platform's own convention for trusting them is __OW_IGNORE_CERTS.
  http::ClientOptions client_options;
  client_options.user_agent = "wisp-exported-action";
  client_options.verify_peer = EnvironmentVariable("__OW_IGNORE_CERTS") != "true";
  http::Client client(client_options);
  const PipelineServices services{.store = nullptr,
                                  .invoke_handler = InvokeThroughRestApi(client),
                                  .http = client,
                                  .clock = Clock::System(),
                                  .sleep = {},
                                  .slack_sleep = {},
                                  .metrics = nullptr,
                                  .external_store = nullptr,
                                  .claim_notifications = true};

  return whisk::sdk::Serve([&](const Json& args) -> Result<Json> {
    std::vector<std::string> logs;
    Json result;
    if (action == "collector") {
      result = Collect(services, args, logs);
    } else if (action == "invoker") {
      // The SDK has set this activation's __OW_* variables.
      const std::string activation = EnvironmentVariable("__OW_ACTIVATION_ID");
      result = InvokeHandlers(services, EnvironmentVariable("__OW_NAMESPACE"), activation, args, logs);
    } else if (action == "storer") {
      result = StoreQuestion(services, args, logs);
    } else {
      result = NotifyNewQuestion(services, args, logs);
    }
    WriteLogs(logs);
    return result;
  });
}

}  // namespace wisp::stackoverflow
