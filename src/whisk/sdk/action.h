// The C++ SDK for native actions: turns one function into an actionloop
// executable that wisp (and OpenWhisk's actionloop runtimes) can run.
//
//   #include "whisk/sdk/action.h"
//
//   wisp::Result<wisp::Json> Main(const wisp::Json& args) {
//     std::string name = wisp::json::GetString(args, "name", "World");
//     std::cout << "greeting " << name << "\n";       // the activation's log
//     if (name.empty()) return wisp::Status::InvalidArgument("name is empty");
//     return wisp::Json{{"greeting", "Hello, " + name + "!"}};
//   }
//
//   int main() { return wisp::whisk::sdk::Serve(Main); }
//
// Serve() speaks the protocol of docs/actionloop.md: when `__OW_WAIT_FOR_ACK`
// is set it first writes {"ok":true} on fd 3; then, for each line on stdin,
// it exports every string field other than `value` as `__OW_<FIELD>` (so
// `__OW_ACTIVATION_ID`, `__OW_DEADLINE`, ... are the current activation's),
// calls the function with `value`, flushes stdout and stderr, and writes the
// result as one line on fd 3. An error Status (or an exception) becomes
// {"error": "<message>"}, which the platform records as an application error.
// Under wisp (`__OW_PROXY_VERSION` starts with "wisp/") it also ends each
// activation's stdout and stderr with the sentinel line, before the result,
// so that wisp has every log line when the result arrives. OpenWhisk's own
// proxy writes the sentinels itself, so there the SDK does not.
//
// Run by hand (no fd 3 open), results go to stdout instead:
//   echo '{"value":{"name":"Ada"}}' | ./hello
//
// The function is called on one thread, one activation at a time.
#pragma once

#include <functional>

#include "json/json.h"
#include "util/result.h"

namespace wisp::whisk::sdk {

using ActionFunction = std::function<Result<Json>(const Json& args)>;

// Serves activations until stdin ends; returns the exit status for main():
// 0 at the end of input, 1 when the result cannot be written.
int Serve(const ActionFunction& main);

// Serve() on explicit descriptors: requests are read from `in_fd`, results
// written to `result_fd`. For tests, and for hosts that wire fds themselves.
int ServeOn(int in_fd, int result_fd, const ActionFunction& main);

}  // namespace wisp::whisk::sdk
