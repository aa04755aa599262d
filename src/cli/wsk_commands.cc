#include "cli/wsk_commands.h"

#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fstream>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "cli/log_search.h"
#include "cli/trace_view.h"
#include "util/base64.h"

namespace wisp::cli {

namespace {

using Pairs = std::vector<std::pair<std::string, std::string>>;

constexpr int kUsageExit = 2;    // bad arguments
constexpr int kNetworkExit = 3;  // no reply from the API host

int Usage(const std::string& message) {
  std::fprintf(stderr, "error: %s\nRun 'wisp --help' for usage.\n", message.c_str());
  return kUsageExit;
}

void PrintJson(FILE* out, const Json& value) { std::fprintf(out, "%s\n", json::Pretty(value).c_str()); }

// wsk reads each -p/-a value as JSON when it parses, else as a string.
Json ValueOf(const std::string& text) {
  if (Result<Json> j = json::Parse(text); j.ok()) return *j;
  return text;
}

// Turns -p k v pairs and a -P file into the [{key, value}] array, or fails
// with a usage message.
Result<Json> KeyValues(const Pairs& pairs, const std::string& file) {
  Json out = Json::array();
  if (!file.empty()) {
    std::ifstream in(file, std::ios::binary);
    if (!in) return Status::InvalidArgument("File '" + file + "' is not a valid file or it does not exist");
    std::stringstream ss;
    ss << in.rdbuf();
    Result<Json> obj = json::ParseObject(ss.str());
    if (!obj.ok()) return Status::InvalidArgument("Invalid JSON in file '" + file + "': it must hold an object");
    for (auto& [k, v] : obj->items()) out.push_back({{"key", k}, {"value", v}});
  }
  for (const auto& [k, v] : pairs) out.push_back({{"key", k}, {"value", ValueOf(v)}});
  return out;
}

Json ObjectOf(const Json& key_values) {
  Json obj = Json::object();
  for (const Json& kv : key_values) obj[kv["key"].get<std::string>()] = kv["value"];
  return obj;
}

Result<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Status::NotFound("File '" + path + "' is not a valid file or it does not exist");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

bool LooksBinary(std::string_view bytes) { return bytes.find('\0') != std::string_view::npos; }

// The kind wsk would infer from the file name; wisp adds `native` for zips
// and executables, its own formats.
std::string InferKind(const std::string& path) {
  static const std::vector<std::pair<std::string, std::string>> kByExtension = {
      {".js", "nodejs:default"},   {".py", "python:default"}, {".go", "go:default"},
      {".swift", "swift:default"}, {".php", "php:default"},   {".rb", "ruby:default"},
      {".rs", "rust:default"},     {".jar", "java:default"},  {".zip", "native"},
      {".cpp", "cpp"}};
  for (const auto& [ext, kind] : kByExtension)
    if (EndsWith(path, ext)) return kind;
  struct stat st {};
  if (stat(path.c_str(), &st) == 0 && (st.st_mode & S_IXUSR)) return "native";
  return "";
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// The state every command shares: the configuration and how to report.
class Session {
 public:
  explicit Session(const WskGlobals& g) : client_(WskConfig::Resolve(g)) {}

  WskClient& client() { return client_; }
  const std::string& ns() const { return client_.config().namespace_; }
  QualifiedName Name(std::string_view text) const { return ParseQualifiedName(text, ns()); }

  // Sends the request; on a transport failure or a non-2xx reply prints
  // "error: Unable to VERB TYPE 'NAME': ..." and sets `exit_code`.
  std::optional<WskReply> Call(const std::string& what, std::string_view method, const std::string& path,
                               const Json* body = nullptr) {
    Result<WskReply> r = client_.Send(method, path, body);
    if (!r.ok()) {
      std::fprintf(stderr, "error: Unable to %s: %s\n", what.c_str(), r.status().message().c_str());
      exit_code = r.status().code() == StatusCode::kInvalidArgument ? 1 : kNetworkExit;
      return std::nullopt;
    }
    if (r->status < 200 || r->status >= 300) {
      WskError e = ErrorFromReply(*r);
      std::fprintf(stderr, "error: Unable to %s: %s\n", what.c_str(), e.message.c_str());
      exit_code = e.exit_code;
      return std::nullopt;
    }
    return std::move(*r);
  }

  int exit_code = 0;

 private:
  WskClient client_;
};

std::string Publish(const Json& entity) { return entity.value("publish", false) ? "shared" : "private"; }

std::string AnnotationString(const Json& entity, const std::string& key) {
  if (!entity.contains("annotations") || !entity["annotations"].is_array()) return "";
  for (const Json& a : entity["annotations"])
    if (a.value("key", "") == key && a.contains("value"))
      return a["value"].is_string() ? a["value"].get<std::string>() : json::Dump(a["value"]);
  return "";
}

bool HasAnnotation(const Json& entity, const std::string& key) {
  if (!entity.contains("annotations") || !entity["annotations"].is_array()) return false;
  for (const Json& a : entity["annotations"])
    if (a.value("key", "") == key) return true;
  return false;
}

std::string EntityPath(const Json& entity) {
  return "/" + json::GetString(entity, "namespace") + "/" + json::GetString(entity, "name");
}

std::string Query(std::initializer_list<std::pair<std::string, std::string>> params) {
  std::string q;
  for (const auto& [k, v] : params) {
    if (v.empty()) continue;
    q += (q.empty() ? "?" : "&") + k + "=" + UrlEncode(v);
  }
  return q;
}

// ---------------------------------------------------------------- property

void AddProperty(CLI::App& app, WskCommands& c) {
  CLI::App* property = app.add_subcommand("property", "work with whisk properties")->require_subcommand(1);
  struct Opts {
    std::string apihost, auth, ns;
    bool get_apihost = false, get_auth = false, get_ns = false, all = false;
  };
  auto o = std::make_shared<Opts>();
  c.keep_alive.push_back(o);

  CLI::App* set = property->add_subcommand("set", "set property");
  set->add_option("--apihost", o->apihost, "whisk API host");
  set->add_option("-u,--auth", o->auth, "authorization key");
  set->add_option("--namespace", o->ns, "whisk namespace");
  set->callback([&c, o] {
    c.run = [o] {
      if (o->apihost.empty() && o->auth.empty() && o->ns.empty())
        return Usage("Missing property: give --apihost, --auth or --namespace.");
      WskProps props = WskProps::Load(WskProps::DefaultPath());
      if (!o->auth.empty()) props.Set("AUTH", o->auth);
      if (!o->apihost.empty()) props.Set("APIHOST", o->apihost);
      if (!o->ns.empty()) props.Set("NAMESPACE", o->ns);
      if (Status s = props.Save(); !s.ok()) {
        std::fprintf(stderr, "error: Unable to set the property value(s): %s\n", s.message().c_str());
        return 1;
      }
      if (!o->auth.empty()) std::printf("ok: whisk auth set. Run 'wisp property get --auth' to see the new value.\n");
      if (!o->apihost.empty()) std::printf("ok: whisk API host set to %s\n", o->apihost.c_str());
      if (!o->ns.empty()) std::printf("ok: whisk namespace set to %s\n", o->ns.c_str());
      return 0;
    };
  });

  CLI::App* unset = property->add_subcommand("unset", "unset property");
  unset->add_flag("--apihost", o->get_apihost, "whisk API host");
  unset->add_flag("-u,--auth", o->get_auth, "authorization key");
  unset->add_flag("--namespace", o->get_ns, "whisk namespace");
  unset->callback([&c, o] {
    c.run = [o] {
      if (!o->get_apihost && !o->get_auth && !o->get_ns)
        return Usage("Missing property: give --apihost, --auth or --namespace.");
      WskProps props = WskProps::Load(WskProps::DefaultPath());
      if (o->get_auth) props.Unset("AUTH");
      if (o->get_apihost) props.Unset("APIHOST");
      if (o->get_ns) props.Unset("NAMESPACE");
      if (Status s = props.Save(); !s.ok()) {
        std::fprintf(stderr, "error: Unable to unset the property value(s): %s\n", s.message().c_str());
        return 1;
      }
      if (o->get_auth) std::printf("ok: whisk auth unset.\n");
      if (o->get_apihost) std::printf("ok: whisk API host unset.\n");
      if (o->get_ns) std::printf("ok: whisk namespace unset; the default value of _ will be used.\n");
      return 0;
    };
  });

  CLI::App* get = property->add_subcommand("get", "get property");
  get->add_flag("--apihost", o->get_apihost, "whisk API host");
  get->add_flag("--auth", o->get_auth, "authorization key");
  get->add_flag("--namespace", o->get_ns, "whisk namespace");
  get->add_flag("--all", o->all, "all properties");
  get->callback([&c, o] {
    c.run = [&c, o] {
      WskConfig config = WskConfig::Resolve(c.globals);
      bool all = o->all || (!o->get_apihost && !o->get_auth && !o->get_ns);
      if (all || o->get_auth) std::printf("whisk auth\t\t%s\n", config.auth.c_str());
      if (all || o->get_apihost) std::printf("whisk API host\t\t%s\n", config.apihost.c_str());
      if (all || o->get_ns) std::printf("whisk namespace\t\t%s\n", config.namespace_.c_str());
      if (all) std::printf("whisk API version\tv1\n");
      return 0;
    };
  });
}

// ---------------------------------------------------------------- action

struct ActionOpts {
  std::string name, artifact, kind, main, web, web_secure, sequence, param_file, annotation_file;
  Pairs params, annotations;
  bool native = false;
  int64_t timeout = -1, memory = -1, logsize = -1;
};

void AddActionFlags(CLI::App* cmd, ActionOpts& o) {
  cmd->add_option("name", o.name, "the action name")->required();
  cmd->add_option("artifact", o.artifact, "the code file (or, for --kind builtin, the function name)");
  cmd->add_option("--kind", o.kind, "the KIND of the action runtime (nodejs:20, python:3, cpp, native, builtin)");
  cmd->add_flag("--native", o.native, "an executable or a zip holding `exec` (kind native)");
  cmd->add_option("--main", o.main, "the name of the action entry point");
  cmd->add_option("--web", o.web, "treat ACTION as a web action (true, raw, false)");
  cmd->add_option("--web-secure", o.web_secure, "secure the web action (true, false or a SECRET)");
  cmd->add_option("--sequence", o.sequence, "treat ACTION as comma separated sequence of actions");
  cmd->add_option("-p,--param", o.params, "parameter values in KEY VALUE format")->allow_extra_args(false);
  cmd->add_option("-P,--param-file", o.param_file, "FILE containing parameter values in JSON format");
  cmd->add_option("-a,--annotation", o.annotations, "annotation values in KEY VALUE format")->allow_extra_args(false);
  cmd->add_option("-A,--annotation-file", o.annotation_file, "FILE containing annotation values in JSON format");
  cmd->add_option("-t,--timeout", o.timeout, "the timeout LIMIT in milliseconds");
  cmd->add_option("-m,--memory", o.memory, "the maximum memory LIMIT in MB");
  cmd->add_option("-l,--logsize", o.logsize, "the maximum log size LIMIT in MB");
}

// Builds the PUT body, or returns a usage message.
Result<Json> ActionBody(const ActionOpts& o, const Session& s, bool update) {
  Json body = Json::object();
  if (!o.sequence.empty()) {
    if (!o.artifact.empty()) return Status::InvalidArgument("Do not provide a code artifact with --sequence.");
    Json components = Json::array();
    std::stringstream ss(o.sequence);
    std::string part;
    while (std::getline(ss, part, ','))
      if (!part.empty()) components.push_back(s.Name(part).Full());
    body["exec"] = {{"kind", "sequence"}, {"components", components}};
  } else if (!o.artifact.empty()) {
    WISP_ASSIGN_OR_RETURN(body["exec"], ExecFromArtifact(o.artifact, o.native ? "native" : o.kind, o.main));
  } else if (!update) {
    return Status::InvalidArgument("An action name and code artifact are required.");
  }
  WISP_ASSIGN_OR_RETURN(Json params, KeyValues(o.params, o.param_file));
  if (!params.empty() || !o.param_file.empty()) body["parameters"] = params;
  WISP_ASSIGN_OR_RETURN(Json annotations, KeyValues(o.annotations, o.annotation_file));
  if (!o.web.empty()) {
    std::string web = Lower(o.web);
    bool on = web == "true" || web == "yes" || web == "raw";
    if (!on && web != "false" && web != "no")
      return Status::InvalidArgument(
          "Invalid argument '" + o.web +
          "' for --web flag. Valid input consist of 'yes', 'true', 'raw', 'false', or 'no'.");
    annotations.push_back({{"key", "web-export"}, {"value", on}});
    annotations.push_back({{"key", "raw-http"}, {"value", web == "raw"}});
    annotations.push_back({{"key", "final"}, {"value", on}});
  }
  if (!o.web_secure.empty()) {
    std::string secure = Lower(o.web_secure);
    if (secure == "false") {
      body["delAnnotations"] = Json::array({"require-whisk-auth"});
    } else if (secure == "true") {
      std::random_device rd;
      annotations.push_back(
          {{"key", "require-whisk-auth"},
           {"value", static_cast<int64_t>(std::uniform_int_distribution<int64_t>(1, 1LL << 53)(rd))}});
    } else {
      annotations.push_back({{"key", "require-whisk-auth"}, {"value", o.web_secure}});
    }
  }
  if (!annotations.empty()) body["annotations"] = annotations;
  Json limits = Json::object();
  if (o.timeout >= 0) limits["timeout"] = o.timeout;
  if (o.memory >= 0) limits["memory"] = o.memory;
  if (o.logsize >= 0) limits["logs"] = o.logsize;
  if (!limits.empty()) body["limits"] = limits;
  return body;
}

void AddAction(CLI::App& app, WskCommands& c) {
  CLI::App* action = app.add_subcommand("action", "work with actions")->require_subcommand(1);
  for (bool update : {false, true}) {
    auto o = std::make_shared<ActionOpts>();
    c.keep_alive.push_back(o);
    CLI::App* cmd = action->add_subcommand(
        update ? "update" : "create",
        update ? "update an existing action, or create an action if it does not exist" : "create a new action");
    AddActionFlags(cmd, *o);
    cmd->callback([&c, o, update] {
      c.run = [&c, o, update] {
        Session s(c.globals);
        Result<Json> body = ActionBody(*o, s, update);
        if (!body.ok()) return Usage(body.status().message());
        std::string verb = update ? "update" : "create";
        auto r = s.Call(verb + " action '" + o->name + "'", "PUT",
                        s.Name(o->name).Path("actions") + (update ? "?overwrite=true" : "?overwrite=false"), &*body);
        if (!r) return s.exit_code;
        std::printf("ok: %s action %s\n", update ? "updated" : "created", o->name.c_str());
        return 0;
      };
    });
  }

  {
    struct Opts {
      std::string name;
      bool url = false, summary = false;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* get = action->add_subcommand("get", "get action");
    get->add_option("name", o->name, "the action name")->required();
    get->add_flag("-r,--url", o->url, "get action url");
    get->add_flag("-s,--summary", o->summary, "summarize action details");
    get->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        QualifiedName q = s.Name(o->name);
        auto r = s.Call("get action '" + o->name + "'", "GET", q.Path("actions") + "?code=true");
        if (!r) return s.exit_code;
        if (o->url) {
          std::string ns = json::GetString(r->json, "namespace");
          std::string pkg = "default";
          if (size_t slash = ns.find('/'); slash != std::string::npos) {
            pkg = ns.substr(slash + 1);
            ns = ns.substr(0, slash);
          }
          std::printf("ok: got action %s\n%s/api/v1/web/%s/%s/%s\n", o->name.c_str(),
                      s.client().config().BaseUrl().c_str(), ns.c_str(), pkg.c_str(),
                      json::GetString(r->json, "name").c_str());
          return 0;
        }
        if (o->summary) {
          std::printf("action %s\n", EntityPath(r->json).c_str());
          Json params = r->json.value("parameters", Json::array());
          std::string names;
          for (const Json& p : params) names += (names.empty() ? "" : ", ") + p.value("key", "");
          std::printf("   (parameters: %s)\n", names.empty() ? "none defined" : names.c_str());
          return 0;
        }
        std::printf("ok: got action %s\n", o->name.c_str());
        PrintJson(stdout, r->json);
        return 0;
      };
    });
  }

