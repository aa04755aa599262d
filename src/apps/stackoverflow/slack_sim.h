// SlackSim: a local stand-in for Slack incoming webhooks (spec B), for tests,
// `wisp sim slack` and the demo.
//
// Any POST under /services/... is a webhook; POST /bot/... is a bot webhook
// (no Slack validation, it just records). A webhook validates the payload as
// Slack does (JSON or form `payload=`; 400 invalid_payload, 400 no_text), can
// be put into a dead state over the admin API (404 no_service, 410
// channel_is_archived, 403 action_prohibited), and answers 200 `ok`. A
// FaultScript makes chosen requests answer 429 with Retry-After, 5xx, 404 or
// slowly. Accepted messages are kept for inspection, in C++ and over
// GET /admin/messages.
//
// Thread-safety: every public method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "apps/stackoverflow/fault_script.h"
#include "http/router.h"
#include "http/server.h"
#include "json/json.h"
#include "util/clock.h"

namespace wisp::stackoverflow {

struct SlackSimOptions {
  FaultScript faults;
  std::string bind = "127.0.0.1";
  uint16_t port = 0;
};

struct SlackMessage {
  std::string path;  // "/services/T000/B000/XXXX" or "/bot/..."
  Json payload;
  int64_t received_ms = 0;
};

class SlackSim {
 public:
  SlackSim(Clock& clock, SlackSimOptions options);
  ~SlackSim();
  SlackSim(const SlackSim&) = delete;
  SlackSim& operator=(const SlackSim&) = delete;

  Status Start();
  void Stop();
  uint16_t port() const;
  // "http://127.0.0.1:PORT/services/T0001/B0001/sim": a webhook URL to use.
  std::string webhook_url() const;
  std::string bot_url() const;
  std::shared_ptr<http::Router> router() const { return router_; }

  // Puts the webhook at `path` into `state`: active, deleted (404 no_service),
  // archived (410 channel_is_archived) or restricted (403 action_prohibited).
  Status SetHookState(const std::string& path, const std::string& state);
  std::vector<SlackMessage> Messages() const;
  // Webhook requests seen so far, accepted or not (admin requests excluded).
  int64_t requests() const;

 private:
  http::Response Hook(http::Request& request);
  http::Response Admin(http::Request& request);

  Clock& clock_;
  SlackSimOptions options_;
  std::shared_ptr<http::Router> router_;
  std::unique_ptr<http::Server> server_;

  mutable std::mutex mu_;
  int64_t requests_ = 0;                           // GUARDED_BY(mu_)
  std::vector<SlackMessage> messages_;             // GUARDED_BY(mu_)
  std::map<std::string, std::string> hook_state_;  // GUARDED_BY(mu_), absent: active
};

}  // namespace wisp::stackoverflow
