// The `cpp` kind: C++ source compiled against the SDK of this build tree,
// cached by content, and run in the native runtime's pools.
#include "whisk/cpp_runtime.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "testing/temp_dir.h"
#include "util/ids.h"
#include "whisk/native_runtime.h"

namespace wisp::whisk {
namespace {

using ::testing::HasSubstr;
using ::testing::StartsWith;

constexpr char kSource[] = R"(#include "whisk/sdk/action.h"
wisp::Result<wisp::Json> Main(const wisp::Json& args) {
  return wisp::Json{{"twice", wisp::json::GetInt(args, "n", 0) * 2}};
}
int main() { return wisp::whisk::sdk::Serve(Main); }
)";

TEST(CppRuntime, CompilesOnceRunsWarmAndReusesTheCacheAfterARestart) {
  testing::TempDir dir;
  NativeRuntime::Options native_options;
  native_options.scratch_dir = dir.path() + "/native";
  auto native = NativeRuntime::Create(native_options);
  ASSERT_TRUE(native.ok());
  CppRuntime::Options options;
  options.cache_dir = dir.path() + "/cpp";
  auto cpp = CppRuntime::Create(options, native->get());
  ASSERT_TRUE(cpp.ok());

  ActionCode code;
  code.kind = "cpp";
  code.pool_key = "/guest/twice@0.0.1";
  code.code = kSource;
  RunRequest request;
  request.value = {{"n", 21}};
  request.namespace_name = "guest";
  request.activation_id = NewId();
  RunOutcome first = (*cpp)->Run(code, request);
  ASSERT_EQ(first.status, ActivationStatus::kSuccess) << first.result;
  EXPECT_EQ(first.result, Json({{"twice", 42}}));
  EXPECT_TRUE(first.cold);
  RunOutcome second = (*cpp)->Run(code, request);
  EXPECT_FALSE(second.cold);
  EXPECT_EQ((*cpp)->compiles(), 1u);

  auto restarted = CppRuntime::Create(options, native->get());
  ASSERT_TRUE(restarted.ok());
  ASSERT_TRUE((*restarted)->Build(kSource).ok());
  EXPECT_EQ((*restarted)->compiles(), 0u) << "the build on disk is reused";
}

TEST(CppRuntime, CompileErrorsCarryTheCompilersMessage) {
  testing::TempDir dir;
  NativeRuntime::Options native_options;
  native_options.scratch_dir = dir.path() + "/native";
  auto native = NativeRuntime::Create(native_options);
  ASSERT_TRUE(native.ok());
  CppRuntime::Options options;
  options.cache_dir = dir.path() + "/cpp";
  auto cpp = CppRuntime::Create(options, native->get());
  ASSERT_TRUE(cpp.ok());
  Result<std::string> built = (*cpp)->Build("int main() { return nope; }\n");
  ASSERT_FALSE(built.ok());
  EXPECT_EQ(built.status().code(), StatusCode::kInvalidArgument);
  EXPECT_THAT(built.status().message(), StartsWith("The C++ action does not compile:\naction.cpp"));
  EXPECT_THAT(built.status().message(), HasSubstr("action.cpp:1:"));
  EXPECT_THAT(built.status().message(), HasSubstr("nope"));
  EXPECT_FALSE((*cpp)->Build("").ok());
}

}  // namespace
}  // namespace wisp::whisk
