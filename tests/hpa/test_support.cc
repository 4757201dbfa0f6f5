// Test builders for the HPA engine.
#include "test_support.h"

namespace llmscale::hpa::testing {

Scenario::Scenario() {
  input.now = t0();
  input.config = upstream_test_config();
  auto& hpa = input.hpa;
  hpa.metadata.name = "test-hpa";
  hpa.metadata.namespace_ = "test-namespace";
  hpa.spec.scale_target_ref = {"Deployment", "test-deployment", "apps/v1"};
  hpa.spec.min_replicas = 1;
  hpa.spec.max_replicas = 1000;
  input.scale = kube::Scale{3, 3, "name=test-pod"};
}

Scenario& Scenario::metric(kube::MetricSpec spec) {
  input.hpa.spec.metrics = {std::move(spec)};
  return *this;
}

Scenario& Scenario::replicas(std::int32_t spec, std::optional<std::int32_t> status) {
  input.scale->spec_replicas = spec;
  input.scale->status_replicas = status.value_or(spec);
  input.hpa.status.current_replicas = spec;
  input.hpa.status.desired_replicas = spec;
  return *this;
}

Scenario& Scenario::bounds(std::int32_t min, std::int32_t max) {
  input.hpa.spec.min_replicas = min;
  input.hpa.spec.max_replicas = max;
  return *this;
}

kube::Pod& Scenario::add_pod(const std::string& phase, const std::string& ready) {
  kube::Pod pod;
  pod.metadata.name = "test-pod-" + std::to_string(input.pods.size());
  pod.metadata.namespace_ = "test-namespace";
  pod.metadata.labels = {{"name", "test-pod"}};
  pod.phase = phase;
  pod.start_time = core::Time{};  // Go's zero time, as upstream's harness
  pod.conditions.push_back(kube::PodCondition{"Ready", ready, std::nullopt});
  input.pods.push_back(pod);
  return input.pods.back();
}

Decision Scenario::run() {
  RecordedScaleWriter writer(scale_update_error);
  return reconcile(input, metrics, writer);
}

namespace {
kube::MetricTarget target(const std::string& type, const std::string& quantity) {
  kube::MetricTarget t;
  t.type = type;
  if (type == "Value") t.value = *kube::Quantity::parse(quantity);
  if (type == "AverageValue") t.average_value = *kube::Quantity::parse(quantity);
  return t;
}
}  // namespace

kube::MetricSpec pods_metric(const std::string& name, const std::string& average_value) {
  kube::MetricSpec m;
  m.type = "Pods";
  m.pods = kube::PodsMetricSource{{name, std::nullopt}, target("AverageValue", average_value)};
  return m;
}

kube::MetricSpec resource_utilization(const std::string& resource, std::int32_t percent) {
  kube::MetricSpec m;
  m.type = "Resource";
  m.resource = kube::ResourceMetricSource{resource, {"Utilization", {}, {}, percent}};
  return m;
}

kube::MetricSpec resource_average(const std::string& resource, const std::string& average_value) {
  kube::MetricSpec m;
  m.type = "Resource";
  m.resource = kube::ResourceMetricSource{resource, target("AverageValue", average_value)};
  return m;
}

kube::MetricSpec object_value(const std::string& name, const std::string& value) {
  kube::MetricSpec m;
  m.type = "Object";
  m.object = kube::ObjectMetricSource{
      {"Deployment", "some-deployment", "apps/v1"}, target("Value", value), {name, std::nullopt}};
  return m;
}

kube::MetricSpec object_average(const std::string& name, const std::string& average_value) {
  kube::MetricSpec m = object_value(name, "1");
  m.object->target = target("AverageValue", average_value);
  return m;
}

kube::MetricSpec external_value(const std::string& name, const std::string& value) {
  kube::MetricSpec m;
  m.type = "External";
  kube::LabelSelector selector;
  selector.match_labels = {{"label", "value"}};
  m.external = kube::ExternalMetricSource{{name, selector}, target("Value", value)};
  return m;
}

kube::MetricSpec external_average(const std::string& name, const std::string& average_value) {
  kube::MetricSpec m = external_value(name, "1");
  m.external->target = target("AverageValue", average_value);
  return m;
}

kube::MetricValue pod_value(const std::string& pod, std::int64_t milli, core::Time timestamp) {
  kube::MetricValue v;
  v.described_object = {"Pod", "test-namespace", pod, "v1"};
  v.timestamp = timestamp;
  v.value = kube::Quantity::from_milli(milli);
  return v;
}

kube::ExternalMetricValue external_sample(std::int64_t milli) {
  kube::ExternalMetricValue v;
  v.metric_name = "qps";
  v.timestamp = t0();
  v.value = kube::Quantity::from_milli(milli);
  return v;
}

kube::PodMetrics pod_usage(const std::string& pod, const std::string& resource,
                           std::vector<std::int64_t> container_milli, core::Time timestamp) {
  kube::PodMetrics m;
  m.metadata.name = pod;
  m.metadata.namespace_ = "test-namespace";
  m.timestamp = timestamp;
  m.window = std::chrono::minutes(1);
  for (std::size_t i = 0; i < container_milli.size(); ++i) {
    m.containers.push_back({"container" + std::to_string(i),
                            {{resource, kube::Quantity::from_milli(container_milli[i])}}});
  }
  return m;
}

const kube::HorizontalPodAutoscalerCondition* find_condition(const Decision& d,
                                                             const std::string& type) {
  for (const auto& c : d.status.conditions) {
    if (c.type == type) return &c;
  }
  return nullptr;
}

}  // namespace llmscale::hpa::testing
