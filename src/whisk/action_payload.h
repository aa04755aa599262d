// InstallActionPayload: turns the `code` of a native action into a file that
// can be executed.
//
// A native action's code is one of:
//   - binary:false  the executable itself as text: a script with a `#!` line;
//   - binary:true   base64 of an executable (an ELF file, or a script), or
//                   base64 of a zip archive that holds `exec` at its root
//                   (the shape OpenWhisk's actionloop runtimes accept).
// A zip is recognised by its magic bytes and unpacked whole next to `exec`,
// so the action can read the other files it ships with (the process runs in
// that directory). Entries that would land outside the directory (absolute
// paths, `..`), links, and archives that unpack to more than
// `max_unpacked_bytes` are refused. The zip is read with libzip (Debian
// `libzip-dev`).
//
// Thread-safety: pure apart from the files it writes under `dir`.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"
#include "whisk/action_runtime.h"

namespace wisp::whisk {

// Writes the payload of `code` into `dir` (which must exist and be empty) and
// returns the absolute path of the executable, `dir/exec`. Fails with
// InvalidArgument and a message for the action's developer: no code, bad
// base64, a broken or unsafe zip, a zip without `exec`.
Result<std::string> InstallActionPayload(const ActionCode& code, const std::string& dir, size_t max_unpacked_bytes);

enum class PayloadShape { kFile, kZip };

// The shared part, also used for interpreted kinds (language_runtime.h): text
// code, or base64 that is not a zip, is written to `dir/file_name` with
// `file_mode`; base64 of a zip is unpacked into `dir` with the checks above.
Result<PayloadShape> InstallPayloadFiles(const ActionCode& code, const std::string& dir, std::string_view file_name,
                                         mode_t file_mode, size_t max_unpacked_bytes);

// One file of a zip that WriteActionZip makes: its name in the archive, and
// either the file on disk to copy (`source_path`) or its bytes.
struct ZipEntry {
  std::string name;
  std::string source_path;
  std::string bytes;
  mode_t mode = 0644;  // kept as the entry's Unix mode, which unpackers honour
};

// Writes a zip archive, deflated, of `entries` to `path` (replaced if it
// exists): the payload shape a native action takes, `exec` at its root.
// IoError when a source cannot be read or the archive cannot be written.
Status WriteActionZip(const std::string& path, const std::vector<ZipEntry>& entries);

// Adds `entries` to the zip at `path`, replacing those of the same name. The
// other entries are copied as they are, not compressed again: the cheap way
// to make archives that differ in one small file.
Status ReplaceZipEntries(const std::string& path, const std::vector<ZipEntry>& entries);

}  // namespace wisp::whisk
