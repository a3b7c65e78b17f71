// Error propagation for absl::Status / absl::StatusOr (Abseil 20220623 has no
// ABSL_RETURN_IF_ERROR; these keep the names newer Abseil uses, minus the
// prefix, so moving to it later is a rename).
//
//   RETURN_IF_ERROR(WriteSomething());
//   ASSIGN_OR_RETURN(Position head, log->Head());
//
// ASSIGN_OR_RETURN expands to several statements: never use it as the body of
// an unbraced `if`.
#pragma once

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define RETURN_IF_ERROR(expr)                                       \
  do {                                                              \
    if (absl::Status nenep_status_ = (expr); !nenep_status_.ok()) { \
      return nenep_status_;                                         \
    }                                                               \
  } while (0)

#define NENEP_CONCAT_INNER_(a, b) a##b
#define NENEP_CONCAT_(a, b) NENEP_CONCAT_INNER_(a, b)
#define ASSIGN_OR_RETURN(lhs, rexpr) \
  NENEP_ASSIGN_OR_RETURN_(NENEP_CONCAT_(nenep_statusor_, __LINE__), lhs, rexpr)
#define NENEP_ASSIGN_OR_RETURN_(tmp, lhs, rexpr) \
  auto tmp = (rexpr);                            \
  if (!tmp.ok()) return std::move(tmp).status(); \
  lhs = *std::move(tmp)
