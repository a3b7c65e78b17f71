#include "storage/log/rocksdb_event_log.h"

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nenep/storage/v1/records.pb.h"
#include "rocksdb/db.h"
#include "storage/audit/merkle.h"
#include "storage/common/coding.h"
#include "storage/log/log_format.h"
#include "storage/log/log_tree.h"
#include "storage/log/rocksdb_event_log_impl.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/temp_dir.h"

namespace nenep::storage {
namespace {

using ::nenep::testing::StatusIs;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

NewEvent Ev(const std::string& stream, const std::string& payload,
            ExpectedRevision expected = ExpectedRevision::Any()) {
  NewEvent e;
  e.stream = stream;
  e.type = "Test";
  e.payload = payload;
  e.expected = expected;
  return e;
}

AppendRequest Req(std::vector<NewEvent> events, const std::string& id = "",
                  const std::string& hash = "") {
  AppendRequest r;
  r.events = std::move(events);
  r.request_id = id;
  r.body_hash = hash.empty() && !id.empty() ? "hash-" + id : hash;
  return r;
}

rocksdb::Slice KeySlice(absl::string_view key) {
  return rocksdb::Slice(key.data(), key.size());
}

class CountingListener : public CommitListener {
 public:
  void OnCommit(Position first, Position last, size_t requests,
                absl::Duration) override {
    absl::MutexLock lock(&mu_);
    ++groups_;
    requests_ += requests;
    if (block_ != nullptr) block_->WaitForNotification();
  }
  int groups() {
    absl::MutexLock lock(&mu_);
    return groups_;
  }
  absl::Notification* block_ = nullptr;

 private:
  absl::Mutex mu_;
  int groups_ = 0;
  size_t requests_ = 0;
};

class RocksDbEventLogTest : public ::testing::Test {
 protected:
  void Open() {
    LogOptions options;
    options.data_dir = dir_.Sub("db");
    options.listener = &listener_;
    if (clock_) options.clock = clock_;
    options.verify_tree_on_open = verify_tree_;
    options.commit_on_caller_when_idle = commit_on_caller_;
    if (index_flush_entries_ != 0) {
      options.index_flush_entries = index_flush_entries_;
    }
    absl::StatusOr<std::unique_ptr<EventLog>> log =
        OpenRocksDbEventLog(std::move(options));
    ASSERT_TRUE(log.ok()) << log.status();
    log_ = *std::move(log);
  }
  bool verify_tree_ = true;
  size_t index_flush_entries_ = 0;  // 0: the default
  void Reopen() {
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
    Open();
  }
  void SetUp() override { Open(); }

  // Appends events "1" .. "n" to stream "s", waits for the Merkle tree to
  // cover them and closes the log.
  void AppendAndClose(int n) {
    for (int i = 1; i <= n; ++i) {
      ASSERT_TRUE(log_->Append(Req({Ev("s", absl::StrCat(i))})).ok());
    }
    ASSERT_EQ(log_->AwaitTree(n, absl::Seconds(10)), static_cast<uint64_t>(n));
    ASSERT_TRUE(log_->Close().ok());
    log_.reset();
  }
  // What opening the closed store answers.
  absl::Status OpenStatus() {
    LogOptions options;
    options.data_dir = dir_.Sub("db");
    return OpenRocksDbEventLog(std::move(options)).status();
  }

  std::vector<Record> All() {
    absl::StatusOr<std::vector<Record>> r =
        log_->ReadAll(0, Direction::kForward, 1 << 30);
    EXPECT_TRUE(r.ok()) << r.status();
    return r.ok() ? *r : std::vector<Record>{};
  }

  ::nenep::testing::TempDir dir_;
  CountingListener listener_;
  std::function<absl::Time()> clock_;
  bool commit_on_caller_ = true;
  std::unique_ptr<EventLog> log_;
};

TEST_F(RocksDbEventLogTest, EmptyLogHasHeadZeroAndNothingToRead) {
  EXPECT_EQ(log_->Head(), 0u);
  EXPECT_THAT(log_->Get(1).status(), StatusIs(absl::StatusCode::kNotFound));
  EXPECT_TRUE(All().empty());
  EXPECT_EQ(*log_->StreamRevision("unit-x"), 0u);
}

TEST_F(RocksDbEventLogTest, AppendAssignsGapFreePositionsAndStreamRevisions) {
  absl::StatusOr<AppendResult> a =
      log_->Append(Req({Ev("s-a", "1"), Ev("s-a", "2")}));
  ASSERT_TRUE(a.ok()) << a.status();
  EXPECT_EQ(a->first_position, 1u);
  EXPECT_EQ(a->last_position, 2u);
  EXPECT_THAT(a->revisions, ElementsAre(1, 2));
  EXPECT_FALSE(a->already_appended);

  absl::StatusOr<AppendResult> b =
      log_->Append(Req({Ev("s-b", "3"), Ev("s-a", "4")}));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->first_position, 3u);
  EXPECT_THAT(b->revisions, ElementsAre(1, 3));
  EXPECT_EQ(log_->Head(), 4u);

  std::vector<Record> all = All();
  ASSERT_EQ(all.size(), 4u);
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, i + 1);
    EXPECT_EQ(all[i].payload, absl::StrCat(i + 1));
    EXPECT_EQ(all[i].type, "Test");
    if (i > 0) EXPECT_GE(all[i].recorded_at, all[i - 1].recorded_at);
  }
  EXPECT_EQ(*log_->StreamRevision("s-a"), 3u);
  EXPECT_EQ(*log_->StreamRevision("s-b"), 1u);
}

TEST_F(RocksDbEventLogTest, WrongExpectationIsAbortedWithActualRevision) {
  ASSERT_TRUE(log_->Append(Req({Ev("s", "1"), Ev("s", "2")})).ok());

  absl::Status s =
      log_->Append(Req({Ev("s", "x", ExpectedRevision::NoStream())})).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted,
                          HasSubstr("stream is at revision 2")));
  EXPECT_EQ(AbortedRevision(s), 2u);

  s = log_->Append(Req({Ev("s", "x", ExpectedRevision::Exact(1))})).status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(AbortedRevision(s), 2u);

  s = log_->Append(Req({Ev("new", "x", ExpectedRevision::StreamExists())}))
          .status();
  EXPECT_THAT(
      s, StatusIs(absl::StatusCode::kAborted, HasSubstr("does not exist")));
  EXPECT_EQ(AbortedRevision(s), 0u);

  EXPECT_TRUE(
      log_->Append(Req({Ev("s", "3", ExpectedRevision::Exact(2))})).ok());
  EXPECT_TRUE(
      log_->Append(Req({Ev("new", "1", ExpectedRevision::NoStream())})).ok());
  EXPECT_TRUE(
      log_->Append(Req({Ev("new", "2", ExpectedRevision::StreamExists())}))
          .ok());
  EXPECT_EQ(log_->Head(), 5u);
}

