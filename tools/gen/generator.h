// File: tools/gen/generator.h
//
// A deterministic generator of realistic campaign data: a hierarchy of units
// at uneven depths, members in cells, and one year of plans, sessions,
// commitments, awards and membership changes, with Vietnamese text in NFC.
//
//   GenOptions options;
//   options.scale = "bloc";  // 61 đảng bộ, ~5,300 cells, ~73,000 members
//   GenStats stats;
//   absl::Status s = WriteJsonLines(
//       options, /*check=*/false,
//       [&](absl::string_view chunk) { return Write(chunk); }, &stats);
//
// Order: every UnitCreated first (parents before children), then every
// initial MemberJoined, then the year's activity day by day. Within the
// whole output business dates never decrease, and every event comes after
// the events it refers to: a unit before anything about it, a member's
// joining before the sessions that count them, the upper plan before the
// plans implementing it, a registration before its evaluation.
//
// The same options give the same events, byte for byte, on every platform:
// all randomness comes from a seeded splitmix64, never from <random>.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "nenep/v1/events.pb.h"

namespace nenep::gen {

struct GenOptions {
  // "tiny" (~6 cells, ~70 members, ~300 events; for tests), "bloc" (one
  // bloc: 61 đảng bộ, ~5,300 cells, ~73,000 members, ~290,000 events) or
  // "national" (38 roots, ~250,000 cells, ~5.7 million members, ~20 million
  // events).
  std::string scale = "bloc";
  uint64_t seed = 1;
  // The year of activity, 1950..2190. Units are created on 2/1 of year-5 and
  // the initial members are loaded on 31/12 of year-1.
  int year = 2024;
};

struct GenStats {
  int64_t events = 0;
  std::map<std::string, int64_t> by_type;        // "SessionHeld" -> events
  std::map<std::string, int64_t> units_by_kind;  // "UPPER_BASE" -> units
  int64_t units = 0;
  int64_t cells = 0;
  int64_t members = 0;         // everyone who was ever in a cell
  int64_t members_at_end = 0;  // in a cell on 31/12 of the year
};

// Called once per event, in output order. The event is only valid during the
// call. Returning false stops the generation.
using EventSink = std::function<bool(const v1::Event& event)>;

// Called with whole JSON Lines (a chunk of up to ~1 MiB ending in "\n").
// Returning false means the write failed.
using ChunkSink = std::function<bool(absl::string_view chunk)>;

// Generates the events of `options` into `emit` and fills *stats.
// kInvalidArgument on bad options (the message names the option);
// kCancelled if `emit` returned false.
absl::Status Generate(const GenOptions& options, const EventSink& emit,
                      GenStats* stats);

// Appends `event` as one JSON Lines record to *out: a nenep.v1.BatchEntry
// with only `event` set, in protobuf's JSON mapping without whitespace,
// followed by "\n". The bytes are those of
// google::protobuf::util::MessageToJsonString (ProtobufJsonLine below), only
// about ten times faster; text the fast path does not know how to escape
// goes through protobuf itself.
void AppendJsonLine(const v1::Event& event, std::string* out);

// The same record rendered by protobuf's own JSON printer.
std::string ProtobufJsonLine(const v1::Event& event);

// Checks a stream of events one at a time, in order, as --check does:
// - the server's schema validation (services::ValidateEvent), with `today`
//   far in the future, and no text that would need rewriting in NFC;
// - business dates never decrease;
// - references: a unit's parent, a member's cell, a session's unit, an
//   implemented plan, a commitment being evaluated, an award's recipient
//   exist on an earlier line; ids of units, members, sessions, plans,
//   commitments and awards are not reused; plan documents (number, issuer,
//   date) are unique;
// - membership: a member is in exactly one cell at a time, transfers and
//   departures name that cell, departed members never appear again, a
//   registration names the member's cell on that date, and a session's
//   attendance.convened equals its cell's members on that date;
// - at Finish(): every cell has at least 3 members.
// Member, session and commitment ids are kept as 64-bit hashes: a few tens
// of bytes each (~450 MB for the national scale).
class StreamChecker {
 public:
  StreamChecker();
  ~StreamChecker();
  StreamChecker(const StreamChecker&) = delete;
  StreamChecker& operator=(const StreamChecker&) = delete;

  // Checks the next event. kInvalidArgument names the rule it breaks.
  absl::Status Check(const v1::Event& event);
  // Checks what can only be checked at the end of the stream.
  absl::Status Finish();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Generates `options` as JSON Lines (AppendJsonLine) into `sink`. With
// `check`, also runs every event through a StreamChecker and compares each
// line with ProtobufJsonLine; the first failure stops the run and is
// returned, naming the line. kDataLoss if `sink` returned false.
absl::Status WriteJsonLines(const GenOptions& options, bool check,
                            const ChunkSink& sink, GenStats* stats);

}  // namespace nenep::gen
