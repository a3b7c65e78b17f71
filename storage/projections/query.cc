// The projection's readers: units, rollups in both attributions, checksum.

#include <algorithm>
#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "storage/common/coding.h"
#include "storage/common/sha256.h"
#include "storage/projections/projection_state.h"

namespace nenep::projections {
namespace {

// Whole months (quarters) of [created, dissolved) as running numbers
// [*first, *last]; empty if *first > *last.
void WholePeriods(Day created, Day dissolved, bool quarters, int32_t* first,
                  int32_t* last) {
  auto of = [&](Day d) { return quarters ? QuarterOf(d) : MonthOf(d); };
  auto first_day = [&](int32_t p) {
    return quarters ? QuarterFirstDay(p) : MonthFirstDay(p);
  };
  auto last_day = [&](int32_t p) {
    return quarters ? QuarterLastDay(p) : MonthLastDay(p);
  };
  *first = created == first_day(of(created)) ? of(created) : of(created) + 1;
  if (dissolved >= kForever) {
    *last = INT32_MAX;
  } else {
    const Day end = dissolved - 1;
    *last = end == last_day(of(end)) ? of(end) : of(end) - 1;
  }
}

void AddFlows(const Facts& f, Day from, Day to, Rollup* r,
              absl::flat_hash_set<UnitIdx>* awarded) {
  const auto s = f.sessions.Sum(from, to);
  r->sessions_regular += s[kRegular];
  r->sessions_thematic += s[kThematic];
  r->sessions_other += s[kOtherKind];
  r->sessions_total += s[kAllSessions];
  r->sessions_hcm += s[kHcm];
  r->attendance_present += s[kPresent];
  r->attendance_convened += s[kConvened];
  const auto p = f.plans.Sum(from, to);
  r->plans_issued += p[kPlansIssued];
  r->child_plans_required += p[kRequired];
  r->child_plans_on_time += p[kOnTime];
  const auto c = f.commitments.Sum(from, to);
  r->commitments_registered += c[kRegistered];
  r->commitments_evaluated += c[kEvaluated];
  r->commitments_fulfilled += c[kFulfilled];
  r->members_with_commitment += c[kMembersRegistered];
  const auto a = f.awards.Sum(from, to);
  r->awards_bang_khen += a[kBangKhen];
  r->awards_giay_khen += a[kGiayKhen];
  r->awards_co_thi_dua += a[kCoThiDua];
  r->awards_other += a[kOtherAward];
  r->awards_central += a[kLvCentral];
  r->awards_ministry_province += a[kLvMinistry];
  r->awards_upper_base += a[kLvUpperBase];
  r->awards_base += a[kLvBase];
  r->award_recipients_collective += a[kCollective];
  r->award_recipients_individual += a[kIndividual];
  auto it = std::lower_bound(f.awarded.begin(), f.awarded.end(),
                             std::make_pair(from, INT32_MIN));
  for (; it != f.awarded.end() && it->first <= to; ++it) {
    awarded->insert(it->second);
  }
}

void AddStanding(const Facts& f, Day to, Rollup* r) {
  for (const auto& row : f.state.rows()) {
    if (row.day > to) break;
    r->units += row.v[kUnits];
    r->cells += row.v[kCells];
    r->members += row.v[kMembers];
  }
}

}  // namespace

bool Rollup::operator==(const Rollup& o) const {
  return std::tie(units, cells, members, sessions_regular, sessions_thematic,
                  sessions_other, sessions_total, sessions_hcm,
                  attendance_present, attendance_convened,
                  regular_cell_months_held, regular_cell_months_active,
                  thematic_cell_quarters_held, thematic_cell_quarters_active,
                  plans_issued, child_plans_required, child_plans_on_time,
                  members_with_commitment, commitments_registered,
                  commitments_evaluated, commitments_fulfilled,
                  awards_bang_khen, awards_giay_khen, awards_co_thi_dua,
                  awards_other, awards_central, awards_ministry_province,
                  awards_upper_base, awards_base, award_recipients_collective,
                  award_recipients_individual, awarded_cells) ==
         std::tie(
             o.units, o.cells, o.members, o.sessions_regular,
             o.sessions_thematic, o.sessions_other, o.sessions_total,
             o.sessions_hcm, o.attendance_present, o.attendance_convened,
             o.regular_cell_months_held, o.regular_cell_months_active,
             o.thematic_cell_quarters_held, o.thematic_cell_quarters_active,
             o.plans_issued, o.child_plans_required, o.child_plans_on_time,
             o.members_with_commitment, o.commitments_registered,
             o.commitments_evaluated, o.commitments_fulfilled,
             o.awards_bang_khen, o.awards_giay_khen, o.awards_co_thi_dua,
             o.awards_other, o.awards_central, o.awards_ministry_province,
             o.awards_upper_base, o.awards_base, o.award_recipients_collective,
             o.award_recipients_individual, o.awarded_cells);
}

absl::StatusOr<UnitIdx> Projection::State::Find(
    absl::string_view unit_id) const {
  auto it = unit_index.find(unit_id);
  if (it == unit_index.end()) {
    return absl::NotFoundError(
        absl::StrCat("unit '", unit_id, "' is not recorded"));
  }
  return it->second;
}

std::vector<UnitIdx> Projection::State::ChildrenOn(UnitIdx u, Day d) const {
  std::vector<UnitIdx> out;
  for (UnitIdx c : units[u].children_ever) {
    if (units[c].ActiveOn(d) && units[c].ParentOn(d) == u) out.push_back(c);
  }
  return out;
}

bool Projection::State::InSubtree(UnitIdx u, UnitIdx root, Day d) const {
  for (int depth = 0; u != kNoUnit && depth < 64; ++depth) {
    if (u == root) return true;
    u = units[u].ParentOn(d);
  }
  return false;
}

UnitInfo Projection::State::Info(UnitIdx u, Day on) const {
  const Unit& unit = units[u];
  UnitInfo info;
  info.unit_id = unit.id;
  info.name = unit.NameOn(on);
  info.short_name = unit.short_name;
  info.kind = unit.kind;
  info.setting = unit.setting;
  info.is_cell = unit.is_cell;
  info.created = unit.created;
  info.dissolved = unit.dissolved;
  const Day at = std::max(on, unit.created);
  for (UnitIdx p = unit.ParentOn(at); p != kNoUnit; p = units[p].ParentOn(at)) {
    info.parent_chain.push_back(
        UnitRef{units[p].id, units[p].NameOn(at), units[p].kind});
    if (info.parent_chain.size() > 64) break;
  }
  // Links are kept once per event that made them; each is listed once.
  auto add_once = [&](std::vector<std::string>* ids, UnitIdx v) {
    if (std::find(ids->begin(), ids->end(), units[v].id) == ids->end()) {
      ids->push_back(units[v].id);
    }
  };
  for (UnitIdx p : unit.predecessors) add_once(&info.predecessor_ids, p);
  for (UnitIdx s : unit.successors) add_once(&info.successor_ids, s);
  info.children = static_cast<int64_t>(ChildrenOn(u, on).size());
  Rollup standing;
  AddStanding(unit.Agg(), on, &standing);
  info.cells = standing.cells;
  info.members = standing.members;
  return info;
}

Rollup Projection::State::RollupOf(
    UnitIdx u, Day from, Day to,
    const std::vector<std::pair<Day, Day>>& windows) const {
  const Facts& f = units[u].Agg();
  Rollup r;
  auto in_windows = [&](Day d) {
    for (const auto& [a, b] : windows) {
      if (d >= a && d <= b) return true;
    }
    return false;
  };
  if (in_windows(to)) AddStanding(f, to, &r);
  absl::flat_hash_set<UnitIdx> awarded;
  for (const auto& [a, b] : windows) {
    const Day lo = std::max(from, a), hi = std::min(to, b);
    if (lo <= hi) AddFlows(f, lo, hi, &r, &awarded);
  }
  r.awarded_cells = static_cast<int64_t>(awarded.size());
  // Cell-months: held from the rows at month ends; active = cells at each
  // month end less those created during the month.
  for (const bool quarters : {false, true}) {
    const int32_t p0 = quarters ? QuarterOf(from) : MonthOf(from);
    const int32_t p1 = quarters ? QuarterOf(to) : MonthOf(to);
    auto last_day = [&](int32_t p) {
      return quarters ? QuarterLastDay(p) : MonthLastDay(p);
    };
    int64_t held = 0;
    int64_t active = 0;
    int64_t cells = 0;
    auto st = f.state.rows().begin();
    const auto st_end = f.state.rows().end();
    auto co = std::lower_bound(
        f.compliance.rows().begin(), f.compliance.rows().end(), last_day(p0),
        [](const Row<kComplianceCounters>& row, Day d) { return row.day < d; });
    for (int32_t p = p0; p <= p1; ++p) {
      const Day end = last_day(p);
      for (; st != st_end && st->day <= end; ++st) cells += st->v[kCells];
      int64_t young = 0, held_here = 0;
      for (; co != f.compliance.rows().end() && co->day <= end; ++co) {
        if (co->day != end) continue;
        young += co->v[quarters ? kThemYoung : kRegYoung];
        held_here += co->v[quarters ? kThemHeld : kRegHeld];
      }
      if (!in_windows(end)) continue;
      active += cells - young;
      held += held_here;
    }
    if (quarters) {
      r.thematic_cell_quarters_held = held;
      r.thematic_cell_quarters_active = active;
    } else {
      r.regular_cell_months_held = held;
      r.regular_cell_months_active = active;
    }
  }
  return r;
}

std::vector<std::pair<Day, Day>> Projection::State::UnderParent(
    UnitIdx u, UnitIdx parent) const {
  std::vector<std::pair<Day, Day>> out;
  const auto& parents = units[u].parents;
  for (size_t i = 0; i < parents.size(); ++i) {
    if (parents[i].second != parent) continue;
    const Day end =
        i + 1 < parents.size() ? parents[i + 1].first - 1 : kForever;
    // The first interval also covers days before the unit's creation.
    const Day start = i == 0 ? -kForever : parents[i].first;
    if (start <= end) out.emplace_back(start, end);
  }
  return out;
}

std::vector<UnitIdx> Projection::State::ChildrenDuring(UnitIdx u, Day from,
                                                       Day to) const {
  std::vector<UnitIdx> out;
  for (UnitIdx c : units[u].children_ever) {
    const Unit& child = units[c];
    if (child.created > to || child.dissolved <= from) continue;
    for (const auto& [a, b] : UnderParent(c, u)) {
      if (a <= to && b >= from) {
        out.push_back(c);
        break;
      }
    }
  }
  return out;
}

std::vector<UnitIdx> Projection::State::MapAll(Day d) const {
  const UnitIdx n = static_cast<UnitIdx>(units.size());
  constexpr UnitIdx kUnknown = -2;
  std::vector<UnitIdx> target(n, kUnknown);
  std::vector<UnitIdx> path;
  for (UnitIdx start = 0; start < n; ++start) {
    if (target[start] != kUnknown) continue;
    // Follow lineage / ancestry until a unit of d's tree (or nothing).
    UnitIdx v = start;
    UnitIdx result = kNoUnit;
    path.clear();
    while (v != kNoUnit && path.size() < static_cast<size_t>(n) + 1) {
      if (target[v] != kUnknown) {
        result = target[v];
        break;
      }
      const Unit& unit = units[v];
      if (unit.gone()) break;
      if (unit.ActiveOn(d)) {
        result = v;
        break;
      }
      path.push_back(v);
      if (d >= unit.dissolved) {
        v = !unit.successors.empty() ? unit.successors.front()
                                     : unit.ParentOn(unit.dissolved - 1);
      } else {
        v = unit.ParentOn(unit.created);
      }
    }
    for (UnitIdx p : path) target[p] = result;
    target[start] = result;
  }
  return target;
}

std::shared_ptr<const Projection::State::StructureIndex>
Projection::State::IndexFor(Day d) const {
  absl::MutexLock lock(&index_mu_);
  if (index_ != nullptr && index_->day == d && index_->applied == applied) {
    return index_;
  }
  auto index = std::make_shared<StructureIndex>();
  index->day = d;
  index->applied = applied;
  const std::vector<UnitIdx> targets = MapAll(d);
  const size_t n = units.size();
  index->start.assign(n + 1, 0);
  for (UnitIdx t : targets) {
    if (t != kNoUnit) ++index->start[t + 1];
  }
  for (size_t t = 0; t < n; ++t) index->start[t + 1] += index->start[t];
  index->mapped.resize(index->start[n]);
  std::vector<int32_t> fill(index->start.begin(), index->start.end() - 1);
  for (UnitIdx v = 0; v < static_cast<UnitIdx>(n); ++v) {
    if (targets[v] != kNoUnit) index->mapped[fill[targets[v]]++] = v;
  }
  index_ = index;
  return index;
}

Rollup Projection::State::RollupAsOf(UnitIdx root, Day from, Day to,
                                     const StructureIndex& index) const {
  Rollup r;
  absl::flat_hash_set<UnitIdx> awarded;
  const Day d = index.day;
  const int32_t m0 = MonthOf(from), m1 = MonthOf(to);
  const int32_t q0 = QuarterOf(from), q1 = QuarterOf(to);
  // The subtree of root in d's tree, and every unit whose history it
  // carries.
  std::vector<UnitIdx> stack = {root};
  while (!stack.empty()) {
    const UnitIdx t = stack.back();
    stack.pop_back();
    for (UnitIdx c : ChildrenOn(t, d)) stack.push_back(c);
    for (int32_t i = index.start[t]; i < index.start[t + 1]; ++i) {
      const Unit& unit = units[index.mapped[i]];
      AddStanding(unit.own, to, &r);
      AddFlows(unit.own, from, to, &r, &awarded);
      // Held rows are at month and quarter ends within the range's periods.
      r.regular_cell_months_held +=
          unit.own.compliance.Sum(MonthLastDay(m0), MonthLastDay(m1))[kRegHeld];
      r.thematic_cell_quarters_held += unit.own.compliance.Sum(
          QuarterLastDay(q0), QuarterLastDay(q1))[kThemHeld];
      if (unit.is_cell) {
        int32_t first = 0, last = 0;
        WholePeriods(unit.created, unit.dissolved, false, &first, &last);
        r.regular_cell_months_active +=
            std::max(0, std::min(last, m1) - std::max(first, m0) + 1);
        WholePeriods(unit.created, unit.dissolved, true, &first, &last);
        r.thematic_cell_quarters_active +=
            std::max(0, std::min(last, q1) - std::max(first, q0) + 1);
      }
    }
  }
  r.awarded_cells = static_cast<int64_t>(awarded.size());
  return r;
}

std::string Projection::State::Checksum() const {
  Sha256 h;
  std::string buf;
  auto put = [&](int64_t v) { PutFixed64BE(&buf, static_cast<uint64_t>(v)); };
  auto flush = [&] {
    h.Update(buf);
    buf.clear();
  };
  auto series = [&](const auto& s) {
    put(static_cast<int64_t>(s.rows().size()));
    flush();
    // Rows are plain int32s without padding: hash their bytes.
    h.Update(absl::string_view(reinterpret_cast<const char*>(s.rows().data()),
                               s.rows().size() * sizeof(s.rows()[0])));
  };
  auto facts = [&](const Facts& f) {
    series(f.sessions);
    series(f.compliance);
    series(f.state);
    series(f.plans);
    series(f.commitments);
    series(f.awards);
    put(static_cast<int64_t>(f.awarded.size()));
    for (const auto& [day, cell] : f.awarded) {
      put(day);
      put(cell);
    }
  };
  put(static_cast<int64_t>(applied));
  put(static_cast<int64_t>(units.size()));
  for (const Unit& u : units) {
    h.UpdateField(u.id);
    for (const auto& [day, name] : u.names) {
      put(day);
      flush();
      h.UpdateField(name);
    }
    h.UpdateField(u.short_name);
    put(u.kind);
    put(u.setting);
    put(u.created);
    put(u.dissolved);
    put(u.last_change);
    put(u.members_now);
    put(u.members_changed);
    put(u.member_entries);
    for (const auto& [day, p] : u.parents) {
      put(day);
      put(p);
    }
    put(-1);
    for (UnitIdx p : u.predecessors) put(p);
    put(-1);
    for (UnitIdx s : u.successors) put(s);
    put(-1);
    for (UnitIdx c : u.children_ever) put(c);
    put(-1);
    for (const auto& [m, n] : u.regular_months) {
      put(m);
      put(n);
    }
    put(-1);
    for (const auto& [q, n] : u.thematic_quarters) {
      put(q);
      put(n);
    }
    put(-1);
    facts(u.own);
    facts(u.agg);
    flush();
  }
  put(static_cast<int64_t>(members.size()));
  for (const Member& m : members) {
    flush();
    h.UpdateField(m.id);
    for (const auto& [day, cell] : m.cells) {
      put(day);
      put(cell);
    }
    put(-1);
    for (int16_t y : m.commitment_years) put(y);
    put(-1);
  }
  put(static_cast<int64_t>(commitments.size()));
  for (const Commitment& c : commitments) {
    flush();
    h.UpdateField(c.id);
    put(c.member);
    put(c.unit);
    put(c.registered);
    put(c.year);
    put(c.evaluated);
    put(c.fulfilled);
    put(c.evaluated_on);
  }
  put(static_cast<int64_t>(plans.size()));
  for (const Plan& p : plans) {
    flush();
    h.UpdateField(p.id);
    h.UpdateField(p.identity);
    put(p.issuer);
    put(p.issued);
    put(p.implements);
    put(p.retracted);
    for (const Requirement& r : p.requirements) {
      put(r.due);
      for (size_t k = 0; k < r.units.size(); ++k) {
        put(r.units[k]);
        put(r.done[k]);
      }
      put(-1);
    }
    put(-2);
  }
  put(static_cast<int64_t>(award_ids.size()));
  for (const std::string& id : award_ids) {
    flush();
    h.UpdateField(id);
  }
  // Retractions and corrections, in position order.
  std::vector<uint64_t> positions;
  for (const auto& [p, unused] : retracted) positions.push_back(p);
  std::sort(positions.begin(), positions.end());
  for (uint64_t p : positions) put(static_cast<int64_t>(p));
  put(-1);
  positions.clear();
  for (const auto& [p, unused] : superseded) positions.push_back(p);
  std::sort(positions.begin(), positions.end());
  for (uint64_t p : positions) {
    put(static_cast<int64_t>(p));
    flush();
    h.UpdateField(superseded.at(p)->SerializeAsString());
  }
  flush();
  return HexEncode(h.Finish());
}

// ---- Projection ---------------------------------------------------------

Projection::Projection(Folder fold, EventFetcher fetch)
    : state_(std::make_unique<State>(std::move(fold), std::move(fetch))) {}

Projection::~Projection() = default;

absl::Status Projection::Apply(absl::Span<const v1::Event* const> events,
                               uint64_t first_position) {
  absl::WriterMutexLock lock(&mu_);
  state_->ForgetResolved();
  return state_->ApplyRequest(events, first_position);
}

void Projection::ApplyLogged(
    absl::Span<const v1::Event* const> events, uint64_t first_position,
    absl::FunctionRef<void(uint64_t, const absl::Status&)> refused) {
  absl::WriterMutexLock lock(&mu_);
  state_->ForgetResolved();
  for (size_t i = 0; i < events.size(); ++i) {
    state_->PrefetchAhead(events, i);
    absl::Status s =
        state_->ApplyRequest(events.subspan(i, 1), first_position + i);
    if (!s.ok()) refused(first_position + i, s);
  }
}

uint64_t Projection::applied() const {
  absl::ReaderMutexLock lock(&mu_);
  return state_->applied;
}

absl::StatusOr<UnitInfo> Projection::GetUnit(absl::string_view unit_id,
                                             Day on) const {
  absl::ReaderMutexLock lock(&mu_);
  auto u = state_->Find(unit_id);
  if (!u.ok()) return u.status();
  return state_->Info(*u, on);
}

absl::StatusOr<std::vector<UnitInfo>> Projection::Children(
    absl::string_view unit_id, Day on) const {
  absl::ReaderMutexLock lock(&mu_);
  auto u = state_->Find(unit_id);
  if (!u.ok()) return u.status();
  std::vector<UnitInfo> out;
  for (UnitIdx c : state_->ChildrenOn(*u, on)) {
    out.push_back(state_->Info(c, on));
  }
  return out;
}

std::vector<UnitInfo> Projection::FindUnits(absl::string_view query, Day on,
                                            bool include_inactive,
                                            size_t limit) const {
  absl::ReaderMutexLock lock(&mu_);
  const std::string folded =
      state_->fold() ? state_->fold()(query) : std::string(query);
  struct Hit {
    int rank;
    size_t length;
    UnitIdx u;
  };
  std::vector<Hit> hits;
  for (UnitIdx u = 0; u < static_cast<UnitIdx>(state_->units.size()); ++u) {
    const Unit& unit = state_->units[u];
    if (unit.gone() || (!include_inactive && !unit.ActiveOn(on))) continue;
    const size_t at = unit.folded.find(folded);
    if (at != std::string::npos) {
      hits.push_back({at == 0 ? 0 : 1, unit.folded.size(), u});
    } else if (unit.id == query) {
      hits.push_back({0, 0, u});
    }
  }
  std::sort(hits.begin(), hits.end(), [](const Hit& a, const Hit& b) {
    return std::tie(a.rank, a.length, a.u) < std::tie(b.rank, b.length, b.u);
  });
  std::vector<UnitInfo> out;
  for (size_t i = 0; i < hits.size() && i < limit; ++i) {
    out.push_back(state_->Info(hits[i].u, on));
  }
  return out;
}

absl::StatusOr<Rollup> Projection::GetRollup(const RollupQuery& q) const {
  absl::ReaderMutexLock lock(&mu_);
  auto u = state_->Find(q.unit_id);
  if (!u.ok()) return u.status();
  if (q.attribution == Attribution::kAsRecorded) {
    return state_->RollupOf(*u, q.from, q.to);
  }
  if (!state_->units[*u].ActiveOn(q.structure_date)) {
    return absl::FailedPreconditionError(
        absl::StrCat("unit '", q.unit_id, "' is not in the tree of ",
                     DayText(q.structure_date), " (it is active from ",
                     DayText(state_->units[*u].created), ")"));
  }
  return state_->RollupAsOf(*u, q.from, q.to,
                            *state_->IndexFor(q.structure_date));
}

absl::StatusOr<std::vector<std::pair<UnitInfo, Rollup>>>
Projection::GetChildrenRollups(const RollupQuery& q) const {
  absl::ReaderMutexLock lock(&mu_);
  auto u = state_->Find(q.unit_id);
  if (!u.ok()) return u.status();
  std::vector<std::pair<UnitInfo, Rollup>> out;
  if (q.attribution == Attribution::kAsRecorded) {
    // Each child's part of the unit's figures: what it recorded while it
    // was a child, so that the rows add up to the unit's own.
    for (UnitIdx c : state_->ChildrenDuring(*u, q.from, q.to)) {
      out.emplace_back(
          state_->Info(c, q.to),
          state_->RollupOf(c, q.from, q.to, state_->UnderParent(c, *u)));
    }
    return out;
  }
  if (!state_->units[*u].ActiveOn(q.structure_date)) {
    return absl::FailedPreconditionError(
        absl::StrCat("unit '", q.unit_id, "' is not in the tree of ",
                     DayText(q.structure_date)));
  }
  const auto index = state_->IndexFor(q.structure_date);
  for (UnitIdx c : state_->ChildrenOn(*u, q.structure_date)) {
    out.emplace_back(state_->Info(c, q.structure_date),
                     state_->RollupAsOf(c, q.from, q.to, *index));
  }
  return out;
}

bool Projection::IsUnder(absl::string_view unit_id, absl::string_view root_id,
                         Day on) const {
  absl::ReaderMutexLock lock(&mu_);
  auto u = state_->Find(unit_id);
  auto root = state_->Find(root_id);
  return u.ok() && root.ok() && state_->InSubtree(*u, *root, on);
}

std::string Projection::CommitmentUnit(absl::string_view commitment_id) const {
  absl::ReaderMutexLock lock(&mu_);
  auto it = state_->commitment_index.find(commitment_id);
  if (it == state_->commitment_index.end()) return "";
  const UnitIdx u = state_->commitments[it->second].unit;
  return u == kNoUnit ? "" : state_->units[u].id;
}

std::string Projection::Checksum() const {
  absl::ReaderMutexLock lock(&mu_);
  return state_->Checksum();
}

Projection::Stats Projection::GetStats() const {
  absl::ReaderMutexLock lock(&mu_);
  Stats s;
  s.applied = state_->applied;
  s.units = state_->units.size();
  s.members = state_->members.size();
  s.commitments = state_->commitments.size();
  s.plans = state_->plans.size();
  return s;
}

}  // namespace nenep::projections
