#include "storage/log/rocksdb_event_log.h"

#include <algorithm>
#include <atomic>
#include <deque>
#include <filesystem>
#include <limits>
#include <thread>
#include <utility>
#include <vector>
#include "absl/types/optional.h"

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "nenep/storage/v1/records.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/db.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/backup_engine.h"
#include "rocksdb/write_batch.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"

namespace nenep::storage {
namespace {

constexpr char kAbortedRevisionPayload[] = "nenep.dev/current-revision";

int64_t ToMicros(absl::Time t) { return absl::ToUnixMicros(t); }

absl::string_view AsView(const rocksdb::Slice& s) {
  return absl::string_view(s.data(), s.size());
}

rocksdb::Slice AsSlice(absl::string_view s) {
  return rocksdb::Slice(s.data(), s.size());
}

absl::Status ValidateStreamName(absl::string_view stream) {
  if (stream.empty()) return absl::InvalidArgumentError("empty stream name");
  if (stream.size() > kMaxStreamNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream name longer than ", kMaxStreamNameBytes, " bytes"));
  }
  if (stream.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("stream name contains a NUL byte");
  }
  return absl::OkStatus();
}

absl::Status Aborted(absl::string_view stream, const ExpectedRevision& expected,
                     Revision actual, size_t event_index) {
  std::string want;
  switch (expected.kind) {
    case ExpectedRevision::Kind::kNoStream:
      want = "no stream";
      break;
    case ExpectedRevision::Kind::kExact:
      want = absl::StrCat("revision ", expected.revision);
      break;
    case ExpectedRevision::Kind::kStreamExists:
      want = "an existing stream";
      break;
    case ExpectedRevision::Kind::kAny:
      want = "any revision";
      break;
  }
  absl::Status status = absl::AbortedError(absl::StrCat(
      "wrong expected revision for stream '", stream, "' (event ", event_index,
      "): expected ", want, ", but the stream is at revision ", actual,
      actual == 0 ? " (it does not exist)" : "",
      "; re-read the stream and retry"));
  status.SetPayload(kAbortedRevisionPayload, absl::Cord(absl::StrCat(actual)));
  return status;
}

bool Satisfies(const ExpectedRevision& expected, Revision actual) {
  switch (expected.kind) {
    case ExpectedRevision::Kind::kAny:
      return true;
    case ExpectedRevision::Kind::kNoStream:
      return actual == 0;
    case ExpectedRevision::Kind::kExact:
      return actual == expected.revision;
    case ExpectedRevision::Kind::kStreamExists:
      return actual > 0;
  }
  return false;
}

// Committed stream heads kept in memory by the committer: two generations,
// so the most recently used ~capacity entries stay without per-entry LRU
// bookkeeping. Committer thread only.
class StreamHeadCache {
 public:
  explicit StreamHeadCache(size_t capacity)
      : generation_limit_(std::max<size_t>(capacity / 2, 1)) {}

  const v1::StreamHead* Find(const std::string& stream) {
    if (auto it = current_.find(stream); it != current_.end()) {
      return &it->second;
    }
    if (auto it = previous_.find(stream); it != previous_.end()) {
      v1::StreamHead head = it->second;
      return Insert(stream, head);
    }
    return nullptr;
  }

  const v1::StreamHead* Insert(const std::string& stream,
                               const v1::StreamHead& head) {
    if (current_.size() >= generation_limit_) {
      previous_ = std::move(current_);
      current_ = {};
    }
    auto& slot = current_[stream];
    slot = head;
    return &slot;
  }

 private:
  size_t generation_limit_;
  absl::flat_hash_map<std::string, v1::StreamHead> current_;
  absl::flat_hash_map<std::string, v1::StreamHead> previous_;
};

struct Pending {
  AppendRequest request;
  EventLog::AppendCallback done;
  size_t bytes = 0;
};

size_t RequestBytes(const AppendRequest& request) {
  size_t bytes = request.request_id.size() + request.principal.size() + 64;
  for (const NewEvent& e : request.events) {
    bytes += e.stream.size() + e.type.size() + e.payload.size() + 32;
  }
  return bytes;
}

Record ToRecord(Position position, v1::LogRecord&& rec) {
  Record r;
  r.position = position;
  r.stream = std::move(*rec.mutable_stream());
  r.revision = rec.revision();
  r.recorded_at = absl::FromUnixMicros(rec.recorded_at_micros());
  r.type = std::move(*rec.mutable_type());
  r.payload = std::move(*rec.mutable_payload());
  r.request_id = std::move(*rec.mutable_request_id());
  r.principal = std::move(*rec.mutable_principal());
  return r;
}

absl::StatusOr<Record> DecodeRecord(Position position,
                                    const rocksdb::Slice& value) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("corrupt log record at position ", position));
  }
  return ToRecord(position, std::move(rec));
}

