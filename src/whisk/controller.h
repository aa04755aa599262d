// Controller: OpenWhisk's entities, invocation, sequences and activation
// records, behind the REST API (whisk_api.h) and independent of HTTP.
//
// Entities (actions, packages, triggers, rules) are documents of the system
// database `whisk_local_whisks`, one name table per namespace: the document
// id is "ns/[pkg/]name" whatever the entity type, so a trigger named like an
// action is a 409 (spec openwhisk.md §0.5). Activations go to
// `whisk_local_activations` (activation.h). Both databases have no members in
// their _security, so on the CouchDB port only the server admin reads them.
//
// Each method takes the authenticated caller and returns the body to answer
// with, or a Status whose message is OpenWhisk's error text and whose code
// maps to OpenWhisk's HTTP status (403, 404, 409, 400, 413, 429...).
//
// Invocations run on the controller's own thread pool, except a blocking
// invoke of a built-in action, which runs on the caller's thread. A blocking
// invoke waits for its activation up to the blocking wait, without holding a
// thread (InvokeAsync(), blocking_waits.h): its answer is produced on the
// thread that stores the record, or on the deadline thread (202). The record
// is handed to the ActivationStore (written behind, readable at once) before
// the answer, so it can be read as soon as the invoke has answered.
// Actions of kind `builtin` and `native` run on the ActionRuntime registered
// for that kind; `sequence` actions run here, one component after another.
//
// Thread-safety: after Start(), every method may be called from any thread.
// SetRuntime() only before Start().
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "json/json.h"
#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"
#include "util/metrics.h"
#include "util/thread_pool.h"
#include "whisk/action_runtime.h"
#include "whisk/activation.h"
#include "whisk/activation_metrics.h"
#include "whisk/activation_sweeper.h"
#include "whisk/blocking_waits.h"
#include "whisk/entity.h"
#include "whisk/identity.h"
#include "whisk/traces.h"
#include "whisk/secrets.h"

