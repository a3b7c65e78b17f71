#include "storage/log/log_slot.h"

#include <utility>

#include "absl/status/status.h"
#include "absl/time/clock.h"

namespace nenep::storage {

LogSlot::LogSlot(std::unique_ptr<EventLog> log) : log_(std::move(log)) {
  why_ = "the store is not open; retry shortly";
}

LogSlot::~LogSlot() { Close().IgnoreError(); }

void LogSlot::Attach(std::shared_ptr<EventLog> log) {
  absl::MutexLock lock(&mu_);
  if (log != nullptr) log->SetCommitHook(hook_);
  log_ = std::move(log);
}

std::shared_ptr<EventLog> LogSlot::Detach(std::string why) {
  absl::MutexLock lock(&mu_);
  if (log_ != nullptr) {
    last_head_ = log_->Head();
    last_tree_size_ = log_->TreeSize();
  }
  why_ = std::move(why);
  return std::move(log_);
}

void LogSlot::AwaitIdle(const std::shared_ptr<EventLog>& log) {
  // Calls hold their reference for the length of one read or one queued
  // append: short, so polling costs nothing worth a condition variable.
  while (log.use_count() > 1) absl::SleepFor(absl::Milliseconds(1));
}

absl::StatusOr<std::shared_ptr<EventLog>> LogSlot::Current() const {
  absl::MutexLock lock(&mu_);
  if (log_ == nullptr) return absl::UnavailableError(why_);
  return log_;
}

void LogSlot::AppendAsync(AppendRequest request, AppendCallback done) {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) {
    std::move(done)(log.status());
    return;
  }
  (*log)->AppendAsync(std::move(request), std::move(done));
}

void LogSlot::SetCommitHook(CommitHook* hook) {
  absl::MutexLock lock(&mu_);
  hook_ = hook;
  if (log_ != nullptr) log_->SetCommitHook(hook);
}

absl::StatusOr<std::vector<Record>> LogSlot::ReadAll(Position from,
                                                     Direction direction,
                                                     size_t limit) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->ReadAll(from, direction, limit);
}

absl::StatusOr<std::vector<Record>> LogSlot::ReadStream(
    absl::string_view stream, Revision from, Direction direction,
    size_t limit) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->ReadStream(stream, from, direction, limit);
}

absl::Status LogSlot::Scan(
    Position from, Position to,
    absl::FunctionRef<bool(Position, absl::string_view)> fn) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->Scan(from, to, fn);
}

absl::StatusOr<Record> LogSlot::Get(Position position) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->Get(position);
}

absl::StatusOr<Revision> LogSlot::StreamRevision(
    absl::string_view stream) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->StreamRevision(stream);
}

Position LogSlot::Head() const {
  absl::MutexLock lock(&mu_);
  return log_ != nullptr ? log_->Head() : last_head_;
}

LogStats LogSlot::Stats() const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (log.ok()) return (*log)->Stats();
  LogStats stats;
  stats.head = Head();
  stats.indexed = stats.head;
  stats.last_recorded_at = absl::InfinitePast();
  return stats;
}

absl::Status LogSlot::WriteState(const std::vector<StateWrite>& writes,
                                 bool sync) {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->WriteState(writes, sync);
}

absl::Status LogSlot::ScanState(
    absl::string_view prefix,
    absl::FunctionRef<void(absl::string_view, absl::string_view)> fn) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->ScanState(prefix, fn);
}

uint64_t LogSlot::TreeSize() const {
  absl::MutexLock lock(&mu_);
  return log_ != nullptr ? log_->TreeSize() : last_tree_size_;
}

uint64_t LogSlot::AwaitTree(uint64_t size, absl::Duration timeout) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return TreeSize();
  return (*log)->AwaitTree(size, timeout);
}

absl::StatusOr<std::string> LogSlot::TreeNode(int level, uint64_t index) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->TreeNode(level, index);
}

absl::Status LogSlot::AwaitTreeVerified() const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->AwaitTreeVerified();
}

absl::StatusOr<std::string> LogSlot::RawRecord(Position position) const {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->RawRecord(position);
}

absl::StatusOr<BackupInfo> LogSlot::CreateBackup(const std::string& directory) {
  absl::StatusOr<std::shared_ptr<EventLog>> log = Current();
  if (!log.ok()) return log.status();
  return (*log)->CreateBackup(directory);
}

absl::Status LogSlot::Close() {
  std::shared_ptr<EventLog> log =
      Detach("the store is closed (the server is stopping)");
  if (log == nullptr) return absl::OkStatus();
  AwaitIdle(log);
  return log->Close();
}

}  // namespace nenep::storage
