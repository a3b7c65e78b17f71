// A full disk and an I/O error while committing, injected under RocksDB
// (tests/testing/fault_fs.h): appends answer UNAVAILABLE, nothing is
// acknowledged that is not durable, no event is partly written, the server
// stops serving, and after the fault clears a restart recovers the store,
// whose events and Merkle tree then verify.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "storage/log/rocksdb_event_log.h"
#include "tests/testing/events.h"
#include "tests/testing/fault_fs.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using testing::D;
using ::testing::HasSubstr;

class FaultTest : public ::testing::TestWithParam<testing::FaultFs::Fault> {
 protected:
  FaultTest() : env_(fs_.NewEnv()) {
    services::ServerOptions o;
    o.log.env = env_.get();
    o.on_store_failed = [this](const absl::Status& s) {
      failed_ = std::string(s.message());
    };
    server_ = std::make_unique<testing::TestServer>(o);
    std::vector<v1::Event> seed = {
        testing::UnitCreated("db", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                             "Đảng bộ", "", D(2019, 1, 1))};
    for (int i = 0; i < 5; ++i) {
      seed.push_back(testing::UnitCreated(
          absl::StrCat("c", i), v1::UNIT_KIND_ATTACHED_CELL,
          absl::StrCat("Chi bộ ", i), "db", D(2019, 1, 1)));
    }
    grpc::Status s = server_->AppendBatch(seed);
    EXPECT_TRUE(s.ok()) << s.error_code() << " " << s.error_message();
  }

  grpc::Status Append(const std::string& request_id, int n,
                      v1::BatchAppendResponse* resp) {
    v1::BatchAppendRequest r;
    r.set_request_id(request_id);
    for (int i = 0; i < n; ++i) {
      *r.add_entries()->mutable_event() = testing::UnitCreated(
          absl::StrCat(request_id, "-", i), v1::UNIT_KIND_ATTACHED_CELL,
          "Chi bộ mới", "db", D(2020, 1, 1));
    }
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(20));
    return server_->log()->BatchAppend(&call, r, resp);
  }

  uint64_t Head() {
    grpc::ClientContext call;
    v1::ServerStatus status;
    EXPECT_TRUE(server_->admin()->GetStatus(&call, {}, &status).ok());
    return status.head_position();
  }

  testing::FaultFs fs_;
  std::unique_ptr<rocksdb::Env> env_;
  std::string failed_;
  std::unique_ptr<testing::TestServer> server_;
};

TEST_P(FaultTest, AFailedWriteAcknowledgesNothingAndARestartRecovers) {
  v1::BatchAppendResponse resp;
  ASSERT_TRUE(Append("before", 10, &resp).ok());
  const uint64_t acked = resp.last_position();

  fs_.Set(GetParam(), testing::FaultFs::kWrites);
  grpc::Status s = Append("during", 10, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(),
              HasSubstr(GetParam() == testing::FaultFs::kNoSpace
                            ? "No space left on device"
                            : "Input/output error"));
  EXPECT_THAT(s.error_message(), HasSubstr("retry with the same request_id"));
  EXPECT_GT(fs_.failures(), 0);
  EXPECT_FALSE(failed_.empty());
  // The server stays down for appends, even once the disk has room again:
  // it no longer knows its store's state without reading the WAL.
  fs_.Clear();
  s = Append("after", 1, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  grpc::ClientContext health_call;
  grpc::health::v1::HealthCheckRequest hr;
  grpc::health::v1::HealthCheckResponse hs;
  ASSERT_TRUE(server_->health()->Check(&health_call, hr, &hs).ok());
  EXPECT_EQ(hs.status(), grpc::health::v1::HealthCheckResponse::NOT_SERVING);

  // The restart recovers: what was acknowledged is there, nothing of the
  // failed append is, and the retry with the same request_id appends it
  // once.
  server_->Restart();
  EXPECT_EQ(Head(), acked);
  ASSERT_TRUE(Append("during", 10, &resp).ok());
  EXPECT_FALSE(resp.already_appended());
  EXPECT_EQ(resp.first_position(), acked + 1);
  ASSERT_TRUE(Append("during", 10, &resp).ok());
  EXPECT_TRUE(resp.already_appended());
  server_->Stop();
  absl::StatusOr<storage::VerifyReport> report =
      storage::VerifyStore(server_->dir() + "/data", "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(report->events, acked + 10);
}

TEST_P(FaultTest, AFailedSyncLeavesTheOutcomeToTheRetry) {
  v1::BatchAppendResponse resp;
  ASSERT_TRUE(Append("before", 3, &resp).ok());
  const uint64_t acked = resp.last_position();
  // The write reaches the WAL, its sync fails: not acknowledged.
  fs_.Set(GetParam(), testing::FaultFs::kSyncs);
  grpc::Status s = Append("unsure", 4, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_THAT(s.error_message(),
              HasSubstr("outcome of this append is unknown"));
  fs_.Clear();
  server_->Restart();
  // The WAL kept the group or did not; either way the retry with the same
  // request_id leaves it in the log exactly once, whole.
  const uint64_t head = Head();
  EXPECT_TRUE(head == acked || head == acked + 4) << head;
  ASSERT_TRUE(Append("unsure", 4, &resp).ok());
  EXPECT_EQ(resp.already_appended(), head == acked + 4);
  EXPECT_EQ(Head(), acked + 4);
  server_->Stop();
  absl::StatusOr<storage::VerifyReport> report =
      storage::VerifyStore(server_->dir() + "/data", "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->problems.empty());
}

INSTANTIATE_TEST_SUITE_P(Faults, FaultTest,
                         ::testing::Values(testing::FaultFs::kNoSpace,
                                           testing::FaultFs::kIoError),
                         [](const auto& info) {
                           return info.param == testing::FaultFs::kNoSpace
                                      ? std::string("FullDisk")
                                      : std::string("IoError");
                         });

}  // namespace
}  // namespace nenep
