#include "cli/termination_signals.h"

#include <pthread.h>

namespace wisp::cli {

sigset_t BlockTerminationSignals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  return set;
}

int WaitForTerminationSignal(const sigset_t& blocked) {
  int signal = 0;
  sigwait(&blocked, &signal);
  return signal;
}

}  // namespace wisp::cli
