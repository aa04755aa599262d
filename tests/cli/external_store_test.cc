// `wisp serve --store-url` (docs/scaling.md, "External CouchDB") against a
// CouchDB where wisp's user is a member of `questions` and `events` but not
// a server admin, as an operator would set it up: the start must not need
// more. The remote here is another wisp, whose CouchDB API answers a
// member's PUT of an existing database as CouchDB does (401, not a server
// admin).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>
#include <string>

#include "cli/serve_command.h"
#include "http/client.h"
#include "json/json.h"
#include "testing/serve_options.h"
#include "testing/temp_dir.h"
#include "util/base64.h"
#include "util/log.h"

namespace wisp::cli {
namespace {

constexpr char kRemoteAdmin[] = "admin:remote-admin";

class ExternalStoreTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ASSERT_TRUE(testing::SilenceLogs().ok());
  }

  void SetUp() override {
    ServeOptions o = testing::LoopbackServeOptions(dir_.path() + "/remote", kRemoteAdmin);
    Result<std::unique_ptr<WispServer>> remote = WispServer::Start(o);
    ASSERT_TRUE(remote.ok()) << remote.status().ToString();
    remote_ = std::move(*remote);
    // A user with the dashboard's role: a member of questions and events.
    http::ClientRequest user;
    user.method = "PUT";
    user.url = remote_->couch_url() + "/_users/org.couchdb.user:pipeline";
    user.headers.Set("Authorization", "Basic " + Base64Encode(kRemoteAdmin));
    user.headers.Set("Content-Type", "application/json");
    user.body = json::Dump(
        Json{{"name", "pipeline"}, {"password", "pipeline-pw"}, {"roles", {"advocate"}}, {"type", "user"}});
    Result<http::ClientResponse> created = client_.Send(user);
    ASSERT_TRUE(created.ok()) << created.status().ToString();
    ASSERT_EQ(created->status, 201) << created->body;
  }

  // `wisp serve` with the remote as its store, as `pipeline` with `password`.
  Result<std::unique_ptr<WispServer>> StartWithRemoteStore(const std::string& password) {
    const std::string secret = dir_.path() + "/secret-" + password;
    std::ofstream(secret) << password << "\n";
    chmod(secret.c_str(), 0600);
    ServeOptions o = testing::LoopbackServeOptions(dir_.path() + "/local-" + password, "admin:local-admin");
    o.store_url = remote_->couch_url();
    o.store_auth = "basic";
    o.store_user = "pipeline";
    o.store_secret_file = secret;
    return WispServer::Start(o);
  }

  testing::TempDir dir_;
  http::Client client_;
  std::unique_ptr<WispServer> remote_;
};

TEST_F(ExternalStoreTest, AMemberOfTheDatabasesCanStartWithoutBeingAServerAdmin) {
  Result<std::unique_ptr<WispServer>> local = StartWithRemoteStore("pipeline-pw");
  ASSERT_TRUE(local.ok()) << local.status().ToString();
}

TEST_F(ExternalStoreTest, CredentialsTheRemoteRefusesStopTheStart) {
  Result<std::unique_ptr<WispServer>> local = StartWithRemoteStore("wrong-pw");
  ASSERT_FALSE(local.ok());
  EXPECT_NE(local.status().message().find("refused wisp's credentials"), std::string::npos)
      << local.status().ToString();
}

}  // namespace
}  // namespace wisp::cli
