#include "services/server/server.h"

#include <algorithm>
#include <fstream>
#include <iterator>
#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "grpc/grpc_security_constants.h"
#include "grpcpp/ext/proto_server_reflection_plugin.h"
#include "grpcpp/health_check_service_interface.h"
#include "grpcpp/resource_quota.h"
#include "grpcpp/security/server_credentials.h"
#include "grpcpp/server.h"
#include "grpcpp/server_builder.h"
#include "prometheus/collectable.h"
#include "prometheus/exposer.h"
#include "prometheus/metric_family.h"
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

// Lag and progress of consumer groups and subscribers, computed when
// Prometheus scrapes:
//   nenep_group_checkpoint_position{group}   acked or parked up to here
//   nenep_group_lag_events{group}            head - checkpoint
//   nenep_group_lag_seconds{group}           age of the oldest unacked event
//   nenep_group_in_flight{group}             delivered, not yet acked
//   nenep_group_redeliveries_total{group}    deliveries after the first
//   nenep_group_parked{group}                parked (dead-letter) events
//   nenep_subscribers                        subscriptions being served
//   nenep_subscriber_position{subscriber}    read up to here
//   nenep_subscriber_lag_events{subscriber}  head - position
class LagMetrics final : public prometheus::Collectable {
 public:
  LagMetrics(const GroupsHandle* groups, const SubscriptionService* subs)
      : groups_(groups), subs_(subs) {}

  static constexpr size_t kFamilies = 9;

  std::vector<prometheus::MetricFamily> Collect() const override {
    using prometheus::MetricType;
    std::vector<prometheus::MetricFamily> out;
    out.reserve(kFamilies);  // family() hands out references into it
    auto family = [&out](const char* name, const char* help,
                         MetricType type) -> prometheus::MetricFamily& {
      out.push_back({name, help, type, {}});
      return out.back();
    };
    auto add = [](prometheus::MetricFamily& f, const char* label,
                  const std::string& value, double v) {
      prometheus::ClientMetric m;
      if (label != nullptr) m.label.push_back({label, value});
      if (f.type == MetricType::Counter) {
        m.counter.value = v;
      } else {
        m.gauge.value = v;
      }
      f.metric.push_back(std::move(m));
    };
    absl::StatusOr<GroupManager*> groups = groups_->Get();
    absl::StatusOr<std::vector<v1::ConsumerGroup>> list =
        groups.ok()
            ? (*groups)->List()
            : absl::StatusOr<std::vector<v1::ConsumerGroup>>(groups.status());
    if (list.ok()) {
      auto& checkpoint =
          family("nenep_group_checkpoint_position",
                 "Every matching event up to here is acked or parked",
                 MetricType::Gauge);
      auto& lag =
          family("nenep_group_lag_events",
                 "Log head minus the group's checkpoint", MetricType::Gauge);
      auto& lag_s = family("nenep_group_lag_seconds",
                           "Age of the oldest matching event not yet acked",
                           MetricType::Gauge);
      auto& in_flight =
          family("nenep_group_in_flight", "Events delivered and not yet acked",
                 MetricType::Gauge);
      auto& redeliveries =
          family("nenep_group_redeliveries_total",
                 "Deliveries after the first, since the server started",
                 MetricType::Counter);
      auto& parked = family("nenep_group_parked", "Parked (dead-letter) events",
                            MetricType::Gauge);
      for (const v1::ConsumerGroup& g : *list) {
        const v1::GroupStats& s = g.stats();
        add(checkpoint, "group", g.name(), s.checkpoint());
        add(lag, "group", g.name(), s.lag_events());
        add(lag_s, "group", g.name(), s.lag_seconds());
        add(in_flight, "group", g.name(), s.in_flight());
        add(redeliveries, "group", g.name(), s.redeliveries());
        add(parked, "group", g.name(), s.parked());
      }
    }
    std::vector<v1::Subscriber> subs = subs_->Subscribers();
    add(family("nenep_subscribers", "Subscriptions being served",
               MetricType::Gauge),
        nullptr, "", subs.size());
    auto& position =
        family("nenep_subscriber_position",
               "The subscriber has read the log up to here", MetricType::Gauge);
    auto& lag =
        family("nenep_subscriber_lag_events",
               "Log head minus the subscriber's position", MetricType::Gauge);
    for (const v1::Subscriber& s : subs) {
      add(position, "subscriber", absl::StrCat(s.id()), s.position());
      add(lag, "subscriber", absl::StrCat(s.id()), s.lag_events());
    }
    return out;
  }

