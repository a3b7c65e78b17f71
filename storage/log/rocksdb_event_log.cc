// RocksDbEventLog: open, close, backup, stats.

#include <pthread.h>

#include <filesystem>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "nenep/storage/v1/records.pb.h"
#include "rocksdb/cache.h"
#include "rocksdb/filter_policy.h"
#include "rocksdb/options.h"
#include "rocksdb/table.h"
#include "rocksdb/utilities/backup_engine.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage {
namespace internal {
namespace {

rocksdb::Options BaseOptions(const LogOptions& options,
                             std::shared_ptr<rocksdb::Cache> cache) {
  rocksdb::Options o;
  o.create_if_missing = true;
  o.create_missing_column_families = true;
  if (options.env != nullptr) o.env = options.env;
  o.max_background_jobs = 2;
  o.bytes_per_sync = 1 << 20;
  // Flush every column family together: the index (written without a WAL)
  // and its checkpoint are persisted with the log they describe, and a
  // backup never holds an index entry without its record.
  o.atomic_flush = true;
  // Bound what a restart after a crash has to replay.
  o.max_total_wal_size = 256 << 20;
  o.avoid_flush_during_recovery = true;
  // No recycle_log_file_num: RocksDB 7.8 turns it off under the
  // point-in-time WAL recovery the log relies on (its LOG prints
  // "recycle_log_file_num: 0"). Pre-zeroed WAL files, so that each sync is an
  // overwrite, showed no gain beyond this host's noise, and would need a
  // replay that stops at a zeroed hole, which RocksDB's reader skips
  // (docs/benchmarks.md, ninth session).
  o.keep_log_file_num = 5;
  o.max_log_file_size = 16 << 20;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = std::move(cache);
  o.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  o.compression = rocksdb::kLZ4Compression;
  o.level_compaction_dynamic_level_bytes = true;
  return o;
}

}  // namespace

RocksDbEventLog::RocksDbEventLog(LogOptions options)
    : options_(std::move(options)) {
  if (!options_.clock) options_.clock = [] { return absl::Now(); };
}

RocksDbEventLog::~RocksDbEventLog() { Close().IgnoreError(); }

absl::Status RocksDbEventLog::Init() {
  if (options_.data_dir.empty()) {
    return absl::InvalidArgumentError("no data directory given");
  }
  heads_ = StreamHeadCache(options_.stream_head_cache_entries);
  std::shared_ptr<rocksdb::Cache> cache =
      rocksdb::NewLRUCache(options_.block_cache_bytes);
  rocksdb::Options base = BaseOptions(options_, cache);

  // The log only ever grows at its end: with universal compaction and
  // trivial moves its sorted runs are moved, never rewritten (leveled
  // compaction rewrote them through intra-L0 compactions).
  rocksdb::ColumnFamilyOptions log_cf(base);
  log_cf.write_buffer_size = 64 << 20;
  log_cf.compaction_style = rocksdb::kCompactionStyleUniversal;
  log_cf.compaction_options_universal.allow_trivial_move = true;

  rocksdb::ColumnFamilyOptions requests_cf(base);
  {
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    requests_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    requests_cf.write_buffer_size = 16 << 20;
  }

  // The Merkle tree: SHA-256 hashes do not compress. Its blocks are
  // written once under growing keys (FORMAT.md), so, as for the log, its
  // sorted runs are moved and never rewritten.
  rocksdb::ColumnFamilyOptions merkle_cf(base);
  merkle_cf.compression = rocksdb::kNoCompression;
  merkle_cf.compaction_style = rocksdb::kCompactionStyleUniversal;
  merkle_cf.compaction_options_universal.allow_trivial_move = true;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors = {
      {rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions(base)},
      {kLogCf, log_cf},
      {kRequestsCf, requests_cf},
      {kStateCf, rocksdb::ColumnFamilyOptions(base)},
      {kMerkleCf, merkle_cf},
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
  meta_cf_ = handles_[0];
  log_cf_ = handles_[1];
  requests_cf_ = handles_[2];
  state_cf_ = handles_[3];
  merkle_cf_ = handles_[4];
  if (options_.flush_on_open) {
    // What the WAL replay recovered may sit in the page cache only (its
    // sync failed): write it to synced table files before serving it.
    rocksdb::FlushOptions flush;
    flush.wait = true;
    flush.allow_write_stall = true;
    RETURN_IF_ERROR(FromRocks(db_->Flush(flush, handles_),
                              "flushing what the WAL recovered"));
  }

  // The stream index instance: its entries arrive as sorted table files
  // (stream_index.cc), never through a memtable; prefix bloom filters answer
  // "no such stream" without reading blocks; universal compaction rewrites
  // the files' interleaved key ranges fewer times than leveled.
  {
    rocksdb::Options index_base = BaseOptions(options_, cache);
    index_base.max_background_jobs = 1;
    rocksdb::ColumnFamilyOptions streams_cf(index_base);
    streams_cf.write_buffer_size = 32 << 20;
    streams_cf.compaction_style = rocksdb::kCompactionStyleUniversal;
    std::shared_ptr<const rocksdb::SliceTransform> prefix =
        std::make_shared<StreamPrefixTransform>();
    streams_cf.prefix_extractor = prefix;
    rocksdb::BlockBasedTableOptions table;
    table.block_cache = cache;
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(10));
    table.whole_key_filtering = false;
    streams_cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
    std::vector<rocksdb::ColumnFamilyDescriptor> index_descriptors = {
        {rocksdb::kDefaultColumnFamilyName,
         rocksdb::ColumnFamilyOptions(index_base)},
        {kStreamsCf, streams_cf},
    };
    const std::string index_dir =
        absl::StrCat(options_.data_dir, "/", kStreamIndexDir);
    index_dir_ = index_dir;
    streams_options_ =
        rocksdb::Options(rocksdb::DBOptions(index_base), streams_cf);
    rocksdb::DB* index_db = nullptr;
    s = rocksdb::DB::Open(rocksdb::DBOptions(index_base), index_dir,
                          index_descriptors, &index_handles_, &index_db);
    if (!s.ok()) {
      return FromRocks(s,
                       absl::StrCat("opening the stream index in ", index_dir));
    }
    index_db_.reset(index_db);
    index_meta_cf_ = index_handles_[0];
    // A table file of index entries that a crash left before its ingestion:
    // its entries are indexed again from the log.
    std::error_code ec;
    for (const auto& file :
         std::filesystem::directory_iterator(index_dir, ec)) {
      if (absl::StartsWith(file.path().filename().string(),
                           kIndexIngestPrefix)) {
        std::filesystem::remove(file.path(), ec);
      }
    }
    streams_cf_ = index_handles_[1];
  }

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
      v1::LogRecord last;
      if (!last.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size()))) {
        return absl::DataLossError(
            absl::StrCat("corrupt log record at position ", head));
      }
      committer_last_micros_ = last.recorded_at_micros();
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

  std::string value;
  s = db_->Get(rocksdb::ReadOptions(), meta_cf_, AsSlice(kFormatKey), &value);
  if (s.IsNotFound()) {
    if (head != 0) {
      return absl::FailedPreconditionError(absl::StrCat(
          options_.data_dir, " holds a log without a format marker"));
    }
    rocksdb::WriteOptions wo;
    wo.sync = true;
    RETURN_IF_ERROR(FromRocks(
        db_->Put(wo, meta_cf_, AsSlice(kFormatKey), AsSlice(kFormatVersion)),
        "initializing the store"));
  } else if (!s.ok()) {
    return FromRocks(s, "reading the format marker");
  } else if (value != kFormatVersion) {
    return absl::FailedPreconditionError(
        absl::StrCat(options_.data_dir, " holds format '", value,
                     "'; this nenepd reads '", kFormatVersion, "'"));
  }

  Position checkpoint = 0;
  s = index_db_->Get(rocksdb::ReadOptions(), index_meta_cf_,
                     AsSlice(kIndexPositionKey), &value);
  if (s.ok()) {
    if (value.size() != 8) {
      return absl::DataLossError("malformed stream index checkpoint");
    }
    checkpoint = DecodeFixed64BE(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the stream index checkpoint");
  }
  if (checkpoint > head) {
    return absl::DataLossError(
        absl::StrCat("the stream index reaches position ", checkpoint,
                     " but the log ends at ", head, ": the log lost events"));
  }

  next_position_ = head + 1;
  last_recorded_micros_.store(committer_last_micros_);
  {
    absl::MutexLock lock(&view_mu_);
    log_view_ = MakeView(db_.get(), head);
  }
  RETURN_IF_ERROR(CatchUpIndex(checkpoint, head));
  RETURN_IF_ERROR(InitTree(head));
  // Named for top, perf and gdb (at most 15 characters).
  auto start = [this](const char* name, void (RocksDbEventLog::*loop)()) {
    return std::thread([this, name, loop] {
      pthread_setname_np(pthread_self(), name);
      (this->*loop)();
    });
  };
  merkler_ = start("nenep-merkler", &RocksDbEventLog::MerklerLoop);
  indexer_ = start("nenep-indexer", &RocksDbEventLog::IndexerLoop);
  index_flusher_ = start("nenep-ixflush", &RocksDbEventLog::FlusherLoop);
  syncer_ = start("nenep-syncer", &RocksDbEventLog::SyncerLoop);
  committer_ = start("nenep-committer", &RocksDbEventLog::CommitterLoop);
  return absl::OkStatus();
}

