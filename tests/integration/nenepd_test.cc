// nenepd as a process: SIGTERM drains in-flight appends, a second server on
// the same directory fails fast, the config file, --help and bad flags.

#include <signal.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nenep/v1/log.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace nenep {
namespace {

using ::nenep::testing::BinaryPath;
using ::nenep::testing::D;
using ::nenep::testing::GrpcIs;
using ::nenep::testing::NenepdProcess;
using ::nenep::testing::Process;
using ::nenep::testing::RegularSession;
using ::nenep::testing::RunCommand;
using ::testing::HasSubstr;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::unique_ptr<v1::EventLog::Stub> Stub(const std::string& address) {
  return v1::EventLog::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
}

TEST(NenepdTest, SigtermDrainsInFlightAppendsAndClosesCleanly) {
  testing::TempDir dir;
  const std::string data = dir.Sub("data");
  std::map<std::string, uint64_t> acked;
  absl::Mutex mu;
  {
    NenepdProcess server(data, {"--projections=false"});
    ASSERT_TRUE(server.ok());
    std::atomic<bool> stop{false};
    std::atomic<int> other_errors{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t) {
      threads.emplace_back([&, t] {
        auto stub = Stub(server.address());
        for (int n = 0; !stop; ++n) {
          v1::AppendRequest r;
          r.set_request_id(absl::StrCat("t", t, "n", n));
          *r.add_events() =
              RegularSession(absl::StrCat("t", t, "n", n),
                             absl::StrCat("cb", t), D(2022, 1, 5));
          v1::AppendResponse resp;
          grpc::ClientContext ctx;
          ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
          grpc::Status s = stub->Append(&ctx, r, &resp);
          if (s.ok()) {
            absl::MutexLock lock(&mu);
            acked[r.request_id()] = resp.first_position();
          } else {
            // While stopping the server answers UNAVAILABLE (or the
            // connection goes away): never anything else.
            if (s.error_code() != grpc::StatusCode::UNAVAILABLE &&
                s.error_code() != grpc::StatusCode::CANCELLED) {
              ++other_errors;
            }
            return;
          }
        }
      });
    }
    absl::SleepFor(absl::Milliseconds(300));
    server.process().Signal(SIGTERM);
    int code = -1;
    ASSERT_TRUE(server.process().WaitFor(absl::Seconds(30), &code));
    EXPECT_EQ(code, 0);
    stop = true;
    for (auto& t : threads) t.join();
    EXPECT_EQ(other_errors.load(), 0);
  }
  EXPECT_GT(acked.size(), 10u);
  std::string log;
  for (const auto& entry : std::filesystem::directory_iterator(dir.path())) {
    if (entry.path().string().find(".nenepd-") != std::string::npos) {
      log += ReadFile(entry.path());
    }
  }
  EXPECT_THAT(log, HasSubstr("\"msg\":\"stop signal received\""));
  EXPECT_THAT(log, HasSubstr("\"msg\":\"store closed\""));
  EXPECT_THAT(log, HasSubstr("\"msg\":\"stopped cleanly\""));

  NenepdProcess again(data, {"--projections=false"});
  ASSERT_TRUE(again.ok());
  auto stub = Stub(again.address());
  for (const auto& [id, position] : acked) {
    grpc::ClientContext ctx;
    v1::GetEventRequest get;
    get.set_position(position);
    v1::RecordedEvent e;
    ASSERT_TRUE(stub->GetEvent(&ctx, get, &e).ok()) << id;
    EXPECT_EQ(e.request_id(), id);
  }
}

TEST(NenepdTest, ASecondServerOnTheSameDirectoryFailsFastWithAClearMessage) {
  testing::TempDir dir;
  NenepdProcess first(dir.Sub("data"), {"--projections=false"});
  ASSERT_TRUE(first.ok());
  std::string out;
  const absl::Time start = absl::Now();
  int code = RunCommand(
      {BinaryPath("services/nenepd"), "--data_dir=" + dir.Sub("data"),
       "--listen=127.0.0.1:0", "--metrics_listen="},
      &out);
  EXPECT_EQ(code, 1);
  EXPECT_LT(absl::Now() - start, absl::Seconds(10));
  EXPECT_THAT(out, HasSubstr(absl::StrCat("is in use by another nenepd (pid ",
                                          first.process().pid(), ")")));
}

TEST(NenepdTest, ConfigFileSetsFlagsAndTheCommandLineWins) {
  testing::TempDir dir;
  const std::string config = dir.Sub("nenepd.conf");
  {
    std::ofstream out(config);
    out << "# test config\n"
           "max_append_events = 2   # small on purpose\n"
           "log_format = text\n"
           "max_read_page = 7\n";
  }
  NenepdProcess server(
      dir.Sub("data"),
      {"--config=" + config, "--max_read_page=3", "--projections=false"});
  ASSERT_TRUE(server.ok());
  auto stub = Stub(server.address());
  v1::AppendRequest r;
  for (int i = 0; i < 3; ++i) {
    *r.add_events() =
        RegularSession(absl::StrCat("s", i), "cb1", D(2022, 1, 5));
  }
  v1::AppendResponse resp;
  grpc::ClientContext ctx;
  EXPECT_THAT(stub->Append(&ctx, r, &resp),
              GrpcIs(grpc::StatusCode::RESOURCE_EXHAUSTED,
                     HasSubstr("at most 2 per Append")));
  r.mutable_events()->RemoveLast();
  grpc::ClientContext ctx2;
  ASSERT_TRUE(stub->Append(&ctx2, r, &resp).ok());
  grpc::ClientContext ctx3;
  v1::ReadAllRequest read;
  read.set_page_size(100);
  v1::ReadAllResponse page;
  ASSERT_TRUE(stub->ReadAll(&ctx3, read, &page).ok());
  EXPECT_LE(page.events_size(), 3);  // --max_read_page=3 beats the file's 7
}

TEST(NenepdTest, BadConfigAndFlagsExitWithUsageErrors) {
  testing::TempDir dir;
  const std::string config = dir.Sub("bad.conf");
  {
    std::ofstream out(config);
    out << "no_such_flag = 1\n";
  }
  std::string out;
  EXPECT_EQ(
      RunCommand({BinaryPath("services/nenepd"), "--config=" + config}, &out),
      2);
  EXPECT_THAT(out, HasSubstr("bad.conf:1: unknown flag 'no_such_flag'"));
  EXPECT_EQ(RunCommand({BinaryPath("services/nenepd"), "--max_read_page=0",
                        "--data_dir=" + dir.Sub("d")},
                       &out),
            2);
  EXPECT_THAT(out, HasSubstr("--max_read_page must be positive"));
  EXPECT_EQ(
      RunCommand({BinaryPath("services/nenepd"), "--log_format=xml"}, &out), 2);
  EXPECT_EQ(RunCommand({BinaryPath("services/nenepd"), "--help"}, &out), 1);
  EXPECT_THAT(out, HasSubstr("--data_dir"));
  EXPECT_THAT(out, HasSubstr("SIGTERM"));
}

}  // namespace
}  // namespace nenep