  {
    auto name = std::make_shared<std::string>();
    c.keep_alive.push_back(name);
    CLI::App* del = action->add_subcommand("delete", "delete action");
    del->add_option("name", *name, "the action name")->required();
    del->callback([&c, name] {
      c.run = [&c, name] {
        Session s(c.globals);
        if (!s.Call("delete action '" + *name + "'", "DELETE", s.Name(*name).Path("actions"))) return s.exit_code;
        std::printf("ok: deleted action %s\n", name->c_str());
        return 0;
      };
    });
  }

  {
    struct Opts {
      std::string package;
      int64_t limit = 30, skip = 0;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* list =
        action->add_subcommand("list", "list all actions in a namespace or actions contained in a package");
    list->add_option("package", o->package, "a package (or /namespace)");
    list->add_option("-l,--limit", o->limit, "only return LIMIT number of actions from the collection");
    list->add_option("-s,--skip", o->skip, "exclude the first SKIP number of actions from the result");
    list->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        std::string path;
        if (o->package.empty()) {
          path = "namespaces/" + UrlEncode(s.ns()) + "/actions";
        } else {
          QualifiedName q = s.Name(o->package);
          path = q.name.empty() ? "namespaces/" + UrlEncode(q.ns) + "/actions" : q.Path("actions") + "/";
        }
        auto r = s.Call("get the list of actions", "GET",
                        path + Query({{"limit", std::to_string(o->limit)}, {"skip", std::to_string(o->skip)}}));
        if (!r) return s.exit_code;
        std::printf("actions\n");
        if (r->json.is_array())
          for (const Json& a : r->json)
            std::printf("%-70s %s %s\n", EntityPath(a).c_str(), Publish(a).c_str(),
                        AnnotationString(a, "exec").c_str());
        return 0;
      };
    });
  }

  {
    struct Opts {
      std::string name, param_file;
      Pairs params;
      bool blocking = false, result = false;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* invoke = action->add_subcommand("invoke", "invoke action");
    invoke->add_option("name", o->name, "the action name")->required();
    invoke->add_option("-p,--param", o->params, "parameter values in KEY VALUE format")->allow_extra_args(false);
    invoke->add_option("-P,--param-file", o->param_file, "FILE containing parameter values in JSON format");
    invoke->add_flag("-b,--blocking", o->blocking, "blocking invoke");
    invoke->add_flag("-r,--result", o->result,
                     "blocking invoke; show only activation result (unless there is a failure)");
    invoke->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        Result<Json> params = KeyValues(o->params, o->param_file);
        if (!params.ok()) return Usage(params.status().message());
        Json body = ObjectOf(*params);
        bool blocking = o->blocking || o->result;
        QualifiedName q = s.Name(o->name);
        std::string path = q.Path("actions") + "?blocking=" + (blocking ? "true" : "false") +
                           "&result=" + (o->result ? "true" : "false");
        Result<WskReply> r = s.client().Send("POST", path, &body);
        std::string what = "invoke action '" + o->name + "'";
        if (!r.ok()) {
          std::fprintf(stderr, "error: Unable to %s: %s\n", what.c_str(), r.status().message().c_str());
          return kNetworkExit;
        }
        std::string id = r->headers.GetOr("x-openwhisk-activation-id", json::GetString(r->json, "activationId"));
        if (r->status == 202 && blocking) {
          std::fprintf(stderr, "ok: invoked %s, but the request has not yet finished, with id %s\n", q.Full().c_str(),
                       id.c_str());
          return 202;
        }
        if (r->status == 502 || (r->status >= 500 && r->json.is_object() && !r->json.contains("code"))) {
          // The action failed: wsk prints what it got on stderr.
          std::fprintf(stderr, "error: Unable to %s:\n", what.c_str());
          PrintJson(stderr, r->json.is_null() ? Json(r->body) : r->json);
          return (r->status - 256) & 0xff;
        }
        if (r->status < 200 || r->status >= 300) {
          WskError e = ErrorFromReply(*r);
          std::fprintf(stderr, "error: Unable to %s: %s\n", what.c_str(), e.message.c_str());
          return e.exit_code;
        }
        if (o->result) {
          PrintJson(stdout, r->json);
          return 0;
        }
        std::printf("ok: invoked %s with id %s\n", q.Full().c_str(), id.c_str());
        if (blocking) PrintJson(stdout, r->json);
        return 0;
      };
    });
  }
}

