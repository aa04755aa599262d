// The dashboard's databases and files as `wisp serve` sets them up.
#include "cli/dashboard.h"

#include <gtest/gtest.h>

#include "cli/web_assets.h"
#include "json/json.h"
#include "store/store.h"
#include "testing/temp_dir.h"

namespace wisp::cli {
namespace {

Json MemberRoles(store::Store& store, const std::string& db) {
  Result<std::shared_ptr<store::Database>> database = store.GetDatabase(db);
  EXPECT_TRUE(database.ok()) << db;
  if (!database.ok()) return nullptr;
  return (*database)->Security()["members"]["roles"];
}

TEST(DashboardDatabasesTest, CreatesQuestionsAndEventsForAdvocatesOnceAndKeepsOtherMembers) {
  testing::TempDir dir;
  Result<std::unique_ptr<store::Store>> store = store::Store::Open(dir.path());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(EnsureDashboardDatabases(**store).ok());
  ASSERT_TRUE(EnsureDashboardDatabases(**store).ok());  // a second start changes nothing
  EXPECT_EQ(MemberRoles(**store, kQuestionsDb), Json::array({"advocate"}));
  EXPECT_EQ(MemberRoles(**store, kEventsDb), Json::array({"advocate"}));

  // An admin's own choices survive a restart; the role is added beside them.
  Result<std::shared_ptr<store::Database>> events = (*store)->GetDatabase(kEventsDb);
  ASSERT_TRUE(events.ok());
  ASSERT_TRUE((*events)
                  ->SetSecurity(Json{{"admins", {{"names", {"boss"}}, {"roles", Json::array()}}},
                                     {"members", {{"names", {"auditor"}}, {"roles", {"reader"}}}}})
                  .ok());
  ASSERT_TRUE(EnsureDashboardDatabases(**store).ok());
  Json security = (*events)->Security();
  EXPECT_EQ(security["members"]["roles"], Json::array({"reader", "advocate"}));
  EXPECT_EQ(security["members"]["names"], Json::array({"auditor"}));
  EXPECT_EQ(security["admins"]["names"], Json::array({"boss"}));
}

TEST(DashboardAssetsTest, TheBuildEmbedsTheAppAndItsVendoredLibraries) {
  std::vector<std::string> paths;
  for (const http::EmbeddedAsset& asset : WebAssets()) paths.emplace_back(asset.path);
  for (const char* expected : {"index.html", "sw.js", "app/main.js", "app/data.js", "app/query.js", "app/style.css",
                               "vendor/pouchdb.min.js", "vendor/purify.min.js"}) {
    EXPECT_NE(std::find(paths.begin(), paths.end(), expected), paths.end()) << expected;
  }
  for (const std::string& path : paths) {
    EXPECT_EQ(path.find("node_modules"), std::string::npos) << path;
    EXPECT_NE(path, "package.json");
  }
}

}  // namespace
}  // namespace wisp::cli
