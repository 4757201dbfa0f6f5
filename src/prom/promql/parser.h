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
//
// Bounds (llmscale's; Prometheus' yacc parser has none, and one POST of `1+1+...` could otherwise
// exhaust the stack of every recursive walker): the syntax tree may be at most kMaxExprHeight
// levels high — every construct counts, a chain of binary operators one level per operator — and
// hold at most kMaxExprElements expressions, label matchers and grouping/matching label names.
// Either error is a parse error ("bad_data"): "1:N: parse error: expression nesting exceeds 1000
// levels" / "... query has more than 10000 expressions, label matchers and label names".
// Parsing is linear in the query's length.
// Pure functions; thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/promql/ast.h"
#include "prom/tsdb/matcher.h"

namespace llmscale::prom {

inline constexpr std::uint32_t kMaxExprHeight = 1000;
inline constexpr std::size_t kMaxExprElements = 10000;

core::Result<ExprPtr> parse_promql(std::string_view query);

// A series selector such as `up{job="api"}` or `{__name__=~"vllm:.*"}` (the API's match[]).
core::Result<std::vector<Matcher>> parse_series_selector(std::string_view selector);

}  // namespace llmscale::prom
