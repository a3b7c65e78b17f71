// Projection::Snapshot: every unit's figures for a date and the overdue
// lists, in one read of the state.

#include <algorithm>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "storage/projections/projection_state.h"

namespace nenep::projections {
namespace {

std::string DateVn(Day d) {
  int y = 0, m = 0, dd = 0;
  CivilFromDay(d, &y, &m, &dd);
  return absl::StrFormat("%02d/%02d/%04d", dd, m, y);
}

std::string MonthVn(int32_t month) {
  return absl::StrFormat("%02d/%04d", month % 12 + 1, month / 12);
}

std::string QuarterVn(int32_t quarter) {
  return absl::StrFormat("quý %d/%04d", quarter % 4 + 1, quarter / 4);
}

// The last month (quarter) that ends on or before `d`.
int32_t LastCompleteMonth(Day d) {
  const int32_t m = MonthOf(d);
  return MonthLastDay(m) == d ? m : m - 1;
}
int32_t LastCompleteQuarter(Day d) {
  const int32_t q = QuarterOf(d);
  return QuarterLastDay(q) == d ? q : q - 1;
}

}  // namespace

// Reads the state for one snapshot; lives for one call, under the lock.
class Projection::SnapshotReader {
 public:
  SnapshotReader(const Projection::State& s, const SnapshotRanges& r)
      : s_(s), r_(r) {}

  // Top units of the date's tree, in creation order.
  std::vector<UnitIdx> Tops() const {
    std::vector<UnitIdx> out;
    for (UnitIdx u = 0; u < static_cast<UnitIdx>(s_.units.size()); ++u) {
      const Unit& unit = s_.units[u];
      if (!unit.ActiveOn(r_.date)) continue;
      const UnitIdx p = unit.ParentOn(r_.date);
      if (p == kNoUnit || !s_.units[p].ActiveOn(r_.date)) out.push_back(u);
    }
    return out;
  }

  void Walk(absl::FunctionRef<void(const SnapshotRow&)> row,
            absl::FunctionRef<void(UnitIdx)> visit) const {
    struct Frame {
      UnitIdx u;
      int depth;
    };
    std::vector<Frame> stack;
    const std::vector<UnitIdx> tops = Tops();
    for (auto it = tops.rbegin(); it != tops.rend(); ++it) {
      stack.push_back({*it, 0});
    }
    SnapshotRow out;
    while (!stack.empty()) {
      const Frame f = stack.back();
      stack.pop_back();
      const Unit& unit = s_.units[f.u];
      out.unit_id = unit.id;
      out.name = unit.NameOn(r_.date);
      out.kind = unit.kind;
      out.is_cell = unit.is_cell;
      out.depth = f.depth;
      const UnitIdx p = f.depth == 0 ? kNoUnit : unit.ParentOn(r_.date);
      out.parent_id = p == kNoUnit ? "" : s_.units[p].id;
      out.day = s_.RollupOf(f.u, r_.date, r_.date);
      out.month = s_.RollupOf(f.u, r_.month, r_.date);
      out.quarter = s_.RollupOf(f.u, r_.quarter, r_.date);
      out.half = s_.RollupOf(f.u, r_.half, r_.date);
      out.year = s_.RollupOf(f.u, r_.year, r_.date);
      out.phase = s_.RollupOf(f.u, r_.phase, r_.date);
      row(out);
      visit(f.u);
      const std::vector<UnitIdx> children = s_.ChildrenOn(f.u, r_.date);
      for (auto it = children.rbegin(); it != children.rend(); ++it) {
        stack.push_back({*it, f.depth + 1});
      }
    }
  }

  OverdueEntry Entry(OverdueKind kind, UnitIdx u) const {
    OverdueEntry e;
    e.kind = kind;
    const Unit& unit = s_.units[u];
    e.unit_id = unit.id;
    const Day at = std::clamp(r_.date, unit.created, unit.dissolved - 1);
    e.unit_name = unit.NameOn(at);
    for (UnitIdx p = unit.ParentOn(at); p != kNoUnit;
         p = s_.units[p].ParentOn(at)) {
      e.parent_chain.push_back(
          UnitRef{s_.units[p].id, s_.units[p].NameOn(at), s_.units[p].kind});
      if (e.parent_chain.size() > 64) break;
    }
    return e;
  }

