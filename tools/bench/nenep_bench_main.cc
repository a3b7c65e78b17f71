// nenep-bench: durable append throughput and latency of a running nenepd,
// and how fast a store reopens. The logic is in tools/bench/bench.h.
//
// Exit code: 0 success; 1 some calls failed (they are counted by status
// code and printed); 2 the run could not be made (bad flags, no server).

#include <fstream>
#include <iostream>
#include <iterator>
#include <string>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/flags/usage_config.h"
#include "absl/strings/match.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "tools/bench/bench.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(std::string, tls_ca_file, "",
          "TLS: the CA (PEM) of nenepd's certificate; set, calls use TLS.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "Mutual TLS: the client's certificate (PEM).");
ABSL_FLAG(std::string, tls_key_file, "", "Mutual TLS: the client's key (PEM).");
ABSL_FLAG(std::string, tls_server_name, "",
          "TLS: the name nenepd's certificate carries.");
ABSL_FLAG(std::string, mode, "single",
          "single: one-event Append per call from --clients concurrent "
          "callers; batch: BatchAppend of --batch_size events per call; "
          "latency: single with one client over one connection; reopen: "
          "time to restart nenepd on a filled store (--nenepd, --data_dir).");
ABSL_FLAG(int, clients, 0,
          "Concurrent callers (calls in flight). 0 = by mode: 64 for "
          "single, 4 for batch; latency always uses 1.");
ABSL_FLAG(int, channels, 4,
          "Separate TCP connections the callers are spread over.");
ABSL_FLAG(std::string, client_api, "cq",
          "cq: --cq_threads threads poll completion queues and re-issue each "
          "call as the previous one completes (the cheapest client); "
          "callback: the same from the gRPC callback API's completion "
          "callbacks; threads: one thread per client making blocking calls; "
          "session: as cq, but each client sends its appends one at a time "
          "on one long-lived AppendSession call (single and latency).");
ABSL_FLAG(int, cq_threads, 1,
          "cq: threads polling completion queues (each drives a share of "
          "the callers).");
ABSL_FLAG(int, batch_size, 1000, "batch: events per BatchAppend.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2),
          "Load before measuring starts (not counted).");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10),
          "Measured time after the warm-up.");
ABSL_FLAG(int64_t, events, 0,
          "If > 0: append this many events and stop (no warm-up; the whole "
          "run is measured). For filling a store.");
ABSL_FLAG(int, units, 10000,
          "Distinct cells the sessions go to; each is one stream "
          "(sessions-bench.cbNNNNN).");
ABSL_FLAG(int64_t, max_errors, 1000,
          "Stop early after this many failed calls.");
ABSL_FLAG(absl::Duration, call_timeout, absl::Seconds(60),
          "Deadline of each call.");
ABSL_FLAG(bool, json, false,
          "Print one JSON object on one line instead of the table.");
ABSL_FLAG(std::string, nenepd, "", "reopen: path of the nenepd binary.");
ABSL_FLAG(std::string, data_dir, "", "reopen: the store to fill and reopen.");
ABSL_FLAG(int64_t, fill_events, 1000000,
          "reopen: fill the store to this many events first.");
ABSL_FLAG(int, runs, 3, "reopen: how many times to restart.");

namespace {

int Reopen(bool json) {
  nenep::bench::ReopenOptions o;
  o.nenepd = absl::GetFlag(FLAGS_nenepd);
  o.data_dir = absl::GetFlag(FLAGS_data_dir);
  o.fill_events = absl::GetFlag(FLAGS_fill_events);
  o.runs = absl::GetFlag(FLAGS_runs);
  absl::StatusOr<nenep::bench::ReopenResult> r = nenep::bench::RunReopen(o);
  if (!r.ok()) {
    std::cerr << "nenep-bench: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << (json ? ReopenJson(*r) : FormatReopen(*r)) << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  // --help lists this file's flags (Abseil matches files to the program
  // name, and "nenep-bench" does not match "nenep_bench_main.cc").
  absl::FlagsUsageConfig usage;
  usage.contains_help_flags = [](absl::string_view file) {
    return absl::StrContains(file, "nenep_bench_main");
  };
  usage.contains_helpshort_flags = usage.contains_help_flags;
  absl::SetFlagsUsageConfig(usage);
  absl::SetProgramUsageMessage(
      "durable append benchmarks against a running nenepd (it acknowledges "
      "after fdatasync).\n\n"
      "  nenep-bench --mode=latency\n"
      "  nenep-bench --mode=single --clients=64 --channels=4\n"
      "  nenep-bench --mode=batch --batch_size=1000 --clients=4\n"
      "  nenep-bench --mode=reopen --nenepd=build/services/nenepd "
      "--data_dir=/tmp/store\n\n"
      "Prints throughput and per-call latency percentiles (p50, p90, p99, "
      "p99.9, max) as a table, or one JSON object with --json.\n"
      "Exit code: 0 ok; 1 some calls failed (counted by status code); 2 the "
      "run could not be made.");
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's deadlock
  // detection on; gRPC locks through absl::Mutex on every call, so it would
  // add client CPU.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);
  const bool json = absl::GetFlag(FLAGS_json);
  const std::string mode = absl::GetFlag(FLAGS_mode);
  if (mode == "reopen") return Reopen(json);

  nenep::bench::LoadOptions o;
  o.server = absl::GetFlag(FLAGS_server);
  o.mode = mode;
  o.clients = absl::GetFlag(FLAGS_clients);
  if (o.clients == 0) o.clients = mode == "batch" ? 4 : 64;
  o.channels = absl::GetFlag(FLAGS_channels);
  o.client_api = absl::GetFlag(FLAGS_client_api);
  o.cq_threads = absl::GetFlag(FLAGS_cq_threads);
  o.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.duration = absl::GetFlag(FLAGS_duration);
  o.events = absl::GetFlag(FLAGS_events);
  o.units = absl::GetFlag(FLAGS_units);
  o.max_errors = absl::GetFlag(FLAGS_max_errors);
  o.call_timeout = absl::GetFlag(FLAGS_call_timeout);
  auto read = [](const std::string& path, std::string* out) {
    if (path.empty()) return true;
    std::ifstream in(path, std::ios::binary);
    *out = std::string(std::istreambuf_iterator<char>(in), {});
    return !out->empty();
  };
  if (!read(absl::GetFlag(FLAGS_tls_ca_file), &o.tls_ca_pem) ||
      !read(absl::GetFlag(FLAGS_tls_cert_file), &o.tls_cert_pem) ||
      !read(absl::GetFlag(FLAGS_tls_key_file), &o.tls_key_pem)) {
    std::cerr << "nenep-bench: cannot read a --tls_* file\n";
    return 2;
  }
  o.tls_server_name = absl::GetFlag(FLAGS_tls_server_name);
  absl::StatusOr<nenep::bench::LoadResult> r = nenep::bench::RunLoad(o);
  if (!r.ok()) {
    std::cerr << "nenep-bench: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << (json ? LoadJson(*r) : FormatLoad(*r)) << std::endl;
  if (!r->errors.empty()) {
    std::cerr << "nenep-bench: " << r->error_count() << " call(s) failed\n";
    return 1;
  }
  return 0;
}