// ---------------------------------------------------------------- activation

std::string StatusText(int code) {
  switch (code) {
    case 0: return "success";
    case 1: return "application error";
    case 2: return "developer error";
    case 3: return "internal error";
    default: return "unknown";
  }
}

void PrintActivationRow(const Json& a) {
  int64_t start_ms = json::GetInt(a, "start");
  std::time_t t = static_cast<std::time_t>(start_ms / 1000);
  std::tm tm{};
  localtime_r(&t, &tm);
  char when[32];
  std::strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
  std::string kind = AnnotationString(a, "kind");
  if (kind.size() > 9) kind = kind.substr(0, 9);
  std::string start = HasAnnotation(a, "initTime") ? "cold" : "warm";
  std::string duration = a.contains("duration") ? std::to_string(json::GetInt(a, "duration")) + "ms" : "";
  std::string status = a.contains("statusCode") ? StatusText(static_cast<int>(json::GetInt(a, "statusCode")))
                       : a.contains("response") ? json::GetString(a["response"], "status")
                                                : "";
  if (kind.empty()) kind = "--";
  std::printf("%s %-32s %-9s %-5s %-10s %-15s %s:%s\n", when, json::GetString(a, "activationId").c_str(), kind.c_str(),
              start.c_str(), duration.c_str(), status.c_str(), EntityPath(a).c_str(),
              json::GetString(a, "version").c_str());
}

