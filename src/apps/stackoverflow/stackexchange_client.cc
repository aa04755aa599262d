#include "apps/stackoverflow/stackexchange_client.h"

#include <algorithm>
#include <charconv>
#include <regex>
#include <thread>

#include "http/url.h"

namespace wisp::stackoverflow {

Result<SearchType> ParseSearchType(std::string_view text) {
  if (text == "and" || text == "AND") return SearchType::kAnd;
  if (text == "or" || text == "OR" || text.empty()) return SearchType::kOr;
  return Status::InvalidArgument("search_type must be \"and\" or \"or\", not \"" + std::string(text) + "\"");
}

StackExchangeClient::StackExchangeClient(http::Client& http, Clock& clock, StackExchangeOptions options, Sleep sleep)
    : http_(http), clock_(clock), options_(std::move(options)), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

std::string StackExchangeClient::PageUrl(const SearchQuery& query, int page) const {
  std::string tagged;
  for (const std::string& t : query.tags) tagged += (tagged.empty() ? "" : ";") + t;
  std::string url = options_.base_url + (query.type == SearchType::kAnd ? "/questions" : "/search");
  url += "?site=" + http::PercentEncode(options_.site) + "&tagged=" + http::PercentEncode(tagged);
  url += "&sort=" + query.sort + "&order=" + query.order;
  url += "&page=" + std::to_string(page) + "&pagesize=" + std::to_string(options_.pagesize);
  if (!options_.filter.empty()) url += "&filter=" + http::PercentEncode(options_.filter);
  if (query.min) url += "&min=" + std::to_string(*query.min);
  if (query.max) url += "&max=" + std::to_string(*query.max);
  if (query.fromdate) url += "&fromdate=" + std::to_string(*query.fromdate);
  if (query.todate) url += "&todate=" + std::to_string(*query.todate);
  if (!options_.key.empty()) url += "&key=" + http::PercentEncode(options_.key);
  return url;
}

void StackExchangeClient::WaitUntil(Clock::SteadyTime t) {
  const auto now = clock_.SteadyNow();
  if (t > now) sleep_(std::chrono::ceil<std::chrono::milliseconds>(t - now));
}

namespace {

// Longer than any real backoff or throttle; the clamp keeps whatever number
// a page carries from overflowing the clock arithmetic.
constexpr int64_t kMaxWaitSeconds = 365LL * 24 * 3600;

// Seconds named in "more requests available in N seconds", if any (at most
// kMaxWaitSeconds: a number too long for int64_t is that too).
std::optional<int64_t> ThrottleSeconds(const std::string& message) {
  static const std::regex kSeconds(R"(available in (\d+) second)");
  std::smatch m;
  if (!std::regex_search(message, m, kSeconds)) return std::nullopt;
  const std::string digits = m[1].str();
  int64_t seconds = 0;
  const auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), seconds);
  if (error != std::errc() || end != digits.data() + digits.size()) return kMaxWaitSeconds;
  return std::min(seconds, kMaxWaitSeconds);
}

// The page's `backoff` in seconds, within [0, kMaxWaitSeconds].
int64_t BackoffSeconds(const Json& body) {
  return std::clamp<int64_t>(json::GetInt(body, "backoff", 0), 0, kMaxWaitSeconds);
}

}  // namespace

