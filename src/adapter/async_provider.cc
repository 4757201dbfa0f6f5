// AsyncMetricsProvider implementations: a synchronous provider wrapped, and the adapter's rules
// over a remote Prometheus fetched in rounds.
#include "adapter/async_provider.h"

#include <algorithm>

#include "prom/api/remote_engine.h"

namespace llmscale::adapter {
namespace {

// kCancelled: the query was not run (MetricsAdapter logs no failure for it).
tl::unexpected<core::Error> not_fetched(std::string_view expr) {
  return core::make_error(core::ErrorCode::kCancelled,
                          "prometheus: " + std::string(expr) + ": not fetched yet");
}

tl::unexpected<core::Error> not_asked(std::string_view what) {
  return core::make_error(core::ErrorCode::kUnimplemented,
                          "the adapter's asynchronous backend does not serve " + std::string(what));
}

}  // namespace

net::Awaitable<void> SyncMetricsProvider::fetch(hpa::MetricRequest request,
                                                hpa::RecordedMetrics& answers) {
  answers.fetch(inner_, request);
  co_return;
}

// ---- FetchedQueries ----------------------------------------------------------------------

void FetchedQueries::answer(const Pending& request, core::Result<prom::QueryResult> result) {
  instant_.insert_or_assign(request.expr, std::move(result));
}

void FetchedQueries::answer(const Pending& request,
                            core::Result<std::vector<prom::Labels>> result) {
  series_.insert_or_assign(request.expr, std::move(result));
}

core::Result<prom::QueryResult> FetchedQueries::instant_query(std::string_view expr,
                                                              core::Time time,
                                                              const prom::QueryOptions&) {
  if (auto it = instant_.find(expr); it != instant_.end()) return it->second;
  bool noted = std::any_of(pending_.begin(), pending_.end(),
                           [&](const Pending& p) { return !p.series && p.expr == expr; });
  if (!noted) {
    Pending& p = pending_.emplace_back();
    p.expr = std::string(expr);
    p.time = time;
  }
  return not_fetched(expr);
}

core::Result<std::vector<prom::Labels>> FetchedQueries::series(
    const std::vector<std::string>& match, core::Time start, core::Time end) {
  if (match.size() != 1) return not_asked("series lookups with several matchers");
  const std::string& expr = match.front();
  if (auto it = series_.find(expr); it != series_.end()) return it->second;
  bool noted = std::any_of(pending_.begin(), pending_.end(),
                           [&](const Pending& p) { return p.series && p.expr == expr; });
  if (!noted) {
    Pending& p = pending_.emplace_back();
    p.series = true;
    p.expr = expr;
    p.start = start;
    p.time = end;
  }
  return not_fetched(expr);
}

core::Result<prom::QueryResult> FetchedQueries::range_query(std::string_view, core::Time,
                                                            core::Time, core::Duration,
                                                            const prom::QueryOptions&) {
  return not_asked("range queries");
}

core::Result<std::vector<std::string>> FetchedQueries::label_names(const std::vector<std::string>&,
                                                                   core::Time, core::Time) {
  return not_asked("label names");
}

core::Result<std::vector<std::string>> FetchedQueries::label_values(std::string_view,
                                                                    const std::vector<std::string>&,
                                                                    core::Time, core::Time) {
  return not_asked("label values");
}

// ---- AsyncAdapterMetricsProvider -----------------------------------------------------------

// The adapter's backend: the queries of the round running now (set under the provider's mutex).
class AsyncAdapterMetricsProvider::RoundEngine final : public prom::QueryEngine {
 public:
  FetchedQueries* current = nullptr;

  core::Result<prom::QueryResult> instant_query(std::string_view expr, core::Time time,
                                                const prom::QueryOptions& options) override {
    if (current == nullptr) return outside();
    return current->instant_query(expr, time, options);
  }
  core::Result<prom::QueryResult> range_query(std::string_view expr, core::Time start,
                                              core::Time end, core::Duration step,
                                              const prom::QueryOptions& options) override {
    if (current == nullptr) return outside();
    return current->range_query(expr, start, end, step, options);
  }
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>& match,
                                                 core::Time start, core::Time end) override {
    if (current == nullptr) return outside();
    return current->series(match, start, end);
  }
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override {
    if (current == nullptr) return outside();
    return current->label_names(match, start, end);
  }
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override {
    if (current == nullptr) return outside();
    return current->label_values(name, match, start, end);
  }

 private:
  static tl::unexpected<core::Error> outside() {
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "the adapter's asynchronous backend was asked outside a fetch");
  }
};

AsyncAdapterMetricsProvider::AsyncAdapterMetricsProvider(
    std::shared_ptr<const AdapterConfig> config, prom::RemoteQueryEngine& remote,
    ObjectLister& objects, core::Clock& clock, AdapterOptions options)
    : remote_(remote),
      engine_(std::make_unique<RoundEngine>()),
      adapter_(std::move(config), *engine_, objects, clock, options),
      sync_(adapter_) {}

AsyncAdapterMetricsProvider::~AsyncAdapterMetricsProvider() = default;

net::Awaitable<void> AsyncAdapterMetricsProvider::run_rounds(std::function<void()> round) {
  FetchedQueries queries;
  for (int i = 0; i < kMaxRounds; ++i) {
    {
      std::lock_guard lock(mutex_);
      engine_->current = &queries;
      round();
      engine_->current = nullptr;
    }
    std::vector<FetchedQueries::Pending> pending = queries.take_pending();
    if (pending.empty()) co_return;
    for (const FetchedQueries::Pending& p : pending) {
      if (p.series) {
        std::vector<std::string> match;
        match.push_back(p.expr);
        auto answer = co_await remote_.series_async(std::move(match), p.start, p.time);
        queries.answer(p, std::move(answer));
      } else {
        prom::QueryOptions options;
        auto answer = co_await remote_.instant_query_async(p.expr, p.time, options);
        queries.answer(p, std::move(answer));
      }
    }
  }
}

net::Awaitable<core::Status> AsyncAdapterMetricsProvider::relist() {
  core::Status status;
  std::function<void()> round = [this, &status] { status = adapter_.relist(); };
  co_await run_rounds(std::move(round));
  co_return status;
}

net::Awaitable<void> AsyncAdapterMetricsProvider::fetch(hpa::MetricRequest request,
                                                        hpa::RecordedMetrics& answers) {
  hpa::RecordedMetrics* into = &answers;
  std::function<void()> round = [this, &request, into] { into->fetch(sync_, request); };
  co_await run_rounds(std::move(round));
}

}  // namespace llmscale::adapter
