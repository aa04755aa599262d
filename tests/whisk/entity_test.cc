// The pure rules of OpenWhisk entities: names, parameters, versions, limits,
// credentials, activation ids and log lines.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "testing/temp_dir.h"

#include "util/base64.h"
#include "whisk/activation.h"
#include "whisk/entity.h"
#include "whisk/identity.h"

namespace wisp::whisk {
namespace {

TEST(EntityName, AcceptsOpenWhiskNames) {
  for (const char* name : {"a", "hello", "my action", "a.b-c@d&e", "x_1", "ends-", "ends.", "_"}) {
    EXPECT_TRUE(IsValidEntityName(name)) << name;
  }
  EXPECT_TRUE(IsValidEntityName(std::string(256, 'a')));
}

TEST(EntityName, RejectsIllegalNames) {
  for (const char* name : {"", " lead", "trail ", "-lead", "a/b", "a$b", "caf\xc3\xa9", "a\nb"}) {
    EXPECT_FALSE(IsValidEntityName(name)) << name;
  }
  EXPECT_FALSE(IsValidEntityName(std::string(257, 'a')));
}

TEST(EntityName, FullyQualifiedNamesResolveTheDefaultNamespace) {
  Result<EntityName> a = ParseFullyQualifiedName("/_/pkg/act", "guest");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->ns, "guest");
  EXPECT_EQ(a->package, "pkg");
  EXPECT_EQ(a->DocId(), "guest/pkg/act");
  EXPECT_EQ(a->Path(), "guest/pkg");
  EXPECT_EQ(a->Relative(), "pkg/act");
  Result<EntityName> b = ParseFullyQualifiedName("whisk.system/utils", "guest");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->FullName(), "/whisk.system/utils");

  Result<EntityName> bare = ParseFullyQualifiedName("act", "guest");
  ASSERT_FALSE(bare.ok());
  EXPECT_EQ(bare.status().message(), kNotFqText);
  EXPECT_EQ(ParseFullyQualifiedName("/g/a/b/c", "guest").status().message(), kIllegalNameText);
  EXPECT_EQ(ParseFullyQualifiedName("/g/a$", "guest").status().message(), kIllegalNameText);
}

TEST(Parameters, HigherLayersReplaceLowerOnesByKey) {
  const Json package = Json::parse(R"([{"key":"a","value":"pkg"},{"key":"b","value":"pkg"}])");
  const Json binding = Json::parse(R"([{"key":"b","value":"binding"}])");
  const Json action = Json::parse(R"([{"key":"c","value":"action"},{"key":"e","value":"x","init":true}])");
  const Json merged = MergeKeyValues(MergeKeyValues(package, binding), action);
  EXPECT_EQ(KeyValuesToObject(merged, /*skip_init=*/true), Json::parse(R"({"a":"pkg","b":"binding","c":"action"})"));
  EXPECT_EQ(KeyValuesToObject(merged).value("e", ""), "x");
}

TEST(Parameters, TruthyAnnotations) {
  const Json list = Json::parse(R"([{"key":"t","value":true},{"key":"f","value":false},{"key":"s","value":""}])");
  EXPECT_TRUE(KeyValueIsTrue(list, "t"));
  EXPECT_FALSE(KeyValueIsTrue(list, "f"));
  EXPECT_FALSE(KeyValueIsTrue(list, "s"));
  EXPECT_FALSE(KeyValueIsTrue(list, "missing"));
}

TEST(Parameters, MalformedListsAreRefused) {
  EXPECT_TRUE(ValidateKeyValues(Json::parse(R"([{"key":"a","value":1}])"), "parameters").ok());
  const Status bad = ValidateKeyValues(Json::parse(R"({"a":1})"), "parameters");
  EXPECT_TRUE(bad.IsInvalidArgument());
  EXPECT_EQ(bad.message().rfind(std::string(kMalformedPrefix), 0), 0u);
  EXPECT_FALSE(ValidateKeyValues(Json::parse(R"([{"value":1}])"), "annotations").ok());
}

