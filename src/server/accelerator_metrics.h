// AcceleratorMetrics: the node-agent metrics endpoint next to a simulated server, as NVIDIA's
// dcgm-exporter (DCGM_FI_* gauges) or GKE's TPU device plugin (duty_cycle, memory_used,
// memory_total, ...) would show it for the replica's chips, derived from the engine:
//
//   busy ratio      = Δ(Σ step durations) / Δt between scrapes (the accelerator duty cycle)
//   tensor active   = Δ(2 · parameters/chip · tokens computed) / (Δt · peak FLOP/s)
//   DRAM active     = Δ(steps · weight bytes + KV bytes read) / (Δt · memory bandwidth)
//   memory used     = CUDA context, then weights while loading, then the whole
//                     gpu_memory_utilization pool (weights + activations + KV cache) once the
//                     cache is allocated, as vLLM/JAX preallocate it; constant under load.
//
// One series per chip of the tensor-parallel group, labelled like the real exporters
// (DCGM: gpu, UUID, pci_bus_id, device, modelName, Hostname; TPU: accelerator_id, make, model,
// tpu_topology) plus the Kubernetes pod attribution labels container, namespace, pod.
// Formulas and label tables: docs/server.md. Not thread-safe (the server's loop thread).
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "core/time.h"
#include "engine/engine.h"
#include "engine/profile.h"
#include "server/flavor.h"

namespace llmscale::server {

// Where the pod's metrics are attributed (DCGM's Kubernetes mapping; GKE's container metrics).
struct PodIdentity {
  std::string pod;
  std::string container;
  std::string namespace_;
  std::string hostname;  // DCGM's Hostname label; defaults to the pod name
};

// How far the cold start has come, for the memory gauges.
enum class MemoryState : std::uint8_t { kContext, kLoadingWeights, kWeightsLoaded, kAllocated };

class AcceleratorMetricsExporter {
 public:
  // REQUIRES: kind != kNone.
  AcceleratorMetricsExporter(AcceleratorMetrics kind, const engine::Profile& profile,
                             const engine::MemoryPlan& memory, const PodIdentity& pod,
                             std::uint64_t seed);
  ~AcceleratorMetricsExporter();

  // The exposition text now. `load_progress` (0..1) is the weights-loading progress while
  // `state` is kLoadingWeights.
  std::string render(const engine::EngineStats& stats, core::Time now, MemoryState state,
                     double load_progress);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmscale::server
