// `wisp export openwhisk -o DIR`: the Stack Overflow pipeline as a bundle for
// an Apache OpenWhisk deployment (docs/export.md), and `wisp actionloop
// NAME`, which the bundle's executables run.
//
// The bundle:
//   DIR/manifest.yaml       wskdeploy's format: the package `stackoverflow`
//                           with its parameters, the four actions as native
//                           actions, the sequences, the alarm triggers and
//                           the rules. Derived from the shipped manifest
//                           (src/apps/stackoverflow/manifest.yaml), so the two
//                           cannot drift apart.
//   DIR/actions/NAME.zip    `exec` at the root (a /bin/sh script), this wisp
//                           binary (debug sections stripped when `strip` is
//                           on the PATH), and every shared library the binary
//                           loaded, dynamic loader included: the executable
//                           needs nothing from the image it runs in, whatever
//                           its C library (openwhisk/dockerskeleton is Alpine).
//   DIR/README.md           the wskdeploy and wsk commands.
//
// Thread-safety: runs on the main thread only.
#pragma once

#include <string>

namespace CLI {
class App;
}

namespace wisp::cli {

struct ExportOptions {
  std::string out_dir;
  std::string cron = "*/5 * * * *";  // every alarm trigger's schedule
  bool force = false;                // write into a directory that is not empty
  std::string actionloop_action;     // `wisp actionloop NAME`, once parsed
};

// Registers `export openwhisk` and the hidden `actionloop`.
void AddExportCommands(CLI::App& app, ExportOptions& options);

// Runs the parsed command; -1 when neither was on the command line,
// otherwise the exit code (0 done, 1 failed, 2 bad arguments).
int RunExportIfParsed(const CLI::App& app, const ExportOptions& options);

}  // namespace wisp::cli
