// The Stack Exchange client against the simulator on loopback: paging, AND
// vs OR, quota, backoff, every scripted fault, and incremental polling over
// a world that changes between polls. Time is a FakeClock that the client's
// waits advance, so a 10 s backoff costs no real time.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "apps/stackoverflow/stackexchange_client.h"
#include "apps/stackoverflow/stackexchange_sim.h"
#include "testing/http_test_server.h"

namespace wisp::stackoverflow {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

class StackExchangeTest : public ::testing::Test {
 protected:
  void StartSim(StackExchangeSimOptions options = {}) {
    sim_ = std::make_unique<StackExchangeSim>(clock_, std::move(options));
    ASSERT_TRUE(sim_->Start().ok());
  }

  StackExchangeClient MakeClient(StackExchangeOptions options = {}) {
    options.base_url = sim_->base_url();
    return StackExchangeClient(http_, clock_, options, [this](milliseconds d) {
      slept_ += d;
      clock_.Advance(d);
    });
  }

  static bool HasTag(const Json& q, const std::string& tag) {
    for (const Json& t : q["tags"]) {
      if (t == tag) return true;
    }
    return false;
  }

  // Question ids of the simulator's truth that `keep` accepts, in activity order.
  std::vector<int64_t> TruthIds(const std::function<bool(const Json&)>& keep) {
    std::vector<int64_t> ids;
    for (const Json& q : sim_->Truth()) {
      if (keep(q)) ids.push_back(q["question_id"].get<int64_t>());
    }
    return ids;
  }

  static std::vector<int64_t> Ids(const std::vector<Json>& items) {
    std::vector<int64_t> ids;
    for (const Json& q : items) ids.push_back(q["question_id"].get<int64_t>());
    return ids;
  }

