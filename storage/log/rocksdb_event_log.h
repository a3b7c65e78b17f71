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

  // When an append arrives with nothing queued, committing or syncing, the
  // caller's thread commits and syncs it itself and runs its callback before
  // AppendAsync returns: two thread hand-offs (to the committer, then the
  // syncer) fewer for a lone writer. Under load appends queue as usual, and
  // the committer groups them. Default: true.
  bool commit_on_caller_when_idle = true;

  // Appends are refused with kResourceExhausted while this many payload
  // bytes wait for the committer. Default: 512 MiB.
  size_t max_queued_bytes = size_t{512} << 20;

  // Stream heads kept in memory by the committer (older ones are read back
  // from the store). Default: 1,000,000.
  size_t stream_head_cache_entries = 1000000;

  // Index entries kept in memory before they are written to the stream
  // index as one table file (a crash re-indexes at most about twice this
  // many events from the log at the next open). Larger files are merged
  // fewer times by the index's compactions: at 262,144 entries those took
  // an eighth of the server's CPU under batch appends. Default: 1,048,576
  // (about 100 MiB of memory, twice that while one is written).
  size_t index_flush_entries = size_t{1} << 20;

  // Memory for RocksDB's block cache. Default: 256 MiB.
  size_t block_cache_bytes = size_t{256} << 20;

  // Not owned; must outlive the log. Default: none.
  CommitListener* listener = nullptr;

  // The source of recorded_at. Default: absl::Now. recorded_at never goes
  // backwards along the log even if this clock does.
  std::function<absl::Time()> clock;

  // Rehash every event of the log at open and compare with the stored
  // Merkle tree; a store altered behind nenep's back then fails to open
  // with kDataLoss naming the first position that does not match.
  // Default: true.
  bool verify_tree_on_open = true;
  // With verify_tree_on_open: open at once and check on a thread of its
  // own (nenepd replays its projections meanwhile); AwaitTreeVerified()
  // gives the outcome. Default: false (the check is part of the open).
  bool verify_tree_in_background = false;
  // Flush what the WAL replay recovered to table files (synced) before the
  // log opens: after a failed WAL sync, the WAL's tail may be in the page
  // cache only, and a reopened store must not serve what a power loss could
  // still take away. Default: false.
  bool flush_on_open = false;

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

// What VerifyStore found.
struct VerifyReport {
  struct Problem {
    Position position = 0;
    std::string what;
  };
  Position events = 0;     // records read
  uint64_t tree_size = 0;  // leaves the store's Merkle tree holds
  uint64_t heads_checked = 0;
  std::string key_id;             // of the key that signed the heads checked
  std::vector<Problem> problems;  // in position order; empty: intact
};

// Offline: reads the store in `data_dir` (read-only; nenepd may run) and
// recomputes everything: every position from 1 to the last is present,
// every record hashes to its leaf in the Merkle tree, every stored node
// and every signed tree head's root matches the tree recomputed from the
// records, and every head's Ed25519 signature holds, with `public_key`
// (raw 32 bytes) when given, else with the key the heads carry. `progress`
// (may be null) is told the position reached now and then.
absl::StatusOr<VerifyReport> VerifyStore(
    const std::string& data_dir, const std::string& public_key = "",
    const std::function<void(Position done, Position total)>& progress = {});

// Restores backup `backup_id` (0: the latest) from `backup_dir`, made by
// EventLog::CreateBackup, into `data_dir`, which must not hold a store.
// Returns the head position of the restored log.
absl::StatusOr<Position> RestoreBackup(const std::string& backup_dir,
                                       const std::string& data_dir,
                                       uint32_t backup_id);

}  // namespace nenep::storage
