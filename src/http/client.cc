#include "http/client.h"

#include <curl/curl.h>

namespace wisp::http {
namespace {

// curl_global_init is not thread-safe; do it once, before any handle exists.
void GlobalInit() {
  static const bool done = [] { return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK; }();
  (void)done;
}

struct Exchange {
  ClientResponse response;
  const ClientRequest* request = nullptr;
  bool aborted_by_caller = false;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  if (ex->request->on_data) {
    if (!ex->request->on_data(std::string_view(data, bytes))) {
      ex->aborted_by_caller = true;
      return 0;  // makes curl fail with CURLE_WRITE_ERROR
    }
  } else {
    ex->response.body.append(data, bytes);
  }
  return bytes;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  const size_t bytes = size * n;
  std::string_view line(data, bytes);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
  if (line.rfind("HTTP/", 0) == 0) {
    ex->response.headers = Headers();  // a new status line: 100 Continue or a redirect came first
    return bytes;
  }
  const size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    ex->response.headers.Add(line.substr(0, colon), value);
  }
  return bytes;
}

Status StatusFromCurl(CURLcode code, const char* detail) {
  std::string msg = curl_easy_strerror(code);
  if (detail && *detail) msg += std::string(": ") + detail;
  switch (code) {
    case CURLE_OPERATION_TIMEDOUT: return Status::DeadlineExceeded(msg);
    case CURLE_URL_MALFORMAT:
    case CURLE_UNSUPPORTED_PROTOCOL: return Status::InvalidArgument(msg);
    default: return Status::Unavailable(msg);
  }
}

}  // namespace

Client::Client(ClientOptions options) : options_(std::move(options)) { GlobalInit(); }

Client::~Client() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* Client::TakeHandle() {
  {
    std::lock_guard lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void Client::ReturnHandle(void* handle) {
  std::lock_guard lock(mu_);
  if (idle_.size() < options_.max_idle_handles) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<ClientResponse> Client::Send(const ClientRequest& request) {
  CURL* curl = static_cast<CURL*>(TakeHandle());
  if (!curl) return Status::Internal("curl_easy_init failed");
  curl_easy_reset(curl);  // keeps the connection cache, drops the previous request's options

  Exchange ex;
  ex.request = &request;
  char error[CURL_ERROR_SIZE] = {0};
  curl_easy_setopt(curl, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, error);
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_USERAGENT, options_.user_agent.c_str());
  curl_easy_setopt(curl, CURLOPT_ACCEPT_ENCODING, "");  // every encoding curl can decode
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(request.timeout.count()));
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(request.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &ex);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, options_.verify_peer ? 1L : 0L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, options_.verify_peer ? 2L : 0L);
  if (!options_.ca_file.empty()) curl_easy_setopt(curl, CURLOPT_CAINFO, options_.ca_file.c_str());

  if (request.method == "HEAD") {
    curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
  } else if (request.method != "GET" || !request.body.empty()) {
    curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, request.method.c_str());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }

  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers.entries()) {
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  }
  // curl adds "Expect: 100-continue" to large bodies; an empty value turns it off
  // unless the caller asked for it.
  if (!request.headers.Has("Expect")) headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);

  const CURLcode code = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  long status = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
  ReturnHandle(curl);

  if (ex.aborted_by_caller) return Status::Cancelled("transfer stopped by the caller");
  if (code != CURLE_OK) return StatusFromCurl(code, error);
  ex.response.status = static_cast<int>(status);
  return std::move(ex.response);
}

Result<ClientResponse> Client::Get(std::string url) {
  ClientRequest r;
  r.url = std::move(url);
  return Send(r);
}

Result<ClientResponse> Client::Post(std::string url, std::string body, std::string_view content_type) {
  ClientRequest r;
  r.method = "POST";
  r.url = std::move(url);
  r.body = std::move(body);
  r.headers.Set("Content-Type", content_type);
  return Send(r);
}

}  // namespace wisp::http
