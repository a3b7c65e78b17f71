#include "tools/bench/bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <fstream>
#include <memory>
#include <thread>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpcpp/client_context.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/byte_buffer.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "nenep/v1/log.grpc.pb.h"
#include "services/common/grpc_status.h"

namespace nenep::bench {
namespace {

// A realistic ~200-byte event: a regular session of one of `units` cells.
v1::Event Session(int64_t i, int units) {
  v1::Event e;
  const int month = 1 + static_cast<int>(i % 12);
  v1::Date* d = e.mutable_business_date();
  d->set_year(2024);
  d->set_month(month);
  d->set_day(1 + static_cast<int>(i % 27));
  v1::SessionHeld* s = e.mutable_session_held();
  s->set_session_id(absl::StrCat("bench.s", i));
  s->set_unit_id(absl::StrFormat("bench.cb%05d", i % units));
  s->set_kind(v1::SESSION_KIND_REGULAR);
  s->mutable_for_period()->set_year(2024);
  s->mutable_for_period()->set_month(month);
  s->set_topic("Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh");
  v1::Attendance* a = s->mutable_attendance();
  a->set_convened(20);
  a->set_present(18);
  a->set_absent_excused(1);
  a->set_absent_unexcused(1);
  v1::HcmItem* h = s->add_hcm_items();
  h->set_type(v1::HCM_ITEM_TYPE_STORY);
  h->set_title("Bác Hồ với đức tính cần, kiệm");
  return e;
}

grpc::ByteBuffer Serialize(const google::protobuf::Message& m) {
  std::string bytes = m.SerializeAsString();
  grpc::Slice slice(bytes);
  return grpc::ByteBuffer(&slice, 1);
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  size_t i = static_cast<size_t>(q * static_cast<double>(sorted.size()));
  return sorted[std::min(i, sorted.size() - 1)];
}

// Keeps `clients` calls in flight until told to stop.
class Driver {
 public:
  Driver(const LoadOptions& o) : o_(o) {
    for (int i = 0; i < std::max(1, o.channels); ++i) {
      grpc::ChannelArguments args;
      args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
      args.SetInt("nenep.bench.channel", i);  // distinct connections
      args.SetMaxSendMessageSize(256 << 20);
      channels_.push_back(grpc::CreateCustomChannel(
          o.server, grpc::InsecureChannelCredentials(), args));
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channels_.back()));
    }
    const bool batch = o.mode == "batch";
    method_ =
        batch ? "/nenep.v1.EventLog/BatchAppend" : "/nenep.v1.EventLog/Append";
    per_call_ = batch ? o.batch_size : 1;
    const int pool = batch ? 16 : 8192;
    int64_t n = 0;
    for (int i = 0; i < pool; ++i) {
      if (batch) {
        v1::BatchAppendRequest r;
        for (int k = 0; k < o.batch_size; ++k) {
          *r.add_entries()->mutable_event() = Session(n++, o.units);
        }
        pool_.push_back(Serialize(r));
        raw_.push_back(r.SerializeAsString());
      } else {
        v1::AppendRequest r;
        *r.add_events() = Session(n++, o.units);
        pool_.push_back(Serialize(r));
        raw_.push_back(r.SerializeAsString());
      }
    }
  }

