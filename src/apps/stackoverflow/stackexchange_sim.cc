#include "apps/stackoverflow/stackexchange_sim.h"

#include <algorithm>
#include <array>
#include <cctype>
#include <cmath>
#include <thread>

#include "apps/stackoverflow/codec.h"

namespace wisp::stackoverflow {

struct StackExchangeSim::Question {
  int64_t id = 0;
  std::string title;  // entity-encoded, as the safe filter serves it
  std::string slug;
  std::vector<std::string> tags;
  OrderedJson owner;
  bool is_answered = false;
  int64_t view_count = 0;
  int64_t answer_count = 0;
  int64_t score = 0;
  int64_t creation_date = 0;
  int64_t last_activity_date = 0;
  std::optional<int64_t> last_edit_date;
  std::optional<int64_t> accepted_answer_id;
  std::optional<int64_t> closed_date;
  std::string closed_reason;
  std::optional<int64_t> bounty_amount, bounty_closes_date, protected_date;
  std::optional<int64_t> community_owned_date, locked_date;
  std::string content_license = "CC BY-SA 4.0";
  std::string body;
  bool deleted = false;
};

namespace {

// Popular Stack Overflow tags, most used first; a tag's weight falls with its rank.
constexpr std::array<const char*, 48> kTags = {"javascript", "python",        "java",        "c#",        "php",
                                               "android",    "html",          "jquery",      "c++",       "css",
                                               "ios",        "sql",           "mysql",       "r",         "node.js",
                                               "reactjs",    "arrays",        "c",           "asp.net",   "json",
                                               ".net",       "ruby-on-rails", "sql-server",  "swift",     "django",
                                               "angular",    "objective-c",   "pandas",      "regex",     "typescript",
                                               "linux",      "asp.net-core",  "spring-boot", "docker",    "postgresql",
                                               "mongodb",    "kotlin",        "go",          "rust",      "git",
                                               "bash",       "firebase",      "couchdb",     "openwhisk", "serverless",
                                               "ibm-cloud",  "cloudant",      "flutter"};

constexpr std::array<const char*, 5> kCloseReasons = {"Duplicate", "Needs more focus", "Needs details or clarity",
                                                      "Opinion-based", "Not suitable for this site"};

// Title templates: {T} is a tag, {X} a thing. Several carry the entities the
// safe filter produces (spec A9).
constexpr std::array<const char*, 14> kTitles = {"How to {V} {X} in {T}?",
                                                 "Why doesn&#39;t {X} {V} when using {T}?",
                                                 "{T}: {X} returns &quot;undefined&quot; after update",
                                                 "Error &quot;cannot {V} {X}&quot; with {T}",
                                                 "Best way to {V} {X} &amp; keep order in {T}",
                                                 "link &lt;a&gt; tag not working with {X} in {T}",
                                                 "{X} vs {X} | which one to {V} in {T}",
                                                 "Diferen&#231;a between {X} and {X} in {T}",
                                                 "Is it possible to {V} {X} without a loop in {T}?",
                                                 "Unexpected behaviour of {X} in {T} \xF0\x9F\x98\x95",
                                                 "{T} {X} is slow when I {V} large data",
                                                 "Cannot {V} {X}: permission denied ({T})",
                                                 "What&#39;s the difference between {X} and {X}?",
                                                 "{T} - how do I {V} a nested {X}?"};
constexpr std::array<const char*, 12> kThings = {"array",       "promise",  "dictionary",   "HTTP request",
                                                 "JSON object", "callback", "database row", "string",
                                                 "thread",      "map",      "view",         "date"};
constexpr std::array<const char*, 10> kVerbs = {"sort",  "parse",   "merge",  "filter", "serialize",
                                                "cache", "compare", "update", "stream", "validate"};
constexpr std::array<const char*, 24> kWords = {
    "I",      "am",      "trying",  "to",   "get",    "the",    "value", "from", "my", "function", "but",  "it",
    "always", "returns", "nothing", "when", "called", "inside", "loop",  "and",  "I",  "don’t",    "know", "why"};
constexpr std::array<const char*, 4> kCode = {
    "const result = items.filter(x =&gt; x.name === &quot;foo&quot;);\nconsole.log(result);\n",
    "for i in range(10):\n    print(&quot;value&quot;, i)\n",
    "if (a &lt; b &amp;&amp; b &gt; c) {\n    return &quot;ok&quot;;\n}\n",
    "SELECT * FROM questions WHERE tag = &#39;couchdb&#39;;\n"};

std::string Slugify(std::string_view encoded_title) {
  std::string decoded = DecodeHtmlEntities(encoded_title), slug;
  for (unsigned char c : decoded) {
    if (std::isalnum(c)) {
      slug += static_cast<char>(std::tolower(c));
    } else if (c >= 0x80) {
      static const char* hex = "0123456789abcdef";
      slug += '%';
      slug += hex[c >> 4];
      slug += hex[c & 15];
    } else if (!slug.empty() && slug.back() != '-') {
      slug += '-';
    }
  }
  while (!slug.empty() && slug.back() == '-') slug.pop_back();
  return slug;
}

std::string ErrorName(int error_id) {
  switch (error_id) {
    case 400: return "bad_parameter";
    case 401: return "access_token_required";
    case 402: return "invalid_access_token";
    case 403: return "access_denied";
    case 404: return "no_method";
    case 405: return "key_required";
    case 406: return "access_token_compromised";
    case 407: return "write_failed";
    case 409: return "duplicate_request";
    case 500: return "internal_error";
    case 502: return "throttle_violation";
    case 503: return "temporarily_unavailable";
    default: return "internal_error";
  }
}

std::string HtmlErrorPage(int status) {
  const std::string code = std::to_string(status);
  return "<!DOCTYPE html>\n<html><head><title>" + code + " " + std::string(http::ReasonPhrase(status)) +
         "</title></head>\n<body><h1>" + std::string(http::ReasonPhrase(status)) +
         "</h1><p>The service is temporarily unavailable. Please try again later.</p></body></html>\n";
}

std::optional<int64_t> IntParam(const http::QueryParams& q, std::string_view name, bool* bad) {
  auto v = q.Get(name);
  if (!v) return std::nullopt;
  char* end = nullptr;
  const long long n = std::strtoll(v->c_str(), &end, 10);
  if (v->empty() || *end != '\0') {
    *bad = true;
    return std::nullopt;
  }
  return n;
}

std::vector<std::string> SplitTags(const std::string& s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t end = s.find(';', start);
    if (end == std::string::npos) end = s.size();
    if (end > start) out.push_back(s.substr(start, end - start));
    start = end + 1;
  }
  return out;
}

}  // namespace

