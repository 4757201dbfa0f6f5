// QueryEngine: the one query interface behind the Prometheus-compatible HTTP API and the metrics
// provider. Implementations: LocalQueryEngine (PromQL over our Storage, promql_engine.h) and,
// later, a client of a remote Prometheus' HTTP API. Callers never know which one they have.
//
// Results mirror the Prometheus API's data model (resultType vector / matrix / scalar / string).
// Errors map onto the API's error types:
//   kInvalidArgument     -> "bad_data"   (HTTP 400): parse errors, bad parameters
//   kFailedPrecondition  -> "execution"  (HTTP 422): e.g. many-to-many matching, duplicate series
//   kResourceExhausted   -> "execution"  (HTTP 422): too many samples, too much work
//   kDeadlineExceeded    -> "timeout"    (HTTP 503)
//   kCancelled           -> "canceled"   (HTTP 503)
//   kUnavailable         -> "unavailable"(HTTP 503): a remote backend is down
//   anything else        -> "internal"   (HTTP 500)
// api_error_type() and api_http_status() spell that out for the HTTP layer.
//
// Thread-safety: implementations are safe to call from many threads at once.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "prom/exposition/labels.h"
#include "prom/tsdb/xor_chunk.h"

namespace llmscale::core {
class Clock;
}

namespace llmscale::prom {

// One instant-vector element. `t` is the evaluation time in results (milliseconds).
struct VectorSample {
  Labels metric;
  double value = 0;
  std::int64_t t = 0;
};
struct MatrixSeries {
  Labels metric;
  std::vector<SamplePoint> points;  // ascending time
};
struct ScalarValue {
  std::int64_t t = 0;
  double value = 0;
};
struct StringValue {
  std::int64_t t = 0;
  std::string value;
};

enum class ResultType { kVector, kMatrix, kScalar, kString };
// "vector", "matrix", "scalar", "string" (the API's resultType).
std::string_view result_type_name(ResultType type);

struct QueryResult {
  std::variant<std::vector<VectorSample>, std::vector<MatrixSeries>, ScalarValue, StringValue>
      value;
  std::vector<std::string> warnings;

  ResultType type() const { return static_cast<ResultType>(value.index()); }
  const std::vector<VectorSample>& vector() const { return std::get<0>(value); }
  const std::vector<MatrixSeries>& matrix() const { return std::get<1>(value); }
  const ScalarValue& scalar() const { return std::get<2>(value); }
  const StringValue& string() const { return std::get<3>(value); }
};

struct QueryOptions {
  // Prometheus' --query.lookback-delta.
  core::Duration lookback_delta = std::chrono::minutes(5);
  // Wall-clock budget of one query (checked while selectors load, between evaluation steps and
  // every few thousand units of work inside one step); zero means none.
  std::chrono::milliseconds timeout{0};
  // What the timeout is measured on (its monotonic_now(): the event loop's clock, or a simulated
  // one). REQUIRED with a timeout: LocalQueryEngine refuses a timeout without a clock
  // (kInvalidArgument).
  const core::Clock* clock = nullptr;
  // Prometheus' --query.max-samples: samples held in memory at once.
  std::size_t max_samples = 50'000'000;
  // llmscale's bound on the work of one query (Prometheus has only the timeout): one unit per
  // expression node evaluated at one step plus one per sample a node reads or produces, summed
  // over all steps. Over it: kResourceExhausted "query processing would touch too many samples
  // and expressions in query execution (limit N)".
  std::size_t max_work = 500'000'000;
};

class QueryEngine {
 public:
  virtual ~QueryEngine() = default;

  // GET /api/v1/query.
  virtual core::Result<QueryResult> instant_query(std::string_view expr, core::Time time,
                                                  const QueryOptions& options = {}) = 0;
  // GET /api/v1/query_range: evaluation at start, start+step, ... <= end; a matrix (sorted by
  // labels) for vector and scalar expressions. REQUIRES: step > 0, end >= start.
  virtual core::Result<QueryResult> range_query(std::string_view expr, core::Time start,
                                                core::Time end, core::Duration step,
                                                const QueryOptions& options = {}) = 0;
  // GET /api/v1/series: label sets of series matching any selector in [start, end].
  virtual core::Result<std::vector<Labels>> series(const std::vector<std::string>& match,
                                                   core::Time start, core::Time end) = 0;
  // GET /api/v1/labels.
  virtual core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                             core::Time start, core::Time end) = 0;
  // GET /api/v1/label/<name>/values.
  virtual core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                              const std::vector<std::string>& match,
                                                              core::Time start, core::Time end) = 0;
};

// The API error type ("bad_data", "execution", ...) and HTTP status for an error of this engine.
std::string_view api_error_type(const core::Error& error);
int api_http_status(const core::Error& error);

}  // namespace llmscale::prom
