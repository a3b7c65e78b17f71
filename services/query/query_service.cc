#include "services/query/query_service.h"

#include <algorithm>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/time/clock.h"
#include "services/common/calendar.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "services/query/convert.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr absl::Duration kDurableWait = absl::Seconds(10);
constexpr int kDefaultPage = 100;
constexpr int kMaxPage = 1000;

absl::StatusOr<Day> DayOf(const v1::Date& date, const std::string& field) {
  ASSIGN_OR_RETURN(int64_t day, CheckDate(date, field));
  return static_cast<Day>(day);
}

// The date asked for, or today.
absl::StatusOr<Day> DateOr(bool has, const v1::Date& date,
                           const std::string& field, Day today) {
  if (!has) return today;
  return DayOf(date, field);
}

absl::Status Invalid(absl::string_view field, absl::string_view msg) {
  return absl::InvalidArgumentError(absl::StrCat(field, ": ", msg));
}

absl::StatusOr<int> PageSize(int requested, const std::string& field) {
  if (requested < 0) return Invalid(field, "must not be negative");
  if (requested == 0) return kDefaultPage;
  return std::min(requested, kMaxPage);
}

absl::StatusOr<size_t> PageStart(const std::string& token, size_t total) {
  if (token.empty()) return 0;
  size_t start = 0;
  if (!absl::SimpleAtoi(token, &start) || start > total) {
    return Invalid("page_token",
                   "not a token this service gave out; start again without "
                   "one");
  }
  return start;
}

// [from, to] of a rollup request.
absl::Status ResolveRange(const v1::RollupRequest& r, Day* from, Day* to) {
  switch (r.range_case()) {
    case v1::RollupRequest::kDates: {
      ASSIGN_OR_RETURN(*from, DayOf(r.dates().start(), "dates.start"));
      ASSIGN_OR_RETURN(*to, DayOf(r.dates().end(), "dates.end"));
      if (*from > *to) {
        return Invalid("dates", "start is after end");
      }
      return absl::OkStatus();
    }
    case v1::RollupRequest::kPeriod: {
      const v1::PeriodRef& p = r.period();
      if (p.year() < 1900 || p.year() > 2199) {
        return Invalid("period.year", "must be 1900..2199");
      }
      int first = 1, last = 12;
      switch (p.part_case()) {
        case v1::PeriodRef::kMonth:
          if (p.month() < 1 || p.month() > 12) {
            return Invalid("period.month", "must be 1..12");
          }
          first = last = p.month();
          break;
        case v1::PeriodRef::kQuarter:
          if (p.quarter() < 1 || p.quarter() > 4) {
            return Invalid("period.quarter", "must be 1..4");
          }
          first = 3 * p.quarter() - 2;
          last = first + 2;
          break;
        case v1::PeriodRef::kHalf:
          if (p.half() < 1 || p.half() > 2) {
            return Invalid("period.half", "must be 1 or 2");
          }
          first = 6 * p.half() - 5;
          last = first + 5;
          break;
        default:
          break;
      }
      *from = DayNumber(p.year(), first, 1);
      *to = DayNumber(p.year(), last, DaysInMonth(p.year(), last));
      return absl::OkStatus();
    }
    case v1::RollupRequest::kPhase: {
      std::string phase = r.phase();
      // An en dash (U+2013) is as good as a hyphen.
      for (const char* dash : {"\xE2\x80\x93", "\xE2\x80\x94"}) {
        for (size_t at; (at = phase.find(dash)) != std::string::npos;) {
          phase.replace(at, 3, "-");
        }
      }
      std::vector<std::string> parts = absl::StrSplit(phase, '-');
      int y1 = 0, y2 = 0;
      if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &y1) ||
          !absl::SimpleAtoi(parts[1], &y2) || y1 < 1900 || y2 > 2199 ||
          y1 > y2) {
        return Invalid("phase", absl::StrCat("'", r.phase(),
                                             "' is not a phase like "
                                             "2021-2023"));
      }
      *from = DayNumber(y1, 1, 1);
      *to = DayNumber(y2, 12, 31);
      return absl::OkStatus();
    }
    default:
      return Invalid("range", "set dates, period or phase");
  }
}

