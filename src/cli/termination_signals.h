// SIGINT and SIGTERM for the long-running commands (`serve`, `sim`): blocked
// in the main thread before any other thread starts, so every later thread
// inherits the mask and the main thread's sigwait() is the only place they
// arrive.
#pragma once

#include <signal.h>

namespace wisp::cli {

// Blocks SIGINT and SIGTERM in this thread and every thread it starts later.
sigset_t BlockTerminationSignals();

// Waits for one of them; returns its number.
int WaitForTerminationSignal(const sigset_t& blocked);

}  // namespace wisp::cli