// The id of the newest activation, or "" after printing why not.
std::string LastActivationId(Session& s) {
  auto r =
      s.Call("get the list of activations", "GET", "namespaces/" + UrlEncode(s.ns()) + "/activations?limit=1&skip=0");
  if (!r) return "";
  if (!r->json.is_array() || r->json.empty()) {
    std::fprintf(stderr, "error: Activation list does not contain any activations.\n");
    s.exit_code = 1;
    return "";
  }
  return json::GetString(r->json[0], "activationId");
}

std::string StripTimestamp(const std::string& line) {
  // "<timestamp padded to 30> stdout: text" -> "text"
  for (const char* stream : {" stdout: ", " stderr: "}) {
    size_t at = line.find(stream);
    if (at != std::string::npos && at <= 40) return line.substr(at + std::strlen(stream));
  }
  return line;
}

void AddActivation(CLI::App& app, WskCommands& c) {
  CLI::App* activation = app.add_subcommand("activation", "work with activations")->require_subcommand(1);

  {
    struct Opts {
      std::string name;
      int64_t limit = 30, skip = 0, since = 0, upto = 0;
      bool full = false;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* list = activation->add_subcommand("list", "list activations");
    list->add_option("name", o->name, "an action name (or package/action)");
    list->add_option("-l,--limit", o->limit, "only return LIMIT number of activations from the collection");
    list->add_option("-s,--skip", o->skip, "exclude the first SKIP number of activations from the result");
    list->add_option("--since", o->since,
                     "return activations with timestamps later than SINCE; in milliseconds since Th, 01, Jan 1970");
    list->add_option("--upto", o->upto,
                     "return activations with timestamps earlier than UPTO; in milliseconds since Th, 01, Jan 1970");
    list->add_flag("-f,--full", o->full, "include full activation description");
    list->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        std::string name = o->name;
        if (!name.empty() && name[0] == '/') name = s.Name(name).name;
        auto r = s.Call("get the list of activations", "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/activations" +
                            Query({{"name", name},
                                   {"limit", std::to_string(o->limit)},
                                   {"skip", std::to_string(o->skip)},
                                   {"since", o->since ? std::to_string(o->since) : ""},
                                   {"upto", o->upto ? std::to_string(o->upto) : ""},
                                   {"docs", o->full ? "true" : ""}}));
        if (!r) return s.exit_code;
        if (o->full) {
          std::printf("activations\n");
          PrintJson(stdout, r->json);
          return 0;
        }
        std::printf("%-19s %-32s %-9s %-5s %-10s %-15s %s\n", "Datetime", "Activation ID", "Kind", "Start", "Duration",
                    "Status", "Entity");
        if (r->json.is_array())
          for (const Json& a : r->json) PrintActivationRow(a);
        return 0;
      };
    });
  }

  // get, logs and result share "ID | --last".
  struct IdOpts {
    std::string id;
    bool last = false, strip = false, summary = false;
  };
  auto add_by_id = [&](const char* verb, const char* help,
                       std::function<int(Session&, IdOpts&, const std::string&)> body, bool with_strip) {
    auto o = std::make_shared<IdOpts>();
    c.keep_alive.push_back(o);
    CLI::App* cmd = activation->add_subcommand(verb, help);
    cmd->add_option("id", o->id, "the activation id");
    cmd->add_flag("-l,--last", o->last, "retrieve the last activation");
    if (with_strip)
      cmd->add_flag("-r,--strip", o->strip, "strip timestamp information and output stream");
    else
      cmd->add_flag("-s,--summary", o->summary, "summarize activation details");
    cmd->callback([&c, o, body, verb = std::string(verb)] {
      c.run = [&c, o, body, verb] {
        if (o->id.empty() && !o->last) return Usage("An activation ID is required.");
        Session s(c.globals);
        std::string id = o->last ? LastActivationId(s) : o->id;
        if (id.empty()) return s.exit_code;
        return body(s, *o, id);
      };
    });
  };
  add_by_id(
      "get", "get activation",
      [](Session& s, IdOpts& o, const std::string& id) {
        auto r = s.Call("get activation '" + id + "'", "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/activations/" + UrlEncode(id));
        if (!r) return s.exit_code;
        if (o.summary) {
          std::printf("activation result for %s (%s at %lld)\n", EntityPath(r->json).c_str(),
                      json::GetString(r->json.value("response", Json::object()), "status").c_str(),
                      static_cast<long long>(json::GetInt(r->json, "start")));
          PrintJson(stdout, r->json.value("response", Json::object()).value("result", Json::object()));
          return 0;
        }
        std::printf("ok: got activation %s\n", id.c_str());
        PrintJson(stdout, r->json);
        return 0;
      },
      false);
  add_by_id(
      "result", "get the result of an activation",
      [](Session& s, IdOpts&, const std::string& id) {
        auto r = s.Call("get result for activation '" + id + "'", "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/activations/" + UrlEncode(id) + "/result");
        if (!r) return s.exit_code;
        PrintJson(stdout, r->json.value("result", Json::object()));
        return 0;
      },
      false);

  {
    // logs: one activation's (ID | --last), or, with --grep/--since/--until/
    // --action and no id, the matching lines of every activation in range.
    struct Opts {
      std::string id, grep, since, until, action;
      bool last = false, strip = false, ignore_case = false;
      int64_t limit = 0;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* cmd = activation->add_subcommand("logs", "get the logs of an activation, or search the logs of many");
    cmd->add_option("id", o->id, "the activation id");
    cmd->add_flag("-l,--last", o->last, "retrieve the last activation");
    cmd->add_flag("-r,--strip", o->strip, "strip timestamp information and output stream");
    cmd->add_option("-g,--grep", o->grep, "only lines that contain TEXT");
    cmd->add_flag("--ignore-case", o->ignore_case, "--grep ignores the case of ASCII letters");
    cmd->add_option("--since", o->since,
                    "only activations (and lines) from this time on: 10m, 2h, 7d ago, an ISO-8601 time, or epoch ms");
    cmd->add_option("--until", o->until, "only activations (and lines) up to this time, as for --since");
    cmd->add_option("-a,--action", o->action, "only activations of this action (NAME or PACKAGE/NAME)");
    cmd->add_option("--limit", o->limit, "stop after the lines of this many matching activations (0: no limit)");
    cmd->callback([&c, o] {
      c.run = [&c, o] {
        const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                std::chrono::system_clock::now().time_since_epoch())
                                .count();
        LogFilter filter;
        filter.grep = o->grep;
        filter.ignore_case = o->ignore_case;
        for (auto [text, bound] : {std::pair{&o->since, &filter.since}, std::pair{&o->until, &filter.until}}) {
          if (text->empty()) continue;
          Result<int64_t> ms = ParseTimeBound(*text, now);
          if (!ms.ok()) return Usage(ms.status().message());
          *bound = *ms;
        }
        const auto print = [&](const std::string& prefix, const Json& logs) {
          size_t printed = 0;
          if (!logs.is_array()) return printed;
          for (const Json& line : logs) {
            const std::string text = line.is_string() ? line.get<std::string>() : json::Dump(line);
            if (!filter.Matches(text)) continue;
            std::printf("%s%s\n", prefix.c_str(), (o->strip ? StripTimestamp(text) : text).c_str());
            ++printed;
          }
          return printed;
        };
        const bool search = o->id.empty() && !o->last;
        if (search && o->grep.empty() && o->since.empty() && o->until.empty() && o->action.empty()) {
          return Usage("An activation ID is required (or --grep, --since, --until or --action to search).");
        }
        Session s(c.globals);
        if (!search) {
          const std::string id = o->last ? LastActivationId(s) : o->id;
          if (id.empty()) return s.exit_code;
          auto r = s.Call("get logs for activation '" + id + "'", "GET",
                          "namespaces/" + UrlEncode(s.ns()) + "/activations/" + UrlEncode(id) + "/logs");
          if (!r) return s.exit_code;
          print("", r->json.value("logs", Json::array()));
          return 0;
        }
        // Newest first, a page at a time under a fixed upper bound, so that
        // activations that start meanwhile do not shift the pages.
        std::string name = o->action;
        if (!name.empty() && name[0] == '/') name = s.Name(name).name;
        const int64_t upto = filter.until.value_or(now);
        constexpr int64_t kPage = 200;
        std::vector<Json> matching;  // newest first
        for (int64_t skip = 0;; skip += kPage) {
          auto r = s.Call("get the list of activations", "GET",
                          "namespaces/" + UrlEncode(s.ns()) + "/activations" +
                              Query({{"name", name},
                                     {"limit", std::to_string(kPage)},
                                     {"skip", std::to_string(skip)},
                                     {"since", filter.since ? std::to_string(*filter.since) : ""},
                                     {"upto", std::to_string(upto)},
                                     {"docs", "true"}}));
          if (!r) return s.exit_code;
          if (!r->json.is_array()) break;
          for (const Json& a : r->json) {
            const Json logs = a.value("logs", Json::array());
            const bool any = std::any_of(logs.begin(), logs.end(), [&](const Json& line) {
              return filter.Matches(line.is_string() ? line.get<std::string>() : json::Dump(line));
            });
            if (any) matching.push_back(a);
          }
          if (static_cast<int64_t>(r->json.size()) < kPage) break;
        }
        // Oldest first, as the lines were written; --limit keeps the newest.
        if (o->limit > 0 && static_cast<int64_t>(matching.size()) > o->limit) matching.resize(o->limit);
        for (auto it = matching.rbegin(); it != matching.rend(); ++it) {
          print(json::GetString(*it, "activationId") + " " + EntityPath(*it) + " ", it->value("logs", Json::array()));
        }
        return 0;
      };
    });
  }

  {
    struct Opts {
      std::string name;
      int64_t exit_after = 0, since_seconds = 0;
    };
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* poll =
        activation->add_subcommand("poll", "poll continuously for log messages from currently running actions");
    poll->add_option("name", o->name, "only show activations of this action");
    poll->add_option("-e,--exit", o->exit_after, "stop polling after SECONDS");
    poll->add_option("--since-seconds", o->since_seconds, "start polling for activations SECONDS ago");
    poll->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        using Clock = std::chrono::steady_clock;
        Clock::time_point stop = Clock::now() + std::chrono::seconds(o->exit_after);
        std::printf("Enter Ctrl-c to exit.\n");
        std::fflush(stdout);
        std::string base = "namespaces/" + UrlEncode(s.ns()) + "/activations";
        int64_t since = 0;
        if (o->since_seconds > 0) {
          since =
              std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
                  .count() -
              o->since_seconds * 1000;
        } else {
          auto seed = s.Call("poll for activations", "GET",
                             base + Query({{"name", o->name}, {"limit", "1"}, {"docs", "true"}}));
          if (!seed) return s.exit_code;
          if (seed->json.is_array() && !seed->json.empty()) since = json::GetInt(seed->json[0], "start") + 1;
        }
        std::set<std::string> seen;
        while (o->exit_after <= 0 || Clock::now() < stop) {
          auto r = s.Call("poll for activations", "GET",
                          base + Query({{"name", o->name},
                                        {"since", std::to_string(since)},
                                        {"docs", "true"},
                                        {"limit", "0"},
                                        {"skip", "0"}}));
          if (!r) return s.exit_code;
          if (r->json.is_array()) {
            for (auto it = r->json.rbegin(); it != r->json.rend(); ++it) {  // oldest first
              std::string id = json::GetString(*it, "activationId");
              if (!seen.insert(id).second) continue;
              std::printf("\nActivation: '%s' (%s)\n", json::GetString(*it, "name").c_str(), id.c_str());
              if (it->contains("logs") && (*it)["logs"].is_array())
                for (const Json& line : (*it)["logs"])
                  std::printf("%s\n", line.is_string() ? line.get<std::string>().c_str() : "");
            }
          }
          std::fflush(stdout);
          std::this_thread::sleep_for(std::chrono::seconds(2));  // wsk's polling interval
        }
        std::printf("\nPolling terminated after %lld seconds\n", static_cast<long long>(o->exit_after));
        return 0;
      };
    });
  }
}

