// The authorization matrix (issue 10, part 1; docs/security.md): every route
// of both ports, as `wisp serve` builds them, called by five roles over real
// HTTP, each answer checked against the route's access class.
//
// The routes come from the routers themselves (Router::routes()), so a route
// that a change adds without a line in kApiRoutes or kCouchRoutes below fails
// EveryRouteIsClassified with its method and pattern. To classify one, add
// {"METHOD /pattern", Access::kSomething} to the table of its port, and give
// any new path parameter a value in ParamValue().
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "cli/serve_command.h"
#include "http/client.h"
#include "http/router.h"
#include "json/json.h"
#include "testing/serve_options.h"
#include "testing/temp_dir.h"
#include "util/base64.h"
#include "util/log.h"
#include "whisk/identity.h"

namespace wisp::cli {
namespace {

// Who may call a route.
enum class Access {
  kPublic,           // anyone, with any credentials: /, /ping, /_up, the dashboard's files, GET /api/v1
  kPublicSession,    // anyone, but credentials that are sent must be right (GET /_session)
  kOwnVerification,  // anyone reaches it; the handler checks its own proof (POST /_session's password)
  kAnyIdentity,      // any valid OpenWhisk key (GET /api/v1/namespaces)
  kNamespaceOwner,   // the key of the namespace in the path
  kSharedList,       // the owner; another namespace gets 200 with the published entries only
  kDbMember,         // a member or admin of the database's _security, or the server admin
  kDbAdmin,          // a database admin or the server admin
  kServerAdmin,      // the CouchDB server admin only (on either port)
  kWebAction,        // web actions: expanded into exported, secured, secret and unexported actions
  kMountedStore,     // /db on port 3233: every CouchDB route again, under the prefix
};

struct Classified {
  std::string route;  // "METHOD /pattern"; "* /pattern" for every method
  Access access;
};

// ---- The classification table of port 3233 (OpenWhisk, dashboard, store under /db). ----
const std::vector<Classified> kApiRoutes = {
    {"GET /ping", Access::kPublic},
    {"GET /metrics", Access::kServerAdmin},
    {"GET /api/v1", Access::kPublic},
    {"GET /api/v1/namespaces", Access::kAnyIdentity},
    {"GET /api/v1/namespaces/{ns}/limits", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/actions", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/actions/{name...}", Access::kNamespaceOwner},
    {"PUT /api/v1/namespaces/{ns}/actions/{name...}", Access::kNamespaceOwner},
    {"DELETE /api/v1/namespaces/{ns}/actions/{name...}", Access::kNamespaceOwner},
    {"POST /api/v1/namespaces/{ns}/actions/{name...}", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/packages", Access::kSharedList},
    {"GET /api/v1/namespaces/{ns}/packages/{name}", Access::kNamespaceOwner},
    {"PUT /api/v1/namespaces/{ns}/packages/{name}", Access::kNamespaceOwner},
    {"DELETE /api/v1/namespaces/{ns}/packages/{name}", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/triggers", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/triggers/{name}", Access::kNamespaceOwner},
    {"PUT /api/v1/namespaces/{ns}/triggers/{name}", Access::kNamespaceOwner},
    {"DELETE /api/v1/namespaces/{ns}/triggers/{name}", Access::kNamespaceOwner},
    {"POST /api/v1/namespaces/{ns}/triggers/{name}", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/rules", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/rules/{name}", Access::kNamespaceOwner},
    {"PUT /api/v1/namespaces/{ns}/rules/{name}", Access::kNamespaceOwner},
    {"DELETE /api/v1/namespaces/{ns}/rules/{name}", Access::kNamespaceOwner},
    {"POST /api/v1/namespaces/{ns}/rules/{name}", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/activations", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/activations/{id}", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/activations/{id}/logs", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/activations/{id}/result", Access::kNamespaceOwner},
    {"GET /api/v1/namespaces/{ns}/traces/{id}", Access::kNamespaceOwner},
    {"GET /api/v1/alerts", Access::kAnyIdentity},
    {"POST /slack", Access::kOwnVerification},         // Slack's request signature
    {"POST /slack/redeem", Access::kOwnVerification},  // a one-time sign-in link
    {"GET /ops/metrics", Access::kServerAdmin},
    {"GET /ops/alerts", Access::kServerAdmin},
    {"GET /ops/activations", Access::kServerAdmin},
    {"GET /ops/replications", Access::kServerAdmin},
    {"* /api/v1/web/{ns}/{pkg}/{rest...}", Access::kWebAction},
    {"* /db", Access::kMountedStore},
    {"* /db/{rest...}", Access::kMountedStore},
    {"GET /", Access::kPublic},           // the dashboard's shell
    {"GET /{path...}", Access::kPublic},  // its files (client-side routes get index.html)
};

// ---- The classification table of port 5984 (CouchDB), also checked under /db on 3233. ----
const std::vector<Classified> kCouchRoutes = {
    {"GET /_up", Access::kPublic},
    {"GET /", Access::kPublic},
    {"GET /_uuids", Access::kServerAdmin},
    {"GET /_session", Access::kPublicSession},
    {"POST /_session", Access::kOwnVerification},
    {"DELETE /_session", Access::kPublic},
    {"GET /_all_dbs", Access::kServerAdmin},
    {"PUT /{db}", Access::kServerAdmin},
    {"GET /{db}", Access::kDbMember},
    {"DELETE /{db}", Access::kServerAdmin},
    {"POST /{db}", Access::kDbMember},
    {"POST /{db}/_bulk_docs", Access::kDbMember},
    {"POST /{db}/_bulk_get", Access::kDbMember},
    {"POST /{db}/_revs_diff", Access::kDbMember},
    {"GET /{db}/_all_docs", Access::kDbMember},
    {"POST /{db}/_all_docs", Access::kDbMember},
    {"GET /{db}/_changes", Access::kDbMember},
    {"POST /{db}/_changes", Access::kDbMember},
    {"POST /{db}/_ensure_full_commit", Access::kDbMember},
    {"POST /{db}/_compact", Access::kDbAdmin},
    {"POST /{db}/_compact/{ddoc}", Access::kServerAdmin},
    {"POST /{db}/_view_cleanup", Access::kServerAdmin},
    {"POST /{db}/_find", Access::kDbMember},
    {"GET /{db}/_index", Access::kDbMember},
    {"POST /{db}/_index", Access::kDbAdmin},
    {"DELETE /{db}/_index/{ddoc}/{type}/{name}", Access::kDbAdmin},
    {"DELETE /{db}/_index/_design/{ddoc}/{type}/{name}", Access::kDbAdmin},
    {"POST /{db}/_explain", Access::kDbMember},
    {"GET /{db}/_security", Access::kDbMember},
    {"PUT /{db}/_security", Access::kDbAdmin},
    {"GET /{db}/_revs_limit", Access::kDbMember},
    {"PUT /{db}/_revs_limit", Access::kDbAdmin},
    {"POST /_replicate", Access::kServerAdmin},
    {"GET /_scheduler/jobs", Access::kServerAdmin},
    {"GET /_scheduler/docs", Access::kServerAdmin},
    {"GET /_scheduler/docs/_replicator/{docid}", Access::kServerAdmin},
    {"GET /_active_tasks", Access::kServerAdmin},
    {"GET /{db}/{docid}", Access::kDbMember},
    {"PUT /{db}/{docid}", Access::kDbMember},
    {"DELETE /{db}/{docid}", Access::kDbMember},
    {"COPY /{db}/{docid}", Access::kDbMember},
    {"GET /{db}/_design/{ddoc}", Access::kDbMember},
    {"PUT /{db}/_design/{ddoc}", Access::kDbAdmin},
    {"DELETE /{db}/_design/{ddoc}", Access::kDbAdmin},
    {"COPY /{db}/_design/{ddoc}", Access::kDbAdmin},
    {"GET /{db}/_local/{local}", Access::kDbMember},
    {"PUT /{db}/_local/{local}", Access::kDbMember},
    {"DELETE /{db}/_local/{local}", Access::kDbMember},
    {"COPY /{db}/_local/{local}", Access::kDbMember},
    {"GET /{db}/{docid}/{att...}", Access::kDbMember},
    {"PUT /{db}/{docid}/{att...}", Access::kDbMember},
    {"DELETE /{db}/{docid}/{att...}", Access::kDbMember},
    {"GET /{db}/_design/{ddoc}/{att...}", Access::kDbMember},
    {"PUT /{db}/_design/{ddoc}/{att...}", Access::kDbAdmin},
    {"DELETE /{db}/_design/{ddoc}/{att...}", Access::kDbAdmin},
    {"GET /{db}/_local/{local}/{att...}", Access::kDbMember},
    {"PUT /{db}/_local/{local}/{att...}", Access::kDbMember},
    {"DELETE /{db}/_local/{local}/{att...}", Access::kDbMember},
};

// ---- The roles, and what each access class answers them. ----
enum Role { kAnonymous, kBadCredentials, kOther, kMember, kAdmin, kRoleCount };
constexpr const char* kRoleNames[kRoleCount] = {"anonymous", "bad credentials", "other namespace/non-member",
                                                "owner/member", "server admin"};

// What a role must get: through the authorization (any answer but 401, 403
// and 5xx), a denial, or any answer but a 5xx (the handler checks its own proof).
enum class Expect { kAllowed, k401, k403, k404, kNo5xx };
using Row = std::array<Expect, kRoleCount>;

Row RowOf(Access access) {
  using E = Expect;
  switch (access) {
    case Access::kPublic: return {E::kAllowed, E::kAllowed, E::kAllowed, E::kAllowed, E::kAllowed};
    case Access::kPublicSession: return {E::kAllowed, E::k401, E::kAllowed, E::kAllowed, E::kAllowed};
    case Access::kOwnVerification: return {E::kNo5xx, E::kNo5xx, E::kNo5xx, E::kNo5xx, E::kNo5xx};
    case Access::kAnyIdentity: return {E::k401, E::k401, E::kAllowed, E::kAllowed, E::k401};
    case Access::kNamespaceOwner: return {E::k401, E::k401, E::k403, E::kAllowed, E::k401};
    case Access::kSharedList: return {E::k401, E::k401, E::kAllowed, E::kAllowed, E::k401};
    case Access::kDbMember: return {E::k401, E::k401, E::k403, E::kAllowed, E::kAllowed};
    case Access::kDbAdmin: return {E::k401, E::k401, E::k403, E::k403, E::kAllowed};
    case Access::kServerAdmin: return {E::k401, E::k401, E::k401, E::k401, E::kAllowed};
    case Access::kWebAction:
    case Access::kMountedStore: break;  // expanded by the test
  }
  ADD_FAILURE() << "no row for an expanded class";
  return {};
}

const char* AccessName(Access access) {
  switch (access) {
    case Access::kPublic: return "public";
    case Access::kPublicSession: return "public (wrong credentials: 401)";
    case Access::kOwnVerification: return "public, own verification";
    case Access::kAnyIdentity: return "any OpenWhisk identity";
    case Access::kNamespaceOwner: return "namespace owner";
    case Access::kSharedList: return "namespace owner (others: published only)";
    case Access::kDbMember: return "db member";
    case Access::kDbAdmin: return "db admin";
    case Access::kServerAdmin: return "server admin";
    case Access::kWebAction: return "web action (per annotations)";
    case Access::kMountedStore: return "CouchDB routes under /db";
  }
  return "?";
}

const char* ExpectName(Expect e) {
  switch (e) {
    case Expect::kAllowed: return "allowed";
    case Expect::k401: return "401";
    case Expect::k403: return "403";
    case Expect::k404: return "404";
    case Expect::kNo5xx: return "own check";
  }
  return "?";
}

bool Meets(Expect expect, int status) {
  switch (expect) {
    case Expect::kAllowed: return status != 401 && status != 403 && status < 500;
    case Expect::k401: return status == 401;
    case Expect::k403: return status == 403;
    case Expect::k404: return status == 404;
    case Expect::kNo5xx: return status < 500;
  }
  return false;
}

// "METHOD /pattern" of a route.
std::string RouteKey(const http::Route& route) {
  return std::string(http::MethodName(route.method)) + " " + route.pattern;
}

std::optional<Access> Classify(const std::vector<Classified>& table, const http::Route& route) {
  const std::string key = RouteKey(route);
  for (const Classified& c : table) {
    if (c.route == key || c.route == "* " + route.pattern) return c.access;
  }
  return std::nullopt;
}

// The fixture's value for a path parameter. `collection` is the literal
// segment before it (actions, packages, ...), for `{name}`.
std::optional<std::string> ParamValue(const std::string& param, const std::string& collection) {
  static const std::map<std::string, std::string> kValues = {
      {"ns", "guest"},       {"db", "matrix"},        {"docid", "doc1"}, {"ddoc", "ddoc1"},
      {"local", "loc1"},     {"att", "att.txt"},      {"type", "json"},  {"path", "app/main.js"},
      {"id", "0123456789abcdef0123456789abcdef"},     {"rest", ""},      {"pkg", "default"}};
  static const std::map<std::string, std::string> kNames = {
      {"actions", "hello"}, {"packages", "pkg"}, {"triggers", "tick"}, {"rules", "rule"}, {"_index", "idx"}};
  if (param == "name") {
    for (const auto& [segment, value] : kNames) {
      if (collection == segment) return value;
    }
    return "idx";  // an index's name in /_index/{ddoc}/{type}/{name}
  }
  auto it = kValues.find(param);
  if (it == kValues.end()) return std::nullopt;
  return it->second;
}

// A concrete path for `pattern`, or nullopt naming the parameter in `missing`.
std::optional<std::string> Concrete(const std::string& pattern, std::string& missing) {
  std::string path;
  std::string previous;
  std::stringstream in(pattern.substr(1));
  std::string segment;
  while (std::getline(in, segment, '/')) {
    if (segment.size() > 2 && segment.front() == '{' && segment.back() == '}') {
      std::string param = segment.substr(1, segment.size() - 2);
      if (param.size() > 3 && param.ends_with("...")) param.resize(param.size() - 3);
      std::optional<std::string> value = ParamValue(param, previous);
      if (!value) {
        missing = param;
        return std::nullopt;
      }
      segment = *value;
    }
    previous = segment;
    if (!segment.empty()) path += "/" + segment;
  }
  return path.empty() ? "/" : path;
}

std::string BasicHeader(const std::string& credential) { return "Basic " + Base64Encode(credential); }

class AuthorizationMatrix : public ::testing::Test {
 protected:
  static constexpr char kAdminPassword[] = "matrix-admin";

  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::SilenceLogs().ok());
    dir_ = new testing::TempDir();
    ServeOptions o = testing::LoopbackServeOptions(dir_->path() + "/data", std::string("admin:") + kAdminPassword);
    o.dev = true;  // the well-known guest and whisk.system keys
    o.invocations_per_minute = 100'000;
    o.concurrent_invocations = 1'000;
    Result<std::unique_ptr<WispServer>> server = WispServer::Start(o);
    ASSERT_TRUE(server.ok()) << server.status().ToString();
    server_ = server->release();
  }

