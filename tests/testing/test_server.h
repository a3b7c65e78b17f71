// The real nenepd assembly (services::Server) in the test process, on
// 127.0.0.1:0 with a temporary RocksDB directory, reached over a real gRPC
// channel.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/channel.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "nenep/v1/log.grpc.pb.h"
#include "nenep/v1/query.grpc.pb.h"
#include "services/server/server.h"
#include "tests/testing/temp_dir.h"

namespace nenep::testing {

// Options of a server without projections, for tests of the log alone.
inline services::ServerOptions LogOnly() {
  services::ServerOptions options;
  options.projections = false;
  return options;
}

class TestServer {
 public:
  // Starts a server on a fresh data directory and waits until it serves.
  // `options.data_dir` and `options.listen` are overridden.
  explicit TestServer(services::ServerOptions options = {});
  ~TestServer();

  // Stops the server (as SIGTERM would) and starts a new one on the same
  // directory.
  void Restart();
  void Stop();

  // The temporary directory; the store is dir()/data.
  const std::string& dir() const { return dir_.path(); }
  std::string address() const;
  std::shared_ptr<grpc::Channel> NewChannel() const;
  v1::EventLog::Stub* log() { return log_.get(); }
  v1::Query::Stub* query() { return query_.get(); }

  // Appends `events` (each to its own stream) in one atomic BatchAppend.
  grpc::Status AppendBatch(const std::vector<v1::Event>& events);
  v1::Admin::Stub* admin() { return admin_.get(); }
  grpc::health::v1::Health::Stub* health() { return health_.get(); }
  services::Server* server() { return server_.get(); }

 private:
  void Start();

  TempDir dir_;
  services::ServerOptions options_;
  std::unique_ptr<services::Server> server_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<v1::EventLog::Stub> log_;
  std::unique_ptr<v1::Query::Stub> query_;
  std::unique_ptr<v1::Admin::Stub> admin_;
  std::unique_ptr<grpc::health::v1::Health::Stub> health_;
};

// A rollup request of `unit_id` over [from, to], as recorded.
v1::RollupRequest RollupOver(const std::string& unit_id, v1::Date from,
                             v1::Date to);

// The body and headers of an HTTP/1.0 GET of 127.0.0.1:`port``path` ("" if
// nothing listens), e.g. the Prometheus page.
std::string HttpGet(int port, const std::string& path);

}  // namespace nenep::testing