absl::StatusOr<projections::RollupQuery> ToQuery(const v1::RollupRequest& r) {
  projections::RollupQuery q;
  if (r.unit_id().empty()) return Invalid("unit_id", "required");
  q.unit_id = r.unit_id();
  RETURN_IF_ERROR(ResolveRange(r, &q.from, &q.to));
  switch (r.attribution()) {
    case v1::ATTRIBUTION_UNSPECIFIED:
    case v1::ATTRIBUTION_AS_RECORDED:
      q.attribution = projections::Attribution::kAsRecorded;
      break;
    case v1::ATTRIBUTION_AS_OF_STRUCTURE:
      q.attribution = projections::Attribution::kAsOfStructure;
      q.structure_date = q.to;
      if (r.has_structure_date()) {
        ASSIGN_OR_RETURN(q.structure_date,
                         DayOf(r.structure_date(), "structure_date"));
      }
      break;
    default:
      return Invalid("attribution", "unknown value");
  }
  return q;
}

// Runs `body` and finishes the reactor with its status.
template <typename F>
grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context, F body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  reactor->Finish(ToGrpcStatus(body()));
  return reactor;
}

}  // namespace

QueryService::QueryService(const ProjectionHandle* store,
                           QueryServiceOptions options, AccessControl* access)
    : store_(store), options_(std::move(options)), access_(access) {
  if (!options_.clock) options_.clock = [] { return absl::Now(); };
}

Day QueryService::Today() const {
  return static_cast<Day>(DayNumber(LocalDay(options_.clock(), options_.zone)));
}

absl::StatusOr<std::shared_ptr<const projections::Projection>>
QueryService::ProjectionAt(ProjectionStore* store, bool has_known,
                           const v1::KnownAsOf& k) const {
  if (!has_known || k.at_case() == v1::KnownAsOf::AT_NOT_SET) {
    return store->Get();
  }
  const storage::Position head = store->Get()->applied();
  storage::Position position = 0;
  if (k.at_case() == v1::KnownAsOf::kPosition) {
    position = k.position();
    if (position > head) {
      return absl::OutOfRangeError(
          absl::StrCat("known_as_of.position: ", position,
                       " is past the head (", head, ")"));
    }
  } else {
    // The last event recorded at or before the instant: recorded_at never
    // goes backwards along the log.
    ASSIGN_OR_RETURN(
        position, store->PositionAt(FromProtoTimestamp(k.recorded_at()), head));
  }
  if (position == head) return store->Get();
  return store->AsOf(position);
}

void QueryService::Redact(const Principal& who, Day on, v1::Unit* unit) const {
  if (access_ == nullptr || who.all_units) return;
  auto* chain = unit->mutable_parent_chain();
  int keep = 0;
  while (keep < chain->size() &&
         access_->InScope(who, chain->Get(keep).unit_id(), on)) {
    ++keep;
  }
  chain->DeleteSubrange(keep, chain->size() - keep);
}

absl::Status QueryService::DoGetUnit(const Principal& who,
                                     const v1::GetUnitRequest& request,
                                     v1::Unit* response) {
  ASSIGN_OR_RETURN(ProjectionStore * store, store_->Get());
  if (request.unit_id().empty()) return Invalid("unit_id", "required");
  ASSIGN_OR_RETURN(
      Day on, DateOr(request.has_as_of(), request.as_of(), "as_of", Today()));
  ASSIGN_OR_RETURN(auto p, ProjectionAt(store, request.has_known_as_of(),
                                        request.known_as_of()));
  if (access_ != nullptr) {
    RETURN_IF_ERROR(access_->CheckUnits(who, {request.unit_id()}, on));
  }
  ASSIGN_OR_RETURN(projections::UnitInfo info,
                   p->GetUnit(request.unit_id(), on));
  FillUnit(info, response);
  Redact(who, on, response);
  return store->AwaitDurable(p->applied(), kDurableWait);
}

absl::Status QueryService::DoListChildren(
    const Principal& who, const v1::ListChildrenRequest& request,
    v1::ListChildrenResponse* response) {
  ASSIGN_OR_RETURN(ProjectionStore * store, store_->Get());
  if (request.unit_id().empty()) return Invalid("unit_id", "required");
  ASSIGN_OR_RETURN(
      Day on, DateOr(request.has_as_of(), request.as_of(), "as_of", Today()));
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size(), "page_size"));
  ASSIGN_OR_RETURN(auto p, ProjectionAt(store, request.has_known_as_of(),
                                        request.known_as_of()));
  if (access_ != nullptr) {
    RETURN_IF_ERROR(access_->CheckUnits(who, {request.unit_id()}, on));
  }
  ASSIGN_OR_RETURN(std::vector<projections::UnitInfo> children,
                   p->Children(request.unit_id(), on));
  ASSIGN_OR_RETURN(size_t start,
                   PageStart(request.page_token(), children.size()));
  const size_t end = std::min(children.size(), start + size);
  for (size_t i = start; i < end; ++i) {
    FillUnit(children[i], response->add_children());
    Redact(who, on, response->mutable_children()->rbegin().operator->());
  }
  if (end < children.size()) response->set_next_page_token(absl::StrCat(end));
  return store->AwaitDurable(p->applied(), kDurableWait);
}

