// nenep.v1.Admin: server status and online backups.
#pragma once

#include <string>

#include "absl/time/time.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/common/metrics.h"
#include "services/common/store.h"
#include "services/query/projection_store.h"

namespace nenep::services {

struct AdminServiceOptions {
  std::string version;
  std::string data_dir;
  absl::Time started_at;
  const ProjectionHandle* projections = nullptr;  // not owned; may be null
};

class AdminService final : public v1::Admin::CallbackService {
 public:
  // `store`, `metrics` and `access` (nullable) must outlive the service.
  AdminService(const StoreHandle* store, AdminServiceOptions options,
               Metrics* metrics, AccessControl* access = nullptr);

  grpc::ServerUnaryReactor* GetStatus(grpc::CallbackServerContext* context,
                                      const v1::GetStatusRequest* request,
                                      v1::ServerStatus* response) override;
  // Runs the backup on its own thread: it may take minutes.
  grpc::ServerUnaryReactor* CreateBackup(
      grpc::CallbackServerContext* context,
      const v1::CreateBackupRequest* request,
      v1::CreateBackupResponse* response) override;

 private:
  const StoreHandle* store_;
  AdminServiceOptions options_;
  Metrics* metrics_;
  AccessControl* const access_;
};

}  // namespace nenep::services
