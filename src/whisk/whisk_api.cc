#include "whisk/whisk_api.h"

#include <algorithm>
#include <cctype>
#include <charconv>

#include "json/json.h"
#include "whisk/error_response.h"
#include "whisk/web_action.h"

namespace wisp::whisk {
namespace {

using http::Request;
using http::Response;

constexpr char kBase[] = "/api/v1/namespaces/{ns}";
constexpr size_t kMaxListLimit = 200;

using Handler = std::function<Response(Request&, const Identity&, const std::string& ns)>;

Response JsonReply(int status, const Json& body) { return Response::Json(status, json::Dump(body)); }

Response Reply(const Result<Json>& result, const Request& request) {
  if (!result.ok()) return ErrorResponse(result.status(), request);
  return JsonReply(200, *result);
}

// Authenticates, resolves `_`, and checks the namespace segment.
http::Handler Guard(const Identities& identities, Handler handler) {
  return [&identities, handler = std::move(handler)](Request& request) {
    Result<Identity> caller = identities.Authenticate(request.headers.GetOr("Authorization"));
    if (!caller.ok()) return ErrorResponse(caller.status(), request);
    std::string ns = request.Param("ns");
    if (ns == kDefaultNamespace) ns = caller->namespace_name;
    if (!IsValidEntityName(ns)) return ErrorResponse(400, kIllegalNameText, request);
    return handler(request, *caller, ns);
  };
}

// The body as JSON; an empty body is `{}`.
Result<Json> Body(const Request& request) {
  if (request.body.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Result<Json> parsed = json::Parse(request.body);
  if (!parsed.ok()) return Malformed(parsed.status().message());
  return parsed;
}

Result<Json> ObjectBody(const Request& request) {
  WISP_ASSIGN_OR_RETURN(Json body, Body(request));
  if (!body.is_object()) return Malformed("Object expected");
  return body;
}

bool QueryTrue(const Request& request, std::string_view name) { return request.query.GetOr(name, "") == "true"; }

std::optional<int64_t> ParseInt(const std::string& text) {
  int64_t v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return v;
}

Result<ListOptions> ParseList(const Request& request, const std::string& collection) {
  ListOptions list;
  if (auto limit = request.query.Get("limit")) {
    const std::optional<int64_t> n = ParseInt(*limit);
    if (!n || *n < 0 || *n > static_cast<int64_t>(kMaxListLimit)) {
      return Status::InvalidArgument("The value '" + *limit + "' is not in the range of 0 to " +
                                     std::to_string(kMaxListLimit) + " for " + collection + ".");
    }
    list.limit = *n == 0 ? kMaxListLimit : static_cast<size_t>(*n);
  }
  if (auto skip = request.query.Get("skip")) {
    const std::optional<int64_t> n = ParseInt(*skip);
    if (!n || *n < 0) return Status::InvalidArgument("The value '" + *skip + "' is not a valid skip value.");
    list.skip = static_cast<size_t>(*n);
  }
  list.count = QueryTrue(request, "count");
  return list;
}

// "{name...}" of an action route: "name" or "pkg/name".
Result<EntityName> ActionName(const Request& request, const std::string& ns) {
  const std::string& path = request.Param("name");
  EntityName name;
  name.ns = ns;
  const size_t slash = path.find('/');
  if (slash == std::string::npos) {
    name.name = path;
  } else {
    name.package = path.substr(0, slash);
    name.name = path.substr(slash + 1);
    if (name.name.find('/') != std::string::npos || !IsValidEntityName(name.package)) {
      return Status::InvalidArgument(std::string(kIllegalNameText));
    }
  }
  if (!IsValidEntityName(name.name)) return Status::InvalidArgument(std::string(kIllegalNameText));
  return name;
}

Result<std::string> SimpleName(const Request& request) {
  const std::string& name = request.Param("name");
  if (!IsValidEntityName(name)) return Status::InvalidArgument(std::string(kIllegalNameText));
  return name;
}

// A collection of simple names (packages, triggers, rules): list, get, put, delete.
template <typename List, typename Get, typename Put, typename Delete>
void AddSimpleCollection(http::Router& router, const Identities& ids, const std::string& collection, List list, Get get,
                         Put put, Delete del) {
  const std::string base = std::string(kBase) + "/" + collection;
  router.Get(base, Guard(ids, [list, collection](Request& r, const Identity& caller, const std::string& ns) {
               Result<ListOptions> options = ParseList(r, collection);
               if (!options.ok()) return ErrorResponse(options.status(), r);
               return Reply(list(caller, ns, *options), r);
             }));
  router.Get(base + "/{name}", Guard(ids, [get](Request& r, const Identity& caller, const std::string& ns) {
               Result<std::string> name = SimpleName(r);
               if (!name.ok()) return ErrorResponse(name.status(), r);
               return Reply(get(caller, ns, *name), r);
             }));
  router.Put(base + "/{name}", Guard(ids, [put](Request& r, const Identity& caller, const std::string& ns) {
               Result<std::string> name = SimpleName(r);
               if (!name.ok()) return ErrorResponse(name.status(), r);
               Result<Json> body = ObjectBody(r);
               if (!body.ok()) return ErrorResponse(body.status(), r);
               return Reply(put(caller, ns, *name, *body, QueryTrue(r, "overwrite")), r);
             }));
  router.Delete(base + "/{name}", Guard(ids, [del](Request& r, const Identity& caller, const std::string& ns) {
                  Result<std::string> name = SimpleName(r);
                  if (!name.ok()) return ErrorResponse(name.status(), r);
                  return Reply(del(caller, ns, *name, r), r);
                }));
}

// GET /api/v1: 200 with the API's description. No authentication.
Response ApiInfo(const WhiskApiOptions& options) {
  const OrderedJson body = {
      {"description", "OpenWhisk API"}, {"api_version", "1.0.0"},
      {"api_version_path", "v1"},       {"build", options.build},
      {"buildno", options.build},       {"swagger_paths", {{"ui", "/docs"}, {"api-docs", "/api-docs"}}}};
  return Response::Json(200, json::Dump(body));
}

}  // namespace

void AddWhiskRoutes(http::Router& router, Controller& controller, const Identities& ids,
                    const WhiskApiOptions& options) {
  Controller* c = &controller;
  router.Get(
      "/api/v1", [options](Request&) { return ApiInfo(options); }, http::Dispatch::kInline);

  // GET /api/v1/namespaces: 200 ["<caller's namespace>"]; 401.
  router.Get("/api/v1/namespaces", [&ids](Request& r) {
    Result<Identity> caller = ids.Authenticate(r.headers.GetOr("Authorization"));
    if (!caller.ok()) return ErrorResponse(caller.status(), r);
    return JsonReply(200, Json::array({caller->namespace_name}));
  });

  // GET .../limits: 200 the namespace's limits; 401, 403.
  router.Get(std::string(kBase) + "/limits", Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
               if (ns != caller.namespace_name) return ErrorResponse(403, kNotEntitledText, r);
               return JsonReply(200, c->Limits());
             }));

