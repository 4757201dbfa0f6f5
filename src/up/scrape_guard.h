// ScrapeGuardedProvider: the HPA's metrics provider in `up`, checked against the scraper's view
// of the targets behind the answer.
//
// When the TSDB's series cap refuses a scrape (`--max-series`), the scraper marks the target
// down with "series limit exceeded ..." and stores no fresh samples of it. The adapter's
// answer then simply lacks that pod, and the HPA controller would treat it as a pod with a
// missing metric (0 % of target on scale-up, 100 % on scale-down: a silent decision on data
// that was thrown away). Here such a fetch fails instead, naming the pod and the reason, so the
// controller holds the scale and reports FailedGetPodsMetric, as for any failed fetch. Pods and
// resource metrics check the pods the HPA selects; object and external metrics may come from
// any target, so they check all of them.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "hpa/metrics_provider.h"
#include "prom/scrape/scraper.h"

namespace llmscale::up {

class ScrapeGuardedProvider final : public hpa::MetricsProvider {
 public:
  using PodLister = std::function<std::vector<kube::Pod>()>;
  using TargetLookup = std::function<std::vector<prom::TargetStatus>(const prom::Labels&)>;

  ScrapeGuardedProvider(hpa::MetricsProvider& inner, PodLister pods, TargetLookup targets);

  core::Result<std::vector<kube::PodMetrics>> resource_metrics(
      const std::string& ns, const kube::Selector& pod_selector) override;
  core::Result<std::vector<kube::MetricValue>> pods_metric(
      const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
      const kube::Selector& metric_selector) override;
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string& ns, const std::string& metric,
      const kube::CrossVersionObjectReference& object,
      const kube::Selector& metric_selector) override;
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string& ns, const std::string& metric,
      const kube::Selector& metric_selector) override;

 private:
  // An error when a target of a selected pod (or any target, when `pod_selector` is null) last
  // failed on the series cap.
  core::Status check(const std::string& ns, const kube::Selector* pod_selector) const;

  hpa::MetricsProvider& inner_;
  PodLister pods_;
  TargetLookup targets_;
};

}  // namespace llmscale::up
