// Signs JWTs for tests, the way an identity provider would: base64url of the
// header and claims, and an HMAC (HS*) or an RSA signature (RS*) over them.
#pragma once

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include <algorithm>
#include <memory>
#include <string>

#include "json/json.h"
#include "util/base64.h"

namespace wisp::testing {

inline std::string Base64Url(std::string_view bytes) {
  std::string b64 = Base64Encode(bytes);
  std::replace(b64.begin(), b64.end(), '+', '-');
  std::replace(b64.begin(), b64.end(), '/', '_');
  while (!b64.empty() && b64.back() == '=') b64.pop_back();
  return b64;
}

// A token for `claims`, signed with `secret` by `alg` (HS256, HS384, HS512).
inline std::string SignJwt(const Json& claims, const std::string& secret, const std::string& alg = "HS256",
                           Json header = Json::object()) {
  header["alg"] = alg;
  if (!header.contains("typ")) header["typ"] = "JWT";
  const std::string signed_part = Base64Url(json::Dump(header)) + "." + Base64Url(json::Dump(claims));
  const EVP_MD* md = alg == "HS512" ? EVP_sha512() : alg == "HS384" ? EVP_sha384() : EVP_sha256();
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(md, secret.data(), static_cast<int>(secret.size()), reinterpret_cast<const unsigned char*>(signed_part.data()),
       signed_part.size(), mac, &len);
  return signed_part + "." + Base64Url(std::string_view(reinterpret_cast<const char*>(mac), len));
}

// An RSA key pair of an identity provider: it signs, and hands out the PEM
// of its public key.
class RsaSigner {
 public:
  RsaSigner() : key_(EVP_RSA_gen(2048)) {}
  ~RsaSigner() { EVP_PKEY_free(key_); }
  RsaSigner(const RsaSigner&) = delete;
  RsaSigner& operator=(const RsaSigner&) = delete;

  std::string PublicKeyPem() const {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new(BIO_s_mem()), BIO_free);
    PEM_write_bio_PUBKEY(bio.get(), key_);
    char* data = nullptr;
    const long size = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<size_t>(size));
  }

  // A token for `claims` signed by `alg` (RS256, RS384, RS512).
  std::string Sign(const Json& claims, const std::string& alg = "RS256", Json header = Json::object()) const {
    header["alg"] = alg;
    if (!header.contains("typ")) header["typ"] = "JWT";
    const std::string signed_part = Base64Url(json::Dump(header)) + "." + Base64Url(json::Dump(claims));
    const EVP_MD* md = alg == "RS512" ? EVP_sha512() : alg == "RS384" ? EVP_sha384() : EVP_sha256();
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    size_t length = 0;
    EVP_DigestSignInit(ctx.get(), nullptr, md, nullptr, key_);
    EVP_DigestSign(ctx.get(), nullptr, &length, reinterpret_cast<const unsigned char*>(signed_part.data()),
                   signed_part.size());
    std::string signature(length, '\0');
    EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(signature.data()), &length,
                   reinterpret_cast<const unsigned char*>(signed_part.data()), signed_part.size());
    signature.resize(length);
    return signed_part + "." + Base64Url(signature);
  }

 private:
  EVP_PKEY* key_;
};

}  // namespace wisp::testing
