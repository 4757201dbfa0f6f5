// PromQL's functions in one table, as Prometheus keeps them in promql/functions.go: each name with
// its argument and return types (the parser checks calls against them) and its implementation
// (the engine dispatches through it). Adding a function is one row here.
//
// Implementations come in three shapes:
//  * kElementwise: a value -> value map over an instant vector (abs, clamp, round, ...), the
//    metric name dropped; trailing scalar arguments are passed in `args`;
//  * kRange: one value per series from its samples in a range (rate, *_over_time, ...);
//  * kVector: needs the evaluator (time, vector, sort, label_replace, histogram_quantile, ...):
//    the engine switches on `vector_op`.
#pragma once

#include <cmath>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "prom/promql/ast.h"
#include "prom/tsdb/xor_chunk.h"

namespace llmscale::prom {

// One series' samples in a range and what a range function needs besides them.
struct RangeInput {
  const std::vector<SamplePoint>& points;  // ascending time; never empty
  std::int64_t range_start = 0;            // ms, exclusive
  std::int64_t range_end = 0;              // ms, inclusive
  std::int64_t range_ms = 0;
  std::int64_t eval_time = 0;       // ms
  std::span<const double> scalars;  // every argument's value; the range one reads 0
};

enum class FunctionShape { kElementwise, kRange, kVector };

// The functions that need the evaluator.
enum class VectorOp {
  kNone,
  kTime,
  kPi,
  kVector,
  kScalar,
  kTimestamp,
  kAbsent,
  kHistogramQuantile,
  kLabelReplace,
  kLabelJoin,
  kSort,
  kSortDesc,
};

struct FunctionSpec {
  std::string_view name;
  std::vector<ValueType> arg_types;
  // Number of trailing optional arguments; -1: the last type repeats without limit.
  int variadic = 0;
  ValueType return_type = ValueType::kVector;
  FunctionShape shape = FunctionShape::kElementwise;
  // kElementwise: the value map; `args` are the scalar arguments after the vector. Returns
  // nullopt for the whole call when the arguments leave no output (clamp with max < min).
  double (*elementwise)(double v, std::span<const double> args) = nullptr;
  bool (*elementwise_valid)(std::span<const double> args) = nullptr;  // nullptr: always
  // kRange: the series' value, nullopt when it has none (rate of one sample).
  std::optional<double> (*range)(const RangeInput& in) = nullptr;
  // kRange: whether the output keeps __name__ (last_over_time does).
  bool keeps_name = false;
  VectorOp vector_op = VectorOp::kNone;
};

// nullptr for unknown names.
const FunctionSpec* find_function(std::string_view name);
// Every function, sorted by name.
std::span<const FunctionSpec> all_functions();

// Helpers the engine's aggregations share (Prometheus' functions.go and quantile.go).
// Prometheus kahanSumInc (Neumaier's variant).
inline void kahan_inc(double inc, double& sum, double& c) {
  double t = sum + inc;
  if (std::fabs(sum) >= std::fabs(inc)) {
    c += (sum - t) + inc;
  } else {
    c += (inc - t) + sum;
  }
  sum = t;
}
// Prometheus quantile(): linear interpolation between the closest ranks; sorts `values`.
double quantile(double q, std::vector<double>& values);
// Go's math.Max / math.Min (NaN and signed-zero rules differ from std::max).
double go_max(double x, double y);
double go_min(double x, double y);

}  // namespace llmscale::prom
