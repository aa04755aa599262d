#include "util/environment.h"

#include <cstdlib>

namespace wisp {

std::string EnvironmentVariable(const char* name) {
  const char* value = std::getenv(name);
  return value ? value : "";
}

}  // namespace wisp
