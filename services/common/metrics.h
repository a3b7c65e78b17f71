// File: services/common/metrics.h
//
// The server's Prometheus metrics (served by nenepd on --metrics_listen):
//   nenep_rpc_requests_total{rpc,code}        RPCs answered, by status code
//   nenep_rpc_latency_seconds{rpc}            time from request to answer
//   nenep_events_appended_total               events made durable
//   nenep_commit_groups_total                 durable writes (group commits)
//   nenep_commit_failures_total               group writes that failed
//   nenep_commit_latency_seconds              time of one durable write
//   nenep_commit_group_events                 events per durable write
//   nenep_commit_group_requests               append requests per write
//   nenep_log_head_position                   last committed position
//   nenep_store_up                            1 while the store serves, 0
//                                             while it is being reopened
//   nenep_store_reopens_total                 reopens after a failed write
// Thread-safe.
#pragma once

#include <array>
#include <atomic>
#include <memory>

#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "grpcpp/support/status_code_enum.h"
#include "prometheus/counter.h"
#include "prometheus/family.h"
#include "prometheus/gauge.h"
#include "prometheus/histogram.h"
#include "prometheus/registry.h"
#include "storage/log/event_log.h"

namespace nenep::services {

enum class Rpc {
  kAppend,
  kBatchAppend,
  kReadAll,
  kReadStream,
  kGetEvent,
  kGetStatus,
  kCreateBackup,
  kCount,  // not an RPC
};

const char* RpcName(Rpc rpc);

class Metrics final : public storage::CommitListener {
 public:
  Metrics();

  std::shared_ptr<prometheus::Registry> registry() const { return registry_; }

  void RpcDone(Rpc rpc, grpc::StatusCode code, absl::Duration latency);
  void SetHead(storage::Position head);
  // The store failed (up = false) or serves again after a reopen.
  void SetStoreUp(bool up);

  // storage::CommitListener
  void OnCommit(storage::Position first, storage::Position last,
                size_t requests, absl::Duration commit_latency) override;
  void OnCommitFailed(const absl::Status& status) override;

 private:
  static constexpr int kRpcs = static_cast<int>(Rpc::kCount);
  static constexpr int kCodes = 17;

  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>* requests_family_;
  absl::Mutex add_mu_;  // serializes lazy creation of request counters
  std::array<std::array<std::atomic<prometheus::Counter*>, kCodes>, kRpcs>
      requests_{};
  std::array<prometheus::Histogram*, kRpcs> rpc_latency_{};
  prometheus::Counter* events_appended_;
  prometheus::Counter* commit_groups_;
  prometheus::Counter* commit_failures_;
  prometheus::Histogram* commit_latency_;
  prometheus::Histogram* group_events_;
  prometheus::Histogram* group_requests_;
  prometheus::Gauge* head_;
  prometheus::Gauge* store_up_;
  prometheus::Counter* store_reopens_;
};

}  // namespace nenep::services
