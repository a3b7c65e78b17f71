// `nenep audit`: signed tree heads and proofs (issue 5).

#include <ostream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"
#include "grpcpp/client_context.h"
#include "nenep/v1/audit.grpc.pb.h"
#include "tools/cli/cli.h"

namespace nenep::cli {
namespace {

bool Number(const Context& ctx, const std::string& text, uint64_t* out) {
  if (!absl::SimpleAtoi(text, out)) {
    *ctx.err << "nenep: audit: '" << text << "' is not a number\n";
    return false;
  }
  return true;
}

int Fail(const Context& ctx, const grpc::Status& s) {
  *ctx.err << "nenep: audit failed: " << Describe(ctx, s) << "\n";
  return 1;
}

}  // namespace

int Audit(const Context& ctx, const std::vector<std::string>& args, bool fresh,
          uint64_t tree_size) {
  auto stub = v1::Audit::NewStub(ctx.channel);
  grpc::ClientContext call;
  SetDeadline(ctx, &call);
  const std::string sub = args.empty() ? "head" : args[0];
  if (sub == "head" && args.size() <= 1) {
    v1::GetTreeHeadRequest r;
    r.set_fresh(fresh);
    r.set_tree_size(tree_size);
    v1::SignedTreeHead h;
    grpc::Status s = stub->GetTreeHead(&call, r, &h);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(h) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "tree head: %d events\nroot:       %s\nsigned:     %d.%06d (Unix "
          "time)\npublic key: %s (key %s)\n",
          h.tree_size(), absl::BytesToHexString(h.root_hash()),
          h.timestamp().seconds(), h.timestamp().nanos() / 1000,
          absl::BytesToHexString(h.public_key()), h.key_id());
    }
    return 0;
  }
  if (sub == "proof" && args.size() == 2) {
    v1::GetInclusionProofRequest r;
    uint64_t position = 0;
    if (!Number(ctx, args[1], &position)) return 2;
    r.set_position(position);
    r.set_tree_size(tree_size);
    v1::InclusionProof p;
    grpc::Status s = stub->GetInclusionProof(&call, r, &p);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(p) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "event %d in the tree of %d: leaf %s, %d hashes in its audit path "
          "(--json for the proof)\n",
          p.position(), p.tree_size(), absl::BytesToHexString(p.leaf_hash()),
          p.audit_path_size());
    }
    return 0;
  }
  if (sub == "consistency" && (args.size() == 2 || args.size() == 3)) {
    v1::GetConsistencyProofRequest r;
    uint64_t first = 0, second = 0;
    if (!Number(ctx, args[1], &first)) return 2;
    if (args.size() == 3 && !Number(ctx, args[2], &second)) return 2;
    r.set_first_tree_size(first);
    r.set_second_tree_size(second);
    v1::ConsistencyProof c;
    grpc::Status s = stub->GetConsistencyProof(&call, r, &c);
    if (!s.ok()) return Fail(ctx, s);
    if (ctx.json) {
      *ctx.out << ToJson(c) << "\n";
    } else {
      *ctx.out << absl::StrFormat(
          "the tree of %d extends the tree of %d: %d hashes (--json for the "
          "proof)\n",
          c.second_tree_size(), c.first_tree_size(), c.hashes_size());
    }
    return 0;
  }
  *ctx.err << "nenep: audit: use head [--fresh --tree_size=N], proof "
              "POSITION [--tree_size=N] or consistency FIRST [SECOND]\n";
  return 2;
}

}  // namespace nenep::cli
