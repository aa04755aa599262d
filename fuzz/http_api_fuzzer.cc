// Fuzzes HTTP request handling end to end, in process: each input is one raw
// HTTP/1.1 request (request line, header, body), answered by the real
// parser, limits, routers, handlers and error renderers (via
// http::AnswerRawRequest) of both APIs, composed as the tests compose them:
// the OpenWhisk API (whisk_api.h, with the store mounted under /db as `wisp
// serve` mounts it) and the CouchDB API (couch_api.h), on one embedded store
// in /dev/shm made once per process. Its state carries over from one input
// to the next, as in production. Actions run in an echo runtime, so no
// input starts a process.
//
// Every answer must be a real status (100..599); an error with a JSON body
// must parse as an object carrying "error"; and no handler may throw (the
// server turns that into its generic 500, "internal server error").
//
// Seeds authenticate as the CouchDB admin (admin:fuzz) or the guest
// namespace (OpenWhisk standalone's well-known key).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>

#include "http/mount.h"
#include "http/server.h"
#include "json/json.h"
#include "store/couch_api.h"
#include "store/couch_error.h"
#include "store/store.h"
#include "util/log.h"
#include "whisk/action_runtime.h"
#include "whisk/controller.h"
#include "whisk/error_response.h"
#include "whisk/identity.h"
#include "whisk/whisk_api.h"

namespace {

using namespace wisp;

// Returns the activation's arguments: actions of any kind run without a process.
class EchoRuntime final : public whisk::ActionRuntime {
 public:
  whisk::RunOutcome Run(const whisk::ActionCode&, const whisk::RunRequest& request) override {
    whisk::RunOutcome outcome;
    outcome.result = request.value.is_object() ? request.value : Json::object();
    return outcome;
  }
};

struct Faces {
  std::string data_dir;
  std::unique_ptr<store::Store> store;
  EchoRuntime runtime;
  std::unique_ptr<whisk::Controller> controller;
  whisk::Identities identities;
  http::ListenerOptions api;
  http::ListenerOptions couch;
};

Faces* TheFaces();

Faces* MakeFaces() {
  log::Options quiet;
  if (!log::ParseLevelSpec("off", &quiet).ok() || !log::Configure(quiet).ok()) std::abort();
  auto* f = new Faces;
  std::string pattern = (std::filesystem::exists("/dev/shm") ? std::string("/dev/shm")
                                                             : std::filesystem::temp_directory_path().string()) +
                        "/wisp-fuzz-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) std::abort();
  f->data_dir = pattern;
  auto store = store::Store::Open(f->data_dir);
  if (!store.ok()) std::abort();
  f->store = std::move(*store);

  store::CouchApiOptions couch;
  couch.admin_name = "admin";
  couch.admin_password = "fuzz";
  couch.feed_threads = 4;
  auto couch_router = std::make_shared<http::Router>();
  store::AddCouchRoutes(*couch_router, *f->store, couch);
  f->couch.router = couch_router;
  f->couch.render_error = store::RenderCouchError;
  f->couch.limits.max_body_bytes = 1 << 20;

  whisk::ControllerOptions options;
  options.max_blocking_wait = std::chrono::milliseconds(1000);
  f->controller = std::make_unique<whisk::Controller>(*f->store, options);
  for (const char* kind : {"native", "blackbox", "nodejs:20", "python:3", "cpp", "builtin"}) {
    f->controller->SetRuntime(kind, &f->runtime);
  }
  if (!f->controller->Start().ok()) std::abort();
  if (!f->identities.Add("guest", "guest", whisk::kDevGuestCredential).ok()) std::abort();
  auto api_router = std::make_shared<http::Router>();
  whisk::AddWhiskRoutes(*api_router, *f->controller, f->identities);
  http::MountRouter(*api_router, "/db", couch_router, store::RenderCouchError);
  f->api.router = api_router;
  f->api.render_error = whisk::RenderWhiskError;
  f->api.limits.max_body_bytes = 1 << 20;
  std::atexit([] {
    std::error_code ec;
    std::filesystem::remove_all(TheFaces()->data_dir, ec);
  });
  return f;
}

Faces* TheFaces() {
  static Faces* faces = MakeFaces();
  return faces;
}

void Check(const wisp::http::Response& r) {
  if (r.status < 100 || r.status > 599) std::abort();
  if (r.status < 400 || r.stream) return;
  if (r.status == 500 && r.body.find("internal server error") != std::string::npos) {
    std::fprintf(stderr, "a handler threw: %s\n", r.body.c_str());
    std::abort();
  }
  if (r.headers.GetOr("Content-Type").rfind("application/json", 0) != 0 || r.body.empty()) return;
  auto body = wisp::json::Parse(r.body);
  if (!body.ok() || !body->is_object() || !body->contains("error")) {
    std::fprintf(stderr, "error body not in shape: %s\n", r.body.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Faces* faces = TheFaces();
  const std::string_view request(reinterpret_cast<const char*>(data), size);
  Check(wisp::http::AnswerRawRequest(faces->api, request));
  Check(wisp::http::AnswerRawRequest(faces->couch, request));
  return 0;
}
