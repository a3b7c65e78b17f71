// Internal to storage/log: the RocksDB implementation of EventLog. Users
// include rocksdb_event_log.h. The implementation is split by concern:
//   rocksdb_event_log.cc        open, close, backup, stats
//   rocksdb_event_log_write.cc  the committer (group commit)
//   rocksdb_event_log_read.cc   reads
//   stream_index.cc             the stream index, applied behind a checkpoint
//
// Two RocksDB instances: the log (data_dir) and the stream index
// (data_dir/stream_index), so that their writers never wait for each other.
// The committer owns the head of the log and is the only writer of the log
// instance. The indexer takes the index entries of committed events, in
// commit order, into memory (RecentIndex); the index flusher writes each
// full generation as one sorted table file, ingests it into the index
// instance, then writes the checkpoint (the last indexed position). On open,
// the index catches up from its checkpoint by reading the log.
#pragma once

#include <array>
#include <atomic>
#include <cstring>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/container/inlined_vector.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/types/span.h"
#include "rocksdb/db.h"
#include "rocksdb/slice.h"
#include "rocksdb/slice_transform.h"
#include "storage/audit/merkle.h"
#include "storage/common/string_keys.h"
#include "storage/log/event_log.h"
#include "storage/log/rocksdb_event_log.h"

namespace nenep::storage::internal {

// The absl::Status payload carrying the actual revision of an ABORTED
// append (see AbortedRevision()).
inline constexpr char kAbortedRevisionPayload[] = "nenep.dev/current-revision";

inline absl::string_view AsView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

inline rocksdb::Slice AsSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

// The head of a stream: its revision (number of events) and the position of
// its last event. Revision 0: the stream does not exist.
struct StreamHead {
  Revision revision = 0;
  Position last_position = 0;
};

// A consistent read view: a head position and a RocksDB snapshot taken after
// everything up to it was written.
struct View {
  Position head = 0;
  std::shared_ptr<const rocksdb::Snapshot> snapshot;
};

// One index entry: the event at `position` is revision `revision` of
// `stream`.
struct IndexEntry {
  std::string stream;
  Revision revision = 0;
  Position position = 0;
};

// A stream's index keys start with its name and a 0x00 byte: the prefix by
// which RocksDB keeps per-stream memtable lists and prefix bloom filters.
// The name is persisted in the store's options; never change it.
class StreamPrefixTransform final : public rocksdb::SliceTransform {
 public:
  const char* Name() const override { return "nenep.StreamPrefix.v1"; }
  rocksdb::Slice Transform(const rocksdb::Slice& key) const override {
    const void* nul = std::memchr(key.data(), '\0', key.size());
    return rocksdb::Slice(key.data(),
                          static_cast<const char*>(nul) - key.data() + 1);
  }
  bool InDomain(const rocksdb::Slice& key) const override {
    return std::memchr(key.data(), '\0', key.size()) != nullptr;
  }
};

// Stream heads kept in memory by the committer, in two generations: the
// most recently used entries stay without per-entry LRU bookkeeping. The
// committer updates a head when it accepts a request (and puts it back if
// the group's write fails). A head whose last event is not indexed yet is
// never dropped, so a stream missing here has all its events in the index.
// Committer thread only.
// A stream name as the head cache's key. Names of up to 36 bytes (nearly
// all: "sessions-" and a unit id, "member-" and a member id) are kept in
// the hash table's slot itself, so that comparing a probed slot with the
// name sought reads no other memory (a std::string keeps more than 15
// bytes on the heap: a cache miss per lookup once the projections fill
// the cache); longer names on the heap.
class StreamKey {
 public:
  explicit StreamKey(absl::string_view name)
      : size_(static_cast<uint32_t>(name.size())) {
    char* to = size_ <= kInline ? inline_ : (heap_ = new char[size_]);
    if (size_ > 0) std::memcpy(to, name.data(), size_);
  }
  explicit StreamKey(const std::string& name)
      : StreamKey(absl::string_view(name)) {}
  StreamKey(const StreamKey& other) : StreamKey(other.view()) {}
  StreamKey(StreamKey&& other) noexcept : size_(other.size_) {
    std::memcpy(inline_, other.inline_, kInline);  // or the heap pointer
    other.size_ = 0;
  }
  StreamKey& operator=(StreamKey other) noexcept {
    char bytes[kInline];
    std::memcpy(bytes, inline_, kInline);
    std::memcpy(inline_, other.inline_, kInline);
    std::memcpy(other.inline_, bytes, kInline);
    std::swap(size_, other.size_);
    return *this;
  }
  ~StreamKey() {
    if (size_ > kInline) delete[] heap_;
  }
  absl::string_view view() const {
    return absl::string_view(size_ <= kInline ? inline_ : heap_, size_);
  }

