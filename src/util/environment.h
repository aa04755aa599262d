// Reading the process environment.
//
// Thread-safety: safe from any thread as long as nothing calls setenv()
// concurrently (wisp sets no variables after start).
#pragma once

#include <string>

namespace wisp {

// The value of the environment variable `name`; "" when it is unset, which
// every caller treats like an empty value.
std::string EnvironmentVariable(const char* name);

}  // namespace wisp
