// Consumer groups over real gRPC: members share the work with order per
// stream, a dead member's events go to another, nack / retry limit / park /
// replay, bad input that changes nothing, state kept across restarts, and a
// SIGKILL of a child nenepd during consumption that loses no event.

#include <signal.h>

#include <atomic>
#include <map>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "nenep/v1/subscribe.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::GrpcIs;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::nenep::testing::UnitCreated;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using Stub = v1::ConsumerGroups::Stub;

// `n` sessions spread over `units` cells: streams sessions-cb0 .. cbN.
std::vector<v1::Event> Sessions(int n, int units, const std::string& tag) {
  std::vector<v1::Event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(RegularSession(absl::StrCat(tag, i),
                                 absl::StrCat("cb", i % units),
                                 D(2022, 1 + i % 12, 10)));
  }
  return out;
}

grpc::Status Create(Stub* stub, const std::string& name,
                    v1::CreateGroupRequest r = {}) {
  r.set_name(name);
  grpc::ClientContext ctx;
  v1::ConsumerGroup g;
  return stub->CreateGroup(&ctx, r, &g);
}

v1::ConsumerGroup GetGroup(Stub* stub, const std::string& name) {
  grpc::ClientContext ctx;
  v1::GetGroupRequest r;
  r.set_name(name);
  v1::ConsumerGroup g;
  EXPECT_TRUE(stub->GetGroup(&ctx, r, &g).ok());
  return g;
}

v1::PullResponse Pull(Stub* stub, const std::string& group,
                      const std::string& member, int max, int wait_ms = 0,
                      grpc::Status* status = nullptr) {
  grpc::ClientContext ctx;
  v1::PullRequest r;
  r.set_group(group);
  r.set_member(member);
  r.set_max_events(max);
  r.set_wait_ms(wait_ms);
  v1::PullResponse resp;
  grpc::Status s = stub->Pull(&ctx, r, &resp);
  if (status != nullptr) {
    *status = s;
  } else {
    EXPECT_TRUE(s.ok()) << s.error_message();
  }
  return resp;
}

grpc::Status Ack(Stub* stub, const std::string& group,
                 const std::string& member,
                 const std::vector<uint64_t>& positions) {
  grpc::ClientContext ctx;
  v1::AckRequest r;
  r.set_group(group);
  r.set_member(member);
  for (uint64_t p : positions) r.add_positions(p);
  v1::AckResponse resp;
  return stub->Ack(&ctx, r, &resp);
}

grpc::Status Nack(Stub* stub, const std::string& group,
                  const std::string& member,
                  const std::vector<uint64_t>& positions, bool park = false,
                  v1::NackResponse* out = nullptr) {
  grpc::ClientContext ctx;
  v1::NackRequest r;
  r.set_group(group);
  r.set_member(member);
  for (uint64_t p : positions) r.add_positions(p);
  r.set_park(park);
  if (park) r.set_reason("cannot import: unit unknown downstream");
  v1::NackResponse resp;
  grpc::Status s = stub->Nack(&ctx, r, &resp);
  if (out != nullptr) *out = resp;
  return s;
}

std::vector<uint64_t> Positions(const v1::PullResponse& r) {
  std::vector<uint64_t> out;
  for (const v1::Delivery& d : r.deliveries()) {
    out.push_back(d.event().position());
  }
  return out;
}

v1::ListParkedResponse Parked(Stub* stub, const std::string& group) {
  grpc::ClientContext ctx;
  v1::ListParkedRequest r;
  r.set_group(group);
  v1::ListParkedResponse resp;
  EXPECT_TRUE(stub->ListParked(&ctx, r, &resp).ok());
  return resp;
}

