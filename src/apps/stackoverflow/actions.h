// The published package /whisk.system/stackoverflow: four built-in actions
// that, chained by the manifest's sequences, keep a questions database in
// step with Stack Overflow and tell Slack about each new question once
// (docs/pipeline.md).
//
//   socron   = [collector, invoker]   one poll of one tag set
//   qhandler = [storer, notifier]     one question, one activation
//
// collector: the trigger payload {tags, search_type} -> {items, watermark},
//   the items being every question with activity since the stored
//   watermark (minus an overlap).
// invoker: one `handler` activation per item through Controller::Invoke, at
//   most `concurrency` in flight; moves the watermark once every item is
//   stored, never before.
// storer: upserts {question} into `dbname`, keeping every triage field.
// notifier: posts a new question to Slack and records `notified_at`.
//
// Each function is also callable directly (tests, benchmarks); the catalog
// registers them on the builtin runtime.
//
// Thread-safety: the functions may run on many threads at once; they share
// only the PipelineServices, which must outlive the runtime.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "apps/stackoverflow/pipeline_metrics.h"
#include "http/client.h"
#include "json/json.h"
#include "store/remote_couch.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"
#include "whisk/builtin_runtime.h"
#include "whisk/controller.h"
#include "whisk/identity.h"

namespace wisp::stackoverflow {

// How the invoker starts one handler activation: the namespace it runs in,
// the handler, the activation's input, and how to wait. In wisp this is
// Controller::Invoke (InvokeThroughController); in an action exported to
// OpenWhisk, a POST to the platform's REST API (rest_invoke.h). A throttled
// invoke answers ResourceExhausted, which the invoker waits out.
using HandlerInvoke = std::function<Result<whisk::InvokeReply>(
    const std::string& namespace_name, const whisk::EntityName& handler, const Json& input,
    const whisk::InvokeOptions& options)>;

// Controller::Invoke as the namespace's identity (`identity_of`).
HandlerInvoke InvokeThroughController(whisk::Controller& controller,
                                      std::function<Result<whisk::Identity>(const std::string&)> identity_of);

// What the actions need from the server, handed down by the composition root.
struct PipelineServices {
  // The embedded store, where the questions live when neither a binding's
  // `store_url` nor `external_store` names another. Null in an exported
  // action, which has no store of its own: there `store_url` is required.
  store::Store* store;
  HandlerInvoke invoke_handler;
  http::Client& http;  // Stack Exchange, Slack and a remote CouchDB
  Clock& clock = Clock::System();
  // Every wait of the clients (backoff, Retry-After) goes here; empty: a
  // real sleep. Tests advance a FakeClock instead. (The invoker's waits for
  // a throttled invoke are real: they wait for other activations to end.)
  std::function<void(std::chrono::milliseconds)> sleep;
  // Waits of the Slack client only, when set (else `sleep`).
  std::function<void(std::chrono::milliseconds)> slack_sleep;
  // Where the actions count polls, stored questions and Slack messages
  // (pipeline_metrics.h); null: nowhere.
  PipelineMetrics* metrics = nullptr;
  // The external store of `wisp serve --store-url` (docs/scaling.md): where
  // the questions live when a binding's `store_url` is empty. Null: the
  // embedded store.
  std::shared_ptr<store::RemoteCouch> external_store = nullptr;
  // The notifier's lock on a webhook covers one process. Where notifiers of
  // one question may run in several (an action exported to OpenWhisk), each
  // also claims the question in the store before it posts (`notify_claim`,
  // docs/export.md), so two overlapping polls still send one message.
  bool claim_notifications = false;
};

inline constexpr char kPackageName[] = "stackoverflow";

// The package's parameters and defaults: [{key, value}] (PIPELINE_CONTRACT.md).
Json PackageParameters();
// "collector", "invoker", "storer", "notifier".
const std::vector<std::string>& ActionNames();

// Registers the four functions on `runtime` ("stackoverflow/<name>") and the
// package on `controller`; before controller.Start(). `services` must
// outlive both.
void InstallStackoverflowCatalog(whisk::BuiltinRuntime& runtime, whisk::Controller& controller,
                                 const PipelineServices& services);

// The actions, as the builtin runtime calls them: `args` are the package
// parameters merged with the activation's input; a result with `error` is an
// application error. Log lines go to `logs`. `namespace_name` is the
// activation's namespace (the invoker resolves its handler there and
// starts it under `trace_id`).
Json Collect(const PipelineServices& services, const Json& args, std::vector<std::string>& logs);
Json InvokeHandlers(const PipelineServices& services, const std::string& namespace_name, const std::string& trace_id,
                    const Json& args, std::vector<std::string>& logs);
Json StoreQuestion(const PipelineServices& services, const Json& args, std::vector<std::string>& logs);
Json NotifyNewQuestion(const PipelineServices& services, const Json& args, std::vector<std::string>& logs);

// The `_local` document that keeps the watermark of one trigger's search:
// "so-watermark:<site>:<search_type>:<sorted tags joined by |>".
std::string WatermarkName(const std::string& site, const std::string& search_type, std::vector<std::string> tags);

}  // namespace wisp::stackoverflow
