// The PromQL function table (promql_functions.h): types for the parser, implementations for the
// engine, and the numeric helpers they share with the engine's aggregations.
#include "prom/promql/functions.h"

#include <algorithm>
#include <limits>
#include <type_traits>
#include <utility>

namespace llmscale::prom {

// Go's math.Max / math.Min (NaN and signed-zero rules differ from std::max).
double go_max(double x, double y) {
  if (std::isinf(x) && x > 0) return x;
  if (std::isinf(y) && y > 0) return y;
  if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0 && x == y) return std::signbit(x) ? y : x;
  return x > y ? x : y;
}
double go_min(double x, double y) {
  if (std::isinf(x) && x < 0) return x;
  if (std::isinf(y) && y < 0) return y;
  if (std::isnan(x) || std::isnan(y)) return std::numeric_limits<double>::quiet_NaN();
  if (x == 0 && x == y) return std::signbit(x) ? x : y;
  return x < y ? x : y;
}

// Prometheus quantile(): linear interpolation between the closest ranks; sorts `values`.
double quantile(double q, std::vector<double>& values) {
  if (values.empty() || std::isnan(q)) return std::numeric_limits<double>::quiet_NaN();
  if (q < 0) return -std::numeric_limits<double>::infinity();
  if (q > 1) return std::numeric_limits<double>::infinity();
  // vectorByValueHeap.Less: NaN sorts first.
  std::sort(values.begin(), values.end(), [](double a, double b) {
    if (std::isnan(a)) return !std::isnan(b);
    return a < b;
  });
  double n = static_cast<double>(values.size());
  double rank = q * (n - 1);
  double lower = std::max(0.0, std::floor(rank));
  double upper = std::min(n - 1, lower + 1);
  double weight = rank - std::floor(rank);
  return values[static_cast<std::size_t>(lower)] * (1 - weight) +
         values[static_cast<std::size_t>(upper)] * weight;
}

namespace {

// time.Duration.Seconds() for a whole number of milliseconds.
double duration_seconds(std::int64_t ms) {
  std::int64_t sec = ms / 1000;
  std::int64_t nsec = (ms % 1000) * 1000000;
  return static_cast<double>(sec) + static_cast<double>(nsec) / 1e9;
}

// extrapolatedRate (Prometheus 2.42: float samples).
std::optional<double> extrapolated_rate(const std::vector<SamplePoint>& s, std::int64_t range_start,
                                        std::int64_t range_end, std::int64_t range_ms,
                                        bool is_counter, bool is_rate) {
  if (s.size() < 2) return std::nullopt;
  double result = s.back().v - s.front().v;
  if (is_counter) {
    double last = 0;
    for (const SamplePoint& p : s) {
      if (p.v < last) result += last;
      last = p.v;
    }
  }
  double duration_to_start = static_cast<double>(s.front().t - range_start) / 1000;
  double duration_to_end = static_cast<double>(range_end - s.back().t) / 1000;
  double sampled_interval = static_cast<double>(s.back().t - s.front().t) / 1000;
  double average = sampled_interval / static_cast<double>(s.size() - 1);
  if (is_counter && result > 0 && s.front().v >= 0) {
    double duration_to_zero = sampled_interval * (s.front().v / result);
    if (duration_to_zero < duration_to_start) duration_to_start = duration_to_zero;
  }
  double threshold = average * 1.1;
  double extrapolate_to = sampled_interval;
  extrapolate_to += duration_to_start < threshold ? duration_to_start : average / 2;
  extrapolate_to += duration_to_end < threshold ? duration_to_end : average / 2;
  // Prometheus >= 2.40 folds the range into the factor before scaling (the order matters for the
  // last bit).
  double factor = extrapolate_to / sampled_interval;
  if (is_rate) factor /= duration_seconds(range_ms);
  return result * factor;
}

std::optional<double> instant_value(const std::vector<SamplePoint>& s, bool is_rate) {
  if (s.size() < 2) return std::nullopt;
  const SamplePoint& last = s[s.size() - 1];
  const SamplePoint& prev = s[s.size() - 2];
  double result = is_rate && last.v < prev.v ? last.v : last.v - prev.v;
  std::int64_t interval = last.t - prev.t;
  if (interval == 0) return std::nullopt;
  if (is_rate) result /= static_cast<double>(interval) / 1000;
  return result;
}

// linearRegression with Kahan sums (Prometheus 2.4x).
std::pair<double, double> linear_regression(const std::vector<SamplePoint>& s,
                                            std::int64_t intercept_time) {
  double n = 0, sum_x = 0, c_x = 0, sum_y = 0, c_y = 0, sum_xy = 0, c_xy = 0, sum_x2 = 0, c_x2 = 0;
  double init_y = s[0].v;
  bool const_y = true;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (const_y && i > 0 && s[i].v != init_y) const_y = false;
    n += 1.0;
    double x = static_cast<double>(s[i].t - intercept_time) / 1e3;
    kahan_inc(x, sum_x, c_x);
    kahan_inc(s[i].v, sum_y, c_y);
    kahan_inc(x * s[i].v, sum_xy, c_xy);
    kahan_inc(x * x, sum_x2, c_x2);
  }
  if (const_y) {
    if (std::isinf(init_y)) {
      return {std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::quiet_NaN()};
    }
    return {0, init_y};
  }
  sum_x += c_x;
  sum_y += c_y;
  sum_xy += c_xy;
  sum_x2 += c_x2;
  double cov_xy = sum_xy - sum_x * sum_y / n;
  double var_x = sum_x2 - sum_x * sum_x / n;
  double slope = cov_xy / var_x;
  double intercept = sum_y / n - slope * sum_x / n;
  return {slope, intercept};
}