  // Cells active the whole last complete month (quarter) with no regular
  // (thematic) session for it.
  void MissingSessions(const std::vector<UnitIdx>& cells, bool quarters,
                       std::vector<OverdueEntry>* out) const {
    const int32_t period =
        quarters ? LastCompleteQuarter(r_.date) : LastCompleteMonth(r_.date);
    const Day first =
        quarters ? QuarterFirstDay(period) : MonthFirstDay(period);
    const Day last = quarters ? QuarterLastDay(period) : MonthLastDay(period);
    for (UnitIdx c : cells) {
      const Unit& cell = s_.units[c];
      if (cell.created > first || cell.dissolved <= last) continue;
      const auto& held =
          quarters ? cell.thematic_quarters : cell.regular_months;
      auto it = std::lower_bound(held.begin(), held.end(),
                                 std::make_pair(period, INT32_MIN));
      if (it != held.end() && it->first == period) continue;
      // The first period without one: after the last one held, and not
      // before the cell's first whole period.
      const int32_t created =
          quarters ? QuarterOf(cell.created) : MonthOf(cell.created);
      const Day created_first =
          quarters ? QuarterFirstDay(created) : MonthFirstDay(created);
      int32_t since = cell.created == created_first ? created : created + 1;
      std::string last_held = "chưa có buổi nào";
      if (it != held.begin()) {
        const int32_t prev = std::prev(it)->first;
        since = std::max(since, prev + 1);
        last_held = absl::StrCat("lần gần nhất: ",
                                 quarters ? QuarterVn(prev) : MonthVn(prev));
      }
      OverdueEntry e = Entry(quarters ? OverdueKind::kNoThematicSession
                                      : OverdueKind::kNoRegularSession,
                             c);
      e.missing = quarters
                      ? absl::StrCat("Không sinh hoạt chuyên đề ",
                                     QuarterVn(period), " (", last_held, ")")
                      : absl::StrCat("Không sinh hoạt chi bộ thường kỳ tháng ",
                                     MonthVn(period), " (", last_held, ")");
      e.since = quarters ? QuarterFirstDay(since) : MonthFirstDay(since);
      out->push_back(std::move(e));
    }
  }

  // Units required by a plan issued by the date whose due date has passed
  // without their implementing plan.
  void MissingPlans(const std::vector<int32_t>& order,
                    std::vector<OverdueEntry>* out) const {
    for (const Plan& plan : s_.plans) {
      if (plan.retracted || plan.issued > r_.date) continue;
      for (const Requirement& req : plan.requirements) {
        if (req.due >= r_.date) continue;
        std::vector<UnitIdx> missing;
        for (size_t k = 0; k < req.units.size(); ++k) {
          if (req.done[k] != 0 && req.done_on[k] <= r_.date) continue;
          missing.push_back(req.units[k]);
        }
        std::sort(missing.begin(), missing.end(),
                  [&](UnitIdx a, UnitIdx b) { return order[a] < order[b]; });
        for (UnitIdx u : missing) {
          OverdueEntry e = Entry(OverdueKind::kChildPlan, u);
          e.missing =
              absl::StrCat("Chưa ban hành kế hoạch thực hiện ", plan.id,
                           " của ", s_.units[plan.issuer].NameOn(plan.issued),
                           " (hạn ", DateVn(req.due), ")");
          e.since = req.due;
          e.ref_id = plan.id;
          out->push_back(std::move(e));
        }
      }
    }
  }

