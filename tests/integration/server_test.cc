// The real server (services::Server) on 127.0.0.1:0 with a temporary RocksDB
// store, over a real gRPC channel.

#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "services/common/text.h"
#include "tests/testing/events.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::Entry;
using ::nenep::testing::GrpcIs;
using ::nenep::testing::HttpGet;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::UnitCreated;
using ::testing::HasSubstr;
using ::testing::StartsWith;

class ServerTest : public ::testing::Test {
 protected:
  grpc::Status Append(const v1::AppendRequest& r, v1::AppendResponse* out,
                      grpc::ClientContext* ctx = nullptr) {
    grpc::ClientContext local;
    return server_.log()->Append(ctx != nullptr ? ctx : &local, r, out);
  }
  grpc::Status Batch(const v1::BatchAppendRequest& r,
                     v1::BatchAppendResponse* out) {
    grpc::ClientContext ctx;
    return server_.log()->BatchAppend(&ctx, r, out);
  }
  uint64_t Head() {
    grpc::ClientContext ctx;
    v1::ServerStatus status;
    EXPECT_TRUE(server_.admin()->GetStatus(&ctx, {}, &status).ok());
    return status.head_position();
  }
  std::vector<v1::RecordedEvent> ReadAll() {
    std::vector<v1::RecordedEvent> out;
    std::string token;
    do {
      grpc::ClientContext ctx;
      v1::ReadAllRequest r;
      r.set_page_token(token);
      r.set_page_size(1000);
      v1::ReadAllResponse resp;
      EXPECT_TRUE(server_.log()->ReadAll(&ctx, r, &resp).ok());
      for (auto& e : resp.events()) out.push_back(e);
      token = resp.next_page_token();
    } while (!token.empty());
    return out;
  }
  static v1::AppendRequest Sessions(const std::string& unit, int n,
                                    const std::string& request_id = "") {
    v1::AppendRequest r;
    r.set_request_id(request_id);
    for (int i = 0; i < n; ++i) {
      *r.add_events() = RegularSession(absl::StrCat(unit, ".s", i), unit,
                                       D(2020, 1 + i % 12, 6));
    }
    return r;
  }

  // The log's own behaviour: without the projections' referential checks,
  // so that events need not refer to recorded units.
  TestServer server_{LogOnly()};
};

TEST_F(ServerTest, HealthIsServing) {
  grpc::ClientContext ctx;
  grpc::health::v1::HealthCheckResponse resp;
  ASSERT_TRUE(server_.health()->Check(&ctx, {}, &resp).ok());
  EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
}

TEST_F(ServerTest, AppendedEventsReadBackWithTheirServerFields) {
  v1::AppendResponse resp;
  const absl::Time before = absl::Now();
  ASSERT_TRUE(Append(Sessions("cb1", 3, "r1"), &resp).ok());
  EXPECT_EQ(resp.stream(), "sessions-cb1");
  EXPECT_EQ(resp.first_position(), 1u);
  EXPECT_EQ(resp.last_position(), 3u);
  EXPECT_EQ(resp.first_revision(), 1u);
  EXPECT_EQ(resp.last_revision(), 3u);
  EXPECT_FALSE(resp.already_appended());

  grpc::ClientContext ctx;
  v1::GetEventRequest get;
  get.set_position(2);
  v1::RecordedEvent e;
  ASSERT_TRUE(server_.log()->GetEvent(&ctx, get, &e).ok());
  EXPECT_EQ(e.position(), 2u);
  EXPECT_EQ(e.stream(), "sessions-cb1");
  EXPECT_EQ(e.revision(), 2u);
  EXPECT_EQ(e.type(), "SessionHeld");
  EXPECT_EQ(e.request_id(), "r1");
  EXPECT_EQ(e.event().session_held().session_id(), "cb1.s1");
  const absl::Time recorded = absl::FromUnixSeconds(e.recorded_at().seconds());
  EXPECT_GE(recorded, before - absl::Seconds(1));
  EXPECT_LE(recorded, absl::Now());
}

