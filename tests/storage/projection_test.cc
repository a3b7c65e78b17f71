// The projection against a model: random trees, random moves recorded in
// date order or late (backdated), sessions before and after them. Both
// attributions must equal what a direct computation over the events gives,
// for every unit and many ranges, and the state must not depend on whether
// a request was applied whole or refused and retried.

#include "storage/projections/projection.h"

#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "tests/testing/events.h"

namespace nenep::projections {
namespace {

using ::nenep::testing::D;

Day DayOf(const v1::Date& d) { return DayNumber(d.year(), d.month(), d.day()); }
v1::Date DateOf(Day day) {
  int y = 0, m = 0, d = 0;
  CivilFromDay(day, &y, &m, &d);
  return D(y, m, d);
}

// The model: parent intervals per unit and the sessions.
struct Model {
  std::map<std::string, std::vector<std::pair<Day, std::string>>> parents;
  std::vector<std::pair<std::string, Day>> sessions;

  std::string ParentOn(const std::string& u, Day d) const {
    const auto& p = parents.at(u);
    std::string out = p.front().second;
    for (const auto& [from, parent] : p) {
      if (from <= d) out = parent;
    }
    return out;
  }
  bool Under(std::string u, const std::string& root, Day d) const {
    for (int i = 0; i < 64 && !u.empty(); ++i) {
      if (u == root) return true;
      u = ParentOn(u, d);
    }
    return false;
  }
  int64_t Recorded(const std::string& root, Day from, Day to) const {
    int64_t n = 0;
    for (const auto& [u, d] : sessions) {
      if (d >= from && d <= to && Under(u, root, d)) ++n;
    }
    return n;
  }
  // No unit ends here, so each unit maps to itself.
  int64_t Restated(const std::string& root, Day from, Day to, Day s) const {
    int64_t n = 0;
    for (const auto& [u, d] : sessions) {
      if (d >= from && d <= to && Under(u, root, s)) ++n;
    }
    return n;
  }
};

class ProjectionModelTest : public ::testing::TestWithParam<int> {};

TEST_P(ProjectionModelTest, BothAttributionsMatchTheModel) {
  std::mt19937 rng(GetParam());
  Projection p(nullptr, nullptr);
  Model model;
  uint64_t position = 0;
  auto apply = [&](const v1::Event& e) {
    const v1::Event* one = &e;
    return p.Apply(absl::MakeConstSpan(&one, 1), ++position);
  };
  const Day start = DayOf(D(2020, 1, 1));
  // Two roots, 12 inner units, 30 cells under random parents.
  std::vector<std::string> inner = {"r0", "r1"};
  for (const std::string& r : inner) {
    ASSERT_TRUE(
        apply(testing::UnitCreated(r, v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, r, "",
                                   DateOf(start)))
            .ok());
    model.parents[r] = {{start, ""}};
  }
  for (int i = 0; i < 12; ++i) {
    const std::string id = absl::StrCat("u", i);
    const std::string parent = inner[rng() % inner.size()];
    ASSERT_TRUE(apply(testing::UnitCreated(id, v1::UNIT_KIND_UPPER_BASE, id,
                                           parent, DateOf(start)))
                    .ok());
    model.parents[id] = {{start, parent}};
    inner.push_back(id);
  }
  std::vector<std::string> cells;
  for (int i = 0; i < 30; ++i) {
    const std::string id = absl::StrCat("c", i);
    const std::string parent = inner[rng() % inner.size()];
    ASSERT_TRUE(apply(testing::UnitCreated(id, v1::UNIT_KIND_ATTACHED_CELL, id,
                                           parent, DateOf(start)))
                    .ok());
    model.parents[id] = {{start, parent}};
    cells.push_back(id);
  }
  // 600 sessions over 2021, interleaved with 40 move attempts. A move is
  // dated after the unit's last move but may be recorded after sessions
  // later than it (backdated). Moves that would make a cycle are refused by
  // the projection and left out of the model.
  std::map<std::string, Day> last_move;
  const Day y2021 = DayOf(D(2021, 1, 1));
  int refused = 0;
  for (int step = 0; step < 640; ++step) {
    if (rng() % 16 == 0) {
      std::vector<std::string> movable(inner.begin() + 2, inner.end());
      movable.insert(movable.end(), cells.begin(), cells.end());
      const std::string x = movable[rng() % movable.size()];
      const Day floor = std::max(last_move[x], y2021);
      const Day d = floor + 1 + static_cast<Day>(rng() % 300);
      const std::string from = model.ParentOn(x, d);
      const std::string to = inner[rng() % inner.size()];
      if (to == from || to == x) continue;
      absl::Status s = apply(testing::Moved(x, from, to, DateOf(d)));
      if (!s.ok()) {
        EXPECT_EQ(s.code(), absl::StatusCode::kFailedPrecondition) << s;
        // The model agrees: `to` lies under x on d or on a later move day.
        bool cycle = model.Under(to, x, d);
        for (const auto& [unit, moves] : model.parents) {
          for (const auto& [day, parent] : moves) {
            if (day > d) cycle = cycle || model.Under(to, x, day);
          }
        }
        EXPECT_TRUE(cycle) << "moving " << x << " under " << to
                           << " was refused: " << s;
        ++refused;
        continue;
      }
      model.parents[x].emplace_back(d, to);
      last_move[x] = d;
    } else {
      const std::string cell = cells[rng() % cells.size()];
      const Day d = y2021 + static_cast<Day>(rng() % 365);
      v1::Event e = testing::RegularSession(absl::StrCat("s", step), cell,
                                            DateOf(d), 1, 1);
      e.mutable_session_held()->clear_attendance();
      ASSERT_TRUE(apply(e).ok());
      model.sessions.emplace_back(cell, d);
    }
  }
  // Every unit, many ranges, both attributions.
  std::vector<std::string> all = inner;
  all.insert(all.end(), cells.begin(), cells.end());
  for (int q = 0; q < 200; ++q) {
    const std::string u = all[rng() % all.size()];
    Day from = y2021 + static_cast<Day>(rng() % 365);
    Day to = y2021 + static_cast<Day>(rng() % 365);
    if (from > to) std::swap(from, to);
    RollupQuery query{u, from, to, Attribution::kAsRecorded, 0};
    absl::StatusOr<Rollup> r = p.GetRollup(query);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sessions_regular, model.Recorded(u, from, to))
        << u << " " << from << ".." << to;
    const Day s = y2021 + static_cast<Day>(rng() % 400);
    query.attribution = Attribution::kAsOfStructure;
    query.structure_date = s;
    r = p.GetRollup(query);
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->sessions_regular, model.Restated(u, from, to, s))
        << u << " as of " << s;
  }
  std::cout << "seed " << GetParam() << ": " << model.sessions.size()
            << " sessions, " << refused << " moves refused as cycles\n";
}

