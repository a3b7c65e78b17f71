// The projection's writer: referential checks and the application of events.
//
// Every event is checked in full before anything of it changes; the changes
// of a request with several events are journaled so that a failure of a later
// event undoes the earlier ones.

#include <algorithm>
#include <cstdio>
#include <memory>
#include <type_traits>
#include <utility>

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
      if (events[i]->payload_case() == v1::Event::kEventCorrected) {
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
  static_assert(kAwardCounters >= kSessionCounters &&
                kAwardCounters >= kComplianceCounters &&
                kAwardCounters >= kStateCounters &&
                kAwardCounters >= kPlanCounters &&
                kAwardCounters >= kCommitmentCounters);

  // The family of a series, for the journal (two pairs of families share
  // a counter count, so the member pointer decides).
  template <int K>
  static int8_t Family(Series<K> Facts::*f) {
    if constexpr (K == kSessionCounters) {
      return 0;
    } else if constexpr (K == kAwardCounters) {
      return 5;
    } else if constexpr (K == kComplianceCounters) {
      static_assert(kCommitmentCounters == kComplianceCounters);
      return f == &Facts::compliance ? 1 : 4;
    } else {
      static_assert(kStateCounters == kPlanCounters && K == kStateCounters);
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

  // Records that `succ` succeeds `pred` (once).
  void Link(UnitIdx pred, UnitIdx succ) {
    std::vector<UnitIdx>& s = s_.units[pred].successors;
    if (std::find(s.begin(), s.end(), succ) == s.end()) Push(&s, succ);
    std::vector<UnitIdx>& p = s_.units[succ].predecessors;
    if (std::find(p.begin(), p.end(), pred) == p.end()) Push(&p, pred);
  }

  // Ends u on d (checked by the caller).
  void EndUnit(UnitIdx u, Day d, const std::vector<UnitIdx>& successors) {
    Unit& unit = s_.units[u];
    Post(&Facts::state, u, d,
         std::array<int32_t, kStateCounters>{-1, unit.is_cell ? -1 : 0, 0});
    if (unit.is_cell) {
      const int32_t month = MonthOf(d);
      const int32_t quarter = QuarterOf(d);
      // The month (quarter) of d is no longer a whole active one.
      for (const auto& [m, n] : unit.regular_months) {
        if (n > 0 && MonthLastDay(m) >= d && MonthFirstDay(m) >= unit.created) {
          Post(&Facts::compliance, u, MonthLastDay(m),
               One<kComplianceCounters>(kRegHeld, -1));
        }
      }
      for (const auto& [q, n] : unit.thematic_quarters) {
        if (n > 0 && QuarterLastDay(q) >= d &&
            QuarterFirstDay(q) >= unit.created) {
          Post(&Facts::compliance, u, QuarterLastDay(q),
               One<kComplianceCounters>(kThemHeld, -1));
        }
      }
      // A cell created and ended within one month (quarter) no longer
      // counts as young in it: it is not in the month-end count either.
      if (unit.created != MonthFirstDay(MonthOf(unit.created)) &&
          MonthOf(unit.created) == month) {
        Post(&Facts::compliance, u, MonthLastDay(month),
             One<kComplianceCounters>(kRegYoung, -1));
      }
      if (unit.created != QuarterFirstDay(QuarterOf(unit.created)) &&
          QuarterOf(unit.created) == quarter) {
        Post(&Facts::compliance, u, QuarterLastDay(quarter),
             One<kComplianceCounters>(kThemYoung, -1));
      }
    }
    Set(&unit.dissolved, d);
    Set(&unit.last_change, d);
    for (UnitIdx succ : successors) Link(u, succ);
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
        return UnitsMerged(e.units_merged(), d);
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
    const bool cell = s_.units[u].is_cell;
    Post(&Facts::state, u, d,
         std::array<int32_t, kStateCounters>{1, cell ? 1 : 0, 0});
    if (cell) {
      if (d != MonthFirstDay(MonthOf(d))) {
        Post(&Facts::compliance, u, MonthLastDay(MonthOf(d)),
             One<kComplianceCounters>(kRegYoung, 1));
      }
      if (d != QuarterFirstDay(QuarterOf(d))) {
        Post(&Facts::compliance, u, QuarterLastDay(QuarterOf(d)),
             One<kComplianceCounters>(kThemYoung, 1));
      }
    }
    return absl::OkStatus();
  }

  absl::Status UnitRenamed(const v1::UnitRenamed& e, Day d) {
    constexpr absl::string_view f = "unit_renamed";
    ASSIGN_OR_RETURN(UnitIdx u,
                     ActiveUnit("unit_renamed.unit_id", e.unit_id(), d));
    RETURN_IF_ERROR(InDateOrder("unit_renamed.unit_id", u, d));
    Unit& unit = s_.units[u];
    Push(&unit.names, std::make_pair(d, e.new_name()));
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
    constexpr absl::string_view f = "unit_moved";
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

  absl::Status UnitsMerged(const v1::UnitsMerged& e, Day d) {
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
    }
    Push(&s_.members[m].cells, std::make_pair(d, to));
  }

  absl::Status MemberJoined(const v1::MemberJoined& e, Day d) {
    constexpr absl::string_view f = "member_joined";
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
      s_.member_index.emplace(s_.members.back().id, m);
      OnUndo([this] {
        s_.member_index.erase(s_.members.back().id);
        s_.members.pop_back();
      });
    }
    TransferMember(m, d, cell);
    return absl::OkStatus();
  }

  absl::Status MemberTransferred(const v1::MemberTransferred& e, Day d) {
    constexpr absl::string_view f = "member_transferred";
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
    constexpr absl::string_view f = "member_left";
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
        const int32_t parent = it->second;
        for (size_t r = 0; r < s_.plans[parent].requirements.size(); ++r) {
          Requirement& req = s_.plans[parent].requirements[r];
          for (size_t k = 0; k < req.units.size(); ++k) {
            if (req.units[k] != issuer || req.done[k] != 0) continue;
            const uint8_t done = d <= req.due ? 1 : 2;
            Set(&req.done[k], done);
            Set(&req.done_on[k], d);
            if (done == 1) {
              Post(&Facts::plans, issuer, req.due,
                   One<kPlanCounters>(kOnTime, 1));
            }
          }
        }
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
    int y = 0, mo = 0, dd = 0;
    CivilFromDay(d, &y, &mo, &dd);
    Commitment c;
    c.id = s_.ids.Add(e.commitment_id());
    c.member = m;
    c.unit = counted;
    c.registered = d;
    c.year =
        static_cast<int16_t>(e.period().year() != 0 ? e.period().year() : y);
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
    const int32_t idx = static_cast<int32_t>(s_.commitments.size());
    s_.commitments.push_back(std::move(c));
    s_.commitment_index.emplace(s_.commitments.back().id, idx);
    OnUndo([this] {
      s_.commitment_index.erase(s_.commitments.back().id);
      s_.commitments.pop_back();
    });
    return absl::OkStatus();
  }

  absl::Status RetractRegistration(int32_t c) {
    Commitment& com = s_.commitments[c];
    // The commitment stays in the list (positions of later ones hold) but
    // no longer counts; its id may not be reused.
    std::array<int32_t, kCommitmentCounters> delta{};
    delta[kRegistered] = -1;
    Post(&Facts::commitments, com.unit, com.registered, delta);
    Set(&com.unit, kNoUnit);
    return absl::OkStatus();
  }

  absl::Status Evaluated(const v1::CommitmentEvaluated& e, Day d, int sign,
                         absl::string_view f) {
    auto it = s_.commitment_index.find(e.commitment_id());
    if (it == s_.commitment_index.end()) {
      return NotFound("commitment_evaluated.commitment_id", "commitment",
                      e.commitment_id());
    }
    Commitment& c = s_.commitments[it->second];
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
  absl::Status Reverse(const v1::Event& e, absl::string_view field) {
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
      default:
        return Precondition(
            field, absl::StrCat("a ", PayloadName(e),
                                " cannot be retracted or corrected; record "
                                "the change that undoes it instead (e.g. a "
                                "move, a transfer or a dissolution)"));
    }
  }

  absl::Status Retracted(const v1::EventRetracted& e, uint64_t position) {
    const std::string f = "event_retracted.target_position";
    ASSIGN_OR_RETURN(const v1::Event* target, Current(f, e.target_position()));
    const v1::Event copy = *target;
    RETURN_IF_ERROR(Reverse(copy, f));
    s_.retracted.emplace(e.target_position(), true);
    OnUndo([this, t = e.target_position()] { s_.retracted.erase(t); });
    (void)position;
    return absl::OkStatus();
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
    RETURN_IF_ERROR(Reverse(old, f));
    const std::string saved = nested_;
    nested_ = ".event_corrected.replacement";
    absl::Status st = Apply(e.replacement(), position);
    nested_ = saved;
    RETURN_IF_ERROR(st);
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

Projection::State::State(Folder fold, EventFetcher fetch)
    : fold_(std::move(fold)), fetch_(std::move(fetch)) {}

Projection::State::~State() = default;

}  // namespace nenep::projections