 private:
  static constexpr uint32_t kInline = 36;
  union {
    char inline_[kInline];
    char* heap_;
  };
  uint32_t size_;
};

class StreamHeadCache {
 public:
  explicit StreamHeadCache(size_t capacity)
      : generation_limit_(capacity / 2 > 0 ? capacity / 2 : 1) {}

  // Makes room for `insertions` more heads without moving the cached ones.
  void Reserve(size_t insertions) {
    current_.reserve(current_.size() + insertions);
  }
  // The head of `stream` if cached, else null. The pointer stays valid
  // until the next Rotate(), or the Reserve() that makes room for more
  // insertions than the ones made since the last.
  StreamHead* Find(const std::string& stream);
  // Starts loading where Find(stream) will look in the current generation.
  void Prefetch(const std::string& stream) const { current_.prefetch(stream); }
  // Caches `head` for `stream`; the pointer is valid as Find's.
  StreamHead* Insert(const std::string& stream, const StreamHead& head);
  // Between groups: when the current generation is full it becomes the
  // previous one, and the older one is dropped except the heads whose last
  // event is not indexed (last_position > indexed).
  void Rotate(Position indexed);

 private:
  size_t generation_limit_;
  using Map =
      absl::flat_hash_map<StreamKey, StreamHead, StringKeyHash<StreamKey>,
                          StringKeyEq<StreamKey>>;
  Map current_;
  Map previous_;
};

// One entry of the stream index: revision `revision` of a stream is the
// event at `position`.
struct Indexed {
  Revision revision = 0;
  Position position = 0;
};

// The newest entries of the stream index, kept in memory until the index
// flusher writes them to the index instance as one table file: a stream's
// entries in revision order, without the per-entry sorted insert a memtable
// would pay (the batch workload's streams are spread over the whole key
// space). Filled by the indexer; immutable once frozen. Not thread-safe:
// RocksDbEventLog guards it with recent_mu_.
class RecentIndex {
 public:
  using Entries = absl::InlinedVector<Indexed, 1>;

  // Entries of one stream come in revision order.
  void Add(std::string stream, Revision revision, Position position) {
    streams_.try_emplace(std::move(stream))
        .first->second.push_back(Indexed{revision, position});
    ++size_;
    last_ = position;
  }
  // The stream's entries, oldest first; null if none.
  const Entries* Find(absl::string_view stream) const {
    auto it = streams_.find(stream);
    return it == streams_.end() ? nullptr : &it->second;
  }
  size_t size() const { return size_; }
  // The last position added (0 if none).
  Position last() const { return last_; }
  // Every stream with its entries, sorted by name: the order of the index's
  // keys (names hold no 0x00 byte).
  std::vector<const std::pair<const std::string, Entries>*> Sorted() const;

 private:
  absl::flat_hash_map<std::string, Entries> streams_;
  size_t size_ = 0;
  Position last_ = 0;
};

// What one read of a stream's index sees: a snapshot of the index instance
// and the in-memory entries it does not hold yet, taken together.
struct StreamIndexView {
  std::shared_ptr<const rocksdb::Snapshot> snapshot;
  // The in-memory entries the read asked for, in its direction.
  std::vector<Indexed> recent;
  // The lowest revision of the stream in memory (0: none); the instance is
  // read only below it.
  Revision lowest_recent = 0;
  // The stream's newest entry (revision 0: none in memory).
  Indexed newest;
};

struct Pending {
  AppendRequest request;
  EventLog::AppendCallback done;
  size_t bytes = 0;
};

class RocksDbEventLog final : public EventLog {
 public:
  explicit RocksDbEventLog(LogOptions options);
  ~RocksDbEventLog() override;

  absl::Status Init();

