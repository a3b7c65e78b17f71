#include "storage/audit/merkle.h"

#include <openssl/evp.h>

#include <algorithm>
#include <cstring>

#include "absl/strings/str_cat.h"
#include "storage/common/status_macros.h"

namespace nenep::merkle {
namespace {

// One digest context per thread and the SHA-256 implementation fetched
// once: OpenSSL 3 looks the algorithm up again for every EVP_sha256() init.
struct Hasher {
  Hasher()
      : md(EVP_MD_fetch(nullptr, "SHA256", nullptr)), ctx(EVP_MD_CTX_new()) {}
  ~Hasher() {
    EVP_MD_CTX_free(ctx);
    EVP_MD_free(md);
  }
  EVP_MD* md;
  EVP_MD_CTX* ctx;
};

// SHA-256 of a || b || c into out[kHashBytes] (which may alias b or c:
// the inputs are consumed before the digest is written).
void HashInto(absl::string_view a, absl::string_view b, absl::string_view c,
              unsigned char* out) {
  thread_local Hasher h;
  unsigned int len = 0;
  EVP_DigestInit_ex(h.ctx, h.md, nullptr);
  EVP_DigestUpdate(h.ctx, a.data(), a.size());
  if (!b.empty()) EVP_DigestUpdate(h.ctx, b.data(), b.size());
  if (!c.empty()) EVP_DigestUpdate(h.ctx, c.data(), c.size());
  EVP_DigestFinal_ex(h.ctx, out, &len);
}

std::string Sha256Of(absl::string_view a, absl::string_view b = "",
                     absl::string_view c = "") {
  unsigned char md[kHashBytes];
  HashInto(a, b, c, md);
  return std::string(reinterpret_cast<char*>(md), kHashBytes);
}

// The largest power of two smaller than n (n >= 2).
uint64_t SplitPoint(uint64_t n) {
  uint64_t k = 1;
  while (k << 1 < n) k <<= 1;
  return k;
}

bool IsPowerOfTwo(uint64_t n) { return n != 0 && (n & (n - 1)) == 0; }

int Log2(uint64_t n) {
  int l = 0;
  while ((uint64_t{1} << l) < n) ++l;
  return l;
}

// MTH(D[a : a + n]) for the ranges the RFC recursion produces: a complete
// aligned subtree, or the right edge of one.
absl::StatusOr<std::string> SubtreeHash(const NodeSource& nodes, uint64_t a,
                                        uint64_t n) {
  if (IsPowerOfTwo(n) && a % n == 0) return nodes.Node(Log2(n), a / n);
  const uint64_t k = SplitPoint(n);
  ASSIGN_OR_RETURN(std::string left, SubtreeHash(nodes, a, k));
  ASSIGN_OR_RETURN(std::string right, SubtreeHash(nodes, a + k, n - k));
  return NodeHash(left, right);
}

absl::Status Path(const NodeSource& nodes, uint64_t m, uint64_t a, uint64_t n,
                  std::vector<std::string>* out) {
  if (n == 1) return absl::OkStatus();
  const uint64_t k = SplitPoint(n);
  if (m < k) {
    RETURN_IF_ERROR(Path(nodes, m, a, k, out));
    ASSIGN_OR_RETURN(std::string h, SubtreeHash(nodes, a + k, n - k));
    out->push_back(std::move(h));
  } else {
    RETURN_IF_ERROR(Path(nodes, m - k, a + k, n - k, out));
    ASSIGN_OR_RETURN(std::string h, SubtreeHash(nodes, a, k));
    out->push_back(std::move(h));
  }
  return absl::OkStatus();
}

absl::Status SubProof(const NodeSource& nodes, uint64_t m, uint64_t a,
                      uint64_t n, bool whole, std::vector<std::string>* out) {
  if (m == n) {
    if (!whole) {
      ASSIGN_OR_RETURN(std::string h, SubtreeHash(nodes, a, n));
      out->push_back(std::move(h));
    }
    return absl::OkStatus();
  }
  const uint64_t k = SplitPoint(n);
  if (m <= k) {
    RETURN_IF_ERROR(SubProof(nodes, m, a, k, whole, out));
    ASSIGN_OR_RETURN(std::string h, SubtreeHash(nodes, a + k, n - k));
    out->push_back(std::move(h));
  } else {
    RETURN_IF_ERROR(SubProof(nodes, m - k, a + k, n - k, false, out));
    ASSIGN_OR_RETURN(std::string h, SubtreeHash(nodes, a, k));
    out->push_back(std::move(h));
  }
  return absl::OkStatus();
}

}  // namespace

void AppendLeafHash(absl::string_view leaf_data, std::string* out) {
  unsigned char md[kHashBytes];
  HashInto(absl::string_view("\x00", 1), leaf_data, "", md);
  out->append(reinterpret_cast<const char*>(md), kHashBytes);
}

std::string LeafHash(absl::string_view leaf_data) {
  return Sha256Of(absl::string_view("\x00", 1), leaf_data);
}

std::string NodeHash(absl::string_view left, absl::string_view right) {
  return Sha256Of("\x01", left, right);
}

std::string EmptyRoot() {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest("", 0, md, &len, EVP_sha256(), nullptr);
  return std::string(reinterpret_cast<char*>(md), len);
}

absl::StatusOr<std::string> Root(const NodeSource& nodes, uint64_t size) {
  if (size == 0) return EmptyRoot();
  return SubtreeHash(nodes, 0, size);
}

absl::StatusOr<std::vector<std::string>> InclusionProof(const NodeSource& nodes,
                                                        uint64_t index,
                                                        uint64_t size) {
  if (index >= size) {
    return absl::InvalidArgumentError(
        absl::StrCat("leaf ", index, " is not in a tree of ", size, " leaves"));
  }
  std::vector<std::string> out;
  RETURN_IF_ERROR(Path(nodes, index, 0, size, &out));
  return out;
}

absl::StatusOr<std::vector<std::string>> ConsistencyProof(
    const NodeSource& nodes, uint64_t old_size, uint64_t size) {
  if (old_size > size) {
    return absl::InvalidArgumentError(
        absl::StrCat("the first tree size (", old_size,
                     ") is larger than the second (", size, ")"));
  }
  std::vector<std::string> out;
  if (old_size == 0 || old_size == size) return out;
  RETURN_IF_ERROR(SubProof(nodes, old_size, 0, size, true, &out));
  return out;
}

bool VerifyInclusion(absl::string_view leaf_hash, uint64_t index, uint64_t size,
                     absl::Span<const std::string> proof,
                     absl::string_view root) {
  if (index >= size) return false;
  uint64_t fn = index, sn = size - 1;
  std::string r(leaf_hash);
  for (const std::string& p : proof) {
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      r = NodeHash(p, r);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      r = NodeHash(r, p);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return sn == 0 && r == root;
}

bool VerifyConsistency(uint64_t old_size, uint64_t size,
                       absl::string_view old_root, absl::string_view root,
                       absl::Span<const std::string> proof) {
  if (old_size > size) return false;
  if (old_size == size) return proof.empty() && old_root == root;
  if (old_size == 0) return proof.empty() && old_root == EmptyRoot();
  if (proof.empty()) return false;
  std::vector<std::string> path(proof.begin(), proof.end());
  if (IsPowerOfTwo(old_size)) path.insert(path.begin(), std::string(old_root));
  uint64_t fn = old_size - 1, sn = size - 1;
  while ((fn & 1) != 0) {
    fn >>= 1;
    sn >>= 1;
  }
  std::string fr = path[0], sr = path[0];
  for (size_t i = 1; i < path.size(); ++i) {
    const std::string& c = path[i];
    if (sn == 0) return false;
    if ((fn & 1) != 0 || fn == sn) {
      fr = NodeHash(c, fr);
      sr = NodeHash(c, sr);
      if ((fn & 1) == 0) {
        while ((fn & 1) == 0 && fn != 0) {
          fn >>= 1;
          sn >>= 1;
        }
      }
    } else {
      sr = NodeHash(sr, c);
    }
    fn >>= 1;
    sn >>= 1;
  }
  return fr == old_root && sr == root && sn == 0;
}

MerkleBuilder::MerkleBuilder(uint64_t size, std::vector<std::string> edge)
    : size_(size), edge_(std::move(edge)) {}

std::vector<MerkleBuilder::NewNode> MerkleBuilder::Add(
    absl::string_view leaf_hash) {
  std::vector<NewNode> out;
  Add(leaf_hash, [&](int level, uint64_t index, absl::string_view hash) {
    out.push_back({level, index, std::string(hash)});
  });
  return out;
}

void MerkleBuilder::Add(
    absl::string_view leaf_hash,
    absl::FunctionRef<void(int, uint64_t, absl::string_view)> on_node) {
  // On the append path: no allocation once the edge's strings have their
  // capacity.
  uint64_t index = size_++;
  unsigned char hash[kHashBytes];
  std::memcpy(hash, leaf_hash.data(), std::min(leaf_hash.size(), kHashBytes));
  const absl::string_view view(reinterpret_cast<const char*>(hash), kHashBytes);
  for (int level = 0;; ++level) {
    on_node(level, index, view);
    if (edge_.size() <= static_cast<size_t>(level)) edge_.resize(level + 1);
    std::string& left = edge_[level];
    if ((index & 1) == 0) {  // a left child: wait for its sibling
      left.assign(view.data(), view.size());
      return;
    }
    HashInto("\x01", left, view, hash);  // NodeHash, in place
    left.clear();
    index >>= 1;
  }
}

std::string MerkleBuilder::Root() const {
  std::string r;
  for (const std::string& node : edge_) {
    if (node.empty()) continue;
    r = r.empty() ? node : NodeHash(node, r);
  }
  return r.empty() ? EmptyRoot() : r;
}

void MemoryTree::Add(absl::string_view leaf_hash) {
  for (MerkleBuilder::NewNode& n : builder_.Add(leaf_hash)) {
    if (levels_.size() <= static_cast<size_t>(n.level)) {
      levels_.resize(n.level + 1);
    }
    levels_[n.level].push_back(std::move(n.hash));
  }
}

absl::StatusOr<std::string> MemoryTree::Node(int level, uint64_t index) const {
  if (level < 0 || static_cast<size_t>(level) >= levels_.size() ||
      index >= levels_[level].size()) {
    return absl::OutOfRangeError(
        absl::StrCat("node (", level, ", ", index, ") is not complete"));
  }
  return levels_[level][index];
}

}  // namespace nenep::merkle
