// The projection's writer: referential checks and the application of events.
//
// Every event is checked in full before anything of it changes; the changes
// of a request with several events are journaled so that a failure of a later
// event undoes the earlier ones.

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <type_traits>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/common/status_macros.h"
#include "storage/projections/projection_state.h"

namespace nenep::projections {

std::string DayText(Day d) {
  int y = 0, m = 0, dd = 0;
  CivilFromDay(d, &y, &m, &dd);
  char buf[16];
  std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", y, m, dd);
  return buf;
}

namespace {

Day DayOf(const v1::Date& d) { return DayNumber(d.year(), d.month(), d.day()); }

// The year a commitment registered on day `d` counts for: its period's,
// else the registration's.
int16_t CommitmentYear(const v1::CommitmentRegistered& e, Day d) {
  if (e.period().year() != 0) return static_cast<int16_t>(e.period().year());
  int y = 0, m = 0, dd = 0;
  CivilFromDay(d, &y, &m, &dd);
  return static_cast<int16_t>(y);
}

absl::string_view PayloadName(const v1::Event& e) {
  switch (e.payload_case()) {
    case v1::Event::kUnitCreated:
      return "UnitCreated";
    case v1::Event::kUnitRenamed:
      return "UnitRenamed";
    case v1::Event::kUnitMoved:
      return "UnitMoved";
    case v1::Event::kUnitsMerged:
      return "UnitsMerged";
    case v1::Event::kUnitDissolved:
      return "UnitDissolved";
    case v1::Event::kMemberJoined:
      return "MemberJoined";
    case v1::Event::kMemberTransferred:
      return "MemberTransferred";
    case v1::Event::kMemberLeft:
      return "MemberLeft";
    case v1::Event::kPlanIssued:
      return "PlanIssued";
    case v1::Event::kSessionHeld:
      return "SessionHeld";
    case v1::Event::kCommitmentRegistered:
      return "CommitmentRegistered";
    case v1::Event::kCommitmentEvaluated:
      return "CommitmentEvaluated";
    case v1::Event::kAwardGiven:
      return "AwardGiven";
    case v1::Event::kEventCorrected:
      return "EventCorrected";
    case v1::Event::kEventRetracted:
      return "EventRetracted";
    default:
      return "(none)";
  }
}

bool IsCellKind(v1::UnitKind k) {
  return k == v1::UNIT_KIND_BASE_CELL || k == v1::UNIT_KIND_ATTACHED_CELL;
}

}  // namespace

// Applies one request.
class Projection::State::Applier {
 public:
  explicit Applier(State* s) : s_(*s) {}

  absl::Status Run(absl::Span<const v1::Event* const> events,
                   uint64_t first_position) {
    journal_ = events.size() > 1;
    undo_.clear();  // keeps its capacity from request to request
    nested_.clear();
    fetched_.reset();
    for (size_t i = 0; i < events.size(); ++i) {
      index_ = i;
      s_.PrefetchAhead(events, i);
      if (events[i]->payload_case() == v1::Event::kEventCorrected ||
          events[i]->payload_case() == v1::Event::kEventRetracted) {
        journal_ = true;
      }
      absl::Status st = Apply(*events[i], first_position + i);
      if (!st.ok()) {
        for (auto it = undo_.rbegin(); it != undo_.rend(); ++it) Undo(*it);
        return st;
      }
    }
    s_.applied = first_position + events.size() - 1;
    return absl::OkStatus();
  }

 private:
  // ---- errors -----------------------------------------------------------
  absl::Status NotFound(absl::string_view field, absl::string_view what,
                        absl::string_view id) {
    return absl::NotFoundError(absl::StrCat(Path(), ".", field, ": ", what,
                                            " '", id, "' is not recorded"));
  }
  absl::Status Precondition(absl::string_view field, absl::string_view msg) {
    return absl::FailedPreconditionError(
        absl::StrCat(Path(), ".", field, ": ", msg));
  }

  absl::StatusOr<UnitIdx> UnitOf(absl::string_view field,
                                 const std::string& id) {
    if (const int32_t ahead = s_.Resolved(id); ahead >= 0) return ahead;
    auto it = s_.unit_index.find(id);
    if (it == s_.unit_index.end()) return NotFound(field, "unit", id);
    return it->second;
  }
  absl::StatusOr<UnitIdx> ActiveUnit(absl::string_view field,
                                     const std::string& id, Day d) {
    ASSIGN_OR_RETURN(UnitIdx u, UnitOf(field, id));
    const Unit& unit = s_.units[u];
    if (!unit.ActiveOn(d)) {
      return Precondition(
          field,
          absl::StrCat(
              "unit '", id, "' is not active on ", DayText(d),
              d < unit.created
                  ? absl::StrCat(" (created on ", DayText(unit.created), ")")
                  : absl::StrCat(" (dissolved on ", DayText(unit.dissolved),
                                 ")")));
    }
    return u;
  }
  absl::Status InDateOrder(absl::string_view field, UnitIdx u, Day d) {
    const Unit& unit = s_.units[u];
    if (d < unit.last_change) {
      return Precondition(
          field, absl::StrCat("unit '", unit.id,
                              "' already has a structural "
                              "change on ",
                              DayText(unit.last_change),
                              "; record changes of a unit in date order (this "
                              "one is dated ",
                              DayText(d), ")"));
    }
    return absl::OkStatus();
  }
  absl::StatusOr<int32_t> MemberOf(absl::string_view field,
                                   const std::string& id) {
    if (const int32_t ahead = s_.Resolved(id); ahead >= 0) return ahead;
    auto it = s_.member_index.find(id);
    if (it == s_.member_index.end()) return NotFound(field, "member", id);
    return it->second;
  }
  absl::Status MemberInDateOrder(absl::string_view field, int32_t m, Day d) {
    const Member& mem = s_.members[m];
    if (!mem.cells.empty() && d < mem.cells.back().first) {
      return Precondition(
          field, absl::StrCat("member '", mem.id, "' already has a change on ",
                              DayText(mem.cells.back().first),
                              "; record a member's changes in date order"));
    }
    return absl::OkStatus();
  }
  absl::Status MemberInCell(absl::string_view field, int32_t m, UnitIdx cell,
                            Day d) {
    const Member& mem = s_.members[m];
    const UnitIdx actual = mem.CellOn(d);
    if (actual != cell) {
      return Precondition(
          field, absl::StrCat("member '", mem.id, "' is not in cell '",
                              s_.units[cell].id, "' on ", DayText(d),
                              actual == kNoUnit
                                  ? " (in no cell that day)"
                                  : absl::StrCat(" (in '", s_.units[actual].id,
                                                 "' that day)")));
    }
    return absl::OkStatus();
  }

  // ---- journaled changes ------------------------------------------------
  // A journal entry: a Post to take back (the common case, stored without
  // an allocation) or any other change as a function.
  struct UndoEntry {
    int8_t family = -1;  // index into FamilyOf(); -1: call `fn`
    UnitIdx unit = kNoUnit;
    Day day = 0;
    std::array<int32_t, kAwardCounters> delta{};
    std::function<void()> fn;
  };
  static_assert(int{kAwardCounters} >= int{kSessionCounters} &&
                int{kAwardCounters} >= int{kComplianceCounters} &&
                int{kAwardCounters} >= int{kStateCounters} &&
                int{kAwardCounters} >= int{kPlanCounters} &&
                int{kAwardCounters} >= int{kCommitmentCounters});

  // The family of a series, for the journal (two pairs of families share
  // a counter count, so the member pointer decides).
  template <int K>
  static int8_t Family(Series<K> Facts::*f) {
    if constexpr (K == kSessionCounters) {
      return 0;
    } else if constexpr (K == kAwardCounters) {
      return 5;
    } else if constexpr (K == kComplianceCounters) {
      static_assert(int{kCommitmentCounters} == int{kComplianceCounters});
      return f == &Facts::compliance ? 1 : 4;
    } else {
      static_assert(int{kStateCounters} == int{kPlanCounters} &&
                    K == kStateCounters);
      return f == &Facts::state ? 2 : 3;
    }
  }
  template <int K>
  void UndoPost(Series<K> Facts::*f, const UndoEntry& e) {
    std::array<int32_t, K> neg;
    for (int i = 0; i < K; ++i) neg[i] = -e.delta[i];
    PostRaw(f, e.unit, e.day, neg);
  }
  void Undo(const UndoEntry& e) {
    switch (e.family) {
      case 0:
        return UndoPost(&Facts::sessions, e);
      case 1:
        return UndoPost(&Facts::compliance, e);
      case 2:
        return UndoPost(&Facts::state, e);
      case 3:
        return UndoPost(&Facts::plans, e);
      case 4:
        return UndoPost(&Facts::commitments, e);
      case 5:
        return UndoPost(&Facts::awards, e);
      default:
        return e.fn();
    }
  }

  void OnUndo(std::function<void()> f) {
    if (journal_) {
      undo_.emplace_back();
      undo_.back().fn = std::move(f);
    }
  }
  template <typename T>
  void Set(T* field, T value) {
    if (journal_) {
      OnUndo([field, old = *field] { *field = old; });
    }
    *field = std::move(value);
  }
  template <typename V, typename T>
  void Push(V* vec, T value) {
    vec->push_back(std::move(value));
    OnUndo([vec] { vec->pop_back(); });
  }

  // The unit and its ancestors on day d.
  absl::InlinedVector<UnitIdx, 8> Chain(UnitIdx u, Day d) const {
    absl::InlinedVector<UnitIdx, 8> chain;
    while (u != kNoUnit && chain.size() < 64) {
      chain.push_back(u);
      u = s_.units[u].ParentOn(d);
    }
    return chain;
  }

  template <int K>
  void PostRaw(Series<K> Facts::*f, UnitIdx u, Day day,
               const std::type_identity_t<std::array<int32_t, K>>& delta) {
    (s_.units[u].own.*f).Add(day, delta);
    for (UnitIdx a : Chain(u, day)) {
      if (!s_.units[a].children_ever.empty())
        (s_.units[a].agg.*f).Add(day, delta);
    }
  }
  template <int K>
  void Post(Series<K> Facts::*f, UnitIdx u, Day day,
            const std::type_identity_t<std::array<int32_t, K>>& delta) {
    PostRaw(f, u, day, delta);
    if (journal_) {
      UndoEntry& e = undo_.emplace_back();
      e.family = Family(f);
      e.unit = u;
      e.day = day;
      for (int i = 0; i < K; ++i) e.delta[i] = delta[i];
    }
  }
  template <int K>
  static std::array<int32_t, K> One(int index, int32_t value) {
    std::array<int32_t, K> a{};
    a[index] = value;
    return a;
  }

  static void AwardedAdd(std::vector<std::pair<Day, UnitIdx>>* list, Day day,
                         UnitIdx cell, int sign) {
    const std::pair<Day, UnitIdx> key{day, cell};
    auto it = std::lower_bound(list->begin(), list->end(), key);
    if (sign > 0) {
      list->insert(it, key);
    } else if (it != list->end() && *it == key) {
      list->erase(it);
    }
  }
  void PostAwardedRaw(UnitIdx cell, Day day, int sign) {
    AwardedAdd(&s_.units[cell].own.awarded, day, cell, sign);
    for (UnitIdx a : Chain(cell, day)) {
      if (!s_.units[a].children_ever.empty()) {
        AwardedAdd(&s_.units[a].agg.awarded, day, cell, sign);
      }
    }
  }
  void PostAwarded(UnitIdx cell, Day day, int sign) {
    PostAwardedRaw(cell, day, sign);
    OnUndo([this, cell, day, sign] { PostAwardedRaw(cell, day, -sign); });
  }