TEST(GroupsTest, CreateGetListDeleteAndBadInputChangeNothing) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(10, 2, "s")).ok());
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());

  v1::CreateGroupRequest r;
  r.mutable_filter()->add_event_types("SessionHeld");
  r.set_ack_deadline_ms(2000);
  ASSERT_TRUE(Create(stub.get(), "importer", r).ok());
  EXPECT_THAT(Create(stub.get(), "importer"),
              GrpcIs(grpc::StatusCode::ALREADY_EXISTS, HasSubstr("importer")));
  EXPECT_THAT(Create(stub.get(), "bad name"),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("name")));
  v1::CreateGroupRequest bad_type;
  bad_type.mutable_filter()->add_event_types("Session");
  EXPECT_THAT(Create(stub.get(), "x", bad_type),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                     HasSubstr("filter.event_types[0]")));
  v1::CreateGroupRequest past;
  past.set_from_position(1000);
  EXPECT_THAT(Create(stub.get(), "x", past),
              GrpcIs(grpc::StatusCode::OUT_OF_RANGE, HasSubstr("head")));
  v1::CreateGroupRequest subtree;
  subtree.mutable_filter()->set_subtree_unit_id("db");
  EXPECT_THAT(
      Create(stub.get(), "x", subtree),
      GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("projections")));
  v1::CreateGroupRequest now;
  now.set_from_now(true);
  ASSERT_TRUE(Create(stub.get(), "later", now).ok());

  {
    grpc::ClientContext ctx;
    v1::ListGroupsResponse list;
    ASSERT_TRUE(stub->ListGroups(&ctx, {}, &list).ok());
    ASSERT_EQ(list.groups_size(), 2);
    EXPECT_EQ(list.groups(0).name(), "importer");
    EXPECT_EQ(list.groups(0).stats().lag_events(), 10u);
    EXPECT_EQ(list.groups(1).name(), "later");
    EXPECT_EQ(list.groups(1).start_position(), 11u);
    EXPECT_EQ(list.groups(1).stats().lag_events(), 0u);
  }

  grpc::Status s;
  Pull(stub.get(), "nope", "m1", 10, 0, &s);
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("nope")));
  Pull(stub.get(), "importer", "", 10, 0, &s);
  EXPECT_THAT(s,
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT, HasSubstr("member")));

  // m1 holds the first events of both streams.
  v1::PullResponse got = Pull(stub.get(), "importer", "m1", 4);
  ASSERT_EQ(got.deliveries_size(), 4);
  EXPECT_THAT(Positions(got), ElementsAre(1, 2, 3, 4));
  EXPECT_EQ(got.deliveries(0).delivery(), 1u);
  const v1::ConsumerGroup before = GetGroup(stub.get(), "importer");
  EXPECT_EQ(before.stats().in_flight(), 4u);

  // Acks of events not in flight to that member: refused, nothing changes.
  EXPECT_THAT(Ack(stub.get(), "importer", "m2", {1}),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION,
                     HasSubstr("not in flight to member 'm2'")));
  EXPECT_THAT(Ack(stub.get(), "importer", "m1", {1, 9}),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION, HasSubstr("9")));
  EXPECT_THAT(Nack(stub.get(), "importer", "m2", {2}),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION));
  EXPECT_THAT(Ack(stub.get(), "nope", "m1", {1}),
              GrpcIs(grpc::StatusCode::NOT_FOUND));
  const v1::ConsumerGroup after = GetGroup(stub.get(), "importer");
  EXPECT_EQ(after.stats().in_flight(), 4u);
  EXPECT_EQ(after.stats().checkpoint(), 0u);
  EXPECT_EQ(after.stats().acked(), 0u);

  // m2 gets nothing of the streams m1 holds: every event is in one of them.
  EXPECT_EQ(Pull(stub.get(), "importer", "m2", 10).deliveries_size(), 0);
  ASSERT_TRUE(Ack(stub.get(), "importer", "m1", {1, 2, 3, 4}).ok());
  EXPECT_EQ(GetGroup(stub.get(), "importer").stats().checkpoint(), 4u);
  EXPECT_EQ(Pull(stub.get(), "importer", "m2", 10).deliveries_size(), 6);

  {
    grpc::ClientContext ctx;
    v1::DeleteGroupRequest d;
    d.set_name("importer");
    v1::DeleteGroupResponse resp;
    ASSERT_TRUE(stub->DeleteGroup(&ctx, d, &resp).ok());
  }
  Pull(stub.get(), "importer", "m1", 10, 0, &s);
  EXPECT_THAT(s, GrpcIs(grpc::StatusCode::NOT_FOUND));
  // A group made again under the name starts afresh.
  ASSERT_TRUE(Create(stub.get(), "importer").ok());
  EXPECT_EQ(GetGroup(stub.get(), "importer").stats().checkpoint(), 0u);
}

