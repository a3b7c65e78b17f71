// rocksdb::Status never leaves storage/: it becomes an absl::Status here.
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "rocksdb/status.h"

namespace nenep::storage {

// Maps a RocksDB status to the canonical code that tells the caller what to
// do: Corruption -> kDataLoss; IOError, Busy, TimedOut, TryAgain, Aborted ->
// kUnavailable (a retry may succeed once the fault clears); NotFound ->
// kNotFound; InvalidArgument -> kInvalidArgument; NotSupported ->
// kUnimplemented; anything else -> kInternal. `context` says what was being
// done ("reading the log").
inline absl::Status FromRocks(const rocksdb::Status& s,
                              absl::string_view context) {
  if (s.ok()) return absl::OkStatus();
  std::string msg = absl::StrCat(context, ": ", s.ToString());
  switch (s.code()) {
    case rocksdb::Status::kNotFound:
      return absl::NotFoundError(msg);
    case rocksdb::Status::kCorruption:
      return absl::DataLossError(msg);
    case rocksdb::Status::kInvalidArgument:
      return absl::InvalidArgumentError(msg);
    case rocksdb::Status::kNotSupported:
      return absl::UnimplementedError(msg);
    case rocksdb::Status::kIOError:
    case rocksdb::Status::kBusy:
    case rocksdb::Status::kTimedOut:
    case rocksdb::Status::kTryAgain:
    case rocksdb::Status::kAborted:
    case rocksdb::Status::kIncomplete:
    case rocksdb::Status::kShutdownInProgress:
      return absl::UnavailableError(msg);
    default:
      return absl::InternalError(msg);
  }
}

}  // namespace nenep::storage
