// What a replay of the log need not parse.
//
// Most of the bytes a replay parses are free text that no projection reads:
// the items of a commitment, a session's topic and place, a member's name.
// Parsing checks that every string field is UTF-8 (proto3), which is the
// largest single cost of a national rebuild. A Skimmer copies an encoded
// nenep.v1.Event without those fields, so that the replay parses less and
// builds exactly the same state: the projections never look at them
// (kUnreadFields below lists them; tests/storage/skim_test.cc applies the
// demo data skimmed and whole and compares the checksums).
//
// A correction (Event.event_corrected) is copied whole: the projections
// keep its replacement event as it was recorded.

#ifndef NENEP_STORAGE_PROJECTIONS_SKIM_H_
#define NENEP_STORAGE_PROJECTIONS_SKIM_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace nenep::projections {

// The fields, by full name, that a Skimmer drops. A projection that starts
// reading one of them must take it off this list.
absl::Span<const absl::string_view> UnreadFields();

// Not thread-safe: one per thread (it keeps scratch buffers).
class Skimmer {
 public:
  Skimmer() = default;
  Skimmer(const Skimmer&) = delete;
  Skimmer& operator=(const Skimmer&) = delete;

  // Appends to `*out` the encoded nenep.v1.Event `payload` without the
  // fields of UnreadFields(); every other field, known or not, is copied
  // as it is. Returns false, having appended nothing, if `payload` is not
  // well-formed wire format (or uses groups): the caller then parses
  // `payload` itself and reports its error.
  bool Skim(absl::string_view payload, std::string* out);

  struct Plan;  // how each message type is skimmed (skim.cc)

 private:
  bool SkimMessage(const Plan& plan, const char* p, const char* end,
                   size_t depth, std::string* out);

  std::vector<std::string> scratch_;  // one buffer per nesting depth
};

}  // namespace nenep::projections

#endif  // NENEP_STORAGE_PROJECTIONS_SKIM_H_
