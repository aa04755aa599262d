// Traces: the activations that one request (one trace id) caused, as a tree.
//
// Every activation record stores the trace id it ran under (activation.h).
// Its place in the tree comes from the record itself:
// - a sequence component's `cause` is its sequence;
// - otherwise `parent_id` is the activation that invoked it: the trigger
//   activation for a rule's action, the activation running on the thread
//   that called Controller::Invoke (the pipeline's invoker for each handler);
// - a trigger activation (a record without a `path` annotation) gets one
//   `rule` node for each line of its logs, and the activation the rule
//   started hangs under that rule node;
// - a record whose parent is not in the trace (expired, another namespace,
//   or an invoke through the API from inside an action, which does not say
//   who called) is a root.
// docs/observability.md ("Traces") shows the JSON.
//
// Thread-safety: pure functions.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "json/json.h"

namespace wisp::whisk {

// The most activations one trace answer holds; beyond, it says `truncated`.
inline constexpr size_t kMaxTraceActivations = 20'000;

// {"trace_id", "activations": N, "errors": N, "start", "end", "duration",
//  "roots": [node...]} where a node is
//   {"type": "trigger"|"sequence"|"action", "activationId", "name" (the path,
//    "ns/[pkg/]name"), "kind", "status" ("success", "application error",
//    "action developer error", "whisk internal error"), "start", "end"?,
//    "duration"?, "waitTime"?, "initTime"?, "cold"? (primitive actions only),
//    "children": [node...]}
// or, under a trigger, {"type": "rule", "rule", "action", "status"
//   ("success" or "error"), "error"?, "activationId"?, "children": [node]}.
// Children are in start order. `records` are stored activation records.
Json BuildTraceTree(const std::string& trace_id, std::vector<Json> records);

}  // namespace wisp::whisk
