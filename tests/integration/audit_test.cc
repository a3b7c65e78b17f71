// The tamper-evident log over real gRPC: signed tree heads, inclusion and
// consistency proofs that verify offline with the public key (and fail for
// a wrong root or another key), precise statuses for bad requests, and a
// server that will not serve a store altered behind its back.

#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "google/protobuf/util/json_util.h"
#include "grpcpp/client_context.h"
#include "gtest/gtest.h"
#include "nenep/storage/v1/records.pb.h"
#include "nenep/v1/audit.grpc.pb.h"
#include "rocksdb/db.h"
#include "storage/audit/merkle.h"
#include "storage/audit/signing.h"
#include "storage/log/log_format.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using ::nenep::testing::D;
using ::nenep::testing::GrpcIs;
using ::nenep::testing::LogOnly;
using ::nenep::testing::RegularSession;
using ::nenep::testing::TestServer;
using ::testing::HasSubstr;
using ::testing::Not;

std::vector<v1::Event> Sessions(int n, const std::string& tag) {
  std::vector<v1::Event> out;
  for (int i = 0; i < n; ++i) {
    out.push_back(RegularSession(absl::StrCat(tag, i),
                                 absl::StrCat("cb", i % 7), D(2023, 3, 10)));
  }
  return out;
}

v1::SignedTreeHead Head(v1::Audit::Stub* stub, bool fresh, uint64_t size = 0) {
  grpc::ClientContext ctx;
  v1::GetTreeHeadRequest r;
  r.set_fresh(fresh);
  r.set_tree_size(size);
  v1::SignedTreeHead h;
  grpc::Status s = stub->GetTreeHead(&ctx, r, &h);
  EXPECT_TRUE(s.ok()) << s.error_message();
  return h;
}

bool SignatureHolds(const v1::SignedTreeHead& h,
                    const std::string& public_key) {
  return merkle::VerifySignature(
      public_key,
      merkle::TreeHeadBytes(
          h.tree_size(),
          h.timestamp().seconds() * 1000000 + h.timestamp().nanos() / 1000,
          h.root_hash()),
      h.signature());
}

std::vector<std::string> Hashes(
    const google::protobuf::RepeatedPtrField<std::string>& r) {
  return {r.begin(), r.end()};
}

// Runs `fn` on the log column family of the (closed) store in `data_dir`.
void EditStore(
    const std::string& data_dir,
    const std::function<void(rocksdb::DB*, rocksdb::ColumnFamilyHandle*)>& fn) {
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs;
  for (const char* name : {"default", storage::kLogCf, storage::kRequestsCf,
                           storage::kStateCf, storage::kMerkleCf}) {
    cfs.emplace_back(name, rocksdb::ColumnFamilyOptions());
  }
  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* db = nullptr;
  ASSERT_TRUE(
      rocksdb::DB::Open(rocksdb::DBOptions(), data_dir, cfs, &handles, &db)
          .ok());
  fn(db, handles[1]);
  for (auto* h : handles)
    db->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  delete db;
}

