#include "store/jwt.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>

#include <algorithm>
#include <memory>
#include <string>

#include "json/json.h"
#include "util/base64.h"

namespace wisp::store {
namespace {

constexpr std::string_view kMalformed = "Malformed authentication token";
constexpr std::string_view kBadSignature = "Bad signature in authentication token";
constexpr std::string_view kDefaultKid = "_default";

Result<std::string> Base64UrlDecode(std::string_view text) {
  if (text.find_first_of("+/=") != std::string_view::npos) return Status::InvalidArgument(std::string(kMalformed));
  std::string standard(text);
  std::replace(standard.begin(), standard.end(), '-', '+');
  std::replace(standard.begin(), standard.end(), '_', '/');
  Result<std::string> decoded = Base64Decode(standard);
  if (!decoded.ok()) return Status::InvalidArgument(std::string(kMalformed));
  return decoded;
}

enum class KeyKind { kHmac, kRsa };

// The digest and key kind of an algorithm we accept; null for the others
// (`none` among them).
const EVP_MD* DigestOf(const std::string& alg, KeyKind* kind) {
  if (alg.size() != 5 || (alg.compare(0, 2, "HS") != 0 && alg.compare(0, 2, "RS") != 0)) return nullptr;
  *kind = alg[0] == 'H' ? KeyKind::kHmac : KeyKind::kRsa;
  const std::string bits = alg.substr(2);
  if (bits == "256") return EVP_sha256();
  if (bits == "384") return EVP_sha384();
  if (bits == "512") return EVP_sha512();
  return nullptr;
}

struct PkeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Pkey = std::unique_ptr<EVP_PKEY, PkeyFree>;

// The RSA public key in `pem`, or null.
Pkey ParseRsaPublicKey(std::string_view pem) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())), BIO_free);
  if (!bio) return nullptr;
  Pkey key(PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr));
  if (!key || EVP_PKEY_base_id(key.get()) != EVP_PKEY_RSA) return nullptr;
  return key;
}

bool RsaSignatureMatches(const EVP_MD* md, const std::string& pem, std::string_view signed_part,
                         const std::string& signature) {
  Pkey key = ParseRsaPublicKey(pem);
  if (!key) return false;
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  if (!ctx || EVP_DigestVerifyInit(ctx.get(), nullptr, md, nullptr, key.get()) != 1) return false;
  return EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                          reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size()) == 1;
}

// Whether `aud` (a string or an array of strings) names `audience`.
bool AudienceMatches(const Json& claims, const std::string& audience) {
  if (!claims.contains("aud")) return false;
  const Json& aud = claims["aud"];
  if (aud.is_string()) return aud.get_ref<const std::string&>() == audience;
  if (!aud.is_array()) return false;
  return std::any_of(aud.begin(), aud.end(),
                     [&](const Json& a) { return a.is_string() && a.get_ref<const std::string&>() == audience; });
}

bool SignatureMatches(const EVP_MD* md, const std::string& key, std::string_view signed_part,
                      const std::string& signature) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, key.data(), static_cast<int>(key.size()), reinterpret_cast<const unsigned char*>(signed_part.data()),
       signed_part.size(), mac, &len);
  return signature.size() == len && CRYPTO_memcmp(mac, signature.data(), len) == 0;
}

// The segments of a dotted claim path; "\." is a dot inside a segment.
std::vector<std::string> SplitClaimPath(std::string_view path) {
  std::vector<std::string> segments(1);
  for (size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '\\' && i + 1 < path.size() && path[i + 1] == '.') {
      segments.back() += '.';
      ++i;
    } else if (path[i] == '.') {
      segments.emplace_back();
    } else {
      segments.back() += path[i];
    }
  }
  return segments;
}

std::vector<std::string> RolesAt(const Json& claims, const std::string& path) {
  const Json* at = &claims;
  for (const std::string& segment : SplitClaimPath(path)) {
    if (!at->is_object() || !at->contains(segment)) return {};
    at = &(*at)[segment];
  }
  std::vector<std::string> roles;
  if (at->is_array()) {
    for (const Json& role : *at) {
      if (role.is_string()) roles.push_back(role.get<std::string>());
    }
  } else if (at->is_string()) {
    const std::string& text = at->get_ref<const std::string&>();
    size_t start = 0;
    while (start <= text.size()) {
      size_t comma = text.find(',', start);
      if (comma == std::string::npos) comma = text.size();
      std::string role = text.substr(start, comma - start);
      role.erase(0, role.find_first_not_of(' '));
      role.erase(role.find_last_not_of(' ') + 1);
      if (!role.empty()) roles.push_back(role);
      start = comma + 1;
    }
  }
  return roles;
}