TEST_F(ServerTest, RetryWithTheSameRequestIdReturnsTheOriginalPositions) {
  v1::AppendResponse first, again;
  ASSERT_TRUE(Append(Sessions("cb1", 2, "retry-1"), &first).ok());
  v1::AppendResponse other;
  ASSERT_TRUE(Append(Sessions("cb2", 1), &other).ok());
  ASSERT_TRUE(Append(Sessions("cb1", 2, "retry-1"), &again).ok());
  EXPECT_TRUE(again.already_appended());
  EXPECT_EQ(again.first_position(), 1u);
  EXPECT_EQ(again.last_position(), 2u);
  EXPECT_EQ(Head(), 3u);

  // The same id with another body is refused and writes nothing.
  grpc::Status s = Append(Sessions("cb1", 3, "retry-1"), &again);
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::ALREADY_EXISTS,
                        HasSubstr("already used for a different request")));
  EXPECT_EQ(Head(), 3u);

  // Forever: after a restart too.
  server_.Restart();
  ASSERT_TRUE(Append(Sessions("cb1", 2, "retry-1"), &again).ok());
  EXPECT_TRUE(again.already_appended());
  EXPECT_EQ(again.first_position(), 1u);
  EXPECT_EQ(Head(), 3u);
}

TEST_F(ServerTest, WrongExpectedRevisionIsAbortedWithTheActualRevision) {
  v1::AppendResponse resp;
  ASSERT_TRUE(Append(Sessions("cb1", 2), &resp).ok());
  v1::AppendRequest r = Sessions("cb1", 1);
  r.mutable_expected_revision()->set_exact(1);
  grpc::ClientContext ctx;
  grpc::Status s = Append(r, &resp, &ctx);
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::ABORTED,
                        HasSubstr("stream is at revision 2")));
  auto md = ctx.GetServerTrailingMetadata();
  auto it = md.find("nenep-current-revision");
  ASSERT_NE(it, md.end());
  EXPECT_EQ(std::string(it->second.data(), it->second.size()), "2");

  r.mutable_expected_revision()->mutable_no_stream();
  EXPECT_THAT(Append(r, &resp), GrpcIs(grpc::StatusCode::ABORTED));
  r.mutable_expected_revision()->set_exact(2);
  ASSERT_TRUE(Append(r, &resp).ok());
  EXPECT_EQ(resp.last_revision(), 3u);
  EXPECT_EQ(Head(), 3u);
}

