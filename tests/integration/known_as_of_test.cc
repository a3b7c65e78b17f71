// Bitemporal queries over real gRPC: sessions are recorded, then some are
// retracted or corrected and others added; rollups and units "known as of"
// a position or a recorded instant answer what the system knew then, in
// both attributions, while the plain query answers what it knows now.

#include <string>
#include <vector>

#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/v1/query.grpc.pb.h"
#include "services/common/proto_time.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::GrpcIs;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;

class KnownAsOfTest : public ::testing::Test {
 protected:
  KnownAsOfTest() {
    grpc::ClientContext ctx;
    v1::BatchAppendResponse resp;
    EXPECT_TRUE(
        server_.log()
            ->BatchAppend(&ctx, testing::SeedRequest({"c1", "c2"}, 10), &resp)
            .ok());
  }

  // Appends `e` alone; its position.
  uint64_t Append(const v1::Event& e) {
    grpc::ClientContext ctx;
    v1::AppendRequest r;
    *r.add_events() = e;
    v1::AppendResponse resp;
    grpc::Status s = server_.log()->Append(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.first_position();
  }

  v1::Rollup Rollup(v1::Attribution a, const v1::KnownAsOf* known,
                    uint64_t* position = nullptr,
                    const std::string& unit = "db") {
    v1::RollupRequest r =
        testing::RollupOver(unit, D(2022, 1, 1), D(2022, 12, 31));
    r.set_attribution(a);
    if (known != nullptr) *r.mutable_known_as_of() = *known;
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    grpc::Status s = server_.query()->GetRollup(&ctx, r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    if (position != nullptr) *position = resp.position();
    return resp.rollup();
  }

  TestServer server_;
};

TEST_F(KnownAsOfTest, AnswersWhatWasKnownBeforeEachChange) {
  std::vector<uint64_t> sessions;
  for (int m = 1; m <= 6; ++m) {
    sessions.push_back(
        Append(RegularSession("s" + std::to_string(m), m % 2 == 0 ? "c1" : "c2",
                              D(2022, m, 10), 10, 8)));
  }
  const uint64_t before = sessions.back();
  absl::SleepFor(absl::Milliseconds(20));
  const absl::Time known_then = absl::Now();
  absl::SleepFor(absl::Milliseconds(20));

  // A session retracted (a duplicate), another corrected (attendance).
  v1::Event retraction;
  *retraction.mutable_business_date() = D(2022, 7, 1);
  retraction.mutable_event_retracted()->set_target_position(sessions[0]);
  retraction.mutable_event_retracted()->set_reason(
      v1::RETRACTION_REASON_DUPLICATE);
  const uint64_t retracted_at = Append(retraction);
  v1::Event correction;
  *correction.mutable_business_date() = D(2022, 7, 2);
  correction.mutable_event_corrected()->set_target_position(sessions[1]);
  correction.mutable_event_corrected()->set_reason("attendance miscounted");
  *correction.mutable_event_corrected()->mutable_replacement() =
      RegularSession("s2", "c1", D(2022, 2, 10), 10, 3);
  const uint64_t corrected_at = Append(correction);

  for (v1::Attribution a :
       {v1::ATTRIBUTION_AS_RECORDED, v1::ATTRIBUTION_AS_OF_STRUCTURE}) {
    SCOPED_TRACE(v1::Attribution_Name(a));
    // Now: 5 sessions, attendance 8*4 + 3.
    const v1::Rollup now = Rollup(a, nullptr);
    EXPECT_EQ(now.sessions_total(), 5);
    EXPECT_EQ(now.attendance_present(), 35);

    // Known before the changes, by position and by recorded instant.
    v1::KnownAsOf at;
    at.set_position(before);
    uint64_t position = 0;
    const v1::Rollup then = Rollup(a, &at, &position);
    EXPECT_EQ(position, before);
    EXPECT_EQ(then.sessions_total(), 6);
    EXPECT_EQ(then.attendance_present(), 48);
    v1::KnownAsOf instant;
    services::ToProtoTimestamp(known_then, instant.mutable_recorded_at());
    const v1::Rollup by_time = Rollup(a, &instant, &position);
    EXPECT_EQ(position, before);
    EXPECT_EQ(by_time.sessions_total(), 6);

    // After the retraction, before the correction.
    at.set_position(retracted_at);
    const v1::Rollup between = Rollup(a, &at);
    EXPECT_EQ(between.sessions_total(), 5);
    EXPECT_EQ(between.attendance_present(), 40);
    at.set_position(corrected_at);
    EXPECT_EQ(Rollup(a, &at).attendance_present(), 35);
    // Before anything was recorded, db was not known.
    v1::RollupRequest r =
        testing::RollupOver("db", D(2022, 1, 1), D(2022, 12, 31));
    r.set_attribution(a);
    r.mutable_known_as_of()->set_position(0);
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    EXPECT_THAT(server_.query()->GetRollup(&ctx, r, &resp),
                GrpcIs(grpc::StatusCode::NOT_FOUND));
  }

  // Units too: before the seed, db was not known.
  {
    grpc::ClientContext ctx;
    v1::GetUnitRequest r;
    r.set_unit_id("db");
    *r.mutable_as_of() = D(2022, 6, 1);
    r.mutable_known_as_of()->set_position(0);
    v1::Unit unit;
    EXPECT_THAT(server_.query()->GetUnit(&ctx, r, &unit),
                GrpcIs(grpc::StatusCode::NOT_FOUND));
  }
  // A position past the head.
  {
    v1::RollupRequest r =
        testing::RollupOver("db", D(2022, 1, 1), D(2022, 12, 31));
    r.mutable_known_as_of()->set_position(corrected_at + 100);
    grpc::ClientContext ctx;
    v1::RollupResponse resp;
    EXPECT_THAT(server_.query()->GetRollup(&ctx, r, &resp),
                GrpcIs(grpc::StatusCode::OUT_OF_RANGE,
                       ::testing::HasSubstr("past the head")));
  }
}

// A structural event retracted: a move of a cell, with the sessions it
// moved. Known before the retraction, the move counts; after, it never was.
TEST_F(KnownAsOfTest, AStructuralRetractionInBothAttributions) {
  Append(testing::UnitCreated("up", v1::UNIT_KIND_BASE_PARTY_COMMITTEE,
                              "Đảng bộ cơ sở", "db", D(2022, 1, 1)));
  Append(testing::UnitCreated("c9", v1::UNIT_KIND_ATTACHED_CELL, "Chi bộ 9",
                              "up", D(2022, 1, 1)));
  Append(testing::MemberJoined("c9.m", "c9", D(2022, 1, 1)));
  for (int m = 1; m <= 6; ++m) {
    Append(
        RegularSession("c9.s" + std::to_string(m), "c9", D(2022, m, 10), 1, 1));
  }
  const uint64_t moved =
      Append(testing::Moved("c9", "up", "db", D(2022, 4, 1)));
  v1::Event retraction;
  *retraction.mutable_business_date() = D(2022, 7, 1);
  retraction.mutable_event_retracted()->set_target_position(moved);
  retraction.mutable_event_retracted()->set_reason(
      v1::RETRACTION_REASON_ENTERED_IN_ERROR);
  const uint64_t retracted = Append(retraction);
  ASSERT_GT(retracted, moved);
  v1::KnownAsOf before_move, after_move;
  before_move.set_position(moved - 1);
  after_move.set_position(moved);
  struct Expect {
    const v1::KnownAsOf* known;
    int64_t recorded, restated;  // sessions of "up" in 2022
  };
  for (const Expect& e : {Expect{&before_move, 6, 6}, Expect{&after_move, 3, 0},
                          Expect{nullptr, 6, 6}}) {
    SCOPED_TRACE(e.known == nullptr ? "now" : e.known->DebugString());
    EXPECT_EQ(Rollup(v1::ATTRIBUTION_AS_RECORDED, e.known, nullptr, "up")
                  .sessions_total(),
              e.recorded);
    EXPECT_EQ(Rollup(v1::ATTRIBUTION_AS_OF_STRUCTURE, e.known, nullptr, "up")
                  .sessions_total(),
              e.restated);
    // db's subtree holds all six either way.
    EXPECT_EQ(Rollup(v1::ATTRIBUTION_AS_RECORDED, e.known).sessions_total(), 6);
  }
}

}  // namespace
}  // namespace nenep