// ---------------------------------------------------------------- package, trigger, rule

// Registers `get NAME` for a collection with wsk's texts.
void AddGet(CLI::App* group, WskCommands& c, const std::string& type, const std::string& collection) {
  auto get_name = std::make_shared<std::string>();
  c.keep_alive.push_back(get_name);
  CLI::App* get = group->add_subcommand("get", "get " + type);
  get->add_option("name", *get_name, "the " + type + " name")->required();
  get->callback([&c, get_name, type, collection] {
    c.run = [&c, get_name, type, collection] {
      Session s(c.globals);
      auto r = s.Call("get " + type + " '" + *get_name + "'", "GET", s.Name(*get_name).Path(collection));
      if (!r) return s.exit_code;
      std::printf("ok: got %s %s\n", type.c_str(), get_name->c_str());
      PrintJson(stdout, r->json);
      return 0;
    };
  });
}

void AddPackage(CLI::App& app, WskCommands& c) {
  CLI::App* package = app.add_subcommand("package", "work with packages")->require_subcommand(1);
  struct Opts {
    std::string name, source, shared, param_file, annotation_file;
    Pairs params, annotations;
  };
  for (const char* verb : {"create", "update", "bind"}) {
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    std::string v = verb;
    CLI::App* cmd = package->add_subcommand(verb, v == "bind" ? "bind parameters to a package" : v + " a package");
    if (v == "bind") cmd->add_option("source", o->source, "the package to bind to")->required();
    cmd->add_option("name", o->name, "the package name")->required();
    cmd->add_option("-p,--param", o->params, "parameter values in KEY VALUE format")->allow_extra_args(false);
    cmd->add_option("-P,--param-file", o->param_file, "FILE containing parameter values in JSON format");
    cmd->add_option("-a,--annotation", o->annotations, "annotation values in KEY VALUE format")
        ->allow_extra_args(false);
    cmd->add_option("-A,--annotation-file", o->annotation_file, "FILE containing annotation values in JSON format");
    if (v != "bind") cmd->add_option("--shared", o->shared, "package visibility SCOPE; yes = shared, no = private");
    cmd->callback([&c, o, v] {
      c.run = [&c, o, v] {
        Session s(c.globals);
        Json body = Json::object();
        Result<Json> params = KeyValues(o->params, o->param_file);
        if (!params.ok()) return Usage(params.status().message());
        Result<Json> annotations = KeyValues(o->annotations, o->annotation_file);
        if (!annotations.ok()) return Usage(annotations.status().message());
        if (!params->empty() || v != "update") body["parameters"] = *params;
        if (!annotations->empty() || v != "update") body["annotations"] = *annotations;
        if (!o->shared.empty()) {
          std::string shared = Lower(o->shared);
          if (shared != "yes" && shared != "no" && shared != "true" && shared != "false")
            return Usage("Cannot use value '" + o->shared + "' for shared.");
          body["publish"] = shared == "yes" || shared == "true";
        }
        if (v == "bind") {
          QualifiedName src = s.Name(o->source);
          if (src.name.empty()) return Usage("Package name '" + o->source + "' is not valid.");
          body["binding"] = {{"namespace", src.ns}, {"name", src.name}};
        }
        std::string what = (v == "bind" ? "bind package '" : v + " package '") + o->name + "'";
        auto r =
            s.Call(what, "PUT",
                   s.Name(o->name).Path("packages") + (v == "update" ? "?overwrite=true" : "?overwrite=false"), &body);
        if (!r) return s.exit_code;
        if (v == "bind")
          std::printf("ok: created binding %s\n", o->name.c_str());
        else
          std::printf("ok: %s package %s\n", v == "update" ? "updated" : "created", o->name.c_str());
        return 0;
      };
    });
  }
  AddGet(package, c, "package", "packages");
  {
    auto name = std::make_shared<std::string>();
    auto force = std::make_shared<bool>(false);
    c.keep_alive.push_back(name);
    c.keep_alive.push_back(force);
    CLI::App* del = package->add_subcommand("delete", "delete package");
    del->add_option("name", *name, "the package name")->required();
    del->add_flag("--force", *force, "delete the package's actions too");
    del->callback([&c, name, force] {
      c.run = [&c, name, force] {
        Session s(c.globals);
        if (!s.Call("delete package '" + *name + "'", "DELETE",
                    s.Name(*name).Path("packages") + (*force ? "?force=true" : "")))
          return s.exit_code;
        std::printf("ok: deleted package %s\n", name->c_str());
        return 0;
      };
    });
  }
  {
    struct ListOpts {
      std::string ns;
      int64_t limit = 30, skip = 0;
    };
    auto o = std::make_shared<ListOpts>();
    c.keep_alive.push_back(o);
    CLI::App* list = package->add_subcommand("list", "list all packages");
    list->add_option("namespace", o->ns, "a /namespace");
    list->add_option("-l,--limit", o->limit, "only return LIMIT number of packages from the collection");
    list->add_option("-s,--skip", o->skip, "exclude the first SKIP number of packages from the result");
    list->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        std::string ns = o->ns.empty() ? s.ns() : s.Name(o->ns).ns;
        auto r = s.Call("get the list of packages", "GET",
                        "namespaces/" + UrlEncode(ns) + "/packages" +
                            Query({{"limit", std::to_string(o->limit)}, {"skip", std::to_string(o->skip)}}));
        if (!r) return s.exit_code;
        std::printf("packages\n");
        if (r->json.is_array())
          for (const Json& p : r->json) std::printf("%-70s %s\n", EntityPath(p).c_str(), Publish(p).c_str());
        return 0;
      };
    });
  }
}

