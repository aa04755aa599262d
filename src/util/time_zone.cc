#include "util/time_zone.h"

#include <algorithm>
#include <cctype>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace wisp {
namespace {

constexpr int64_t kDay = 86400;
constexpr size_t kHeaderSize = 44;
constexpr std::uintmax_t kMaxFileSize = 1 << 20;  // real zone files are a few KB

// Big-endian reads from TZif data; the caller has checked the length.
uint32_t ReadU32(std::string_view bytes, size_t at) {
  uint32_t v = 0;
  for (size_t i = 0; i < 4; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return v;
}

int64_t ReadI64(std::string_view bytes, size_t at) {
  uint64_t v = 0;
  for (size_t i = 0; i < 8; ++i) v = (v << 8) | static_cast<unsigned char>(bytes[at + i]);
  return static_cast<int64_t>(v);
}

struct Counts {
  uint32_t isut, isstd, leap, time, type, chars;
};

Counts ReadCounts(std::string_view bytes, size_t header_at) {
  const size_t at = header_at + 20;
  return {ReadU32(bytes, at),      ReadU32(bytes, at + 4),  ReadU32(bytes, at + 8),
          ReadU32(bytes, at + 12), ReadU32(bytes, at + 16), ReadU32(bytes, at + 20)};
}

size_t DataSize(const Counts& c, size_t time_size) {
  return c.time * time_size + c.time + c.type * 6 + c.chars + c.leap * (time_size + 4) + c.isstd + c.isut;
}

int64_t DaysFromCivil(int year, unsigned month, unsigned day) {
  using namespace std::chrono;
  return sys_days(year_month_day(std::chrono::year(year), std::chrono::month(month), std::chrono::day(day)))
      .time_since_epoch()
      .count();
}

int YearOfCivil(int64_t civil_seconds) {
  using namespace std::chrono;
  const sys_days day(days(civil_seconds >= 0 ? civil_seconds / kDay : (civil_seconds - kDay + 1) / kDay));
  return static_cast<int>(year_month_day(day).year());
}

// A small cursor over the footer's POSIX TZ text.
class RuleReader {
 public:
  explicit RuleReader(std::string_view text) : text_(text) {}

  bool Done() const { return at_ == text_.size(); }
  bool Peek(char c) const { return at_ < text_.size() && text_[at_] == c; }
  bool Take(char c) {
    if (!Peek(c)) return false;
    ++at_;
    return true;
  }
  bool PeekOffsetStart() const {
    return at_ < text_.size() &&
           (std::isdigit(static_cast<unsigned char>(text_[at_])) || text_[at_] == '+' || text_[at_] == '-');
  }

  // A zone abbreviation: letters, or anything inside <...>.
  bool Name() {
    if (Take('<')) {
      const size_t end = text_.find('>', at_);
      if (end == std::string_view::npos) return false;
      at_ = end + 1;
      return true;
    }
    const size_t start = at_;
    while (at_ < text_.size() && std::isalpha(static_cast<unsigned char>(text_[at_]))) ++at_;
    return at_ - start >= 3;
  }

  std::optional<int> Number() {
    const size_t start = at_;
    int v = 0;
    while (at_ < text_.size() && std::isdigit(static_cast<unsigned char>(text_[at_])) && at_ - start < 6) {
      v = v * 10 + (text_[at_++] - '0');
    }
    if (at_ == start) return std::nullopt;
    return v;
  }

  // [+-]hh[:mm[:ss]] in seconds, the sign applied.
  std::optional<int32_t> Duration() {
    int sign = 1;
    if (Take('-')) {
      sign = -1;
    } else {
      Take('+');
    }
    auto hours = Number();
    if (!hours || *hours > 167) return std::nullopt;
    int32_t total = *hours * 3600;
    if (Take(':')) {
      auto minutes = Number();
      if (!minutes || *minutes > 59) return std::nullopt;
      total += *minutes * 60;
      if (Take(':')) {
        auto secs = Number();
        if (!secs || *secs > 59) return std::nullopt;
        total += *secs;
      }
    }
    return sign * total;
  }

 private:
  std::string_view text_;
  size_t at_ = 0;
};

}  // namespace

Result<TimeZone> TimeZone::Load(std::string_view name, const std::string& zoneinfo_dir) {
  const std::string shown(name);
  if (name.empty() || name.front() == '/' || name.find("..") != std::string_view::npos) {
    return Status::NotFound("'" + shown + "' is not a time zone name");
  }
  const std::filesystem::path path = std::filesystem::path(zoneinfo_dir) / std::string(name);
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec) || std::filesystem::file_size(path, ec) > kMaxFileSize) {
    return Status::NotFound("'" + shown + "' is not a known IANA time zone");
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  if (!in) return Status::NotFound("cannot read the time zone file for '" + shown + "'");
  return Parse(name, bytes.str());
}