StackExchangeSim::StackExchangeSim(Clock& clock, StackExchangeSimOptions options)
    : clock_(clock), options_(std::move(options)), router_(std::make_shared<http::Router>()), rng_(options_.seed) {
  const int64_t now = NowSeconds();
  next_question_id_ = 70'000'000 + static_cast<int64_t>(rng_() % 1'000'000);
  next_answer_id_ = next_question_id_ + 5'000'000;
  // Initial questions, oldest first so that ids grow with creation dates.
  std::vector<int64_t> created;
  for (int i = 0; i < options_.initial_questions; ++i) {
    created.push_back(now - static_cast<int64_t>(rng_() % std::max<int64_t>(1, options_.history.count())));
  }
  std::sort(created.begin(), created.end());
  for (int64_t c : created) {
    Question q = MakeQuestion(next_question_id_, c);
    next_question_id_ += 1 + static_cast<int64_t>(rng_() % 40);
    // Some of them saw later activity (answers, edits) before now.
    if (rng_() % 100 < 40) q.last_activity_date = c + static_cast<int64_t>(rng_() % std::max<int64_t>(1, now - c + 1));
    if (q.last_activity_date > c && rng_() % 2 == 0) q.last_edit_date = q.last_activity_date;
    questions_.emplace(q.id, std::move(q));
  }
  next_event_at_ = now + options_.event_interval.count();

  router_->Get("/2.3/questions", [this](http::Request& r) { return Api(r, false); });
  router_->Get("/2.3/search", [this](http::Request& r) { return Api(r, true); });
  router_->Get("/2.3/{method...}", [this](http::Request&) {
    std::lock_guard lock(mu_);
    ++requests_;
    return Error(404, "no method found with this name");
  });
  router_->Get("/admin/questions", [this](http::Request& r) { return Admin(r); });
  router_->Get("/admin/stats", [this](http::Request& r) { return Admin(r); });
  router_->Post("/admin/activity", [this](http::Request& r) { return Admin(r); });
}