// Invokes a feed action with a lifecycle event, blocking, as wsk does from
// the client side. Prints why on failure and returns false.
bool InvokeFeed(Session& s, const std::string& feed, const std::string& event, const QualifiedName& trigger,
                Json params) {
  params["lifecycleEvent"] = event;
  params["triggerName"] = "/" + trigger.ns + "/" + trigger.name;
  params["authKey"] = s.client().config().auth;
  QualifiedName f = s.Name(feed);
  auto r = s.Call("invoke the feed action '" + feed + "' with " + event, "POST",
                  f.Path("actions") + "?blocking=true&result=false", &params);
  if (!r) return false;
  if (r->json.is_object() && r->json.contains("response") && !r->json["response"].value("success", true)) {
    std::fprintf(stderr, "error: The feed action '%s' failed on %s:\n", feed.c_str(), event.c_str());
    PrintJson(stderr, r->json["response"].value("result", Json::object()));
    s.exit_code = 1;
    return false;
  }
  std::printf("ok: invoked %s with id %s\n", f.Full().c_str(), json::GetString(r->json, "activationId").c_str());
  return true;
}

void AddTrigger(CLI::App& app, WskCommands& c) {
  CLI::App* trigger = app.add_subcommand("trigger", "work with triggers")->require_subcommand(1);
  struct Opts {
    std::string name, feed, param_file, annotation_file;
    Pairs params, annotations;
  };
  for (bool update : {false, true}) {
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* cmd = trigger->add_subcommand(
        update ? "update" : "create",
        update ? "update an existing trigger, or create a trigger if it does not exist" : "create new trigger");
    cmd->add_option("name", o->name, "the trigger name")->required();
    cmd->add_option("-p,--param", o->params, "parameter values in KEY VALUE format")->allow_extra_args(false);
    cmd->add_option("-P,--param-file", o->param_file, "FILE containing parameter values in JSON format");
    cmd->add_option("-a,--annotation", o->annotations, "annotation values in KEY VALUE format")
        ->allow_extra_args(false);
    cmd->add_option("-A,--annotation-file", o->annotation_file, "FILE containing annotation values in JSON format");
    if (!update) cmd->add_option("-f,--feed", o->feed, "trigger feed ACTION_NAME");
    cmd->callback([&c, o, update] {
      c.run = [&c, o, update] {
        Session s(c.globals);
        Result<Json> params = KeyValues(o->params, o->param_file);
        if (!params.ok()) return Usage(params.status().message());
        Result<Json> annotations = KeyValues(o->annotations, o->annotation_file);
        if (!annotations.ok()) return Usage(annotations.status().message());
        QualifiedName q = s.Name(o->name);
        Json body = Json::object();
        if (!o->feed.empty()) {
          // The feed's parameters go to the feed action, not to the trigger.
          annotations->push_back({{"key", "feed"}, {"value", s.Name(o->feed).Full()}});
        } else if (!params->empty() || !update) {
          body["parameters"] = *params;
        }
        if (!annotations->empty() || !update) body["annotations"] = *annotations;
        std::string verb = update ? "update" : "create";
        auto r = s.Call(verb + " trigger '" + o->name + "'", "PUT",
                        q.Path("triggers") + (update ? "?overwrite=true" : "?overwrite=false"), &body);
        if (!r) return s.exit_code;
        if (!o->feed.empty() && !InvokeFeed(s, o->feed, "CREATE", q, ObjectOf(*params))) {
          int code = s.exit_code;
          // As wsk: no trigger without its feed. The feed's error is what the
          // user needs; a failed clean-up would only hide it.
          (void)s.client().Send("DELETE", q.Path("triggers"));
          return code;
        }
        std::printf("ok: %s trigger %s\n", update ? "updated" : "created", o->name.c_str());
        return 0;
      };
    });
  }
  AddGet(trigger, c, "trigger", "triggers");
  {
    auto name = std::make_shared<std::string>();
    c.keep_alive.push_back(name);
    CLI::App* del = trigger->add_subcommand("delete", "delete trigger");
    del->add_option("name", *name, "the trigger name")->required();
    del->callback([&c, name] {
      c.run = [&c, name] {
        Session s(c.globals);
        QualifiedName q = s.Name(*name);
        auto got = s.Call("get trigger '" + *name + "'", "GET", q.Path("triggers"));
        if (!got) return s.exit_code;
        if (std::string feed = AnnotationString(got->json, "feed"); !feed.empty()) {
          if (!InvokeFeed(s, feed, "DELETE", q, Json::object())) return s.exit_code;
        }
        if (!s.Call("delete trigger '" + *name + "'", "DELETE", q.Path("triggers"))) return s.exit_code;
        std::printf("ok: deleted trigger %s\n", name->c_str());
        return 0;
      };
    });
  }
  {
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* fire = trigger->add_subcommand("fire", "fire trigger event");
    fire->add_option("name", o->name, "the trigger name")->required();
    fire->add_option("-p,--param", o->params, "parameter values in KEY VALUE format")->allow_extra_args(false);
    fire->add_option("-P,--param-file", o->param_file, "FILE containing parameter values in JSON format");
    fire->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        Result<Json> params = KeyValues(o->params, o->param_file);
        if (!params.ok()) return Usage(params.status().message());
        Json body = ObjectOf(*params);
        QualifiedName q = s.Name(o->name);
        auto r = s.Call("fire trigger '" + o->name + "'", "POST", q.Path("triggers"), &body);
        if (!r) return s.exit_code;
        std::string id = json::GetString(r->json, "activationId");
        if (id.empty())
          std::printf("ok: triggered %s\n", q.Full().c_str());  // 204: no active rule
        else
          std::printf("ok: triggered %s with id %s\n", q.Full().c_str(), id.c_str());
        return 0;
      };
    });
  }
  {
    auto limit = std::make_shared<std::pair<int64_t, int64_t>>(30, 0);
    c.keep_alive.push_back(limit);
    CLI::App* list = trigger->add_subcommand("list", "list all triggers");
    list->add_option("-l,--limit", limit->first, "only return LIMIT number of triggers from the collection");
    list->add_option("-s,--skip", limit->second, "exclude the first SKIP number of triggers from the result");
    list->callback([&c, limit] {
      c.run = [&c, limit] {
        Session s(c.globals);
        auto r = s.Call("get the list of triggers", "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/triggers" +
                            Query({{"limit", std::to_string(limit->first)}, {"skip", std::to_string(limit->second)}}));
        if (!r) return s.exit_code;
        std::printf("triggers\n");
        if (r->json.is_array())
          for (const Json& t : r->json) std::printf("%-70s %s\n", EntityPath(t).c_str(), Publish(t).c_str());
        return 0;
      };
    });
  }
}

