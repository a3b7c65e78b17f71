// Figures the seed documents report, reproduced through the public API, and
// the other measures (plans, commitments, awards, period boundaries in
// Vietnam's local time) against values computed by hand.

#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/query.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::Award;
using ::nenep::testing::Commitment;
using ::nenep::testing::D;
using ::nenep::testing::Evaluation;
using ::nenep::testing::MemberJoined;
using ::nenep::testing::Plan;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::UnitCreated;
using ::testing::HasSubstr;

class SeedFiguresTest : public ::testing::Test {
 protected:
  SeedFiguresTest() : query_(v1::Query::NewStub(server_.NewChannel())) {}

  grpc::Status Append(const std::vector<v1::Event>& events) {
    return server_.AppendBatch(events);
  }
  void Add(const std::vector<v1::Event>& events) {
    grpc::Status s = Append(events);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }
  v1::Rollup Rollup(const std::string& unit, v1::Date from, v1::Date to) {
    return Get(testing::RollupOver(unit, from, to));
  }
  v1::Rollup Get(const v1::RollupRequest& r) {
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    grpc::Status s = query_->GetRollup(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.rollup();
  }

  TestServer server_;
  std::unique_ptr<v1::Query::Stub> query_;
};

TEST_F(SeedFiguresTest, TheShippedDemoDataGivesTheSeedsFigures) {
  // tools/demo/demo.jsonl: the facts of ../shared/seeds, imported as
  // `nenep import` does (one BatchAppend per 1,000 lines).
  std::ifstream in(std::string(NENEP_SOURCE_DIR) + "/tools/demo/demo.jsonl");
  ASSERT_TRUE(in.good());
  std::string line;
  v1::BatchAppendRequest batch;
  int lines = 0;
  while (std::getline(in, line)) {
    v1::BatchEntry entry;
    ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(line, &entry).ok())
        << line;
    *batch.add_entries() = std::move(entry);
    ++lines;
  }
  grpc::ClientContext ctx;
  v1::BatchAppendResponse resp;
  grpc::Status s = server_.log()->BatchAppend(&ctx, batch, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(resp.last_position(), static_cast<uint64_t>(lines));

  // Seed 003: Chi bộ Ban Dân vận Tỉnh ủy Đồng Nai, "from 1/2021 to 3/2024"
  // (report of ~March 2024): 39 monthly and 13 quarterly thematic sessions.
  v1::Rollup bdv = Rollup("cb-bdv-dongnai", D(2021, 1, 1), D(2024, 3, 15));
  EXPECT_EQ(bdv.sessions_regular(), 39);
  EXPECT_EQ(bdv.sessions_thematic(), 13);
  EXPECT_EQ(bdv.regular_cell_months_held(), 39);
  EXPECT_EQ(bdv.regular_cell_months_active(), 39);
  EXPECT_EQ(bdv.thematic_cell_quarters_held(), 13);
  EXPECT_EQ(bdv.thematic_cell_quarters_active(), 13);

  // Seed 001: Chi bộ Cục THADS tỉnh, 2020: 22 members, each registered a
  // commitment; 21 of 22 fulfilled it; a regular session every month.
  v1::RollupRequest year;
  year.set_unit_id("cb-cthads-tn");
  year.mutable_period()->set_year(2020);
  v1::Rollup thads = Get(year);
  EXPECT_EQ(thads.members(), 22);
  EXPECT_EQ(thads.members_with_commitment(), 22);
  EXPECT_EQ(thads.commitments_registered(), 22);
  EXPECT_EQ(thads.commitments_evaluated(), 22);
  EXPECT_EQ(thads.commitments_fulfilled(), 21);
  EXPECT_EQ(thads.sessions_regular(), 12);
  EXPECT_EQ(thads.regular_cell_months_held(), 12);
}

TEST_F(SeedFiguresTest, ABlocOf5200CellsOf50AwardedInThe2021To2023Phase) {
  // Seed 004: Đảng bộ Khối các cơ quan Trung ương, 18/5/2023: 50 of its
  // about 5,200 cells received a Bằng khen in the 2021-2023 phase.
  std::vector<v1::Event> tree = {
      UnitCreated("khoi", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                  "Đảng bộ Khối các cơ quan Trung ương", "", D(2020, 1, 1))};
  for (int d = 0; d < 52; ++d) {
    const std::string db = absl::StrCat("db", d);
    tree.push_back(UnitCreated(db, v1::UNIT_KIND_UPPER_BASE,
                               absl::StrCat("Đảng bộ ", d), "khoi",
                               D(2020, 1, 1)));
    for (int c = 0; c < 100; ++c) {
      tree.push_back(
          UnitCreated(absl::StrCat(db, ".cb", c), v1::UNIT_KIND_ATTACHED_CELL,
                      absl::StrCat("Chi bộ ", d, ".", c), db, D(2020, 1, 1)));
    }
  }
  Add(tree);
  std::vector<v1::Event> awards;
  for (int i = 0; i < 50; ++i) {
    // Spread over the phase, across đảng bộ.
    awards.push_back(Award(absl::StrCat("bk", i),
                           {absl::StrCat("db", i, ".cb", i)},
                           D(2021 + i % 3, 1 + i % 12, 1 + i % 28)));
  }
  // One of them twice, and one outside the phase: still 50 cells.
  awards.push_back(Award("bk-again", {"db0.cb0"}, D(2022, 9, 2)));
  awards.push_back(Award("bk-2024", {"db51.cb99"}, D(2024, 1, 15)));
  Add(awards);

  v1::RollupRequest phase;
  phase.set_unit_id("khoi");
  phase.set_phase("2021-2023");
  v1::Rollup r = Get(phase);
  EXPECT_EQ(r.cells(), 5200);
  EXPECT_EQ(r.awarded_cells(), 50);
  EXPECT_DOUBLE_EQ(r.awarded_cell_rate(), 50.0 / 5200.0);
  EXPECT_EQ(r.awards_bang_khen(), 51);
  EXPECT_EQ(r.award_recipients_collective(), 51);
  EXPECT_EQ(r.awards_ministry_province(), 51);

  // The breakdown by đảng bộ: db0 has two awards to one cell.
  v1::ChildrenRollupsRequest children;
  *children.mutable_rollup() = phase;
  children.set_sort_by("awards_bang_khen");
  children.set_descending(true);
  children.set_page_size(10);
  grpc::ClientContext ctx;
  v1::ChildrenRollupsResponse resp;
  ASSERT_TRUE(query_->GetChildrenRollups(&ctx, children, &resp).ok());
  ASSERT_EQ(resp.children_size(), 10);
  EXPECT_EQ(resp.children(0).unit().unit_id(), "db0");
  EXPECT_EQ(resp.children(0).rollup().awards_bang_khen(), 2);
  EXPECT_EQ(resp.children(0).rollup().awarded_cells(), 1);
  EXPECT_EQ(resp.children(0).rollup().cells(), 100);
  EXPECT_FALSE(resp.next_page_token().empty());
}

TEST_F(SeedFiguresTest, PeriodsFollowVietnamLocalDates) {
  Add({UnitCreated("k", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "Khối", "",
                   D(2020, 1, 1)),
       UnitCreated("cb", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "k", D(2020, 1, 1)),
       MemberJoined("m0", "cb", D(2020, 1, 1)),
       MemberJoined("m1", "cb", D(2020, 1, 1))});
  // A session that began at 06:30 on 1 January 2024 in Hà Nội: 23:30 on 31
  // December 2023 in UTC. The caller gives the instant only.
  v1::Event e = RegularSession("new-year", "cb", D(2024, 1, 1), 2, 2);
  e.clear_business_date();
  e.mutable_occurred_at()->set_seconds(1704065400);  // 2023-12-31T23:30:00Z
  Add({e});

  v1::RollupRequest month;
  month.set_unit_id("k");
  month.mutable_period()->set_year(2024);
  month.mutable_period()->set_month(1);
  v1::Rollup january = Get(month);
  EXPECT_EQ(january.sessions_regular(), 1);
  EXPECT_EQ(january.regular_cell_months_held(), 1);
  month.mutable_period()->set_year(2023);
  month.mutable_period()->set_month(12);
  v1::Rollup december = Get(month);
  EXPECT_EQ(december.sessions_regular(), 0);
  EXPECT_EQ(december.regular_cell_months_held(), 0);
  EXPECT_EQ(december.regular_cell_months_active(), 1);

  // Stored with the local date the server derived.
  v1::ReadAllRequest read;
  read.set_direction(v1::DIRECTION_BACKWARD);
  read.set_page_size(1);
  grpc::ClientContext ctx;
  v1::ReadAllResponse resp;
  ASSERT_TRUE(server_.log()->ReadAll(&ctx, read, &resp).ok());
  ASSERT_EQ(resp.events_size(), 1);
  EXPECT_EQ(resp.events(0).event().business_date().year(), 2024);
  EXPECT_EQ(resp.events(0).event().business_date().month(), 1);
  EXPECT_EQ(resp.events(0).event().business_date().day(), 1);

  // A business date that contradicts the instant is refused.
  v1::Event both = e;
  both.mutable_session_held()->set_session_id("both");
  *both.mutable_business_date() = D(2023, 12, 31);
  grpc::Status s = Append({both});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(),
              HasSubstr("2024-01-01 06:30 in Asia/Ho_Chi_Minh falls on "
                        "2024-01-01, not on business_date 2023-12-31"));
}

