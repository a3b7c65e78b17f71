#include "services/server/server.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "prometheus/exposer.h"
#include "services/common/calendar.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"

namespace nenep::services {
namespace {

bool IsLoopback(const std::string& address) {
  return absl::StartsWith(address, "127.") ||
         absl::StartsWith(address, "localhost:") ||
         absl::StartsWith(address, "[::1]:") ||
         absl::StartsWith(address, "unix:");
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

Server::~Server() { Shutdown(absl::Seconds(5)).IgnoreError(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  ASSIGN_OR_RETURN(options.service.zone, VietnamTimeZone());
  std::unique_ptr<Server> s(new Server(std::move(options)));
  ServerOptions& o = s->options_;
  ASSIGN_OR_RETURN(s->lock_, DirLock::Acquire(o.data_dir));

  s->event_log_service_ =
      std::make_unique<EventLogService>(&s->store_, o.service, &s->metrics_);
  s->admin_service_ = std::make_unique<AdminService>(
      &s->store_,
      AdminServiceOptions{o.version, o.data_dir, absl::Now(),
                          &s->projection_handle_},
      &s->metrics_);

  if (!o.projections) s->projection_handle_.SetOff();
  s->query_service_ = std::make_unique<QueryService>(
      &s->projection_handle_,
      QueryServiceOptions{o.service.zone, o.service.clock});
  s->projections_service_ =
      std::make_unique<ProjectionsService>(&s->projection_handle_);
  s->subscription_service_ = std::make_unique<SubscriptionService>(
      &s->store_, &s->projection_handle_, &s->head_watch_);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  if (!IsLoopback(o.listen)) {
    logging::Warn("listening without TLS on a non-loopback address",
                  {{"listen", o.listen}});
  }
  builder.AddListeningPort(o.listen, grpc::InsecureServerCredentials(),
                           &s->port_);
  builder.SetMaxReceiveMessageSize(o.max_request_bytes);
  builder.RegisterService(s->event_log_service_.get());
  builder.RegisterService(s->admin_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->projections_service_.get());
  builder.RegisterService(s->subscription_service_.get());
  s->server_ = builder.BuildAndStart();
  if (s->server_ == nullptr || s->port_ == 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot listen on ", o.listen,
        " (is the address valid and the port free? see --listen)"));
  }
  s->server_->GetHealthCheckService()->SetServingStatus(false);

  if (!o.metrics_listen.empty()) {
    try {
      s->exposer_ = std::make_unique<prometheus::Exposer>(o.metrics_listen, 1);
    } catch (const std::exception& e) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot serve metrics on ", o.metrics_listen, ": ",
                       e.what(), " (see --metrics_listen)"));
    }
    s->exposer_->RegisterCollectable(s->metrics_.registry());
    std::vector<int> ports = s->exposer_->GetListeningPorts();
    s->metrics_port_ = ports.empty() ? 0 : ports.front();
  }
  logging::Info("listening", {{"address", o.listen},
                              {"port", s->port_},
                              {"metrics_port", s->metrics_port_},
                              {"data_dir", o.data_dir},
                              {"version", o.version}});
  Server* raw = s.get();
  s->opener_ = std::thread([raw] { raw->OpenStore(); });
  return s;
}

void Server::OpenStore() {
  if (options_.before_open_for_test) options_.before_open_for_test();
  const absl::Time start = absl::Now();
  storage::LogOptions log_options = options_.log;
  log_options.data_dir = options_.data_dir;
  log_options.listener = &head_watch_;
  absl::StatusOr<std::unique_ptr<storage::EventLog>> log =
      storage::OpenRocksDbEventLog(std::move(log_options));
  absl::MutexLock lock(&mu_);
  open_done_ = true;
  if (!log.ok()) {
    open_status_ = log.status();
    logging::Error("cannot open the store",
                   {{"data_dir", options_.data_dir}, {"error", log.status()}});
    return;
  }
  log_ = *std::move(log);
  if (shut_down_) return;
  // The projections replay the log before anything is served, then see
  // every append before it is written.
  if (options_.projections) {
    absl::StatusOr<std::unique_ptr<ProjectionStore>> projections =
        ProjectionStore::Open(log_.get());
    if (!projections.ok()) {
      open_status_ = projections.status();
      logging::Error(
          "cannot build the projections from the log",
          {{"data_dir", options_.data_dir}, {"error", projections.status()}});
      return;
    }
    projections_ = *std::move(projections);
    log_->SetCommitHook(projections_.get());
    projection_handle_.Attach(projections_.get());
  } else {
    logging::Warn(
        "projections are off: no referential checks on append, "
        "no queries (--projections=false)");
  }
  const storage::Position head = log_->Head();
  metrics_.SetHead(head);
  head_watch_.Reset(head);
  store_.Attach(log_.get());
  server_->GetHealthCheckService()->SetServingStatus(true);
  logging::Info("serving",
                {{"data_dir", options_.data_dir},
                 {"head_position", head},
                 {"open_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
}

absl::Status Server::WaitUntilServing() {
  absl::MutexLock lock(&mu_);
  mu_.Await(absl::Condition(&open_done_));
  return open_status_;
}

absl::Status Server::Shutdown(absl::Duration grace) {
  {
    absl::MutexLock lock(&mu_);
    if (shut_down_) return absl::OkStatus();
    shut_down_ = true;
  }
  if (server_ == nullptr) {  // Start() failed before serving anything
    lock_.reset();
    return absl::OkStatus();
  }
  logging::Info("shutting down: refusing new calls, finishing in-flight ones",
                {{"grace_ms", absl::ToInt64Milliseconds(grace)}});
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  if (opener_.joinable()) opener_.join();
  store_.Detach();
  projection_handle_.Detach();
  absl::Status status;
  std::unique_ptr<storage::EventLog> log;
  std::unique_ptr<ProjectionStore> projections;
  {
    absl::MutexLock lock(&mu_);
    log = std::move(log_);
    projections = std::move(projections_);
  }
  if (log != nullptr) {
    const storage::Position head = log->Head();
    status = log->Close();
    if (status.ok()) {
      logging::Info("store closed", {{"head_position", head}});
    } else {
      logging::Error("closing the store failed", {{"error", status}});
    }
  }
  if (server_ != nullptr) server_->Wait();
  exposer_.reset();
  lock_.reset();
  return status;
}

}  // namespace nenep::services
