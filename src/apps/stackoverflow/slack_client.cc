#include "apps/stackoverflow/slack_client.h"

#include <algorithm>
#include <cstdlib>
#include <thread>

#include "apps/stackoverflow/codec.h"

namespace wisp::stackoverflow {

SlackClient::SlackClient(http::Client& http, SlackOptions options, Sleep sleep)
    : http_(http), options_(options), sleep_(std::move(sleep)) {
  if (!sleep_) sleep_ = [](std::chrono::milliseconds d) { std::this_thread::sleep_for(d); };
}

namespace {

std::chrono::milliseconds RetryAfter(const http::ClientResponse& r, std::chrono::seconds fallback) {
  const std::string v = r.headers.GetOr("Retry-After");
  char* end = nullptr;
  const long long s = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || s < 0 || s > 3600) return fallback;
  return std::chrono::seconds(s);
}

std::string Trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
  return s;
}

}  // namespace

Status SlackClient::Post(const std::string& webhook_url, const Json& payload) {
  auto backoff = options_.first_backoff;
  Status last = Status::Unavailable("no attempt made");
  for (int attempt = 1; attempt <= options_.max_attempts; ++attempt) {
    http::ClientRequest request;
    request.method = "POST";
    request.url = webhook_url;
    request.timeout = options_.timeout;
    request.headers.Set("Content-Type", "application/json; charset=utf-8");
    request.body = json::Dump(payload);
    auto reply = http_.Send(request);
    const bool last_attempt = attempt == options_.max_attempts;
    if (!reply.ok()) {
      last = Status::Unavailable("slack webhook: " + reply.status().message());
      if (!last_attempt) sleep_(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    const std::string body = Trim(reply->body);
    const std::string what = "slack webhook: HTTP " + std::to_string(reply->status) + " " + body;
    if (reply->status >= 200 && reply->status < 300) {
      if (body == "ok") return Status::Ok();
      return Status::Internal(what + " (a 2xx without `ok` is not a delivery)");
    }
    if (reply->status == 429) {
      last = Status::ResourceExhausted(what);
      if (!last_attempt) sleep_(RetryAfter(*reply, options_.default_retry_after));
      continue;
    }
    if (reply->status >= 500) {
      last = Status::Unavailable(what);
      if (!last_attempt) sleep_(backoff);
      backoff = std::min(backoff * 2, options_.max_backoff);
      continue;
    }
    // Permanent: retrying cannot help, and Slack may disable a hook that keeps trying.
    switch (reply->status) {
      case 403: return Status::PermissionDenied(what);
      case 404: return Status::NotFound(what);
      case 410: return Status::PreconditionFailed(what);
      default: return Status::InvalidArgument(what);
    }
  }
  return last;
}

Status SlackClient::PostBot(const std::string& bot_url, const Json& question) {
  return Post(bot_url, Json{{"type", "new-question"}, {"data", question}});
}

Json NewQuestionMessage(const Json& question) {
  const std::string title = DecodeHtmlEntities(json::GetString(question, "title"));
  std::string text = "New question: " + SlackLink(json::GetString(question, "link"), title);
  if (question.contains("tags") && question["tags"].is_array() && !question["tags"].empty()) {
    text += "\nTags:";
    for (const Json& t : question["tags"]) {
      if (t.is_string()) text += " `" + SlackEscape(DecodeHtmlEntities(t.get<std::string>())) + "`";
    }
  }
  if (question.contains("owner") && question["owner"].is_object()) {
    const std::string who = json::GetString(question["owner"], "display_name");
    if (!who.empty()) text += "\nAsked by " + SlackEscape(DecodeHtmlEntities(who));
  }
  return Json{{"text", text}};
}

}  // namespace wisp::stackoverflow
