#include "util/result.h"

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

namespace wisp {
namespace {

Result<int> ParsePositive(int v) {
  if (v <= 0) return Status::InvalidArgument("not positive");
  return v;
}

Status Check(bool ok) { return ok ? Status::Ok() : Status::PreconditionFailed("check failed"); }

TEST(ResultTest, HoldsValue) {
  Result<std::string> r = std::string("hello");
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r.status().ok());
  EXPECT_EQ(r.value(), "hello");
  EXPECT_EQ(*r, "hello");
  EXPECT_EQ(r->size(), 5u);
}

TEST(ResultTest, HoldsError) {
  Result<int> r = Status::NotFound("gone");
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsNotFound());
  EXPECT_EQ(r.status().message(), "gone");
}

TEST(ResultTest, BuiltFromOkStatusBecomesInternalError) {
  Result<int> r = Status::Ok();
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInternal());
}

TEST(ResultTest, ValueIsMutableThroughReferenceAndArrow) {
  Result<std::vector<int>> r = std::vector<int>{1, 2};
  r.value().push_back(3);
  (*r).push_back(4);
  r->push_back(5);
  EXPECT_EQ(*r, (std::vector<int>{1, 2, 3, 4, 5}));
}

TEST(ResultTest, ConstAccessorsReadTheValue) {
  const Result<std::string> r = std::string("abc");
  EXPECT_EQ(r.value(), "abc");
  EXPECT_EQ(*r, "abc");
  EXPECT_EQ(r->size(), 3u);
}

TEST(ResultTest, ValueOrReturnsValueWhenOk) {
  Result<int> r = 7;
  EXPECT_EQ(r.value_or(-1), 7);
}

TEST(ResultTest, ValueOrReturnsFallbackOnError) {
  Result<int> r = Status::Unavailable("down");
  EXPECT_EQ(r.value_or(-1), -1);
}

TEST(ResultTest, HoldsMoveOnlyValueAndMovesItOut) {
  Result<std::unique_ptr<int>> r = std::make_unique<int>(42);
  ASSERT_TRUE(r.ok());
  std::unique_ptr<int> p = std::move(r).value();
  ASSERT_NE(p, nullptr);
  EXPECT_EQ(*p, 42);

  Result<std::unique_ptr<int>> r2 = std::make_unique<int>(9);
  std::unique_ptr<int> p2 = *std::move(r2);
  EXPECT_EQ(*p2, 9);
}

TEST(ResultDeathTest, ReadingValueOfFailedResultAborts) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  Result<int> r = Status::NotFound("no such doc");
  EXPECT_DEATH({ [[maybe_unused]] int v = r.value(); }, "value of a failed Result read: NotFound: no such doc");
  EXPECT_DEATH({ [[maybe_unused]] int v = *r; }, "failed Result");
}

// --- WISP_ASSIGN_OR_RETURN ---

Result<int> DoubleIt(int v) {
  WISP_ASSIGN_OR_RETURN(int x, ParsePositive(v));
  return x * 2;
}

Status SumInto(int a, int b, int* out) {
  WISP_ASSIGN_OR_RETURN(int x, ParsePositive(a));
  WISP_ASSIGN_OR_RETURN(int y, ParsePositive(b));  // a second use in one scope
  *out = x + y;
  return Status::Ok();
}

TEST(AssignOrReturnTest, DeclaresValueOnSuccess) {
  Result<int> r = DoubleIt(21);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 42);
}

TEST(AssignOrReturnTest, ReturnsErrorStatusOnFailure) {
  Result<int> r = DoubleIt(-1);
  EXPECT_FALSE(r.ok());
  EXPECT_TRUE(r.status().IsInvalidArgument());
  EXPECT_EQ(r.status().message(), "not positive");
}

TEST(AssignOrReturnTest, WorksInFunctionReturningStatus) {
  int out = 0;
  EXPECT_TRUE(SumInto(2, 3, &out).ok());
  EXPECT_EQ(out, 5);

  out = 0;
  Status s = SumInto(2, 0, &out);
  EXPECT_TRUE(s.IsInvalidArgument());
  EXPECT_EQ(out, 0);
}

TEST(AssignOrReturnTest, AssignsToExistingVariable) {
  auto f = [](int v) -> Status {
    int x = 0;
    WISP_ASSIGN_OR_RETURN(x, ParsePositive(v));
    return x == v ? Status::Ok() : Status::Internal("wrong value");
  };
  EXPECT_TRUE(f(5).ok());
  EXPECT_TRUE(f(0).IsInvalidArgument());
}

TEST(AssignOrReturnTest, MovesMoveOnlyValue) {
  auto make = [](bool ok) -> Result<std::unique_ptr<int>> {
    if (!ok) return Status::Unavailable("no");
    return std::make_unique<int>(3);
  };
  auto f = [&](bool ok) -> Result<int> {
    WISP_ASSIGN_OR_RETURN(std::unique_ptr<int> p, make(ok));
    return *p + 1;
  };
  Result<int> good = f(true);
  ASSERT_TRUE(good.ok());
  EXPECT_EQ(*good, 4);
  EXPECT_TRUE(f(false).status().IsUnavailable());
}

TEST(AssignOrReturnTest, EvaluatesExpressionOnce) {
  int calls = 0;
  auto f = [&]() -> Result<int> {
    WISP_ASSIGN_OR_RETURN(int x, (++calls, ParsePositive(1)));
    return x;
  };
  EXPECT_TRUE(f().ok());
  EXPECT_EQ(calls, 1);
}

// --- WISP_RETURN_IF_ERROR ---

Status TwoChecks(bool first, bool second, int* reached) {
  WISP_RETURN_IF_ERROR(Check(first));
  *reached = 1;
  WISP_RETURN_IF_ERROR(Check(second));
  *reached = 2;
  return Status::Ok();
}

TEST(ReturnIfErrorTest, ContinuesWhenOk) {
  int reached = 0;
  EXPECT_TRUE(TwoChecks(true, true, &reached).ok());
  EXPECT_EQ(reached, 2);
}

TEST(ReturnIfErrorTest, ReturnsFirstError) {
  int reached = 0;
  Status s = TwoChecks(false, true, &reached);
  EXPECT_TRUE(s.code() == StatusCode::kPreconditionFailed);
  EXPECT_EQ(s.message(), "check failed");
  EXPECT_EQ(reached, 0);

  reached = 0;
  EXPECT_FALSE(TwoChecks(true, false, &reached).ok());
  EXPECT_EQ(reached, 1);
}

TEST(ReturnIfErrorTest, WorksInFunctionReturningResult) {
  auto f = [](bool ok) -> Result<std::string> {
    WISP_RETURN_IF_ERROR(Check(ok));
    return std::string("done");
  };
  EXPECT_EQ(*f(true), "done");
  Result<std::string> r = f(false);
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kPreconditionFailed);
}

TEST(ReturnIfErrorTest, IsASingleStatementInUnbracedIfElse) {
  auto f = [](bool cond, bool ok) -> Status {
    if (cond)
      WISP_RETURN_IF_ERROR(Check(ok));
    else
      return Status::Cancelled("else branch");
    return Status::Ok();
  };
  EXPECT_TRUE(f(true, true).ok());
  EXPECT_EQ(f(true, false).code(), StatusCode::kPreconditionFailed);
  EXPECT_EQ(f(false, true).code(), StatusCode::kCancelled);
}

}  // namespace
}  // namespace wisp
