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

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "adapter/answer_cache.h"
#include "adapter/config.h"
#include "adapter/request.h"
#include "adapter/rule.h"
#include "core/clock.h"
#include "hpa/metrics_provider.h"
#include "kube/objects.h"
#include "net/http.h"
#include "prom/promql/query_engine.h"

namespace llmscale::prom {
class Storage;
}

namespace llmscale::adapter {

// One object as a lister returns it.
struct ListedObject {
  std::string namespace_name;  // empty for cluster-scoped objects
  std::string name;
  kube::Labels labels;
};

// Lists the objects a wildcard request covers (the adapter asks the Kubernetes API upstream;
// here the local fleet or a static list answers). An empty `namespace_name` lists every
// namespace of a namespaced resource (as the Kubernetes API does), and cluster-scoped objects.
class ObjectLister {
 public:
  virtual ~ObjectLister() = default;
  virtual core::Result<std::vector<std::string>> list(const GroupResource& resource,
                                                      const std::string& namespace_name,
                                                      const kube::Selector& selector) = 0;
  // The objects with their namespaces and labels (metrics.k8s.io echoes pod and node labels).
  // The default asks list() and knows no labels.
  virtual core::Result<std::vector<ListedObject>> list_objects(const GroupResource& resource,
                                                               const std::string& namespace_name,
                                                               const kube::Selector& selector);
};

// A fixed set of objects with labels (`--pods-file`, tests). The objects never change, so each
// distinct list() (resource, namespace, selector) is computed once and remembered (up to 256
// of them): a wildcard request over 1,000 pods would otherwise match 1,000 label sets each time.
// Thread-safe.
class StaticObjectLister final : public ObjectLister {
 public:
  struct Object {
    GroupResource resource;
    std::string namespace_name;
    std::string name;
    kube::Labels labels;
  };
  explicit StaticObjectLister(std::vector<Object> objects);
  ~StaticObjectLister() override;
  StaticObjectLister(StaticObjectLister&&) noexcept;
  StaticObjectLister& operator=(StaticObjectLister&&) noexcept;
  core::Result<std::vector<std::string>> list(const GroupResource& resource, const std::string& ns,
                                              const kube::Selector& selector) override;
  core::Result<std::vector<ListedObject>> list_objects(const GroupResource& resource,
                                                       const std::string& ns,
                                                       const kube::Selector& selector) override;

 private:
  struct Listings;
  std::vector<Object> objects_;
  std::unique_ptr<Listings> listings_;
};

// Objects from Kubernetes manifests (`--objects FILE`): YAML/JSON documents, each an object or a
// List (items). Namespaced objects without metadata.namespace go to "default", as `kubectl
// apply` files them; cluster-scoped ones (nodes, namespaces, persistentvolumes) have none.
// `source` names the input in errors.
core::Result<std::vector<StaticObjectLister::Object>> parse_object_manifests(
    std::string_view text, const std::string& source);

// metrics.k8s.io/v1beta1 NodeMetrics.
struct NodeMetrics {
  kube::ObjectMeta metadata;
  core::Time timestamp;
  core::Duration window{};
  kube::ResourceList usage;
};

struct AdapterOptions {
  core::Duration max_age = std::chrono::minutes(10);  // --metrics-max-age (series lookback)
  // The TSDB behind `backend` when it is our in-process one: serve() then reuses a rendered
  // custom-metrics answer while the storage has not changed under it (answer_cache.h), for
  // queries whose result cannot move with the clock alone (instant selectors, no offset, @,
  // ranges or time functions). Null (a remote Prometheus): every request is evaluated.
  // REQUIRES: outlives the adapter.
  const prom::Storage* answer_cache_storage = nullptr;
  AnswerCacheLimits answer_cache_limits;
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

  // metrics.k8s.io (the resource metrics API prometheus-adapter serves in metrics-server's place
  // when the configuration has resourceRules; pkg/resourceprovider/provider.go and
  // metrics-server's pkg/api). Only pods and nodes with both a cpu and a memory answer are
  // returned (upstream skips the rest); a query that fails skips its namespace (pods) or every
  // node, as upstream logs and skips. Sorted by namespace and name.
  bool serves_resource_metrics() const { return cpu_.has_value(); }
  // The pods of `ns` ("" for every namespace) matching `selector`.
  ApiResult<std::vector<kube::PodMetrics>> pod_metrics(const std::string& ns,
                                                       const kube::Selector& selector);
  // One pod: NotFound `pods "x" not found` when the pod is not listed, NotFound
  // `pods.metrics.k8s.io "ns/x" not found` when it has no metrics.
  ApiResult<kube::PodMetrics> pod_metric(const std::string& ns, const std::string& name);
  ApiResult<std::vector<NodeMetrics>> node_metrics(const kube::Selector& selector);
  ApiResult<NodeMetrics> node_metric(const std::string& name);

