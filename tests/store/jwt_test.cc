#include "store/jwt.h"

#include <gtest/gtest.h>

#include "testing/jwt.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

using testing::SignJwt;

constexpr int64_t kNow = 1'800'000'000;
const std::string kSecret = "a secret of the identity provider";

JwtOptions Options() {
  JwtOptions options;
  options.hmac_keys["_default"] = kSecret;
  return options;
}

Json Claims(Json extra = Json::object()) {
  Json claims = {{"sub", "ana"}, {"exp", kNow + 60}, {"_couchdb.roles", {"advocate"}}};
  claims.update(extra);
  return claims;
}

TEST(JwtTest, ValidTokenNamesTheSubjectAndItsRoles) {
  Result<JwtIdentity> who = VerifyJwt(SignJwt(Claims(), kSecret), Options(), kNow);
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  EXPECT_EQ(who->name, "ana");
  EXPECT_EQ(who->roles, std::vector<std::string>{"advocate"});
}

TEST(JwtTest, EveryHmacAlgorithmVerifies) {
  for (const char* alg : {"HS256", "HS384", "HS512"}) {
    EXPECT_TRUE(VerifyJwt(SignJwt(Claims(), kSecret, alg), Options(), kNow).ok()) << alg;
  }
}

TEST(JwtTest, RolesComeFromANestedClaimPathOrACommaList) {
  JwtOptions options = Options();
  options.roles_claim_path = "realm_access.roles";
  Json claims = Claims({{"realm_access", {{"roles", {"a", "b"}}}}});
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), options, kNow)->roles, (std::vector<std::string>{"a", "b"}));

  options.roles_claim_path = R"(https://example\.com/roles)";
  claims = Claims({{"https://example.com/roles", "x, y"}});
  EXPECT_EQ(VerifyJwt(SignJwt(claims, kSecret), options, kNow)->roles, (std::vector<std::string>{"x", "y"}));
}

TEST(JwtTest, KeyIdSelectsTheSecret) {
  JwtOptions options;
  ASSERT_TRUE(AddJwtKey(options, "idp1:" + Base64Encode("first")).ok());
  const std::string token = SignJwt(Claims(), "first", "HS256", {{"kid", "idp1"}});
  EXPECT_TRUE(VerifyJwt(token, options, kNow).ok());
  Result<JwtIdentity> unknown = VerifyJwt(SignJwt(Claims(), "first", "HS256", {{"kid", "other"}}), options, kNow);
  EXPECT_TRUE(unknown.status().IsInvalidArgument());
}

TEST(JwtTest, WrongSecretIsABadSignature) {
  Result<JwtIdentity> who = VerifyJwt(SignJwt(Claims(), "not the secret"), Options(), kNow);
  ASSERT_FALSE(who.ok());
  EXPECT_TRUE(who.status().IsInvalidArgument());
  EXPECT_EQ(who.status().message(), "Bad signature in authentication token");
}

TEST(JwtTest, TamperedClaimsAreABadSignature) {
  std::string token = SignJwt(Claims(), kSecret);
  const size_t dot = token.find('.');
  const std::string forged = testing::Base64Url(json::Dump(Claims({{"sub", "admin"}, {"_couchdb.roles", {"_admin"}}})));
  token = token.substr(0, dot + 1) + forged + token.substr(token.rfind('.'));
  EXPECT_EQ(VerifyJwt(token, Options(), kNow).status().message(), "Bad signature in authentication token");
}

TEST(JwtTest, MalformedTokensAre400) {
  for (const std::string& token : {std::string("abc"), std::string("a.b"), std::string("a.b.c.d"),
                                   std::string("!!.??.**"), SignJwt(Claims(), kSecret) + "=="}) {
    Result<JwtIdentity> who = VerifyJwt(token, Options(), kNow);
    ASSERT_FALSE(who.ok()) << token;
    EXPECT_TRUE(who.status().IsInvalidArgument()) << token;
  }
  EXPECT_EQ(VerifyJwt("abc", Options(), kNow).status().message(), "Malformed authentication token");
}

TEST(JwtTest, AlgNoneAndUnknownAlgorithmsAreRefused) {
  Json header = {{"alg", "none"}};
  const std::string unsigned_token =
      testing::Base64Url(json::Dump(header)) + "." + testing::Base64Url(json::Dump(Claims())) + ".";
  EXPECT_TRUE(VerifyJwt(unsigned_token, Options(), kNow).status().IsInvalidArgument());
  EXPECT_TRUE(VerifyJwt(SignJwt(Claims(), kSecret, "RS256"), Options(), kNow).status().IsInvalidArgument());
}

TEST(JwtTest, TimeClaimsAreChecked) {
  Result<JwtIdentity> expired = VerifyJwt(SignJwt(Claims({{"exp", kNow}}), kSecret), Options(), kNow);
  EXPECT_TRUE(expired.status().IsUnauthenticated());
  EXPECT_EQ(expired.status().message(), "exp not in future");

  Result<JwtIdentity> early = VerifyJwt(SignJwt(Claims({{"nbf", kNow + 10}}), kSecret), Options(), kNow);
  EXPECT_TRUE(early.status().IsUnauthenticated());
  EXPECT_EQ(early.status().message(), "nbf not in past");
}

TEST(JwtTest, RequiredClaimsAndSubject) {
  Json no_exp = Claims();
  no_exp.erase("exp");
  EXPECT_EQ(VerifyJwt(SignJwt(no_exp, kSecret), Options(), kNow).status().message(), "Missing exp claim");

  JwtOptions options = Options();
  options.required_claims = {"exp", "iat"};
  EXPECT_EQ(VerifyJwt(SignJwt(Claims(), kSecret), options, kNow).status().message(), "Missing iat claim");

  Json no_sub = Claims();
  no_sub.erase("sub");
  Result<JwtIdentity> anonymous = VerifyJwt(SignJwt(no_sub, kSecret), Options(), kNow);
  EXPECT_TRUE(anonymous.status().IsUnauthenticated());
  EXPECT_EQ(anonymous.status().message(), "Token missing sub claim.");
}