TEST(AuditTest, SignedHeadsAndProofsVerifyOfflineAndOnlyThere) {
  TestServer server(LogOnly());
  auto stub = v1::Audit::NewStub(server.NewChannel());
  ASSERT_TRUE(server.AppendBatch(Sessions(100, "a")).ok());
  const v1::SignedTreeHead first = Head(stub.get(), /*fresh=*/true);
  ASSERT_EQ(first.tree_size(), 100u);
  ASSERT_EQ(first.public_key().size(), 32u);
  EXPECT_EQ(first.key_id(), merkle::KeyId(first.public_key()));
  EXPECT_TRUE(SignatureHolds(first, first.public_key()));
  // Another key does not verify it; nor does a changed head.
  EXPECT_FALSE(
      SignatureHolds(first, merkle::SigningKey::Generate()->public_key()));
  v1::SignedTreeHead forged = first;
  forged.set_tree_size(99);
  EXPECT_FALSE(SignatureHolds(forged, first.public_key()));

  for (uint64_t position : {1, 2, 37, 64, 65, 100}) {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest r;
    r.set_position(position);
    r.set_tree_size(100);
    v1::InclusionProof proof;
    ASSERT_TRUE(stub->GetInclusionProof(&ctx, r, &proof).ok());
    EXPECT_EQ(proof.leaf_hash(), merkle::LeafHash(proof.leaf_data()));
    EXPECT_TRUE(merkle::VerifyInclusion(proof.leaf_hash(), position - 1, 100,
                                        Hashes(proof.audit_path()),
                                        first.root_hash()))
        << position;
    // The leaf is the stored event: it holds the event appended there.
    storage::v1::LogRecord record;
    ASSERT_TRUE(record.ParseFromString(proof.leaf_data()));
    EXPECT_EQ(record.type(), "SessionHeld");
    std::string wrong_root = first.root_hash();
    wrong_root[0] ^= 1;
    EXPECT_FALSE(merkle::VerifyInclusion(proof.leaf_hash(), position - 1, 100,
                                         Hashes(proof.audit_path()),
                                         wrong_root));
  }

  // The log grows; the new head is consistent with the old one.
  ASSERT_TRUE(server.AppendBatch(Sessions(29, "b")).ok());
  const v1::SignedTreeHead second = Head(stub.get(), /*fresh=*/true);
  ASSERT_EQ(second.tree_size(), 129u);
  EXPECT_TRUE(SignatureHolds(second, first.public_key()));
  {
    grpc::ClientContext ctx;
    v1::GetConsistencyProofRequest r;
    r.set_first_tree_size(100);
    r.set_second_tree_size(129);
    v1::ConsistencyProof proof;
    ASSERT_TRUE(stub->GetConsistencyProof(&ctx, r, &proof).ok());
    EXPECT_TRUE(merkle::VerifyConsistency(100, 129, first.root_hash(),
                                          second.root_hash(),
                                          Hashes(proof.hashes())));
    EXPECT_FALSE(merkle::VerifyConsistency(100, 129, second.root_hash(),
                                           second.root_hash(),
                                           Hashes(proof.hashes())));
  }
  // Heads are kept: the one for 100 can be asked for again; the latest
  // is the last signed.
  EXPECT_EQ(Head(stub.get(), false, 100).root_hash(), first.root_hash());
  EXPECT_EQ(Head(stub.get(), false).tree_size(), 129u);
  // The key survives a restart: the same public key signs.
  server.Restart();
  stub = v1::Audit::NewStub(server.NewChannel());
  EXPECT_EQ(Head(stub.get(), true).public_key(), first.public_key());
}

TEST(AuditTest, BadRequestsGetPreciseStatuses) {
  TestServer server(LogOnly());
  auto stub = v1::Audit::NewStub(server.NewChannel());
  ASSERT_TRUE(server.AppendBatch(Sessions(10, "a")).ok());
  Head(stub.get(), true);
  auto inclusion = [&](uint64_t position, uint64_t size) {
    grpc::ClientContext ctx;
    v1::GetInclusionProofRequest r;
    r.set_position(position);
    r.set_tree_size(size);
    v1::InclusionProof proof;
    return stub->GetInclusionProof(&ctx, r, &proof);
  };
  EXPECT_THAT(inclusion(0, 10), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT,
                                       HasSubstr("position 0")));
  EXPECT_THAT(inclusion(11, 10), GrpcIs(grpc::StatusCode::INVALID_ARGUMENT));
  EXPECT_THAT(inclusion(1, 11), GrpcIs(grpc::StatusCode::OUT_OF_RANGE,
                                       HasSubstr("larger than the tree")));
  EXPECT_TRUE(inclusion(10, 0).ok());  // the latest signed head's size
  grpc::ClientContext ctx;
  v1::GetConsistencyProofRequest r;
  r.set_first_tree_size(8);
  r.set_second_tree_size(5);
  v1::ConsistencyProof proof;
  EXPECT_THAT(stub->GetConsistencyProof(&ctx, r, &proof),
              GrpcIs(grpc::StatusCode::INVALID_ARGUMENT));
  grpc::ClientContext ctx2;
  v1::GetTreeHeadRequest h;
  h.set_tree_size(7);
  v1::SignedTreeHead head;
  EXPECT_THAT(stub->GetTreeHead(&ctx2, h, &head),
              GrpcIs(grpc::StatusCode::NOT_FOUND, HasSubstr("size 7")));
}

