// AsyncMetricsProvider: the HPA's metrics APIs as coroutines, for a controller whose passes run on
// an event loop that must not block (`llmscale controller` against a real Prometheus). A pass
// fetches the answers it needs first (hpa::metric_requests) into hpa::RecordedMetrics, then runs
// the pure engine on them.
//
// Implementations:
//  * SyncMetricsProvider wraps a synchronous hpa::MetricsProvider whose answers never wait on I/O
//    (recorded answers, an in-process TSDB), so such providers keep working unchanged.
//  * AsyncAdapterMetricsProvider is prometheus-adapter's rules (MetricsAdapter) over a
//    RemoteQueryEngine's *_async calls. It keeps one copy of the adapter's logic by running the
//    MetricsAdapter's own synchronous code over a QueryEngine that answers only the queries
//    already fetched (FetchedQueries) and notes the rest; it then fetches those on the loop and
//    runs the code again, until a round asks nothing new. A round costs microseconds of CPU; the
//    waiting is all co_await. Relisting (discovery's /api/v1/series calls) works the same way.
//
// The adapter lists the objects of a wildcard request (a Pods metric) through its ObjectLister,
// which is synchronous: give it one that answers from memory (`llmscale controller` lists pods
// from its pod informer, cluster::InformerPodLister; KubeObjectLister waits on the API server).
//
// Thread-safety: call from the event loop's threads; AsyncAdapterMetricsProvider serialises its
// synchronous rounds with a mutex, so concurrent fetches may share it.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "adapter/adapter.h"
#include "hpa/metric_requests.h"
#include "hpa/reconcile_io.h"
#include "net/event_loop.h"

namespace llmscale::prom {
class RemoteQueryEngine;
}

namespace llmscale::adapter {

class AsyncMetricsProvider {
 public:
  virtual ~AsyncMetricsProvider() = default;
  // Asks `request` and records its answer in `answers` (a failed fetch as its error), as
  // hpa::RecordedMetrics::fetch does synchronously. REQUIRES: `answers` outlives the call.
  virtual net::Awaitable<void> fetch(hpa::MetricRequest request, hpa::RecordedMetrics& answers) = 0;
};

// A synchronous provider as an asynchronous one. REQUIRES: `inner` outlives this and answers
// without waiting on I/O (it runs on the loop's thread).
class SyncMetricsProvider final : public AsyncMetricsProvider {
 public:
  explicit SyncMetricsProvider(hpa::MetricsProvider& inner) : inner_(inner) {}
  net::Awaitable<void> fetch(hpa::MetricRequest request, hpa::RecordedMetrics& answers) override;

 private:
  hpa::MetricsProvider& inner_;
};

// What a MetricsAdapter asks in AsyncAdapterMetricsProvider's rounds: instant queries and series
// lookups answered from what was fetched, the others noted (pending) and failed with
// kCancelled (a query not run: MetricsAdapter reports no failure for it). Range queries and label
// lookups (which the adapter does not make) fail.
class FetchedQueries final : public prom::QueryEngine {
 public:
  struct Pending {
    bool series = false;  // an /api/v1/series call (else an instant query)
    std::string expr;     // the query, or the one series matcher
    core::Time time;      // instant: the evaluation time; series: the range's end
    core::Time start;     // series: the range's start
  };
  std::vector<Pending> take_pending() { return std::exchange(pending_, {}); }
  void answer(const Pending& request, core::Result<prom::QueryResult> result);
  void answer(const Pending& request, core::Result<std::vector<prom::Labels>> result);

  core::Result<prom::QueryResult> instant_query(std::string_view expr, core::Time time,
                                                const prom::QueryOptions& options) override;
  core::Result<prom::QueryResult> range_query(std::string_view expr, core::Time start,
                                              core::Time end, core::Duration step,
                                              const prom::QueryOptions& options) override;
  core::Result<std::vector<prom::Labels>> series(const std::vector<std::string>& match,
                                                 core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_names(const std::vector<std::string>& match,
                                                     core::Time start, core::Time end) override;
  core::Result<std::vector<std::string>> label_values(std::string_view name,
                                                      const std::vector<std::string>& match,
                                                      core::Time start, core::Time end) override;

 private:
  std::map<std::string, core::Result<prom::QueryResult>, std::less<>> instant_;
  std::map<std::string, core::Result<std::vector<prom::Labels>>, std::less<>> series_;
  std::vector<Pending> pending_;
};

class AsyncAdapterMetricsProvider final : public AsyncMetricsProvider {
 public:
  // REQUIRES: `remote` (created on the loop the provider is called on), `objects` and `clock`
  // outlive the provider.
  AsyncAdapterMetricsProvider(std::shared_ptr<const AdapterConfig> config,
                              prom::RemoteQueryEngine& remote, ObjectLister& objects,
                              core::Clock& clock, AdapterOptions options);
  ~AsyncAdapterMetricsProvider() override;

  // Discovery (MetricsAdapter::relist) with the series fetched on the loop.
  net::Awaitable<core::Status> relist();
  net::Awaitable<void> fetch(hpa::MetricRequest request, hpa::RecordedMetrics& answers) override;

  // The rounds a fetch may take before it gives up (its answer is then the last round's error):
  // each round fetches at least one new query, and a pass asks at most a few.
  static constexpr int kMaxRounds = 32;

 private:
  class RoundEngine;
  // Runs `round` (synchronous adapter code) over a FetchedQueries of this call's own until it
  // asks nothing new, fetching what it asked between rounds: every answer is fresh, and
  // concurrent fetches (a pass, a relist) do not share answers.
  net::Awaitable<void> run_rounds(std::function<void()> round);

  prom::RemoteQueryEngine& remote_;
  std::mutex mutex_;                     // one round at a time
  std::unique_ptr<RoundEngine> engine_;  // the adapter's backend: the running round's queries
  MetricsAdapter adapter_;
  AdapterMetricsProvider sync_;
};

}  // namespace llmscale::adapter