TEST(GroupsTest, TypeFilterDeliversExactlyTheMatchingEvents) {
  TestServer server(LogOnly());
  std::vector<v1::Event> events = Sessions(30, 3, "s");
  for (int i = 0; i < 10; ++i) {
    events.push_back(UnitCreated(absl::StrCat("u", i), v1::UNIT_KIND_BASE_CELL,
                                 absl::StrCat("Chi bộ ", i), "db"));
  }
  const grpc::Status appended = server.AppendBatch(events);
  ASSERT_TRUE(appended.ok()) << appended.error_message();
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  v1::CreateGroupRequest r;
  r.mutable_filter()->add_event_types("UnitCreated");
  ASSERT_TRUE(Create(stub.get(), "units", r).ok());
  v1::PullResponse got = Pull(stub.get(), "units", "m", 100);
  ASSERT_EQ(got.deliveries_size(), 10);
  for (const v1::Delivery& d : got.deliveries()) {
    EXPECT_EQ(d.event().type(), "UnitCreated");
    EXPECT_GT(d.event().position(), 30u);
  }
  ASSERT_TRUE(Ack(stub.get(), "units", "m", Positions(got)).ok());
  EXPECT_EQ(GetGroup(stub.get(), "units").stats().checkpoint(), 40u);
}

