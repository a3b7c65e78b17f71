// File: services/groups/groups_service.h
//
// nenep.v1.ConsumerGroups over a GroupManager. Pull with wait_ms answers
// at once when events are deliverable, else polls the manager (every 20 ms,
// on a gRPC alarm: no thread is held while a member waits) until one is or
// the wait ends.
#pragma once

#include "absl/status/statusor.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/common/store.h"
#include "services/groups/group_manager.h"

namespace nenep::services {

// The consumer groups the services use; null until the store is open.
using GroupsHandle = Handle<GroupManager>;

class ConsumerGroupsService final : public v1::ConsumerGroups::CallbackService {
 public:
  // `access` (nullable: every caller may) must outlive the service.
  explicit ConsumerGroupsService(const GroupsHandle* groups,
                                 AccessControl* access = nullptr)
      : groups_(groups), access_(access) {}

  grpc::ServerUnaryReactor* CreateGroup(grpc::CallbackServerContext* context,
                                        const v1::CreateGroupRequest* request,
                                        v1::ConsumerGroup* response) override;
  grpc::ServerUnaryReactor* GetGroup(grpc::CallbackServerContext* context,
                                     const v1::GetGroupRequest* request,
                                     v1::ConsumerGroup* response) override;
  grpc::ServerUnaryReactor* ListGroups(
      grpc::CallbackServerContext* context,
      const v1::ListGroupsRequest* request,
      v1::ListGroupsResponse* response) override;
  grpc::ServerUnaryReactor* DeleteGroup(
      grpc::CallbackServerContext* context,
      const v1::DeleteGroupRequest* request,
      v1::DeleteGroupResponse* response) override;
  grpc::ServerUnaryReactor* Pull(grpc::CallbackServerContext* context,
                                 const v1::PullRequest* request,
                                 v1::PullResponse* response) override;
  grpc::ServerUnaryReactor* Ack(grpc::CallbackServerContext* context,
                                const v1::AckRequest* request,
                                v1::AckResponse* response) override;
  grpc::ServerUnaryReactor* Nack(grpc::CallbackServerContext* context,
                                 const v1::NackRequest* request,
                                 v1::NackResponse* response) override;
  grpc::ServerUnaryReactor* ListParked(
      grpc::CallbackServerContext* context,
      const v1::ListParkedRequest* request,
      v1::ListParkedResponse* response) override;
  grpc::ServerUnaryReactor* ReplayParked(
      grpc::CallbackServerContext* context,
      const v1::ReplayParkedRequest* request,
      v1::ReplayParkedResponse* response) override;

 private:
  const GroupsHandle* const groups_;
  AccessControl* const access_;
};

}  // namespace nenep::services