  static void TearDownTestSuite() {
    delete server_;
    server_ = nullptr;
    delete dir_;
  }

  // The Authorization header of `role` for a route of the OpenWhisk family
  // (`whisk`) or the CouchDB family.
  static std::string Credentials(Role role, bool whisk) {
    const std::string guest(whisk::kDevGuestCredential);
    switch (role) {
      case kAnonymous: return "";
      case kBadCredentials:
        return whisk ? BasicHeader(guest.substr(0, guest.find(':') + 1) + std::string(64, 'x'))
                     : BasicHeader("alice:not-her-password");
      case kOther: return whisk ? BasicHeader(std::string(whisk::kDevSystemCredential)) : BasicHeader("mallory:mallory-pw");
      case kMember: return whisk ? BasicHeader(guest) : BasicHeader("alice:alice-pw");
      case kAdmin: return BasicHeader(std::string("admin:") + kAdminPassword);
      case kRoleCount: break;
    }
    return "";
  }

  static Result<http::ClientResponse> Call(const std::string& base, std::string_view method, const std::string& path,
                                           const std::string& authorization, std::string body = "{}") {
    http::ClientRequest request;
    request.method = std::string(method);
    request.url = base + path;
    if (!authorization.empty()) request.headers.Set("Authorization", authorization);
    if (method != "GET" && method != "HEAD" && method != "DELETE" && method != "OPTIONS") {
      request.headers.Set("Content-Type", "application/json");
      request.body = std::move(body);
    }
    return client_.Send(request);
  }

