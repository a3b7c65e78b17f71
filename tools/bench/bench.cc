#include "tools/bench/bench.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <fstream>
#include <memory>
#include <thread>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/notification.h"
#include "absl/time/clock.h"
#include "grpc/health/v1/health.grpc.pb.h"
#include "grpc/slice.h"
#include "grpcpp/client_context.h"
#include "grpcpp/completion_queue.h"
#include "grpcpp/create_channel.h"
#include "grpcpp/generic/generic_stub.h"
#include "grpcpp/impl/client_unary_call.h"
#include "grpcpp/impl/rpc_method.h"
#include "grpcpp/security/credentials.h"
#include "grpcpp/support/proto_buffer_reader.h"
#include "grpcpp/support/slice.h"
#include "nenep/v1/admin.grpc.pb.h"
#include "nenep/v1/events.pb.h"
#include "nenep/v1/log.pb.h"
#include "services/common/grpc_status.h"

namespace nenep::bench {
namespace {

constexpr int kSessionDigits = 12;
constexpr int64_t kSessionModulus = 1000000000000;  // 10^kSessionDigits
constexpr char kUnitPrefix[] = "bench.cb";

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

double CpuSeconds() {
  rusage u;
  if (getrusage(RUSAGE_SELF, &u) != 0) return 0;
  return static_cast<double>(u.ru_utime.tv_sec + u.ru_stime.tv_sec) +
         static_cast<double>(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

// Writes `value` as exactly `width` decimal digits (the low ones).
void PutDigits(uint64_t value, int width, char* out) {
  for (int i = width - 1; i >= 0; --i) {
    out[i] = static_cast<char>('0' + value % 10);
    value /= 10;
  }
}

// Spreads consecutive event numbers over the units (splitmix64 finalizer).
uint64_t Mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ULL;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
  return x ^ (x >> 31);
}

// A regular session of 2024-`month`, held on `day`, with placeholder
// digits in its ids: about 200 bytes serialized.
v1::Event SessionTemplate(int month, int day, const std::string& id_prefix,
                          int unit_width) {
  v1::Event e;
  v1::Date* d = e.mutable_business_date();
  d->set_year(2024);
  d->set_month(month);
  d->set_day(day);
  v1::SessionHeld* s = e.mutable_session_held();
  s->set_session_id(id_prefix + std::string(kSessionDigits, '0'));
  s->set_unit_id(kUnitPrefix + std::string(unit_width, '0'));
  s->set_kind(v1::SESSION_KIND_REGULAR);
  s->mutable_for_period()->set_year(2024);
  s->mutable_for_period()->set_month(month);
  s->set_topic("Học tập và làm theo tư tưởng, đạo đức, phong cách Hồ Chí Minh");
  v1::HcmItem* h = s->add_hcm_items();
  h->set_type(v1::HCM_ITEM_TYPE_STORY);
  h->set_title("Bác Hồ với đức tính cần, kiệm");
  v1::Attendance* a = s->mutable_attendance();
  a->set_convened(20);
  a->set_present(18);
  a->set_absent_excused(1);
  a->set_absent_unexcused(1);
  s->set_format(v1::SESSION_FORMAT_IN_PERSON);
  return e;
}

// Offsets just past every occurrence of `needle` in `haystack`.
std::vector<size_t> FindAll(const std::string& haystack,
                            const std::string& needle) {
  std::vector<size_t> out;
  for (size_t at = haystack.find(needle); at != std::string::npos;
       at = haystack.find(needle, at + needle.size())) {
    out.push_back(at + needle.size());
  }
  return out;
}

double Percentile(const std::vector<uint32_t>& sorted, double q) {
  if (sorted.empty()) return 0;
  // Nearest rank: the smallest sample with at least q of them <= it.
  const auto rank =
      static_cast<size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  return sorted[std::clamp<size_t>(rank, 1, sorted.size()) - 1];
}

std::string JsonEscape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += absl::StrFormat("\\u%04x", static_cast<int>(c));
        } else {
          out += c;
        }
    }
  }
  return out;
}

// 1234567 -> "1,234,567".
std::string Thousands(int64_t n) {
  std::string digits = absl::StrCat(n < 0 ? -n : n);
  std::string out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return n < 0 ? "-" + out : out;
}