  void AppendAsync(AppendRequest request, AppendCallback done) override;
  absl::Status Scan(
      Position from, Position to,
      absl::FunctionRef<bool(Position, absl::string_view)> fn) const override;
  absl::StatusOr<std::vector<Record>> ReadAll(Position from,
                                              Direction direction,
                                              size_t limit) const override;
  absl::StatusOr<std::vector<Record>> ReadStream(absl::string_view stream,
                                                 Revision from,
                                                 Direction direction,
                                                 size_t limit) const override;
  absl::StatusOr<Record> Get(Position position) const override;
  absl::StatusOr<Revision> StreamRevision(
      absl::string_view stream) const override;
  Position Head() const override { return LogView().head; }
  LogStats Stats() const override;
  void SetCommitHook(CommitHook* hook) override {
    hook_.store(hook, std::memory_order_release);
  }
  absl::Status WriteState(const std::vector<StateWrite>& writes,
                          bool sync) override;
  absl::Status ScanState(
      absl::string_view prefix,
      absl::FunctionRef<void(absl::string_view, absl::string_view)> fn)
      const override;
  uint64_t TreeSize() const override ABSL_LOCKS_EXCLUDED(tree_mu_);
  absl::Status AwaitTreeVerified() const override
      ABSL_LOCKS_EXCLUDED(verify_mu_);
  uint64_t AwaitTree(uint64_t size, absl::Duration timeout) const override
      ABSL_LOCKS_EXCLUDED(tree_mu_);
  absl::StatusOr<std::string> TreeNode(int level,
                                       uint64_t index) const override;
  absl::StatusOr<std::string> RawRecord(Position position) const override;
  absl::StatusOr<BackupInfo> CreateBackup(
      const std::string& directory) override;
  absl::Status Close() override;

 private:
  // What the committer decided for one request of a group.
  struct Outcome {
    absl::Status status;
    AppendResult result;
    int repeat_of = -1;  // >= 0: a repeat of that request of the group
    bool accepted = false;
  };

  // --- committer (rocksdb_event_log_write.cc) ---
  // Work for the committer thread, unless an idle-log append holds the
  // commit (committing_).
  bool HasWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return (!queue_.empty() || closing_) && !committing_;
  }
  void CommitterLoop();
  struct SyncJob;
  // Checks and writes `group` to the WAL (not synced) and answers those of
  // its requests that need no sync. Returns the job that syncs and answers
  // the rest, or nothing if nothing was written. By whoever holds the
  // commit (committing_).
  std::optional<SyncJob> CommitGroup(std::vector<Pending>* group);
  // Commits and syncs `pending` on the calling thread; the caller has
  // claimed both committing_ and syncing_ (the log was idle).
  void CommitOnCaller(Pending pending);
  // The cached head of `stream`, read from the index if not cached.
  absl::StatusOr<StreamHead*> CommittedHead(const std::string& stream);
  absl::StatusOr<AppendResult> PriorResult(absl::string_view request_id,
                                           const std::string& value);