TEST_F(RocksDbEventLogTest, FailedExpectationLaterInARequestWritesNothing) {
  ASSERT_TRUE(log_->Append(Req({Ev("a", "1")})).ok());
  absl::Status s = log_->Append(Req({Ev("b", "x"), Ev("c", "y"),
                                     Ev("a", "z", ExpectedRevision::Exact(7))}))
                       .status();
  EXPECT_THAT(s, StatusIs(absl::StatusCode::kAborted));
  EXPECT_EQ(log_->Head(), 1u);
  EXPECT_EQ(*log_->StreamRevision("b"), 0u);
  EXPECT_EQ(All().size(), 1u);
  // The positions the failed request would have taken are not skipped.
  absl::StatusOr<AppendResult> next = log_->Append(Req({Ev("b", "ok")}));
  ASSERT_TRUE(next.ok());
  EXPECT_EQ(next->first_position, 2u);
}

TEST_F(RocksDbEventLogTest, ExpectationsWithinOneRequestSeeEarlierEvents) {
  absl::StatusOr<AppendResult> r =
      log_->Append(Req({Ev("s", "1", ExpectedRevision::NoStream()),
                        Ev("s", "2", ExpectedRevision::Exact(1)),
                        Ev("s", "3", ExpectedRevision::Exact(2))}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_THAT(r->revisions, ElementsAre(1, 2, 3));
}

TEST_F(RocksDbEventLogTest, RequestIdIsIdempotentAcrossRestarts) {
  absl::StatusOr<AppendResult> first =
      log_->Append(Req({Ev("s", "1"), Ev("s", "2")}, "req-1"));
  ASSERT_TRUE(first.ok());
  absl::StatusOr<AppendResult> again =
      log_->Append(Req({Ev("s", "1"), Ev("s", "2")}, "req-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_appended);
  EXPECT_EQ(again->first_position, first->first_position);
  EXPECT_EQ(again->last_position, first->last_position);
  EXPECT_EQ(again->revisions, first->revisions);
  EXPECT_EQ(again->recorded_at, first->recorded_at);
  EXPECT_EQ(log_->Head(), 2u);

  Reopen();
  again = log_->Append(Req({Ev("s", "1"), Ev("s", "2")}, "req-1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_appended);
  EXPECT_EQ(again->first_position, 1u);

  absl::Status other =
      log_->Append(Req({Ev("s", "other")}, "req-1", "another-hash")).status();
  EXPECT_THAT(other, StatusIs(absl::StatusCode::kAlreadyExists,
                              HasSubstr("different request")));
  EXPECT_EQ(log_->Head(), 2u);
}

TEST_F(RocksDbEventLogTest, ConcurrentRepeatsOfOneRequestIdWriteOnce) {
  constexpr int kThreads = 16;
  std::vector<absl::StatusOr<AppendResult>> results(kThreads);
  std::vector<std::thread> threads;
  for (int i = 0; i < kThreads; ++i) {
    threads.emplace_back([&, i] {
      results[i] = log_->Append(Req({Ev("s", "once")}, "same-id"));
    });
  }
  for (auto& t : threads) t.join();
  int fresh = 0;
  for (const auto& r : results) {
    ASSERT_TRUE(r.ok()) << r.status();
    EXPECT_EQ(r->first_position, 1u);
    if (!r->already_appended) ++fresh;
  }
  EXPECT_EQ(fresh, 1);
  EXPECT_EQ(log_->Head(), 1u);
}

// The caller's answer, and the thread it ran on, for one AppendAsync.
struct Answered {
  absl::Notification done;
  std::thread::id thread;
  absl::StatusOr<AppendResult> result;
  bool before_return = false;
};

void AppendAndWait(EventLog* log, AppendRequest request, Answered* a) {
  std::atomic<bool> returned{false};
  log->AppendAsync(std::move(request),
                   [a, &returned](absl::StatusOr<AppendResult> r) {
                     a->thread = std::this_thread::get_id();
                     a->result = std::move(r);
                     a->before_return = !returned.load();
                     a->done.Notify();
                   });
  returned.store(true);
  a->done.WaitForNotification();
}

TEST_F(RocksDbEventLogTest, AnIdleLogCommitsOnTheCallersThread) {
  // A lone writer: each append is committed, synced and answered on the
  // caller's thread before AppendAsync returns, one durable write each.
  for (int i = 0; i < 3; ++i) {
    Answered a;
    AppendAndWait(log_.get(), Req({Ev("s", absl::StrCat(i))}), &a);
    ASSERT_TRUE(a.result.ok()) << a.result.status();
    EXPECT_EQ(a.result->first_position, static_cast<Position>(i + 1));
    EXPECT_TRUE(a.before_return);
    EXPECT_EQ(a.thread, std::this_thread::get_id());
  }
  EXPECT_EQ(listener_.groups(), 3);
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  Open();
  EXPECT_EQ(log_->Head(), 3u);
  EXPECT_EQ(All().size(), 3u);
}

TEST_F(RocksDbEventLogTest, WithoutCommitOnCallerTheLogsThreadsAnswer) {
  ASSERT_TRUE(log_->Close().ok());
  commit_on_caller_ = false;
  Open();
  Answered a;
  AppendAndWait(log_.get(), Req({Ev("s", "1")}), &a);
  ASSERT_TRUE(a.result.ok()) << a.result.status();
  EXPECT_NE(a.thread, std::this_thread::get_id());
}

TEST_F(RocksDbEventLogTest, ALoneWriterAfterABurstCommitsOnItsThreadAgain) {
  // While appends are concurrent the committer groups them; once a sync
  // answers a single request, a lone writer's appends are its own again.
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 50; ++i) {
        EXPECT_TRUE(log_->Append(Req({Ev("s", absl::StrCat(t, ":", i))})).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  bool on_caller = false;
  for (int i = 0; i < 3 && !on_caller; ++i) {
    Answered a;
    AppendAndWait(log_.get(), Req({Ev("s", absl::StrCat("lone", i))}), &a);
    ASSERT_TRUE(a.result.ok()) << a.result.status();
    on_caller = a.thread == std::this_thread::get_id();
  }
  EXPECT_TRUE(on_caller);
  std::vector<Record> all = All();
  ASSERT_EQ(all.size(), log_->Head());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, i + 1);
    EXPECT_EQ(all[i].revision, i + 1);  // one stream
  }
}

TEST_F(RocksDbEventLogTest, ConcurrentAppendsAreGroupCommittedWithoutGaps) {
  constexpr int kThreads = 16;
  constexpr int kPerThread = 300;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const std::string stream = absl::StrCat("s-", t % 4);
        if (!log_->Append(Req({Ev(stream, absl::StrCat(t, ":", i))})).ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  EXPECT_EQ(log_->Head(), uint64_t{kThreads * kPerThread});
  // Fewer durable writes than requests: concurrent appends shared syncs.
  EXPECT_LT(listener_.groups(), kThreads * kPerThread);

  std::vector<Record> all = All();
  ASSERT_EQ(all.size(), size_t{kThreads * kPerThread});
  std::map<std::string, Revision> last;
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all[i].position, i + 1);
    EXPECT_EQ(all[i].revision, last[all[i].stream] + 1);
    last[all[i].stream] = all[i].revision;
    if (i > 0) {
      EXPECT_GE(all[i].recorded_at, all[i - 1].recorded_at);
    }
  }
  // Each thread's own appends keep their order.
  std::map<int, int> next_of_thread;
  for (const Record& r : all) {
    int t = 0, i = 0;
    ASSERT_EQ(sscanf(r.payload.c_str(), "%d:%d", &t, &i), 2);
    EXPECT_EQ(i, next_of_thread[t]++);
  }
}

TEST_F(RocksDbEventLogTest, ReadAllPagesForwardAndBackward) {
  for (int i = 1; i <= 10; ++i) {
    ASSERT_TRUE(log_->Append(Req({Ev("s", absl::StrCat(i))})).ok());
  }
  auto positions = [](const absl::StatusOr<std::vector<Record>>& r) {
    std::vector<Position> p;
    for (const Record& rec : *r) p.push_back(rec.position);
    return p;
  };
  EXPECT_THAT(positions(log_->ReadAll(0, Direction::kForward, 3)),
              ElementsAre(1, 2, 3));
  EXPECT_THAT(positions(log_->ReadAll(9, Direction::kForward, 3)),
              ElementsAre(9, 10));
  EXPECT_TRUE(log_->ReadAll(11, Direction::kForward, 3)->empty());
  EXPECT_THAT(positions(log_->ReadAll(0, Direction::kBackward, 3)),
              ElementsAre(10, 9, 8));
  EXPECT_THAT(positions(log_->ReadAll(2, Direction::kBackward, 3)),
              ElementsAre(2, 1));
  EXPECT_THAT(positions(log_->ReadAll(99, Direction::kBackward, 2)),
              ElementsAre(10, 9));
}

TEST_F(RocksDbEventLogTest, ReadStreamByRevision) {
  for (int i = 1; i <= 6; ++i) {
    ASSERT_TRUE(
        log_->Append(Req({Ev(i % 2 ? "odd" : "even", absl::StrCat(i))})).ok());
  }
  // A stream whose name is a prefix of another's is not mixed with it.
  ASSERT_TRUE(log_->Append(Req({Ev("odd-longer", "7")})).ok());
  absl::StatusOr<std::vector<Record>> odd =
      log_->ReadStream("odd", 0, Direction::kForward, 10);
  ASSERT_TRUE(odd.ok());
  ASSERT_EQ(odd->size(), 3u);
  EXPECT_EQ((*odd)[0].payload, "1");
  EXPECT_EQ((*odd)[2].payload, "5");
  EXPECT_EQ((*odd)[2].revision, 3u);

  absl::StatusOr<std::vector<Record>> back =
      log_->ReadStream("odd", 0, Direction::kBackward, 2);
  ASSERT_TRUE(back.ok());
  ASSERT_EQ(back->size(), 2u);
  EXPECT_EQ((*back)[0].revision, 3u);
  EXPECT_EQ((*back)[1].revision, 2u);

  EXPECT_EQ(log_->ReadStream("even", 2, Direction::kForward, 10)->size(), 2u);
  EXPECT_TRUE(log_->ReadStream("none", 0, Direction::kForward, 10)->empty());
}

// Every ReadStream of `streams` (payloads by revision) from every revision,
// both ways, with several page sizes, answers exactly the model.
void ExpectStreamsRead(
    EventLog& log,
    const std::map<std::string, std::vector<std::string>>& streams) {
  for (const auto& [stream, payloads] : streams) {
    const Revision n = payloads.size();
    EXPECT_EQ(*log.StreamRevision(stream), n) << stream;
    for (Revision from = 0; from <= n + 1; ++from) {
      for (Direction direction : {Direction::kForward, Direction::kBackward}) {
        for (size_t limit : {1, 2, 3, 1000}) {
          std::vector<Revision> want;
          if (direction == Direction::kForward) {
            for (Revision r = std::max<Revision>(from, 1);
                 r <= n && want.size() < limit; ++r) {
              want.push_back(r);
            }
          } else {
            for (Revision r = from == 0 ? n : std::min(from, n);
                 r >= 1 && want.size() < limit; --r) {
              want.push_back(r);
            }
          }
          absl::StatusOr<std::vector<Record>> got =
              log.ReadStream(stream, from, direction, limit);
          ASSERT_TRUE(got.ok()) << got.status();
          std::vector<Revision> revisions;
          for (const Record& r : *got) {
            revisions.push_back(r.revision);
            EXPECT_EQ(r.stream, stream);
            EXPECT_EQ(r.payload, payloads[r.revision - 1]) << stream;
          }
          EXPECT_EQ(revisions, want)
              << stream << " from " << from << " limit " << limit
              << (direction == Direction::kForward ? " forward" : " backward");
        }
      }
    }
  }
}

// The newest index entries live in memory until a generation is full, then
// in a table file ingested into the index: reads and expected revisions see
// both as one index, also after a reopen that indexes events again (a crash
// that lost the index checkpoint) and with a table file a crash left behind.
TEST_F(RocksDbEventLogTest, StreamIndexSpansMemoryAndTableFiles) {
  index_flush_entries_ = 5;
  Reopen();
  std::map<std::string, std::vector<std::string>> streams;
  const std::vector<std::string> names = {"a", "ab", "b"};
  int event = 0;
  for (int round = 0; round < 12; ++round) {
    // Requests of 1 to 3 events over one stream, then a batch over all.
    std::vector<NewEvent> events;
    const std::string& name = names[round % names.size()];
    for (int k = 0; k <= round % 3; ++k) {
      const std::string payload = absl::StrCat(++event);
      events.push_back(
          Ev(name, payload, ExpectedRevision::Exact(streams[name].size())));
      streams[name].push_back(payload);
    }
    ASSERT_TRUE(log_->Append(Req(std::move(events))).ok());
    events.clear();
    for (const std::string& n : names) {
      const std::string payload = absl::StrCat(++event);
      events.push_back(Ev(n, payload));
      streams[n].push_back(payload);
    }
    ASSERT_TRUE(log_->Append(Req(std::move(events))).ok());
    if (round % 4 == 3) ExpectStreamsRead(*log_, streams);
  }
  streams["none"];
  ExpectStreamsRead(*log_, streams);

  // Closed: everything is in table files.
  Reopen();
  ExpectStreamsRead(*log_, streams);
  const Position head = log_->Head();
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();

  // As after a crash: the checkpoint is back at 5, so the open indexes
  // 6..head again while the index still holds them, and a table file that
  // was never ingested lies in the index directory.
  const std::string index_dir =
      absl::StrCat(dir_.Sub("db"), "/", kStreamIndexDir);
  {
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {"default", rocksdb::ColumnFamilyOptions()},
        {kStreamsCf, rocksdb::ColumnFamilyOptions()}};
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    ASSERT_TRUE(
        rocksdb::DB::Open(rocksdb::DBOptions(), index_dir, cfs, &handles, &db)
            .ok());
    rocksdb::WriteOptions wo;
    wo.sync = true;
    ASSERT_TRUE(
        db->Put(wo, handles[0], KeySlice(kIndexPositionKey), EncodeFixed64BE(5))
            .ok());
    for (auto* h : handles) {
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
    }
    delete db;
  }
  const std::string stale =
      absl::StrCat(index_dir, "/", kIndexIngestPrefix, "7.sst");
  { std::ofstream(stale) << "not a table"; }
  index_flush_entries_ = 1000;  // the events indexed again stay in memory
  Open();
  EXPECT_FALSE(std::filesystem::exists(stale));
  EXPECT_EQ(log_->Head(), head);
  ExpectStreamsRead(*log_, streams);
  // Appends go on from the heads read back.
  ASSERT_TRUE(
      log_->Append(Req({Ev("a", "next",
                           ExpectedRevision::Exact(streams["a"].size()))}))
          .ok());
  streams["a"].push_back("next");
  ExpectStreamsRead(*log_, streams);

  // And written to table files again (some entries twice): the same.
  index_flush_entries_ = 5;
  Reopen();
  ExpectStreamsRead(*log_, streams);
}

// Readers racing the indexer and the flusher (a generation every 64
// entries) always see a stream as a gap-free run of revisions, each with
// its own payload, and never less than what was acknowledged before the
// read began.
TEST_F(RocksDbEventLogTest, StreamReadsRaceTheIndexFlusher) {
  index_flush_entries_ = 64;
  Reopen();
  constexpr int kWriters = 3;
  constexpr int kPerWriter = 400;
  std::atomic<int> acked[kWriters] = {};
  std::atomic<bool> done{false};
  std::vector<std::thread> threads;
  for (int w = 0; w < kWriters; ++w) {
    threads.emplace_back([&, w] {
      const std::string stream = absl::StrCat("w", w);
      for (int i = 1; i <= kPerWriter; ++i) {
        ASSERT_TRUE(log_->Append(Req({Ev(stream, absl::StrCat(w, ":", i),
                                         ExpectedRevision::Exact(i - 1))}))
                        .ok());
        acked[w].store(i);
      }
    });
  }
  int reads = 0;
  std::thread reader([&] {
    while (!done.load()) {
      for (int w = 0; w < kWriters; ++w) {
        const int before = acked[w].load();
        const std::string stream = absl::StrCat("w", w);
        const bool forward = reads % 2 == 0;
        absl::StatusOr<std::vector<Record>> got = log_->ReadStream(
            stream, 0, forward ? Direction::kForward : Direction::kBackward,
            100000);
        ASSERT_TRUE(got.ok()) << got.status();
        ASSERT_GE(got->size(), static_cast<size_t>(before)) << stream;
        for (size_t k = 0; k < got->size(); ++k) {
          const Revision want = forward ? k + 1 : got->size() - k;
          ASSERT_EQ((*got)[k].revision, want) << stream;
          ASSERT_EQ((*got)[k].payload, absl::StrCat(w, ":", want));
        }
        absl::StatusOr<Revision> revision = log_->StreamRevision(stream);
        ASSERT_TRUE(revision.ok());
        ASSERT_GE(*revision, got->size());
        ++reads;
      }
    }
  });
  for (std::thread& t : threads) t.join();
  done.store(true);
  reader.join();
  EXPECT_GT(reads, 0);
  for (int w = 0; w < kWriters; ++w) {
    EXPECT_EQ(*log_->StreamRevision(absl::StrCat("w", w)),
              static_cast<Revision>(kPerWriter));
  }
}

TEST_F(RocksDbEventLogTest, ReopenContinuesPositionsAndRevisions) {
  ASSERT_TRUE(log_->Append(Req({Ev("s", "1"), Ev("t", "2")})).ok());
  Reopen();
  EXPECT_EQ(log_->Head(), 2u);
  absl::StatusOr<AppendResult> r =
      log_->Append(Req({Ev("s", "3", ExpectedRevision::Exact(1))}));
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->first_position, 3u);
  EXPECT_THAT(r->revisions, ElementsAre(2));
}

TEST_F(RocksDbEventLogTest, SecondOpenOfTheSameStoreFailsClearly) {
  LogOptions options;
  options.data_dir = dir_.Sub("db");
  absl::StatusOr<std::unique_ptr<EventLog>> second =
      OpenRocksDbEventLog(std::move(options));
  EXPECT_THAT(second.status(), StatusIs(absl::StatusCode::kFailedPrecondition,
                                        HasSubstr("in use")));
}

TEST_F(RocksDbEventLogTest, AppendAfterCloseIsUnavailable) {
  ASSERT_TRUE(log_->Close().ok());
  EXPECT_THAT(log_->Append(Req({Ev("s", "1")})).status(),
              StatusIs(absl::StatusCode::kUnavailable));
}

TEST_F(RocksDbEventLogTest, CloseCommitsAndAnswersWhatIsQueued) {
  // The appends must go to the committer thread: the first would otherwise
  // commit, and block, on this one.
  ASSERT_TRUE(log_->Close().ok());
  commit_on_caller_ = false;
  Open();
  absl::Notification block;
  listener_.block_ = &block;
  // The first append's commit blocks in the listener; the next ones queue.
  std::atomic<int> ok{0};
  for (int i = 0; i < 20; ++i) {
    log_->AppendAsync(Req({Ev("s", absl::StrCat(i))}),
                      [&](absl::StatusOr<AppendResult> r) {
                        if (r.ok()) ++ok;
                      });
  }
  std::thread closer([&] { EXPECT_TRUE(log_->Close().ok()); });
  absl::SleepFor(absl::Milliseconds(50));
  block.Notify();
  closer.join();
  listener_.block_ = nullptr;
  EXPECT_EQ(ok.load(), 20);
  Open();
  EXPECT_EQ(log_->Head(), 20u);
}

TEST_F(RocksDbEventLogTest, FullQueueIsRefusedWithoutWriting) {
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  // The committer reads the clock at the start of each group: blocking it
  // there holds the committer while appends queue up.
  absl::Notification entered, release;
  std::atomic<bool> block{false};
  LogOptions options;
  options.data_dir = dir_.Sub("db");
  options.max_queued_bytes = 1;
  // The first append must go to the committer thread, not commit on this
  // one (the log is idle).
  options.commit_on_caller_when_idle = false;
  options.clock = [&] {
    if (block.exchange(false)) {
      entered.Notify();
      release.WaitForNotification();
    }
    return absl::Now();
  };
  log_ = *OpenRocksDbEventLog(std::move(options));
  block = true;
  absl::Notification first_done;
  log_->AppendAsync(Req({Ev("s", "1")}),
                    [&](absl::StatusOr<AppendResult>) { first_done.Notify(); });
  entered.WaitForNotification();  // the committer now holds the first group
  std::atomic<int> accepted{0};
  log_->AppendAsync(Req({Ev("s", "2")}), [&](absl::StatusOr<AppendResult> r) {
    EXPECT_TRUE(r.ok());
    ++accepted;
  });
  absl::Status refused;
  log_->AppendAsync(Req({Ev("s", "3")}), [&](absl::StatusOr<AppendResult> r) {
    refused = r.status();
  });
  EXPECT_THAT(refused, StatusIs(absl::StatusCode::kResourceExhausted,
                                HasSubstr("queue is full")));
  release.Notify();
  first_done.WaitForNotification();
  ASSERT_TRUE(log_->Close().ok());
  EXPECT_EQ(accepted.load(), 1);
  log_.reset();
  Open();
  EXPECT_EQ(log_->Head(), 2u);
}

TEST_F(RocksDbEventLogTest, ExpiredDeadlineInTheQueueWritesNothing) {
  AppendRequest r = Req({Ev("s", "late")});
  r.deadline = absl::Now() - absl::Seconds(1);
  EXPECT_THAT(log_->Append(std::move(r)).status(),
              StatusIs(absl::StatusCode::kDeadlineExceeded));
  EXPECT_EQ(log_->Head(), 0u);
}

TEST_F(RocksDbEventLogTest, MalformedStreamNamesAreRefused) {
  EXPECT_THAT(log_->Append(Req({Ev("", "x")})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->Append(Req({Ev(std::string("a\0b", 3), "x")})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(log_->Append(Req({})).status(),
              StatusIs(absl::StatusCode::kInvalidArgument));
}

TEST_F(RocksDbEventLogTest, RecordedAtNeverGoesBackwards) {
  absl::Time now = absl::FromUnixSeconds(1700000000);
  clock_ = [&now] { return now; };
  Reopen();
  ASSERT_TRUE(log_->Append(Req({Ev("s", "1")})).ok());
  now -= absl::Hours(1);  // the wall clock jumps back
  ASSERT_TRUE(log_->Append(Req({Ev("s", "2")})).ok());
  std::vector<Record> all = All();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].recorded_at, absl::FromUnixSeconds(1700000000));
  EXPECT_GE(all[1].recorded_at, all[0].recorded_at);
}

TEST_F(RocksDbEventLogTest, StateIsWrittenAtomicallyScannedByPrefixAndKept) {
  ASSERT_TRUE(log_->Append(Req({Ev("s", "1")})).ok());
  ASSERT_TRUE(log_->WriteState({{"group/a", "1"},
                                {"group/ab", "2"},
                                {"parked/a/x", "3"},
                                {"group/b", "4"}},
                               /*sync=*/true)
                  .ok());
  ASSERT_TRUE(
      log_->WriteState({{"group/b", "", /*erase=*/true}, {"group/ab", "22"}},
                       /*sync=*/false)
          .ok());
  auto scan = [&](absl::string_view prefix) {
    std::vector<std::string> out;
    EXPECT_TRUE(log_->ScanState(prefix,
                                [&](absl::string_view k, absl::string_view v) {
                                  out.push_back(absl::StrCat(k, "=", v));
                                })
                    .ok());
    return out;
  };
  EXPECT_THAT(scan("group/"), ElementsAre("group/a=1", "group/ab=22"));
  EXPECT_THAT(scan("parked/a/"), ElementsAre("parked/a/x=3"));
  EXPECT_THAT(scan("nothing/"), ElementsAre());
  // Kept across a reopen; the log is untouched by it.
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  Open();
  EXPECT_THAT(scan("group/"), ElementsAre("group/a=1", "group/ab=22"));
  EXPECT_EQ(log_->Head(), 1u);
}

TEST_F(RocksDbEventLogTest, MerkleTreeFollowsTheLogAndSurvivesReopen) {
  for (int i = 1; i <= 40; ++i) {
    ASSERT_TRUE(
        log_->Append(Req({Ev(absl::StrCat("s", i % 3), absl::StrCat(i))}))
            .ok());
  }
  ASSERT_EQ(log_->AwaitTree(40, absl::Seconds(10)), 40u);
  merkle::MemoryTree want;
  for (Position p = 1; p <= 40; ++p) {
    absl::StatusOr<std::string> raw = log_->RawRecord(p);
    ASSERT_TRUE(raw.ok()) << raw.status();
    want.Add(merkle::LeafHash(*raw));
  }
  LogTree tree(log_.get());
  for (uint64_t size : {1, 2, 3, 16, 17, 31, 32, 33, 40}) {
    EXPECT_EQ(*merkle::Root(tree, size), *merkle::Root(want, size)) << size;
  }
  EXPECT_THAT(log_->TreeNode(0, 40).status(),
              StatusIs(absl::StatusCode::kOutOfRange));
  const std::string root = *merkle::Root(tree, 40);
  Reopen();
  EXPECT_EQ(log_->TreeSize(), 40u);
  LogTree reopened(log_.get());
  EXPECT_EQ(*merkle::Root(reopened, 40), root);
  // It goes on from where it was.
  ASSERT_TRUE(log_->Append(Req({Ev("s", "41")})).ok());
  ASSERT_EQ(log_->AwaitTree(41, absl::Seconds(10)), 41u);
  want.Add(merkle::LeafHash(*log_->RawRecord(41)));
  EXPECT_EQ(*merkle::Root(reopened, 41), *merkle::Root(want, 41));
}

// The column families of a closed store, opened behind the log's back.
struct RawStore {
  rocksdb::DB* db;
  rocksdb::ColumnFamilyHandle* meta;  // "default"
  rocksdb::ColumnFamilyHandle* log;
  rocksdb::ColumnFamilyHandle* merkle;
};
void WithRawStore(const std::string& dir,
                  const std::function<void(const RawStore&)>& fn) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name :
       {"default", kLogCf, kRequestsCf, kStateCf, kMerkleCf}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::Open(rocksdb::DBOptions(), dir, cfs, &handles, &db).ok());
  fn(RawStore{db, handles[0], handles[1], handles[4]});
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
}

// The tree's blocks (FORMAT.md): 16 leaves, then the nodes of levels 4 and
// up that the block completes; a changed node is found at open.
TEST_F(RocksDbEventLogTest, MerkleBlocksHoldLeavesAndTheNodesTheyComplete) {
  merkle::MemoryTree want;
  AppendAndClose(40);
  Open();
  for (Position p = 1; p <= 40; ++p) {
    want.Add(merkle::LeafHash(*log_->RawRecord(p)));
  }
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  WithRawStore(dir_.Sub("db"), [&](const RawStore& raw) {
    rocksdb::DB* db = raw.db;
    rocksdb::ColumnFamilyHandle *meta = raw.meta, *merkle = raw.merkle;
    std::string b0, b1, open, size;
    ASSERT_TRUE(db->Get({}, merkle, MerkleBlockKey(0), &b0).ok());
    ASSERT_TRUE(db->Get({}, merkle, MerkleBlockKey(1), &b1).ok());
    EXPECT_TRUE(db->Get({}, merkle, MerkleBlockKey(2), &open).IsNotFound());
    ASSERT_TRUE(db->Get({}, meta, KeySlice(kMerkleOpenBlockKey), &open).ok());
    ASSERT_TRUE(db->Get({}, meta, KeySlice(kMerkleSizeKey), &size).ok());
    EXPECT_EQ(DecodeFixed64BE(size), 40u);
    // Block 0 completes node (4, 0); block 1 completes (4, 1) and (5, 0).
    ASSERT_EQ(b0.size(), 17u * 32);
    ASSERT_EQ(b1.size(), 18u * 32);
    EXPECT_EQ(b0.substr(0, 32), *want.Node(0, 0));
    EXPECT_EQ(b1.substr(15 * 32, 32), *want.Node(0, 31));
    EXPECT_EQ(b0.substr(MerkleNodeOffset(4), 32), *want.Node(4, 0));
    EXPECT_EQ(b1.substr(MerkleNodeOffset(4), 32), *want.Node(4, 1));
    EXPECT_EQ(b1.substr(MerkleNodeOffset(5), 32), *want.Node(5, 0));
    EXPECT_EQ(MerkleNodeBlock(5, 0), 1u);
    // The open block: leaves 32 .. 39.
    ASSERT_EQ(open.size(), 8u * 32);
    EXPECT_EQ(open.substr(7 * 32), *want.Node(0, 39));
    // Change node (5, 0).
    b1[MerkleNodeOffset(5)] ^= 0x01;
    ASSERT_TRUE(db->Put({}, merkle, MerkleBlockKey(1), b1).ok());
  });
  EXPECT_THAT(OpenStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("node (5, 0) differs")));
}