 private:
  const GroupsHandle* const groups_;
  const SubscriptionService* const subs_;
};

}  // namespace

Server::FailureWatch::FailureWatch(Server* server,
                                   storage::CommitListener* next)
    : server_(server), next_(next) {}

void Server::FailureWatch::OnCommit(storage::Position first,
                                    storage::Position last, size_t requests,
                                    absl::Duration latency) {
  next_->OnCommit(first, last, requests, latency);
}

void Server::FailureWatch::OnCommitFailed(const absl::Status& status) {
  next_->OnCommitFailed(status);
  if (fired_.exchange(true)) return;
  server_->StoreFailed(status);
}

void Server::StoreFailed(const absl::Status& status) {
  // After a failed write or sync only the WAL on disk tells what is
  // durable: stop serving, and let the recoverer reopen the store from it.
  logging::Error(
      "the store failed to write; nenepd stops serving and reopens the "
      "store from its write-ahead log once the fault clears",
      {{"error", status}});
  {
    // Under recover_mu_, so that a reopen finishing meanwhile cannot turn
    // the server back to SERVING after this failure.
    absl::MutexLock lock(&recover_mu_);
    ++failures_;
    last_failure_ = status;
    store_.DetachToReopen();
    metrics_.SetStoreUp(false);
    if (server_ != nullptr) {
      server_->GetHealthCheckService()->SetServingStatus(false);
    }
  }
  if (options_.on_store_failed) options_.on_store_failed(status);
}

