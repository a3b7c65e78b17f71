// File: tools/cli/cli.h
//
// The commands of the `nenep` CLI, callable without a process so that they
// can be tested. Each returns the process exit code: 0 success, 1 a failure
// (the message says what and where), 2 a usage error.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "grpcpp/channel.h"

namespace nenep::cli {

struct Context {
  std::shared_ptr<grpc::Channel> channel;
  std::string server;  // for messages
  bool json = false;   // machine output: one JSON object per line
  absl::Duration timeout = absl::Seconds(30);
  std::ostream* out = nullptr;  // results
  std::ostream* err = nullptr;  // errors, progress
  bool progress = false;        // draw a progress line on *err
};

struct AppendOptions {
  std::string stream;             // "" = the events' own stream
  std::string expected_revision;  // any | no_stream | exists | <n>
  std::string request_id;         // "" = derived from the input
};

struct ImportOptions {
  int batch_size = 1000;
  std::string request_id_prefix;  // "" = derived from the input's content
};

struct ReadOptions {
  uint64_t from = 0;
  bool backward = false;
  int64_t limit = 100;  // <= 0: everything
  std::string stream;   // "" = the whole log
  int page_size = 500;
};

// Appends every event of the JSON Lines `path` ("-" = stdin) in one atomic
// request: Append if they share a stream, else BatchAppend.
int Append(const Context& ctx, const std::string& path,
           const AppendOptions& options);

// Imports the JSON Lines `path` in batches (BatchAppend), in order. Batches
// get request ids derived from the file's content, so re-running the same
// import (same --batch_size) appends nothing twice.
int Import(const Context& ctx, const std::string& path,
           const ImportOptions& options);

int Read(const Context& ctx, const ReadOptions& options);
int Get(const Context& ctx, uint64_t position);
int Status(const Context& ctx);
int Backup(const Context& ctx, const std::string& directory);

// Offline: restores a backup into an empty data directory.
int Restore(const std::string& backup_dir, const std::string& data_dir,
            uint32_t backup_id, std::ostream* out, std::ostream* err);

}  // namespace nenep::cli