  FakeClock clock_;
  http::Client http_;
  std::unique_ptr<StackExchangeSim> sim_;
  milliseconds slept_{0};
};

TEST_F(StackExchangeTest, OrSearchPagesUntilHasMoreIsFalse) {
  StackExchangeSimOptions options;
  options.initial_questions = 2000;
  StartSim(options);
  StackExchangeClient client = MakeClient({.key = "k"});
  auto result = client.Search({.tags = {"javascript", "python"}, .type = SearchType::kOr});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->complete);
  EXPECT_GT(result->pages, 3);
  EXPECT_EQ(Ids(result->items), TruthIds([](const Json& q) { return HasTag(q, "javascript") || HasTag(q, "python"); }));
  EXPECT_EQ(result->quota_max, 10'000);
  EXPECT_EQ(result->quota_remaining, 10'000 - result->pages);
  for (const Json& q : result->items) EXPECT_TRUE(q.contains("body")) << "filter=withbody";
}

TEST_F(StackExchangeTest, AndSearchUsesQuestionsAndNeedsEveryTag) {
  StackExchangeSimOptions options;
  options.initial_questions = 2000;
  StartSim(options);
  StackExchangeClient client = MakeClient({.key = "k"});
  auto both = client.Search({.tags = {"javascript", "python"}, .type = SearchType::kAnd});
  auto either = client.Search({.tags = {"javascript", "python"}, .type = SearchType::kOr});
  ASSERT_TRUE(both.ok() && either.ok());
  EXPECT_EQ(Ids(both->items), TruthIds([](const Json& q) { return HasTag(q, "javascript") && HasTag(q, "python"); }));
  EXPECT_FALSE(both->items.empty());
  EXPECT_LT(both->items.size(), either->items.size());
  EXPECT_NE(client.PageUrl({.tags = {"a"}, .type = SearchType::kAnd}, 1).find("/questions?"), std::string::npos);
  EXPECT_NE(client.PageUrl({.tags = {"a", "b"}, .type = SearchType::kOr}, 1).find("/search?"), std::string::npos);
  EXPECT_NE(client.PageUrl({.tags = {"a", "b"}}, 1).find("tagged=a%3Bb"), std::string::npos);
}

TEST_F(StackExchangeTest, AnswersAreAlwaysGzipped) {
  StartSim();
  auto reply = http_.Get(sim_->base_url() + "/questions?site=stackoverflow&pagesize=1");
  ASSERT_TRUE(reply.ok());
  EXPECT_EQ(reply->status, 200);
  EXPECT_EQ(reply->headers.GetOr("Content-Encoding"), "gzip");
  auto body = json::ParseObject(reply->body);
  ASSERT_TRUE(body.ok());
  EXPECT_EQ((*body)["items"].size(), 1u);
  EXPECT_FALSE((*body)["items"][0].contains("body")) << "the default filter has no body";
}

TEST_F(StackExchangeTest, ErrorsComeAsTheWrapperWithStatus400) {
  StartSim();
  auto check = [&](const std::string& query, int error_id, const std::string& name) {
    auto reply = http_.Get(sim_->base_url() + query);
    ASSERT_TRUE(reply.ok());
    EXPECT_EQ(reply->status, 400) << query;
    auto body = json::ParseObject(reply->body);
    ASSERT_TRUE(body.ok());
    EXPECT_EQ(json::GetInt(*body, "error_id"), error_id) << query;
    EXPECT_EQ(json::GetString(*body, "error_name"), name) << query;
  };
  check("/questions", 400, "bad_parameter");  // no site
  check("/questions?site=stackoverflow&pagesize=101", 400, "bad_parameter");
  check("/search?site=stackoverflow", 400, "bad_parameter");             // neither tagged nor intitle
  check("/questions?site=stackoverflow&page=26", 403, "access_denied");  // anonymous depth
  check("/questions?site=stackoverflow&access_token=t", 405, "key_required");
  check("/answers?site=stackoverflow", 404, "no_method");

  // The client surfaces a parameter error without retrying.
  StackExchangeOptions options;
  options.site = "nosuchsite";
  StackExchangeClient client = MakeClient(options);
  const int64_t before = sim_->requests();
  auto result = client.Search({.tags = {"python"}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(result.status().message().find("bad_parameter"), std::string::npos);
  EXPECT_EQ(sim_->requests(), before + 1);
}

TEST_F(StackExchangeTest, QuotaRunsOutWithThrottleViolation) {
  StackExchangeSimOptions sim_options;
  sim_options.initial_questions = 1000;
  sim_options.quota_anonymous = 3;
  StartSim(sim_options);
  StackExchangeOptions options;
  options.pagesize = 10;
  StackExchangeClient client = MakeClient(options);
  // The client stops by itself when quota_remaining reaches 0, keeping what it read...
  auto spent = client.Search({.tags = {"javascript"}});
  ASSERT_TRUE(spent.ok()) << spent.status().ToString();
  EXPECT_FALSE(spent->complete);
  EXPECT_EQ(spent->pages, 3);
  EXPECT_EQ(spent->quota_remaining, 0);
  EXPECT_NE(spent->stopped_because.find("quota"), std::string::npos);
  // ...and the next run meets the API's throttle_violation, which names a wait
  // far longer than a poll may block: an error, not a retry loop.
  const int64_t before = sim_->requests();
  auto result = client.Search({.tags = {"javascript"}});
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(result.status().message().find("more requests available in"), std::string::npos)
      << result.status().message();
  EXPECT_EQ(sim_->requests(), before + 1);

  // With a floor, the client stops on its own and keeps what it read.
  StackExchangeSimOptions again;
  again.initial_questions = 1000;
  again.quota_anonymous = 10;
  StartSim(again);
  options.quota_floor = 7;
  StackExchangeClient careful = MakeClient(options);
  auto partial = careful.Search({.tags = {"javascript"}});
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  EXPECT_FALSE(partial->complete);
  EXPECT_EQ(partial->pages, 3);
  EXPECT_EQ(partial->items.size(), 30u);
  EXPECT_EQ(partial->quota_remaining, 7);
}

TEST_F(StackExchangeTest, BackoffIsHonouredPerMethod) {
  StackExchangeSimOptions sim_options;
  sim_options.initial_questions = 1000;
  sim_options.faults.Add({.from = 1, .to = 1, .kind = "backoff", .params = Json{{"seconds", 10}}});
  StartSim(sim_options);
  StackExchangeOptions options;
  options.pagesize = 20;
  StackExchangeClient client = MakeClient(options);
  auto result = client.Search({.tags = {"javascript", "python"}});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_TRUE(result->complete);
  EXPECT_GE(slept_, seconds(10));
  EXPECT_EQ(sim_->requests(), result->pages) << "no request was refused for violating the backoff";

  // A caller that ignores `backoff` is refused, as the real API does.
  StackExchangeSimOptions strict;
  strict.faults.Add({.from = 1, .to = 1, .kind = "backoff", .params = Json{{"seconds", 10}}});
  StartSim(strict);
  ASSERT_TRUE(http_.Get(sim_->base_url() + "/search?site=stackoverflow&tagged=python").ok());
  auto refused = http_.Get(sim_->base_url() + "/search?site=stackoverflow&tagged=python");
  ASSERT_TRUE(refused.ok());
  EXPECT_EQ(refused->status, 400);
  EXPECT_NE(refused->body.find("Violation of backoff parameter"), std::string::npos);
  // Another method is not held back.
  auto other = http_.Get(sim_->base_url() + "/questions?site=stackoverflow&tagged=python");
  ASSERT_TRUE(other.ok());
  EXPECT_EQ(other->status, 200);
}

struct FaultCase {
  std::string name;
  Json line;
  std::string error_says;  // what a client with no retries reports
};

void PrintTo(const FaultCase& c, std::ostream* os) { *os << c.name; }

class StackExchangeFaultTest : public StackExchangeTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(StackExchangeFaultTest, ARetryEndsLikeACleanRun) {
  StackExchangeSimOptions clean_options;
  clean_options.initial_questions = 500;
  StartSim(clean_options);
  StackExchangeOptions options;
  options.pagesize = 50;
  auto clean = MakeClient(options).Search({.tags = {"javascript", "python"}});
  ASSERT_TRUE(clean.ok());
  ASSERT_GT(clean->pages, 2);

  // The same world (same seed, same clock) with the fault on the second request.
  StackExchangeSimOptions faulty = clean_options;
  auto script = FaultScript::Parse(json::Dump(GetParam().line));
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  faulty.faults = *script;
  StartSim(faulty);
  auto result = MakeClient(options).Search({.tags = {"javascript", "python"}});
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_EQ(Ids(result->items), Ids(clean->items));
  EXPECT_EQ(sim_->requests(), clean->pages + 1) << "exactly one retry";

  // Without retries the error says what went wrong.
  StartSim(faulty);
  options.max_attempts = 1;
  auto failed = MakeClient(options).Search({.tags = {"javascript", "python"}});
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.status().message().find(GetParam().error_says), std::string::npos) << failed.status().message();
}

INSTANTIATE_TEST_SUITE_P(
    Faults, StackExchangeFaultTest,
    ::testing::Values(
        FaultCase{"throttle", Json{{"request", 2}, {"fault", "throttle"}, {"seconds", 5}}, "throttle_violation"},
        FaultCase{"http502", Json{{"request", 2}, {"fault", "http"}, {"status", 502}}, "HTTP 502"},
        FaultCase{"html503", Json{{"request", 2}, {"fault", "http"}, {"status", 503}}, "not the API's JSON"},
        FaultCase{"cloudflare429", Json{{"request", 2}, {"fault", "http"}, {"status", 429}}, "HTTP 429"},
        FaultCase{"truncated_gzip", Json{{"request", 2}, {"fault", "truncated_gzip"}}, "page 2"},
        FaultCase{"unavailable", Json{{"request", 2}, {"fault", "error"}, {"error_id", 503}},
                  "temporarily_unavailable"}),
    [](const auto& info) { return info.param.name; });

TEST_F(StackExchangeTest, ScriptedQuotaExhaustionAndSlowAnswers) {
  StackExchangeSimOptions sim_options;
  auto script = FaultScript::Parse(
      "{\"request\": 1, \"fault\": \"slow\", \"ms\": 300}\n{\"request\": 2, \"fault\": \"quota_exhausted\"}\n");
  ASSERT_TRUE(script.ok());
  sim_options.faults = *script;
  StartSim(sim_options);
  StackExchangeOptions options;
  options.timeout = milliseconds(100);
  options.max_attempts = 1;
  auto timed_out = MakeClient(options).Search({.tags = {"python"}});
  ASSERT_FALSE(timed_out.ok());
  EXPECT_EQ(timed_out.status().code(), StatusCode::kUnavailable);
  auto spent = MakeClient().Search({.tags = {"python"}});
  ASSERT_FALSE(spent.ok());
  EXPECT_EQ(spent.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(spent.status().message().find("throttle_violation"), std::string::npos);
  // A key has its own, larger quota.
  auto keyed = MakeClient({.key = "k"}).Search({.tags = {"python"}});
  EXPECT_TRUE(keyed.ok()) << keyed.status().ToString();
}

TEST_F(StackExchangeTest, IncrementalWindowsCatchActivityBetweenPolls) {
  StackExchangeSimOptions sim_options;
  sim_options.initial_questions = 400;
  sim_options.event_interval = seconds(20);
  StartSim(sim_options);
  StackExchangeClient client = MakeClient({.key = "k"});
  const std::vector<std::string> tags = {"javascript", "python", "java", "c#", "php"};
  auto now = [&] { return std::chrono::duration_cast<seconds>(clock_.Now().time_since_epoch()).count(); };

  std::optional<int64_t> watermark;
  std::map<int64_t, Json> mirror;  // what a storer would hold
  int64_t edited_id = 0;
  for (int poll = 0; poll < 5; ++poll) {
    const PollWindow window = NextWindow(watermark, now(), 60, 8 * 24 * 3600);
    auto result = client.Search(
        {.tags = tags, .type = SearchType::kOr, .sort = "activity", .min = window.min, .max = window.max});
    ASSERT_TRUE(result.ok()) << result.status().ToString();
    ASSERT_TRUE(result->complete);
    for (const Json& q : result->items) mirror[q["question_id"].get<int64_t>()] = q;
    watermark = AdvanceWatermark(watermark, window, result->complete);
    EXPECT_EQ(*watermark, window.max);

    // Between polls: time passes (random events) and an old question is edited.
    clock_.Advance(std::chrono::minutes(10));
    if (poll == 2) {
      int64_t oldest = 0;
      for (const Json& q : sim_->Truth()) {
        if (HasTag(q, "javascript")) oldest = q["question_id"].get<int64_t>();
      }
      auto edited = sim_->Inject("edit", oldest);
      ASSERT_TRUE(edited.ok());
      edited_id = oldest;
    }
  }
  // A last poll, then the mirror holds every live question on these tags at its latest version.
  const PollWindow window = NextWindow(watermark, now(), 60, 0);
  auto last = client.Search({.tags = tags, .sort = "activity", .min = window.min, .max = window.max});
  ASSERT_TRUE(last.ok());
  for (const Json& q : last->items) mirror[q["question_id"].get<int64_t>()] = q;
  size_t live = 0;
  for (const Json& truth : sim_->Truth()) {
    if (std::none_of(tags.begin(), tags.end(), [&](const std::string& t) { return HasTag(truth, t); })) continue;
    ++live;
    const int64_t id = truth["question_id"].get<int64_t>();
    ASSERT_TRUE(mirror.count(id)) << "question " << id << " was never fetched";
    EXPECT_EQ(mirror[id], truth) << "question " << id << " is not at its latest version";
  }
  EXPECT_TRUE(mirror.count(edited_id));
  EXPECT_TRUE(mirror[edited_id].contains("last_edit_date"));
  EXPECT_GT(mirror.size(), 0u);
  EXPECT_GE(mirror.size(), live) << "deleted questions stay in the mirror; nothing is missing";
}

TEST_F(StackExchangeTest, WorldIsDeterministicAndRealistic) {
  StackExchangeSimOptions options;
  options.seed = 42;
  options.initial_questions = 1000;
  StackExchangeSim a(clock_, options), b(clock_, options);
  const std::vector<Json> ta = a.Truth(), tb = b.Truth();
  EXPECT_EQ(ta, tb);
  ASSERT_EQ(ta.size(), 1000u);
  size_t tag_total = 0, with_entity = 0, gone_owner = 0, with_code = 0;
  std::set<size_t> tag_counts;
  for (const Json& q : ta) {
    tag_total += q["tags"].size();
    tag_counts.insert(q["tags"].size());
    with_entity += json::GetString(q, "title").find('&') != std::string::npos;
    gone_owner += json::GetString(q["owner"], "user_type") == "does_not_exist";
    with_code += json::GetString(q, "body").find("<pre><code>") != std::string::npos;
    EXPECT_GE(q["last_activity_date"].get<int64_t>(), q["creation_date"].get<int64_t>());
    EXPECT_EQ(json::GetString(q, "link").rfind("https://stackoverflow.com/questions/", 0), 0u);
  }
  EXPECT_NEAR(static_cast<double>(tag_total) / ta.size(), 2.9, 0.2);
  EXPECT_EQ(tag_counts, (std::set<size_t>{1, 2, 3, 4, 5}));
  EXPECT_GT(with_entity, 50u);
  EXPECT_GT(gone_owner, 0u);
  EXPECT_GT(with_code, 400u);

  // Deletion removes a question from every answer.
  const int64_t id = ta[0]["question_id"].get<int64_t>();
  ASSERT_TRUE(a.Inject("delete", id).ok());
  for (const Json& q : a.Truth()) EXPECT_NE(q["question_id"].get<int64_t>(), id);
  EXPECT_FALSE(a.Inject("edit", id).ok());
  EXPECT_FALSE(a.Inject("explode").ok());
}

// A front end that answers every page with `body` (HTTP 200).
std::unique_ptr<testing::TestServer> FixedPageServer(std::string body) {
  auto router = std::make_shared<http::Router>();
  auto serve = [body](http::Request&) { return http::Response::Json(200, body); };
  router->Get("/2.3/search", serve);
  router->Get("/2.3/questions", serve);
  http::ListenerOptions listener;
  listener.router = router;
  return std::make_unique<testing::TestServer>(std::move(listener));
}

// Found with the fuzz target's seeds (docs/security.md, "Fuzzing"): a
// throttle message whose number does not fit in 64 bits threw out of the
// client (std::stoll), and a `backoff` near INT64_MAX overflowed the clock
// arithmetic. Both now mean "longer than the wait allowed".
TEST(StackExchangeHostilePagesTest, HugeThrottleAndBackoffNumbersStopTheSearch) {
  FakeClock clock;
  http::Client http;
  milliseconds slept{0};
  auto sleep = [&](milliseconds d) {
    slept += d;
    clock.Advance(d);
  };
  SearchQuery query;
  query.tags = {"couchdb"};

  auto throttled = FixedPageServer(
      R"({"error_id":502,"error_name":"throttle_violation",)"
      R"("error_message":"too many requests from this IP, more requests available in 99999999999999999999 seconds"})");
  StackExchangeOptions options;
  options.max_pages = 3;
  options.base_url = throttled->base_url() + "/2.3";
  StackExchangeClient client(http, clock, options, sleep);
  Result<SearchResult> stopped = client.Search(query);
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.status().code(), StatusCode::kResourceExhausted) << stopped.status().message();

  for (const char* backoff : {"9223372036854775807", "-9223372036854775807"}) {
    auto page = FixedPageServer(std::string(R"({"items":[{"question_id":1}],"has_more":true,"quota_remaining":50,)") +
                                R"("backoff":)" + backoff + "}");
    options.base_url = page->base_url() + "/2.3";
    StackExchangeClient paging(http, clock, options, sleep);
    slept = milliseconds(0);
    Result<SearchResult> result = paging.Search(query);
    ASSERT_TRUE(result.ok()) << result.status().message();
    EXPECT_FALSE(result->complete);
    EXPECT_LE(result->backoff, int64_t{365} * 24 * 3600) << backoff;
    EXPECT_GE(result->backoff, 0) << backoff;
    EXPECT_LE(slept, options.max_throttle_wait + options.backoff_margin) << backoff;
  }
}

TEST(PollWindowTest, OverlapsThePreviousWindow) {
  const PollWindow first = NextWindow(std::nullopt, 10'000, 60, 3600);
  EXPECT_EQ(first.min, 10'000 - 3600);
  EXPECT_EQ(first.max, 10'000);
  const int64_t wm = AdvanceWatermark(std::nullopt, first, true);
  const PollWindow second = NextWindow(wm, 10'300, 60, 3600);
  EXPECT_EQ(second.min, 10'000 - 60);
  EXPECT_EQ(second.max, 10'300);
  EXPECT_EQ(AdvanceWatermark(wm, second, false), wm) << "an incomplete batch does not move the watermark";
}

TEST(FaultScriptTest, ParsesLinesAndRanges) {
  auto script = FaultScript::Parse(
      "# comment\n\n{\"request\": 2, \"fault\": \"slow\", \"ms\": 5}\n{\"from\": 4, \"to\": 5, \"fault\": \"http\"}\n"
      "{\"from\": 9, \"fault\": \"throttle\"}\n");
  ASSERT_TRUE(script.ok()) << script.status().ToString();
  EXPECT_FALSE(script->Find(1));
  EXPECT_EQ(script->Find(2)->kind, "slow");
  EXPECT_EQ(script->Find(5)->kind, "http");
  EXPECT_FALSE(script->Find(6));
  EXPECT_EQ(script->Find(1000)->kind, "throttle");
  auto bad = FaultScript::Parse("{\"request\": 1}\n");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("line 1"), std::string::npos);
  EXPECT_FALSE(FaultScript::Parse("not json").ok());
}

}  // namespace
}  // namespace wisp::stackoverflow
