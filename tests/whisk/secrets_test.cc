// The rules of secrets.h: which names are secret, masking in entity answers,
// the update that sends the mask back, and the redaction of records.
#include "whisk/secrets.h"

#include <gtest/gtest.h>

#include "whisk/entity.h"

namespace wisp::whisk {
namespace {

Json Params(std::initializer_list<std::pair<const char*, Json>> items) {
  Json out = Json::array();
  for (const auto& [key, value] : items) out.push_back({{"key", key}, {"value", value}});
  return out;
}

TEST(Secrets, KnownNamesAndAnnotatedNamesAreSecret) {
  const Json annotations = Params({{"secret-parameters", Json::array({"token", 7})}});
  const auto names = SecretNames({&annotations, nullptr});
  for (const char* name : {"slackURL", "botURL", "apikey", "store_password", "password", "api_key", "token"}) {
    EXPECT_TRUE(names.count(name)) << name;
  }
  EXPECT_FALSE(names.count("site"));
  EXPECT_FALSE(names.count("slackurl")) << "names are exact";
}

TEST(Secrets, MaskEntityHidesValuesButNotEmptyOnes) {
  Json entity = {{"name", "so"},
                 {"parameters", Params({{"slackURL", "https://hooks.slack.com/x"}, {"apikey", ""}, {"site", "so"}})},
                 {"annotations", Json::array()}};
  const Json masked = MaskEntity(entity);
  EXPECT_EQ(KeyValue(masked["parameters"], "slackURL"), kMaskedValue);
  EXPECT_EQ(KeyValue(masked["parameters"], "apikey"), "") << "nothing to hide";
  EXPECT_EQ(KeyValue(masked["parameters"], "site"), "so");
  EXPECT_EQ(MaskEntity(Json{{"name", "rule"}}), Json({{"name", "rule"}})) << "no parameters, nothing changes";
}

TEST(Secrets, TheMaskSentBackKeepsTheStoredValueAndANewValueReplacesIt) {
  const Json stored = Params({{"password", "old-secret"}, {"user", "ada"}});
  const auto names = SecretNames({});
  const Json kept = RestoreMaskedParameters(Params({{"password", kMaskedValue}, {"user", "grace"}}), stored, names);
  EXPECT_EQ(KeyValue(kept, "password"), "old-secret");
  EXPECT_EQ(KeyValue(kept, "user"), "grace");
  const Json changed = RestoreMaskedParameters(Params({{"password", "new-secret"}}), stored, names);
  EXPECT_EQ(KeyValue(changed, "password"), "new-secret");
  // A non-secret parameter whose value happens to be the mask is stored as sent.
  const Json literal = RestoreMaskedParameters(Params({{"user", kMaskedValue}}), stored, names);
  EXPECT_EQ(KeyValue(literal, "user"), kMaskedValue);
}

TEST(Secrets, RedactorMasksSecretKeysAndSecretValuesInTextAndLogs) {
  SecretRedactor redactor;
  redactor.Add(SecretNames({}), Json{{"slackURL", "https://hooks.slack.com/T/B/abc"}, {"apikey", "k1"}, {"n", 1}});
  redactor.Add(SecretNames({}), Params({{"password", Json{{"nested", true}}}}));
  Json record = {{"response",
                  {{"result",
                    {{"error", "POST https://hooks.slack.com/T/B/abc failed"},
                     {"deep", {{"password", "whatever"}, {"list", {"x https://hooks.slack.com/T/B/abc y"}}}},
                     {"apikey", "k1"},
                     {"short", "k1 stays: too short to search for"}}}}},
                 {"logs", {"2026-11-28T00:00:00.000000000Z stdout: url=https://hooks.slack.com/T/B/abc"}}};
  const Json out = redactor.RedactRecord(record);
  const Json& result = out["response"]["result"];
  EXPECT_EQ(result["error"], "POST ******** failed");
  EXPECT_EQ(result["deep"]["password"], kMaskedValue);
  EXPECT_EQ(result["deep"]["list"][0], "x ******** y");
  EXPECT_EQ(result["apikey"], kMaskedValue);
  EXPECT_EQ(result["short"], "k1 stays: too short to search for");
  EXPECT_EQ(out["logs"][0], "2026-11-28T00:00:00.000000000Z stdout: url=********");
  EXPECT_EQ(redactor.Redact(std::string_view(R"(x {"nested":true} y)")), "x ******** y") << "non-strings as JSON";
}

}  // namespace
}  // namespace wisp::whisk