void AddRule(CLI::App& app, WskCommands& c) {
  CLI::App* rule = app.add_subcommand("rule", "work with rules")->require_subcommand(1);
  struct Opts {
    std::string name, trigger, action;
    bool disable = false;
  };
  for (bool update : {false, true}) {
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* cmd = rule->add_subcommand(
        update ? "update" : "create",
        update ? "update an existing rule, or create a rule if it does not exist" : "create new rule");
    cmd->add_option("name", o->name, "the rule name")->required();
    cmd->add_option("trigger", o->trigger, "the trigger name")->required();
    cmd->add_option("action", o->action, "the action name")->required();
    cmd->callback([&c, o, update] {
      c.run = [&c, o, update] {
        Session s(c.globals);
        Json body = {{"name", o->name},
                     {"status", ""},
                     {"trigger", s.Name(o->trigger).Full()},
                     {"action", s.Name(o->action).Full()}};
        std::string verb = update ? "update" : "create";
        if (!s.Call(verb + " rule '" + o->name + "'", "PUT",
                    s.Name(o->name).Path("rules") + (update ? "?overwrite=true" : "?overwrite=false"), &body))
          return s.exit_code;
        std::printf("ok: %s rule %s\n", update ? "updated" : "created", o->name.c_str());
        return 0;
      };
    });
  }
  for (bool enable : {true, false}) {
    auto name = std::make_shared<std::string>();
    c.keep_alive.push_back(name);
    CLI::App* cmd = rule->add_subcommand(enable ? "enable" : "disable", enable ? "enable rule" : "disable rule");
    cmd->add_option("name", *name, "the rule name")->required();
    cmd->callback([&c, name, enable] {
      c.run = [&c, name, enable] {
        Session s(c.globals);
        Json body = {{"status", enable ? "active" : "inactive"}, {"trigger", nullptr}, {"action", nullptr}};
        if (!s.Call(std::string(enable ? "enable" : "disable") + " rule '" + *name + "'", "POST",
                    s.Name(*name).Path("rules"), &body))
          return s.exit_code;
        std::printf("ok: %s rule %s\n", enable ? "enabled" : "disabled", name->c_str());
        return 0;
      };
    });
  }
  AddGet(rule, c, "rule", "rules");
  {
    auto o = std::make_shared<Opts>();
    c.keep_alive.push_back(o);
    CLI::App* del = rule->add_subcommand("delete", "delete rule");
    del->add_option("name", o->name, "the rule name")->required();
    del->add_flag("--disable", o->disable, "automatically disable rule before deleting it");
    del->callback([&c, o] {
      c.run = [&c, o] {
        Session s(c.globals);
        QualifiedName q = s.Name(o->name);
        if (o->disable) {
          Json body = {{"status", "inactive"}, {"trigger", nullptr}, {"action", nullptr}};
          if (!s.Call("disable rule '" + o->name + "'", "POST", q.Path("rules"), &body)) return s.exit_code;
        }
        if (!s.Call("delete rule '" + o->name + "'", "DELETE", q.Path("rules"))) return s.exit_code;
        std::printf("ok: deleted rule %s\n", o->name.c_str());
        return 0;
      };
    });
  }
  {
    auto limit = std::make_shared<std::pair<int64_t, int64_t>>(30, 0);
    c.keep_alive.push_back(limit);
    CLI::App* list = rule->add_subcommand("list", "list all rules");
    list->add_option("-l,--limit", limit->first, "only return LIMIT number of rules from the collection");
    list->add_option("-s,--skip", limit->second, "exclude the first SKIP number of rules from the result");
    list->callback([&c, limit] {
      c.run = [&c, limit] {
        Session s(c.globals);
        auto r = s.Call("get the list of rules", "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/rules" +
                            Query({{"limit", std::to_string(limit->first)}, {"skip", std::to_string(limit->second)}}));
        if (!r) return s.exit_code;
        std::printf("rules\n");
        if (!r->json.is_array()) return 0;
        for (const Json& rl : r->json) {
          // The list does not carry the status; wsk reads each rule for it.
          std::string status;
          QualifiedName q{json::GetString(rl, "namespace"), json::GetString(rl, "name")};
          if (Result<WskReply> one = s.client().Send("GET", q.Path("rules")); one.ok() && one->status == 200)
            status = json::GetString(one->json, "status");
          std::printf("%-70s %-20s%s\n", EntityPath(rl).c_str(), Publish(rl).c_str(), status.c_str());
        }
        return 0;
      };
    });
  }
}

