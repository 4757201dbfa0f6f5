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
#include "core/log.h"
#include "core/strings.h"
#include "kube/json_codec.h"
#include "prom/tsdb/storage.h"

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
  return {500, "Unknown", std::move(message), std::nullopt};
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

core::Result<std::vector<ListedObject>> ObjectLister::list_objects(
    const GroupResource& resource, const std::string& namespace_name,
    const kube::Selector& selector) {
  auto names = list(resource, namespace_name, selector);
  if (!names) return tl::unexpected(names.error());
  std::vector<ListedObject> out;
  out.reserve(names->size());
  for (auto& name : *names) out.push_back({namespace_name, std::move(name), {}});
  return out;
}

struct StaticObjectLister::Listings {
  static constexpr std::size_t kMaxListings = 256;
  std::mutex mutex;
  std::map<std::string, std::vector<std::string>, std::less<>> by_request;
};

StaticObjectLister::~StaticObjectLister() = default;
StaticObjectLister::StaticObjectLister(StaticObjectLister&&) noexcept = default;
StaticObjectLister& StaticObjectLister::operator=(StaticObjectLister&&) noexcept = default;

StaticObjectLister::StaticObjectLister(std::vector<Object> objects)
    : objects_(std::move(objects)), listings_(std::make_unique<Listings>()) {
  // Kept in (namespace, name) order, so a listing is sorted as it is filtered.
  std::stable_sort(objects_.begin(), objects_.end(), [](const Object& a, const Object& b) {
    return std::tie(a.namespace_name, a.name) < std::tie(b.namespace_name, b.name);
  });
}

core::Result<std::vector<ListedObject>> StaticObjectLister::list_objects(
    const GroupResource& resource, const std::string& ns, const kube::Selector& selector) {
  std::vector<ListedObject> out;
  for (const auto& object : objects_) {
    // Kubernetes: an empty namespace lists every namespace.
    if (object.resource == resource && (ns.empty() || object.namespace_name == ns) &&
        selector.matches(object.labels)) {
      out.push_back({object.namespace_name, object.name, object.labels});
    }
  }
  return out;
}

core::Result<std::vector<std::string>> StaticObjectLister::list(const GroupResource& resource,
                                                                const std::string& ns,
                                                                const kube::Selector& selector) {
  // The selector's text, marked when it selects nothing (its text is empty, as everything's).
  std::string request = resource.group + '\0' + resource.resource + '\0' + ns + '\0' +
                        (selector.is_nothing() ? "!" : "") + selector.to_string();
  {
    std::lock_guard lock(listings_->mutex);
    if (auto it = listings_->by_request.find(request); it != listings_->by_request.end())
      return it->second;
  }
  std::vector<std::string> names;
  for (const auto& object : objects_) {
    if (object.resource == resource && (ns.empty() || object.namespace_name == ns) &&
        selector.matches(object.labels)) {
      names.push_back(object.name);
    }
  }
  // Sorted by name (across namespaces too, when listing every namespace).
  if (!std::is_sorted(names.begin(), names.end())) std::sort(names.begin(), names.end());
  std::lock_guard lock(listings_->mutex);
  if (listings_->by_request.size() >= Listings::kMaxListings) listings_->by_request.clear();
  listings_->by_request.emplace(std::move(request), names);
  return names;
}

