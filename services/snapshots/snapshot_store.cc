#include "services/snapshots/snapshot_store.h"

#include <algorithm>
#include <optional>
#include <utility>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/calendar.h"
#include "services/common/proto_time.h"
#include "services/query/convert.h"
#include "services/subscribe/event_filter.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr absl::Duration kDurableWait = absl::Seconds(30);
constexpr int kDefaultList = 100;
constexpr int kMaxList = 10000;
// State writes per WriteState call while storing a snapshot.
constexpr size_t kWritesPerCall = 512;

// Keys (storage/FORMAT.md, "Snapshots"): <base> is yyyymmdd/<position as
// 20 digits>, so that byte order is date, then position order.
constexpr absl::string_view kInfoPrefix = "snap/i/";
constexpr absl::string_view kUnitsPrefix = "snap/u/";
constexpr absl::string_view kIndexPrefix = "snap/x/";
constexpr absl::string_view kOverduePrefix = "snap/o/";

std::string DateKey(const v1::Date& d) {
  return absl::StrFormat("%04d%02d%02d", d.year(), d.month(), d.day());
}
std::string Base(const v1::Date& d, uint64_t position) {
  return absl::StrFormat("%s/%020d", DateKey(d), position);
}
std::string ChunkKey(absl::string_view prefix, const v1::SnapshotInfo& info,
                     int64_t chunk) {
  return absl::StrFormat("%s%s/%06d", prefix,
                         Base(info.date(), info.position()), chunk);
}

// The value of exactly `key` in the state, if any.
absl::StatusOr<std::optional<std::string>> GetState(
    const storage::EventLog& log, const std::string& key) {
  std::optional<std::string> out;
  RETURN_IF_ERROR(
      log.ScanState(key, [&](absl::string_view k, absl::string_view v) {
        if (k == key) out = std::string(v);
      }));
  return out;
}

Day DayFrom(const v1::Date& d) {
  return DayNumber(d.year(), d.month(), d.day());
}

int64_t ChunksOf(uint64_t n) {
  return static_cast<int64_t>((n + SnapshotStore::kChunk - 1) /
                              SnapshotStore::kChunk);
}

// "2021-2025" or "2021–2025" -> the years.
absl::Status ParsePhase(absl::string_view phase, int* first, int* last) {
  std::vector<std::string> parts = absl::StrSplit(
      phase, absl::ByAnyChar("-\xE2\x80\x93"), absl::SkipEmpty());
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], first) ||
      !absl::SimpleAtoi(parts[1], last) || *first < 1900 || *last > 2199 ||
      *first > *last) {
    return absl::InvalidArgumentError(absl::StrCat(
        "phase: '", phase,
        "' is not a phase; write it as two years, e.g. \"2021-2025\""));
  }
  return absl::OkStatus();
}

v1::DateRange RangeOf(Day from, Day to) {
  v1::DateRange r;
  *r.mutable_start() = ToDate(from);
  *r.mutable_end() = ToDate(to);
  return r;
}

const char* TypeVn(v1::Event::PayloadCase c) {
  switch (c) {
    case v1::Event::kUnitCreated:
      return "Thành lập đơn vị";
    case v1::Event::kUnitRenamed:
      return "Đổi tên đơn vị";
    case v1::Event::kUnitMoved:
      return "Điều chuyển đơn vị";
    case v1::Event::kUnitsMerged:
      return "Hợp nhất đơn vị";
    case v1::Event::kUnitDissolved:
      return "Giải thể đơn vị";
    case v1::Event::kMemberJoined:
      return "Đảng viên vào chi bộ";
    case v1::Event::kMemberTransferred:
      return "Chuyển sinh hoạt đảng";
    case v1::Event::kMemberLeft:
      return "Đảng viên ra khỏi chi bộ";
    case v1::Event::kPlanIssued:
      return "Ban hành kế hoạch";
    case v1::Event::kSessionHeld:
      return "Sinh hoạt chi bộ";
    case v1::Event::kCommitmentRegistered:
      return "Đăng ký làm theo";
    case v1::Event::kCommitmentEvaluated:
      return "Đánh giá cam kết";
    case v1::Event::kAwardGiven:
      return "Khen thưởng";
    case v1::Event::kEventCorrected:
      return "Đính chính";
    case v1::Event::kEventRetracted:
      return "Thu hồi";
    default:
      return "Sự kiện";
  }
}