  // Moves what x's subtree recorded from day d on from the chain of `from`
  // to that of `to` (both may be kNoUnit), with x's standing state on d.
  template <int K>
  void TransferSeries(const Series<K>& series, Series<K> Facts::*f, Day d,
                      UnitIdx from, UnitIdx to) {
    for (const Row<K>& r : series.rows()) {
      if (r.day < d) continue;
      std::array<int32_t, K> neg;
      for (int i = 0; i < K; ++i) neg[i] = -r.v[i];
      for (UnitIdx a : Chain(from, r.day)) (s_.units[a].agg.*f).Add(r.day, neg);
      for (UnitIdx a : Chain(to, r.day)) (s_.units[a].agg.*f).Add(r.day, r.v);
    }
  }
  void TransferRaw(UnitIdx x, Day d, UnitIdx from, UnitIdx to) {
    // Copies: the rows of x's own agg do not change, but an ancestor's may
    // be the same vector only if x were its own ancestor (a cycle).
    const Facts& agg = s_.units[x].Agg();
    std::array<int32_t, kStateCounters> standing{};
    for (const auto& r : agg.state.rows()) {
      if (r.day >= d) break;
      for (int i = 0; i < kStateCounters; ++i) standing[i] += r.v[i];
    }
    std::array<int32_t, kStateCounters> neg;
    for (int i = 0; i < kStateCounters; ++i) neg[i] = -standing[i];
    for (UnitIdx a : Chain(from, d)) s_.units[a].agg.state.Add(d, neg);
    for (UnitIdx a : Chain(to, d)) s_.units[a].agg.state.Add(d, standing);
    TransferSeries(agg.sessions, &Facts::sessions, d, from, to);
    TransferSeries(agg.compliance, &Facts::compliance, d, from, to);
    TransferSeries(agg.state, &Facts::state, d, from, to);
    TransferSeries(agg.plans, &Facts::plans, d, from, to);
    TransferSeries(agg.commitments, &Facts::commitments, d, from, to);
    TransferSeries(agg.awards, &Facts::awards, d, from, to);
    for (const auto& [day, cell] : agg.awarded) {
      if (day < d) continue;
      for (UnitIdx a : Chain(from, day)) {
        AwardedAdd(&s_.units[a].agg.awarded, day, cell, -1);
      }
      for (UnitIdx a : Chain(to, day)) {
        AwardedAdd(&s_.units[a].agg.awarded, day, cell, +1);
      }
    }
  }

  // Re-parents x under `to` on d (checked by the caller).
  // Before `parent` gets its first child, its subtree is just itself.
  void BecomeParent(UnitIdx parent) {
    Unit& p = s_.units[parent];
    if (p.children_ever.empty()) Set(&p.agg, p.own);
  }

  void MoveUnit(UnitIdx x, Day d, UnitIdx to) {
    Unit& unit = s_.units[x];
    const UnitIdx from = unit.ParentOn(d);
    BecomeParent(to);
    TransferRaw(x, d, from, to);
    unit.parents.emplace_back(d, to);
    unit.SyncParent();
    const Day old_change = unit.last_change;
    unit.last_change = d;
    std::vector<UnitIdx>& kids = s_.units[to].children_ever;
    const bool added = std::find(kids.begin(), kids.end(), x) == kids.end();
    if (added) kids.push_back(x);
    InsertMoveDay(d);
    OnUndo([this, x, d, from, to, old_change, added] {
      Unit& u = s_.units[x];
      u.parents.pop_back();
      u.SyncParent();
      u.last_change = old_change;
      if (added) s_.units[to].children_ever.pop_back();
      TransferRaw(x, d, to, from);
    });
  }
  void InsertMoveDay(Day d) {
    auto it = std::lower_bound(move_days().begin(), move_days().end(), d);
    if (it != move_days().end() && *it == d) return;
    move_days().insert(it, d);
    OnUndo([this, d] {
      auto i = std::lower_bound(move_days().begin(), move_days().end(), d);
      if (i != move_days().end() && *i == d) move_days().erase(i);
    });
  }
  std::vector<Day>& move_days() { return s_.move_days; }

  // Would putting x under `to` on d (or on any later day of a recorded move)
  // make x its own ancestor?
  bool MakesCycle(UnitIdx x, UnitIdx to, Day d) {
    auto check = [&](Day day) {
      for (UnitIdx a : Chain(to, day)) {
        if (a == x) return true;
      }
      return false;
    };
    if (check(d)) return true;
    for (auto it = std::upper_bound(move_days().begin(), move_days().end(), d);
         it != move_days().end(); ++it) {
      if (check(*it)) return true;
    }
    return false;
  }

  // The last day with a recorded fact of the unit (its own series).
  // The last day of a session, plan, commitment or award of the unit.
  static Day LastFactDay(const Unit& u) {
    return std::max({u.own.sessions.last_day(), u.own.plans.last_day(),
                     u.own.commitments.last_day(), u.own.awards.last_day()});
  }

  int64_t MembersOn(UnitIdx u, Day d) const {
    const Unit& unit = s_.units[u];
    if (unit.is_cell && d >= unit.members_changed) return unit.members_now;
    const Series<kStateCounters>& st =
        unit.is_cell ? unit.own.state : unit.Agg().state;
    int64_t n = 0;
    for (const auto& r : st.rows()) {
      if (r.day > d) break;
      n += r.v[kMembers];
    }
    return n;
  }

  // Checks that dissolving (or merging away) u on d leaves nothing behind.
  absl::Status CheckCanEnd(absl::string_view field, UnitIdx u, Day d) {
    const Unit& unit = s_.units[u];
    for (UnitIdx c : unit.children_ever) {
      const Unit& child = s_.units[c];
      if (child.dissolved > d && child.parents.back().second == u) {
        return Precondition(
            field, absl::StrCat("unit '", unit.id, "' still has child '",
                                child.id, "' on ", DayText(d),
                                "; move or dissolve its children first"));
      }
    }
    if (unit.is_cell) {
      const int64_t n = MembersOn(u, d);
      if (n != 0) {
        return Precondition(
            field, absl::StrCat("cell '", unit.id, "' still has ", n,
                                " member(s) on ", DayText(d),
                                "; transfer them first (or map them in a "
                                "merge)"));
      }
    }
    const Day last = LastFactDay(unit);
    if (last >= d) {
      return Precondition(
          field, absl::StrCat("unit '", unit.id, "' has facts recorded on ",
                              DayText(last), ", on or after ", DayText(d),
                              "; it cannot end before them"));
    }
    if (unit.own.state.last_day() > d) {
      return Precondition(
          field, absl::StrCat("unit '", unit.id, "' has member changes on ",
                              DayText(unit.own.state.last_day()), ", after ",
                              DayText(d)));
    }
    return absl::OkStatus();
  }

  // Records that `succ` succeeds `pred`, once per event that says so (a
  // creation naming a predecessor, a dissolution naming a successor, a
  // merger): retracting one of them takes back its link only. Queries list
  // each link once.
  void Link(UnitIdx pred, UnitIdx succ) {
    Push(&s_.units[pred].successors, succ);
    Push(&s_.units[succ].predecessors, pred);
  }

  // Ends u on d (checked by the caller).
  void EndUnit(UnitIdx u, Day d, const std::vector<UnitIdx>& successors) {
    Unit& unit = s_.units[u];
    PostEnd(u, d, +1);
    Set(&unit.dissolved, d);
    Set(&unit.last_change, d);
    for (UnitIdx succ : successors) Link(u, succ);
  }

  // What ending u on d changes in its series (sign +1), or takes back (-1).
  void PostEnd(UnitIdx u, Day d, int sign) {
    const Unit& unit = s_.units[u];
    Post(&Facts::state, u, d,
         std::array<int32_t, kStateCounters>{-sign, unit.is_cell ? -sign : 0,
                                             0});
    if (unit.is_cell) {
      const int32_t month = MonthOf(d);
      const int32_t quarter = QuarterOf(d);
      // The month (quarter) of d is no longer a whole active one.
      for (const auto& [m, n] : unit.regular_months) {
        if (n > 0 && MonthLastDay(m) >= d && MonthFirstDay(m) >= unit.created) {
          Post(&Facts::compliance, u, MonthLastDay(m),
               One<kComplianceCounters>(kRegHeld, -sign));
        }
      }
      for (const auto& [q, n] : unit.thematic_quarters) {
        if (n > 0 && QuarterLastDay(q) >= d &&
            QuarterFirstDay(q) >= unit.created) {
          Post(&Facts::compliance, u, QuarterLastDay(q),
               One<kComplianceCounters>(kThemHeld, -sign));
        }
      }
      // A cell created and ended within one month (quarter) no longer
      // counts as young in it: it is not in the month-end count either.
      if (unit.created != MonthFirstDay(MonthOf(unit.created)) &&
          MonthOf(unit.created) == month) {
        Post(&Facts::compliance, u, MonthLastDay(month),
             One<kComplianceCounters>(kRegYoung, -sign));
      }
      if (unit.created != QuarterFirstDay(QuarterOf(unit.created)) &&
          QuarterOf(unit.created) == quarter) {
        Post(&Facts::compliance, u, QuarterLastDay(quarter),
             One<kComplianceCounters>(kThemYoung, -sign));
      }
    }
  }

  // ---- events -------------------------------------------------------------
  absl::Status Apply(const v1::Event& e, uint64_t position) {
    const Day d = DayOf(e.business_date());
    switch (e.payload_case()) {
      case v1::Event::kUnitCreated:
        return UnitCreated(e.unit_created(), d);
      case v1::Event::kUnitRenamed:
        return UnitRenamed(e.unit_renamed(), d);
      case v1::Event::kUnitMoved:
        return UnitMoved(e.unit_moved(), d);
      case v1::Event::kUnitsMerged:
        return UnitsMerged(e.units_merged(), d, position);
      case v1::Event::kUnitDissolved:
        return UnitDissolved(e.unit_dissolved(), d);
      case v1::Event::kMemberJoined:
        return MemberJoined(e.member_joined(), d);
      case v1::Event::kMemberTransferred:
        return MemberTransferred(e.member_transferred(), d);
      case v1::Event::kMemberLeft:
        return MemberLeft(e.member_left(), d);
      case v1::Event::kPlanIssued:
        return PlanIssued(e.plan_issued(), d);
      case v1::Event::kSessionHeld:
        return Session(e.session_held(), d, +1, "session_held");
      case v1::Event::kCommitmentRegistered:
        return Registered(e.commitment_registered(), d, +1,
                          "commitment_registered");
      case v1::Event::kCommitmentEvaluated:
        return Evaluated(e.commitment_evaluated(), d, +1,
                         "commitment_evaluated");
      case v1::Event::kAwardGiven:
        return Award(e.award_given(), d, +1, "award_given");
      case v1::Event::kEventRetracted:
        return Retracted(e.event_retracted(), position);
      case v1::Event::kEventCorrected:
        return Corrected(e.event_corrected(), position);
      default:
        return absl::OkStatus();  // schema validation refuses these earlier
    }
  }

  absl::Status UnitCreated(const v1::UnitCreated& e, Day d) {
    constexpr absl::string_view f = "unit_created";
    if (auto it = s_.unit_index.find(e.unit_id()); it != s_.unit_index.end()) {
      return absl::AlreadyExistsError(
          absl::StrCat(Path(), ".", f, ".unit_id: unit '", e.unit_id(),
                       "' already exists (created on ",
                       DayText(s_.units[it->second].created), ")"));
    }
    UnitIdx parent = kNoUnit;
    if (!e.parent_id().empty()) {
      ASSIGN_OR_RETURN(parent,
                       ActiveUnit("unit_created.parent_id", e.parent_id(), d));
    }
    std::vector<UnitIdx> preds;
    for (int i = 0; i < e.predecessor_unit_ids_size(); ++i) {
      ASSIGN_OR_RETURN(UnitIdx p,
                       UnitOf(absl::StrCat(f, ".predecessor_unit_ids[", i, "]"),
                              e.predecessor_unit_ids(i)));
      preds.push_back(p);
    }
    const UnitIdx u = static_cast<UnitIdx>(s_.units.size());
    Unit unit;
    unit.id = e.unit_id();
    unit.kind = e.kind();
    unit.setting = e.setting();
    unit.is_cell = IsCellKind(e.kind());
    unit.created = d;
    unit.last_change = d;
    unit.parents.emplace_back(d, parent);
    unit.SyncParent();
    unit.names.emplace_back(d, e.name());
    unit.short_name = e.short_name();
    unit.folded = s_.fold_ ? s_.fold_(e.name()) : e.name();
    s_.units.push_back(std::move(unit));
    s_.unit_index.emplace(e.unit_id(), u);
    OnUndo([this, id = e.unit_id()] {
      s_.unit_index.erase(id);
      s_.units.pop_back();
    });
    if (parent != kNoUnit) {
      BecomeParent(parent);
      Push(&s_.units[parent].children_ever, u);
    }
    for (UnitIdx p : preds) Link(p, u);
    PostCreation(u, d, +1);
    return absl::OkStatus();
  }

  // What creating u on d adds to its series (sign +1), or takes back (-1).
  void PostCreation(UnitIdx u, Day d, int sign) {
    const bool cell = s_.units[u].is_cell;
    Post(&Facts::state, u, d,
         std::array<int32_t, kStateCounters>{sign, cell ? sign : 0, 0});
    if (cell) {
      if (d != MonthFirstDay(MonthOf(d))) {
        Post(&Facts::compliance, u, MonthLastDay(MonthOf(d)),
             One<kComplianceCounters>(kRegYoung, sign));
      }
      if (d != QuarterFirstDay(QuarterOf(d))) {
        Post(&Facts::compliance, u, QuarterLastDay(QuarterOf(d)),
             One<kComplianceCounters>(kThemYoung, sign));
      }
    }
  }

