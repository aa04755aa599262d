#include "util/status.h"

#include <gtest/gtest.h>

#include <set>
#include <string>
#include <vector>

namespace wisp {
namespace {

TEST(StatusTest, DefaultIsOkWithEmptyMessage) {
  Status s;
  EXPECT_TRUE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kOk);
  EXPECT_EQ(s.message(), "");
  EXPECT_EQ(s.ToString(), "OK");
}

TEST(StatusTest, OkFactoryEqualsDefault) {
  EXPECT_TRUE(Status::Ok().ok());
  EXPECT_EQ(Status::Ok(), Status());
}

TEST(StatusTest, FactoriesSetCodeAndMessage) {
  struct Case {
    Status status;
    StatusCode code;
  };
  const std::vector<Case> cases = {
      {Status::InvalidArgument("m"), StatusCode::kInvalidArgument},
      {Status::Unauthenticated("m"), StatusCode::kUnauthenticated},
      {Status::PermissionDenied("m"), StatusCode::kPermissionDenied},
      {Status::NotFound("m"), StatusCode::kNotFound},
      {Status::Conflict("m"), StatusCode::kConflict},
      {Status::PreconditionFailed("m"), StatusCode::kPreconditionFailed},
      {Status::PayloadTooLarge("m"), StatusCode::kPayloadTooLarge},
      {Status::UnsupportedMediaType("m"), StatusCode::kUnsupportedMediaType},
      {Status::ResourceExhausted("m"), StatusCode::kResourceExhausted},
      {Status::DeadlineExceeded("m"), StatusCode::kDeadlineExceeded},
      {Status::Unavailable("m"), StatusCode::kUnavailable},
      {Status::Cancelled("m"), StatusCode::kCancelled},
      {Status::IoError("m"), StatusCode::kIoError},
      {Status::Internal("m"), StatusCode::kInternal},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(StatusCodeName(c.code));
    EXPECT_FALSE(c.status.ok());
    EXPECT_EQ(c.status.code(), c.code);
    EXPECT_EQ(c.status.message(), "m");
  }
}

TEST(StatusTest, EachPredicateMatchesOnlyItsOwnCode) {
  const Status not_found = Status::NotFound("x");
  EXPECT_TRUE(not_found.IsNotFound());
  EXPECT_FALSE(not_found.IsConflict());
  EXPECT_FALSE(not_found.IsInternal());

  EXPECT_TRUE(Status::InvalidArgument("").IsInvalidArgument());
  EXPECT_TRUE(Status::Unauthenticated("").IsUnauthenticated());
  EXPECT_TRUE(Status::PermissionDenied("").IsPermissionDenied());
  EXPECT_TRUE(Status::Conflict("").IsConflict());
  EXPECT_TRUE(Status::PayloadTooLarge("").IsPayloadTooLarge());
  EXPECT_TRUE(Status::ResourceExhausted("").IsResourceExhausted());
  EXPECT_TRUE(Status::DeadlineExceeded("").IsDeadlineExceeded());
  EXPECT_TRUE(Status::Unavailable("").IsUnavailable());
  EXPECT_TRUE(Status::IoError("").IsIoError());
  EXPECT_TRUE(Status::Internal("").IsInternal());

  const Status ok;
  EXPECT_FALSE(ok.IsNotFound());
  EXPECT_FALSE(ok.IsInternal());
  EXPECT_FALSE(Status::Conflict("").IsNotFound());
}

TEST(StatusTest, ToStringJoinsCodeNameAndMessage) {
  EXPECT_EQ(Status::NotFound("no such database").ToString(), "NotFound: no such database");
  EXPECT_EQ(Status::IoError("disk full").ToString(), "IoError: disk full");
}

TEST(StatusTest, EveryCodeHasADistinctName) {
  std::set<std::string_view> names;
  for (int c = static_cast<int>(StatusCode::kOk); c <= static_cast<int>(StatusCode::kInternal); ++c) {
    std::string_view name = StatusCodeName(static_cast<StatusCode>(c));
    EXPECT_NE(name, "Unknown") << c;
    EXPECT_TRUE(names.insert(name).second) << "duplicate name " << name;
  }
  EXPECT_EQ(StatusCodeName(StatusCode::kOk), "OK");
  EXPECT_EQ(StatusCodeName(StatusCode::kPreconditionFailed), "PreconditionFailed");
}

TEST(StatusTest, CodeOutsideTheSetIsNamedUnknown) {
  EXPECT_EQ(StatusCodeName(static_cast<StatusCode>(999)), "Unknown");
}

TEST(StatusTest, EqualityComparesCodeAndMessage) {
  EXPECT_EQ(Status::NotFound("a"), Status::NotFound("a"));
  EXPECT_NE(Status::NotFound("a"), Status::NotFound("b"));
  EXPECT_NE(Status::NotFound("a"), Status::Conflict("a"));
  EXPECT_EQ(Status(StatusCode::kConflict, "x"), Status::Conflict("x"));
}

TEST(StatusTest, CopiesAndMovesKeepCodeAndMessage) {
  Status original = Status::Unavailable("try later");
  Status copy = original;
  EXPECT_EQ(copy, original);
  Status moved = std::move(original);
  EXPECT_TRUE(moved.IsUnavailable());
  EXPECT_EQ(moved.message(), "try later");
}

}  // namespace
}  // namespace wisp