// The events of (from, to] that change what a snapshot of `reported` said:
// facts dated on or before it, and corrections or retractions of such facts.
absl::StatusOr<std::vector<projections::LateFact>> LateFacts(
    const storage::EventLog& log, uint64_t from, uint64_t to,
    const v1::Date& reported) {
  std::vector<projections::LateFact> out;
  if (to <= from) return out;
  const Day limit = DayFrom(reported);
  absl::Status error;
  v1::Event e;
  RETURN_IF_ERROR(log.Scan(
      from + 1, to, [&](storage::Position p, absl::string_view payload) {
        if (!e.ParseFromArray(payload.data(),
                              static_cast<int>(payload.size()))) {
          error = absl::DataLossError(
              absl::StrCat("the event at position ", p, " does not parse"));
          return false;
        }
        // The fact whose figures change: the event itself, a correction's
        // replacement, or a retracted event.
        const v1::Event* fact = &e;
        v1::Event original;
        Day day = DayFrom(e.business_date());
        if (e.has_event_corrected() || e.has_event_retracted()) {
          const uint64_t target = e.has_event_corrected()
                                      ? e.event_corrected().target_position()
                                      : e.event_retracted().target_position();
          absl::StatusOr<storage::Record> rec = log.Get(target);
          if (!rec.ok() || !original.ParseFromString(rec->payload)) return true;
          day = DayFrom(original.business_date());
          fact = &original;
          if (e.has_event_corrected()) {
            fact = &e.event_corrected().replacement();
            day = std::min(day, DayFrom(fact->business_date()));
          }
        }
        if (day > limit) return true;
        projections::LateFact f;
        f.position = p;
        f.day = day;
        if (fact->has_commitment_evaluated()) {
          f.commitment_id = fact->commitment_evaluated().commitment_id();
        } else {
          for (std::string& u : UnitsOf(*fact, nullptr)) {
            if (!u.empty()) {
              f.unit_id = std::move(u);
              break;
            }
          }
        }
        f.what = absl::StrCat(TypeVn(e.payload_case()), " ngày ",
                              FormatDayVn(ToDate(day)),
                              " ghi nhận sau báo cáo ngày ",
                              FormatDayVn(reported), " (vị trí ", p, ")");
        out.push_back(std::move(f));
        return true;
      }));
  RETURN_IF_ERROR(error);
  return out;
}

void FillEntry(const projections::OverdueEntry& e, v1::OverdueItem* out) {
  out->set_kind(static_cast<v1::OverdueKind>(e.kind));
  out->set_unit_id(e.unit_id);
  out->set_unit_name(e.unit_name);
  for (const projections::UnitRef& p : e.parent_chain) {
    v1::UnitRef* ref = out->add_parent_chain();
    ref->set_unit_id(p.unit_id);
    ref->set_name(p.name);
    ref->set_kind(p.kind);
  }
  out->set_missing(e.missing);
  *out->mutable_since() = ToDate(e.since);
  out->set_ref_id(e.ref_id);
  out->set_position(e.position);
}

// Collects a snapshot's state writes and flushes them in calls of
// kWritesPerCall, without sync (the info's write syncs them all).
class Writer {
 public:
  explicit Writer(storage::EventLog* log) : log_(log) {}
  absl::Status Put(std::string key, std::string value) {
    writes_.push_back({std::move(key), std::move(value), false});
    if (writes_.size() >= kWritesPerCall) return Flush(false);
    return absl::OkStatus();
  }
  absl::Status Flush(bool sync) {
    if (writes_.empty()) return absl::OkStatus();
    absl::Status s = log_->WriteState(writes_, sync);
    writes_.clear();
    return s;
  }

 private:
  storage::EventLog* const log_;
  std::vector<storage::StateWrite> writes_;
};

}  // namespace

SnapshotStore::SnapshotStore(const ProjectionHandle* projections,
                             const StoreHandle* store, SnapshotOptions options)
    : projections_(projections), store_(store), options_(std::move(options)) {}

