#include "storage/log/log_format.h"

#include "storage/common/coding.h"

namespace nenep::storage {

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
  std::string key = StreamIndexPrefix(stream);
  PutFixed64BE(&key, revision);
  return key;
}

bool ParseStreamIndexKey(absl::string_view key, absl::string_view stream,
                         uint64_t* revision) {
  if (key.size() != stream.size() + 9) return false;
  if (key.substr(0, stream.size()) != stream) return false;
  if (key[stream.size()] != '\0') return false;
  *revision = DecodeFixed64BE(key.substr(stream.size() + 1));
  return true;
}

}  // namespace nenep::storage