// A store whose tree is in format 1 (nodes keyed by level) opens and its
// tree is rehashed into blocks; format-1 keys added to a format-2 store are
// refused rather than taken as a reason to drop the tree.
TEST_F(RocksDbEventLogTest, AFormatOneTreeIsRehashedAndAForgedOneRefused) {
  AppendAndClose(40);
  Open();
  const std::string root = *merkle::Root(LogTree(log_.get()), 40);
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  // Made into format 1: "size", leaf blocks 'l' and nodes 'n' in CF merkle.
  WithRawStore(dir_.Sub("db"), [&](const RawStore& raw) {
    rocksdb::DB* db = raw.db;
    rocksdb::ColumnFamilyHandle *meta = raw.meta, *merkle = raw.merkle;
    ASSERT_TRUE(db->Delete({}, meta, KeySlice(kMerkleSizeKey)).ok());
    ASSERT_TRUE(db->Delete({}, meta, KeySlice(kMerkleOpenBlockKey)).ok());
    ASSERT_TRUE(db->DeleteRange({}, merkle, "b", "c").ok());
    ASSERT_TRUE(db->Put({}, merkle, "l" + EncodeFixed64BE(0), "x").ok());
    ASSERT_TRUE(db->Put({}, merkle, "n\x04" + EncodeFixed64BE(0), "y").ok());
    ASSERT_TRUE(
        db->Put({}, merkle, KeySlice(kMerkleV1SizeKey), EncodeFixed64BE(40))
            .ok());
  });
  Open();
  EXPECT_EQ(log_->TreeSize(), 40u);
  EXPECT_EQ(*merkle::Root(LogTree(log_.get()), 40), root);
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  WithRawStore(dir_.Sub("db"), [&](const RawStore& raw) {
    rocksdb::DB* db = raw.db;
    rocksdb::ColumnFamilyHandle* merkle = raw.merkle;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator({}, merkle));
    it->Seek("l");
    EXPECT_FALSE(it->Valid()) << "format-1 keys are left";
    std::string block;
    EXPECT_TRUE(db->Get({}, merkle, MerkleBlockKey(1), &block).ok());
    it.reset();
    ASSERT_TRUE(
        db->Put({}, merkle, KeySlice(kMerkleV1SizeKey), EncodeFixed64BE(40))
            .ok());
  });
  EXPECT_THAT(OpenStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("keys of format 1")));
}

