// MetricsAdapter: prometheus-adapter's custom and external metrics providers over a
// prom::QueryEngine (our TSDB in-process, or a real Prometheus through its HTTP API), plus
// Google's Stackdriver-style metric names, answering exactly what the HTTP API answers.
//
// Discovery (relist) asks the backend which series exist and records, per rule, which metric
// names describe which resources; requests are turned into one PromQL instant query each
// (adapter-and-peers.md §1.3-§1.7). Google names (`prometheus.googleapis.com|x|gauge`,
// `kubernetes.io|container|accelerator|duty_cycle`) are served on demand, like the Stackdriver
// adapter, without discovery.
//
// Thread-safety: relist() swaps an immutable registry; every other method may be called from
// any thread at once (the QueryEngine and ObjectLister must allow that too).
#pragma once

#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapter/config.h"
#include "adapter/request.h"
#include "adapter/rule.h"
#include "core/clock.h"
#include "hpa/metrics_provider.h"
#include "kube/objects.h"
#include "prom/query_engine.h"

namespace llmscale::adapter {

// Lists the objects a wildcard request covers (the adapter asks the Kubernetes API upstream;
// here the local fleet or a static list answers).
class ObjectLister {
 public:
  virtual ~ObjectLister() = default;
  virtual core::Result<std::vector<std::string>> list(const GroupResource& resource,
                                                      const std::string& namespace_name,
                                                      const kube::Selector& selector) = 0;
};

// A fixed set of objects with labels (`--pods-file`, tests).
class StaticObjectLister final : public ObjectLister {
 public:
  struct Object {
    GroupResource resource;
    std::string namespace_name;
    std::string name;
    kube::Labels labels;
  };
  explicit StaticObjectLister(std::vector<Object> objects) : objects_(std::move(objects)) {}
  core::Result<std::vector<std::string>> list(const GroupResource& resource, const std::string& ns,
                                              const kube::Selector& selector) override;

 private:
  std::vector<Object> objects_;
};

struct AdapterOptions {
  core::Duration max_age = std::chrono::minutes(10);  // --metrics-max-age (series lookback)
};

// One entry of the discovery documents.
struct DiscoveredMetric {
  GroupResource resource;
  bool namespaced = true;
  std::string metric;
};

// How a request was (or would be) answered, for `adapter explain`.
struct Explanation {
  MetricsRequest request;
  std::string source;                // "rules[0]", "externalRules[1]" or "google"
  std::string series_name;           // the Prometheus series the metric comes from
  std::string query;                 // the PromQL run
  std::vector<std::string> objects;  // objects listed for a wildcard request
};

class MetricsAdapter {
 public:
  MetricsAdapter(std::shared_ptr<const AdapterConfig> config, prom::QueryEngine& backend,
                 ObjectLister& objects, core::Clock& clock, AdapterOptions options = {});
  ~MetricsAdapter();

  // Rebuilds the registry from the backend's series. On any failure the previous registry
  // stays and the error is returned.
  core::Status relist();

  std::vector<DiscoveredMetric> custom_metrics() const;
  std::vector<std::string> external_metrics() const;

  // custom.metrics.k8s.io: a single object or, with name "*", every object matching
  // request.object_selector.
  ApiResult<std::vector<kube::MetricValue>> custom_metric(const MetricsRequest& request,
                                                          Explanation* explain = nullptr);
  // external.metrics.k8s.io.
  ApiResult<std::vector<kube::ExternalMetricValue>> external_metric(const MetricsRequest& request,
                                                                    Explanation* explain = nullptr);

  // metrics.k8s.io PodMetrics from resourceRules (containerQuery for cpu and memory, grouped by
  // the container label); kNotFound when the configuration has no resourceRules.
  core::Result<std::vector<kube::PodMetrics>> pod_resource_metrics(const std::string& ns,
                                                                   const kube::Selector& selector);

  // Discovery documents (APIGroup, APIResourceList) and both APIs by request path, encoded as the
  // HTTP API answers (MetricValueList JSON, or a metav1.Status error).
  ApiResult<std::string> serve(std::string_view path, std::string_view raw_query);

 private:
  struct Registry;
  std::shared_ptr<const Registry> registry() const;

  std::shared_ptr<const AdapterConfig> config_;
  std::vector<CompiledRule> rules_;
  std::vector<CompiledRule> external_rules_;
  std::shared_ptr<const CompiledRule> cpu_rule_, memory_rule_;
  prom::QueryEngine& backend_;
  ObjectLister& objects_;
  core::Clock& clock_;
  AdapterOptions options_;
  mutable std::mutex registry_mutex_;
  std::shared_ptr<const Registry> registry_;
};

// The HPA engine's MetricsProvider over a MetricsAdapter: the same answers the HTTP API gives
// (a non-200 answer becomes an Error whose message is the Status message).
class AdapterMetricsProvider final : public hpa::MetricsProvider {
 public:
  explicit AdapterMetricsProvider(MetricsAdapter& adapter) : adapter_(adapter) {}
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
  MetricsAdapter& adapter_;
};

}  // namespace llmscale::adapter