absl::StatusOr<storage::EventLog*> SnapshotStore::Log() const {
  return store_->Get();
}

absl::StatusOr<v1::SnapshotInfo> SnapshotStore::Find(
    const v1::Date& date, uint64_t position, const std::string& field) const {
  ASSIGN_OR_RETURN(storage::EventLog * log, Log());
  std::optional<v1::SnapshotInfo> found;
  absl::Status error;
  RETURN_IF_ERROR(
      log->ScanState(absl::StrCat(kInfoPrefix, DateKey(date), "/"),
                     [&](absl::string_view key, absl::string_view value) {
                       v1::SnapshotInfo info;
                       if (!info.ParseFromArray(
                               value.data(), static_cast<int>(value.size()))) {
                         error = absl::DataLossError(absl::StrCat(
                             "snapshot info '", key, "' does not parse"));
                         return;
                       }
                       if (position == 0 || info.position() == position)
                         found = info;
                     }));
  RETURN_IF_ERROR(error);
  if (!found.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        field, ": no snapshot of ", FormatDayVn(date),
        position == 0 ? "" : absl::StrCat(" at position ", position),
        " is stored; ListSnapshots lists those that are, CreateSnapshot "
        "makes one"));
  }
  found->set_created(false);
  return *found;
}

absl::StatusOr<v1::SnapshotInfo> SnapshotStore::Create(
    const v1::CreateSnapshotRequest& r) {
  const absl::Time start = absl::Now();
  if (!r.has_date()) {
    return absl::InvalidArgumentError(
        "date: required (the local date the snapshot is of)");
  }
  ASSIGN_OR_RETURN(int64_t day64, CheckDate(r.date(), "date"));
  const Day date = static_cast<Day>(day64);
  const absl::Time now = options_.clock ? options_.clock() : absl::Now();
  const Day today = static_cast<Day>(DayNumber(LocalDay(now, options_.zone)));
  if (date > today) {
    return absl::InvalidArgumentError(absl::StrCat(
        "date: ", FormatDayVn(r.date()), " is after today (",
        FormatDayVn(ToDate(today)),
        " in Asia/Ho_Chi_Minh); a snapshot can only be of a day that has "
        "begun"));
  }
  int y = 0, m = 0, d = 0;
  CivilFromDay(date, &y, &m, &d);
  int phase_first = (y - 1) / 5 * 5 + 1, phase_last = phase_first + 4;
  if (!r.phase().empty()) {
    RETURN_IF_ERROR(ParsePhase(r.phase(), &phase_first, &phase_last));
    if (y < phase_first || y > phase_last) {
      return absl::InvalidArgumentError(
          absl::StrCat("phase: ", r.phase(), " does not contain the date ",
                       FormatDayVn(r.date())));
    }
  }
  projections::SnapshotRanges ranges;
  ranges.date = date;
  ranges.month = MonthFirstDay(MonthOf(date));
  ranges.quarter = QuarterFirstDay(QuarterOf(date));
  ranges.half = DayNumber(y, m <= 6 ? 1 : 7, 1);
  ranges.year = DayNumber(y, 1, 1);
  ranges.phase = DayNumber(phase_first, 1, 1);

  ASSIGN_OR_RETURN(ProjectionStore * store, projections_->Get());
  ASSIGN_OR_RETURN(storage::EventLog * log, Log());
  absl::MutexLock lock(&create_mu_);
  std::shared_ptr<const projections::Projection> p = store->Get();

  // Already stored at the position the projection stands at: nothing to do.
  if (auto existing = Find(r.date(), p->applied(), "date"); existing.ok()) {
    RETURN_IF_ERROR(store->AwaitDurable(existing->position(), kDurableWait));
    return *existing;
  }

  // The previous snapshot: the newest one of an earlier date.
  std::optional<v1::SnapshotInfo> previous;
  absl::Status error;
  RETURN_IF_ERROR(log->ScanState(kInfoPrefix, [&](absl::string_view key,
                                                  absl::string_view value) {
    v1::SnapshotInfo info;
    if (!info.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
      error = absl::DataLossError(
          absl::StrCat("snapshot info '", key, "' does not parse"));
      return;
    }
    if (DayFrom(info.date()) < date) previous = std::move(info);
  }));
  RETURN_IF_ERROR(error);

  // Read every unit's row in one go; store them in chunks of kChunk.
  v1::SnapshotInfo info;
  *info.mutable_date() = r.date();
  std::vector<std::string> unit_chunks;
  std::vector<std::pair<std::string, std::string>> index;  // unit id, where
  v1::SnapshotChunk chunk;
  auto close_chunk = [&] {
    unit_chunks.push_back(chunk.SerializeAsString());
    chunk.Clear();
  };
  const projections::SnapshotSummary summary =
      p->Snapshot(ranges, [&](const projections::SnapshotRow& row) {
        v1::SnapshotUnit* u = chunk.add_units();
        u->set_unit_id(row.unit_id);
        u->set_name(row.name);
        u->set_kind(row.kind);
        u->set_is_cell(row.is_cell);
        u->set_parent_id(row.parent_id);
        u->set_depth(row.depth);
        FillRollup(row.day, u->mutable_day());
        FillRollup(row.month, u->mutable_month());
        FillRollup(row.quarter, u->mutable_quarter());
        FillRollup(row.half, u->mutable_half());
        FillRollup(row.year, u->mutable_year());
        FillRollup(row.phase, u->mutable_phase());
        index.emplace_back(row.unit_id, absl::StrCat(unit_chunks.size(), "/",
                                                     chunk.units_size() - 1));
        if (chunk.units_size() == kChunk) close_chunk();
      });
  if (chunk.units_size() > 0) close_chunk();
  const uint64_t position = summary.position;
  info.set_position(position);
  // Answers never show what is not durable.
  RETURN_IF_ERROR(store->AwaitDurable(position, kDurableWait));
  if (auto existing = Find(r.date(), position, "date"); existing.ok()) {
    return *existing;
  }

  std::vector<projections::OverdueEntry> overdue = summary.overdue;
  if (previous.has_value()) {
    info.set_previous_position(previous->position());
    *info.mutable_previous_date() = previous->date();
    ASSIGN_OR_RETURN(
        std::vector<projections::LateFact> facts,
        LateFacts(*log, previous->position(), position, previous->date()));
    for (projections::OverdueEntry& e : p->Changed(facts, date)) {
      overdue.push_back(std::move(e));
    }
  }

  ToProtoTimestamp(now, info.mutable_created_at());
  v1::SnapshotPeriods* periods = info.mutable_periods();
  *periods->mutable_day() = RangeOf(date, date);
  *periods->mutable_month() = RangeOf(ranges.month, date);
  *periods->mutable_quarter() = RangeOf(ranges.quarter, date);
  *periods->mutable_half() = RangeOf(ranges.half, date);
  *periods->mutable_year() = RangeOf(ranges.year, date);
  *periods->mutable_phase() = RangeOf(ranges.phase, date);
  periods->set_phase_label(absl::StrCat(phase_first, "-", phase_last));
  info.set_units(summary.rows);
  info.set_overdue_items(overdue.size());
  std::vector<uint64_t> counts(6, 0);
  for (const projections::OverdueEntry& e : overdue) {
    ++counts[static_cast<int>(e.kind)];
  }
  for (uint64_t c : counts) info.add_overdue_counts(c);
  for (const projections::Trend& t : summary.trends) {
    v1::Trend* trend = info.add_trends();
    trend->set_unit_id(t.unit_id);
    trend->set_name(t.name);
    for (const auto& [month, rollup] : t.months) {
      v1::MonthFigures* mf = trend->add_months();
      mf->mutable_month()->set_year(month / 12);
      mf->mutable_month()->set_month(month % 12 + 1);
      FillRollup(rollup, mf->mutable_rollup());
    }
  }

  // Rows, index, overdue items; the info last, with sync.
  Writer writer(log);
  const std::string base = Base(r.date(), position);
  for (size_t i = 0; i < unit_chunks.size(); ++i) {
    RETURN_IF_ERROR(
        writer.Put(ChunkKey(kUnitsPrefix, info, i), std::move(unit_chunks[i])));
  }
  for (auto& [id, where] : index) {
    RETURN_IF_ERROR(writer.Put(absl::StrCat(kIndexPrefix, base, "/", id),
                               std::move(where)));
  }
  for (size_t i = 0; i < overdue.size(); i += kChunk) {
    chunk.Clear();
    for (size_t k = i; k < overdue.size() && k < i + kChunk; ++k) {
      FillEntry(overdue[k], chunk.add_overdue());
    }
    RETURN_IF_ERROR(writer.Put(ChunkKey(kOverduePrefix, info, i / kChunk),
                               chunk.SerializeAsString()));
  }
  RETURN_IF_ERROR(writer.Flush(false));
  RETURN_IF_ERROR(log->WriteState(
      {{absl::StrCat(kInfoPrefix, base), info.SerializeAsString(), false}},
      /*sync=*/true));
  info.set_created(true);
  logging::Info("snapshot stored",
                {{"date", FormatDayIso(r.date())},
                 {"position", position},
                 {"units", summary.rows},
                 {"overdue_items", overdue.size()},
                 {"seconds", absl::ToDoubleSeconds(absl::Now() - start)}});
  return info;
}