// --- Range functions ---

std::optional<double> fn_rate(const RangeInput& in) {
  return extrapolated_rate(in.points, in.range_start, in.range_end, in.range_ms, true, true);
}
std::optional<double> fn_increase(const RangeInput& in) {
  return extrapolated_rate(in.points, in.range_start, in.range_end, in.range_ms, true, false);
}
std::optional<double> fn_delta(const RangeInput& in) {
  return extrapolated_rate(in.points, in.range_start, in.range_end, in.range_ms, false, false);
}
std::optional<double> fn_irate(const RangeInput& in) {
  return instant_value(in.points, true);
}
std::optional<double> fn_idelta(const RangeInput& in) {
  return instant_value(in.points, false);
}
std::optional<double> fn_deriv(const RangeInput& in) {
  if (in.points.size() < 2) return std::nullopt;
  return linear_regression(in.points, in.points[0].t).first;
}
std::optional<double> fn_predict_linear(const RangeInput& in) {
  if (in.points.size() < 2) return std::nullopt;
  auto [slope, intercept] = linear_regression(in.points, in.eval_time);
  return slope * in.scalars[1] + intercept;
}
std::optional<double> fn_count_over_time(const RangeInput& in) {
  return static_cast<double>(in.points.size());
}
std::optional<double> fn_present_over_time(const RangeInput&) {
  return 1.0;
}
std::optional<double> fn_last_over_time(const RangeInput& in) {
  return in.points.back().v;
}
std::optional<double> fn_sum_over_time(const RangeInput& in) {
  double sum = 0, c = 0;
  for (const auto& p : in.points) kahan_inc(p.v, sum, c);
  return std::isinf(sum) ? sum : sum + c;
}
std::optional<double> fn_avg_over_time(const RangeInput& in) {
  double mean = 0, count = 0, c = 0;
  for (const auto& p : in.points) {
    count++;
    if (std::isinf(mean)) {
      if (std::isinf(p.v) && (mean > 0) == (p.v > 0)) continue;
      if (!std::isinf(p.v) && !std::isnan(p.v)) continue;
    }
    kahan_inc(p.v / count - mean / count, mean, c);
  }
  return std::isinf(mean) ? mean : mean + c;
}
std::optional<double> fn_max_over_time(const RangeInput& in) {
  double max = in.points[0].v;
  for (const auto& p : in.points) {
    if (p.v > max || std::isnan(max)) max = p.v;
  }
  return max;
}
std::optional<double> fn_min_over_time(const RangeInput& in) {
  double min = in.points[0].v;
  for (const auto& p : in.points) {
    if (p.v < min || std::isnan(min)) min = p.v;
  }
  return min;
}
double variance_over_time(const RangeInput& in) {
  double count = 0, mean = 0, c_mean = 0, aux = 0, c_aux = 0;
  for (const auto& p : in.points) {
    count++;
    double delta = p.v - (mean + c_mean);
    kahan_inc(delta / count, mean, c_mean);
    kahan_inc(delta * (p.v - (mean + c_mean)), aux, c_aux);
  }
  return (aux + c_aux) / count;
}
std::optional<double> fn_stdvar_over_time(const RangeInput& in) {
  return variance_over_time(in);
}
std::optional<double> fn_stddev_over_time(const RangeInput& in) {
  return std::sqrt(variance_over_time(in));
}
std::optional<double> fn_quantile_over_time(const RangeInput& in) {
  std::vector<double> values;
  values.reserve(in.points.size());
  for (const auto& p : in.points) values.push_back(p.v);
  return quantile(in.scalars[0], values);
}
template <bool kResets>
std::optional<double> count_changes(const RangeInput& in) {
  int n = 0;
  double prev = in.points[0].v;
  for (std::size_t i = 1; i < in.points.size(); ++i) {
    double cur = in.points[i].v;
    if (kResets) {
      if (cur < prev) ++n;
    } else if (cur != prev && !(std::isnan(cur) && std::isnan(prev))) {
      ++n;
    }
    prev = cur;
  }
  return static_cast<double>(n);
}

