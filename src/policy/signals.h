// What a scaling policy sees at one decision: a snapshot of the fleet's signals (the router's
// own measurements, the replicas' scraped gauges with their age, the latency observations, the
// replica counts and the measured cold starts) and what it answers (desired replicas and one
// line saying why). Plain values; no I/O. The Scaler interface is the one every policy and peer
// baseline implements, so the simulator (and later `up` and the controller) drive them alike.
//
// Thread-safety: a Scaler keeps its own history (windows, forecasts) and is not thread-safe; one
// per fleet.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/time.h"

namespace llmscale::policy {

// One replica's scraped gauges. A value that the last scrape did not carry is nullopt (a
// renamed or vanished series), never 0; `age_s` is the time since that scrape.
struct ReplicaSignals {
  std::string name;
  bool ready = false;
  std::optional<double> waiting;   // engine queue (vllm:num_requests_waiting and aliases)
  std::optional<double> running;   // requests in the batch
  std::optional<double> kv_usage;  // 0..1
  double age_s = 0;
};

struct Signals {
  core::Time now{};
  std::int32_t current = 0;   // the scale's spec.replicas (what was last asked for)
  std::int32_t ready = 0;     // ready, not terminating
  std::int32_t starting = 0;  // created, not ready yet
  std::int32_t min_replicas = 1;
  std::int32_t max_replicas = 1;
  // The router's measurements (no scrape wait). nullopt: the source is missing.
  std::optional<double> arrival_rate;  // requests/s over the last few seconds
  double in_flight = 0;                // requests routed and not finished
  double router_queue = 0;             // requests waiting for a ready replica
  // Latency observed over the last window (requests that got their first token / finished).
  std::optional<double> ttft_quantile;  // at the SLO's quantile, seconds
  std::optional<double> itl_quantile;   // at the SLO's quantile, seconds
  std::size_t latency_samples = 0;
  // Token shape of recent requests (for the capacity model).
  std::optional<double> mean_input_tokens;
  std::optional<double> mean_output_tokens;
  std::vector<ReplicaSignals> replicas;
  // Measured cold starts of this fleet (created → ready), seconds, most recent last.
  std::vector<double> ready_times;
};

// The answer of one decision.
struct Decision {
  std::int32_t desired = 0;
  // One line: which signal, which forecast, which credit (describe prints it).
  std::string explanation;
  bool scale_down_blocked = false;  // a missing/stale metric held the fleet (metric contract)
};

class Scaler {
 public:
  virtual ~Scaler() = default;
  virtual Decision decide(const Signals& signals) = 0;
  virtual std::string_view name() const = 0;
  // How often the policy is evaluated (its controller's tick / sync / polling period).
  virtual core::Duration interval() const = 0;
};

}  // namespace llmscale::policy
