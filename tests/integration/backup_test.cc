// An online backup taken while appends go on holds every event acknowledged
// before the backup began; `nenep restore` brings it back into a new
// directory that a server then serves.

#include <atomic>
#include <filesystem>
#include <map>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::BinaryPath;
using ::nenep::testing::D;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RegularSession;
using ::nenep::testing::RunCommand;
using ::nenep::testing::TestServer;
using ::testing::HasSubstr;

TEST(BackupTest, BackupUnderLoadRestoresEveryEventAcknowledgedBeforeIt) {
  TestServer server(LogOnly());
  absl::Mutex mu;
  std::map<std::string, uint64_t> acked;  // request_id -> first position
  std::atomic<bool> stop{false};
  std::atomic<int> errors{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      auto stub = v1::EventLog::NewStub(server.NewChannel());
      for (int n = 0; !stop; ++n) {
        v1::BatchAppendRequest r;
        r.set_request_id(absl::StrCat("t", t, "n", n));
        for (int i = 0; i < 20; ++i) {
          *r.add_entries() = testing::Entry(
              RegularSession(absl::StrCat("t", t, "n", n, "i", i),
                             absl::StrCat("cb", (n + i) % 50), D(2023, 3, 6)));
        }
        v1::BatchAppendResponse resp;
        grpc::ClientContext ctx;
        if (!stub->BatchAppend(&ctx, r, &resp).ok()) {
          ++errors;
          return;
        }
        absl::MutexLock lock(&mu);
        acked[r.request_id()] = resp.first_position();
      }
    });
  }
  absl::SleepFor(absl::Milliseconds(400));
  std::map<std::string, uint64_t> before;
  {
    absl::MutexLock lock(&mu);
    before = acked;
  }
  const std::string backup_dir = server.dir() + "/backup";
  grpc::ClientContext ctx;
  v1::CreateBackupRequest req;
  req.set_directory(
      std::filesystem::absolute(backup_dir).lexically_normal().string());
  v1::CreateBackupResponse backup;
  grpc::Status s = server.admin()->CreateBackup(&ctx, req, &backup);
  ASSERT_TRUE(s.ok()) << s.error_message();
  absl::SleepFor(absl::Milliseconds(200));  // appends continue after it
  stop = true;
  for (auto& t : threads) t.join();
  EXPECT_EQ(errors.load(), 0);
  ASSERT_GT(before.size(), 5u);
  EXPECT_GE(backup.head_position(), before.size() * 20);
  EXPECT_GT(backup.size_bytes(), 0u);

  // Restore with the CLI into a new directory and serve it.
  const std::string restored = server.dir() + "/restored";
  std::string out;
  ASSERT_EQ(
      RunCommand({BinaryPath("tools/nenep"), "restore",
                  "--backup_dir=" + req.directory(), "--data_dir=" + restored},
                 &out),
      0)
      << out;
  EXPECT_THAT(out, HasSubstr("restored"));
  services::ServerOptions options = LogOnly();
  options.data_dir = restored;
  options.listen = "127.0.0.1:0";
  std::unique_ptr<services::Server> second = *services::Server::Start(options);
  ASSERT_TRUE(second->WaitUntilServing().ok());
  auto stub = v1::EventLog::NewStub(
      grpc::CreateChannel(absl::StrCat("127.0.0.1:", second->port()),
                          grpc::InsecureChannelCredentials()));
  for (const auto& [id, position] : before) {
    grpc::ClientContext gctx;
    v1::GetEventRequest get;
    get.set_position(position);
    v1::RecordedEvent e;
    ASSERT_TRUE(stub->GetEvent(&gctx, get, &e).ok())
        << "event of " << id << " missing from the backup";
    EXPECT_EQ(e.request_id(), id);
  }
  // And the restored log is whole: positions 1..head without a gap.
  grpc::ClientContext rctx;
  v1::ReadAllRequest read;
  read.set_direction(v1::DIRECTION_BACKWARD);
  read.set_page_size(1);
  v1::ReadAllResponse last;
  ASSERT_TRUE(stub->ReadAll(&rctx, read, &last).ok());
  EXPECT_GE(last.head_position(), backup.head_position());
  ASSERT_TRUE(second->Shutdown(absl::Seconds(5)).ok());

  // Restoring into a directory that holds data is refused.
  EXPECT_EQ(
      RunCommand({BinaryPath("tools/nenep"), "restore",
                  "--backup_dir=" + req.directory(), "--data_dir=" + restored},
                 &out),
      1);
  EXPECT_THAT(out, HasSubstr("not empty"));
}

TEST(BackupTest, RelativeBackupDirectoryIsRefused) {
  TestServer server(LogOnly());
  grpc::ClientContext ctx;
  v1::CreateBackupRequest req;
  req.set_directory("relative/dir");
  v1::CreateBackupResponse resp;
  grpc::Status s = server.admin()->CreateBackup(&ctx, req, &resp);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
  EXPECT_THAT(s.error_message(), HasSubstr("absolute path"));
}

}  // namespace
}  // namespace nenep