void Server::RecoverLoop(storage::LogSlot* slot, ProjectionStore* projections) {
  for (;;) {
    uint64_t failures = 0;
    absl::Status failure;
    {
      absl::MutexLock lock(&recover_mu_);
      auto woken = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(recover_mu_) {
        return failures_ != recovered_ || stop_recovering_;
      };
      recover_mu_.Await(absl::Condition(&woken));
      if (stop_recovering_) return;
      failures = failures_;
      failure = last_failure_;
    }
    logging::Info("reopening the store from its write-ahead log",
                  {{"after", failure}});
    const absl::Time start = absl::Now();
    absl::Duration wait = absl::Milliseconds(100);
    for (int attempt = 1;; ++attempt) {
      absl::Status reopened = Reopen(slot, projections);
      if (reopened.ok()) {
        logging::Info(
            "the store is reopened and serving again",
            {{"attempts", attempt},
             {"head_position", slot->Head()},
             {"down_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
        break;
      }
      logging::Warn("the store cannot be reopened yet; retrying",
                    {{"attempt", attempt},
                     {"error", reopened},
                     {"retry_ms", absl::ToInt64Milliseconds(wait)}});
      absl::MutexLock lock(&recover_mu_);
      recover_mu_.AwaitWithTimeout(absl::Condition(&stop_recovering_), wait);
      if (stop_recovering_) return;
      wait = std::min(wait * 2, options_.reopen_interval);
    }
    const storage::Position head = slot->Head();
    metrics_.SetHead(head);
    head_watch_.Reset(head);
    {
      absl::MutexLock lock(&recover_mu_);
      if (stop_recovering_) return;
      // The reopened log failed as well: the next round reopens it again.
      if (failures_ != failures) continue;
      recovered_ = failures;
      metrics_.SetStoreUp(true);
      store_.Attach(slot);
      server_->GetHealthCheckService()->SetServingStatus(true);
    }
    if (options_.on_store_recovered) options_.on_store_recovered();
  }
}

absl::Status Server::Reopen(storage::LogSlot* slot,
                            ProjectionStore* projections) {
  // Out with the failed log (or the last attempt's), once no call is
  // inside it.
  if (std::shared_ptr<storage::EventLog> old = slot->Detach(
          "the store failed to write and is being reopened (see the server's "
          "log); retry with the same request_id shortly");
      old != nullptr) {
    const absl::Time start = absl::Now();
    storage::LogSlot::AwaitIdle(old);
    const absl::Time idle = absl::Now();
    absl::Status closed = old->Close();
    logging::Info(
        "the failed store is closed",
        {{"close_error", closed},
         {"idle_wait_ms", absl::ToInt64Milliseconds(idle - start)},
         {"close_ms", absl::ToInt64Milliseconds(absl::Now() - idle)}});
  }
  // The failed log is gone: whatever fails from here on is a new failure.
  failure_watch_.Rearm();
  storage::LogOptions log_options = options_.log;
  log_options.data_dir = options_.data_dir;
  log_options.listener = &failure_watch_;
  log_options.verify_tree_in_background = false;
  log_options.flush_on_open = true;
  ASSIGN_OR_RETURN(std::unique_ptr<storage::EventLog> fresh,
                   storage::OpenRocksDbEventLog(std::move(log_options)));
  // No append reaches it before the projections are rebuilt from it: the
  // services' handle stays detached until then.
  slot->Attach(std::move(fresh));
  // Opening may need no write to the WAL (a fault confined to it): check
  // that a synced write goes through before serving (storage/FORMAT.md,
  // key "probe").
  RETURN_IF_ERROR(slot->WriteState({{"probe", "", /*erase=*/true}}, true));
  if (projections != nullptr) RETURN_IF_ERROR(projections->Reload());
  return slot->AwaitTreeVerified();
}

namespace {

// The listener's credentials: TLS (mutual with a client CA) or, on loopback
// or when allowed, plaintext.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> Credentials(
    const ServerOptions& o) {
  if (o.tls_cert_file.empty() != o.tls_key_file.empty()) {
    return absl::InvalidArgumentError(
        "--tls_cert_file and --tls_key_file go together");
  }
  if (o.tls_cert_file.empty()) {
    if (!o.tls_client_ca_file.empty()) {
      return absl::InvalidArgumentError(
          "--tls_client_ca_file needs --tls_cert_file and --tls_key_file");
    }
    if (!IsLoopback(o.listen)) {
      if (!o.allow_plaintext) {
        return absl::FailedPreconditionError(
            absl::StrCat("refusing to listen without TLS on ", o.listen,
                         ", which is not loopback: give --tls_cert_file and "
                         "--tls_key_file, or --allow_plaintext"));
      }
      logging::Warn("listening without TLS on a non-loopback address",
                    {{"listen", o.listen}});
    }
    return grpc::InsecureServerCredentials();
  }
  auto read = [](const std::string& path,
                 const char* flag) -> absl::StatusOr<std::string> {
    std::ifstream in(path, std::ios::binary);
    std::string text((std::istreambuf_iterator<char>(in)), {});
    if (!in.good() && !in.eof()) text.clear();
    if (text.empty()) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot read ", path, " (", flag, ")"));
    }
    return text;
  };
  grpc::SslServerCredentialsOptions ssl;
  grpc::SslServerCredentialsOptions::PemKeyCertPair pair;
  ASSIGN_OR_RETURN(pair.cert_chain, read(o.tls_cert_file, "--tls_cert_file"));
  ASSIGN_OR_RETURN(pair.private_key, read(o.tls_key_file, "--tls_key_file"));
  ssl.pem_key_cert_pairs.push_back(std::move(pair));
  if (!o.tls_client_ca_file.empty()) {
    ASSIGN_OR_RETURN(ssl.pem_root_certs,
                     read(o.tls_client_ca_file, "--tls_client_ca_file"));
    // Without an access file a certificate is the only way in; with one,
    // a client may instead show a bearer token (and is refused if it has
    // neither). A certificate shown is always verified.
    ssl.client_certificate_request =
        o.access.auth_file.empty()
            ? GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY
            : GRPC_SSL_REQUEST_CLIENT_CERTIFICATE_AND_VERIFY;
  }
  logging::Info("TLS listener", {{"listen", o.listen},
                                 {"mutual", !o.tls_client_ca_file.empty()}});
  return grpc::SslServerCredentials(ssl);
}

}  // namespace

Server::Server(ServerOptions options) : options_(std::move(options)) {}

absl::Status Server::ReloadAccess() {
  if (access_ == nullptr || !access_->enabled()) {
    return absl::FailedPreconditionError("no access file (--auth_file)");
  }
  return access_->Reload();
}

Server::~Server() { Shutdown(absl::Seconds(5)).IgnoreError(); }

absl::StatusOr<std::unique_ptr<Server>> Server::Start(ServerOptions options) {
  ASSIGN_OR_RETURN(options.service.zone, VietnamTimeZone());
  std::unique_ptr<Server> s(new Server(std::move(options)));
  ServerOptions& o = s->options_;
  ASSIGN_OR_RETURN(s->lock_, DirLock::Acquire(o.data_dir));
  ASSIGN_OR_RETURN(s->access_,
                   AccessControl::Create(o.access, &s->projection_handle_));
  ASSIGN_OR_RETURN(std::shared_ptr<grpc::ServerCredentials> credentials,
                   Credentials(o));
  AccessControl* const access = s->access_.get();

  s->event_log_service_ = std::make_unique<EventLogService>(
      &s->store_, o.service, &s->metrics_, access);
  s->admin_service_ = std::make_unique<AdminService>(
      &s->store_,
      AdminServiceOptions{o.version, o.data_dir, absl::Now(),
                          &s->projection_handle_},
      &s->metrics_, access);

  if (!o.projections) s->projection_handle_.SetOff();
  s->query_service_ = std::make_unique<QueryService>(
      &s->projection_handle_,
      QueryServiceOptions{o.service.zone, o.service.clock}, access);
  s->projections_service_ =
      std::make_unique<ProjectionsService>(&s->projection_handle_, access);
  s->subscription_service_ = std::make_unique<SubscriptionService>(
      &s->store_, &s->projection_handle_, &s->head_watch_, access);
  s->groups_service_ =
      std::make_unique<ConsumerGroupsService>(&s->groups_handle_, access);
  s->snapshots_ = std::make_unique<SnapshotStore>(
      &s->projection_handle_, &s->store_,
      SnapshotOptions{o.service.zone, o.service.clock});
  s->snapshot_service_ =
      std::make_unique<SnapshotService>(s->snapshots_.get(), access);
  s->audit_service_ = std::make_unique<AuditService>(
      &s->store_, &s->signer_handle_, &s->projection_handle_, access);

  grpc::EnableDefaultHealthCheckService(true);
  grpc::reflection::InitProtoReflectionServerBuilderPlugin();
  grpc::ServerBuilder builder;
  builder.AddListeningPort(o.listen, credentials, &s->port_);
  builder.SetMaxReceiveMessageSize(o.max_request_bytes);
  grpc::ResourceQuota quota("nenepd");
  quota.Resize(o.grpc_memory_bytes);
  builder.SetResourceQuota(quota);
  builder.RegisterService(s->event_log_service_.get());
  builder.RegisterService(s->admin_service_.get());
  builder.RegisterService(s->query_service_.get());
  builder.RegisterService(s->projections_service_.get());
  builder.RegisterService(s->subscription_service_.get());
  builder.RegisterService(s->groups_service_.get());
  builder.RegisterService(s->audit_service_.get());
  builder.RegisterService(s->snapshot_service_.get());
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
    s->lag_metrics_ = std::make_shared<LagMetrics>(
        &s->groups_handle_, s->subscription_service_.get());
    s->exposer_->RegisterCollectable(s->lag_metrics_);
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
  log_options.listener = &failure_watch_;
  // The log is checked against its Merkle tree while the projections
  // replay; SERVING waits for both.
  log_options.verify_tree_in_background = true;
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
  log_ = std::make_unique<storage::LogSlot>(*std::move(log));
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
  if (absl::Status verified = log_->AwaitTreeVerified(); !verified.ok()) {
    open_status_ = verified;
    logging::Error(
        "the store does not match its Merkle tree; refusing to serve it "
        "(nenep verify --data_dir lists every difference)",
        {{"data_dir", options_.data_dir}, {"error", verified}});
    return;
  }
  // Consumer groups resume from their checkpoints (after the projections,
  // which answer their subtree filters).
  absl::StatusOr<std::unique_ptr<GroupManager>> groups =
      GroupManager::Open(log_.get(), &projection_handle_);
  if (!groups.ok()) {
    open_status_ = groups.status();
    logging::Error(
        "cannot load the consumer groups",
        {{"data_dir", options_.data_dir}, {"error", groups.status()}});
    return;
  }
  groups_ = *std::move(groups);
  groups_handle_.Attach(groups_.get());
  // Tree heads are signed from the start.
  const std::string key_path =
      options_.signing_key.empty()
          ? absl::StrCat(options_.data_dir, "/signing_key.pem")
          : options_.signing_key;
  absl::StatusOr<std::unique_ptr<merkle::SigningKey>> key =
      merkle::SigningKey::LoadOrCreate(key_path);
  absl::StatusOr<std::unique_ptr<TreeSigner>> signer =
      key.ok() ? TreeSigner::Start(log_.get(), *std::move(key),
                                   options_.sign_interval)
               : absl::StatusOr<std::unique_ptr<TreeSigner>>(key.status());
  if (!signer.ok()) {
    open_status_ = signer.status();
    logging::Error("cannot sign the log's tree heads",
                   {{"signing_key", key_path}, {"error", signer.status()}});
    return;
  }
  signer_ = *std::move(signer);
  signer_handle_.Attach(signer_.get());
  const storage::Position head = log_->Head();
  metrics_.SetHead(head);
  head_watch_.Reset(head);
  store_.Attach(log_.get());
  server_->GetHealthCheckService()->SetServingStatus(true);
  recoverer_ =
      std::thread([this, slot = log_.get(), projections = projections_.get()] {
        RecoverLoop(slot, projections);
      });
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
  {
    absl::MutexLock lock(&recover_mu_);
    stop_recovering_ = true;
  }
  logging::Info("shutting down: refusing new calls, finishing in-flight ones",
                {{"grace_ms", absl::ToInt64Milliseconds(grace)}});
  if (server_ != nullptr) {
    server_->GetHealthCheckService()->SetServingStatus(false);
    server_->Shutdown(absl::ToChronoTime(absl::Now() + grace));
  }
  if (opener_.joinable()) opener_.join();
  if (recoverer_.joinable()) recoverer_.join();
  store_.Detach();
  projection_handle_.Detach();
  groups_handle_.Detach();
  signer_handle_.Detach();
  absl::Status status;
  std::unique_ptr<storage::LogSlot> log;
  std::unique_ptr<ProjectionStore> projections;
  std::unique_ptr<GroupManager> groups;  // outlives server_->Wait()
  std::unique_ptr<TreeSigner> signer;
  {
    absl::MutexLock lock(&mu_);
    log = std::move(log_);
    projections = std::move(projections_);
    groups = std::move(groups_);
    signer = std::move(signer_);
  }
  if (groups != nullptr) groups->Close();
  signer.reset();  // before the log closes
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
