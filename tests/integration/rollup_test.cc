// The hierarchy and its rollups through the public gRPC API: a tree with
// cells 1 to 4 levels under their blocs, reorganized (a subtree moved to
// another bloc, two cells merged, a cell dissolved into a successor), with
// every figure computed by hand below.

#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/query.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::Dissolved;
using ::nenep::testing::MemberJoined;
using ::nenep::testing::Merged;
using ::nenep::testing::Moved;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::ThematicSession;
using ::nenep::testing::Transferred;
using ::nenep::testing::UnitCreated;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

class RollupTest : public ::testing::Test {
 protected:
  RollupTest()
      : query_(v1::Query::NewStub(server_.NewChannel())),
        projections_(v1::Projections::NewStub(server_.NewChannel())) {}

  // Appends `events` in one atomic BatchAppend.
  grpc::Status Append(const std::vector<v1::Event>& events) {
    return server_.AppendBatch(events);
  }
  void Add(const std::vector<v1::Event>& events) {
    grpc::Status s = Append(events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  static v1::RollupRequest Range(const std::string& unit, v1::Date from,
                                 v1::Date to) {
    return testing::RollupOver(unit, from, to);
  }
  // As recorded, over [from, to].
  v1::Rollup Recorded(const std::string& unit, v1::Date from, v1::Date to) {
    return Get(Range(unit, from, to));
  }
  // Restated under the tree of `structure`.
  v1::Rollup Restated(const std::string& unit, v1::Date from, v1::Date to,
                      v1::Date structure) {
    v1::RollupRequest r = Range(unit, from, to);
    r.set_attribution(v1::ATTRIBUTION_AS_OF_STRUCTURE);
    *r.mutable_structure_date() = structure;
    return Get(r);
  }
  v1::Rollup Get(const v1::RollupRequest& r) {
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    grpc::Status s = query_->GetRollup(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.rollup();
  }
  v1::Unit Unit(const std::string& id, v1::Date on) {
    v1::GetUnitRequest r;
    r.set_unit_id(id);
    *r.mutable_as_of() = on;
    grpc::ClientContext ctx;
    v1::Unit unit;
    grpc::Status s = query_->GetUnit(&ctx, r, &unit);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return unit;
  }
  std::vector<std::string> Children(const std::string& id, v1::Date on) {
    std::vector<std::string> out;
    std::string token;
    do {
      v1::ListChildrenRequest r;
      r.set_unit_id(id);
      *r.mutable_as_of() = on;
      r.set_page_size(1);  // exercise paging
      r.set_page_token(token);
      grpc::ClientContext ctx;
      v1::ListChildrenResponse resp;
      grpc::Status s = query_->ListChildren(&ctx, r, &resp);
      EXPECT_TRUE(s.ok()) << s.error_message();
      if (!s.ok()) break;
      for (const v1::Unit& u : resp.children()) out.push_back(u.unit_id());
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }
  static std::vector<std::string> Parents(const v1::Unit& unit) {
    std::vector<std::string> out;
    for (const v1::UnitRef& p : unit.parent_chain()) out.push_back(p.unit_id());
    return out;
  }

  // The tree (created 1/1/2020), 10 members per cell:
  //   K1 ── C1                               (C1 at depth 1)
  //      └─ D1 ── C2                         (depth 2)
  //            └─ B1 ── C3                   (depth 3)
  //                  └─ S1 ── C4             (depth 4)
  //   K2 ── D2 ── C5                         (depth 2)
  std::vector<v1::Event> Tree() {
    const v1::Date d = D(2020, 1, 1);
    std::vector<v1::Event> e = {
        UnitCreated("K1", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                    "Đảng bộ Khối Một", "", d),
        UnitCreated("K2", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                    "Đảng bộ Khối Hai", "", d),
        UnitCreated("C1", v1::UNIT_KIND_BASE_CELL, "Chi bộ Một", "K1", d),
        UnitCreated("D1", v1::UNIT_KIND_UPPER_BASE, "Đảng bộ Bộ Tư pháp", "K1",
                    d),
        UnitCreated("C2", v1::UNIT_KIND_BASE_CELL, "Chi bộ Hai", "D1", d),
        UnitCreated("B1", v1::UNIT_KIND_BASE_PARTY_COMMITTEE, "Đảng bộ Vụ",
                    "D1", d),
        UnitCreated("C3", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ Ba", "B1", d),
        UnitCreated("S1", v1::UNIT_KIND_SUB_PARTY_COMMITTEE, "Đảng bộ bộ phận",
                    "B1", d),
        UnitCreated("C4", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ Bốn", "S1", d),
        UnitCreated("D2", v1::UNIT_KIND_UPPER_BASE, "Đảng bộ Hai", "K2", d),
        UnitCreated("C5", v1::UNIT_KIND_BASE_CELL, "Chi bộ Năm", "D2", d),
    };
    for (const char* cell : {"C1", "C2", "C3", "C4", "C5"}) {
      for (int i = 0; i < 10; ++i) {
        e.push_back(MemberJoined(absl::StrCat(cell, ".m", i), cell, d));
      }
    }
    return e;
  }

  // Regular sessions on the 10th of each month of 2021 in which the cell
  // exists and holds one; a thematic one for C2 (Q1) and C3 (Q2).
  static std::vector<v1::Event> SessionsOfMonth(int month) {
    std::vector<v1::Event> e;
    auto regular = [&](const std::string& cell) {
      e.push_back(RegularSession(absl::StrCat(cell, ".2021-", month), cell,
                                 D(2021, month, 10)));
    };
    if (month <= 5) regular("C1");
    regular("C2");
    regular("C3");
    if (month <= 4) regular("C4");
    if (month != 2) regular("C5");  // C5 skips February
    if (month == 2) e.push_back(ThematicSession("C2.q1", "C2", D(2021, 2, 15)));
    if (month == 5) e.push_back(ThematicSession("C3.q2", "C3", D(2021, 5, 15)));
    return e;
  }

  // 1/4: D1 (with C2, B1, C3, S1, C4) moves from K1 to K2.
  // 1/5: C4 merges into C3 (its members follow).
  // 1/6: C1's members move to C2, then C1 is dissolved with successor C2.
  static std::vector<v1::Event> Reorganization(int step) {
    switch (step) {
      case 0:
        return {Moved("D1", "K1", "K2", D(2021, 4, 1))};
      case 1:
        return {Merged({"C4"}, "C3", D(2021, 5, 1))};
      default: {
        std::vector<v1::Event> e;
        for (int i = 0; i < 10; ++i) {
          e.push_back(
              Transferred(absl::StrCat("C1.m", i), "C1", "C2", D(2021, 6, 1)));
        }
        e.push_back(Dissolved("C1", {"C2"}, D(2021, 6, 1)));
        return e;
      }
    }
  }

  // Everything in date order.
  void BuildInOrder() {
    Add(Tree());
    for (int month = 1; month <= 6; ++month) {
      if (month == 4) Add(Reorganization(0));
      if (month == 5) Add(Reorganization(1));
      if (month == 6) Add(Reorganization(2));
      Add(SessionsOfMonth(month));
    }
  }

  // Checks the hand-computed figures of the first half of 2021.
  void ExpectFigures() {
    const v1::Date from = D(2021, 1, 1), to = D(2021, 6, 30);
    // As recorded. K1 had C1..C4 until 31/3 and C1 until 31/5:
    // C1 5 + C2 3 + C3 3 + C4 3 regular sessions; C2's thematic one.
    v1::Rollup k1 = Recorded("K1", from, to);
    EXPECT_EQ(k1.sessions_regular(), 14);
    EXPECT_EQ(k1.sessions_thematic(), 1);
    EXPECT_EQ(k1.attendance_present(), 15 * 9);
    EXPECT_EQ(k1.attendance_convened(), 15 * 10);
    // On 30/6 K1 holds only itself.
    EXPECT_EQ(k1.units(), 1);
    EXPECT_EQ(k1.cells(), 0);
    EXPECT_EQ(k1.members(), 0);
    // Cell-months at each month end under K1: Jan-Mar 4 of 4, Apr 1/1 (C1),
    // May 1/1 (C1 is dissolved on 1/6, so active all May), Jun none.
    EXPECT_EQ(k1.regular_cell_months_held(), 14);
    EXPECT_EQ(k1.regular_cell_months_active(), 14);
    // Q1: four cells, C2 held one; Q2: no cell left on 30/6.
    EXPECT_EQ(k1.thematic_cell_quarters_held(), 1);
    EXPECT_EQ(k1.thematic_cell_quarters_active(), 4);

    // K2: C5 5 (no February) + C2 3 + C3 3 + C4 1 (April); C3's thematic.
    v1::Rollup k2 = Recorded("K2", from, to);
    EXPECT_EQ(k2.sessions_regular(), 12);
    EXPECT_EQ(k2.sessions_thematic(), 1);
    EXPECT_EQ(k2.attendance_present(), 13 * 9);
    // On 30/6: K2, D2, C5, D1, C2, B1, C3, S1; cells C5, C2, C3; members
    // 10 + 20 (C2 took C1's) + 20 (C3 took C4's).
    EXPECT_EQ(k2.units(), 8);
    EXPECT_EQ(k2.cells(), 3);
    EXPECT_EQ(k2.members(), 50);
    // Jan 1/1, Feb 0/1, Mar 1/1, Apr 4/4, May 3/3, Jun 3/3.
    EXPECT_EQ(k2.regular_cell_months_held(), 12);
    EXPECT_EQ(k2.regular_cell_months_active(), 13);
    EXPECT_DOUBLE_EQ(k2.regular_compliance(), 12.0 / 13.0);
    // Q1: C5 held none (0/1); Q2: C5, C2, C3, of which C3 held one (1/3).
    EXPECT_EQ(k2.thematic_cell_quarters_held(), 1);
    EXPECT_EQ(k2.thematic_cell_quarters_active(), 4);

    // D1's subtree wherever D1 was: C2 6 + C3 6 + C4 4.
    EXPECT_EQ(Recorded("D1", from, to).sessions_regular(), 16);
    // Only what happened in the range counts: Q2 of K2.
    EXPECT_EQ(Recorded("K2", D(2021, 4, 1), to).sessions_regular(), 10);

    // As of the structure of 30/6: C1 lives on in C2 and C4 in C3, all
    // under K2; K1 keeps nothing.
    v1::Rollup k1_now = Restated("K1", from, to, D(2021, 6, 30));
    EXPECT_EQ(k1_now.sessions_regular(), 0);
    EXPECT_EQ(k1_now.regular_cell_months_active(), 0);
    EXPECT_EQ(k1_now.units(), 1);
    v1::Rollup k2_now = Restated("K2", from, to, D(2021, 6, 30));
    EXPECT_EQ(k2_now.sessions_regular(), 26);
    EXPECT_EQ(k2_now.sessions_thematic(), 2);
    EXPECT_EQ(k2_now.units(), 8);
    EXPECT_EQ(k2_now.cells(), 3);
    EXPECT_EQ(k2_now.members(), 50);
    // Whole active months: C1 5, C2 6, C3 6, C4 4, C5 6 = 27; held 26.
    EXPECT_EQ(k2_now.regular_cell_months_held(), 26);
    EXPECT_EQ(k2_now.regular_cell_months_active(), 27);
    // Whole quarters: C1 1, C2 2, C3 2, C4 1, C5 2 = 8; held 2.
    EXPECT_EQ(k2_now.thematic_cell_quarters_held(), 2);
    EXPECT_EQ(k2_now.thematic_cell_quarters_active(), 8);

    // As of the structure of 1/1/2021, before any change: K1 had C1..C4.
    v1::Rollup k1_then = Restated("K1", from, to, D(2021, 1, 1));
    EXPECT_EQ(k1_then.sessions_regular(), 21);
    EXPECT_EQ(k1_then.sessions_thematic(), 2);
    EXPECT_EQ(k1_then.regular_cell_months_held(), 21);
    EXPECT_EQ(k1_then.regular_cell_months_active(), 21);
    // Units of that tree still active on 30/6: K1, D1, C2, B1, C3, S1.
    EXPECT_EQ(k1_then.units(), 6);
    EXPECT_EQ(k1_then.cells(), 2);
    EXPECT_EQ(k1_then.members(), 40);
    v1::Rollup k2_then = Restated("K2", from, to, D(2021, 1, 1));
    EXPECT_EQ(k2_then.sessions_regular(), 5);
    EXPECT_EQ(k2_then.regular_cell_months_held(), 5);
    EXPECT_EQ(k2_then.regular_cell_months_active(), 6);
    EXPECT_EQ(k2_then.members(), 10);

    // The hierarchy of any date.
    EXPECT_THAT(Parents(Unit("C4", D(2021, 2, 1))),
                ElementsAre("S1", "B1", "D1", "K1"));
    EXPECT_THAT(Parents(Unit("C2", D(2021, 2, 15))), ElementsAre("D1", "K1"));
    EXPECT_THAT(Parents(Unit("C2", D(2021, 4, 15))), ElementsAre("D1", "K2"));
    EXPECT_THAT(Children("K1", D(2021, 3, 31)), ElementsAre("C1", "D1"));
    EXPECT_THAT(Children("K1", D(2021, 6, 30)), ElementsAre());
    EXPECT_THAT(Children("K2", D(2021, 6, 30)), ElementsAre("D2", "D1"));
    EXPECT_THAT(Children("S1", D(2021, 4, 30)), ElementsAre("C4"));
    EXPECT_THAT(Children("S1", D(2021, 5, 1)), ElementsAre());
    const v1::Unit c4 = Unit("C4", D(2021, 6, 30));
    EXPECT_EQ(c4.dissolved_on().month(), 5);
    EXPECT_THAT(c4.successor_unit_ids(), ElementsAre("C3"));
    EXPECT_THAT(Unit("C3", D(2021, 6, 30)).predecessor_unit_ids(),
                ElementsAre("C4"));
    EXPECT_THAT(Unit("C1", D(2021, 6, 30)).successor_unit_ids(),
                ElementsAre("C2"));
    EXPECT_EQ(Unit("K1", D(2021, 3, 1)).cells(), 4);
    EXPECT_EQ(Unit("K1", D(2021, 3, 1)).members(), 40);
  }

  TestServer server_;
  std::unique_ptr<v1::Query::Stub> query_;
  std::unique_ptr<v1::Projections::Stub> projections_;
};

TEST_F(RollupTest, DepthsOneToFourThroughReorganizationsInBothAttributions) {
  BuildInOrder();
  ExpectFigures();
}

TEST_F(RollupTest, ReorganizationsRecordedLateGiveTheSameFigures) {
  // The sessions of the whole half-year first, then the reorganizations,
  // backdated: what was recorded under K1 after 1/4 moves to K2.
  Add(Tree());
  for (int month = 1; month <= 6; ++month) {
    std::vector<v1::Event> e = SessionsOfMonth(month);
    // C1's and C4's later sessions stay before their ends.
    Add(e);
  }
  Add(Reorganization(0));
  Add(Reorganization(1));
  Add(Reorganization(2));
  ExpectFigures();
}

TEST_F(RollupTest, ChildrenBreakdownAddsUpToTheUnitAndSorts) {
  BuildInOrder();
  v1::ChildrenRollupsRequest r;
  *r.mutable_rollup() = Range("K2", D(2021, 1, 1), D(2021, 6, 30));
  r.set_sort_by("sessions_regular");
  r.set_descending(true);
  grpc::ClientContext ctx;
  v1::ChildrenRollupsResponse resp;
  ASSERT_TRUE(query_->GetChildrenRollups(&ctx, r, &resp).ok());
  ASSERT_EQ(resp.children_size(), 2);
  // D1 counts for K2 from 1/4: C2 3 + C3 3 + C4 1; D2: C5's 5.
  EXPECT_EQ(resp.children(0).unit().unit_id(), "D1");
  EXPECT_EQ(resp.children(0).rollup().sessions_regular(), 7);
  EXPECT_EQ(resp.children(0).rollup().regular_cell_months_held(), 7);
  EXPECT_EQ(resp.children(0).rollup().regular_cell_months_active(), 7);
  EXPECT_EQ(resp.children(1).unit().unit_id(), "D2");
  EXPECT_EQ(resp.children(1).rollup().sessions_regular(), 5);
  EXPECT_EQ(resp.children(1).rollup().regular_cell_months_active(), 6);
  // K1's children over the same range: C1 and D1 (until 31/3).
  *r.mutable_rollup() = Range("K1", D(2021, 1, 1), D(2021, 6, 30));
  r.set_descending(false);
  grpc::ClientContext ctx2;
  ASSERT_TRUE(query_->GetChildrenRollups(&ctx2, r, &resp).ok());
  ASSERT_EQ(resp.children_size(), 2);
  EXPECT_EQ(resp.children(0).unit().unit_id(), "C1");
  EXPECT_EQ(resp.children(0).rollup().sessions_regular(), 5);
  EXPECT_EQ(resp.children(1).unit().unit_id(), "D1");
  EXPECT_EQ(resp.children(1).rollup().sessions_regular(), 9);
  // An unknown measure is refused with the list of measures.
  r.set_sort_by("popularity");
  grpc::ClientContext ctx3;
  grpc::Status s = query_->GetChildrenRollups(&ctx3, r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("regular_compliance"));
}

TEST_F(RollupTest, PeriodsPhasesAndFindingUnits) {
  BuildInOrder();
  v1::RollupRequest r;
  r.set_unit_id("K2");
  r.mutable_period()->set_year(2021);
  r.mutable_period()->set_quarter(2);
  EXPECT_EQ(Get(r).sessions_regular(), 10);
  r.mutable_period()->set_month(2);
  EXPECT_EQ(Get(r).sessions_regular(), 0);
  r.mutable_period()->set_half(1);
  EXPECT_EQ(Get(r).sessions_regular(), 12);
  r.set_phase("2020–2021");  // with an en dash
  EXPECT_EQ(Get(r).sessions_regular(), 12);
  // A bad range names its field.
  r.set_phase("2023-2021");
  grpc::ClientContext ctx;
  v1::RollupResponse resp;
  grpc::Status s = query_->GetRollup(&ctx, r, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("phase"));
  r.set_unit_id("nope");
  r.mutable_period()->set_year(2021);
  grpc::ClientContext ctx2;
  EXPECT_EQ(query_->GetRollup(&ctx2, r, &resp).error_code(),
            grpc::StatusCode::NOT_FOUND);

  // Accent-insensitive search.
  v1::FindUnitsRequest find;
  find.set_query("bo tu phap");
  *find.mutable_as_of() = D(2021, 6, 30);
  grpc::ClientContext ctx3;
  v1::FindUnitsResponse found;
  ASSERT_TRUE(query_->FindUnits(&ctx3, find, &found).ok());
  ASSERT_EQ(found.units_size(), 1);
  EXPECT_EQ(found.units(0).name(), "Đảng bộ Bộ Tư pháp");
  EXPECT_THAT(Parents(found.units(0)), ElementsAre("K2"));
  // Dissolved units only when asked for.
  find.set_query("CHI BO MOT");
  grpc::ClientContext ctx4;
  ASSERT_TRUE(query_->FindUnits(&ctx4, find, &found).ok());
  EXPECT_EQ(found.units_size(), 0);
  find.set_include_inactive(true);
  grpc::ClientContext ctx5;
  ASSERT_TRUE(query_->FindUnits(&ctx5, find, &found).ok());
  ASSERT_EQ(found.units_size(), 1);
  EXPECT_EQ(found.units(0).unit_id(), "C1");
}

TEST_F(RollupTest, RebuildEqualsLiveAndARestartReplaysTheSame) {
  BuildInOrder();
  grpc::ClientContext ctx;
  v1::RebuildResponse rebuilt;
  ASSERT_TRUE(projections_->Rebuild(&ctx, {}, &rebuilt).ok());
  EXPECT_TRUE(rebuilt.equal());
  EXPECT_EQ(rebuilt.live_checksum(), rebuilt.rebuilt_checksum());
  EXPECT_EQ(rebuilt.live_checksum().size(), 64u);
  EXPECT_FALSE(rebuilt.replaced());
  EXPECT_EQ(rebuilt.events(), rebuilt.position());
  const std::string before = rebuilt.live_checksum();

  server_.Restart();
  query_ = v1::Query::NewStub(server_.NewChannel());
  projections_ = v1::Projections::NewStub(server_.NewChannel());
  ExpectFigures();
  grpc::ClientContext ctx2;
  ASSERT_TRUE(projections_->Rebuild(&ctx2, {}, &rebuilt).ok());
  EXPECT_EQ(rebuilt.live_checksum(), before);
  EXPECT_TRUE(rebuilt.equal());
}

}  // namespace
}  // namespace nenep
