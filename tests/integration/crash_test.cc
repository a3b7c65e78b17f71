// A child nenepd under concurrent appends is killed with SIGKILL at random
// moments, cycle after cycle. After every restart:
//   - every acknowledged request is in the log, whole, at the positions it
//     was acknowledged with;
//   - positions run 1..head without a gap, and revisions run 1..n in every
//     stream;
//   - nothing unacknowledged is half-visible: a request's events are all
//     there or none is;
//   - retrying an unacknowledged request with its request_id either finds it
//     (already_appended) or appends it once.
// NENEP_CRASH_CYCLES overrides the number of cycles (default 20); the soak
// script tests/soak/crash_soak.sh runs it for longer.

#include <signal.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <random>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/clock.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "gtest/gtest.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/query.grpc.pb.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::NenepdProcess;
using ::nenep::testing::RegularSession;

struct Sent {
  std::string request_id;
  std::vector<v1::BatchEntry> entries;  // what was sent
  bool batch = false;
};

struct Acked {
  uint64_t first_position = 0;
  size_t count = 0;
};

// session_id = "<request_id>_e<i>of<k>": tells which request an event
// belongs to and how many events it had.
v1::BatchEntry MakeEntry(const std::string& request_id, int i, int k,
                         const std::string& unit) {
  return testing::Entry(RegularSession(
      absl::StrCat(request_id, "_e", i, "of", k), unit, D(2022, 5, 9)));
}

class CrashTest : public ::testing::Test {
 protected:
  int Cycles() {
    int cycles = 20;
    const char* env = std::getenv("NENEP_CRASH_CYCLES");
    if (env != nullptr) (void)absl::SimpleAtoi(env, &cycles);
    return cycles;
  }

  // Appends from `threads` threads until the server dies.
  void Load(const std::string& address, int cycle, int threads) {
    std::vector<std::thread> workers;
    for (int t = 0; t < threads; ++t) {
      workers.emplace_back([&, t] {
        grpc::ChannelArguments args;
        args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
        auto channel = grpc::CreateCustomChannel(
            address, grpc::InsecureChannelCredentials(), args);
        auto stub = v1::EventLog::NewStub(channel);
        std::mt19937 rng(cycle * 1000 + t);
        for (int n = 0;; ++n) {
          Sent sent;
          sent.request_id = absl::StrCat("c", cycle, "t", t, "n", n);
          const int k = 1 + rng() % 4;
          sent.batch = rng() % 3 == 0;
          const std::string unit = absl::StrCat("cb", rng() % 16);
          for (int i = 0; i < k; ++i) {
            sent.entries.push_back(
                MakeEntry(sent.request_id, i, k,
                          sent.batch ? absl::StrCat("cb", rng() % 16) : unit));
          }
          grpc::Status s;
          Acked acked;
          acked.count = k;
          if (!Send(stub.get(), sent, &s, &acked.first_position)) {
            // Unknown outcome: the server may or may not have committed.
            absl::MutexLock lock(&mu_);
            unknown_.push_back(std::move(sent));
            return;  // the server is gone
          }
          absl::MutexLock lock(&mu_);
          sent_[sent.request_id] = sent;
          acked_[sent.request_id] = acked;
        }
      });
    }
    for (auto& w : workers) w.join();
  }

  // Sends one request; false if it did not succeed.
  static bool Send(v1::EventLog::Stub* stub, const Sent& sent,
                   grpc::Status* status, uint64_t* first_position,
                   bool* already = nullptr) {
    grpc::ClientContext ctx;
    ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
    if (sent.batch) {
      v1::BatchAppendRequest r;
      r.set_request_id(sent.request_id);
      for (const auto& e : sent.entries) *r.add_entries() = e;
      v1::BatchAppendResponse resp;
      *status = stub->BatchAppend(&ctx, r, &resp);
      *first_position = resp.first_position();
      if (already != nullptr) *already = resp.already_appended();
    } else {
      v1::AppendRequest r;
      r.set_request_id(sent.request_id);
      for (const auto& e : sent.entries) *r.add_events() = e.event();
      v1::AppendResponse resp;
      *status = stub->Append(&ctx, r, &resp);
      *first_position = resp.first_position();
      if (already != nullptr) *already = resp.already_appended();
    }
    return status->ok();
  }

  // Creates cells cb0..cb15 with their members.
  void Seed(const std::string& address) {
    std::vector<std::string> cells;
    for (int i = 0; i < 16; ++i) cells.push_back(absl::StrCat("cb", i));
    auto stub = v1::EventLog::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    grpc::ClientContext ctx;
    v1::BatchAppendResponse resp;
    grpc::Status s =
        stub->BatchAppend(&ctx, testing::SeedRequest(cells, 10), &resp);
    ASSERT_TRUE(s.ok()) << s.error_message();
  }

