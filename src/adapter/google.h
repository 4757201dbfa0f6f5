// Google's metric names, as HPAs on GKE write them for the Custom Metrics Stackdriver Adapter:
// `prometheus.googleapis.com|<prometheus name>|<kind>` for Managed Service for Prometheus
// series, and GKE system metrics such as `kubernetes.io|container|accelerator|duty_cycle`.
// Selectors use Cloud Monitoring field names (`metric.labels.x`, `resource.labels.namespace_name`,
// `reducer`). This file turns both into PromQL over the series llmscale scrapes, so the seeds'
// GKE manifests work unchanged (adapter-and-peers.md §3).
//
// Kinds: gauge and unknown read the latest value; counter reads rate(...[1m]), as the adapter's
// ALIGN_RATE does; summary and histogram are refused. System metrics map onto the TPU
// exporter's series (duty_cycle, memory_used, memory_total) or, for GPUs, DCGM's.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "kube/label_selector.h"

namespace llmscale::adapter {

bool is_google_name(std::string_view metric);

struct GoogleQuery {
  std::string series;  // what the name resolves to, for explanations
  std::string query;   // PromQL
};

// Custom API: one value per object, grouped by `object_label` ("pod"); `names` are the
// objects' names; `namespace_name` may be empty for root-scoped objects.
core::Result<GoogleQuery> google_custom_query(std::string_view metric,
                                              const kube::Selector& metric_selector,
                                              const std::string& namespace_name,
                                              const std::string& object_label,
                                              const std::vector<std::string>& names);

// External API: one value per series (the HPA sums them), or one reduced value with a
// `reducer` selector key.
core::Result<GoogleQuery> google_external_query(std::string_view metric,
                                                const kube::Selector& selector);

}  // namespace llmscale::adapter
