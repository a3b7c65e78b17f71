// RFC 6962 Merkle trees: roots against the Certificate Transparency test
// vectors and a naive recursive MTH; every inclusion and consistency proof
// up to 70 leaves verifies (sizes 1, powers of two and one past them
// included), and fails against a wrong root, a wrong leaf, a wrong size or
// a changed proof.

#include "storage/audit/merkle.h"

#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace nenep::merkle {
namespace {

std::string Hex(const std::string& s) { return absl::BytesToHexString(s); }

// MTH of RFC 6962 section 2.1, straight from the definition.
std::string NaiveRoot(const std::vector<std::string>& leaves, size_t a,
                      size_t n) {
  if (n == 0) return EmptyRoot();
  if (n == 1) return LeafHash(leaves[a]);
  size_t k = 1;
  while (k << 1 < n) k <<= 1;
  return NodeHash(NaiveRoot(leaves, a, k), NaiveRoot(leaves, a + k, n - k));
}

std::vector<std::string> TestLeaves() {
  return {"",
          std::string("\x00", 1),
          "\x10",
          "\x20\x21",
          "\x30\x31",
          "\x40\x41\x42\x43",
          "\x50\x51\x52\x53\x54\x55\x56\x57",
          "\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f"};
}

TEST(MerkleTest, RootsMatchTheCertificateTransparencyVectors) {
  const std::vector<std::string> want = {
      "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
      "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
      "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
      "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
      "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
      "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
      "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
      "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"};
  MemoryTree tree;
  std::vector<std::string> leaves = TestLeaves();
  EXPECT_EQ(Hex(*Root(tree, 0)),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  for (size_t i = 0; i < leaves.size(); ++i) {
    tree.Add(LeafHash(leaves[i]));
    EXPECT_EQ(Hex(*Root(tree, i + 1)), want[i]) << "size " << i + 1;
  }
}

class MerkleProofTest : public ::testing::Test {
 protected:
  static constexpr size_t kLeaves = 70;
  MerkleProofTest() {
    for (size_t i = 0; i < kLeaves; ++i) {
      leaves_.push_back(absl::StrCat("event ", i));
      tree_.Add(LeafHash(leaves_.back()));
    }
  }
  std::vector<std::string> leaves_;
  MemoryTree tree_;
};

TEST_F(MerkleProofTest, RootsOfEverySizeMatchTheDefinition) {
  for (size_t n = 0; n <= kLeaves; ++n) {
    EXPECT_EQ(*Root(tree_, n), NaiveRoot(leaves_, 0, n)) << "size " << n;
  }
}

TEST_F(MerkleProofTest, EveryInclusionProofVerifiesAndOnlyForItsLeaf) {
  for (uint64_t size = 1; size <= kLeaves; ++size) {
    const std::string root = *Root(tree_, size);
    const std::string other = *Root(tree_, size == 1 ? 2 : size - 1);
    for (uint64_t i = 0; i < size; ++i) {
      absl::StatusOr<std::vector<std::string>> proof =
          InclusionProof(tree_, i, size);
      ASSERT_TRUE(proof.ok()) << proof.status();
      const std::string leaf = LeafHash(leaves_[i]);
      ASSERT_TRUE(VerifyInclusion(leaf, i, size, *proof, root))
          << "leaf " << i << " of " << size;
      EXPECT_FALSE(VerifyInclusion(leaf, i, size, *proof, other));
      EXPECT_FALSE(VerifyInclusion(LeafHash("forged"), i, size, *proof, root));
      if (size > 1) {
        EXPECT_FALSE(VerifyInclusion(leaf, (i + 1) % size, size, *proof, root))
            << "leaf " << i << " of " << size;
      }
      if (!proof->empty()) {
        std::vector<std::string> bad = *proof;
        bad.back()[0] ^= 1;
        EXPECT_FALSE(VerifyInclusion(leaf, i, size, bad, root));
        bad = *proof;
        bad.pop_back();
        EXPECT_FALSE(VerifyInclusion(leaf, i, size, bad, root));
      }
    }
  }
  EXPECT_FALSE(InclusionProof(tree_, 5, 5).ok());
}

TEST_F(MerkleProofTest, EveryConsistencyProofVerifiesAndFailsWhenWrong) {
  for (uint64_t n = 1; n <= kLeaves; ++n) {
    const std::string root_n = *Root(tree_, n);
    for (uint64_t m = 0; m <= n; ++m) {
      const std::string root_m = *Root(tree_, m);
      absl::StatusOr<std::vector<std::string>> proof =
          ConsistencyProof(tree_, m, n);
      ASSERT_TRUE(proof.ok()) << proof.status();
      ASSERT_TRUE(VerifyConsistency(m, n, root_m, root_n, *proof))
          << m << " -> " << n;
      if (m > 0 && m < n) {
        EXPECT_FALSE(VerifyConsistency(m, n, root_n, root_n, *proof));
        EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_m, *proof));
        std::vector<std::string> bad = *proof;
        bad.front()[5] ^= 0x40;
        EXPECT_FALSE(VerifyConsistency(m, n, root_m, root_n, bad))
            << m << " -> " << n;
        if (m + 1 < n) {
          EXPECT_FALSE(VerifyConsistency(m + 1, n, root_m, root_n, *proof));
        }
      }
    }
  }
  EXPECT_FALSE(ConsistencyProof(tree_, 6, 5).ok());
}

TEST(MerkleBuilderTest, ResumesFromItsEdge) {
  MerkleBuilder a;
  MemoryTree whole;
  for (int i = 0; i < 37; ++i) {
    a.Add(LeafHash(absl::StrCat(i)));
    whole.Add(LeafHash(absl::StrCat(i)));
  }
  MerkleBuilder b(a.size(), a.Edge());
  for (int i = 37; i < 64; ++i) {
    std::vector<MerkleBuilder::NewNode> got = b.Add(LeafHash(absl::StrCat(i)));
    whole.Add(LeafHash(absl::StrCat(i)));
    for (const MerkleBuilder::NewNode& n : got) {
      EXPECT_EQ(n.hash, *whole.Node(n.level, n.index));
    }
  }
  EXPECT_EQ(b.Root(), *Root(whole, 64));
  // Leaf 63 completes the tree of 64: levels 0 to 6.
  EXPECT_EQ(b.Add(LeafHash("64")).size(), 1u);
  EXPECT_EQ(*whole.Node(6, 0), *Root(whole, 64));
}

}  // namespace
}  // namespace nenep::merkle
