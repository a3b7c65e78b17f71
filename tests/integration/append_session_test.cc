// EventLog.AppendSession on the real server over a real gRPC channel: each
// request is an Append with its own answer, refusals do not end the
// session, pipelined appends are all answered, and a cancelled session
// leaves the server whole.

#include <set>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "services/eventlog/event_log_service.h"
#include "tests/testing/events.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::testing::HasSubstr;
using ::testing::StartsWith;

using Session = grpc::ClientReaderWriter<v1::AppendSessionRequest,
                                         v1::AppendSessionResponse>;

class AppendSessionTest : public ::testing::Test {
 protected:
  // One event of cell `unit`; `n` makes its session id unique.
  static v1::AppendSessionRequest Request(uint64_t correlation_id,
                                          const std::string& unit, int n,
                                          const std::string& request_id = "") {
    v1::AppendSessionRequest r;
    r.set_correlation_id(correlation_id);
    r.mutable_append()->set_request_id(request_id);
    *r.mutable_append()->add_events() = RegularSession(
        absl::StrCat(unit, ".s", n), unit, D(2020, 1 + n % 12, 6));
    return r;
  }

  // Sends `r` and returns its answer.
  static v1::AppendSessionResponse Call(Session* session,
                                        const v1::AppendSessionRequest& r) {
    v1::AppendSessionResponse answer;
    EXPECT_TRUE(session->Write(r));
    EXPECT_TRUE(session->Read(&answer));
    return answer;
  }

  uint64_t Head() {
    grpc::ClientContext ctx;
    v1::ServerStatus status;
    EXPECT_TRUE(server_.admin()->GetStatus(&ctx, {}, &status).ok());
    return status.head_position();
  }

  TestServer server_{LogOnly()};
};

TEST_F(AppendSessionTest, EachAppendIsAnsweredWithItsPositionsOnceDurable) {
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  for (int i = 0; i < 3; ++i) {
    const v1::AppendSessionResponse a =
        Call(session.get(), Request(100 + i, "cb1", i));
    EXPECT_EQ(a.correlation_id(), 100u + i);
    EXPECT_EQ(a.code(), 0) << a.message();
    EXPECT_EQ(a.result().stream(), "sessions-cb1");
    EXPECT_EQ(a.result().first_position(), 1u + i);
    EXPECT_EQ(a.result().last_revision(), 1u + i);
    EXPECT_FALSE(a.has_current_revision());
  }
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());

  // The events are in the log, as an Append would have written them.
  grpc::ClientContext get;
  v1::GetEventRequest g;
  g.set_position(3);
  v1::RecordedEvent e;
  ASSERT_TRUE(server_.log()->GetEvent(&get, g, &e).ok());
  EXPECT_EQ(e.stream(), "sessions-cb1");
  EXPECT_EQ(e.event().session_held().session_id(), "cb1.s2");
}

TEST_F(AppendSessionTest, RefusedAppendsAreAnsweredAndTheSessionGoesOn) {
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  ASSERT_EQ(Call(session.get(), Request(1, "cb1", 0, "rid-1")).code(), 0);

  // Invalid: the unary Append's status and message, nothing written.
  v1::AppendSessionRequest bad = Request(2, "cb1", 1);
  *bad.mutable_append()->mutable_events(0)->mutable_business_date() =
      D(2021, 2, 29);
  v1::AppendSessionResponse a = Call(session.get(), bad);
  EXPECT_EQ(a.correlation_id(), 2u);
  EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(a.message(), StartsWith("events[0].business_date: 2021-02-29"));
  EXPECT_FALSE(a.has_result());

  v1::AppendSessionRequest empty;
  empty.set_correlation_id(3);
  a = Call(session.get(), empty);
  EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(a.message(), StartsWith("events:"));

  // A wrong expectation names the stream's actual revision.
  v1::AppendSessionRequest stale = Request(4, "cb1", 2);
  stale.mutable_append()->mutable_expected_revision()->set_exact(7);
  a = Call(session.get(), stale);
  EXPECT_EQ(a.code(), grpc::StatusCode::ABORTED);
  ASSERT_TRUE(a.has_current_revision());
  EXPECT_EQ(a.current_revision(), 1u);

  // A repeated request_id: the original positions, or refused if the body
  // differs.
  a = Call(session.get(), Request(5, "cb1", 0, "rid-1"));
  EXPECT_EQ(a.code(), 0) << a.message();
  EXPECT_TRUE(a.result().already_appended());
  EXPECT_EQ(a.result().first_position(), 1u);
  a = Call(session.get(), Request(6, "cb1", 9, "rid-1"));
  EXPECT_EQ(a.code(), grpc::StatusCode::ALREADY_EXISTS);

  // And the session still appends.
  stale.set_correlation_id(7);
  stale.mutable_append()->mutable_expected_revision()->set_exact(1);
  a = Call(session.get(), stale);
  EXPECT_EQ(a.code(), 0) << a.message();
  EXPECT_EQ(a.result().last_revision(), 2u);
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
  EXPECT_EQ(Head(), 2u);
}

