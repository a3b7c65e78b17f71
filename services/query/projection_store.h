// File: services/query/projection_store.h
//
// Keeps the projection (storage/projections) in step with the log. It is the
// log's CommitHook: every request is checked against the projection's state
// and applied on the committer thread before it is written, so referential
// errors refuse the request with nothing written. Queries read the live
// projection and then wait until what they saw is durable, so an answer
// never shows an event that was not acknowledged.
//
//   ASSIGN_OR_RETURN(auto store, ProjectionStore::Open(log));  // replays
//   log->SetCommitHook(store.get());
//   ... store->Get()->GetRollup(q); store->AwaitDurable(position) ...
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nenep/v1/events.pb.h"
#include "storage/log/event_log.h"
#include "storage/projections/projection.h"

namespace nenep::services {

struct RebuildResult {
  storage::Position position = 0;
  uint64_t events = 0;
  uint64_t skipped = 0;
  absl::Duration replay;   // reading and applying the log
  absl::Duration elapsed;  // all of it, checksums included
  std::string live_checksum;
  std::string rebuilt_checksum;
  bool replaced = false;
};

class ProjectionStore final : public storage::CommitHook {
 public:
  // Replays the whole log (not owned; must outlive the store). Events the
  // projection refuses on replay (written by an older version without its
  // checks) are skipped and logged.
  static absl::StatusOr<std::unique_ptr<ProjectionStore>> Open(
      storage::EventLog* log);

  // The live projection.
  std::shared_ptr<const projections::Projection> Get() const
      ABSL_LOCKS_EXCLUDED(ptr_mu_);

  // Blocks until every position up to `position` is durable; kUnavailable
  // if a sync failed or `timeout` passed.
  absl::Status AwaitDurable(storage::Position position, absl::Duration timeout)
      ABSL_LOCKS_EXCLUDED(durable_mu_);

  // Replays the log into a fresh projection and compares it with the live
  // one at the same position (appends wait for the last step only).
  absl::StatusOr<RebuildResult> Rebuild() ABSL_LOCKS_EXCLUDED(rebuild_mu_);

  // After the log was reopened (a failed write or sync): replays it into a
  // fresh projection that replaces the live one, which may hold requests the
  // log never wrote, and forgets the failure. Appends wait meanwhile.
  absl::Status Reload() ABSL_LOCKS_EXCLUDED(rebuild_mu_, group_mu_);

  // The projection as the log stood at `position` (<= the head): a fresh
  // replay of positions 1..position, the last two kept.
  absl::StatusOr<std::shared_ptr<const projections::Projection>> AsOf(
      storage::Position position) ABSL_LOCKS_EXCLUDED(as_of_mu_);

  // A fresh projection of positions 1..to, apart from the live one;
  // `progress` is told the position reached after each step.
  absl::StatusOr<std::shared_ptr<const projections::Projection>> ReplayTo(
      storage::Position to,
      const std::function<void(storage::Position)>& progress, uint64_t* events,
      uint64_t* skipped) const;

  // The last position up to `head` recorded at or before `t` (0: none).
  absl::StatusOr<storage::Position> PositionAt(absl::Time t,
                                               storage::Position head) const;

  uint64_t skipped_on_open() const { return skipped_on_open_; }

  // storage::CommitHook
  void BeginGroup() override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  absl::Status Admit(const storage::AppendRequest& request,
                     storage::Position first) override;
  void EndGroup(bool written) override ABSL_NO_THREAD_SAFETY_ANALYSIS;
  void Durable(storage::Position last) override
      ABSL_LOCKS_EXCLUDED(durable_mu_);
  void Failed(const absl::Status& status) override
      ABSL_LOCKS_EXCLUDED(durable_mu_);

 private:
  explicit ProjectionStore(storage::EventLog* log);
  std::shared_ptr<projections::Projection> NewProjection() const;
  // Applies positions from..to of the log to `p`, event by event.
  absl::Status Replay(projections::Projection* p, storage::Position from,
                      storage::Position to, uint64_t* events,
                      uint64_t* skipped) const;
  std::shared_ptr<projections::Projection> live() const
      ABSL_LOCKS_EXCLUDED(ptr_mu_);

  storage::EventLog* const log_;
  // Held by the committer from BeginGroup to EndGroup, and by Rebuild to
  // keep groups out while it catches up.
  absl::Mutex group_mu_;
  absl::Mutex rebuild_mu_;
  mutable absl::Mutex ptr_mu_;
  std::shared_ptr<projections::Projection> live_ ABSL_GUARDED_BY(ptr_mu_);
  absl::Mutex durable_mu_;
  storage::Position durable_ ABSL_GUARDED_BY(durable_mu_) = 0;
  absl::Status failed_ ABSL_GUARDED_BY(durable_mu_);
  uint64_t skipped_on_open_ = 0;
  absl::Mutex as_of_mu_;  // held while one is built: one replay at a time
  std::vector<std::pair<storage::Position,
                        std::shared_ptr<const projections::Projection>>>
      as_of_ ABSL_GUARDED_BY(as_of_mu_);
  // Committer-thread scratch: events of a request that came without their
  // decoded form (NewEvent::decoded, which the EventLog service sets).
  std::vector<v1::Event> scratch_;
  std::vector<const v1::Event*> event_ptrs_;
};

// Where the services find the projections; null until the store is open.
class ProjectionHandle {
 public:
  void Attach(ProjectionStore* store) {
    store_.store(store, std::memory_order_release);
  }
  void Detach() { store_.store(nullptr, std::memory_order_release); }
  // The server runs without projections; set before serving.
  void SetOff() { off_ = true; }
  absl::StatusOr<ProjectionStore*> Get() const;

 private:
  bool off_ = false;
  std::atomic<ProjectionStore*> store_{nullptr};
};

}  // namespace nenep::services
