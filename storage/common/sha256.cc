#include "storage/common/sha256.h"

#include <openssl/evp.h>

#include <cstdint>

#include "storage/common/coding.h"

namespace nenep {

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) {
  EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr);
}

Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }

void Sha256::Update(absl::string_view data) {
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

void Sha256::UpdateField(absl::string_view data) {
  char len[8];
  uint64_t n = data.size();
  for (int i = 7; i >= 0; --i) {
    len[i] = static_cast<char>(n & 0xff);
    n >>= 8;
  }
  EVP_DigestUpdate(ctx_, len, sizeof(len));
  EVP_DigestUpdate(ctx_, data.data(), data.size());
}

std::string Sha256::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string Sha256::Digest(absl::string_view data) {
  Sha256 h;
  h.Update(data);
  return h.Finish();
}

std::string HexEncode(absl::string_view bytes) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out.push_back(kHex[c >> 4]);
    out.push_back(kHex[c & 0xf]);
  }
  return out;
}

}  // namespace nenep