TEST_F(AppendSessionTest, PipelinedAppendsAreAllAnsweredGapFree) {
  // More than a session may have in flight, so that its reads pause and
  // resume.
  const int n = 3 * services::EventLogService::kMaxSessionPipeline + 17;
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  std::thread writer([&] {
    for (int i = 0; i < n; ++i) {
      ASSERT_TRUE(session->Write(Request(i, absl::StrCat("cb", i % 7), i)));
    }
    session->WritesDone();
  });
  std::set<uint64_t> ids, positions;
  v1::AppendSessionResponse a;
  while (session->Read(&a)) {
    EXPECT_EQ(a.code(), 0) << a.message();
    ids.insert(a.correlation_id());
    positions.insert(a.result().first_position());
  }
  writer.join();
  EXPECT_TRUE(session->Finish().ok());
  ASSERT_EQ(ids.size(), static_cast<size_t>(n));
  EXPECT_EQ(*ids.rbegin(), static_cast<uint64_t>(n - 1));
  ASSERT_EQ(positions.size(), static_cast<size_t>(n));
  EXPECT_EQ(*positions.begin(), 1u);
  EXPECT_EQ(*positions.rbegin(), static_cast<uint64_t>(n));
  EXPECT_EQ(Head(), static_cast<uint64_t>(n));
}

TEST_F(AppendSessionTest, ASessionWithNoAppendsEndsOk) {
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
  EXPECT_EQ(Head(), 0u);
}

TEST_F(AppendSessionTest, AnUnknownEnumValueIsRefusedNamingTheField) {
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  v1::AppendSessionRequest r = Request(1, "cb1", 1);
  r.mutable_append()->mutable_events(0)->mutable_session_held()->set_kind(
      static_cast<v1::SessionKind>(77));
  const v1::AppendSessionResponse a = Call(session.get(), r);
  EXPECT_EQ(a.correlation_id(), 1u);
  EXPECT_EQ(a.code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(a.message(),
              StartsWith("events[0].session_held.kind: unknown SessionKind"));
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
  EXPECT_EQ(Head(), 0u);
}

TEST_F(AppendSessionTest, ACancelledSessionLeavesTheServerWhole) {
  for (int round = 0; round < 5; ++round) {
    grpc::ClientContext ctx;
    std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
    for (int i = 0; i < 200; ++i) {
      if (!session->Write(Request(i, "cb1", round * 1000 + i))) break;
    }
    ctx.TryCancel();
    EXPECT_EQ(session->Finish().error_code(), grpc::StatusCode::CANCELLED);
  }
  // Appends the cancelled sessions had handed to the log may still be
  // committing; a new session appends after whatever was appended before,
  // and the log is gap-free up to it.
  const uint64_t head = Head();
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server_.log()->AppendSession(&ctx);
  const v1::AppendSessionResponse a = Call(session.get(), Request(1, "cb2", 1));
  EXPECT_EQ(a.code(), 0) << a.message();
  const uint64_t mine = a.result().first_position();
  EXPECT_GT(mine, head);
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
  for (uint64_t p = 1; p <= mine; ++p) {
    grpc::ClientContext get;
    v1::GetEventRequest g;
    g.set_position(p);
    v1::RecordedEvent e;
    ASSERT_TRUE(server_.log()->GetEvent(&get, g, &e).ok()) << p;
  }
}

TEST(AppendSessionShutdownTest, StoppingTheServerEndsOpenSessions) {
  TestServer server(LogOnly());
  grpc::ClientContext ctx;
  std::unique_ptr<Session> session = server.log()->AppendSession(&ctx);
  v1::AppendSessionRequest r;
  r.set_correlation_id(1);
  *r.mutable_append()->add_events() =
      RegularSession("cb1.s1", "cb1", D(2020, 1, 6));
  ASSERT_TRUE(session->Write(r));
  v1::AppendSessionResponse a;
  ASSERT_TRUE(session->Read(&a));
  EXPECT_EQ(a.code(), 0) << a.message();
  // The client never closes its side; the server's stop cancels the call
  // after its grace period instead of waiting for ever.
  server.Stop();
  EXPECT_FALSE(session->Read(&a));
  EXPECT_FALSE(session->Finish().ok());
}

}  // namespace
}  // namespace nenep