// Changes made to the store behind nenep's back: the open fails, naming
// the first position that does not match the tree.
TEST_F(RocksDbEventLogTest, AlteredStoreFailsToOpenNamingThePosition) {
  AppendAndClose(20);
  auto with_db = [&](const std::function<void(
                         rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
    WithRawStore(dir_.Sub("db"),
                 [&](const RawStore& raw) { fn(raw.db, raw.log); });
  };
  std::string v12, v5, v6;
  // A flipped byte in the value of position 12.
  with_db([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, LogKey(12), &v12).ok());
    std::string bad = v12;
    bad[bad.size() / 2] ^= 0x01;
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(12), bad).ok());
  });
  EXPECT_THAT(OpenStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("position 12 does not match")));
  // Two events swapped (position 12 restored first).
  with_db([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(12), v12).ok());
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, LogKey(5), &v5).ok());
    ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, LogKey(6), &v6).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(5), v6).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(6), v5).ok());
  });
  EXPECT_THAT(OpenStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("position 5 does not match")));
  // Put back, it opens again.
  with_db([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(5), v5).ok());
    ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(6), v6).ok());
  });
  EXPECT_TRUE(OpenStatus().ok()) << OpenStatus();
}

// The verification at open hashes the log on a thread of its own, in
// chunks of 4,096 leaves: a change or a gap past the first chunks is found
// at its position, and so is a change in the very last leaf.
TEST_F(RocksDbEventLogTest, OpenVerifiesEveryChunkOfALargerLog) {
  const int n = 10000;
  std::vector<NewEvent> events;
  for (int i = 1; i <= n; ++i) events.push_back(Ev("s", absl::StrCat(i)));
  for (int from = 0; from < n; from += 1000) {
    AppendRequest r;
    r.events.assign(events.begin() + from, events.begin() + from + 1000);
    ASSERT_TRUE(log_->Append(std::move(r)).ok());
  }
  ASSERT_EQ(log_->AwaitTree(n, absl::Seconds(30)), static_cast<uint64_t>(n));
  ASSERT_TRUE(log_->Close().ok());
  log_.reset();
  EXPECT_TRUE(OpenStatus().ok()) << OpenStatus();
  auto edit = [&](const std::function<void(rocksdb::DB*,
                                           rocksdb::ColumnFamilyHandle*)>& fn) {
    WithRawStore(dir_.Sub("db"),
                 [&](const RawStore& raw) { fn(raw.db, raw.log); });
  };
  for (Position p : {Position{9001}, Position{n}}) {
    std::string v;
    edit([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      ASSERT_TRUE(db->Get(rocksdb::ReadOptions(), log, LogKey(p), &v).ok());
      std::string bad = v;
      bad[bad.size() / 2] ^= 0x01;
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(p), bad).ok());
    });
    EXPECT_THAT(
        OpenStatus(),
        StatusIs(absl::StatusCode::kDataLoss,
                 HasSubstr(absl::StrCat("position ", p, " does not match"))));
    edit([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
      ASSERT_TRUE(db->Put(rocksdb::WriteOptions(), log, LogKey(p), v).ok());
    });
  }
  edit([&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Delete(rocksdb::WriteOptions(), log, LogKey(8200)).ok());
  });
  EXPECT_THAT(OpenStatus(), StatusIs(absl::StatusCode::kDataLoss,
                                     HasSubstr("no event at position 8200")));
}

