// Referential validation on append: every refusal has a precise status and
// a message that names the event, the unit and the date, and writes nothing
// (the log's head and the projections are unchanged).

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

using ::nenep::testing::Commitment;
using ::nenep::testing::D;
using ::nenep::testing::Dissolved;
using ::nenep::testing::Evaluation;
using ::nenep::testing::MemberJoined;
using ::nenep::testing::Merged;
using ::nenep::testing::Moved;
using ::nenep::testing::Plan;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::Transferred;
using ::nenep::testing::UnitCreated;
using ::testing::HasSubstr;

class ReferentialTest : public ::testing::Test {
 protected:
  ReferentialTest()
      : query_(v1::Query::NewStub(server_.NewChannel())),
        projections_(v1::Projections::NewStub(server_.NewChannel())) {
    // K ── D1 ── B1 ── C1 (10 members), C2 (10 members), C3 (dissolved
    // 1/3/2021 into C2).
    std::vector<v1::Event> e = {
        UnitCreated("K", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "Khối", "",
                    D(2020, 1, 1)),
        UnitCreated("D1", v1::UNIT_KIND_UPPER_BASE, "Đảng bộ D1", "K",
                    D(2020, 1, 1)),
        UnitCreated("B1", v1::UNIT_KIND_BASE_PARTY_COMMITTEE, "Đảng bộ B1",
                    "D1", D(2020, 1, 1)),
        UnitCreated("C1", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C1", "B1",
                    D(2020, 1, 1)),
        UnitCreated("C2", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C2", "B1",
                    D(2020, 1, 1)),
        UnitCreated("C3", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C3", "B1",
                    D(2020, 1, 1)),
        Dissolved("C3", {"C2"}, D(2021, 3, 1)),
        Commitment("cm1", "C1.m0", "C1", D(2021, 2, 1)),
        Plan("p1", "K", "01-KH/ĐUK", D(2021, 1, 5)),
    };
    std::vector<v1::Event> members;
    for (const char* cell : {"C1", "C2"}) {
      for (int i = 0; i < 10; ++i) {
        members.push_back(
            MemberJoined(absl::StrCat(cell, ".m", i), cell, D(2020, 1, 1)));
      }
    }
    // Members before the commitment that names one of them.
    e.insert(e.begin() + 7, members.begin(), members.end());
    grpc::Status s = Append(e);
    EXPECT_TRUE(s.ok()) << s.error_message();
  }

  grpc::Status Append(const std::vector<v1::Event>& events) {
    return server_.AppendBatch(events);
  }
  uint64_t Head() {
    grpc::ClientContext ctx;
    v1::ServerStatus status;
    EXPECT_TRUE(server_.admin()->GetStatus(&ctx, {}, &status).ok());
    return status.head_position();
  }
  std::string Checksum() {
    grpc::ClientContext ctx;
    v1::RebuildResponse r;
    EXPECT_TRUE(projections_->Rebuild(&ctx, {}, &r).ok());
    EXPECT_TRUE(r.equal());
    return r.live_checksum();
  }

  // Appends `events` (with Append when `single`, BatchAppend otherwise) and
  // expects `code` with `message` in it, and nothing written.
  void ExpectRefused(const std::vector<v1::Event>& events,
                     grpc::StatusCode code, const std::string& message) {
    const uint64_t head = Head();
    const std::string before = Checksum();
    grpc::Status s = Append(events);
    EXPECT_EQ(s.error_code(), code) << s.error_message();
    EXPECT_THAT(s.error_message(), HasSubstr(message));
    if (events.size() == 1) {
      // The same through Append, the single-stream RPC.
      v1::AppendRequest r;
      *r.add_events() = events[0];
      grpc::ClientContext ctx;
      v1::AppendResponse resp;
      grpc::Status one = server_.log()->Append(&ctx, r, &resp);
      EXPECT_EQ(one.error_code(), code) << one.error_message();
    }
    EXPECT_EQ(Head(), head) << "something was written";
    EXPECT_EQ(Checksum(), before) << "the projections changed";
  }

  TestServer server_;
  std::unique_ptr<v1::Query::Stub> query_;
  std::unique_ptr<v1::Projections::Stub> projections_;
};

