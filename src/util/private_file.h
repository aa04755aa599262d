// Writing small secret files (keys, passwords) into the data directory.
//
// Thread-safety: both functions may be called from any thread.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace wisp {

// Writes `text` to `path` atomically (a temporary file renamed into place),
// readable and writable by the owner only (mode 0600) from the first byte.
// IoError when the file cannot be written.
Status WritePrivateFile(const std::string& path, std::string_view text);

// Makes an existing regular file at `path` mode 0600 when its group or
// others may access it (a key file written by an older wisp, or copied in),
// and logs a warning when it did. Ok when the file does not exist; IoError
// when it cannot be changed.
Status KeepPrivate(const std::string& path);

}  // namespace wisp
