// The adapter tests' smallest backend: one vLLM queue series for pod llm/vllm-a (4 waiting, a
// second old), the object lister that knows that pod, and the rule that serves the series as
// the custom metric num_requests_waiting.
#pragma once

#include <memory>

#include "adapter/adapter.h"
#include "adapter/config.h"
#include "core/time.h"
#include "prom/tsdb/storage.h"

namespace llmscale::adapter {

inline StaticObjectLister queue_lister() {
  return StaticObjectLister({{{"", "pods"}, "llm", "vllm-a", {{"app", "vllm"}}}});
}

inline bool append_queue_series(prom::Storage& storage, core::Time now) {
  return static_cast<bool>(storage.append(
      {{"__name__", "vllm:num_requests_waiting"}, {"namespace", "llm"}, {"pod", "vllm-a"}},
      core::to_unix_millis(now) - 1000, 4));
}

inline std::shared_ptr<const AdapterConfig> queue_rule_config() {
  auto config = parse_adapter_config(R"(
rules:
- seriesQuery: 'vllm:num_requests_waiting'
  resources: {template: <<.Resource>>}
  name: {matches: "^vllm:(.*)$", as: "${1}"}
  metricsQuery: sum(<<.Series>>{<<.LabelMatchers>>}) by (<<.GroupBy>>)
)");
  return std::make_shared<const AdapterConfig>(*config);
}

}  // namespace llmscale::adapter
