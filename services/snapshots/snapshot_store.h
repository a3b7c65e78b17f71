// File: services/snapshots/snapshot_store.h
//
// Daily snapshots (proto/nenep/v1/snapshots.proto), computed from the live
// projection and kept immutably in the log's state column family (keys in
// storage/FORMAT.md, "Snapshots"). A snapshot's info key is written last,
// with sync: a snapshot exists once its info does, so a crash while writing
// one leaves nothing visible and the next Create writes it again.
//
//   SnapshotStore snapshots(&projection_handle, &store_handle, options);
//   ASSIGN_OR_RETURN(v1::SnapshotInfo info, snapshots.Create(request));
//
// Thread-safe; one Create runs at a time.
#pragma once

#include <functional>
#include <string>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nenep/v1/snapshots.pb.h"
#include "services/common/store.h"
#include "services/query/projection_store.h"

namespace nenep::services {

struct SnapshotOptions {
  absl::TimeZone zone;                // Asia/Ho_Chi_Minh, for "today"
  std::function<absl::Time()> clock;  // default absl::Now
};

class SnapshotStore {
 public:
  // Rows (and overdue items) per stored chunk and per streamed message.
  static constexpr int kChunk = 1000;

  SnapshotStore(const ProjectionHandle* projections, const StoreHandle* store,
                SnapshotOptions options);

  // See Snapshots.CreateSnapshot.
  absl::StatusOr<v1::SnapshotInfo> Create(const v1::CreateSnapshotRequest& r)
      ABSL_LOCKS_EXCLUDED(create_mu_);
  absl::StatusOr<v1::ListSnapshotsResponse> List(
      const v1::ListSnapshotsRequest& r) const;
  absl::StatusOr<v1::GetSnapshotResponse> Get(
      const v1::GetSnapshotRequest& r) const;
  absl::StatusOr<v1::DiffSnapshotsResponse> Diff(
      const v1::DiffSnapshotsRequest& r) const;

  // The stored snapshot of `date` at `position` (0: the latest of the
  // date); `field` names the date in messages. kNotFound if none.
  absl::StatusOr<v1::SnapshotInfo> Find(const v1::Date& date, uint64_t position,
                                        const std::string& field) const;
  // Chunk i of a snapshot's stream (ReadSnapshot): its unit chunks, then
  // its overdue chunks. Chunks() is how many there are.
  static int64_t Chunks(const v1::SnapshotInfo& info);
  absl::StatusOr<v1::SnapshotChunk> ReadChunk(const v1::SnapshotInfo& info,
                                              int64_t i) const;

 private:
  absl::StatusOr<storage::EventLog*> Log() const;

  const ProjectionHandle* const projections_;
  const StoreHandle* const store_;
  const SnapshotOptions options_;
  absl::Mutex create_mu_;
};

}  // namespace nenep::services