// A consistent read view: the head and a RocksDB snapshot taken right after
// the commit that produced it.
struct View {
  Position head = 0;
  std::shared_ptr<const rocksdb::Snapshot> snapshot;
};

class RocksDbEventLog final : public EventLog {
 public:
  explicit RocksDbEventLog(LogOptions options) : options_(std::move(options)) {
    if (!options_.clock) options_.clock = [] { return absl::Now(); };
  }

  ~RocksDbEventLog() override { Close().IgnoreError(); }

  absl::Status Init();

  void AppendAsync(AppendRequest request, AppendCallback done) override;
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
  Position Head() const override { return CurrentView().head; }
  LogStats Stats() const override;
  absl::StatusOr<BackupInfo> CreateBackup(
      const std::string& directory) override;
  absl::Status Close() override;

 private:
  // What the committer decided for one request of a group.
  struct Outcome {
    absl::Status status;
    AppendResult result;
    // >= 0: a repeat of the request at this index of the same group.
    int repeat_of = -1;
    bool accepted = false;  // written in this group's batch
  };

  bool HasWorkLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return !queue_.empty() || closing_;
  }
  void CommitterLoop();
  void CommitGroup(std::vector<Pending>* group);
  // The committed head of `stream` as the committer knows it.
  absl::StatusOr<v1::StreamHead> CommittedHead(const std::string& stream);
  // The result of the earlier append of `record`, rebuilt from the log.
  absl::StatusOr<AppendResult> PriorResult(const v1::RequestRecord& record);
  void Publish(Position head);
  View CurrentView() const;
  rocksdb::ReadOptions ReadOptionsFor(const View& view) const;

  LogOptions options_;
  std::unique_ptr<rocksdb::DB> db_;
  std::vector<rocksdb::ColumnFamilyHandle*> handles_;  // owned
  rocksdb::ColumnFamilyHandle* log_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* streams_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* heads_cf_ = nullptr;
  rocksdb::ColumnFamilyHandle* requests_cf_ = nullptr;

  absl::Mutex mu_;
  std::deque<Pending> queue_ ABSL_GUARDED_BY(mu_);
  size_t queued_bytes_ ABSL_GUARDED_BY(mu_) = 0;
  bool closing_ ABSL_GUARDED_BY(mu_) = false;

  absl::Mutex close_mu_;
  bool closed_ ABSL_GUARDED_BY(close_mu_) = false;

  mutable absl::Mutex view_mu_;
  View view_ ABSL_GUARDED_BY(view_mu_);

  absl::Mutex backup_mu_;  // one backup at a time

  std::thread committer_;
  // Read by Stats() without the committer's cooperation.
  std::atomic<int64_t> last_recorded_micros_{0};
  std::atomic<uint64_t> appends_committed_{0};

  // Committer thread only (and Init, before the thread starts).
  Position next_position_ = 1;
  int64_t committer_last_micros_ = 0;
  StreamHeadCache heads_{1};
};

rocksdb::Options BaseOptions(const LogOptions& options,
                             std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  if (options.env != nullptr) o.env = options.env;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  // Flush every column family together, so that a flushed state (and thus a
  // backup) never holds an index entry without its log record.
  o.atomic_flush = true;
  // Bound what a restart after a crash has to replay.
  o.max_total_wal_size = 256 << 20;
  o.avoid_flush_during_recovery = true;
  o.keep_log_file_num = 5;
  o.max_log_file_size = 16 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.compression = rocksdb::kLZ4Compression;
  o.level_compaction_dynamic_level_bytes = true;
  return o;
}

rocksdb::ColumnFamilyOptions PointLookupCfOptions(
    const rocksdb::Options& base, std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::ColumnFamilyOptions cf(base);
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
  table.whole_key_filtering = true;
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  cf.write_buffer_size = 32 << 20;
  return cf;
}

