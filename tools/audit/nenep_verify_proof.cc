// nenep-verify-proof: checks, with no server, what nenep's Audit service
// handed out: a signed tree head against the public key, an event's
// inclusion proof against that head, or a consistency proof between two
// heads. Inputs are the JSON that `nenep audit head|proof|consistency`
// prints (protobuf JSON of nenep.v1.SignedTreeHead, InclusionProof,
// ConsistencyProof).
//
//   nenep-verify-proof --public_key=HEX --head=head.json [--proof=proof.json]
//   nenep-verify-proof --public_key=HEX --head=new.json --old_head=old.json
//                      --consistency=consistency.json
//   nenep-verify-proof --public_key=HEX --export_file=export.jsonl
//
// Exit codes: 0 verified, 1 does not verify (says why), 2 usage or input
// error.

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/struct.pb.h"
#include "google/protobuf/util/json_util.h"
#include "google/protobuf/util/message_differencer.h"
#include "nenep/storage/v1/records.pb.h"
#include "nenep/v1/audit.pb.h"
#include "storage/audit/merkle.h"
#include "storage/audit/signing.h"

ABSL_FLAG(std::string, public_key, "",
          "The server's Ed25519 public key, 64 hex digits (nenep audit head "
          "prints it). Required: a head is only as good as the key.");
ABSL_FLAG(std::string, head, "", "A signed tree head (JSON). Required.");
ABSL_FLAG(std::string, proof, "",
          "An inclusion proof (JSON) to check against --head.");
ABSL_FLAG(std::string, old_head, "",
          "An earlier signed tree head (JSON), with --consistency.");
ABSL_FLAG(std::string, consistency, "",
          "A consistency proof (JSON) from --old_head to --head.");
ABSL_FLAG(std::string, export_file, "",
          "An export made by `nenep export` (JSON Lines): its tree head and "
          "every event in it are checked (replaces --head).");

namespace {

template <typename M>
bool Load(const std::string& path, M* out) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "nenep-verify-proof: cannot read " << path << "\n";
    return false;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  if (!google::protobuf::util::JsonStringToMessage(ss.str(), out, o).ok()) {
    std::cerr << "nenep-verify-proof: " << path << " is not a "
              << M::descriptor()->full_name() << " in JSON\n";
    return false;
  }
  return true;
}

int64_t Micros(const google::protobuf::Timestamp& t) {
  return t.seconds() * 1000000 + t.nanos() / 1000;
}

bool HeadHolds(const nenep::v1::SignedTreeHead& h, const std::string& key,
               const std::string& name) {
  if (!nenep::merkle::VerifySignature(
          key,
          nenep::merkle::TreeHeadBytes(h.tree_size(), Micros(h.timestamp()),
                                       h.root_hash()),
          h.signature())) {
    std::cout << "DOES NOT VERIFY: " << name << " (size " << h.tree_size()
              << ") is not signed by key " << nenep::merkle::KeyId(key) << "\n";
    return false;
  }
  return true;
}

int Fail(const std::string& why) {
  std::cout << "DOES NOT VERIFY: " << why << "\n";
  return 1;
}

