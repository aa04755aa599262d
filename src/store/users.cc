#include "store/users.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "util/ids.h"
#include "util/text.h"

namespace wisp::store {
namespace {

std::string DerivedKey(std::string_view password, std::string_view salt, int iterations, const EVP_MD* md) {
  unsigned char key[EVP_MAX_MD_SIZE];
  const int length = EVP_MD_get_size(md);
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()),
                        reinterpret_cast<const unsigned char*>(salt.data()), static_cast<int>(salt.size()), iterations,
                        md, length, key) != 1) {
    return "";
  }
  return HexLower(std::string_view(reinterpret_cast<const char*>(key), static_cast<size_t>(length)));
}

}  // namespace

void HashUserPassword(Json& doc, int iterations) {
  if (!doc.is_object()) return;
  auto it = doc.find("password");
  if (it == doc.end() || !it->is_string()) return;
  const std::string password = it->get<std::string>();
  const std::string salt = NewId();
  doc.erase(it);
  doc["password_scheme"] = "pbkdf2";
  doc["pbkdf2_prf"] = "sha256";
  doc["iterations"] = iterations;
  doc["salt"] = salt;
  doc["derived_key"] = DerivedKey(password, salt, iterations, EVP_sha256());
}

bool VerifyUserPassword(const Json& user_doc, std::string_view password) {
  if (json::GetString(user_doc, "password_scheme") != "pbkdf2") return false;
  const std::string prf = json::GetString(user_doc, "pbkdf2_prf", "sha");
  const EVP_MD* md = prf == "sha256" ? EVP_sha256() : prf == "sha" ? EVP_sha1() : nullptr;
  const int64_t iterations = json::GetInt(user_doc, "iterations", 0);
  const std::string salt = json::GetString(user_doc, "salt");
  const std::string expected = json::GetString(user_doc, "derived_key");
  if (!md || iterations < 1 || iterations > 10'000'000 || salt.empty() || expected.empty()) return false;
  const std::string actual = DerivedKey(password, salt, static_cast<int>(iterations), md);
  return actual.size() == expected.size() && CRYPTO_memcmp(actual.data(), expected.data(), actual.size()) == 0;
}

Status ValidateUserDoc(const Json& new_doc, const Json* old_doc, bool by_admin, const std::string& writer_name) {
  if (new_doc.value("_deleted", false)) {
    if (by_admin || (old_doc && json::GetString(*old_doc, "name") == writer_name)) return Status::Ok();
    return Status::PermissionDenied("You may only delete your own user document.");
  }
  if (json::GetString(new_doc, "type") != "user") return Status::PermissionDenied("doc.type must be user");
  const std::string name = json::GetString(new_doc, "name");
  if (name.empty()) return Status::PermissionDenied("doc.name is required");
  const Json roles = new_doc.value("roles", Json());
  if (roles.is_null()) return Status::PermissionDenied("doc.roles must exist");
  if (!roles.is_array()) return Status::PermissionDenied("doc.roles must be an array");
  for (const Json& role : roles) {
    if (!role.is_string()) return Status::PermissionDenied("doc.roles can only contain strings");
    if (role.get<std::string>().starts_with("_")) {
      return Status::PermissionDenied("No system roles (starting with underscore) in users db.");
    }
  }
  if (json::GetString(new_doc, "_id") != std::string(kUserDocPrefix) + name) {
    return Status::PermissionDenied("Doc ID must be of the form org.couchdb.user:name");
  }
  if (old_doc && json::GetString(*old_doc, "name") != name) {
    return Status::PermissionDenied("Usernames can not be changed.");
  }
  if (by_admin) return Status::Ok();
  if (name != writer_name) return Status::PermissionDenied("You may only update your own user document.");
  if (old_doc && old_doc->value("roles", Json::array()) != roles) {
    return Status::PermissionDenied("Only _admin may edit roles");
  }
  if (!old_doc && !roles.empty()) return Status::PermissionDenied("Only _admin may set roles");
  // The Slack sign-in mapping (store/slack_login.h) is the admin's to make:
  // a user who could claim another's Slack id would receive their sign-ins.
  const Json no_slack_id;
  if ((old_doc ? old_doc->value("slack_user_id", no_slack_id) : no_slack_id) !=
      new_doc.value("slack_user_id", no_slack_id)) {
    return Status::PermissionDenied("Only _admin may link a user to Slack (slack_user_id)");
  }
  return Status::Ok();
}

}  // namespace wisp::store
