// Helpers shared by the fuzz targets of tests/fuzz. A failed invariant
// prints what failed and aborts, which libFuzzer reports as a crash (and the
// corpus replay test as a failure).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/stubs/common.h"
#include "google/protobuf/stubs/logging.h"

namespace nenep::fuzz {

[[noreturn]] inline void Fail(absl::string_view what,
                              absl::string_view detail = "") {
  std::fprintf(stderr, "\nFUZZ INVARIANT FAILED: %.*s\n",
               static_cast<int>(what.size()), what.data());
  if (!detail.empty()) {
    std::fprintf(stderr, "  %.*s\n", static_cast<int>(detail.size()),
                 detail.data());
  }
  std::abort();
}

inline void Check(bool ok, absl::string_view what) {
  if (!ok) Fail(what);
}

// `detail` (a callable returning a std::string that says what was seen) is
// called only when the invariant fails: most inputs pass, and formatting
// them would cost more than checking them.
template <typename Detail>
void Check(bool ok, absl::string_view what, Detail&& detail) {
  if (!ok) Fail(what, detail());
}

// Protobuf logs an error for every string field that is not UTF-8, which
// random inputs hit all the time; the verdicts matter, not the log.
inline void QuietProtobuf() {
  static const bool quiet = [] {
    google::protobuf::SetLogHandler(nullptr);
    return true;
  }();
  (void)quiet;
}

// NENEP_FUZZ_VERBOSE=1 in the environment: the targets say what they did
// with each input (to check what a seed exercises); off when fuzzing.
inline bool Verbose() {
  static const bool verbose = std::getenv("NENEP_FUZZ_VERBOSE") != nullptr;
  return verbose;
}

// NENEP_FUZZ_SKIP=name,name...: invariants not to check, by the name given
// to Skipped(), so that fuzzing can go on past a finding that is reported
// but not fixed yet. Empty (everything checked) unless set.
inline bool Skipped(absl::string_view name) {
  static const char* const skip = std::getenv("NENEP_FUZZ_SKIP");
  if (skip == nullptr) return false;
  for (absl::string_view rest = skip; !rest.empty();) {
    const size_t comma = rest.find(',');
    if (rest.substr(0, comma) == name) return true;
    if (comma == absl::string_view::npos) break;
    rest.remove_prefix(comma + 1);
  }
  return false;
}

// True if `s` is UTF-8 as protobuf requires of proto3 string fields.
inline bool IsUtf8(absl::string_view s) {
  return google::protobuf::internal::IsStructurallyValidUTF8(
      s.data(), static_cast<int>(s.size()));
}

}  // namespace nenep::fuzz
