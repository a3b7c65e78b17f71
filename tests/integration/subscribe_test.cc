// Subscriptions over real gRPC: catch-up then live with no gap and no
// duplicate while appends continue, filters, bad input, a stalled reader.

#include <atomic>
#include <map>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/v1/subscribe.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::LogOnly;
using ::nenep::testing::Moved;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::UnitCreated;
using ::testing::HasSubstr;

std::vector<v1::RecordedEvent> ReadEverything(TestServer* server) {
  std::vector<v1::RecordedEvent> out;
  std::string token;
  do {
    grpc::ClientContext ctx;
    v1::ReadAllRequest r;
    r.set_page_size(1000);
    r.set_page_token(token);
    v1::ReadAllResponse resp;
    EXPECT_TRUE(server->log()->ReadAll(&ctx, r, &resp).ok());
    for (auto& e : *resp.mutable_events()) out.push_back(std::move(e));
    token = resp.next_page_token();
  } while (!token.empty());
  return out;
}

TEST(SubscribeTest, FromZeroWhileAppendingGetsEveryEventOnceInOrder) {
  TestServer server(LogOnly());
  constexpr int kWriters = 4, kBatches = 100, kBatch = 250;  // 100,000
  std::atomic<int> batches_done{0};
  std::vector<std::thread> writers;
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&, w] {
      auto stub = v1::EventLog::NewStub(server.NewChannel());
      for (int b = 0; b < kBatches; ++b) {
        v1::BatchAppendRequest r;
        for (int i = 0; i < kBatch; ++i) {
          *r.add_entries()->mutable_event() =
              RegularSession(absl::StrCat("w", w, ".", b, ".", i),
                             absl::StrCat("cb", w), D(2021, 1 + i % 12, 10));
        }
        grpc::ClientContext ctx;
        v1::BatchAppendResponse resp;
        ASSERT_TRUE(stub->BatchAppend(&ctx, r, &resp).ok());
        ++batches_done;
        // ~10,000 events/s in all: the subscriber catches up mid-run and
        // then follows live appends.
        absl::SleepFor(absl::Milliseconds(100));
      }
    });
  }
  // Subscribe from the start once some are in: catch-up, then live.
  while (batches_done < 20) absl::SleepFor(absl::Milliseconds(5));
  auto stub = v1::Subscriptions::NewStub(server.NewChannel());
  grpc::ClientContext ctx;
  v1::SubscribeRequest request;
  request.set_from_start(true);
  auto reader = stub->Subscribe(&ctx, request);
  std::vector<v1::RecordedEvent> got;
  int caught_up = 0;
  uint64_t first_caught_up_at = 0;
  const uint64_t total = kWriters * kBatches * kBatch;
  v1::SubscribeResponse item;
  int events_after_caught_up = 0;
  while (got.size() < total && reader->Read(&item)) {
    if (item.has_event()) {
      got.push_back(item.event());
      if (caught_up > 0) ++events_after_caught_up;
    } else if (item.has_caught_up()) {
      if (++caught_up == 1) first_caught_up_at = item.caught_up().position();
    }
  }
  // The switch happened while appends went on: live events followed it.
  EXPECT_GT(events_after_caught_up, 0);
  EXPECT_LT(first_caught_up_at, total);
  for (auto& t : writers) t.join();
  ctx.TryCancel();
  reader->Finish().IgnoreError();

  const std::vector<v1::RecordedEvent> all = ReadEverything(&server);
  ASSERT_EQ(all.size(), total);
  ASSERT_EQ(got.size(), total);
  for (size_t i = 0; i < total; ++i) {
    ASSERT_EQ(got[i].position(), i + 1) << "gap or duplicate at " << i;
    ASSERT_EQ(got[i].stream(), all[i].stream());
    ASSERT_EQ(got[i].revision(), all[i].revision());
    ASSERT_EQ(got[i].event().session_held().session_id(),
              all[i].event().session_held().session_id());
  }
  EXPECT_GE(caught_up, 1);
  EXPECT_GT(first_caught_up_at, 0u);
  std::cout << "subscribe: " << total << " events delivered in order, first "
            << "caught up at " << first_caught_up_at << ", " << caught_up
            << " caught_up marker(s)\n";
}

