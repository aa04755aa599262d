#include "whisk/cron.h"

#include <array>
#include <cctype>
#include <charconv>
#include <memory>
#include <vector>

namespace wisp::whisk {
namespace {

using std::chrono::days;
using std::chrono::seconds;
using Seconds = std::chrono::sys_seconds;

constexpr std::array<std::string_view, 12> kMonthNames = {"jan", "feb", "mar", "apr", "may", "jun",
                                                          "jul", "aug", "sep", "oct", "nov", "dec"};
constexpr std::array<std::string_view, 7> kDayNames = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

struct FieldSpec {
  int min;
  int max;
  const std::string_view* names;  // names[i] is value min + i (nullptr: none)
  size_t name_count;
};

std::vector<std::string_view> Split(std::string_view text, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    const size_t at = text.find(sep, start);
    out.push_back(text.substr(start, at == std::string_view::npos ? std::string_view::npos : at - start));
    if (at == std::string_view::npos) return out;
    start = at + 1;
  }
}

std::optional<int> Value(std::string_view text, const FieldSpec& spec) {
  if (text.empty()) return std::nullopt;
  if (std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string lower(text);
    for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t i = 0; i < spec.name_count; ++i) {
      if (spec.names[i] == lower) return spec.min + static_cast<int>(i);
    }
    return std::nullopt;
  }
  int v = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size()) return std::nullopt;
  return v;
}

// Sets the bits of one field; false when malformed or out of range.
// `max_value` may exceed spec.max (weekday 7).
bool ParseField(std::string_view field, const FieldSpec& spec, int max_value, std::vector<bool>& bits,
                bool& restricted) {
  restricted = field != "*" && field != "?";
  for (std::string_view item : Split(field, ',')) {
    int step = 1;
    if (const size_t slash = item.find('/'); slash != std::string_view::npos) {
      const std::string_view step_text = item.substr(slash + 1);
      int s = 0;
      const auto [end, ec] = std::from_chars(step_text.data(), step_text.data() + step_text.size(), s);
      if (ec != std::errc() || end != step_text.data() + step_text.size() || step_text.empty() || s < 1) return false;
      step = s;
      item = item.substr(0, slash);
    }
    int lo = 0;
    int hi = 0;
    if (item == "*" || item == "?") {
      lo = spec.min;
      hi = spec.max;
    } else if (const size_t dash = item.find('-'); dash != std::string_view::npos) {
      const std::optional<int> a = Value(item.substr(0, dash), spec);
      const std::optional<int> b = Value(item.substr(dash + 1), spec);
      if (!a || !b || *a > *b) return false;
      lo = *a;
      hi = *b;
    } else {
      const std::optional<int> a = Value(item, spec);
      if (!a) return false;
      lo = *a;
      hi = step > 1 ? spec.max : *a;  // "a/n": from a to the end, every n
    }
    if (lo < spec.min || hi > max_value) return false;
    for (int v = lo; v <= hi; v += step) bits[static_cast<size_t>(v)] = true;
  }
  return true;
}

template <size_t N>
std::bitset<N> ToBits(const std::vector<bool>& bits) {
  std::bitset<N> out;
  for (size_t i = 0; i < N && i < bits.size(); ++i) out[i] = bits[i];
  return out;
}

}  // namespace

bool CronSchedule::IsKnownTimezone(const std::string& zone) {
  return zone.empty() || zone == "UTC" || TimeZone::Load(zone).ok();
}

