// RocksDbEventLog: the stream index (instance data_dir/stream_index, CF
// "streams"), applied by its own thread behind a checkpoint.
//
// The index is derived from the log, so it is written without a WAL: the
// committer's durable write covers the events, and the index follows a
// moment later. Each index batch also writes the checkpoint (the last
// indexed position) into the instance's default CF; atomic flushes persist
// entries and checkpoint together. After a crash the index catches up from
// its checkpoint by reading the log, before the store serves.

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rocksdb/write_batch.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage::internal {
namespace {

// The committer waits while this many index entries are queued.
constexpr size_t kMaxIndexLagEntries = 1 << 21;
// Events read per step when the index catches up on open.
constexpr size_t kCatchUpChunk = 20000;
// How long a reader waits for the index to reach what was committed.
constexpr absl::Duration kIndexWait = absl::Seconds(30);
// The indexer lets small amounts of work gather this long (or until
// kIndexBatchEntries wait) so that it writes fewer, larger batches. A reader
// that needs the newest events (ReadStream right after an append) wakes it.
constexpr absl::Duration kIndexDelay = absl::Milliseconds(2);
constexpr size_t kIndexBatchEntries = 4096;

}  // namespace

bool RocksDbEventLog::IndexedAtLeast(Position position) const {
  return indexed_.load(std::memory_order_acquire) >= position ||
         !index_error_.ok();
}

void RocksDbEventLog::EnqueueIndex(Position last,
                                   std::vector<IndexEntry> entries) {
  absl::MutexLock lock(&index_mu_);
  struct Room {
    static bool Check(RocksDbEventLog* self)
        ABSL_NO_THREAD_SAFETY_ANALYSIS {  // index_mu_ is held by Await
      return self->index_queued_entries_ < kMaxIndexLagEntries ||
             !self->index_error_.ok() || self->index_stopping_;
    }
  };
  index_mu_.Await(absl::Condition(&Room::Check, this));
  index_queued_entries_ += entries.size();
  index_queue_.emplace_back(last, std::move(entries));
}

absl::Status RocksDbEventLog::WriteIndex(
    Position last, const std::vector<IndexEntry>& entries) {
  rocksdb::WriteBatch batch(entries.size() * 48 + 64);
  std::string key;
  char value[8];
  for (const IndexEntry& e : entries) {
    SetStreamIndexKey(e.stream, e.revision, &key);
    PutLogKey(e.position, value);  // Fixed64BE, like a log key
    batch.Put(streams_cf_, key, rocksdb::Slice(value, 8));
  }
  batch.Put(index_meta_cf_, AsSlice(kIndexPositionKey), EncodeFixed64BE(last));
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;  // rebuilt from the log after a crash
  RETURN_IF_ERROR(
      FromRocks(index_db_->Write(wo, &batch), "writing the stream index"));
  View view = MakeView(index_db_.get(), last);
  absl::MutexLock lock(&index_mu_);
  index_view_ = std::move(view);
  indexed_.store(last, std::memory_order_release);
  return absl::OkStatus();
}

void RocksDbEventLog::IndexerLoop() {
  std::deque<std::pair<Position, std::vector<IndexEntry>>> work;
  std::vector<IndexEntry> entries;
  while (true) {
    size_t count = 0;
    {
      absl::MutexLock lock(&index_mu_);
      struct Ready {
        static bool Check(RocksDbEventLog* self)
            ABSL_NO_THREAD_SAFETY_ANALYSIS {  // index_mu_ is held by Await
          return !self->index_queue_.empty() || self->index_stopping_;
        }
      };
      index_mu_.Await(absl::Condition(&Ready::Check, this));
      struct Full {
        static bool Check(RocksDbEventLog* self)
            ABSL_NO_THREAD_SAFETY_ANALYSIS {  // index_mu_ is held by Await
          return self->index_queued_entries_ >= kIndexBatchEntries ||
                 self->index_stopping_ || self->index_wanted_;
        }
      };
      index_mu_.AwaitWithTimeout(absl::Condition(&Full::Check, this),
                                 kIndexDelay);
      if (index_queue_.empty()) return;  // stopping and drained
      work.swap(index_queue_);
      index_wanted_ = false;
    }
    const Position last = work.back().first;
    entries.clear();
    for (auto& [position, group] : work) {
      count += group.size();
      if (entries.empty()) {
        entries = std::move(group);
      } else {
        entries.insert(entries.end(), std::make_move_iterator(group.begin()),
                       std::make_move_iterator(group.end()));
      }
    }
    work.clear();
    absl::Status s = WriteIndex(last, entries);
    absl::MutexLock lock(&index_mu_);
    index_queued_entries_ -= count;
    if (!s.ok()) {
      // Readers of streams get this error; appends go on (the index is
      // rebuilt from the log on the next open).
      logging::Error("the stream index stopped", {{"error", s}});
      index_error_ = s;
      index_queue_.clear();
      index_queued_entries_ = 0;
      return;
    }
  }
}

absl::Status RocksDbEventLog::CatchUpIndex(Position checkpoint, Position head) {
  if (checkpoint < head) {
    const absl::Time start = absl::Now();
    Position from = checkpoint + 1;
    while (from <= head) {
      ASSIGN_OR_RETURN(std::vector<Record> records,
                       ReadAll(from, Direction::kForward, kCatchUpChunk));
      if (records.empty()) break;
      std::vector<IndexEntry> entries;
      entries.reserve(records.size());
      for (Record& r : records) {
        entries.push_back(
            IndexEntry{std::move(r.stream), r.revision, r.position});
      }
      from = entries.back().position + 1;
      RETURN_IF_ERROR(WriteIndex(entries.back().position, entries));
    }
    logging::Info("stream index caught up from the log",
                  {{"events", head - checkpoint},
                   {"ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  }
  View view = MakeView(index_db_.get(), head);
  absl::MutexLock lock(&index_mu_);
  index_view_ = std::move(view);
  indexed_.store(head, std::memory_order_release);
  return absl::OkStatus();
}

absl::StatusOr<View> RocksDbEventLog::IndexView(Position position) const {
  absl::MutexLock lock(&index_mu_);
  struct Args {
    const RocksDbEventLog* self;
    Position position;
    static bool Check(Args* a) ABSL_NO_THREAD_SAFETY_ANALYSIS {
      return a->self->IndexedAtLeast(a->position);
    }
  };
  Args args{this, position};
  if (!IndexedAtLeast(position)) index_wanted_ = true;  // do not wait long
  if (!index_mu_.AwaitWithTimeout(absl::Condition(&Args::Check, &args),
                                  kIndexWait)) {
    return absl::UnavailableError(
        absl::StrCat("the stream index is behind the log (at ", indexed_.load(),
                     " of ", position, "); retry shortly"));
  }
  if (!index_error_.ok()) return index_error_;
  return index_view_;
}

}  // namespace nenep::storage::internal
