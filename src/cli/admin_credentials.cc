#include "cli/admin_credentials.h"

#include <filesystem>
#include <fstream>
#include <iterator>

#include "json/json.h"

namespace wisp::cli {

Result<AdminCredentials> ResolveAdmin(const std::string& flag, const std::string& data_dir) {
  if (!flag.empty()) {
    const size_t colon = flag.find(':');
    if (colon == std::string::npos || colon == 0) return Status::InvalidArgument("--admin must be NAME:PASSWORD");
    return AdminCredentials{flag.substr(0, colon), flag.substr(colon + 1)};
  }
  const std::string path = (std::filesystem::path(data_dir) / "admin.json").string();
  std::ifstream in(path);
  if (!in) return Status::InvalidArgument("no --admin, and cannot read " + path + " (is --data-dir right?)");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  Result<Json> admin = json::ParseObject(text);
  if (!admin.ok()) return Status::InvalidArgument(path + ": " + admin.status().message());
  return AdminCredentials{json::GetString(*admin, "name"), json::GetString(*admin, "password")};
}

}  // namespace wisp::cli