  // Checks the whole log against what was acknowledged.
  void Verify(const std::string& address) {
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    auto stub = v1::EventLog::NewStub(channel);
    std::vector<v1::RecordedEvent> all;
    std::string token;
    do {
      grpc::ClientContext ctx;
      v1::ReadAllRequest r;
      r.set_page_size(1000);
      r.set_page_token(token);
      v1::ReadAllResponse resp;
      grpc::Status s = stub->ReadAll(&ctx, r, &resp);
      ASSERT_TRUE(s.ok()) << s.error_message();
      for (auto& e : *resp.mutable_events()) all.push_back(std::move(e));
      token = resp.next_page_token();
    } while (!token.empty());

    std::map<std::string, uint64_t> stream_revision;
    std::map<std::string, std::vector<const v1::RecordedEvent*>> by_request;
    for (size_t i = 0; i < all.size(); ++i) {
      ASSERT_EQ(all[i].position(), i + 1) << "gap in positions";
      uint64_t& rev = stream_revision[all[i].stream()];
      ASSERT_EQ(all[i].revision(), rev + 1) << all[i].stream();
      rev = all[i].revision();
      by_request[all[i].request_id()].push_back(&all[i]);
    }
    // Whole requests only, at consecutive positions.
    for (const auto& [id, events] : by_request) {
      ASSERT_FALSE(id.empty());
      if (id == "seed") continue;  // the units the sessions refer to
      std::vector<std::string> parts =
          absl::StrSplit(events[0]->event().session_held().session_id(), "of");
      ASSERT_EQ(parts.size(), 2u);
      size_t k = 0;
      ASSERT_TRUE(absl::SimpleAtoi(parts[1], &k));
      ASSERT_EQ(events.size(), k) << "request " << id << " is half-visible";
      for (size_t i = 0; i < k; ++i) {
        EXPECT_EQ(events[i]->position(), events[0]->position() + i);
        EXPECT_EQ(events[i]->event().session_held().session_id(),
                  absl::StrCat(id, "_e", i, "of", k));
      }
    }
    // Every acknowledged request is there, where it was acknowledged.
    absl::MutexLock lock(&mu_);
    for (const auto& [id, acked] : acked_) {
      auto it = by_request.find(id);
      ASSERT_NE(it, by_request.end())
          << "acknowledged request " << id << " is missing";
      EXPECT_EQ(it->second.size(), acked.count);
      EXPECT_EQ(it->second[0]->position(), acked.first_position) << id;
    }
    checked_events_ = all.size();
  }

  // Retries the requests whose outcome is unknown.
  void RetryUnknown(const std::string& address) {
    auto stub = v1::EventLog::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    std::vector<Sent> unknown;
    {
      absl::MutexLock lock(&mu_);
      unknown.swap(unknown_);
    }
    for (const Sent& sent : unknown) {
      grpc::Status s;
      uint64_t first = 0;
      bool already = false;
      ASSERT_TRUE(Send(stub.get(), sent, &s, &first, &already))
          << sent.request_id << ": " << s.error_message();
      if (already) ++found_on_retry_;
      absl::MutexLock lock(&mu_);
      acked_[sent.request_id] = Acked{first, sent.entries.size()};
    }
  }

  testing::TempDir dir_;
  absl::Mutex mu_;
  std::map<std::string, Sent> sent_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Acked> acked_ ABSL_GUARDED_BY(mu_);
  std::vector<Sent> unknown_ ABSL_GUARDED_BY(mu_);
  size_t checked_events_ = 0;
  int found_on_retry_ = 0;
};

TEST_F(CrashTest, SigkillUnderConcurrentAppendsLosesNothingAcknowledged) {
  const std::string data = dir_.Sub("data");
  std::mt19937 rng(12345);
  const int cycles = Cycles();
  for (int cycle = 0; cycle < cycles; ++cycle) {
    NenepdProcess server(data);
    ASSERT_TRUE(server.ok()) << "nenepd did not start in cycle " << cycle;
    if (cycle == 0) Seed(server.address());
    Verify(server.address());
    if (HasFatalFailure()) return;
    RetryUnknown(server.address());
    if (HasFatalFailure()) return;
    // Kill at a random moment while 8 threads append.
    std::thread killer([&server, delay = 30 + rng() % 400] {
      absl::SleepFor(absl::Milliseconds(delay));
      server.process().Signal(SIGKILL);
    });
    Load(server.address(), cycle, 8);
    killer.join();
    EXPECT_EQ(server.process().Wait(), 128 + SIGKILL);
  }
  NenepdProcess server(data);
  ASSERT_TRUE(server.ok());
  Verify(server.address());
  RetryUnknown(server.address());
  Verify(server.address());
  // The projections rebuilt from the log after all the crashes equal the
  // live ones the server replayed at its last start and kept since.
  auto projections = v1::Projections::NewStub(grpc::CreateChannel(
      server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::RebuildResponse rebuilt;
  grpc::Status s = projections->Rebuild(&ctx, {}, &rebuilt);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(rebuilt.equal())
      << rebuilt.live_checksum() << " vs " << rebuilt.rebuilt_checksum();
  EXPECT_EQ(rebuilt.skipped_events(), 0u);
  absl::MutexLock lock(&mu_);
  std::cout << "crash test: " << cycles << " SIGKILL cycles, " << acked_.size()
            << " requests acknowledged, " << checked_events_
            << " events verified, " << found_on_retry_
            << " unacknowledged requests found committed on retry\n";
  EXPECT_GT(acked_.size(), size_t(cycles));
}

}  // namespace
}  // namespace nenep
