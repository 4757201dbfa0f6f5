// Text forms of durations: Go's time.Duration (flags, Kubernetes fields such as "15s",
// "1m30s", "1.5h", "300ms") and Prometheus' model.Duration (scrape_interval, range selectors:
// "15s", "1d", "1w", no fractions).
#pragma once

#include <string>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace llmscale::core {

// Go's time.ParseDuration, with its error texts ("time: invalid duration \"x\"").
Result<Duration> parse_go_duration(std::string_view text);

// Go's time.Duration.String(): "0s", "1m30s", "1h0m0s", "1.5s", "100ms", "2µs".
std::string format_go_duration(Duration duration);

// Prometheus' model.ParseDuration: units y w d h m s ms in that order, integers only; "0" is
// zero.
Result<Duration> parse_prometheus_duration(std::string_view text);

// Prometheus' model.Duration.String(): "0s", "1m30s", "1d", "5m", "100ms".
std::string format_prometheus_duration(Duration duration);

}  // namespace llmscale::core
