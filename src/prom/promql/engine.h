// LocalQueryEngine: PromQL evaluated over our Storage, with Prometheus' semantics (v2.42).
//
// What that means in practice:
//  * instant selectors take the newest sample in [t - offset - 5m, t - offset] (the lookback delta,
//    inclusive as in 2.x) unless that sample is a staleness marker;
//  * range selectors take the samples in [t - offset - range, t - offset], markers skipped;
//  * rate/increase/delta extrapolate exactly as extrapolatedRate() does (counter resets, the
//    1.1 x average-interval threshold, the zero-point clamp for counters), irate/idelta use the
//    last two samples, sum_over_time/avg_over_time/deriv use Kahan-Neumaier sums, avg() the
//    incremental mean, quantile()/quantile_over_time() and histogram_quantile() Prometheus'
//    interpolation;
//  * binary operators follow VectorBinop/VectorscalarBinop (name dropping, bool, on/ignoring,
//    group_left/right, many-to-many and duplicate-match errors with upstream wording);
//  * results with two identical label sets fail with "vector cannot contain metrics with the same
//    labelset".
// Evaluation strategy: every selector's data is fetched once for the whole query (the newest
// sample only, for instant selectors of instant queries), then the tree is evaluated step by step.
//
// Thread-safety: const after construction; any number of queries may run concurrently, also
// while the storage is being appended to.
#pragma once

#include "prom/promql/query_engine.h"
#include "prom/tsdb/storage.h"

namespace llmscale::prom {

class LocalQueryEngine final : public QueryEngine {
 public:
  // REQUIRES: `storage` outlives the engine.
  explicit LocalQueryEngine(const Storage& storage) : storage_(storage) {}

  core::Result<QueryResult> instant_query(std::string_view expr, core::Time time,
                                          const QueryOptions& options = {}) override;
  core::Result<QueryResult> range_query(std::string_view expr, core::Time start, core::Time end,
                                        core::Duration step,
                                        const QueryOptions& options = {}) override;
  core::Result<std::vector<Labels>> series(const std::vector<std::string>& match, core::Time start,
                                           core::Time end) override;
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override;

  // Same as the QueryEngine calls with times in milliseconds (tests and rule evaluation).
  core::Result<QueryResult> instant_query_ms(std::string_view expr, std::int64_t t_ms,
                                             const QueryOptions& options = {}) const;
  core::Result<QueryResult> range_query_ms(std::string_view expr, std::int64_t start_ms,
                                           std::int64_t end_ms, std::int64_t step_ms,
                                           const QueryOptions& options = {}) const;

 private:
  const Storage& storage_;
};

// Go's math.Pow, bit for bit for integer exponents (PromQL's `^` must match Prometheus).
double go_pow(double x, double y);

}  // namespace llmscale::prom
