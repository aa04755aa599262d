#include "cli/wsk_client.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "util/base64.h"
#include "util/environment.h"

namespace wisp::cli {

std::string WskProps::DefaultPath() {
  if (std::string p = EnvironmentVariable("WSK_CONFIG_FILE"); !p.empty()) return p;
  return EnvironmentVariable("HOME") + "/.wskprops";
}

WskProps WskProps::Load(const std::string& path) {
  WskProps props;
  props.path_ = path;
  std::ifstream in(path);
  std::string line;
  while (std::getline(in, line)) {
    size_t eq = line.find('=');
    if (eq == std::string::npos) {
      props.entries_.emplace_back("", line);  // kept verbatim
      continue;
    }
    props.entries_.emplace_back(line.substr(0, eq), line.substr(eq + 1));
  }
  return props;
}

Status WskProps::Save() const {
  std::string text;
  for (const auto& [k, v] : entries_) text += (k.empty() ? v : k + "=" + v) + "\n";
  // The file holds a key: created readable by its owner only.
  int fd = ::open(path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Status::Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      ::close(fd);
      return Status::Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
    }
    done += static_cast<size_t>(n);
  }
  if (::close(fd) != 0) return Status::Unavailable("cannot write " + path_ + ": " + std::strerror(errno));
  return Status::Ok();
}

std::string WskProps::Get(const std::string& key) const {
  for (const auto& [k, v] : entries_)
    if (k == key) return v;
  return "";
}

void WskProps::Set(const std::string& key, const std::string& value) {
  for (auto& [k, v] : entries_) {
    if (k == key) {
      v = value;
      return;
    }
  }
  entries_.emplace_back(key, value);
}

void WskProps::Unset(const std::string& key) {
  std::erase_if(entries_, [&](const auto& e) { return e.first == key; });
}

WskConfig WskConfig::Resolve(const WskGlobals& globals) {
  WskProps props = WskProps::Load(WskProps::DefaultPath());
  WskConfig c;
  c.apihost = props.Get("APIHOST");
  c.auth = props.Get("AUTH");
  c.namespace_ = props.Get("NAMESPACE");
  if (std::string v = EnvironmentVariable("WHISK_APIHOST"); !v.empty()) c.apihost = v;
  if (std::string v = EnvironmentVariable("WHISK_AUTH"); !v.empty()) c.auth = v;
  if (std::string v = EnvironmentVariable("WHISK_NAMESPACE"); !v.empty()) c.namespace_ = v;
  if (!globals.apihost.empty()) c.apihost = globals.apihost;
  if (!globals.auth.empty()) c.auth = globals.auth;
  if (c.namespace_.empty()) c.namespace_ = "_";
  c.insecure = globals.insecure;
  c.verbose = globals.verbose;
  return c;
}

std::string WskConfig::BaseUrl() const {
  std::string host = apihost;
  while (!host.empty() && host.back() == '/') host.pop_back();
  if (host.rfind("http://", 0) != 0 && host.rfind("https://", 0) != 0) host = "https://" + host;
  return host;
}

WskClient::WskClient(WskConfig config)
    : config_(std::move(config)),
      client_(http::ClientOptions{
          .user_agent = "OpenWhisk-CLI/1.0 (wisp)", .ca_file = "", .verify_peer = !config_.insecure}) {}

Result<WskReply> WskClient::Send(std::string_view method, const std::string& path, const Json* body) {
  if (config_.apihost.empty()) {
    return Status::InvalidArgument(
        "The API host is not valid: An API host must be provided. Set it with 'wisp property set --apihost HOST'.");
  }
  http::ClientRequest request;
  request.method = std::string(method);
  request.url = config_.BaseUrl() + "/api/v1/" + path;
  request.timeout = std::chrono::milliseconds(90'000);  // longer than the server's 60 s blocking wait
  if (!config_.auth.empty()) request.headers.Set("Authorization", "Basic " + Base64Encode(config_.auth));
  request.headers.Set("Content-Type", "application/json");
  if (body) request.body = json::Dump(*body);
  if (config_.verbose) {
    std::printf("REQUEST:\n[%s]\t%s\n", request.method.c_str(), request.url.c_str());
    std::printf("Req Headers\n");
    for (const auto& [k, v] : request.headers.entries())
      std::printf("  %s: %s\n", k.c_str(), k == "Authorization" ? "Basic ***" : v.c_str());
    if (body) std::printf("Req Body\n%s\n", request.body.c_str());
  }
  Result<http::ClientResponse> r = client_.Send(request);
  if (!r.ok()) return r.status();
  WskReply reply;
  reply.status = r->status;
  reply.body = std::move(r->body);
  reply.headers = std::move(r->headers);
  if (Result<Json> j = json::Parse(reply.body); j.ok()) reply.json = std::move(*j);
  if (config_.verbose) {
    std::printf("RESPONSE:Got response with code %d\nResp Headers\n", reply.status);
    for (const auto& [k, v] : reply.headers.entries()) std::printf("  %s: %s\n", k.c_str(), v.c_str());
    std::printf("Response body size is %zu bytes\nResponse body received:\n%s\n", reply.body.size(),
                reply.body.c_str());
  }
  return reply;
}

WskError ErrorFromReply(const WskReply& reply) {
  WskError e;
  if (reply.json.is_object() && reply.json.contains("error") && reply.json["error"].is_string()) {
    e.message = reply.json["error"].get<std::string>();
    if (std::string code = json::GetString(reply.json, "code"); !code.empty()) e.message += " (code " + code + ")";
  } else if (!reply.body.empty()) {
    e.message = reply.body;
  } else {
    e.message = "The server answered HTTP " + std::to_string(reply.status);
  }
  e.exit_code = (reply.status - 256) & 0xff;
  if (e.exit_code == 0) e.exit_code = 1;
  return e;
}

std::string UrlEncode(std::string_view text) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '@') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

std::string QualifiedName::Path(std::string_view collection) const {
  std::string path = "namespaces/" + UrlEncode(ns) + "/" + std::string(collection);
  std::string_view rest = name;
  while (!rest.empty()) {
    size_t slash = rest.find('/');
    path += "/" + UrlEncode(rest.substr(0, slash));
    if (slash == std::string_view::npos) break;
    rest.remove_prefix(slash + 1);
  }
  return path;
}

QualifiedName ParseQualifiedName(std::string_view text, const std::string& default_ns) {
  QualifiedName q;
  if (!text.empty() && text[0] == '/') {
    text.remove_prefix(1);
    size_t slash = text.find('/');
    if (slash == std::string_view::npos) {
      q.ns = std::string(text);
      return q;
    }
    q.ns = std::string(text.substr(0, slash));
    q.name = std::string(text.substr(slash + 1));
    return q;
  }
  q.ns = default_ns.empty() ? "_" : default_ns;
  q.name = std::string(text);
  return q;
}

}  // namespace wisp::cli
