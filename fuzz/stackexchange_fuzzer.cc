// Fuzzes the Stack Exchange client (apps/stackoverflow) with the pages a
// broken or hostile API front end could serve. A loopback server answers
// every page request with the input: its first byte picks the HTTP status
// and whether the body claims to be gzip, the rest is the body. Search must
// never crash or hang whatever the pages say (backoff, throttles, error ids,
// has_more, quota), and a search that succeeds read at most max_pages pages.
// Waits go to a FakeClock, so a huge backoff costs no time.
#include <cstdint>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "apps/stackoverflow/stackexchange_client.h"
#include "http/client.h"
#include "http/server.h"
#include "util/clock.h"
#include "util/log.h"

namespace {

constexpr int kStatuses[] = {200, 200, 200, 200, 400, 403, 429, 500, 502, 503};

struct Page {
  std::mutex mu;
  int status = 200;
  bool gzip = false;
  std::string body;
};

Page& ThePage() {
  static auto* page = new Page;
  return *page;
}

// The server that plays the API, started once per process.
std::string BaseUrl() {
  static const std::string url = [] {
    using namespace wisp::http;
    wisp::log::Options quiet;
    (void)wisp::log::ParseLevelSpec("off", &quiet);
    (void)wisp::log::Configure(quiet);
    auto router = std::make_shared<Router>();
    auto serve = [](Request&) {
      Page& page = ThePage();
      std::lock_guard lock(page.mu);
      Response r = Response::Json(page.status, page.body);
      if (page.gzip) r.headers.Set("Content-Encoding", "gzip");
      return r;
    };
    router->Get("/2.3/questions", serve, Dispatch::kInline);
    router->Get("/2.3/search", serve, Dispatch::kInline);
    ServerOptions options;
    options.io_threads = 1;
    options.worker_threads = 1;
    static auto* server = new Server(options);  // reachable, so not a leak
    ListenerOptions listener;
    listener.router = router;
    server->AddListener(listener);
    if (!server->Start().ok()) std::abort();
    return "http://127.0.0.1:" + std::to_string(server->port(0)) + "/2.3";
  }();
  return url;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp;
  using namespace wisp::stackoverflow;
  if (size == 0) return 0;
  const std::string base_url = BaseUrl();
  {
    Page& page = ThePage();
    std::lock_guard lock(page.mu);
    page.status = kStatuses[data[0] % std::size(kStatuses)];
    page.gzip = (data[0] & 0x80) != 0;
    page.body.assign(reinterpret_cast<const char*>(data + 1), size - 1);
  }
  static auto* http = new http::Client;
  FakeClock clock;
  StackExchangeOptions options;
  options.base_url = base_url;
  options.max_pages = 3;
  options.max_attempts = 2;
  options.timeout = std::chrono::seconds(10);
  StackExchangeClient client(*http, clock, options, [&clock](std::chrono::milliseconds d) { clock.Advance(d); });
  SearchQuery query;
  query.tags = {"c++", "couchdb"};
  query.type = (data[0] & 0x40) ? SearchType::kAnd : SearchType::kOr;
  Result<SearchResult> result = client.Search(query);
  if (result.ok() && result->pages > options.max_pages) std::abort();
  return 0;
}
