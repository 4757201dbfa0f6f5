// Knative KPA, KEDA with llm-d's SLO formula and AIBrix APA as baselines (peers.h).
#include "policy/peers.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "policy/format.h"

namespace llmscale::policy {

namespace {

// Mean of the samples no older than `window_s` before `now`; nullopt when none.
std::optional<double> window_mean(const std::deque<std::pair<core::Time, double>>& samples,
                                  core::Time now, double window_s) {
  double sum = 0;
  int n = 0;
  for (const auto& [at, v] : samples) {
    if (at > now - core::from_seconds(window_s)) {  // the last window_s, as Knative's buckets
      sum += v;
      ++n;
    }
  }
  if (n == 0) return std::nullopt;
  return sum / n;
}

void trim(std::deque<std::pair<core::Time, double>>& samples, core::Time now, double keep_s) {
  while (!samples.empty() && samples.front().first < now - core::from_seconds(keep_s))
    samples.pop_front();
}

// The highest recommendation of the window (HPA stabilization, Knative's scale-down delay).
std::int32_t window_max(std::deque<std::pair<core::Time, std::int32_t>>& history, core::Time now,
                        std::int32_t value, double window_s) {
  history.emplace_back(now, value);
  while (!history.empty() && history.front().first < now - core::from_seconds(window_s))
    history.pop_front();
  std::int32_t m = value;
  for (const auto& [_, v] : history) m = std::max(m, v);
  return m;
}

}  // namespace

Decision KpaScaler::decide(const Signals& s) {
  samples_.emplace_back(s.now, s.in_flight + s.router_queue);
  trim(samples_, s.now, config_.stable_window_s);
  double panic_window = config_.stable_window_s * config_.panic_window_percent / 100;
  double stable = window_mean(samples_, s.now, config_.stable_window_s).value_or(0);
  double panic = window_mean(samples_, s.now, panic_window).value_or(0);

  // Knative: the rates are relative to the ready pods (at least one).
  double ready = std::max<double>(1, s.ready);
  double max_up = std::ceil(config_.max_scale_up_rate * ready);
  double max_down = std::floor(ready / config_.max_scale_down_rate);
  double dspc = std::clamp(std::ceil(stable / config_.target), max_down, max_up);
  double dppc = std::clamp(std::ceil(panic / config_.target), max_down, max_up);
  bool over = dppc / ready >= config_.panic_threshold;
  if (over) {
    panic_since_ = s.now;  // enter, or extend
  } else if (panic_since_ && s.now - *panic_since_ >= core::from_seconds(config_.stable_window_s)) {
    panic_since_.reset();
    max_panic_pods_ = 0;
  }
  double desired = dspc;
  std::string why = "stable";
  if (panic_since_) {
    max_panic_pods_ = std::max(max_panic_pods_, dppc);
    desired = std::max(dspc, max_panic_pods_);
    why = "panic";
  }
  auto d32 = static_cast<std::int32_t>(desired);
  if (config_.scale_down_delay_s > 0)
    d32 = window_max(delay_window_, s.now, d32, config_.scale_down_delay_s);
  Decision d;
  d.desired = std::clamp(d32, s.min_replicas, std::max<std::int32_t>(1, s.max_replicas));
  d.explanation = why + ": concurrency " + fixed(stable) + " (60s) / " + fixed(panic) +
                  " (6s) over target " + fixed(config_.target, 0) + " per pod, " +
                  std::to_string(s.ready) + " ready";
  return d;
}

Decision KedaLlmdScaler::decide(const Signals& s) {
  // The recording rules run every 15 s: s_raw from the p90s, 0 with no traffic, clamped.
  if (!last_recording_ || s.now - *last_recording_ >= config_.recording_interval) {
    last_recording_ = s.now;
    double raw = 0;
    if (s.ttft_quantile) raw = std::max(raw, *s.ttft_quantile / config_.ttft_s);
    if (s.itl_quantile) raw = std::max(raw, *s.itl_quantile / config_.tpot_s);
    recordings_.emplace_back(s.now, std::min(raw, config_.clamp));
  }
  trim(recordings_, s.now, config_.smoothing_s);
  double sat = window_mean(recordings_, s.now, config_.smoothing_s).value_or(0);
  double value = 1;
  if (sat > 1) {
    value = sat;
  } else if (sat < config_.band_low) {
    value = sat / config_.band_low;
  }
  // The HPA over the formula (AverageValue target 1 over spec.replicas: pending pods credited).
  double current = std::max<double>(1, s.current);
  auto proposal = static_cast<std::int32_t>(std::ceil(current * value));
  if (std::abs(value - 1) <= config_.tolerance) proposal = s.current;
  // Kubernetes: scale-down stabilization keeps the highest recommendation of the window.
  std::int32_t highest = window_max(recommendations_, s.now, proposal, config_.scale_down_window_s);
  std::int32_t desired = proposal >= s.current ? proposal : std::min(highest, s.current);
  Decision d;
  d.desired = std::clamp(desired, s.min_replicas, std::max<std::int32_t>(1, s.max_replicas));
  d.explanation = "saturation " + fixed(sat, 2) + " (p90 TTFT " +
                  (s.ttft_quantile ? fixed(*s.ttft_quantile, 2) + "s" : std::string("-")) +
                  ") -> formula " + fixed(value, 2) + " x " + std::to_string(s.current);
  return d;
}

Decision ApaScaler::decide(const Signals& s) {
  samples_.emplace_back(s.now, s.in_flight + s.router_queue);
  trim(samples_, s.now, config_.window_s);
  double observed = window_mean(samples_, s.now, config_.window_s).value_or(0);
  double ready = std::max<double>(1, s.ready);
  double per_pod = observed / ready;
  double ratio = per_pod / config_.target;
  double desired = ready;
  std::string why = "within the fluctuation band";
  if (ratio > 1 + config_.up_tolerance) {
    desired = std::min(std::ceil(ready * ratio), std::ceil(config_.max_scale_up_rate * ready));
    why = "above the band";
  } else if (ratio < 1 - config_.down_tolerance) {
    desired = std::max(std::ceil(ready * ratio), std::floor(ready / config_.max_scale_down_rate));
    why = "below the band";
  }
  Decision d;
  d.desired = std::clamp(static_cast<std::int32_t>(desired), s.min_replicas,
                         std::max<std::int32_t>(1, s.max_replicas));
  d.explanation = why + ": " + fixed(per_pod) + " in flight per ready pod (" +
                  fixed(config_.window_s, 0) + "s) against " + fixed(config_.target, 0);
  return d;
}

}  // namespace llmscale::policy
