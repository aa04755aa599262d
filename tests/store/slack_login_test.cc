// Slack sign-in: the request signature, the user mapping and the one-time links.
#include "store/slack_login.h"

#include <gtest/gtest.h>

#include "json/json.h"
#include "store/database.h"
#include "store/users.h"
#include "testing/temp_dir.h"
#include "util/clock.h"

namespace wisp::store {
namespace {

using std::chrono::seconds;

// Slack's published example (spec stackexchange-slack.md §C2).
constexpr char kSecret[] = "8f742231b10e8888abcd99yyyzzz85a5";
constexpr char kTimestamp[] = "1531420618";
constexpr int64_t kSentAt = 1531420618;
constexpr char kBody[] =
    "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar"
    "&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack."
    "com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121."
    "803a0bc887a14d10d2c447fce8b6703c";
constexpr char kSignature[] = "v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503";

TEST(SlackSignatureTest, SlacksPublishedExampleVerifies) {
  EXPECT_TRUE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kSentAt).ok());
  EXPECT_TRUE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kSentAt + 300).ok());
  EXPECT_TRUE(VerifySlackSignature(kSecret, kTimestamp, kSignature, kBody, kSentAt - 300).ok());
}

TEST(SlackSignatureTest, StaleFutureForgedAndUnsignedRequestsAreRefused) {
  auto refusal = [](std::string_view secret, std::string_view ts, std::string_view sig, std::string_view body,
                    int64_t now) {
    Status s = VerifySlackSignature(secret, ts, sig, body, now);
    EXPECT_EQ(s.code(), StatusCode::kUnauthenticated) << s.ToString();
    return s.message();
  };
  EXPECT_EQ(refusal(kSecret, kTimestamp, kSignature, kBody, kSentAt + 301),
            "The request's timestamp is more than 5 minutes from now.");
  EXPECT_EQ(refusal(kSecret, kTimestamp, kSignature, kBody, kSentAt - 301),
            "The request's timestamp is more than 5 minutes from now.");
  EXPECT_EQ(refusal("another-secret", kTimestamp, kSignature, kBody, kSentAt), "The request's signature is wrong.");
  std::string reencoded = kBody;
  reencoded.replace(reencoded.find("text="), 5, "text=%20");
  EXPECT_EQ(refusal(kSecret, kTimestamp, kSignature, reencoded, kSentAt), "The request's signature is wrong.");
  EXPECT_EQ(refusal(kSecret, "1531420619", kSignature, kBody, kSentAt), "The request's signature is wrong.");
  EXPECT_EQ(refusal(kSecret, "", kSignature, kBody, kSentAt),
            "The request is not signed (X-Slack-Request-Timestamp, X-Slack-Signature).");
  EXPECT_EQ(refusal(kSecret, kTimestamp, "", kBody, kSentAt),
            "The request is not signed (X-Slack-Request-Timestamp, X-Slack-Signature).");
  EXPECT_EQ(refusal(kSecret, "15e8", kSignature, kBody, kSentAt),
            "X-Slack-Request-Timestamp is not a number of seconds.");
}

class SlackLoginTest : public ::testing::Test {
 protected:
  void SetUp() override {
    Result<std::unique_ptr<Store>> opened = Store::Open(dir_.path());
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    store_ = std::move(*opened);
    if (!store_->GetDatabase(std::string(kUsersDb)).ok()) {
      ASSERT_TRUE(store_->CreateDatabase(std::string(kUsersDb)).ok());
    }
    AddUser("ana", "U0ANA");
    AddUser("bo", "");
  }

  void AddUser(const std::string& name, const std::string& slack_id) {
    Json doc = {{"_id", std::string(kUserDocPrefix) + name},
                {"name", name},
                {"type", "user"},
                {"roles", Json::array({"advocate"})}};
    if (!slack_id.empty()) doc["slack_user_id"] = slack_id;
    Result<std::shared_ptr<Database>> users = store_->GetDatabase(std::string(kUsersDb));
    ASSERT_TRUE(users.ok());
    ASSERT_TRUE((*users)->Put(doc).status.ok());
  }

  SlackLogin Login(std::vector<std::string> teams = {}) {
    return SlackLogin(*store_, SlackLoginOptions{kSecret, std::move(teams), &clock_});
  }

