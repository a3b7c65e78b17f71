// File: services/query/query_service.h
//
// nenep.v1.Query and nenep.v1.Projections over the gRPC callback API: units,
// rollups and rebuilds, read from the ProjectionStore. Answers wait until
// what they show is durable (see projection_store.h).
#pragma once

#include <atomic>
#include <functional>

#include "absl/time/time.h"
#include "nenep/v1/query.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/common/metrics.h"
#include "services/query/projection_store.h"

namespace nenep::services {

struct QueryServiceOptions {
  absl::TimeZone zone;                // Asia/Ho_Chi_Minh, for "today"
  std::function<absl::Time()> clock;  // default absl::Now
};

class QueryService final : public v1::Query::CallbackService {
 public:
  // `access` (nullable: every caller sees everything) must outlive it.
  QueryService(const ProjectionHandle* store, QueryServiceOptions options,
               AccessControl* access = nullptr);

  grpc::ServerUnaryReactor* GetUnit(grpc::CallbackServerContext* context,
                                    const v1::GetUnitRequest* request,
                                    v1::Unit* response) override;
  grpc::ServerUnaryReactor* ListChildren(
      grpc::CallbackServerContext* context,
      const v1::ListChildrenRequest* request,
      v1::ListChildrenResponse* response) override;
  grpc::ServerUnaryReactor* FindUnits(grpc::CallbackServerContext* context,
                                      const v1::FindUnitsRequest* request,
                                      v1::FindUnitsResponse* response) override;
  grpc::ServerUnaryReactor* GetRollup(grpc::CallbackServerContext* context,
                                      const v1::RollupRequest* request,
                                      v1::RollupResponse* response) override;
  grpc::ServerUnaryReactor* GetChildrenRollups(
      grpc::CallbackServerContext* context,
      const v1::ChildrenRollupsRequest* request,
      v1::ChildrenRollupsResponse* response) override;

 private:
  absl::Status DoGetUnit(const Principal& who,
                         const v1::GetUnitRequest& request, v1::Unit* response);
  absl::Status DoListChildren(const Principal& who,
                              const v1::ListChildrenRequest& request,
                              v1::ListChildrenResponse* response);
  absl::Status DoFindUnits(const Principal& who,
                           const v1::FindUnitsRequest& request,
                           v1::FindUnitsResponse* response);
  absl::Status DoGetRollup(const Principal& who,
                           const v1::RollupRequest& request,
                           v1::RollupResponse* response);
  absl::Status DoChildren(const Principal& who,
                          const v1::ChildrenRollupsRequest& request,
                          v1::ChildrenRollupsResponse* response);
  Day Today() const;
  // The live projection, or the one known at `k` when it is set.
  absl::StatusOr<std::shared_ptr<const projections::Projection>> ProjectionAt(
      ProjectionStore* store, bool has_known, const v1::KnownAsOf& k) const;

  // Within a scoped principal's answer: the unit's parent chain stops at
  // its scope (the units above are not shown).
  void Redact(const Principal& who, Day on, v1::Unit* unit) const;

  const ProjectionHandle* store_;
  QueryServiceOptions options_;
  AccessControl* const access_;
};

class ProjectionsService final : public v1::Projections::CallbackService {
 public:
  explicit ProjectionsService(const ProjectionHandle* store,
                              AccessControl* access = nullptr)
      : store_(store), access_(access) {}
  // Runs on its own thread: a rebuild reads the whole log.
  grpc::ServerUnaryReactor* Rebuild(grpc::CallbackServerContext* context,
                                    const v1::RebuildRequest* request,
                                    v1::RebuildResponse* response) override;
  // Streams progress while a separate state replays (its own thread).
  grpc::ServerWriteReactor<v1::ReplayProgress>* Replay(
      grpc::CallbackServerContext* context,
      const v1::ReplayRequest* request) override;

 private:
  const ProjectionHandle* store_;
  AccessControl* const access_;
};

}  // namespace nenep::services