absl::StatusOr<v1::ListSnapshotsResponse> SnapshotStore::List(
    const v1::ListSnapshotsRequest& r) const {
  if (r.limit() < 0) {
    return absl::InvalidArgumentError("limit: must not be negative");
  }
  const int limit =
      r.limit() == 0 ? kDefaultList : std::min(r.limit(), kMaxList);
  Day from = -kForever, to = kForever;
  if (r.dates().has_start()) {
    ASSIGN_OR_RETURN(int64_t f, CheckDate(r.dates().start(), "dates.start"));
    from = static_cast<Day>(f);
  }
  if (r.dates().has_end()) {
    ASSIGN_OR_RETURN(int64_t t, CheckDate(r.dates().end(), "dates.end"));
    to = static_cast<Day>(t);
  }
  ASSIGN_OR_RETURN(storage::EventLog * log, Log());
  std::vector<v1::SnapshotInfo> all;
  RETURN_IF_ERROR(log->ScanState(
      kInfoPrefix, [&](absl::string_view, absl::string_view value) {
        v1::SnapshotInfo info;
        if (!info.ParseFromArray(value.data(), static_cast<int>(value.size())))
          return;
        const Day d = DayFrom(info.date());
        if (d < from || d > to) return;
        info.clear_trends();
        all.push_back(std::move(info));
      }));
  v1::ListSnapshotsResponse out;
  for (auto it = all.rbegin(); it != all.rend() && out.snapshots_size() < limit;
       ++it) {
    *out.add_snapshots() = std::move(*it);
  }
  return out;
}