// ---------------------------------------------------------------- namespace, list

void AddNamespaceAndList(CLI::App& app, WskCommands& c) {
  CLI::App* ns = app.add_subcommand("namespace", "work with namespaces")->require_subcommand(1);
  ns->add_subcommand("list", "list available namespaces")->callback([&c] {
    c.run = [&c] {
      Session s(c.globals);
      auto r = s.Call("obtain the list of available namespaces", "GET", "namespaces");
      if (!r) return s.exit_code;
      std::printf("namespaces\n");
      if (r->json.is_array())
        for (const Json& n : r->json)
          std::printf("%s\n", n.is_string() ? n.get<std::string>().c_str() : json::Dump(n).c_str());
      return 0;
    };
  });

  app.add_subcommand("list", "list entities in the current namespace")->callback([&c] {
    c.run = [&c] {
      Session s(c.globals);
      std::printf("Entities in namespace: %s\n", s.ns() == "_" ? "default" : s.ns().c_str());
      for (const char* collection : {"packages", "actions", "triggers", "rules"}) {
        auto r = s.Call(std::string("get the list of ") + collection, "GET",
                        "namespaces/" + UrlEncode(s.ns()) + "/" + collection + "?limit=0&skip=0");
        if (!r) return s.exit_code;
        std::printf("%s\n", collection);
        if (!r->json.is_array()) continue;
        for (const Json& e : r->json) {
          if (std::string(collection) == "actions")
            std::printf("%-70s %s %s\n", EntityPath(e).c_str(), Publish(e).c_str(),
                        AnnotationString(e, "exec").c_str());
          else
            std::printf("%-70s %s\n", EntityPath(e).c_str(), Publish(e).c_str());
        }
      }
      return 0;
    };
  });
}

}  // namespace

Result<Json> ExecFromArtifact(const std::string& artifact, const std::string& requested_kind,
                              const std::string& main) {
  std::string kind = Lower(requested_kind);
  Json exec = Json::object();
  if (kind == "builtin" || kind == "builtin:default") {
    // A built-in names a compiled-in function; a file may hold that name.
    Result<std::string> text = ReadFile(artifact);
    std::string code = text.ok() ? *text : artifact;
    while (!code.empty() && std::isspace(static_cast<unsigned char>(code.back()))) code.pop_back();
    exec = {{"kind", kind}, {"code", code}};
  } else {
    Result<std::string> bytes = ReadFile(artifact);
    if (!bytes.ok()) return bytes.status();
    if (kind.empty()) kind = InferKind(artifact);
    if (kind.empty()) {
      return Status::InvalidArgument("Cannot infer the kind of '" + artifact +
                                     "': give --kind KIND or --native (wisp runs nodejs:20, python:3, cpp, native and builtin).");
    }
    bool binary = EndsWith(artifact, ".zip") || EndsWith(artifact, ".jar") || LooksBinary(*bytes);
    exec = {{"kind", kind}, {"code", binary ? Base64Encode(*bytes) : *bytes}};
  }
  if (!main.empty()) exec["main"] = main;
  return exec;
}

// ---------------------------------------------------------------- trace

void AddTrace(CLI::App& app, WskCommands& c) {
  struct Opts {
    std::string id;
    bool json = false;
  };
  auto o = std::make_shared<Opts>();
  c.keep_alive.push_back(o);
  CLI::App* cmd = app.add_subcommand("trace", "show the activations of one trace id as a tree");
  cmd->add_option("id", o->id, "the trace id (a request's X-Request-ID, an alarm's fire)")->required();
  cmd->add_flag("--json", o->json, "print the API's JSON instead of the tree");
  cmd->callback([&c, o] {
    c.run = [&c, o] {
      Session s(c.globals);
      auto r = s.Call("get trace '" + o->id + "'", "GET",
                      "namespaces/" + UrlEncode(s.ns()) + "/traces/" + UrlEncode(o->id));
      if (!r) return s.exit_code;
      if (o->json) {
        PrintJson(stdout, r->json);
      } else {
        std::fputs(RenderTrace(r->json).c_str(), stdout);
      }
      return 0;
    };
  });
}

void AddWskCommands(CLI::App& app, WskCommands& c) {
  // Global flags, accepted before or after the command as wsk does.
  app.add_option("--apihost", c.globals.apihost, "whisk API HOST");
  app.add_option("-u,--auth", c.globals.auth, "authorization KEY");
  app.add_flag("-i,--insecure", c.globals.insecure, "bypass certificate checking");
  app.add_flag("-v,--verbose,-d,--debug", c.globals.verbose, "verbose output: show the HTTP exchange");
  app.fallthrough();
  AddProperty(app, c);
  AddAction(app, c);
  AddActivation(app, c);
  AddPackage(app, c);
  AddTrigger(app, c);
  AddRule(app, c);
  AddNamespaceAndList(app, c);
  AddTrace(app, c);
}

}  // namespace wisp::cli