absl::Status QueryService::DoFindUnits(const Principal& who,
                                       const v1::FindUnitsRequest& request,
                                       v1::FindUnitsResponse* response) {
  ASSIGN_OR_RETURN(ProjectionStore * store, store_->Get());
  if (request.query().empty()) return Invalid("query", "required");
  if (request.limit() < 0) return Invalid("limit", "must not be negative");
  ASSIGN_OR_RETURN(
      Day on, DateOr(request.has_as_of(), request.as_of(), "as_of", Today()));
  const size_t limit =
      request.limit() == 0 ? 20 : std::min(request.limit(), kMaxPage);
  ASSIGN_OR_RETURN(auto p, ProjectionAt(store, request.has_known_as_of(),
                                        request.known_as_of()));
  // A scoped principal finds only units of its scope: ask for more and
  // keep those.
  const size_t asked =
      who.all_units ? limit : std::min<size_t>(limit * 20, 20000);
  for (const projections::UnitInfo& info :
       p->FindUnits(request.query(), on, request.include_inactive(), asked)) {
    if (static_cast<size_t>(response->units_size()) >= limit) break;
    if (access_ != nullptr && !who.all_units &&
        !access_->InScope(who, info.unit_id,
                          info.dissolved <= on ? info.dissolved - 1 : on)) {
      continue;
    }
    FillUnit(info, response->add_units());
    Redact(who, on, response->mutable_units()->rbegin().operator->());
  }
  return store->AwaitDurable(p->applied(), kDurableWait);
}

// The rollup `request` asks for, on projection `p`.
absl::Status RollupOn(const projections::Projection& p,
                      const v1::RollupRequest& request,
                      v1::RollupResponse* response) {
  ASSIGN_OR_RETURN(projections::RollupQuery q, ToQuery(request));
  ASSIGN_OR_RETURN(projections::Rollup r, p.GetRollup(q));
  const Day info_day = q.attribution == projections::Attribution::kAsRecorded
                           ? q.to
                           : q.structure_date;
  ASSIGN_OR_RETURN(projections::UnitInfo info, p.GetUnit(q.unit_id, info_day));
  FillUnit(info, response->mutable_unit());
  FillRollup(r, response->mutable_rollup());
  *response->mutable_from() = ToDate(q.from);
  *response->mutable_to() = ToDate(q.to);
  response->set_attribution(q.attribution ==
                                    projections::Attribution::kAsRecorded
                                ? v1::ATTRIBUTION_AS_RECORDED
                                : v1::ATTRIBUTION_AS_OF_STRUCTURE);
  if (q.attribution == projections::Attribution::kAsOfStructure) {
    *response->mutable_structure_date() = ToDate(q.structure_date);
  }
  response->set_position(p.applied());
  return absl::OkStatus();
}

absl::Status QueryService::DoGetRollup(const Principal& who,
                                       const v1::RollupRequest& request,
                                       v1::RollupResponse* response) {
  ASSIGN_OR_RETURN(ProjectionStore * store, store_->Get());
  if (access_ != nullptr && !who.all_units) {
    ASSIGN_OR_RETURN(projections::RollupQuery q, ToQuery(request));
    RETURN_IF_ERROR(access_->CheckUnits(who, {q.unit_id}, q.to));
  }
  ASSIGN_OR_RETURN(auto p, ProjectionAt(store, request.has_known_as_of(),
                                        request.known_as_of()));
  RETURN_IF_ERROR(RollupOn(*p, request, response));
  Redact(who,
         DayNumber(response->to().year(), response->to().month(),
                   response->to().day()),
         response->mutable_unit());
  return store->AwaitDurable(response->position(), kDurableWait);
}

