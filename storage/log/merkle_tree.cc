// The Merkle tree over the log (FORMAT.md, CF "merkle"), kept by the
// merkler thread behind a checkpoint: it hashes each committed record's
// stored bytes as a leaf and writes the new leaves and the complete nodes
// of levels 4 and up, with the tree size, in one batch per chunk.

#include <cstring>
#include <deque>
#include <memory>
#include <thread>
#include <utility>

#include "absl/base/thread_annotations.h"
#include "absl/strings/str_cat.h"
#include "absl/synchronization/mutex.h"
#include "storage/common/coding.h"
#include "storage/common/logging.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage::internal {
namespace {

constexpr size_t kChunk = 4096;  // leaves per batch written
// Leaves waiting for the merkler before the syncer waits for it.
constexpr size_t kMaxMerkleLag = 500000;
// The merkler lets small groups gather this long (or until a chunk waits)
// so that it writes once per few milliseconds, not once per group of a few
// single-event appends. A reader waiting for the tree (AwaitTree) wakes it.
constexpr absl::Duration kMerkleDelay = absl::Milliseconds(5);

}  // namespace

absl::Status RocksDbEventLog::InitTree(Position head) {
  RETURN_IF_ERROR(DropV1Tree());
  uint64_t size = 0;
  std::string value, open;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               AsSlice(kMerkleSizeKey), &value);
  if (s.ok()) {
    if (value.size() != 8) return absl::DataLossError("malformed tree size");
    size = DecodeFixed64BE(value);
  } else if (!s.IsNotFound()) {
    return FromRocks(s, "reading the Merkle tree size");
  }
  // The leaves of the open block, which later ones extend.
  if (size % kMerkleLeavesPerBlock != 0) {
    s = db_->Get(rocksdb::ReadOptions(), meta_cf_, AsSlice(kMerkleOpenBlockKey),
                 &open);
    if (!s.ok() ||
        open.size() != (size % kMerkleLeavesPerBlock) * merkle::kHashBytes) {
      return absl::DataLossError("the Merkle tree lost its last leaves");
    }
  }
  {
    absl::MutexLock lock(&tree_mu_);
    tree_size_ = size;  // TreeNode() and VerifyTree() read within it
    open_leaves_ = open;
  }
  leaf_block_ = std::move(open);
  if (size > head) {
    return absl::DataLossError(absl::StrCat(
        "the Merkle tree covers ", size, " events but the log ends at ", head,
        ": events were removed from the log"));
  }
  if (options_.verify_tree_on_open && !options_.verify_tree_in_background) {
    // The verification rebuilds the right edge on the way.
    builder_ = std::make_unique<merkle::MerkleBuilder>();
    RETURN_IF_ERROR(VerifyTree(size, builder_.get()));
  } else {
    // The right edge: the last node of each level whose bit is set in size.
    std::vector<std::string> edge;
    for (int level = 0; (size >> level) != 0; ++level) {
      edge.emplace_back();
      if (((size >> level) & 1) != 0) {
        ASSIGN_OR_RETURN(edge.back(), TreeNode(level, (size >> level) - 1));
      }
    }
    builder_ = std::make_unique<merkle::MerkleBuilder>(size, std::move(edge));
    builder_root_at_open_ = builder_->Root();
    if (options_.verify_tree_on_open) {
      {
        absl::MutexLock lock(&verify_mu_);
        verify_done_ = false;
      }
      verifier_ = std::thread([this, size] {
        merkle::MerkleBuilder scratch;
        absl::Status s = VerifyTree(size, &scratch);
        if (s.ok() && scratch.size() == size &&
            scratch.Root() != builder_root_at_open_) {
          s = absl::DataLossError(
              "the Merkle tree's right edge does not match the log: the "
              "store was altered behind nenep's back");
        }
        absl::MutexLock lock(&verify_mu_);
        verify_status_ = s;
        verify_done_ = true;
      });
    }
  }
  // Events committed but not hashed before the last stop (normally none:
  // Close waits for the merkler).
  return ExtendTree(head);
}

