#include "whisk/action_payload.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zip.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string_view>

#include "util/base64.h"

namespace wisp::whisk {
namespace {

constexpr std::string_view kExecName = "exec";

bool LooksLikeZip(std::string_view bytes) {
  return bytes.size() >= 4 && bytes.substr(0, 2) == "PK" &&
         ((bytes[2] == 3 && bytes[3] == 4) || (bytes[2] == 5 && bytes[3] == 6));
}

// Opens the new file `dir/name` (never follows or replaces one) for writing.
// Errors name the file as the payload does, not where wisp keeps it.
Result<int> CreateFile(const std::string& dir, std::string_view name, mode_t mode) {
  const std::string path = dir + "/" + std::string(name);
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
  if (fd >= 0) return fd;
  if (errno == EEXIST) return Status::InvalidArgument("The action's zip file holds " + std::string(name) + " twice");
  return Status::IoError("cannot create the action's file " + std::string(name) + ": " + std::strerror(errno));
}

Status WriteAll(int fd, std::string_view bytes, std::string_view name) {
  while (!bytes.empty()) {
    ssize_t w = write(fd, bytes.data(), bytes.size());
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0)
      return Status::IoError("cannot write the action's file " + std::string(name) + ": " + std::strerror(errno));
    bytes.remove_prefix(static_cast<size_t>(w));
  }
  return Status::Ok();
}

Status WriteFile(const std::string& dir, std::string_view name, std::string_view bytes, mode_t mode) {
  WISP_ASSIGN_OR_RETURN(int fd, CreateFile(dir, name, mode));
  Status written = WriteAll(fd, bytes, name);
  close(fd);
  return written;
}

// An entry name that stays inside the directory: relative, no `..`.
bool IsSafeEntryName(std::string_view name) {
  if (name.empty() || name.front() == '/' || name.find('\\') != std::string_view::npos) return false;
  size_t begin = 0;
  while (begin <= name.size()) {
    size_t end = name.find('/', begin);
    if (end == std::string_view::npos) end = name.size();
    if (name.substr(begin, end - begin) == "..") return false;
    begin = end + 1;
  }
  return true;
}

Status MakeParents(const std::string& dir, std::string_view name) {
  for (size_t slash = name.find('/'); slash != std::string_view::npos; slash = name.find('/', slash + 1)) {
    const std::string_view parent = name.substr(0, slash);
    const std::string path = dir + "/" + std::string(parent);
    if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) {
      return Status::IoError("cannot create the action's directory " + std::string(parent) + ": " +
                             std::strerror(errno));
    }
  }
  return Status::Ok();
}

struct ZipCloser {
  void operator()(zip_t* archive) const { zip_discard(archive); }
};
struct ZipFileCloser {
  void operator()(zip_file_t* file) const { zip_fclose(file); }
};

Status Unzip(std::string_view bytes, const std::string& dir, size_t max_unpacked_bytes) {
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t* source = zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source == nullptr) {
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Status::Internal("cannot read the zip: " + why);
  }
  std::unique_ptr<zip_t, ZipCloser> archive(zip_open_from_source(source, ZIP_RDONLY, &error));
  if (!archive) {
    zip_source_free(source);
    std::string why = zip_error_strerror(&error);
    zip_error_fini(&error);
    return Status::InvalidArgument("The action's zip file is broken: " + why);
  }
  zip_error_fini(&error);

  size_t unpacked = 0;
  const zip_int64_t entries = zip_get_num_entries(archive.get(), 0);
  for (zip_int64_t i = 0; i < entries; ++i) {
    zip_stat_t stat;
    if (zip_stat_index(archive.get(), i, 0, &stat) != 0 || stat.name == nullptr) {
      return Status::InvalidArgument(std::string("The action's zip file is broken: ") + zip_strerror(archive.get()));
    }
    std::string_view name = stat.name;
    if (!IsSafeEntryName(name)) {
      return Status::InvalidArgument("The action's zip file has an entry outside its root: " + std::string(name));
    }
    WISP_RETURN_IF_ERROR(MakeParents(dir, name));
    if (name.back() == '/') continue;  // a directory, made by MakeParents

    zip_uint8_t system = 0;
    zip_uint32_t attributes = 0;
    mode_t mode = 0600;
    if (zip_file_get_external_attributes(archive.get(), i, 0, &system, &attributes) == 0 && system == ZIP_OPSYS_UNIX) {
      const mode_t unix_mode = attributes >> 16;
      if (S_ISLNK(unix_mode)) {
        return Status::InvalidArgument("The action's zip file holds a link, which is not supported: " +
                                       std::string(name));
      }
      if (unix_mode & 0100) mode = 0700;
    }
    if (name == kExecName) mode = 0700;

    std::unique_ptr<zip_file_t, ZipFileCloser> file(zip_fopen_index(archive.get(), i, 0));
    if (!file) {
      return Status::InvalidArgument("The action's zip file cannot be read at " + std::string(name) + ": " +
                                     zip_strerror(archive.get()));
    }
    WISP_ASSIGN_OR_RETURN(int fd, CreateFile(dir, name, mode));
    char buffer[64 * 1024];
    Status status;
    while (status.ok()) {
      zip_int64_t n = zip_fread(file.get(), buffer, sizeof(buffer));
      if (n == 0) break;
      if (n < 0) {
        status = Status::InvalidArgument("The action's zip file cannot be read at " + std::string(name) + ": " +
                                         zip_file_strerror(file.get()));
        break;
      }
      unpacked += static_cast<size_t>(n);
      if (unpacked > max_unpacked_bytes) {
        status = Status::InvalidArgument("The action's zip file unpacks to more than " +
                                         std::to_string(max_unpacked_bytes) + " bytes");
        break;
      }
      status = WriteAll(fd, std::string_view(buffer, static_cast<size_t>(n)), name);
    }
    close(fd);
    WISP_RETURN_IF_ERROR(status);
  }
  return Status::Ok();
}

}  // namespace