absl::Status QueryService::DoChildren(const Principal& who,
                                      const v1::ChildrenRollupsRequest& request,
                                      v1::ChildrenRollupsResponse* response) {
  ASSIGN_OR_RETURN(ProjectionStore * store, store_->Get());
  ASSIGN_OR_RETURN(projections::RollupQuery q, ToQuery(request.rollup()));
  if (access_ != nullptr) {
    RETURN_IF_ERROR(access_->CheckUnits(who, {q.unit_id}, q.to));
  }
  ASSIGN_OR_RETURN(int size, PageSize(request.page_size(), "page_size"));
  const google::protobuf::FieldDescriptor* sort_field = nullptr;
  if (!request.sort_by().empty()) {
    sort_field = v1::Rollup::descriptor()->FindFieldByName(request.sort_by());
    if (sort_field == nullptr) {
      std::vector<std::string> names;
      for (int i = 0; i < v1::Rollup::descriptor()->field_count(); ++i) {
        names.push_back(v1::Rollup::descriptor()->field(i)->name());
      }
      return Invalid("sort_by", absl::StrCat("'", request.sort_by(),
                                             "' is not a measure; one of: ",
                                             absl::StrJoin(names, ", ")));
    }
  }
  ASSIGN_OR_RETURN(auto p,
                   ProjectionAt(store, request.rollup().has_known_as_of(),
                                request.rollup().known_as_of()));
  ASSIGN_OR_RETURN(auto children, p->GetChildrenRollups(q));
  const Day info_day = q.attribution == projections::Attribution::kAsRecorded
                           ? q.to
                           : q.structure_date;
  ASSIGN_OR_RETURN(projections::UnitInfo info, p->GetUnit(q.unit_id, info_day));
  std::vector<v1::ChildRollup> rows(children.size());
  for (size_t i = 0; i < children.size(); ++i) {
    FillUnit(children[i].first, rows[i].mutable_unit());
    FillRollup(children[i].second, rows[i].mutable_rollup());
  }
  if (sort_field != nullptr) {
    auto value = [sort_field](const v1::ChildRollup& row) -> double {
      const google::protobuf::Reflection* refl = row.rollup().GetReflection();
      return sort_field->cpp_type() ==
                     google::protobuf::FieldDescriptor::CPPTYPE_DOUBLE
                 ? refl->GetDouble(row.rollup(), sort_field)
                 : static_cast<double>(
                       refl->GetInt64(row.rollup(), sort_field));
    };
    std::stable_sort(rows.begin(), rows.end(),
                     [&](const v1::ChildRollup& a, const v1::ChildRollup& b) {
                       return request.descending() ? value(a) > value(b)
                                                   : value(a) < value(b);
                     });
  }
  ASSIGN_OR_RETURN(size_t start, PageStart(request.page_token(), rows.size()));
  const size_t end = std::min(rows.size(), start + size);
  for (size_t i = start; i < end; ++i) {
    *response->add_children() = std::move(rows[i]);
  }
  if (end < rows.size()) response->set_next_page_token(absl::StrCat(end));
  FillUnit(info, response->mutable_unit());
  Redact(who, info_day, response->mutable_unit());
  for (v1::ChildRollup& row : *response->mutable_children()) {
    Redact(who, info_day, row.mutable_unit());
  }
  *response->mutable_from() = ToDate(q.from);
  *response->mutable_to() = ToDate(q.to);
  const uint64_t position = p->applied();
  response->set_position(position);
  return store->AwaitDurable(position, kDurableWait);
}

grpc::ServerUnaryReactor* QueryService::GetUnit(
    grpc::CallbackServerContext* context, const v1::GetUnitRequest* request,
    v1::Unit* response) {
  return Run(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    return DoGetUnit(who, *request, response);
  });
}
grpc::ServerUnaryReactor* QueryService::ListChildren(
    grpc::CallbackServerContext* context,
    const v1::ListChildrenRequest* request,
    v1::ListChildrenResponse* response) {
  return Run(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    return DoListChildren(who, *request, response);
  });
}
grpc::ServerUnaryReactor* QueryService::FindUnits(
    grpc::CallbackServerContext* context, const v1::FindUnitsRequest* request,
    v1::FindUnitsResponse* response) {
  return Run(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    return DoFindUnits(who, *request, response);
  });
}
grpc::ServerUnaryReactor* QueryService::GetRollup(
    grpc::CallbackServerContext* context, const v1::RollupRequest* request,
    v1::RollupResponse* response) {
  return Run(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    return DoGetRollup(who, *request, response);
  });
}
grpc::ServerUnaryReactor* QueryService::GetChildrenRollups(
    grpc::CallbackServerContext* context,
    const v1::ChildrenRollupsRequest* request,
    v1::ChildrenRollupsResponse* response) {
  return Run(context, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(const Principal who, Gate(access_, *context, Need::kRead));
    return DoChildren(who, *request, response);
  });
}

