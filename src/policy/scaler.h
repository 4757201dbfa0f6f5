// Picks a scaling policy by name — the latency-SLO policy with or without its cold-start credit
// and prediction, or a peer baseline — from one options struct shared by the simulator and the
// command line. `hpa` is not here: the HPA stays the controller's own code.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "policy/peers.h"
#include "policy/slo_policy.h"

namespace llmscale::policy {

struct ScalerOptions {
  SloPolicyConfig slo;  // ttft/itl targets, profile, priors (used by every scaler's SLO)
  KpaConfig kpa;
  KedaLlmdConfig keda;
  ApaConfig apa;
};

// "slo", "slo+credit", "slo+predict", "slo+credit+predict", "kpa", "keda-llmd", "aibrix-apa".
core::Result<std::unique_ptr<Scaler>> make_scaler(std::string_view name,
                                                  const ScalerOptions& options);
const std::vector<std::string>& scaler_names();

}  // namespace llmscale::policy