TEST(Version, PatchIsBumped) {
  EXPECT_EQ(NextVersion("0.0.1"), "0.0.2");
  EXPECT_EQ(NextVersion("1.2.9"), "1.2.10");
  EXPECT_TRUE(IsValidVersion("10.0.3"));
  EXPECT_FALSE(IsValidVersion("1.0"));
  EXPECT_FALSE(IsValidVersion("1.0.x"));
}

TEST(Limits, DefaultsAndFieldByFieldMerge) {
  const LimitBounds bounds;
  Result<Json> defaults = MergeLimits(Json::object(), Json(), bounds);
  ASSERT_TRUE(defaults.ok());
  EXPECT_EQ(*defaults, Json::parse(R"({"timeout":60000,"memory":256,"logs":10,"concurrency":1})"));
  Result<Json> merged = MergeLimits(*defaults, Json::parse(R"({"memory":512})"), bounds);
  ASSERT_TRUE(merged.ok());
  EXPECT_EQ(merged->value("memory", 0), 512);
  EXPECT_EQ(merged->value("timeout", 0), 60000);
}

TEST(Limits, OutOfRangeValuesGetOpenWhiskTexts) {
  const LimitBounds bounds;
  const std::string prefix = std::string(kMalformedPrefix) + "requirement failed: ";
  const auto error = [&](const char* limits) {
    return MergeLimits(Json::object(), Json::parse(limits), bounds).status().message();
  };
  EXPECT_EQ(error(R"({"timeout":99})"),
            prefix + "duration 99 milliseconds below allowed threshold of 100 milliseconds");
  EXPECT_EQ(error(R"({"timeout":300001})"),
            prefix + "duration 300001 milliseconds exceeds allowed threshold of 300000 milliseconds");
  EXPECT_EQ(error(R"({"memory":64})"), prefix + "memory 64 MB below allowed threshold of 134217728 B");
  EXPECT_EQ(error(R"({"logs":11})"), prefix + "log size 11 MB exceeds allowed threshold of 10485760 B");
  EXPECT_EQ(error(R"({"concurrency":10})"), prefix + "concurrency 10 exceeds allowed threshold of 1");
  EXPECT_EQ(error(R"({"instances":31})"), prefix + "instances 31 exceeds allowed threshold of 30");
  EXPECT_TRUE(MergeLimits(Json::object(), Json::parse(R"({"timeout":"x"})"), bounds).status().IsInvalidArgument());
}

TEST(Code, BinaryDetectionFollowsOpenWhisksQuirk) {
  EXPECT_TRUE(
      LooksLikeBase64(Base64Encode("\x7f"
                                   "ELF binary")));
  EXPECT_TRUE(LooksLikeBase64("abcd"));  // short plain text that happens to be base64
  EXPECT_FALSE(LooksLikeBase64("#!/bin/sh\necho hi"));
  EXPECT_FALSE(LooksLikeBase64(""));
  EXPECT_FALSE(LooksLikeBase64("abc"));
}

TEST(Identities, BasicAuthFindsTheNamespace) {
  Identities ids;
  ASSERT_TRUE(ids.Add("guest", "guest", kDevGuestCredential).ok());
  EXPECT_FALSE(ids.Add("x", "x", "not-a-uuid:key").ok());
  Result<Identity> ok = ids.Authenticate("Basic " + Base64Encode(std::string(kDevGuestCredential)));
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->namespace_name, "guest");
  EXPECT_EQ(ok->Credential(), kDevGuestCredential);

  EXPECT_EQ(ids.Authenticate("").status().message(), kNoAuthText);
  EXPECT_EQ(ids.Authenticate("Bearer x").status().message(), kNoAuthText);
  std::string wrong(kDevGuestCredential);
  wrong.back() = wrong.back() == 'P' ? 'Q' : 'P';
  EXPECT_EQ(ids.Authenticate("Basic " + Base64Encode(wrong)).status().message(), kBadAuthText);
  EXPECT_TRUE(ids.Authenticate("Basic !!!").status().IsUnauthenticated());
}

