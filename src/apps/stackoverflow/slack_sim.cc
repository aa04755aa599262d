#include "apps/stackoverflow/slack_sim.h"

#include <thread>

#include "http/url.h"

namespace wisp::stackoverflow {

namespace {

http::Response SlackText(int status, std::string text) {
  // Slack answers webhooks in plain text (observed as text/html).
  return http::Response::Text(status, std::move(text), "text/html");
}

}  // namespace

SlackSim::SlackSim(Clock& clock, SlackSimOptions options)
    : clock_(clock), options_(std::move(options)), router_(std::make_shared<http::Router>()) {
  router_->Post("/services/{hook...}", [this](http::Request& r) { return Hook(r); });
  router_->Post("/bot/{hook...}", [this](http::Request& r) { return Hook(r); });
  router_->Get("/admin/messages", [this](http::Request& r) { return Admin(r); });
  router_->Post("/admin/hooks", [this](http::Request& r) { return Admin(r); });
}

SlackSim::~SlackSim() { Stop(); }

http::Response SlackSim::Hook(http::Request& request) {
  std::unique_lock lock(mu_);
  const int64_t n = ++requests_;
  if (auto fault = options_.faults.Find(n)) {
    if (fault->kind == "slow") {
      lock.unlock();
      std::this_thread::sleep_for(std::chrono::milliseconds(json::GetInt(fault->params, "ms", 2000)));
      lock.lock();
    } else if (fault->kind == "http") {
      const int status = static_cast<int>(json::GetInt(fault->params, "status", 500));
      std::string fallback = status == 429   ? "rate_limited"
                             : status == 404 ? "no_service"
                             : status == 410 ? "channel_is_archived"
                             : status == 403 ? "action_prohibited"
                             : status >= 500 ? "rollup_error"
                                             : "invalid_payload";
      http::Response r = SlackText(status, json::GetString(fault->params, "body", fallback));
      if (status == 429) r.headers.Set("Retry-After", std::to_string(json::GetInt(fault->params, "retry_after", 1)));
      return r;
    } else {
      return SlackText(500, "unknown fault '" + fault->kind + "' in the fault script");
    }
  }
  const bool bot = request.path.rfind("/bot/", 0) == 0;
  auto state = hook_state_.find(request.path);
  if (!bot && state != hook_state_.end()) {
    if (state->second == "deleted") return SlackText(404, "no_service");
    if (state->second == "archived") return SlackText(410, "channel_is_archived");
    if (state->second == "restricted") return SlackText(403, "action_prohibited");
  }
  // JSON body, or the legacy form field payload=<json>.
  std::string text = request.body;
  const std::string type = request.headers.GetOr("Content-Type");
  if (type.rfind("application/x-www-form-urlencoded", 0) == 0) {
    auto form = http::ParseQuery(request.body);
    if (!form.ok() || !form->Has("payload")) return SlackText(400, "invalid_payload");
    text = form->GetOr("payload", "");
  }
  auto payload = json::ParseObject(text);
  if (!payload.ok()) return SlackText(400, "invalid_payload");
  if (!bot) {
    const bool has_text =
        payload->contains("text") && (*payload)["text"].is_string() && !(*payload)["text"].get<std::string>().empty();
    const bool has_blocks =
        payload->contains("blocks") && (*payload)["blocks"].is_array() && !(*payload)["blocks"].empty();
    const bool has_attachments =
        payload->contains("attachments") && (*payload)["attachments"].is_array() && !(*payload)["attachments"].empty();
    if (!has_text && !has_blocks && !has_attachments) return SlackText(400, "no_text");
    if (payload->contains("text") && !(*payload)["text"].is_string()) return SlackText(400, "invalid_payload");
  }
  messages_.push_back({request.path, std::move(*payload), clock_.NowMillis()});
  return SlackText(200, "ok");
}

http::Response SlackSim::Admin(http::Request& request) {
  if (request.method == http::Method::kGet) {
    Json list = Json::array();
    for (const SlackMessage& m : Messages()) {
      list.push_back(Json{{"path", m.path}, {"payload", m.payload}, {"received_ms", m.received_ms}});
    }
    return http::Response::Json(200, json::Dump(Json{{"messages", list}}));
  }
  auto body = json::ParseObject(request.body);
  if (!body.ok()) return http::Response::Json(400, json::Dump(Json{{"error", body.status().message()}}));
  Status s = SetHookState(json::GetString(*body, "path"), json::GetString(*body, "state"));
  if (!s.ok()) return http::Response::Json(400, json::Dump(Json{{"error", s.message()}}));
  return http::Response::Json(200, R"({"ok":true})");
}

Status SlackSim::SetHookState(const std::string& path, const std::string& state) {
  if (path.rfind("/services/", 0) != 0) return Status::InvalidArgument("a hook path starts with /services/");
  if (state != "active" && state != "deleted" && state != "archived" && state != "restricted") {
    return Status::InvalidArgument("state must be active, deleted, archived or restricted");
  }
  std::lock_guard lock(mu_);
  if (state == "active") {
    hook_state_.erase(path);
  } else {
    hook_state_[path] = state;
  }
  return Status::Ok();
}

std::vector<SlackMessage> SlackSim::Messages() const {
  std::lock_guard lock(mu_);
  return messages_;
}

int64_t SlackSim::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

Status SlackSim::Start() {
  http::ServerOptions server_options;
  server_options.io_threads = 1;
  server_options.worker_threads = 4;
  server_ = std::make_unique<http::Server>(server_options);
  http::ListenerOptions listener;
  listener.name = "slack-sim";
  listener.bind = options_.bind;
  listener.port = options_.port;
  listener.router = router_;
  server_->AddListener(std::move(listener));
  return server_->Start();
}

void SlackSim::Stop() {
  if (server_) server_->Stop(std::chrono::milliseconds(1000));
}

uint16_t SlackSim::port() const { return server_ ? server_->port(0) : 0; }

std::string SlackSim::webhook_url() const {
  return "http://" + options_.bind + ":" + std::to_string(port()) + "/services/T0001/B0001/sim";
}

std::string SlackSim::bot_url() const { return "http://" + options_.bind + ":" + std::to_string(port()) + "/bot/sim"; }

}  // namespace wisp::stackoverflow
