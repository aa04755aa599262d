#include "whisk/error_response.h"

#include <gtest/gtest.h>

namespace wisp::whisk {
namespace {

http::Request WithId(std::string id) {
  http::Request r;
  r.request_id = std::move(id);
  return r;
}

TEST(WhiskErrorResponse, CarriesErrorTextAndRequestIdAsCode) {
  http::Response r = ErrorResponse(409, "resource already exists", WithId("tid-1"));
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(r.body, R"({"error":"resource already exists","code":"tid-1"})");
}

TEST(WhiskErrorResponse, UnauthorizedCarriesTheBasicChallenge) {
  http::Response r = ErrorResponse(401, "The supplied authentication is invalid", WithId("t"));
  EXPECT_EQ(r.headers.GetOr("WWW-Authenticate"), "Basic realm=\"OpenWhisk secure realm\"");
}

TEST(WhiskErrorResponse, StatusCodeMapsToHttpStatus) {
  EXPECT_EQ(ErrorResponse(Status::NotFound("x"), WithId("t")).status, 404);
  EXPECT_EQ(ErrorResponse(Status::ResourceExhausted("x"), WithId("t")).status, 429);
  EXPECT_EQ(ErrorResponse(Status::PayloadTooLarge("x"), WithId("t")).status, 413);
  EXPECT_EQ(ErrorResponse(Status::Internal("x"), WithId("t")).status, 500);
}

TEST(WhiskErrorResponse, RouterNotFoundUsesOpenWhisksText) {
  http::Response r = RenderWhiskError(404, "not found", WithId("t"));
  EXPECT_EQ(r.body, R"({"error":"The requested resource does not exist.","code":"t"})");
}

}  // namespace
}  // namespace wisp::whisk