INSTANTIATE_TEST_SUITE_P(Seeds, ProjectionModelTest, ::testing::Range(1, 9));

TEST(ProjectionTest, ARefusedRequestLeavesTheStateAsItWas) {
  Projection p(nullptr, nullptr);
  std::vector<v1::Event> setup = {
      testing::UnitCreated("k", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "k", "",
                           D(2020, 1, 1)),
      testing::UnitCreated("a", v1::UNIT_KIND_UPPER_BASE, "a", "k",
                           D(2020, 1, 1)),
      testing::UnitCreated("b", v1::UNIT_KIND_UPPER_BASE, "b", "k",
                           D(2020, 1, 1)),
      testing::UnitCreated("c", v1::UNIT_KIND_ATTACHED_CELL, "c", "a",
                           D(2020, 1, 1)),
      testing::MemberJoined("m", "c", D(2020, 1, 1)),
  };
  std::vector<const v1::Event*> ptrs;
  for (const v1::Event& e : setup) ptrs.push_back(&e);
  ASSERT_TRUE(p.Apply(ptrs, 1).ok());
  const std::string before = p.Checksum();
  // Moves, a merge, a member, a plan ... then a bad event: all undone.
  std::vector<v1::Event> request = {
      testing::Moved("c", "a", "b", D(2021, 2, 1)),
      testing::UnitCreated("d", v1::UNIT_KIND_ATTACHED_CELL, "d", "b",
                           D(2021, 2, 1)),
      testing::Merged({"c"}, "d", D(2021, 3, 1)),
      testing::RegularSession("s", "d", D(2021, 3, 10), 1, 1),
      testing::Plan("p", "k", "01", D(2021, 3, 11)),
      testing::RegularSession("bad", "nowhere", D(2021, 3, 12)),
  };
  ptrs.clear();
  for (const v1::Event& e : request) ptrs.push_back(&e);
  absl::Status s = p.Apply(ptrs, 6);
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound) << s;
  EXPECT_EQ(p.Checksum(), before);
  EXPECT_EQ(p.applied(), 5u);
  // Without the bad event it applies, and the same request on a fresh
  // projection gives the same state.
  request.pop_back();
  ptrs.pop_back();
  ASSERT_TRUE(p.Apply(ptrs, 6).ok());
  Projection q(nullptr, nullptr);
  for (size_t i = 0; i < setup.size(); ++i) {
    const v1::Event* one = &setup[i];
    ASSERT_TRUE(q.Apply(absl::MakeConstSpan(&one, 1), i + 1).ok());
  }
  for (size_t i = 0; i < request.size(); ++i) {
    const v1::Event* one = &request[i];
    ASSERT_TRUE(q.Apply(absl::MakeConstSpan(&one, 1), 6 + i).ok());
  }
  EXPECT_EQ(p.Checksum(), q.Checksum());
  absl::StatusOr<Rollup> r =
      q.GetRollup({"b", DayOf(D(2021, 1, 1)), DayOf(D(2021, 12, 31)),
                   Attribution::kAsRecorded, 0});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->sessions_regular, 1);
  EXPECT_EQ(r->members, 1);
  EXPECT_EQ(r->cells, 1);
}

}  // namespace
}  // namespace nenep::projections

