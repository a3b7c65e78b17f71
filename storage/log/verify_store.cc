// VerifyStore: an offline audit of a store against its Merkle tree and its
// signed tree heads (rocksdb_event_log.h).

#include <map>
#include <memory>

#include "absl/container/flat_hash_map.h"
#include "absl/strings/str_cat.h"
#include "nenep/storage/v1/records.pb.h"
#include "rocksdb/db.h"
#include "storage/audit/merkle.h"
#include "storage/audit/signing.h"
#include "storage/common/coding.h"
#include "storage/common/sha256.h"
#include "storage/common/status_macros.h"
#include "storage/log/log_format.h"
#include "storage/log/rocks_status.h"
#include "storage/log/rocksdb_event_log.h"
#include "storage/log/rocksdb_event_log_impl.h"

namespace nenep::storage {

using internal::AsSlice;
using internal::AsView;

absl::StatusOr<VerifyReport> VerifyStore(
    const std::string& data_dir, const std::string& public_key,
    const std::function<void(Position, Position)>& progress) {
  std::vector<std::string> names;
  rocksdb::Status s =
      rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), data_dir, &names);
  if (!s.ok()) {
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " does not hold a nenep store: ", s.ToString()));
  }
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const std::string& n : names)
    cfs.emplace_back(n, rocksdb::ColumnFamilyOptions());
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  s = rocksdb::DB::OpenForReadOnly(rocksdb::DBOptions(), data_dir, cfs,
                                   &handles, &raw);
  if (!s.ok()) return FromRocks(s, absl::StrCat("opening ", data_dir));
  std::unique_ptr<rocksdb::DB> db(raw);
  rocksdb::ColumnFamilyHandle *log = nullptr, *merkle = nullptr,
                              *state = nullptr, *meta = nullptr;
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == rocksdb::kDefaultColumnFamilyName) meta = handles[i];
    if (names[i] == kLogCf) log = handles[i];
    if (names[i] == kMerkleCf) merkle = handles[i];
    if (names[i] == kStateCf) state = handles[i];
  }
  auto close = [&] {
    for (auto* h : handles)
      db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  };
  if (log == nullptr) {
    close();
    return absl::FailedPreconditionError(
        absl::StrCat(data_dir, " has no log column family"));
  }
  VerifyReport report;
  auto problem = [&](Position p, std::string what) {
    report.problems.push_back({p, std::move(what)});
  };
  // The tree (format 2; a store of format 1 counts as having none until
  // nenepd converts it) and the leaves of its open block.
  std::string value, open;
  if (merkle != nullptr && meta != nullptr &&
      db->Get(rocksdb::ReadOptions(), meta, AsSlice(kMerkleSizeKey), &value)
          .ok() &&
      value.size() == 8) {
    report.tree_size = DecodeFixed64BE(value);
    if (!db->Get(rocksdb::ReadOptions(), meta, AsSlice(kMerkleOpenBlockKey),
                 &open)
             .ok()) {
      open.clear();
    }
  }
  // Signed heads, by size.
  std::map<uint64_t, v1::SignedTreeHeadRecord> heads;
  if (state != nullptr) {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), state));
    for (it->Seek("sth/"); it->Valid() && it->key().starts_with("sth/");
         it->Next()) {
      v1::SignedTreeHeadRecord h;
      if (!h.ParseFromArray(it->value().data(),
                            static_cast<int>(it->value().size()))) {
        problem(0, absl::StrCat("a signed tree head does not parse (key ",
                                nenep::HexEncode(AsView(it->key())), ")"));
        continue;
      }
      heads[h.tree_size()] = h;
    }
  }
  Position last = 0;
  {
    std::unique_ptr<rocksdb::Iterator> it(
        db->NewIterator(rocksdb::ReadOptions(), log));
    it->SeekToLast();
    if (it->Valid()) ParseLogKey(AsView(it->key()), &last);
  }
  // The tree's blocks are read in key order alongside the log, so that a
  // block costs a Next(), not a point lookup.
  struct Cursor {
    std::unique_ptr<rocksdb::Iterator> it;
    // The value stored under `key`, or false. Keys come in increasing
    // order; a miss re-seeks.
    bool Read(const std::string& key, std::string* out) {
      if (!it->Valid() || AsView(it->key()) != key) {
        if (it->Valid() && AsView(it->key()) < key) it->Next();
        if (!it->Valid() || AsView(it->key()) != key) it->Seek(AsSlice(key));
      }
      if (!it->Valid() || AsView(it->key()) != key) return false;
      out->assign(it->value().data(), it->value().size());
      it->Next();
      return true;
    }
  };
  auto cursor = [&] {
    return Cursor{std::unique_ptr<rocksdb::Iterator>(
        db->NewIterator(rocksdb::ReadOptions(), merkle))};
  };
  uint64_t cached_block = ~uint64_t{0};
  std::string block;
  Cursor blocks;
  if (merkle != nullptr) blocks = cursor();
  // The value of block b: its leaves and the nodes it completes.
  auto stored_block = [&](uint64_t b) -> const std::string& {
    if (b != cached_block) {
      cached_block = b;
      if (b == report.tree_size / kMerkleLeavesPerBlock) {
        block = open;
      } else if (!blocks.Read(MerkleBlockKey(b), &block)) {
        block.clear();
      }
    }
    return block;
  };
  // The stored leaves, to tell a reordering from an alteration.
  auto stored_leaf = [&](uint64_t index) -> std::string {
    if (merkle == nullptr || index >= report.tree_size) return "";
    const std::string& leaves = stored_block(index / kMerkleLeavesPerBlock);
    const size_t at = (index % kMerkleLeavesPerBlock) * merkle::kHashBytes;
    if (leaves.size() < at + merkle::kHashBytes) return "";
    return leaves.substr(at, merkle::kHashBytes);
  };
  merkle::MerkleBuilder builder;
  v1::LogRecord record;  // reused: its strings keep their capacity
  std::unique_ptr<rocksdb::Iterator> it(
      db->NewIterator(rocksdb::ReadOptions(), log));
  Position expected = 1;
  for (it->SeekToFirst(); it->Valid(); it->Next()) {
    Position p = 0;
    if (!ParseLogKey(AsView(it->key()), &p)) {
      problem(expected, "a key in the log is not a position (inserted?)");
      continue;
    }
    if (p > expected) {
      problem(expected,
              p == expected + 1
                  ? std::string("missing: the event was removed")
                  : absl::StrCat("missing up to ", p - 1, ": ", p - expected,
                                 " events were removed"));
    }
    ++report.events;
    // Leaves follow the positions as stored; a gap shifts nothing.
    while (builder.size() + 1 < p) builder.Add(merkle::LeafHash(""));
    const std::string leaf = merkle::LeafHash(AsView(it->value()));
    if (!record.ParseFromArray(it->value().data(),
                               static_cast<int>(it->value().size()))) {
      problem(p, "the record does not parse");
    }
    if (p <= report.tree_size) {
      const std::string want = stored_leaf(p - 1);
      if (want != leaf) {
        std::string where;
        for (Position q : {p - 1, p + 1}) {
          if (q >= 1 && stored_leaf(q - 1) == leaf) {
            where = absl::StrCat(": it is the event of position ", q,
                                 " (reordered)");
          }
        }
        problem(p, where.empty()
                       ? std::string("altered: its bytes do not hash to its "
                                     "leaf in the Merkle tree")
                       : absl::StrCat("out of place", where));
      }
    }
    builder.Add(leaf, [&](int level, uint64_t index, absl::string_view hash) {
      if (!IsStoredMerkleLevel(level) || merkle == nullptr ||
          p > report.tree_size) {
        return;
      }
      // Stored in the block that completes it: this event's.
      const std::string& stored = stored_block((p - 1) / kMerkleLeavesPerBlock);
      const size_t at = MerkleNodeOffset(level);
      if (stored.size() < at + merkle::kHashBytes ||
          stored.compare(at, merkle::kHashBytes, hash.data(), hash.size()) !=
              0) {
        problem((index << level) + 1,
                absl::StrCat("Merkle node (", level, ", ", index,
                             ") differs from the tree recomputed from the "
                             "log"));
      }
    });
    auto head = heads.find(p);
    if (head != heads.end()) {
      const v1::SignedTreeHeadRecord& h = head->second;
      ++report.heads_checked;
      const std::string& key = public_key.empty() ? h.public_key() : public_key;
      report.key_id = merkle::KeyId(key);
      if (h.root_hash() != builder.Root()) {
        problem(p, absl::StrCat("the signed tree head of size ", p,
                                " has another root than the log's events "
                                "up to here"));
      }
      if (!merkle::VerifySignature(
              key,
              merkle::TreeHeadBytes(h.tree_size(), h.timestamp_micros(),
                                    h.root_hash()),
              h.signature())) {
        problem(p, absl::StrCat("the tree head of size ", p,
                                " is not signed by key ", merkle::KeyId(key)));
      }
    }
    expected = p + 1;
    if (progress && p % 100000 == 0) progress(p, last);
  }
  s = it->status();
  it.reset();
  blocks.it.reset();
  close();
  RETURN_IF_ERROR(FromRocks(s, "reading the log"));
  if (report.tree_size > last) {
    problem(last + 1, absl::StrCat("the Merkle tree covers ", report.tree_size,
                                   " events but the log ends at ", last,
                                   ": events were removed from the end"));
  }
  for (const auto& [size, h] : heads) {
    if (size > last) {
      problem(last + 1, absl::StrCat("a tree head was signed for ", size,
                                     " events; the log ends at ", last));
    }
  }
  if (progress) progress(last, last);
  return report;
}

}  // namespace nenep::storage
