// DCGM- and GKE-TPU-style gauges derived from the engine's counters between scrapes.
#include "server/accelerator_metrics.h"
#include "core/hash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <vector>

#include "core/log.h"
#include "prom/exposition/registry.h"
#include "server/text.h"

namespace llmscale::server {
namespace {

constexpr double kMiB = 1024.0 * 1024.0;
// CUDA context and framework overhead resident from process start (a few hundred MiB on H100).
constexpr double kContextBytes = 512.0 * kMiB;

// DCGM's modelName for the accelerators the profiles ship; others print the profile's name.
std::string dcgm_model_name(const std::string& accelerator) {
  if (accelerator == "nvidia-h100-80gb") return "NVIDIA H100 80GB HBM3";
  if (accelerator == "nvidia-a100-80gb") return "NVIDIA A100-SXM4-80GB";
  if (accelerator == "nvidia-l4") return "NVIDIA L4";
  return accelerator;
}

// GKE's `model` label (the TPU type) and host topology for the profiles' TPU slices.
std::string tpu_model(const std::string& accelerator) {
  if (accelerator == "tpu-v6e") return "tpu-v6e-slice";
  if (accelerator == "tpu-v5e") return "tpu-v5-lite-podslice";
  return accelerator;
}
std::string tpu_topology(int chips) {
  switch (chips) {
    case 1: return "1x1";
    case 4: return "2x2";
    case 8: return "2x4";
    default: return std::to_string(chips) + "x1";
  }
}

}  // namespace

struct AcceleratorMetricsExporter::Impl {
  AcceleratorMetrics kind;
  engine::Profile profile;
  engine::MemoryPlan memory;
  prom::MetricRegistry registry{prom::ValueStyle::kGo};
  int chips = 1;
  double params_per_chip = 0;
  double weight_bytes_per_chip = 0;
  double kv_bytes_per_token = 0;

  // Per chip, per metric.
  std::vector<prom::Gauge*> util, mem_copy, fb_used, fb_free, fb_reserved, gr_active, tensor_active,
      dram_active;
  std::vector<prom::Gauge*> duty_cycle, tensorcore_util, bandwidth_util, memory_used, memory_total;

  std::optional<core::Time> last_time;
  engine::EngineStats last;
  core::Time started{};

  prom::GaugeFamily* family(const std::string& name, const std::string& help,
                            const std::vector<std::string>& labels) {
    auto f = registry.add_gauge(name, help, labels);
    if (!f) {
      core::log_error("accelerator metrics: " + f.error().to_string());
      return nullptr;
    }
    return *f;
  }
};

AcceleratorMetricsExporter::AcceleratorMetricsExporter(AcceleratorMetrics kind,
                                                       const engine::Profile& profile,
                                                       const engine::MemoryPlan& memory,
                                                       const PodIdentity& pod, std::uint64_t seed)
    : impl_(std::make_unique<Impl>()) {
  Impl& m = *impl_;
  m.kind = kind;
  m.profile = profile;
  m.memory = memory;
  m.chips = std::max(1, profile.tensor_parallel);
  m.params_per_chip = profile.model.total_parameters() / double(m.chips);
  m.weight_bytes_per_chip = memory.weight_bytes;
  m.kv_bytes_per_token = memory.kv_bytes_per_token;
  std::string hostname = pod.hostname.empty() ? pod.pod : pod.hostname;
  if (kind == AcceleratorMetrics::kDcgm) {
    // dcgm-exporter's label template (internal/pkg/rendermetrics), then the pod mapping.
    std::vector<std::string> labels = {"gpu",      "UUID",      "pci_bus_id", "device", "modelName",
                                       "Hostname", "container", "namespace",  "pod"};
    struct Def {
      const char* name;
      const char* help;
      std::vector<prom::Gauge*>* handles;
    };
    std::vector<Def> defs = {
        {"DCGM_FI_DEV_GPU_UTIL", "GPU utilization (in %).", &m.util},
        {"DCGM_FI_DEV_MEM_COPY_UTIL", "Memory utilization (in %).", &m.mem_copy},
        {"DCGM_FI_DEV_FB_FREE", "Framebuffer memory free (in MiB).", &m.fb_free},
        {"DCGM_FI_DEV_FB_USED", "Framebuffer memory used (in MiB).", &m.fb_used},
        {"DCGM_FI_DEV_FB_RESERVED", "Framebuffer memory reserved (in MiB).", &m.fb_reserved},
        {"DCGM_FI_PROF_GR_ENGINE_ACTIVE", "Ratio of time the graphics engine is active.",
         &m.gr_active},
        {"DCGM_FI_PROF_PIPE_TENSOR_ACTIVE", "Ratio of cycles the tensor (HMMA) pipe is active.",
         &m.tensor_active},
        {"DCGM_FI_PROF_DRAM_ACTIVE",
         "Ratio of cycles the device memory interface is active sending or receiving data.",
         &m.dram_active},
    };
    for (const Def& def : defs) {
      prom::GaugeFamily* f = m.family(def.name, def.help, labels);
      for (int i = 0; i < m.chips && f != nullptr; ++i) {
        std::string h =
            hex_id(seed ^ core::splitmix64(std::hash<std::string>{}(pod.pod)), std::uint64_t(i));
        std::string uuid = "GPU-" + h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) +
                           "-" + h.substr(16, 4) + "-" + h.substr(20, 12);
        char bus[32];
        std::snprintf(bus, sizeof bus, "00000000:%02X:00.0", 0x18 + 0x10 * i);
        def.handles->push_back(&f->with({std::to_string(i), uuid, bus, "nvidia" + std::to_string(i),
                                         dcgm_model_name(profile.accelerator.name), hostname,
                                         pod.container, pod.namespace_, pod.pod}));
      }
    }
  } else {
    std::vector<std::string> labels = {"accelerator_id", "container", "make",        "model",
                                       "namespace",      "pod",       "tpu_topology"};
    struct Def {
      const char* name;
      const char* help;
      std::vector<prom::Gauge*>* handles;
    };
    std::vector<Def> defs = {
        {"duty_cycle",
         "Percent of time over the sample period during which the TPU was actively processing.",
         &m.duty_cycle},
        {"tensorcore_utilization", "Current percentage of the Tensorcore that is utilized.",
         &m.tensorcore_util},
        {"memory_bandwidth_utilization",
         "Current percentage of the accelerator memory bandwidth that is being used.",
         &m.bandwidth_util},
        {"memory_used", "Accelerator memory used in bytes.", &m.memory_used},
        {"memory_total", "Total accelerator memory in bytes.", &m.memory_total},
    };
    std::string id_base = std::to_string(
        core::splitmix64(seed ^ std::hash<std::string>{}(pod.pod)) % 10000000000000000000ULL);
    for (const Def& def : defs) {
      prom::GaugeFamily* f = m.family(def.name, def.help, labels);
      for (int i = 0; i < m.chips && f != nullptr; ++i) {
        def.handles->push_back(&f->with({id_base + "-" + std::to_string(i), pod.container,
                                         "cloud-tpu", tpu_model(profile.accelerator.name),
                                         pod.namespace_, pod.pod, tpu_topology(m.chips)}));
      }
    }
  }
}

