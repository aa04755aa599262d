// `wisp user add|passwd|slack|remove NAME`: the dashboard's users.
//
// A user is a CouchDB user: the document `org.couchdb.user:NAME` in the
// store's `_users` database, whose password the store hashes (PBKDF2) when
// it is written. The command speaks to a running store over its CouchDB API
// as the server admin, like any CouchDB tool, so the server sees the change
// at once and the same command manages a remote CouchDB. The admin comes
// from --admin NAME:PASSWORD, else from DATA/admin.json (what `wisp serve`
// printed). The password comes from --password, else from the first line of
// standard input, so it need not appear in a process list.
//
// `slack NAME --slack-id U...` (or `add --slack-id`) links a user to a Slack
// user for Slack sign-in (store/slack_login.h).
//
// New users get the role `advocate`, which the dashboard's databases admit
// (cli/dashboard.h); --role replaces it.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <string>
#include <vector>

#include "cli/admin_credentials.h"
#include "http/client.h"
#include "json/json.h"
#include "util/result.h"

namespace CLI {
class App;
}

namespace wisp::cli {

struct UserOptions {
  std::string action;  // add, passwd, slack or remove
  std::string name;
  std::string password;
  std::vector<std::string> roles;
  std::string slack_id;  // `_users` field slack_user_id (store/slack_login.h)
  std::string url = "http://127.0.0.1:5984";
  std::string admin;  // NAME:PASSWORD; empty: DATA/admin.json
  std::string data_dir = "./wisp-data";
};

// One request to the store as the admin: the body of a 2xx; NotFound for a
// 404; Unavailable when the store cannot be reached; else Internal with
// the store's reason.
Result<Json> CallStoreAsAdmin(http::Client& client, const AdminCredentials& admin, const std::string& method,
                              const std::string& url, std::string body = "");

// Registers `user` and its subcommands on `app`.
void AddUserCommand(CLI::App& app, UserOptions& options);

// Runs the parsed `user` command; -1 when it was not on the command line,
// otherwise the exit code (0 done, 1 failed, 2 bad arguments).
int RunUserIfParsed(const CLI::App& app, const UserOptions& options);

}  // namespace wisp::cli
