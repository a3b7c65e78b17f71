// RocksDbEventLog: the stream index (instance data_dir/stream_index, CF
// "streams"), applied by its own threads behind a checkpoint.
//
// The index is derived from the log: the committer's durable write covers
// the events, and the index follows a moment later. The indexer adds each
// committed group's entries to an in-memory generation (RecentIndex); when
// it is full, the flusher writes it sorted as one table file, ingests the
// file into CF "streams", then writes the checkpoint (the last indexed
// position) into the instance's default CF. Readers see the generations in
// memory and a snapshot of the instance taken together. After a crash the
// index catches up from its checkpoint by reading the log, before the store
// serves; entries it adds again have the keys and values they had.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "rocksdb/sst_file_writer.h"
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

std::vector<const std::pair<const std::string, RecentIndex::Entries>*>
RecentIndex::Sorted() const {
  std::vector<const std::pair<const std::string, Entries>*> out;
  out.reserve(streams_.size());
  for (const auto& slot : streams_) out.push_back(&slot);
  std::sort(out.begin(), out.end(),
            [](const auto* a, const auto* b) { return a->first < b->first; });
  return out;
}

absl::Status RocksDbEventLog::AddToIndex(Position last,
                                         std::vector<IndexEntry>* entries) {
  struct Room {
    static bool Check(RocksDbEventLog* self)
        ABSL_NO_THREAD_SAFETY_ANALYSIS {  // recent_mu_ is held by Await
      return self->frozen_ == nullptr ||
             self->active_->size() < self->options_.index_flush_entries ||
             self->flush_failed_;
    }
  };
  // In slices, so that the committer's reads of stream heads do not wait
  // for a whole group.
  constexpr size_t kSlice = 1024;
  for (size_t i = 0; i < entries->size(); i += kSlice) {
    absl::MutexLock lock(&recent_mu_);
    recent_mu_.Await(absl::Condition(&Room::Check, this));
    if (flush_failed_) {
      return absl::UnavailableError("the stream index could not be written");
    }
    const size_t end = std::min(entries->size(), i + kSlice);
    for (size_t k = i; k < end; ++k) {
      IndexEntry& e = (*entries)[k];
      active_->Add(std::move(e.stream), e.revision, e.position);
    }
    if (frozen_ == nullptr && active_->size() >= options_.index_flush_entries) {
      frozen_ = std::move(active_);
      active_ = std::make_unique<RecentIndex>();
    }
  }
  absl::MutexLock lock(&index_mu_);
  indexed_.store(last, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status RocksDbEventLog::FlushFrozen() {
  const RecentIndex* generation = nullptr;
  {
    absl::MutexLock lock(&recent_mu_);
    generation = frozen_.get();
  }
  // Only this thread drops frozen_, and nobody changes it: read it unlocked.
  const Position last = generation->last();
  const std::string path =
      absl::StrCat(index_dir_, "/", kIndexIngestPrefix, last, ".sst");
  {
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), streams_options_);
    RETURN_IF_ERROR(FromRocks(writer.Open(path),
                              absl::StrCat("creating index file ", path)));
    std::string key;
    char value[8];
    for (const auto* stream : generation->Sorted()) {
      for (const Indexed& entry : stream->second) {
        SetStreamIndexKey(stream->first, entry.revision, &key);
        PutLogKey(entry.position, value);  // Fixed64BE, like a log key
        RETURN_IF_ERROR(FromRocks(writer.Put(key, rocksdb::Slice(value, 8)),
                                  absl::StrCat("writing index file ", path)));
      }
    }
    RETURN_IF_ERROR(FromRocks(writer.Finish(),
                              absl::StrCat("finishing index file ", path)));
  }
  rocksdb::IngestExternalFileOptions ingest;
  ingest.move_files = true;
  RETURN_IF_ERROR(
      FromRocks(index_db_->IngestExternalFile(streams_cf_, {path}, ingest),
                absl::StrCat("ingesting index file ", path)));
  // The ingested file is synced; the checkpoint follows it through the
  // WAL. If a crash loses the checkpoint, the next open indexes those
  // events again, to the same keys and values.
  RETURN_IF_ERROR(FromRocks(
      index_db_->Put(rocksdb::WriteOptions(), index_meta_cf_,
                     AsSlice(kIndexPositionKey), EncodeFixed64BE(last)),
      "writing the stream index checkpoint"));
  View view = MakeView(index_db_.get(), last);
  std::unique_ptr<RecentIndex> done;  // freed outside the lock
  absl::MutexLock lock(&recent_mu_);
  index_snapshot_ = std::move(view.snapshot);
  done = std::move(frozen_);
  return absl::OkStatus();
}

