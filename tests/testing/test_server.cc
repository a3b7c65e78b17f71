#include "tests/testing/test_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <stdexcept>

#include "absl/strings/str_cat.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/security/credentials.h"

namespace nenep::testing {

TestServer::TestServer(services::ServerOptions options)
    : options_(std::move(options)) {
  options_.data_dir = dir_.Sub("data");
  options_.listen = "127.0.0.1:0";
  Start();
}

TestServer::~TestServer() { Stop(); }

void TestServer::Start() {
  absl::StatusOr<std::unique_ptr<services::Server>> server =
      services::Server::Start(options_);
  if (!server.ok()) {
    throw std::runtime_error(server.status().ToString());
  }
  server_ = *std::move(server);
  if (absl::Status s = server_->WaitUntilServing(); !s.ok()) {
    throw std::runtime_error(s.ToString());
  }
  channel_ = NewChannel();
  log_ = v1::EventLog::NewStub(channel_);
  query_ = v1::Query::NewStub(channel_);
  admin_ = v1::Admin::NewStub(channel_);
  health_ = grpc::health::v1::Health::NewStub(channel_);
}

void TestServer::Stop() {
  if (server_ == nullptr) return;
  log_.reset();
  query_.reset();
  admin_.reset();
  health_.reset();
  channel_.reset();
  server_->Shutdown(absl::Seconds(10)).IgnoreError();
  server_.reset();
}

void TestServer::Restart() {
  Stop();
  Start();
}

std::string TestServer::address() const {
  return absl::StrCat("127.0.0.1:", server_->port());
}

std::shared_ptr<grpc::Channel> TestServer::NewChannel() const {
  grpc::ChannelArguments args;
  args.SetMaxReceiveMessageSize(256 << 20);
  args.SetMaxSendMessageSize(256 << 20);
  // A separate connection per channel.
  args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
  return grpc::CreateCustomChannel(address(),
                                   grpc::InsecureChannelCredentials(), args);
}

grpc::Status TestServer::AppendBatch(const std::vector<v1::Event>& events) {
  v1::BatchAppendRequest r;
  for (const v1::Event& e : events) *r.add_entries()->mutable_event() = e;
  grpc::ClientContext ctx;
  v1::BatchAppendResponse resp;
  return log_->BatchAppend(&ctx, r, &resp);
}

v1::RollupRequest RollupOver(const std::string& unit_id, v1::Date from,
                             v1::Date to) {
  v1::RollupRequest r;
  r.set_unit_id(unit_id);
  *r.mutable_dates()->mutable_start() = std::move(from);
  *r.mutable_dates()->mutable_end() = std::move(to);
  return r;
}

std::string HttpGet(int port, const std::string& path) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    close(fd);
    return "";
  }
  std::string req =
      absl::StrCat("GET ", path, " HTTP/1.0\r\nHost: localhost\r\n\r\n");
  (void)!write(fd, req.data(), req.size());
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fd, buf, sizeof(buf))) > 0) out.append(buf, n);
  close(fd);
  return out;
}

}  // namespace nenep::testing