TEST_F(ServerTest, ConcurrentWritersWithTheSameExpectationExactlyOneWins) {
  v1::AppendResponse resp;
  ASSERT_TRUE(Append(Sessions("cb1", 1), &resp).ok());
  constexpr int kWriters = 8;
  std::atomic<int> won{0}, aborted{0};
  std::vector<std::thread> threads;
  for (int i = 0; i < kWriters; ++i) {
    threads.emplace_back([&, i] {
      v1::AppendRequest r;
      *r.add_events() =
          RegularSession(absl::StrCat("w", i), "cb1", D(2020, 2, 6));
      r.mutable_expected_revision()->set_exact(1);
      v1::AppendResponse out;
      grpc::ClientContext ctx;
      grpc::Status s = server_.log()->Append(&ctx, r, &out);
      if (s.ok()) ++won;
      if (s.error_code() == grpc::StatusCode::ABORTED) ++aborted;
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(won.load(), 1);
  EXPECT_EQ(aborted.load(), kWriters - 1);
  EXPECT_EQ(Head(), 2u);
}

TEST_F(ServerTest, ABadEventInABatchWritesNothing) {
  v1::BatchAppendRequest batch;
  for (int i = 0; i < 100; ++i) {
    *batch.add_entries() = Entry(RegularSession(
        absl::StrCat("s", i), absl::StrCat("cb", i % 10), D(2021, 3, 8)));
  }
  batch.mutable_entries(57)
      ->mutable_event()
      ->mutable_session_held()
      ->mutable_attendance()
      ->set_present(99);
  v1::BatchAppendResponse resp;
  EXPECT_THAT(Batch(batch, &resp),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                     StartsWith("entries[57].event.session_held.attendance")));
  EXPECT_EQ(Head(), 0u);

  // A failed expectation in the middle of a batch: nothing either.
  batch.mutable_entries(57)
      ->mutable_event()
      ->mutable_session_held()
      ->mutable_attendance()
      ->set_present(9);
  batch.mutable_entries(40)->mutable_expected_revision()->set_exact(5);
  EXPECT_THAT(Batch(batch, &resp), GrpcIs(grpc::StatusCode::ABORTED));
  EXPECT_EQ(Head(), 0u);

  batch.mutable_entries(40)->clear_expected_revision();
  ASSERT_TRUE(Batch(batch, &resp).ok());
  EXPECT_EQ(resp.first_position(), 1u);
  EXPECT_EQ(resp.last_position(), 100u);
  ASSERT_EQ(resp.revisions_size(), 100);
  EXPECT_EQ(resp.revisions(99), 10u);
  EXPECT_EQ(resp.streams(99), "sessions-cb9");
  EXPECT_EQ(ReadAll().size(), 100u);
}

TEST_F(ServerTest, ReadsPageForwardAndBackwardOverEverything) {
  v1::BatchAppendRequest batch;
  for (int i = 0; i < 250; ++i) {
    *batch.add_entries() = Entry(RegularSession(
        absl::StrCat("s", i), absl::StrCat("cb", i % 3), D(2021, 3, 8)));
  }
  v1::BatchAppendResponse bresp;
  ASSERT_TRUE(Batch(batch, &bresp).ok());

  for (bool backward : {false, true}) {
    std::vector<uint64_t> seen;
    std::string token;
    int pages = 0;
    do {
      grpc::ClientContext ctx;
      v1::ReadAllRequest r;
      r.set_direction(backward ? v1::DIRECTION_BACKWARD
                               : v1::DIRECTION_FORWARD);
      r.set_page_size(40);
      r.set_page_token(token);
      v1::ReadAllResponse resp;
      ASSERT_TRUE(server_.log()->ReadAll(&ctx, r, &resp).ok());
      EXPECT_EQ(resp.head_position(), 250u);
      EXPECT_LE(resp.events_size(), 40);
      for (const auto& e : resp.events()) seen.push_back(e.position());
      token = resp.next_page_token();
      ++pages;
    } while (!token.empty());
    ASSERT_EQ(seen.size(), 250u);
    for (size_t i = 0; i < seen.size(); ++i) {
      EXPECT_EQ(seen[i], backward ? 250 - i : i + 1);
    }
    EXPECT_EQ(pages, 7);
  }

  // One stream, in pages of 30: revisions 1..84 of sessions-cb0.
  std::vector<uint64_t> revisions;
  std::string token;
  do {
    grpc::ClientContext ctx;
    v1::ReadStreamRequest r;
    r.set_stream("sessions-cb0");
    r.set_page_size(30);
    r.set_page_token(token);
    v1::ReadStreamResponse resp;
    ASSERT_TRUE(server_.log()->ReadStream(&ctx, r, &resp).ok());
    EXPECT_EQ(resp.stream_revision(), 84u);
    for (const auto& e : resp.events()) {
      EXPECT_EQ(e.stream(), "sessions-cb0");
      revisions.push_back(e.revision());
    }
    token = resp.next_page_token();
  } while (!token.empty());
  ASSERT_EQ(revisions.size(), 84u);
  EXPECT_EQ(revisions.back(), 84u);

  // Reading from a position: forward from 249 gives 249, 250.
  grpc::ClientContext ctx;
  v1::ReadAllRequest from;
  from.set_from_position(249);
  v1::ReadAllResponse resp;
  ASSERT_TRUE(server_.log()->ReadAll(&ctx, from, &resp).ok());
  ASSERT_EQ(resp.events_size(), 2);
  EXPECT_EQ(resp.events(0).position(), 249u);
  EXPECT_TRUE(resp.next_page_token().empty());
}

TEST_F(ServerTest, BadReadsGetPreciseStatuses) {
  v1::AppendResponse a;
  ASSERT_TRUE(Append(Sessions("cb1", 1), &a).ok());
  {
    grpc::ClientContext ctx;
    v1::ReadAllRequest r;
    r.set_page_token("not-a-token!");
    v1::ReadAllResponse resp;
    EXPECT_THAT(
        server_.log()->ReadAll(&ctx, r, &resp),
        GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, StartsWith("page_token")));
  }
  {
    grpc::ClientContext ctx;
    v1::ReadStreamRequest r;
    r.set_stream("sessions-none");
    v1::ReadStreamResponse resp;
    EXPECT_THAT(server_.log()->ReadStream(&ctx, r, &resp),
                GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("no events")));
  }
  {
    grpc::ClientContext ctx;
    v1::ReadStreamRequest r;
    r.set_stream("bad stream name");
    v1::ReadStreamResponse resp;
    EXPECT_THAT(
        server_.log()->ReadStream(&ctx, r, &resp),
        GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, StartsWith("stream")));
  }
  {
    grpc::ClientContext ctx;
    v1::GetEventRequest r;
    v1::RecordedEvent e;
    EXPECT_THAT(
        server_.log()->GetEvent(&ctx, r, &e),
        GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, StartsWith("position")));
  }
  {
    grpc::ClientContext ctx;
    v1::GetEventRequest r;
    r.set_position(2);
    v1::RecordedEvent e;
    EXPECT_THAT(server_.log()->GetEvent(&ctx, r, &e),
                GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("head is 1")));
  }
}