View RocksDbEventLog::MakeView(rocksdb::DB* db, Position head) {
  const rocksdb::Snapshot* raw = db->GetSnapshot();
  return View{head, std::shared_ptr<const rocksdb::Snapshot>(
                        raw, [db](const rocksdb::Snapshot* s) {
                          db->ReleaseSnapshot(s);
                        })};
}

View RocksDbEventLog::LogView() const {
  absl::ReaderMutexLock lock(&view_mu_);
  return log_view_;
}

LogStats RocksDbEventLog::Stats() const {
  LogStats stats;
  stats.head = Head();
  const int64_t micros = last_recorded_micros_.load(std::memory_order_relaxed);
  stats.last_recorded_at =
      stats.head == 0 ? absl::InfinitePast() : absl::FromUnixMicros(micros);
  stats.appends_committed = appends_committed_.load(std::memory_order_relaxed);
  stats.indexed = indexed_.load(std::memory_order_relaxed);
  for (auto [db, cfs] : {std::make_pair(db_.get(), &handles_),
                         std::make_pair(index_db_.get(), &index_handles_)}) {
    for (rocksdb::ColumnFamilyHandle* cf : *cfs) {
      uint64_t v = 0;
      if (db->GetIntProperty(cf, "rocksdb.live-sst-files-size", &v)) {
        stats.disk_bytes += v;
      }
      if (db->GetIntProperty(cf, "rocksdb.cur-size-all-mem-tables", &v)) {
        stats.disk_bytes += v;  // in the WAL (or the index) until flushed
      }
    }
  }
  return stats;
}

