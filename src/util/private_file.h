// Writing small secret files (keys, passwords) into the data directory.
//
// Thread-safety: WritePrivateFile() may be called from any thread, but it
// changes the process umask for a moment, so callers run it at start-up,
// before other threads create files.
#pragma once

#include <string>
#include <string_view>

#include "util/status.h"

namespace wisp {

// Writes `text` to `path` atomically (a temporary file renamed into place),
// readable and writable by the owner only (mode 0600) from the first byte.
// IoError when the file cannot be written.
Status WritePrivateFile(const std::string& path, std::string_view text);

}  // namespace wisp
