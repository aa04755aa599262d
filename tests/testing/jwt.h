// Signs JWTs for tests, the way an identity provider would: base64url of the
// header and claims, and an HMAC over them.
#pragma once

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include <algorithm>
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

}  // namespace wisp::testing