  // --- actions ---
  // GET .../actions: 200 list, or {"actions": N} with count=true; 400 bad limit; 401, 403.
  router.Get(std::string(kBase) + "/actions",
             Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
               Result<ListOptions> list = ParseList(r, "actions");
               if (!list.ok()) return ErrorResponse(list.status(), r);
               return Reply(c->ListActions(caller, ns, "", *list), r);
             }));
  // GET .../actions/[pkg/]name: 200 the action (code=false drops exec.code);
  // GET .../actions/pkg/ (trailing slash): the package's actions; 403, 404.
  router.Get(std::string(kBase) + "/actions/{name...}",
             Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
               const std::string& path = r.Param("name");
               if (!r.path.empty() && r.path.back() == '/' && path.find('/') == std::string::npos) {
                 Result<ListOptions> list = ParseList(r, "actions");
                 if (!list.ok()) return ErrorResponse(list.status(), r);
                 return Reply(c->ListActions(caller, ns, path, *list), r);
               }
               Result<EntityName> name = ActionName(r, ns);
               if (!name.ok()) return ErrorResponse(name.status(), r);
               return Reply(c->GetAction(caller, *name, r.query.GetOr("code", "true") != "false"), r);
             }));
  // PUT .../actions/[pkg/]name?overwrite=: 200 the stored action; 400 invalid
  // exec, limits or names; 403; 404 missing package; 409 exists or other type; 413.
  router.Put(std::string(kBase) + "/actions/{name...}",
             Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
               Result<EntityName> name = ActionName(r, ns);
               if (!name.ok()) return ErrorResponse(name.status(), r);
               Result<Json> body = ObjectBody(r);
               if (!body.ok()) return ErrorResponse(body.status(), r);
               return Reply(c->PutAction(caller, *name, *body, QueryTrue(r, "overwrite")), r);
             }));
  // DELETE .../actions/[pkg/]name: 200 the deleted action; 403, 404, 409.
  router.Delete(std::string(kBase) + "/actions/{name...}",
                Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
                  Result<EntityName> name = ActionName(r, ns);
                  if (!name.ok()) return ErrorResponse(name.status(), r);
                  return Reply(c->DeleteAction(caller, *name), r);
                }));
  // POST .../actions/[pkg/]name?blocking=&result=&timeout=: 202
  // {activationId} (non-blocking, or the wait ran out); blocking 200, 502
  // (application or developer error), 500 (whisk error); 400 bad timeout or
  // final parameter; 403, 404; 413 payload; 429 throttled. Every answer with
  // an activation carries x-openwhisk-activation-id.
  router.Post(std::string(kBase) + "/actions/{name...}",
              Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
                Result<EntityName> name = ActionName(r, ns);
                if (!name.ok()) return ErrorResponse(name.status(), r);
                const size_t max_payload = c->options().max_payload_bytes;
                if (r.body.size() > max_payload) {
                  return ErrorResponse(413,
                                       "Request larger than allowed: " + std::to_string(r.body.size()) + " > " +
                                           std::to_string(max_payload) + " bytes.",
                                       r);
                }
                InvokeOptions invoke;
                invoke.blocking = QueryTrue(r, "blocking");
                invoke.result_only = QueryTrue(r, "result");
                invoke.trace_id = r.request_id;
                invoke.wait = c->options().max_blocking_wait;
                if (auto timeout = r.query.Get("timeout")) {
                  const std::optional<int64_t> ms = ParseInt(*timeout);
                  if (!ms || *ms < 1 || *ms > c->options().max_blocking_wait.count()) {
                    return ErrorResponse(400,
                                         "Timeout must be number of milliseconds up to " +
                                             std::to_string(c->options().max_blocking_wait.count()) + ".",
                                         r);
                  }
                  invoke.wait = std::chrono::milliseconds(*ms);
                }
                Result<Json> payload = Body(r);
                if (!payload.ok()) return ErrorResponse(payload.status(), r);
                // A blocking invoke is answered when its activation ends,
                // from that thread: this worker does not wait for it.
                auto [response, deferred] = Response::Deferred();
                const Status started =
                    c->InvokeAsync(caller, *name, std::move(*payload), invoke, [deferred = deferred](InvokeReply reply) {
                      Response answer = JsonReply(reply.status, reply.body);
                      answer.headers.Set("x-openwhisk-activation-id", reply.activation_id);
                      deferred->Complete(std::move(answer));
                    });
                if (!started.ok()) return ErrorResponse(started, r);
                return std::move(response);
              }));

  // --- packages ---
  // list 200 (other namespaces: published packages only); GET 200 with
  // actions and feeds; PUT 200 (400 binding errors, 409 exists); DELETE 200
  // (409 not empty without force=true).
  AddSimpleCollection(
      router, ids, "packages",
      [c](const Identity& caller, const std::string& ns, const ListOptions& l) {
        return c->ListPackages(caller, ns, l);
      },
      [c](const Identity& caller, const std::string& ns, const std::string& n) { return c->GetPackage(caller, ns, n); },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Json& b, bool o) {
        return c->PutPackage(caller, ns, n, b, o);
      },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Request& r) {
        return c->DeletePackage(caller, ns, n, QueryTrue(r, "force"));
      });

  // --- triggers and rules ---
  AddSimpleCollection(
      router, ids, "triggers",
      [c](const Identity& caller, const std::string& ns, const ListOptions& l) {
        return c->ListTriggers(caller, ns, l);
      },
      [c](const Identity& caller, const std::string& ns, const std::string& n) { return c->GetTrigger(caller, ns, n); },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Json& b, bool o) {
        return c->PutTrigger(caller, ns, n, b, o);
      },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Request&) {
        return c->DeleteTrigger(caller, ns, n);
      });
  AddSimpleCollection(
      router, ids, "rules",
      [c](const Identity& caller, const std::string& ns, const ListOptions& l) { return c->ListRules(caller, ns, l); },
      [c](const Identity& caller, const std::string& ns, const std::string& n) { return c->GetRule(caller, ns, n); },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Json& b, bool o) {
        return c->PutRule(caller, ns, n, b, o);
      },
      [c](const Identity& caller, const std::string& ns, const std::string& n, const Request&) {
        return c->DeleteRule(caller, ns, n);
      });
  // POST .../triggers/{name}: fires with the body as payload. 204 no active
  // rule; 202 {activationId} + x-openwhisk-activation-id; 400 not an
  // object; 403, 404; 413; 429 beyond firesPerMinute.
  router.Post(std::string(kBase) + "/triggers/{name}",
              Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
                Result<std::string> name = SimpleName(r);
                if (!name.ok()) return ErrorResponse(name.status(), r);
                Result<Json> payload = ObjectBody(r);
                if (!payload.ok()) return ErrorResponse(payload.status(), r);
                Json headers = Json::object();
                for (const auto& [key, value] : r.headers.entries()) {
                  std::string lower = key;
                  std::transform(lower.begin(), lower.end(), lower.begin(),
                                 [](unsigned char ch) { return std::tolower(ch); });
                  if (lower != "authorization") headers[lower] = value;
                }
                Result<std::optional<std::string>> fired =
                    c->FireTrigger(caller, ns, *name, std::move(*payload), headers, r.request_id);
                if (!fired.ok()) return ErrorResponse(fired.status(), r);
                if (!fired->has_value()) {
                  Response none;
                  none.status = 204;
                  return none;
                }
                Response response = JsonReply(202, Json{{"activationId", **fired}});
                response.headers.Set("x-openwhisk-activation-id", **fired);
                return response;
              }));
  // POST .../rules/{name} {"status": "active"|"inactive"}: 200; 400 other
  // values; 404 rule or trigger missing.
  router.Post(std::string(kBase) + "/rules/{name}",
              Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
                Result<std::string> name = SimpleName(r);
                if (!name.ok()) return ErrorResponse(name.status(), r);
                Result<Json> body = ObjectBody(r);
                if (!body.ok()) return ErrorResponse(body.status(), r);
                return Reply(c->SetRuleStatus(caller, ns, *name, *body), r);
              }));

  // --- activations ---
  // GET .../activations?name=&since=&upto=&skip=&limit=&docs=&count=: 200
  // newest first (summaries, or records with docs=true), or {"activations": N};
  // 400 bad filter; 401, 403.
  router.Get(
      std::string(kBase) + "/activations", Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
        Result<ListOptions> list = ParseList(r, "activations");
        if (!list.ok()) return ErrorResponse(list.status(), r);
        ActivationQuery query;
        query.limit = list->limit;
        query.skip = list->skip;
        if (auto name = r.query.Get("name")) {
          const size_t slashes = std::count(name->begin(), name->end(), '/');
          const size_t slash = name->find('/');
          const bool valid = slashes == 0 ? IsValidEntityName(*name)
                                          : slashes == 1 && IsValidEntityName(name->substr(0, slash)) &&
                                                IsValidEntityName(name->substr(slash + 1));
          if (!valid) {
            return ErrorResponse(400, "Parameter may be a 'simple' name or 'package-name/simple' name: " + *name, r);
          }
          query.name = *name;
        }
        for (const char* bound : {"since", "upto"}) {
          if (auto text = r.query.Get(bound)) {
            const std::optional<int64_t> ms = ParseInt(*text);
            if (!ms) return ErrorResponse(400, "Parameter is not a valid value for epoch seconds: " + *text, r);
            (std::string_view(bound) == "since" ? query.since : query.upto) = *ms;
          }
        }
        const bool docs = QueryTrue(r, "docs");
        if (docs && list->count) {
          return ErrorResponse(400, "The parameters 'count' and 'docs' cannot be used together.", r);
        }
        return Reply(c->ListActivations(caller, ns, query, docs, list->count), r);
      }));
  // GET .../activations/{id}[/logs|/result]: 200 the record, {"logs": [...]},
  // or the response {result, size, status, success}; 400 bad id; 403, 404.
  const auto activation = [c, &ids](std::string_view part) {
    return Guard(ids, [c, part](Request& r, const Identity& caller, const std::string& ns) {
      Result<Json> record = c->GetActivation(caller, ns, r.Param("id"));
      if (!record.ok()) return ErrorResponse(record.status(), r);
      if (part == "logs") return JsonReply(200, Json{{"logs", record->value("logs", Json::array())}});
      if (part == "result") return JsonReply(200, ExtendedResponse(record->value("response", Json::object())));
      return JsonReply(200, ExtendedActivation(*record));
    });
  };
  router.Get(std::string(kBase) + "/activations/{id}", activation(""));
  router.Get(std::string(kBase) + "/activations/{id}/logs", activation("logs"));
  router.Get(std::string(kBase) + "/activations/{id}/result", activation("result"));

  // --- traces (traces.h) ---
  // GET .../traces/{id}: 200 the tree of the activations of trace {id} in
  // the namespace; 400 bad id; 401, 403; 404 when the trace has none.
  router.Get(std::string(kBase) + "/traces/{id}",
             Guard(ids, [c](Request& r, const Identity& caller, const std::string& ns) {
               return Reply(c->GetTrace(caller, ns, r.Param("id")), r);
             }));

  // --- web actions (web_action.h) ---
  AddWebActionRoutes(router, controller, ids);
}

}  // namespace wisp::whisk