  // Puts back what the probes may have changed: the database `matrix` (member
  // alice), the users alice and mallory, and guest's entities.
  static void RestoreFixture() {
    const std::string admin = Credentials(kAdmin, false);
    const std::string couch = server_->couch_url();
    auto must = [](const Result<http::ClientResponse>& r, std::initializer_list<int> ok, const std::string& what) {
      ASSERT_TRUE(r.ok()) << what << ": " << r.status().ToString();
      ASSERT_TRUE(std::find(ok.begin(), ok.end(), r->status) != ok.end()) << what << ": " << r->status << " " << r->body;
    };
    for (const char* user : {"alice", "mallory"}) {
      const std::string id = std::string("/_users/org.couchdb.user:") + user;
      auto existing = Call(couch, "GET", id, admin);
      if (existing.ok() && existing->status == 200) continue;
      must(Call(couch, "PUT", id, admin,
                json::Dump(Json{{"name", user}, {"password", std::string(user) + "-pw"}, {"roles", Json::array()},
                                {"type", "user"}})),
           {201}, id);
    }
    must(Call(couch, "PUT", "/matrix", admin), {201, 412}, "PUT /matrix");
    must(Call(couch, "PUT", "/matrix/_security", admin,
              R"({"admins":{"names":[],"roles":[]},"members":{"names":["alice"],"roles":[]}})"),
         {200}, "_security");
    auto doc = Call(couch, "GET", "/matrix/doc1", admin);
    if (doc.ok() && doc->status == 404) must(Call(couch, "PUT", "/matrix/doc1", admin, R"({"a":1})"), {201}, "doc1");

    const std::string guest = Credentials(kMember, true);
    const std::string api = server_->api_url() + "/api/v1/namespaces/guest";
    const Json echo = {{"exec", {{"kind", "builtin"}, {"code", "echo"}}}};
    auto web = [&](const Json& annotations) {
      Json action = echo;
      action["annotations"] = annotations;
      return json::Dump(action);
    };
    must(Call(api, "PUT", "/actions/hello?overwrite=true", guest, json::Dump(echo)), {200}, "hello");
    must(Call(api, "PUT", "/actions/open?overwrite=true", guest,
              web(Json::array({{{"key", "web-export"}, {"value", true}}}))),
         {200}, "open");
    must(Call(api, "PUT", "/actions/secured?overwrite=true", guest,
              web(Json::array({{{"key", "web-export"}, {"value", true}},
                               {{"key", "require-whisk-auth"}, {"value", true}}}))),
         {200}, "secured");
    must(Call(api, "PUT", "/actions/secret?overwrite=true", guest,
              web(Json::array({{{"key", "web-export"}, {"value", true}},
                               {{"key", "require-whisk-auth"}, {"value", "s3cret"}}}))),
         {200}, "secret");
    must(Call(api, "PUT", "/packages/pkg?overwrite=true", guest, "{}"), {200}, "pkg");
    must(Call(api, "PUT", "/triggers/tick?overwrite=true", guest, "{}"), {200}, "tick");
    must(Call(api, "PUT", "/rules/rule?overwrite=true", guest,
              R"({"trigger":"/guest/tick","action":"/guest/hello"})"),
         {200}, "rule");
  }