core::Result<std::vector<StaticObjectLister::Object>> parse_object_manifests(
    std::string_view text, const std::string& source) {
  auto documents = core::parse_documents(text);
  if (!documents) return core::with_context(documents.error(), source);
  std::vector<std::pair<const core::Json*, std::string>> objects;
  for (std::size_t d = 0; d < documents->size(); ++d) {
    const core::Json& doc = (*documents)[d];
    if (doc.is_null()) continue;
    std::string where = source + ": document " + std::to_string(d);
    if (doc.is_object() && doc.contains("items") && doc["items"].is_array()) {
      for (std::size_t i = 0; i < doc["items"].size(); ++i) {
        objects.emplace_back(&doc["items"][i], where + " items[" + std::to_string(i) + "]");
      }
    } else {
      objects.emplace_back(&doc, where);
    }
  }
  std::vector<StaticObjectLister::Object> out;
  for (const auto& [object, where] : objects) {
    std::string kind =
        object->is_object() && object->contains("kind") && (*object)["kind"].is_string()
            ? (*object)["kind"].get<std::string>()
            : "";
    if (kind.empty()) return core::invalid_argument(where + ": kind: Required value");
    std::string api_version = object->value("apiVersion", "v1");
    auto slash = api_version.find('/');
    std::string group = slash == std::string::npos ? "" : api_version.substr(0, slash);
    auto pod = kube::decode_pod(*object, "");
    if (!pod) return core::with_context(pod.error(), where);
    if (pod->metadata.name.empty())
      return core::invalid_argument(where + ": metadata.name: Required value");
    GroupResource resource = normalize_resource(group, core::to_lower(kind));
    // Kubernetes: cluster-scoped objects have no namespace; namespaced ones default to "default".
    std::string ns = !is_namespaced(resource)           ? ""
                     : pod->metadata.namespace_.empty() ? "default"
                                                        : pod->metadata.namespace_;
    out.push_back({resource, ns, pod->metadata.name, pod->metadata.labels});
  }
  return out;
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
  if (options_.answer_cache_storage != nullptr) {
    answer_cache_ = std::make_unique<AnswerCache>(options_.answer_cache_limits);
  }
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
  // prometheus-adapter installs metrics.k8s.io whenever resourceRules is present; a missing cpu
  // or memory rule is an empty one (its queries fail, so nothing has metrics).
  if (config_->resource_rules) {
    const ResourceRules& rules = *config_->resource_rules;
    auto compile_resource = [&](const std::optional<ResourceRule>& rule, const char* path) {
      ResourceRule r = rule.value_or(ResourceRule{});
      auto compile_query = [&](const std::string& query, const std::string& field) {
        DiscoveryRule as_discovery;
        as_discovery.metrics_query = query;
        as_discovery.resources = r.resources;
        return std::make_shared<const CompiledRule>(
            CompiledRule::compile(as_discovery, false, std::string(path) + field).value());
      };
      return ResourceQuery{compile_query(r.container_query, ".containerQuery"),
                           compile_query(r.node_query, ".nodeQuery"), r.container_label};
    };
    cpu_ = compile_resource(rules.cpu, "resourceRules.cpu");
    memory_ = compile_resource(rules.memory, "resourceRules.memory");
    // pmodel.Duration; absent is zero ("0s"), as upstream.
    if (!rules.window.empty()) window_ = core::parse_prometheus_duration(rules.window).value();
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
  {
    std::lock_guard lock(registry_mutex_);
    registry_ = std::move(registry);
  }
  // Answers name the registry's series and rules; a relist starts the cache afresh.
  if (answer_cache_) answer_cache_->clear();
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
  auto plan = plan_custom(request, explain);
  if (!plan) return tl::unexpected(plan.error());
  if (explain != nullptr) explain->query = plan->query;
  return evaluate_custom(request, *plan, clock_.now());
}

auto MetricsAdapter::plan_custom(const MetricsRequest& request, Explanation* explain,
                                 bool with_query) -> ApiResult<CustomPlan> {
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
    CustomPlan plan{
        std::move(names),  {},        *entry.rule->label_for(request.resource), false, entry.source,
        entry.series_name, entry.rule};
    if (with_query) {
      if (auto error = build_custom_query(request, plan)) return tl::unexpected(*error);
    }
    return plan;
  }
  return CustomPlan{std::move(names), std::move(query), std::move(object_label), true, "google", {},
                    nullptr};
}

std::optional<ApiError> MetricsAdapter::build_custom_query(const MetricsRequest& request,
                                                           CustomPlan& plan) const {
  if (plan.query_built) return std::nullopt;
  QueryRequest q{plan.series_name, request.resource,        request.namespace_name,
                 plan.names,       request.metric_selector, {}};
  auto built = plan.rule->build_query(q);
  // A query that cannot be built (operator, missing label) is reported as not found.
  if (!built) return metric_not_found(request.metric, request.resource);
  plan.query = std::move(*built);
  plan.query_built = true;
  return std::nullopt;
}