TEST_F(RocksDbEventLogTest, AMissingLogRecordIsReportedNotSkipped) {
  AppendAndClose(5);
  // Delete position 3 behind the log's back.
  WithRawStore(dir_.Sub("db"), [](const RawStore& raw) {
    ASSERT_TRUE(
        raw.db->Delete(rocksdb::WriteOptions(), raw.log, LogKey(3)).ok());
  });
  {
    // The Merkle tree check at open finds it first.
    LogOptions options;
    options.data_dir = dir_.Sub("db");
    EXPECT_THAT(OpenRocksDbEventLog(std::move(options)).status(),
                StatusIs(absl::StatusCode::kDataLoss,
                         HasSubstr("no event at position 3")));
  }
  verify_tree_ = false;  // reads report it too
  Open();
  EXPECT_THAT(log_->ReadAll(0, Direction::kForward, 10).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 3")));
  EXPECT_THAT(log_->ReadAll(0, Direction::kBackward, 10).status(),
              StatusIs(absl::StatusCode::kDataLoss, HasSubstr("position 3")));
  EXPECT_THAT(log_->Get(3).status(), StatusIs(absl::StatusCode::kDataLoss));
  EXPECT_THAT(log_->ReadStream("s", 0, Direction::kForward, 10).status(),
              StatusIs(absl::StatusCode::kDataLoss));
}

TEST_F(RocksDbEventLogTest, BackupRestoresEveryAcknowledgedEvent) {
  for (int i = 1; i <= 50; ++i) {
    ASSERT_TRUE(log_->Append(Req({Ev(absl::StrCat("s", i % 7), "x")},
                                 absl::StrCat("r", i)))
                    .ok());
  }
  absl::StatusOr<BackupInfo> info = log_->CreateBackup(dir_.Sub("backup"));
  ASSERT_TRUE(info.ok()) << info.status();
  EXPECT_EQ(info->head_position, 50u);
  ASSERT_TRUE(log_->Append(Req({Ev("after", "x")})).ok());

  absl::StatusOr<Position> head =
      RestoreBackup(dir_.Sub("backup"), dir_.Sub("restored"), 0);
  ASSERT_TRUE(head.ok()) << head.status();
  EXPECT_EQ(*head, 50u);
  EXPECT_THAT(
      RestoreBackup(dir_.Sub("backup"), dir_.Sub("restored"), 0).status(),
      StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("not empty")));

  LogOptions options;
  options.data_dir = dir_.Sub("restored");
  std::unique_ptr<EventLog> restored = *OpenRocksDbEventLog(std::move(options));
  EXPECT_EQ(restored->Head(), 50u);
  EXPECT_EQ(*restored->StreamRevision("s1"), 8u);
  // Request ids survive the restore too.
  absl::StatusOr<AppendResult> again =
      restored->Append(Req({Ev("s1", "x")}, "r1"));
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE(again->already_appended);
}