  // Commitments of the past year, registered by the date, not evaluated by
  // it.
  void UnevaluatedCommitments(const std::vector<int32_t>& order,
                              std::vector<OverdueEntry>* out) const {
    int y = 0, m = 0, d = 0;
    CivilFromDay(r_.date, &y, &m, &d);
    std::vector<const Commitment*> found;
    for (const Commitment& c : s_.commitments) {
      if (c.year != y - 1 || c.registered > r_.date || c.unit == kNoUnit) {
        continue;
      }
      if (c.evaluated && c.evaluated_on <= r_.date) continue;
      found.push_back(&c);
    }
    std::sort(found.begin(), found.end(),
              [&](const Commitment* a, const Commitment* b) {
                return std::make_pair(order[a->unit], a->id) <
                       std::make_pair(order[b->unit], b->id);
              });
    for (const Commitment* c : found) {
      OverdueEntry e = Entry(OverdueKind::kCommitmentNotEvaluated, c->unit);
      e.missing = absl::StrCat(
          c->member < 0 ? "Cam kết của tập thể" : "Cam kết của đảng viên ",
          c->member < 0 ? "" : s_.members[c->member].id, " năm ", y - 1,
          " chưa được đánh giá");
      e.since = DayNumber(y, 1, 1);
      e.ref_id = std::string(c->id);
      out->push_back(std::move(e));
    }
  }

  void Changed(const std::vector<LateFact>& facts,
               std::vector<OverdueEntry>* out) const {
    for (const LateFact& f : facts) {
      UnitIdx u = kNoUnit;
      if (!f.commitment_id.empty()) {
        auto it = s_.commitment_index.find(f.commitment_id);
        if (it != s_.commitment_index.end())
          u = s_.commitments[it->second].unit;
      } else if (auto it = s_.unit_index.find(f.unit_id);
                 it != s_.unit_index.end()) {
        u = it->second;
      }
      if (u == kNoUnit) continue;
      OverdueEntry e = Entry(OverdueKind::kChangedAfterSnapshot, u);
      e.missing = f.what;
      e.since = f.day;
      e.position = f.position;
      out->push_back(std::move(e));
    }
  }

  Trend TrendOf(UnitIdx u) const {
    Trend t;
    t.unit_id = s_.units[u].id;
    t.name = s_.units[u].NameOn(r_.date);
    const int32_t last = MonthOf(r_.date);
    for (int32_t m = last - 11; m <= last; ++m) {
      t.months.emplace_back(m, s_.RollupOf(u, MonthFirstDay(m),
                                           std::min(MonthLastDay(m), r_.date)));
    }
    return t;
  }

 private:
  const Projection::State& s_;
  const SnapshotRanges& r_;
};

SnapshotSummary Projection::Snapshot(
    const SnapshotRanges& ranges,
    absl::FunctionRef<void(const SnapshotRow&)> row) const {
  absl::ReaderMutexLock lock(&mu_);
  const State& s = *state_;
  SnapshotReader reader(s, ranges);
  SnapshotSummary out;
  out.position = s.applied;
  // Tree order of every unit (units off the date's tree go last, by index).
  std::vector<int32_t> order(s.units.size(), INT32_MAX);
  std::vector<UnitIdx> cells;
  int32_t next = 0;
  reader.Walk(
      [&](const SnapshotRow& r) {
        ++out.rows;
        row(r);
      },
      [&](UnitIdx u) {
        order[u] = next++;
        if (s.units[u].is_cell) cells.push_back(u);
      });
  for (UnitIdx u = 0; u < static_cast<UnitIdx>(order.size()); ++u) {
    if (order[u] == INT32_MAX) order[u] = next++;
  }
  reader.MissingSessions(cells, /*quarters=*/false, &out.overdue);
  reader.MissingSessions(cells, /*quarters=*/true, &out.overdue);
  reader.MissingPlans(order, &out.overdue);
  reader.UnevaluatedCommitments(order, &out.overdue);
  for (UnitIdx u : reader.Tops()) out.trends.push_back(reader.TrendOf(u));
  return out;
}

std::vector<OverdueEntry> Projection::Changed(
    const std::vector<LateFact>& facts, Day date) const {
  absl::ReaderMutexLock lock(&mu_);
  SnapshotRanges ranges;
  ranges.date = date;
  std::vector<OverdueEntry> out;
  SnapshotReader(*state_, ranges).Changed(facts, &out);
  return out;
}

}  // namespace nenep::projections