  struct Probe {
    std::string listener;  // "api" or "couch"
    std::string base;      // URL of the port, plus a mount prefix
    std::string method;
    std::string path;
    std::string route;     // what the failure message names
    Row row;
    bool whisk = false;    // which family's credentials the roles send
    std::string access;    // the class's name, for the report
  };

  // Calls `probe` as every role; appends each mismatch to `failures` and one
  // line per probe to `report` (the matrix in docs/security.md).
  static void Run(const Probe& probe, std::vector<std::string>& failures, std::vector<std::string>& report) {
    std::string line = "| " + probe.listener + " | `" + probe.method + " " + probe.path + "` | " + probe.access + " |";
    for (int role = 0; role < kRoleCount; ++role) {
      auto r = Call(probe.base, probe.method, probe.path, Credentials(static_cast<Role>(role), probe.whisk));
      ++calls_;
      const int status = r.ok() ? r->status : -1;
      line += " " + std::to_string(status) + " |";
      if (!Meets(probe.row[role], status)) {
        failures.push_back(probe.listener + " " + probe.method + " " + probe.path + " (route " + probe.route +
                           ") as " + kRoleNames[role] + ": expected " + ExpectName(probe.row[role]) + ", got " +
                           std::to_string(status) + " " + (r.ok() ? r->body.substr(0, 200) : r.status().ToString()));
      }
    }
    report.push_back(line);
  }

