// nenep-gen: realistic campaign data as JSON Lines, deterministic per seed.
// The logic lives in tools/gen/generator.h; this file is flags and I/O.

#include <sys/stat.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "absl/flags/flag.h"
#include "absl/flags/parse.h"
#include "absl/flags/usage.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "services/common/calendar.h"
#include "tools/gen/generator.h"

ABSL_FLAG(std::string, scale, "bloc",
          "tiny (~6 cells, ~70 members, ~300 events; for tests), bloc (one "
          "bloc: 61 đảng bộ, ~5,300 cells, ~73,000 members, ~290,000 events, "
          "~120 MB) or national (38 roots, ~250,000 cells, ~5.7 million "
          "members, ~20 million events, ~8 GB).");
ABSL_FLAG(uint64_t, seed, 1,
          "The same seed (and scale and year) gives the same bytes.");
ABSL_FLAG(int, year, 2024,
          "The year of activity; it must be over, since the server refuses "
          "business dates in the future.");
ABSL_FLAG(std::string, out, "-", "Output file, or - for standard output.");
ABSL_FLAG(bool, check, false,
          "Also check every event as it is written: the server's schema "
          "validation (and no NFC rewrite), references to earlier lines, "
          "member counts, and the JSON against protobuf's own printer. Stops "
          "at the first failure. ~45,000 events/s; ~600 MB of memory at "
          "national scale.");

namespace {

int Fail(const std::string& message) {
  std::fprintf(stderr, "nenep-gen: %s\n", message.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  absl::SetProgramUsageMessage(
      "writes realistic nenep events as JSON Lines for `nenep import`: one "
      "nenep.v1.BatchEntry per line, in protobuf's JSON mapping, only its "
      "`event` set.\n\n"
      "  nenep-gen --scale=bloc --seed=1 --year=2024 --out=bloc.jsonl\n\n"
      "All units come first (parents before children, dated 2/1 of year-5), "
      "then the members already in their cells (31/12 of year-1), then the "
      "year's plans, sessions, commitments, awards and membership changes, "
      "day by day. A summary goes to standard error.");
  std::vector<char*> args = absl::ParseCommandLine(argc, argv);
  if (args.size() > 1) {
    return Fail(
        absl::StrCat("unexpected argument '", args[1], "'; see --help"));
  }
  nenep::gen::GenOptions options;
  options.scale = absl::GetFlag(FLAGS_scale);
  options.seed = absl::GetFlag(FLAGS_seed);
  options.year = absl::GetFlag(FLAGS_year);
  const bool check = absl::GetFlag(FLAGS_check);
  if (options.scale != "tiny" && options.scale != "bloc" &&
      options.scale != "national") {
    return Fail(absl::StrCat("--scale=", options.scale,
                             ": expected tiny, bloc or national"));
  }
  absl::StatusOr<absl::TimeZone> zone = nenep::services::VietnamTimeZone();
  if (!zone.ok()) return Fail(std::string(zone.status().message()));
  const absl::CivilDay today = nenep::services::LocalDay(absl::Now(), *zone);
  if (options.year >= today.year() || options.year < 1950) {
    return Fail(
        absl::StrCat("--year=", options.year, ": choose a year from 1950 to ",
                     today.year() - 1,
                     " (the server refuses business dates after today, and the "
                     "generated year runs to 31/12)"));
  }

  const std::string out_path = absl::GetFlag(FLAGS_out);
  const bool to_stdout = out_path == "-";
  FILE* out = to_stdout ? stdout : std::fopen(out_path.c_str(), "wb");
  if (out == nullptr) {
    return Fail(
        absl::StrCat("cannot write ", out_path, ": ", std::strerror(errno)));
  }
  // Only a regular file is removed if the run fails: never a device, a pipe
  // or whatever else --out names.
  struct stat st;
  const bool regular_file =
      !to_stdout && fstat(fileno(out), &st) == 0 && S_ISREG(st.st_mode);
  static char buffer[1 << 20];
  std::setvbuf(out, buffer, _IOFBF, sizeof(buffer));

  const absl::Time start = absl::Now();
  nenep::gen::GenStats stats;
  absl::Status status = nenep::gen::WriteJsonLines(
      options, check,
      [&](absl::string_view chunk) {
        return std::fwrite(chunk.data(), 1, chunk.size(), out) == chunk.size();
      },
      &stats);
  if (status.ok() && std::fflush(out) != 0) {
    status = absl::DataLossError(
        absl::StrCat("writing the output failed: ", std::strerror(errno)));
  }
  if (!to_stdout && std::fclose(out) != 0 && status.ok()) {
    status = absl::DataLossError(
        absl::StrCat("closing the output failed: ", std::strerror(errno)));
  }
  if (!status.ok()) {
    std::string message = absl::StrCat(out_path == "-" ? "output" : out_path,
                                       ": ", status.message());
    if (regular_file && std::remove(out_path.c_str()) == 0) {
      absl::StrAppend(&message, " (the partial file was removed)");
    }
    return Fail(message);
  }

  const double seconds = absl::ToDoubleSeconds(absl::Now() - start);
  std::string summary = absl::StrFormat(
      "nenep-gen: wrote %d events (%s scale, seed %d, year %d) in %.1f s "
      "(%.0f events/s)%s:",
      stats.events, options.scale, options.seed, options.year, seconds,
      seconds > 0 ? static_cast<double>(stats.events) / seconds : 0.0,
      check ? ", all checked" : "");
  for (const auto& [type, count] : stats.by_type) {
    absl::StrAppend(&summary, " ", count, " ", type, ",");
  }
  summary.back() = '.';
  absl::StrAppend(&summary, "\n  units: ", stats.units, " (");
  bool first = true;
  for (const auto& [kind, count] : stats.units_by_kind) {
    absl::StrAppend(&summary, first ? "" : ", ", count, " ", kind);
    first = false;
  }
  absl::StrAppend(&summary, "); cells: ", stats.cells,
                  "; members: ", stats.members, " (", stats.members_at_end,
                  " at the end of the year)\n");
  std::fputs(summary.c_str(), stderr);
  return 0;
}