TEST(WhiskKeys, GeneratedOnceKeptPrivateAndReadBack) {
  testing::TempDir dir;
  Result<WhiskKeys> first = ResolveWhiskKeys(dir.path(), "", false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_TRUE(IsValidCredential(first->guest));
  EXPECT_TRUE(IsValidCredential(first->system));
  EXPECT_NE(first->guest, kDevGuestCredential);
  const std::string file = dir.path() + "/whisk_auth.json";
  struct stat st {};
  ASSERT_EQ(stat(file.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  Result<WhiskKeys> again = ResolveWhiskKeys(dir.path(), "", false);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->guest, first->guest);
  EXPECT_EQ(again->system, first->system);

  const std::string given = "0b4ae9c4-1f7e-4d4e-9b3c-2f4a5d6e7f80:" + std::string(64, 'k');
  Result<WhiskKeys> flag = ResolveWhiskKeys(dir.path(), given, false);
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->guest, given);
  EXPECT_EQ(flag->system, first->system);
  EXPECT_TRUE(ResolveWhiskKeys(dir.path(), "uuid:short", false).status().IsInvalidArgument());

  Result<WhiskKeys> dev = ResolveWhiskKeys(dir.path(), "", true);
  ASSERT_TRUE(dev.ok());
  EXPECT_EQ(dev->guest, kDevGuestCredential);
  EXPECT_EQ(dev->system, kDevSystemCredential);
}

TEST(WhiskKeys, ABrokenKeyFileIsAnError) {
  testing::TempDir dir;
  std::ofstream(dir.path() + "/whisk_auth.json") << "{\"guest\": 1}";
  EXPECT_TRUE(ResolveWhiskKeys(dir.path(), "", false).status().IsInvalidArgument());
}

TEST(ActivationId, BadIdsGetOpenWhiskTexts) {
  EXPECT_EQ(ValidateActivationId("abc").message(), "Activation id length is 3 but must be 32.");
  EXPECT_EQ(ValidateActivationId(std::string(32, 'g')).message(), "The activation id is not valid.");
  EXPECT_EQ(ValidateActivationId(std::string(32, 'A')).message(), "The activation id is not valid.");
  EXPECT_TRUE(ValidateActivationId(std::string(32, 'a')).ok());
}

TEST(ActivationId, IdsSortByCreationTime) {
  const Clock::WallTime t0 = Clock::WallTime(std::chrono::milliseconds(1'700'000'000'000));
  const std::string a = NewActivationId(t0);
  const std::string b = NewActivationId(t0 + std::chrono::milliseconds(1));
  EXPECT_TRUE(ValidateActivationId(a).ok());
  EXPECT_LT(a, b);
  EXPECT_NE(NewActivationId(t0), NewActivationId(t0));
}

TEST(ActivationViews, ExtendedAndSummaryShapes) {
  const Json stored = Json::parse(R"({"_id":"guest/x","_rev":"1-a","trace_id":"t","nameKey":"n",
    "namespace":"guest","name":"n","version":"0.0.1","publish":false,"activationId":"x","start":1,"end":0,
    "duration":0,"response":{"statusCode":2,"result":{"error":"e"}},"annotations":[]})");
  const Json extended = ExtendedActivation(stored);
  EXPECT_FALSE(extended.contains("_id"));
  EXPECT_FALSE(extended.contains("trace_id"));
  EXPECT_FALSE(extended.contains("end"));
  EXPECT_FALSE(extended.contains("duration"));
  EXPECT_EQ(extended["response"], Json::parse(R"({"result":{"error":"e"},"status":"action developer error",
    "success":false})"));
  const Json summary = SummaryActivation(stored);
  EXPECT_FALSE(summary.contains("statusCode"));
  EXPECT_FALSE(summary.contains("response"));
}

}  // namespace
}  // namespace wisp::whisk
