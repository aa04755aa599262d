#include "whisk/identity.h"

#include <cctype>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "json/json.h"
#include "util/base64.h"
#include "util/ids.h"
#include "util/private_file.h"

namespace wisp::whisk {
namespace {

bool IsHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

bool IsUuid(std::string_view s) {
  if (s.size() != 36) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    const bool dash = i == 8 || i == 13 || i == 18 || i == 23;
    if (dash ? s[i] != '-' : !IsHex(s[i])) return false;
  }
  return true;
}

// Constant-time comparison, so that a wrong key reveals nothing by timing.
bool SameSecret(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

constexpr char kKeysFile[] = "whisk_auth.json";
constexpr size_t kKeyLength = 64;

}  // namespace

bool IsValidCredential(std::string_view credential) {
  const size_t colon = credential.find(':');
  if (colon == std::string_view::npos) return false;
  return IsUuid(credential.substr(0, colon)) && credential.size() - colon - 1 == kKeyLength;
}

Status Identities::Add(std::string subject, std::string namespace_name, std::string_view credential) {
  if (!IsValidCredential(credential)) {
    return Status::InvalidArgument("a key must be UUID:KEY with a 64-character KEY");
  }
  const size_t colon = credential.find(':');
  identities_.push_back({std::move(subject), std::move(namespace_name), std::string(credential.substr(0, colon)),
                         std::string(credential.substr(colon + 1))});
  return Status::Ok();
}

Result<Identity> Identities::Authenticate(std::string_view authorization) const {
  constexpr std::string_view kBasic = "basic ";
  if (authorization.size() < kBasic.size()) return Status::Unauthenticated(std::string(kNoAuthText));
  for (size_t i = 0; i < kBasic.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(authorization[i])) != kBasic[i]) {
      return Status::Unauthenticated(std::string(kNoAuthText));
    }
  }
  Result<std::string> decoded = Base64Decode(authorization.substr(kBasic.size()));
  if (!decoded.ok() || !IsValidCredential(*decoded)) return Status::Unauthenticated(std::string(kBadAuthText));
  const size_t colon = decoded->find(':');
  const std::string_view uuid = std::string_view(*decoded).substr(0, colon);
  const std::string_view key = std::string_view(*decoded).substr(colon + 1);
  for (const Identity& identity : identities_) {
    if (identity.uuid == uuid && SameSecret(identity.key, key)) return identity;
  }
  return Status::Unauthenticated(std::string(kBadAuthText));
}

Result<Identity> Identities::Find(std::string_view namespace_name) const {
  for (const Identity& identity : identities_) {
    if (identity.namespace_name == namespace_name) return identity;
  }
  return Status::NotFound("no identity for namespace " + std::string(namespace_name));
}

Result<WhiskKeys> ResolveWhiskKeys(const std::string& data_dir, const std::string& guest_key, bool dev) {
  WhiskKeys keys;
  if (dev) {
    keys.guest = std::string(kDevGuestCredential);
    keys.system = std::string(kDevSystemCredential);
    keys.source = "OpenWhisk standalone's dev keys (--dev)";
  }
  const std::filesystem::path path = std::filesystem::path(data_dir) / kKeysFile;
  if (!dev) {
    WISP_RETURN_IF_ERROR(KeepPrivate(path.string()));
    if (std::ifstream in(path); in) {
      const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      Result<Json> stored = json::ParseObject(text);
      if (!stored.ok()) return Status::InvalidArgument(path.string() + ": " + stored.status().message());
      keys.guest = json::GetString(*stored, "guest");
      keys.system = json::GetString(*stored, "whisk.system");
      if (!IsValidCredential(keys.guest) || !IsValidCredential(keys.system)) {
        return Status::InvalidArgument(path.string() + ": needs \"guest\" and \"whisk.system\" as UUID:KEY");
      }
      keys.source = "stored in " + path.string();
    } else {
      keys.guest = NewUuid() + ":" + RandomSecret(kKeyLength);
      keys.system = NewUuid() + ":" + RandomSecret(kKeyLength);
      const std::string text = json::Dump(Json{{"guest", keys.guest}, {"whisk.system", keys.system}}) + "\n";
      WISP_RETURN_IF_ERROR(WritePrivateFile(path.string(), text));
      keys.source = "stored in " + path.string();
    }
  }
  if (!guest_key.empty()) {
    if (!IsValidCredential(guest_key)) {
      return Status::InvalidArgument("--guest-key must be UUID:KEY with a 64-character KEY");
    }
    keys.guest = guest_key;
    keys.source = "from --guest-key";
  }
  return keys;
}

}  // namespace wisp::whisk