grpc::ServerUnaryReactor* ProjectionsService::Rebuild(
    grpc::CallbackServerContext* context, const v1::RebuildRequest* request,
    v1::RebuildResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAdmin);
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  absl::StatusOr<ProjectionStore*> store = store_->Get();
  if (!store.ok()) {
    reactor->Finish(ToGrpcStatus(store.status()));
    return reactor;
  }
  std::thread([reactor, response, s = *store] {
    absl::StatusOr<RebuildResult> r = s->Rebuild();
    if (r.ok()) {
      response->set_position(r->position);
      response->set_events(r->events);
      const double seconds = absl::ToDoubleSeconds(r->replay);
      response->set_seconds(seconds);
      response->set_total_seconds(absl::ToDoubleSeconds(r->elapsed));
      response->set_events_per_second(
          seconds > 0 ? static_cast<double>(r->events) / seconds : 0);
      response->set_live_checksum(r->live_checksum);
      response->set_rebuilt_checksum(r->rebuilt_checksum);
      response->set_equal(r->live_checksum == r->rebuilt_checksum);
      response->set_replaced(r->replaced);
      response->set_skipped_events(r->skipped);
    }
    reactor->Finish(ToGrpcStatus(r.status()));
  }).detach();
  return reactor;
}

namespace {

// Replay: a thread replays and writes progress, one message at a time.
class ReplayReactor final
    : public grpc::ServerWriteReactor<v1::ReplayProgress> {
 public:
  ReplayReactor(ProjectionStore* store, const v1::ReplayRequest& request)
      : store_(store), request_(request) {
    std::thread([this] { Finish(ToGrpcStatus(Run())); }).detach();
  }
  void OnWriteDone(bool ok) override {
    absl::MutexLock lock(&mu_);
    writing_ = false;
    failed_ = !ok;
  }
  void OnDone() override { delete this; }

 private:
  bool Write(const v1::ReplayProgress& m) {
    absl::MutexLock lock(&mu_);
    if (failed_) return false;
    message_ = m;
    writing_ = true;
    StartWrite(&message_);
    auto done = [this]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return !writing_; };
    mu_.Await(absl::Condition(&done));
    return !failed_;
  }

  absl::Status Run() {
    const absl::Time start = absl::Now();
    const storage::Position head = store_->Get()->applied();
    storage::Position to = head;
    if (request_.to_case() == v1::ReplayRequest::kToPosition &&
        request_.to_position() != 0) {
      to = request_.to_position();
      if (to > head) {
        return absl::OutOfRangeError(absl::StrCat(
            "to_position: ", to, " is past the head (", head, ")"));
      }
    } else if (request_.to_case() == v1::ReplayRequest::kToRecordedAt) {
      ASSIGN_OR_RETURN(
          to, store_->PositionAt(FromProtoTimestamp(request_.to_recorded_at()),
                                 head));
    }
    uint64_t events = 0, skipped = 0;
    bool gone = false;
    ASSIGN_OR_RETURN(auto p, store_->ReplayTo(
                                 to,
                                 [&](storage::Position at) {
                                   v1::ReplayProgress m;
                                   m.set_position(at);
                                   m.set_target(to);
                                   if (!gone && !Write(m)) gone = true;
                                 },
                                 &events, &skipped));
    v1::ReplayProgress last;
    last.set_position(to);
    last.set_target(to);
    v1::ReplayResult* r = last.mutable_result();
    r->set_position(to);
    r->set_events(events);
    r->set_skipped_events(skipped);
    r->set_seconds(absl::ToDoubleSeconds(absl::Now() - start));
    r->set_checksum(p->Checksum());
    for (const v1::RollupRequest& q : request_.rollups()) {
      RETURN_IF_ERROR(RollupOn(*p, q, r->add_rollups()));
    }
    Write(last);
    return absl::OkStatus();
  }

  ProjectionStore* const store_;
  const v1::ReplayRequest request_;
  absl::Mutex mu_;
  v1::ReplayProgress message_;
  bool writing_ ABSL_GUARDED_BY(mu_) = false;
  bool failed_ ABSL_GUARDED_BY(mu_) = false;
};

class RefusedReplay final
    : public grpc::ServerWriteReactor<v1::ReplayProgress> {
 public:
  explicit RefusedReplay(const absl::Status& s) { Finish(ToGrpcStatus(s)); }
  void OnDone() override { delete this; }
};

}  // namespace

grpc::ServerWriteReactor<v1::ReplayProgress>* ProjectionsService::Replay(
    grpc::CallbackServerContext* context, const v1::ReplayRequest* request) {
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAudit);
      !who.ok()) {
    return new RefusedReplay(who.status());
  }
  absl::StatusOr<ProjectionStore*> store = store_->Get();
  if (!store.ok()) return new RefusedReplay(store.status());
  return new ReplayReactor(*store, *request);
}

}  // namespace nenep::services