// Several members pull and ack concurrently while appends continue. Every
// event is handled exactly once (no deadline passes), a stream is never
// with two members at once, and each stream's events are handled in order.
TEST(GroupsTest, MembersShareTheWorkWithOrderPerStream) {
  TestServer server(LogOnly());
  constexpr int kStreams = 24, kFirst = 3000, kMore = 3000;
  ASSERT_TRUE(server.AppendBatch(Sessions(kFirst, kStreams, "a")).ok());
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  ASSERT_TRUE(Create(stub.get(), "share").ok());

  std::thread appender([&] {
    for (int b = 0; b < 10; ++b) {
      ASSERT_TRUE(
          server
              .AppendBatch(Sessions(kMore / 10, kStreams, absl::StrCat("b", b)))
              .ok());
      absl::SleepFor(absl::Milliseconds(30));
    }
  });

  absl::Mutex mu;
  std::map<std::string, std::string> holder;  // stream -> member
  std::map<std::string, int> held;            // stream -> events held
  std::map<std::string, uint64_t> last;       // stream -> last handled
  std::map<uint64_t, int> handled;            // position -> times
  std::map<std::string, int> per_member;
  std::vector<std::string> errors;
  std::atomic<bool> stop{false};
  std::vector<std::thread> members;
  for (int m = 0; m < 3; ++m) {
    members.emplace_back([&, m] {
      const std::string me = absl::StrCat("member-", m);
      auto s = v1::ConsumerGroups::NewStub(server.NewChannel());
      std::mt19937 rng(m);
      while (!stop.load()) {
        v1::PullResponse got = Pull(s.get(), "share", me, 40, 100);
        if (got.deliveries_size() == 0) continue;
        {
          absl::MutexLock lock(&mu);
          for (const v1::Delivery& d : got.deliveries()) {
            const std::string& stream = d.event().stream();
            if (held[stream] > 0 && holder[stream] != me) {
              errors.push_back(absl::StrCat("stream ", stream, " given to ", me,
                                            " while ", holder[stream],
                                            " holds it"));
            }
            holder[stream] = me;
            ++held[stream];
          }
        }
        absl::SleepFor(absl::Microseconds(rng() % 2000));  // "work"
        {
          absl::MutexLock lock(&mu);
          for (const v1::Delivery& d : got.deliveries()) {
            const std::string& stream = d.event().stream();
            const uint64_t p = d.event().position();
            if (p <= last[stream]) {
              errors.push_back(absl::StrCat("stream ", stream, ": ", p,
                                            " handled after ", last[stream]));
            }
            last[stream] = p;
            ++handled[p];
            ++per_member[me];
            --held[stream];  // before the ack: the server releases after
          }
        }
        grpc::Status a = Ack(s.get(), "share", me, Positions(got));
        if (!a.ok()) {
          absl::MutexLock lock(&mu);
          errors.push_back(a.error_message());
        }
      }
    });
  }
  appender.join();
  const uint64_t head = kFirst + kMore;
  for (int i = 0; i < 600; ++i) {
    if (GetGroup(stub.get(), "share").stats().checkpoint() == head) break;
    absl::SleepFor(absl::Milliseconds(50));
  }
  stop = true;
  for (auto& t : members) t.join();

  EXPECT_THAT(errors, ::testing::IsEmpty());
  const v1::ConsumerGroup g = GetGroup(stub.get(), "share");
  EXPECT_EQ(g.stats().checkpoint(), head);
  EXPECT_EQ(g.stats().lag_events(), 0u);
  EXPECT_EQ(g.stats().redeliveries(), 0u);
  ASSERT_EQ(handled.size(), head);
  for (const auto& [p, times] : handled) {
    ASSERT_EQ(times, 1) << "position " << p;
  }
  for (int m = 0; m < 3; ++m) {
    EXPECT_GT(per_member[absl::StrCat("member-", m)], 0) << "member " << m;
  }
}

TEST(GroupsTest, EventsOfAMemberThatDiesGoToAnotherInOrder) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(10, 1, "s")).ok());  // one stream
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  v1::CreateGroupRequest r;
  r.set_ack_deadline_ms(1500);
  ASSERT_TRUE(Create(stub.get(), "g", r).ok());

  v1::PullResponse a = Pull(stub.get(), "g", "a", 10);
  ASSERT_EQ(a.deliveries_size(), 10);
  ASSERT_TRUE(Ack(stub.get(), "g", "a", {1, 2, 3}).ok());
  // "a" dies mid-batch. "b" gets nothing while a's deadline (1.5 s) runs...
  EXPECT_EQ(Pull(stub.get(), "g", "b", 10).deliveries_size(), 0);
  // ...then the rest, in order, as second deliveries.
  v1::PullResponse b = Pull(stub.get(), "g", "b", 10, 5000);
  ASSERT_EQ(b.deliveries_size(), 7);
  EXPECT_THAT(Positions(b), ElementsAre(4, 5, 6, 7, 8, 9, 10));
  for (const v1::Delivery& d : b.deliveries()) EXPECT_EQ(d.delivery(), 2u);
  // A late ack from "a" is refused.
  EXPECT_THAT(Ack(stub.get(), "g", "a", {4}),
              GrpcIs(grpc::StatusCode::FAILED_PRECONDITION));
  ASSERT_TRUE(Ack(stub.get(), "g", "b", Positions(b)).ok());
  const v1::ConsumerGroup g = GetGroup(stub.get(), "g");
  EXPECT_EQ(g.stats().checkpoint(), 10u);
  EXPECT_EQ(g.stats().redeliveries(), 7u);
}