  absl::Status UnitRenamed(const v1::UnitRenamed& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx u,
                     ActiveUnit("unit_renamed.unit_id", e.unit_id(), d));
    RETURN_IF_ERROR(InDateOrder("unit_renamed.unit_id", u, d));
    Unit& unit = s_.units[u];
    Push(&unit.names, std::make_pair(d, e.new_name()));
    Push(&unit.prior_short_names, unit.short_name);
    if (!e.new_short_name().empty()) Set(&unit.short_name, e.new_short_name());
    Set(&unit.folded, s_.fold_ ? s_.fold_(e.new_name()) : e.new_name());
    Set(&unit.last_change, d);
    return absl::OkStatus();
  }

  absl::Status CheckMove(absl::string_view field, UnitIdx x, UnitIdx to,
                         Day d) {
    if (s_.units[x].ParentOn(d) == to) {
      return Precondition(
          field, absl::StrCat("unit '", s_.units[x].id, "' is already under '",
                              s_.units[to].id, "' on ", DayText(d)));
    }
    if (MakesCycle(x, to, d)) {
      return Precondition(
          field,
          absl::StrCat("moving '", s_.units[x].id, "' under '", s_.units[to].id,
                       "' on ", DayText(d), " would make a cycle: '",
                       s_.units[to].id, "' is inside the subtree of '",
                       s_.units[x].id, "'"));
    }
    return absl::OkStatus();
  }