TEST_F(SeedFiguresTest, PlansCommitmentsAndAwardsByHand) {
  // K ── B1 ── C1, K ── B2 ── C2; 10 members per cell.
  std::vector<v1::Event> tree = {
      UnitCreated("K", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "Khối", "",
                  D(2020, 1, 1)),
      UnitCreated("B1", v1::UNIT_KIND_BASE_PARTY_COMMITTEE, "Đảng bộ B1", "K",
                  D(2020, 1, 1)),
      UnitCreated("B2", v1::UNIT_KIND_BASE_PARTY_COMMITTEE, "Đảng bộ B2", "K",
                  D(2020, 1, 1)),
      UnitCreated("C1", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C1", "B1",
                  D(2020, 1, 1)),
      UnitCreated("C2", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C2", "B2",
                  D(2020, 1, 1)),
  };
  for (const char* cell : {"C1", "C2"}) {
    for (int i = 0; i < 10; ++i) {
      tree.push_back(
          MemberJoined(absl::StrCat(cell, ".m", i), cell, D(2020, 1, 1)));
    }
  }
  Add(tree);
  // K's plan of 5/3/2021 asks B1 and B2 for theirs by 31/3: B1 on time, B2
  // late.
  const v1::Date due = D(2021, 3, 31);
  Add({Plan("p0", "K", "01-KH/ĐUK", D(2021, 3, 5), "", &due)});
  Add({Plan("p1", "B1", "05-KH/ĐU", D(2021, 3, 20), "p0")});
  Add({Plan("p2", "B2", "07-KH/ĐU", D(2021, 4, 10), "p0")});
  v1::Rollup q1 = Rollup("K", D(2021, 1, 1), D(2021, 3, 31));
  EXPECT_EQ(q1.plans_issued(), 2);
  EXPECT_EQ(q1.child_plans_required(), 2);
  EXPECT_EQ(q1.child_plans_on_time(), 1);
  EXPECT_DOUBLE_EQ(q1.child_plan_compliance(), 0.5);
  EXPECT_EQ(Rollup("K", D(2021, 4, 1), D(2021, 6, 30)).plans_issued(), 1);
  EXPECT_EQ(Rollup("B2", D(2021, 1, 1), D(2021, 12, 31)).child_plans_on_time(),
            0);

  // Six members of C1 and four of C2 register; C1's six are evaluated, five
  // fulfil; one of C2's is evaluated and does not.
  std::vector<v1::Event> commitments;
  for (int i = 0; i < 6; ++i) {
    commitments.push_back(Commitment(
        absl::StrCat("c1.", i), absl::StrCat("C1.m", i), "C1", D(2021, 1, 15)));
  }
  for (int i = 0; i < 4; ++i) {
    commitments.push_back(Commitment(
        absl::StrCat("c2.", i), absl::StrCat("C2.m", i), "C2", D(2021, 1, 15)));
  }
  Add(commitments);
  std::vector<v1::Event> evaluations;
  for (int i = 0; i < 6; ++i) {
    evaluations.push_back(
        Evaluation(absl::StrCat("c1.", i), D(2021, 12, 20), i < 5));
  }
  evaluations.push_back(Evaluation("c2.0", D(2021, 12, 20), false));
  Add(evaluations);
  // A Bằng khen to C1, then a Giấy khen to C1 and B2.
  Add({Award("a1", {"C1"}, D(2021, 5, 18))});
  Add({Award("a2", {"C1", "B2"}, D(2021, 9, 1), v1::AWARD_KIND_GIAY_KHEN)});

  v1::RollupRequest year;
  year.set_unit_id("K");
  year.mutable_period()->set_year(2021);
  v1::Rollup r = Get(year);
  EXPECT_EQ(r.members(), 20);
  EXPECT_EQ(r.commitments_registered(), 10);
  EXPECT_EQ(r.members_with_commitment(), 10);
  EXPECT_DOUBLE_EQ(r.commitment_registration_rate(), 0.5);
  EXPECT_EQ(r.commitments_evaluated(), 7);
  EXPECT_EQ(r.commitments_fulfilled(), 5);
  EXPECT_EQ(r.awards_bang_khen(), 1);
  EXPECT_EQ(r.awards_giay_khen(), 2);
  EXPECT_EQ(r.award_recipients_collective(), 3);
  EXPECT_EQ(r.awards_ministry_province(), 3);
  EXPECT_EQ(r.awarded_cells(), 1);
  EXPECT_EQ(r.cells(), 2);
  EXPECT_DOUBLE_EQ(r.awarded_cell_rate(), 0.5);
  // B2 alone: its award, its commitments.
  year.set_unit_id("B2");
  v1::Rollup b2 = Get(year);
  EXPECT_EQ(b2.award_recipients_collective(), 1);
  EXPECT_EQ(b2.awarded_cells(), 0);
  EXPECT_EQ(b2.commitments_registered(), 4);
  EXPECT_EQ(b2.commitments_fulfilled(), 0);
}

}  // namespace
}  // namespace nenep
