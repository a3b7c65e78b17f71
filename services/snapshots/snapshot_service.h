// File: services/snapshots/snapshot_service.h
//
// nenep.v1.Snapshots: daily snapshots (snapshot_store.h) at the gRPC edge.
#pragma once

#include "nenep/v1/snapshots.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/snapshots/snapshot_store.h"

namespace nenep::services {

class SnapshotService final : public v1::Snapshots::CallbackService {
 public:
  // `snapshots` is not owned and must outlive the service.
  // `access` (nullable: every caller may) must outlive it. Creating a
  // snapshot is for admins; reading one unit's row for readers of its
  // scope; a whole snapshot for those who see every unit.
  explicit SnapshotService(SnapshotStore* snapshots,
                           AccessControl* access = nullptr)
      : snapshots_(snapshots), access_(access) {}

  // Runs on its own thread: it reads the whole projection.
  grpc::ServerUnaryReactor* CreateSnapshot(
      grpc::CallbackServerContext* context,
      const v1::CreateSnapshotRequest* request,
      v1::SnapshotInfo* response) override;
  grpc::ServerUnaryReactor* ListSnapshots(
      grpc::CallbackServerContext* context,
      const v1::ListSnapshotsRequest* request,
      v1::ListSnapshotsResponse* response) override;
  grpc::ServerUnaryReactor* GetSnapshot(
      grpc::CallbackServerContext* context,
      const v1::GetSnapshotRequest* request,
      v1::GetSnapshotResponse* response) override;
  grpc::ServerWriteReactor<v1::SnapshotChunk>* ReadSnapshot(
      grpc::CallbackServerContext* context,
      const v1::ReadSnapshotRequest* request) override;
  grpc::ServerUnaryReactor* DiffSnapshots(
      grpc::CallbackServerContext* context,
      const v1::DiffSnapshotsRequest* request,
      v1::DiffSnapshotsResponse* response) override;

 private:
  absl::Status CheckUnit(const Principal& who, const std::string& unit_id,
                         const v1::Date& date) const;

  SnapshotStore* const snapshots_;
  AccessControl* const access_;
};

}  // namespace nenep::services
