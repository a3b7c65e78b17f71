// File: storage/log/rocksdb_event_log.h
//
// The single-machine EventLog: a RocksDB store (layout in storage/FORMAT.md)
// with one committer thread. Concurrent appends queue up; the committer takes
// what is queued, checks expectations and request ids in order, assigns
// positions, writes everything in one WriteBatch with sync=true, and only
// then answers. Readers see a consistent snapshot taken after each commit.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "storage/log/event_log.h"

namespace rocksdb {
class Env;
}

namespace nenep::storage {

struct LogOptions {
  // The store's directory; created if missing. Required.
  std::string data_dir;

  // Most events and bytes one commit group takes from the queue.
  // Default: 50,000 events, 64 MiB.
  size_t max_group_events = 50000;
  size_t max_group_bytes = 64 << 20;

  // Appends are refused with kResourceExhausted while this many payload
  // bytes wait for the committer. Default: 512 MiB.
  size_t max_queued_bytes = size_t{512} << 20;

  // Stream heads kept in memory by the committer (older ones are read back
  // from the store). Default: 1,000,000.
  size_t stream_head_cache_entries = 1000000;

  // Memory for RocksDB's block cache. Default: 256 MiB.
  size_t block_cache_bytes = size_t{256} << 20;

  // Not owned; must outlive the log. Default: none.
  CommitListener* listener = nullptr;

  // The source of recorded_at. Default: absl::Now. recorded_at never goes
  // backwards along the log even if this clock does.
  std::function<absl::Time()> clock;

  // RocksDB environment, for tests that inject faults. Not owned.
  // Default: rocksdb::Env::Default().
  rocksdb::Env* env = nullptr;
};

// Opens (creating if needed) the store in options.data_dir and starts the
// committer. Fails with kFailedPrecondition if another process holds the
// store, or if the directory holds something that is not a nenep store, and
// with kDataLoss if the log is not a gap-free sequence from position 1.
absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbEventLog(
    LogOptions options);

// Restores backup `backup_id` (0: the latest) from `backup_dir`, made by
// EventLog::CreateBackup, into `data_dir`, which must not hold a store.
// Returns the head position of the restored log.
absl::StatusOr<Position> RestoreBackup(const std::string& backup_dir,
                                       const std::string& data_dir,
                                       uint32_t backup_id);

}  // namespace nenep::storage