TEST(LogFormatTest, KeysSortNumerically) {
  EXPECT_LT(LogKey(255), LogKey(256));
  EXPECT_LT(LogKey(1), LogKey(uint64_t{1} << 40));
  uint64_t p = 0;
  ASSERT_TRUE(ParseLogKey(LogKey(123456789), &p));
  EXPECT_EQ(p, 123456789u);
  EXPECT_FALSE(ParseLogKey("short", &p));
  EXPECT_LT(StreamIndexKey("a", 2), StreamIndexKey("a", 10));
  EXPECT_LT(StreamIndexKey("a", uint64_t{1} << 60), StreamIndexKey("a-b", 1));
  uint64_t rev = 0;
  EXPECT_TRUE(ParseStreamIndexKey(StreamIndexKey("a", 7), "a", &rev));
  EXPECT_EQ(rev, 7u);
  EXPECT_FALSE(ParseStreamIndexKey(StreamIndexKey("a-b", 7), "a", &rev));
  EXPECT_EQ(DecodeFixed64BE(EncodeFixed64BE(0x0102030405060708)),
            0x0102030405060708u);
}

}  // namespace
}  // namespace nenep::storage

namespace nenep::storage {
namespace {

TEST(LogFormatTest, HandEncodedLogRecordIsTheCanonicalProtobufEncoding) {
  struct Case {
    std::string stream, type, payload, request_id, principal;
    uint64_t revision;
    int64_t micros;
  };
  const std::string big(300, 'x');
  for (const Case& c : std::vector<Case>{
           {"sessions-cb1", "SessionHeld", "\x0a\x03\x08\xe8\x0f", "r-1", "", 1,
            1700000000123456},
           {"unit-dbk", "UnitCreated", big, "", "officer-42", 300, 1},
           {"s", "", "", "", "", 0, 0},
           {"plan-35", "PlanIssued", std::string(70000, 'p'), "", "",
            uint64_t{1} << 40, -5}}) {
    v1::LogRecord rec;
    rec.set_stream(c.stream);
    rec.set_revision(c.revision);
    rec.set_recorded_at_micros(c.micros);
    rec.set_type(c.type);
    rec.set_payload(c.payload);
    rec.set_request_id(c.request_id);
    rec.set_principal(c.principal);
    std::string mine;
    EncodeLogRecord(c.stream, c.revision, c.micros, c.type, c.payload,
                    c.request_id, c.principal, &mine);
    EXPECT_EQ(mine, rec.SerializeAsString()) << c.stream;
  }
}

// The committer's cache of stream heads keeps names of up to 36 bytes in
// its slots and longer ones on the heap: both are found by any string,
// survive the table's growth (moves), copies and rotation.
TEST(StreamHeadCacheTest, ShortAndLongNamesThroughGrowthAndRotation) {
  using internal::StreamHead;
  using internal::StreamKey;
  const std::string longest_inline(36, 's');
  const std::string just_longer(37, 'l');
  const std::string empty;
  EXPECT_EQ(StreamKey(longest_inline).view(), longest_inline);
  EXPECT_EQ(StreamKey(just_longer).view(), just_longer);
  EXPECT_EQ(StreamKey(empty).view(), empty);
  StreamKey a(just_longer);
  StreamKey b(longest_inline);
  StreamKey c(a);  // copies the heap bytes
  a = b;           // and assignment frees none twice
  EXPECT_EQ(a.view(), longest_inline);
  EXPECT_EQ(c.view(), just_longer);
  StreamKey d(std::move(c));
  EXPECT_EQ(d.view(), just_longer);

  internal::StreamHeadCache cache(/*capacity=*/2000);
  auto name = [](int i) {
    // Every fourth name is longer than 36 bytes.
    return i % 4 == 0 ? absl::StrCat("commitment-cm.", std::string(30, 'x'), i)
                      : absl::StrCat("sessions-cb", i);
  };
  for (int i = 0; i < 3000; ++i) {
    ASSERT_EQ(cache.Find(name(i)), nullptr) << i;
    cache.Insert(name(i), StreamHead{static_cast<Revision>(i + 1),
                                     static_cast<Position>(i + 1)});
  }
  for (int i = 0; i < 3000; ++i) {
    StreamHead* h = cache.Find(name(i));
    ASSERT_NE(h, nullptr) << name(i);
    EXPECT_EQ(h->revision, static_cast<Revision>(i + 1));
  }
  // Rotation: the generation becomes the previous one; still found, and
  // found again after a second rotation only if not yet indexed.
  cache.Rotate(/*indexed=*/0);
  EXPECT_NE(cache.Find(name(7)), nullptr);
  for (int i = 0; i < 3000; ++i) cache.Insert(name(10000 + i), StreamHead{});
  cache.Rotate(/*indexed=*/1500);
  cache.Rotate(/*indexed=*/1500);
  EXPECT_EQ(cache.Find(name(8)), nullptr);  // indexed: dropped
  StreamHead* kept = cache.Find(name(2000));
  ASSERT_NE(kept, nullptr);
  EXPECT_EQ(kept->revision, 2001u);
}

}  // namespace
}  // namespace nenep::storage
