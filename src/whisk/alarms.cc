#include "whisk/alarms.h"

#include "util/base64.h"
#include "util/ids.h"
#include "util/log.h"

namespace wisp::whisk {

void InstallAlarmsCatalog(BuiltinRuntime& runtime, Controller& controller, AlarmScheduler& scheduler) {
  const std::vector<std::string> feeds = {"alarm", "once", "interval"};
  for (const std::string& feed : feeds) {
    runtime.Register("alarms/" + feed, [&scheduler, feed](const Json& args, BuiltinContext& context) {
      Json params = args.is_object() ? args : Json::object();
      // Clients may name the trigger "/_/name": `_` is the caller's namespace.
      const std::string trigger = json::GetString(params, "triggerName");
      if (trigger.rfind("/_/", 0) == 0)
        params["triggerName"] = "/" + context.request.namespace_name + trigger.substr(2);
      Result<Json> answer = scheduler.Handle(feed, params);
      if (!answer.ok()) return Json{{"error", std::string(answer.status().message())}};
      return *answer;
    });
  }
  controller.AddFeedPackage("alarms", "Alarms and periodic utility", feeds);
}

AlarmScheduler::FireFn AlarmFirePath(Controller& controller, const Identities& identities) {
  return [&controller, &identities](const std::string& trigger, const std::string& auth_key, const Json& payload) {
    const std::string trace_id = NewId();
    Result<Identity> owner = identities.Authenticate("Basic " + Base64Encode(auth_key));
    Result<EntityName> name =
        owner.ok() ? ParseFullyQualifiedName(trigger, owner->namespace_name) : Result<EntityName>(owner.status());
    Result<std::optional<std::string>> fired =
        name.ok() ? controller.FireTrigger(*owner, name->ns, name->name, payload, Json(), trace_id)
                  : Result<std::optional<std::string>>(name.status());
    if (!fired.ok()) {
      log::Warn("alarms", "alarm fire failed",
                {{"trigger", trigger}, {"trace_id", trace_id}, {"error", fired.status().ToString()}});
    }
  };
}

}  // namespace wisp::whisk
