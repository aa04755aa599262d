#include "util/private_file.h"

#include <sys/stat.h>

#include <filesystem>
#include <fstream>

namespace wisp {

Status WritePrivateFile(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  {
    // Created 0600 before the secret goes in, then renamed into place.
    const mode_t old_mask = ::umask(077);
    std::ofstream f(tmp, std::ios::trunc);
    ::umask(old_mask);
    f << text;
    f.close();
    if (!f) return Status::IoError("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::permissions(tmp, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write,
                               std::filesystem::perm_options::replace, ec);
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Status::IoError("cannot write " + path + ": " + ec.message());
  return Status::Ok();
}

}  // namespace wisp
