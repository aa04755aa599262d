#include "cli/user_command.h"

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>

#include "cli/admin_credentials.h"
#include "cli/dashboard.h"
#include "http/client.h"
#include "http/url.h"
#include "json/json.h"
#include "store/users.h"
#include "util/base64.h"

namespace wisp::cli {
namespace {

using Admin = AdminCredentials;

std::string DocUrl(const UserOptions& o) {
  std::string base = o.url;
  while (!base.empty() && base.back() == '/') base.pop_back();
  return base + "/" + std::string(store::kUsersDb) + "/" +
         http::PercentEncode(std::string(store::kUserDocPrefix) + o.name);
}

Result<Json> Call(http::Client& client, const Admin& admin, const std::string& method, const std::string& url,
                  std::string body = "") {
  return CallStoreAsAdmin(client, admin, method, url, std::move(body));
}

int Fail(const std::string& message, int code = 1) {
  std::fprintf(stderr, "wisp user: %s\n", message.c_str());
  return code;
}

}  // namespace

// One request as the admin; the body of a 2xx, else the store's reason.
Result<Json> CallStoreAsAdmin(http::Client& client, const AdminCredentials& admin, const std::string& method,
                              const std::string& url, std::string body) {
  http::ClientRequest request;
  request.method = method;
  request.url = url;
  request.body = std::move(body);
  request.headers.Set("Authorization", "Basic " + Base64Encode(admin.name + ":" + admin.password));
  request.headers.Set("Accept", "application/json");
  if (!request.body.empty()) request.headers.Set("Content-Type", "application/json");
  Result<http::ClientResponse> response = client.Send(request);
  if (!response.ok()) return Status::Unavailable("cannot reach " + url + ": " + response.status().message());
  Result<Json> parsed = json::Parse(response->body);
  Json doc = parsed.ok() ? *parsed : Json::object();
  if (response->status == 404) return Status::NotFound(json::GetString(doc, "reason"));
  if (response->status >= 300) {
    return Status::Internal("the store answered " + std::to_string(response->status) + ": " +
                            json::GetString(doc, "reason"));
  }
  return doc;
}

void AddUserCommand(CLI::App& app, UserOptions& o) {
  CLI::App* user = app.add_subcommand("user", "Manage the dashboard's users (CouchDB users in _users)");
  user->require_subcommand(1);
  auto common = [&o](CLI::App* sub) {
    sub->add_option("name", o.name, "The user's name")->required();
    sub->add_option("--url", o.url, "The store's CouchDB API")->capture_default_str();
    sub->add_option("--admin", o.admin, "The store's admin as NAME:PASSWORD (default: from DATA/admin.json)");
    sub->add_option("--data-dir", o.data_dir, "wisp serve's data dir, for admin.json")->capture_default_str();
  };
  CLI::App* add = user->add_subcommand("add", "Create a user (role advocate unless --role)");
  common(add);
  add->add_option("--password", o.password, "The password (default: the first line of standard input)");
  add->add_option("--role", o.roles, "A role (repeatable; default: advocate)");
  add->add_option("--slack-id", o.slack_id, "The user's Slack user id (U...), for Slack sign-in");
  CLI::App* passwd = user->add_subcommand("passwd", "Set a user's password");
  common(passwd);
  passwd->add_option("--password", o.password, "The new password (default: the first line of standard input)");
  CLI::App* slack = user->add_subcommand("slack", "Link a user to a Slack user id, for Slack sign-in");
  common(slack);
  slack->add_option("--slack-id", o.slack_id, "The Slack user id (U...); empty unlinks")->required();
  CLI::App* remove = user->add_subcommand("remove", "Delete a user");
  common(remove);
  for (CLI::App* sub : {add, passwd, slack, remove}) {
    sub->callback([&o, sub] { o.action = sub->get_name(); });
  }
}

int RunUserIfParsed(const CLI::App& app, const UserOptions& o) {
  if (o.action.empty()) return -1;
  (void)app;
  Result<Admin> admin = ResolveAdmin(o.admin, o.data_dir);
  if (!admin.ok()) return Fail(admin.status().message(), 2);
  std::string password = o.password;
  if ((o.action == "add" || o.action == "passwd") && password.empty()) {
    std::getline(std::cin, password);
    if (!password.empty() && password.back() == '\r') password.pop_back();
    if (password.empty()) return Fail("a password is needed: --password, or one line on standard input", 2);
  }

  http::Client client;
  const std::string url = DocUrl(o);
  Result<Json> current = Call(client, *admin, "GET", url);
  if (!current.ok() && !current.status().IsNotFound()) return Fail(current.status().message());
  const bool exists = current.ok();

  if (o.action == "add") {
    if (exists) return Fail("user " + o.name + " exists; use `wisp user passwd` to change the password");
    Json roles = Json::array();
    for (const std::string& role : o.roles.empty() ? std::vector<std::string>{kAdvocateRole} : o.roles) {
      roles.push_back(role);
    }
    Json doc = {{"_id", std::string(store::kUserDocPrefix) + o.name},
                {"name", o.name},
                {"type", "user"},
                {"roles", roles},
                {"password", password}};
    if (!o.slack_id.empty()) doc["slack_user_id"] = o.slack_id;
    if (Result<Json> r = Call(client, *admin, "PUT", url, json::Dump(doc)); !r.ok()) return Fail(r.status().message());
    std::printf("ok: user %s added\n", o.name.c_str());
    return 0;
  }
  if (!exists) return Fail("no user " + o.name);
  if (o.action == "passwd") {
    Json doc = *current;
    doc["password"] = password;
    for (const char* field : {"derived_key", "salt", "iterations", "password_scheme", "pbkdf2_prf"}) doc.erase(field);
    if (Result<Json> r = Call(client, *admin, "PUT", url, json::Dump(doc)); !r.ok()) return Fail(r.status().message());
    std::printf("ok: password of %s changed\n", o.name.c_str());
    return 0;
  }
  if (o.action == "slack") {
    Json doc = *current;
    if (o.slack_id.empty()) {
      doc.erase("slack_user_id");
    } else {
      doc["slack_user_id"] = o.slack_id;
    }
    if (Result<Json> r = Call(client, *admin, "PUT", url, json::Dump(doc)); !r.ok()) return Fail(r.status().message());
    std::printf("ok: %s %s\n", o.name.c_str(),
                o.slack_id.empty() ? "is no longer linked to Slack" : ("signs in as Slack user " + o.slack_id).c_str());
    return 0;
  }
  const std::string rev = json::GetString(*current, "_rev");
  if (Result<Json> r = Call(client, *admin, "DELETE", url + "?rev=" + http::PercentEncode(rev)); !r.ok()) {
    return Fail(r.status().message());
  }
  std::printf("ok: user %s removed\n", o.name.c_str());
  return 0;
}

}  // namespace wisp::cli
