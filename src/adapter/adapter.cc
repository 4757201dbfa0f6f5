// MetricsAdapter: discovery registry, request -> PromQL -> MetricValueList, upstream errors.
#include "adapter/adapter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <limits>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adapter/google.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/strings.h"
#include "kube/json_codec.h"

namespace llmscale::adapter {

struct MetricsAdapter::Registry {
  struct Entry {
    std::string series_name;
    const CompiledRule* rule = nullptr;
    std::string source;  // "rules[2]"
  };
  // (group-resource, namespaced, metric) -> where it comes from.
  std::map<std::tuple<GroupResource, bool, std::string>, Entry> custom;
  std::map<std::string, Entry> external;
  std::map<std::string, std::string> external_lower;  // lower-cased name -> registered name

  const Entry* find_external(const std::string& metric) const {
    if (auto it = external.find(metric); it != external.end()) return &it->second;
    if (auto it = external_lower.find(core::to_lower(metric)); it != external_lower.end()) {
      return &external.at(it->second);
    }
    return nullptr;
  }
};

namespace {

// Go's int64(value * 1000) on amd64: truncation toward zero; NaN, infinities and values out of
// range become the "integer indefinite" value, math.MinInt64.
std::int64_t go_milli(double value) {
  double milli = value * 1000.0;
  if (std::isnan(milli) || milli >= 9223372036854775808.0 || milli < -9223372036854775808.0) {
    return std::numeric_limits<std::int64_t>::min();
  }
  return static_cast<std::int64_t>(milli);
}

kube::Quantity custom_value(double value) {
  if (std::isnan(value)) return kube::Quantity::from_int(0);
  return kube::Quantity::from_milli(go_milli(value));
}

ApiError metric_not_found(const std::string& metric, const GroupResource& resource) {
  return not_found("the server could not find the metric " + metric + " for " +
                   resource.to_string());
}

ApiError metric_not_found_for(const std::string& metric, const GroupResource& resource,
                              const std::string& name) {
  return not_found("the server could not find the metric " + metric + " for " +
                   resource.to_string() + " " + name);
}

// The external provider names the namespaces resource only for the "default" namespace (quirk).
ApiError external_not_found(const std::string& metric, const std::string& namespace_name) {
  return not_found("the server could not find the metric " + metric + " for " +
                   (namespace_name == "default" ? "namespaces" : ""));
}

ApiError unable_to_fetch() {
  return internal_error("unable to fetch metrics");
}

// Errors that are not API statuses reach the client as code 500, reason Unknown (apimachinery's
// ErrorToAPIStatus).
ApiError unknown_error(std::string message) {
  return {500, "Unknown", std::move(message)};
}

// The label that names objects of `resource` in Google (Managed Prometheus) series.
std::optional<std::string> google_object_label(const GroupResource& resource) {
  if (resource == GroupResource{"", "pods"}) return "pod";
  if (resource == GroupResource{"", "nodes"}) return "node";
  if (resource == GroupResource{"", "namespaces"}) return "namespace";
  return std::nullopt;
}

std::string api_version_name(MetricsApi api) {
  switch (api) {
    case MetricsApi::kCustomV1Beta1: return "v1beta1";
    case MetricsApi::kCustomV1Beta2: return "v1beta2";
    case MetricsApi::kExternalV1Beta1: return "v1beta1";
  }
  return "v1beta1";
}

// Kubernetes' JSON serializer: compact with a trailing newline, or indented with ?pretty=true.
std::string serialize(const core::Json& j, bool pretty) {
  return (pretty ? j.dump(2) : core::to_compact_json(j)) + "\n";
}

// A compact answer, re-indented for ?pretty=true.
std::string reformat(std::string compact, bool pretty) {
  if (!pretty) return compact;
  return serialize(*core::parse_document(compact), true);
}

bool wants_pretty(std::string_view raw_query) {
  for (auto pair : core::split(raw_query, '&')) {
    if (pair == "pretty" || pair == "pretty=true" || pair == "pretty=1") return true;
  }
  return false;
}

core::Json api_group(const std::string& group, const std::vector<std::string>& versions) {
  core::Json versions_json = core::Json::array();
  for (const auto& v : versions)
    versions_json.push_back({{"groupVersion", group + "/" + v}, {"version", v}});
  return {{"kind", "APIGroup"},
          {"apiVersion", "v1"},
          {"name", group},
          {"versions", versions_json},
          {"preferredVersion", versions_json[0]}};
}

}  // namespace

core::Result<std::vector<std::string>> StaticObjectLister::list(const GroupResource& resource,
                                                                const std::string& ns,
                                                                const kube::Selector& selector) {
  std::vector<std::string> names;
  for (const auto& object : objects_) {
    if (object.resource == resource && object.namespace_name == ns &&
        selector.matches(object.labels)) {
      names.push_back(object.name);
    }
  }
  std::sort(names.begin(), names.end());
  return names;
}

MetricsAdapter::MetricsAdapter(std::shared_ptr<const AdapterConfig> config,
                               prom::QueryEngine& backend, ObjectLister& objects,
                               core::Clock& clock, AdapterOptions options)
    : config_(std::move(config)),
      backend_(backend),
      objects_(objects),
      clock_(clock),
      options_(options),
      registry_(std::make_shared<Registry>()) {
  // parse_adapter_config compiled every rule already; a failure here is a programming error.
  for (std::size_t i = 0; i < config_->rules.size(); ++i) {
    rules_.push_back(
        CompiledRule::compile(config_->rules[i], false, "rules[" + std::to_string(i) + "]")
            .value());
  }
  for (std::size_t i = 0; i < config_->external_rules.size(); ++i) {
    external_rules_.push_back(CompiledRule::compile(config_->external_rules[i], true,
                                                    "externalRules[" + std::to_string(i) + "]")
                                  .value());
  }
  if (config_->resource_rules && config_->resource_rules->cpu && config_->resource_rules->memory) {
    auto compile_resource = [&](const ResourceRule& rule, const char* path) {
      DiscoveryRule as_discovery;
      as_discovery.metrics_query = rule.container_query;
      as_discovery.resources = rule.resources;
      return std::make_shared<const CompiledRule>(
          CompiledRule::compile(as_discovery, false, path).value());
    };
    cpu_rule_ = compile_resource(*config_->resource_rules->cpu, "resourceRules.cpu");
    memory_rule_ = compile_resource(*config_->resource_rules->memory, "resourceRules.memory");
  }
}

MetricsAdapter::~MetricsAdapter() = default;

std::shared_ptr<const MetricsAdapter::Registry> MetricsAdapter::registry() const {
  std::lock_guard lock(registry_mutex_);
  return registry_;
}

core::Status MetricsAdapter::relist() {
  core::Time now = clock_.now();
  // One /api/v1/series call per distinct seriesQuery; any failure abandons the update.
  std::map<std::string, std::vector<prom::Labels>> series_by_query;
  auto fetch = [&](const CompiledRule& rule) -> core::Status {
    const std::string& query = rule.rule().series_query;
    if (series_by_query.count(query) != 0) return {};
    auto series = backend_.series({query}, now - options_.max_age, now);
    if (!series)
      return core::with_context(series.error(), "listing series for " + core::go_quote(query));
    series_by_query.emplace(query, std::move(*series));
    return {};
  };
  for (const auto& rule : rules_) {
    if (auto st = fetch(rule); !st) return st;
  }
  for (const auto& rule : external_rules_) {
    if (auto st = fetch(rule); !st) return st;
  }

  auto registry = std::make_shared<Registry>();
  for (std::size_t i = 0; i < rules_.size(); ++i) {
    const CompiledRule& rule = rules_[i];
    for (const auto& labels : series_by_query.at(rule.rule().series_query)) {
      std::string name(labels.metric_name());
      if (!rule.accepts(name)) continue;
      auto metric = rule.metric_name(name);
      if (!metric) continue;  // upstream logs and skips the series
      std::vector<std::string> label_names;
      for (const auto& label : labels) label_names.emplace_back(label.name);
      for (const auto& resource : rule.resources_for(label_names)) {
        registry->custom[{resource, is_namespaced(resource), *metric}] =
            Registry::Entry{name, &rule, "rules[" + std::to_string(i) + "]"};
      }
    }
  }
  for (std::size_t i = 0; i < external_rules_.size(); ++i) {
    const CompiledRule& rule = external_rules_[i];
    for (const auto& labels : series_by_query.at(rule.rule().series_query)) {
      std::string name(labels.metric_name());
      if (!rule.accepts(name)) continue;
      auto metric = rule.metric_name(name);
      if (!metric) continue;
      registry->external[*metric] =
          Registry::Entry{name, &rule, "externalRules[" + std::to_string(i) + "]"};
      registry->external_lower[core::to_lower(*metric)] = *metric;
    }
  }
  std::lock_guard lock(registry_mutex_);
  registry_ = std::move(registry);
  return {};
}

std::vector<DiscoveredMetric> MetricsAdapter::custom_metrics() const {
  std::vector<DiscoveredMetric> out;
  for (const auto& [key, entry] : registry()->custom) {
    out.push_back({std::get<0>(key), std::get<1>(key), std::get<2>(key)});
  }
  return out;
}

std::vector<std::string> MetricsAdapter::external_metrics() const {
  std::vector<std::string> out;
  for (const auto& [name, entry] : registry()->external) out.push_back(name);
  return out;
}

ApiResult<std::vector<kube::MetricValue>> MetricsAdapter::custom_metric(
    const MetricsRequest& request, Explanation* explain) {
  if (explain != nullptr) {
    explain->request = request;
  }
  const bool google = is_google_name(request.metric);
  std::optional<std::string> google_label;
  if (google) {
    google_label = google_object_label(request.resource);
    if (!google_label) return tl::unexpected(metric_not_found(request.metric, request.resource));
  }

  // Wildcards list the objects first (through the Kubernetes API upstream).
  std::vector<std::string> names;
  if (request.wildcard()) {
    auto listed = objects_.list(request.resource, request.namespace_name, request.object_selector);
    if (!listed) return tl::unexpected(internal_error("unable to list matching resources"));
    names = std::move(*listed);
  } else {
    names.push_back(request.name);
  }
  if (explain != nullptr) explain->objects = names;

  std::string query;
  std::string object_label;
  if (google) {
    if (names.empty()) return tl::unexpected(metric_not_found(request.metric, request.resource));
    auto q = google_custom_query(request.metric, request.metric_selector, request.namespace_name,
                                 *google_label, names);
    if (!q) {
      if (q.error().code == core::ErrorCode::kNotFound)
        return tl::unexpected(not_found(q.error().message));
      return tl::unexpected(bad_request(q.error().message));
    }
    query = q->query;
    object_label = *google_label;
    if (explain != nullptr) {
      explain->source = "google";
      explain->series_name = q->series;
    }
  } else {
    auto reg = registry();
    bool namespaced = !request.namespace_name.empty();
    auto it = reg->custom.find({request.resource, namespaced, request.metric});
    if (it == reg->custom.end())
      return tl::unexpected(metric_not_found(request.metric, request.resource));
    const auto& entry = it->second;
    if (explain != nullptr) {
      explain->source = entry.source;
      explain->series_name = entry.series_name;
    }
    // Upstream refuses to build a query without object names ("no resource names requested").
    if (names.empty()) return tl::unexpected(metric_not_found(request.metric, request.resource));
    QueryRequest q{entry.series_name,       request.resource,
                   request.namespace_name,  names,
                   request.metric_selector, {}};
    auto built = entry.rule->build_query(q);
    // A query that cannot be built (operator, missing label) is reported as not found.
    if (!built) return tl::unexpected(metric_not_found(request.metric, request.resource));
    query = std::move(*built);
    object_label = *entry.rule->label_for(request.resource);
  }
  if (explain != nullptr) explain->query = query;

  core::Time now = clock_.now();
  auto result = backend_.instant_query(query, now);
  if (!result || result->type() != prom::ResultType::kVector)
    return tl::unexpected(unable_to_fetch());
  const auto& samples = result->vector();
  if (!request.wildcard() && samples.empty()) {
    return tl::unexpected(metric_not_found_for(request.metric, request.resource, request.name));
  }
  std::unordered_map<std::string_view, double> values;
  values.reserve(samples.size());
  for (const auto& sample : samples) {
    if (!sample.metric.has(object_label)) continue;
    values[sample.metric.get(object_label)] = sample.value;  // views into `result`, alive below
  }

  std::optional<kube::LabelSelector> echoed;
  if (!request.metric_selector.empty()) {
    auto selector = kube::to_label_selector(request.metric_selector);
    if (!selector) return tl::unexpected(unknown_error(selector.error().message));
    echoed = std::move(*selector);
  }
  std::vector<kube::MetricValue> items;
  items.reserve(names.size());
  for (const auto& name : names) {
    auto it = values.find(name);
    if (it == values.end()) {
      if (!request.wildcard()) {
        return tl::unexpected(metric_not_found_for(request.metric, request.resource, request.name));
      }
      continue;  // objects without a sample are silently dropped
    }
    kube::MetricValue item;
    item.described_object = {kind_of(request.resource), request.namespace_name, name,
                             described_api_version(request.resource)};
    item.metric_name = request.metric;
    item.metric_selector = echoed;
    item.timestamp = now;  // the adapter stamps "now", not the sample time
    item.value = custom_value(it->second);
    items.push_back(std::move(item));
  }
  return items;
}

ApiResult<std::vector<kube::ExternalMetricValue>> MetricsAdapter::external_metric(
    const MetricsRequest& request, Explanation* explain) {
  if (explain != nullptr) explain->request = request;
  std::string query;
  if (is_google_name(request.metric)) {
    auto q = google_external_query(request.metric, request.metric_selector);
    if (!q) {
      if (q.error().code == core::ErrorCode::kNotFound)
        return tl::unexpected(not_found(q.error().message));
      return tl::unexpected(bad_request(q.error().message));
    }
    query = q->query;
    if (explain != nullptr) {
      explain->source = "google";
      explain->series_name = q->series;
    }
  } else {
    auto reg = registry();
    const Registry::Entry* entry = reg->find_external(request.metric);
    if (entry == nullptr)
      return tl::unexpected(external_not_found(request.metric, request.namespace_name));
    if (explain != nullptr) {
      explain->source = entry->source;
      explain->series_name = entry->series_name;
    }
    QueryRequest q{entry->series_name, {}, request.namespace_name, {}, request.metric_selector, {}};
    auto built = entry->rule->build_query(q);
    if (!built) return tl::unexpected(unable_to_fetch());
    query = std::move(*built);
  }
  if (explain != nullptr) explain->query = query;

  auto result = backend_.instant_query(query, clock_.now());
  if (!result) return tl::unexpected(unable_to_fetch());
  std::vector<kube::ExternalMetricValue> items;
  auto add = [&](std::map<std::string, std::string> labels, std::int64_t t, double value) {
    kube::ExternalMetricValue item;
    item.metric_name = request.metric;
    item.metric_labels = std::move(labels);
    item.timestamp = core::from_unix_millis(t);                // the sample's time
    item.value = kube::Quantity::from_milli(go_milli(value));  // NaN is not special-cased here
    items.push_back(std::move(item));
  };
  switch (result->type()) {
    case prom::ResultType::kVector:
      for (const auto& sample : result->vector())
        add(sample.metric.to_map(), sample.t, sample.value);
      break;
    case prom::ResultType::kScalar: add({}, result->scalar().t, result->scalar().value); break;
    default: return tl::unexpected(unable_to_fetch());
  }
  return items;
}

core::Result<std::vector<kube::PodMetrics>> MetricsAdapter::pod_resource_metrics(
    const std::string& ns, const kube::Selector& selector) {
  if (!cpu_rule_ || !memory_rule_) {
    return core::make_error(
        core::ErrorCode::kNotFound,
        "the server could not find the requested resource (resourceRules are not configured)");
  }
  const GroupResource pods{"", "pods"};
  auto names = objects_.list(pods, ns, selector);
  if (!names)
    return core::make_error(core::ErrorCode::kInternal, "unable to list matching resources");
  if (names->empty()) return std::vector<kube::PodMetrics>{};
  const std::string container_label = config_->resource_rules->cpu->container_label;
  core::Time now = clock_.now();

  // pod -> container -> usage; the earliest sample time per pod.
  std::map<std::string, std::map<std::string, kube::ResourceList>> usage;
  std::map<std::string, std::int64_t> earliest;
  auto run = [&](const CompiledRule& rule, const char* resource) -> core::Status {
    QueryRequest q{"", pods, ns, *names, kube::Selector(), {container_label}};
    auto query = rule.build_query(q);
    if (!query) return tl::unexpected(query.error());
    auto result = backend_.instant_query(*query, now);
    if (!result) return tl::unexpected(result.error());
    if (result->type() != prom::ResultType::kVector) {
      return core::make_error(core::ErrorCode::kInternal, "resource query did not return a vector");
    }
    auto pod_label = rule.label_for(pods);
    for (const auto& sample : result->vector()) {
      std::string pod(sample.metric.get(*pod_label));
      std::string container(sample.metric.get(container_label));
      if (pod.empty()) continue;
      auto& resources = usage[pod][container];
      if (resources.empty()) {
        resources["cpu"] = kube::Quantity::from_milli(0);
        resources["memory"] = kube::Quantity::from_milli(0, kube::Quantity::Format::kBinarySI);
      }
      double v = std::isnan(sample.value) || sample.value < 0 ? 0 : sample.value;
      resources[resource] =
          std::string(resource) == "cpu"
              ? kube::Quantity::from_milli(go_milli(v))
              : kube::Quantity::from_milli(go_milli(v), kube::Quantity::Format::kBinarySI);
      auto [it, inserted] = earliest.emplace(pod, sample.t);
      if (!inserted) it->second = std::min(it->second, sample.t);
    }
    return {};
  };
  if (auto st = run(*cpu_rule_, "cpu"); !st) return tl::unexpected(st.error());
  if (auto st = run(*memory_rule_, "memory"); !st) return tl::unexpected(st.error());

  auto window = core::parse_prometheus_duration(config_->resource_rules->window);
  std::vector<kube::PodMetrics> out;
  for (const auto& name : *names) {
    auto it = usage.find(name);
    if (it == usage.end()) continue;
    kube::PodMetrics pm;
    pm.metadata.name = name;
    pm.metadata.namespace_ = ns;
    pm.timestamp = core::from_unix_millis(earliest.at(name));
    pm.window = window ? *window : std::chrono::minutes(1);
    for (auto& [container, resources] : it->second) pm.containers.push_back({container, resources});
    out.push_back(std::move(pm));
  }
  return out;
}

ApiResult<std::string> MetricsAdapter::serve(std::string_view path, std::string_view raw_query) {
  const bool pretty = wants_pretty(raw_query);
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/apis/custom.metrics.k8s.io") {
    return serialize(api_group("custom.metrics.k8s.io", {"v1beta2", "v1beta1"}), pretty);
  }
  if (p == "/apis/external.metrics.k8s.io") {
    return serialize(api_group("external.metrics.k8s.io", {"v1beta1"}), pretty);
  }
  auto resource_list = [&](const std::string& group_version, const core::Json& resources) {
    return serialize({{"kind", "APIResourceList"},
                      {"apiVersion", "v1"},
                      {"groupVersion", group_version},
                      {"resources", resources}},
                     pretty);
  };
  if (p == "/apis/custom.metrics.k8s.io/v1beta1" || p == "/apis/custom.metrics.k8s.io/v1beta2") {
    core::Json resources = core::Json::array();
    for (const auto& m : custom_metrics()) {
      resources.push_back({{"name", m.resource.to_string() + "/" + m.metric},
                           {"singularName", ""},
                           {"namespaced", m.namespaced},
                           {"kind", "MetricValueList"},
                           {"verbs", {"get"}}});
    }
    return resource_list(p.substr(std::string("/apis/").size()), resources);
  }
  if (p == "/apis/external.metrics.k8s.io/v1beta1") {
    core::Json resources = core::Json::array();
    for (const auto& name : external_metrics()) {
      resources.push_back({{"name", name},
                           {"singularName", ""},
                           {"namespaced", true},
                           {"kind", "ExternalMetricValueList"},
                           {"verbs", {"get"}}});
    }
    return resource_list("external.metrics.k8s.io/v1beta1", resources);
  }

