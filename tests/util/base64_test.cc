#include "util/base64.h"

#include <gtest/gtest.h>

namespace wisp {
namespace {

TEST(Base64, EncodesRfc4648Vectors) {
  EXPECT_EQ(Base64Encode(""), "");
  EXPECT_EQ(Base64Encode("f"), "Zg==");
  EXPECT_EQ(Base64Encode("fo"), "Zm8=");
  EXPECT_EQ(Base64Encode("foo"), "Zm9v");
  EXPECT_EQ(Base64Encode("foob"), "Zm9vYg==");
  EXPECT_EQ(Base64Encode("fooba"), "Zm9vYmE=");
  EXPECT_EQ(Base64Encode("foobar"), "Zm9vYmFy");
}

TEST(Base64, DecodesPaddedUnpaddedAndWrappedInput) {
  EXPECT_EQ(*Base64Decode("Zm9vYmE="), "fooba");
  EXPECT_EQ(*Base64Decode("Zm9vYmE"), "fooba");
  EXPECT_EQ(*Base64Decode("Zm9v\nYmFy"), "foobar");
}

TEST(Base64, RoundTripsEveryByteValue) {
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(static_cast<char>(i));
  EXPECT_EQ(*Base64Decode(Base64Encode(all)), all);
}

TEST(Base64, RejectsForeignCharactersAndDataAfterPadding) {
  EXPECT_TRUE(Base64Decode("Zm9v*").status().IsInvalidArgument());
  EXPECT_TRUE(Base64Decode("Zg==Zg").status().IsInvalidArgument());
  EXPECT_TRUE(Base64Decode("Z").status().IsInvalidArgument());
}

}  // namespace
}  // namespace wisp
