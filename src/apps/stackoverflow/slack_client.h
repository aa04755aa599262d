// SlackClient: posts to Slack incoming webhooks (spec B) and to the optional
// bot webhook.
//
// Success is HTTP 2xx with the body `ok`, nothing else. A 429 is retried after
// its Retry-After (30 s when absent or garbled); 5xx and transport failures
// are retried with doubling delays; every other answer is permanent and comes
// back as an error naming Slack's code: 404 no_service (NotFound), 410
// channel_is_archived (PreconditionFailed), 403 (PermissionDenied), 400
// invalid_payload/no_text (InvalidArgument). Waiting goes through `sleep`, so
// tests drive it with a FakeClock.
//
// Thread-safety: Post() may be called from several threads.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "http/client.h"
#include "json/json.h"
#include "util/status.h"

namespace wisp::stackoverflow {

struct SlackOptions {
  int max_attempts = 5;
  std::chrono::seconds default_retry_after{30};
  std::chrono::milliseconds first_backoff{1000};  // after a 5xx; doubled up to max_backoff
  std::chrono::milliseconds max_backoff{60'000};
  std::chrono::milliseconds timeout{10'000};
};

class SlackClient {
 public:
  using Sleep = std::function<void(std::chrono::milliseconds)>;
  SlackClient(http::Client& http, SlackOptions options = {}, Sleep sleep = {});

  // POSTs `payload` (a JSON object with `text` and/or `blocks`) to `webhook_url`.
  Status Post(const std::string& webhook_url, const Json& payload);
  // POSTs {"type": "new-question", "data": question} to a bot webhook.
  Status PostBot(const std::string& bot_url, const Json& question);

 private:
  http::Client& http_;
  SlackOptions options_;
  Sleep sleep_;
};

// The message for a new question: its title (entities decoded, then escaped
// for mrkdwn) linked to the question, its tags and who asked.
Json NewQuestionMessage(const Json& question);

}  // namespace wisp::stackoverflow
