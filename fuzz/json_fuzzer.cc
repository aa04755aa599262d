// Fuzzes the JSON parser every request body goes through (json::Parse):
// it must never crash, however deep the nesting; a value it accepts must
// print and parse back to itself, compact and indented.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "json/json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace wisp;
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  Result<Json> parsed = json::Parse(input);
  Result<Json> object = json::ParseObject(input);
  if (object.ok() != (parsed.ok() && parsed->is_object())) std::abort();
  if (!parsed.ok()) return 0;

  const std::string compact = json::Dump(*parsed);
  Result<Json> again = json::Parse(compact);
  if (!again.ok() || *again != *parsed) std::abort();
  Result<Json> pretty = json::Parse(json::Pretty(*parsed));
  if (!pretty.ok() || *pretty != *parsed) std::abort();

  if (parsed->is_object()) {
    for (const auto& [key, value] : parsed->items()) {
      const std::string text = json::GetString(*parsed, key, "");
      if (value.is_string() && text != value.get<std::string>()) std::abort();
      (void)json::GetInt(*parsed, key, 0);
    }
  }
  return 0;
}