  absl::Status UnitMoved(const v1::UnitMoved& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx x,
                     ActiveUnit("unit_moved.unit_id", e.unit_id(), d));
    ASSIGN_OR_RETURN(
        UnitIdx to, ActiveUnit("unit_moved.to_parent_id", e.to_parent_id(), d));
    RETURN_IF_ERROR(InDateOrder("unit_moved.unit_id", x, d));
    const UnitIdx from = s_.units[x].ParentOn(d);
    const std::string& actual = from == kNoUnit ? "" : s_.units[from].id;
    if (actual != e.from_parent_id()) {
      return Precondition(
          "unit_moved.from_parent_id",
          absl::StrCat("unit '", e.unit_id(), "' is under '", actual, "' on ",
                       DayText(d), ", not '", e.from_parent_id(), "'"));
    }
    RETURN_IF_ERROR(CheckMove("unit_moved.to_parent_id", x, to, d));
    MoveUnit(x, d, to);
    return absl::OkStatus();
  }

  absl::Status UnitDissolved(const v1::UnitDissolved& e, Day d) {
    constexpr absl::string_view f = "unit_dissolved";
    ASSIGN_OR_RETURN(UnitIdx u,
                     ActiveUnit("unit_dissolved.unit_id", e.unit_id(), d));
    RETURN_IF_ERROR(InDateOrder("unit_dissolved.unit_id", u, d));
    std::vector<UnitIdx> successors;
    for (int i = 0; i < e.successor_unit_ids_size(); ++i) {
      const std::string sf = absl::StrCat(f, ".successor_unit_ids[", i, "]");
      ASSIGN_OR_RETURN(UnitIdx s, ActiveUnit(sf, e.successor_unit_ids(i), d));
      if (s == u) return Precondition(sf, "a unit cannot succeed itself");
      successors.push_back(s);
    }
    RETURN_IF_ERROR(CheckCanEnd("unit_dissolved.unit_id", u, d));
    EndUnit(u, d, successors);
    return absl::OkStatus();
  }

  absl::Status UnitsMerged(const v1::UnitsMerged& e, Day d, uint64_t position) {
    constexpr absl::string_view f = "units_merged";
    ASSIGN_OR_RETURN(UnitIdx target, ActiveUnit("units_merged.target_unit_id",
                                                e.target_unit_id(), d));
    std::vector<UnitIdx> sources;
    for (int i = 0; i < e.source_unit_ids_size(); ++i) {
      const std::string sf = absl::StrCat(f, ".source_unit_ids[", i, "]");
      ASSIGN_OR_RETURN(UnitIdx s, UnitOf(sf, e.source_unit_ids(i)));
      if (!s_.units[s].ActiveOn(d)) {
        return Precondition(
            sf, absl::StrCat("cannot merge unit '", s_.units[s].id,
                             "': it is not active on ", DayText(d)));
      }
      if (s == target) {
        return Precondition(sf, "the target cannot also be a source");
      }
      if (std::find(sources.begin(), sources.end(), s) != sources.end()) {
        return Precondition(
            sf, absl::StrCat("unit '", s_.units[s].id, "' is listed twice"));
      }
      RETURN_IF_ERROR(InDateOrder(sf, s, d));
      sources.push_back(s);
    }
    auto is_source = [&](UnitIdx u) {
      return std::find(sources.begin(), sources.end(), u) != sources.end();
    };
    for (UnitIdx s : sources) {
      for (UnitIdx a : Chain(target, d)) {
        if (a == s) {
          return Precondition(
              "units_merged.target_unit_id",
              absl::StrCat("target '", e.target_unit_id(),
                           "' lies inside source '", s_.units[s].id, "'"));
        }
      }
    }
    // Children: mapped, or to the target.
    std::vector<std::pair<UnitIdx, UnitIdx>> moves;
    absl::flat_hash_map<UnitIdx, UnitIdx> mapped;
    for (int i = 0; i < e.child_mappings_size(); ++i) {
      const std::string cf = absl::StrCat(f, ".child_mappings[", i, "]");
      ASSIGN_OR_RETURN(UnitIdx c, UnitOf(cf + ".child_unit_id",
                                         e.child_mappings(i).child_unit_id()));
      ASSIGN_OR_RETURN(UnitIdx to,
                       ActiveUnit(cf + ".to_parent_id",
                                  e.child_mappings(i).to_parent_id(), d));
      if (!is_source(s_.units[c].ParentOn(d)) || !s_.units[c].ActiveOn(d)) {
        return Precondition(cf + ".child_unit_id",
                            absl::StrCat("unit '", s_.units[c].id,
                                         "' is not an active child of a "
                                         "source on ",
                                         DayText(d)));
      }
      if (is_source(to)) {
        return Precondition(cf + ".to_parent_id",
                            "a child cannot be mapped to a source that ends");
      }
      mapped[c] = to;
    }
    for (UnitIdx s : sources) {
      for (UnitIdx c : s_.units[s].children_ever) {
        const Unit& child = s_.units[c];
        if (!child.ActiveOn(d) || child.ParentOn(d) != s) continue;
        auto it = mapped.find(c);
        const UnitIdx to = it == mapped.end() ? target : it->second;
        RETURN_IF_ERROR(InDateOrder("units_merged.child_mappings", c, d));
        RETURN_IF_ERROR(CheckMove("units_merged.child_mappings", c, to, d));
        moves.emplace_back(c, to);
      }
    }
    // Members of source cells: mapped, or to the target if it is a cell.
    absl::flat_hash_map<int32_t, UnitIdx> member_map;
    for (int i = 0; i < e.member_mappings_size(); ++i) {
      const std::string mf = absl::StrCat(f, ".member_mappings[", i, "]");
      ASSIGN_OR_RETURN(int32_t m, MemberOf(mf + ".member_id",
                                           e.member_mappings(i).member_id()));
      ASSIGN_OR_RETURN(
          UnitIdx to,
          ActiveUnit(mf + ".to_cell_id", e.member_mappings(i).to_cell_id(), d));
      if (!s_.units[to].is_cell || is_source(to)) {
        return Precondition(mf + ".to_cell_id",
                            absl::StrCat("unit '", s_.units[to].id,
                                         "' is not a cell that stays"));
      }
      if (!is_source(s_.members[m].CellOn(d))) {
        return Precondition(
            mf + ".member_id",
            absl::StrCat("member '", s_.members[m].id,
                         "' is not in a source cell on ", DayText(d)));
      }
      member_map[m] = to;
    }
    std::vector<std::pair<int32_t, UnitIdx>> transfers;
    bool any_cell_source = false;
    for (UnitIdx s : sources) any_cell_source |= s_.units[s].is_cell;
    if (any_cell_source) {
      for (int32_t m = 0; m < static_cast<int32_t>(s_.members.size()); ++m) {
        const UnitIdx cell = s_.members[m].CellOn(d);
        if (cell == kNoUnit || !is_source(cell)) continue;
        auto it = member_map.find(m);
        UnitIdx to = target;
        if (it != member_map.end()) {
          to = it->second;
        } else if (!s_.units[target].is_cell) {
          return Precondition(
              "units_merged.member_mappings",
              absl::StrCat("member '", s_.members[m].id, "' of cell '",
                           s_.units[cell].id,
                           "' has no mapping and the target is not a cell"));
        }
        RETURN_IF_ERROR(
            MemberInDateOrder("units_merged.member_mappings", m, d));
        transfers.emplace_back(m, to);
      }
    }
    // Sources must hold no facts after d (members and children leave now).
    for (UnitIdx s : sources) {
      const Unit& unit = s_.units[s];
      const Day last =
          std::max({unit.own.sessions.last_day(), unit.own.plans.last_day(),
                    unit.own.commitments.last_day(), unit.own.awards.last_day(),
                    unit.own.state.last_day()});
      if (last > d) {
        return Precondition(
            "units_merged.source_unit_ids",
            absl::StrCat("unit '", unit.id, "' has facts recorded on ",
                         DayText(last), ", after the merge on ", DayText(d)));
      }
    }
    for (const auto& [c, to] : moves) MoveUnit(c, d, to);
    for (const auto& [m, to] : transfers) TransferMember(m, d, to);
    for (UnitIdx s : sources) EndUnit(s, d, {target});
    // What it moved, for a retraction: a move or transfer of the same day
    // and destination looks the same in the state.
    State::MergeRecord& record = s_.merges[position];
    for (const auto& [c, to] : moves) record.children.push_back(c);
    for (const auto& [m, to] : transfers) record.members.push_back(m);
    OnUndo([this, position] { s_.merges.erase(position); });
    return absl::OkStatus();
  }

  void CountMember(UnitIdx cell, Day d, int delta) {
    Unit& unit = s_.units[cell];
    Set(&unit.members_now, unit.members_now + delta);
    if (d > unit.members_changed) Set(&unit.members_changed, d);
  }

  void TransferMember(int32_t m, Day d, UnitIdx to) {
    Member& mem = s_.members[m];
    const UnitIdx from = mem.CellOn(d);
    if (from != kNoUnit) {
      Post(&Facts::state, from, d, One<kStateCounters>(kMembers, -1));
      CountMember(from, d, -1);
    }
    if (to != kNoUnit) {
      Post(&Facts::state, to, d, One<kStateCounters>(kMembers, 1));
      CountMember(to, d, 1);
      Set(&s_.units[to].member_entries, s_.units[to].member_entries + 1);
    }
    Push(&s_.members[m].cells, std::make_pair(d, to));
  }

  absl::Status MemberJoined(const v1::MemberJoined& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx cell,
                     ActiveUnit("member_joined.cell_id", e.cell_id(), d));
    if (!s_.units[cell].is_cell) {
      return Precondition(
          "member_joined.cell_id",
          absl::StrCat("unit '", e.cell_id(), "' is not a cell"));
    }
    int32_t m;
    auto it = s_.member_index.find(e.member_id());
    if (it != s_.member_index.end()) {
      m = it->second;
      const Member& mem = s_.members[m];
      if (mem.cells.back().second != kNoUnit) {
        return Precondition(
            "member_joined.member_id",
            absl::StrCat("member '", e.member_id(), "' is already in cell '",
                         s_.units[mem.cells.back().second].id, "' (since ",
                         DayText(mem.cells.back().first),
                         "); record a transfer instead"));
      }
      RETURN_IF_ERROR(MemberInDateOrder("member_joined.member_id", m, d));
    } else {
      m = static_cast<int32_t>(s_.members.size());
      Member mem;
      mem.id = s_.ids.Add(e.member_id());
      s_.members.push_back(std::move(mem));
      s_.member_index.emplace(IdKey(s_.members.back().id), m);
      OnUndo([this] {
        s_.member_index.erase(s_.members.back().id);
        s_.members.pop_back();
      });
    }
    TransferMember(m, d, cell);
    return absl::OkStatus();
  }

  absl::Status MemberTransferred(const v1::MemberTransferred& e, Day d) {
    ASSIGN_OR_RETURN(int32_t m,
                     MemberOf("member_transferred.member_id", e.member_id()));
    ASSIGN_OR_RETURN(UnitIdx from, UnitOf("member_transferred.from_cell_id",
                                          e.from_cell_id()));
    ASSIGN_OR_RETURN(UnitIdx to, ActiveUnit("member_transferred.to_cell_id",
                                            e.to_cell_id(), d));
    if (!s_.units[to].is_cell) {
      return Precondition(
          "member_transferred.to_cell_id",
          absl::StrCat("unit '", e.to_cell_id(), "' is not a cell"));
    }
    RETURN_IF_ERROR(
        MemberInCell("member_transferred.from_cell_id", m, from, d));
    RETURN_IF_ERROR(MemberInDateOrder("member_transferred.member_id", m, d));
    if (from == to) {
      return Precondition("member_transferred.to_cell_id",
                          "the member is already in that cell");
    }
    TransferMember(m, d, to);
    return absl::OkStatus();
  }

  absl::Status MemberLeft(const v1::MemberLeft& e, Day d) {
    ASSIGN_OR_RETURN(int32_t m,
                     MemberOf("member_left.member_id", e.member_id()));
    ASSIGN_OR_RETURN(UnitIdx cell, UnitOf("member_left.cell_id", e.cell_id()));
    RETURN_IF_ERROR(MemberInCell("member_left.cell_id", m, cell, d));
    RETURN_IF_ERROR(MemberInDateOrder("member_left.member_id", m, d));
    TransferMember(m, d, kNoUnit);
    return absl::OkStatus();
  }

  absl::Status PlanIssued(const v1::PlanIssued& e, Day d) {
    constexpr absl::string_view f = "plan_issued";
    if (auto it = s_.plan_index.find(e.plan_id()); it != s_.plan_index.end()) {
      return absl::AlreadyExistsError(absl::StrCat(
          Path(), ".", f, ".plan_id: plan '", e.plan_id(), "' already exists"));
    }
    ASSIGN_OR_RETURN(UnitIdx issuer, ActiveUnit("plan_issued.issuer_unit_id",
                                                e.issuer_unit_id(), d));
    std::string identity;
    if (!e.document().number().empty()) {
      const v1::Date& dd = e.document().date();
      identity = absl::StrCat(e.document().number(), std::string(1, '\0'),
                              e.document().issuer(), std::string(1, '\0'),
                              dd.year(), "-", dd.month(), "-", dd.day());
      if (auto it = s_.plan_identities.find(identity);
          it != s_.plan_identities.end()) {
        return absl::AlreadyExistsError(absl::StrCat(
            Path(), ".", f, ".document: a plan with number '",
            e.document().number(), "', issuer '", e.document().issuer(),
            "' and date ", DayText(DayOf(dd)), " is already recorded as '",
            s_.plans[it->second].id, "'"));
      }
    }
    Plan plan;
    plan.id = e.plan_id();
    plan.issuer = issuer;
    plan.issued = d;
    plan.identity = identity;
    for (int i = 0; i < e.requirements_size(); ++i) {
      const v1::PlanRequirement& r = e.requirements(i);
      if (r.action() != v1::REQUIREMENT_ACTION_ISSUE_PLAN ||
          !r.has_due_date()) {
        continue;
      }
      Requirement req;
      req.due = DayOf(r.due_date());
      switch (r.applies_to()) {
        case v1::APPLIES_TO_DIRECT_CHILDREN:
          req.units = s_.ChildrenOn(issuer, d);
          break;
        case v1::APPLIES_TO_SUBTREE_CELLS: {
          std::vector<UnitIdx> stack = s_.ChildrenOn(issuer, d);
          while (!stack.empty()) {
            const UnitIdx u = stack.back();
            stack.pop_back();
            if (s_.units[u].is_cell) req.units.push_back(u);
            for (UnitIdx c : s_.ChildrenOn(u, d)) stack.push_back(c);
          }
          std::sort(req.units.begin(), req.units.end());
          break;
        }
        case v1::APPLIES_TO_LISTED_UNITS:
          for (int k = 0; k < r.unit_ids_size(); ++k) {
            ASSIGN_OR_RETURN(UnitIdx u,
                             UnitOf(absl::StrCat(f, ".requirements[", i,
                                                 "].unit_ids[", k, "]"),
                                    r.unit_ids(k)));
            req.units.push_back(u);
          }
          break;
        default:
          break;
      }
      req.done.assign(req.units.size(), 0);
      req.done_on.assign(req.units.size(), 0);
      plan.requirements.push_back(std::move(req));
    }
    // An implementing plan fulfils its issuer's requirement in the parent.
    if (!e.implements_plan_id().empty()) {
      if (auto it = s_.plan_index.find(e.implements_plan_id());
          it != s_.plan_index.end()) {
        plan.implements = it->second;
        Implement(it->second, issuer, d, +1);
      }
    }
    Post(&Facts::plans, issuer, d, One<kPlanCounters>(kPlansIssued, 1));
    for (const Requirement& req : plan.requirements) {
      for (UnitIdx u : req.units) {
        Post(&Facts::plans, u, req.due, One<kPlanCounters>(kRequired, 1));
      }
    }
    const int32_t p = static_cast<int32_t>(s_.plans.size());
    s_.plans.push_back(std::move(plan));
    s_.plan_index.emplace(e.plan_id(), p);
    if (!identity.empty()) s_.plan_identities.emplace(identity, p);
    OnUndo([this, id = e.plan_id(), identity] {
      s_.plan_index.erase(id);
      if (!identity.empty()) s_.plan_identities.erase(identity);
      s_.plans.pop_back();
    });
    return absl::OkStatus();
  }

  // Marks what `issuer` owes to plan `parent` as done on d (sign +1: what
  // is still open), or opens it again (-1: what is done).
  void Implement(int32_t parent, UnitIdx issuer, Day d, int sign) {
    for (Requirement& req : s_.plans[parent].requirements) {
      for (size_t k = 0; k < req.units.size(); ++k) {
        if (req.units[k] != issuer || (req.done[k] == 0) != (sign > 0)) {
          continue;
        }
        const uint8_t done = sign < 0 ? 0 : d <= req.due ? 1 : 2;
        if (done == 1 || req.done[k] == 1) {
          Post(&Facts::plans, issuer, req.due,
               One<kPlanCounters>(kOnTime, sign));
        }
        Set(&req.done[k], done);
        Set(&req.done_on[k], sign < 0 ? 0 : d);
      }
    }
  }

  absl::Status Unplan(absl::string_view f, const v1::PlanIssued& e) {
    auto it = s_.plan_index.find(e.plan_id());
    if (it == s_.plan_index.end()) return NotFound(f, "plan", e.plan_id());
    const int32_t p = it->second;
    Plan& plan = s_.plans[p];
    const std::string what = absl::StrCat("plan '", plan.id, "'");
    // Plans that implement it.
    for (const Plan& q : s_.plans) {
      if (!q.retracted && q.implements == p) {
        return Depends(f, what,
                       absl::StrCat("plan '", q.id, "' of '",
                                    s_.units[q.issuer].id, "' implements it"));
      }
    }
    // What it implements: the first standing plan of its issuer for the
    // same parent marks it done; if that is this one, the next takes over.
    if (plan.implements >= 0) {
      int32_t first = -1, next = -1;
      for (int32_t q = 0; q < static_cast<int32_t>(s_.plans.size()); ++q) {
        const Plan& other = s_.plans[q];
        if (other.retracted || other.implements != plan.implements ||
            other.issuer != plan.issuer) {
          continue;
        }
        if (first < 0) {
          first = q;
        } else if (next < 0) {
          next = q;
        }
      }
      if (first == p) {
        Implement(plan.implements, plan.issuer, plan.issued, -1);
        if (next >= 0) {
          Implement(plan.implements, plan.issuer, s_.plans[next].issued, +1);
        }
      }
    }
    Post(&Facts::plans, plan.issuer, plan.issued,
         One<kPlanCounters>(kPlansIssued, -1));
    for (const Requirement& req : plan.requirements) {
      for (UnitIdx u : req.units) {
        Post(&Facts::plans, u, req.due, One<kPlanCounters>(kRequired, -1));
      }
    }
    s_.plan_index.erase(it);
    if (!plan.identity.empty()) s_.plan_identities.erase(plan.identity);
    OnUndo([this, p] {
      const Plan& back = s_.plans[p];
      s_.plan_index.emplace(back.id, p);
      if (!back.identity.empty()) s_.plan_identities.emplace(back.identity, p);
    });
    Set(&plan.retracted, true);
    return absl::OkStatus();
  }

  // Sessions, commitments and awards apply with sign +1, and -1 when
  // retracted; the checks run only for +1.
  absl::Status Session(const v1::SessionHeld& e, Day d, int sign,
                       absl::string_view f) {
    UnitIdx u;
    if (sign > 0) {
      ASSIGN_OR_RETURN(u, ActiveUnit("session_held.unit_id", e.unit_id(), d));
      const int64_t convened = e.attendance().convened();
      if (convened > 0) {
        const int64_t members = MembersOn(u, d);
        if (convened > members) {
          return absl::InvalidArgumentError(
              absl::StrCat(Path(), ".", f, ".attendance.convened: ", convened,
                           " convened, but '", e.unit_id(), "' had ", members,
                           " member(s) on ", DayText(d)));
        }
      }
    } else {
      ASSIGN_OR_RETURN(u, UnitOf("session_held.unit_id", e.unit_id()));
    }
    const bool regular = e.kind() == v1::SESSION_KIND_REGULAR ||
                         e.kind() == v1::SESSION_KIND_COMBINED;
    const bool thematic = e.kind() == v1::SESSION_KIND_THEMATIC ||
                          e.kind() == v1::SESSION_KIND_COMBINED;
    bool hcm = e.hcm_items_size() > 0;
    for (const std::string& tag : e.tags()) hcm = hcm || tag == "HCM";
    std::array<int32_t, kSessionCounters> delta{};
    delta[kRegular] = regular ? sign : 0;
    delta[kThematic] = thematic ? sign : 0;
    delta[kOtherKind] = !regular && !thematic ? sign : 0;
    delta[kAllSessions] = sign;
    delta[kHcm] = hcm ? sign : 0;
    delta[kPresent] = sign * e.attendance().present();
    delta[kConvened] = sign * e.attendance().convened();
    Post(&Facts::sessions, u, d, delta);
    Unit& unit = s_.units[u];
    if (!unit.is_cell) return absl::OkStatus();
    const v1::PeriodRef& p = e.for_period();
    int32_t month = MonthOf(d);
    int32_t quarter = QuarterOf(d);
    if (p.year() != 0 && p.part_case() == v1::PeriodRef::kMonth) {
      month = p.year() * 12 + p.month() - 1;
      quarter = month / 3;
    } else if (p.year() != 0 && p.part_case() == v1::PeriodRef::kQuarter) {
      quarter = p.year() * 4 + p.quarter() - 1;
    }
    if (regular) {
      CountPeriod(u, &unit.regular_months, month, sign, MonthFirstDay(month),
                  MonthLastDay(month), kRegHeld);
    }
    if (thematic) {
      CountPeriod(u, &s_.units[u].thematic_quarters, quarter, sign,
                  QuarterFirstDay(quarter), QuarterLastDay(quarter), kThemHeld);
    }
    return absl::OkStatus();
  }

  void CountPeriod(UnitIdx u, std::vector<std::pair<int32_t, int32_t>>* counts,
                   int32_t period, int sign, Day first, Day last, int counter) {
    auto it = std::lower_bound(counts->begin(), counts->end(),
                               std::make_pair(period, INT32_MIN));
    if (it == counts->end() || it->first != period) {
      it = counts->insert(it, {period, 0});
    }
    const int32_t before = it->second;
    it->second += sign;
    const int32_t after = it->second;
    OnUndo([counts, period, sign] {
      auto i = std::lower_bound(counts->begin(), counts->end(),
                                std::make_pair(period, INT32_MIN));
      if (i == counts->end() || i->first != period) {
        i = counts->insert(i, {period, 0});  // the change removed it
      }
      i->second -= sign;
      if (i->second == 0) counts->erase(i);
    });
    if (after == 0) counts->erase(it);
    const Unit& unit = s_.units[u];
    const bool whole = unit.created <= first && unit.dissolved > last;
    if (whole && (before == 0) != (after == 0)) {
      Post(&Facts::compliance, u, last,
           One<kComplianceCounters>(counter, after > 0 ? 1 : -1));
    }
  }

  absl::Status Registered(const v1::CommitmentRegistered& e, Day d, int sign,
                          absl::string_view f) {
    if (sign < 0) {
      auto it = s_.commitment_index.find(e.commitment_id());
      if (it == s_.commitment_index.end()) return absl::OkStatus();
      const int32_t c = it->second;
      if (s_.commitments[c].evaluated) {
        return Precondition("event_retracted.target_position",
                            "the commitment has an evaluation; retract that "
                            "first");
      }
      NoteNamedUnit(e, s_.commitments[c].unit, -1);
      return RetractRegistration(c);
    }
    if (s_.commitment_index.contains(e.commitment_id())) {
      return absl::AlreadyExistsError(
          absl::StrCat(Path(), ".", f, ".commitment_id: commitment '",
                       e.commitment_id(), "' already exists"));
    }
    // Where it counts: the cell, else the unit, else the member's cell.
    UnitIdx counted = kNoUnit;
    if (!e.unit_id().empty()) {
      ASSIGN_OR_RETURN(
          counted, ActiveUnit("commitment_registered.unit_id", e.unit_id(), d));
    }
    int32_t m = -1;
    if (!e.cell_id().empty()) {
      ASSIGN_OR_RETURN(counted,
                       UnitOf("commitment_registered.cell_id", e.cell_id()));
    }
    if (!e.member_id().empty()) {
      ASSIGN_OR_RETURN(
          m, MemberOf("commitment_registered.member_id", e.member_id()));
      const UnitIdx cell = s_.members[m].CellOn(d);
      if (!e.cell_id().empty()) {
        RETURN_IF_ERROR(
            MemberInCell("commitment_registered.cell_id", m, counted, d));
      } else if (cell == kNoUnit) {
        return Precondition("commitment_registered.member_id",
                            absl::StrCat("member '", e.member_id(),
                                         "' is in no cell on ", DayText(d)));
      } else {
        counted = cell;
      }
    }
    if (counted == kNoUnit) {
      return absl::InvalidArgumentError(absl::StrCat(
          Path(), ".", f, ": name the unit, the cell or the member"));
    }
    Commitment c;
    c.id = s_.ids.Add(e.commitment_id());
    c.member = m;
    c.unit = counted;
    c.registered = d;
    c.year = CommitmentYear(e, d);
    std::array<int32_t, kCommitmentCounters> delta{};
    delta[kRegistered] = 1;
    if (m >= 0) {
      auto& years = s_.members[m].commitment_years;
      if (std::find(years.begin(), years.end(), c.year) == years.end()) {
        Push(&years, c.year);
        delta[kMembersRegistered] = 1;
      }
    }
    Post(&Facts::commitments, counted, d, delta);
    NoteNamedUnit(e, counted, +1);
    const int32_t idx = static_cast<int32_t>(s_.commitments.size());
    s_.commitments.push_back(std::move(c));
    s_.commitment_index.emplace(IdKey(s_.commitments.back().id), idx);
    OnUndo([this] {
      s_.commitment_index.erase(s_.commitments.back().id);
      s_.commitments.pop_back();
    });
    return absl::OkStatus();
  }

  // A commitment's unit_id when it counts elsewhere (at the member's cell)
  // is still a reference that the unit's creation cannot be retracted under.
  void NoteNamedUnit(const v1::CommitmentRegistered& e, UnitIdx counted,
                     int sign) {
    if (e.unit_id().empty()) return;
    auto it = s_.unit_index.find(e.unit_id());
    if (it == s_.unit_index.end() || it->second == counted) return;
    Unit& named = s_.units[it->second];
    Set(&named.fact_refs, named.fact_refs + sign);
  }

  absl::Status RetractRegistration(int32_t c) {
    Commitment& com = s_.commitments[c];
    // The commitment stays in the list (positions of later ones hold) but
    // no longer counts; its id may not be reused.
    std::array<int32_t, kCommitmentCounters> delta{};
    delta[kRegistered] = -1;
    if (com.member >= 0) {
      // The member is counted once a year, by the first standing
      // commitment in log order: this one, or the next one takes over.
      auto same = [&](int32_t i) {
        const Commitment& o = s_.commitments[i];
        return o.member == com.member && o.year == com.year &&
               o.unit != kNoUnit;
      };
      const int32_t n = static_cast<int32_t>(s_.commitments.size());
      int32_t first = 0;
      while (first < n && !same(first)) ++first;
      if (first == c) {
        delta[kMembersRegistered] = -1;
        int32_t next = c + 1;
        while (next < n && !same(next)) ++next;
        if (next < n) {
          const Commitment& o = s_.commitments[next];
          Post(&Facts::commitments, o.unit, o.registered,
               One<kCommitmentCounters>(kMembersRegistered, 1));
        } else {
          Erase(&s_.members[com.member].commitment_years, com.year);
        }
      }
    }
    Post(&Facts::commitments, com.unit, com.registered, delta);
    Set(&com.unit, kNoUnit);
    return absl::OkStatus();
  }

  absl::Status Evaluated(const v1::CommitmentEvaluated& e, Day d, int sign,
                         absl::string_view f) {
    int32_t at = s_.Resolved(e.commitment_id());
    if (at < 0) {
      auto it = s_.commitment_index.find(e.commitment_id());
      if (it == s_.commitment_index.end()) {
        return NotFound("commitment_evaluated.commitment_id", "commitment",
                        e.commitment_id());
      }
      at = it->second;
    }
    Commitment& c = s_.commitments[at];
    if (sign > 0) {
      if (c.unit == kNoUnit) {
        return Precondition(
            "commitment_evaluated.commitment_id",
            absl::StrCat("commitment '", c.id, "' was retracted"));
      }
      if (d < c.registered) {
        return Precondition(
            "commitment_evaluated.commitment_id",
            absl::StrCat("commitment '", c.id, "' is evaluated on ", DayText(d),
                         ", before it was registered on ",
                         DayText(c.registered)));
      }
      if (c.evaluated) {
        return Precondition(
            "commitment_evaluated.commitment_id",
            absl::StrCat("commitment '", c.id, "' was already evaluated on ",
                         DayText(c.evaluated_on),
                         "; correct that evaluation instead"));
      }
    }
    const bool fulfilled = e.outcome() == v1::EVALUATION_OUTCOME_FULFILLED;
    std::array<int32_t, kCommitmentCounters> delta{};
    delta[kEvaluated] = sign;
    delta[kFulfilled] = fulfilled ? sign : 0;
    Post(&Facts::commitments, c.unit, d, delta);
    Set(&c.evaluated, sign > 0);
    Set(&c.fulfilled, sign > 0 && fulfilled);
    Set(&c.evaluated_on, d);
    return absl::OkStatus();
  }

  absl::Status Award(const v1::AwardGiven& e, Day d, int sign,
                     absl::string_view f) {
    if (sign > 0 && s_.award_index.contains(e.award_id())) {
      return absl::AlreadyExistsError(
          absl::StrCat(Path(), ".", f, ".award_id: award '", e.award_id(),
                       "' already exists"));
    }
    // Resolve every recipient first.
    struct Target {
      UnitIdx unit;
      bool collective;
      int32_t count;
      bool cell_award;
      int32_t member = -1;
    };
    std::vector<Target> targets;
    for (int i = 0; i < e.recipients_size(); ++i) {
      const v1::AwardRecipient& r = e.recipients(i);
      const std::string rf = absl::StrCat(f, ".recipients[", i, "]");
      Target t{kNoUnit, true, 1, false};
      switch (r.type()) {
        case v1::RECIPIENT_TYPE_PARTY_UNIT: {
          if (sign > 0) {
            ASSIGN_OR_RETURN(t.unit,
                             ActiveUnit(rf + ".unit_id", r.unit_id(), d));
          } else {
            ASSIGN_OR_RETURN(t.unit, UnitOf(rf + ".unit_id", r.unit_id()));
          }
          t.cell_award = s_.units[t.unit].is_cell;
          break;
        }
        case v1::RECIPIENT_TYPE_MEMBER: {
          ASSIGN_OR_RETURN(int32_t m,
                           MemberOf(rf + ".member_id", r.member_id()));
          t.unit = s_.members[m].CellOn(d);
          t.collective = false;
          t.member = m;
          if (sign < 0) {
            // It counted in the cell the member was in when it was
            // recorded (a change of the same day may have followed).
            for (const State::MemberAward& a : s_.member_awards[m]) {
              if (a.award == e.award_id()) t.unit = a.cell;
            }
          }
          if (t.unit == kNoUnit && sign > 0) {
            return Precondition(
                rf + ".member_id",
                absl::StrCat("member '", r.member_id(), "' is in no cell on ",
                             DayText(d)));
          }
          break;
        }
        default:
          t.collective = r.type() != v1::RECIPIENT_TYPE_PERSON;
          if (!r.counted_under_unit_id().empty()) {
            ASSIGN_OR_RETURN(t.unit, UnitOf(rf + ".counted_under_unit_id",
                                            r.counted_under_unit_id()));
          }
          break;
      }
      if (t.unit != kNoUnit) targets.push_back(t);
    }
    if (e.has_aggregate() && !e.aggregate().counted_under_unit_id().empty()) {
      ASSIGN_OR_RETURN(UnitIdx u,
                       UnitOf("award_given.aggregate.counted_under_unit_id",
                              e.aggregate().counted_under_unit_id()));
      if (e.aggregate().collectives() > 0) {
        targets.push_back({u, true, e.aggregate().collectives(), false});
      }
      if (e.aggregate().individuals() > 0) {
        targets.push_back({u, false, e.aggregate().individuals(), false});
      }
      if (e.aggregate().collectives() <= 0 &&
          e.aggregate().individuals() <= 0) {
        Set(&s_.units[u].fact_refs, s_.units[u].fact_refs + sign);
      }
    }
    int kind = kOtherAward;
    switch (e.kind()) {
      case v1::AWARD_KIND_BANG_KHEN:
        kind = kBangKhen;
        break;
      case v1::AWARD_KIND_GIAY_KHEN:
        kind = kGiayKhen;
        break;
      case v1::AWARD_KIND_CO_THI_DUA:
        kind = kCoThiDua;
        break;
      default:
        break;
    }
    int level = -1;
    switch (e.issuer().level()) {
      case v1::ISSUER_LEVEL_CENTRAL:
        level = kLvCentral;
        break;
      case v1::ISSUER_LEVEL_MINISTRY_PROVINCE:
        level = kLvMinistry;
        break;
      case v1::ISSUER_LEVEL_UPPER_BASE:
        level = kLvUpperBase;
        break;
      case v1::ISSUER_LEVEL_BASE:
        level = kLvBase;
        break;
      default:
        break;
    }
    for (const Target& t : targets) {
      std::array<int32_t, kAwardCounters> delta{};
      const int32_t n = sign * t.count;
      delta[kind] = n;
      if (level >= 0) delta[level] = n;
      delta[t.collective ? kCollective : kIndividual] = n;
      Post(&Facts::awards, t.unit, d, delta);
      if (t.cell_award) PostAwarded(t.unit, d, sign);
      if (t.member >= 0)
        NoteMemberAward(t.member, d, t.unit, e.award_id(), sign);
    }
    if (sign > 0) {
      const int32_t idx = static_cast<int32_t>(s_.award_ids.size());
      s_.award_ids.push_back(e.award_id());
      s_.award_index.emplace(e.award_id(), idx);
      OnUndo([this, id = e.award_id()] {
        s_.award_index.erase(id);
        s_.award_ids.pop_back();
      });
    } else if (auto it = s_.award_index.find(e.award_id());
               it != s_.award_index.end()) {
      // Retracted: the id becomes free for the corrected award.
      const int32_t idx = it->second;
      s_.award_index.erase(it);
      OnUndo([this, id = e.award_id(), idx] { s_.award_index[id] = idx; });
    }
    return absl::OkStatus();
  }

  // The event standing at `target` now (after corrections), or an error.
  absl::StatusOr<const v1::Event*> Current(absl::string_view field,
                                           uint64_t target) {
    if (s_.retracted.contains(target)) {
      return Precondition(field, absl::StrCat("the event at position ", target,
                                              " is already retracted"));
    }
    if (auto it = s_.superseded.find(target); it != s_.superseded.end()) {
      return it->second.get();
    }
    if (!s_.fetch_) {
      return absl::NotFoundError(
          absl::StrCat(Path(), ".", field, ": no event at position ", target));
    }
    absl::StatusOr<v1::Event> e = s_.fetch_(target);
    if (!e.ok()) {
      return absl::Status(
          e.status().code(),
          absl::StrCat(Path(), ".", field, ": ", e.status().message()));
    }
    fetched_ = std::make_unique<v1::Event>(*std::move(e));
    return fetched_.get();
  }

  // Takes back what `e` added (sign -1).
  // `target`: the position `e` stands for.
  absl::Status Reverse(const v1::Event& e, absl::string_view field,
                       uint64_t target) {
    const Day d = DayOf(e.business_date());
    switch (e.payload_case()) {
      case v1::Event::kSessionHeld:
        return Session(e.session_held(), d, -1, "session_held");
      case v1::Event::kAwardGiven:
        return Award(e.award_given(), d, -1, "award_given");
      case v1::Event::kCommitmentEvaluated:
        return Evaluated(e.commitment_evaluated(), d, -1,
                         "commitment_evaluated");
      case v1::Event::kCommitmentRegistered:
        return Registered(e.commitment_registered(), d, -1,
                          "commitment_registered");
      case v1::Event::kUnitCreated:
        return Uncreate(field, e.unit_created(), d);
      case v1::Event::kUnitRenamed:
        return Unrename(field, e.unit_renamed(), d);
      case v1::Event::kUnitMoved:
        return Unmove(field, e.unit_moved(), d);
      case v1::Event::kUnitDissolved:
        return Undissolve(field, e.unit_dissolved(), d);
      case v1::Event::kUnitsMerged:
        return Unmerge(field, e.units_merged(), d, target);
      case v1::Event::kPlanIssued:
        return Unplan(field, e.plan_issued());
      case v1::Event::kMemberJoined: {
        ASSIGN_OR_RETURN(UnitIdx cell,
                         UnitOf(field, e.member_joined().cell_id()));
        return UnchangeMember(field, e.member_joined().member_id(), cell, d,
                              "MemberJoined");
      }
      case v1::Event::kMemberTransferred: {
        ASSIGN_OR_RETURN(UnitIdx cell,
                         UnitOf(field, e.member_transferred().to_cell_id()));
        return UnchangeMember(field, e.member_transferred().member_id(), cell,
                              d, "MemberTransferred");
      }
      case v1::Event::kMemberLeft:
        return UnchangeMember(field, e.member_left().member_id(), kNoUnit, d,
                              "MemberLeft");
      default:
        return Precondition(
            field, absl::StrCat("a ", PayloadName(e),
                                " cannot be retracted or corrected; record "
                                "the change that undoes it instead"));
    }
  }

  // ---- retraction of structural events ----------------------------------
  // A structural event can be taken back while nothing recorded after it
  // depends on it. The state holds the effect of every standing event, so
  // the checks read it; what depends on the event must be retracted or
  // corrected first, earlier in the same append or before it.
  absl::Status Depends(absl::string_view field, absl::string_view what,
                       absl::string_view why) {
    const bool correcting = absl::StartsWith(field, "event_corrected");
    return Precondition(
        field, absl::StrCat("cannot ", correcting ? "correct" : "retract",
                            " the ", what, ": ", why,
                            "; retract or correct that first (earlier in "
                            "the same append, or before)"));
  }

  // The day of u's latest standing structural change.
  static Day LastChangeOf(const Unit& u) {
    Day d = std::max(u.created, u.parents.back().first);
    if (u.names.size() > 1) d = std::max(d, u.names.back().first);
    if (u.dissolved != kForever) d = std::max(d, u.dissolved);
    return d;
  }

  // Removes the last occurrence of `value` (the latest link of a lineage).
  void EraseLast(std::vector<UnitIdx>* vec, UnitIdx value) {
    auto it = std::find(vec->rbegin(), vec->rend(), value);
    if (it == vec->rend()) return;
    const size_t at = static_cast<size_t>(vec->rend() - it) - 1;
    vec->erase(vec->begin() + at);
    OnUndo([vec, at, value] { vec->insert(vec->begin() + at, value); });
  }

  template <typename V>
  void Erase(V* vec, typename V::value_type value) {
    auto it = std::find(vec->begin(), vec->end(), value);
    if (it == vec->end()) return;
    const size_t at = static_cast<size_t>(it - vec->begin());
    vec->erase(it);
    OnUndo([vec, at, value] { vec->insert(vec->begin() + at, value); });
  }

  // A plan issued on or after d by an ancestor of `under` (on the plan's
  // day) fixed the units it requires from that day's tree, so the tree of
  // those days cannot change under it.
  absl::Status NoPlanCounted(absl::string_view field, absl::string_view what,
                             Day d, std::initializer_list<UnitIdx> under) {
    for (const Plan& plan : s_.plans) {
      if (plan.retracted || plan.issued < d || plan.requirements.empty()) {
        continue;
      }
      for (UnitIdx start : under) {
        for (UnitIdx a : Chain(start, plan.issued)) {
          if (a != plan.issuer) continue;
          return Depends(
              field, what,
              absl::StrCat("plan '", plan.id, "' of '", s_.units[a].id,
                           "', issued on ", DayText(plan.issued),
                           ", required units from the tree of that day"));
        }
      }
    }
    return absl::OkStatus();
  }

  // A move after d of a unit of u's chain on d carried its standing figures
  // (units, cells, members) as they were then to the new ancestors: a
  // change of them on d can no longer be taken back there.
  absl::Status NoLaterMove(absl::string_view field, absl::string_view what,
                           UnitIdx u, Day d) {
    for (UnitIdx a : Chain(u, d)) {
      const Unit& unit = s_.units[a];
      if (unit.parents.back().first > d) {
        return Depends(field, what,
                       absl::StrCat("unit '", unit.id, "' was moved on ",
                                    DayText(unit.parents.back().first),
                                    ", after it, with its figures"));
      }
    }
    return absl::OkStatus();
  }

  absl::Status Uncreate(absl::string_view f, const v1::UnitCreated& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx u, UnitOf(f, e.unit_id()));
    Unit& unit = s_.units[u];
    const std::string what = absl::StrCat("creation of unit '", unit.id, "'");
    if (!unit.children_ever.empty()) {
      return Depends(
          f, what,
          absl::StrCat("unit '", s_.units[unit.children_ever.front()].id,
                       "' was created or moved under it"));
    }
    if (unit.parents.size() > 1 || unit.names.size() > 1 ||
        unit.dissolved != kForever) {
      return Depends(f, what,
                     absl::StrCat("it has a later structural change (on ",
                                  DayText(unit.last_change), ")"));
    }
    if (!unit.successors.empty()) {
      return Depends(
          f, what,
          absl::StrCat("unit '", s_.units[unit.successors.front()].id,
                       "' succeeds it"));
    }
    for (UnitIdx p : unit.predecessors) {
      // A predecessor that ended since may name it as its successor (its
      // dissolution or merger): that goes first.
      const auto& listed = e.predecessor_unit_ids();
      if (std::find(listed.begin(), listed.end(), s_.units[p].id) ==
              listed.end() ||
          (s_.units[p].dissolved != kForever && s_.units[p].dissolved >= d)) {
        return Depends(f, what,
                       absl::StrCat("unit '", s_.units[p].id,
                                    "' was merged into it or ended after "
                                    "it was created"));
      }
    }
    if (unit.member_entries != 0) {
      return Depends(f, what, "members joined it or moved through it");
    }
    const Day last = LastFactDay(unit);
    if (last != -kForever || !unit.own.awarded.empty()) {
      return Depends(f, what,
                     absl::StrCat("facts are recorded for it (the last on ",
                                  DayText(last), ")"));
    }
    RETURN_IF_ERROR(NoLaterMove(f, what, u, d));
    if (unit.fact_refs != 0) {
      return Depends(f, what, "a commitment or an award names it");
    }
    PostCreation(u, d, -1);
    const UnitIdx parent = unit.parents.front().second;
    if (parent != kNoUnit) Erase(&s_.units[parent].children_ever, u);
    for (UnitIdx p : unit.predecessors) Erase(&s_.units[p].successors, u);
    Set(&unit.predecessors, std::vector<UnitIdx>{});
    s_.unit_index.erase(unit.id);
    s_.ForgetResolved();
    OnUndo([this, u] { s_.unit_index.emplace(s_.units[u].id, u); });
    Set(&unit.created, kForever);
    return absl::OkStatus();
  }

  absl::Status Unrename(absl::string_view f, const v1::UnitRenamed& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx u, UnitOf(f, e.unit_id()));
    Unit& unit = s_.units[u];
    const std::string what =
        absl::StrCat("rename of unit '", unit.id, "' on ", DayText(d));
    if (unit.names.size() < 2 || unit.names.back().first != d ||
        unit.names.back().second != e.new_name() ||
        std::count(unit.names.begin(), unit.names.end(), unit.names.back()) >
            1) {
      return Depends(f, what,
                     absl::StrCat("it was renamed again later (on ",
                                  DayText(unit.names.back().first), ")"));
    }
    const auto name = unit.names.back();
    unit.names.pop_back();
    OnUndo([&unit, name] { unit.names.push_back(name); });
    const std::string short_name = unit.prior_short_names.back();
    unit.prior_short_names.pop_back();
    OnUndo(
        [&unit, short_name] { unit.prior_short_names.push_back(short_name); });
    Set(&unit.short_name, short_name);
    const std::string& back = unit.names.back().second;
    Set(&unit.folded, s_.fold_ ? s_.fold_(back) : back);
    Set(&unit.last_change, LastChangeOf(unit));
    return absl::OkStatus();
  }

  absl::Status Unmove(absl::string_view f, const v1::UnitMoved& e, Day d) {
    ASSIGN_OR_RETURN(UnitIdx x, UnitOf(f, e.unit_id()));
    ASSIGN_OR_RETURN(UnitIdx to, UnitOf(f, e.to_parent_id()));
    Unit& unit = s_.units[x];
    const std::string what =
        absl::StrCat("move of unit '", unit.id, "' under '", s_.units[to].id,
                     "' on ", DayText(d));
    if (unit.parents.size() < 2 || unit.parents.back().first != d ||
        unit.parents.back().second != to) {
      return Depends(f, what,
                     absl::StrCat("it was moved again later (on ",
                                  DayText(unit.parents.back().first), ")"));
    }
    if (std::count(unit.parents.begin(), unit.parents.end(),
                   unit.parents.back()) > 1) {
      return Depends(f, what,
                     "it has another move to the same parent that day, which "
                     "cannot be told from it");
    }
    if (unit.dissolved != kForever) {
      return Depends(f, what,
                     absl::StrCat("it ended on ", DayText(unit.dissolved)));
    }
    const UnitIdx from = unit.parents[unit.parents.size() - 2].second;
    if (from != kNoUnit) {
      const Unit& old = s_.units[from];
      if (old.dissolved != kForever) {
        return Depends(f, what,
                       absl::StrCat("its former parent '", old.id,
                                    "' ended on ", DayText(old.dissolved)));
      }
      if (MakesCycle(x, from, d)) {
        return Depends(f, what,
                       absl::StrCat("its former parent '", old.id,
                                    "' has since been moved into its "
                                    "subtree"));
      }
    }
    RETURN_IF_ERROR(NoPlanCounted(f, what, d, {from, to}));
    RETURN_IF_ERROR(NoLaterMove(f, what, to, d));
    if (from != kNoUnit) RETURN_IF_ERROR(NoLaterMove(f, what, from, d));
    std::map<UnitIdx, Removed> removed;
    RemoveAlong(to, d, 0, x, &removed);
    RETURN_IF_ERROR(AttendanceHolds(f, what, d, removed));
    UnmoveUnit(x);
    return absl::OkStatus();
  }

  // The mirror of MoveUnit for x's latest move (checked by the caller).
  void UnmoveUnit(UnitIdx x) {
    Unit& unit = s_.units[x];
    const Day d = unit.parents.back().first;
    const UnitIdx to = unit.parents.back().second;
    const UnitIdx from = unit.parents[unit.parents.size() - 2].second;
    const Day old_change = unit.last_change;
    TransferRaw(x, d, to, from);
    unit.parents.pop_back();
    unit.SyncParent();
    unit.last_change = LastChangeOf(unit);
    OnUndo([this, x, d, from, to, old_change] {
      Unit& u = s_.units[x];
      u.parents.emplace_back(d, to);
      u.SyncParent();
      u.last_change = old_change;
      TransferRaw(x, d, from, to);
    });
    bool still_under = false;
    for (const auto& [day, p] : unit.parents) still_under |= p == to;
    if (!still_under) Erase(&s_.units[to].children_ever, x);
  }

  absl::Status Undissolve(absl::string_view f, const v1::UnitDissolved& e,
                          Day d) {
    ASSIGN_OR_RETURN(UnitIdx u, UnitOf(f, e.unit_id()));
    Unit& unit = s_.units[u];
    const std::string what =
        absl::StrCat("dissolution of unit '", unit.id, "' on ", DayText(d));
    if (unit.dissolved != d) {
      return Depends(f, what, "it does not end on that day");
    }
    const UnitIdx parent = unit.last_parent;
    if (parent != kNoUnit && s_.units[parent].dissolved != kForever) {
      return Depends(
          f, what,
          absl::StrCat("its parent '", s_.units[parent].id, "' ended on ",
                       DayText(s_.units[parent].dissolved)));
    }
    RETURN_IF_ERROR(NoPlanCounted(f, what, d, {u}));
    RETURN_IF_ERROR(NoLaterMove(f, what, u, d));
    Set(&unit.dissolved, kForever);
    PostEnd(u, d, -1);
    Set(&unit.last_change, LastChangeOf(unit));
    for (const std::string& id : e.successor_unit_ids()) {
      ASSIGN_OR_RETURN(UnitIdx succ, UnitOf(f, id));
      EraseLast(&unit.successors, succ);
      EraseLast(&s_.units[succ].predecessors, u);
    }
    return absl::OkStatus();
  }

  // Journaled by key: a later insert in the same request may rehash the map.
  void NoteMemberAward(int32_t m, Day d, UnitIdx cell, const std::string& award,
                       int sign) {
    std::vector<State::MemberAward>& list = s_.member_awards[m];
    if (sign > 0) {
      list.push_back({d, cell, award});
      OnUndo([this, m] { s_.member_awards[m].pop_back(); });
      return;
    }
    auto it = std::find_if(list.begin(), list.end(),
                           [&](const auto& a) { return a.award == award; });
    if (it == list.end()) return;
    const size_t at = static_cast<size_t>(it - list.begin());
    State::MemberAward saved = *it;
    list.erase(it);
    OnUndo([this, m, at, saved] {
      std::vector<State::MemberAward>& v = s_.member_awards[m];
      v.insert(v.begin() + at, saved);
    });
  }

  // Takes back member `id`'s latest change: into `to` (kNoUnit: left) on d.
  absl::Status UnchangeMember(absl::string_view f, const std::string& id,
                              UnitIdx to, Day d, absl::string_view type) {
    ASSIGN_OR_RETURN(int32_t m, MemberOf(f, id));
    Member& mem = s_.members[m];
    const std::string what =
        absl::StrCat(type, " of member '", id, "' on ", DayText(d));
    if (mem.cells.empty() || mem.cells.back().first != d ||
        mem.cells.back().second != to) {
      return Depends(f, what,
                     absl::StrCat("the member has a later change (on ",
                                  DayText(mem.cells.back().first), ")"));
    }
    if (std::count(mem.cells.begin(), mem.cells.end(), mem.cells.back()) > 1) {
      return Depends(f, what,
                     "the member has another change to the same cell that "
                     "day, which cannot be told from it");
    }
    const UnitIdx from =
        mem.cells.size() > 1 ? mem.cells[mem.cells.size() - 2].second : kNoUnit;
    if (from != kNoUnit && s_.units[from].dissolved != kForever) {
      return Depends(f, what,
                     absl::StrCat("cell '", s_.units[from].id, "' ended on ",
                                  DayText(s_.units[from].dissolved)));
    }
    if (from != kNoUnit) RETURN_IF_ERROR(NoLaterMove(f, what, from, d));
    if (to != kNoUnit) {
      RETURN_IF_ERROR(NoLaterMove(f, what, to, d));
      RETURN_IF_ERROR(NothingOfMembersAfter(f, what, {{m, to}}, d));
      std::map<UnitIdx, Removed> removed;
      RemoveAlong(to, d, 1, kNoUnit, &removed);
      RETURN_IF_ERROR(AttendanceHolds(f, what, d, removed));
    }
    UntransferMember(m);
    return absl::OkStatus();
  }

  // What members `ms` did from d on (commitments, awards) depends on the
  // cell they were in.
  // `ms`: member -> the cell the change being taken back put it in.
  absl::Status NothingOfMembersAfter(
      absl::string_view f, absl::string_view what,
      const absl::flat_hash_map<int32_t, UnitIdx>& ms, Day d) {
    for (const Commitment& c : s_.commitments) {
      if (c.unit == kNoUnit || c.registered < d || c.member < 0) continue;
      if (auto in = ms.find(c.member); in != ms.end() && in->second == c.unit) {
        return Depends(
            f, what,
            absl::StrCat("commitment '", c.id, "' of member '",
                         s_.members[c.member].id, "' was registered on ",
                         DayText(c.registered)));
      }
    }
    for (const auto& [m, cell] : ms) {
      auto it = s_.member_awards.find(m);
      if (it == s_.member_awards.end()) continue;
      for (const State::MemberAward& a : it->second) {
        if (a.day >= d && a.cell == cell) {
          return Depends(
              f, what,
              absl::StrCat("award '", a.award, "' of ", DayText(a.day),
                           " names member '", s_.members[m].id, "'"));
        }
      }
    }
    return absl::OkStatus();
  }

  // Sessions of `cell` from d on convened no more than its members without
  // `removed` of them (a day's sessions are summed: conservative).
  // What a retraction takes out of units' memberships from d on: a number
  // of members, and the members of whole subtrees (moved units).
  struct Removed {
    int64_t members = 0;
    std::vector<UnitIdx> subtrees;
  };
  // Adds `r` to `cell` (or unit) and each of its ancestors on d.
  void RemoveAlong(UnitIdx u, Day d, int64_t members, UnitIdx subtree,
                   std::map<UnitIdx, Removed>* out) {
    for (UnitIdx a : Chain(u, d)) {
      Removed& r = (*out)[a];
      r.members += members;
      if (subtree != kNoUnit) r.subtrees.push_back(subtree);
    }
  }
  // Sessions of each unit from d on convened no more than the members it
  // has without what is removed (a day's sessions are summed:
  // conservative). A unit that is not a cell counts its subtree's members.
  absl::Status AttendanceHolds(absl::string_view f, absl::string_view what,
                               Day d, const std::map<UnitIdx, Removed>& all) {
    for (const auto& [unit, removed] : all) {
      for (const auto& r : s_.units[unit].own.sessions.rows()) {
        if (r.day < d) continue;
        int64_t gone = removed.members;
        for (UnitIdx x : removed.subtrees) gone += MembersOn(x, r.day);
        const int64_t left = MembersOn(unit, r.day) - gone;
        if (r.v[kConvened] > left) {
          return Depends(f, what,
                         absl::StrCat("sessions of '", s_.units[unit].id,
                                      "' on ", DayText(r.day), " convened ",
                                      r.v[kConvened], ", more than the ", left,
                                      " member(s) it would have"));
        }
      }
    }
    return absl::OkStatus();
  }

  // The mirror of TransferMember for m's latest change (checked by the
  // caller).
  void UntransferMember(int32_t m) {
    Member& mem = s_.members[m];
    const Day d = mem.cells.back().first;
    const UnitIdx to = mem.cells.back().second;
    const UnitIdx from =
        mem.cells.size() > 1 ? mem.cells[mem.cells.size() - 2].second : kNoUnit;
    if (to != kNoUnit) {
      Post(&Facts::state, to, d, One<kStateCounters>(kMembers, -1));
      CountMember(to, d, -1);
      Set(&s_.units[to].member_entries, s_.units[to].member_entries - 1);
    }
    if (from != kNoUnit) {
      Post(&Facts::state, from, d, One<kStateCounters>(kMembers, 1));
      CountMember(from, d, 1);
    }
    const auto entry = mem.cells.back();
    mem.cells.pop_back();
    OnUndo([&mem, entry] { mem.cells.push_back(entry); });
    if (mem.cells.empty()) {
      // It was the member's first join: the member was never recorded.
      s_.member_index.erase(mem.id);
      s_.ForgetResolved();
      OnUndo(
          [this, m] { s_.member_index.emplace(IdKey(s_.members[m].id), m); });
    }
  }

  absl::Status Unmerge(absl::string_view f, const v1::UnitsMerged& e, Day d,
                       uint64_t position) {
    auto rec = s_.merges.find(position);
    if (rec == s_.merges.end()) {
      return Precondition(f, absl::StrCat("the merge at position ", position,
                                          " has no record of what it moved"));
    }
    const State::MergeRecord& record = rec->second;
    ASSIGN_OR_RETURN(UnitIdx target, UnitOf(f, e.target_unit_id()));
    const std::string what = absl::StrCat(
        "merge into unit '", s_.units[target].id, "' on ", DayText(d));
    std::vector<UnitIdx> sources;
    for (const std::string& id : e.source_unit_ids()) {
      ASSIGN_OR_RETURN(UnitIdx src, UnitOf(f, id));
      const Unit& unit = s_.units[src];
      if (unit.dissolved != d) {
        return Depends(
            f, what,
            absl::StrCat("unit '", unit.id, "' does not end on that day"));
      }
      const UnitIdx parent = unit.last_parent;
      if (parent != kNoUnit && s_.units[parent].dissolved != kForever) {
        return Depends(
            f, what,
            absl::StrCat("the parent '", s_.units[parent].id, "' of '", unit.id,
                         "' ended on ", DayText(s_.units[parent].dissolved)));
      }
      RETURN_IF_ERROR(NoPlanCounted(f, what, d, {src, target}));
      RETURN_IF_ERROR(NoLaterMove(f, what, src, d));
      sources.push_back(src);
    }
    // The children it moved (from its record): each still where the merge
    // put it, and nothing after it.
    const std::vector<UnitIdx>& children = record.children;
    std::map<UnitIdx, Removed> removed;
    for (UnitIdx c : children) {
      const Unit& child = s_.units[c];
      const auto& ps = child.parents;
      if (ps.size() < 2 || ps.back().first != d ||
          std::count(ps.begin(), ps.end(), ps.back()) > 1) {
        return Depends(
            f, what,
            absl::StrCat("unit '", child.id, "' was moved again later (on ",
                         DayText(ps.back().first), ")"));
      }
      if (child.dissolved != kForever) {
        return Depends(f, what,
                       absl::StrCat("unit '", child.id, "' ended on ",
                                    DayText(child.dissolved)));
      }
      const UnitIdx src = ps[ps.size() - 2].second;
      if (MakesCycle(c, src, d)) {
        return Depends(
            f, what,
            absl::StrCat("'", s_.units[src].id,
                         "' would be inside the subtree of '", child.id, "'"));
      }
      RETURN_IF_ERROR(NoPlanCounted(f, what, d, {ps.back().second}));
      RETURN_IF_ERROR(NoLaterMove(f, what, ps.back().second, d));
      RemoveAlong(ps.back().second, d, 0, c, &removed);
    }
    // The members it transferred (from its record), likewise.
    absl::flat_hash_map<int32_t, UnitIdx> members;
    for (int32_t m : record.members) {
      const auto& cells = s_.members[m].cells;
      if (cells.size() < 2 || cells.back().first != d ||
          std::count(cells.begin(), cells.end(), cells.back()) > 1) {
        return Depends(f, what,
                       absl::StrCat("member '", s_.members[m].id,
                                    "' has a later change (on ",
                                    DayText(cells.back().first), ")"));
      }
      RETURN_IF_ERROR(NoLaterMove(f, what, cells.back().second, d));
      members[m] = cells.back().second;
      RemoveAlong(cells.back().second, d, 1, kNoUnit, &removed);
    }
    RETURN_IF_ERROR(NothingOfMembersAfter(f, what, members, d));
    RETURN_IF_ERROR(AttendanceHolds(f, what, d, removed));
    // The mirror of UnitsMerged, in reverse order.
    for (UnitIdx src : sources) {
      Unit& unit = s_.units[src];
      Set(&unit.dissolved, kForever);
      PostEnd(src, d, -1);
      Set(&unit.last_change, LastChangeOf(unit));
      EraseLast(&unit.successors, target);
      EraseLast(&s_.units[target].predecessors, src);
    }
    for (auto it = record.members.rbegin(); it != record.members.rend(); ++it) {
      UntransferMember(*it);
    }
    for (auto it = children.rbegin(); it != children.rend(); ++it) {
      UnmoveUnit(*it);
    }
    State::MergeRecord saved = std::move(rec->second);
    s_.merges.erase(rec);
    OnUndo([this, position, saved] { s_.merges[position] = saved; });
    return absl::OkStatus();
  }

  absl::Status Retracted(const v1::EventRetracted& e, uint64_t position) {
    const std::string f = "event_retracted.target_position";
    ASSIGN_OR_RETURN(const v1::Event* target, Current(f, e.target_position()));
    const v1::Event copy = *target;
    RETURN_IF_ERROR(Reverse(copy, f, e.target_position()));
    s_.retracted.emplace(e.target_position(), true);
    OnUndo([this, t = e.target_position()] { s_.retracted.erase(t); });
    (void)position;
    return absl::OkStatus();
  }

  // OK if `replacement` registers the commitment of `old` for the same
  // registrant, unit, cell, year and date; else why not.
  absl::Status SameRegistration(const v1::Event& old,
                                const v1::Event& replacement) {
    const v1::CommitmentRegistered& a = old.commitment_registered();
    const v1::CommitmentRegistered& b = replacement.commitment_registered();
    const Day day = DayOf(old.business_date());
    if (a.member_id() == b.member_id() && a.unit_id() == b.unit_id() &&
        a.cell_id() == b.cell_id() &&
        CommitmentYear(a, day) == CommitmentYear(b, day) &&
        DayOf(replacement.business_date()) == day) {
      return absl::OkStatus();
    }
    return Precondition(
        "event_corrected.replacement.commitment_registered",
        absl::StrCat("a correction of commitment '", a.commitment_id(),
                     "' keeps its member_id, unit_id, cell_id, year and "
                     "business_date (it may change the items, the campaign "
                     "and the period's part); to change those, retract it "
                     "and register a new commitment_id"));
  }

  absl::Status Corrected(const v1::EventCorrected& e, uint64_t position) {
    const std::string f = "event_corrected.target_position";
    ASSIGN_OR_RETURN(const v1::Event* target, Current(f, e.target_position()));
    const v1::Event old = *target;
    if (old.payload_case() != e.replacement().payload_case()) {
      return Precondition(
          "event_corrected.replacement",
          absl::StrCat("a correction keeps the event's type: the target is a ",
                       PayloadName(old), ", the replacement a ",
                       PayloadName(e.replacement())));
    }
    if (old.has_commitment_registered() &&
        old.commitment_registered().commitment_id() ==
            e.replacement().commitment_registered().commitment_id()) {
      // A registration keeps its id (an evaluation names it), so its
      // correction changes what the figures do not count: the items, the
      // campaign, the period's month or quarter.
      RETURN_IF_ERROR(SameRegistration(old, e.replacement()));
    } else {
      RETURN_IF_ERROR(Reverse(old, f, e.target_position()));
      const std::string saved = nested_;
      nested_ = ".event_corrected.replacement";
      // The replacement stands for the target's position (its merge record).
      absl::Status st = Apply(e.replacement(), e.target_position());
      nested_ = saved;
      RETURN_IF_ERROR(st);
    }
    std::shared_ptr<v1::Event> previous;
    if (auto it = s_.superseded.find(e.target_position());
        it != s_.superseded.end()) {
      previous = std::move(it->second);
    }
    s_.superseded[e.target_position()] =
        std::make_unique<v1::Event>(e.replacement());
    // Journaling is always on for corrections.
    OnUndo([this, t = e.target_position(), previous] {
      if (previous != nullptr) {
        s_.superseded[t] = std::make_unique<v1::Event>(*previous);
      } else {
        s_.superseded.erase(t);
      }
    });
    return absl::OkStatus();
  }

  State& s_;
  bool journal_ = false;
  std::vector<UndoEntry> undo_;
  // The event being applied, for messages: events[index_] + nested_.
  size_t index_ = 0;
  std::string nested_;
  std::string Path() const {
    return absl::StrCat("events[", index_, "]", nested_);
  }
  std::unique_ptr<v1::Event> fetched_;
};

