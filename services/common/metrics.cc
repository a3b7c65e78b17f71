#include "services/common/metrics.h"

#include <string>

#include "services/common/grpc_status.h"

namespace nenep::services {
namespace {

prometheus::Histogram::BucketBoundaries LatencyBuckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace

const char* RpcName(Rpc rpc) {
  switch (rpc) {
    case Rpc::kAppend:
      return "Append";
    case Rpc::kBatchAppend:
      return "BatchAppend";
    case Rpc::kReadAll:
      return "ReadAll";
    case Rpc::kReadStream:
      return "ReadStream";
    case Rpc::kGetEvent:
      return "GetEvent";
    case Rpc::kGetStatus:
      return "GetStatus";
    case Rpc::kCreateBackup:
      return "CreateBackup";
    case Rpc::kCount:
      break;
  }
  return "unknown";
}

Metrics::Metrics() : registry_(std::make_shared<prometheus::Registry>()) {
  requests_family_ = &prometheus::BuildCounter()
                          .Name("nenep_rpc_requests_total")
                          .Help("RPCs answered, by method and status code")
                          .Register(*registry_);
  auto& latency = prometheus::BuildHistogram()
                      .Name("nenep_rpc_latency_seconds")
                      .Help("Time from receiving an RPC to answering it")
                      .Register(*registry_);
  for (int i = 0; i < kRpcs; ++i) {
    rpc_latency_[i] =
        &latency.Add({{"rpc", RpcName(static_cast<Rpc>(i))}}, LatencyBuckets());
  }
  events_appended_ = &prometheus::BuildCounter()
                          .Name("nenep_events_appended_total")
                          .Help("Events made durable")
                          .Register(*registry_)
                          .Add({});
  commit_groups_ = &prometheus::BuildCounter()
                        .Name("nenep_commit_groups_total")
                        .Help("Durable writes of the committer (group commits)")
                        .Register(*registry_)
                        .Add({});
  commit_failures_ = &prometheus::BuildCounter()
                          .Name("nenep_commit_failures_total")
                          .Help(
                              "Group writes that failed; nothing of them "
                              "was acknowledged")
                          .Register(*registry_)
                          .Add({});
  commit_latency_ = &prometheus::BuildHistogram()
                         .Name("nenep_commit_latency_seconds")
                         .Help("Time of one durable write (WriteBatch + sync)")
                         .Register(*registry_)
                         .Add({}, LatencyBuckets());
  group_events_ = &prometheus::BuildHistogram()
                       .Name("nenep_commit_group_events")
                       .Help("Events per durable write")
                       .Register(*registry_)
                       .Add({}, prometheus::Histogram::BucketBoundaries{
                                    1, 2, 5, 10, 20, 50, 100, 200, 500, 1000,
                                    2000, 5000, 10000, 20000, 50000});
  group_requests_ = &prometheus::BuildHistogram()
                         .Name("nenep_commit_group_requests")
                         .Help("Append requests per durable write")
                         .Register(*registry_)
                         .Add({}, prometheus::Histogram::BucketBoundaries{
                                      1, 2, 4, 8, 16, 32, 64, 128, 256, 512});
  head_ = &prometheus::BuildGauge()
               .Name("nenep_log_head_position")
               .Help("Last committed position of the log")
               .Register(*registry_)
               .Add({});
  store_up_ = &prometheus::BuildGauge()
                   .Name("nenep_store_up")
                   .Help(
                       "1 while the store serves; 0 after a failed write "
                       "or sync, until it is reopened")
                   .Register(*registry_)
                   .Add({});
  store_up_->Set(1);
  store_reopens_ = &prometheus::BuildCounter()
                        .Name("nenep_store_reopens_total")
                        .Help(
                            "Times the store was reopened from its WAL "
                            "after a failed write or sync")
                        .Register(*registry_)
                        .Add({});
}

void Metrics::RpcDone(Rpc rpc, grpc::StatusCode code, absl::Duration latency) {
  const int r = static_cast<int>(rpc);
  int c = static_cast<int>(code);
  if (r < 0 || r >= kRpcs) return;
  if (c < 0 || c >= kCodes) c = static_cast<int>(grpc::StatusCode::UNKNOWN);
  prometheus::Counter* counter =
      requests_[r][c].load(std::memory_order_acquire);
  if (counter == nullptr) {
    absl::MutexLock lock(&add_mu_);
    counter = &requests_family_->Add(
        {{"rpc", RpcName(rpc)},
         {"code", GrpcCodeName(static_cast<grpc::StatusCode>(c))}});
    requests_[r][c].store(counter, std::memory_order_release);
  }
  counter->Increment();
  rpc_latency_[r]->Observe(absl::ToDoubleSeconds(latency));
}

void Metrics::SetHead(storage::Position head) {
  head_->Set(static_cast<double>(head));
}

void Metrics::SetStoreUp(bool up) {
  store_up_->Set(up ? 1 : 0);
  if (up) store_reopens_->Increment();
}

void Metrics::OnCommit(storage::Position first, storage::Position last,
                       size_t requests, absl::Duration commit_latency) {
  const double events = static_cast<double>(last - first + 1);
  events_appended_->Increment(events);
  commit_groups_->Increment();
  commit_latency_->Observe(absl::ToDoubleSeconds(commit_latency));
  group_events_->Observe(events);
  group_requests_->Observe(static_cast<double>(requests));
  head_->Set(static_cast<double>(last));
}

void Metrics::OnCommitFailed(const absl::Status& status) {
  commit_failures_->Increment();
}

}  // namespace nenep::services