TEST(AuditTest, AServerWillNotServeAStoreAlteredBehindItsBack) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(30, "a")).ok());
  server.Stop();
  EditStore(server.dir() + "/data", [](rocksdb::DB* db,
                                       rocksdb::ColumnFamilyHandle* log) {
    std::string v;
    ASSERT_TRUE(
        db->Get(rocksdb::ReadOptions(), log, storage::LogKey(7), &v).ok());
    v[v.size() - 3] ^= 0x20;
    ASSERT_TRUE(
        db->Put(rocksdb::WriteOptions(), log, storage::LogKey(7), v).ok());
  });
  services::ServerOptions options = LogOnly();
  options.data_dir = server.dir() + "/data";
  options.listen = "127.0.0.1:0";
  absl::StatusOr<std::unique_ptr<services::Server>> s =
      services::Server::Start(options);
  ASSERT_TRUE(s.ok()) << s.status();
  EXPECT_THAT((*s)->WaitUntilServing(),
              testing::StatusIs(absl::StatusCode::kDataLoss,
                                HasSubstr("position 7 does not match")));
  ASSERT_TRUE((*s)->Shutdown(absl::Seconds(5)).ok());
}

// `nenep verify` over a stopped store: intact, then each kind of change
// made behind nenep's back is reported with its position and exit 1.
TEST(AuditTest, VerifyFindsAlteredRemovedAndReorderedEvents) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(40, "a")).ok());
  auto stub = v1::Audit::NewStub(server.NewChannel());
  const v1::SignedTreeHead head = Head(stub.get(), true);
  ASSERT_EQ(head.tree_size(), 40u);
  server.Stop();
  const std::string data = server.dir() + "/data";
  auto verify = [&](std::string* out, const std::string& key = "") {
    std::vector<std::string> argv = {testing::BinaryPath("tools/nenep"),
                                     "verify", "--data_dir=" + data};
    if (!key.empty()) argv.push_back("--public_key=" + key);
    return testing::RunCommand(argv, out);
  };
  std::string out;
  ASSERT_EQ(verify(&out, absl::BytesToHexString(head.public_key())), 0) << out;
  EXPECT_THAT(out, HasSubstr("40 events, Merkle tree of 40, 1 signed tree "
                             "head(s) checked"));
  EXPECT_THAT(out, HasSubstr("intact"));
  // Heads must be signed by the key the auditor trusts.
  EXPECT_EQ(verify(&out, std::string(64, 'a')), 1);
  EXPECT_THAT(out, HasSubstr("position 40: the tree head of size 40 is not "
                             "signed by key"));

  std::string v12, v20, v5, v6;
  EditStore(data, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Get({}, log, storage::LogKey(12), &v12).ok());
    std::string bad = v12;
    bad[bad.size() / 2] ^= 0x04;
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(12), bad).ok());
  });
  EXPECT_EQ(verify(&out), 1);
  EXPECT_THAT(out, HasSubstr("position 12: altered"));

  EditStore(data, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(12), v12).ok());
    ASSERT_TRUE(db->Get({}, log, storage::LogKey(20), &v20).ok());
    ASSERT_TRUE(db->Delete({}, log, storage::LogKey(20)).ok());
  });
  EXPECT_EQ(verify(&out), 1);
  EXPECT_THAT(out, HasSubstr("position 20: missing"));
  EXPECT_THAT(out, Not(HasSubstr("position 12")));

  EditStore(data, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(20), v20).ok());
    ASSERT_TRUE(db->Get({}, log, storage::LogKey(5), &v5).ok());
    ASSERT_TRUE(db->Get({}, log, storage::LogKey(6), &v6).ok());
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(5), v6).ok());
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(6), v5).ok());
  });
  EXPECT_EQ(verify(&out), 1);
  EXPECT_THAT(out, HasSubstr("position 5: out of place: it is the event of "
                             "position 6 (reordered)"));
  EXPECT_THAT(out, HasSubstr("position 6: out of place: it is the event of "
                             "position 5 (reordered)"));

  // Put back, the store is intact again.
  EditStore(data, [&](rocksdb::DB* db, rocksdb::ColumnFamilyHandle* log) {
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(5), v5).ok());
    ASSERT_TRUE(db->Put({}, log, storage::LogKey(6), v6).ok());
  });
  EXPECT_EQ(verify(&out), 0) << out;
}

