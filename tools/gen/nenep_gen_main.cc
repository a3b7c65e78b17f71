// nenep-gen: realistic campaign data as JSON Lines, deterministic per seed.

#include <cstdio>
#include <iostream>
#include <memory>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/time/clock.h"
#include "google/protobuf/util/json_util.h"
#include "services/common/calendar.h"
#include "services/common/validation.h"
#include "tools/gen/generator.h"

ABSL_FLAG(std::string, scale, "bloc",
          "tiny (~5 cells), bloc (61 đảng bộ, ~5,200 cells, ~68,000 members) "
          "or national (~250,000 cells, ~5.6 million members).");
ABSL_FLAG(uint64_t, seed, 1, "The same seed gives the same output.");
ABSL_FLAG(int, year, 2024, "The year of activity (a past year).");
ABSL_FLAG(std::string, out, "-", "Output file, or - for stdout.");
ABSL_FLAG(bool, check, false,
          "Also run the server's schema validation on every event and stop "
          "at the first one it refuses.");

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "writes realistic nenep events as JSON Lines (one nenep.v1.BatchEntry "
      "per line) for `nenep import`.\n\n"
      "  nenep-gen --scale=bloc --seed=1 --year=2024 --out=bloc.jsonl\n\n"
      "Units come first (parents before children), then members, then the "
      "year's plans, sessions, commitments and awards month by month.");
  absl::ParseCommandLine(argc, argv);
  nenep::gen::GenOptions options;
  options.scale = absl::GetFlag(FLAGS_scale);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.year = absl::GetFlag(FLAGS_year);
  absl::StatusOr<absl::TimeZone> zone = nenep::services::VietnamTimeZone();
  if (!zone.ok()) {
    std::cerr << "nenep-gen: " << zone.status().message() << "\n";
    return 1;
  }
  const absl::CivilDay today = nenep::services::LocalDay(absl::Now(), *zone);
  if (options.year >= today.year()) {
    std::cerr << "nenep-gen: --year=" << options.year
              << " is not over yet; the server refuses business dates in the "
                 "future. Choose a year before "
              << today.year() << ".\n";
    return 2;
  }
  const std::string out_path = absl::GetFlag(FLAGS_out);
  FILE* out = out_path == "-" ? stdout : std::fopen(out_path.c_str(), "w");
  if (out == nullptr) {
    std::cerr << "nenep-gen: cannot write " << out_path << "\n";
    return 1;
  }
  const bool check = absl::GetFlag(FLAGS_check);
  nenep::services::ValidationLimits limits;
  google::protobuf::util::JsonPrintOptions json;
  json.add_whitespace = false;
  std::string line;
  int64_t n = 0;
  bool failed = false;
  nenep::gen::GenStats stats;
  absl::Status s = nenep::gen::Generate(
      options,
      [&](const nenep::v1::Event& e) {
        if (failed) return;
        ++n;
        if (check) {
          std::unique_ptr<nenep::v1::Event> normalized;
          absl::Status v = nenep::services::ValidateEvent(e, "event", limits,
                                                          today, &normalized);
          if (!v.ok() || normalized != nullptr) {
            std::cerr << "nenep-gen: event " << n << " does not validate: "
                      << (v.ok() ? "text not in NFC" : v.ToString()) << "\n";
            failed = true;
            return;
          }
        }
        line = "{\"event\":";
        std::string body;
        (void)google::protobuf::util::MessageToJsonString(e, &body, json);
        line += body;
        line += "}\n";
        std::fwrite(line.data(), 1, line.size(), out);
      },
      &stats);
  if (!s.ok()) {
    std::cerr << "nenep-gen: " << s.message() << "\n";
    return 2;
  }
  if (std::fflush(out) != 0 || (out != stdout && std::fclose(out) != 0) ||
      failed) {
    if (!failed) std::cerr << "nenep-gen: writing " << out_path << " failed\n";
    return 1;
  }
  std::cerr << "nenep-gen: wrote " << stats.events << " events ("
            << options.scale << " scale, seed " << options.seed << ", year "
            << options.year << "): " << stats.units << " units, " << stats.cells
            << " cells, " << stats.members << " members\n";
  for (const auto& [type, count] : stats.by_type) {
    std::cerr << "  " << type << " " << count << "\n";
  }
  return 0;
}
