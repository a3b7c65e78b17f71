// File: storage/log/log_slot.h
//
// LogSlot is an EventLog that forwards to another one which can be taken out
// and replaced while the slot is in use: how nenepd reopens its store after a
// failed write without stopping its services, which keep pointing at the
// slot.
//
//   LogSlot slot(*OpenRocksDbEventLog(options));
//   ... the services use &slot ...
//   std::shared_ptr<EventLog> old = slot.Detach();  // calls now: kUnavailable
//   slot.AwaitIdle(old);  // no call is still inside `old`
//   old->Close(); old.reset();
//   slot.Attach(*OpenRocksDbEventLog(options));
//
// Every call holds a reference to the log it entered for its duration, so a
// detached log is never destroyed under a call. Callbacks of AppendAsync run
// on a thread of the log that took the request, or on the caller's.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/synchronization/mutex.h"
#include "storage/log/event_log.h"

namespace nenep::storage {

class LogSlot final : public EventLog {
 public:
  // `log` may be null: every call answers kUnavailable until Attach().
  explicit LogSlot(std::unique_ptr<EventLog> log);
  ~LogSlot() override;

  // Installs `log`, giving it the commit hook set on the slot.
  void Attach(std::shared_ptr<EventLog> log) ABSL_LOCKS_EXCLUDED(mu_);
  // Takes the log out: calls from now on answer kUnavailable with
  // `why`, while calls already inside it finish. Null if none was attached.
  std::shared_ptr<EventLog> Detach(std::string why) ABSL_LOCKS_EXCLUDED(mu_);
  // Blocks until the caller's reference to `log` is the only one left.
  static void AwaitIdle(const std::shared_ptr<EventLog>& log);

  // EventLog: forwarded to the attached log.
  void AppendAsync(AppendRequest request, AppendCallback done) override;
  void SetCommitHook(CommitHook* hook) override ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<Record>> ReadAll(Position from,
                                              Direction direction,
                                              size_t limit) const override;
  absl::StatusOr<std::vector<Record>> ReadStream(absl::string_view stream,
                                                 Revision from,
                                                 Direction direction,
                                                 size_t limit) const override;
  absl::Status Scan(
      Position from, Position to,
      absl::FunctionRef<bool(Position, absl::string_view)> fn) const override;
  absl::StatusOr<Record> Get(Position position) const override;
  absl::StatusOr<Revision> StreamRevision(
      absl::string_view stream) const override;
  // Without a log: the head when the last one was detached.
  Position Head() const override;
  LogStats Stats() const override;
  absl::Status WriteState(const std::vector<StateWrite>& writes,
                          bool sync) override;
  absl::Status ScanState(
      absl::string_view prefix,
      absl::FunctionRef<void(absl::string_view, absl::string_view)> fn)
      const override;
  uint64_t TreeSize() const override;
  uint64_t AwaitTree(uint64_t size, absl::Duration timeout) const override;
  absl::StatusOr<std::string> TreeNode(int level,
                                       uint64_t index) const override;
  absl::Status AwaitTreeVerified() const override;
  absl::StatusOr<std::string> RawRecord(Position position) const override;
  absl::StatusOr<BackupInfo> CreateBackup(
      const std::string& directory) override;
  // Detaches the log and closes it once no call is inside it.
  absl::Status Close() override;

 private:
  // The attached log, or the status to answer without one.
  absl::StatusOr<std::shared_ptr<EventLog>> Current() const
      ABSL_LOCKS_EXCLUDED(mu_);

  mutable absl::Mutex mu_;
  std::shared_ptr<EventLog> log_ ABSL_GUARDED_BY(mu_);
  std::string why_ ABSL_GUARDED_BY(mu_);
  CommitHook* hook_ ABSL_GUARDED_BY(mu_) = nullptr;
  Position last_head_ ABSL_GUARDED_BY(mu_) = 0;
  uint64_t last_tree_size_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nenep::storage