namespace wisp::whisk {

inline constexpr char kEntitiesDb[] = "whisk_local_whisks";
inline constexpr char kActivationsDb[] = "whisk_local_activations";

struct ControllerOptions {
  LimitBounds bounds;
  int64_t invocations_per_minute = 60;  // per namespace; 429 beyond
  int64_t concurrent_invocations = 30;  // in flight per namespace; 429 beyond
  int64_t fires_per_minute = 60;
  size_t sequence_max_length = 50;  // atomic actions per sequence invoke
  std::chrono::milliseconds max_blocking_wait{60'000};
  size_t max_payload_bytes = 1024 * 1024;
  size_t max_parameter_bytes = 1024 * 1024;
  size_t max_code_bytes = 48 * 1024 * 1024;
  size_t max_result_bytes = 1024 * 1024;
  size_t invoker_threads = 32;
  std::string api_host;  // __OW_API_HOST until SetApiHost()
  // Where the activation metrics go (activation_metrics.h); null: none. It
  // must outlive the controller.
  MetricsRegistry* metrics = nullptr;
  // Activation records older than this are deleted by a periodic sweep
  // (ActivationSweeper); zero keeps them forever.
  std::chrono::milliseconds activation_retention{0};
  // Whether actions have network; false is `wisp serve --sandbox-network=off`.
  // An action narrows it with the annotation `sandbox-network: false`.
  bool action_network = true;
};

// The annotation that takes an action's network away (docs/security.md).
inline constexpr char kSandboxNetworkAnnotation[] = "sandbox-network";

// A list request's paging (spec §1.1).
struct ListOptions {
  size_t limit = 30;
  size_t skip = 0;
  bool count = false;
};

struct InvokeOptions {
  bool blocking = false;
  bool result_only = false;
  std::chrono::milliseconds wait{60'000};
  std::string trace_id;
  // The activation that makes this invoke (its record's parent_id). Empty:
  // the activation running on the calling thread (log::LogContext's
  // `activation_id`), if any, so an action that invokes another in-process
  // needs to say nothing.
  std::string parent_id;
};

// What an invoke answers: 200/202/502/500 and the body; the activation id
// goes in the x-openwhisk-activation-id header.
struct InvokeReply {
  int status = 202;
  Json body;
  std::string activation_id;
};

// Where an invoke's reply goes (InvokeAsync()).
using InvokeDone = std::function<void(InvokeReply reply)>;

// An action as an invoke or GET finds it: through its package, or a binding.
struct ResolvedAction {
  EntityName name;                  // where the action document lives
  std::shared_ptr<const Json> doc;  // the action document (shared with the controller's cache)
  Json parameters;                  // package < binding < action, as [{key, value}]
  std::string binding;              // "ns/pkg" of the binding it was reached through, or ""
  std::string name_key;             // "[pkg/]name" as the caller named it (the list filter key)
  Json package_annotations = Json::array();  // of its package (binding over package); for secret names
};

class Controller {
 public:
  Controller(store::Store& store, ControllerOptions options, Clock& clock = Clock::System());
  ~Controller();
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Runs actions of `kind` ("builtin", "native") on `runtime`, which must
  // outlive the controller. `has_builtin` says which built-in names exist.
  void SetRuntime(const std::string& kind, ActionRuntime* runtime);
  void SetBuiltinNames(std::vector<std::string> names);
  // A check of an action's code on create and update for one kind (the `cpp`
  // kind compiles it): an error Status is the 400's message.
  void SetCodeCheck(const std::string& kind, std::function<Status(const std::string& code, bool binary)> check);
  // A published package /whisk.system/<package> of feed actions (annotated
  // `feed: true`), each of kind builtin with code "<package>/<feed>", which
  // must be registered on the builtin runtime. Before Start().
  void AddFeedPackage(std::string package, std::string description, std::vector<std::string> feeds);
  // A published package /whisk.system/<package> with default `parameters`
  // ([{key, value}]) and `actions` of kind builtin with code
  // "<package>/<action>", registered on the builtin runtime. Start()
  // installs it, and rewrites the package when its parameters changed.
  // Before Start().
  void AddCatalogPackage(std::string package, std::string description, Json parameters,
                         std::vector<std::string> actions);

  // Opens the system databases and installs the /whisk.system/utils
  // catalog (one action per name given to SetBuiltinNames that it knows).
  Status Start();

  const ControllerOptions& options() const { return options_; }

  // The URL actions reach the API at (__OW_API_HOST), known once the
  // server listens (its port may have been chosen by the system).
  void SetApiHost(std::string api_host);

  // GET /namespaces/{ns}/limits.
  Json Limits() const;

  // --- actions (spec §1.4) ---
  Result<Json> PutAction(const Identity& caller, const EntityName& name, const Json& body, bool overwrite);
  Result<Json> GetAction(const Identity& caller, const EntityName& name, bool with_code);
  Result<Json> DeleteAction(const Identity& caller, const EntityName& name);
  // Actions of `ns` (package empty: all, including those in packages), or
  // of one package or binding.
  Result<Json> ListActions(const Identity& caller, const std::string& ns, const std::string& package,
                           const ListOptions& list);
  // POST: `payload` is the invoke body (an object, or an array passed whole).
  // The reply goes to `done`, exactly once: before this returns for a
  // non-blocking invoke and for a blocking invoke of a built-in action (which
  // runs here); else, for a blocking invoke, when the activation's record is
  // stored (200, 502, 500), when `invoke.wait` passes or at StopWaiting()
  // (202 {activationId}), on the thread that does so. Nothing waits on the
  // calling thread meanwhile. An error Status (the invoke did not start:
  // 400, 403, 404, 429, 503...) means `done` is never called.
  Status InvokeAsync(const Identity& caller, const EntityName& name, Json payload, const InvokeOptions& invoke,
                     InvokeDone done);
  // InvokeAsync(), waiting on the calling thread for the reply: for callers
  // that are not HTTP handlers (trigger rules, built-in actions that invoke
  // actions in-process).
  Result<InvokeReply> Invoke(const Identity& caller, const EntityName& name, Json payload, const InvokeOptions& invoke);
  Result<ResolvedAction> ResolveAction(const Identity& caller, const EntityName& name);

