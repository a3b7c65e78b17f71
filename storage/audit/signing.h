// File: storage/audit/signing.h
//
// Ed25519 signatures of Merkle tree heads (OpenSSL). A tree head is signed
// as these bytes, frozen:
//
//   "nenep-tree-head-v1" 0x00 | Fixed64BE(tree_size)
//     | Fixed64BE(timestamp, microseconds since the Unix epoch) | root (32)
//
//   ASSIGN_OR_RETURN(auto key, SigningKey::LoadOrCreate(path));
//   std::string sig = key->Sign(TreeHeadBytes(size, micros, root));
//   bool ok = VerifySignature(key->public_key(), bytes, sig);
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

typedef struct evp_pkey_st EVP_PKEY;

namespace nenep::merkle {

std::string TreeHeadBytes(uint64_t tree_size, int64_t timestamp_micros,
                          absl::string_view root);

class SigningKey {
 public:
  // Reads the PEM private key at `path`; if there is no file, makes a new
  // key and writes it there (mode 0600). kFailedPrecondition if the file
  // is not an Ed25519 private key.
  static absl::StatusOr<std::unique_ptr<SigningKey>> LoadOrCreate(
      const std::string& path);
  // A new key in memory (tests).
  static std::unique_ptr<SigningKey> Generate();
  ~SigningKey();

  // The raw 32-byte public key.
  const std::string& public_key() const { return public_key_; }
  // 64 bytes.
  std::string Sign(absl::string_view message) const;

 private:
  explicit SigningKey(EVP_PKEY* key);
  EVP_PKEY* key_;
  std::string public_key_;
};

// Whether `signature` is `public_key`'s (raw 32 bytes) Ed25519 signature
// of `message`.
bool VerifySignature(absl::string_view public_key, absl::string_view message,
                     absl::string_view signature);

// The first 16 hex digits of SHA-256(public key): how logs and the CLI name
// a key.
std::string KeyId(absl::string_view public_key);

}  // namespace nenep::merkle
