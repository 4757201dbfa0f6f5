// Process logging: one leveled logger for the whole binary, to stderr.
//
// Messages are preformatted strings so this header stays light (spdlog lives in log.cc only).
// Thread-safe.
#pragma once

#include <string_view>

namespace llmscale::core {

enum class LogLevel { kDebug, kInfo, kWarn, kError, kOff };

// Parses "debug", "info", "warn", "error", "off"; returns false for anything else.
bool parse_log_level(std::string_view text, LogLevel& level);
void set_log_level(LogLevel level);
bool log_enabled(LogLevel level);

void log_debug(std::string_view message);
void log_info(std::string_view message);
void log_warn(std::string_view message);
void log_error(std::string_view message);

}  // namespace llmscale::core
