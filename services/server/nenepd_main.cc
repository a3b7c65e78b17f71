// nenepd: the nenep event log server.

#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/reflection.h"
#include "absl/flags/usage.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/synchronization/mutex.h"
#include "services/server/server.h"
#include "storage/common/logging.h"

#if NENEP_JEMALLOC
#include <jemalloc/jemalloc.h>
#endif

ABSL_FLAG(std::string, config, "",
          "Optional config file: one 'flag = value' per line, '#' starts a "
          "comment (see deploy/nenepd.conf.example). Command-line flags win.");
ABSL_FLAG(std::string, data_dir, "./data",
          "Directory of the RocksDB store; created if missing.");
ABSL_FLAG(std::string, listen, "127.0.0.1:50051",
          "gRPC address (host:port). Port 0 picks a free port.");
ABSL_FLAG(std::string, metrics_listen, "127.0.0.1:9464",
          "Prometheus /metrics address (host:port); empty turns it off.");
ABSL_FLAG(std::string, port_file, "",
          "If set, write the bound gRPC port to this file once listening.");
ABSL_FLAG(int, max_append_events, 1000, "Most events in one Append.");
ABSL_FLAG(int, max_batch_events, 10000, "Most entries in one BatchAppend.");
ABSL_FLAG(int, max_event_bytes, 64 << 10,
          "Largest serialized event, in bytes.");
ABSL_FLAG(int, max_text_bytes, 4 << 10, "Largest text field, in bytes.");
ABSL_FLAG(int, max_request_bytes, 64 << 20,
          "Largest request message, in bytes (RESOURCE_EXHAUSTED beyond).");
ABSL_FLAG(int, max_read_page, 1000,
          "Most events one ReadAll or ReadStream page returns.");
ABSL_FLAG(int, max_future_days, 1,
          "How many days past today (Asia/Ho_Chi_Minh) a business date may "
          "lie.");
ABSL_FLAG(int, commit_max_group_events, 50000,
          "Most events one durable write (group commit) takes.");
ABSL_FLAG(bool, commit_on_caller_when_idle, true,
          "An append that finds the log idle is committed and synced on the "
          "gRPC thread that received it: two thread hand-offs fewer for a "
          "lone writer. Under load appends queue for the committer as usual.");
ABSL_FLAG(int, max_queued_mib, 512,
          "Appends are refused (RESOURCE_EXHAUSTED) while this many MiB wait "
          "for the committer.");
ABSL_FLAG(bool, projections, true,
          "Keep the hierarchy and rollup projections: referential checks on "
          "append and the Query service. false runs the bare log (bulk loads "
          "of data whose references lie outside nenep; benchmarks); the "
          "projections are rebuilt from the log when turned on again.");
ABSL_FLAG(
    std::string, signing_key, "",
    "Ed25519 private key (PEM) that signs the log's Merkle tree heads; "
    "made on first start if missing. Default: <data_dir>/signing_key.pem");
ABSL_FLAG(absl::Duration, sign_interval, absl::Seconds(10),
          "How often a new tree head is signed while the log grows.");
ABSL_FLAG(absl::Duration, reopen_interval, absl::Seconds(10),
          "After a failed write or sync (a full disk, an I/O error) the "
          "store is reopened from its write-ahead log, first after 0.1 s, "
          "then at doubling intervals up to this one, until the fault "
          "clears.");
ABSL_FLAG(bool, verify_tree_on_open, true,
          "Rehash the whole log at start and refuse to serve a store that "
          "does not match its Merkle tree (altered behind nenep's back).");
ABSL_FLAG(int, block_cache_mib, 256, "RocksDB block cache size, in MiB.");
ABSL_FLAG(int, grpc_memory_mib, 1024,
          "Memory gRPC may use for calls in progress; beyond, calls are "
          "refused with RESOURCE_EXHAUSTED.");
ABSL_FLAG(std::string, tls_cert_file, "",
          "TLS: the server's certificate chain (PEM); with --tls_key_file.");
