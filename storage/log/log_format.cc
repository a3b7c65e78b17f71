#include "storage/log/log_format.h"

#include "absl/strings/str_cat.h"
#include "storage/common/coding.h"
#include "storage/log/event_log.h"

namespace nenep::storage {

absl::Status CheckStreamName(absl::string_view stream) {
  if (stream.empty()) return absl::InvalidArgumentError("empty stream name");
  if (stream.size() > kMaxStreamNameBytes) {
    return absl::InvalidArgumentError(absl::StrCat(
        "stream name longer than ", kMaxStreamNameBytes, " bytes"));
  }
  if (stream.find('\0') != absl::string_view::npos) {
    return absl::InvalidArgumentError("stream name contains a NUL byte");
  }
  return absl::OkStatus();
}

std::string LogKey(uint64_t position) { return EncodeFixed64BE(position); }

bool ParseLogKey(absl::string_view key, uint64_t* position) {
  if (key.size() != 8) return false;
  *position = DecodeFixed64BE(key);
  return true;
}

std::string StreamIndexPrefix(absl::string_view stream) {
  std::string key;
  key.reserve(stream.size() + 9);
  key.append(stream.data(), stream.size());
  key.push_back('\0');
  return key;
}

std::string StreamIndexKey(absl::string_view stream, uint64_t revision) {
  std::string key;
  SetStreamIndexKey(stream, revision, &key);
  return key;
}

void SetStreamIndexKey(absl::string_view stream, uint64_t revision,
                       std::string* out) {
  out->clear();
  out->append(stream.data(), stream.size());
  out->push_back('\0');
  PutFixed64BE(out, revision);
}

namespace {

void PutVarint(std::string* out, uint64_t v) {
  while (v >= 0x80) {
    out->push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out->push_back(static_cast<char>(v));
}

void PutBytesField(std::string* out, int number, absl::string_view value) {
  if (value.empty()) return;  // proto3 omits defaults
  out->push_back(static_cast<char>(number << 3 | 2));
  PutVarint(out, value.size());
  out->append(value.data(), value.size());
}

void PutVarintField(std::string* out, int number, uint64_t value) {
  if (value == 0) return;
  out->push_back(static_cast<char>(number << 3));
  PutVarint(out, value);
}

}  // namespace

void EncodeLogRecord(absl::string_view stream, uint64_t revision,
                     int64_t recorded_at_micros, absl::string_view type,
                     absl::string_view payload, absl::string_view request_id,
                     absl::string_view principal, std::string* out) {
  out->clear();
  out->reserve(stream.size() + type.size() + payload.size() +
               request_id.size() + principal.size() + 40);
  PutBytesField(out, 1, stream);
  PutVarintField(out, 2, revision);
  PutVarintField(out, 3, static_cast<uint64_t>(recorded_at_micros));
  PutBytesField(out, 4, type);
  PutBytesField(out, 5, payload);
  PutBytesField(out, 6, request_id);
  PutBytesField(out, 7, principal);
}

bool ParseStreamIndexKey(absl::string_view key, absl::string_view stream,
                         uint64_t* revision) {
  if (key.size() != stream.size() + 9) return false;
  if (key.substr(0, stream.size()) != stream) return false;
  if (key[stream.size()] != '\0') return false;
  *revision = DecodeFixed64BE(key.substr(stream.size() + 1));
  return true;
}

namespace {

bool ReadVarint(absl::string_view* in, uint64_t* v) {
  *v = 0;
  for (int shift = 0; shift < 64 && !in->empty(); shift += 7) {
    const uint8_t b = static_cast<uint8_t>(in->front());
    in->remove_prefix(1);
    *v |= static_cast<uint64_t>(b & 0x7F) << shift;
    if ((b & 0x80) == 0) return true;
  }
  return false;
}

}  // namespace

bool LogRecordPayload(absl::string_view record, absl::string_view* payload) {
  *payload = absl::string_view();
  while (!record.empty()) {
    uint64_t tag = 0, v = 0;
    if (!ReadVarint(&record, &tag)) return false;
    switch (tag & 7) {
      case 0:
        if (!ReadVarint(&record, &v)) return false;
        break;
      case 1:
        if (record.size() < 8) return false;
        record.remove_prefix(8);
        break;
      case 5:
        if (record.size() < 4) return false;
        record.remove_prefix(4);
        break;
      case 2:
        if (!ReadVarint(&record, &v) || v > record.size()) return false;
        if ((tag >> 3) == 5) *payload = record.substr(0, v);
        record.remove_prefix(v);
        break;
      default:
        return false;
    }
  }
  return true;
}

std::string MerkleBlockKey(uint64_t block) {
  std::string key = "b";
  PutFixed64BE(&key, block);
  return key;
}

}  // namespace nenep::storage