absl::StatusOr<uint64_t> Head(const std::shared_ptr<grpc::Channel>& channel) {
  auto admin = v1::Admin::NewStub(channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(5));
  v1::ServerStatus status;
  grpc::Status s = admin->GetStatus(&ctx, {}, &status);
  if (!s.ok()) return absl::UnavailableError(s.error_message());
  return status.head_position();
}

// Polls the gRPC health service until it answers SERVING (nenepd listens,
// and answers Admin.GetStatus, before its store is open).
absl::Status WaitServing(const std::shared_ptr<grpc::Channel>& channel,
                         absl::Duration timeout) {
  auto health = grpc::health::v1::Health::NewStub(channel);
  const absl::Time deadline = absl::Now() + timeout;
  std::string last = "no answer";
  while (true) {
    grpc::ClientContext ctx;
    ctx.set_deadline(
        absl::ToChronoTime(std::min(deadline, absl::Now() + absl::Seconds(1))));
    grpc::health::v1::HealthCheckResponse resp;
    const grpc::Status s = health->Check(&ctx, {}, &resp);
    if (s.ok() &&
        resp.status() == grpc::health::v1::HealthCheckResponse::SERVING) {
      return absl::OkStatus();
    }
    last = s.ok() ? "NOT_SERVING"
                  : absl::StrCat(services::GrpcCodeName(s.error_code()), ": ",
                                 s.error_message());
    if (absl::Now() >= deadline) {
      return absl::UnavailableError(
          absl::StrCat("the server is not serving (health: ", last, ")"));
    }
    absl::SleepFor(absl::Microseconds(500));
  }
}

// Keeps `clients` calls in flight until the run ends.
class Driver {
 public:
  Driver(const LoadOptions& o, const RequestFactory& factory,
         std::vector<std::shared_ptr<grpc::Channel>> channels)
      : o_(o),
        factory_(factory),
        method_(factory.method()),
        per_call_(factory.events_per_call()),
        channels_(std::move(channels)),
        slots_(o.clients) {
    for (const auto& channel : channels_) {
      stubs_.push_back(std::make_unique<grpc::GenericStub>(channel));
    }
    if (o.events > 0) calls_limit_ = (o.events + per_call_ - 1) / per_call_;
    const int64_t expected =
        o.events > 0
            ? calls_limit_
            : static_cast<int64_t>(absl::ToDoubleSeconds(o.duration) * 40000);
    for (int i = 0; i < o.clients; ++i) {
      slots_[i].stub = stubs_[i % stubs_.size()].get();
      slots_[i].channel = channels_[i % channels_.size()].get();
      slots_[i].latencies_us.reserve(
          std::min<int64_t>(expected / o.clients + 16, 1 << 20));
    }
  }

  LoadResult Run() {
    const int64_t start = NowNs();
    if (o_.events > 0) {
      measure_from_ = start;
      stop_at_ = INT64_MAX;
    } else {
      measure_from_ = start + absl::ToInt64Nanoseconds(o_.warmup);
      stop_at_ = measure_from_ + absl::ToInt64Nanoseconds(o_.duration);
    }
    active_.store(o_.clients);
    std::vector<std::thread> threads;
    if (o_.client_api == "threads") {
      for (Slot& slot : slots_) {
        threads.emplace_back([this, &slot] { BlockingLoop(&slot); });
      }
    } else if (o_.client_api == "cq" || o_.client_api == "session") {
      const int n = std::clamp(o_.cq_threads, 1, o_.clients);
      const bool session = o_.client_api == "session";
      for (int t = 0; t < n; ++t) {
        threads.emplace_back([this, t, n, session] {
          if (session) {
            SessionLoop(t, n);
          } else {
            QueueLoop(t, n);
          }
        });
      }
    } else {
      for (Slot& slot : slots_) Issue(&slot);
    }
    // Measure this process's CPU over the window (or the part of it before
    // the run ended).
    double cpu_percent = -1;
    if (o_.events == 0 && !done_.WaitForNotificationWithTimeout(
                              absl::Nanoseconds(measure_from_ - NowNs()))) {
      const double cpu0 = CpuSeconds();
      const int64_t t0 = NowNs();
      done_.WaitForNotificationWithTimeout(
          absl::Nanoseconds(stop_at_ - NowNs()));
      const int64_t t1 = NowNs();
      if (t1 > t0) {
        cpu_percent =
            100 * (CpuSeconds() - cpu0) / (static_cast<double>(t1 - t0) / 1e9);
      }
    }
    done_.WaitForNotification();
    for (std::thread& t : threads) t.join();
    LoadResult r = Summarize();
    r.client_cpu_percent = cpu_percent;
    return r;
  }

