// File: tools/bench/bench.h
//
// Benchmarks of a running nenepd over gRPC. Every acknowledged append is
// durable (the server answers after fdatasync), so the figures are durable
// throughput and latency.
//
// The client is built to cost little CPU (it shares the machine with the
// server): requests are serialized once into a pool and sent with the
// generic callback stub, keeping `clients` calls in flight over `channels`
// connections.
#pragma once

#include <cstdint>
#include <map>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace nenep::bench {

struct LoadOptions {
  std::string server = "127.0.0.1:50051";
  // "single": one-event Append per call; "batch": BatchAppend of
  // batch_size events per call; "latency": single with one client.
  std::string mode = "single";
  int clients = 64;  // calls in flight
  // "threads": one thread per client making blocking calls (as 64
  // database connections would); "callback": all calls from the callback
  // API's threads.
  std::string client_api = "callback";
  int channels = 4;  // TCP connections
  int batch_size = 1000;
  absl::Duration warmup = absl::Seconds(2);
  absl::Duration duration = absl::Seconds(10);
  // If > 0, stop after this many events instead of after `duration`
  // (no warmup): used to fill a store.
  int64_t events = 0;
  // Distinct cells the sessions are spread over (one stream each).
  int units = 10000;
};

struct LoadResult {
  std::string mode;
  int clients = 0;
  int batch_size = 0;
  int64_t events = 0;  // acknowledged in the measured window
  int64_t calls = 0;
  double seconds = 0;
  double events_per_second = 0;
  // Per call, in microseconds.
  double p50_us = 0, p90_us = 0, p99_us = 0, p999_us = 0, max_us = 0;
  std::map<std::string, int64_t> errors;  // status code name -> count
};

absl::StatusOr<LoadResult> RunLoad(const LoadOptions& options);

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

// Fills `data_dir` to at least fill_events events, then starts nenepd on it
// `runs` times and measures how long until health answers SERVING.
absl::StatusOr<ReopenResult> RunReopen(const ReopenOptions& options);

std::string FormatLoad(const LoadResult& r);
std::string LoadJson(const LoadResult& r);
std::string FormatReopen(const ReopenResult& r);
std::string ReopenJson(const ReopenResult& r);

}  // namespace nenep::bench