ABSL_FLAG(std::string, tls_key_file, "",
          "TLS: the server's private key (PEM).");
ABSL_FLAG(std::string, tls_client_ca_file, "",
          "Mutual TLS: clients must present a certificate this CA (PEM) "
          "signed.");
ABSL_FLAG(bool, allow_plaintext, false,
          "Allow a plaintext listener on an address that is not loopback "
          "(logged as a warning).");
ABSL_FLAG(std::string, auth_file, "",
          "Access file: principals (certificate common name or SHA-256 of a "
          "bearer token), their role (writer, reader, auditor, admin) and "
          "scope (unit subtrees); re-read on SIGHUP. Empty: every caller is "
          "an admin named 'anonymous'.");
ABSL_FLAG(double, rate_limit, 0,
          "Calls per second each principal may make (0: no limit); beyond, "
          "RESOURCE_EXHAUSTED with a retry hint.");
ABSL_FLAG(double, rate_burst, 0,
          "Calls a principal may make at once above its rate (default: one "
          "second's worth).");
ABSL_FLAG(int, max_streams_per_principal, 0,
          "Subscriptions a principal may hold open at once (0: no limit).");
ABSL_FLAG(std::string, log_format, "json",
          "Log lines on stderr: 'json' (one object per line) or 'text'.");
ABSL_FLAG(std::string, log_level, "info", "debug, info, warn or error.");
ABSL_FLAG(absl::Duration, shutdown_grace, absl::Seconds(30),
          "On SIGTERM/SIGINT, how long in-flight calls may take to finish.");

namespace {

constexpr char kVersion[] = "0.1.0";

// The malloc this process runs on (cmake/nenep_allocator.cmake).
std::string AllocatorName() {
#if NENEP_JEMALLOC
  const char* version = nullptr;
  size_t size = sizeof(version);
  if (mallctl("version", &version, &size, nullptr, 0) == 0 &&
      version != nullptr) {
    return absl::StrCat("jemalloc ", version);
  }
  return "jemalloc";
#else
  return "glibc";
#endif
}

// Applies `name = value` lines of `path` to the flags. Returns false (after
// printing why) on an unreadable file, a malformed line or an unknown flag.
bool LoadConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    std::fprintf(stderr, "nenepd: cannot read config file %s\n", path.c_str());
    return false;
  }
  std::string line;
  int number = 0;
  while (std::getline(in, line)) {
    ++number;
    absl::string_view text = line;
    if (size_t hash = text.find('#'); hash != absl::string_view::npos) {
      text = text.substr(0, hash);
    }
    text = absl::StripAsciiWhitespace(text);
    if (text.empty()) continue;
    absl::ConsumePrefix(&text, "--");
    size_t eq = text.find('=');
    if (eq == absl::string_view::npos) {
      std::fprintf(stderr, "nenepd: %s:%d: expected 'flag = value'\n",
                   path.c_str(), number);
      return false;
    }
    const std::string name(absl::StripAsciiWhitespace(text.substr(0, eq)));
    std::string value(absl::StripAsciiWhitespace(text.substr(eq + 1)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"') {
      value = value.substr(1, value.size() - 2);
    }
    absl::CommandLineFlag* flag = absl::FindCommandLineFlag(name);
    if (flag == nullptr || name == "config") {
      std::fprintf(stderr, "nenepd: %s:%d: unknown flag '%s'\n", path.c_str(),
                   number, name.c_str());
      return false;
    }
    std::string error;
    if (!flag->ParseFrom(value, &error)) {
      std::fprintf(stderr, "nenepd: %s:%d: %s: %s\n", path.c_str(), number,
                   name.c_str(), error.c_str());
      return false;
    }
  }
  return true;
}