int64_t SnapshotStore::Chunks(const v1::SnapshotInfo& info) {
  return ChunksOf(info.units()) + ChunksOf(info.overdue_items());
}

absl::StatusOr<v1::SnapshotChunk> SnapshotStore::ReadChunk(
    const v1::SnapshotInfo& info, int64_t i) const {
  ASSIGN_OR_RETURN(storage::EventLog * log, Log());
  const int64_t unit_chunks = ChunksOf(info.units());
  const std::string key = i < unit_chunks
                              ? ChunkKey(kUnitsPrefix, info, i)
                              : ChunkKey(kOverduePrefix, info, i - unit_chunks);
  ASSIGN_OR_RETURN(std::optional<std::string> value, GetState(*log, key));
  v1::SnapshotChunk chunk;
  if (!value.has_value() || !chunk.ParseFromString(*value)) {
    return absl::DataLossError(
        absl::StrCat("snapshot chunk '", key, "' is missing or damaged"));
  }
  return chunk;
}

absl::StatusOr<v1::GetSnapshotResponse> SnapshotStore::Get(
    const v1::GetSnapshotRequest& r) const {
  if (!r.has_date()) return absl::InvalidArgumentError("date: required");
  RETURN_IF_ERROR(CheckDate(r.date(), "date").status());
  if (r.unit_id().empty()) {
    return absl::InvalidArgumentError("unit_id: required");
  }
  ASSIGN_OR_RETURN(v1::SnapshotInfo info, Find(r.date(), r.position(), "date"));
  ASSIGN_OR_RETURN(storage::EventLog * log, Log());
  ASSIGN_OR_RETURN(
      std::optional<std::string> where,
      GetState(*log,
               absl::StrCat(kIndexPrefix, Base(info.date(), info.position()),
                            "/", r.unit_id())));
  if (!where.has_value()) {
    return absl::NotFoundError(absl::StrCat(
        "unit_id: '", r.unit_id(), "' is not in the snapshot of ",
        FormatDayVn(info.date()), " (only units active on that date are)"));
  }
  int64_t chunk_no = 0, index = 0;
  std::pair<std::string, std::string> parts = absl::StrSplit(*where, '/');
  if (!absl::SimpleAtoi(parts.first, &chunk_no) ||
      !absl::SimpleAtoi(parts.second, &index)) {
    return absl::DataLossError("a snapshot index entry is damaged");
  }
  ASSIGN_OR_RETURN(v1::SnapshotChunk chunk, ReadChunk(info, chunk_no));
  if (index < 0 || index >= chunk.units_size()) {
    return absl::DataLossError("a snapshot index entry is damaged");
  }
  v1::GetSnapshotResponse out;
  *out.mutable_unit() = std::move(*chunk.mutable_units(index));
  info.clear_trends();
  *out.mutable_info() = std::move(info);
  return out;
}

