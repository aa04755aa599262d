#include "store/users.h"

#include <gtest/gtest.h>

namespace wisp::store {
namespace {

Json User(const std::string& name, Json roles = Json::array()) {
  return {{"_id", "org.couchdb.user:" + name}, {"name", name}, {"type", "user"}, {"roles", roles}};
}

std::string Refusal(const Json& doc, const Json* old, bool admin, const std::string& writer) {
  Status s = ValidateUserDoc(doc, old, admin, writer);
  EXPECT_TRUE(s.ok() || s.code() == StatusCode::kPermissionDenied) << s.ToString();
  return s.ok() ? "" : s.message();
}

TEST(UsersTest, HashedPasswordVerifiesAndNothingElseDoes) {
  Json doc = User("ana");
  doc["password"] = "pa55word";
  HashUserPassword(doc, 1000);
  EXPECT_FALSE(doc.contains("password"));
  EXPECT_TRUE(VerifyUserPassword(doc, "pa55word"));
  EXPECT_FALSE(VerifyUserPassword(doc, "pa55wore"));
  EXPECT_FALSE(VerifyUserPassword(doc, ""));
}

TEST(UsersTest, UsersMayWriteTheirOwnDocumentButNotTheirRoles) {
  const Json old = User("ana", {"advocate"});
  Json update = old;
  update["password"] = "new";
  EXPECT_EQ(Refusal(update, &old, false, "ana"), "");
  update["roles"] = {"advocate", "lead"};
  EXPECT_EQ(Refusal(update, &old, false, "ana"), "Only _admin may edit roles");
  EXPECT_EQ(Refusal(update, &old, true, "admin"), "") << "an admin may";
  EXPECT_EQ(Refusal(User("bo"), nullptr, false, "ana"), "You may only update your own user document.");
  EXPECT_EQ(Refusal(User("ana", {"x"}), nullptr, false, "ana"), "Only _admin may set roles");
}

TEST(UsersTest, OnlyAdminsLinkAUserToSlack) {
  const Json old = User("ana", {"advocate"});
  Json claimed = old;
  claimed["slack_user_id"] = "U0SOMEONE";
  EXPECT_EQ(Refusal(claimed, &old, false, "ana"), "Only _admin may link a user to Slack (slack_user_id)");
  EXPECT_EQ(Refusal(claimed, &old, true, "admin"), "");
  Json password_change = claimed;
  password_change["password"] = "new";
  EXPECT_EQ(Refusal(password_change, &claimed, false, "ana"), "") << "keeping the link is fine";
}

TEST(UsersTest, DocumentShapeIsEnforcedEvenForAdmins) {
  Json doc = User("ana");
  doc["type"] = "person";
  EXPECT_EQ(Refusal(doc, nullptr, true, "admin"), "doc.type must be user");
  doc = User("ana");
  doc["_id"] = "org.couchdb.user:bo";
  EXPECT_EQ(Refusal(doc, nullptr, true, "admin"), "Doc ID must be of the form org.couchdb.user:name");
  doc = User("ana");
  doc["roles"] = "advocate";
  EXPECT_EQ(Refusal(doc, nullptr, true, "admin"), "doc.roles must be an array");
  EXPECT_EQ(Refusal(User("ana", {"_admin"}), nullptr, true, "admin"),
            "No system roles (starting with underscore) in users db.");
  const Json old = User("ana");
  doc = User("anna");
  EXPECT_EQ(Refusal(doc, &old, true, "admin"), "Usernames can not be changed.");
}

TEST(UsersTest, OnlyTheOwnerOrAnAdminDeletes) {
  const Json old = User("ana");
  const Json tombstone = {{"_id", "org.couchdb.user:ana"}, {"_deleted", true}};
  EXPECT_EQ(Refusal(tombstone, &old, false, "ana"), "");
  EXPECT_EQ(Refusal(tombstone, &old, false, "bo"), "You may only delete your own user document.");
  EXPECT_EQ(Refusal(tombstone, &old, true, "admin"), "");
}

}  // namespace
}  // namespace wisp::store
