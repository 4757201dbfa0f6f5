// Prometheus' series notation for test data (promtool `input_series`, promql test `load`):
// `x{a="1"}` with values `1+2x3 _ stale -1x2 _x2` meaning 1 3 5 7, a missing sample, a staleness
// marker, -1 -1 -1, two missing samples. `a+bxn` yields n+1 values by repeated addition (the way
// Prometheus accumulates, so the floats are identical), `axn` n+1 copies, `_xn` n gaps.
// Used to load the same data into our TSDB as promtool loads into Prometheus' (the cross-check)
// and by tests of other modules. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/exposition/labels.h"
#include "prom/tsdb/storage.h"

namespace llmscale::prom {

// One entry per interval; nullopt is a missing sample; staleness markers are stale_nan().
core::Result<std::vector<std::optional<double>>> expand_series_values(std::string_view values);

// `x{a="1"}` (equality matchers only) -> labels.
core::Result<Labels> parse_series_labels(std::string_view series);

// Appends the expanded values at start_ms, start_ms + interval_ms, ...
core::Status load_series(Storage& storage, std::string_view series, std::string_view values,
                         std::int64_t interval_ms, std::int64_t start_ms = 0);

}  // namespace llmscale::prom
