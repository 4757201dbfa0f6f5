// MetricsProvider: the metrics APIs as the HPA controller queries them.
//
// One method per question upstream's metrics client asks. Implementations: the in-process
// adapter over our TSDB or a Prometheus server, a client of a real custom/external metrics API,
// and the answers recorded in a `hpa reconcile` input. An Error means the fetch failed (the
// engine reports "unable to fetch metrics from ... API: <message>"); an empty list is a
// successful answer with no items ("no metrics returned from ... API").
//
// Calls are synchronous and come from the thread running reconcile().
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "kube/label_selector.h"
#include "kube/objects.h"

namespace llmscale::hpa {

class MetricsProvider {
 public:
  virtual ~MetricsProvider() = default;

  // metrics.k8s.io/v1beta1: PodMetrics for pods matching `pod_selector`.
  virtual core::Result<std::vector<kube::PodMetrics>> resource_metrics(
      const std::string& ns, const kube::Selector& pod_selector) = 0;

  // custom.metrics.k8s.io: `metric` for every pod matching `pod_selector`.
  virtual core::Result<std::vector<kube::MetricValue>> pods_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
      const kube::Selector& metric_selector) = 0;

  // custom.metrics.k8s.io: `metric` of one object (exactly one value expected).
  virtual core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string& ns, const std::string& metric,
      const kube::CrossVersionObjectReference& object, const kube::Selector& metric_selector) = 0;

  // external.metrics.k8s.io: every series of `metric` matching `metric_selector`.
  virtual core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& metric_selector) = 0;
};

}  // namespace llmscale::hpa