absl::Status Projection::State::ApplyRequest(
    absl::Span<const v1::Event* const> events, uint64_t first_position) {
  if (applier_ == nullptr) applier_ = std::make_unique<Applier>(this);
  return applier_->Run(events, first_position);
}

void Projection::State::PrefetchAhead(absl::Span<const v1::Event* const> events,
                                      size_t i) const {
  // A pipeline of dependent loads, one step per event: each step reads
  // what the step before pulled in and prefetches what the next needs.
  constexpr size_t kEventAhead = 16;  // 32 was no better
  constexpr size_t kSlotsAhead = 8;   // 16 was slower on the national replay
  constexpr size_t kEntriesAhead = 4;
  constexpr int kLevels = 3;  // the unit, its parent, its grandparent
  if (i + kEventAhead < events.size()) {
    // The parsed event itself: Prefetch() reads its ids through three
    // pointers, each a miss when another thread parsed it. A parser
    // allocates an event's objects one after the other on its arena, so
    // the bytes up to the next event hold them (at most 8 lines taken).
    const size_t j = i + kEventAhead;
    const char* from = reinterpret_cast<const char*>(events[j]);
    const char* to = j + 1 < events.size()
                         ? reinterpret_cast<const char*>(events[j + 1])
                         : from;
    if (to <= from || to - from > 512) to = from + 256;
    for (const char* line = from; line < to; line += 64) {
      __builtin_prefetch(line);
    }
  }
  if (i + kSlotsAhead < events.size()) Prefetch(*events[i + kSlotsAhead]);
  if (i + kEntriesAhead < events.size()) {
    PrefetchEntries(*events[i + kEntriesAhead]);
  }
  // Level 0 three events ahead, level 1 two, level 2 one; the levels above
  // (blocs, the root) are few and stay in the cache.
  for (int level = 0; level < kLevels; ++level) {
    const size_t j = i + kEntriesAhead - 1 - level;
    if (j < events.size()) PrefetchLevel(*events[j], level);
    // The row of an earlier day than the last, one step later (the
    // grandparent's guess would come too late to help).
    if (level + 1 < kLevels && j - 1 < events.size()) {
      PrefetchGuess(*events[j - 1], level);
    }
  }
}