ApiResult<std::vector<kube::MetricValue>> MetricsAdapter::evaluate_custom(
    const MetricsRequest& request, const CustomPlan& plan, core::Time now) {
  const std::vector<std::string>& names = plan.names;
  const std::string& object_label = plan.object_label;
  auto result = backend_.instant_query(plan.query, now);
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

namespace {

const GroupResource kPodsResource{"", "pods"};
const GroupResource kNodesResource{"", "nodes"};
constexpr const char* kResourceMetricsGroupVersion = "metrics.k8s.io/v1beta1";

core::Json usage_json(const kube::ResourceList& usage) {
  core::Json j = core::Json::object();
  for (const auto& [name, quantity] : usage) j[name] = quantity.to_string();
  return j;
}

// metrics.k8s.io/v1beta1 PodMetrics and NodeMetrics in Go's field order. Items of a list carry no
// kind/apiVersion (the API server encodes only the list's TypeMeta).
core::Json pod_metrics_json(const kube::PodMetrics& m, bool with_type) {
  core::Json j = core::Json::object();
  if (with_type) {
    j["kind"] = "PodMetrics";
    j["apiVersion"] = kResourceMetricsGroupVersion;
  }
  j["metadata"] = kube::encode_object_meta(m.metadata);
  j["timestamp"] = core::format_rfc3339(m.timestamp);
  j["window"] = core::format_go_duration(m.window);
  core::Json containers = core::Json::array();
  for (const auto& c : m.containers) {
    core::Json container = core::Json::object();
    container["name"] = c.name;
    container["usage"] = usage_json(c.usage);
    containers.push_back(std::move(container));
  }
  j["containers"] = std::move(containers);
  return j;
}

core::Json node_metrics_json(const NodeMetrics& m, bool with_type) {
  core::Json j = core::Json::object();
  if (with_type) {
    j["kind"] = "NodeMetrics";
    j["apiVersion"] = kResourceMetricsGroupVersion;
  }
  j["metadata"] = kube::encode_object_meta(m.metadata);
  j["timestamp"] = core::format_rfc3339(m.timestamp);
  j["window"] = core::format_go_duration(m.window);
  j["usage"] = usage_json(m.usage);
  return j;
}

core::Json metrics_list_json(const char* kind, core::Json items) {
  core::Json j = core::Json::object();
  j["kind"] = kind;
  j["apiVersion"] = kResourceMetricsGroupVersion;
  j["metadata"] = core::Json::object();
  j["items"] = std::move(items);
  return j;
}

// A backend query that was not run: AsyncAdapterMetricsProvider's round before the answer is
// fetched (async_provider.h). The round is run again with it; nothing to report.
bool not_run_yet(const core::Error& error) {
  return error.code == core::ErrorCode::kCancelled;
}

// What the generic API server answers for a path it does not serve.
ApiError path_not_found() {
  return not_found("the server could not find the requested resource");
}

}  // namespace

core::Result<MetricsAdapter::ResourceResults> MetricsAdapter::run_resource_query(
    const ResourceQuery& query, const GroupResource& resource, const std::string& ns,
    const std::vector<std::string>& names, core::Time now) {
  // prometheus-adapter (resourceprovider runQuery): containerQuery grouped by the object label
  // and containerLabel for pods, nodeQuery grouped by the node label; no metric selector.
  const bool pods = resource == kPodsResource;
  const CompiledRule& rule = pods ? *query.container : *query.node;
  std::vector<std::string> group_by;
  if (pods) group_by.push_back(query.container_label);
  QueryRequest request{"", resource, ns, names, kube::Selector(), std::move(group_by)};
  auto built = rule.build_query(request);
  if (!built) return core::with_context(built.error(), "unable to construct query");
  if (built->empty()) {
    return core::invalid_argument(
        "unable to construct query: empty query produced by metrics query template");
  }
  auto result = backend_.instant_query(*built, now);
  if (!result) return core::with_context(result.error(), "unable to execute query");
  if (result->type() != prom::ResultType::kVector) {
    return core::make_error(core::ErrorCode::kInternal,
                            "invalid or empty value of non-vector type returned");
  }
  const std::string label = *rule.label_for(resource);  // build_query found it
  ResourceResults out;
  for (const auto& sample : result->vector()) {
    // Upstream replaces NaN and negative values by zero.
    double value = std::isnan(sample.value) || sample.value < 0 ? 0 : sample.value;
    std::string container = pods ? std::string(sample.metric.get(query.container_label)) : "";
    out[std::string(sample.metric.get(label))].push_back({std::move(container), value, sample.t});
  }
  return out;
}

std::vector<kube::PodMetrics> MetricsAdapter::pod_metrics_for(
    const std::vector<ListedObject>& pods) {
  std::vector<kube::PodMetrics> out;
  if (pods.empty()) return out;
  // Upstream queries once per namespace (cpu and memory) and skips a namespace whose query fails.
  std::map<std::string, std::vector<std::string>> names_by_ns;
  for (const auto& pod : pods) names_by_ns[pod.namespace_name].push_back(pod.name);
  const core::Time now = clock_.now();
  std::map<std::string, std::pair<ResourceResults, ResourceResults>> results;
  for (const auto& [ns, names] : names_by_ns) {
    auto cpu = run_resource_query(*cpu_, kPodsResource, ns, names, now);
    if (!cpu) {
      if (not_run_yet(cpu.error())) continue;
      core::log_warn("adapter: unable to fetch metrics for pods in namespace " +
                     core::go_quote(ns) +
                     ", skipping: unable to fetch CPU metrics: " + cpu.error().message);
      continue;
    }
    auto memory = run_resource_query(*memory_, kPodsResource, ns, names, now);
    if (!memory) {
      if (not_run_yet(memory.error())) continue;
      core::log_warn("adapter: unable to fetch metrics for pods in namespace " +
                     core::go_quote(ns) +
                     ", skipping: unable to fetch memory metrics: " + memory.error().message);
      continue;
    }
    results.emplace(ns, std::make_pair(std::move(*cpu), std::move(*memory)));
  }
  for (const auto& pod : pods) {
    // assignForPod: a pod without both a CPU and a memory answer is skipped.
    auto ns_it = results.find(pod.namespace_name);
    if (ns_it == results.end()) continue;
    auto cpu = ns_it->second.first.find(pod.name);
    auto memory = ns_it->second.second.find(pod.name);
    if (cpu == ns_it->second.first.end() || memory == ns_it->second.second.end()) continue;
    // Containers by name (upstream's order is Go's random map order; ours is sorted).
    std::map<std::string, kube::ResourceList> containers;
    std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
    for (const auto& s : cpu->second) {
      containers[s.container]["cpu"] = kube::Quantity::from_milli(go_milli(s.value));
      earliest = std::min(earliest, s.t);
    }
    for (const auto& s : memory->second) {
      containers[s.container]["memory"] =
          kube::Quantity::from_milli(go_milli(s.value), kube::Quantity::Format::kBinarySI);
      earliest = std::min(earliest, s.t);
    }
    // A container with only one of the two gets a zero for the other.
    const auto zero = kube::Quantity::from_milli(0, kube::Quantity::Format::kBinarySI);
    for (auto& [name, usage] : containers) {
      if (usage.count("cpu") == 0) usage["cpu"] = zero;
      if (usage.count("memory") == 0) usage["memory"] = zero;
    }
    kube::PodMetrics m;
    m.metadata.name = pod.name;
    m.metadata.namespace_ = pod.namespace_name;
    m.metadata.labels = pod.labels;
    m.metadata.creation_timestamp = now;  // metav1.Now(), as upstream
    m.timestamp = core::from_unix_millis(earliest);
    m.window = window_;
    for (auto& [name, usage] : containers) m.containers.push_back({name, std::move(usage)});
    out.push_back(std::move(m));
  }
  // metrics-server's getMetrics sorts by namespace, then name.
  std::sort(out.begin(), out.end(), [](const kube::PodMetrics& a, const kube::PodMetrics& b) {
    return std::tie(a.metadata.namespace_, a.metadata.name) <
           std::tie(b.metadata.namespace_, b.metadata.name);
  });
  return out;
}

std::vector<NodeMetrics> MetricsAdapter::node_metrics_for(const std::vector<ListedObject>& nodes) {
  std::vector<NodeMetrics> out;
  if (nodes.empty()) return out;
  std::vector<std::string> names;
  names.reserve(nodes.size());
  for (const auto& node : nodes) names.push_back(node.name);
  const core::Time now = clock_.now();
  auto cpu = run_resource_query(*cpu_, kNodesResource, "", names, now);
  auto memory = cpu ? run_resource_query(*memory_, kNodesResource, "", names, now) : cpu;
  if (!cpu || !memory) {
    if (not_run_yet(!cpu ? cpu.error() : memory.error())) return out;
    // GetNodeMetrics logs "failed querying node metrics" and answers an empty list.
    core::log_warn("adapter: failed querying node metrics: " +
                   (!cpu ? cpu.error().message : memory.error().message));
    return out;
  }
  for (const auto& node : nodes) {
    auto c = cpu->find(node.name);
    auto m = memory->find(node.name);
    if (c == cpu->end() || m == memory->end()) continue;  // missing CPU or memory: skipped
    const ResourceSample& raw_cpu = c->second.front();
    const ResourceSample& raw_memory = m->second.front();
    NodeMetrics metrics;
    metrics.metadata.name = node.name;
    metrics.metadata.labels = node.labels;
    metrics.metadata.creation_timestamp = now;
    // The earlier of the two, to be conservative about metrics tainted by start-up.
    metrics.timestamp = core::from_unix_millis(std::min(raw_cpu.t, raw_memory.t));
    metrics.window = window_;
    metrics.usage["cpu"] = kube::Quantity::from_milli(go_milli(raw_cpu.value));
    metrics.usage["memory"] =
        kube::Quantity::from_milli(go_milli(raw_memory.value), kube::Quantity::Format::kBinarySI);
    out.push_back(std::move(metrics));
  }
  std::sort(out.begin(), out.end(), [](const NodeMetrics& a, const NodeMetrics& b) {
    return a.metadata.name < b.metadata.name;
  });
  return out;
}

ApiResult<std::vector<kube::PodMetrics>> MetricsAdapter::pod_metrics(
    const std::string& ns, const kube::Selector& selector) {
  if (!cpu_) return tl::unexpected(path_not_found());
  auto pods = objects_.list_objects(kPodsResource, ns, selector);
  // metrics-server's podMetrics.List: "failed listing pods: %w", a plain error (500 Unknown).
  if (!pods) return tl::unexpected(unknown_error("failed listing pods: " + pods.error().message));
  return pod_metrics_for(*pods);
}

ApiResult<kube::PodMetrics> MetricsAdapter::pod_metric(const std::string& ns,
                                                       const std::string& name) {
  if (!cpu_) return tl::unexpected(path_not_found());
  auto pods = objects_.list_objects(kPodsResource, ns, kube::Selector());
  if (!pods) return tl::unexpected(unknown_error("failed getting pod: " + pods.error().message));
  auto it = std::find_if(pods->begin(), pods->end(), [&](const ListedObject& pod) {
    return pod.namespace_name == ns && pod.name == name;
  });
  // metrics-server's podMetrics.Get: the pod lister's NotFound, then the metrics' NotFound.
  if (it == pods->end()) return tl::unexpected(object_not_found("", "pods", name));
  auto metrics = pod_metrics_for({*it});
  if (metrics.empty())
    return tl::unexpected(object_not_found("metrics.k8s.io", "pods", ns + "/" + name));
  return std::move(metrics.front());
}

ApiResult<std::vector<NodeMetrics>> MetricsAdapter::node_metrics(const kube::Selector& selector) {
  if (!cpu_) return tl::unexpected(path_not_found());
  auto nodes = objects_.list_objects(kNodesResource, "", selector);
  if (!nodes)
    return tl::unexpected(unknown_error("failed listing nodes: " + nodes.error().message));
  return node_metrics_for(*nodes);
}

ApiResult<NodeMetrics> MetricsAdapter::node_metric(const std::string& name) {
  if (!cpu_) return tl::unexpected(path_not_found());
  auto nodes = objects_.list_objects(kNodesResource, "", kube::Selector());
  if (!nodes) return tl::unexpected(unknown_error("failed getting node: " + nodes.error().message));
  auto it = std::find_if(nodes->begin(), nodes->end(),
                         [&](const ListedObject& node) { return node.name == name; });
  if (it == nodes->end()) return tl::unexpected(object_not_found("", "nodes", name));
  auto metrics = node_metrics_for({*it});
  if (metrics.empty()) return tl::unexpected(object_not_found("metrics.k8s.io", "nodes", name));
  return std::move(metrics.front());
}

core::Result<std::vector<kube::PodMetrics>> MetricsAdapter::pod_resource_metrics(
    const std::string& ns, const kube::Selector& selector) {
  if (!cpu_) {
    return core::make_error(
        core::ErrorCode::kNotFound,
        "the server could not find the requested resource (resourceRules are not configured)");
  }
  auto metrics = pod_metrics(ns, selector);
  if (!metrics) return core::make_error(core::ErrorCode::kInternal, metrics.error().message);
  return std::move(*metrics);
}

ApiResult<std::string> MetricsAdapter::serve_resource_metrics(const std::string& path,
                                                              std::string_view raw_query,
                                                              bool pretty) {
  if (!cpu_) return tl::unexpected(path_not_found());
  if (path == "/apis/metrics.k8s.io") {
    return serialize(api_group("metrics.k8s.io", {"v1beta1"}), pretty);
  }
  const std::string base = "/apis/metrics.k8s.io/v1beta1";
  if (path == base) {
    // metrics-server's discovery: both resources, get and list, no singular name.
    core::Json resources = core::Json::array();
    for (const auto& [name, namespaced, kind] :
         {std::tuple{"nodes", false, "NodeMetrics"}, std::tuple{"pods", true, "PodMetrics"}}) {
      core::Json r = core::Json::object();
      r["name"] = name;
      r["singularName"] = "";
      r["namespaced"] = namespaced;
      r["kind"] = kind;
      r["verbs"] = {"get", "list"};
      resources.push_back(std::move(r));
    }
    core::Json j = core::Json::object();
    j["kind"] = "APIResourceList";
    j["apiVersion"] = "v1";
    j["groupVersion"] = kResourceMetricsGroupVersion;
    j["resources"] = std::move(resources);
    return serialize(j, pretty);
  }
  if (path.rfind(base + "/", 0) != 0) return tl::unexpected(path_not_found());
  std::vector<std::string> segments;
  for (auto segment : core::split(std::string_view(path).substr(base.size() + 1), '/')) {
    segments.emplace_back(segment);
  }
  auto label_selector = [&]() -> ApiResult<kube::Selector> {
    auto parsed = kube::Selector::parse(query_parameter(raw_query, "labelSelector"));
    if (!parsed) return tl::unexpected(bad_request(parsed.error().message));
    return *parsed;
  };
  auto pod_list = [&](const std::string& ns) -> ApiResult<std::string> {
    auto selector = label_selector();
    if (!selector) return tl::unexpected(selector.error());
    auto items = pod_metrics(ns, *selector);
    if (!items) return tl::unexpected(items.error());
    core::Json list = core::Json::array();
    for (const auto& m : *items) list.push_back(pod_metrics_json(m, false));
    return serialize(metrics_list_json("PodMetricsList", std::move(list)), pretty);
  };
  const std::size_t n = segments.size();
  if (n == 1 && segments[0] == "nodes") {
    auto selector = label_selector();
    if (!selector) return tl::unexpected(selector.error());
    auto items = node_metrics(*selector);
    if (!items) return tl::unexpected(items.error());
    core::Json list = core::Json::array();
    for (const auto& m : *items) list.push_back(node_metrics_json(m, false));
    return serialize(metrics_list_json("NodeMetricsList", std::move(list)), pretty);
  }
  if (n == 2 && segments[0] == "nodes" && !segments[1].empty()) {
    auto item = node_metric(segments[1]);
    if (!item) return tl::unexpected(item.error());
    return serialize(node_metrics_json(*item, true), pretty);
  }
  if (n == 1 && segments[0] == "pods") return pod_list("");
  if (n == 3 && segments[0] == "namespaces" && !segments[1].empty() && segments[2] == "pods") {
    return pod_list(segments[1]);
  }
  if (n == 4 && segments[0] == "namespaces" && !segments[1].empty() && segments[2] == "pods" &&
      !segments[3].empty()) {
    auto item = pod_metric(segments[1], segments[3]);
    if (!item) return tl::unexpected(item.error());
    return serialize(pod_metrics_json(*item, true), pretty);
  }
  return tl::unexpected(path_not_found());
}

namespace {

ApiResult<std::shared_ptr<const net::SharedBody>> share(ApiResult<std::string> text) {
  if (!text) return tl::unexpected(text.error());
  return std::make_shared<const net::SharedBody>(std::move(*text));
}

}  // namespace

ApiResult<std::string> MetricsAdapter::serve(std::string_view path, std::string_view raw_query) {
  auto body = serve_shared(path, raw_query);
  if (!body) return tl::unexpected(body.error());
  return (*body)->bytes();
}

ApiResult<std::shared_ptr<const net::SharedBody>> MetricsAdapter::serve_shared(
    std::string_view path, std::string_view raw_query) {
  const bool pretty = wants_pretty(raw_query);
  std::string p(path);
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  if (p == "/apis/metrics.k8s.io" || p.rfind("/apis/metrics.k8s.io/", 0) == 0) {
    return share(serve_resource_metrics(p, raw_query, pretty));
  }
  if (p == "/apis/custom.metrics.k8s.io") {
    return share(serialize(api_group("custom.metrics.k8s.io", {"v1beta2", "v1beta1"}), pretty));
  }
  if (p == "/apis/external.metrics.k8s.io") {
    return share(serialize(api_group("external.metrics.k8s.io", {"v1beta1"}), pretty));
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
    return share(resource_list(p.substr(std::string("/apis/").size()), resources));
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
    return share(resource_list("external.metrics.k8s.io/v1beta1", resources));
  }

  auto request = parse_metrics_request(path, raw_query);
  if (!request) return tl::unexpected(request.error());
  if (request->external()) {
    auto items = external_metric(*request);
    if (!items) return tl::unexpected(items.error());
    return share(reformat(kube::external_metric_value_list_json(*items), pretty));
  }
  return serve_custom(*request, pretty);
}

namespace {

bool is_identifier_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '_' || c == ':';
}

// Whether `query` can only change its result through a write to the TSDB, given that no stored
// sample lies after the evaluation time and no series leaves the lookback window: no range
// selector or subquery ('['), no offset or @ modifier, no function of the evaluation time. A
// plain text scan, so a label value spelling one of these only turns caching off.
bool depends_on_time_only_through_writes(std::string_view query) {
  static constexpr std::string_view kTimeWords[] = {
      "offset",       "time",        "timestamp",     "minute", "hour", "day_of_week",
      "day_of_month", "day_of_year", "days_in_month", "month",  "year"};
  if (query.find_first_of("[@") != std::string_view::npos) return false;
  std::size_t i = 0;
  while (i < query.size()) {
    if (!is_identifier_char(query[i])) {
      ++i;
      continue;
    }
    std::size_t start = i;
    while (i < query.size() && is_identifier_char(query[i])) ++i;
    std::string_view word = query.substr(start, i - start);
    if (word.size() > 13) continue;
    for (auto time_word : kTimeWords) {
      if (word.size() == time_word.size() &&
          std::equal(word.begin(), word.end(), time_word.begin(), [](char a, char b) {
            return std::tolower(static_cast<unsigned char>(a)) == b;
          }))
        return false;
    }
  }
  return true;
}

// Everything a rendered custom-metrics answer is built from besides the TSDB and the clock.
// `query_source` determines the PromQL given the other fields: the rule and its series name
// (rules are fixed for the adapter's life; a relist empties the cache), or the query itself.
std::string custom_answer_key(const MetricsRequest& request, std::string_view object_label,
                              std::string_view query_source, const std::vector<std::string>& names,
                              bool pretty) {
  std::string key;
  std::size_t size = query_source.size() + 256;
  for (const auto& name : names) size += name.size() + 1;
  key.reserve(size);
  auto field = [&](std::string_view value) {
    key += value;
    key += '\0';
  };
  field(api_version_name(request.api));
  field(pretty ? "pretty" : "compact");
  field(request.resource.group);
  field(request.resource.resource);
  field(request.namespace_name);
  field(request.name);
  field(request.metric);
  field(request.metric_selector.to_string());
  field(object_label);
  field(query_source);
  for (const auto& name : names) field(name);
  return key;
}

}  // namespace

