// An exclusive lock on a data directory, held for the life of the object, so
// that a second server on the same directory fails at once with a clear
// message instead of deep inside RocksDB.
#pragma once

#include <memory>
#include <string>

#include "absl/status/statusor.h"

namespace nenep {

class DirLock {
 public:
  // Creates `dir` if needed and locks `dir`/nenepd.lock (flock), writing our
  // pid into it. kFailedPrecondition naming the holder's pid if another
  // process holds it.
  static absl::StatusOr<std::unique_ptr<DirLock>> Acquire(
      const std::string& dir);
  ~DirLock();
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  explicit DirLock(int fd) : fd_(fd) {}
  int fd_;
};

}  // namespace nenep
