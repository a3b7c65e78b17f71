// Key layout of the RocksDB store. Prose, grammar and reasons:
// storage/FORMAT.md.
//
// clang-format off
// The log instance (the data directory):
//   CF "default"   "format"                         -> kFormatVersion
//   CF "log"       Fixed64BE(position)              -> storage.v1.LogRecord
//   CF "requests"  request_id                       -> storage.v1.RequestRecord
// The stream index instance (data directory/stream_index):
//   CF "default"   "index_position"                 -> Fixed64BE(position)
//   CF "streams"   stream '\0' Fixed64BE(revision)  -> Fixed64BE(position)
// clang-format on
//
// Big-endian integers, so RocksDB's bytewise order equals numeric order.
// DO NOT CHANGE existing layouts: they are on disk. Add a new column family or
// a new record field instead, and bump kFormatVersion only for a change old
// code must not read.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace nenep::storage {

inline constexpr absl::string_view kFormatKey = "format";
// The last position the stream index holds (CF "default", Fixed64BE).
inline constexpr absl::string_view kIndexPositionKey = "index_position";
inline constexpr absl::string_view kFormatVersion = "nenep-log-v1";

// The stream index is its own RocksDB instance in this subdirectory of the
// data directory (and of a backup directory); the log's backup goes to
// kLogBackupDir of a backup directory.
inline constexpr char kStreamIndexDir[] = "stream_index";
// Table files of index entries are written into the stream index directory
// under this prefix, then moved into the instance; a crash may leave one,
// which the next open deletes.
inline constexpr char kIndexIngestPrefix[] = "ingest-";
inline constexpr char kLogBackupDir[] = "log";

inline constexpr char kLogCf[] = "log";
inline constexpr char kStreamsCf[] = "streams";
inline constexpr char kRequestsCf[] = "requests";
inline constexpr char kStateCf[] = "state";
inline constexpr char kMerkleCf[] = "merkle";
// The Merkle tree, format 2 (FORMAT.md). CF "merkle" holds only complete
// blocks of 16 leaves under increasing keys, so that its files never
// overlap and compactions only move them; the tree's size and the leaves of
// its last, open block are in the default CF.
inline constexpr absl::string_view kMerkleSizeKey = "merkle/size";
inline constexpr absl::string_view kMerkleOpenBlockKey = "merkle/open";
// The size key of format 1 (CF "merkle"), whose nodes were keyed by level.
inline constexpr absl::string_view kMerkleV1SizeKey = "size";

inline constexpr uint64_t kMerkleLeavesPerBlock = 16;
inline constexpr int kMerkleFirstStoredLevel = 4;  // 16 leaves
inline bool IsStoredMerkleLevel(int level) {
  return level >= kMerkleFirstStoredLevel;
}
// 'b', Fixed64BE(block): the hashes of leaves [16 block, 16 block + 16),
// then those of the nodes of levels 4, 5, ... that the block completes
// (level 4 + k while (block + 1) is a multiple of 2^k).
std::string MerkleBlockKey(uint64_t block);
// Where a stored node (level >= 4) is kept: the block that completes it,
// and the byte offset of its hash in that block's value.
inline uint64_t MerkleNodeBlock(int level, uint64_t index) {
  return ((index + 1) << (level - kMerkleFirstStoredLevel)) - 1;
}
inline size_t MerkleNodeOffset(int level) {
  return (kMerkleLeavesPerBlock + level - kMerkleFirstStoredLevel) * 32;
}

// kInvalidArgument unless `stream` is a usable stream name: 1 to 256 bytes
// (kMaxStreamNameBytes) without a NUL byte, which separates it from the
// revision in index keys.
absl::Status CheckStreamName(absl::string_view stream);

std::string LogKey(uint64_t position);
// False if `key` is not a log key.
bool ParseLogKey(absl::string_view key, uint64_t* position);

// Appends Fixed64BE(position) to `out` (a log key) without allocating.
inline void PutLogKey(uint64_t position, char out[8]) {
  for (int i = 7; i >= 0; --i) {
    out[i] = static_cast<char>(position & 0xff);
    position >>= 8;
  }
}

// The canonical proto3 encoding of a storage.v1.LogRecord with these fields,
// into *out (cleared first): byte for byte what LogRecord::SerializeToString
// gives, without building the message.
void EncodeLogRecord(absl::string_view stream, uint64_t revision,
                     int64_t recorded_at_micros, absl::string_view type,
                     absl::string_view payload, absl::string_view request_id,
                     absl::string_view principal, std::string* out);

// The payload field of an encoded storage.v1.LogRecord, as a view into
// `record`; false if the record does not parse.
bool LogRecordPayload(absl::string_view record, absl::string_view* payload);

std::string StreamIndexKey(absl::string_view stream, uint64_t revision);
// Writes the index key of (stream, revision) into *out (cleared first).
void SetStreamIndexKey(absl::string_view stream, uint64_t revision,
                       std::string* out);
// The smallest key of `stream` in CF "streams".
std::string StreamIndexPrefix(absl::string_view stream);
// False if `key` is not an index key of `stream`.
bool ParseStreamIndexKey(absl::string_view key, absl::string_view stream,
                         uint64_t* revision);

}  // namespace nenep::storage
