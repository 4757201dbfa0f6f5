// Shared by the simulator's tests: quiet logs and the example scenario they run.
#pragma once

#include <string>

#include "core/log.h"

namespace llmscale::sim {

// The controller logs every rescale; keep test output short.
inline const bool kQuietSimTests = [] {
  core::set_log_level(core::LogLevel::kWarn);
  return true;
}();

inline const std::string kScenario =
    std::string(LLMSCALE_SOURCE_DIR) + "/examples/sim/vllm-8b-h100";

}  // namespace llmscale::sim
