#include "services/common/text.h"

#include <memory>

#include "absl/strings/str_cat.h"
#include "unicode/bytestream.h"
#include "unicode/normalizer2.h"
#include "unicode/translit.h"
#include "unicode/unistr.h"
#include "unicode/utypes.h"

namespace nenep::services {
namespace {

bool IsAscii(absl::string_view text) {
  for (unsigned char c : text) {
    if (c >= 0x80) return false;
  }
  return true;
}

// True if every character of `text` is below U+0300 or a precomposed
// Vietnamese letter (U+1EA0..U+1EF9): each then has NFC_Quick_Check=Yes and
// combining class 0, so the text is NFC without asking ICU. False for
// anything else (other scripts, combining marks, ill-formed UTF-8), which
// ICU then decides.
bool PlainlyNfc(absl::string_view text) {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  auto continuation = [](unsigned char c) { return (c & 0xC0) == 0x80; };
  while (p < end) {
    const unsigned char c = *p;
    if (c < 0x80) {
      ++p;
    } else if (c >= 0xC2 && c <= 0xCB) {  // U+0080..U+02FF
      if (end - p < 2 || !continuation(p[1])) return false;
      p += 2;
    } else if (c == 0xE1) {
      if (end - p < 3 || !continuation(p[1]) || !continuation(p[2])) {
        return false;
      }
      const uint32_t code =
          0x1000 | ((p[1] & 0x3Fu) << 6) | static_cast<uint32_t>(p[2] & 0x3F);
      if (code < 0x1EA0 || code > 0x1EF9) return false;
      p += 3;
    } else {
      return false;
    }
  }
  return true;
}

const icu::Normalizer2* Nfc() {
  static const icu::Normalizer2* nfc = [] {
    UErrorCode status = U_ZERO_ERROR;
    const icu::Normalizer2* n = icu::Normalizer2::getNFCInstance(status);
    return U_SUCCESS(status) ? n : nullptr;
  }();
  return nfc;
}

}  // namespace

absl::Status NormalizeNfc(std::string* text) {
  if (IsAscii(*text)) return absl::OkStatus();
  const icu::Normalizer2* nfc = Nfc();
  if (nfc == nullptr) return absl::InternalError("ICU NFC data is missing");
  UErrorCode status = U_ZERO_ERROR;
  icu::StringPiece piece(text->data(), static_cast<int32_t>(text->size()));
  if (nfc->isNormalizedUTF8(piece, status) && U_SUCCESS(status)) {
    return absl::OkStatus();
  }
  if (U_FAILURE(status)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  std::string out;
  icu::StringByteSink<std::string> sink(&out);
  status = U_ZERO_ERROR;
  nfc->normalizeUTF8(0, piece, sink, nullptr, status);
  if (U_FAILURE(status)) {
    return absl::InvalidArgumentError("text is not valid UTF-8");
  }
  *text = std::move(out);
  return absl::OkStatus();
}

bool IsNfc(absl::string_view text) {
  if (PlainlyNfc(text)) return true;
  const icu::Normalizer2* nfc = Nfc();
  if (nfc == nullptr) return false;
  UErrorCode status = U_ZERO_ERROR;
  bool ok = nfc->isNormalizedUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())), status);
  return ok && U_SUCCESS(status);
}

namespace {

// The fold of Latin text (all of Vietnamese) without a transliterator:
// NFD, combining marks dropped, đ/Đ as d, ASCII lower-cased. False if the
// text holds anything else, which the transliterator then handles.
bool FoldLatin(absl::string_view text, std::string* out) {
  UErrorCode status = U_ZERO_ERROR;
  static const icu::Normalizer2* const nfd =
      icu::Normalizer2::getNFDInstance(status);
  if (nfd == nullptr) return false;
  icu::UnicodeString d =
      nfd->normalize(icu::UnicodeString::fromUTF8(icu::StringPiece(
                         text.data(), static_cast<int32_t>(text.size()))),
                     status);
  if (U_FAILURE(status)) return false;
  out->clear();
  out->reserve(text.size());
  for (int32_t i = 0; i < d.length();) {
    const UChar32 c = d.char32At(i);
    i += U16_LENGTH(c);
    if (c < 0x80) {
      out->push_back(static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c));
    } else if (c >= 0x300 && c <= 0x36F) {
      // a combining mark: dropped
    } else if (c == 0x110 || c == 0x111) {
      out->push_back('d');
    } else {
      return false;
    }
  }
  return true;
}

}  // namespace

std::string FoldForSearch(absl::string_view text) {
  std::string fast;
  if (FoldLatin(text, &fast)) return fast;
  // "Any-Latin; Latin-ASCII" turns đ into d, which plain mark stripping does
  // not (../shared/reference/ecosystem.md, C2).
  thread_local std::unique_ptr<icu::Transliterator> fold = [] {
    UErrorCode status = U_ZERO_ERROR;
    std::unique_ptr<icu::Transliterator> t(icu::Transliterator::createInstance(
        "NFD; [:Nonspacing Mark:] Remove; Any-Latin; Latin-ASCII; Lower; NFC",
        UTRANS_FORWARD, status));
    return U_SUCCESS(status) ? std::move(t) : nullptr;
  }();
  icu::UnicodeString u = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  if (fold != nullptr) fold->transliterate(u);
  std::string out;
  u.toUTF8String(out);
  return out;
}

}  // namespace nenep::services
