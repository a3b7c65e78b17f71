// Access control over real TLS: a CA and certificates made with OpenSSL at
// test time, nenepd with mutual TLS and an access file, and every role
// allowed and refused as services/auth/access_control.h says.

#include <chrono>
#include <fstream>
#include <iterator>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gmock/gmock.h"
#include "grpcpp/grpcpp.h"
#include "gtest/gtest.h"
#include "nenep/v1/audit.grpc.pb.h"
#include "nenep/v1/groups.grpc.pb.h"
#include "nenep/v1/subscribe.grpc.pb.h"
#include "storage/common/sha256.h"
#include "tests/testing/events.h"
#include "tests/testing/process.h"
#include "tests/testing/temp_dir.h"
#include "tests/testing/test_server.h"

namespace nenep {
namespace {

using testing::D;
using ::testing::HasSubstr;

std::string Read(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void Openssl(const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/usr/bin/openssl"};
  argv.insert(argv.end(), args.begin(), args.end());
  std::string out;
  ASSERT_EQ(testing::RunCommand(argv, &out), 0) << out;
}

// A CA, a server certificate for localhost / 127.0.0.1, client
// certificates by common name, and a second CA nenepd does not trust.
class Pki {
 public:
  explicit Pki(const std::string& dir) : dir_(dir) {
    Ca("ca");
    Ca("rogue-ca");
    std::ofstream(dir_ + "/server.ext")
        << "subjectAltName=DNS:localhost,IP:127.0.0.1\n";
    Leaf("server", "localhost", "ca", dir_ + "/server.ext");
  }
  void Client(const std::string& cn, const std::string& ca = "ca") {
    Leaf(cn, cn, ca, "");
  }
  std::string Path(const std::string& name) const { return dir_ + "/" + name; }

 private:
  void Ca(const std::string& name) {
    Openssl({"req", "-x509", "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-keyout",
             Path(name + ".key"), "-out", Path(name + ".pem"), "-days", "2",
             "-subj", "/CN=" + name});
  }
  void Leaf(const std::string& name, const std::string& cn,
            const std::string& ca, const std::string& ext) {
    Openssl({"req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-keyout", Path(name + ".key"), "-out",
             Path(name + ".csr"), "-subj", "/CN=" + cn});
    std::vector<std::string> sign = {"x509",
                                     "-req",
                                     "-in",
                                     Path(name + ".csr"),
                                     "-CA",
                                     Path(ca + ".pem"),
                                     "-CAkey",
                                     Path(ca + ".key"),
                                     "-CAcreateserial",
                                     "-out",
                                     Path(name + ".pem"),
                                     "-days",
                                     "2"};
    if (!ext.empty()) {
      sign.push_back("-extfile");
      sign.push_back(ext);
    }
    Openssl(sign);
  }
  std::string dir_;
};

std::string Sha256Hex(const std::string& s) {
  Sha256 h;
  h.Update(s);
  return HexEncode(h.Finish());
}

class AuthTest : public ::testing::Test {
 protected:
  void SetUp() override {
    pki_ = std::make_unique<Pki>(dir_.path());
    for (const char* cn : {"admin", "writer-a", "reader-a", "auditor"}) {
      pki_->Client(cn);
    }
    pki_->Client("intruder", "rogue-ca");
    std::ofstream(dir_.path() + "/access")
        << "# principals of the test\n"
        << "name=admin role=admin cert_cn=admin\n"
        << "name=writer-a role=writer scope=dbA cert_cn=writer-a\n"
        << "name=reader-a role=reader scope=dbA cert_cn=reader-a\n"
        << "name=auditor role=auditor cert_cn=auditor\n"
        << "name=report-job role=reader scope=* token_sha256="
        << Sha256Hex("s3cret-token") << "\n";
    services::ServerOptions o;
    o.tls_cert_file = pki_->Path("server.pem");
    o.tls_key_file = pki_->Path("server.key");
    o.tls_client_ca_file = pki_->Path("ca.pem");
    o.access.auth_file = dir_.path() + "/access";
    Customize(&o);
    server_ = std::make_unique<testing::TestServer>(o);
    admin_ = Connect("admin");
    Seed();
  }
  virtual void Customize(services::ServerOptions*) {}

  // A TLS channel with the client certificate of `cn` ("" for none).
  std::shared_ptr<grpc::Channel> Connect(const std::string& cn) {
    grpc::SslCredentialsOptions ssl;
    ssl.pem_root_certs = Read(pki_->Path("ca.pem"));
    if (!cn.empty()) {
      ssl.pem_cert_chain = Read(pki_->Path(cn + ".pem"));
      ssl.pem_private_key = Read(pki_->Path(cn + ".key"));
    }
    grpc::ChannelArguments args;
    args.SetSslTargetNameOverride("localhost");
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    return grpc::CreateCustomChannel(server_->address(),
                                     grpc::SslCredentials(ssl), args);
  }

  grpc::Status Append(const std::shared_ptr<grpc::Channel>& channel,
                      const std::vector<v1::Event>& events,
                      const std::string& token = "") {
    v1::BatchAppendRequest r;
    for (const v1::Event& e : events) *r.add_entries()->mutable_event() = e;
    grpc::ClientContext call;
    call.set_deadline(std::chrono::system_clock::now() +
                      std::chrono::seconds(10));
    if (!token.empty()) call.AddMetadata("authorization", "Bearer " + token);
    v1::BatchAppendResponse resp;
    return v1::EventLog::NewStub(channel)->BatchAppend(&call, r, &resp);
  }

  // Who appended the event at `position`, as the log records it.
  std::string PrincipalAt(uint64_t position) {
    grpc::ClientContext call;
    v1::GetEventRequest get;
    get.set_position(position);
    v1::RecordedEvent e;
    EXPECT_TRUE(v1::EventLog::NewStub(admin_)->GetEvent(&call, get, &e).ok());
    return e.principal();
  }

  uint64_t Head() {
    grpc::ClientContext call;
    v1::ServerStatus status;
    EXPECT_TRUE(v1::Admin::NewStub(admin_)->GetStatus(&call, {}, &status).ok());
    return status.head_position();
  }

  void Seed() {
    using testing::UnitCreated;
    ASSERT_TRUE(
        Append(admin_, {UnitCreated("blk", v1::UNIT_KIND_DIRECT_UNDER_CENTRAL,
                                    "Đảng bộ Khối", "", D(2020, 1, 1)),
                        UnitCreated("dbA", v1::UNIT_KIND_BASE_PARTY_COMMITTEE,
                                    "Đảng bộ A", "blk", D(2020, 1, 1)),
                        UnitCreated("dbB", v1::UNIT_KIND_BASE_PARTY_COMMITTEE,
                                    "Đảng bộ B", "blk", D(2020, 1, 1)),
                        UnitCreated("cA1", v1::UNIT_KIND_ATTACHED_CELL,
                                    "Chi bộ A1", "dbA", D(2020, 1, 1)),
                        UnitCreated("cA2", v1::UNIT_KIND_ATTACHED_CELL,
                                    "Chi bộ A2", "dbA", D(2020, 1, 1)),
                        UnitCreated("cB1", v1::UNIT_KIND_ATTACHED_CELL,
                                    "Chi bộ B1", "dbB", D(2020, 1, 1)),
                        testing::MemberJoined("mA", "cA1", D(2020, 1, 2)),
                        testing::MemberJoined("mB", "cB1", D(2020, 1, 2))})
            .ok());
  }

  testing::TempDir dir_;
  std::unique_ptr<Pki> pki_;
  std::unique_ptr<testing::TestServer> server_;
  std::shared_ptr<grpc::Channel> admin_;
};

TEST_F(AuthTest, NoCertificateOrAWrongCaIsRefused) {
  // No certificate and no token: the server does not know who calls.
  grpc::ClientContext call;
  v1::ServerStatus status;
  grpc::Status s =
      v1::Admin::NewStub(Connect(""))->GetStatus(&call, {}, &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  EXPECT_THAT(s.error_message(), HasSubstr("no client certificate"));

  // A certificate of another CA: the handshake fails.
  grpc::ClientContext call2;
  call2.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
  s = v1::Admin::NewStub(Connect("intruder"))->GetStatus(&call2, {}, &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE) << s.error_message();

  // A plaintext client gets nothing from a TLS listener.
  grpc::ClientContext call3;
  call3.set_deadline(std::chrono::system_clock::now() +
                     std::chrono::seconds(5));
  s = v1::Admin::NewStub(server_->NewChannel())->GetStatus(&call3, {}, &status);
  EXPECT_FALSE(s.ok());

  // An unknown bearer token is refused too; the known one gets in.
  grpc::ClientContext call4;
  call4.AddMetadata("authorization", "Bearer guessed");
  s = v1::Admin::NewStub(Connect(""))->GetStatus(&call4, {}, &status);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAUTHENTICATED);
  grpc::ClientContext call5;
  call5.AddMetadata("authorization", "Bearer s3cret-token");
  EXPECT_TRUE(
      v1::Admin::NewStub(Connect(""))->GetStatus(&call5, {}, &status).ok());
}

TEST_F(AuthTest, AWriterAppendsOnlyInItsScopeAndIsNamedOnItsEvents) {
  auto writer = Connect("writer-a");
  const uint64_t head = Head();
  // Its own đảng bộ: allowed, and the event names the writer.
  ASSERT_TRUE(Append(writer, {testing::RegularSession("s-a", "cA1",
                                                      D(2023, 1, 10), 1, 1)})
                  .ok());
  EXPECT_EQ(Head(), head + 1);
  EXPECT_EQ(PrincipalAt(head + 1), "writer-a");

  // A token of another principal on the same call does not change who it
  // is: the certificate decides.
  ASSERT_TRUE(
      Append(writer,
             {testing::RegularSession("s-a2", "cA1", D(2023, 2, 10), 1, 1)},
             "s3cret-token")
          .ok());
  EXPECT_EQ(PrincipalAt(head + 2), "writer-a");

  // Another đảng bộ's cell: refused, naming the unit, nothing written.
  grpc::Status s = Append(
      writer, {testing::RegularSession("s-b", "cB1", D(2023, 1, 10), 1, 1)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("cB1"));
  // A batch with one event outside the scope writes none of it.
  s = Append(writer,
             {testing::RegularSession("s-a3", "cA1", D(2023, 1, 11), 1, 1),
              testing::RegularSession("s-b2", "cB1", D(2023, 1, 11), 1, 1)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("entries[1]"));
  // Moving a unit out of the scope, or into it from outside: refused.
  s = Append(writer, {testing::Moved("cA2", "dbA", "dbB", D(2023, 3, 1))});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("dbB"));
  s = Append(writer, {testing::Moved("cB1", "dbB", "dbA", D(2023, 3, 1))});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  // A new unit under another đảng bộ: refused.
  s = Append(writer, {testing::UnitCreated("cB2", v1::UNIT_KIND_ATTACHED_CELL,
                                           "Chi bộ B2", "dbB", D(2023, 1, 1))});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_EQ(Head(), head + 2);
  // Within the scope a new cell is fine.
  EXPECT_TRUE(
      Append(writer, {testing::UnitCreated("cA3", v1::UNIT_KIND_ATTACHED_CELL,
                                           "Chi bộ A3", "dbA", D(2023, 1, 1))})
          .ok());
}

TEST_F(AuthTest, AppendSessionsAreGatedAsAppends) {
  using Session = grpc::ClientReaderWriter<v1::AppendSessionRequest,
                                           v1::AppendSessionResponse>;
  const uint64_t head = Head();
  {
    // A reader's session is refused as a whole.
    grpc::ClientContext call;
    std::unique_ptr<Session> session =
        v1::EventLog::NewStub(Connect("reader-a"))->AppendSession(&call);
    session->WritesDone();
    const grpc::Status s = session->Finish();
    EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
    EXPECT_THAT(s.error_message(), HasSubstr("reader-a"));
  }
  // A writer's appends are checked one by one against its scope.
  grpc::ClientContext call;
  std::unique_ptr<Session> session =
      v1::EventLog::NewStub(Connect("writer-a"))->AppendSession(&call);
  v1::AppendSessionRequest inside, outside;
  inside.set_correlation_id(1);
  *inside.mutable_append()->add_events() =
      testing::RegularSession("s-in", "cA1", D(2023, 1, 10), 1, 1);
  outside.set_correlation_id(2);
  *outside.mutable_append()->add_events() =
      testing::RegularSession("s-out", "cB1", D(2023, 1, 10), 1, 1);
  v1::AppendSessionResponse answer;
  ASSERT_TRUE(session->Write(outside));
  ASSERT_TRUE(session->Read(&answer));
  EXPECT_EQ(answer.code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(answer.message(), HasSubstr("cB1"));
  ASSERT_TRUE(session->Write(inside));
  ASSERT_TRUE(session->Read(&answer));
  EXPECT_EQ(answer.code(), grpc::StatusCode::OK) << answer.message();
  session->WritesDone();
  EXPECT_TRUE(session->Finish().ok());
  EXPECT_EQ(Head(), head + 1);
  EXPECT_EQ(PrincipalAt(head + 1), "writer-a");
}

TEST_F(AuthTest, EachRoleIsAllowedAndRefusedAsDocumented) {
  auto reader = Connect("reader-a");
  auto auditor = Connect("auditor");
  auto writer = Connect("writer-a");
  // A reader cannot append.
  grpc::Status s = Append(
      reader, {testing::RegularSession("s-r", "cA1", D(2023, 1, 10), 1, 1)});
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("reader-a"));
  // Proofs are for auditors and admins.
  for (auto& [channel, ok] :
       std::vector<std::pair<std::shared_ptr<grpc::Channel>, bool>>{
           {reader, false}, {writer, false}, {auditor, true}, {admin_, true}}) {
    grpc::ClientContext call;
    v1::GetTreeHeadRequest r;
    r.set_fresh(true);
    v1::SignedTreeHead head;
    s = v1::Audit::NewStub(channel)->GetTreeHead(&call, r, &head);
    EXPECT_EQ(s.ok(), ok) << s.error_message();
    if (!ok) EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  }
  // Consumer groups are for admins.
  for (auto& [channel, ok] :
       std::vector<std::pair<std::shared_ptr<grpc::Channel>, bool>>{
           {reader, false}, {auditor, false}, {admin_, true}}) {
    grpc::ClientContext call;
    v1::ListGroupsResponse groups;
    s = v1::ConsumerGroups::NewStub(channel)->ListGroups(&call, {}, &groups);
    EXPECT_EQ(s.ok(), ok) << s.error_message();
  }
  // An auditor sees every unit; a reader only its scope.
  grpc::ClientContext c1;
  v1::RollupResponse rollup;
  EXPECT_TRUE(server_->query() != nullptr);
  EXPECT_TRUE(
      v1::Query::NewStub(auditor)
          ->GetRollup(
              &c1, testing::RollupOver("dbB", D(2023, 1, 1), D(2023, 12, 31)),
              &rollup)
          .ok());
  grpc::ClientContext c2;
  s = v1::Query::NewStub(reader)->GetRollup(
      &c2, testing::RollupOver("dbB", D(2023, 1, 1), D(2023, 12, 31)), &rollup);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
  EXPECT_THAT(s.error_message(), HasSubstr("dbB"));
  grpc::ClientContext c3;
  ASSERT_TRUE(
      v1::Query::NewStub(reader)
          ->GetRollup(
              &c3, testing::RollupOver("dbA", D(2023, 1, 1), D(2023, 12, 31)),
              &rollup)
          .ok());
  // Its answers stop at its scope: no parent above dbA.
  EXPECT_EQ(rollup.unit().parent_chain_size(), 0);
  EXPECT_EQ(rollup.rollup().cells(), 2);
  grpc::ClientContext c4;
  v1::FindUnitsRequest find;
  find.set_query("chi bo");
  find.mutable_as_of()->CopyFrom(D(2023, 6, 1));
  v1::FindUnitsResponse found;
  ASSERT_TRUE(v1::Query::NewStub(reader)->FindUnits(&c4, find, &found).ok());
  std::vector<std::string> ids;
  for (const v1::Unit& u : found.units()) ids.push_back(u.unit_id());
  EXPECT_THAT(ids, ::testing::UnorderedElementsAre("cA1", "cA2"));
  // The log, read by the reader: only its scope's events.
  grpc::ClientContext c5;
  v1::ReadAllRequest all;
  all.set_page_size(100);
  v1::ReadAllResponse page;
  ASSERT_TRUE(v1::EventLog::NewStub(reader)->ReadAll(&c5, all, &page).ok());
  for (const v1::RecordedEvent& e : page.events()) {
    EXPECT_NE(e.event().member_joined().cell_id(), "cB1");
    EXPECT_NE(e.event().unit_created().unit_id(), "dbB");
  }
  EXPECT_FALSE(page.events().empty());
  grpc::ClientContext c6;
  v1::GetEventRequest g;
  g.set_position(8);  // mB joins cB1
  v1::RecordedEvent e;
  s = v1::EventLog::NewStub(reader)->GetEvent(&c6, g, &e);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, AScopedSubscriptionNeverShowsAnotherScopesEvents) {
  auto reader = Connect("reader-a");
  grpc::ClientContext call;
  v1::SubscribeRequest r;
  r.set_from_position(1);
  auto stream = v1::Subscriptions::NewStub(reader)->Subscribe(&call, r);
  // Events of both đảng bộ after the seed.
  ASSERT_TRUE(
      Append(admin_,
             {testing::RegularSession("s-b", "cB1", D(2023, 1, 10), 1, 1),
              testing::RegularSession("s-a", "cA1", D(2023, 1, 10), 1, 1)})
          .ok());
  const uint64_t last = Head();
  v1::SubscribeResponse m;
  std::vector<std::string> units;
  uint64_t seen = 0;
  while (seen < last && stream->Read(&m)) {
    if (!m.has_event()) continue;
    seen = m.event().position();
    const v1::Event& ev = m.event().event();
    if (ev.has_session_held()) units.push_back(ev.session_held().unit_id());
    EXPECT_NE(ev.unit_created().unit_id(), "cB1");
    EXPECT_NE(ev.member_joined().cell_id(), "cB1");
  }
  call.TryCancel();
  stream->Finish();
  EXPECT_EQ(seen, last);
  EXPECT_THAT(units, ::testing::ElementsAre("cA1"));

  // Naming another đảng bộ's subtree is refused.
  grpc::ClientContext call2;
  r.set_subtree_unit_id("dbB");
  auto refused = v1::Subscriptions::NewStub(reader)->Subscribe(&call2, r);
  EXPECT_FALSE(refused->Read(&m));
  grpc::Status s = refused->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::PERMISSION_DENIED);
}

TEST_F(AuthTest, TheAccessFileIsReloadedAndABadOneIsRefused) {
  grpc::ClientContext call;
  call.AddMetadata("authorization", "Bearer new-token");
  v1::ServerStatus status;
  EXPECT_EQ(v1::Admin::NewStub(Connect(""))
                ->GetStatus(&call, {}, &status)
                .error_code(),
            grpc::StatusCode::UNAUTHENTICATED);
  std::ofstream(dir_.path() + "/access", std::ios::app)
      << "name=new role=reader scope=dbB token_sha256="
      << Sha256Hex("new-token") << "\n";
  ASSERT_TRUE(server_->server()->ReloadAccess().ok());
  grpc::ClientContext call2;
  call2.AddMetadata("authorization", "Bearer new-token");
  EXPECT_TRUE(
      v1::Admin::NewStub(Connect(""))->GetStatus(&call2, {}, &status).ok());
  // A broken file: refused, the loaded one stays.
  std::ofstream(dir_.path() + "/access", std::ios::app) << "name=x role=boss\n";
  absl::Status bad = server_->server()->ReloadAccess();
  EXPECT_TRUE(absl::IsInvalidArgument(bad)) << bad;
  EXPECT_THAT(std::string(bad.message()), HasSubstr("role 'boss'"));
  grpc::ClientContext call3;
  call3.AddMetadata("authorization", "Bearer new-token");
  EXPECT_TRUE(
      v1::Admin::NewStub(Connect(""))->GetStatus(&call3, {}, &status).ok());
}

class LimitedAuthTest : public AuthTest {
  void Customize(services::ServerOptions* o) override {
    o->access.calls_per_second = 2;
    o->access.call_burst = 20;
    o->access.max_streams = 1;
  }
};

TEST_F(LimitedAuthTest, RateAndStreamLimitsAnswerResourceExhausted) {
  auto reader = Connect("reader-a");
  auto stub = v1::Query::NewStub(reader);
  int refused = 0;
  std::string message;
  for (int i = 0; i < 40; ++i) {
    grpc::ClientContext call;
    v1::GetUnitRequest r;
    r.set_unit_id("dbA");
    v1::Unit u;
    grpc::Status s = stub->GetUnit(&call, r, &u);
    if (s.error_code() == grpc::StatusCode::RESOURCE_EXHAUSTED) {
      ++refused;
      message = s.error_message();
    }
  }
  EXPECT_GE(refused, 15);
  EXPECT_THAT(message, HasSubstr("retry in"));
  // Another principal has its own budget.
  grpc::ClientContext other;
  v1::ServerStatus status;
  EXPECT_TRUE(v1::Admin::NewStub(admin_)->GetStatus(&other, {}, &status).ok());

  // One subscription at a time for the auditor.
  auto auditor = Connect("auditor");
  grpc::ClientContext first;
  v1::SubscribeRequest r;
  auto open = v1::Subscriptions::NewStub(auditor)->Subscribe(&first, r);
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  grpc::ClientContext second;
  auto more = v1::Subscriptions::NewStub(auditor)->Subscribe(&second, r);
  v1::SubscribeResponse m;
  while (more->Read(&m)) {
  }
  grpc::Status s = more->Finish();
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED);
  EXPECT_THAT(s.error_message(), HasSubstr("subscriptions open"));
  first.TryCancel();
  open->Finish();
}

TEST(PlaintextTest, ANonLoopbackListenerNeedsTlsOrAnExplicitFlag) {
  testing::TempDir dir;
  services::ServerOptions o;
  o.data_dir = dir.Sub("data");
  o.listen = "0.0.0.0:0";
  absl::StatusOr<std::unique_ptr<services::Server>> s =
      services::Server::Start(o);
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.status().message()),
              HasSubstr("--allow_plaintext"));
  o.allow_plaintext = true;
  s = services::Server::Start(o);
  ASSERT_TRUE(s.ok()) << s.status();
  (*s)->Shutdown(absl::Seconds(1)).IgnoreError();
}

}  // namespace
}  // namespace nenep
