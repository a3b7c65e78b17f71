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

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "grpcpp/channel.h"
#include "grpcpp/client_context.h"

namespace google::protobuf {
class Message;
}
namespace nenep::v1 {
class BatchEntry;
class Date;
class RecordedEvent;
}  // namespace nenep::v1

namespace nenep::cli {

struct Context {
  std::shared_ptr<grpc::Channel> channel;
  std::string server;  // for messages
  bool json = false;   // machine output: one JSON object per line
  absl::Duration timeout = absl::Seconds(30);
  std::ostream* out = nullptr;  // results
  std::ostream* err = nullptr;  // errors, progress
  bool progress = false;        // draw a progress line on *err
  std::string bearer_token;     // sent as "authorization: Bearer ..."
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

// A date as people write it: "18/05/2023".
std::string Vn(const v1::Date& d);
// dd/mm/yyyy or yyyy-mm-dd (not checked as a calendar date).
bool ParseDate(const std::string& text, v1::Date* out);

// One line of a JSON Lines input: a BatchEntry ({"stream":..,"event":{..}})
// or a bare Event ({"businessDate":..,"sessionHeld":{..}}), in protobuf's
// JSON mapping; kInvalidArgument saying why not.
absl::Status ParseImportLine(const std::string& line, v1::BatchEntry* entry);

// A failed call, for people: the status code's name and the message, or how
// to reach the server.
std::string Describe(const Context& ctx, const grpc::Status& s);
// Prepares a call: its deadline and, if set, the bearer token.
void SetDeadline(const Context& ctx, grpc::ClientContext* call);
// One line of protobuf JSON.
std::string ToJson(const google::protobuf::Message& m);
// One event: a line of text, or of JSON with ctx.json.
void PrintEvent(const Context& ctx, const v1::RecordedEvent& e);

struct UnitsOptions {
  std::string find;   // search by name instead of showing unit_id
  std::string as_of;  // dd/mm/yyyy; "" = today
  bool all = false;   // with find: also units not active on as_of
};
// Shows a unit and its children, or (find) the units whose name matches.
int Units(const Context& ctx, const std::string& unit_id,
          const UnitsOptions& options);

struct RollupOptions {
  std::string from, to;        // dd/mm/yyyy
  std::string period;          // 2024, 2024-H1, 2024-Q2, 2024-03
  std::string phase;           // 2021-2023
  std::string structure_date;  // dd/mm/yyyy: restate as of this tree
  bool children = false;       // the direct children's breakdown
  std::string sort_by;
  bool descending = false;
  // Known as of a log position ("1234") or a recorded instant (RFC 3339,
  // e.g. 2024-03-15T17:00:00+07:00); "" = now.
  std::string known_as_of;
};
int Rollup(const Context& ctx, const std::string& unit_id,
           const RollupOptions& options);

struct TailOptions {
  uint64_t from = 0;               // first position; 0 = only new events
  std::vector<std::string> types;  // event types; empty = all
  std::string subtree;             // a unit: only events in its subtree
  int64_t count = 0;               // stop after this many; 0 = never
};
// Follows the log live (a Subscription), printing events as they become
// durable; says when it has caught up or fallen behind.
int Tail(const Context& ctx, const TailOptions& options);

struct GroupsOptions {
  // create
  std::vector<std::string> types;
  std::string subtree;
  uint64_t from = 0;  // first position; 0 = the start
  bool from_now = false;
  absl::Duration ack_deadline = absl::ZeroDuration();  // 0 = the server's
  uint32_t max_deliveries = 0;                         // 0 = the server's
  // consume
  std::string member;
  int64_t count = 0;  // stop after this many events; 0 = never
  // replay
  bool all = false;
};
// `nenep groups [SUBCOMMAND ARGS]`: with no arguments, lists the consumer
// groups (checkpoint, lag, in flight, redeliveries, parked, members) and the
// subscriptions being served; else create NAME, get NAME, delete NAME,
// parked NAME, replay NAME [POSITION... | --all], consume NAME --member=M.
int Groups(const Context& ctx, const std::vector<std::string>& args,
           const GroupsOptions& options);

struct ReplayOptions {
  uint64_t to = 0;                 // last position; 0 = the head
  std::string known_as_of;         // or: the last event recorded by this time
  std::vector<std::string> units;  // rollups of these, over `rollup`'s range
  RollupOptions rollup;
  std::string out_dir;  // replay.json and rollups.jsonl go here
};
// `nenep replay`: the server replays the log up to a position or instant
// into a separate state (the live one untouched), with a progress bar; the
// checksum and the units' rollups are printed and written to out_dir.
int Replay(const Context& ctx, const ReplayOptions& options);

struct NightlyOptions {
  std::string date;     // dd/mm/yyyy or yyyy-mm-dd; "" = yesterday (Vietnam)
  std::string out_dir;  // gets one folder per date
  std::string group = "nenep-nightly";  // the consumer group it follows
  std::string phase;                    // "" = the server's default
};
// `nenep nightly`: asks the server for the snapshot of the date (which fixes
// the log position everything is computed at), follows the log through the
// consumer group up to that position (what changed since the last run),
// reads the snapshot back and writes report.xlsx, the CSV files,
// report.html, snapshot.json and manifest.json into a hidden folder, then
// publishes it as out_dir/yyyy-mm-dd by rename: a killed run leaves no
// partial report visible and the next run removes its leftovers. The same
// date at the same position gives byte-identical files. 2 for a bad or
// future date, 1 when the server or the folder fails.
int Nightly(const Context& ctx, const NightlyOptions& options);

// `nenep snapshots [list]`, `show DATE UNIT_ID`, `diff DATE1 DATE2 UNIT_ID`:
// stored snapshots, one unit's row in one, every measure that differs
// between two. `position` picks a snapshot of DATE (0 = its latest).
int Snapshots(const Context& ctx, const std::vector<std::string>& args,
              uint64_t position);

// Rebuilds the projections from the log and compares them with the live
// ones; 1 if they differed.
int Rebuild(const Context& ctx);

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

// `nenep audit head [--fresh] [--tree_size=N]`, `nenep audit proof POSITION
// [--tree_size=N]`, `nenep audit consistency FIRST [SECOND]`: what the Audit
// service answers, as one line of JSON (nenep-verify-proof reads it), or a
// summary for people without --json.
int Audit(const Context& ctx, const std::vector<std::string>& args, bool fresh,
          uint64_t tree_size);

struct ExportOptions {
  std::string subtree;           // a unit: only events in its subtree
  uint64_t from = 0;             // first position; 0 = 1
  uint64_t to = 0;               // last position; 0 = the signed head's size
  std::string format = "jsonl";  // jsonl | csv
  std::string out;               // a file; "" = stdout
};
// `nenep export`: events with position, recorded time, correction chain,
// leaf hash, stored bytes and audit path under one signed tree head (the
// first line), so that nenep-verify-proof --export checks it offline. The
// export is gathered in memory (to link corrections to what they correct)
// and written at the end, to a temporary file renamed into place.
int Export(const Context& ctx, const ExportOptions& options);

// Offline: recomputes a store's Merkle tree from its events and checks it,
// and every signed tree head, against what the store holds
// (storage::VerifyStore). `public_key_hex`: the key the heads must be
// signed with (64 hex digits); "" trusts the key they carry. 1 if anything
// does not match, each problem printed with its position.
int Verify(const std::string& data_dir, const std::string& public_key_hex,
           bool json, std::ostream* out, std::ostream* err);

// Offline: restores a backup into an empty data directory.
int Restore(const std::string& backup_dir, const std::string& data_dir,
            uint32_t backup_id, std::ostream* out, std::ostream* err);

}  // namespace nenep::cli