absl::Status RocksDbEventLog::Init() {
  if (options_.data_dir.empty()) {
    return absl::InvalidArgumentError("no data directory given");
  }
  heads_ = StreamHeadCache(options_.stream_head_cache_entries);
  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options_.block_cache_bytes);
  rocksdb::Options base = BaseOptions(options_, cache);

  rocksdb::ColumnFamilyOptions log_cf(base);
  log_cf.write_buffer_size = 64 << 20;
  rocksdb::ColumnFamilyOptions streams_cf(base);
  streams_cf.write_buffer_size = 32 << 20;
  rocksdb::ColumnFamilyOptions lookup_cf = PointLookupCfOptions(base, cache);

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(base)},
      {kLogCf, log_cf},
      {kStreamsCf, streams_cf},
      {kStreamHeadsCf, lookup_cf},
      {kRequestsCf, lookup_cf},
  };
  std::error_code ec;
  std::filesystem::create_directories(options_.data_dir, ec);
  if (ec) {
    return absl::FailedPreconditionError(
        absl::StrCat("cannot create data directory ", options_.data_dir, ": ",
                     ec.message()));
  }
  rocksdb::DB* db = nullptr;
  rocksdb::Status s = rocksdb::DB::Open(
      rocksdb::DBOptions(base), options_.data_dir, descriptors, &handles_, &db);
  if (!s.ok()) {
    if (s.IsIOError() && s.ToString().find("lock") != std::string::npos) {
      return absl::FailedPreconditionError(
          absl::StrCat("the store in ", options_.data_dir,
                       " is in use by another process (", s.ToString(), ")"));
    }
    if (s.IsInvalidArgument()) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.data_dir, " does not hold a nenep store: ", s.ToString()));
    }
    return FromRocks(s, absl::StrCat("opening ", options_.data_dir));
  }
  db_.reset(db);
  log_cf_ = handles_[1];
  streams_cf_ = handles_[2];
  heads_cf_ = handles_[3];
  requests_cf_ = handles_[4];

  // Find the head; the log must run from 1 to the head.
  Position head = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    it->SeekToLast();
    if (it->Valid()) {
      if (!ParseLogKey(AsView(it->key()), &head)) {
        return absl::DataLossError("malformed key at the end of the log");
      }
      ASSIGN_OR_RETURN(Record last, DecodeRecord(head, it->value()));
      committer_last_micros_ = ToMicros(last.recorded_at);
      it->SeekToFirst();
      Position first = 0;
      if (!it->Valid() || !ParseLogKey(AsView(it->key()), &first) ||
          first != 1) {
        return absl::DataLossError(absl::StrCat(
            "the log in ", options_.data_dir, " does not start at position 1"));
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "reading the log head"));
  }

  std::string format;
  s = db_->Get(rocksdb::ReadOptions(), handles_[0], AsSlice(kFormatKey),
               &format);
  if (s.IsNotFound()) {
    if (head != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.data_dir, " holds a log without a format marker"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(
        db_->Put(wo, handles_[0], AsSlice(kFormatKey), AsSlice(kFormatVersion)),
        "init"));
  } else if (!s.ok()) {
    return FromRocks(s, "reading the format marker");
  } else if (format != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(options_.data_dir, " holds format '", format,
                     "'; this nenepd reads '", kFormatVersion, "'"));
  }

  next_position_ = head + 1;
  last_recorded_micros_.store(committer_last_micros_);
  Publish(head);
  committer_ = std::thread([this] { CommitterLoop(); });
  return absl::OkStatus();
}

void RocksDbEventLog::Publish(Position head) {
  const rocksdb::Snapshot* raw = db_->GetSnapshot();
  rocksdb::DB* db = db_.get();
  std::shared_ptr<const rocksdb::Snapshot> snapshot(
      raw, [db](const rocksdb::Snapshot* s) { db->ReleaseSnapshot(s); });
  View old;
  {
    absl::MutexLock lock(&view_mu_);
    old = std::move(view_);
    view_ = View{head, std::move(snapshot)};
  }
  // `old` releases its snapshot here, outside the lock, unless a reader
  // still holds it.
}

View RocksDbEventLog::CurrentView() const {
  absl::ReaderMutexLock lock(&view_mu_);
  return view_;
}

rocksdb::ReadOptions RocksDbEventLog::ReadOptionsFor(const View& view) const {
  rocksdb::ReadOptions ro;
  ro.snapshot = view.snapshot.get();
  return ro;
}