  // pod_metrics() for the HPA engine; kNotFound when the configuration has no resourceRules.
  core::Result<std::vector<kube::PodMetrics>> pod_resource_metrics(const std::string& ns,
                                                                   const kube::Selector& selector);

  // Discovery documents (APIGroup, APIResourceList) and the three APIs by request path, encoded
  // as the HTTP API answers (MetricValueList, PodMetricsList, ... JSON, or a metav1.Status). A
  // custom-metrics answer reused from the answer cache is the cache's own body (send it with
  // net::set_shared_body: no copy, and its gzip form is made once per entry).
  ApiResult<std::shared_ptr<const net::SharedBody>> serve_shared(std::string_view path,
                                                                 std::string_view raw_query);
  // serve_shared()'s bytes as an owned string (a copy).
  ApiResult<std::string> serve(std::string_view path, std::string_view raw_query);

  // The answer cache's counters; nullopt without AdapterOptions::answer_cache_storage.
  std::optional<AnswerCacheStats> answer_cache_stats() const;

 private:
  // What a custom-metrics request resolves to before the TSDB is asked.
  struct CustomPlan {
    std::vector<std::string> names;  // the objects answered for
    std::string query;               // valid once query_built
    std::string object_label;        // the PromQL label naming the object
    bool query_built = false;
    std::string source;                  // "rules[i]" or "google"
    std::string series_name;             // rules: the series the metric comes from
    const CompiledRule* rule = nullptr;  // rules: builds the query (google: null, query built)
  };
  // Resolves a request to its objects, rule and (with_query) PromQL.
  ApiResult<CustomPlan> plan_custom(const MetricsRequest& request, Explanation* explain,
                                    bool with_query = true);
  std::optional<ApiError> build_custom_query(const MetricsRequest& request, CustomPlan& plan) const;
  ApiResult<std::vector<kube::MetricValue>> evaluate_custom(const MetricsRequest& request,
                                                            const CustomPlan& plan, core::Time now);
  ApiResult<std::shared_ptr<const net::SharedBody>> serve_custom(const MetricsRequest& request,
                                                                 bool pretty);

  struct Registry;
  std::shared_ptr<const Registry> registry() const;

  std::shared_ptr<const AdapterConfig> config_;
  std::vector<CompiledRule> rules_;
  std::vector<CompiledRule> external_rules_;
  // One resourceRules entry (cpu or memory), compiled.
  struct ResourceQuery {
    std::shared_ptr<const CompiledRule> container;  // containerQuery
    std::shared_ptr<const CompiledRule> node;       // nodeQuery
    std::string container_label;
  };
  // A resource's samples by object name, as upstream's queryResults.
  struct ResourceSample {
    std::string container;
    double value = 0;
    std::int64_t t = 0;
  };
  using ResourceResults = std::map<std::string, std::vector<ResourceSample>>;
  core::Result<ResourceResults> run_resource_query(const ResourceQuery& query,
                                                   const GroupResource& resource,
                                                   const std::string& ns,
                                                   const std::vector<std::string>& names,
                                                   core::Time now);
  std::vector<kube::PodMetrics> pod_metrics_for(const std::vector<ListedObject>& pods);
  std::vector<NodeMetrics> node_metrics_for(const std::vector<ListedObject>& nodes);
  ApiResult<std::string> serve_resource_metrics(const std::string& path, std::string_view raw_query,
                                                bool pretty);

  std::optional<ResourceQuery> cpu_, memory_;
  core::Duration window_{};
  prom::QueryEngine& backend_;
  ObjectLister& objects_;
  core::Clock& clock_;
  AdapterOptions options_;
  mutable std::mutex registry_mutex_;
  std::shared_ptr<const Registry> registry_;
  std::unique_ptr<AnswerCache> answer_cache_;  // null without answer_cache_storage
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