  testing::TempDir dir_;
  std::unique_ptr<Store> store_;
  FakeClock clock_{Clock::WallTime(seconds(kSentAt + 10))};
};

TEST_F(SlackLoginTest, WithoutASecretNothingVerifies) {
  SlackLogin off(*store_, SlackLoginOptions{"", {}, &clock_});
  EXPECT_FALSE(off.configured());
  EXPECT_EQ(off.Verify(kTimestamp, kSignature, kBody).message(), "Slack sign-in is not configured.");
}

TEST_F(SlackLoginTest, ARequestIsAcceptedOnceAndItsReplayIsRefused) {
  SlackLogin login = Login();
  EXPECT_TRUE(login.Verify(kTimestamp, kSignature, kBody).ok());
  Status replay = login.Verify(kTimestamp, kSignature, kBody);
  EXPECT_EQ(replay.code(), StatusCode::kUnauthenticated);
  EXPECT_EQ(replay.message(), "This request was already received (a replay).");
  clock_.Advance(seconds(291));  // 301 s after it was sent: stale, whatever the memory says
  EXPECT_EQ(login.Verify(kTimestamp, kSignature, kBody).message(),
            "The request's timestamp is more than 5 minutes from now.");
}

TEST_F(SlackLoginTest, SlackUsersMapToTheUserThatNamesThem) {
  SlackLogin login = Login();
  Result<std::string> ana = login.UserFor("T1", "U0ANA");
  ASSERT_TRUE(ana.ok()) << ana.status().ToString();
  EXPECT_EQ(*ana, "ana");
  Result<std::string> stranger = login.UserFor("T1", "U0NOBODY");
  EXPECT_EQ(stranger.status().code(), StatusCode::kNotFound);
  EXPECT_NE(stranger.status().message().find("No dashboard user is linked to Slack user U0NOBODY"), std::string::npos);
  AddUser("impostor", "U0ANA");
  EXPECT_EQ(login.UserFor("T1", "U0ANA").status().code(), StatusCode::kPreconditionFailed);
}

TEST_F(SlackLoginTest, OnlyTheAdmittedWorkspacesSignIn) {
  SlackLogin login = Login({"T1"});
  EXPECT_TRUE(login.UserFor("T1", "U0ANA").ok());
  EXPECT_EQ(login.UserFor("T2", "U0ANA").status().code(), StatusCode::kPermissionDenied);
}

TEST_F(SlackLoginTest, ALinkRedeemsOnceWithinFiveMinutes) {
  SlackLogin login = Login();
  const std::string token = login.IssueLink("ana");
  const std::string other = login.IssueLink("ana");
  EXPECT_NE(token, other);
  clock_.Advance(seconds(299));
  Result<std::string> first = login.Redeem(token);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, "ana");
  Result<std::string> again = login.Redeem(token);
  EXPECT_EQ(again.status().code(), StatusCode::kPreconditionFailed);
  EXPECT_NE(again.status().message().find("already used"), std::string::npos);

  clock_.Advance(seconds(1));  // `other` is now 300 s old
  Result<std::string> late = login.Redeem(other);
  EXPECT_EQ(late.status().code(), StatusCode::kDeadlineExceeded);
  EXPECT_NE(late.status().message().find("expired"), std::string::npos);
}

TEST_F(SlackLoginTest, ForgedAndEmptyTokensAreNotValid) {
  SlackLogin login = Login();
  const std::string token = login.IssueLink("ana");
  for (const std::string& forged : {std::string(), token + "x", token.substr(1), std::string(32, 'A')}) {
    Result<std::string> r = login.Redeem(forged);
    EXPECT_EQ(r.status().code(), StatusCode::kNotFound) << forged;
    EXPECT_NE(r.status().message().find("not valid"), std::string::npos);
  }
  EXPECT_TRUE(login.Redeem(token).ok()) << "failed guesses do not spend the real link";
}

TEST_F(SlackLoginTest, LongSpentLinksAreForgotten) {
  SlackLogin login = Login();
  const std::string token = login.IssueLink("ana");
  clock_.Advance(seconds(300) + std::chrono::hours(1));
  login.IssueLink("bo");  // issuing purges
  EXPECT_EQ(login.Redeem(token).status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace wisp::store