StackExchangeSim::~StackExchangeSim() { Stop(); }

int64_t StackExchangeSim::NowSeconds() const {
  return std::chrono::duration_cast<std::chrono::seconds>(clock_.Now().time_since_epoch()).count();
}

StackExchangeSim::Question StackExchangeSim::MakeQuestion(int64_t id, int64_t created) {
  auto pick = [this](size_t n) { return static_cast<size_t>(rng_() % n); };
  // Tag weights fall as 1/(rank+4): a few tags dominate, as on the real site.
  std::vector<double> weights;
  for (size_t i = 0; i < kTags.size(); ++i) weights.push_back(1.0 / (i + 4.0));
  std::discrete_distribution<size_t> tag_dist(weights.begin(), weights.end());
  // Tags per question: 1:13%, 2:27%, 3:29%, 4:19%, 5:12% (mean 2.9, mode 3).
  std::discrete_distribution<int> count_dist({13, 27, 29, 19, 12});
  Question q;
  q.id = id;
  const int tag_count = count_dist(rng_) + 1;
  while (static_cast<int>(q.tags.size()) < tag_count) {
    std::string t = kTags[tag_dist(rng_)];
    if (std::find(q.tags.begin(), q.tags.end(), t) == q.tags.end()) q.tags.push_back(t);
  }
  std::string title = kTitles[pick(kTitles.size())];
  for (size_t at; (at = title.find('{')) != std::string::npos;) {
    const char which = title[at + 1];
    std::string with = which == 'T'   ? q.tags[0]
                       : which == 'V' ? kVerbs[pick(kVerbs.size())]
                                      : kThings[pick(kThings.size())];
    title.replace(at, 3, with);
  }
  q.title = title;
  q.slug = Slugify(title);

  // Owners: a pool of 500 users; a few are gone (does_not_exist).
  const int64_t user = 1000 + static_cast<int64_t>(pick(500)) * 7919;
  if (pick(100) < 3) {
    q.owner = {{"user_type", "does_not_exist"}, {"display_name", "user" + std::to_string(user)}};
  } else {
    q.owner["account_id"] = user * 3 + 11;
    q.owner["reputation"] = static_cast<int64_t>(std::exp(std::uniform_real_distribution<double>(0, 11)(rng_)));
    q.owner["user_id"] = user;
    q.owner["user_type"] = pick(200) == 0 ? "moderator" : "registered";
    if (pick(2) == 0) q.owner["accept_rate"] = static_cast<int64_t>(pick(101));
    q.owner["profile_image"] = "https://www.gravatar.com/avatar/" + std::to_string(user) + "?s=256&d=identicon&r=PG";
    q.owner["display_name"] = pick(10) == 0 ? "Jo&#227;o " + std::to_string(user) : "dev" + std::to_string(user);
    q.owner["link"] = "https://stackoverflow.com/users/" + std::to_string(user) + "/dev" + std::to_string(user);
  }
  q.score = static_cast<int64_t>(pick(10)) - 2;
  q.view_count = 5 + static_cast<int64_t>(pick(200));
  q.creation_date = q.last_activity_date = created;

  // Body: log-normal size, median about 1.2 KB, capped at 40 KB.
  const double size = std::min(40'000.0, std::exp(std::normal_distribution<double>(std::log(1200.0), 0.9)(rng_)));
  std::string body;
  bool code_done = pick(100) >= 60;
  while (body.size() < size) {
    std::string p = "<p>";
    const size_t words = 12 + pick(30);
    for (size_t i = 0; i < words; ++i) p += std::string(i ? " " : "") + kWords[pick(kWords.size())];
    p += ".</p>\n";
    body += p;
    if (!code_done) {
      body += std::string("\n<pre><code>") + kCode[pick(kCode.size())] + "</code></pre>\n";
      code_done = true;
    }
    if (pick(8) == 0) body += "<ul>\n<li>first <strong>attempt</strong></li>\n<li>second</li>\n</ul>\n";
    if (pick(10) == 0) {
      body += "<p>See <a href=\"https://example.com/docs\" rel=\"nofollow noreferrer\">the docs</a>.</p>\n";
    }
  }
  q.body = body;
  // Rare states, so that clients meet them (spec D edge items).
  if (pick(50) == 0) {
    q.bounty_amount = 50 * (1 + static_cast<int64_t>(pick(10)));
    q.bounty_closes_date = created + 7 * 86400;
  }
  if (pick(80) == 0) q.protected_date = created + 3600;
  if (pick(150) == 0) q.community_owned_date = q.locked_date = created + 7200;
  return q;
}

OrderedJson StackExchangeSim::Render(const Question& q, bool with_body) const {
  // Field order as in real default-filter answers (cosmetic, but familiar).
  OrderedJson j;
  j["tags"] = q.tags;
  j["owner"] = q.owner;
  j["is_answered"] = q.is_answered;
  j["view_count"] = q.view_count;
  if (q.closed_date) j["closed_date"] = *q.closed_date;
  if (q.bounty_amount) {
    j["bounty_amount"] = *q.bounty_amount;
    j["bounty_closes_date"] = *q.bounty_closes_date;
  }
  if (q.protected_date) j["protected_date"] = *q.protected_date;
  if (q.accepted_answer_id) j["accepted_answer_id"] = *q.accepted_answer_id;
  j["answer_count"] = q.answer_count;
  if (q.community_owned_date) j["community_owned_date"] = *q.community_owned_date;
  j["score"] = q.score;
  if (q.locked_date) j["locked_date"] = *q.locked_date;
  j["last_activity_date"] = q.last_activity_date;
  j["creation_date"] = q.creation_date;
  if (q.last_edit_date) j["last_edit_date"] = *q.last_edit_date;
  j["question_id"] = q.id;
  j["content_license"] = q.content_license;
  j["link"] = "https://stackoverflow.com/questions/" + std::to_string(q.id) + "/" + q.slug;
  if (q.closed_date) j["closed_reason"] = q.closed_reason;
  j["title"] = q.title;
  if (with_body) j["body"] = q.body;
  return j;
}

void StackExchangeSim::Evolve() {
  std::lock_guard lock(mu_);
  EvolveLocked(NowSeconds());
}

void StackExchangeSim::EvolveLocked(int64_t now) {
  const int64_t interval = std::max<int64_t>(1, options_.event_interval.count());
  // A clock that jumped far (a paused laptop) does not replay years of events.
  for (int budget = 10'000; next_event_at_ <= now && budget > 0; --budget) {
    (void)ApplyLocked("random", 0, next_event_at_);
    // Gaps between 0 and 2 intervals; a gap of 0 puts two events on the same
    // second, the window-boundary tie pollers must handle.
    next_event_at_ += static_cast<int64_t>(rng_() % (2 * interval + 1));
  }
  if (next_event_at_ <= now) next_event_at_ = now + interval;
}

Result<StackExchangeSim::Question*> StackExchangeSim::ApplyLocked(std::string_view kind, int64_t question_id,
                                                                  int64_t at) {
  std::string k(kind);
  if (k == "random") {
    const int roll = static_cast<int>(rng_() % 100);
    k = roll < 45   ? "new"
        : roll < 62 ? "edit"
        : roll < 82 ? "answer"
        : roll < 91 ? "accept"
        : roll < 97 ? "close"
                    : "delete";
  }
  if (k == "new") {
    Question q = MakeQuestion(next_question_id_, at);
    next_question_id_ += 1 + static_cast<int64_t>(rng_() % 40);
    auto [it, inserted] = questions_.emplace(q.id, std::move(q));
    return &it->second;
  }
  if (k != "edit" && k != "answer" && k != "accept" && k != "close" && k != "delete") {
    return Status::InvalidArgument("unknown activity kind '" + k + "'");
  }
  Question* target = nullptr;
  if (question_id != 0) {
    auto it = questions_.find(question_id);
    if (it == questions_.end() || it->second.deleted)
      return Status::NotFound("no live question " + std::to_string(question_id));
    target = &it->second;
  } else {
    std::vector<Question*> candidates;
    for (auto& [id, q] : questions_) {
      if (q.deleted) continue;
      if (k == "accept" && (q.answer_count == 0 || q.accepted_answer_id)) continue;
      if (k == "close" && q.closed_date) continue;
      candidates.push_back(&q);
    }
    if (candidates.empty()) return Status::NotFound("no question fits '" + k + "'");
    target = candidates[rng_() % candidates.size()];
  }
  Question& q = *target;
  q.view_count += 1 + static_cast<int64_t>(rng_() % 20);
  if (k == "edit") {
    q.body += "<p><strong>Edit:</strong> I also tried restarting, same result.</p>\n";
    if (rng_() % 3 == 0) {
      q.title += " (edited)";
      q.slug = Slugify(q.title);
    }
    q.last_edit_date = at;
  } else if (k == "answer") {
    ++q.answer_count;
    if (rng_() % 2 == 0) q.is_answered = true;  // an upvoted answer
    if (rng_() % 3 == 0) ++q.score;
  } else if (k == "accept") {
    if (q.answer_count == 0) q.answer_count = 1;
    q.accepted_answer_id = next_answer_id_++;
    q.is_answered = true;
  } else if (k == "close") {
    q.closed_date = at;
    q.closed_reason = kCloseReasons[rng_() % kCloseReasons.size()];
  } else if (k == "delete") {
    q.deleted = true;
    return target;
  }
  q.last_activity_date = std::max(q.last_activity_date, at);
  return target;
}

Result<Json> StackExchangeSim::Inject(std::string_view kind, int64_t question_id) {
  std::lock_guard lock(mu_);
  const int64_t now = NowSeconds();
  EvolveLocked(now);
  WISP_ASSIGN_OR_RETURN(Question * q, ApplyLocked(kind, question_id, now));
  Json out = Json::parse(Render(*q, true).dump());
  if (q->deleted) out["deleted"] = true;
  return out;
}

std::vector<Json> StackExchangeSim::Truth() {
  std::lock_guard lock(mu_);
  EvolveLocked(NowSeconds());
  std::vector<const Question*> live;
  for (const auto& [id, q] : questions_) {
    if (!q.deleted) live.push_back(&q);
  }
  std::sort(live.begin(), live.end(), [](const Question* a, const Question* b) {
    return a->last_activity_date != b->last_activity_date ? a->last_activity_date > b->last_activity_date
                                                          : a->id > b->id;
  });
  std::vector<Json> out;
  for (const Question* q : live) out.push_back(Json::parse(Render(*q, true).dump()));
  return out;
}

int64_t StackExchangeSim::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

http::Response StackExchangeSim::Answer(const OrderedJson& body, bool truncate_gzip) {
  std::string gz = Gzip(body.dump());
  if (truncate_gzip) gz.resize(gz.size() / 2);
  http::Response r;
  r.status = 200;
  r.headers.Set("Content-Type", "application/json; charset=utf-8");
  r.headers.Set("Content-Encoding", "gzip");
  r.body = std::move(gz);
  return r;
}

http::Response StackExchangeSim::Error(int error_id, std::string_view message) {
  OrderedJson body;
  body["error_id"] = error_id;
  body["error_message"] = message;
  body["error_name"] = ErrorName(error_id);
  http::Response r = Answer(body);
  r.status = 400;  // every method error, whatever its id (spec A5)
  return r;
}

http::Response StackExchangeSim::Api(http::Request& request, bool search) {
  std::unique_lock lock(mu_);
  const int64_t n = ++requests_;
  const int64_t now = NowSeconds();
  EvolveLocked(now);
  const http::QueryParams& q = request.query;
  const std::string method = search ? "search" : "questions";
  const std::string key = q.GetOr("key", "");
  const int64_t quota_max = key.empty() ? options_.quota_anonymous : options_.quota_with_key;
  int64_t& used = quota_used_[key];

  std::optional<Fault> fault = options_.faults.Find(n);
  std::string kind = fault ? fault->kind : "";
  const int64_t fault_seconds = fault ? json::GetInt(fault->params, "seconds", 10) : 0;
  if (kind == "slow") {
    const auto delay = std::chrono::milliseconds(json::GetInt(fault->params, "ms", 2000));
    lock.unlock();  // other clients are not held up by this one's slow answer
    std::this_thread::sleep_for(delay);
    lock.lock();
  } else if (kind == "http") {
    const int status = static_cast<int>(json::GetInt(fault->params, "status", 503));
    http::Response r = http::Response::Text(status, HtmlErrorPage(status), "text/html; charset=utf-8");
    if (status == 429) r.headers.Set("Retry-After", std::to_string(fault_seconds));
    return r;
  } else if (kind == "throttle") {
    return Error(502, "too many requests from this IP, more requests available in " + std::to_string(fault_seconds) +
                          " seconds");
  } else if (kind == "error") {
    const int id = static_cast<int>(json::GetInt(fault->params, "error_id", 500));
    return Error(id, json::GetString(fault->params, "message", ErrorName(id)));
  } else if (kind == "quota_exhausted") {
    used = quota_max;
  }

  // Parameter validation, in roughly the real API's order.
  const std::string site = q.GetOr("site", "");
  if (site.empty()) return Error(400, "site is required");
  if (site != options_.site) return Error(400, "No site found for name `" + site + "`");
  if (q.Has("access_token") && key.empty()) return Error(405, "`key` is required when `access_token` is passed.");
  bool bad = false;
  const int64_t page = IntParam(q, "page", &bad).value_or(1);
  const int64_t pagesize = IntParam(q, "pagesize", &bad).value_or(30);
  const auto fromdate = IntParam(q, "fromdate", &bad), todate = IntParam(q, "todate", &bad);
  const auto min = IntParam(q, "min", &bad), max = IntParam(q, "max", &bad);
  if (bad) return Error(400, "a numeric parameter was not a number");
  if (pagesize < 0 || pagesize > 100) return Error(400, "pagesize");
  if (page < 1) return Error(400, "page");
  const std::string sort = q.GetOr("sort", "activity"), order = q.GetOr("order", "desc");
  if (sort != "activity" && sort != "creation" && sort != "votes") return Error(400, "`sort` was invalid");
  if (order != "desc" && order != "asc") return Error(400, "`order` was invalid");
  const std::string filter = q.GetOr("filter", "default");
  if (filter != "default" && filter != "withbody" && filter != "none" && filter != "total") {
    return Error(400, "filter `" + filter + "` is not a valid filter");
  }
  const std::vector<std::string> tags = SplitTags(q.GetOr("tagged", ""));
  const std::string intitle = q.GetOr("intitle", "");
  if (search && tags.empty() && intitle.empty()) return Error(400, "one of tagged or intitle must be set");
  if (page > 25 && key.empty() && !q.Has("access_token")) {
    return Error(403, "page above 25 requires access token or app key");
  }
  if (used >= quota_max) {
    const int64_t to_midnight = 86400 - now % 86400;
    return Error(
        502, "too many requests from this IP, more requests available in " + std::to_string(to_midnight) + " seconds");
  }
  auto until = backoff_until_.find(method);
  if (until != backoff_until_.end() && clock_.SteadyNow() < until->second) {
    return Error(502, "Violation of backoff parameter");
  }
  ++used;

  std::vector<const Question*> hits;
  for (const auto& [id, question] : questions_) {
    if (question.deleted) continue;
    auto has = [&](const std::string& t) {
      return std::find(question.tags.begin(), question.tags.end(), t) != question.tags.end();
    };
    // /questions: every tag (AND); /search: at least one (OR).
    if (!tags.empty() &&
        (search ? std::none_of(tags.begin(), tags.end(), has) : !std::all_of(tags.begin(), tags.end(), has))) {
      continue;
    }
    if (!intitle.empty()) {
      std::string t = DecodeHtmlEntities(question.title), needle = intitle;
      for (auto& c : t) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      for (auto& c : needle) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
      if (t.find(needle) == std::string::npos) continue;
    }
    if (fromdate && question.creation_date < *fromdate) continue;
    if (todate && question.creation_date > *todate) continue;
    const int64_t field = sort == "activity"   ? question.last_activity_date
                          : sort == "creation" ? question.creation_date
                                               : question.score;
    if (min && field < *min) continue;
    if (max && field > *max) continue;
    hits.push_back(&question);
  }
  auto field_of = [&](const Question* x) {
    return sort == "activity" ? x->last_activity_date : sort == "creation" ? x->creation_date : x->score;
  };
  std::sort(hits.begin(), hits.end(), [&](const Question* a, const Question* b) {
    const int64_t fa = field_of(a), fb = field_of(b);
    if (fa != fb) return order == "desc" ? fa > fb : fa < fb;
    return order == "desc" ? a->id > b->id : a->id < b->id;
  });

  OrderedJson body;
  body["items"] = OrderedJson::array();
  const size_t first = static_cast<size_t>((page - 1) * pagesize);
  if (filter == "total") {
    body["total"] = hits.size();
  } else {
    for (size_t i = first; i < hits.size() && i < first + static_cast<size_t>(pagesize); ++i) {
      body["items"].push_back(filter == "none" ? OrderedJson::object() : Render(*hits[i], filter == "withbody"));
    }
  }
  body["has_more"] = filter != "total" && hits.size() > first + static_cast<size_t>(pagesize);
  if (kind == "backoff") {
    body["backoff"] = fault_seconds;
    backoff_until_[method] = clock_.SteadyNow() + std::chrono::seconds(fault_seconds);
  }
  body["quota_max"] = quota_max;
  body["quota_remaining"] = quota_max - used;
  return Answer(body, kind == "truncated_gzip");
}

http::Response StackExchangeSim::Admin(http::Request& request) {
  if (request.route == "/admin/questions") {
    Json items = Json::array();
    for (Json& q : Truth()) items.push_back(std::move(q));
    return http::Response::Json(200, json::Dump(Json{{"items", items}}));
  }
  if (request.route == "/admin/stats") {
    std::lock_guard lock(mu_);
    Json used = Json::object();
    for (const auto& [key, n] : quota_used_) used[key.empty() ? "(anonymous)" : key] = n;
    return http::Response::Json(200, json::Dump(Json{{"requests", requests_}, {"quota_used", used}}));
  }
  // POST /admin/activity {"kind": "...", "question_id": N, "count": N}
  auto body = json::ParseObject(request.body.empty() ? "{}" : request.body);
  if (!body.ok()) return http::Response::Json(400, json::Dump(Json{{"error", body.status().message()}}));
  const std::string kind = json::GetString(*body, "kind", "random");
  const int64_t count = std::clamp<int64_t>(json::GetInt(*body, "count", 1), 1, 10'000);
  Json items = Json::array();
  for (int64_t i = 0; i < count; ++i) {
    auto q = Inject(kind, json::GetInt(*body, "question_id", 0));
    if (!q.ok()) {
      const int status = q.status().code() == StatusCode::kNotFound ? 404 : 400;
      return http::Response::Json(status, json::Dump(Json{{"error", q.status().message()}, {"items", items}}));
    }
    items.push_back(*q);
  }
  return http::Response::Json(200, json::Dump(Json{{"ok", true}, {"items", items}}));
}

Status StackExchangeSim::Start() {
  http::ServerOptions server_options;
  server_options.io_threads = 1;
  server_options.worker_threads = 4;
  server_ = std::make_unique<http::Server>(server_options);
  http::ListenerOptions listener;
  listener.name = "stackexchange-sim";
  listener.bind = options_.bind;
  listener.port = options_.port;
  listener.router = router_;
  listener_ = server_->AddListener(std::move(listener));
  return server_->Start();
}

void StackExchangeSim::Stop() {
  if (server_) server_->Stop(std::chrono::milliseconds(1000));
}

uint16_t StackExchangeSim::port() const { return server_ ? server_->port(listener_) : 0; }

std::string StackExchangeSim::base_url() const {
  return "http://" + options_.bind + ":" + std::to_string(port()) + "/2.3";
}

}  // namespace wisp::stackoverflow