absl::Status RocksDbEventLog::DropV1Tree() {
  // Format 1 keyed leaf blocks 'l'..., nodes 'n'... and "size" in CF
  // "merkle"; format 2's blocks are 'b'..., below them all.
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), merkle_cf_));
  it->Seek("l");
  const bool v1 = it->Valid();
  RETURN_IF_ERROR(FromRocks(it->status(), "reading the Merkle tree"));
  it.reset();
  if (!v1) return absl::OkStatus();
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), meta_cf_,
                               AsSlice(kMerkleSizeKey), &value);
  if (!s.IsNotFound()) {
    RETURN_IF_ERROR(FromRocks(s, "reading the Merkle tree size"));
    // A format-2 store never holds format-1 keys: someone added them, and
    // dropping the tree would erase the evidence of other changes.
    return absl::DataLossError(
        "the Merkle tree holds keys of format 1 beside its format-2 blocks: "
        "the store was altered behind nenep's back");
  }
  logging::Warn(
      "the Merkle tree is in format 1 (nenep before 2026-11-30): dropping "
      "it to rehash the log into format 2; the signed tree heads still "
      "attest the earlier roots (nenep verify checks them)");
  rocksdb::WriteBatch batch;
  // Every format-1 key: 'l'..., 'n'..., "size".
  batch.DeleteRange(merkle_cf_, "l", "t");
  rocksdb::WriteOptions wo;
  wo.sync = true;
  return FromRocks(db_->Write(wo, &batch), "dropping the format-1 tree");
}

namespace {

// Leaf hashes of consecutive positions, computed ahead of the check.
struct LeafChunk {
  std::string hashes;   // merkle::kHashBytes per leaf
  absl::Status status;  // set on the last chunk if reading failed
};

// Reads the log from position 1 to `size` and hashes its events into
// LeafChunks on a thread of its own, a bounded number ahead of the
// consumer: the verification's two halves (reading and leaf hashing; the
// comparison and the nodes above) then take a core each.
class LeafHasher {
 public:
  static constexpr size_t kChunkLeaves = 4096;
  static constexpr size_t kChunksAhead = 4;

  LeafHasher(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf,
             uint64_t size, const std::atomic<bool>* closing)
      : thread_([this, db, log_cf, size, closing] {
          Run(db, log_cf, size, closing);
        }) {}
  ~LeafHasher() {
    {
      absl::MutexLock lock(&mu_);
      stop_ = true;
    }
    thread_.join();
  }

  // The next chunk, in order; its status says why the log ended early.
  LeafChunk Next() {
    absl::MutexLock lock(&mu_);
    mu_.Await(absl::Condition(
        +[](std::deque<LeafChunk>* q) { return !q->empty(); }, &ready_));
    LeafChunk c = std::move(ready_.front());
    ready_.pop_front();
    return c;
  }

 private:
  void Run(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log_cf, uint64_t size,
           const std::atomic<bool>* closing) {
    // One pass over the whole log: large reads, and no block kept in the
    // cache that the live appends use.
    rocksdb::ReadOptions ro;
    ro.readahead_size = 4 << 20;
    ro.fill_cache = false;
    std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(ro, log_cf));
    it->SeekToFirst();
    Position p = 1;
    while (p <= size) {
      LeafChunk c;
      c.hashes.reserve(kChunkLeaves * merkle::kHashBytes);
      for (size_t n = 0; n < kChunkLeaves && p <= size; ++n, ++p, it->Next()) {
        Position at = 0;
        if (!it->Valid() || !ParseLogKey(AsView(it->key()), &at) || at != p) {
          c.status = absl::DataLossError(absl::StrCat(
              "the log has no event at position ", p,
              " although its Merkle tree covers it: an event was removed"));
          break;
        }
        c.hashes += merkle::LeafHash(AsView(it->value()));
      }
      if (c.status.ok())
        c.status = FromRocks(it->status(), "verifying the log");
      if (c.status.ok() && closing->load()) {
        c.status = absl::CancelledError("the store is closing");
      }
      const bool last = !c.status.ok();
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(this, &LeafHasher::RoomLocked));
      if (stop_) return;
      ready_.push_back(std::move(c));
      if (last) return;
    }
  }
  bool RoomLocked() const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
    return stop_ || ready_.size() < kChunksAhead;
  }

  absl::Mutex mu_;
  std::deque<LeafChunk> ready_ ABSL_GUARDED_BY(mu_);
  bool stop_ ABSL_GUARDED_BY(mu_) = false;
  std::thread thread_;  // last: starts once the rest is built
};

}  // namespace