absl::Status RocksDbEventLog::WriteState(const std::vector<StateWrite>& writes,
                                         bool sync) {
  rocksdb::WriteBatch batch;
  for (const StateWrite& w : writes) {
    rocksdb::Status s =
        w.erase ? batch.Delete(state_cf_, AsSlice(w.key))
                : batch.Put(state_cf_, AsSlice(w.key), AsSlice(w.value));
    if (!s.ok()) return FromRocks(s, "writing server state");
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return FromRocks(db_->Write(wo, &batch), "writing server state");
}

absl::Status RocksDbEventLog::ScanState(
    absl::string_view prefix,
    absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) const {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), state_cf_));
  for (it->Seek(AsSlice(prefix));
       it->Valid() && it->key().starts_with(AsSlice(prefix)); it->Next()) {
    fn(AsView(it->key()), AsView(it->value()));
  }
  return FromRocks(it->status(), "reading server state");
}

absl::StatusOr<BackupInfo> RocksDbEventLog::CreateBackup(
    const std::string& directory) {
  absl::MutexLock lock(&backup_mu_);
  BackupInfo info;
  // Everything acknowledged before this call is at or below this head.
  info.head_position = Head();
  rocksdb::Env* env =
      options_.env != nullptr ? options_.env : rocksdb::Env::Default();
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create backup directory ", directory, ": ", ec.message()));
  }
  // The index first: its checkpoint then never passes the backed-up log's
  // head, and the restored index catches up from it.
  uint64_t size = 0;
  for (auto [db, sub] :
       {std::make_pair(index_db_.get(), std::string(kStreamIndexDir)),
        std::make_pair(db_.get(), std::string(kLogBackupDir))}) {
    const std::string dir = absl::StrCat(directory, "/", sub);
    rocksdb::BackupEngine* raw = nullptr;
    rocksdb::BackupEngineOptions be_options(dir);
    be_options.sync = true;
    rocksdb::IOStatus io = rocksdb::BackupEngine::Open(env, be_options, &raw);
    if (!io.ok()) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot open backup directory ", dir, ": ", io.ToString()));
    }
    std::unique_ptr<rocksdb::BackupEngine> engine(raw);
    rocksdb::CreateBackupOptions create;
    // An atomic flush of every column family: the backup holds the log and
    // the request ids (or the index and its checkpoint) from one moment.
    create.flush_before_backup = true;
    rocksdb::BackupID id = 0;
    io = engine->CreateNewBackup(create, db, &id);
    if (!io.ok()) {
      return FromRocks(io, absl::StrCat("backing up into ", dir));
    }
    rocksdb::BackupInfo be_info;
    if (engine->GetBackupInfo(id, &be_info).ok()) {
      size += be_info.size;
      info.created_at = absl::FromUnixSeconds(be_info.timestamp);
    }
    info.backup_id = id;  // the log's id, which names the backup
  }
  info.size_bytes = size;
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
  merkle_closing_.store(true);
  if (verifier_.joinable()) verifier_.join();
  if (committer_.joinable()) committer_.join();
  {
    absl::MutexLock lock(&sync_mu_);
    sync_stopping_ = true;
  }
  if (syncer_.joinable()) syncer_.join();
  {
    absl::MutexLock lock(&index_mu_);
    index_stopping_ = true;
  }
  if (indexer_.joinable()) indexer_.join();
  // The flusher writes what the indexer left in memory, then stops.
  {
    absl::MutexLock lock(&recent_mu_);
    flusher_stopping_ = true;
  }
  if (index_flusher_.joinable()) index_flusher_.join();
  // The merkler hashes what was committed, then stops.
  {
    absl::MutexLock lock(&merkle_mu_);
    merkle_stopping_ = true;
  }
  if (merkler_.joinable()) merkler_.join();
  absl::Status status;
  {
    absl::MutexLock lock(&index_mu_);
    status = index_error_;
  }
  {
    absl::MutexLock lock(&recent_mu_);
    index_snapshot_.reset();
    active_.reset();
    frozen_.reset();
  }
  {
    absl::MutexLock lock(&view_mu_);
    log_view_.snapshot.reset();
  }
  // Flush so that the next open replays neither the WAL nor the index.
  for (auto [db, cfs] : {std::make_pair(&db_, &handles_),
                         std::make_pair(&index_db_, &index_handles_)}) {
    if (*db == nullptr) continue;
    rocksdb::Status s = (*db)->Flush(rocksdb::FlushOptions(), *cfs);
    if (!s.ok() && status.ok()) status = FromRocks(s, "flushing on close");
    for (rocksdb::ColumnFamilyHandle* h : *cfs) {
      s = (*db)->DestroyColumnFamilyHandle(h);
      if (!s.ok() && status.ok()) status = FromRocks(s, "closing");
    }
    cfs->clear();
    s = (*db)->Close();
    if (!s.ok() && status.ok()) status = FromRocks(s, "closing the store");
    db->reset();
  }
  return status;
}

}  // namespace internal

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
      status.GetPayload(internal::kAbortedRevisionPayload);
  if (!payload.has_value()) return absl::nullopt;
  Revision revision = 0;
  if (!absl::SimpleAtoi(std::string(*payload), &revision)) {
    return absl::nullopt;
  }
  return revision;
}