Result<CronSchedule> CronSchedule::Parse(std::string_view pattern, std::string timezone) {
  const auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("cron pattern '" + std::string(pattern) + "' is not valid: " + std::string(why));
  };
  std::vector<std::string_view> fields;
  for (std::string_view part : Split(pattern, ' ')) {
    if (!part.empty()) fields.push_back(part);
  }
  if (fields.size() != 5 && fields.size() != 6) return invalid("it needs 5 fields, or 6 with leading seconds");
  CronSchedule out;
  out.pattern_ = std::string(pattern);
  if (!timezone.empty() && timezone != "UTC") {
    Result<TimeZone> zone = TimeZone::Load(timezone);
    if (!zone.ok()) return Status::InvalidArgument("timezone '" + timezone + "' is not a known IANA time zone");
    out.zone_ = std::make_shared<const TimeZone>(std::move(*zone));
    out.timezone_ = std::move(timezone);
  }
  if (fields.size() == 5) fields.insert(fields.begin(), "0");
  static const FieldSpec kSpecs[] = {{0, 59, nullptr, 0},
                                     {0, 59, nullptr, 0},
                                     {0, 23, nullptr, 0},
                                     {1, 31, nullptr, 0},
                                     {1, 12, kMonthNames.data(), kMonthNames.size()},
                                     {0, 6, kDayNames.data(), kDayNames.size()}};
  static const char* kNames[] = {"seconds", "minutes", "hours", "day of month", "month", "day of week"};
  std::vector<bool> bits[6];
  bool restricted[6] = {};
  for (size_t i = 0; i < 6; ++i) {
    const int max_value = i == 5 ? 7 : kSpecs[i].max;
    bits[i].assign(static_cast<size_t>(max_value) + 1, false);
    if (!ParseField(fields[i], kSpecs[i], max_value, bits[i], restricted[i])) {
      return invalid(std::string("bad ") + kNames[i] + " field '" + std::string(fields[i]) + "'");
    }
  }
  if (bits[5][7]) bits[5][0] = true;  // 7 is Sunday too
  out.seconds_ = ToBits<60>(bits[0]);
  out.minutes_ = ToBits<60>(bits[1]);
  out.hours_ = ToBits<24>(bits[2]);
  out.days_ = ToBits<32>(bits[3]);
  out.months_ = ToBits<13>(bits[4]);
  out.weekdays_ = ToBits<7>(bits[5]);
  out.days_restricted_ = restricted[3];
  out.weekdays_restricted_ = restricted[5];
  return out;
}

bool CronSchedule::DayMatches(int year, unsigned month, unsigned day) const {
  const std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)};
  const unsigned weekday = std::chrono::weekday(std::chrono::sys_days(ymd)).c_encoding();
  const bool dom = days_[day];
  const bool dow = weekdays_[weekday];
  if (days_restricted_ && weekdays_restricted_) return dom || dow;
  return dom && dow;
}

std::optional<CronSchedule::Seconds> CronSchedule::Next(Seconds after) const {
  const int64_t after_utc = after.time_since_epoch().count();
  int64_t civil = (zone_ ? zone_->ToCivil(after_utc) : after_utc) + 1;
  const auto first_day = std::chrono::floor<days>(Seconds(seconds(civil)));
  const int last_year = static_cast<int>(std::chrono::year_month_day(first_day).year()) + 8;
  for (;;) {
    const auto day_point = std::chrono::floor<days>(Seconds(seconds(civil)));
    const int64_t day_start = std::chrono::duration_cast<seconds>(day_point.time_since_epoch()).count();
    const std::chrono::year_month_day ymd(day_point);
    const int year = static_cast<int>(ymd.year());
    if (year > last_year) return std::nullopt;
    const unsigned month = static_cast<unsigned>(ymd.month());
    const int64_t in_day = civil - day_start;
    const int hour = static_cast<int>(in_day / 3600);
    const int minute = static_cast<int>(in_day / 60 % 60);
    const int second = static_cast<int>(in_day % 60);
    if (!months_[month]) {
      const auto next_month = std::chrono::year_month(ymd.year(), ymd.month()) + std::chrono::months(1);
      civil = std::chrono::duration_cast<seconds>(std::chrono::sys_days(next_month / 1).time_since_epoch()).count();
      continue;
    }
    if (!DayMatches(year, month, static_cast<unsigned>(ymd.day()))) {
      civil = day_start + 86400;
      continue;
    }
    if (!hours_[static_cast<size_t>(hour)]) {
      civil = day_start + (hour + 1) * 3600;
      continue;
    }
    if (!minutes_[static_cast<size_t>(minute)]) {
      civil = day_start + hour * 3600 + (minute + 1) * 60;
      continue;
    }
    if (!seconds_[static_cast<size_t>(second)]) {
      ++civil;
      continue;
    }
    const int64_t utc = zone_ ? zone_->ToUtc(civil) : civil;
    if (utc > after_utc) return Seconds(seconds(utc));
    ++civil;  // a fold: this civil time's instant is already past
  }
}

}  // namespace wisp::whisk
