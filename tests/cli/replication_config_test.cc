// --replications FILE: what a file turns into in `_replicator`, and that
// applying it again changes nothing while a removed entry is deleted.
#include "cli/replication_config.h"

#include <gtest/gtest.h>

#include "store/database.h"
#include "store/replication_manager.h"
#include "testing/temp_dir.h"

namespace wisp::cli {
namespace {

Result<std::vector<std::pair<std::string, Json>>> Parse(const Json& replications,
                                                         const store::RemoteCouchOptions* credentials = nullptr) {
  return ParseReplicationConfig(json::Dump(Json{{"replications", replications}}), credentials);
}

TEST(ReplicationConfigTest, BothDirectionsMakeAPushAndAPullWithTheFilters) {
  auto jobs = Parse(Json::array({{{"name", "q"}, {"local", "questions"}, {"remote", "http://h:5984/questions"},
                                  {"selector", {{"type", "question"}}}}}));
  ASSERT_TRUE(jobs.ok()) << jobs.status().ToString();
  ASSERT_EQ(jobs->size(), 2u);
  EXPECT_EQ((*jobs)[0].first, "wisp-config:q:push");
  EXPECT_EQ((*jobs)[0].second["source"], "questions");
  EXPECT_EQ((*jobs)[0].second["target"]["url"], "http://h:5984/questions");
  EXPECT_EQ((*jobs)[0].second["continuous"], true);
  EXPECT_EQ((*jobs)[0].second["selector"]["type"], "question");
  EXPECT_EQ((*jobs)[1].first, "wisp-config:q:pull");
  EXPECT_EQ((*jobs)[1].second["target"], "questions");
}

TEST(ReplicationConfigTest, StoreCredentialsBecomeBasicOrABearerHeader) {
  const Json entry = {{"name", "e"}, {"local", "events"}, {"remote", "http://h/events"}, {"direction", "push"},
                      {"credentials", "store"}};
  store::RemoteCouchOptions cookie{.url = "http://h", .auth = store::RemoteAuth::kCookie, .username = "u", .secret = "pw"};
  auto basic = Parse(Json::array({entry}), &cookie);
  ASSERT_TRUE(basic.ok()) << basic.status().ToString();
  EXPECT_EQ((*basic)[0].second["target"]["auth"]["basic"]["password"], "pw");
  store::RemoteCouchOptions jwt{.url = "http://h", .auth = store::RemoteAuth::kJwt, .username = "", .secret = "TOKEN"};
  auto bearer = Parse(Json::array({entry}), &jwt);
  ASSERT_TRUE(bearer.ok());
  EXPECT_EQ((*bearer)[0].second["target"]["headers"]["Authorization"], "Bearer TOKEN");
  EXPECT_TRUE(Parse(Json::array({entry})).status().IsInvalidArgument()) << "no --store-url to take them from";
}

TEST(ReplicationConfigTest, MalformedEntriesNameTheEntryAndTheField) {
  const auto message = [](const Json& list) { return Parse(list).status().message(); };
  EXPECT_NE(message(Json::array({{{"local", "a"}, {"remote", "http://h/a"}}})).find("needs a \"name\""),
            std::string::npos);
  EXPECT_NE(message(Json::array({{{"name", "x"}, {"local", "a"}, {"remote", "http://h/a"}, {"direction", "up"}}}))
                .find("replication 'x': \"direction\""),
            std::string::npos);
  EXPECT_NE(message(Json::array({{{"name", "x"}, {"local", "a"}, {"remote", "http://h/a"}, {"doc_ids", {1}}}}))
                .find("doc_ids"),
            std::string::npos);
  EXPECT_NE(message(Json::array({{{"name", "x"}, {"local", "a"}, {"remote", "http://h/a"}},
                                 {{"name", "x"}, {"local", "b"}, {"remote", "http://h/b"}}}))
                .find("used twice"),
            std::string::npos);
  EXPECT_TRUE(ParseReplicationConfig("{}", nullptr).status().IsInvalidArgument());
}

TEST(ReplicationConfigTest, ApplyingTwiceChangesNothingAndRemovedEntriesAreDeleted) {
  testing::TempDir dir;
  auto opened = store::Store::Open(dir.path());
  ASSERT_TRUE(opened.ok());
  store::Store& store = **opened;
  auto jobs = Parse(Json::array({{{"name", "q"}, {"local", "questions"}, {"remote", "http://h/questions"}}}));
  ASSERT_TRUE(jobs.ok());
  ASSERT_TRUE(ApplyReplicationConfig(store, *jobs).ok());
  auto replicator = store.GetDatabase(std::string(store::kReplicatorDb));
  ASSERT_TRUE(replicator.ok());
  EXPECT_TRUE(store.GetDatabase("questions").ok()) << "the local side is created";
  const int64_t seq = (*replicator)->update_seq();
  ASSERT_TRUE(ApplyReplicationConfig(store, *jobs).ok());
  EXPECT_EQ((*replicator)->update_seq(), seq) << "the same file writes nothing";

  ASSERT_TRUE(ApplyReplicationConfig(store, {}).ok());
  EXPECT_EQ((*replicator)->Get("wisp-config:q:push", {}).status().code(), StatusCode::kNotFound);
  EXPECT_EQ((*replicator)->Get("wisp-config:q:pull", {}).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wisp::cli
