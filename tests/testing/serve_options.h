// What the GoogleTests that run a whole `wisp serve` in-process share: the
// options of a server on loopback, and quiet logs.
#pragma once

#include <string>
#include <utility>

#include "cli/serve_command.h"
#include "util/log.h"
#include "util/status.h"

namespace wisp::testing {

// `wisp serve` on loopback with free ports, its data under `data_dir`, and
// `admin` ("name:password") as the CouchDB server admin. No interpreter is
// kept warm (no stem cells), so a test starts only what it runs.
inline cli::ServeOptions LoopbackServeOptions(std::string data_dir, std::string admin) {
  cli::ServeOptions o;
  o.data_dir = std::move(data_dir);
  o.api_port = 0;
  o.couch_port = 0;
  o.admin = std::move(admin);
  o.stem_cells = "nodejs:20=0,python:3=0";
  return o;
}

// Turns wisp's logs off for a test suite: its servers would fill the test's
// output with every request.
inline Status SilenceLogs() {
  log::Options quiet;
  quiet.level = log::Level::kOff;
  return log::Configure(quiet);
}

}  // namespace wisp::testing