  // --- syncer (rocksdb_event_log_write.cc) ---
  // A group written to the WAL but not yet synced: the syncer makes it
  // durable, then publishes it and answers its callers.
  struct SyncJob {
    Position first = 0;
    Position last = 0;
    size_t requests = 0;
    int64_t recorded_micros = 0;
    View view;  // taken right after the write, published after the sync
    std::vector<IndexEntry> index_entries;
    // The leaf hashes of the stored values (merkle::kHashBytes each), for
    // the Merkle tree.
    std::string leaves;
    std::vector<std::pair<AppendCallback, absl::StatusOr<AppendResult>>>
        answers;
    absl::Time written_at;
    absl::Duration write_latency;
  };
  bool HasSyncWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
    return (!sync_queue_.empty() || sync_stopping_) && !syncing_;
  }
  bool HasSyncRoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(sync_mu_) {
    return sync_queue_.size() < kMaxUnsyncedGroups;
  }
  void SyncerLoop();
  // Syncs the WAL once for `jobs` (in log order) and publishes them (view,
  // hook, index, Merkle tree, listener); or, if the sync fails, marks the
  // log failed. Then releases syncing_ (EndSync) and only after that
  // answers the callers, or refuses them all: a caller answered may append
  // again at once and find the log idle, and the next holder of syncing_
  // publishes after these jobs. Called by whoever holds syncing_, which it
  // no longer holds on return.
  void SyncAndAnswer(absl::Span<SyncJob> jobs);
  // Releases syncing_ after `jobs` (possibly none) were synced and
  // published; records how many requests they answer.
  void EndSync(absl::Span<const SyncJob> jobs);

  // --- stream index (stream_index.cc) ---
  // Hands the index entries of a committed group (positions up to `last`)
  // to the indexer. Blocks while the indexer is far behind.
  void EnqueueIndex(Position last, std::vector<IndexEntry> entries);
  void IndexerLoop();
  // Takes `entries` (their streams are moved out) into the active
  // generation, freezing it when full, and publishes `last` as indexed.
  // Blocks while a frozen generation waits and the active one is full too.
  absl::Status AddToIndex(Position last, std::vector<IndexEntry>* entries)
      ABSL_LOCKS_EXCLUDED(recent_mu_, index_mu_);
  // Writes the frozen generation to a table file, ingests it, writes the
  // checkpoint, then drops the generation and publishes the new snapshot.
  absl::Status FlushFrozen() ABSL_LOCKS_EXCLUDED(recent_mu_);
  void FlusherLoop() ABSL_LOCKS_EXCLUDED(recent_mu_);
  // Indexes the log after the index checkpoint, before serving.
  absl::Status CatchUpIndex(Position checkpoint, Position head);
  // Waits until everything up to `position` is indexed.
  absl::Status AwaitIndexed(Position position) const
      ABSL_LOCKS_EXCLUDED(index_mu_);
  bool IndexedAtLeast(Position position) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(index_mu_);
  // The index of `stream` as it is now: the snapshot and up to `limit`
  // in-memory entries from revision `from` on in `direction` (from 0
  // backward: from the newest).
  StreamIndexView StreamIndexAt(absl::string_view stream, Revision from,
                                Direction direction, size_t limit) const
      ABSL_LOCKS_EXCLUDED(recent_mu_);

  // --- Merkle tree (merkle_tree.cc) ---
  // Loads the tree's checkpoint (verifying every leaf against the log with
  // options_.verify_tree_on_open) and hashes the log up to `head`.
  absl::Status InitTree(Position head);
  // Rehashes positions 1..size and compares every leaf and stored node;
  // `builder` ends with the tree's right edge. kDataLoss names the first
  // position that does not match.
  absl::Status VerifyTree(uint64_t size, merkle::MerkleBuilder* builder) const;
  // Hashes the log after the tree's size up to `head`, reading it back.
  absl::Status ExtendTree(Position head);
  // Hands the leaf hashes of a durable group (positions from `first`) to
  // the merkler. Blocks while it is far behind.
  void EnqueueMerkle(Position first, std::string leaves)
      ABSL_LOCKS_EXCLUDED(merkle_mu_);
  void MerklerLoop() ABSL_LOCKS_EXCLUDED(merkle_mu_);
  // Adds the leaves of `runs` (positions from builder_->size() + 1; each
  // run holds leaf hashes of merkle::kHashBytes back to back) and writes the
  // new nodes and the tree size, in one write.
  absl::Status AddLeaves(const std::vector<absl::string_view>& runs);
  // The stored hash of leaf `index` (within TreeSize()).
  absl::StatusOr<std::string> StoredLeaf(uint64_t index) const;
  // The value of Merkle block `block`: its leaves and the nodes it
  // completes, or for the open block the leaves it has so far.
  absl::StatusOr<std::string> BlockValue(uint64_t block) const
      ABSL_LOCKS_EXCLUDED(tree_mu_);
  // A store whose tree is in format 1 (before the blocks): its tree is
  // dropped, to be rehashed from the log.
  absl::Status DropV1Tree();
  // TreeNode() of a node above the leaves, from the store (no cache).
  absl::StatusOr<std::string> ReadTreeNode(int level, uint64_t index) const;

  // --- reads (rocksdb_event_log_read.cc) ---
  // The stream's head in the index (memory, then the instance).
  absl::StatusOr<StreamHead> ReadHead(absl::string_view stream) const;
  View LogView() const;
  static View MakeView(rocksdb::DB* db, Position head);

  LogOptions options_;
  // The log instance.
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned
  rocksdb::ColumnFamilyHandle* meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* state_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* merkle_cf_ = nullptr;
  // The stream index instance.
  std::unique_ptr<rocksdb::DB> index_db_;
  std::vector<rocksdb::ColumnFamilyHandle*> index_handles_;  // owned
  rocksdb::ColumnFamilyHandle* index_meta_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  // The options of CF streams, for the table files the flusher writes.
  rocksdb::Options streams_options_;
  std::string index_dir_;

  // The append queue.
  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  // A thread commits a group: the committer, or an append's caller that
  // found the log idle. Held from taking the group until its job is queued
  // for the sync or, on a caller's thread, until its write (the caller
  // already holds syncing_ for the sync).
  bool committing_ ABSL_GUARDED_BY(mu_) = false;
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;

  // The log view, published by the committer after each commit.
  mutable absl::Mutex view_mu_;
  View log_view_ ABSL_GUARDED_BY(view_mu_);

  // The indexer's queue and its view.
  mutable absl::Mutex index_mu_;
  std::deque<std::pair<Position, std::vector<IndexEntry>>> index_queue_
      ABSL_GUARDED_BY(index_mu_);
  size_t index_queued_entries_ ABSL_GUARDED_BY(index_mu_) = 0;
  bool index_stopping_ ABSL_GUARDED_BY(index_mu_) = false;
  // A reader waits for the index: write now rather than gather more.
  mutable bool index_wanted_ ABSL_GUARDED_BY(index_mu_) = false;
  absl::Status index_error_ ABSL_GUARDED_BY(index_mu_);
  // Read by the committer without index_mu_ (for the head cache).
  std::atomic<Position> indexed_{0};

  // The index entries not in the index instance yet: the generation the
  // indexer fills and the one the flusher writes (older), with a snapshot
  // of the instance taken after the last ingestion. A reader takes all
  // three under recent_mu_, so every entry is in memory or in its snapshot.
  mutable absl::Mutex recent_mu_;
  std::unique_ptr<RecentIndex> active_ ABSL_GUARDED_BY(recent_mu_);
  std::unique_ptr<RecentIndex> frozen_ ABSL_GUARDED_BY(recent_mu_);
  std::shared_ptr<const rocksdb::Snapshot> index_snapshot_
      ABSL_GUARDED_BY(recent_mu_);
  bool flusher_stopping_ ABSL_GUARDED_BY(recent_mu_) = false;
  bool flush_failed_ ABSL_GUARDED_BY(recent_mu_) = false;

  // Groups written but not synced, oldest first.
  static constexpr size_t kMaxUnsyncedGroups = 64;
  absl::Mutex sync_mu_;
  std::vector<SyncJob> sync_queue_ ABSL_GUARDED_BY(sync_mu_);
  // A thread syncs and publishes jobs: the syncer, or an append's caller
  // that found the log idle. Jobs are published one holder at a time, in
  // log order; their callers are answered after the holder lets go.
  bool syncing_ ABSL_GUARDED_BY(sync_mu_) = false;
  // Requests the last sync answered. More than one means appends are
  // concurrent: they are then left to the committer, which groups them,
  // rather than committed one at a time on their callers' threads.
  size_t last_synced_requests_ ABSL_GUARDED_BY(sync_mu_) = 0;
  bool sync_stopping_ ABSL_GUARDED_BY(sync_mu_) = false;
  // Set when a WAL sync failed: the outcome of the groups written since the
  // last good sync is unknown, so nothing more is accepted until restart.
  std::atomic<bool> sync_failed_{false};
  std::atomic<CommitHook*> hook_{nullptr};

  absl::Mutex backup_mu_;  // one backup at a time

  std::thread committer_;
  std::thread syncer_;
  std::thread indexer_;
  std::thread index_flusher_;
  std::thread merkler_;
  std::thread verifier_;  // with verify_tree_in_background
  std::atomic<bool> merkle_closing_{false};
  std::string builder_root_at_open_;
  mutable absl::Mutex verify_mu_;
  bool verify_done_ ABSL_GUARDED_BY(verify_mu_) = true;
  absl::Status verify_status_ ABSL_GUARDED_BY(verify_mu_);

  // The Merkle tree: the builder is the merkler thread's (and Init's).
  std::unique_ptr<merkle::MerkleBuilder> builder_;
  // The open block as the merkler builds it: the hashes of its leaves
  // (then of the nodes it completes, just before it is written).
  std::string leaf_block_;
  mutable absl::Mutex merkle_mu_;
  std::deque<std::pair<Position, std::string>> merkle_queue_
      ABSL_GUARDED_BY(merkle_mu_);
  size_t merkle_queued_ ABSL_GUARDED_BY(merkle_mu_) = 0;
  bool merkle_stopping_ ABSL_GUARDED_BY(merkle_mu_) = false;
  // A reader waits for the tree: write now rather than gather more.
  mutable bool merkle_wanted_ ABSL_GUARDED_BY(merkle_mu_) = false;
  mutable absl::Mutex tree_mu_;
  uint64_t tree_size_ ABSL_GUARDED_BY(tree_mu_) = 0;
  // The leaves of the open block (tree_size_ % 16 of them), for readers.
  std::string open_leaves_ ABSL_GUARDED_BY(tree_mu_);
  // Complete Merkle nodes above the leaves, as TreeNode() read or hashed
  // them: they never change, and the top of the tree and its right edge are
  // in nearly every proof. Cleared when it reaches kNodeCacheEntries.
  static constexpr size_t kNodeCacheEntries = 1 << 18;
  mutable absl::Mutex node_cache_mu_;
  mutable absl::flat_hash_map<uint64_t, std::array<char, 32>> node_cache_
      ABSL_GUARDED_BY(node_cache_mu_);
  std::atomic<int64_t> last_recorded_micros_{0};
  std::atomic<uint64_t> appends_committed_{0};

  // The thread holding committing_ only (and Init, before the threads
  // start); committing_ changes under mu_, which orders the holders.
  Position next_position_ = 1;
  int64_t committer_last_micros_ = 0;
  StreamHeadCache heads_{1};
};

}  // namespace nenep::storage::internal
