// Logging on spdlog's stderr sink.
#include "core/log.h"

#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace llmscale::core {
namespace {

spdlog::logger& logger() {
  static auto instance = [] {
    auto l = spdlog::stderr_logger_mt("llmscale");
    l->set_pattern("%Y-%m-%dT%H:%M:%S.%e %^%l%$ %v");
    l->set_level(spdlog::level::info);
    return l;
  }();
  return *instance;
}

spdlog::level::level_enum to_spdlog(LogLevel level) {
  switch (level) {
    case LogLevel::kDebug: return spdlog::level::debug;
    case LogLevel::kInfo: return spdlog::level::info;
    case LogLevel::kWarn: return spdlog::level::warn;
    case LogLevel::kError: return spdlog::level::err;
    case LogLevel::kOff: return spdlog::level::off;
  }
  return spdlog::level::info;
}

}  // namespace

bool parse_log_level(std::string_view text, LogLevel& level) {
  if (text == "debug")
    level = LogLevel::kDebug;
  else if (text == "info")
    level = LogLevel::kInfo;
  else if (text == "warn" || text == "warning")
    level = LogLevel::kWarn;
  else if (text == "error")
    level = LogLevel::kError;
  else if (text == "off")
    level = LogLevel::kOff;
  else
    return false;
  return true;
}

void set_log_level(LogLevel level) {
  logger().set_level(to_spdlog(level));
}
bool log_enabled(LogLevel level) {
  return logger().should_log(to_spdlog(level));
}

void log_debug(std::string_view message) {
  logger().debug("{}", message);
}
void log_info(std::string_view message) {
  logger().info("{}", message);
}
void log_warn(std::string_view message) {
  logger().warn("{}", message);
}
void log_error(std::string_view message) {
  logger().error("{}", message);
}

}  // namespace llmscale::core
