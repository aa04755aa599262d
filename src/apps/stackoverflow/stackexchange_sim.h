// StackExchangeSim: a local stand-in for api.stackexchange.com/2.3, for
// tests, `wisp sim stackexchange` and the demo.
//
// It holds a deterministic world of questions, generated from a seed with the
// real field set and shapes (docs/simulators.md, spec A8, A9, D), and evolves
// it as the Clock moves: one random event (a new question, an edit, an
// answer, an acceptance, a closure or a deletion) per `event_interval` on
// average. It serves /2.3/questions (tags ANDed) and /2.3/search (tags ORed)
// with the real wrapper, paging, quota, per-method `backoff`, error ids with
// HTTP 400, and gzip on every answer. A FaultScript makes chosen requests
// misbehave. Admin endpoints under /admin/ inspect and drive the world.
//
// Thread-safety: every public method may be called from any thread; the
// server's handlers and the C++ accessors share one mutex.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "apps/stackoverflow/fault_script.h"
#include "http/router.h"
#include "http/server.h"
#include "json/json.h"
#include "util/clock.h"
#include "util/result.h"

namespace wisp::stackoverflow {

struct StackExchangeSimOptions {
  uint64_t seed = 1;
  int initial_questions = 300;
  std::chrono::seconds history{7 * 24 * 3600};  // the initial questions were asked within this
  std::chrono::seconds event_interval{30};      // mean clock time between world events
  std::string site = "stackoverflow";
  int64_t quota_anonymous = 300;  // per day, without `key`
  int64_t quota_with_key = 10'000;
  FaultScript faults;
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
};

class StackExchangeSim {
 public:
  StackExchangeSim(Clock& clock, StackExchangeSimOptions options);
  ~StackExchangeSim();
  StackExchangeSim(const StackExchangeSim&) = delete;
  StackExchangeSim& operator=(const StackExchangeSim&) = delete;

  Status Start();
  void Stop();
  uint16_t port() const;
  // "http://127.0.0.1:PORT/2.3", the client's base URL.
  std::string base_url() const;
  // The routes, for embedding the simulator in another server.
  std::shared_ptr<http::Router> router() const { return router_; }

  // Applies the world events that are due by the clock's time.
  void Evolve();
  // Applies one event now: "new", "edit", "answer", "accept", "close",
  // "delete" or "random". `question_id` 0 picks a suitable question.
  // Returns the question afterwards (withbody), or NotFound / InvalidArgument.
  Result<Json> Inject(std::string_view kind, int64_t question_id = 0);
  // Every live (undeleted) question, as /questions?filter=withbody would
  // show it, newest activity first: the ground truth for tests.
  std::vector<Json> Truth();
  // API requests answered so far (admin requests excluded).
  int64_t requests() const;

 private:
  struct Question;
  http::Response Api(http::Request& request, bool search);
  http::Response Admin(http::Request& request);
  http::Response Answer(const OrderedJson& body, bool truncate_gzip = false);
  http::Response Error(int error_id, std::string_view message);
  void EvolveLocked(int64_t now);
  Result<Question*> ApplyLocked(std::string_view kind, int64_t question_id, int64_t at);
  Question MakeQuestion(int64_t id, int64_t created);
  OrderedJson Render(const Question& q, bool with_body) const;
  int64_t NowSeconds() const;

  Clock& clock_;
  StackExchangeSimOptions options_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;
  size_t listener_ = 0;

  mutable std::mutex mu_;
  std::mt19937_64 rng_;                                     // GUARDED_BY(mu_)
  std::map<int64_t, Question> questions_;                   // GUARDED_BY(mu_), deleted ones included
  int64_t next_question_id_ = 0;                            // GUARDED_BY(mu_)
  int64_t next_answer_id_ = 0;                              // GUARDED_BY(mu_)
  int64_t next_event_at_ = 0;                               // GUARDED_BY(mu_), Unix seconds
  int64_t requests_ = 0;                                    // GUARDED_BY(mu_)
  std::map<std::string, int64_t> quota_used_;               // GUARDED_BY(mu_), by key ("" anonymous)
  std::map<std::string, Clock::SteadyTime> backoff_until_;  // GUARDED_BY(mu_), by method
};

}  // namespace wisp::stackoverflow
