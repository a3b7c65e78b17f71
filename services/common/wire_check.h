// The generic checks of an event (no unknown fields, known enum values,
// calendar dates, bounded text without control characters, NFC) run over its
// serialized bytes, without protobuf reflection: this is the per-event hot
// path of Append and BatchAppend. It only says whether the bytes pass;
// validation.cc words the error with reflection when they do not.
#pragma once

#include <cstddef>

#include "absl/strings/string_view.h"
#include "google/protobuf/descriptor.h"

namespace nenep::services {

enum class WireVerdict {
  kOk,
  kNeedsNfc,  // well-formed, but some text is not in NFC
  kInvalid,   // something fails; ask the reflection walk what
};

// Checks `bytes`, a serialized message of type `descriptor`. Thread-safe.
WireVerdict CheckWire(const google::protobuf::Descriptor* descriptor,
                      absl::string_view bytes, size_t max_text_bytes);

}  // namespace nenep::services