// The --config value on the command line, read before flags are parsed so
// that command-line flags override the file.
std::string ConfigArg(int argc, char** argv) {
  std::string config;
  for (int i = 1; i < argc; ++i) {
    absl::string_view arg = argv[i];
    if (absl::ConsumePrefix(&arg, "--config=") ||
        absl::ConsumePrefix(&arg, "-config=")) {
      config = std::string(arg);
    } else if ((arg == "--config" || arg == "-config") && i + 1 < argc) {
      config = argv[i + 1];
    }
  }
  return config;
}

bool Positive(const char* name, int value) {
  if (value > 0) return true;
  std::fprintf(stderr, "nenepd: --%s must be positive (got %d)\n", name, value);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "nenep event log server.\n\n"
      "  nenepd [--data_dir=./data] [--listen=127.0.0.1:50051] "
      "[--config=FILE] ...\n\n"
      "Serves nenep.v1.EventLog and nenep.v1.Admin over gRPC, with health "
      "checking and reflection, and Prometheus metrics on --metrics_listen.\n"
      "SIGTERM or SIGINT drain in-flight appends and close the store.");
  // Block the stop signals before any thread starts; main waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGHUP);  // re-read the access file
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);

  if (std::string config = ConfigArg(argc, argv); !config.empty()) {
    if (!LoadConfig(config)) return 2;
  }
  absl::ParseCommandLine(argc, argv);
  // Debian builds Abseil without NDEBUG, which leaves absl::Mutex's
  // deadlock detection on: a graph update on every lock of every mutex
  // (gRPC's included), a few percent of the server's CPU. The locks are
  // checked by clang's thread-safety analysis at build time instead.
  absl::SetMutexDeadlockDetectionMode(absl::OnDeadlockCycle::kIgnore);

  nenep::logging::Level level;
  if (!nenep::logging::ParseLevel(absl::GetFlag(FLAGS_log_level), &level)) {
    std::fprintf(stderr,
                 "nenepd: --log_level must be debug, info, warn or "
                 "error\n");
    return 2;
  }
  const std::string format = absl::GetFlag(FLAGS_log_format);
  if (format != "json" && format != "text") {
    std::fprintf(stderr, "nenepd: --log_format must be json or text\n");
    return 2;
  }
  nenep::logging::Init(format == "json" ? nenep::logging::Format::kJson
                                        : nenep::logging::Format::kText,
                       level);

  const int max_append = absl::GetFlag(FLAGS_max_append_events);
  const int max_batch = absl::GetFlag(FLAGS_max_batch_events);
  const int max_event = absl::GetFlag(FLAGS_max_event_bytes);
  const int max_text = absl::GetFlag(FLAGS_max_text_bytes);
  const int max_request = absl::GetFlag(FLAGS_max_request_bytes);
  const int max_page = absl::GetFlag(FLAGS_max_read_page);
  const int group = absl::GetFlag(FLAGS_commit_max_group_events);
  const int queued = absl::GetFlag(FLAGS_max_queued_mib);
  const int cache = absl::GetFlag(FLAGS_block_cache_mib);
  if (!Positive("max_append_events", max_append) ||
      !Positive("max_batch_events", max_batch) ||
      !Positive("max_event_bytes", max_event) ||
      !Positive("max_text_bytes", max_text) ||
      !Positive("max_request_bytes", max_request) ||
      !Positive("max_read_page", max_page) ||
      !Positive("commit_max_group_events", group) ||
      !Positive("max_queued_mib", queued) ||
      !Positive("block_cache_mib", cache)) {
    return 2;
  }

  nenep::services::ServerOptions options;
  options.data_dir = absl::GetFlag(FLAGS_data_dir);
  options.listen = absl::GetFlag(FLAGS_listen);
  options.metrics_listen = absl::GetFlag(FLAGS_metrics_listen);
  options.max_request_bytes = max_request;
  options.service.limits.max_append_events = max_append;
  options.service.limits.max_batch_events = max_batch;
  options.service.limits.max_event_bytes = max_event;
  options.service.limits.max_text_bytes = max_text;
  options.service.limits.max_future_days = absl::GetFlag(FLAGS_max_future_days);
  options.service.max_read_page = max_page;
  options.projections = absl::GetFlag(FLAGS_projections);
  options.signing_key = absl::GetFlag(FLAGS_signing_key);
  options.sign_interval = absl::GetFlag(FLAGS_sign_interval);
  options.reopen_interval =
      std::max(absl::Milliseconds(100), absl::GetFlag(FLAGS_reopen_interval));
  options.log.verify_tree_on_open = absl::GetFlag(FLAGS_verify_tree_on_open);
  options.log.max_group_events = group;
  options.log.commit_on_caller_when_idle =
      absl::GetFlag(FLAGS_commit_on_caller_when_idle);
  options.log.max_queued_bytes = static_cast<size_t>(queued) << 20;
  options.service.max_inflight_bytes = static_cast<int64_t>(queued) << 20;
  options.log.block_cache_bytes = static_cast<size_t>(cache) << 20;
  options.version = kVersion;
  // A failed write or sync (a full disk, an I/O error): the server stops
  // serving and reopens the store from its write-ahead log by itself once
  // the fault clears (see ServerOptions::on_store_failed).
  options.grpc_memory_bytes =
      static_cast<size_t>(std::max(16, absl::GetFlag(FLAGS_grpc_memory_mib)))
      << 20;
  options.tls_cert_file = absl::GetFlag(FLAGS_tls_cert_file);
  options.tls_key_file = absl::GetFlag(FLAGS_tls_key_file);
  options.tls_client_ca_file = absl::GetFlag(FLAGS_tls_client_ca_file);
  options.allow_plaintext = absl::GetFlag(FLAGS_allow_plaintext);
  options.access.auth_file = absl::GetFlag(FLAGS_auth_file);
  options.access.calls_per_second = absl::GetFlag(FLAGS_rate_limit);
  options.access.call_burst = absl::GetFlag(FLAGS_rate_burst);
  options.access.max_streams = absl::GetFlag(FLAGS_max_streams_per_principal);

  nenep::logging::Info("allocator", {{"malloc", AllocatorName()}});
  absl::StatusOr<std::unique_ptr<nenep::services::Server>> server =
      nenep::services::Server::Start(std::move(options));
  if (!server.ok()) {
    nenep::logging::Error("nenepd cannot start", {{"error", server.status()}});
    std::fprintf(stderr, "nenepd: %s\n",
                 std::string(server.status().message()).c_str());
    return 1;
  }
  if (const std::string port_file = absl::GetFlag(FLAGS_port_file);
      !port_file.empty()) {
    const std::string tmp = port_file + ".tmp";
    std::ofstream out(tmp, std::ios::trunc);
    out << (*server)->port() << "\n";
    out.close();
    if (!out || std::rename(tmp.c_str(), port_file.c_str()) != 0) {
      nenep::logging::Error("cannot write --port_file", {{"path", port_file}});
      return 1;
    }
  }
  if (absl::Status open = (*server)->WaitUntilServing(); !open.ok()) {
    std::fprintf(stderr, "nenepd: %s\n", std::string(open.message()).c_str());
    (*server)->Shutdown(absl::Seconds(1)).IgnoreError();
    return 1;
  }

  int signal = 0;
  for (;;) {
    sigwait(&stop_signals, &signal);
    if (signal != SIGHUP) break;
    nenep::logging::Info("SIGHUP: re-reading the access file");
    (*server)->ReloadAccess().IgnoreError();  // logged by the reload
  }
  nenep::logging::Info("stop signal received",
                       {{"signal", signal == SIGTERM ? "SIGTERM" : "SIGINT"}});
  absl::Status closed =
      (*server)->Shutdown(absl::GetFlag(FLAGS_shutdown_grace));
  if (!closed.ok()) return 1;
  nenep::logging::Info("stopped cleanly");
  return 0;
}