AcceleratorMetricsExporter::~AcceleratorMetricsExporter() = default;

std::string AcceleratorMetricsExporter::render(const engine::EngineStats& s, core::Time now,
                                               MemoryState state, double load_progress) {
  Impl& m = *impl_;
  if (!m.last_time) {
    m.last_time = now;
    m.last = s;
  }
  double dt = core::to_seconds(now - *m.last_time);
  double busy = 0, tensor = 0, dram = 0;
  if (dt > 0) {
    busy = std::clamp((s.busy_seconds_total - m.last.busy_seconds_total) / dt, 0.0, 1.0);
    double tokens = double((s.prefill_tokens_computed - m.last.prefill_tokens_computed) +
                           (s.generation_tokens_total - m.last.generation_tokens_total));
    double flops = 2.0 * m.params_per_chip * tokens;
    tensor = std::clamp(flops / (dt * m.profile.accelerator.peak_flops), 0.0, 1.0);
    double steps = double(s.steps_total - m.last.steps_total);
    double bytes =
        steps * (m.weight_bytes_per_chip + double(s.kv_tokens_used) * m.kv_bytes_per_token);
    dram = std::clamp(bytes / (dt * m.profile.accelerator.memory_bandwidth), 0.0, 1.0);
    m.last_time = now;
    m.last = s;
  }
  double total = m.profile.accelerator.memory_bytes;
  double used = kContextBytes;
  switch (state) {
    case MemoryState::kContext: break;
    case MemoryState::kLoadingWeights:
      used += m.weight_bytes_per_chip * std::clamp(load_progress, 0.0, 1.0);
      break;
    case MemoryState::kWeightsLoaded: used += m.weight_bytes_per_chip; break;
    case MemoryState::kAllocated:
      used += m.memory.weight_bytes + m.memory.activation_bytes + m.memory.kv_cache_bytes;
      break;
  }
  used = std::min(used, total);
  for (int i = 0; i < m.chips; ++i) {
    if (m.kind == AcceleratorMetrics::kDcgm) {
      double reserved = std::min(1024.0, std::round(total / kMiB * 0.007));
      double total_mib = std::floor(total / kMiB);
      double used_mib = std::round(used / kMiB);
      m.util[i]->set(std::round(busy * 100));
      m.mem_copy[i]->set(std::round(dram * 100));
      m.fb_used[i]->set(used_mib);
      m.fb_free[i]->set(std::max(0.0, total_mib - used_mib - reserved));
      m.fb_reserved[i]->set(reserved);
      m.gr_active[i]->set(busy);
      m.tensor_active[i]->set(tensor);
      m.dram_active[i]->set(dram);
    } else {
      m.duty_cycle[i]->set(std::round(busy * 100));
      m.tensorcore_util[i]->set(std::round(tensor * 100));
      m.bandwidth_util[i]->set(std::round(dram * 100));
      m.memory_used[i]->set(std::round(used));
      m.memory_total[i]->set(std::round(total));
    }
  }
  return m.registry.text();
}

}  // namespace llmscale::server
