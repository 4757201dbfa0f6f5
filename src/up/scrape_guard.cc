// A metrics provider that fails fetches whose data the TSDB's series cap refused (see
// scrape_guard.h).
#include "up/scrape_guard.h"

namespace llmscale::up {
namespace {

bool refused_by_series_cap(const prom::TargetStatus& target) {
  return target.health == prom::TargetHealth::kDown &&
         target.last_error.rfind("series limit exceeded", 0) == 0;
}

}  // namespace

ScrapeGuardedProvider::ScrapeGuardedProvider(hpa::MetricsProvider& inner, PodLister pods,
                                             TargetLookup targets)
    : inner_(inner), pods_(std::move(pods)), targets_(std::move(targets)) {}

core::Status ScrapeGuardedProvider::check(const std::string& ns,
                                          const kube::Selector* pod_selector) const {
  if (pod_selector == nullptr) {
    for (const prom::TargetStatus& t : targets_(prom::Labels{}))
      if (refused_by_series_cap(t))
        return core::make_error(core::ErrorCode::kResourceExhausted,
                                "the scrape of " + t.url + " failed: " + t.last_error);
    return {};
  }
  for (const kube::Pod& pod : pods_()) {
    if (pod.metadata.namespace_ != ns || !pod_selector->matches(pod.metadata.labels)) continue;
    for (const prom::TargetStatus& t :
         targets_(prom::Labels{{"namespace", ns}, {"pod", pod.metadata.name}}))
      if (refused_by_series_cap(t))
        return core::make_error(
            core::ErrorCode::kResourceExhausted,
            "the scrape of pod " + pod.metadata.name + " failed: " + t.last_error);
  }
  return {};
}

core::Result<std::vector<kube::PodMetrics>> ScrapeGuardedProvider::resource_metrics(
    const std::string& ns, const kube::Selector& pod_selector) {
  if (auto ok = check(ns, &pod_selector); !ok) return tl::unexpected(ok.error());
  return inner_.resource_metrics(ns, pod_selector);
}

core::Result<std::vector<kube::MetricValue>> ScrapeGuardedProvider::pods_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
    const kube::Selector& metric_selector) {
  if (auto ok = check(ns, &pod_selector); !ok) return tl::unexpected(ok.error());
  return inner_.pods_metric(ns, metric, pod_selector, metric_selector);
}

core::Result<std::vector<kube::MetricValue>> ScrapeGuardedProvider::object_metric(
    const std::string& ns, const std::string& metric,
    const kube::CrossVersionObjectReference& object, const kube::Selector& metric_selector) {
  if (auto ok = check(ns, nullptr); !ok) return tl::unexpected(ok.error());
  return inner_.object_metric(ns, metric, object, metric_selector);
}

core::Result<std::vector<kube::ExternalMetricValue>> ScrapeGuardedProvider::external_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& metric_selector) {
  if (auto ok = check(ns, nullptr); !ok) return tl::unexpected(ok.error());
  return inner_.external_metric(ns, metric, metric_selector);
}

}  // namespace llmscale::up
