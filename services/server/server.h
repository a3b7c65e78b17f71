// File: services/server/server.h
//
// Assembly of nenepd, as a library so that tests run the real thing:
//
//   ASSIGN_OR_RETURN(auto server, Server::Start(options));  // listening
//   RETURN_IF_ERROR(server->WaitUntilServing());           // store open
//   ...
//   RETURN_IF_ERROR(server->Shutdown(absl::Seconds(30)));
//
// Health (grpc.health.v1) answers NOT_SERVING from the moment the port is
// bound until the store is open, SERVING then, and NOT_SERVING again once
// Shutdown begins. Reflection is on.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "services/admin/admin_service.h"
#include "services/audit/audit_service.h"
#include "services/auth/access_control.h"
#include "services/common/metrics.h"
#include "services/common/store.h"
#include "services/eventlog/event_log_service.h"
#include "services/groups/groups_service.h"
#include "services/query/query_service.h"
#include "services/snapshots/snapshot_service.h"
#include "services/subscribe/head_watch.h"
#include "services/subscribe/subscription_service.h"
#include "storage/common/dir_lock.h"
#include "storage/log/log_slot.h"
#include "storage/log/rocksdb_event_log.h"

namespace grpc {
class Server;
}
namespace prometheus {
class Collectable;
class Exposer;
}  // namespace prometheus

namespace nenep::services {

struct ServerOptions {
  // The store's directory. Default: ./data
  std::string data_dir = "./data";
  // gRPC address; port 0 picks a free port (see Server::port()).
  // Default: 127.0.0.1:50051
  std::string listen = "127.0.0.1:50051";
  // Prometheus /metrics address; empty turns metrics off.
  // Default: empty.
  std::string metrics_listen;
  // Largest request message accepted (gRPC answers RESOURCE_EXHAUSTED
  // beyond). Default: 64 MiB.
  int max_request_bytes = 64 << 20;
  // Memory gRPC may use for calls in progress (their messages and
  // buffers); beyond it, new calls are refused with RESOURCE_EXHAUSTED
  // instead of growing memory without bound. Default: 1 GiB.
  size_t grpc_memory_bytes = size_t{1} << 30;
  // Keep the hierarchy and rollup projections (referential checks on
  // append, the Query service). Default: true.
  bool projections = true;
  // The Ed25519 private key (PEM) that signs Merkle tree heads; made on
  // first start if missing. Default: <data_dir>/signing_key.pem
  std::string signing_key;
  // How often a new tree head is signed while the log grows. Default: 10 s.
  absl::Duration sign_interval = absl::Seconds(10);
  // TLS: the server's certificate chain and private key (PEM files), both
  // or neither. Default: none (plaintext).
  std::string tls_cert_file;
  std::string tls_key_file;
  // Mutual TLS: client certificates are verified against this CA (PEM);
  // without an access file every client must present one, with one a
  // client may show a bearer token instead. Needs the two above.
  // Default: none.
  std::string tls_client_ca_file;
  // Plaintext on an address that is not loopback is refused unless this is
  // set (and then logged as a warning). Default: false.
  bool allow_plaintext = false;
  // Principals, roles, scopes and limits (services/auth/access_control.h).
  AccessOptions access;
  EventLogServiceOptions service;  // `zone` is set by Start()
  storage::LogOptions log;         // `data_dir` and `listener` set by Start()
  std::string version = "dev";
  // Called from the log's thread when the store fails to write or sync (a
  // full disk, an I/O error): the server has stopped serving and refuses
  // appends. It then closes the store and reopens it from its write-ahead
  // log, retrying (every `reopen_interval` at most) until the fault clears;
  // on_store_recovered is called once it serves again.
  std::function<void(const absl::Status&)> on_store_failed;
  std::function<void()> on_store_recovered;
  // The longest wait between two attempts to reopen a failed store.
  // Default: 10 s.
  absl::Duration reopen_interval = absl::Seconds(10);
  // Runs on the opening thread before the store is opened; tests use it to
  // observe NOT_SERVING.
  std::function<void()> before_open_for_test;
};

class Server {
 public:
  // Locks the data directory, binds the ports and starts answering; the
  // store opens in the background. Fails if the directory is in use, the
  // time zone cannot be loaded or a port cannot be bound.
  static absl::StatusOr<std::unique_ptr<Server>> Start(ServerOptions options);

