// File: services/subscribe/subscription_service.h
//
// nenep.v1.Subscriptions: server-streaming subscriptions that read the log
// from a position and follow its durable head. Each subscriber is served by
// its own thread that reads pages of the log and writes them one event at a
// time (the stream's flow control is the backpressure); nothing per
// subscriber is buffered beyond one page, and appends never wait for it.
#pragma once

#include <atomic>

#include "nenep/v1/subscribe.grpc.pb.h"
#include "services/common/store.h"
#include "services/query/query_service.h"
#include "services/subscribe/head_watch.h"

namespace nenep::services {

class SubscriptionService final : public v1::Subscriptions::CallbackService {
 public:
  // All must outlive the service.
  SubscriptionService(const StoreHandle* store,
                      const ProjectionHandle* projections, HeadWatch* head);

  grpc::ServerWriteReactor<v1::SubscribeResponse>* Subscribe(
      grpc::CallbackServerContext* context,
      const v1::SubscribeRequest* request) override;

  // Subscriptions being served.
  int active() const { return active_.load(); }

 private:
  const StoreHandle* store_;
  const ProjectionHandle* projections_;
  HeadWatch* head_;
  std::atomic<int> active_{0};
};

}  // namespace nenep::services