void RocksDbEventLog::FlusherLoop() {
  while (true) {
    {
      absl::MutexLock lock(&recent_mu_);
      struct Work {
        static bool Check(RocksDbEventLog* self)
            ABSL_NO_THREAD_SAFETY_ANALYSIS {  // recent_mu_ is held by Await
          return self->frozen_ != nullptr || self->flusher_stopping_;
        }
      };
      recent_mu_.Await(absl::Condition(&Work::Check, this));
      if (frozen_ == nullptr) {
        // Stopping (the indexer has stopped): write what is left.
        if (active_->size() == 0) return;
        frozen_ = std::move(active_);
        active_ = std::make_unique<RecentIndex>();
      }
    }
    absl::Status s = FlushFrozen();
    if (!s.ok()) {
      // The entries stay in memory (the committer still reads stream heads
      // from them); readers of streams get the error, and the next open
      // indexes again from the checkpoint.
      logging::Error("the stream index could not be written", {{"error", s}});
      {
        absl::MutexLock lock(&recent_mu_);
        flush_failed_ = true;
      }
      absl::MutexLock lock(&index_mu_);
      if (index_error_.ok()) index_error_ = s;
      return;
    }
  }
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
    absl::Status s = AddToIndex(last, &entries);
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
  {
    View view = MakeView(index_db_.get(), checkpoint);
    absl::MutexLock lock(&recent_mu_);
    active_ = std::make_unique<RecentIndex>();
    index_snapshot_ = std::move(view.snapshot);
  }
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
      RETURN_IF_ERROR(AddToIndex(entries.back().position, &entries));
      bool full = false;
      {
        absl::MutexLock lock(&recent_mu_);
        full = frozen_ != nullptr;
      }
      if (full) RETURN_IF_ERROR(FlushFrozen());  // the flusher is not running
    }
    logging::Info("stream index caught up from the log",
                  {{"events", head - checkpoint},
                   {"ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  }
  absl::MutexLock lock(&index_mu_);
  indexed_.store(head, std::memory_order_release);
  return absl::OkStatus();
}

absl::Status RocksDbEventLog::AwaitIndexed(Position position) const {
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
  return index_error_;
}

StreamIndexView RocksDbEventLog::StreamIndexAt(absl::string_view stream,
                                               Revision from,
                                               Direction direction,
                                               size_t limit) const {
  StreamIndexView view;
  absl::MutexLock lock(&recent_mu_);
  view.snapshot = index_snapshot_;
  // Older entries first: the frozen generation, then the active one.
  const RecentIndex::Entries* parts[2] = {
      frozen_ == nullptr ? nullptr : frozen_->Find(stream),
      active_ == nullptr ? nullptr : active_->Find(stream)};
  for (const RecentIndex::Entries* part : parts) {
    if (part == nullptr || part->empty()) continue;
    if (view.lowest_recent == 0) view.lowest_recent = part->front().revision;
    view.newest = part->back();
  }
  if (view.lowest_recent == 0 || limit == 0) return view;
  auto by_revision = [](const Indexed& e, Revision r) {
    return e.revision < r;
  };
  if (direction == Direction::kForward) {
    for (const RecentIndex::Entries* part : parts) {
      if (part == nullptr) continue;
      for (auto it =
               std::lower_bound(part->begin(), part->end(), from, by_revision);
           it != part->end() && view.recent.size() < limit; ++it) {
        view.recent.push_back(*it);
      }
    }
  } else {
    for (int i = 1; i >= 0; --i) {
      const RecentIndex::Entries* part = parts[i];
      if (part == nullptr) continue;
      // Past the last entry with a revision <= from.
      auto end = from == 0 ? part->end()
                           : std::upper_bound(part->begin(), part->end(), from,
                                              [](Revision r, const Indexed& e) {
                                                return r < e.revision;
                                              });
      for (auto it = end; it != part->begin() && view.recent.size() < limit;) {
        view.recent.push_back(*--it);
      }
    }
  }
  return view;
}

}  // namespace nenep::storage::internal
