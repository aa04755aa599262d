// The text `wisp trace ID` prints for the tree that
// GET /api/v1/namespaces/{ns}/traces/{id} answers (whisk/traces.h):
//
//   trace 5f0c... in guest: 7 activations, 0 errors, 412 ms
//   trigger  guest/so-poll                        success   0 ms        0c1f...
//   └─ rule guest/so-poll-rule -> guest/stackoverflow/socron  success
//      └─ sequence guest/stackoverflow/socron     success   410 ms      0c1f...
//         ├─ action guest/stackoverflow/collector success   120 ms warm 0c1f...
//         ...
//
// Thread-safety: a pure function.
#pragma once

#include <string>

#include "json/json.h"

namespace wisp::cli {

// One header line, then one line per node, indented by depth with tree
// branches: the node's type, name, status, duration (ms), cold or warm for
// primitive actions (with the init time when cold), the wait time when it
// is not zero, and the activation id.
std::string RenderTrace(const Json& trace);

}  // namespace wisp::cli