  // --- packages (spec §1.5) ---
  Result<Json> PutPackage(const Identity& caller, const std::string& ns, const std::string& name, const Json& body,
                          bool overwrite);
  Result<Json> GetPackage(const Identity& caller, const std::string& ns, const std::string& name);
  Result<Json> DeletePackage(const Identity& caller, const std::string& ns, const std::string& name, bool force);
  Result<Json> ListPackages(const Identity& caller, const std::string& ns, const ListOptions& list);

  // --- triggers and rules (spec §1.6, §1.7, §3.3) ---
  Result<Json> PutTrigger(const Identity& caller, const std::string& ns, const std::string& name, const Json& body,
                          bool overwrite);
  Result<Json> GetTrigger(const Identity& caller, const std::string& ns, const std::string& name);
  Result<Json> DeleteTrigger(const Identity& caller, const std::string& ns, const std::string& name);
  Result<Json> ListTriggers(const Identity& caller, const std::string& ns, const ListOptions& list);
  Result<Json> PutRule(const Identity& caller, const std::string& ns, const std::string& name, const Json& body,
                       bool overwrite);
  Result<Json> GetRule(const Identity& caller, const std::string& ns, const std::string& name);
  Result<Json> DeleteRule(const Identity& caller, const std::string& ns, const std::string& name);
  Result<Json> SetRuleStatus(const Identity& caller, const std::string& ns, const std::string& name, const Json& body);
  Result<Json> ListRules(const Identity& caller, const std::string& ns, const ListOptions& list);
  // POST .../triggers/{name}: fires. nullopt when no rule is active (204, no
  // record); else the trigger activation's id (202). Each active rule's
  // action is invoked non-blocking with the trigger's parameters < `headers`
  // (as `__ow_headers`, when not null) < `payload`, under `trace_id`; the
  // trigger record, with one log line per rule, is stored once every rule
  // has been posted. 429 beyond firesPerMinute.
  Result<std::optional<std::string>> FireTrigger(const Identity& caller, const std::string& ns, const std::string& name,
                                                 Json payload, const Json& headers, const std::string& trace_id);

  // --- activations (spec §1.8) ---
  Result<Json> ListActivations(const Identity& caller, const std::string& ns, const ActivationQuery& query, bool docs,
                               bool count);
  // The stored record (ExtendedActivation() renders it).
  Result<Json> GetActivation(const Identity& caller, const std::string& ns, const std::string& id);
  // GET .../traces/{id}: the activations of `ns` whose trace id is
  // `trace_id`, as a tree (BuildTraceTree() in traces.h), with `namespace`
  // and `truncated` (more than kMaxTraceActivations). An activation id
  // instead of a trace id stands for that activation's trace. 404 when none.
  Result<Json> GetTrace(const Identity& caller, const std::string& ns, const std::string& trace_id);
  // Deletes the records older than activation_retention now; returns how
  // many went (0 when retention is off). The sweeper calls it every
  // ActivationSweeper::IntervalFor(retention), from Start() on.
  size_t ExpireActivations();

  // Waits until the retention sweeper has finished `count` sweeps; false
  // after `timeout`, or at once when retention is off (tests).
  bool WaitForSweeps(int64_t count, std::chrono::milliseconds timeout) {
    return sweeper_ != nullptr && sweeper_->WaitForSweeps(count, timeout);
  }

  // Blocks until every queued activation has run and its record is committed
  // (tests, shutdown).
  void Drain();

  // Shutdown, step one: blocking invokes that still wait answer 202 at once
  // (their activations go on), so the server's deferred responses end and
  // it can stop; later blocking invokes answer 202 as soon as they start.
  void StopWaiting();