  auto request = parse_metrics_request(path, raw_query);
  if (!request) return tl::unexpected(request.error());
  if (request->external()) {
    auto items = external_metric(*request);
    if (!items) return tl::unexpected(items.error());
    return reformat(kube::external_metric_value_list_json(*items), pretty);
  }
  auto items = custom_metric(*request);
  if (!items) return tl::unexpected(items.error());
  return reformat(kube::metric_value_list_json(*items, api_version_name(request->api)), pretty);
}

core::Result<std::vector<kube::PodMetrics>> AdapterMetricsProvider::resource_metrics(
    const std::string& ns, const kube::Selector& pod_selector) {
  return adapter_.pod_resource_metrics(ns, pod_selector);
}

namespace {
template <class T>
core::Result<T> to_result(ApiResult<T> r) {
  if (r) return std::move(*r);
  core::ErrorCode code = r.error().code == 404   ? core::ErrorCode::kNotFound
                         : r.error().code == 400 ? core::ErrorCode::kInvalidArgument
                                                 : core::ErrorCode::kInternal;
  return core::make_error(code, r.error().message);
}
}  // namespace

core::Result<std::vector<kube::MetricValue>> AdapterMetricsProvider::pods_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& pod_selector,
    const kube::Selector& metric_selector) {
  MetricsRequest request;
  request.namespace_name = ns;
  request.resource = GroupResource{"", "pods"};
  request.name = "*";
  request.metric = metric;
  request.object_selector = pod_selector;
  request.metric_selector = metric_selector;
  return to_result(adapter_.custom_metric(request));
}