// --- Elementwise functions ---

double fn_sgn(double v, std::span<const double>) {
  if (v < 0) return -1.0;
  return v > 0 ? 1.0 : v;
}
double fn_round(double v, std::span<const double> args) {
  double to_nearest = args.empty() ? 1 : args[0];
  double inverse = 1.0 / to_nearest;
  return std::floor(v * inverse + 0.5) / inverse;
}
double fn_clamp(double v, std::span<const double> args) {
  return go_max(args[0], go_min(args[1], v));
}
bool clamp_valid(std::span<const double> args) {
  return !(args[1] < args[0]);
}
double fn_clamp_max(double v, std::span<const double> args) {
  return go_min(args[0], v);
}
double fn_clamp_min(double v, std::span<const double> args) {
  return go_max(args[0], v);
}

using V = ValueType;

FunctionSpec elementwise(std::string_view name, std::vector<ValueType> args,
                         double (*fn)(double, std::span<const double>), int variadic = 0,
                         bool (*valid)(std::span<const double>) = nullptr) {
  FunctionSpec f{name, std::move(args), variadic, V::kVector};
  f.shape = FunctionShape::kElementwise;
  f.elementwise = fn;
  f.elementwise_valid = valid;
  return f;
}

// A one-argument math function (abs, ln, ...): the elementwise implementation calls it.
template <class F>
FunctionSpec math(std::string_view name, F) {
  static_assert(std::is_empty_v<F>, "a captureless lambda");
  return elementwise(name, {V::kVector}, [](double v, std::span<const double>) { return F{}(v); });
}

FunctionSpec range(std::string_view name, std::optional<double> (*fn)(const RangeInput&),
                   std::vector<ValueType> args = {V::kMatrix}, bool keeps_name = false) {
  FunctionSpec f{name, std::move(args), 0, V::kVector};
  f.shape = FunctionShape::kRange;
  f.range = fn;
  f.keeps_name = keeps_name;
  return f;
}

