// Structured logs: one JSON object per line on stderr (or plain text for a
// terminal), through spdlog.
//
//   nenep::logging::Info("store opened", {{"data_dir", dir}, {"head", head}});
//   -> {"ts":"2026-11-24T08:00:00.123456Z","level":"info","msg":"store opened",
//       "data_dir":"./data","head":1042}
//
// Thread-safe. Before Init() lines go out as JSON at level info.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>
#include "absl/strings/string_view.h"

#include "absl/status/status.h"

namespace nenep::logging {

enum class Format { kJson, kText };
enum class Level { kDebug, kInfo, kWarn, kError };

// One field value of a log line.
class Value {
 public:
  Value(absl::string_view s) : v_(std::string(s)) {}             // NOLINT
  Value(const std::string& s) : v_(s) {}                         // NOLINT
  Value(const char* s) : v_(std::string(s)) {}                   // NOLINT
  Value(bool b) : v_(b) {}                                       // NOLINT
  Value(int v) : v_(static_cast<int64_t>(v)) {}                  // NOLINT
  Value(long v) : v_(static_cast<int64_t>(v)) {}                 // NOLINT
  Value(long long v) : v_(static_cast<int64_t>(v)) {}            // NOLINT
  Value(unsigned v) : v_(static_cast<uint64_t>(v)) {}            // NOLINT
  Value(unsigned long v) : v_(static_cast<uint64_t>(v)) {}       // NOLINT
  Value(unsigned long long v) : v_(static_cast<uint64_t>(v)) {}  // NOLINT
  Value(double v) : v_(v) {}                                     // NOLINT
  Value(const absl::Status& s) : v_(s.ToString()) {}             // NOLINT

  const std::variant<std::string, bool, int64_t, uint64_t, double>& get()
      const {
    return v_;
  }

 private:
  std::variant<std::string, bool, int64_t, uint64_t, double> v_;
};

using Fields = std::initializer_list<std::pair<absl::string_view, Value>>;

// Sets the output format and the lowest level written. Call once at start.
void Init(Format format, Level level);

// Parses "debug" / "info" / "warn" / "error"; returns false if unknown.
bool ParseLevel(absl::string_view text, Level* level);

void Log(Level level, absl::string_view msg, Fields fields);
inline void Debug(absl::string_view msg, Fields fields = {}) {
  Log(Level::kDebug, msg, fields);
}
inline void Info(absl::string_view msg, Fields fields = {}) {
  Log(Level::kInfo, msg, fields);
}
inline void Warn(absl::string_view msg, Fields fields = {}) {
  Log(Level::kWarn, msg, fields);
}
inline void Error(absl::string_view msg, Fields fields = {}) {
  Log(Level::kError, msg, fields);
}

// Appends `s` to `out` as the body of a JSON string (no quotes).
void AppendJsonEscaped(std::string* out, absl::string_view s);

}  // namespace nenep::logging
