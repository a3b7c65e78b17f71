// File: services/subscribe/subscription_service.h
//
// nenep.v1.Subscriptions: server-streaming subscriptions that read the log
// from a position and follow its durable head. Each subscriber is served by
// its own thread that reads pages of the log and writes them one event at a
// time (the stream's flow control is the backpressure); nothing per
// subscriber is buffered beyond one page, and appends never wait for it.
#pragma once

#include <atomic>
#include <map>
#include <string>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

#include "nenep/v1/subscribe.grpc.pb.h"
#include "services/auth/access_control.h"
#include "services/common/store.h"
#include "services/query/query_service.h"
#include "services/subscribe/head_watch.h"

namespace nenep::services {

class SubscriptionService final : public v1::Subscriptions::CallbackService {
 public:
  // All must outlive the service.
  // `access` (nullable: every caller sees everything) must outlive it.
  SubscriptionService(const StoreHandle* store,
                      const ProjectionHandle* projections, HeadWatch* head,
                      AccessControl* access = nullptr);

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

  grpc::ServerUnaryReactor* ListSubscribers(
      grpc::CallbackServerContext* context,
      const v1::ListSubscribersRequest* request,
      v1::ListSubscribersResponse* response) override;

  // Subscriptions being served.
  int active() const { return active_.load(); }

  // How far each subscription being served has read (lag against `head`,
  // lag_seconds left 0: the caller fills it in if it can).
  std::vector<v1::Subscriber> Subscribers() const ABSL_LOCKS_EXCLUDED(mu_);

  // What a subscription publishes of its progress.
  struct Progress {
    uint64_t id = 0;
    std::string peer;
    absl::Time started_at;
    v1::SubscribeRequest request;
    std::atomic<uint64_t> position{0};
    std::atomic<uint64_t> delivered{0};
    std::atomic<bool> live{false};
  };
  // For the subscriptions: publish `p` (it gets its id) until Unregister.
  void Register(Progress* p) ABSL_LOCKS_EXCLUDED(mu_);
  void Unregister(Progress* p) ABSL_LOCKS_EXCLUDED(mu_);

 private:
  const StoreHandle* store_;
  const ProjectionHandle* projections_;
  HeadWatch* head_;
  AccessControl* const access_;
  std::atomic<int> active_{0};
  mutable absl::Mutex mu_;
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 1;
  std::map<uint64_t, Progress*> subscribers_ ABSL_GUARDED_BY(mu_);
};

}  // namespace nenep::services
