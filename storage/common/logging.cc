#include "storage/common/logging.h"

#include <atomic>
#include <cstdio>
#include <memory>

#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"
#include "absl/time/time.h"
#include "spdlog/sinks/stdout_sinks.h"
#include "spdlog/spdlog.h"

namespace nenep::logging {
namespace {

std::atomic<Format> g_format{Format::kJson};
std::atomic<Level> g_level{Level::kInfo};

spdlog::logger& Logger() {
  static spdlog::logger* logger = [] {
    auto sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
    auto* l = new spdlog::logger("nenep", std::move(sink));
    l->set_pattern("%v");
    l->set_level(spdlog::level::trace);
    l->flush_on(spdlog::level::trace);
    return l;
  }();
  return *logger;
}

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug:
      return "debug";
    case Level::kInfo:
      return "info";
    case Level::kWarn:
      return "warn";
    case Level::kError:
      return "error";
  }
  return "info";
}

void AppendValue(std::string* out, const Value& value, bool json) {
  std::visit(
      [&](const auto& v) {
        using T = std::decay_t<decltype(v)>;
        if constexpr (std::is_same_v<T, std::string>) {
          if (json) {
            out->push_back('"');
            AppendJsonEscaped(out, v);
            out->push_back('"');
          } else if (v.find_first_of(" \"=") != std::string::npos ||
                     v.empty()) {
            out->push_back('"');
            AppendJsonEscaped(out, v);
            out->push_back('"');
          } else {
            out->append(v);
          }
        } else if constexpr (std::is_same_v<T, bool>) {
          out->append(v ? "true" : "false");
        } else {
          absl::StrAppend(out, v);
        }
      },
      value.get());
}

}  // namespace

void Init(Format format, Level level) {
  g_format.store(format);
  g_level.store(level);
}

bool ParseLevel(absl::string_view text, Level* level) {
  if (text == "debug") {
    *level = Level::kDebug;
  } else if (text == "info") {
    *level = Level::kInfo;
  } else if (text == "warn" || text == "warning") {
    *level = Level::kWarn;
  } else if (text == "error") {
    *level = Level::kError;
  } else {
    return false;
  }
  return true;
}

void AppendJsonEscaped(std::string* out, absl::string_view s) {
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out->append("\\\"");
        break;
      case '\\':
        out->append("\\\\");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\t':
        out->append("\\t");
        break;
      default:
        if (c < 0x20) {
          char buf[8];
          std::snprintf(buf, sizeof(buf), "\\u%04x", c);
          out->append(buf);
        } else {
          out->push_back(static_cast<char>(c));  // UTF-8 passes through
        }
    }
  }
}

void Log(Level level, absl::string_view msg, Fields fields) {
  if (level < g_level.load(std::memory_order_relaxed)) return;
  const bool json = g_format.load(std::memory_order_relaxed) == Format::kJson;
  std::string ts = absl::FormatTime("%Y-%m-%dT%H:%M:%E6SZ", absl::Now(),
                                    absl::UTCTimeZone());
  std::string line;
  line.reserve(128 + msg.size());
  if (json) {
    absl::StrAppend(&line, "{\"ts\":\"", ts, "\",\"level\":\"",
                    LevelName(level), "\",\"msg\":\"");
    AppendJsonEscaped(&line, msg);
    line.push_back('"');
    for (const auto& [key, value] : fields) {
      line.append(",\"");
      AppendJsonEscaped(&line, key);
      line.append("\":");
      AppendValue(&line, value, /*json=*/true);
    }
    line.push_back('}');
  } else {
    absl::StrAppend(&line, ts, " ", LevelName(level), " ", msg);
    for (const auto& [key, value] : fields) {
      absl::StrAppend(&line, " ", key, "=");
      AppendValue(&line, value, /*json=*/false);
    }
  }
  Logger().info(line);
}

}  // namespace nenep::logging
