#include "store/slack_login.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
#include <cstdlib>

#include "json/json.h"
#include "store/database.h"
#include "store/users.h"
#include "util/ids.h"
#include "util/text.h"

namespace wisp::store {
namespace {

constexpr std::string_view kSignaturePrefix = "v0=";
// How long an expired or used link is remembered, so that its second use says
// "expired" or "used" rather than "not valid".
constexpr std::chrono::hours kRememberSpentLinks{1};

bool ConstantTimeEquals(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HmacSha256Hex(std::string_view key, std::string_view message) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(message.data()),
       message.size(), md, &len);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), len));
}

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  return HexLower(std::string_view(reinterpret_cast<const char*>(md), len));
}

}  // namespace

Status VerifySlackSignature(std::string_view signing_secret, std::string_view timestamp, std::string_view signature,
                            std::string_view body, int64_t now_seconds) {
  if (timestamp.empty() || signature.empty()) {
    return Status::Unauthenticated("The request is not signed (X-Slack-Request-Timestamp, X-Slack-Signature).");
  }
  if (timestamp.size() > 18 ||
      !std::all_of(timestamp.begin(), timestamp.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    return Status::Unauthenticated("X-Slack-Request-Timestamp is not a number of seconds.");
  }
  const int64_t sent = std::strtoll(std::string(timestamp).c_str(), nullptr, 10);
  if (std::llabs(now_seconds - sent) > kSlackRequestWindow.count()) {
    return Status::Unauthenticated("The request's timestamp is more than 5 minutes from now.");
  }
  const std::string expected = std::string(kSignaturePrefix) +
                               HmacSha256Hex(signing_secret, "v0:" + std::string(timestamp) + ":" + std::string(body));
  if (!ConstantTimeEquals(signature, expected)) return Status::Unauthenticated("The request's signature is wrong.");
  return Status::Ok();
}

SlackLogin::SlackLogin(Store& store, SlackLoginOptions options) : store_(store), options_(std::move(options)) {}

Status SlackLogin::Verify(std::string_view timestamp, std::string_view signature, std::string_view body) {
  if (!configured()) return Status::PreconditionFailed("Slack sign-in is not configured.");
  const Clock& c = clock();
  if (Status s = VerifySlackSignature(options_.signing_secret, timestamp, signature, body, c.NowMillis() / 1000);
      !s.ok()) {
    return s;
  }
  const Clock::SteadyTime now = c.SteadyNow();
  std::lock_guard lock(mu_);
  PurgeLocked(now);
  // Twice the window: a timestamp may be up to the window in the future.
  auto [it, fresh] = signatures_.emplace(std::string(signature), now + 2 * kSlackRequestWindow);
  if (!fresh) return Status::Unauthenticated("This request was already received (a replay).");
  return Status::Ok();
}

Result<std::string> SlackLogin::UserFor(std::string_view team_id, std::string_view user_id) const {
  if (!options_.team_ids.empty() &&
      std::find(options_.team_ids.begin(), options_.team_ids.end(), team_id) == options_.team_ids.end()) {
    return Status::PermissionDenied("This Slack workspace may not sign in to this dashboard.");
  }
  if (user_id.empty()) return Status::NotFound("The command did not say which Slack user sent it.");
  Result<std::shared_ptr<Database>> users = store_.GetDatabase(std::string(kUsersDb));
  if (!users.ok()) return users.status();
  AllDocsOptions all;
  all.startkey = std::string(kUserDocPrefix);
  all.endkey = std::string(kUserDocPrefix) + "\xef\xbf\xb0";  // U+FFF0: past every user name
  all.include_docs = true;
  const Json page = (*users)->AllDocs(all);
  std::vector<std::string> names;
  for (const Json& row : page.value("rows", Json::array())) {
    const Json& doc = row.contains("doc") ? row["doc"] : Json();
    if (doc.is_object() && json::GetString(doc, "slack_user_id") == user_id) {
      names.push_back(json::GetString(doc, "name"));
    }
  }
  if (names.empty()) {
    return Status::NotFound("No dashboard user is linked to Slack user " + std::string(user_id) +
                            ". Ask an admin to run: wisp user slack NAME --slack-id " + std::string(user_id));
  }
  if (names.size() > 1) {
    return Status::PreconditionFailed("Slack user " + std::string(user_id) +
                                      " is linked to more than one dashboard user; ask an admin to fix it.");
  }
  return names.front();
}

std::string SlackLogin::IssueLink(const std::string& name) {
  const std::string token = RandomSecret(32);  // about 190 random bits
  const Clock::SteadyTime now = clock().SteadyNow();
  std::lock_guard lock(mu_);
  PurgeLocked(now);
  links_[Sha256Hex(token)] = Link{name, now + options_.link_lifetime, false};
  return token;
}

Result<std::string> SlackLogin::Redeem(std::string_view token) {
  const Clock::SteadyTime now = clock().SteadyNow();
  const std::string key = Sha256Hex(token);
  std::lock_guard lock(mu_);
  auto it = links_.find(key);
  if (token.empty() || it == links_.end()) {
    return Status::NotFound("This sign-in link is not valid. Run the Slack command again for a new one.");
  }
  Link& link = it->second;
  if (link.used) {
    return Status::PreconditionFailed("This sign-in link was already used. Run the Slack command again for a new one.");
  }
  if (now >= link.expires) {
    return Status::DeadlineExceeded("This sign-in link has expired. Run the Slack command again for a new one.");
  }
  link.used = true;
  return link.name;
}

void SlackLogin::PurgeLocked(Clock::SteadyTime now) {
  std::erase_if(links_, [now](const auto& entry) { return now >= entry.second.expires + kRememberSpentLinks; });
  std::erase_if(signatures_, [now](const auto& entry) { return now >= entry.second; });
}

}  // namespace wisp::store
