// File: services/subscribe/head_watch.h
//
// The durable head of the log, for subscribers waiting for new events. It
// is the log's CommitListener (told after each group is durable and
// readable) and passes every call on to `next` (the metrics).
#pragma once

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "storage/log/event_log.h"

namespace nenep::services {

class HeadWatch final : public storage::CommitListener {
 public:
  explicit HeadWatch(storage::CommitListener* next) : next_(next) {}

  // The head when the store opened.
  void Reset(storage::Position head) ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    head_ = head;
  }

  // Blocks until the head passes `position`, or `timeout`; the head then.
  storage::Position WaitPast(storage::Position position, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(mu_) {
    absl::MutexLock lock(&mu_);
    auto past = [this, position]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return head_ > position;
    };
    mu_.AwaitWithTimeout(absl::Condition(&past), timeout);
    return head_;
  }

  void OnCommit(storage::Position first, storage::Position last,
                size_t requests, absl::Duration commit_latency) override
      ABSL_LOCKS_EXCLUDED(mu_) {
    {
      absl::MutexLock lock(&mu_);
      if (last > head_) head_ = last;
    }
    if (next_ != nullptr)
      next_->OnCommit(first, last, requests, commit_latency);
  }
  void OnCommitFailed(const absl::Status& status) override {
    if (next_ != nullptr) next_->OnCommitFailed(status);
  }

 private:
  storage::CommitListener* const next_;
  absl::Mutex mu_;
  storage::Position head_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace nenep::services
