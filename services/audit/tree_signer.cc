#include "services/audit/tree_signer.h"

#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_tree.h"

namespace nenep::services {
namespace {

constexpr char kPrefix[] = "sth/";

std::string Key(uint64_t size) {
  return absl::StrCat(kPrefix, EncodeFixed64BE(size));
}

}  // namespace

TreeSigner::TreeSigner(storage::EventLog* log,
                       std::unique_ptr<merkle::SigningKey> key,
                       absl::Duration interval)
    : log_(log), key_(std::move(key)), interval_(interval) {}

absl::StatusOr<std::unique_ptr<TreeSigner>> TreeSigner::Start(
    storage::EventLog* log, std::unique_ptr<merkle::SigningKey> key,
    absl::Duration interval) {
  std::unique_ptr<TreeSigner> s(new TreeSigner(log, std::move(key), interval));
  // The latest kept head (the keys sort by size).
  absl::Status parse;
  RETURN_IF_ERROR(
      log->ScanState(kPrefix, [&](absl::string_view, absl::string_view value) {
        absl::MutexLock lock(&s->mu_);
        if (!s->latest_.ParseFromArray(value.data(),
                                       static_cast<int>(value.size()))) {
          parse = absl::DataLossError("a kept tree head does not parse");
        }
      }));
  RETURN_IF_ERROR(parse);
  RETURN_IF_ERROR(s->SignNow().status());
  logging::Info("signing Merkle tree heads",
                {{"key_id", merkle::KeyId(s->public_key())},
                 {"interval_s", absl::ToInt64Seconds(interval)}});
  TreeSigner* raw = s.get();
  s->thread_ = std::thread([raw] { raw->Loop(); });
  return s;
}

TreeSigner::~TreeSigner() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
  }
  if (thread_.joinable()) thread_.join();
}

void TreeSigner::Loop() {
  absl::MutexLock lock(&mu_);
  while (true) {
    auto stop = [this]()
                    ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) { return stopping_; };
    if (mu_.AwaitWithTimeout(absl::Condition(&stop), interval_)) return;
    const uint64_t size = log_->TreeSize();
    if (size == latest_.tree_size()) continue;
    absl::StatusOr<storage::v1::SignedTreeHeadRecord> s = Sign(size);
    if (!s.ok()) {
      logging::Error("cannot sign the Merkle tree head",
                     {{"tree_size", size}, {"error", s.status()}});
    }
  }
}

absl::StatusOr<storage::v1::SignedTreeHeadRecord> TreeSigner::Sign(
    uint64_t size) {
  storage::LogTree tree(log_);
  ASSIGN_OR_RETURN(std::string root, merkle::Root(tree, size));
  storage::v1::SignedTreeHeadRecord h;
  h.set_tree_size(size);
  h.set_root_hash(root);
  // Never earlier than the previous head's time.
  h.set_timestamp_micros(
      std::max(absl::ToUnixMicros(absl::Now()), latest_.timestamp_micros()));
  h.set_signature(key_->Sign(
      merkle::TreeHeadBytes(size, h.timestamp_micros(), h.root_hash())));
  h.set_public_key(key_->public_key());
  if (size != latest_.tree_size() || latest_.signature().empty()) {
    RETURN_IF_ERROR(log_->WriteState(
        {storage::StateWrite{Key(size), h.SerializeAsString()}},
        /*sync=*/true));
    latest_ = h;
  }
  return h;
}

absl::StatusOr<storage::v1::SignedTreeHeadRecord> TreeSigner::SignNow() {
  const uint64_t head = log_->Head();
  const uint64_t size = log_->AwaitTree(head, absl::Seconds(30));
  if (size < head) {
    return absl::UnavailableError(absl::StrCat("the Merkle tree has hashed ",
                                               size, " of ", head,
                                               " events; retry shortly"));
  }
  absl::MutexLock lock(&mu_);
  if (size == latest_.tree_size() && !latest_.signature().empty()) {
    return latest_;
  }
  return Sign(size);
}

absl::StatusOr<storage::v1::SignedTreeHeadRecord> TreeSigner::Latest() const {
  absl::MutexLock lock(&mu_);
  return latest_;
}

absl::StatusOr<storage::v1::SignedTreeHeadRecord> TreeSigner::ForSize(
    uint64_t tree_size) const {
  storage::v1::SignedTreeHeadRecord h;
  bool found = false;
  RETURN_IF_ERROR(log_->ScanState(
      Key(tree_size), [&](absl::string_view, absl::string_view value) {
        found = h.ParseFromArray(value.data(), static_cast<int>(value.size()));
      }));
  if (!found) {
    return absl::NotFoundError(
        absl::StrCat("no tree head was signed for size ", tree_size,
                     " (ask for the latest, or fresh=true to sign one now)"));
  }
  return h;
}

}  // namespace nenep::services
