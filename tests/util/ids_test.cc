#include "util/ids.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace wisp {
namespace {

using ::testing::MatchesRegex;

bool IsLowerHex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }

TEST(NewIdTest, Is32LowercaseHexCharacters) {
  for (int i = 0; i < 100; ++i) {
    const std::string id = NewId();
    ASSERT_EQ(id.size(), 32u) << id;
    for (char c : id) ASSERT_TRUE(IsLowerHex(c)) << id;
    EXPECT_TRUE(IsId(id)) << id;
  }
}

TEST(NewIdTest, IsUniqueAcrossManyCalls) {
  std::set<std::string> seen;
  constexpr int kCount = 100'000;
  for (int i = 0; i < kCount; ++i) seen.insert(NewId());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kCount));
}

TEST(NewIdTest, UsesEveryHexDigitInEveryPosition) {
  // A stuck nibble (e.g. a shift that drops bits) would leave a position constant.
  std::vector<std::set<char>> per_position(32);
  for (int i = 0; i < 2000; ++i) {
    const std::string id = NewId();
    for (size_t p = 0; p < id.size(); ++p) per_position[p].insert(id[p]);
  }
  for (size_t p = 0; p < per_position.size(); ++p) {
    EXPECT_EQ(per_position[p].size(), 16u) << "position " << p;
  }
}

TEST(NewIdTest, IsUniqueAcrossThreads) {
  constexpr int kThreads = 8;
  constexpr int kPerThread = 10'000;
  std::vector<std::vector<std::string>> ids(kThreads);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&ids, t] {
      ids[t].reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) ids[t].push_back(NewId());
    });
  }
  for (auto& t : threads) t.join();

  std::set<std::string> seen;
  for (const auto& batch : ids) seen.insert(batch.begin(), batch.end());
  EXPECT_EQ(seen.size(), static_cast<size_t>(kThreads * kPerThread));
}

TEST(NewUuidTest, HasVersion4Format) {
  for (int i = 0; i < 1000; ++i) {
    const std::string uuid = NewUuid();
    ASSERT_THAT(uuid, MatchesRegex("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
  }
}

TEST(NewUuidTest, SetsVersionAndVariantBitsWithoutFixingOthers) {
  std::set<char> variant_nibbles;
  std::set<char> after_version;
  for (int i = 0; i < 2000; ++i) {
    const std::string uuid = NewUuid();
    ASSERT_EQ(uuid.size(), 36u);
    EXPECT_EQ(uuid[14], '4') << uuid;
    variant_nibbles.insert(uuid[19]);
    after_version.insert(uuid[15]);
  }
  // The variant is 10xx: exactly the four nibbles 8, 9, a, b occur.
  EXPECT_EQ(variant_nibbles, (std::set<char>{'8', '9', 'a', 'b'}));
  EXPECT_EQ(after_version.size(), 16u);
}

TEST(NewUuidTest, IsUnique) {
  std::set<std::string> seen;
  for (int i = 0; i < 10'000; ++i) seen.insert(NewUuid());
  EXPECT_EQ(seen.size(), 10'000u);
}

TEST(RandomSecretTest, HasRequestedLength) {
  EXPECT_EQ(RandomSecret(0), "");
  EXPECT_EQ(RandomSecret(1).size(), 1u);
  EXPECT_EQ(RandomSecret(64).size(), 64u);
  EXPECT_EQ(RandomSecret(1000).size(), 1000u);
}

TEST(RandomSecretTest, UsesOnlyAlphanumericsAndAllOfThem) {
  const std::string secret = RandomSecret(20'000);
  std::set<char> used;
  for (char c : secret) {
    ASSERT_TRUE((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
        << "unexpected character " << static_cast<int>(c);
    used.insert(c);
  }
  EXPECT_EQ(used.size(), 62u);  // missing one in 20000 draws has odds ~1e-135
}

TEST(RandomSecretTest, DiffersBetweenCalls) {
  EXPECT_NE(RandomSecret(32), RandomSecret(32));
}

TEST(IsIdTest, AcceptsExactly32LowercaseHex) {
  EXPECT_TRUE(IsId("0123456789abcdef0123456789abcdef"));
  EXPECT_TRUE(IsId(std::string(32, '0')));
  EXPECT_TRUE(IsId(std::string(32, 'f')));
}

TEST(IsIdTest, RejectsWrongLength) {
  EXPECT_FALSE(IsId(""));
  EXPECT_FALSE(IsId(std::string(31, 'a')));
  EXPECT_FALSE(IsId(std::string(33, 'a')));
}

TEST(IsIdTest, RejectsNonHexOrUppercase) {
  EXPECT_FALSE(IsId("0123456789ABCDEF0123456789abcdef"));
  EXPECT_FALSE(IsId("0123456789abcdeg0123456789abcdef"));
  EXPECT_FALSE(IsId("01234567-9abcdef0123456789abcdef"));
  EXPECT_FALSE(IsId(std::string("0123456789abcdef0123456789abcde\0", 32)));
}

TEST(IsIdTest, RejectsUuidShape) { EXPECT_FALSE(IsId(NewUuid())); }

}  // namespace
}  // namespace wisp
