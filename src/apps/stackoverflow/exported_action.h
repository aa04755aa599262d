// ServeExportedAction: one of the package's four actions as an actionloop
// executable of its own, the form `wisp export openwhisk` ships it in
// (docs/export.md). The bundle's `exec` runs `wisp actionloop NAME`, which
// comes here.
//
// Outside wisp the actions have no server beside them, so the services are
// what an OpenWhisk container offers: the questions database is the
// binding's `store_url` (there is no embedded store; an empty `store_url` is
// an application error that says so), the invoker starts its handlers
// through OpenWhisk's REST API (rest_invoke.h), and waits are real sleeps.
// Each activation's log lines go to its stdout and stderr; the action proxy
// (or wisp's runner) frames them with the sentinels.
//
// Thread-safety: call once, from main(); it serves until stdin ends.
#pragma once

#include <string>
#include <vector>

namespace wisp::stackoverflow {

// The names ServeExportedAction accepts: ActionNames().
// Returns the exit status: 0 when the platform closes stdin, 2 for an
// unknown `action` (with a message on stderr).
int ServeExportedAction(const std::string& action);

}  // namespace wisp::stackoverflow
