// Fuzzes one line of a JSON Lines import (`nenep import`, `nenep append`):
// the CLI's line parser (cli::ParseImportLine), then the server's
// validation of the event it yields (services/common/validation.h), as
// nenepd would run it.
//
// Input: the bytes of one line. Seeds: tests/fuzz/corpus/import_line/ (lines
// of tools/demo/demo.jsonl and both accepted shapes); dictionary:
// tests/fuzz/import_line.dict.
//
// Invariants: nothing crashes, leaks or trips a sanitizer; an accepted event
// validates again unchanged, holds no unknown field, and its natural stream
// is a valid stream name (fuzz_events.h, CheckAccepted).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "nenep/v1/log.pb.h"
#include "services/common/validation.h"
#include "tests/fuzz/fuzz_events.h"
#include "tools/cli/cli.h"

namespace nenep::fuzz {
namespace {

void OneLine(const std::string& line) {
  v1::BatchEntry entry;
  const absl::Status parsed = cli::ParseImportLine(line, &entry);
  if (Verbose()) std::fprintf(stderr, "parse: %s\n", parsed.ToString().c_str());
  if (!parsed.ok()) {
    Check(!parsed.message().empty(), "a refused line has no message");
    return;
  }
  Check(entry.has_event(), "a parsed line has no event");
  // What nenepd checks of a BatchAppend entry, in its order.
  if (!entry.stream().empty() &&
      !services::ValidateStreamName(entry.stream(), "entries[0].stream").ok()) {
    return;
  }
  std::unique_ptr<v1::Event> normalized;
  std::string payload;
  const absl::Status valid = services::ValidateAndSerialize(
      entry.event(), "entries[0].event", services::ValidationLimits(),
      FuzzToday(), &payload, &normalized);
  if (Verbose()) {
    std::fprintf(stderr, "validate: %s%s\n", valid.ToString().c_str(),
                 normalized ? " (normalized)" : "");
  }
  if (!valid.ok()) {
    Check(
        valid.code() != absl::StatusCode::kInternal && !valid.message().empty(),
        "the validator failed without naming what is wrong",
        [&] { return valid.ToString(); });
    return;
  }
  CheckAccepted(payload, "entries[0].event");
  // ValidateEvent is ValidateAndSerialize without the payload: same verdict.
  std::unique_ptr<v1::Event> normalized_again;
  Check(services::ValidateEvent(entry.event(), "entries[0].event",
                                services::ValidationLimits(), FuzzToday(),
                                &normalized_again)
            .ok(),
        "ValidateEvent refuses what ValidateAndSerialize accepts");
}

}  // namespace
}  // namespace nenep::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  nenep::fuzz::QuietProtobuf();
  nenep::fuzz::OneLine(std::string(reinterpret_cast<const char*>(data), size));
  return 0;
}