 private:
  // Events of the current clock minute, for a per-minute limit.
  struct MinuteCounter {
    int64_t minute = 0;
    int64_t count = 0;
    // Starts a new count when the minute changed; then the count this event
    // would make.
    int64_t Next(int64_t now_minute) {
      if (minute != now_minute) {
        minute = now_minute;
        count = 0;
      }
      return count + 1;
    }
  };
  struct Throttle {
    MinuteCounter invocations;
    MinuteCounter fires;
    int64_t in_flight = 0;
    // This namespace's metric children, looked up once (null without metrics).
    Gauge* in_flight_gauge = nullptr;
    Counter* throttled_by_rate = nullptr;
    Counter* throttled_by_concurrency = nullptr;
  };

  // The namespace a path segment names for `caller` ("_" is the caller's).
  static std::string Resolve(const Identity& caller, const std::string& ns) {
    return ns == kDefaultNamespace ? caller.namespace_name : ns;
  }
  Status RequireOwn(const Identity& caller, const std::string& ns) const;
  // The throttle state of `ns`, its metric children bound on first use.
  Throttle& ThrottleOf(const std::string& ns);  // REQUIRES(throttle_mu_)

  // The document `id`, from the cache while the database has not changed.
  Result<std::shared_ptr<const Json>> LoadShared(const std::string& id);
  Result<Json> LoadDoc(const std::string& id);
  Result<Json> LoadEntity(const std::string& id, std::string_view type);
  // Writes `doc` (create when it has no _rev). 409 on a concurrent write.
  Result<Json> Save(Json doc);
  Status Remove(const Json& doc);
  // Documents of `ns` (id prefix "ns/"), any type.
  std::vector<Json> Scan(const std::string& prefix);
  // The existing document for a PUT: nullopt when new; 409 when it exists
  // and !overwrite, or is another entity type.
  Result<std::optional<Json>> ExistingForPut(const std::string& id, std::string_view type, bool overwrite);

  Result<Json> ValidateExec(const Identity& caller, const EntityName& self, const Json& exec);
  // ContentDigest() of the action document `doc` (id `id`), computed once
  // per revision; "" when it has no code.
  std::string CodeDigest(const std::string& id, const Json& doc);
  // The action `id` was written (`current`: the stored document) or deleted
  // (null): the runtimes let go of its earlier versions (ActionRuntime::Retire).
  void RetireEarlierVersions(const std::string& id, const Json* current);
  Result<size_t> CountAtomicActions(const Identity& caller, const ResolvedAction& action, int depth);
  Status CheckSize(const Json& value, size_t limit) const;

  // Takes a slot of the caller's throttles, or 429.
  Status Admit(const std::string& ns);
  void Release(const std::string& ns);
  // Counts a trigger fire against firesPerMinute, or 429.
  Status AdmitFire(const std::string& ns);
  // One rule of a fire: invokes its action (caused by the trigger
  // activation `trigger_id`), returns the trigger log line.
  Json FireRule(const Identity& caller, const std::string& rule_key, const Json& link, const Json& args,
                const std::string& trace_id, const std::string& trigger_id);

  // Where an activation sits in its trace: the trace id, the sequence that
  // runs it as a component (`cause`) or else the activation that invoked it
  // (`parent_id`); either may be empty.
  struct Lineage {
    std::string trace_id;
    std::string cause;
    std::string parent_id;
  };
  // Runs one activation (primitive or sequence) to its end, stores its
  // record, and returns the stored record.
  Json Execute(const Identity& caller, const ResolvedAction& action, const Json& args, const std::string& id,
               const Lineage& lineage, Clock::SteadyTime received, size_t& atomic_budget, int depth);
  Json ExecuteSequence(const Identity& caller, const ResolvedAction& action, const Json& args, const std::string& id,
                       const Lineage& lineage, Clock::SteadyTime received, size_t& atomic_budget, int depth);
  // The blocking invoke's answer from its stored record: 200, 502 or 500,
  // with the result alone or the whole activation.
  static void Answer(const Json& record, bool result_only, InvokeReply& reply);
  Json NewRecord(const Identity& caller, const ResolvedAction& action, const std::string& id,
                 const Lineage& lineage) const;
  void StoreRecord(const Json& record);
  // The debug line that says an activation ended, under its log context.
  static void LogFinished(const Json& record, bool cold);
  // What keeps the secrets of `action` and of its arguments out of its
  // activation record (secrets.h).
  SecretRedactor RedactorFor(const ResolvedAction& action, const Json& args) const;

