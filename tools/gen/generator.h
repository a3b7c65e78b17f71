// File: tools/gen/generator.h
//
// A deterministic generator of realistic campaign data: a hierarchy of
// units at uneven depths, members in cells, and a year of plans, sessions,
// commitments and awards, with Vietnamese names in NFC.
//
//   GenOptions options;
//   options.scale = "bloc";  // 61 đảng bộ, ~5,200 cells, ~70,000 members
//   GenStats stats;
//   RETURN_IF_ERROR(Generate(options, [&](const v1::Event& e) { ... },
//   &stats));
//
// Events come in causal order: a unit before anything about it (parents
// before children), a member's joining before the sessions that count them,
// a plan before the plans implementing it, a registration before its
// evaluation; the year's activity month by month. The same options give
// the same events, byte for byte.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <string>

#include "absl/status/status.h"
#include "nenep/v1/events.pb.h"

namespace nenep::gen {

struct GenOptions {
  // "tiny" (~5 cells, for tests), "bloc" (one bloc: 61 đảng bộ, ~5,200
  // cells) or "national" (~250,000 cells, ~5.6 million members).
  std::string scale = "bloc";
  uint64_t seed = 1;
  int year = 2024;  // the year of activity
};

struct GenStats {
  int64_t events = 0;
  std::map<std::string, int64_t> by_type;  // payload type -> events
  int64_t units = 0;
  int64_t cells = 0;
  int64_t members = 0;
};

// Calls `emit` once per event, in causal order. Fails only on bad options.
absl::Status Generate(const GenOptions& options,
                      const std::function<void(const v1::Event&)>& emit,
                      GenStats* stats);

}  // namespace nenep::gen
