// Key layout of the RocksDB store. Prose, grammar and reasons:
// storage/FORMAT.md.
//
//   CF "default"       "format"                         -> kFormatVersion
//   CF "log"           Fixed64BE(position)              -> storage.v1.LogRecord
//   CF "streams"       stream '\0' Fixed64BE(revision)  -> Fixed64BE(position)
//   CF "stream_heads"  stream                           ->
//   storage.v1.StreamHead CF "requests"      request_id ->
//   storage.v1.RequestRecord
//
// Big-endian integers, so RocksDB's bytewise order equals numeric order.
// DO NOT CHANGE existing layouts: they are on disk. Add a new column family or
// a new record field instead, and bump kFormatVersion only for a change old
// code must not read.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace nenep::storage {

inline constexpr absl::string_view kFormatKey = "format";
inline constexpr absl::string_view kFormatVersion = "nenep-log-v1";

inline constexpr char kLogCf[] = "log";
inline constexpr char kStreamsCf[] = "streams";
inline constexpr char kStreamHeadsCf[] = "stream_heads";
inline constexpr char kRequestsCf[] = "requests";

std::string LogKey(uint64_t position);
// False if `key` is not a log key.
bool ParseLogKey(absl::string_view key, uint64_t* position);

std::string StreamIndexKey(absl::string_view stream, uint64_t revision);
// The smallest key of `stream` in CF "streams".
std::string StreamIndexPrefix(absl::string_view stream);
// False if `key` is not an index key of `stream`.
bool ParseStreamIndexKey(absl::string_view key, absl::string_view stream,
                         uint64_t* revision);

}  // namespace nenep::storage
