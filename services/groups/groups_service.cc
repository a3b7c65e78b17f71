#include "services/groups/groups_service.h"

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "grpcpp/alarm.h"
#include "services/common/grpc_status.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

constexpr uint32_t kMaxWaitMs = 60000;
constexpr absl::Duration kPollEvery = absl::Milliseconds(20);

// Runs `body` (manager -> StatusOr<T>) and answers with its result.
// Consumer groups are for admins (access_control.h).
template <typename T, typename F>
grpc::ServerUnaryReactor* Run(grpc::CallbackServerContext* context,
                              AccessControl* access, const GroupsHandle* groups,
                              T* response, F body) {
  grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
  if (absl::StatusOr<Principal> who = Gate(access, *context, Need::kAdmin);
      !who.ok()) {
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  absl::StatusOr<GroupManager*> m = groups->Get();
  if (!m.ok()) {
    reactor->Finish(ToGrpcStatus(m.status()));
    return reactor;
  }
  absl::StatusOr<T> r = body(*m);
  if (r.ok()) *response = *std::move(r);
  reactor->Finish(ToGrpcStatus(r.status()));
  return reactor;
}

// A Pull that waits: tries, then tries again on an alarm until events come,
// the wait ends or the call is cancelled.
class PullReactor final : public grpc::ServerUnaryReactor {
 public:
  PullReactor(const GroupsHandle* groups, const v1::PullRequest* request,
              v1::PullResponse* response)
      : groups_(groups),
        request_(request),
        response_(response),
        until_(absl::Now() + absl::Milliseconds(request->wait_ms())) {
    Try();
  }

  void OnCancel() override { cancelled_.store(true); }
  void OnDone() override { delete this; }

 private:
  void Try() {
    absl::StatusOr<GroupManager*> m = groups_->Get();
    if (!m.ok()) {
      Finish(ToGrpcStatus(m.status()));
      return;
    }
    absl::StatusOr<v1::PullResponse> r = (*m)->Pull(*request_);
    if (!r.ok()) {
      Finish(ToGrpcStatus(r.status()));
      return;
    }
    const absl::Time now = absl::Now();
    if (r->deliveries_size() > 0 || now >= until_ || cancelled_.load()) {
      *response_ = *std::move(r);
      Finish(grpc::Status::OK);
      return;
    }
    alarm_.Set(absl::ToChronoTime(std::min(until_, now + kPollEvery)),
               [this](bool) { Try(); });
  }

  const GroupsHandle* const groups_;
  const v1::PullRequest* const request_;
  v1::PullResponse* const response_;
  const absl::Time until_;
  std::atomic<bool> cancelled_{false};
  grpc::Alarm alarm_;
};

}  // namespace

grpc::ServerUnaryReactor* ConsumerGroupsService::CreateGroup(
    grpc::CallbackServerContext* context, const v1::CreateGroupRequest* request,
    v1::ConsumerGroup* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->Create(*request); });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::GetGroup(
    grpc::CallbackServerContext* context, const v1::GetGroupRequest* request,
    v1::ConsumerGroup* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->Get(request->name()); });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::ListGroups(
    grpc::CallbackServerContext* context, const v1::ListGroupsRequest*,
    v1::ListGroupsResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) -> absl::StatusOr<v1::ListGroupsResponse> {
               ASSIGN_OR_RETURN(std::vector<v1::ConsumerGroup> groups,
                                m->List());
               v1::ListGroupsResponse out;
               for (v1::ConsumerGroup& g : groups) {
                 *out.add_groups() = std::move(g);
               }
               return out;
             });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::DeleteGroup(
    grpc::CallbackServerContext* context, const v1::DeleteGroupRequest* request,
    v1::DeleteGroupResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) -> absl::StatusOr<v1::DeleteGroupResponse> {
               RETURN_IF_ERROR(m->Delete(request->name()));
               return v1::DeleteGroupResponse();
             });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::Pull(
    grpc::CallbackServerContext* context, const v1::PullRequest* request,
    v1::PullResponse* response) {
  if (request->wait_ms() > kMaxWaitMs) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(absl::InvalidArgumentError(absl::StrCat(
        "wait_ms: ", request->wait_ms(), " is more than ", kMaxWaitMs))));
    return reactor;
  }
  if (absl::StatusOr<Principal> who = Gate(access_, *context, Need::kAdmin);
      !who.ok()) {
    grpc::ServerUnaryReactor* reactor = context->DefaultReactor();
    reactor->Finish(ToGrpcStatus(who.status()));
    return reactor;
  }
  if (request->wait_ms() == 0) {
    return Run(context, access_, groups_, response,
               [&](GroupManager* m) { return m->Pull(*request); });
  }
  return new PullReactor(groups_, request, response);
}

grpc::ServerUnaryReactor* ConsumerGroupsService::Ack(
    grpc::CallbackServerContext* context, const v1::AckRequest* request,
    v1::AckResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->Ack(*request); });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::Nack(
    grpc::CallbackServerContext* context, const v1::NackRequest* request,
    v1::NackResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->Nack(*request); });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::ListParked(
    grpc::CallbackServerContext* context, const v1::ListParkedRequest* request,
    v1::ListParkedResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->ListParked(*request); });
}

grpc::ServerUnaryReactor* ConsumerGroupsService::ReplayParked(
    grpc::CallbackServerContext* context,
    const v1::ReplayParkedRequest* request,
    v1::ReplayParkedResponse* response) {
  return Run(context, access_, groups_, response,
             [&](GroupManager* m) { return m->ReplayParked(*request); });
}

}  // namespace nenep::services
