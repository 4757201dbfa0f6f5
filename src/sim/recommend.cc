// `llmscale recommend`: parallel search over HPA configurations (recommend.h).
#include "sim/recommend.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <mutex>
#include <thread>

#include "server/flavor.h"
#include "server/metric_contract.h"

namespace llmscale::sim {

// Per signal, the flavor's preferred series at the release it simulates (the metric contract),
// where it is one plain gauge an HPA can average per pod (TGI's KV use is a ratio of two).
std::vector<MetricChoice> default_metrics(const std::string& flavor) {
  auto google = [](std::string_view name) {
    return "prometheus.googleapis.com|" + std::string(name) + "|gauge";
  };
  server::Flavor f = server::parse_flavor(flavor).value_or(server::Flavor::kVllmV1);
  struct Choice {
    server::Signal signal;
    std::vector<double> targets;
  };
  // TGI's queue is the router's own (requests not yet batched): one more, larger target.
  std::vector<double> queue_targets = {1, 2, 5, 10};
  if (f == server::Flavor::kTgi) queue_targets.push_back(20);
  const std::vector<Choice> choices = {{server::Signal::kQueue, queue_targets},
                                       {server::Signal::kRunning, {8, 16, 24, 32, 48}},
                                       {server::Signal::kKvUsage, {0.3, 0.5, 0.7, 0.9}}};
  std::vector<MetricChoice> out;
  for (const Choice& c : choices) {
    auto sources =
        server::metric_sources(c.signal, server::flavor_engine(f), server::flavor_version(f));
    if (sources.empty() || !sources.front()->plain() || !sources.front()->series.label.empty())
      continue;
    out.push_back({google(sources.front()->series.name), c.targets});
  }
  return out;
}

std::vector<Candidate> expand(const SearchSpace& space, const std::string& flavor,
                              std::int32_t default_max) {
  std::vector<MetricChoice> metrics =
      space.metrics.empty() ? default_metrics(flavor) : space.metrics;
  std::vector<std::int32_t> maxes = space.max_replicas;
  if (maxes.empty()) maxes.push_back(default_max);
  std::vector<Candidate> out;
  for (const auto& m : metrics)
    for (double target : m.targets)
      for (double tol : space.tolerances)
        for (auto window : space.scale_down_windows)
          for (auto min : space.min_replicas)
            for (auto max : maxes) {
              if (max < min) continue;
              out.push_back({m.name, target, tol, window, min, max});
            }
  return out;
}

kube::HorizontalPodAutoscaler apply_candidate(const kube::HorizontalPodAutoscaler& hpa,
                                              const Candidate& c) {
  kube::HorizontalPodAutoscaler out = hpa;
  out.status = {};
  kube::MetricSpec metric;
  metric.type = "Pods";
  kube::PodsMetricSource pods;
  pods.metric.name = c.metric;
  pods.target.type = "AverageValue";
  pods.target.average_value = kube::Quantity::from_milli(std::llround(c.target * 1000));
  metric.pods = pods;
  out.spec.metrics = {metric};
  out.spec.min_replicas = c.min_replicas;
  out.spec.max_replicas = c.max_replicas;
  kube::HorizontalPodAutoscalerBehavior behavior =
      out.spec.behavior.value_or(kube::HorizontalPodAutoscalerBehavior{});
  kube::HPAScalingRules down = behavior.scale_down.value_or(kube::HPAScalingRules{});
  kube::HPAScalingRules up = behavior.scale_up.value_or(kube::HPAScalingRules{});
  down.stabilization_window_seconds = static_cast<std::int32_t>(
      std::chrono::duration_cast<std::chrono::seconds>(c.scale_down_window).count());
  auto tol = kube::Quantity::from_milli(std::llround(c.tolerance * 1000));
  down.tolerance = tol;
  up.tolerance = tol;
  behavior.scale_down = down;
  behavior.scale_up = up;
  out.spec.behavior = behavior;
  return out;
}

namespace {

bool better(const Ranked& a, const Ranked& b) {
  if (a.error.empty() != b.error.empty()) return a.error.empty();
  if (a.summary.slo_met != b.summary.slo_met) return a.summary.slo_met;
  if (a.summary.slo_met) {
    if (a.summary.replica_hours != b.summary.replica_hours)
      return a.summary.replica_hours < b.summary.replica_hours;
    if (a.summary.scale_events != b.summary.scale_events)
      return a.summary.scale_events < b.summary.scale_events;
  } else {
    if (a.summary.attainment != b.summary.attainment)
      return a.summary.attainment > b.summary.attainment;
    if (a.summary.replica_hours != b.summary.replica_hours)
      return a.summary.replica_hours < b.summary.replica_hours;
  }
  return false;  // stable_sort keeps the search order
}

}  // namespace

core::Result<std::vector<Ranked>> recommend(
    const Scenario& scenario, const SimOptions& options, const Slo& slo, const SearchSpace& space,
    unsigned jobs, const std::function<void(std::size_t, std::size_t)>& done) {
  if (scenario.config.hpas.empty())
    return core::invalid_argument("recommend: the scenario has no HorizontalPodAutoscaler");
  if (scenario.config.fleets.empty() || !scenario.config.fleets.front().template_.serve_sim)
    return core::invalid_argument("recommend: the scenario has no serveSim Fleet");
  const auto& base = scenario.config.hpas.front();
  std::string flavor = scenario.config.fleets.front().template_.serve_sim->flavor;
  if (flavor == "vllm") flavor = "vllm-v1";
  std::vector<Candidate> candidates = expand(space, flavor, base.spec.max_replicas);
  if (candidates.empty()) return core::invalid_argument("recommend: empty search space");
  std::vector<Ranked> results(candidates.size());
  if (jobs == 0) jobs = std::max(1u, std::thread::hardware_concurrency());
  jobs = std::min<unsigned>(jobs, static_cast<unsigned>(candidates.size()));
  std::atomic<std::size_t> next{0};
  std::size_t finished = 0;
  std::mutex mu;
  auto worker = [&] {
    for (std::size_t i = next++; i < candidates.size(); i = next++) {
      Scenario s = scenario;
      s.config.hpas.front() = apply_candidate(base, candidates[i]);
      Ranked& r = results[i];
      r.candidate = candidates[i];
      auto run = simulate(s, options);
      if (run) {
        r.summary = summarize(*run, slo);
      } else {
        r.error = run.error().message;
      }
      std::lock_guard<std::mutex> lock(mu);
      ++finished;
      if (done) done(finished, candidates.size());
    }
  };
  std::vector<std::thread> threads;
  for (unsigned t = 1; t < jobs; ++t) threads.emplace_back(worker);
  worker();
  for (auto& t : threads) t.join();
  std::stable_sort(results.begin(), results.end(), better);
  return results;
}

}  // namespace llmscale::sim
