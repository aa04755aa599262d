// Fuzzes the cron parser of the alarms feed with untrusted patterns: it must
// never crash, and a pattern it accepts must give a next fire that is later
// than the time asked about.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "whisk/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  wisp::Result<wisp::whisk::CronSchedule> cron = wisp::whisk::CronSchedule::Parse(input);
  if (!cron.ok()) return 0;
  const wisp::whisk::CronSchedule::Seconds after{std::chrono::seconds(1'700'000'000)};
  const auto next = cron->Next(after);
  if (next && *next <= after) std::abort();
  return 0;
}