void RocksDbEventLog::AppendAsync(AppendRequest request, AppendCallback done) {
  absl::Status refused;
  if (request.events.empty()) {
    refused = absl::InvalidArgumentError("an append needs at least one event");
  } else if (!request.request_id.empty() && request.body_hash.empty()) {
    refused = absl::InvalidArgumentError("a request_id needs a body hash");
  } else {
    for (const NewEvent& e : request.events) {
      refused = ValidateStreamName(e.stream);
      if (!refused.ok()) break;
    }
  }
  if (refused.ok()) {
    const size_t bytes = RequestBytes(request);
    absl::MutexLock lock(&mu_);
    if (closing_) {
      refused = absl::UnavailableError(
          "the log is closing; nothing was written, retry with the same "
          "request_id");
    } else if (queued_bytes_ + bytes > options_.max_queued_bytes &&
               !queue_.empty()) {
      refused = absl::ResourceExhaustedError(
          absl::StrCat("the commit queue is full (", queued_bytes_ >> 20,
                       " MiB waiting); nothing was written, retry shortly"));
    } else {
      queued_bytes_ += bytes;
      queue_.push_back(Pending{std::move(request), std::move(done), bytes});
      return;
    }
  }
  std::move(done)(std::move(refused));
}

void RocksDbEventLog::CommitterLoop() {
  std::vector<Pending> group;
  while (true) {
    group.clear();
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &RocksDbEventLog::HasWorkLocked));
      if (queue_.empty()) break;  // closing and drained
      size_t events = 0;
      size_t bytes = 0;
      while (!queue_.empty()) {
        Pending& next = queue_.front();
        const size_t n = next.request.events.size();
        if (!group.empty() && (events + n > options_.max_group_events ||
                               bytes + next.bytes > options_.max_group_bytes)) {
          break;
        }
        events += n;
        bytes += next.bytes;
        queued_bytes_ -= next.bytes;
        group.push_back(std::move(next));
        queue_.pop_front();
      }
    }
    CommitGroup(&group);
  }
}

absl::StatusOr<v1::StreamHead> RocksDbEventLog::CommittedHead(
    const std::string& stream) {
  if (const v1::StreamHead* cached = heads_.Find(stream)) return *cached;
  std::string value;
  rocksdb::Status s =
      db_->Get(rocksdb::ReadOptions(), heads_cf_, stream, &value);
  v1::StreamHead head;
  if (s.ok()) {
    if (!head.ParseFromString(value)) {
      return absl::DataLossError(
          absl::StrCat("corrupt head record of stream '", stream, "'"));
    }
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading a stream head");
  }
  heads_.Insert(stream, head);
  return head;
}

absl::StatusOr<AppendResult> RocksDbEventLog::PriorResult(
    const v1::RequestRecord& record) {
  AppendResult result;
  result.first_position = record.first_position();
  result.last_position = record.first_position() + record.count() - 1;
  result.recorded_at = absl::FromUnixMicros(record.recorded_at_micros());
  result.already_appended = true;
  for (Position p = result.first_position; p <= result.last_position; ++p) {
    std::string value;
    RETURN_IF_ERROR(
        FromRocks(db_->Get(rocksdb::ReadOptions(), log_cf_, LogKey(p), &value),
                  absl::StrCat("reading position ", p)));
    ASSIGN_OR_RETURN(Record r, DecodeRecord(p, value));
    result.revisions.push_back(r.revision);
  }
  return result;
}