  // One thread per client, each making blocking calls.
  LoadResult RunThreads() {
    const absl::Time start = absl::Now();
    measure_from_ = o_.events > 0 ? start : start + o_.warmup;
    stop_at_ =
        o_.events > 0 ? absl::InfiniteFuture() : measure_from_ + o_.duration;
    std::vector<std::thread> threads;
    for (int t = 0; t < o_.clients; ++t) {
      threads.emplace_back([this, t] {
        std::unique_ptr<v1::EventLog::Stub> stub =
            v1::EventLog::NewStub(channels_[t % channels_.size()]);
        v1::AppendRequest request;
        v1::BatchAppendRequest batch;
        v1::AppendResponse response;
        v1::BatchAppendResponse batch_response;
        for (int64_t n = 0;; ++n) {
          const int64_t seq = next_.fetch_add(1, std::memory_order_relaxed);
          grpc::ClientContext ctx;
          const absl::Time begin = absl::Now();
          if (begin >= stop_at_ ||
              (o_.events > 0 && seq * per_call_ >= o_.events)) {
            return;
          }
          ctx.set_deadline(absl::ToChronoTime(begin + absl::Seconds(60)));
          grpc::Status s;
          if (per_call_ == 1) {
            (void)request.ParseFromString(raw_[seq % raw_.size()]);
            s = stub->Append(&ctx, request, &response);
          } else {
            (void)batch.ParseFromString(raw_[seq % raw_.size()]);
            s = stub->BatchAppend(&ctx, batch, &batch_response);
          }
          const absl::Time now = absl::Now();
          absl::MutexLock lock(&mu_);
          if (!s.ok()) {
            if (errors_.empty()) first_error_ = s.error_message();
            ++errors_[services::GrpcCodeName(s.error_code())];
            return;
          }
          if (begin >= measure_from_ && now <= stop_at_) {
            latencies_.push_back(
                static_cast<uint32_t>(absl::ToInt64Microseconds(now - begin)));
            events_ += per_call_;
            last_done_ = now;
          }
        }
      });
    }
    for (auto& t : threads) t.join();
    return Summarize();
  }

  LoadResult Run() {
    const absl::Time start = absl::Now();
    measure_from_ = o_.events > 0 ? start : start + o_.warmup;
    stop_at_ =
        o_.events > 0 ? absl::InfiniteFuture() : measure_from_ + o_.duration;
    {
      absl::MutexLock lock(&mu_);
      in_flight_ = o_.clients;
    }
    for (int i = 0; i < o_.clients; ++i) Issue(i);
    {
      absl::MutexLock lock(&mu_);
      mu_.Await(absl::Condition(
          +[](int* n) { return *n == 0; }, &in_flight_));
    }
    return Summarize();
  }

  LoadResult Summarize() {
    absl::MutexLock lock(&mu_);
    LoadResult r;
    r.mode = o_.mode;
    r.clients = o_.clients;
    r.batch_size = o_.mode == "batch" ? o_.batch_size : 1;
    r.events = events_;
    r.calls = static_cast<int64_t>(latencies_.size());
    const absl::Time end = o_.events > 0 ? last_done_ : stop_at_;
    r.seconds = absl::ToDoubleSeconds(end - measure_from_);
    r.events_per_second = r.seconds > 0 ? events_ / r.seconds : 0;
    std::sort(latencies_.begin(), latencies_.end());
    r.p50_us = Percentile(latencies_, 0.50);
    r.p90_us = Percentile(latencies_, 0.90);
    r.p99_us = Percentile(latencies_, 0.99);
    r.p999_us = Percentile(latencies_, 0.999);
    r.max_us = latencies_.empty() ? 0 : latencies_.back();
    r.errors = errors_;
    return r;
  }

 private:
  struct Call {
    grpc::ClientContext context;
    grpc::ByteBuffer response;
    absl::Time start;
  };

  void Issue(int slot) {
    const int64_t seq = next_.fetch_add(1, std::memory_order_relaxed);
    auto* call = new Call;
    call->start = absl::Now();
    call->context.set_deadline(
        absl::ToChronoTime(call->start + absl::Seconds(60)));
    const grpc::ByteBuffer* request = &pool_[seq % pool_.size()];
    stubs_[slot % stubs_.size()]->UnaryCall(
        &call->context, method_, grpc::StubOptions(), request, &call->response,
        [this, call, slot](grpc::Status s) { Done(call, slot, s); });
  }

  void Done(Call* call, int slot, const grpc::Status& s) {
    const absl::Time now = absl::Now();
    bool again = true;
    {
      absl::MutexLock lock(&mu_);
      if (!s.ok()) {
        ++errors_[services::GrpcCodeName(s.error_code())];
        if (errors_.size() == 1 && errors_.begin()->second == 1) {
          first_error_ = s.error_message();
        }
      } else if (call->start >= measure_from_ && now <= stop_at_) {
        latencies_.push_back(static_cast<uint32_t>(
            absl::ToInt64Microseconds(now - call->start)));
        events_ += per_call_;
        last_done_ = now;
      }
      const int64_t issued = next_.load(std::memory_order_relaxed);
      if (now >= stop_at_ ||
          (o_.events > 0 && issued * per_call_ >= o_.events) ||
          errors_.size() > 0) {
        again = false;
        --in_flight_;
      }
    }
    delete call;
    if (again) Issue(slot);
  }