Result<PayloadShape> InstallPayloadFiles(const ActionCode& code, const std::string& dir, std::string_view file_name,
                                         mode_t file_mode, size_t max_unpacked_bytes) {
  if (code.code.empty()) return Status::InvalidArgument("Missing main/no code to execute.");
  if (!code.binary) {
    WISP_RETURN_IF_ERROR(WriteFile(dir, file_name, code.code, file_mode));
    return PayloadShape::kFile;
  }
  Result<std::string> bytes = Base64Decode(code.code);
  if (!bytes.ok()) {
    return Status::InvalidArgument("The action's code is marked binary but is not base64: " + bytes.status().message());
  }
  if (!LooksLikeZip(*bytes)) {
    WISP_RETURN_IF_ERROR(WriteFile(dir, file_name, *bytes, file_mode));
    return PayloadShape::kFile;
  }
  WISP_RETURN_IF_ERROR(Unzip(*bytes, dir, max_unpacked_bytes));
  return PayloadShape::kZip;
}

Result<std::string> InstallActionPayload(const ActionCode& code, const std::string& dir, size_t max_unpacked_bytes) {
  const std::string exec_path = dir + "/" + std::string(kExecName);
  WISP_ASSIGN_OR_RETURN(PayloadShape shape, InstallPayloadFiles(code, dir, kExecName, 0700, max_unpacked_bytes));
  if (shape == PayloadShape::kFile) return exec_path;
  struct stat st;
  if (lstat(exec_path.c_str(), &st) != 0 || !S_ISREG(st.st_mode)) {
    return Status::InvalidArgument("The action's zip file has no executable named 'exec' at its root");
  }
  return exec_path;
}

namespace {

// Adds (or replaces) `entry` in the open `archive`. Sources are read when
// the archive is closed, so `entry` must outlive that.
Status AddZipEntry(zip_t* archive, const ZipEntry& entry) {
  zip_source_t* source = entry.source_path.empty()
                             ? zip_source_buffer(archive, entry.bytes.data(), entry.bytes.size(), 0)
                             : zip_source_file(archive, entry.source_path.c_str(), 0, -1);
  if (source == nullptr) {
    return Status::IoError("cannot read " + (entry.source_path.empty() ? entry.name : entry.source_path) + ": " +
                           zip_strerror(archive));
  }
  const zip_int64_t index = zip_file_add(archive, entry.name.c_str(), source, ZIP_FL_OVERWRITE | ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    return Status::IoError("cannot add " + entry.name + ": " + zip_strerror(archive));
  }
  const zip_uint32_t unix_mode = S_IFREG | (entry.mode & 07777);
  zip_file_set_external_attributes(archive, static_cast<zip_uint64_t>(index), 0, ZIP_OPSYS_UNIX, unix_mode << 16);
  return Status::Ok();
}

Status WriteZip(const std::string& path, int flags, const std::vector<ZipEntry>& entries) {
  int error = 0;
  zip_t* archive = zip_open(path.c_str(), flags, &error);
  if (archive == nullptr) {
    zip_error_t why;
    zip_error_init_with_code(&why, error);
    Status status = Status::IoError("cannot open " + path + ": " + zip_error_strerror(&why));
    zip_error_fini(&why);
    return status;
  }
  for (const ZipEntry& entry : entries) {
    if (Status s = AddZipEntry(archive, entry); !s.ok()) {
      zip_discard(archive);
      return s;
    }
  }
  if (zip_close(archive) != 0) {
    Status status = Status::IoError("cannot write " + path + ": " + zip_strerror(archive));
    zip_discard(archive);
    return status;
  }
  return Status::Ok();
}

}  // namespace

Status WriteActionZip(const std::string& path, const std::vector<ZipEntry>& entries) {
  return WriteZip(path, ZIP_CREATE | ZIP_TRUNCATE, entries);
}

Status ReplaceZipEntries(const std::string& path, const std::vector<ZipEntry>& entries) {
  return WriteZip(path, 0, entries);
}

}  // namespace wisp::whisk