  store::Store& store_;
  const ControllerOptions options_;
  Clock& clock_;
  std::map<std::string, ActionRuntime*> runtimes_;
  std::vector<std::string> builtin_names_;
  std::map<std::string, std::function<Status(const std::string&, bool)>> code_checks_;
  struct CatalogPackage {
    std::string package;
    std::string description;
    std::vector<std::string> feeds;
    bool is_feed = true;              // actions annotated `feed: true`
    Json parameters = Json::array();  // the package's defaults
  };
  std::vector<CatalogPackage> catalog_packages_;
  std::shared_ptr<store::Database> entities_;
  std::unique_ptr<ActivationStore> activations_;
  std::unique_ptr<ThreadPool> pool_;
  std::unique_ptr<ActivationMetrics> metrics_;  // null without options_.metrics
  std::unique_ptr<ActivationSweeper> sweeper_;  // when activation_retention is set

  // Blocking invokes waiting for their activation, with one deadline thread.
  BlockingWaits waits_;

  // The activations queued or running, which Drain() waits out. Enter()
  // counts one until its guard goes: when the task that holds it has run,
  // or when the pool refuses the task (the guard goes with it). Thread-safe.
  class Outstanding {
   public:
    class Guard {
     public:
      explicit Guard(Outstanding* owner) : owner_(owner) {}
      Guard(Guard&& other) noexcept : owner_(std::exchange(other.owner_, nullptr)) {}
      Guard& operator=(Guard&&) = delete;
      ~Guard() {
        if (owner_ != nullptr) owner_->Leave();
      }

     private:
      Outstanding* owner_;
    };
    Guard Enter() {
      std::lock_guard<std::mutex> lock(mu_);
      ++count_;
      return Guard(this);
    }
    void WaitForNone() {
      std::unique_lock<std::mutex> lock(mu_);
      none_.wait(lock, [&] { return count_ == 0; });
    }

   private:
    void Leave() {
      std::lock_guard<std::mutex> lock(mu_);
      if (--count_ == 0) none_.notify_all();
    }
    std::mutex mu_;
    std::condition_variable none_;
    size_t count_ = 0;  // GUARDED_BY(mu_)
  };
  Outstanding outstanding_;

  // Documents read since the last write to the entities database: an invoke
  // reads its action (code included) without going to SQLite. Any write, by
  // the controller or on the CouchDB port, moves update_seq and empties it.
  std::mutex cache_mu_;
  int64_t cache_seq_ = -1;                                    // GUARDED_BY(cache_mu_)
  std::map<std::string, std::shared_ptr<const Json>> cache_;  // GUARDED_BY(cache_mu_)

  // CodeDigest()'s memory: action id -> {_rev, digest}, so that hashing
  // megabytes of code happens at its PUT, not on invokes.
  std::mutex digests_mu_;
  std::map<std::string, std::pair<std::string, std::string>> digests_;  // GUARDED_BY(digests_mu_)

  mutable std::mutex api_host_mu_;
  std::string api_host_;  // GUARDED_BY(api_host_mu_)

  std::mutex throttle_mu_;
  std::map<std::string, Throttle> throttles_;  // GUARDED_BY(throttle_mu_)
};

}  // namespace wisp::whisk