  const LoadOptions o_;
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<std::string> raw_;  // the pool, serialized
  std::string method_;
  int per_call_ = 1;
  std::vector<grpc::ByteBuffer> pool_;
  std::atomic<int64_t> next_{0};
  absl::Time measure_from_;
  absl::Time stop_at_;

  absl::Mutex mu_;
  int in_flight_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t events_ ABSL_GUARDED_BY(mu_) = 0;
  absl::Time last_done_ ABSL_GUARDED_BY(mu_);
  std::vector<uint32_t> latencies_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, int64_t> errors_ ABSL_GUARDED_BY(mu_);

 public:
  std::string first_error_;
};

// A nenepd child on 127.0.0.1:0.
class Child {
 public:
  Child(const std::string& nenepd, const std::string& data_dir)
      : port_file_(data_dir + ".bench-port") {
    unlink(port_file_.c_str());
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      const std::string d = "--data_dir=" + data_dir;
      const std::string p = "--port_file=" + port_file_;
      execl(nenepd.c_str(), nenepd.c_str(), d.c_str(), "--listen=127.0.0.1:0",
            "--metrics_listen=", p.c_str(), static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Child() { Stop(); }
  // Waits for the port file; 0 if the child died or timed out.
  int Port(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (absl::Now() < deadline) {
      std::ifstream in(port_file_);
      std::string text;
      int port = 0;
      if (in && std::getline(in, text) &&
          absl::SimpleAtoi(absl::StripAsciiWhitespace(text), &port)) {
        return port;
      }
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        pid_ = -1;
        return 0;
      }
      absl::SleepFor(absl::Microseconds(200));
    }
    return 0;
  }
  void Stop() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

 private:
  std::string port_file_;
  pid_t pid_ = -1;
};

absl::StatusOr<uint64_t> Head(const std::string& address) {
  auto admin = v1::Admin::NewStub(
      grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
  grpc::ClientContext ctx;
  v1::ServerStatus status;
  grpc::Status s = admin->GetStatus(&ctx, {}, &status);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return status.head_position();
}

}  // namespace

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options) {
  LoadOptions o = options;
  if (o.mode == "latency") {
    o.clients = 1;
    o.channels = 1;
  } else if (o.mode != "single" && o.mode != "batch") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mode: '", o.mode, "' is not single, batch, latency or reopen"));
  }
  if (o.clients < 1 || o.batch_size < 1 || o.units < 1) {
    return absl::InvalidArgumentError(
        "--clients, --batch_size and --units must be positive");
  }
  if (o.client_api != "threads" && o.client_api != "callback") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--client_api: '", o.client_api, "' is not threads or callback"));
  }
  Driver driver(o);
  LoadResult r = o.client_api == "threads" ? driver.RunThreads() : driver.Run();
  if (!r.errors.empty() && !driver.first_error_.empty()) {
    r.errors["first: " + driver.first_error_] = 1;
  }
  return r;
}

