// The `llmscale hpa reconcile` contract: one JSON (or YAML) document holding everything the
// controller sees, in Kubernetes' own shapes, and the JSON decision written back.
//
// Input fields: now, controller, hpa, scale, pods, metrics, history (absent = first pass),
// otherHPAs, scaleUpdateError. See docs/hpa-reconcile.md. Decoding errors name the field path.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "hpa/engine.h"

namespace llmscale::core {
class JsonReader;
}

namespace llmscale::hpa {

// Answers recorded in the input's `metrics` object; a missing answer is a failed fetch.
class RecordedMetrics final : public MetricsProvider {
 public:
  template <class T>
  using Answer = core::Result<std::vector<T>>;

  std::optional<Answer<kube::PodMetrics>> resource;
  std::map<std::string, Answer<kube::MetricValue>> pods;
  std::map<std::string, Answer<kube::MetricValue>> object;
  std::map<std::string, Answer<kube::ExternalMetricValue>> external;

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
};

// A ScaleWriter that fails with a fixed message when one is given.
class RecordedScaleWriter final : public ScaleWriter {
 public:
  explicit RecordedScaleWriter(std::optional<std::string> error) : error_(std::move(error)) {}
  core::Status set_replicas(std::int32_t replicas) override;

 private:
  std::optional<std::string> error_;
};

struct ReconcileRequest {
  ReconcileInput input;
  RecordedMetrics metrics;
  std::optional<std::string> scale_update_error;
};

core::Result<ReconcileRequest> decode_reconcile_request(const core::Json& document);

core::Json encode_history(const History& history);
// The `history` object, as encode_history writes it.
void decode_history(core::JsonReader& reader, History& history);
core::Json encode_decision(const Decision& decision);

}  // namespace llmscale::hpa