absl::Status RocksDbEventLog::VerifyTree(uint64_t size,
                                         merkle::MerkleBuilder* builder) const {
  // Rehash every leaf and compare it, and every stored node above, with
  // what the tree holds.
  const absl::Time start = absl::Now();
  LeafHasher hasher(db_.get(), log_cf_, size, &merkle_closing_);
  LeafChunk chunk;
  size_t in_chunk = 0;
  std::string block;
  for (Position p = 1; p <= size; ++p) {
    if (in_chunk * merkle::kHashBytes == chunk.hashes.size()) {
      if (!chunk.status.ok()) return chunk.status;
      chunk = hasher.Next();
      in_chunk = 0;
      if (chunk.hashes.empty()) {
        return chunk.status.ok() ? absl::InternalError("no leaves to verify")
                                 : chunk.status;
      }
    }
    const absl::string_view leaf(
        chunk.hashes.data() + in_chunk * merkle::kHashBytes,
        merkle::kHashBytes);
    ++in_chunk;
    if ((p - 1) % kMerkleLeavesPerBlock == 0) {
      absl::StatusOr<std::string> b =
          BlockValue((p - 1) / kMerkleLeavesPerBlock);
      if (b.ok()) {
        block = *std::move(b);
      } else {
        block.clear();
      }
    }
    const size_t offset =
        ((p - 1) % kMerkleLeavesPerBlock) * merkle::kHashBytes;
    if (block.size() < offset + merkle::kHashBytes ||
        block.compare(offset, merkle::kHashBytes, leaf.data(), leaf.size()) !=
            0) {
      return absl::DataLossError(absl::StrCat(
          "the event at position ", p,
          " does not match the Merkle tree (its leaf differs): the store "
          "was altered behind nenep's back"));
    }
    absl::Status node_status;
    builder->Add(leaf, [&](int level, uint64_t index, absl::string_view h) {
      if (!IsStoredMerkleLevel(level) || !node_status.ok()) return;
      // A node is stored in the block that completes it: this one.
      const size_t at = MerkleNodeOffset(level);
      if (block.size() < at + merkle::kHashBytes ||
          block.compare(at, merkle::kHashBytes, h.data(), h.size()) != 0) {
        node_status = absl::DataLossError(absl::StrCat(
            "the events at positions ", (index << level) + 1, " .. ", p,
            " do not match the Merkle tree (node (", level, ", ", index, ") ",
            block.size() < at + merkle::kHashBytes ? "is missing" : "differs",
            "): the store was altered behind nenep's back"));
      }
    });
    RETURN_IF_ERROR(node_status);
  }
  logging::Info(
      "Merkle tree verified against the log",
      {{"tree_size", size},
       {"verify_ms", absl::ToInt64Milliseconds(absl::Now() - start)}});
  return absl::OkStatus();
}

absl::Status RocksDbEventLog::AwaitTreeVerified() const {
  absl::MutexLock lock(&verify_mu_);
  verify_mu_.Await(absl::Condition(&verify_done_));
  return verify_status_;
}

void RocksDbEventLog::EnqueueMerkle(Position first, std::string leaves) {
  if (leaves.empty()) return;
  absl::MutexLock lock(&merkle_mu_);
  auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(merkle_mu_) {
    return merkle_queued_ < kMaxMerkleLag || merkle_stopping_;
  };
  merkle_mu_.Await(absl::Condition(&room));
  // The merkler stopped on an error (logged): the tree no longer follows;
  // keep nothing for it.
  if (merkle_stopping_) return;
  merkle_queued_ += leaves.size() / merkle::kHashBytes;
  merkle_queue_.emplace_back(first, std::move(leaves));
}