TEST(SubscribeTest, FiltersByTypeAndBySubtreeOnTheEventsDate) {
  TestServer server;  // with projections: the subtree filter needs them
  const v1::Date d0 = D(2020, 1, 1);
  std::vector<v1::Event> events = {
      UnitCreated("K1", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "K1", "", d0),
      UnitCreated("K2", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL, "K2", "", d0),
      UnitCreated("D1", v1::UNIT_KIND_UPPER_BASE, "D1", "K1", d0),
      UnitCreated("C1", v1::UNIT_KIND_ATTACHED_CELL, "C1", "D1", d0),
      UnitCreated("C2", v1::UNIT_KIND_ATTACHED_CELL, "C2", "K2", d0),
  };
  ASSERT_TRUE(server.AppendBatch(events).ok());
  auto session = [](const std::string& id, const std::string& unit,
                    v1::Date d) {
    v1::Event e = RegularSession(id, unit, d);
    e.mutable_session_held()->clear_attendance();
    return e;
  };
  // C1 under K1 until D1 moves to K2 on 1/4/2021.
  ASSERT_TRUE(server
                  .AppendBatch({session("a", "C1", D(2021, 3, 10)),
                                session("b", "C2", D(2021, 3, 11)),
                                Moved("D1", "K1", "K2", D(2021, 4, 1)),
                                session("c", "C1", D(2021, 4, 10)),
                                session("d", "C2", D(2021, 4, 11))})
                  .ok());
  auto collect = [&](v1::SubscribeRequest request) {
    auto stub = v1::Subscriptions::NewStub(server.NewChannel());
    grpc::ClientContext ctx;
    request.set_from_start(true);
    auto reader = stub->Subscribe(&ctx, request);
    std::vector<std::string> out;
    v1::SubscribeResponse item;
    while (reader->Read(&item)) {
      if (item.has_caught_up()) break;
      const v1::Event& e = item.event().event();
      out.push_back(e.has_session_held() ? e.session_held().session_id()
                                         : std::string(item.event().type()));
    }
    ctx.TryCancel();
    reader->Finish().IgnoreError();
    return out;
  };
  v1::SubscribeRequest by_type;
  by_type.add_event_types("SessionHeld");
  EXPECT_EQ(collect(by_type), (std::vector<std::string>{"a", "b", "c", "d"}));
  v1::SubscribeRequest k1;
  k1.set_subtree_unit_id("K1");
  k1.add_event_types("SessionHeld");
  EXPECT_EQ(collect(k1), (std::vector<std::string>{"a"}));
  v1::SubscribeRequest k2;
  k2.set_subtree_unit_id("K2");
  k2.add_event_types("SessionHeld");
  EXPECT_EQ(collect(k2), (std::vector<std::string>{"b", "c", "d"}));
  v1::SubscribeRequest d1;
  d1.set_subtree_unit_id("D1");
  EXPECT_EQ(collect(d1), (std::vector<std::string>{"UnitCreated", "UnitCreated",
                                                   "a", "UnitMoved", "c"}));
}

TEST(SubscribeTest, BadRequestsGetPreciseStatuses) {
  TestServer server;
  ASSERT_TRUE(
      server
          .AppendBatch({UnitCreated("K", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                                    "K", "", D(2020, 1, 1))})
          .ok());
  auto status_of = [&](const v1::SubscribeRequest& r) {
    auto stub = v1::Subscriptions::NewStub(server.NewChannel());
    grpc::ClientContext ctx;
    auto reader = stub->Subscribe(&ctx, r);
    v1::SubscribeResponse item;
    while (reader->Read(&item)) {
    }
    return reader->Finish();
  };
  v1::SubscribeRequest r;
  r.add_event_types("SessionHold");
  grpc::Status s = status_of(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("'SessionHold' is not an event"));
  r.Clear();
  r.set_subtree_unit_id("nowhere");
  s = status_of(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::NOT_FOUND);
  r.Clear();
  r.set_from_position(99);
  s = status_of(r);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::OUT_OF_RANGE);
  EXPECT_THAT(s.error_message(), HasSubstr("past the head (1)"));
}

TEST(SubscribeTest, AStalledReaderDoesNotHoldUpAppendsAndIsToldItFellBehind) {
  TestServer server(LogOnly());
  auto stub = v1::Subscriptions::NewStub(server.NewChannel());
  grpc::ClientContext ctx;
  v1::SubscribeRequest request;
  request.set_from_now(true);
  request.set_lag_limit(100);
  auto reader = stub->Subscribe(&ctx, request);
  v1::SubscribeResponse item;
  ASSERT_TRUE(reader->Read(&item));
  ASSERT_TRUE(item.has_caught_up());
  // The reader stops reading; 20,000 events are appended meanwhile.
  for (int b = 0; b < 20; ++b) {
    v1::BatchAppendRequest r;
    for (int i = 0; i < 1000; ++i) {
      *r.add_entries()->mutable_event() =
          RegularSession(absl::StrCat(b, ".", i), "cb", D(2021, 3, 10));
    }
    grpc::ClientContext actx;
    v1::BatchAppendResponse resp;
    ASSERT_TRUE(server.log()->BatchAppend(&actx, r, &resp).ok());
  }
  // It resumes: it gets every event, and a fell_behind on the way.
  uint64_t next = 1, fell_behind = 0;
  while (next <= 20000 && reader->Read(&item)) {
    if (item.has_event()) {
      ASSERT_EQ(item.event().position(), next);
      ++next;
    } else if (item.has_fell_behind()) {
      ++fell_behind;
    }
  }
  EXPECT_EQ(next, 20001u);
  EXPECT_GE(fell_behind, 1u);
  ctx.TryCancel();
  reader->Finish().IgnoreError();
}

}  // namespace
}  // namespace nenep
