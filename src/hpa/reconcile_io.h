// The `llmscale hpa reconcile` contract: one JSON (or YAML) document holding everything the
// controller sees, in Kubernetes' own shapes, and the JSON decision written back.
//
// Input fields: now, controller, hpa, scale, pods, metrics, history (absent = first pass),
// otherHPAs, scaleUpdateError. See docs/hpa-reconcile.md. Decoding errors name the field path.
//
// RecordedMetrics is also how a controller hands a pass the answers it fetched first
// (metric_requests.h): record() files each answer, failed fetches included, under its exact
// request, so the engine sees what it would have seen asking live.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "hpa/engine.h"
#include "hpa/metric_requests.h"

namespace llmscale::core {
class JsonReader;
}

namespace llmscale::hpa {

// Answers recorded in the input's `metrics` object (by metric name), or fetched for exact
// requests (record()); a missing answer is a failed fetch.
class RecordedMetrics final : public MetricsProvider {
 public:
  template <class T>
  using Answer = core::Result<std::vector<T>>;

  // Files the answer to `request` (a fetch's error too). A call matching a recorded request
  // (MetricRequest::key) gets its answer; others fall back to the maps by name below.
  void record(const MetricRequest& request, Answer<kube::PodMetrics> answer);
  void record(const MetricRequest& request, Answer<kube::MetricValue> answer);
  void record(const MetricRequest& request, Answer<kube::ExternalMetricValue> answer);
  // Asks `provider` the request and records its answer.
  void fetch(MetricsProvider& provider, const MetricRequest& request);

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

 private:
  // By MetricRequest::key().
  std::map<std::string, Answer<kube::PodMetrics>> fetched_resource_;
  std::map<std::string, Answer<kube::MetricValue>> fetched_custom_;  // pods and object
  std::map<std::string, Answer<kube::ExternalMetricValue>> fetched_external_;
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
