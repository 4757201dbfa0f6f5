// JSON decoding and encoding of the objects in kube/objects.h, in Kubernetes' wire shapes.
//
// Decoders report the first problem with its field path and never throw. The HPA decoder is
// strict by default (unknown fields are errors, like `kubectl apply` with server-side strict
// validation); Pod and metrics-list decoders ignore fields they do not need, since real
// `kubectl get -o json` output carries many. Encoders follow Go's field order and omitempty
// rules, so output compares byte for byte with the API server's JSON.
#pragma once

#include <string>
#include <vector>

#include "core/json.h"
#include "core/result.h"
#include "kube/objects.h"

namespace llmscale::core {
class JsonReader;
}

namespace llmscale::kube {

using core::Json;
using core::JsonReader;

// ---- decoding -------------------------------------------------------------------------------
// `path` prefixes field paths in errors when the HPA is nested in a larger document.
core::Result<HorizontalPodAutoscaler> decode_hpa(const Json& node, bool strict = true,
                                                 const std::string& path = "");
core::Result<Pod> decode_pod(const Json& node, const std::string& path);
core::Result<Scale> decode_scale(const Json& node, const std::string& path);
// metrics.k8s.io/v1beta1 PodMetricsList (or a bare list of PodMetrics).
core::Result<std::vector<PodMetrics>> decode_pod_metrics_list(const Json& node,
                                                              const std::string& path);
// custom.metrics.k8s.io MetricValueList, v1beta1 (metricName) or v1beta2 (metric.name).
core::Result<std::vector<MetricValue>> decode_metric_value_list(const Json& node,
                                                                const std::string& path);
// external.metrics.k8s.io/v1beta1 ExternalMetricValueList.
core::Result<std::vector<ExternalMetricValue>> decode_external_metric_value_list(
    const Json& node, const std::string& path);

// A Quantity from a JSON string or number, as resource.Quantity.UnmarshalJSON accepts it.
core::Result<Quantity> quantity_from_json(const Json& node);
void read_quantity(JsonReader& reader, std::string_view key, Quantity& out);
void read_quantity(JsonReader& reader, std::string_view key, std::optional<Quantity>& out);

// Field decoders for composing with JsonReader elsewhere.
void decode_label_selector(JsonReader& reader, LabelSelector& out);
void decode_object_meta(JsonReader& reader, ObjectMeta& out);
void decode_hpa_status(JsonReader& reader, HorizontalPodAutoscalerStatus& out);

// ---- encoding -------------------------------------------------------------------------------
Json encode_hpa(const HorizontalPodAutoscaler& hpa);
// core/v1 Pod with the fields kubectl's pod table and describe read.
Json encode_pod(const Pod& pod);
Json encode_hpa_spec(const HorizontalPodAutoscalerSpec& spec);
Json encode_hpa_status(const HorizontalPodAutoscalerStatus& status);
Json encode_metric_status(const MetricStatus& status);
Json encode_condition(const HorizontalPodAutoscalerCondition& condition);
Json encode_label_selector(const LabelSelector& selector);
Json encode_object_meta(const ObjectMeta& meta);
// MetricValueList (custom.metrics.k8s.io/<version>, v1beta1 or v1beta2) and
// ExternalMetricValueList as the metrics API servers send them: compact JSON written directly
// (no DOM; these are the adapter's hot path) with Go's encoding/json escaping, fields in Go's
// struct order, a trailing newline as the API server's encoder adds.
std::string metric_value_list_json(const std::vector<MetricValue>& items,
                                   const std::string& version);
std::string external_metric_value_list_json(const std::vector<ExternalMetricValue>& items);

}  // namespace llmscale::kube