absl::StatusOr<v1::DiffSnapshotsResponse> SnapshotStore::Diff(
    const v1::DiffSnapshotsRequest& r) const {
  if (!r.has_from_date())
    return absl::InvalidArgumentError("from_date: required");
  if (!r.has_to_date()) return absl::InvalidArgumentError("to_date: required");
  RETURN_IF_ERROR(CheckDate(r.from_date(), "from_date").status());
  RETURN_IF_ERROR(CheckDate(r.to_date(), "to_date").status());
  if (r.unit_id().empty()) {
    return absl::InvalidArgumentError("unit_id: required");
  }
  v1::DiffSnapshotsResponse out;
  bool found = false;
  for (const bool to : {false, true}) {
    v1::GetSnapshotRequest g;
    *g.mutable_date() = to ? r.to_date() : r.from_date();
    g.set_position(to ? r.to_position() : r.from_position());
    g.set_unit_id(r.unit_id());
    ASSIGN_OR_RETURN(v1::SnapshotInfo info, Find(g.date(), g.position(),
                                                 to ? "to_date" : "from_date"));
    info.clear_trends();
    absl::StatusOr<v1::GetSnapshotResponse> got = Get(g);
    if (got.ok()) {
      found = true;
      *(to ? out.mutable_to_unit() : out.mutable_from_unit()) =
          std::move(*got->mutable_unit());
    } else if (!absl::IsNotFound(got.status())) {
      return got.status();
    }
    *(to ? out.mutable_to() : out.mutable_from()) = std::move(info);
  }
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("unit_id: '", r.unit_id(), "' is in neither snapshot"));
  }
  // Every measure of every period, field by field.
  const google::protobuf::Descriptor* unit = v1::SnapshotUnit::descriptor();
  const google::protobuf::Descriptor* rollup = v1::Rollup::descriptor();
  const google::protobuf::Reflection* ref = v1::Rollup::GetReflection();
  for (const char* period :
       {"day", "month", "quarter", "half", "year", "phase"}) {
    const google::protobuf::FieldDescriptor* pf = unit->FindFieldByName(period);
    const auto& a = static_cast<const v1::Rollup&>(
        out.from_unit().GetReflection()->GetMessage(out.from_unit(), pf));
    const auto& b = static_cast<const v1::Rollup&>(
        out.to_unit().GetReflection()->GetMessage(out.to_unit(), pf));
    for (int i = 0; i < rollup->field_count(); ++i) {
      const google::protobuf::FieldDescriptor* f = rollup->field(i);
      auto value = [&](const v1::Rollup& m) {
        return f->cpp_type() ==
                       google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE
                   ? ref->GetDouble(m, f)
                   : static_cast<double>(ref->GetInt64(m, f));
      };
      const double va = value(a), vb = value(b);
      if (va == vb) continue;
      v1::MeasureChange* c = out.add_changes();
      c->set_period(period);
      c->set_measure(f->name());
      c->set_from(va);
      c->set_to(vb);
    }
  }
  return out;
}

}  // namespace nenep::services
