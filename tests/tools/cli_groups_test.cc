// `nenep groups` against a real server over the shipped demo data: create a
// group, consume and ack with the CLI, see the checkpoint and lag, park and
// list, replay, delete; usage errors exit 2.

#include <string>
#include <vector>

#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "tests/testing/demo_cli_test.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

class CliGroupsTest : public testing::DemoCliTest {};

TEST_F(CliGroupsTest, CreateConsumeListParkReplayDelete) {
  std::string out, err;
  ASSERT_EQ(Nenep({"groups", "create", "awards", "--types=AwardGiven",
                   "--ack_deadline=10s", "--max_deliveries=2"},
                  &out, &err),
            0)
      << err;
  EXPECT_THAT(out, HasSubstr("group awards: types=AwardGiven"));
  EXPECT_THAT(out, HasSubstr("ack deadline 10000 ms"));

  // The demo has 7 awards: consume 5 of them, printed and acked.
  ASSERT_EQ(Nenep({"groups", "consume", "awards", "--member=cli", "--count=5"},
                  &out, &err),
            0)
      << err;
  EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 5) << out;
  EXPECT_THAT(out, HasSubstr("AwardGiven"));

  ASSERT_EQ(Nenep({"groups"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("GROUP"));
  EXPECT_THAT(out, HasSubstr("awards"));
  EXPECT_THAT(out, HasSubstr("types=AwardGiven"));

  // Park the sixth award with the API, then list and replay it with the CLI.
  auto stub = v1::ConsumerGroups::NewStub(server_.NewChannel());
  v1::PullResponse got;
  {
    grpc::ClientContext ctx;
    v1::PullRequest r;
    r.set_group("awards");
    r.set_member("api");
    r.set_max_events(1);
    ASSERT_TRUE(stub->Pull(&ctx, r, &got).ok());
    ASSERT_EQ(got.deliveries_size(), 1);
  }
  const uint64_t position = got.deliveries(0).event().position();
  {
    grpc::ClientContext ctx;
    v1::NackRequest r;
    r.set_group("awards");
    r.set_member("api");
    r.add_positions(position);
    r.set_park(true);
    r.set_reason("recipient unknown in the ministry's register");
    v1::NackResponse resp;
    ASSERT_TRUE(stub->Nack(&ctx, r, &resp).ok());
  }
  ASSERT_EQ(Nenep({"groups", "parked", "awards"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("recipient unknown"));
  EXPECT_THAT(out, HasSubstr("1 parked event(s)"));
  ASSERT_EQ(Nenep({"groups", "get", "awards"}, &out, &err), 0) << err;
  EXPECT_THAT(out, HasSubstr("parked 1"));

  ASSERT_EQ(Nenep({"groups", "replay", "awards", "--all"}, &out, &err), 0)
      << err;
  EXPECT_THAT(out, HasSubstr("delivers 1 parked event(s) again"));
  ASSERT_EQ(Nenep({"groups", "consume", "awards", "--member=cli", "--count=2"},
                  &out, &err),
            0)
      << err;
  ASSERT_EQ(Nenep({"groups", "get", "awards", "--json"}, &out, &err), 0) << err;
  // Everything acked (zeros are left out of protobuf JSON).
  EXPECT_THAT(out, HasSubstr("\"checkpoint\":\"361\",\"head\":\"361\""));
  EXPECT_THAT(out, Not(HasSubstr("\"parked\"")));
  EXPECT_THAT(out, Not(HasSubstr("\"lagEvents\"")));

  ASSERT_EQ(Nenep({"groups", "delete", "awards"}, &out, &err), 0) << err;
  EXPECT_EQ(Nenep({"groups", "get", "awards"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("NOT_FOUND"));
  EXPECT_EQ(Nenep({"groups", "consume", "x"}, &out, &err), 2);
  EXPECT_THAT(err, HasSubstr("--member"));
  EXPECT_EQ(Nenep({"groups", "frobnicate", "x"}, &out, &err), 2);
  EXPECT_EQ(Nenep({"groups", "create", "bad name"}, &out, &err), 1);
  EXPECT_THAT(err, HasSubstr("INVALID_ARGUMENT"));
}

}  // namespace
}  // namespace nenep
