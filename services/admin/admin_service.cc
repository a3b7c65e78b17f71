#include "services/admin/admin_service.h"

#include <thread>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "storage/common/logging.h"

namespace nenep::services {

AdminService::AdminService(const StoreHandle* store,
                           AdminServiceOptions options, Metrics* metrics,
                           AccessControl* access)
    : store_(store),
      options_(std::move(options)),
      metrics_(metrics),
      access_(access) {}

grpc::ServerUnaryReactor* AdminService::GetStatus(
    grpc::CallbackServerContext* context, const v1::GetStatusRequest* request,
    v1::ServerStatus* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAny);
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  response->set_version(options_.version);
  response->set_data_dir(options_.data_dir);
  ToProtoTimestamp(options_.started_at, response->mutable_started_at());
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  response->set_serving(log.ok());
  if (log.ok()) {
    const storage::LogStats stats = (*log)->Stats();
    response->set_head_position(stats.head);
    if (stats.last_recorded_at != absl::InfinitePast()) {
      ToProtoTimestamp(stats.last_recorded_at,
                       response->mutable_last_recorded_at());
    }
    response->set_disk_bytes(stats.disk_bytes);
    response->set_appends_total(stats.appends_committed);
    response->set_merkle_tree_size((*log)->TreeSize());
  }
  if (options_.projections != nullptr) {
    absl::StatusOr<ProjectionStore*> store = options_.projections->Get();
    v1::ProjectionStatus* p = response->mutable_projections();
    p->set_enabled(store.ok() || !absl::IsFailedPrecondition(store.status()));
    if (store.ok()) {
      const projections::Projection::Stats stats = (*store)->Get()->GetStats();
      p->set_position(stats.applied);
      p->set_units(stats.units);
      p->set_members(stats.members);
      p->set_skipped_on_open((*store)->skipped_on_open());
    }
  }
  if (metrics_ != nullptr) {
    metrics_->RpcDone(Rpc::kGetStatus, grpc::StatusCode::OK,
                      absl::Now() - start);
  }
  reactor->Finish(grpc::Status::OK);
  return reactor;
}

grpc::ServerUnaryReactor* AdminService::CreateBackup(
    grpc::CallbackServerContext* context,
    const v1::CreateBackupRequest* request,
    v1::CreateBackupResponse* response) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  const absl::Time start = absl::Now();
  auto finish = [this, reactor, start](const absl::Status& status) {
    grpc::Status g = ToGrpcStatus(status);
    if (metrics_ != nullptr) {
      metrics_->RpcDone(Rpc::kCreateBackup, g.error_code(),
                        absl::Now() - start);
    }
    reactor->Finish(g);
  };
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAdmin);
      !who.ok()) {
    finish(who.status());
    return reactor;
  }
  const std::string directory = request->directory();
  if (directory.empty() || !absl::StartsWith(directory, "/")) {
    finish(absl::InvalidArgumentError(
        "directory: give an absolute path on the server's machine"));
    return reactor;
  }
  absl::StatusOr<storage::EventLog*> log = store_->Get();
  if (!log.ok()) {
    finish(log.status());
    return reactor;
  }
  logging::Info("backup requested", {{"directory", directory}});
  // The server's Shutdown waits for this call to finish, so the log outlives
  // the thread.
  std::thread([log = *log, directory, response, finish]() {
    absl::StatusOr<storage::BackupInfo> info = log->CreateBackup(directory);
    if (!info.ok()) {
      logging::Error("backup failed",
                     {{"directory", directory}, {"error", info.status()}});
      finish(info.status());
      return;
    }
    response->set_backup_id(info->backup_id);
    response->set_head_position(info->head_position);
    response->set_size_bytes(info->size_bytes);
    ToProtoTimestamp(info->created_at, response->mutable_created_at());
    response->set_directory(directory);
    finish(absl::OkStatus());
  }).detach();
  return reactor;
}

}  // namespace nenep::services
