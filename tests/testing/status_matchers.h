// GoogleTest matchers for absl::Status and grpc::Status (Abseil 20220623 has
// no status_matchers.h). Check the specific code, not just "not OK".
//
//   EXPECT_THAT(log->Append(r).status(), StatusIs(absl::StatusCode::kAborted));
//   EXPECT_THAT(grpc_status, GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
//                                   HasSubstr("business_date")));
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "gmock/gmock.h"
#include "grpcpp/support/status.h"

namespace nenep::testing {

MATCHER_P(StatusIs, code,
          std::string("status code is ") +
              absl::StatusCodeToString(static_cast<absl::StatusCode>(code))) {
  return arg.code() == code;
}

MATCHER_P2(StatusIs, code, message_matcher, "") {
  return arg.code() == code &&
         ::testing::ExplainMatchResult(
             message_matcher, std::string(arg.message()), result_listener);
}

MATCHER(IsOk, "is OK") { return arg.ok(); }

MATCHER_P(GrpcIs, code, "") {
  *result_listener << "code " << arg.error_code() << " message '"
                   << arg.error_message() << "'";
  return arg.error_code() == code;
}

MATCHER_P2(GrpcIs, code, message_matcher, "") {
  *result_listener << "code " << arg.error_code() << " message '"
                   << arg.error_message() << "'";
  return arg.error_code() == code &&
         ::testing::ExplainMatchResult(message_matcher, arg.error_message(),
                                       result_listener);
}

#define NENEP_ASSERT_OK(expr)                                \
  do {                                                       \
    const auto& nenep_s_ = (expr);                           \
    ASSERT_TRUE(nenep_s_.ok()) << #expr << ": " << nenep_s_; \
  } while (0)

#define NENEP_EXPECT_OK(expr)                                \
  do {                                                       \
    const auto& nenep_s_ = (expr);                           \
    EXPECT_TRUE(nenep_s_.ok()) << #expr << ": " << nenep_s_; \
  } while (0)

}  // namespace nenep::testing