TEST(GroupsTest, NackRetryLimitParkAndReplaySurviveRestarts) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(6, 6, "s")).ok());  // 6 streams
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  v1::CreateGroupRequest r;
  r.set_max_deliveries(3);
  ASSERT_TRUE(Create(stub.get(), "g", r).ok());

  // Position 1 fails three times: parked at the third nack.
  for (uint32_t delivery = 1; delivery <= 3; ++delivery) {
    v1::PullResponse got = Pull(stub.get(), "g", "m", 1);
    ASSERT_EQ(got.deliveries_size(), 1);
    ASSERT_EQ(got.deliveries(0).event().position(), 1u);
    ASSERT_EQ(got.deliveries(0).delivery(), delivery);
    v1::NackResponse nack;
    ASSERT_TRUE(Nack(stub.get(), "g", "m", {1}, false, &nack).ok());
    EXPECT_EQ(nack.parked_size(), delivery == 3 ? 1 : 0);
  }
  // Position 2 is parked at once by its consumer.
  v1::PullResponse got = Pull(stub.get(), "g", "m", 1);
  ASSERT_THAT(Positions(got), ElementsAre(2));
  v1::NackResponse nack;
  ASSERT_TRUE(Nack(stub.get(), "g", "m", {2}, /*park=*/true, &nack).ok());
  EXPECT_THAT(nack.parked(), ElementsAre(2));
  got = Pull(stub.get(), "g", "m", 10);
  ASSERT_THAT(Positions(got), ElementsAre(3, 4, 5, 6));
  ASSERT_TRUE(Ack(stub.get(), "g", "m", Positions(got)).ok());

  v1::ListParkedResponse parked = Parked(stub.get(), "g");
  ASSERT_EQ(parked.parked_size(), 2);
  EXPECT_EQ(parked.parked(0).position(), 1u);
  EXPECT_EQ(parked.parked(0).deliveries(), 3u);
  EXPECT_THAT(parked.parked(0).reason(), HasSubstr("3 deliveries"));
  EXPECT_EQ(parked.parked(1).position(), 2u);
  EXPECT_THAT(parked.parked(1).reason(), HasSubstr("unit unknown"));
  v1::ConsumerGroup g = GetGroup(stub.get(), "g");
  EXPECT_EQ(g.stats().checkpoint(), 6u);  // parked events do not hold it
  EXPECT_EQ(g.stats().parked(), 2u);

  // Parked events and the checkpoint survive a restart.
  server.Restart();
  stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  g = GetGroup(stub.get(), "g");
  EXPECT_EQ(g.stats().checkpoint(), 6u);
  EXPECT_EQ(g.stats().parked(), 2u);
  EXPECT_EQ(Parked(stub.get(), "g").parked_size(), 2);
  EXPECT_EQ(Pull(stub.get(), "g", "m", 10).deliveries_size(), 0);

  // Replay: delivered again, marked; a bad position is refused.
  {
    grpc::ClientContext ctx;
    v1::ReplayParkedRequest rp;
    rp.set_group("g");
    rp.add_positions(5);
    v1::ReplayParkedResponse resp;
    EXPECT_THAT(stub->ReplayParked(&ctx, rp, &resp),
                GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("5")));
  }
  {
    grpc::ClientContext ctx;
    v1::ReplayParkedRequest rp;
    rp.set_group("g");
    rp.set_all(true);
    v1::ReplayParkedResponse resp;
    ASSERT_TRUE(stub->ReplayParked(&ctx, rp, &resp).ok());
    EXPECT_EQ(resp.replayed(), 2u);
  }
  // Replays are kept across a restart too.
  server.Restart();
  stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  got = Pull(stub.get(), "g", "m", 10);
  ASSERT_THAT(Positions(got), ElementsAre(1, 2));
  EXPECT_TRUE(got.deliveries(0).replayed());
  ASSERT_TRUE(Ack(stub.get(), "g", "m", {1, 2}).ok());
  EXPECT_EQ(Parked(stub.get(), "g").parked_size(), 0);
  EXPECT_EQ(GetGroup(stub.get(), "g").stats().parked(), 0u);
}