namespace {

// The last and the first row, which Series::Add reads first (it adds at
// the last when events come in date order). Its guess of an earlier day's
// row reads their days: PrefetchGuess, one step later.
template <int K>
void PrefetchRowOf(const Series<K>& series) {
  const std::vector<Row<K>>& rows = series.rows();
  if (rows.empty()) return;
  __builtin_prefetch(&rows.back());
  __builtin_prefetch(&rows.front());
}
template <int K>
void PrefetchGuessOf(const Series<K>& series, Day day) {
  if (!series.empty()) __builtin_prefetch(series.Guess(day));
}

}  // namespace

Projection::State::PostTargets Projection::State::TargetsOf(
    const v1::Event& e) const {
  PostTargets t;
  switch (e.payload_case()) {
    case v1::Event::kSessionHeld:
      t.unit = Resolved(e.session_held().unit_id());
      t.sessions = true;
      break;
    case v1::Event::kMemberJoined:
      t.unit = Resolved(e.member_joined().cell_id());
      t.state = true;
      break;
    case v1::Event::kCommitmentRegistered: {
      const v1::CommitmentRegistered& c = e.commitment_registered();
      t.unit = Resolved(c.cell_id().empty() ? c.unit_id() : c.cell_id());
      t.commitments = true;
      break;
    }
    case v1::Event::kCommitmentEvaluated: {
      const int32_t c = Resolved(e.commitment_evaluated().commitment_id());
      if (c >= 0) t.unit = commitments[c].unit;
      t.commitments = true;
      break;
    }
    default:
      break;
  }
  if (t.unit != kNoUnit) t.day = DayOf(e.business_date());
  return t;
}

