// StackExchangeClient: reads questions from the Stack Exchange API v2.3 (or
// StackExchangeSim) the way the API's rules ask (spec A).
//
// An AND search (every tag) goes to /questions, an OR search (any tag) to
// /search. It pages with pagesize=100 until `has_more` is false, honours the
// `backoff` the API sends for each method before calling that method again,
// retries what is transient (HTTP 5xx and 429 pages, HTML or truncated bodies,
// internal_error, temporarily_unavailable, short throttles) and stops on what
// is not (bad_parameter, key errors, a long throttle_violation, a backoff
// longer than max_throttle_wait). Waiting goes
// through `sleep`, so tests drive it with a FakeClock.
//
// PollWindow/NextWindow/AdvanceWatermark are the incremental-polling logic as
// pure functions: the storer keeps the watermark, the collector asks for the
// window.
//
// Thread-safety: a client may be used from one thread at a time (it keeps
// per-method backoff state); the pure functions are thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "http/client.h"
#include "json/json.h"
#include "util/clock.h"
#include "util/result.h"

namespace wisp::stackoverflow {

enum class SearchType { kAnd, kOr };

// "and" or "or" (the trigger payload's `search_type`); InvalidArgument otherwise.
Result<SearchType> ParseSearchType(std::string_view text);

struct StackExchangeOptions {
  std::string base_url = "https://api.stackexchange.com/2.3";
  std::string site = "stackoverflow";
  std::string key;  // app key: quota 10,000 instead of 300
  std::string filter = "withbody";
  int pagesize = 100;
  int max_pages = 25;                           // anonymous callers cannot go deeper
  int64_t quota_floor = 0;                      // stop paging when quota_remaining falls below
  int max_attempts = 4;                         // per page, for transient failures
  std::chrono::milliseconds retry_delay{1000};  // doubled after each failure
  std::chrono::seconds backoff_margin{2};       // added to `backoff` (backoff+1 was seen to trip)
  std::chrono::seconds max_throttle_wait{60};   // longer throttles end the run
  std::chrono::milliseconds timeout{30'000};
};

struct SearchQuery {
  std::vector<std::string> tags;
  SearchType type = SearchType::kOr;
  std::string sort = "activity";  // activity | creation | votes
  std::string order = "desc";
  std::optional<int64_t> min, max;          // on the sort field (inclusive)
  std::optional<int64_t> fromdate, todate;  // on creation_date
};

struct SearchResult {
  std::vector<Json> items;
  bool complete = false;  // has_more ended false (else stopped early: depth, quota)
  std::string stopped_because;
  int pages = 0;
  int64_t quota_max = 0;
  int64_t quota_remaining = 0;
  int64_t backoff = 0;  // the largest `backoff` (seconds, at most a year) a page carried; 0: none
};

class StackExchangeClient {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  // `sleep` defaults to a real sleep; tests pass one that advances a FakeClock.
  StackExchangeClient(http::Client& http, Clock& clock, StackExchangeOptions options, Sleep sleep = {});

  // Every page of the query, in the API's order.
  Result<SearchResult> Search(const SearchQuery& query);

  // The URL of one page (exposed for tests and logs).
  std::string PageUrl(const SearchQuery& query, int page) const;

 private:
  struct Page {
    std::vector<Json> items;
    bool has_more = false;
    int64_t quota_max = 0, quota_remaining = 0;
    int64_t backoff = 0;
  };
  Result<Page> FetchPage(const SearchQuery& query, int page);
  void WaitUntil(Clock::SteadyTime t);

  http::Client& http_;
  Clock& clock_;
  StackExchangeOptions options_;
  Sleep sleep_;
  std::map<std::string, Clock::SteadyTime> not_before_;  // by method: "questions", "search"
};

// The `min`/`max` of the next activity poll: from `watermark - overlap` (the
// overlap catches activity that the API's caches showed late) to `now`. With
// no watermark yet, it starts `first_lookback` before now.
struct PollWindow {
  int64_t min = 0;
  int64_t max = 0;
};
PollWindow NextWindow(std::optional<int64_t> watermark, int64_t now, int64_t overlap, int64_t first_lookback);

// The watermark after a poll of `window`: its `max` when the whole batch was
// fetched and stored, else unchanged (so the next poll fetches it again).
int64_t AdvanceWatermark(std::optional<int64_t> watermark, const PollWindow& window, bool batch_complete);

}  // namespace wisp::stackoverflow
