#include "cli/dashboard.h"

#include "cli/web_assets.h"
#include "http/mount.h"
#include "http/static_assets.h"
#include "json/json.h"
#include "store/couch_error.h"
#include "whisk/error_response.h"

namespace wisp::cli {

void AddDashboardRoutes(http::Router& api, std::shared_ptr<const http::Router> couch, const std::string& web_root) {
  http::MountRouter(api, kStorePrefix, std::move(couch), store::RenderCouchError);
  std::shared_ptr<const http::StaticAssets> assets =
      web_root.empty() ? http::StaticAssets::Embedded(WebAssets()) : http::StaticAssets::Directory(web_root);
  http::StaticRouteOptions options;
  options.reserved_prefixes = {"api", std::string(kStorePrefix).substr(1)};
  options.not_found = [](http::Request& request) { return whisk::RenderWhiskError(404, "not found", request); };
  http::AddStaticRoutes(api, std::move(assets), std::move(options));
}

Status EnsureDashboardDatabases(store::Store& store) {
  for (const char* name : {kQuestionsDb, kEventsDb}) {
    Result<std::shared_ptr<store::Database>> db = store.GetDatabase(name);
    if (!db.ok() && db.status().IsNotFound()) {
      if (Status s = store.CreateDatabase(name); !s.ok() && s.code() != StatusCode::kPreconditionFailed) return s;
      db = store.GetDatabase(name);
    }
    if (!db.ok()) return db.status();
    Json security = (*db)->Security();
    if (!security.is_object()) security = Json::object();
    Json& members = security["members"];
    if (!members.is_object()) members = Json::object();
    Json& roles = members["roles"];
    if (!roles.is_array()) roles = Json::array();
    bool present = false;
    for (const Json& role : roles) present = present || (role.is_string() && role.get<std::string>() == kAdvocateRole);
    if (present) continue;
    roles.push_back(kAdvocateRole);
    if (!members.contains("names")) members["names"] = Json::array();
    if (!security.contains("admins")) security["admins"] = Json{{"names", Json::array()}, {"roles", Json::array()}};
    if (Status s = (*db)->SetSecurity(security); !s.ok()) return s;
  }
  return Status::Ok();
}

}  // namespace wisp::cli
