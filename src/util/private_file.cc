#include "util/private_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "util/log.h"

namespace wisp {

Status WritePrivateFile(const std::string& path, std::string_view text) {
  const std::string tmp = path + ".tmp";
  // Created 0600 by open() itself (no umask change, so safe next to other
  // threads); O_NOFOLLOW so a planted link cannot redirect the secret.
  ::unlink(tmp.c_str());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0) return Status::IoError("cannot write " + tmp + ": " + std::strerror(errno));
  bool ok = ::fchmod(fd, 0600) == 0;  // whatever the umask took away, nothing more is allowed
  for (size_t written = 0; ok && written < text.size();) {
    const ssize_t n = ::write(fd, text.data() + written, text.size() - written);
    if (n < 0 && errno == EINTR) continue;
    ok = n > 0;
    if (ok) written += static_cast<size_t>(n);
  }
  ok = ::fsync(fd) == 0 && ok;
  ok = ::close(fd) == 0 && ok;
  if (!ok) {
    ::unlink(tmp.c_str());
    return Status::IoError("cannot write " + tmp);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    ::unlink(tmp.c_str());
    return Status::IoError("cannot write " + path + ": " + std::strerror(errno));
  }
  return Status::Ok();
}

Status KeepPrivate(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT ? Status::Ok() : Status::IoError("cannot stat " + path);
  if (!S_ISREG(st.st_mode) || (st.st_mode & 077) == 0) return Status::Ok();
  if (::chmod(path.c_str(), 0600) != 0) {
    return Status::IoError("cannot make " + path + " private: " + std::strerror(errno));
  }
  log::Warn("util", "a file that holds keys was readable by others; it is now mode 0600", {{"path", path}});
  return Status::Ok();
}

}  // namespace wisp