void RocksDbEventLog::MerklerLoop() {
  while (true) {
    // Everything queued, in one write: under load groups pile up while the
    // previous batch is hashed, and fewer writes leave the log's write path
    // to the committer.
    std::deque<std::pair<Position, std::string>> chunks;
    {
      absl::MutexLock lock(&merkle_mu_);
      auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(merkle_mu_) {
        return !merkle_queue_.empty() || merkle_stopping_;
      };
      merkle_mu_.Await(absl::Condition(&ready));
      auto full = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(merkle_mu_) {
        return merkle_queued_ >= kChunk || merkle_stopping_ || merkle_wanted_;
      };
      merkle_mu_.AwaitWithTimeout(absl::Condition(&full), kMerkleDelay);
      if (merkle_queue_.empty()) return;  // stopping, and all hashed
      chunks.swap(merkle_queue_);
      merkle_queued_ = 0;
      merkle_wanted_ = false;
    }
    absl::Status s;
    std::vector<absl::string_view> views;
    Position next = builder_->size() + 1;
    for (const auto& [first, leaves] : chunks) {
      if (first != next) {
        s = absl::InternalError(
            absl::StrCat("the Merkle tree expected position ", next,
                         " but was handed position ", first));
        break;
      }
      views.push_back(leaves);
      next += leaves.size() / merkle::kHashBytes;
    }
    if (s.ok()) s = AddLeaves(views);
    if (!s.ok()) {
      logging::Error("the Merkle tree stopped following the log",
                     {{"tree_size", builder_->size()}, {"error", s}});
      absl::MutexLock lock(&merkle_mu_);
      merkle_queue_.clear();
      merkle_queued_ = 0;
      merkle_stopping_ = true;  // later groups are dropped, not hashed
      return;
    }
  }
}

absl::Status RocksDbEventLog::AddLeaves(
    const std::vector<absl::string_view>& runs) {
  size_t bytes = 0;
  for (absl::string_view run : runs) bytes += run.size();
  rocksdb::WriteBatch batch(bytes / merkle::kHashBytes * 40 + 1024);
  for (absl::string_view run : runs) {
    for (size_t at = 0; at + merkle::kHashBytes <= run.size();
         at += merkle::kHashBytes) {
      const absl::string_view leaf = run.substr(at, merkle::kHashBytes);
      leaf_block_.append(leaf.data(), leaf.size());
      // The nodes of levels 4 and up that this leaf completes, in level
      // order; only the last leaf of a block completes any.
      builder_->Add(leaf, [&](int level, uint64_t, absl::string_view h) {
        if (IsStoredMerkleLevel(level)) leaf_block_.append(h.data(), h.size());
      });
      if (builder_->size() % kMerkleLeavesPerBlock == 0) {
        batch.Put(merkle_cf_,
                  AsSlice(MerkleBlockKey(
                      builder_->size() / kMerkleLeavesPerBlock - 1)),
                  AsSlice(leaf_block_));
        leaf_block_.clear();
      }
    }
  }
  const uint64_t size = builder_->size();
  batch.Put(meta_cf_, AsSlice(kMerkleOpenBlockKey), AsSlice(leaf_block_));
  batch.Put(meta_cf_, AsSlice(kMerkleSizeKey), AsSlice(EncodeFixed64BE(size)));
  // No WAL: the tree is recomputed from the log past its last flushed size
  // (the column families are flushed together: atomic_flush).
  rocksdb::WriteOptions wo;
  wo.disableWAL = true;
  RETURN_IF_ERROR(FromRocks(db_->Write(wo, &batch), "writing the Merkle tree"));
  absl::MutexLock lock(&tree_mu_);
  tree_size_ = size;
  open_leaves_ = leaf_block_;
  return absl::OkStatus();
}