TEST(GroupsTest, WaitingPullWakesForNewEvents) {
  TestServer server(LogOnly());
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  ASSERT_TRUE(Create(stub.get(), "g").ok());
  std::thread later([&] {
    absl::SleepFor(absl::Milliseconds(300));
    ASSERT_TRUE(server.AppendBatch(Sessions(3, 1, "s")).ok());
  });
  // Waits up to 10 s; the events come first, and end the wait.
  v1::PullResponse got = Pull(stub.get(), "g", "m", 10, 10000);
  later.join();
  EXPECT_GE(got.deliveries_size(), 1);
  // An empty wait ends at its time with nothing.
  ASSERT_TRUE(Ack(stub.get(), "g", "m", Positions(got)).ok());
  v1::PullResponse rest = Pull(stub.get(), "g", "m", 10, 0);
  if (rest.deliveries_size() > 0) {
    ASSERT_TRUE(Ack(stub.get(), "g", "m", Positions(rest)).ok());
  }
  EXPECT_EQ(Pull(stub.get(), "g", "m", 10, 200).deliveries_size(), 0);
}

TEST(GroupsTest, LagOfGroupsAndSubscribersIsExportedAsMetrics) {
  services::ServerOptions options = LogOnly();
  options.metrics_listen = "127.0.0.1:0";
  TestServer server(options);
  ASSERT_TRUE(server.AppendBatch(Sessions(20, 2, "s")).ok());
  auto stub = v1::ConsumerGroups::NewStub(server.NewChannel());
  ASSERT_TRUE(Create(stub.get(), "report").ok());
  v1::PullResponse got = Pull(stub.get(), "report", "m", 5);
  ASSERT_EQ(got.deliveries_size(), 5);
  ASSERT_TRUE(Ack(stub.get(), "report", "m", {1, 2}).ok());
  // A subscriber that reads nothing: it stays at its first page.
  auto subs = v1::Subscriptions::NewStub(server.NewChannel());
  grpc::ClientContext sub_ctx;
  v1::SubscribeRequest sr;
  sr.set_from_start(true);
  auto reader = subs->Subscribe(&sub_ctx, sr);
  v1::SubscribeResponse first;
  ASSERT_TRUE(reader->Read(&first));

  const std::string page =
      testing::HttpGet(server.server()->metrics_port(), "/metrics");
  EXPECT_THAT(page,
              HasSubstr("nenep_group_checkpoint_position{group=\"report\"} 2"));
  EXPECT_THAT(page, HasSubstr("nenep_group_lag_events{group=\"report\"} 18"));
  EXPECT_THAT(page, HasSubstr("nenep_group_in_flight{group=\"report\"} 3"));
  EXPECT_THAT(page, HasSubstr("nenep_group_parked{group=\"report\"} 0"));
  EXPECT_THAT(page, HasSubstr("nenep_group_lag_seconds{group=\"report\"}"));
  EXPECT_THAT(page, HasSubstr("nenep_subscribers 1"));
  EXPECT_THAT(page, HasSubstr("nenep_subscriber_lag_events{subscriber=\"1\"}"));

  grpc::ClientContext ctx;
  v1::ListSubscribersResponse list;
  ASSERT_TRUE(subs->ListSubscribers(&ctx, {}, &list).ok());
  ASSERT_EQ(list.subscribers_size(), 1);
  EXPECT_EQ(list.subscribers(0).head(), 20u);
  EXPECT_LE(list.subscribers(0).position(), 20u);
  sub_ctx.TryCancel();
  while (reader->Read(&first)) {
  }
}