  static testing::TempDir* dir_;
  static WispServer* server_;
  static http::Client client_;
  static size_t calls_;
};

testing::TempDir* AuthorizationMatrix::dir_ = nullptr;
WispServer* AuthorizationMatrix::server_ = nullptr;
http::Client AuthorizationMatrix::client_;
size_t AuthorizationMatrix::calls_ = 0;

void ExpectEveryRouteClassified(const http::Router& router, const std::vector<Classified>& table,
                                const std::string& port, const std::string& table_name) {
  std::set<std::string> seen;
  for (const http::Route* route : router.routes()) {
    if (Classify(table, *route)) {
      for (const Classified& c : table) {
        if (c.route == RouteKey(*route) || c.route == "* " + route->pattern) seen.insert(c.route);
      }
      continue;
    }
    ADD_FAILURE() << "The route `" << RouteKey(*route) << "` of port " << port
                  << " has no access class: classify it in " << table_name
                  << " in tests/cli/authz_matrix_test.cc (and in docs/security.md).";
  }
  for (const Classified& c : table) {
    EXPECT_TRUE(seen.count(c.route)) << "`" << c.route << "` is in " << table_name
                                     << " but no route of port " << port << " has it: remove the line.";
  }
}

TEST_F(AuthorizationMatrix, EveryRouteIsClassified) {
  ExpectEveryRouteClassified(server_->api_router(), kApiRoutes, "3233", "kApiRoutes");
  ExpectEveryRouteClassified(server_->couch_router(), kCouchRoutes, "5984", "kCouchRoutes");
}

// The harness itself: a route open to everyone, wrongly expected to be for
// the admin, must be reported for each caller it let in. (This is how the
// open /metrics showed before it was closed.)
TEST_F(AuthorizationMatrix, AnOpenRouteClassifiedAsAdminOnlyIsReported) {
  std::vector<std::string> failures, report;
  Run({"api", server_->api_url(), "GET", "/ping", "GET /ping", RowOf(Access::kServerAdmin), true, "server admin"},
      failures, report);
  ASSERT_EQ(failures.size(), 4u);  // everyone but the admin got 200
  EXPECT_NE(failures[0].find("GET /ping (route GET /ping) as anonymous: expected 401, got 200"), std::string::npos)
      << failures[0];
}

TEST_F(AuthorizationMatrix, EveryRouteAnswersEachRoleAsItsClassSays) {
  std::vector<std::string> failures;
  std::vector<std::string> report;
  std::string missing;
  // `prefix` is the mount point of the CouchDB routes ("" on their own port).
  auto add_couch_probes = [&](const std::string& listener, const std::string& base, const std::string& prefix,
                              std::vector<Probe>& probes) {
    for (const http::Route* route : server_->couch_router().routes()) {
      std::optional<Access> access = Classify(kCouchRoutes, *route);
      if (!access) continue;  // EveryRouteIsClassified names it
      std::optional<std::string> path = Concrete(route->pattern, missing);
      if (!path) {
        failures.push_back("give {" + missing + "} a value in ParamValue() for " + RouteKey(*route));
        continue;
      }
      const std::string full = prefix.empty() ? *path : prefix + (*path == "/" ? "" : *path);
      probes.push_back({listener, base, std::string(http::MethodName(route->method)), full, RouteKey(*route),
                        RowOf(*access), false, AccessName(*access)});
    }
  };

  std::vector<Probe> probes;
  add_couch_probes("couch", server_->couch_url(), "", probes);
  for (const http::Route* route : server_->api_router().routes()) {
    std::optional<Access> access = Classify(kApiRoutes, *route);
    if (!access || *access == Access::kMountedStore) continue;
    const std::string method(http::MethodName(route->method));
    if (*access == Access::kWebAction) {
      using E = Expect;
      const bool preflight = route->method == http::Method::kOptions;  // answered before any auth, as OpenWhisk does
      const Row everyone = {E::kAllowed, E::kAllowed, E::kAllowed, E::kAllowed, E::kAllowed};
      const std::vector<std::pair<std::string, Row>> actions = {
          {"open", everyone},
          {"secured", preflight ? everyone : Row{E::k401, E::k401, E::kAllowed, E::kAllowed, E::k401}},
          {"secret", preflight ? everyone : Row{E::k401, E::k401, E::k401, E::k401, E::k401}},
          {"hello", {E::k404, E::k404, E::k404, E::k404, E::k404}},  // not exported: 404, never 403
      };
      for (const auto& [name, row] : actions) {
        probes.push_back({"api", server_->api_url(), method, "/api/v1/web/guest/default/" + name + ".json",
                          RouteKey(*route), row, true, "web action `" + name + "`"});
      }
      continue;
    }
    std::optional<std::string> path = Concrete(route->pattern, missing);
    if (!path) {
      failures.push_back("give {" + missing + "} a value in ParamValue() for " + RouteKey(*route));
      continue;
    }
    probes.push_back({"api", server_->api_url(), method, *path, RouteKey(*route), RowOf(*access), true,
                      AccessName(*access)});
  }
  // The store again through the dashboard's same-origin mount.
  add_couch_probes("api", server_->api_url(), "/db", probes);

  // Reads change nothing, so the fixture is put back only after a call that may write.
  bool dirty = true;
  for (const Probe& probe : probes) {
    if (dirty) RestoreFixture();
    if (HasFatalFailure()) return;
    Run(probe, failures, report);
    dirty = probe.method != "GET" && probe.method != "HEAD" && probe.method != "OPTIONS";
  }

  std::string all;
  for (const std::string& f : failures) all += "\n  " + f;
  EXPECT_TRUE(failures.empty()) << failures.size() << " answers differ from their class:" << all;
  std::printf("authorization matrix: %zu probes x %d roles = %zu calls, %zu mismatches\n", probes.size(),
              static_cast<int>(kRoleCount), calls_, failures.size());

  // WISP_AUTHZ_MATRIX=FILE writes the matrix as Markdown (docs/security.md).
  if (const char* out = std::getenv("WISP_AUTHZ_MATRIX")) {
    std::ofstream file(out);
    file << "| port | call | class | anonymous | bad credentials | other namespace / non-member | owner / member | "
            "server admin |\n|---|---|---|---|---|---|---|---|\n";
    for (const std::string& line : report) file << line << "\n";
  }
}

}  // namespace
}  // namespace wisp::cli