void Projection::State::PrefetchLines(const Unit& u, const Facts& f,
                                      const PostTargets& t) {
  __builtin_prefetch(&u.last_parent_day);
  __builtin_prefetch(&u.children_ever);
  if (t.sessions) {
    __builtin_prefetch(&f.sessions);
    __builtin_prefetch(&f.compliance);
  }
  if (t.state) __builtin_prefetch(&f.state);
  if (t.commitments) __builtin_prefetch(&f.commitments);
}

void Projection::State::PrefetchLevel(const v1::Event& e, int level) const {
  const PostTargets t = TargetsOf(e);
  UnitIdx u = t.unit;
  for (int k = 0; k < level && u != kNoUnit; ++k) u = units[u].last_parent;
  if (u == kNoUnit) return;
  // The rows this level's Add()s read (their headers came in a step ago)...
  const Unit& unit = units[u];
  const Facts& f = level == 0 ? unit.own : unit.agg;
  if (t.sessions) {
    PrefetchRowOf(f.sessions);
    PrefetchRowOf(f.compliance);
    if (level == 0 && !unit.regular_months.empty()) {
      // All of it: CountPeriod's binary search starts in the middle.
      const auto& months = unit.regular_months;
      __builtin_prefetch(&months.front());
      __builtin_prefetch(&months[months.size() / 2]);
      __builtin_prefetch(&months.back());
    }
  }
  if (t.state) PrefetchRowOf(f.state);
  if (t.commitments) PrefetchRowOf(f.commitments);
  // ... and the next level's unit, for the next step.
  if (unit.last_parent != kNoUnit) {
    const Unit& parent = units[unit.last_parent];
    PrefetchLines(parent, parent.agg, t);
  }
}

