// Points in time and durations as llmscale uses them everywhere, plus RFC 3339 text forms.
//
// Time is wall-clock time with nanosecond resolution (what Kubernetes timestamps and Prometheus
// sample times denote); a SimulatedClock produces the same type, so code never knows which clock
// it runs on. Formatting follows Go: metav1.Time prints whole seconds ("2025-01-02T20:13:15Z"),
// RFC3339Nano trims trailing zeros of the fraction.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

#include "core/result.h"

namespace llmscale::core {

using Duration = std::chrono::nanoseconds;
using Time = std::chrono::time_point<std::chrono::system_clock, Duration>;

// The wall clock, for code at the edge (CLI defaults, AsioClock); everything else takes a Clock.
inline Time wall_now() {
  return std::chrono::time_point_cast<Duration>(std::chrono::system_clock::now());
}

// Parses "2006-01-02T15:04:05Z", "2006-01-02T15:04:05.123456789+07:00" and the like.
Result<Time> parse_rfc3339(std::string_view text);

// Whole seconds in UTC, as metav1.Time marshals: "2025-01-02T20:13:15Z".
std::string format_rfc3339(Time time);

// Go's RFC3339Nano in UTC: fraction with trailing zeros removed ("…15.5Z", "…15Z").
std::string format_rfc3339_nano(Time time);

// Fixed microsecond precision in UTC, as metav1.MicroTime marshals: "…15.500000Z".
std::string format_rfc3339_micro(Time time);

inline double to_seconds(Duration duration) {
  return std::chrono::duration<double>(duration).count();
}

inline Duration from_seconds(double seconds) {
  return std::chrono::duration_cast<Duration>(std::chrono::duration<double>(seconds));
}

// Seconds since the Unix epoch, with fraction (Prometheus API timestamps).
inline double to_unix_seconds(Time time) {
  return to_seconds(time.time_since_epoch());
}
inline Time from_unix_seconds(double seconds) {
  return Time(from_seconds(seconds));
}

inline std::int64_t to_unix_millis(Time time) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
}
inline Time from_unix_millis(std::int64_t millis) {
  return Time(std::chrono::milliseconds(millis));
}

}  // namespace llmscale::core
