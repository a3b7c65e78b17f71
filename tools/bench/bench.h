// File: tools/bench/bench.h
//
// Benchmarks of a running nenepd over gRPC. nenepd acknowledges an append
// only after the fdatasync of its write-ahead log, so every figure here is a
// durable throughput or latency.
//
// The client is built to cost little CPU, because on a small machine it
// shares the cores with the server it measures:
//  - requests are serialized once into templates; each call copies a
//    template and patches fixed-width digits into it (a unique session_id
//    and a unit_id per event), so no protobuf work happens per call;
//  - calls go through the generic stub: `clients` calls stay in flight,
//    spread over `channels` TCP connections, each re-issued as soon as the
//    previous one completes. By default one thread polls a completion queue
//    and re-issues inline ("cq"), which costs the least client CPU on this
//    gRPC (1.51); "callback" does the same from the completion callbacks of
//    the gRPC callback API (stub.async()), on gRPC's own threads, at ~20%
//    more client CPU per call;
//  - responses are not parsed (an OK status is the acknowledgement);
//  - each in-flight slot keeps its own latency samples, so completions
//    take no lock.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "grpcpp/support/byte_buffer.h"

namespace nenep::bench {

struct LoadOptions {
  std::string server = "127.0.0.1:50051";
  // "single": one-event Append per call; "batch": BatchAppend of
  // batch_size events per call; "latency": single with one client over one
  // channel.
  std::string mode = "single";
  int clients = 64;  // calls in flight (>= 1)
  // "cq": `cq_threads` threads each poll their own completion queue and
  // re-issue calls inline (fewest thread hand-offs). "callback": the gRPC
  // callback API re-issues each call from the completion callback of the
  // previous one, on gRPC's threads. "threads": one thread per client
  // making blocking calls (as pgbench's connections do). "session": like
  // "cq", but each client keeps one AppendSession call open and sends its
  // appends on it one at a time (single and latency modes).
  std::string client_api = "cq";
  int cq_threads = 1;
  int channels = 4;  // distinct TCP connections (>= 1)
  int batch_size = 1000;
  absl::Duration warmup = absl::Seconds(2);     // run, not measured
  absl::Duration duration = absl::Seconds(10);  // measured
  // If > 0: append about this many events (rounded up to whole calls), then
  // stop; no warm-up, everything measured. Used to fill a store.
  int64_t events = 0;
  // Distinct cells the sessions are spread over (one stream each).
  int units = 10000;
  // Stop early once this many calls have failed (keeps a dead server from
  // turning into a busy loop). Every failure is still counted.
  int64_t max_errors = 1000;
  absl::Duration call_timeout = absl::Seconds(60);
  absl::Duration connect_timeout = absl::Seconds(10);
  // TLS: the CA that signed nenepd's certificate (PEM text; empty:
  // plaintext), this client's certificate and key for mutual TLS, and the
  // name nenepd's certificate carries (default: the host of `server`).
  std::string tls_ca_pem, tls_cert_pem, tls_key_pem, tls_server_name;
};

struct LoadResult {
  std::string mode;
  std::string client_api;
  int clients = 0;
  int channels = 0;
  int batch_size = 0;   // events per call (1 unless mode is batch)
  int event_bytes = 0;  // serialized size of one event
  // Acknowledged in the measured window (completed between the end of the
  // warm-up and the end of the run).
  int64_t events = 0;
  int64_t calls = 0;
  double seconds = 0;  // the measured window
  double events_per_second = 0;
  double calls_per_second = 0;
  // Per call, start to acknowledgement, in microseconds, over the calls
  // completed in the window (nearest-rank percentiles).
  double mean_us = 0;
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  // CPU time of this process (user + system) during the window, as a
  // percentage of one core; -1 when not measured.
  double client_cpu_percent = -1;
  // Everything acknowledged, warm-up included.
  int64_t acknowledged_events = 0;
  // The server's head position advanced by this much during the run
  // (Admin.GetStatus before and after); -1 if it could not be read. It must
  // be >= acknowledged_events.
  int64_t head_advance = -1;
  // Failed calls: status code name ("UNAVAILABLE", ...) -> count, and the
  // first message seen for each code.
  std::map<std::string, int64_t> errors;
  std::map<std::string, std::string> error_examples;
  int64_t error_count() const;
};

// Runs one load. Fails (without running) on bad options, if a channel does
// not connect or the server's health service does not answer SERVING within
// connect_timeout; failed calls are reported in LoadResult::errors instead.
absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

// One table (several lines, no trailing newline), and one JSON object on one
// line with the fields mode, clients, channels, batch_size, events, calls,
// seconds, events_per_s, p50_us, p90_us, p99_us, p999_us, max_us, mean_us,
// errors (the total), errors_by_code, client_cpu_pct, acknowledged_events,
// head_advance.
std::string FormatLoad(const LoadResult& r);
std::string LoadJson(const LoadResult& r);

// The requests of a run, serialized once. Event number i (counting from 0
// over the whole run) is a regular SessionHeld of 2024 with session_id
// "bench.<run_id>.s<i, 12 digits>" and unit_id "bench.cb<NNNNN>" (a hash of
// i modulo `units`, zero-padded to at least 5 digits), so its stream is
// "sessions-bench.cbNNNNN". business_date and for_period vary over the
// twelve months. Thread-safe (const after construction).
class RequestFactory {
 public:
  // batch: BatchAppendRequest of batch_size entries, else AppendRequest of
  // one event. run_id: 1 to 16 characters from [a-z0-9].
  RequestFactory(bool batch, int batch_size, int units,
                 const std::string& run_id);

  int events_per_call() const { return per_call_; }
  int event_bytes() const { return event_bytes_; }
  const char* method() const {
    return batch_ ? "/nenep.v1.EventLog/BatchAppend"
                  : "/nenep.v1.EventLog/Append";
  }

  // The serialized request of call number `call`: events
  // call * events_per_call() .. + events_per_call() - 1.
  std::string MakeString(int64_t call) const;
  grpc::ByteBuffer Make(int64_t call) const;
  // Make(call) as the `append` of an AppendSessionRequest whose
  // correlation_id is `call` (single-event modes).
  grpc::ByteBuffer MakeSessionRequest(int64_t call) const;

 private:
  struct Template {
    std::string bytes;
    std::vector<size_t> session_digits;  // offsets of the 12 digits
    std::vector<size_t> unit_digits;     // offsets of the unit digits
  };
  void Patch(const Template& t, int64_t call, char* out) const;

  bool batch_;
  int per_call_;
  int units_;
  int unit_width_;
  int event_bytes_ = 0;
  std::vector<Template> templates_;
};

// A base-36 id from the clock and the process id, for RequestFactory.
std::string NewRunId();

struct ReopenOptions {
  std::string nenepd;             // path of the nenepd binary
  std::string data_dir;           // the store to reopen
  int64_t fill_events = 1000000;  // appended first if the store has fewer
  int runs = 3;
};

struct ReopenResult {
  uint64_t head_position = 0;
  std::vector<double> ready_ms;  // start of the process -> health SERVING
  double median_ms = 0;
};

// Fills `data_dir` to at least fill_events events (starting nenepd on it),
// stops nenepd with SIGTERM, then starts it `runs` times and measures how
// long until the gRPC health service answers SERVING.
absl::StatusOr<ReopenResult> RunReopen(const ReopenOptions& options);

std::string FormatReopen(const ReopenResult& r);
std::string ReopenJson(const ReopenResult& r);

}  // namespace nenep::bench