FunctionSpec vector_op(std::string_view name, std::vector<ValueType> args, VectorOp op,
                       ValueType returns = V::kVector, int variadic = 0) {
  FunctionSpec f{name, std::move(args), variadic, returns};
  f.shape = FunctionShape::kVector;
  f.vector_op = op;
  return f;
}

const std::vector<FunctionSpec>& table() {
  static const std::vector<FunctionSpec> kFunctions = [] {
    std::vector<FunctionSpec> t = {
        math("abs", [](double v) { return std::fabs(v); }),
        vector_op("absent", {V::kVector}, VectorOp::kAbsent),
        range("avg_over_time", fn_avg_over_time),
        math("ceil", [](double v) { return std::ceil(v); }),
        range("changes", count_changes<false>),
        elementwise("clamp", {V::kVector, V::kScalar, V::kScalar}, fn_clamp, 0, clamp_valid),
        elementwise("clamp_max", {V::kVector, V::kScalar}, fn_clamp_max),
        elementwise("clamp_min", {V::kVector, V::kScalar}, fn_clamp_min),
        range("count_over_time", fn_count_over_time),
        range("delta", fn_delta),
        range("deriv", fn_deriv),
        math("exp", [](double v) { return std::exp(v); }),
        math("floor", [](double v) { return std::floor(v); }),
        vector_op("histogram_quantile", {V::kScalar, V::kVector}, VectorOp::kHistogramQuantile),
        range("idelta", fn_idelta),
        range("increase", fn_increase),
        range("irate", fn_irate),
        vector_op("label_join", {V::kVector, V::kString, V::kString, V::kString},
                  VectorOp::kLabelJoin, V::kVector, -1),
        vector_op("label_replace", {V::kVector, V::kString, V::kString, V::kString, V::kString},
                  VectorOp::kLabelReplace),
        range("last_over_time", fn_last_over_time, {V::kMatrix}, /*keeps_name=*/true),
        math("ln", [](double v) { return std::log(v); }),
        math("log10", [](double v) { return std::log10(v); }),
        math("log2", [](double v) { return std::log2(v); }),
        range("max_over_time", fn_max_over_time),
        range("min_over_time", fn_min_over_time),
        vector_op("pi", {}, VectorOp::kPi, V::kScalar),
        range("predict_linear", fn_predict_linear, {V::kMatrix, V::kScalar}),
        range("present_over_time", fn_present_over_time),
        range("quantile_over_time", fn_quantile_over_time, {V::kScalar, V::kMatrix}),
        range("rate", fn_rate),
        range("resets", count_changes<true>),
        elementwise("round", {V::kVector, V::kScalar}, fn_round, 1),
        vector_op("scalar", {V::kVector}, VectorOp::kScalar, V::kScalar),
        elementwise("sgn", {V::kVector}, fn_sgn),
        vector_op("sort", {V::kVector}, VectorOp::kSort),
        vector_op("sort_desc", {V::kVector}, VectorOp::kSortDesc),
        math("sqrt", [](double v) { return std::sqrt(v); }),
        range("stddev_over_time", fn_stddev_over_time),
        range("stdvar_over_time", fn_stdvar_over_time),
        range("sum_over_time", fn_sum_over_time),
        vector_op("time", {}, VectorOp::kTime, V::kScalar),
        vector_op("timestamp", {V::kVector}, VectorOp::kTimestamp),
        vector_op("vector", {V::kScalar}, VectorOp::kVector),
    };
    std::sort(t.begin(), t.end(),
              [](const FunctionSpec& a, const FunctionSpec& b) { return a.name < b.name; });
    return t;
  }();
  return kFunctions;
}

}  // namespace

const FunctionSpec* find_function(std::string_view name) {
  const auto& t = table();
  auto it = std::lower_bound(t.begin(), t.end(), name,
                             [](const FunctionSpec& f, std::string_view n) { return f.name < n; });
  if (it != t.end() && it->name == name) return &*it;
  return nullptr;
}

std::span<const FunctionSpec> all_functions() {
  return table();
}

}  // namespace llmscale::prom
