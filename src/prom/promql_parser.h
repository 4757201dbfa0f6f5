// PromQL parser: text -> checked syntax tree (promql_ast.h).
//
// A hand-written lexer and precedence-climbing parser with Prometheus' grammar and type rules
// (v2.42): operator precedence `or` < `and unless` < comparisons < `+ -` < `* / % atan2` < `^`
// (right-associative), unary minus binding like `*` (so -2^2 == -4), offset/range postfixes binding
// tightest, NaN/Inf and hex/octal number literals, Go string escapes, durations `1h30m`, and the
// same type checks (function argument types and counts, bool only on comparisons, set operators
// only between vectors, group_left/right, a selector needs a non-empty matcher...).
//
// Errors read like Prometheus': "1:6: parse error: expected type range vector in call to function
// \"rate\", got instant vector" — line and column (1-based, in bytes) of the offending token.
// Not supported (clear errors): subqueries `x[5m:1m]` and the `@` modifier.
// Pure functions; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/matcher.h"
#include "prom/promql_ast.h"

namespace llmscale::prom {

core::Result<ExprPtr> parse_promql(std::string_view query);

// A series selector such as `up{job="api"}` or `{__name__=~"vllm:.*"}` (the API's match[]).
core::Result<std::vector<Matcher>> parse_series_selector(std::string_view selector);

}  // namespace llmscale::prom