void RocksDbEventLog::CommitGroup(std::vector<Pending>* group) {
  const absl::Time wall = absl::Now();
  const int64_t micros =
      std::max(ToMicros(options_.clock()), committer_last_micros_);
  rocksdb::WriteBatch batch;
  std::vector<Outcome> outcomes(group->size());
  // Heads changed by the requests accepted so far in this group.
  absl::flat_hash_map<std::string, v1::StreamHead> group_heads;
  // request_id -> index of the request of this group that carries it.
  absl::flat_hash_map<std::string, int> group_requests;
  Position next = next_position_;
  size_t accepted = 0;
  v1::LogRecord rec;
  std::string value;

  for (size_t i = 0; i < group->size(); ++i) {
    AppendRequest& req = (*group)[i].request;
    Outcome& out = outcomes[i];
    if (wall > req.deadline) {
      out.status = absl::DeadlineExceededError(
          "the deadline passed while the append was queued; nothing was "
          "written");
      continue;
    }
    if (!req.request_id.empty()) {
      if (auto it = group_requests.find(req.request_id);
          it != group_requests.end()) {
        if ((*group)[it->second].request.body_hash == req.body_hash) {
          out.repeat_of = it->second;
        } else {
          out.status = absl::AlreadyExistsError(absl::StrCat(
              "request_id '", req.request_id,
              "' was already used for a different request; use a new "
              "request_id for new events"));
        }
        continue;
      }
      std::string prior;
      rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), requests_cf_,
                                   req.request_id, &prior);
      if (s.ok()) {
        v1::RequestRecord record;
        if (!record.ParseFromString(prior)) {
          out.status = absl::DataLossError(absl::StrCat(
              "corrupt record of request_id '", req.request_id, "'"));
        } else if (record.body_hash() != req.body_hash) {
          out.status = absl::AlreadyExistsError(absl::StrCat(
              "request_id '", req.request_id,
              "' was already used for a different request (at position ",
              record.first_position(),
              "); use a new request_id for new events"));
        } else {
          absl::StatusOr<AppendResult> r = PriorResult(record);
          if (r.ok()) {
            out.result = *std::move(r);
          } else {
            out.status = r.status();
          }
        }
        continue;
      }
      if (!s.IsNotFound()) {
        out.status = FromRocks(s, "looking up a request_id");
        continue;
      }
    }

    // Check every expectation against the heads as this request would leave
    // them, then place the events.
    absl::flat_hash_map<std::string, v1::StreamHead> local;
    std::vector<Revision> revisions;
    revisions.reserve(req.events.size());
    absl::Status status;
    for (size_t k = 0; k < req.events.size(); ++k) {
      const NewEvent& e = req.events[k];
      v1::StreamHead head;
      if (auto it = local.find(e.stream); it != local.end()) {
        head = it->second;
      } else if (auto g = group_heads.find(e.stream); g != group_heads.end()) {
        head = g->second;
      } else {
        absl::StatusOr<v1::StreamHead> committed = CommittedHead(e.stream);
        if (!committed.ok()) {
          status = committed.status();
          break;
        }
        head = *committed;
      }
      if (!Satisfies(e.expected, head.revision())) {
        status = Aborted(e.stream, e.expected, head.revision(), k);
        break;
      }
      head.set_revision(head.revision() + 1);
      head.set_last_position(next + k);
      revisions.push_back(head.revision());
      local[e.stream] = head;
    }
    if (!status.ok()) {
      out.status = std::move(status);
      continue;
    }

    for (size_t k = 0; k < req.events.size(); ++k) {
      NewEvent& e = req.events[k];
      const Position position = next + k;
      rec.set_stream(e.stream);
      rec.set_revision(revisions[k]);
      rec.set_recorded_at_micros(micros);
      rec.set_type(e.type);
      rec.set_payload(std::move(e.payload));
      rec.set_request_id(req.request_id);
      rec.set_principal(req.principal);
      rec.SerializeToString(&value);
      batch.Put(log_cf_, LogKey(position), value);
      batch.Put(streams_cf_, StreamIndexKey(e.stream, revisions[k]),
                EncodeFixed64BE(position));
    }
    if (!req.request_id.empty()) {
      v1::RequestRecord record;
      record.set_body_hash(req.body_hash);
      record.set_first_position(next);
      record.set_count(static_cast<uint32_t>(req.events.size()));
      record.set_recorded_at_micros(micros);
      batch.Put(requests_cf_, req.request_id, record.SerializeAsString());
      group_requests.emplace(req.request_id, static_cast<int>(i));
    }
    for (auto& [stream, head] : local) group_heads[stream] = head;
    out.accepted = true;
    out.result.first_position = next;
    out.result.last_position = next + req.events.size() - 1;
    out.result.revisions = std::move(revisions);
    out.result.recorded_at = absl::FromUnixMicros(micros);
    next += req.events.size();
    ++accepted;
  }

  if (accepted > 0) {
    for (const auto& [stream, head] : group_heads) {
      batch.Put(heads_cf_, stream, head.SerializeAsString());
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    const absl::Time start = absl::Now();
    rocksdb::Status s = db_->Write(wo, &batch);
    const absl::Duration latency = absl::Now() - start;
    if (s.ok()) {
      const Position group_first = next_position_;
      next_position_ = next;
      committer_last_micros_ = micros;
      last_recorded_micros_.store(micros, std::memory_order_relaxed);
      appends_committed_.fetch_add(accepted, std::memory_order_relaxed);
      for (const auto& [stream, head] : group_heads) {
        heads_.Insert(stream, head);
      }
      Publish(next - 1);
      if (options_.listener != nullptr) {
        options_.listener->OnCommit(group_first, next - 1, accepted, latency);
      }
    } else {
      absl::Status failed = FromRocks(s, "committing appends");
      logging::Error("commit failed; nothing of the group is visible",
                     {{"requests", accepted}, {"error", failed}});
      absl::Status answer = absl::UnavailableError(absl::StrCat(
          "the store could not write (", failed.message(),
          "); nothing was written, retry with the same request_id"));
      for (Outcome& out : outcomes) {
        if (out.accepted) {
          out.accepted = false;
          out.status = answer;
        }
      }
      if (options_.listener != nullptr)
        options_.listener->OnCommitFailed(failed);
      // RocksDB stops writing after a failed sync; try to resume so that the
      // next group can commit once the fault clears.
      db_->Resume().PermitUncheckedError();
    }
  }

  for (size_t i = 0; i < group->size(); ++i) {
    Outcome& out = outcomes[i];
    if (out.repeat_of >= 0) {
      const Outcome& first = outcomes[out.repeat_of];
      if (first.status.ok()) {
        AppendResult r = first.result;
        r.already_appended = true;
        std::move((*group)[i].done)(std::move(r));
      } else {
        std::move((*group)[i].done)(first.status);
      }
      continue;
    }
    if (out.status.ok()) {
      std::move((*group)[i].done)(std::move(out.result));
    } else {
      std::move((*group)[i].done)(out.status);
    }
  }
}