core::Result<std::vector<kube::MetricValue>> AdapterMetricsProvider::object_metric(
    const std::string& ns, const std::string& metric,
    const kube::CrossVersionObjectReference& object, const kube::Selector& metric_selector) {
  MetricsRequest request;
  request.metric = metric;
  request.metric_selector = metric_selector;
  if (object.kind == "Namespace") {
    // GET .../namespaces/<ns>/metrics/<metric>
    request.resource = GroupResource{"", "namespaces"};
    request.name = ns;
  } else {
    // The HPA maps the kind to a resource through the REST mapper.
    std::string group;
    if (auto slash = object.api_version.find('/'); slash != std::string::npos) {
      group = object.api_version.substr(0, slash);
    }
    request.resource = normalize_resource(group, core::to_lower(object.kind));
    request.namespace_name = is_namespaced(request.resource) ? ns : "";
    request.name = object.name;
  }
  return to_result(adapter_.custom_metric(request));
}

core::Result<std::vector<kube::ExternalMetricValue>> AdapterMetricsProvider::external_metric(
    const std::string& ns, const std::string& metric, const kube::Selector& metric_selector) {
  MetricsRequest request;
  request.api = MetricsApi::kExternalV1Beta1;
  request.namespace_name = ns;
  // client-go lower-cases the resource segment, which carries the external metric's name.
  request.metric = core::to_lower(metric);
  request.metric_selector = metric_selector;
  return to_result(adapter_.external_metric(request));
}

}  // namespace llmscale::adapter