 private:
  struct Slot {
    grpc::GenericStub* stub = nullptr;
    grpc::Channel* channel = nullptr;
    // The call in flight.
    std::unique_ptr<grpc::ClientContext> context;
    std::unique_ptr<grpc::GenericClientAsyncResponseReader> reader;  // cq
    grpc::Status status;                                             // cq
    // session: the slot's AppendSession call and the step it waits on.
    std::unique_ptr<grpc::GenericClientAsyncReaderWriter> session;
    enum class Step { kStart, kWrite, kRead, kWritesDone, kFinish } step;
    grpc::ByteBuffer request;
    grpc::ByteBuffer response;
    int64_t start_ns = 0;
    // Touched only by this slot's chain of calls, one at a time.
    std::vector<uint32_t> latencies_us;  // completed in the window
    int64_t events = 0;                  // completed in the window
    int64_t acknowledged = 0;            // every OK, warm-up included
    int64_t last_done_ns = 0;
    std::map<grpc::StatusCode, int64_t> errors;
    std::map<grpc::StatusCode, std::string> examples;
  };

  // Takes the next call number; false if the run is over.
  bool Next(int64_t* seq) {
    *seq = next_.fetch_add(1, std::memory_order_relaxed);
    if (calls_limit_ > 0 && *seq >= calls_limit_) return false;
    if (error_count_.load(std::memory_order_relaxed) >= o_.max_errors) {
      return false;
    }
    return NowNs() < stop_at_;
  }

  void Finish() {
    if (active_.fetch_sub(1) == 1) done_.Notify();
  }

  void Record(Slot* s, const grpc::Status& status, int64_t end) {
    if (status.ok()) {
      s->acknowledged += per_call_;
      if (end >= measure_from_ && end <= stop_at_) {
        s->latencies_us.push_back(
            static_cast<uint32_t>((end - s->start_ns) / 1000));
        s->events += per_call_;
        s->last_done_ns = end;
      }
      return;
    }
    error_count_.fetch_add(1, std::memory_order_relaxed);
    ++s->errors[status.error_code()];
    s->examples.emplace(status.error_code(), status.error_message());
  }