// Checks every line of an export; prints each problem with its line and
// position. 0 if all hold.
int CheckExport(const std::string& path, const std::string& key) {
  std::ifstream in(path);
  if (!in) {
    std::cerr << "nenep-verify-proof: cannot read " << path << "\n";
    return 2;
  }
  std::string line;
  if (!std::getline(in, line)) return Fail("the export is empty");
  google::protobuf::Struct first;
  nenep::v1::SignedTreeHead head;
  std::string head_json;
  if (!google::protobuf::util::JsonStringToMessage(line, &first).ok() ||
      !first.fields().contains("treeHead") ||
      !google::protobuf::util::MessageToJsonString(
           first.fields().at("treeHead"), &head_json)
           .ok() ||
      !google::protobuf::util::JsonStringToMessage(head_json, &head).ok()) {
    return Fail("the first line is not the export's tree head");
  }
  if (!HeadHolds(head, key, "the export's tree head")) return 1;
  int problems = 0;
  int64_t checked = 0;
  for (int number = 2; std::getline(in, line); ++number) {
    auto problem = [&](const std::string& what) {
      std::cout << "line " << number << ": " << what << "\n";
      ++problems;
    };
    google::protobuf::Struct e;
    if (!google::protobuf::util::JsonStringToMessage(line, &e).ok()) {
      problem("not JSON");
      continue;
    }
    const auto& f = e.fields();
    auto str = [&](const char* k) {
      return f.contains(k) ? f.at(k).string_value() : std::string();
    };
    const uint64_t position =
        f.contains("position")
            ? static_cast<uint64_t>(f.at("position").number_value())
            : 0;
    std::string leaf_data;
    if (!absl::Base64Unescape(str("leafData"), &leaf_data)) {
      problem("leafData is not base64");
      continue;
    }
    const std::string leaf = nenep::merkle::LeafHash(leaf_data);
    if (absl::BytesToHexString(leaf) != str("leafHash")) {
      problem(absl::StrCat("position ", position,
                           ": its bytes do not hash to its leafHash"));
      continue;
    }
    std::vector<std::string> path;
    if (f.contains("auditPath")) {
      for (const auto& v : f.at("auditPath").list_value().values()) {
        path.push_back(absl::HexStringToBytes(v.string_value()));
      }
    }
    if (position == 0 ||
        !nenep::merkle::VerifyInclusion(leaf, position - 1, head.tree_size(),
                                        path, head.root_hash())) {
      problem(absl::StrCat("position ", position,
                           " is not in the log under the export's head"));
      continue;
    }
    // The readable fields must say what the signed bytes say.
    nenep::storage::v1::LogRecord record;
    nenep::v1::Event signed_event, shown;
    std::string shown_json;
    if (!record.ParseFromString(leaf_data) ||
        !signed_event.ParseFromString(record.payload())) {
      problem(absl::StrCat("position ", position,
                           ": its bytes are not a log record"));
      continue;
    }
    if (!f.contains("event") ||
        !google::protobuf::util::MessageToJsonString(f.at("event"), &shown_json)
             .ok() ||
        !google::protobuf::util::JsonStringToMessage(shown_json, &shown).ok() ||
        !google::protobuf::util::MessageDifferencer::Equals(shown,
                                                            signed_event) ||
        str("type") != record.type() || str("stream") != record.stream()) {
      problem(absl::StrCat("position ", position,
                           ": the line's event differs from its signed bytes"));
      continue;
    }
    ++checked;
  }
  if (problems > 0) {
    std::cout << "DOES NOT VERIFY: " << problems << " problem(s) in " << path
              << "\n";
    return 1;
  }
  std::cout << checked << " event(s) of " << path
            << " are in the log under its tree head of " << head.tree_size()
            << " events, signed by key " << nenep::merkle::KeyId(key)
            << "\nverified\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "checks nenep tree heads and proofs offline (see the file's header).");
  absl::ParseCommandLine(argc, argv);
  const std::string key =
      absl::HexStringToBytes(absl::GetFlag(FLAGS_public_key));
  if (key.size() == 32 && !absl::GetFlag(FLAGS_export_file).empty()) {
    return CheckExport(absl::GetFlag(FLAGS_export_file), key);
  }
  if (key.size() != 32 || absl::GetFlag(FLAGS_head).empty()) {
    std::cerr << "nenep-verify-proof: give --public_key (64 hex digits) and "
                 "--head (see --help)\n";
    return 2;
  }
  nenep::v1::SignedTreeHead head;
  if (!Load(absl::GetFlag(FLAGS_head), &head)) return 2;
  if (!HeadHolds(head, key, "the tree head")) return 1;
  std::cout << "tree head: " << head.tree_size() << " events, root "
            << absl::BytesToHexString(head.root_hash()) << ", signed by key "
            << nenep::merkle::KeyId(key) << "\n";

  if (!absl::GetFlag(FLAGS_proof).empty()) {
    nenep::v1::InclusionProof p;
    if (!Load(absl::GetFlag(FLAGS_proof), &p)) return 2;
    if (p.tree_size() != head.tree_size()) {
      return Fail(absl::StrCat("the proof is for a tree of ", p.tree_size(),
                               " events, the head for ", head.tree_size()));
    }
    if (nenep::merkle::LeafHash(p.leaf_data()) != p.leaf_hash()) {
      return Fail("the event's bytes do not hash to the proof's leaf");
    }
    if (!nenep::merkle::VerifyInclusion(
            p.leaf_hash(), p.position() - 1, p.tree_size(),
            std::vector<std::string>(p.audit_path().begin(),
                                     p.audit_path().end()),
            head.root_hash())) {
      return Fail(absl::StrCat("the event at position ", p.position(),
                               " is not in the tree of this head"));
    }
    std::cout << "the event at position " << p.position()
              << " is in the log under this head\n";
  }
  if (!absl::GetFlag(FLAGS_consistency).empty()) {
    nenep::v1::SignedTreeHead old;
    nenep::v1::ConsistencyProof c;
    if (absl::GetFlag(FLAGS_old_head).empty()) {
      std::cerr << "nenep-verify-proof: --consistency needs --old_head\n";
      return 2;
    }
    if (!Load(absl::GetFlag(FLAGS_old_head), &old) ||
        !Load(absl::GetFlag(FLAGS_consistency), &c)) {
      return 2;
    }
    if (!HeadHolds(old, key, "the old tree head")) return 1;
    if (c.first_tree_size() != old.tree_size() ||
        c.second_tree_size() != head.tree_size()) {
      return Fail("the consistency proof is for other tree sizes");
    }
    if (!nenep::merkle::VerifyConsistency(
            old.tree_size(), head.tree_size(), old.root_hash(),
            head.root_hash(),
            std::vector<std::string>(c.hashes().begin(), c.hashes().end()))) {
      return Fail(absl::StrCat("the log of ", head.tree_size(),
                               " events does not extend the log of ",
                               old.tree_size(), ": history was rewritten"));
    }
    std::cout << "the log of " << head.tree_size()
              << " events extends the log of " << old.tree_size()
              << " events unchanged\n";
  }
  std::cout << "verified\n";
  return 0;
}