absl::StatusOr<std::unique_ptr<EventLog>> OpenRocksDbEventLog(
    LogOptions options) {
  auto log = std::make_unique<internal::RocksDbEventLog>(std::move(options));
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
  // The log, then its index (taken just before it). Without a usable index
  // backup the index is rebuilt from the log on open.
  for (const std::string& sub :
       {std::string(kLogBackupDir), std::string(kStreamIndexDir)}) {
    const bool is_log = sub == kLogBackupDir;
    const std::string from = absl::StrCat(backup_dir, "/", sub);
    const std::string to =
        is_log ? data_dir : absl::StrCat(data_dir, "/", kStreamIndexDir);
    rocksdb::BackupEngineReadOnly* raw = nullptr;
    rocksdb::IOStatus io = rocksdb::BackupEngineReadOnly::Open(
        rocksdb::Env::Default(), rocksdb::BackupEngineOptions(from), &raw);
    std::unique_ptr<rocksdb::BackupEngineReadOnly> engine(raw);
    std::vector<rocksdb::BackupInfo> infos;
    if (io.ok()) engine->GetBackupInfo(&infos);
    if (!io.ok() || infos.empty()) {
      if (!is_log) break;
      return absl::NotFoundError(
          absl::StrCat("no backup in ", backup_dir,
                       io.ok() ? "" : absl::StrCat(": ", io.ToString())));
    }
    // Backups are taken in pairs: the i-th index backup goes with the i-th
    // log backup.
    uint32_t id = infos.back().backup_id;
    if (backup_id != 0) id = backup_id;
    io = engine->VerifyBackup(id, /*verify_with_checksum=*/true);
    if (!io.ok()) {
      if (!is_log) break;  // rebuild the index instead
      return absl::DataLossError(absl::StrCat(
          "backup ", id, " in ", from, " does not verify: ", io.ToString()));
    }
    io = engine->RestoreDBFromBackup(id, to, to);
    if (!io.ok()) {
      return FromRocks(io, absl::StrCat("restoring backup ", id, " of ", from));
    }
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