  void Issue(Slot* s) {
    int64_t seq = 0;
    if (!Next(&seq)) {
      Finish();
      return;
    }
    s->request = factory_.Make(seq);
    s->response.Clear();
    s->context = std::make_unique<grpc::ClientContext>();
    s->context->set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(o_.call_timeout));
    s->start_ns = NowNs();
    s->stub->UnaryCall(s->context.get(), method_, grpc::StubOptions(),
                       &s->request, &s->response,
                       [this, s](grpc::Status status) {
                         Record(s, status, NowNs());
                         Issue(s);
                       });
  }

  // Starts the next call of `s` on `cq`; false if the run is over.
  bool Start(Slot* s, grpc::CompletionQueue* cq) {
    int64_t seq = 0;
    if (!Next(&seq)) return false;
    s->request = factory_.Make(seq);
    s->response.Clear();
    s->context = std::make_unique<grpc::ClientContext>();
    s->context->set_deadline(std::chrono::system_clock::now() +
                             absl::ToChronoNanoseconds(o_.call_timeout));
    s->start_ns = NowNs();
    s->reader =
        s->stub->PrepareUnaryCall(s->context.get(), method_, s->request, cq);
    s->reader->StartCall();
    s->reader->Finish(&s->response, &s->status, s);
    return true;
  }

  // Thread `t` of `n` drives slots t, t + n, ... on its own completion
  // queue: it polls, and handles each completion inline.
  void QueueLoop(int t, int n) {
    grpc::CompletionQueue cq;
    int running = 0;
    for (size_t i = t; i < slots_.size(); i += n) {
      if (Start(&slots_[i], &cq)) {
        ++running;
      } else {
        Finish();
      }
    }
    void* tag = nullptr;
    bool ok = false;
    while (running > 0 && cq.Next(&tag, &ok)) {
      Slot* s = static_cast<Slot*>(tag);
      Record(s, s->status, NowNs());
      if (!Start(s, &cq)) {
        --running;
        Finish();
      }
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }

  // session: thread `t` of `n` keeps one AppendSession call open per slot
  // (t, t + n, ...) and sends one append at a time on it, the next once
  // the previous one is answered, as a pgbench connection does.
  void SessionLoop(int t, int n) {
    using Step = Slot::Step;
    static const std::string kMethod = "/nenep.v1.EventLog/AppendSession";
    grpc::CompletionQueue cq;
    int running = 0;
    for (size_t i = t; i < slots_.size(); i += n) {
      Slot* s = &slots_[i];
      s->context = std::make_unique<grpc::ClientContext>();
      s->session = s->stub->PrepareCall(s->context.get(), kMethod, &cq);
      s->step = Step::kStart;
      s->session->StartCall(s);
      ++running;
    }
    // Sends the slot's next append, or closes its side once the run is
    // over.
    auto send_next = [this](Slot* s) {
      int64_t seq = 0;
      if (!Next(&seq)) {
        s->step = Step::kWritesDone;
        s->session->WritesDone(s);
        return;
      }
      s->request = factory_.MakeSessionRequest(seq);
      s->start_ns = NowNs();
      s->step = Step::kWrite;
      s->session->Write(s->request, s);
    };
    void* tag = nullptr;
    bool ok = false;
    while (running > 0 && cq.Next(&tag, &ok)) {
      Slot* s = static_cast<Slot*>(tag);
      if (s->step == Step::kFinish) {
        if (!s->status.ok()) Record(s, s->status, NowNs());
        --running;
        Finish();
        continue;
      }
      if (!ok) {  // the call broke: its status says why
        s->step = Step::kFinish;
        s->session->Finish(&s->status, s);
        continue;
      }
      switch (s->step) {
        case Step::kStart:
          send_next(s);
          break;
        case Step::kWrite:
          s->response.Clear();
          s->step = Step::kRead;
          s->session->Read(&s->response, s);
          break;
        case Step::kRead:
          Record(s, SessionStatus(s->response), NowNs());
          send_next(s);
          break;
        case Step::kWritesDone:
          s->step = Step::kFinish;
          s->session->Finish(&s->status, s);
          break;
        case Step::kFinish:
          break;
      }
    }
    cq.Shutdown();
    while (cq.Next(&tag, &ok)) {
    }
  }

  // The status of the append an AppendSessionResponse answers.
  static grpc::Status SessionStatus(grpc::ByteBuffer& bytes) {
    v1::AppendSessionResponse response;
    grpc::ProtoBufferReader reader(&bytes);
    if (!response.ParseFromZeroCopyStream(&reader)) {
      return grpc::Status(grpc::StatusCode::INTERNAL,
                          "the AppendSession response does not parse");
    }
    return grpc::Status(static_cast<grpc::StatusCode>(response.code()),
                        response.message());
  }

  void BlockingLoop(Slot* s) {
    const grpc::internal::RpcMethod method(
        method_.c_str(), grpc::internal::RpcMethod::NORMAL_RPC);
    int64_t seq = 0;
    while (Next(&seq)) {
      s->request = factory_.Make(seq);
      s->response.Clear();
      grpc::ClientContext context;
      context.set_deadline(std::chrono::system_clock::now() +
                           absl::ToChronoNanoseconds(o_.call_timeout));
      s->start_ns = NowNs();
      const grpc::Status status =
          grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
              s->channel, method, &context, s->request, &s->response);
      Record(s, status, NowNs());
    }
    Finish();
  }

  LoadResult Summarize() {
    LoadResult r;
    r.mode = o_.mode;
    r.client_api = o_.client_api;
    r.clients = o_.clients;
    r.channels = static_cast<int>(channels_.size());
    r.batch_size = per_call_;
    r.event_bytes = factory_.event_bytes();
    std::vector<uint32_t> all;
    int64_t last_done = measure_from_;
    for (const Slot& s : slots_) {
      all.insert(all.end(), s.latencies_us.begin(), s.latencies_us.end());
      r.events += s.events;
      r.acknowledged_events += s.acknowledged;
      last_done = std::max(last_done, s.last_done_ns);
      for (const auto& [code, n] : s.errors) {
        const std::string name = services::GrpcCodeName(code);
        r.errors[name] += n;
        r.error_examples.emplace(name, s.examples.at(code));
      }
    }
    r.calls = static_cast<int64_t>(all.size());
    const int64_t end = o_.events > 0 ? last_done : stop_at_;
    r.seconds = static_cast<double>(end - measure_from_) / 1e9;
    if (r.seconds > 0) {
      r.events_per_second = static_cast<double>(r.events) / r.seconds;
      r.calls_per_second = static_cast<double>(r.calls) / r.seconds;
    }
    std::sort(all.begin(), all.end());
    double sum = 0;
    for (uint32_t us : all) sum += us;
    r.mean_us = all.empty() ? 0 : sum / static_cast<double>(all.size());
    r.p50_us = Percentile(all, 0.50);
    r.p90_us = Percentile(all, 0.90);
    r.p99_us = Percentile(all, 0.99);
    r.p999_us = Percentile(all, 0.999);
    r.max_us = all.empty() ? 0 : all.back();
    return r;
  }

  const LoadOptions o_;
  const RequestFactory& factory_;
  const std::string method_;  // outlives every call (gRPC keeps a pointer)
  const int per_call_;
  int64_t calls_limit_ = 0;  // 0: until stop_at_
  std::vector<std::shared_ptr<grpc::Channel>> channels_;
  std::vector<std::unique_ptr<grpc::GenericStub>> stubs_;
  std::vector<Slot> slots_;
  int64_t measure_from_ = 0;  // steady-clock ns
  int64_t stop_at_ = 0;
  std::atomic<int64_t> next_{0};
  std::atomic<int64_t> error_count_{0};
  std::atomic<int> active_{0};
  absl::Notification done_;
};

