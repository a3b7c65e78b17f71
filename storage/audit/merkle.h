// File: storage/audit/merkle.h
//
// RFC 6962 (Certificate Transparency) Merkle trees over SHA-256, with the
// proof algorithms of RFC 6962 section 2.1 and the verification algorithms
// of RFC 9162 section 2.1.3.2 and 2.1.4.2. A hash is 32 bytes in a
// std::string.
//
//   leaf hash  = SHA-256(0x00 || leaf data)
//   node hash  = SHA-256(0x01 || left || right)
//   empty tree = SHA-256("")
//
// Proofs are computed from the hashes of complete subtrees (NodeSource):
// node (level, index) covers leaves [index << level, (index + 1) << level).
// A store keeps those as leaves arrive (see MerkleBuilder), and every root,
// inclusion and consistency proof of any tree size up to its size is a
// handful of them.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "absl/functional/function_ref.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"

namespace nenep::merkle {

inline constexpr size_t kHashBytes = 32;

std::string LeafHash(absl::string_view leaf_data);
std::string NodeHash(absl::string_view left, absl::string_view right);
std::string EmptyRoot();

// Hashes of complete subtrees.
class NodeSource {
 public:
  virtual ~NodeSource() = default;
  // The hash of node (level, index); kOutOfRange if that subtree is not
  // complete yet.
  virtual absl::StatusOr<std::string> Node(int level, uint64_t index) const = 0;
};

// The root of the tree of the first `size` leaves.
absl::StatusOr<std::string> Root(const NodeSource& nodes, uint64_t size);
// The audit path of leaf `index` in the tree of `size` leaves
// (kInvalidArgument unless index < size).
absl::StatusOr<std::vector<std::string>> InclusionProof(const NodeSource& nodes,
                                                        uint64_t index,
                                                        uint64_t size);
// The proof that the tree of `old_size` leaves is a prefix of the tree of
// `size` leaves (kInvalidArgument unless old_size <= size). Empty when
// old_size is 0 or equal to size.
absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    const NodeSource& nodes, uint64_t old_size, uint64_t size);

bool VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t size,
                     absl::Span<const std::string> proof,
                     absl::string_view root);
bool VerifyConsistency(uint64_t old_size, uint64_t size,
                       absl::string_view old_root, absl::string_view root,
                       absl::Span<const std::string> proof);

// Appends LeafHash(leaf_data) to *out, without a string of its own.
void AppendLeafHash(absl::string_view leaf_data, std::string* out);

// Keeps the complete-subtree hashes as leaves are appended: Add() returns
// the nodes it completes (level 0 is the leaf itself), for a store to keep.
// It remembers only the right edge of the tree (one hash per level).
class MerkleBuilder {
 public:
  struct NewNode {
    int level;
    uint64_t index;
    std::string hash;
  };
  // Resumes a tree of `size` leaves whose right edge is `edge`: the hash of
  // the last complete node of each level whose index is even (the left
  // sibling still waiting for its pair), level by level, as Edge() gives.
  MerkleBuilder(uint64_t size = 0, std::vector<std::string> edge = {});

  std::vector<NewNode> Add(absl::string_view leaf_hash);
  // The same, telling `on_node` of each node instead of gathering them.
  void Add(
      absl::string_view leaf_hash,
      absl::FunctionRef<void(int level, uint64_t index, absl::string_view hash)>
          on_node);
  uint64_t size() const { return size_; }
  // The root of the tree of size() leaves, from the right edge.
  std::string Root() const;
  // The pending left siblings, by level ("" where none).
  const std::vector<std::string>& Edge() const { return edge_; }

 private:
  uint64_t size_;
  std::vector<std::string> edge_;
};

// Every node of a tree in memory: for tests and offline verification.
class MemoryTree final : public NodeSource {
 public:
  void Add(absl::string_view leaf_hash);
  uint64_t size() const { return levels_.empty() ? 0 : levels_[0].size(); }
  absl::StatusOr<std::string> Node(int level, uint64_t index) const override;

 private:
  std::vector<std::vector<std::string>> levels_;
  MerkleBuilder builder_;
};

}  // namespace nenep::merkle
