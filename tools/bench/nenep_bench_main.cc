// nenep-bench: durable append throughput and latency of a running nenepd,
// and how fast a store reopens.

#include <iostream>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "tools/bench/bench.h"

ABSL_FLAG(std::string, server, "127.0.0.1:50051", "nenepd address.");
ABSL_FLAG(std::string, mode, "single",
          "single (one-event Append per call), batch (BatchAppend of "
          "--batch_size), latency (single, one client) or reopen.");
ABSL_FLAG(int, clients, 64, "Concurrent clients (calls in flight).");
ABSL_FLAG(std::string, client_api, "callback",
          "threads: one thread per client making blocking calls; callback: "
          "the gRPC callback API keeps the calls in flight.");
ABSL_FLAG(int, channels, 4, "TCP connections the calls are spread over.");
ABSL_FLAG(int, batch_size, 1000, "Events per BatchAppend.");
ABSL_FLAG(absl::Duration, warmup, absl::Seconds(2), "Not measured.");
ABSL_FLAG(absl::Duration, duration, absl::Seconds(10), "Measured.");
ABSL_FLAG(int64_t, events, 0,
          "If > 0: append this many events, then stop (no warmup).");
ABSL_FLAG(int, units, 10000, "Distinct cells (streams) the events go to.");
ABSL_FLAG(bool, json, false, "Print one JSON object instead of a table row.");
ABSL_FLAG(std::string, nenepd, "", "reopen: path of the nenepd binary.");
ABSL_FLAG(std::string, data_dir, "", "reopen: the store to fill and reopen.");
ABSL_FLAG(int64_t, fill_events, 1000000,
          "reopen: fill the store to this many events first.");
ABSL_FLAG(int, runs, 3, "reopen: how many times to reopen.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "durable append benchmarks against a running nenepd.\n\n"
      "  nenep-bench --mode=single --clients=64 --server=127.0.0.1:50051\n"
      "  nenep-bench --mode=batch --batch_size=1000 --clients=4\n"
      "  nenep-bench --mode=latency\n"
      "  nenep-bench --mode=reopen --nenepd=build/services/nenepd "
      "--data_dir=/tmp/store\n\n"
      "Exit code 1 if any call failed or the run could not be made.");
  absl::ParseCommandLine(argc, argv);
  const bool json = absl::GetFlag(FLAGS_json);
  if (absl::GetFlag(FLAGS_mode) == "reopen") {
    nenep::bench::ReopenOptions o;
    o.nenepd = absl::GetFlag(FLAGS_nenepd);
    o.data_dir = absl::GetFlag(FLAGS_data_dir);
    o.fill_events = absl::GetFlag(FLAGS_fill_events);
    o.runs = absl::GetFlag(FLAGS_runs);
    absl::StatusOr<nenep::bench::ReopenResult> r = nenep::bench::RunReopen(o);
    if (!r.ok()) {
      std::cerr << "nenep-bench: " << r.status().message() << "\n";
      return 1;
    }
    std::cout << (json ? ReopenJson(*r) : FormatReopen(*r)) << std::endl;
    return 0;
  }
  nenep::bench::LoadOptions o;
  o.server = absl::GetFlag(FLAGS_server);
  o.mode = absl::GetFlag(FLAGS_mode);
  o.clients = absl::GetFlag(FLAGS_clients);
  o.client_api = absl::GetFlag(FLAGS_client_api);
  o.channels = absl::GetFlag(FLAGS_channels);
  o.batch_size = absl::GetFlag(FLAGS_batch_size);
  o.warmup = absl::GetFlag(FLAGS_warmup);
  o.duration = absl::GetFlag(FLAGS_duration);
  o.events = absl::GetFlag(FLAGS_events);
  o.units = absl::GetFlag(FLAGS_units);
  absl::StatusOr<nenep::bench::LoadResult> r = nenep::bench::RunLoad(o);
  if (!r.ok()) {
    std::cerr << "nenep-bench: " << r.status().message() << "\n";
    return 2;
  }
  std::cout << (json ? LoadJson(*r) : FormatLoad(*r)) << std::endl;
  return r->errors.empty() ? 0 : 1;
}