// A nenepd child on 127.0.0.1:0, stopped with SIGTERM when destroyed.
class Child {
 public:
  Child(const std::string& nenepd, const std::string& data_dir)
      : port_file_(data_dir + ".bench-port") {
    unlink(port_file_.c_str());
    const std::string d = "--data_dir=" + data_dir;
    const std::string p = "--port_file=" + port_file_;
    pid_ = fork();
    if (pid_ == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      dup2(devnull, 2);
      // The bare log: its sessions name units the store does not hold.
      execl(nenepd.c_str(), nenepd.c_str(), d.c_str(), "--listen=127.0.0.1:0",
            "--metrics_listen=", "--projections=false", p.c_str(),
            static_cast<char*>(nullptr));
      _exit(127);
    }
  }
  ~Child() {
    Stop();
    unlink(port_file_.c_str());
  }
  // Waits for the port file; 0 if the child died or timed out.
  int Port(absl::Duration timeout) {
    const absl::Time deadline = absl::Now() + timeout;
    while (pid_ > 0 && absl::Now() < deadline) {
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

}  // namespace

int64_t LoadResult::error_count() const {
  int64_t n = 0;
  for (const auto& [code, count] : errors) n += count;
  return n;
}

std::string NewRunId() {
  static constexpr char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  uint64_t v = Mix(static_cast<uint64_t>(absl::GetCurrentTimeNanos()) ^
                   (static_cast<uint64_t>(getpid()) << 40));
  std::string id;
  for (int i = 0; i < 8; ++i) {
    id += kDigits[v % 36];
    v /= 36;
  }
  return id;
}

RequestFactory::RequestFactory(bool batch, int batch_size, int units,
                               const std::string& run_id)
    : batch_(batch),
      per_call_(batch ? std::max(1, batch_size) : 1),
      units_(std::max(1, units)) {
  unit_width_ = std::max<int>(5, absl::StrCat(units_ - 1).size());
  const std::string id_prefix = absl::StrCat("bench.", run_id, ".s");
  auto finish = [&](std::string bytes) {
    Template t;
    t.bytes = std::move(bytes);
    t.session_digits = FindAll(t.bytes, id_prefix);
    t.unit_digits = FindAll(t.bytes, kUnitPrefix);
    // Both lists have one entry per event, or the patching would be wrong.
    if (t.session_digits.size() != static_cast<size_t>(per_call_) ||
        t.unit_digits.size() != static_cast<size_t>(per_call_)) {
      abort();
    }
    templates_.push_back(std::move(t));
  };
  if (!batch_) {
    // One template per (month, day): dates vary from call to call.
    for (int month = 1; month <= 12; ++month) {
      for (int day = 1; day <= 28; ++day) {
        v1::AppendRequest r;
        *r.add_events() = SessionTemplate(month, day, id_prefix, unit_width_);
        if (event_bytes_ == 0) {
          event_bytes_ = static_cast<int>(r.events(0).ByteSizeLong());
        }
        finish(r.SerializeAsString());
      }
    }
  } else {
    for (int t = 0; t < 12; ++t) {
      v1::BatchAppendRequest r;
      for (int k = 0; k < per_call_; ++k) {
        *r.add_entries()->mutable_event() = SessionTemplate(
            1 + (t + k) % 12, 1 + k % 28, id_prefix, unit_width_);
      }
      if (event_bytes_ == 0) {
        event_bytes_ = static_cast<int>(r.entries(0).event().ByteSizeLong());
      }
      finish(r.SerializeAsString());
    }
  }
}

void RequestFactory::Patch(const Template& t, int64_t call, char* out) const {
  memcpy(out, t.bytes.data(), t.bytes.size());
  const uint64_t first = static_cast<uint64_t>(call) * per_call_;
  for (int k = 0; k < per_call_; ++k) {
    const uint64_t event = first + k;
    PutDigits(event % kSessionModulus, kSessionDigits,
              out + t.session_digits[k]);
    PutDigits(Mix(event) % units_, unit_width_, out + t.unit_digits[k]);
  }
}

std::string RequestFactory::MakeString(int64_t call) const {
  const Template& t = templates_[call % templates_.size()];
  std::string out(t.bytes.size(), '\0');
  Patch(t, call, out.data());
  return out;
}

grpc::ByteBuffer RequestFactory::MakeSessionRequest(int64_t call) const {
  // AppendSessionRequest{correlation_id = 1: call, append = 2: the Append
  // request}, its two fields written by hand in front of the template.
  const Template& t = templates_[call % templates_.size()];
  uint8_t head[24];
  uint8_t* p = head;
  auto varint = [&p](uint64_t v) {
    while (v >= 0x80) {
      *p++ = static_cast<uint8_t>(v | 0x80);
      v >>= 7;
    }
    *p++ = static_cast<uint8_t>(v);
  };
  *p++ = 0x08;
  varint(static_cast<uint64_t>(call));
  *p++ = 0x12;
  varint(t.bytes.size());
  const size_t head_size = static_cast<size_t>(p - head);
  grpc_slice raw = grpc_slice_malloc(head_size + t.bytes.size());
  char* out = reinterpret_cast<char*>(GRPC_SLICE_START_PTR(raw));
  memcpy(out, head, head_size);
  Patch(t, call, out + head_size);
  grpc::Slice slice(raw, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&slice, 1);
}

grpc::ByteBuffer RequestFactory::Make(int64_t call) const {
  const Template& t = templates_[call % templates_.size()];
  grpc_slice raw = grpc_slice_malloc(t.bytes.size());
  Patch(t, call, reinterpret_cast<char*>(GRPC_SLICE_START_PTR(raw)));
  grpc::Slice slice(raw, grpc::Slice::STEAL_REF);
  return grpc::ByteBuffer(&slice, 1);
}

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options) {
  LoadOptions o = options;
  if (o.mode == "latency") {
    o.clients = 1;
    o.channels = 1;
  } else if (o.mode != "single" && o.mode != "batch") {
    return absl::InvalidArgumentError(absl::StrCat(
        "--mode: '", o.mode, "' is not single, batch, latency or reopen"));
  }
  if (o.clients < 1 || o.channels < 1 || o.batch_size < 1 || o.units < 1) {
    return absl::InvalidArgumentError(
        "--clients, --channels, --batch_size and --units must be positive");
  }
  if (o.client_api != "threads" && o.client_api != "callback" &&
      o.client_api != "cq" && o.client_api != "session") {
    return absl::InvalidArgumentError(
        absl::StrCat("--client_api: '", o.client_api,
                     "' is not callback, cq, session or threads"));
  }
  if (o.client_api == "session" && o.mode == "batch") {
    return absl::InvalidArgumentError(
        "--client_api=session sends Appends; it does not apply to "
        "--mode=batch");
  }
  if (o.events == 0 && o.duration <= absl::ZeroDuration()) {
    return absl::InvalidArgumentError("--duration must be positive");
  }
  o.channels = std::min(o.channels, o.clients);

  std::vector<std::shared_ptr<grpc::Channel>> channels;
  for (int i = 0; i < o.channels; ++i) {
    grpc::ChannelArguments args;
    // Distinct arguments and no shared subchannel pool: one TCP connection
    // per channel.
    args.SetInt(GRPC_ARG_USE_LOCAL_SUBCHANNEL_POOL, 1);
    args.SetInt("grpc.channel_id", i);
    // The load generator never retries a call (a failure is counted, not
    // hidden), so it leaves out gRPC's retry filter and its per-call
    // bookkeeping, as pgbench has none: the client's CPU is taken from the
    // same two cores as the server's.
    args.SetInt(GRPC_ARG_ENABLE_RETRIES, 0);
    args.SetMaxSendMessageSize(-1);
    args.SetMaxReceiveMessageSize(-1);
    std::shared_ptr<grpc::ChannelCredentials> credentials =
        grpc::InsecureChannelCredentials();
    if (!o.tls_ca_pem.empty()) {
      grpc::SslCredentialsOptions ssl;
      ssl.pem_root_certs = o.tls_ca_pem;
      ssl.pem_cert_chain = o.tls_cert_pem;
      ssl.pem_private_key = o.tls_key_pem;
      credentials = grpc::SslCredentials(ssl);
      if (!o.tls_server_name.empty()) {
        args.SetSslTargetNameOverride(o.tls_server_name);
      }
    }
    channels.push_back(grpc::CreateCustomChannel(o.server, credentials, args));
  }
  const auto connect_deadline = std::chrono::system_clock::now() +
                                absl::ToChronoNanoseconds(o.connect_timeout);
  for (const auto& channel : channels) {
    if (!channel->WaitForConnected(connect_deadline)) {
      return absl::UnavailableError(
          absl::StrCat("could not connect to ", o.server, " within ",
                       absl::FormatDuration(o.connect_timeout)));
    }
  }

  if (absl::Status s = WaitServing(channels[0], o.connect_timeout); !s.ok()) {
    return s;
  }
  const RequestFactory factory(o.mode == "batch", o.batch_size, o.units,
                               NewRunId());
  const absl::StatusOr<uint64_t> head_before = Head(channels[0]);
  LoadResult r;
  {
    Driver driver(o, factory, channels);
    r = driver.Run();
  }
  if (head_before.ok()) {
    const absl::StatusOr<uint64_t> head_after = Head(channels[0]);
    if (head_after.ok()) {
      r.head_advance = static_cast<int64_t>(*head_after - *head_before);
    }
  }
  return r;
}

std::string FormatLoad(const LoadResult& r) {
  std::string out = absl::StrFormat(
      "nenep-bench %s: %d client%s (%s API) over %d connection%s, %d "
      "event%s of %d bytes per call, %.2f s measured\n",
      r.mode, r.clients, r.clients == 1 ? "" : "s", r.client_api, r.channels,
      r.channels == 1 ? "" : "s", r.batch_size, r.batch_size == 1 ? "" : "s",
      r.event_bytes, r.seconds);
  absl::StrAppend(
      &out,
      absl::StrFormat("  %12s %10s %12s | latency per call, ms: %7s %7s %7s "
                      "%7s %7s %7s | %s\n",
                      "events", "calls", "events/s", "mean", "p50", "p90",
                      "p99", "p99.9", "max", "client CPU"),
      absl::StrFormat(
          "  %12s %10s %12s | %21s %7.3f %7.3f %7.3f %7.3f %7.3f "
          "%7.3f | %s",
          Thousands(r.events), Thousands(r.calls),
          Thousands(static_cast<int64_t>(r.events_per_second)), "",
          r.mean_us / 1000, r.p50_us / 1000, r.p90_us / 1000, r.p99_us / 1000,
          r.p999_us / 1000, r.max_us / 1000,
          r.client_cpu_percent < 0
              ? std::string("-")
              : absl::StrFormat("%.0f%% of a core", r.client_cpu_percent)));
  if (r.head_advance >= 0) {
    absl::StrAppend(
        &out, absl::StrFormat(
                  "\n  acknowledged %s events (warm-up included); the "
                  "server's head advanced by %s%s",
                  Thousands(r.acknowledged_events), Thousands(r.head_advance),
                  r.head_advance < r.acknowledged_events
                      ? "  <-- FEWER THAN ACKNOWLEDGED"
                      : ""));
  }
  if (r.errors.empty()) {
    absl::StrAppend(&out, "\n  errors: none");
  } else {
    for (const auto& [code, n] : r.errors) {
      absl::StrAppend(&out, "\n  errors: ", code, " x", n, " (first: ",
                      r.error_examples.count(code) ? r.error_examples.at(code)
                                                   : std::string(),
                      ")");
    }
  }
  return out;
}

std::string LoadJson(const LoadResult& r) {
  std::string by_code;
  std::string examples;
  for (const auto& [code, n] : r.errors) {
    absl::StrAppend(&by_code, by_code.empty() ? "" : ",", "\"", code, "\":", n);
  }
  for (const auto& [code, text] : r.error_examples) {
    absl::StrAppend(&examples, examples.empty() ? "" : ",", "\"", code, "\":\"",
                    JsonEscape(text), "\"");
  }
  return absl::StrFormat(
      "{\"mode\":\"%s\",\"client_api\":\"%s\",\"clients\":%d,\"channels\":%d,"
      "\"batch_size\":%d,\"event_bytes\":%d,\"events\":%d,\"calls\":%d,"
      "\"seconds\":%.3f,\"events_per_s\":%.1f,\"calls_per_s\":%.1f,"
      "\"mean_us\":%.1f,\"p50_us\":%.0f,\"p90_us\":%.0f,\"p99_us\":%.0f,"
      "\"p999_us\":%.0f,\"max_us\":%.0f,\"client_cpu_pct\":%.1f,"
      "\"acknowledged_events\":%d,\"head_advance\":%d,\"errors\":%d,"
      "\"errors_by_code\":{%s},\"error_examples\":{%s}}",
      r.mode, r.client_api, r.clients, r.channels, r.batch_size, r.event_bytes,
      r.events, r.calls, r.seconds, r.events_per_second, r.calls_per_second,
      r.mean_us, r.p50_us, r.p90_us, r.p99_us, r.p999_us, r.max_us,
      r.client_cpu_percent, r.acknowledged_events, r.head_advance,
      r.error_count(), by_code, examples);
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
    auto channel =
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials());
    if (absl::Status s = WaitServing(channel, absl::Seconds(60)); !s.ok()) {
      return s;
    }
    absl::StatusOr<uint64_t> head = Head(channel);
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
        return absl::InternalError(
            absl::StrCat("filling the store failed:\n", FormatLoad(*filled)));
      }
    }
    child.Stop();  // SIGTERM: a clean stop, as an operator's restart
  }
  for (int run = 0; run < std::max(1, options.runs); ++run) {
    const absl::Time start = absl::Now();
    Child child(options.nenepd, options.data_dir);
    const int port = child.Port(absl::Seconds(60));
    if (port == 0) return absl::UnavailableError("nenepd did not start");
    auto channel = grpc::CreateChannel(absl::StrCat("127.0.0.1:", port),
                                       grpc::InsecureChannelCredentials());
    if (absl::Status s = WaitServing(channel, absl::Seconds(60)); !s.ok()) {
      return s;
    }
    result.ready_ms.push_back(absl::ToDoubleMilliseconds(absl::Now() - start));
    absl::StatusOr<uint64_t> head = Head(channel);
    if (head.ok()) result.head_position = *head;
  }
  std::vector<double> sorted = result.ready_ms;
  std::sort(sorted.begin(), sorted.end());
  result.median_ms = sorted[sorted.size() / 2];
  return result;
}

std::string FormatReopen(const ReopenResult& r) {
  std::string runs;
  for (double ms : r.ready_ms) {
    absl::StrAppend(&runs, runs.empty() ? "" : ", ",
                    absl::StrFormat("%.1f", ms));
  }
  return absl::StrFormat(
      "nenep-bench reopen: store of %s events, process start -> health "
      "SERVING in %.1f ms (median of %d runs: %s ms)",
      Thousands(static_cast<int64_t>(r.head_position)), r.median_ms,
      r.ready_ms.size(), runs);
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