namespace nenep::projections {
namespace {

TEST(ProjectionTest, MergesMapChildrenAndMembersAndKeepLineage) {
  Projection p(nullptr, nullptr);
  uint64_t position = 0;
  auto apply = [&](const v1::Event& e) {
    const v1::Event* one = &e;
    return p.Apply(absl::MakeConstSpan(&one, 1), ++position);
  };
  const v1::Date d0 = testing::D(2020, 1, 1);
  for (const v1::Event& e : std::vector<v1::Event>{
           testing::UnitCreated("k", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "k",
                                "", d0),
           testing::UnitCreated("b1", v1::UNIT_KIND_UPPER_BASE, "b1", "k", d0),
           testing::UnitCreated("b2", v1::UNIT_KIND_UPPER_BASE, "b2", "k", d0),
           testing::UnitCreated("b3", v1::UNIT_KIND_UPPER_BASE, "b3", "k", d0),
           testing::UnitCreated("c1", v1::UNIT_KIND_ATTACHED_CELL, "c1", "b1",
                                d0),
           testing::UnitCreated("c2", v1::UNIT_KIND_ATTACHED_CELL, "c2", "b2",
                                d0),
           testing::UnitCreated("c3", v1::UNIT_KIND_ATTACHED_CELL, "c3", "b3",
                                d0),
           testing::MemberJoined("m1", "c1", d0),
           testing::MemberJoined("m2", "c1", d0),
           testing::MemberJoined("m3", "c2", d0),
       }) {
    ASSERT_TRUE(apply(e).ok());
  }
  // Absorption of b1 and b2 into b3 on 1/7/2021: c1 follows to b3 (by
  // default), c2 is mapped to k.
  v1::Event merge = testing::Merged({"b1", "b2"}, "b3", testing::D(2021, 7, 1));
  v1::ChildMapping* m = merge.mutable_units_merged()->add_child_mappings();
  m->set_child_unit_id("c2");
  m->set_to_parent_id("k");
  ASSERT_TRUE(apply(merge).ok());
  const Day before = DayOf(testing::D(2021, 6, 30));
  const Day after = DayOf(testing::D(2021, 7, 1));
  EXPECT_EQ(p.GetUnit("c1", before)->parent_chain[0].unit_id, "b1");
  EXPECT_EQ(p.GetUnit("c1", after)->parent_chain[0].unit_id, "b3");
  EXPECT_EQ(p.GetUnit("c2", after)->parent_chain[0].unit_id, "k");
  EXPECT_EQ(p.GetUnit("b1", after)->dissolved, after);
  EXPECT_EQ(p.GetUnit("b2", after)->successor_ids,
            std::vector<std::string>{"b3"});
  EXPECT_EQ(p.GetUnit("b3", after)->predecessor_ids,
            (std::vector<std::string>{"b1", "b2"}));
  EXPECT_EQ(p.GetUnit("b3", after)->members, 2);  // c1's two, c3's none
  EXPECT_EQ(p.GetUnit("b3", after)->cells, 2);

  // Consolidation of cells c1 and c3 into a new cell c4 on 1/9/2021; m1 is
  // mapped to c2, the others follow to c4.
  ASSERT_TRUE(apply(testing::UnitCreated("c4", v1::UNIT_KIND_ATTACHED_CELL,
                                         "c4", "b3", testing::D(2021, 9, 1)))
                  .ok());
  v1::Event cons = testing::Merged({"c1", "c3"}, "c4", testing::D(2021, 9, 1));
  cons.mutable_units_merged()->set_mode(v1::MERGE_MODE_CONSOLIDATION);
  v1::MemberMapping* mm = cons.mutable_units_merged()->add_member_mappings();
  mm->set_member_id("m1");
  mm->set_to_cell_id("c2");
  ASSERT_TRUE(apply(cons).ok());
  const Day later = DayOf(testing::D(2021, 9, 2));
  EXPECT_EQ(p.GetUnit("c4", later)->members, 1);  // m2
  EXPECT_EQ(p.GetUnit("c2", later)->members, 2);  // m3 and m1
  EXPECT_EQ(p.GetUnit("k", later)->members, 3);
  EXPECT_EQ(p.GetUnit("k", later)->cells, 2);  // c2, c4
  // As of the structure of 2/9/2021 c1's and c3's history is c4's.
  RollupQuery q{"c4", DayOf(testing::D(2020, 1, 1)), later,
                Attribution::kAsOfStructure, later};
  EXPECT_EQ(p.GetRollup(q)->units, 1);
}

}  // namespace
}  // namespace nenep::projections