absl::StatusOr<std::vector<Record>> RocksDbEventLog::ReadAll(
    Position from, Direction direction, size_t limit) const {
  const View view = CurrentView();
  std::vector<Record> out;
  if (view.head == 0 || limit == 0) return out;
  rocksdb::ReadOptions ro = ReadOptionsFor(view);
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  Position expect;
  if (direction == Direction::kForward) {
    expect = std::max<Position>(from, 1);
    if (expect > view.head) return out;
    it->Seek(LogKey(expect));
  } else {
    expect = (from == 0 || from > view.head) ? view.head : from;
    it->SeekForPrev(LogKey(expect));
  }
  // Positions run without gaps: a missing key is reported, never skipped.
  out.reserve(std::min<size_t>(limit, 1024));
  bool more = true;  // `expect` is still a position to read
  while (more && out.size() < limit) {
    if (!it->Valid()) break;
    Position position = 0;
    if (!ParseLogKey(AsView(it->key()), &position)) {
      return absl::DataLossError("malformed key in the log");
    }
    if (position != expect) {
      return absl::DataLossError(
          absl::StrCat("the log has no event at position ", expect,
                       " (next found: ", position, ")"));
    }
    ASSIGN_OR_RETURN(Record r, DecodeRecord(position, it->value()));
    out.push_back(std::move(r));
    if (direction == Direction::kForward) {
      more = expect < view.head;
      ++expect;
      it->Next();
    } else {
      more = expect > 1;
      --expect;
      it->Prev();
    }
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
  if (more && out.size() < limit) {
    return absl::DataLossError(
        absl::StrCat("the log has no event at position ", expect));
  }
  return out;
}

absl::StatusOr<std::vector<Record>> RocksDbEventLog::ReadStream(
    absl::string_view stream, Revision from, Direction direction,
    size_t limit) const {
  RETURN_IF_ERROR(ValidateStreamName(stream));
  const View view = CurrentView();
  std::vector<Record> out;
  if (limit == 0) return out;
  rocksdb::ReadOptions ro = ReadOptionsFor(view);
  std::vector<Position> positions;
  {
    std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, streams_cf_));
    if (direction == Direction::kForward) {
      it->Seek(StreamIndexKey(stream, std::max<Revision>(from, 1)));
    } else {
      it->SeekForPrev(StreamIndexKey(
          stream, from == 0 ? std::numeric_limits<Revision>::max() : from));
    }
    Revision revision = 0;
    while (it->Valid() && positions.size() < limit &&
           ParseStreamIndexKey(AsView(it->key()), stream, &revision)) {
      if (it->value().size() != 8) {
        return absl::DataLossError(
            absl::StrCat("malformed index entry for stream '", stream, "'"));
      }
      positions.push_back(DecodeFixed64BE(AsView(it->value())));
      if (direction == Direction::kForward) {
        it->Next();
      } else {
        it->Prev();
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "reading a stream index"));
  }
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (Position p : positions) keys.push_back(LogKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values(keys.size());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), log_cf_);
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(ro, cfs, slices, &values);
  out.reserve(positions.size());
  for (size_t i = 0; i < positions.size(); ++i) {
    if (statuses[i].IsNotFound()) {
      return absl::DataLossError(
          absl::StrCat("stream '", stream, "' points at position ",
                       positions[i], ", which is not in the log"));
    }
    RETURN_IF_ERROR(FromRocks(statuses[i], "reading a stream"));
    ASSIGN_OR_RETURN(Record r, DecodeRecord(positions[i], values[i]));
    out.push_back(std::move(r));
  }
  return out;
}