// `nenep audit ... --json` to files, then nenep-verify-proof with no server:
// verified with the right key; refused with another key, an edited head, a
// proof for another event's bytes, or a rewritten history.
TEST(AuditTest, OfflineVerifierChecksWhatTheCliSaved) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(21, "a")).ok());
  const std::string dir = server.dir();
  auto nenep = [&](std::vector<std::string> args, const std::string& file) {
    std::vector<std::string> argv = {testing::BinaryPath("tools/nenep"),
                                     "--server=" + server.address(), "--json"};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(testing::RunCommand(argv, &out), 0) << out;
    std::ofstream(dir + "/" + file) << out;
    return out;
  };
  nenep({"audit", "head", "--fresh"}, "old.json");
  ASSERT_TRUE(server.AppendBatch(Sessions(12, "b")).ok());
  nenep({"audit", "head", "--fresh"}, "head.json");
  nenep({"audit", "proof", "17"}, "proof.json");
  nenep({"audit", "consistency", "21"}, "consistency.json");
  auto stub = v1::Audit::NewStub(server.NewChannel());
  const std::string key =
      absl::BytesToHexString(Head(stub.get(), false).public_key());

  auto check = [&](std::vector<std::string> args, std::string* out) {
    std::vector<std::string> argv = {
        testing::BinaryPath("tools/audit/nenep-verify-proof")};
    argv.insert(argv.end(), args.begin(), args.end());
    return testing::RunCommand(argv, out);
  };
  std::string out;
  ASSERT_EQ(check({"--public_key=" + key, "--head=" + dir + "/head.json",
                   "--proof=" + dir + "/proof.json"},
                  &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("the event at position 17 is in the log"));
  ASSERT_EQ(check({"--public_key=" + key, "--head=" + dir + "/head.json",
                   "--old_head=" + dir + "/old.json",
                   "--consistency=" + dir + "/consistency.json"},
                  &out),
            0)
      << out;
  EXPECT_THAT(out, HasSubstr("extends the log of 21 events unchanged"));

  // Another key.
  EXPECT_EQ(check({"--public_key=" +
                       absl::BytesToHexString(
                           merkle::SigningKey::Generate()->public_key()),
                   "--head=" + dir + "/head.json"},
                  &out),
            1);
  EXPECT_THAT(out, HasSubstr("is not signed by key"));
  // A head whose size was edited.
  std::string head_json = nenep({"audit", "head"}, "unused.json");
  const std::string size33 = "\"treeSize\":\"33\"";
  const size_t at = head_json.find(size33);
  ASSERT_NE(at, std::string::npos) << head_json;
  head_json.replace(at, size33.size(), "\"treeSize\":\"34\"");
  std::ofstream(dir + "/edited.json") << head_json;
  EXPECT_EQ(
      check({"--public_key=" + key, "--head=" + dir + "/edited.json"}, &out),
      1);
  // Another event's bytes under the proof of position 17.
  nenep({"audit", "proof", "18"}, "proof18.json");
  v1::InclusionProof p17, p18;
  {
    std::ifstream a(dir + "/proof.json"), b(dir + "/proof18.json");
    std::stringstream sa, sb;
    sa << a.rdbuf();
    sb << b.rdbuf();
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(sa.str(), &p17).ok());
    ASSERT_TRUE(
        google::protobuf::util::JsonStringToMessage(sb.str(), &p18).ok());
  }
  p17.set_leaf_data(p18.leaf_data());
  p17.set_leaf_hash(p18.leaf_hash());
  std::string forged;
  ASSERT_TRUE(google::protobuf::util::MessageToJsonString(p17, &forged).ok());
  std::ofstream(dir + "/forged.json") << forged;
  EXPECT_EQ(check({"--public_key=" + key, "--head=" + dir + "/head.json",
                   "--proof=" + dir + "/forged.json"},
                  &out),
            1);
  EXPECT_THAT(out, HasSubstr("position 17 is not in the tree of this head"));
}

