// File: services/groups/group_manager.h
//
// Durable consumer groups (the rules are in proto/nenep/v1/groups.proto).
// Each group keeps, in memory, a window of the matching events above its
// checkpoint that are not yet acked (at most kWindow of them; the log is
// read as the window drains), which of them are in flight to which member
// and until when, and which member owns each stream while it holds unacked
// events of it. What must survive a restart is in the log's state keyspace
// (storage/FORMAT.md, "state"): the group's definition with its checkpoint,
// and its parked events. Checkpoints are written without fsync: a crash of
// the process loses nothing; a crash of the machine may move a checkpoint
// back, and the events after it are delivered again (at least once).
//
//   ASSIGN_OR_RETURN(auto groups, GroupManager::Open(log, &projections));
//   ASSIGN_OR_RETURN(v1::PullResponse r, groups->Pull(request));
//   ... handle r.deliveries() in order ...
//   RETURN_IF_ERROR(groups->Ack(ack).status());
//
// Thread-safe. Close() before closing the log; calls after it answer
// kUnavailable.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/container/flat_hash_map.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nenep/storage/v1/records.pb.h"
#include "nenep/v1/groups.pb.h"
#include "services/query/projection_store.h"
#include "services/subscribe/event_filter.h"
#include "storage/log/event_log.h"

namespace nenep::services {

struct GroupManagerOptions {
  // Unacked matching events a group holds in memory at most.
  size_t window = 4096;
  std::function<absl::Time()> clock;  // default absl::Now
};

class GroupManager {
 public:
  // Loads the groups kept in `log`'s state. Both must outlive the manager;
  // `projections` answers subtree filters.
  static absl::StatusOr<std::unique_ptr<GroupManager>> Open(
      storage::EventLog* log, const ProjectionHandle* projections,
      GroupManagerOptions options = {});

  absl::StatusOr<v1::ConsumerGroup> Create(const v1::CreateGroupRequest& r)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ConsumerGroup> Get(const std::string& name)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<std::vector<v1::ConsumerGroup>> List()
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::Status Delete(const std::string& name) ABSL_LOCKS_EXCLUDED(mu_);

  // Never waits: an empty answer when nothing is deliverable now (the
  // service polls for wait_ms).
  absl::StatusOr<v1::PullResponse> Pull(const v1::PullRequest& r)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::AckResponse> Ack(const v1::AckRequest& r)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::NackResponse> Nack(const v1::NackRequest& r)
      ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ListParkedResponse> ListParked(
      const v1::ListParkedRequest& r) ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<v1::ReplayParkedResponse> ReplayParked(
      const v1::ReplayParkedRequest& r) ABSL_LOCKS_EXCLUDED(mu_);

  // Later calls answer kUnavailable; the log is no longer read or written.
  void Close() ABSL_LOCKS_EXCLUDED(mu_);

 private:
  // A matching event not yet acked (or a parked one being replayed).
  struct Entry {
    storage::Record record;
    uint32_t deliveries = 0;
    std::string member;  // in flight to it; empty: waiting
    absl::Time deadline;
    bool replay = false;
  };
  struct StreamState {
    std::set<storage::Position> open;  // window entries of the stream
    std::string owner;                 // while in_flight > 0
    int in_flight = 0;
  };
  struct Member {
    uint64_t in_flight = 0;
    absl::Time last_seen;
  };
  struct Group {
    storage::v1::GroupRecord rec;  // rec.checkpoint: as last written
    EventFilter filter;
    // Not OK when its filter could not be made at start (e.g. projections
    // turned off since): it then delivers nothing and says why.
    absl::Status broken;
    storage::Position scanned = 0;               // read from the log up to here
    std::map<storage::Position, Entry> window;   // above the checkpoint
    std::map<storage::Position, Entry> replays;  // parked, replaying
    absl::flat_hash_map<std::string, StreamState> streams;
    std::set<storage::Position> in_flight;
    absl::flat_hash_map<std::string, Member> members;
    uint64_t parked = 0;
    uint64_t delivered = 0;
    uint64_t redeliveries = 0;
    uint64_t acked = 0;
  };

  GroupManager(storage::EventLog* log, const ProjectionHandle* projections,
               GroupManagerOptions options);

  absl::Status Load() ABSL_LOCKS_EXCLUDED(mu_);
  absl::StatusOr<Group*> Find(const std::string& name)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::StatusOr<EventFilter> MakeFilter(
      const storage::v1::GroupRecord& rec) const;
  // Reads the log into the window while it has room.
  absl::Status Fill(Group* g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Events past their ack deadline go back (or are parked).
  void Expire(Group* g, absl::Time now,
              std::vector<storage::StateWrite>* writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The entry at `position` in flight to `member`, or null.
  Entry* InFlightTo(Group* g, storage::Position position,
                    const std::string& member)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // `positions`, each in flight to `member`; else kFailedPrecondition.
  absl::StatusOr<std::set<storage::Position>> HeldBy(
      Group* g, const google::protobuf::RepeatedField<uint64_t>& positions,
      const std::string& member) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Takes an in-flight entry back from its member.
  void Release(Group* g, storage::Position position, Entry* e)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Removes a resolved (acked or parked) entry from the window or replays.
  void Resolve(Group* g, storage::Position position, bool replay)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Park(Group* g, storage::Position position, Entry* e,
            const std::string& reason, std::vector<storage::StateWrite>* writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Writes `writes` and the group record if its checkpoint moved.
  absl::Status Persist(Group* g, std::vector<storage::StateWrite> writes)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static storage::Position Checkpoint(const Group& g);
  v1::ConsumerGroup Describe(const Group& g) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status CheckOpen() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Touch(Group* g, const std::string& member, absl::Time now)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  storage::EventLog* const log_;
  const ProjectionHandle* const projections_;
  const GroupManagerOptions options_;

  absl::Mutex mu_;
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  std::map<std::string, std::unique_ptr<Group>> groups_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nenep::services
