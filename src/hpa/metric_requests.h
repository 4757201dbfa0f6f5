// The metric requests one reconcile pass makes, listed before the pass: what a controller
// fetches first (asynchronously, timed) and then hands to reconcile() as recorded answers
// (RecordedMetrics::record, reconcile_io.h), so the pure engine never waits on the network.
//
// Kubernetes (computeReplicasForMetrics): the metrics of spec.metrics are computed in spec
// order, each fetching from its metrics API at most once; none are fetched when the pass stops
// before computing them (no scale, replicas outside [minReplicas, maxReplicas], scaling disabled,
// a missing, bad or ambiguous selector) or for a metric that fails first (no target, a bad metric
// selector). metric_requests() runs the engine itself over a provider that only records what it
// is asked, so the list follows every such rule exactly, with the engine's own selectors.
//
// Pure; no I/O; safe to call from any thread on distinct inputs.
#pragma once

#include <string>
#include <vector>

#include "hpa/engine.h"
#include "kube/label_selector.h"
#include "kube/objects.h"

namespace llmscale::hpa {

// One call the engine makes on its MetricsProvider, with that call's arguments.
struct MetricRequest {
  enum class Api { kResource, kPods, kObject, kExternal };
  Api api = Api::kResource;
  std::string namespace_name;
  std::string metric;                        // empty for kResource
  kube::Selector pod_selector;               // kResource, kPods: the scale's selector
  kube::Selector metric_selector;            // kPods, kObject, kExternal
  kube::CrossVersionObjectReference object;  // kObject: the described object

  // The request one provider call makes, from its arguments (those its API does not take are
  // left empty).
  static MetricRequest of(Api api, const std::string& namespace_name, const std::string& metric,
                          const kube::Selector& pod_selector, const kube::Selector& metric_selector,
                          const kube::CrossVersionObjectReference& object);

  // Identifies the request by everything the provider is given (the answer it gets).
  std::string key() const;
};

// The calls reconcile(input, ...) makes on its MetricsProvider, in call order (duplicates kept:
// two Resource metrics each fetch). Empty when the pass computes no metric.
std::vector<MetricRequest> metric_requests(const ReconcileInput& input);

}  // namespace llmscale::hpa
