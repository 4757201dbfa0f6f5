// The command-line flags `llmscale simulate` and `llmscale recommend` share (scenario, workload
// overrides, pipeline timing, SLO), registered on a CLI11 subcommand and resolved into a
// Scenario, SimOptions and Slo. Only the cli binary includes this header's users.
#pragma once

#include <string>
#include <vector>

#include "core/result.h"
#include "sim/report.h"
#include "sim/simulator.h"

namespace CLI {  // NOLINT(readability-identifier-naming): CLI11's namespace
class App;
}

namespace llmscale::sim {

struct SimFlags {
  std::vector<std::string> scenario;
  // What-if on a live fleet (cli/from_up.h): a running `up`'s control URL, which fleet, how far
  // back, and its bearer token file (off loopback).
  std::string from_up, from_up_fleet, from_up_since = "1h", from_up_token_file;
  // Workload overrides (empty: the scenario's Workload document).
  std::string workload, trace, trace_format, window_start, window_end, duration, period,
      burst_interval;
  double rate = -1, rate_end = -1, time_scale = -1, rate_scale = -1, burstiness = -1,
         amplitude = -1, input_mean = -1, output_mean = -1, input_stddev = -1, output_stddev = -1;
  int burst_size = -1;
  // SimOptions overrides.
  long long seed = -1;
  std::string policy, scrape_interval, scrape_offset, ingestion_delay, adapter_relist, sync_period,
      min_pass_interval, downscale_stabilization, cold_start, router_queue_timeout, tail,
      max_duration, profiles_dir, forecast_season;
  double tolerance = -1, cold_start_jitter = -1, step_time_jitter = -1;
  bool no_post_scrape = false;
  std::string scaler;      // hpa or a policy of policy/scaler.h
  std::string advise;      // a policy evaluated beside the HPA (dry run)
  std::string scale_down;  // drain-aware or replicaset (empty: the scenario's)
  double peer_target = -1;
  // SLO.
  std::string slo_ttft = "1s", slo_tpot = "100ms";
  double slo_quantile = 0.9;
};

void add_sim_flags(CLI::App& command, SimFlags& flags);

struct Resolved {
  Scenario scenario;
  SimOptions options;
  Slo slo;
};
// Loads the scenario, applies the overrides, loads the trace. Errors name the flag or file.
// REQUIRES: --from-up already fetched (cli/from_up.h), so flags.scenario names files.
core::Result<Resolved> resolve_sim_flags(const SimFlags& flags);

}  // namespace llmscale::sim