ApiResult<std::shared_ptr<const net::SharedBody>> MetricsAdapter::serve_custom(
    const MetricsRequest& request, bool pretty) {
  // The PromQL (a 1,000-way alternation for 1,000 pods) is built only when the answer is.
  auto plan = plan_custom(request, nullptr, /*with_query=*/false);
  if (!plan) return tl::unexpected(plan.error());
  auto render = [&](core::Time now) -> ApiResult<std::shared_ptr<const net::SharedBody>> {
    if (auto error = build_custom_query(request, *plan)) return tl::unexpected(*error);
    auto items = evaluate_custom(request, *plan, now);
    if (!items) return tl::unexpected(items.error());
    return share(
        reformat(kube::metric_value_list_json(*items, api_version_name(request.api)), pretty));
  };
  if (!answer_cache_) return render(clock_.now());

  const prom::Storage& storage = *options_.answer_cache_storage;
  std::string query_source =
      plan->rule != nullptr ? plan->source + '\n' + plan->series_name : plan->query;
  std::string key =
      custom_answer_key(request, plan->object_label, query_source, plan->names, pretty);
  // The generation is read before evaluating: a write landing meanwhile moves it, so the entry
  // filed below is never found for data newer than what it was evaluated on.
  const std::uint64_t generation = storage.generation();
  const core::Time now = clock_.now();
  const std::int64_t now_ms = core::to_unix_millis(now);
  if (auto body = answer_cache_->find(key, generation, now_ms)) return body;
  auto body = render(now);
  if (!body || !depends_on_time_only_through_writes(plan->query)) return body;
  // A sample stored after `now` would enter the window later without a write: not cacheable.
  if (storage.newest_time() > now_ms) return body;
  // The first series to leave the lookback window (Prometheus' instant selector: the newest
  // sample within lookback_delta) does so at its newest sample + lookback; samples exactly on
  // the window's edge count too, so the bound errs early.
  const std::int64_t lookback_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(prom::QueryOptions{}.lookback_delta)
          .count();
  const std::int64_t earliest = storage.earliest_newest_sample_after(now_ms - lookback_ms - 1);
  const std::int64_t valid_until =
      earliest == std::numeric_limits<std::int64_t>::max() ? earliest : earliest + lookback_ms;
  answer_cache_->insert(key, *body, {generation, AnswerCache::second_of(now_ms), valid_until});
  return body;
}

std::optional<AnswerCacheStats> MetricsAdapter::answer_cache_stats() const {
  if (!answer_cache_) return std::nullopt;
  return answer_cache_->stats();
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