// `nenep export` writes each event with its correction chain, leaf and
// proof under one signed head; nenep-verify-proof --export_file checks it
// offline and catches an edited line. CSV has the same rows.
TEST(AuditTest, ExportCarriesTheChainAndVerifiesOffline) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(20, "a")).ok());
  v1::Event retraction;
  *retraction.mutable_business_date() = D(2023, 3, 11);
  retraction.mutable_event_retracted()->set_target_position(3);
  retraction.mutable_event_retracted()->set_reason(
      v1::RETRACTION_REASON_DUPLICATE);
  const grpc::Status retracted = server.AppendBatch({retraction});
  ASSERT_TRUE(retracted.ok()) << retracted.error_message();
  const std::string dir = server.dir();
  auto nenep = [&](std::vector<std::string> args) {
    std::vector<std::string> argv = {testing::BinaryPath("tools/nenep"),
                                     "--server=" + server.address()};
    argv.insert(argv.end(), args.begin(), args.end());
    std::string out;
    EXPECT_EQ(testing::RunCommand(argv, &out), 0) << out;
    return out;
  };
  nenep({"export", "--out=" + dir + "/export.jsonl"});
  nenep({"export", "--format=csv", "--out=" + dir + "/export.csv"});
  std::ifstream in(dir + "/export.jsonl");
  std::vector<std::string> lines;
  for (std::string l; std::getline(in, l);) lines.push_back(l);
  ASSERT_EQ(lines.size(), 22u);  // the head, then 21 events
  EXPECT_THAT(lines[0], HasSubstr("\"treeHead\":{\"treeSize\":\"21\""));
  EXPECT_THAT(lines[3], HasSubstr("\"position\":3,"));
  EXPECT_THAT(lines[3], HasSubstr("\"retractedBy\":[21]"));
  EXPECT_THAT(lines[21], HasSubstr("\"retracts\":3"));
  EXPECT_THAT(lines[5], HasSubstr("\"leafHash\":\""));

  auto stub = v1::Audit::NewStub(server.NewChannel());
  const std::string key =
      absl::BytesToHexString(Head(stub.get(), false).public_key());
  auto check = [&](const std::string& file, std::string* out) {
    return testing::RunCommand(
        {testing::BinaryPath("tools/audit/nenep-verify-proof"),
         "--public_key=" + key, "--export_file=" + file},
        out);
  };
  std::string out;
  ASSERT_EQ(check(dir + "/export.jsonl", &out), 0) << out;
  EXPECT_THAT(out, HasSubstr("21 event(s)"));
  // An auditor's copy edited: attendance changed on one line.
  std::string edited = lines[7];
  const std::string present = "\"present\":9";
  const size_t at = edited.find(present);
  ASSERT_NE(at, std::string::npos) << edited;
  edited.replace(at, present.size(), "\"present\":8");
  {
    std::ofstream f(dir + "/edited.jsonl");
    for (size_t k = 0; k < lines.size(); ++k) {
      f << (k == 7 ? edited : lines[k]) << "\n";
    }
  }
  EXPECT_EQ(check(dir + "/edited.jsonl", &out), 1);
  EXPECT_THAT(out, HasSubstr("line 8: position 7: the line's event differs "
                             "from its signed bytes"));

  std::ifstream csv(dir + "/export.csv");
  std::vector<std::string> rows;
  for (std::string l; std::getline(csv, l);) rows.push_back(l);
  ASSERT_EQ(rows.size(), 22u);  // header + 21
  EXPECT_EQ(rows[0].substr(0, 3), "\xEF\xBB\xBF");
  EXPECT_THAT(rows[0], HasSubstr("position,recorded_at,stream"));
  EXPECT_THAT(rows[3], ::testing::StartsWith("3,"));
}

// Usage errors of the audit tools exit 2 with a message that says what to
// give, and write nothing.
TEST(AuditTest, AuditToolsRefuseBadArguments) {
  TestServer server(LogOnly());
  ASSERT_TRUE(server.AppendBatch(Sessions(3, "a")).ok());
  const std::string dir = server.dir();
  std::string out;
  EXPECT_EQ(testing::RunCommand({testing::BinaryPath("tools/nenep"),
                                 "--server=" + server.address(), "export",
                                 "--format=xml", "--out=" + dir + "/x.out"},
                                &out),
            2);
  EXPECT_THAT(out, HasSubstr("jsonl or csv"));
  EXPECT_FALSE(std::ifstream(dir + "/x.out").good());
  EXPECT_EQ(
      testing::RunCommand({testing::BinaryPath("tools/nenep"), "verify",
                           "--data_dir=" + dir + "/data", "--public_key=zz"},
                          &out),
      2);
  EXPECT_THAT(out, HasSubstr("64 hex digits"));
  EXPECT_EQ(
      testing::RunCommand({testing::BinaryPath("tools/nenep"), "verify"}, &out),
      2);
  EXPECT_THAT(out, HasSubstr("--data_dir"));
  EXPECT_EQ(testing::RunCommand(
                {testing::BinaryPath("tools/audit/nenep-verify-proof")}, &out),
            2);
  EXPECT_THAT(out, HasSubstr("--public_key"));
  EXPECT_EQ(testing::RunCommand(
                {testing::BinaryPath("tools/audit/nenep-verify-proof"),
                 "--public_key=" + std::string(64, 'a'),
                 "--head=" + dir + "/no-such-file.json"},
                &out),
            2);
  EXPECT_THAT(out, HasSubstr("cannot read"));
}

}  // namespace
}  // namespace nenep
