// Text at the API boundary: Vietnamese is stored in Unicode NFC, whatever
// form the caller sent.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"

namespace nenep::services {

// Rewrites `text` in NFC if it is not already. Fails (kInvalidArgument) on
// malformed UTF-8. ASCII and already-NFC text are left untouched quickly.
absl::Status NormalizeNfc(std::string* text);

// True if `text` is valid UTF-8 in NFC.
bool IsNfc(absl::string_view text);

// A folded form for accent-insensitive matching: NFC, lower case, Vietnamese
// marks removed, đ -> d ("Bộ Tư pháp" -> "bo tu phap").
std::string FoldForSearch(absl::string_view text);

}  // namespace nenep::services
