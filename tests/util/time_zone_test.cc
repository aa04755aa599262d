#include "util/time_zone.h"

#include <gtest/gtest.h>
#include <time.h>

#include <cstdlib>
#include <optional>
#include <random>
#include <string>

namespace wisp {
namespace {

constexpr int64_t kHour = 3600;
constexpr int64_t kDay = 86400;

// The C library's reading of a zone is the oracle: it reads the same tzdata
// files. TZ is process state, which is fine in this single-threaded test.
class CLibraryZone {
 public:
  explicit CLibraryZone(const std::string& zone) {
    if (const char* old = std::getenv("TZ")) saved_ = old;
    setenv("TZ", zone.c_str(), 1);
    tzset();
  }
  ~CLibraryZone() {
    if (saved_) {
      setenv("TZ", saved_->c_str(), 1);
    } else {
      unsetenv("TZ");
    }
    tzset();
  }

  static int64_t Offset(int64_t utc) {
    const time_t t = static_cast<time_t>(utc);
    struct tm local {};
    localtime_r(&t, &local);
    return local.tm_gmtoff;
  }

 private:
  std::optional<std::string> saved_;
};

TimeZone MustLoad(const std::string& name) {
  Result<TimeZone> zone = TimeZone::Load(name);
  EXPECT_TRUE(zone.ok()) << zone.status().ToString();
  return zone.ok() ? std::move(*zone) : TimeZone::Utc();
}

class TimeZoneAgreesWithCLibrary : public ::testing::TestWithParam<std::string> {};

TEST_P(TimeZoneAgreesWithCLibrary, OffsetsFrom1900To2100) {
  const TimeZone zone = MustLoad(GetParam());
  CLibraryZone oracle(GetParam());
  std::mt19937_64 random(20261128);
  // 1901..2099 at random, plus every hour of two whole years, one inside the
  // transition table and one past 2037 where the footer rule decides.
  std::uniform_int_distribution<int64_t> instant(-2'174'000'000, 4'100'000'000);
  for (int i = 0; i < 20000; ++i) {
    const int64_t t = instant(random);
    ASSERT_EQ(zone.OffsetAt(t), CLibraryZone::Offset(t)) << GetParam() << " at " << t;
  }
  for (int64_t start : {int64_t{1'735'689'600} /* 2025 */, int64_t{2'524'608'000} /* 2050 */}) {
    for (int64_t t = start; t < start + 366 * kDay; t += kHour / 2) {
      ASSERT_EQ(zone.OffsetAt(t), CLibraryZone::Offset(t)) << GetParam() << " at " << t;
    }
  }
}

TEST_P(TimeZoneAgreesWithCLibrary, CivilTimeRoundTripsOutsideGapsAndFolds) {
  const TimeZone zone = MustLoad(GetParam());
  for (int64_t t = 2'524'608'000; t < 2'524'608'000 + 366 * kDay; t += 17 * 60) {
    const int64_t civil = zone.ToCivil(t);
    const int64_t back = zone.ToUtc(civil);
    // A fold maps to its first occurrence, which reads the same civil time.
    EXPECT_LE(back, t);
    EXPECT_EQ(zone.ToCivil(back), civil) << GetParam() << " at " << t;
  }
}

INSTANTIATE_TEST_SUITE_P(Zones, TimeZoneAgreesWithCLibrary,
                         ::testing::Values("Europe/Berlin", "America/New_York", "Australia/Sydney", "Europe/Dublin",
                                           "Asia/Kolkata", "America/Sao_Paulo", "Pacific/Chatham", "Asia/Tehran",
                                           "Africa/Casablanca", "America/St_Johns", "Pacific/Kiritimati", "Etc/GMT+5"),
                         [](const auto& info) {
                           std::string name = info.param;
                           for (char& c : name) {
                             if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
                           }
                           return name;
                         });

TEST(TimeZoneTest, GapsReadOneGapLaterAndFoldsTakeTheFirstOccurrence) {
  const TimeZone berlin = MustLoad("Europe/Berlin");
  // 2030-03-31: clocks go from 02:00 CET to 03:00 CEST (01:00 UTC).
  const int64_t gap_day = 1'901'145'600;                                                  // 2030-03-31T00:00:00Z
  EXPECT_EQ(berlin.ToUtc(gap_day + 2 * kHour + 30 * 60), gap_day + 1 * kHour + 30 * 60);  // 03:30 CEST
  // 2030-10-27: 03:00 CEST goes back to 02:00 CET (01:00 UTC); 02:30 happens twice.
  const int64_t fold_day = 1'919'289'600;                                       // 2030-10-27T00:00:00Z
  EXPECT_EQ(berlin.ToUtc(fold_day + 2 * kHour + 30 * 60), fold_day + 30 * 60);  // the CEST one
  EXPECT_EQ(berlin.OffsetAt(fold_day + 30 * 60), 2 * kHour);
  EXPECT_EQ(berlin.OffsetAt(fold_day + 90 * 60), 1 * kHour);
}

TEST(TimeZoneTest, UnknownAndHostileNamesAreNotFound) {
  for (const char* name : {"", "Mars/Olympus_Mons", "../../etc/passwd", "/etc/passwd", "Europe"}) {
    Result<TimeZone> zone = TimeZone::Load(name);
    ASSERT_FALSE(zone.ok()) << name;
    EXPECT_TRUE(zone.status().IsNotFound()) << name << ": " << zone.status().ToString();
  }
}

TEST(TimeZoneTest, BytesThatAreNotTzifAreRefused) {
  EXPECT_TRUE(TimeZone::Parse("x", "").status().IsInvalidArgument());
  EXPECT_TRUE(
      TimeZone::Parse("x", "not a zone file at all, but long enough to hold a header").status().IsInvalidArgument());
  // A real header whose counts promise more data than there is.
  std::string truncated = "TZif2";
  truncated.resize(44, '\0');
  truncated[35] = 5;  // timecnt
  truncated[39] = 1;  // typecnt
  EXPECT_TRUE(TimeZone::Parse("x", truncated).status().IsInvalidArgument());
}

TEST(TimeZoneTest, UtcHasNoOffset) {
  const TimeZone utc = TimeZone::Utc();
  EXPECT_EQ(utc.OffsetAt(1'900'000'000), 0);
  EXPECT_EQ(utc.ToUtc(1'900'000'000), 1'900'000'000);
}

}  // namespace
}  // namespace wisp
