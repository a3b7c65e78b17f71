// File: services/audit/audit_service.h
//
// nenep.v1.Audit: signed tree heads, inclusion and consistency proofs over
// the log's Merkle tree.
#pragma once

#include "nenep/v1/audit.grpc.pb.h"
#include "services/audit/tree_signer.h"
#include "services/auth/access_control.h"
#include "services/common/store.h"
#include "services/query/projection_store.h"

namespace nenep::services {

// The signer the service uses; null until the store is open.
using SignerHandle = Handle<TreeSigner>;

class AuditService final : public v1::Audit::CallbackService {
 public:
  // `access` (nullable: every caller may) must outlive the service.
  AuditService(const StoreHandle* store, const SignerHandle* signer,
               const ProjectionHandle* projections,
               AccessControl* access = nullptr)
      : store_(store),
        signer_(signer),
        projections_(projections),
        access_(access) {}

  grpc::ServerUnaryReactor* GetTreeHead(grpc::CallbackServerContext* context,
                                        const v1::GetTreeHeadRequest* request,
                                        v1::SignedTreeHead* response) override;
  grpc::ServerUnaryReactor* GetInclusionProof(
      grpc::CallbackServerContext* context,
      const v1::GetInclusionProofRequest* request,
      v1::InclusionProof* response) override;
  grpc::ServerUnaryReactor* GetConsistencyProof(
      grpc::CallbackServerContext* context,
      const v1::GetConsistencyProofRequest* request,
      v1::ConsistencyProof* response) override;
  grpc::ServerUnaryReactor* ExportEvents(
      grpc::CallbackServerContext* context,
      const v1::ExportEventsRequest* request,
      v1::ExportEventsResponse* response) override;

 private:
  const StoreHandle* const store_;
  const SignerHandle* const signer_;
  const ProjectionHandle* const projections_;
  AccessControl* const access_;
};

}  // namespace nenep::services
