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

#include <cstddef>
#include <string>

#include "util/result.h"
#include "whisk/action_runtime.h"

namespace wisp::whisk {

// Writes the payload of `code` into `dir` (which must exist and be empty) and
// returns the absolute path of the executable, `dir/exec`. Fails with
// InvalidArgument and a message for the action's developer: no code, bad
// base64, a broken or unsafe zip, a zip without `exec`.
Result<std::string> InstallActionPayload(const ActionCode& code, const std::string& dir, size_t max_unpacked_bytes);

}  // namespace wisp::whisk
