#include "services/audit/audit_service.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "services/common/grpc_status.h"
#include "services/common/proto_time.h"
#include "services/eventlog/event_log_service.h"
#include "services/subscribe/event_filter.h"
#include "storage/audit/merkle.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_tree.h"

namespace nenep::services {
namespace {

void ToApi(const storage::v1::SignedTreeHeadRecord& h,
           v1::SignedTreeHead* out) {
  out->set_tree_size(h.tree_size());
  out->set_root_hash(h.root_hash());
  ToProtoTimestamp(absl::FromUnixMicros(h.timestamp_micros()),
                   out->mutable_timestamp());
  out->set_signature(h.signature());
  out->set_public_key(h.public_key());
  out->set_key_id(merkle::KeyId(h.public_key()));
}

// Proofs and exports are for auditors (access_control.h).
template <typename F>
grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                              AccessControl* access, F body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  absl::StatusOr<Principal> who = Gate(access, *context, Need::kAudit);
  reactor->Finish(ToGrpcStatus(who.ok() ? body() : who.status()));
  return reactor;
}

// The tree size a request means: its own, or the latest signed head's.
absl::StatusOr<uint64_t> SizeOf(uint64_t asked, const SignerHandle* signer,
                                const storage::EventLog* log) {
  if (asked == 0) {
    ASSIGN_OR_RETURN(TreeSigner * s, signer->Get());
    ASSIGN_OR_RETURN(storage::v1::SignedTreeHeadRecord h, s->Latest());
    return h.tree_size();
  }
  if (asked > log->TreeSize()) {
    return absl::OutOfRangeError(
        absl::StrCat("tree_size ", asked, " is larger than the tree (",
                     log->TreeSize(), " events hashed)"));
  }
  return asked;
}

}  // namespace

grpc::ServerUnaryReactor* AuditService::GetTreeHead(
    grpc::CallbackServerContext* context, const v1::GetTreeHeadRequest* request,
    v1::SignedTreeHead* response) {
  return Run(context, access_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(TreeSigner * signer, signer_->Get());
    storage::v1::SignedTreeHeadRecord h;
    if (request->fresh()) {
      ASSIGN_OR_RETURN(h, signer->SignNow());
    } else if (request->tree_size() != 0) {
      ASSIGN_OR_RETURN(h, signer->ForSize(request->tree_size()));
    } else {
      ASSIGN_OR_RETURN(h, signer->Latest());
    }
    ToApi(h, response);
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditService::GetInclusionProof(
    grpc::CallbackServerContext* context,
    const v1::GetInclusionProofRequest* request, v1::InclusionProof* response) {
  return Run(context, access_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    ASSIGN_OR_RETURN(uint64_t size, SizeOf(request->tree_size(), signer_, log));
    if (request->position() == 0 || request->position() > size) {
      return absl::InvalidArgumentError(absl::StrCat(
          "position ", request->position(), " is not in a tree of ", size,
          " events (positions 1 .. ", size, ")"));
    }
    storage::LogTree tree(log);
    ASSIGN_OR_RETURN(
        std::vector<std::string> path,
        merkle::InclusionProof(tree, request->position() - 1, size));
    ASSIGN_OR_RETURN(std::string data, log->RawRecord(request->position()));
    response->set_position(request->position());
    response->set_leaf_index(request->position() - 1);
    response->set_tree_size(size);
    response->set_leaf_hash(merkle::LeafHash(data));
    response->set_leaf_data(std::move(data));
    for (std::string& h : path) response->add_audit_path(std::move(h));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditService::GetConsistencyProof(
    grpc::CallbackServerContext* context,
    const v1::GetConsistencyProofRequest* request,
    v1::ConsistencyProof* response) {
  return Run(context, access_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    ASSIGN_OR_RETURN(uint64_t second,
                     SizeOf(request->second_tree_size(), signer_, log));
    if (request->first_tree_size() > second) {
      return absl::InvalidArgumentError(
          absl::StrCat("first_tree_size ", request->first_tree_size(),
                       " is larger than second_tree_size ", second));
    }
    storage::LogTree tree(log);
    ASSIGN_OR_RETURN(
        std::vector<std::string> hashes,
        merkle::ConsistencyProof(tree, request->first_tree_size(), second));
    response->set_first_tree_size(request->first_tree_size());
    response->set_second_tree_size(second);
    for (std::string& h : hashes) response->add_hashes(std::move(h));
    return absl::OkStatus();
  });
}

grpc::ServerUnaryReactor* AuditService::ExportEvents(
    grpc::CallbackServerContext* context,
    const v1::ExportEventsRequest* request,
    v1::ExportEventsResponse* response) {
  return Run(context, access_, [&]() -> absl::Status {
    ASSIGN_OR_RETURN(storage::EventLog * log, store_->Get());
    ASSIGN_OR_RETURN(TreeSigner * signer, signer_->Get());
    storage::v1::SignedTreeHeadRecord head;
    if (request->tree_size() == 0) {
      ASSIGN_OR_RETURN(head, signer->SignNow());
    } else {
      ASSIGN_OR_RETURN(head, signer->ForSize(request->tree_size()));
    }
    const uint64_t size = head.tree_size();
    const uint64_t from = std::max<uint64_t>(request->from_position(), 1);
    const uint64_t to =
        request->to_position() == 0 ? size : request->to_position();
    const uint32_t page =
        request->page_size() == 0 ? 500 : request->page_size();
    if (page > 5000) {
      return absl::InvalidArgumentError("page_size: at most 5,000");
    }
    if (to > size || from > to + 1) {
      return absl::InvalidArgumentError(
          absl::StrCat("the range ", from, " .. ", to,
                       " is not within the tree head's ", size, " events"));
    }
    std::shared_ptr<const projections::Projection> hold;
    if (!request->subtree_unit_id().empty()) {
      ASSIGN_OR_RETURN(ProjectionStore * store, projections_->Get());
      hold = store->Get();
    }
    ASSIGN_OR_RETURN(
        EventFilter filter,
        EventFilter::Make({}, request->subtree_unit_id(), hold.get(), ""));
    ToApi(head, response->mutable_head());
    storage::LogTree tree(log);
    uint64_t next = from;
    while (next <= to &&
           static_cast<uint32_t>(response->events_size()) < page) {
      ASSIGN_OR_RETURN(std::vector<storage::Record> records,
                       log->ReadAll(next, storage::Direction::kForward,
                                    std::min<uint64_t>(page, to - next + 1)));
      if (records.empty()) break;
      for (storage::Record& r : records) {
        next = r.position + 1;
        const uint64_t position = r.position;
        v1::ExportedEvent e;
        RETURN_IF_ERROR(ToRecordedEvent(std::move(r), e.mutable_event()));
        if (!filter.PassesSubtree(e.event().event(), hold.get())) continue;
        ASSIGN_OR_RETURN(std::string data, log->RawRecord(position));
        e.set_leaf_hash(merkle::LeafHash(data));
        e.set_leaf_data(std::move(data));
        ASSIGN_OR_RETURN(std::vector<std::string> path,
                         merkle::InclusionProof(tree, position - 1, size));
        for (std::string& h : path) e.add_audit_path(std::move(h));
        *response->add_events() = std::move(e);
        if (static_cast<uint32_t>(response->events_size()) >= page) break;
      }
    }
    response->set_next_position(next <= to ? next : 0);
    return absl::OkStatus();
  });
}

}  // namespace nenep::services