// A time claim as CouchDB reads it: a number of seconds.
Result<int64_t> TimeClaim(const Json& claims, const std::string& name) {
  const Json& value = claims[name];
  if (!value.is_number()) return Status::InvalidArgument(name + " claim must be a number");
  return value.is_number_integer() ? value.get<int64_t>() : static_cast<int64_t>(value.get<double>());
}

}  // namespace

Result<JwtIdentity> VerifyJwt(std::string_view token, const JwtOptions& options, int64_t now_seconds) {
  const size_t first = token.find('.');
  const size_t second = first == std::string_view::npos ? first : token.find('.', first + 1);
  if (second == std::string_view::npos || token.find('.', second + 1) != std::string_view::npos) {
    return Status::InvalidArgument(std::string(kMalformed));
  }
  WISP_ASSIGN_OR_RETURN(std::string header_text, Base64UrlDecode(token.substr(0, first)));
  WISP_ASSIGN_OR_RETURN(std::string claims_text, Base64UrlDecode(token.substr(first + 1, second - first - 1)));
  WISP_ASSIGN_OR_RETURN(std::string signature, Base64UrlDecode(token.substr(second + 1)));
  Result<Json> header = json::Parse(header_text);
  Result<Json> claims = json::Parse(claims_text);
  if (!header.ok() || !header->is_object() || !claims.ok() || !claims->is_object()) {
    return Status::InvalidArgument(std::string(kMalformed));
  }
  if (header->contains("typ") && json::GetString(*header, "typ") != "JWT") {
    return Status::InvalidArgument("Only JWT type tokens are supported");
  }
  const std::string alg = json::GetString(*header, "alg");
  if (alg.empty()) return Status::InvalidArgument("Missing alg header parameter");
  KeyKind kind = KeyKind::kHmac;
  const EVP_MD* md = DigestOf(alg, &kind);
  if (md == nullptr) return Status::InvalidArgument("Invalid alg header parameter");
  const std::string kid = json::GetString(*header, "kid", std::string(kDefaultKid));
  const std::map<std::string, std::string>& keys = kind == KeyKind::kHmac ? options.hmac_keys : options.rsa_keys;
  auto key = keys.find(kid);
  if (key == keys.end()) return Status::InvalidArgument("Unknown kid");
  const bool matches = kind == KeyKind::kHmac ? SignatureMatches(md, key->second, token.substr(0, second), signature)
                                              : RsaSignatureMatches(md, key->second, token.substr(0, second), signature);
  if (!matches) return Status::InvalidArgument(std::string(kBadSignature));
  for (const std::string& claim : options.required_claims) {
    if (!claims->contains(claim)) return Status::InvalidArgument("Missing " + claim + " claim");
  }
  if (claims->contains("exp")) {
    WISP_ASSIGN_OR_RETURN(int64_t exp, TimeClaim(*claims, "exp"));
    if (exp <= now_seconds) return Status::Unauthenticated("exp not in future");
  }
  if (claims->contains("nbf")) {
    WISP_ASSIGN_OR_RETURN(int64_t nbf, TimeClaim(*claims, "nbf"));
    if (nbf > now_seconds) return Status::Unauthenticated("nbf not in past");
  }
  if (!options.issuer.empty() && json::GetString(*claims, "iss") != options.issuer) {
    return Status::InvalidArgument("Invalid iss claim");
  }
  if (!options.audience.empty() && !AudienceMatches(*claims, options.audience)) {
    return Status::InvalidArgument("Invalid aud claim");
  }
  const std::string sub = json::GetString(*claims, "sub");
  if (sub.empty()) return Status::Unauthenticated("Token missing sub claim.");
  return JwtIdentity{sub, RolesAt(*claims, options.roles_claim_path)};
}

Status AddJwtKey(JwtOptions& options, std::string_view spec) {
  std::string kid(kDefaultKid);
  std::string_view secret = spec;
  if (const size_t colon = spec.find(':'); colon != std::string_view::npos) {
    kid = std::string(spec.substr(0, colon));
    secret = spec.substr(colon + 1);
  }
  Result<std::string> decoded = Base64Decode(secret);
  if (kid.empty() || !decoded.ok() || decoded->empty()) {
    return Status::InvalidArgument("a JWT key must be BASE64 or KID:BASE64, with a non-empty secret");
  }
  options.hmac_keys[kid] = std::move(*decoded);
  return Status::Ok();
}

Status AddJwtRsaKey(JwtOptions& options, std::string kid, std::string_view pem) {
  if (kid.empty()) kid = kDefaultKid;
  if (!ParseRsaPublicKey(pem)) return Status::InvalidArgument("not an RSA public key in PEM (BEGIN PUBLIC KEY)");
  options.rsa_keys[kid] = std::string(pem);
  return Status::Ok();
}

}  // namespace wisp::store
