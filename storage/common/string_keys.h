// Hash and equality for hash maps keyed by a small string-holding type
// (one with `absl::string_view view() const`), so that a lookup takes any
// string without building a key: heterogeneous lookup. StreamKey (the log's
// stream-head cache) and IdKey (the projections' id indexes) use them.
#pragma once

#include <cstddef>

#include "absl/hash/hash.h"
#include "absl/strings/string_view.h"

namespace nenep {

// Hashes a key as the string it holds, so both sides hash alike.
template <typename Key>
struct StringKeyHash {
  using is_transparent = void;
  size_t operator()(absl::string_view text) const {
    return absl::Hash<absl::string_view>{}(text);
  }
  size_t operator()(const Key& key) const { return (*this)(key.view()); }
};

// Compares keys and strings by the text they hold.
template <typename Key>
struct StringKeyEq {
  using is_transparent = void;
  static absl::string_view View(const Key& key) { return key.view(); }
  static absl::string_view View(absl::string_view text) { return text; }
  template <typename A, typename B>
  bool operator()(const A& a, const B& b) const {
    return View(a) == View(b);
  }
};

}  // namespace nenep