void Projection::State::PrefetchGuess(const v1::Event& e, int level) const {
  const PostTargets t = TargetsOf(e);
  UnitIdx u = t.unit;
  for (int k = 0; k < level && u != kNoUnit; ++k) u = units[u].last_parent;
  if (u == kNoUnit) return;
  const Facts& f = level == 0 ? units[u].own : units[u].agg;
  if (t.sessions) PrefetchGuessOf(f.sessions, t.day);
  if (t.state) PrefetchGuessOf(f.state, t.day);
  if (t.commitments) PrefetchGuessOf(f.commitments, t.day);
}

void Projection::State::PrefetchEntries(const v1::Event& e) const {
  // Looks the event's ids up (and keeps what it found, see Resolved()),
  // and pulls in the lines of the unit its checks read and the headers of
  // the series it changes, which PrefetchLevel reads next.
  auto unit = [this](const std::string& id, const PostTargets& t) {
    auto it = unit_index.find(id);
    if (it == unit_index.end()) return;
    KeepResolved(id, it->second);
    const Unit& u = units[it->second];
    __builtin_prefetch(&u.created);
    PrefetchLines(u, u.own, t);
    if (t.sessions) __builtin_prefetch(&u.regular_months);
  };
  auto member = [this](const std::string& id) {
    auto it = member_index.find(id);
    if (it == member_index.end()) return;
    KeepResolved(id, it->second);
    __builtin_prefetch(&members[it->second]);
  };
  PostTargets t;
  switch (e.payload_case()) {
    case v1::Event::kSessionHeld:
      t.sessions = true;
      unit(e.session_held().unit_id(), t);
      break;
    case v1::Event::kMemberJoined:
      t.state = true;
      unit(e.member_joined().cell_id(), t);
      break;
    case v1::Event::kCommitmentRegistered: {
      const v1::CommitmentRegistered& c = e.commitment_registered();
      t.commitments = true;
      if (!c.cell_id().empty() || !c.unit_id().empty()) {
        unit(c.cell_id().empty() ? c.unit_id() : c.cell_id(), t);
      }
      if (!c.member_id().empty()) member(c.member_id());
      break;
    }
    case v1::Event::kCommitmentEvaluated: {
      const std::string& id = e.commitment_evaluated().commitment_id();
      auto it = commitment_index.find(id);
      if (it == commitment_index.end()) break;
      KeepResolved(id, it->second);
      __builtin_prefetch(&commitments[it->second]);
      break;
    }
    default:
      break;
  }
}

void Projection::State::Prefetch(const v1::Event& e) const {
  switch (e.payload_case()) {
    case v1::Event::kSessionHeld:
      unit_index.prefetch(e.session_held().unit_id());
      break;
    case v1::Event::kMemberJoined:
      unit_index.prefetch(e.member_joined().cell_id());
      member_index.prefetch(e.member_joined().member_id());
      break;
    case v1::Event::kMemberTransferred:
      member_index.prefetch(e.member_transferred().member_id());
      unit_index.prefetch(e.member_transferred().to_cell_id());
      break;
    case v1::Event::kCommitmentRegistered: {
      const v1::CommitmentRegistered& c = e.commitment_registered();
      commitment_index.prefetch(c.commitment_id());
      if (!c.member_id().empty()) member_index.prefetch(c.member_id());
      unit_index.prefetch(c.cell_id().empty() ? c.unit_id() : c.cell_id());
      break;
    }
    case v1::Event::kCommitmentEvaluated:
      commitment_index.prefetch(e.commitment_evaluated().commitment_id());
      break;
    default:
      break;
  }
}

Projection::State::State(Folder fold, EventFetcher fetch)
    : fold_(std::move(fold)), fetch_(std::move(fetch)) {}

Projection::State::~State() = default;

}  // namespace nenep::projections
