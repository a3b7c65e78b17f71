// Incremental SHA-256 (OpenSSL EVP).
//
//   Sha256 h;
//   h.Update("a");
//   h.Update("b");
//   std::string digest = h.Finish();  // 32 bytes
#pragma once

#include <string>

#include "absl/strings/string_view.h"

typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace nenep {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;

  void Update(absl::string_view data);
  // Appends a length-prefixed field, so that ("ab","c") and ("a","bc")
  // hash differently.
  void UpdateField(absl::string_view data);
  // The 32-byte digest. The object must not be used afterwards.
  std::string Finish();

  static std::string Digest(absl::string_view data);

 private:
  EVP_MD_CTX* ctx_;
};

// Lower-case hex of `bytes`.
std::string HexEncode(absl::string_view bytes);

}  // namespace nenep
