// `llmscale simulate --from-up URL` and `recommend --from-up URL`: what-if on a live fleet. Reads
// the configuration and the recent requests of a running `llmscale up` from its control address
// (up/what_if.h) into a folder, and points the flags at them, so the simulation replays the
// fleet's own traffic through the same manifests ("what would target 3 have done over the last
// hour?"). Every other flag still applies (a different --scaler, pipeline timing, --rate-scale).
#pragma once

#include <string>

#include "core/result.h"
#include "sim/flags.h"

namespace llmscale::cli {

// Does nothing when flags.from_up is empty. Otherwise fetches into `dir` (created) the files
// scenario.yaml and requests.jsonl, and sets flags.scenario, flags.trace and flags.trace_format.
// Errors name the flag, the URL or the file: a scenario given as well, an unreachable or
// refusing `up`, an answer that is not 200, no request in the window.
core::Status fetch_from_up(sim::SimFlags& flags, const std::string& dir);

}  // namespace llmscale::cli