// A child nenepd is SIGKILLed while a member consumes and appends go on;
// after each restart the group resumes from its checkpoint. In the end
// every event was delivered (at least once).
TEST(GroupsTest, SigkillDuringConsumptionLosesNoEvent) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  std::set<uint64_t> delivered;
  uint64_t deliveries = 0;
  std::mt19937 rng(7);
  int appended_batches = 0;
  constexpr int kCycles = 4;
  for (int cycle = 0; cycle <= kCycles; ++cycle) {
    testing::NenepdProcess server(data, {"--projections=false"});
    ASSERT_TRUE(server.ok()) << "cycle " << cycle;
    auto channel = grpc::CreateChannel(server.address(),
                                       grpc::InsecureChannelCredentials());
    auto stub = v1::ConsumerGroups::NewStub(channel);
    auto log = v1::EventLog::NewStub(channel);
    if (cycle == 0) {
      v1::CreateGroupRequest r;
      r.set_ack_deadline_ms(5000);
      ASSERT_TRUE(Create(stub.get(), "nightly", r).ok());
    } else {
      // Resumes at its checkpoint, which never passes an undelivered event.
      const v1::ConsumerGroup g = GetGroup(stub.get(), "nightly");
      for (uint64_t p = 1; p <= g.stats().checkpoint(); ++p) {
        ASSERT_TRUE(delivered.contains(p))
            << "checkpoint " << g.stats().checkpoint() << " passes " << p;
      }
    }
    std::atomic<bool> stop{false};
    std::thread appender([&] {
      while (!stop.load()) {
        v1::BatchAppendRequest req;
        for (const v1::Event& e :
             Sessions(200, 16, absl::StrCat("c", appended_batches, "_"))) {
          *req.add_entries() = testing::Entry(e);
        }
        grpc::ClientContext ctx;
        ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(5)));
        v1::BatchAppendResponse resp;
        if (!log->BatchAppend(&ctx, req, &resp).ok()) return;
        ++appended_batches;
        absl::SleepFor(absl::Milliseconds(5));
      }
    });
    std::thread killer;
    if (cycle < kCycles) {
      killer = std::thread([&server, delay = 300 + rng() % 700] {
        absl::SleepFor(absl::Milliseconds(delay));
        server.process().Signal(SIGKILL);
      });
    }
    // Consume until the server dies (or, in the last cycle, until done).
    const absl::Time until = absl::Now() + absl::Seconds(2);
    while (true) {
      if (cycle == kCycles && absl::Now() > until) stop = true;
      grpc::Status s;
      v1::PullResponse got =
          Pull(stub.get(), "nightly", "worker", 300, 100, &s);
      if (!s.ok()) break;  // killed
      for (const v1::Delivery& d : got.deliveries()) {
        delivered.insert(d.event().position());
        ++deliveries;
      }
      // Work on the batch, so that kills also land with events in flight.
      if (got.deliveries_size() > 0) absl::SleepFor(absl::Milliseconds(20));
      if (got.deliveries_size() > 0 &&
          !Ack(stub.get(), "nightly", "worker", Positions(got)).ok()) {
        break;
      }
      if (stop.load() && got.deliveries_size() == 0) break;
    }
    stop = true;
    appender.join();
    if (killer.joinable()) {
      killer.join();
      EXPECT_EQ(server.process().Wait(), 128 + SIGKILL);
    } else {
      // Everything in the log was delivered.
      grpc::ClientContext ctx;
      v1::ReadAllRequest r;
      r.set_direction(v1::DIRECTION_BACKWARD);
      r.set_page_size(1);
      v1::ReadAllResponse resp;
      ASSERT_TRUE(log->ReadAll(&ctx, r, &resp).ok());
      ASSERT_EQ(resp.events_size(), 1);
      const uint64_t head = resp.events(0).position();
      EXPECT_EQ(delivered.size(), head);
      EXPECT_EQ(*delivered.rbegin(), head);
      const v1::ConsumerGroup g = GetGroup(stub.get(), "nightly");
      EXPECT_EQ(g.stats().checkpoint(), head);
      std::cout << "groups crash test: " << kCycles << " SIGKILL cycles, "
                << head << " events, " << deliveries << " deliveries ("
                << deliveries - head << " again after a crash)\n";
    }
  }
}

}  // namespace
}  // namespace nenep