TEST(JwtTest, EveryRsaAlgorithmVerifiesWithThePublicKey) {
  testing::RsaSigner idp;
  JwtOptions options;
  ASSERT_TRUE(AddJwtRsaKey(options, "", idp.PublicKeyPem()).ok());
  for (const char* alg : {"RS256", "RS384", "RS512"}) {
    Result<JwtIdentity> who = VerifyJwt(idp.Sign(Claims(), alg), options, kNow);
    ASSERT_TRUE(who.ok()) << alg << ": " << who.status().ToString();
    EXPECT_EQ(who->name, "ana");
  }
}

TEST(JwtTest, AnotherRsaKeysSignatureIsABadSignature) {
  testing::RsaSigner idp, impostor;
  JwtOptions options;
  ASSERT_TRUE(AddJwtRsaKey(options, "idp", idp.PublicKeyPem()).ok());
  Result<JwtIdentity> who = VerifyJwt(impostor.Sign(Claims(), "RS256", {{"kid", "idp"}}), options, kNow);
  EXPECT_EQ(who.status().message(), "Bad signature in authentication token");
  // A tampered claim under the right key fails the same way.
  std::string token = idp.Sign(Claims(), "RS256", {{"kid", "idp"}});
  const std::string forged = testing::Base64Url(json::Dump(Claims({{"sub", "admin"}})));
  token = token.substr(0, token.find('.') + 1) + forged + token.substr(token.rfind('.'));
  EXPECT_EQ(VerifyJwt(token, options, kNow).status().message(), "Bad signature in authentication token");
}

TEST(JwtTest, APublicKeyIsNeverUsedAsAnHmacSecret) {
  // The classic confusion: sign HS256 with the (public) PEM text as the secret.
  testing::RsaSigner idp;
  JwtOptions options;
  ASSERT_TRUE(AddJwtRsaKey(options, "", idp.PublicKeyPem()).ok());
  Result<JwtIdentity> who = VerifyJwt(SignJwt(Claims(), idp.PublicKeyPem(), "HS256"), options, kNow);
  ASSERT_FALSE(who.ok());
  EXPECT_TRUE(who.status().IsInvalidArgument()) << who.status().ToString();
}

TEST(JwtTest, ExpiredRsaTokensAre401) {
  testing::RsaSigner idp;
  JwtOptions options;
  ASSERT_TRUE(AddJwtRsaKey(options, "", idp.PublicKeyPem()).ok());
  Result<JwtIdentity> who = VerifyJwt(idp.Sign(Claims({{"exp", kNow - 1}})), options, kNow);
  EXPECT_TRUE(who.status().IsUnauthenticated());
  EXPECT_EQ(who.status().message(), "exp not in future");
}

TEST(JwtTest, AConfiguredAudienceMustBeNamedInAud) {
  JwtOptions options = Options();
  options.audience = "wisp";
  EXPECT_TRUE(VerifyJwt(SignJwt(Claims({{"aud", "wisp"}}), kSecret), options, kNow).ok());
  EXPECT_TRUE(VerifyJwt(SignJwt(Claims({{"aud", {"other", "wisp"}}}), kSecret), options, kNow).ok());
  for (const Json& aud : {Json("other"), Json::array({"other"}), Json(5)}) {
    Result<JwtIdentity> who = VerifyJwt(SignJwt(Claims({{"aud", aud}}), kSecret), options, kNow);
    EXPECT_EQ(who.status().message(), "Invalid aud claim") << aud;
    EXPECT_TRUE(who.status().IsInvalidArgument());
  }
  EXPECT_EQ(VerifyJwt(SignJwt(Claims(), kSecret), options, kNow).status().message(), "Invalid aud claim")
      << "a token without aud is for anyone, not for us";
}

TEST(JwtTest, AConfiguredIssuerMustMatchIss) {
  JwtOptions options = Options();
  options.issuer = "https://idp.example";
  EXPECT_TRUE(VerifyJwt(SignJwt(Claims({{"iss", "https://idp.example"}}), kSecret), options, kNow).ok());
  EXPECT_EQ(VerifyJwt(SignJwt(Claims({{"iss", "https://evil.example"}}), kSecret), options, kNow).status().message(),
            "Invalid iss claim");
  EXPECT_EQ(VerifyJwt(SignJwt(Claims(), kSecret), options, kNow).status().message(), "Invalid iss claim");
}

TEST(JwtTest, RsaKeysMustBePemPublicKeys) {
  JwtOptions options;
  EXPECT_TRUE(AddJwtRsaKey(options, "", "not a key").IsInvalidArgument());
  EXPECT_TRUE(AddJwtRsaKey(options, "", Base64Encode("secret")).IsInvalidArgument());
  EXPECT_FALSE(options.enabled());
}

TEST(JwtTest, KeySpecsNeedBase64Secrets) {
  JwtOptions options;
  EXPECT_TRUE(AddJwtKey(options, Base64Encode("s")).ok());
  EXPECT_EQ(options.hmac_keys.count("_default"), 1u);
  EXPECT_TRUE(AddJwtKey(options, "not base64!").IsInvalidArgument());
  EXPECT_TRUE(AddJwtKey(options, "").IsInvalidArgument());
  EXPECT_TRUE(AddJwtKey(options, ":" + Base64Encode("s")).IsInvalidArgument());
}

}  // namespace
}  // namespace wisp::store