// Every validation path: the status, the field named, and nothing written.
TEST_F(ServerTest, EveryInvalidAppendIsRefusedPreciselyAndWritesNothing) {
  struct Case {
    std::string name;
    v1::AppendRequest request;
    grpc::StatusCode code;
    std::string message_prefix;
  };
  std::vector<Case> cases;
  auto base = [] { return Sessions("cb1", 1); };
  {
    v1::AppendRequest r;
    cases.push_back(
        {"no events", r, grpc::StatusCode::INVALID_ARGUMENT, "events:"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)->clear_business_date();
    cases.push_back({"no date", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].business_date: required"});
  }
  {
    v1::AppendRequest r = base();
    *r.mutable_events(0)->mutable_business_date() = D(2021, 2, 29);
    cases.push_back({"impossible date", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].business_date: 2021-02-29"});
  }
  {
    v1::AppendRequest r = base();
    *r.mutable_events(0)->mutable_business_date() = D(2199, 1, 1);
    cases.push_back({"future date", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].business_date"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)->mutable_session_held()->set_kind(
        static_cast<v1::SessionKind>(77));
    cases.push_back({"unknown enum", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].session_held.kind: unknown SessionKind"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)->mutable_session_held()->set_unit_id("cb 1");
    cases.push_back({"bad id", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].session_held.unit_id"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)->clear_session_held();
    cases.push_back({"no payload", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0]: no event payload"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)->mutable_session_held()->set_topic(
        std::string(70000, 'x'));
    cases.push_back({"oversize event", r, grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "events[0]: event of"});
  }
  {
    v1::AppendRequest r = Sessions("cb1", 1001);
    cases.push_back({"too many events", r, grpc::StatusCode::RESOURCE_EXHAUSTED,
                     "events: 1001 events"});
  }
  {
    v1::AppendRequest r = base();
    r.set_stream("unit-cb1");
    cases.push_back({"wrong stream", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0]: belongs to stream 'sessions-cb1'"});
  }
  {
    v1::AppendRequest r = base();
    *r.add_events() = RegularSession("x", "cb2", D(2020, 1, 6));
    cases.push_back({"two streams", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[1]: belongs to stream 'sessions-cb2'"});
  }
  {
    v1::AppendRequest r = base();
    r.set_request_id("has space");
    cases.push_back({"bad request id", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "request_id"});
  }
  {
    v1::AppendRequest r = base();
    r.set_stream("bad stream");
    cases.push_back(
        {"bad stream", r, grpc::StatusCode::INVALID_ARGUMENT, "stream:"});
  }
  {
    v1::AppendRequest r = base();
    r.mutable_events(0)
        ->mutable_session_held()
        ->GetReflection()
        ->MutableUnknownFields(r.mutable_events(0)->mutable_session_held())
        ->AddVarint(500, 1);
    cases.push_back({"unknown field", r, grpc::StatusCode::INVALID_ARGUMENT,
                     "events[0].session_held: unknown field number 500"});
  }
  {
    v1::AppendRequest r;
    v1::Event* e = r.add_events();
    *e->mutable_business_date() = D(2024, 1, 2);
    e->mutable_event_retracted()->set_target_position(999);
    e->mutable_event_retracted()->set_reason(
        v1::RETRACTION_REASON_ENTERED_IN_ERROR);
    cases.push_back({"retract missing", r, grpc::StatusCode::NOT_FOUND,
                     "events[0].event_retracted.target_position"});
  }
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    v1::AppendResponse resp;
    EXPECT_THAT(Append(c.request, &resp),
                GrpcIs(c.code, StartsWith(c.message_prefix)));
  }
  EXPECT_EQ(Head(), 0u);

  // A request larger than --max_request_bytes is refused by gRPC itself.
  v1::BatchAppendRequest huge;
  for (int i = 0; i < 1200; ++i) {
    v1::Event e = RegularSession(absl::StrCat("h", i), "cb1", D(2020, 1, 6));
    e.mutable_session_held()->set_topic(std::string(60000, 'y'));
    *huge.add_entries() = Entry(std::move(e));
  }
  v1::BatchAppendResponse bresp;
  EXPECT_THAT(Batch(huge, &bresp),
              GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED));
  v1::BatchAppendRequest many;
  for (int i = 0; i < 10001; ++i) {
    *many.add_entries() =
        Entry(RegularSession(absl::StrCat("m", i), "cb1", D(2020, 1, 6)));
  }
  EXPECT_THAT(Batch(many, &bresp),
              GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     StartsWith("entries: 10001 entries")));
  v1::BatchAppendRequest empty;
  EXPECT_THAT(Batch(empty, &bresp), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                                           StartsWith("entries")));
  v1::BatchAppendRequest no_event;
  no_event.add_entries()->set_stream("sessions-cb1");
  EXPECT_THAT(Batch(no_event, &bresp),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                     StartsWith("entries[0]: event is required")));
  EXPECT_EQ(Head(), 0u);
}

TEST_F(ServerTest, TextIsStoredInNfc) {
  const std::string nfd = "Chi bo\xCC\xA3\xCC\x82 Vu\xCC\xA3";
  v1::AppendRequest r;
  *r.add_events() = UnitCreated("cb1", v1::UNIT_KIND_ATTACHED_CELL, nfd, "db1");
  v1::AppendResponse resp;
  ASSERT_TRUE(Append(r, &resp).ok());
  std::vector<v1::RecordedEvent> all = ReadAll();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_EQ(all[0].event().unit_created().name(), "Chi bộ Vụ");
  EXPECT_TRUE(services::IsNfc(all[0].event().unit_created().name()));
}

TEST_F(ServerTest, CorrectionsGoToTheStreamOfTheirTarget) {
  v1::AppendResponse resp;
  ASSERT_TRUE(Append(Sessions("cb1", 1), &resp).ok());
  v1::AppendRequest fix;
  v1::Event* e = fix.add_events();
  *e->mutable_business_date() = D(2024, 1, 2);
  e->mutable_event_corrected()->set_target_position(1);
  e->mutable_event_corrected()->set_reason("nhập sai số có mặt");
  *e->mutable_event_corrected()->mutable_replacement() =
      RegularSession("cb1.s0", "cb1", D(2020, 1, 6), 10, 10);
  ASSERT_TRUE(Append(fix, &resp).ok());
  EXPECT_EQ(resp.stream(), "sessions-cb1");
  EXPECT_EQ(resp.last_revision(), 2u);

  // A replacement of another type is refused.
  *e->mutable_event_corrected()->mutable_replacement() =
      UnitCreated("cb1", v1::UNIT_KIND_BASE_CELL, "Chi bộ", "p");
  EXPECT_THAT(Append(fix, &resp),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                     HasSubstr("is a UnitCreated but the event at position 1 "
                               "is a SessionHeld")));
  // A retraction cannot itself be retracted.
  v1::AppendRequest retract;
  v1::Event* r = retract.add_events();
  *r->mutable_business_date() = D(2024, 1, 2);
  r->mutable_event_retracted()->set_target_position(2);
  r->mutable_event_retracted()->set_reason(v1::RETRACTION_REASON_DUPLICATE);
  ASSERT_TRUE(Append(retract, &resp).ok());
  r->mutable_event_retracted()->set_target_position(3);
  EXPECT_THAT(Append(retract, &resp),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION,
                     HasSubstr("is a retraction")));
  EXPECT_EQ(Head(), 3u);
}

TEST_F(ServerTest, StatusReportsTheStore) {
  v1::AppendResponse resp;
  ASSERT_TRUE(Append(Sessions("cb1", 4), &resp).ok());
  grpc::ClientContext ctx;
  v1::ServerStatus status;
  ASSERT_TRUE(server_.admin()->GetStatus(&ctx, {}, &status).ok());
  EXPECT_TRUE(status.serving());
  EXPECT_EQ(status.head_position(), 4u);
  EXPECT_EQ(status.data_dir(), server_.dir() + "/data");
  EXPECT_GT(status.last_recorded_at().seconds(), 0);
  EXPECT_EQ(status.appends_total(), 1u);
}

TEST(ServerLifecycleTest, NotServingUntilTheStoreIsOpen) {
  nenep::testing::TempDir dir;
  absl::Notification release;
  services::ServerOptions options = LogOnly();
  options.data_dir = dir.Sub("data");
  options.listen = "127.0.0.1:0";
  options.before_open_for_test = [&] { release.WaitForNotification(); };
  std::unique_ptr<services::Server> server = *services::Server::Start(options);
  auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", server->port()),
                                     grpc::InsecureChannelCredentials());
  auto health = grpc::health::v1::Health::NewStub(channel);
  auto log = v1::EventLog::NewStub(channel);
  {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, {}, &resp).ok());
    EXPECT_EQ(resp.status(),
              grpc::health::v1::HealthCheckResponse::NOT_SERVING);
    grpc::ClientContext actx;
    v1::AppendRequest r;
    *r.add_events() = RegularSession("s", "cb1", D(2020, 1, 6));
    v1::AppendResponse aresp;
    EXPECT_THAT(
        log->Append(&actx, r, &aresp),
        GrpcIs(grpc::StatusCode::UNAVAILABLE, HasSubstr("store is not open")));
  }
  release.Notify();
  ASSERT_TRUE(server->WaitUntilServing().ok());
  {
    grpc::ClientContext ctx;
    grpc::health::v1::HealthCheckResponse resp;
    ASSERT_TRUE(health->Check(&ctx, {}, &resp).ok());
    EXPECT_EQ(resp.status(), grpc::health::v1::HealthCheckResponse::SERVING);
  }
  ASSERT_TRUE(server->Shutdown(absl::Seconds(5)).ok());
}

