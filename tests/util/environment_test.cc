#include "util/environment.h"

#include <cstdlib>

#include <gtest/gtest.h>

namespace wisp {
namespace {

TEST(EnvironmentVariableTest, ReadsASetVariable) {
  ASSERT_EQ(setenv("WISP_TEST_ENVIRONMENT_VARIABLE", "a value", 1), 0);
  EXPECT_EQ(EnvironmentVariable("WISP_TEST_ENVIRONMENT_VARIABLE"), "a value");
  unsetenv("WISP_TEST_ENVIRONMENT_VARIABLE");
}

TEST(EnvironmentVariableTest, AnUnsetVariableReadsAsEmpty) {
  unsetenv("WISP_TEST_ENVIRONMENT_VARIABLE");
  EXPECT_EQ(EnvironmentVariable("WISP_TEST_ENVIRONMENT_VARIABLE"), "");
}

}  // namespace
}  // namespace wisp
