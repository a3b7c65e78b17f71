// The Merkle tree over the log (FORMAT.md, CF "merkle"), kept by the
// merkler thread behind a checkpoint: it hashes each committed record's
// stored bytes as a leaf and writes the new leaves and the complete nodes
// of levels 4 and up, with the tree size, in one batch per chunk.

#include <memory>
#include <utility>

#include "absl/strings/str_cat.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage::internal {
namespace {

constexpr size_t kChunk = 4096;  // leaves per batch written

}  // namespace

absl::Status RocksDbEventLog::InitTree(Position head) {
  uint64_t size = 0;
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), merkle_cf_,
                               AsSlice(kMerkleSizeKey), &value);
  if (s.ok()) {
    if (value.size() != 8) return absl::DataLossError("malformed tree size");
    size = DecodeFixed64BE(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the Merkle tree size");
  }
  if (size > head) {
    return absl::DataLossError(absl::StrCat(
        "the Merkle tree covers ", size, " events but the log ends at ", head,
        ": events were removed from the log"));
  }
  builder_ = std::make_unique<merkle::MerkleBuilder>();
  if (options_.verify_tree_on_open) {
    // Rehash every leaf and compare it, and every stored node above, with
    // what the tree holds; the builder ends up with the tree's right edge.
    const absl::Time start = absl::Now();
    std::unique_ptr<rocksdb::Iterator> it(
        db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
    Position p = 1;
    for (it->SeekToFirst(); p <= size; it->Next(), ++p) {
      Position at = 0;
      if (!it->Valid() || !ParseLogKey(AsView(it->key()), &at) || at != p) {
        return absl::DataLossError(absl::StrCat(
            "the log has no event at position ", p,
            " although its Merkle tree covers it: an event was removed"));
      }
      for (merkle::MerkleBuilder::NewNode& n :
           builder_->Add(merkle::LeafHash(AsView(it->value())))) {
        if (!IsStoredMerkleLevel(n.level)) continue;
        s = db_->Get(rocksdb::ReadOptions(), merkle_cf_,
                     AsSlice(MerkleNodeKey(n.level, n.index)), &value);
        if (!s.ok() || value != n.hash) {
          const Position first = (n.index << n.level) + 1;
          return absl::DataLossError(
              absl::StrCat("the event at position ", n.level == 0 ? p : first,
                           n.level == 0 ? "" : absl::StrCat(" .. ", p),
                           " does not match the Merkle tree (",
                           s.ok() ? "hash differs" : s.ToString(),
                           "): the store was altered behind nenep's back"));
        }
      }
    }
    RETURN_IF_ERROR(FromRocks(it->status(), "verifying the log"));
    logging::Info(
        "Merkle tree verified against the log",
        {{"tree_size", size},
         {"verify_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  } else {
    {
      absl::MutexLock lock(&tree_mu_);
      tree_size_ = size;  // TreeNode() reads within it
    }
    // The right edge: the last node of each level whose bit is set in size.
    std::vector<std::string> edge;
    for (int level = 0; (size >> level) != 0; ++level) {
      edge.emplace_back();
      if (((size >> level) & 1) != 0) {
        ASSIGN_OR_RETURN(edge.back(), TreeNode(level, (size >> level) - 1));
      }
    }
    builder_ = std::make_unique<merkle::MerkleBuilder>(size, std::move(edge));
  }
  absl::MutexLock lock(&tree_mu_);
  tree_size_ = size;
  return absl::OkStatus();
}

void RocksDbEventLog::MerklerLoop() {
  while (true) {
    Position head = 0;
    const uint64_t size = builder_->size();
    {
      absl::MutexLock lock(&view_mu_);
      auto more = [this, size]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(view_mu_) {
        return log_view_.head > size || merkle_stopping_.load();
      };
      view_mu_.AwaitWithTimeout(absl::Condition(&more),
                                absl::Milliseconds(500));
      head = log_view_.head;
    }
    if (head > size) {
      absl::Status s = ExtendTree(head);
      if (!s.ok()) {
        logging::Error("the Merkle tree stopped following the log",
                       {{"tree_size", builder_->size()}, {"error", s}});
        return;
      }
      continue;
    }
    if (merkle_stopping_.load()) return;
  }
}

absl::Status RocksDbEventLog::ExtendTree(Position head) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  Position p = builder_->size() + 1;
  rocksdb::WriteBatch batch;
  size_t in_batch = 0;
  for (it->Seek(AsSlice(LogKey(p))); p <= head; it->Next(), ++p) {
    Position at = 0;
    if (!it->Valid() || !ParseLogKey(AsView(it->key()), &at) || at != p) {
      RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
      return absl::DataLossError(
          absl::StrCat("the log has no event at position ", p));
    }
    for (merkle::MerkleBuilder::NewNode& n :
         builder_->Add(merkle::LeafHash(AsView(it->value())))) {
      if (IsStoredMerkleLevel(n.level)) {
        batch.Put(merkle_cf_, AsSlice(MerkleNodeKey(n.level, n.index)),
                  AsSlice(n.hash));
      }
    }
    if (++in_batch == kChunk || p == head) {
      batch.Put(merkle_cf_, AsSlice(kMerkleSizeKey),
                AsSlice(EncodeFixed64BE(p)));
      RETURN_IF_ERROR(FromRocks(db_->Write(rocksdb::WriteOptions(), &batch),
                                "writing the Merkle tree"));
      batch.Clear();
      in_batch = 0;
      absl::MutexLock lock(&tree_mu_);
      tree_size_ = p;
    }
  }
  return absl::OkStatus();
}

uint64_t RocksDbEventLog::TreeSize() const {
  absl::MutexLock lock(&tree_mu_);
  return tree_size_;
}

uint64_t RocksDbEventLog::AwaitTree(uint64_t size,
                                    absl::Duration timeout) const {
  absl::MutexLock lock(&tree_mu_);
  auto reached = [this, size]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(tree_mu_) {
    return tree_size_ >= size;
  };
  tree_mu_.AwaitWithTimeout(absl::Condition(&reached), timeout);
  return tree_size_;
}

absl::StatusOr<std::string> RocksDbEventLog::TreeNode(int level,
                                                      uint64_t index) const {
  if (level < 0 || level > 63 || ((index + 1) << level) > TreeSize() ||
      (index + 1) << level >> level != index + 1) {
    return absl::OutOfRangeError(absl::StrCat("Merkle node (", level, ", ",
                                              index, ") is beyond the tree's ",
                                              TreeSize(), " leaves"));
  }
  if (!IsStoredMerkleLevel(level)) {
    ASSIGN_OR_RETURN(std::string left, TreeNode(level - 1, 2 * index));
    ASSIGN_OR_RETURN(std::string right, TreeNode(level - 1, 2 * index + 1));
    return merkle::NodeHash(left, right);
  }
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), merkle_cf_,
                               AsSlice(MerkleNodeKey(level, index)), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree lost node (", level, ", ", index, ")"));
  }
  RETURN_IF_ERROR(FromRocks(s, "reading the Merkle tree"));
  return value;
}

absl::StatusOr<std::string> RocksDbEventLog::RawRecord(
    Position position) const {
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), log_cf_,
                               AsSlice(LogKey(position)), &value);
  if (s.IsNotFound()) {
    return absl::NotFoundError(
        absl::StrCat("no event is committed at position ", position));
  }
  RETURN_IF_ERROR(FromRocks(s, "reading the log"));
  return value;
}

}  // namespace nenep::storage::internal