TEST(ServerLifecycleTest, ASecondServerOnTheSameDirectoryFailsFast) {
  nenep::testing::TempDir dir;
  services::ServerOptions options = LogOnly();
  options.data_dir = dir.Sub("data");
  options.listen = "127.0.0.1:0";
  std::unique_ptr<services::Server> first = *services::Server::Start(options);
  ASSERT_TRUE(first->WaitUntilServing().ok());
  absl::StatusOr<std::unique_ptr<services::Server>> second =
      services::Server::Start(options);
  EXPECT_EQ(second.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_THAT(std::string(second.status().message()),
              HasSubstr("in use by another nenepd (pid"));
  ASSERT_TRUE(first->Shutdown(absl::Seconds(5)).ok());
}

TEST(ServerMetricsTest, PrometheusMetricsCountAppendsAndCommits) {
  services::ServerOptions options = LogOnly();
  options.metrics_listen = "127.0.0.1:0";
  TestServer server(options);
  ASSERT_GT(server.server()->metrics_port(), 0);
  v1::AppendRequest r;
  *r.add_events() = RegularSession("s", "cb1", D(2020, 1, 6));
  *r.add_events() = RegularSession("t", "cb1", D(2020, 1, 7));
  v1::AppendResponse resp;
  grpc::ClientContext ctx;
  ASSERT_TRUE(server.log()->Append(&ctx, r, &resp).ok());
  const std::string page = HttpGet(server.server()->metrics_port(), "/metrics");
  EXPECT_THAT(page, HasSubstr("nenep_events_appended_total 2"));
  EXPECT_THAT(page, HasSubstr("nenep_log_head_position 2"));
  EXPECT_THAT(
      page,
      HasSubstr("nenep_rpc_requests_total{code=\"OK\",rpc=\"Append\"} 1"));
  EXPECT_THAT(page, HasSubstr("nenep_commit_latency_seconds_bucket"));
  EXPECT_THAT(page, HasSubstr("nenep_commit_group_events_count 1"));
}

}  // namespace
}  // namespace nenep