Result<StackExchangeClient::Page> StackExchangeClient::FetchPage(const SearchQuery& query, int page) {
  const std::string method = query.type == SearchType::kAnd ? "questions" : "search";
  auto delay = options_.retry_delay;
  Status last = Status::Unavailable("no attempt made");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    if (attempt > 1) {
      sleep_(delay);
      delay *= 2;
    }
    WaitUntil(not_before_[method]);
    http::ClientRequest request;
    request.url = PageUrl(query, page);
    request.timeout = options_.timeout;
    request.headers.Set("Accept-Encoding", "gzip, deflate");
    auto reply = http_.Send(request);
    if (!reply.ok()) {
      last = Status::Unavailable("Stack Exchange " + method + " page " + std::to_string(page) + ": " +
                                 reply.status().message());
      continue;
    }
    auto body = json::ParseObject(reply->body);
    if (!body.ok()) {
      // An HTML error page from the front end, or a truncated/corrupt body.
      last = Status::Unavailable("Stack Exchange " + method + " page " + std::to_string(page) + ": HTTP " +
                                 std::to_string(reply->status) + " with a body that is not the API's JSON (" +
                                 body.status().message() + ")");
      if (reply->status >= 400 && reply->status < 500 && reply->status != 429) return last;
      continue;
    }
    if (body->contains("backoff")) {
      // Not this method again for `backoff` seconds (plus a margin).
      not_before_[method] = clock_.SteadyNow() + std::chrono::seconds(BackoffSeconds(*body)) + options_.backoff_margin;
    }
    if (body->contains("error_id")) {
      const int64_t id = json::GetInt(*body, "error_id");
      const std::string name = json::GetString(*body, "error_name");
      const std::string text =
          "Stack Exchange error " + std::to_string(id) + " " + name + ": " + json::GetString(*body, "error_message");
      switch (id) {
        case 500:
        case 503: last = Status::Unavailable(text); continue;
        case 502: {
          // throttle_violation: a backoff violation names no time; an exhausted
          // quota says when it refills.
          const auto seconds = ThrottleSeconds(json::GetString(*body, "error_message"));
          const std::chrono::seconds wait = seconds ? std::chrono::seconds(*seconds) : std::chrono::seconds(30);
          if (wait > options_.max_throttle_wait) return Status::ResourceExhausted(text);
          not_before_[method] = clock_.SteadyNow() + wait + options_.backoff_margin;
          last = Status::ResourceExhausted(text);
          continue;
        }
        case 403: return Status::PermissionDenied(text);
        case 401:
        case 402:
        case 405:
        case 406: return Status::Unauthenticated(text);
        default: return Status::InvalidArgument(text);
      }
    }
    if (reply->status != 200 || !body->contains("items") || !(*body)["items"].is_array()) {
      last = Status::Unavailable("Stack Exchange " + method + ": HTTP " + std::to_string(reply->status) +
                                 " without an items array");
      continue;
    }
    Page p;
    for (Json& item : (*body)["items"]) p.items.push_back(std::move(item));
    p.has_more = body->value("has_more", false);
    p.quota_max = json::GetInt(*body, "quota_max");
    p.quota_remaining = json::GetInt(*body, "quota_remaining");
    p.backoff = BackoffSeconds(*body);
    return p;
  }
  return last;
}

Result<SearchResult> StackExchangeClient::Search(const SearchQuery& query) {
  if (query.tags.empty()) return Status::InvalidArgument("a search needs at least one tag");
  SearchResult result;
  for (int page = 1;; ++page) {
    if (page > options_.max_pages) {
      result.stopped_because = "page limit " + std::to_string(options_.max_pages) + " reached";
      return result;
    }
    auto p = FetchPage(query, page);
    if (!p.ok()) {
      // Anonymous depth limit: what was read so far is still good.
      if (p.status().code() == StatusCode::kPermissionDenied && page > 1) {
        result.stopped_because = p.status().message();
        return result;
      }
      return p.status();
    }
    ++result.pages;
    for (Json& item : p->items) result.items.push_back(std::move(item));
    result.quota_max = p->quota_max;
    result.quota_remaining = p->quota_remaining;
    result.backoff = std::max(result.backoff, p->backoff);
    if (!p->has_more) {
      result.complete = true;
      return result;
    }
    if (p->backoff > options_.max_throttle_wait.count()) {
      // As for a long throttle: the next poll starts again from the watermark.
      result.stopped_because = "backoff of " + std::to_string(p->backoff) + " s is longer than the wait allowed";
      return result;
    }
    if (p->quota_remaining <= options_.quota_floor) {
      result.stopped_because = "quota_remaining " + std::to_string(p->quota_remaining) + " at the floor";
      return result;
    }
  }
}

PollWindow NextWindow(std::optional<int64_t> watermark, int64_t now, int64_t overlap, int64_t first_lookback) {
  PollWindow w;
  w.max = now;
  w.min = watermark ? std::min(*watermark, now) - overlap : now - first_lookback;
  return w;
}

int64_t AdvanceWatermark(std::optional<int64_t> watermark, const PollWindow& window, bool batch_complete) {
  if (!batch_complete) return watermark.value_or(window.min);
  return std::max(watermark.value_or(window.max), window.max);
}

}  // namespace wisp::stackoverflow