Result<TimeZone> TimeZone::Parse(std::string_view name, std::string_view tzif) {
  const auto invalid = [&](std::string_view why) {
    return Status::InvalidArgument("time zone '" + std::string(name) + "': " + std::string(why));
  };
  if (tzif.size() < kHeaderSize || tzif.substr(0, 4) != "TZif") return invalid("not a TZif file");
  const char version = tzif[4];
  Counts counts = ReadCounts(tzif, 0);
  size_t header_at = 0;
  size_t time_size = 4;
  if (version >= '2') {
    // Version 2 and later repeat the data with 64-bit times after the
    // version 1 block; only that second block and the footer are read.
    header_at = kHeaderSize + DataSize(counts, 4);
    if (tzif.size() < header_at + kHeaderSize || tzif.substr(header_at, 4) != "TZif") {
      return invalid("truncated");
    }
    counts = ReadCounts(tzif, header_at);
    time_size = 8;
  }
  const size_t data_at = header_at + kHeaderSize;
  if (counts.type == 0 || counts.type > 256 || tzif.size() < data_at + DataSize(counts, time_size)) {
    return invalid("truncated or without local time types");
  }
  TimeZone zone;
  zone.name_ = std::string(name);
  const size_t indices_at = data_at + counts.time * time_size;
  const size_t types_at = indices_at + counts.time;
  const auto type_offset = [&](size_t type) { return static_cast<int32_t>(ReadU32(tzif, types_at + type * 6)); };
  zone.initial_offset_ = type_offset(0);
  for (size_t i = 0; i < counts.time; ++i) {
    const int64_t at =
        time_size == 8 ? ReadI64(tzif, data_at + i * 8) : static_cast<int32_t>(ReadU32(tzif, data_at + i * 4));
    const auto type = static_cast<unsigned char>(tzif[indices_at + i]);
    if (type >= counts.type) return invalid("a transition names a missing local time type");
    if (!zone.transitions_.empty() && at <= zone.transitions_.back()) return invalid("transitions out of order");
    zone.transitions_.push_back(at);
    zone.offset_after_.push_back(type_offset(type));
  }
  if (version >= '2') {
    const size_t footer_at = data_at + DataSize(counts, time_size);
    if (footer_at < tzif.size() && tzif[footer_at] == '\n') {
      const size_t end = tzif.find('\n', footer_at + 1);
      if (end == std::string_view::npos) return invalid("unterminated footer");
      const std::string_view footer = tzif.substr(footer_at + 1, end - footer_at - 1);
      if (!footer.empty()) {
        zone.rule_ = ParsePosixRule(footer);
        if (!zone.rule_) return invalid("cannot read the footer rule '" + std::string(footer) + "'");
      }
    }
  }
  return zone;
}

TimeZone TimeZone::Utc() {
  TimeZone zone;
  zone.name_ = "UTC";
  return zone;
}

std::optional<TimeZone::PosixRule> TimeZone::ParsePosixRule(std::string_view text) {
  RuleReader in(text);
  PosixRule rule;
  if (!in.Name()) return std::nullopt;
  auto std_offset = in.Duration();
  if (!std_offset) return std::nullopt;
  rule.std_offset = -*std_offset;  // POSIX counts hours west of Greenwich
  if (in.Done()) return rule;
  if (!in.Name()) return std::nullopt;
  rule.dst_offset = rule.std_offset + 3600;
  if (in.PeekOffsetStart()) {
    auto dst_offset = in.Duration();
    if (!dst_offset) return std::nullopt;
    rule.dst_offset = -*dst_offset;
  }
  const auto read_when = [&](PosixRule::When& when) {
    if (!in.Take(',')) return false;
    if (in.Take('M')) {
      auto month = in.Number();
      if (!month || !in.Take('.')) return false;
      auto week = in.Number();
      if (!week || !in.Take('.')) return false;
      auto day = in.Number();
      if (!day || *month < 1 || *month > 12 || *week < 1 || *week > 5 || *day > 6) return false;
      when = {PosixRule::When::Kind::kMonthWeekDay, *day, *month, *week};
    } else {
      const bool julian1 = in.Take('J');
      auto day = in.Number();
      if (!day || *day > 365 || (julian1 && *day < 1)) return false;
      when = {julian1 ? PosixRule::When::Kind::kJulian1 : PosixRule::When::Kind::kJulian0, *day};
    }
    if (in.Take('/')) {
      auto time = in.Duration();
      if (!time) return false;
      when.time = *time;
    }
    return true;
  };
  if (in.Done()) {
    // No rule given: POSIX leaves it to the implementation; the US rule is
    // what the C library assumes.
    rule.dst_start = {PosixRule::When::Kind::kMonthWeekDay, 0, 3, 2};
    rule.dst_end = {PosixRule::When::Kind::kMonthWeekDay, 0, 11, 1};
    return rule;
  }
  if (!read_when(rule.dst_start) || !read_when(rule.dst_end) || !in.Done()) return std::nullopt;
  return rule;
}