absl::StatusOr<Record> RocksDbEventLog::Get(Position position) const {
  const View view = CurrentView();
  if (position == 0 || position > view.head) {
    return absl::NotFoundError(absl::StrCat("no event at position ", position,
                                            " (the head is ", view.head, ")"));
  }
  std::string value;
  rocksdb::Status s =
      db_->Get(ReadOptionsFor(view), log_cf_, LogKey(position), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat("the log has no event at position ",
                                            position, " although the head is ",
                                            view.head));
  }
  RETURN_IF_ERROR(FromRocks(s, "reading an event"));
  return DecodeRecord(position, value);
}

absl::StatusOr<Revision> RocksDbEventLog::StreamRevision(
    absl::string_view stream) const {
  RETURN_IF_ERROR(ValidateStreamName(stream));
  const View view = CurrentView();
  std::string value;
  rocksdb::Status s =
      db_->Get(ReadOptionsFor(view), heads_cf_, AsSlice(stream), &value);
  if (s.IsNotFound()) return 0;
  RETURN_IF_ERROR(FromRocks(s, "reading a stream head"));
  v1::StreamHead head;
  if (!head.ParseFromString(value)) {
    return absl::DataLossError(
        absl::StrCat("corrupt head record of stream '", stream, "'"));
  }
  return head.revision();
}

LogStats RocksDbEventLog::Stats() const {
  LogStats stats;
  stats.head = Head();
  const int64_t micros = last_recorded_micros_.load(std::memory_order_relaxed);
  stats.last_recorded_at =
      stats.head == 0 ? absl::InfinitePast() : absl::FromUnixMicros(micros);
  stats.appends_committed = appends_committed_.load(std::memory_order_relaxed);
  for (rocksdb::ColumnFamilyHandle* cf : handles_) {
    uint64_t v = 0;
    if (db_->GetIntProperty(cf, "rocksdb.live-sst-files-size", &v)) {
      stats.disk_bytes += v;
    }
    if (db_->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) {
      stats.disk_bytes += v;  // in the WAL until flushed
    }
  }
  return stats;
}

absl::StatusOr<BackupInfo> RocksDbEventLog::CreateBackup(
    const std::string& directory) {
  absl::MutexLock lock(&backup_mu_);
  BackupInfo info;
  // Everything acknowledged before this call is at or below this head.
  info.head_position = Head();
  rocksdb::BackupEngine* raw = nullptr;
  rocksdb::BackupEngineOptions be_options(directory);
  be_options.sync = true;
  rocksdb::IOStatus io = rocksdb::BackupEngine::Open(
      options_.env != nullptr ? options_.env : rocksdb::Env::Default(),
      be_options, &raw);
  if (!io.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open backup directory ", directory, ": ", io.ToString()));
  }
  std::unique_ptr<rocksdb::BackupEngine> engine(raw);
  rocksdb::CreateBackupOptions create;
  create.flush_before_backup = true;  // consistent thanks to atomic_flush
  io = engine->CreateNewBackup(create, db_.get(), &info.backup_id);
  if (!io.ok()) {
    return FromRocks(io, absl::StrCat("backing up into ", directory));
  }
  rocksdb::BackupInfo be_info;
  if (engine->GetBackupInfo(info.backup_id, &be_info).ok()) {
    info.size_bytes = be_info.size;
    info.created_at = absl::FromUnixSeconds(be_info.timestamp);
  }
  logging::Info("backup created", {{"directory", directory},
                                   {"backup_id", info.backup_id},
                                   {"head_position", info.head_position},
                                   {"size_bytes", info.size_bytes}});
  return info;
}