  ~Server();

  int port() const { return port_; }
  int metrics_port() const { return metrics_port_; }

  // Blocks until the store is open (OK) or failed to open (its error).
  absl::Status WaitUntilServing();

  // NOT_SERVING, then lets in-flight RPCs finish (cancelling what still runs
  // after `grace`), then commits what is queued and closes the store.
  // Idempotent.
  absl::Status Shutdown(absl::Duration grace);

  // Re-reads the access file (SIGHUP); the previous one stays on error.
  absl::Status ReloadAccess();

 private:
  explicit Server(ServerOptions options);
  void OpenStore();
  // From the log's thread: stop serving, wake the recoverer.
  void StoreFailed(const absl::Status& status) ABSL_LOCKS_EXCLUDED(recover_mu_);
  // The recoverer thread: after each failure, reopens the store until it
  // succeeds or the server shuts down.
  void RecoverLoop(storage::LogSlot* slot, ProjectionStore* projections)
      ABSL_LOCKS_EXCLUDED(recover_mu_);
  // One attempt: the fresh log attached, projections reloaded, tree checked.
  absl::Status Reopen(storage::LogSlot* slot, ProjectionStore* projections);

  // The log's listener: sees failed commits, then passes everything on.
  class FailureWatch final : public storage::CommitListener {
   public:
    FailureWatch(Server* server, storage::CommitListener* next);
    void OnCommit(storage::Position first, storage::Position last,
                  size_t requests, absl::Duration latency) override;
    void OnCommitFailed(const absl::Status& status) override;
    // The store was reopened: report the next failure again.
    void Rearm() { fired_.store(false); }

   private:
    Server* const server_;
    storage::CommitListener* const next_;
    std::atomic<bool> fired_{false};
  };

  ServerOptions options_;
  std::unique_ptr<DirLock> lock_;
  Metrics metrics_;
  HeadWatch head_watch_{&metrics_};  // feeds metrics_
  FailureWatch failure_watch_{this, &head_watch_};
  StoreHandle store_;
  ProjectionHandle projection_handle_;
  // Outlives the services, which check every call with it.
  std::unique_ptr<AccessControl> access_;
  std::unique_ptr<EventLogService> event_log_service_;
  std::unique_ptr<AdminService> admin_service_;
  std::unique_ptr<QueryService> query_service_;
  std::unique_ptr<ProjectionsService> projections_service_;
  std::unique_ptr<SubscriptionService> subscription_service_;
  GroupsHandle groups_handle_;
  SignerHandle signer_handle_;
  std::unique_ptr<AuditService> audit_service_;
  std::unique_ptr<SnapshotStore> snapshots_;
  std::unique_ptr<SnapshotService> snapshot_service_;
  std::unique_ptr<ConsumerGroupsService> groups_service_;
  std::shared_ptr<prometheus::Collectable> lag_metrics_;
  std::unique_ptr<grpc::Server> server_;
  std::unique_ptr<prometheus::Exposer> exposer_;
  int port_ = 0;
  int metrics_port_ = 0;
  std::thread opener_;
  std::thread recoverer_;

  absl::Mutex recover_mu_;
  // Failures seen (StoreFailed) and handled by a reopen (the recoverer).
  uint64_t failures_ ABSL_GUARDED_BY(recover_mu_) = 0;
  uint64_t recovered_ ABSL_GUARDED_BY(recover_mu_) = 0;
  absl::Status last_failure_ ABSL_GUARDED_BY(recover_mu_);
  bool stop_recovering_ ABSL_GUARDED_BY(recover_mu_) = false;

  absl::Mutex mu_;
  bool open_done_ ABSL_GUARDED_BY(mu_) = false;
  absl::Status open_status_ ABSL_GUARDED_BY(mu_);
  // What every service uses; its log is replaced when the store reopens.
  std::unique_ptr<storage::LogSlot> log_ ABSL_GUARDED_BY(mu_);
  // The log's commit hook: outlives the log's last commit.
  std::unique_ptr<ProjectionStore> projections_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<GroupManager> groups_ ABSL_GUARDED_BY(mu_);
  std::unique_ptr<TreeSigner> signer_ ABSL_GUARDED_BY(mu_);
  bool shut_down_ ABSL_GUARDED_BY(mu_) = false;
};

}  // namespace nenep::services
