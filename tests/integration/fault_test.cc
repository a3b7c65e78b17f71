// A full disk and an I/O error while committing, injected under RocksDB
// (tests/testing/fault_fs.h): appends answer UNAVAILABLE, nothing is
// acknowledged that is not durable, no event is partly written, the server
// stops serving while the fault lasts and, once it clears, reopens its store
// by itself and serves again; the log and its Merkle tree then verify.

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
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
      absl::MutexLock lock(&failed_mu_);
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

  bool Serving() {
    grpc::ClientContext call;
    grpc::health::v1::HealthCheckRequest request;
    grpc::health::v1::HealthCheckResponse response;
    grpc::Status s = server_->health()->Check(&call, request, &response);
    return s.ok() &&
           response.status() == grpc::health::v1::HealthCheckResponse::SERVING;
  }

  // Health turns SERVING again within `timeout`.
  bool AwaitServing(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      if (Serving()) return true;
      absl::SleepFor(absl::Milliseconds(20));
    }
    return false;
  }

  grpc::StatusCode UnitCode(const std::string& unit_id) {
    grpc::ClientContext call;
    v1::GetUnitRequest r;
    r.set_unit_id(unit_id);
    *r.mutable_as_of() = D(2021, 1, 1);
    v1::Unit unit;
    return server_->query()->GetUnit(&call, r, &unit).error_code();
  }

  // While the fault lasts the server keeps trying to reopen its store and
  // keeps failing: not serving, appends refused.
  void ExpectDownWhileTheFaultLasts() {
    const int failures = fs_.failures();
    absl::SleepFor(absl::Milliseconds(800));  // reopen attempts at 0.1, 0.3,
                                              // 0.7 s after the failure
    EXPECT_GT(fs_.failures(), failures) << "no reopen attempt hit the fault";
    EXPECT_FALSE(Serving());
    v1::BatchAppendResponse resp;
    grpc::Status s = Append("meanwhile", 1, &resp);
    EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
    EXPECT_THAT(s.error_message(), HasSubstr("being reopened"));
  }

  testing::FaultFs fs_;
  std::unique_ptr<rocksdb::Env> env_;
  // What ServerOptions::on_store_failed reported, from the log's thread.
  std::string Failed() {
    absl::MutexLock lock(&failed_mu_);
    return failed_;
  }
  void ClearFailed() {
    absl::MutexLock lock(&failed_mu_);
    failed_.clear();
  }

  absl::Mutex failed_mu_;
  std::string failed_ ABSL_GUARDED_BY(failed_mu_);
  std::unique_ptr<testing::TestServer> server_;
};

TEST_P(FaultTest, AFailedWriteAcknowledgesNothingAndTheServerRecovers) {
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
  EXPECT_FALSE(Failed().empty());
  ExpectDownWhileTheFaultLasts();

  // The fault clears: the server reopens the store from its WAL and serves
  // again, without a restart. What was acknowledged is there; nothing of the
  // failed append is, in the log or in the projections, which the failed
  // group had passed through; the retry with the same request_id appends it
  // once.
  fs_.Clear();
  ASSERT_TRUE(AwaitServing(absl::Seconds(30)));
  EXPECT_EQ(Head(), acked);
  EXPECT_EQ(UnitCode("before-0"), grpc::StatusCode::OK);
  EXPECT_EQ(UnitCode("during-0"), grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Append("during", 10, &resp).ok());
  EXPECT_FALSE(resp.already_appended());
  EXPECT_EQ(resp.first_position(), acked + 1);
  ASSERT_TRUE(Append("during", 10, &resp).ok());
  EXPECT_TRUE(resp.already_appended());
  EXPECT_EQ(UnitCode("during-9"), grpc::StatusCode::OK);

  // A second fault is handled like the first.
  ClearFailed();
  fs_.Set(GetParam(), testing::FaultFs::kWrites);
  EXPECT_EQ(Append("second", 2, &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  EXPECT_FALSE(Failed().empty());
  fs_.Clear();
  ASSERT_TRUE(AwaitServing(absl::Seconds(30)));
  ASSERT_TRUE(Append("second", 2, &resp).ok());
  EXPECT_EQ(resp.last_position(), acked + 12);

  server_->Stop();
  absl::StatusOr<storage::VerifyReport> report =
      storage::VerifyStore(server_->dir() + "/data", "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(report->events, acked + 12);
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
  ExpectDownWhileTheFaultLasts();
  fs_.Clear();
  ASSERT_TRUE(AwaitServing(absl::Seconds(30)));
  // The WAL kept the group or did not; either way the retry with the same
  // request_id leaves it in the log exactly once, whole, and the
  // projections rebuilt from the reopened log agree.
  const uint64_t head = Head();
  EXPECT_TRUE(head == acked || head == acked + 4) << head;
  EXPECT_EQ(UnitCode("unsure-0"), head == acked + 4
                                      ? grpc::StatusCode::OK
                                      : grpc::StatusCode::NOT_FOUND);
  ASSERT_TRUE(Append("unsure", 4, &resp).ok());
  EXPECT_EQ(resp.already_appended(), head == acked + 4);
  EXPECT_EQ(Head(), acked + 4);
  EXPECT_EQ(UnitCode("unsure-3"), grpc::StatusCode::OK);
  server_->Stop();
  absl::StatusOr<storage::VerifyReport> report =
      storage::VerifyStore(server_->dir() + "/data", "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->problems.empty());
}

TEST_P(FaultTest, StopsCleanlyWhileTheFaultLasts) {
  v1::BatchAppendResponse resp;
  ASSERT_TRUE(Append("before", 3, &resp).ok());
  const uint64_t acked = resp.last_position();
  fs_.Set(GetParam(), testing::FaultFs::kWrites);
  EXPECT_EQ(Append("during", 2, &resp).error_code(),
            grpc::StatusCode::UNAVAILABLE);
  ExpectDownWhileTheFaultLasts();
  // SIGTERM while the store is still being reopened: the recoverer stops,
  // the server shuts down (a hang here fails the test by its timeout).
  server_->Stop();
  fs_.Clear();
  server_->Restart();
  EXPECT_EQ(Head(), acked);
  ASSERT_TRUE(Append("during", 2, &resp).ok());
  EXPECT_EQ(resp.first_position(), acked + 1);
  server_->Stop();
  absl::StatusOr<storage::VerifyReport> report =
      storage::VerifyStore(server_->dir() + "/data", "");
  ASSERT_TRUE(report.ok()) << report.status();
  EXPECT_TRUE(report->problems.empty());
  EXPECT_EQ(report->events, acked + 2);
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
