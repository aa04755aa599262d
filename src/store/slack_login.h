// SlackLogin: signing in to the store through a Slack slash command
// (issue F; spec stackexchange-slack.md §C; docs/dashboard.md).
//
// Slack POSTs the command signed with the app's signing secret. Verify()
// checks that signature (`v0=` HMAC-SHA256 of `v0:TIMESTAMP:BODY`), refuses
// timestamps more than five minutes away from now, and refuses a signature
// it has already accepted (a captured request replayed within the window
// would otherwise mint a link for whoever replays it). UserFor() maps the
// Slack user to a store user: the `_users` document whose `slack_user_id`
// is the Slack `user_id`. IssueLink() mints a one-time token, valid for
// five minutes (by default), that Redeem() turns into the user's name exactly once; the
// caller then hands out an ordinary AuthSession (CouchAuth::NewSession), the
// same session a password login gives. Only a SHA-256 of each token is
// kept, so a leaked table holds no usable link.
//
// Thread-safety: every method may be called from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "store/store.h"
#include "util/clock.h"
#include "util/result.h"
#include "util/status.h"

namespace wisp::store {

inline constexpr std::chrono::seconds kSlackRequestWindow{300};  // Slack's replay window
inline constexpr std::chrono::seconds kSlackLinkLifetime{300};   // a sign-in link's default life

// Checks a Slack request signature. `timestamp` and `signature` are the
// X-Slack-Request-Timestamp and X-Slack-Signature headers, `body` the raw
// bytes as received. Unauthenticated, with a reason, when a header is
// missing or malformed, the timestamp is more than kSlackRequestWindow from
// `now_seconds` either way, or the signature does not match.
Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp, std::string_view signature,
                            std::string_view body, int64_t now_seconds);

struct SlackLoginOptions {
  std::string signing_secret;         // empty: Slack sign-in is not configured
  std::vector<std::string> team_ids;  // when not empty, the only workspaces admitted
  const Clock* clock = nullptr;       // null: the system clock
  std::chrono::seconds link_lifetime = kSlackLinkLifetime;
};

class SlackLogin {
 public:
  SlackLogin(Store& store, SlackLoginOptions options);

  bool configured() const { return !options_.signing_secret.empty(); }

  // VerifySlackSignature() against the configured secret and the clock,
  // plus the replay check. PreconditionFailed when not configured.
  Status Verify(std::string_view timestamp, std::string_view signature, std::string_view body);

  // The store user linked to Slack user `user_id` of workspace `team_id`.
  // PermissionDenied for a workspace not admitted, NotFound when no user
  // is linked, PreconditionFailed when more than one is.
  Result<std::string> UserFor(std::string_view team_id, std::string_view user_id) const;

  // A new one-time token for `name`, valid options.link_lifetime.
  std::string IssueLink(const std::string& name);

  // The name a token was issued to; the token is spent. NotFound for a token
  // never issued (or long gone), DeadlineExceeded for an expired one,
  // PreconditionFailed for one already used.
  Result<std::string> Redeem(std::string_view token);

 private:
  struct Link {
    std::string name;
    Clock::SteadyTime expires;
    bool used = false;
  };
  const Clock& clock() const { return options_.clock ? *options_.clock : Clock::System(); }
  // Drops links and remembered signatures long past their use.
  void PurgeLocked(Clock::SteadyTime now);

  Store& store_;
  const SlackLoginOptions options_;

  std::mutex mu_;
  std::unordered_map<std::string, Link> links_;                    // GUARDED_BY(mu_), by SHA-256 of the token
  std::unordered_map<std::string, Clock::SteadyTime> signatures_;  // GUARDED_BY(mu_), accepted -> forget after
};

}  // namespace wisp::store
