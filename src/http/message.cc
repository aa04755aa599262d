#include "http/message.h"

#include <algorithm>
#include <cctype>

namespace wisp::http {

std::string_view MethodName(Method m) {
  switch (m) {
    case Method::kGet: return "GET";
    case Method::kHead: return "HEAD";
    case Method::kPost: return "POST";
    case Method::kPut: return "PUT";
    case Method::kDelete: return "DELETE";
    case Method::kOptions: return "OPTIONS";
    case Method::kPatch: return "PATCH";
    case Method::kCopy: return "COPY";
    case Method::kOther: return "OTHER";
  }
  return "OTHER";
}

Method ParseMethod(std::string_view name) {
  static constexpr std::pair<std::string_view, Method> kMethods[] = {
      {"GET", Method::kGet},         {"HEAD", Method::kHead},   {"POST", Method::kPost},
      {"PUT", Method::kPut},         {"DELETE", Method::kDelete}, {"OPTIONS", Method::kOptions},
      {"PATCH", Method::kPatch},     {"COPY", Method::kCopy}};
  for (const auto& [n, m] : kMethods) {
    if (n == name) return m;
  }
  return Method::kOther;
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
         });
}

std::optional<std::string> Headers::Get(std::string_view name) const {
  for (const auto& [k, v] : entries_) {
    if (EqualsIgnoreCase(k, name)) return v;
  }
  return std::nullopt;
}

std::string Headers::GetOr(std::string_view name, std::string_view fallback) const {
  auto v = Get(name);
  return v ? *v : std::string(fallback);
}

void Headers::Set(std::string_view name, std::string_view value) {
  Remove(name);
  entries_.emplace_back(std::string(name), std::string(value));
}

void Headers::Add(std::string_view name, std::string_view value) {
  entries_.emplace_back(std::string(name), std::string(value));
}

void Headers::Remove(std::string_view name) {
  std::erase_if(entries_, [&](const auto& e) { return EqualsIgnoreCase(e.first, name); });
}

const std::string& Request::Param(std::string_view name) const {
  static const std::string kEmpty;
  auto it = params.find(name);
  return it == params.end() ? kEmpty : it->second;
}

bool BodyStream::Write(std::string_view chunk) {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (gone_ || closed_) return false;
    buffer_.append(chunk);
    wake = wake_;
  }
  if (wake) wake();
  return true;
}

void BodyStream::Close() {
  std::function<void()> wake;
  {
    std::lock_guard lock(mu_);
    if (closed_) return;
    closed_ = true;
    wake = wake_;
  }
  if (wake) wake();
}

bool BodyStream::client_gone() const {
  std::lock_guard lock(mu_);
  return gone_;
}

size_t BodyStream::buffered_bytes() const {
  std::lock_guard lock(mu_);
  return buffer_.size();
}

bool BodyStream::WaitForRoom(size_t max_buffered, std::chrono::steady_clock::time_point deadline) {
  std::unique_lock lock(mu_);
  return room_.wait_until(lock, deadline, [&] { return gone_ || buffer_.size() <= max_buffered; }) && !gone_;
}

BodyStream::Take BodyStream::TakeData(std::string& out) {
  std::lock_guard lock(mu_);
  if (!buffer_.empty()) {
    out.swap(buffer_);
    buffer_.clear();
    room_.notify_all();
    return Take::kData;
  }
  return closed_ ? Take::kClosed : Take::kEmpty;
}

void BodyStream::SetWaker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

void BodyStream::Detach() {
  std::lock_guard lock(mu_);
  gone_ = true;
  wake_ = nullptr;
  buffer_.clear();
  room_.notify_all();
}

DeferredResponse::DeferredResponse() = default;
DeferredResponse::~DeferredResponse() = default;

bool DeferredResponse::Complete(Response response) {
  std::lock_guard lock(mu_);
  if (completed_ || abandoned_ || gone_) return false;
  completed_ = true;
  response_ = std::make_unique<Response>(std::move(response));
  if (wake_) wake_();
  return true;
}

void DeferredResponse::Abandon() {
  std::lock_guard lock(mu_);
  if (completed_ || gone_) return;
  abandoned_ = true;
  if (wake_) wake_();
}

bool DeferredResponse::client_gone() const {
  std::lock_guard lock(mu_);
  return gone_;
}

DeferredResponse::State DeferredResponse::Take(Response& out) {
  std::lock_guard lock(mu_);
  if (abandoned_) return State::kAbandoned;
  if (!completed_ || !response_) return State::kPending;
  out = std::move(*response_);
  response_.reset();
  return State::kCompleted;
}

void DeferredResponse::SetWaker(std::function<void()> wake) {
  std::lock_guard lock(mu_);
  wake_ = std::move(wake);
}

void DeferredResponse::Detach() {
  std::lock_guard lock(mu_);
  gone_ = true;
  wake_ = nullptr;
  response_.reset();
}

Response Response::Json(int status, std::string json_text) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", "application/json");
  r.body = std::move(json_text);
  return r;
}

Response Response::Text(int status, std::string text, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", content_type);
  r.body = std::move(text);
  return r;
}

std::pair<Response, std::shared_ptr<BodyStream>> Response::Streaming(int status, std::string_view content_type) {
  Response r;
  r.status = status;
  r.headers.Set("Content-Type", content_type);
  r.stream = std::make_shared<BodyStream>();
  auto stream = r.stream;
  return {std::move(r), std::move(stream)};
}

std::pair<Response, std::shared_ptr<DeferredResponse>> Response::Deferred() {
  Response r;
  r.deferred = std::make_shared<DeferredResponse>();
  // The handler's end shares one control block of its own, so the server
  // learns when the last copy goes without a completion.
  std::shared_ptr<DeferredResponse> handle(r.deferred.get(),
                                           [state = r.deferred](DeferredResponse* d) { d->Abandon(); });
  return {std::move(r), std::move(handle)};
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100: return "Continue";
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 406: return "Not Acceptable";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 410: return "Gone";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 414: return "URI Too Long";
    case 415: return "Unsupported Media Type";
    case 416: return "Range Not Satisfiable";
    case 417: return "Expectation Failed";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 501: return "Not Implemented";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 499: return "Client Closed Request";
    case 504: return "Gateway Timeout";
    default: return "Unknown";
  }
}

}  // namespace wisp::http
