// Test doubles for the controller: a Deployment-like ScaleTarget whose pods are Ready at once,
// a MetricsProvider reporting one queue length for every pod, and a queue-length HPA.
#pragma once

#include <string>
#include <vector>

#include "controller/scale_target.h"
#include "core/clock.h"
#include "hpa/metrics_provider.h"
#include "kube/objects.h"

namespace llmscale::controller {

// A Deployment whose pods become Ready at once; set_replicas resizes it.
class FakeDeployment final : public ScaleTarget, public ScaleTargetResolver {
 public:
  explicit FakeDeployment(std::int32_t replicas) : replicas_(replicas) {}
  core::Result<kube::Scale> get_scale() override {
    if (fail_) return core::make_error(core::ErrorCode::kUnavailable, "scale unavailable");
    return kube::Scale{replicas_, replicas_, "app=llm"};
  }
  core::Status set_replicas(std::int32_t replicas) override {
    updates.push_back(replicas);
    replicas_ = replicas;
    return {};
  }
  std::vector<kube::Pod> pods() override {
    std::vector<kube::Pod> out;
    for (int i = 0; i < replicas_; ++i) {
      kube::Pod pod;
      pod.metadata.name = "llm-" + std::to_string(i);
      pod.metadata.namespace_ = "default";
      pod.metadata.labels = {{"app", "llm"}};
      pod.phase = "Running";
      pod.conditions = {{"Ready", "True", std::nullopt}};
      out.push_back(pod);
    }
    return out;
  }
  core::Result<ScaleTarget*> resolve(const std::string&,
                                     const kube::CrossVersionObjectReference& ref) override {
    if (ref.name != "llm")
      return core::make_error(core::ErrorCode::kNotFound,
                              "deployments.apps \"" + ref.name + "\" not found");
    return static_cast<ScaleTarget*>(this);
  }
  std::int32_t replicas() const { return replicas_; }
  std::vector<std::int32_t> updates;
  bool fail_ = false;

 private:
  std::int32_t replicas_;
};

// Every pod reports the same queue length, in milli-units.
class FakeQueueMetrics final : public hpa::MetricsProvider {
 public:
  FakeQueueMetrics(FakeDeployment& deployment, core::Clock& clock)
      : deployment_(deployment), clock_(clock) {}
  std::int64_t queue_milli = 0;
  int calls = 0;
  core::Result<std::vector<kube::PodMetrics>> resource_metrics(const std::string&,
                                                               const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kNotFound, "no resource metrics");
  }
  core::Result<std::vector<kube::MetricValue>> pods_metric(const std::string&, const std::string&,
                                                           const kube::Selector&,
                                                           const kube::Selector&) override {
    ++calls;
    std::vector<kube::MetricValue> out;
    for (const auto& pod : deployment_.pods()) {
      kube::MetricValue v;
      v.described_object = {"Pod", "default", pod.metadata.name, "v1"};
      v.timestamp = clock_.now();
      v.value = kube::Quantity::from_milli(queue_milli);
      out.push_back(v);
    }
    return out;
  }
  core::Result<std::vector<kube::MetricValue>> object_metric(
      const std::string&, const std::string&, const kube::CrossVersionObjectReference&,
      const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kNotFound, "none");
  }
  core::Result<std::vector<kube::ExternalMetricValue>> external_metric(
      const std::string&, const std::string&, const kube::Selector&) override {
    return core::make_error(core::ErrorCode::kNotFound, "none");
  }

 private:
  FakeDeployment& deployment_;
  core::Clock& clock_;
};

inline kube::HorizontalPodAutoscaler queue_hpa(const std::string& name = "llm-hpa",
                                               const std::string& target = "llm") {
  kube::HorizontalPodAutoscaler hpa;
  hpa.metadata.name = name;
  hpa.metadata.namespace_ = "default";
  hpa.spec.scale_target_ref = {"Deployment", target, "apps/v1"};
  hpa.spec.min_replicas = 1;
  hpa.spec.max_replicas = 10;
  kube::MetricSpec m;
  m.type = "Pods";
  m.pods = kube::PodsMetricSource{{"vllm:num_requests_waiting", std::nullopt},
                                  {"AverageValue", {}, *kube::Quantity::parse("5"), {}}};
  hpa.spec.metrics = {m};
  return hpa;
}

}  // namespace llmscale::controller