int64_t TimeZone::RuleCivilSeconds(const PosixRule::When& when, int year) {
  const bool leap = std::chrono::year(year).is_leap();
  int64_t day = 0;
  switch (when.kind) {
    case PosixRule::When::Kind::kJulian1:  // 1..365, February 29 never counted
      day = DaysFromCivil(year, 1, 1) + when.day - 1 + (leap && when.day >= 60 ? 1 : 0);
      break;
    case PosixRule::When::Kind::kJulian0:  // 0..365, February 29 counted
      day = DaysFromCivil(year, 1, 1) + when.day;
      break;
    case PosixRule::When::Kind::kMonthWeekDay: {
      const int64_t first = DaysFromCivil(year, static_cast<unsigned>(when.month), 1);
      // 1970-01-01 was a Thursday (weekday 4).
      const int64_t first_weekday = ((first % 7) + 7 + 4) % 7;
      int64_t offset = (when.day - first_weekday + 7) % 7 + (when.week - 1) * 7;
      const unsigned month_days = static_cast<unsigned>(
          (std::chrono::year(year) / std::chrono::month(static_cast<unsigned>(when.month)) / std::chrono::last).day());
      while (offset >= static_cast<int64_t>(month_days)) offset -= 7;  // week 5 is "the last"
      day = first + offset;
      break;
    }
  }
  return day * kDay + when.time;
}

int32_t TimeZone::RuleOffsetAt(int64_t utc_seconds) const {
  const PosixRule& rule = *rule_;
  if (!rule.dst_offset) return rule.std_offset;
  const int year = YearOfCivil(utc_seconds + rule.std_offset);
  // The start is written in standard time and the end in daylight time.
  const int64_t start = RuleCivilSeconds(rule.dst_start, year) - rule.std_offset;
  const int64_t end = RuleCivilSeconds(rule.dst_end, year) - *rule.dst_offset;
  const bool in_dst = start < end ? (utc_seconds >= start && utc_seconds < end)
                                  : (utc_seconds < end || utc_seconds >= start);  // southern hemisphere
  return in_dst ? *rule.dst_offset : rule.std_offset;
}

int32_t TimeZone::OffsetAt(int64_t utc_seconds) const {
  if (transitions_.empty() || utc_seconds >= transitions_.back()) {
    if (rule_) return RuleOffsetAt(utc_seconds);
    return transitions_.empty() ? initial_offset_ : offset_after_.back();
  }
  const auto after = std::upper_bound(transitions_.begin(), transitions_.end(), utc_seconds);
  if (after == transitions_.begin()) return initial_offset_;
  return offset_after_[static_cast<size_t>(after - transitions_.begin()) - 1];
}

int64_t TimeZone::ToUtc(int64_t civil_seconds) const {
  // Offsets lie within a day of zero, so the instant is within a day of the
  // civil seconds; the offsets a day before and a day after are the only
  // candidates (zones do not change twice within two days).
  const int32_t before = OffsetAt(civil_seconds - kDay);
  const int32_t after = OffsetAt(civil_seconds + kDay);
  std::optional<int64_t> first;
  for (int32_t offset : {before, after}) {
    const int64_t utc = civil_seconds - offset;
    if (OffsetAt(utc) == offset && (!first || utc < *first)) first = utc;
  }
  return first ? *first : civil_seconds - before;  // a gap: read with the offset before it
}

}  // namespace wisp
