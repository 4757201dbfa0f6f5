// `llmscale recommend`: search HPA configurations for a scenario and an SLO by simulating each
// one, in parallel (one std::thread per core over independent Simulators), and rank them:
// configurations meeting the SLO first, cheapest (replica-hours) first, then fewer scale events;
// the others after them by SLO attainment.
//
// A candidate replaces the scenario's first HPA's metrics with one Pods metric (AverageValue
// target) and sets minReplicas, maxReplicas and, in spec.behavior (so the manifest carries
// them), the scale-down stabilization window and the tolerance of both directions (Kubernetes'
// HPAConfigurableTolerance, beta since v1.35).
//
// Thread-safety: recommend() starts and joins its own threads; the Scenario is shared read-only.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "kube/objects.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace llmscale::sim {

struct MetricChoice {
  std::string name;             // a Pods metric name, e.g. prometheus.googleapis.com|x|gauge
  std::vector<double> targets;  // averageValue candidates
};

struct SearchSpace {
  std::vector<MetricChoice> metrics;  // empty: the flavor's defaults (default_metrics)
  std::vector<double> tolerances = {0.1};
  std::vector<core::Duration> scale_down_windows = {std::chrono::seconds(300)};
  std::vector<std::int32_t> min_replicas = {1};
  std::vector<std::int32_t> max_replicas;  // empty: the scenario HPA's
};

// The per-replica signals a flavor exports that make sense as Pods metrics, with target grids.
std::vector<MetricChoice> default_metrics(const std::string& flavor);

struct Candidate {
  std::string metric;
  double target = 0;
  double tolerance = 0.1;
  core::Duration scale_down_window{};
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 1;
};

struct Ranked {
  Candidate candidate;
  Summary summary;
  std::string error;  // the run failed
};

std::vector<Candidate> expand(const SearchSpace& space, const std::string& flavor,
                              std::int32_t default_max);

// The HPA with the candidate applied.
kube::HorizontalPodAutoscaler apply_candidate(const kube::HorizontalPodAutoscaler& hpa,
                                              const Candidate& candidate);

// Simulates every candidate on `jobs` threads (0: hardware concurrency) and returns them ranked.
// `done` is called (from worker threads, serialized) after each run with (finished, total).
core::Result<std::vector<Ranked>> recommend(
    const Scenario& scenario, const SimOptions& options, const Slo& slo, const SearchSpace& space,
    unsigned jobs, const std::function<void(std::size_t, std::size_t)>& done = {});

}  // namespace llmscale::sim
