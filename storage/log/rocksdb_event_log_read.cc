// RocksDbEventLog: reads. Every read uses one consistent view; a missing
// log key is reported as data loss with its position, never skipped.

#include <algorithm>
#include <limits>
#include <utility>

#include "absl/strings/str_cat.h"
#include "nenep/storage/v1/records.pb.h"
#include "storage/common/coding.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage::internal {
namespace {

absl::StatusOr<Record> DecodeRecord(Position position,
                                    const rocksdb::Slice& value) {
  v1::LogRecord rec;
  if (!rec.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
    return absl::DataLossError(
        absl::StrCat("corrupt log record at position ", position));
  }
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

rocksdb::ReadOptions At(const View& view) {
  rocksdb::ReadOptions ro;
  ro.snapshot = view.snapshot.get();
  return ro;
}

}  // namespace

absl::StatusOr<StreamHead> RocksDbEventLog::ReadHead(
    absl::string_view stream) const {
  const StreamIndexView index =
      StreamIndexAt(stream, 0, Direction::kBackward, 0);
  StreamHead head;
  if (index.newest.revision != 0) {
    head.revision = index.newest.revision;
    head.last_position = index.newest.position;
    return head;
  }
  rocksdb::ReadOptions ro;
  ro.snapshot = index.snapshot.get();
  ro.prefix_same_as_start = true;
  std::unique_ptr<rocksdb::Iterator> it(
      index_db_->NewIterator(ro, streams_cf_));
  it->SeekForPrev(StreamIndexKey(stream, std::numeric_limits<Revision>::max()));
  Revision revision = 0;
  if (it->Valid() &&
      ParseStreamIndexKey(AsView(it->key()), stream, &revision)) {
    if (it->value().size() != 8) {
      return absl::DataLossError(
          absl::StrCat("malformed index entry for stream '", stream, "'"));
    }
    head.revision = revision;
    head.last_position = DecodeFixed64BE(AsView(it->value()));
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "reading a stream head"));
  return head;
}

absl::Status RocksDbEventLog::Scan(
    Position from, Position to,
    absl::FunctionRef<bool(Position, absl::string_view)> fn) const {
  const View view = LogView();
  from = std::max<Position>(from, 1);
  if (to > view.head) {
    return absl::OutOfRangeError(
        absl::StrCat("scan to ", to, " past the head ", view.head));
  }
  if (from > to) return absl::OkStatus();
  rocksdb::ReadOptions ro = At(view);
  ro.readahead_size = 4 << 20;
  ro.fill_cache = false;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(ro, log_cf_));
  Position expect = from;
  for (it->Seek(LogKey(from)); expect <= to; it->Next(), ++expect) {
    if (!it->Valid()) break;
    Position position = 0;
    if (!ParseLogKey(AsView(it->key()), &position) || position != expect) {
      return absl::DataLossError(
          absl::StrCat("the log has no event at position ", expect));
    }
    absl::string_view payload;
    if (!LogRecordPayload(AsView(it->value()), &payload)) {
      return absl::DataLossError(
          absl::StrCat("corrupt log record at position ", position));
    }
    if (!fn(position, payload)) return absl::OkStatus();
  }
  RETURN_IF_ERROR(FromRocks(it->status(), "scanning the log"));
  if (expect <= to) {
    return absl::DataLossError(
        absl::StrCat("the log ends before position ", expect));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Record>> RocksDbEventLog::ReadAll(
    Position from, Direction direction, size_t limit) const {
  const View view = LogView();
  std::vector<Record> out;
  if (view.head == 0 || limit == 0) return out;
  std::unique_ptr<rocksdb::Iterator> it(db_->NewIterator(At(view), log_cf_));
  Position expect;
  if (direction == Direction::kForward) {
    expect = std::max<Position>(from, 1);
    if (expect > view.head) return out;
    it->Seek(LogKey(expect));
  } else {
    expect = (from == 0 || from > view.head) ? view.head : from;
    it->SeekForPrev(LogKey(expect));
  }
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
  RETURN_IF_ERROR(CheckStreamName(stream));
  std::vector<Record> out;
  if (limit == 0) return out;
  // Everything committed when the read began must be indexed; the log view
  // taken after it holds every position the index names.
  RETURN_IF_ERROR(AwaitIndexed(LogView().head));
  const bool forward = direction == Direction::kForward;
  if (forward) from = std::max<Revision>(from, 1);
  const StreamIndexView index = StreamIndexAt(stream, from, direction, limit);
  const View log_view = LogView();
  // The instance holds the revisions below the ones in memory (and may hold
  // some of those again, after a crash: they are read from memory).
  const Revision below = index.lowest_recent != 0
                             ? index.lowest_recent
                             : std::numeric_limits<Revision>::max();
  std::vector<Position> positions;
  if (!forward) {
    for (const Indexed& e : index.recent) positions.push_back(e.position);
  }
  const Revision start =
      forward
          ? from
          : std::min(from == 0 ? std::numeric_limits<Revision>::max() : from,
                     below - 1);
  if (positions.size() < limit && start < below && start > 0) {
    rocksdb::ReadOptions index_ro;
    index_ro.snapshot = index.snapshot.get();
    index_ro.prefix_same_as_start = true;
    std::unique_ptr<rocksdb::Iterator> it(
        index_db_->NewIterator(index_ro, streams_cf_));
    if (forward) {
      it->Seek(StreamIndexKey(stream, start));
    } else {
      it->SeekForPrev(StreamIndexKey(stream, start));
    }
    Revision revision = 0;
    while (it->Valid() && positions.size() < limit &&
           ParseStreamIndexKey(AsView(it->key()), stream, &revision) &&
           revision < below) {
      if (it->value().size() != 8) {
        return absl::DataLossError(
            absl::StrCat("malformed index entry for stream '", stream, "'"));
      }
      positions.push_back(DecodeFixed64BE(AsView(it->value())));
      if (forward) {
        it->Next();
      } else {
        it->Prev();
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "reading a stream index"));
  }
  if (forward) {
    for (const Indexed& e : index.recent) {
      if (positions.size() >= limit) break;
      positions.push_back(e.position);
    }
  }
  std::vector<std::string> keys;
  keys.reserve(positions.size());
  for (Position p : positions) keys.push_back(LogKey(p));
  std::vector<rocksdb::Slice> slices(keys.begin(), keys.end());
  std::vector<std::string> values(keys.size());
  std::vector<rocksdb::ColumnFamilyHandle*> cfs(keys.size(), log_cf_);
  std::vector<rocksdb::Status> statuses =
      db_->MultiGet(At(log_view), cfs, slices, &values);
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
  const View view = LogView();
  if (position == 0 || position > view.head) {
    return absl::NotFoundError(absl::StrCat("no event at position ", position,
                                            " (the head is ", view.head, ")"));
  }
  std::string value;
  rocksdb::Status s = db_->Get(At(view), log_cf_, LogKey(position), &value);
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
  RETURN_IF_ERROR(CheckStreamName(stream));
  RETURN_IF_ERROR(AwaitIndexed(LogView().head));
  ASSIGN_OR_RETURN(StreamHead head, ReadHead(stream));
  return head.revision;
}

}  // namespace nenep::storage::internal