absl::Status RocksDbEventLog::Close() {
  absl::MutexLock close_lock(&close_mu_);
  if (closed_) return absl::OkStatus();
  closed_ = true;
  if (db_ == nullptr) return absl::OkStatus();
  {
    absl::MutexLock lock(&mu_);
    closing_ = true;
  }
  if (committer_.joinable()) committer_.join();
  {
    absl::MutexLock lock(&view_mu_);
    view_.snapshot.reset();
  }
  absl::Status status;
  // Flush so that the next open has no WAL to replay.
  rocksdb::FlushOptions flush;
  rocksdb::Status s = db_->Flush(flush, handles_);
  if (!s.ok()) status = FromRocks(s, "flushing on close");
  for (rocksdb::ColumnFamilyHandle* h : handles_) {
    s = db_->DestroyColumnFamilyHandle(h);
    if (!s.ok() && status.ok()) status = FromRocks(s, "closing");
  }
  handles_.clear();
  s = db_->Close();
  if (!s.ok() && status.ok()) status = FromRocks(s, "closing the store");
  db_.reset();
  return status;
}

}  // namespace

absl::StatusOr<AppendResult> EventLog::Append(AppendRequest request) {
  absl::Mutex mu;
  bool done = false;
  absl::StatusOr<AppendResult> result;
  AppendAsync(std::move(request), [&](absl::StatusOr<AppendResult> r) {
    absl::MutexLock lock(&mu);
    result = std::move(r);
    done = true;
  });
  absl::MutexLock lock(&mu);
  mu.Await(absl::Condition(&done));
  return result;
}

absl::optional<Revision> AbortedRevision(const absl::Status& status) {
  if (status.code() != absl::StatusCode::kAborted) return absl::nullopt;
  absl::optional<absl::Cord> payload =
      status.GetPayload(kAbortedRevisionPayload);
  if (!payload.has_value()) return absl::nullopt;
  Revision revision = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &revision)) return absl::nullopt;
  return revision;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbEventLog(
    LogOptions options) {
  auto log = std::make_unique<RocksDbEventLog>(std::move(options));
  RETURN_IF_ERROR(log->Init());
  return log;
}

absl::StatusOr<Position> RestoreBackup(const std::string& backup_dir,
                                       const std::string& data_dir,
                                       uint32_t backup_id) {
  std::error_code ec;
  if (std::filesystem::exists(data_dir, ec) &&
      !std::filesystem::is_empty(data_dir, ec)) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " is not empty; restore into a new directory"));
  }
  rocksdb::BackupEngineReadOnly* raw = nullptr;
  rocksdb::IOStatus io = rocksdb::BackupEngineReadOnly::Open(
      rocksdb::Env::Default(), rocksdb::BackupEngineOptions(backup_dir), &raw);
  if (!io.ok()) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot open backup directory ", backup_dir, ": ", io.ToString()));
  }
  std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
  std::vector<rocksdb::BackupInfo> infos;
  engine->GetBackupInfo(&infos);
  if (infos.empty()) {
    return absl::NotFoundError(absl::StrCat("no backup in ", backup_dir));
  }
  if (backup_id == 0) backup_id = infos.back().backup_id;
  io = engine->VerifyBackup(backup_id, /*verify_with_checksum=*/true);
  if (!io.ok()) {
    return absl::DataLossError(
        absl::StrCat("backup ", backup_id, " in ", backup_dir,
                     " does not verify: ", io.ToString()));
  }
  io = engine->RestoreDBFromBackup(backup_id, data_dir, data_dir);
  if (!io.ok()) {
    return FromRocks(io, absl::StrCat("restoring backup ", backup_id));
  }
  LogOptions options;
  options.data_dir = data_dir;
  ASSIGN_OR_RETURN(std::unique_ptr<EventLog> log,
                   OpenRocksDbEventLog(std::move(options)));
  const Position head = log->Head();
  RETURN_IF_ERROR(log->Close());
  return head;
}

}  // namespace nenep::storage
