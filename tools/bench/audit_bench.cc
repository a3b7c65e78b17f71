// nenep-audit-bench: how long an auditor waits for an inclusion proof.
//
// Asks a running nenepd for a fresh signed tree head, then for the
// inclusion proof of `--iterations` events at random positions of that tree
// (one call at a time, after `--warmup` calls), checks every proof against
// the head's root, and prints the call latencies' percentiles (the time
// from sending the request to holding the proof, gRPC round trip
// included).
//
//   nenep-audit-bench --server=127.0.0.1:50051 --iterations=2000 [--json]

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"
#include "nenep/v1/audit.grpc.pb.h"
#include "storage/audit/merkle.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(int, iterations, 2000, "Proofs measured.");
ABSL_FLAG(int, warmup, 200, "Proofs asked for first, not measured.");
ABSL_FLAG(uint64_t, seed, 1, "Seed of the random positions.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a line.");

namespace {

double Percentile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t rank = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(rank, sorted.size() - 1)];
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "Inclusion-proof latency of a running nenepd, at random positions of "
      "its latest tree.\n  nenep-audit-bench --server=HOST:PORT "
      "[--iterations=N] [--json]");
  absl::ParseCommandLine(argc, argv);
  const int iterations = absl::GetFlag(FLAGS_iterations);
  const int warmup = absl::GetFlag(FLAGS_warmup);
  if (iterations < 1 || warmup < 0) {
    std::fprintf(stderr,
                 "nenep-audit-bench: --iterations must be >= 1 and --warmup "
                 ">= 0\n");
    return 2;
  }
  auto channel = grpc::CreateChannel(absl::GetFlag(FLAGS_server),
                                     grpc::InsecureChannelCredentials());
  auto stub = nenep::v1::Audit::NewStub(channel);

  nenep::v1::SignedTreeHead head;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    nenep::v1::GetTreeHeadRequest r;
    r.set_fresh(true);
    grpc::Status s = stub->GetTreeHead(&ctx, r, &head);
    if (!s.ok()) {
      std::fprintf(stderr, "nenep-audit-bench: GetTreeHead: %s\n",
                   s.error_message().c_str());
      return 2;
    }
  }
  const uint64_t size = head.tree_size();
  if (size == 0) {
    std::fprintf(stderr, "nenep-audit-bench: the log is empty\n");
    return 2;
  }

  std::mt19937_64 rng(absl::GetFlag(FLAGS_seed));
  std::uniform_int_distribution<uint64_t> position(1, size);
  std::vector<double> us;
  us.reserve(iterations);
  int bad = 0;
  size_t path_hashes = 0;
  for (int i = 0; i < warmup + iterations; ++i) {
    nenep::v1::GetInclusionProofRequest r;
    r.set_position(position(rng));
    r.set_tree_size(size);
    nenep::v1::InclusionProof proof;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(30));
    const absl::Time start = absl::Now();
    grpc::Status s = stub->GetInclusionProof(&ctx, r, &proof);
    const absl::Duration took = absl::Now() - start;
    const std::vector<std::string> path(proof.audit_path().begin(),
                                        proof.audit_path().end());
    if (!s.ok() ||
        nenep::merkle::LeafHash(proof.leaf_data()) != proof.leaf_hash() ||
        !nenep::merkle::VerifyInclusion(proof.leaf_hash(), r.position() - 1,
                                        size, path, head.root_hash())) {
      ++bad;
      if (bad == 1) {
        std::fprintf(stderr,
                     "nenep-audit-bench: the proof of position %llu does not "
                     "verify (%s)\n",
                     static_cast<unsigned long long>(r.position()),
                     s.ok() ? "wrong path or leaf" : s.error_message().c_str());
      }
      continue;
    }
    if (i >= warmup) {
      us.push_back(absl::ToDoubleMicroseconds(took));
      path_hashes += path.size();
    }
  }
  std::sort(us.begin(), us.end());
  const double p50 = Percentile(us, 0.50), p90 = Percentile(us, 0.90),
               p99 = Percentile(us, 0.99), max = us.empty() ? 0 : us.back();
  const double hashes =
      us.empty() ? 0 : static_cast<double>(path_hashes) / us.size();
  if (absl::GetFlag(FLAGS_json)) {
    std::printf(
        "{\"tree_size\":%llu,\"proofs\":%zu,\"failed\":%d,\"path_hashes\":"
        "%.1f,\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,\"max_us\":%.0f}"
        "\n",
        static_cast<unsigned long long>(size), us.size(), bad, hashes, p50, p90,
        p99, max);
  } else {
    std::printf(
        "inclusion proofs in a tree of %llu events: %zu verified (%d failed), "
        "%.1f hashes per path; p50 %.3f ms  p90 %.3f ms  p99 %.3f ms  max "
        "%.3f ms\n",
        static_cast<unsigned long long>(size), us.size(), bad, hashes,
        p50 / 1000, p90 / 1000, p99 / 1000, max / 1000);
  }
  return bad == 0 ? 0 : 1;
}
