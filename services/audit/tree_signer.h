// File: services/audit/tree_signer.h
//
// Signs heads of the log's Merkle tree with the server's Ed25519 key and
// keeps them in the log's state keyspace ("sth/" Fixed64BE(size)): at
// start, every `interval` while the tree grows, and on request. Auditors
// keep signed heads; later proofs are checked against them.
#pragma once

#include <memory>
#include <string>
#include <thread>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "nenep/storage/v1/records.pb.h"
#include "storage/audit/signing.h"
#include "storage/log/event_log.h"

namespace nenep::services {

class TreeSigner {
 public:
  // `log` must outlive the signer. Signs the current tree, then every
  // `interval` if it grew.
  static absl::StatusOr<std::unique_ptr<TreeSigner>> Start(
      storage::EventLog* log, std::unique_ptr<merkle::SigningKey> key,
      absl::Duration interval);
  ~TreeSigner();  // stops the thread

  // Waits for the tree to cover every event committed before the call,
  // signs it and keeps the head.
  absl::StatusOr<storage::v1::SignedTreeHeadRecord> SignNow()
      ABSL_LOCKS_EXCLUDED(mu_);
  // The latest signed head.
  absl::StatusOr<storage::v1::SignedTreeHeadRecord> Latest() const
      ABSL_LOCKS_EXCLUDED(mu_);
  // The head signed for `tree_size`; kNotFound if none was.
  absl::StatusOr<storage::v1::SignedTreeHeadRecord> ForSize(
      uint64_t tree_size) const;

  const std::string& public_key() const { return key_->public_key(); }

 private:
  TreeSigner(storage::EventLog* log, std::unique_ptr<merkle::SigningKey> key,
             absl::Duration interval);
  absl::StatusOr<storage::v1::SignedTreeHeadRecord> Sign(uint64_t size)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  void Loop();

  storage::EventLog* const log_;
  const std::unique_ptr<merkle::SigningKey> key_;
  const absl::Duration interval_;
  mutable absl::Mutex mu_;
  storage::v1::SignedTreeHeadRecord latest_ ABSL_GUARDED_BY(mu_);
  bool stopping_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;
};

}  // namespace nenep::services