absl::Status RocksDbEventLog::ExtendTree(Position head) {
  std::unique_ptr<rocksdb::Iterator> it(
      db_->NewIterator(rocksdb::ReadOptions(), log_cf_));
  Position p = builder_->size() + 1;
  std::string leaves;
  for (it->Seek(AsSlice(LogKey(p))); p <= head; it->Next(), ++p) {
    Position at = 0;
    if (!it->Valid() || !ParseLogKey(AsView(it->key()), &at) || at != p) {
      RETURN_IF_ERROR(FromRocks(it->status(), "reading the log"));
      return absl::DataLossError(
          absl::StrCat("the log has no event at position ", p));
    }
    merkle::AppendLeafHash(AsView(it->value()), &leaves);
    if (leaves.size() == kChunk * merkle::kHashBytes || p == head) {
      RETURN_IF_ERROR(AddLeaves({leaves}));
      leaves.clear();
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
  if (TreeSize() < size) {
    absl::MutexLock lock(&merkle_mu_);
    merkle_wanted_ = true;  // write what is queued now
  }
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
  if (level == 0) return StoredLeaf(index);
  const uint64_t key = (static_cast<uint64_t>(level) << 58) | index;
  {
    absl::MutexLock lock(&node_cache_mu_);
    if (auto it = node_cache_.find(key); it != node_cache_.end()) {
      return std::string(it->second.data(), it->second.size());
    }
  }
  absl::StatusOr<std::string> node = ReadTreeNode(level, index);
  if (node.ok() && node->size() == merkle::kHashBytes) {
    absl::MutexLock lock(&node_cache_mu_);
    if (node_cache_.size() >= kNodeCacheEntries) node_cache_.clear();
    std::array<char, 32> hash;
    std::memcpy(hash.data(), node->data(), hash.size());
    node_cache_.emplace(key, hash);
  }
  return node;
}

absl::StatusOr<std::string> RocksDbEventLog::BlockValue(uint64_t block) const {
  {
    absl::MutexLock lock(&tree_mu_);
    if (block == tree_size_ / kMerkleLeavesPerBlock) return open_leaves_;
    if (block > tree_size_ / kMerkleLeavesPerBlock) {
      return absl::OutOfRangeError(absl::StrCat("Merkle block ", block,
                                                " is beyond the tree's ",
                                                tree_size_, " leaves"));
    }
  }
  // Complete blocks are written before the size that covers them is
  // published, and never change.
  std::string value;
  rocksdb::Status s = db_->Get(rocksdb::ReadOptions(), merkle_cf_,
                               AsSlice(MerkleBlockKey(block)), &value);
  if (s.IsNotFound()) {
    return absl::DataLossError(absl::StrCat(
        "the Merkle tree lost leaves ", block * kMerkleLeavesPerBlock, " .. ",
        block * kMerkleLeavesPerBlock + kMerkleLeavesPerBlock - 1));
  }
  RETURN_IF_ERROR(FromRocks(s, "reading the Merkle tree"));
  return value;
}

absl::StatusOr<std::string> RocksDbEventLog::ReadTreeNode(
    int level, uint64_t index) const {
  if (!IsStoredMerkleLevel(level)) {
    // Levels 1-3 are not stored: hash the node's 2^level leaves, which lie
    // in one block (one read, not one per leaf).
    static_assert(kMerkleLeavesPerBlock % 8 == 0);
    const uint64_t first = index << level;
    const uint64_t count = uint64_t{1} << level;
    ASSIGN_OR_RETURN(std::string block,
                     BlockValue(first / kMerkleLeavesPerBlock));
    const size_t at = (first % kMerkleLeavesPerBlock) * merkle::kHashBytes;
    if (block.size() < at + count * merkle::kHashBytes) {
      return absl::DataLossError(absl::StrCat(
          "the Merkle tree lost leaves ", first, " .. ", first + count - 1));
    }
    std::vector<std::string> nodes;
    nodes.reserve(count);
    for (uint64_t i = 0; i < count; ++i) {
      nodes.push_back(
          block.substr(at + i * merkle::kHashBytes, merkle::kHashBytes));
    }
    while (nodes.size() > 1) {
      std::vector<std::string> up;
      up.reserve(nodes.size() / 2);
      for (size_t i = 0; i + 1 < nodes.size(); i += 2) {
        up.push_back(merkle::NodeHash(nodes[i], nodes[i + 1]));
      }
      nodes.swap(up);
    }
    return nodes.front();
  }
  ASSIGN_OR_RETURN(std::string block,
                   BlockValue(MerkleNodeBlock(level, index)));
  const size_t at = MerkleNodeOffset(level);
  if (block.size() < at + merkle::kHashBytes) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree lost node (", level, ", ", index, ")"));
  }
  return block.substr(at, merkle::kHashBytes);
}

absl::StatusOr<std::string> RocksDbEventLog::StoredLeaf(uint64_t index) const {
  ASSIGN_OR_RETURN(std::string block,
                   BlockValue(index / kMerkleLeavesPerBlock));
  const size_t at = (index % kMerkleLeavesPerBlock) * merkle::kHashBytes;
  if (block.size() < at + merkle::kHashBytes) {
    return absl::DataLossError(
        absl::StrCat("the Merkle tree lost leaf ", index));
  }
  return block.substr(at, merkle::kHashBytes);
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
