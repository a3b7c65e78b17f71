// Fixed-width big-endian integer coding for keys: RocksDB's bytewise order of
// the encoded bytes equals the numeric order of the values.
#pragma once

#include <cstdint>
#include <string>
#include "absl/strings/string_view.h"

namespace nenep {

inline void PutFixed64BE(std::string* dst, uint64_t v) {
  char buf[8];
  for (int i = 7; i >= 0; --i) {
    buf[i] = static_cast<char>(v & 0xff);
    v >>= 8;
  }
  dst->append(buf, 8);
}

inline std::string EncodeFixed64BE(uint64_t v) {
  std::string s;
  s.reserve(8);
  PutFixed64BE(&s, v);
  return s;
}

// Requires in.size() >= 8; reads the first 8 bytes.
inline uint64_t DecodeFixed64BE(absl::string_view in) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) {
    v = (v << 8) | static_cast<uint8_t>(in[i]);
  }
  return v;
}

}  // namespace nenep