TEST_F(ReferentialTest, UnknownUnitIsNotFound) {
  ExpectRefused({RegularSession("s", "nowhere", D(2021, 3, 10))},
                grpc::StatusCode::NOT_FOUND,
                "entries[0].event.session_held.unit_id: unit 'nowhere' is not "
                "recorded");
  ExpectRefused({UnitCreated("X", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ X",
                             "nowhere", D(2021, 1, 1))},
                grpc::StatusCode::NOT_FOUND, "unit_created.parent_id");
}

TEST_F(ReferentialTest, UnitNotActiveOnTheDateSaysWhichAndWhen) {
  // Before it was created.
  ExpectRefused({RegularSession("s", "C1", D(2019, 12, 10))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "unit 'C1' is not active on 2019-12-10 (created on "
                "2020-01-01)");
  // After it was dissolved.
  ExpectRefused({RegularSession("s", "C3", D(2021, 3, 10))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "unit 'C3' is not active on 2021-03-10 (dissolved on "
                "2021-03-01)");
}

TEST_F(ReferentialTest, MoveThatMakesACycleIsRefused) {
  ExpectRefused({Moved("D1", "K", "B1", D(2021, 4, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "would make a cycle: 'B1' is inside the subtree of 'D1'");
  // A wrong from_parent names the actual parent.
  ExpectRefused({Moved("C1", "D1", "K", D(2021, 4, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "unit 'C1' is under 'B1' on 2021-04-01, not 'D1'");
}

TEST_F(ReferentialTest, MergeOfAnInactiveUnitIsRefused) {
  ExpectRefused({Merged({"C3"}, "C2", D(2021, 5, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "cannot merge unit 'C3': it is not active on 2021-05-01");
}

TEST_F(ReferentialTest, MemberNotInTheCellOnThatDate) {
  ExpectRefused({Transferred("C2.m0", "C1", "C2", D(2021, 4, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "member 'C2.m0' is not in cell 'C1' on 2021-04-01 (in 'C2' "
                "that day)");
  ExpectRefused({Commitment("cm9", "C2.m1", "C1", D(2021, 4, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "member 'C2.m1' is not in cell 'C1'");
  ExpectRefused({Commitment("cm9", "ghost", "C1", D(2021, 4, 1))},
                grpc::StatusCode::NOT_FOUND, "member 'ghost' is not recorded");
}

TEST_F(ReferentialTest, AttendanceAboveTheCellsMembers) {
  ExpectRefused({RegularSession("s", "C1", D(2021, 3, 10), 11, 11)},
                grpc::StatusCode::INVALID_ARGUMENT,
                "attendance.convened: 11 convened, but 'C1' had 10 member(s) "
                "on 2021-03-10");
}

TEST_F(ReferentialTest, EvaluationBeforeRegistrationOrTwice) {
  ExpectRefused({Evaluation("cm1", D(2021, 1, 20), true)},
                grpc::StatusCode::FAILED_PRECONDITION,
                "commitment 'cm1' is evaluated on 2021-01-20, before it was "
                "registered on 2021-02-01");
  ExpectRefused({Evaluation("cm-unknown", D(2021, 12, 20), true)},
                grpc::StatusCode::NOT_FOUND,
                "commitment 'cm-unknown' is not recorded");
  ASSERT_TRUE(Append({Evaluation("cm1", D(2021, 12, 20), true)}).ok());
  ExpectRefused({Evaluation("cm1", D(2021, 12, 21), false)},
                grpc::StatusCode::FAILED_PRECONDITION, "already evaluated");
}

TEST_F(ReferentialTest, DuplicatePlanIdentityIsAlreadyExists) {
  ExpectRefused({Plan("p2", "K", "01-KH/ĐUK", D(2021, 1, 5))},
                grpc::StatusCode::ALREADY_EXISTS,
                "a plan with number '01-KH/ĐUK', issuer 'K' and date "
                "2021-01-05 is already recorded as 'p1'");
  ExpectRefused({Plan("p1", "K", "02-KH/ĐUK", D(2021, 1, 6))},
                grpc::StatusCode::ALREADY_EXISTS, "plan 'p1' already exists");
  // Same number, another date: another plan.
  EXPECT_TRUE(Append({Plan("p2", "K", "01-KH/ĐUK", D(2021, 2, 5))}).ok());
}

TEST_F(ReferentialTest, DuplicateUnitAndOutOfOrderChanges) {
  ExpectRefused({UnitCreated("C1", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ", "B1",
                             D(2021, 1, 1))},
                grpc::StatusCode::ALREADY_EXISTS, "unit 'C1' already exists");
  ASSERT_TRUE(Append({Moved("C1", "B1", "D1", D(2021, 6, 1))}).ok());
  ExpectRefused({Moved("C1", "D1", "K", D(2021, 5, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "record changes of a unit in date order");
  // A dissolution with members left, or with facts after it.
  ExpectRefused({Dissolved("C2", {}, D(2021, 7, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "cell 'C2' still has 10 member(s) on 2021-07-01");
  ExpectRefused({Dissolved("B1", {}, D(2021, 7, 1))},
                grpc::StatusCode::FAILED_PRECONDITION,
                "unit 'B1' still has child 'C2'");
}

TEST_F(ReferentialTest, ALaterBadEventRefusesTheWholeBatch) {
  // The first event alone would pass; the batch is all or nothing, in the
  // projections as in the log.
  ExpectRefused({UnitCreated("C9", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ C9",
                             "B1", D(2021, 1, 1)),
                 MemberJoined("C9.m0", "C9", D(2021, 1, 1)),
                 RegularSession("s", "C9", D(2021, 3, 10), 2, 2)},
                grpc::StatusCode::INVALID_ARGUMENT,
                "entries[2].event.session_held.attendance.convened");
  v1::GetUnitRequest r;
  r.set_unit_id("C9");
  grpc::ClientContext ctx;
  v1::Unit unit;
  EXPECT_EQ(query_->GetUnit(&ctx, r, &unit).error_code(),
            grpc::StatusCode::NOT_FOUND);
}

TEST_F(ReferentialTest, RetractionsAndCorrectionsAdjustTheRollups) {
  ASSERT_TRUE(Append({RegularSession("s1", "C1", D(2021, 3, 10), 10, 8)}).ok());
  const uint64_t session = Head();
  v1::RollupRequest q;
  q.set_unit_id("K");
  q.mutable_period()->set_year(2021);
  q.mutable_period()->set_month(3);
  auto get = [&] {
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    EXPECT_TRUE(query_->GetRollup(&ctx, q, &resp).ok());
    return resp.rollup();
  };
  EXPECT_EQ(get().attendance_present(), 8);
  // Corrected: 10 present.
  v1::Event fix;
  *fix.mutable_business_date() = D(2021, 3, 12);
  fix.mutable_event_corrected()->set_target_position(session);
  fix.mutable_event_corrected()->set_reason("nhập sai số có mặt");
  *fix.mutable_event_corrected()->mutable_replacement() =
      RegularSession("s1", "C1", D(2021, 3, 10), 10, 10);
  ASSERT_TRUE(Append({fix}).ok());
  EXPECT_EQ(get().attendance_present(), 10);
  EXPECT_EQ(get().sessions_regular(), 1);
  EXPECT_EQ(get().regular_cell_months_held(), 1);
  // Retracted: gone, compliance too.
  v1::Event retract;
  *retract.mutable_business_date() = D(2021, 3, 13);
  retract.mutable_event_retracted()->set_target_position(session);
  retract.mutable_event_retracted()->set_reason(
      v1::RETRACTION_REASON_ENTERED_IN_ERROR);
  ASSERT_TRUE(Append({retract}).ok());
  EXPECT_EQ(get().sessions_regular(), 0);
  EXPECT_EQ(get().regular_cell_months_held(), 0);
  ExpectRefused({retract}, grpc::StatusCode::FAILED_PRECONDITION,
                "already retracted");
  // A structural event that later events depend on cannot be retracted
  // alone (tests/storage/retraction_test.cc has the rest).
  v1::Event bad = retract;
  bad.mutable_event_retracted()->set_target_position(1);
  ExpectRefused({bad}, grpc::StatusCode::FAILED_PRECONDITION,
                "cannot retract the creation of unit 'K': unit 'D1' was "
                "created or moved under it");
  // Nothing depends on C3's dissolution (position 7): retracted, C3 is
  // active again, and its lineage to C2 is gone.
  bad.mutable_event_retracted()->set_target_position(7);
  ASSERT_TRUE(Append({bad}).ok());
  grpc::ClientContext ctx;
  v1::GetUnitRequest r;
  r.set_unit_id("C3");
  *r.mutable_as_of() = D(2021, 12, 31);
  v1::Unit c3;
  ASSERT_TRUE(query_->GetUnit(&ctx, r, &c3).ok());
  EXPECT_FALSE(c3.has_dissolved_on());
  EXPECT_EQ(c3.successor_unit_ids_size(), 0);
}

}  // namespace
}  // namespace nenep
