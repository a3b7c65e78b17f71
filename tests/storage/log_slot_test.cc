#include "storage/log/log_slot.h"

#include <atomic>
#include <memory>
#include <thread>

#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "storage/log/rocksdb_event_log.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace nenep::storage {
namespace {

using ::nenep::testing::StatusIs;
using ::testing::HasSubstr;

AppendRequest Req(const std::string& stream, const std::string& payload) {
  AppendRequest r;
  NewEvent e;
  e.stream = stream;
  e.type = "Test";
  e.payload = payload;
  r.events.push_back(std::move(e));
  return r;
}

// Counts the requests the log shows it.
class CountingHook : public CommitHook {
 public:
  absl::Status Admit(const AppendRequest&, Position) override {
    ++admitted;
    return absl::OkStatus();
  }
  void Durable(Position) override {}
  std::atomic<int> admitted{0};
};

class LogSlotTest : public ::testing::Test {
 protected:
  std::unique_ptr<EventLog> Open() {
    LogOptions options;
    options.data_dir = dir_.Sub("log");
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        OpenRocksDbEventLog(std::move(options));
    EXPECT_TRUE(log.ok()) << log.status();
    return log.ok() ? *std::move(log) : nullptr;
  }

  nenep::testing::TempDir dir_;
};

TEST_F(LogSlotTest, ForwardsUntilDetachedThenAnswersWhy) {
  LogSlot slot(Open());
  ASSERT_TRUE(slot.Append(Req("s", "one")).ok());
  ASSERT_TRUE(slot.Append(Req("s", "two")).ok());
  EXPECT_EQ(slot.Head(), 2u);

  std::shared_ptr<EventLog> old = slot.Detach("being reopened, retry");
  ASSERT_NE(old, nullptr);
  EXPECT_THAT(slot.Append(Req("s", "three")).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reopened")));
  EXPECT_THAT(slot.Get(1).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("reopened")));
  EXPECT_EQ(slot.Head(), 2u);  // the last one known
  EXPECT_EQ(slot.Stats().head, 2u);
  LogSlot::AwaitIdle(old);
  ASSERT_TRUE(old->Close().ok());
  old.reset();

  // The same store, reopened: the slot carries on where it was.
  slot.Attach(Open());
  ASSERT_TRUE(slot.Append(Req("s", "three")).ok());
  absl::StatusOr<Record> third = slot.Get(3);
  ASSERT_TRUE(third.ok()) << third.status();
  EXPECT_EQ(third->payload, "three");
  EXPECT_EQ(third->revision, 3u);
  ASSERT_TRUE(slot.Close().ok());
  EXPECT_THAT(slot.Append(Req("s", "four")).status(),
              StatusIs(absl::StatusCode::kUnavailable, HasSubstr("closed")));
}

TEST_F(LogSlotTest, TheHookFollowsToTheNextLog) {
  CountingHook hook;
  LogSlot slot(Open());
  slot.SetCommitHook(&hook);
  ASSERT_TRUE(slot.Append(Req("s", "a")).ok());
  std::shared_ptr<EventLog> old = slot.Detach("away");
  LogSlot::AwaitIdle(old);
  ASSERT_TRUE(old->Close().ok());
  old.reset();
  slot.Attach(Open());
  ASSERT_TRUE(slot.Append(Req("s", "b")).ok());
  EXPECT_EQ(hook.admitted.load(), 2);
}

TEST_F(LogSlotTest, AwaitIdleWaitsForACallInsideTheLog) {
  LogSlot slot(Open());
  ASSERT_TRUE(slot.Append(Req("s", "a")).ok());
  absl::Notification inside, release;
  std::thread reader([&] {
    ASSERT_TRUE(slot.Scan(1, 1,
                          [&](Position, absl::string_view) {
                            inside.Notify();
                            release.WaitForNotification();
                            return true;
                          })
                    .ok());
  });
  inside.WaitForNotification();
  std::shared_ptr<EventLog> old = slot.Detach("away");
  std::atomic<bool> idle{false};
  std::thread waiter([&] {
    LogSlot::AwaitIdle(old);
    idle = true;
  });
  absl::SleepFor(absl::Milliseconds(50));
  EXPECT_FALSE(idle.load());  // the scan still holds the log
  release.Notify();
  waiter.join();
  reader.join();
  EXPECT_TRUE(idle.load());
  EXPECT_TRUE(old->Close().ok());
}

}  // namespace
}  // namespace nenep::storage
