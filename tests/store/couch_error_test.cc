#include "store/couch_error.h"

#include <gtest/gtest.h>

namespace wisp::store {
namespace {

TEST(CouchError, UsesCouchDbsErrorTypesForStatuses) {
  EXPECT_EQ(CouchErrorType(400), "bad_request");
  EXPECT_EQ(CouchErrorType(401), "unauthorized");
  EXPECT_EQ(CouchErrorType(403), "forbidden");
  EXPECT_EQ(CouchErrorType(404), "not_found");
  EXPECT_EQ(CouchErrorType(409), "conflict");
  EXPECT_EQ(CouchErrorType(412), "file_exists");
  EXPECT_EQ(CouchErrorType(413), "too_large");
  EXPECT_EQ(CouchErrorType(415), "bad_content_type");
  EXPECT_EQ(CouchErrorType(500), "unknown_error");
}

TEST(CouchError, BodyIsErrorAndReason) {
  http::Response r = CouchError(409, "Document update conflict.");
  EXPECT_EQ(r.status, 409);
  EXPECT_EQ(r.headers.GetOr("Content-Type"), "application/json");
  EXPECT_EQ(r.headers.GetOr("Cache-Control"), "must-revalidate");
  EXPECT_EQ(r.body, R"({"error":"conflict","reason":"Document update conflict."})");
}

TEST(CouchError, FromStatusTakesItsHttpMeaning) {
  http::Response r = CouchError(Status::NotFound("Database does not exist."));
  EXPECT_EQ(r.status, 404);
  EXPECT_EQ(r.body, R"({"error":"not_found","reason":"Database does not exist."})");
}

TEST(CouchError, UnknownPathIsMissingAsCouchDbSaysIt) {
  http::Request req;
  EXPECT_EQ(RenderCouchError(404, "not found", req).body, R"({"error":"not_found","reason":"missing"})");
  EXPECT_EQ(RenderCouchError(413, "too big", req).body, R"({"error":"too_large","reason":"too big"})");
}

}  // namespace
}  // namespace wisp::store