absl::StatusOr<ReopenResult> RunReopen(const ReopenOptions& options) {
  if (options.nenepd.empty() || options.data_dir.empty()) {
    return absl::InvalidArgumentError("reopen needs --nenepd and --data_dir");
  }
  ReopenResult result;
  {
    Child child(options.nenepd, options.data_dir);
    const int port = child.Port(absl::Seconds(60));
    if (port == 0) return absl::UnavailableError("nenepd did not start");
    const std::string address = absl::StrCat("127.0.0.1:", port);
    // Wait until it serves, then fill.
    absl::StatusOr<uint64_t> head;
    for (int i = 0; i < 6000; ++i) {
      head = Head(address);
      if (head.ok()) break;
      absl::SleepFor(absl::Milliseconds(10));
    }
    if (!head.ok()) return head.status();
    if (static_cast<int64_t>(*head) < options.fill_events) {
      LoadOptions fill;
      fill.server = address;
      fill.mode = "batch";
      fill.clients = 4;
      fill.events = options.fill_events - static_cast<int64_t>(*head);
      absl::StatusOr<LoadResult> filled = RunLoad(fill);
      if (!filled.ok()) return filled.status();
      if (!filled->errors.empty()) {
        return absl::InternalError("filling the store failed");
      }
    }
    child.Stop();  // SIGTERM: a clean stop, as an operator's restart
  }
  for (int run = 0; run < std::max(1, options.runs); ++run) {
    const absl::Time start = absl::Now();
    Child child(options.nenepd, options.data_dir);
    const int port = child.Port(absl::Seconds(60));
    if (port == 0) return absl::UnavailableError("nenepd did not start");
    auto health = grpc::health::v1::Health::NewStub(grpc::CreateChannel(
        absl::StrCat("127.0.0.1:", port), grpc::InsecureChannelCredentials()));
    bool serving = false;
    while (!serving && absl::Now() - start < absl::Seconds(60)) {
      grpc::ClientContext ctx;
      ctx.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(1)));
      grpc::health::v1::HealthCheckResponse resp;
      serving = health->Check(&ctx, {}, &resp).ok() &&
                resp.status() == grpc::health::v1::HealthCheckResponse::SERVING;
      if (!serving) absl::SleepFor(absl::Microseconds(500));
    }
    if (!serving) return absl::UnavailableError("nenepd never served");
    result.ready_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    absl::StatusOr<uint64_t> head = Head(absl::StrCat("127.0.0.1:", port));
    if (head.ok()) result.head_position = *head;
  }
  std::vector<double> sorted = result.ready_ms;
  std::sort(sorted.begin(), sorted.end());
  result.median_ms = sorted[sorted.size() / 2];
  return result;
}

std::string FormatLoad(const LoadResult& r) {
  std::string out = absl::StrFormat(
      "%-8s clients=%-3d batch=%-5d events=%-9d %9.0f events/s   latency per "
      "call (us): p50 %.0f  p90 %.0f  p99 %.0f  p99.9 %.0f  max %.0f",
      r.mode, r.clients, r.batch_size, r.events, r.events_per_second, r.p50_us,
      r.p90_us, r.p99_us, r.p999_us, r.max_us);
  for (const auto& [code, n] : r.errors) {
    absl::StrAppend(&out, "\n  errors: ", code, " x", n);
  }
  return out;
}

std::string LoadJson(const LoadResult& r) {
  std::string errors;
  for (const auto& [code, n] : r.errors) {
    if (code.rfind("first: ", 0) == 0) continue;
    absl::StrAppend(&errors, errors.empty() ? "" : ",", "\"", code, "\":", n);
  }
  return absl::StrFormat(
      "{\"mode\":\"%s\",\"clients\":%d,\"batch_size\":%d,\"events\":%d,"
      "\"calls\":%d,\"seconds\":%.3f,\"events_per_s\":%.1f,\"p50_us\":%.0f,"
      "\"p90_us\":%.0f,\"p99_us\":%.0f,\"p999_us\":%.0f,\"max_us\":%.0f,"
      "\"errors\":{%s}}",
      r.mode, r.clients, r.batch_size, r.events, r.calls, r.seconds,
      r.events_per_second, r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us,
      errors);
}

std::string FormatReopen(const ReopenResult& r) {
  std::string runs;
  for (double ms : r.ready_ms) {
    absl::StrAppend(&runs, runs.empty() ? "" : ", ",
                    absl::StrFormat("%.0f", ms));
  }
  return absl::StrFormat(
      "reopen   store of %d events: process start -> health SERVING in %.0f "
      "ms (median of %d runs: %s ms)",
      r.head_position, r.median_ms, r.ready_ms.size(), runs);
}

std::string ReopenJson(const ReopenResult& r) {
  std::string runs;
  for (double ms : r.ready_ms) {
    absl::StrAppend(&runs, runs.empty() ? "" : ",",
                    absl::StrFormat("%.1f", ms));
  }
  return absl::StrFormat(
      "{\"mode\":\"reopen\",\"events\":%d,\"ready_ms_median\":%.1f,"
      "\"ready_ms\":[%s]}",
      r.head_position, r.median_ms, runs);
}

}  // namespace nenep::bench
