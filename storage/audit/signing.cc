#include "storage/audit/signing.h"

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <sys/stat.h>

#include <cstdio>

#include "absl/strings/str_cat.h"
#include "storage/common/coding.h"
#include "storage/common/sha256.h"

namespace nenep::merkle {

std::string TreeHeadBytes(uint64_t tree_size, int64_t timestamp_micros,
                          absl::string_view root) {
  std::string out("nenep-tree-head-v1", 18);
  out.push_back('\0');
  PutFixed64BE(&out, tree_size);
  PutFixed64BE(&out, static_cast<uint64_t>(timestamp_micros));
  out.append(root.data(), root.size());
  return out;
}

SigningKey::SigningKey(EVP_PKEY* key) : key_(key) {
  unsigned char pub[32];
  size_t len = sizeof(pub);
  EVP_PKEY_get_raw_public_key(key_, pub, &len);
  public_key_.assign(reinterpret_cast<char*>(pub), len);
}

SigningKey::~SigningKey() { EVP_PKEY_free(key_); }

std::unique_ptr<SigningKey> SigningKey::Generate() {
  EVP_PKEY* key = nullptr;
  EVP_PKEY_CTX* ctx = EVP_PKEY_CTX_new_id(EVP_PKEY_ED25519, nullptr);
  EVP_PKEY_keygen_init(ctx);
  EVP_PKEY_keygen(ctx, &key);
  EVP_PKEY_CTX_free(ctx);
  return std::unique_ptr<SigningKey>(new SigningKey(key));
}

absl::StatusOr<std::unique_ptr<SigningKey>> SigningKey::LoadOrCreate(
    const std::string& path) {
  FILE* f = std::fopen(path.c_str(), "r");
  if (f == nullptr) {
    std::unique_ptr<SigningKey> key = Generate();
    const mode_t old = umask(077);
    FILE* out = std::fopen(path.c_str(), "w");
    umask(old);
    if (out == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write the signing key to ", path));
    }
    const bool written = PEM_write_PrivateKey(out, key->key_, nullptr, nullptr,
                                              0, nullptr, nullptr) == 1;
    const bool closed = std::fclose(out) == 0;
    if (!written || !closed) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write the signing key to ", path));
    }
    return key;
  }
  EVP_PKEY* key = PEM_read_PrivateKey(f, nullptr, nullptr, nullptr);
  std::fclose(f);
  if (key == nullptr || EVP_PKEY_id(key) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(key);
    return absl::FailedPreconditionError(absl::StrCat(
        path,
        " is not a PEM Ed25519 private key (make one with: openssl "
        "genpkey -algorithm ed25519 -out ",
        path, ")"));
  }
  return std::unique_ptr<SigningKey>(new SigningKey(key));
}

std::string SigningKey::Sign(absl::string_view message) const {
  unsigned char sig[64];
  size_t len = sizeof(sig);
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr, key_);
  EVP_DigestSign(ctx, sig, &len,
                 reinterpret_cast<const unsigned char*>(message.data()),
                 message.size());
  EVP_MD_CTX_free(ctx);
  return std::string(reinterpret_cast<char*>(sig), len);
}

bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature) {
  if (public_key.size() != 32 || signature.size() != 64) return false;
  EVP_PKEY* key = EVP_PKEY_new_raw_public_key(
      EVP_PKEY_ED25519, nullptr,
      reinterpret_cast<const unsigned char*>(public_key.data()), 32);
  if (key == nullptr) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  bool ok = EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr, key) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()),
                signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()),
                message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  EVP_PKEY_free(key);
  return ok;
}

std::string KeyId(absl::string_view public_key) {
  return HexEncode(Sha256::Digest(public_key)).substr(0, 16);
}

}  // namespace nenep::merkle
