// The latency-SLO policy with cold-start credit, prediction and the metric contract
// (slo_policy.h).
#include "policy/slo_policy.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "policy/format.h"

namespace llmscale::policy {

double SloPolicy::horizon_s(const Signals& signals) const {
  if (signals.ready_times.empty()) return config_.prior_ready_time_s;
  std::size_t n = std::min<std::size_t>(signals.ready_times.size(), 20);
  std::vector<double> recent(signals.ready_times.end() - static_cast<std::ptrdiff_t>(n),
                             signals.ready_times.end());
  std::sort(recent.begin(), recent.end());
  std::size_t k = static_cast<std::size_t>(std::ceil(0.9 * static_cast<double>(n))) - 1;
  return recent[std::min(k, n - 1)];
}

Decision SloPolicy::decide(const Signals& s) {
  Decision d;
  std::int32_t max = std::max<std::int32_t>(1, s.max_replicas);

  // Metric contract: what is missing or stale can only hold the fleet, never shrink it.
  std::vector<std::string> missing;
  if (!s.arrival_rate) missing.emplace_back("arrival rate");
  // The capacity model runs on priors until requests have finished: an optimistic prior must
  // not shrink the fleet.
  if (!s.mean_input_tokens || !s.mean_output_tokens)
    missing.emplace_back("token shape (no finished requests yet)");
  double queued = s.router_queue;
  for (const ReplicaSignals& r : s.replicas) {
    if (!r.ready) continue;
    if (!r.waiting || !r.running) {
      missing.push_back(r.name + " queue/running series missing");
    } else if (r.age_s > config_.stale_after_s) {
      missing.push_back(r.name + " stale " + fixed(r.age_s, 0) + "s");
    } else {
      queued += *r.waiting;
    }
  }

  double rate = s.arrival_rate.value_or(0);
  double in = s.mean_input_tokens.value_or(config_.prior_input_tokens);
  double out = s.mean_output_tokens.value_or(config_.prior_output_tokens);
  ReplicaCapacity cap =
      replica_capacity(*config_.profile, in, out, config_.itl_s, config_.utilization);

  // Observed-latency correction: the model's capacity scaled down while the SLO is missed with
  // no capacity on its way (with credit, a miss during a cold start is explained by it).
  bool enough_samples = s.latency_samples >= 20;
  if (enough_samples && s.ttft_quantile && *s.ttft_quantile > config_.ttft_s &&
      (!config_.credit || s.starting == 0)) {
    correction_ = std::max(0.5, correction_ * 0.95);
  } else if (enough_samples && s.ttft_quantile && *s.ttft_quantile < 0.5 * config_.ttft_s &&
             (!s.itl_quantile || *s.itl_quantile < config_.itl_s)) {
    correction_ = std::min(1.0, correction_ + 0.01);
  }
  double mu = cap.requests_per_s * correction_;
  double budget = std::max(0.05, config_.ttft_s - cap.prefill_s);
  double miss = std::clamp(1 - config_.target_attainment, 1e-4, 0.5);
  std::int32_t need_now = servers_for_wait(rate, mu, budget, miss, max);

  // Backlog: queued requests to drain on top of the arrivals. With credit the replicas already
  // starting absorb it (drained over the horizon in which new ones would arrive anyway);
  // without, only ready replicas count, as the HPA sees it.
  double horizon = horizon_s(s);
  std::int32_t need_backlog = 0;
  if (queued > 0) {
    if (config_.credit) {
      double drain = std::max(horizon, config_.ttft_s);
      need_backlog = static_cast<std::int32_t>(std::ceil((rate + queued / drain) / mu));
    } else {
      double drain = std::max(5.0, config_.ttft_s);
      need_backlog =
          s.starting + static_cast<std::int32_t>(std::ceil((rate + queued / drain) / mu));
    }
  }
  std::int32_t reactive = std::max(need_now, need_backlog);

  // Prediction over the measured ready time (scale-up only).
  std::int32_t need_forecast = 0;
  double forecast_rate = 0;
  if (config_.predict && s.arrival_rate) {
    forecaster_.update(s.now, rate);
    forecast_rate = forecaster_.forecast(horizon).value_or(rate);
    if (forecast_rate > rate)
      need_forecast = servers_for_wait(forecast_rate, mu, budget, miss, max);
  }

  // Scale-down: the highest recommendation of the window (a forecast's included, so a scale-up
  // ahead of a ramp is not undone on the next tick), beyond the band. A forecast below the
  // current rate adds nothing, so a forecast alone never scales down.
  std::int32_t up = std::max(reactive, need_forecast);
  recommendations_.emplace_back(s.now, up);
  if (!first_decision_) first_decision_ = s.now;
  auto window = core::from_seconds(config_.scale_down_window_s);
  while (!recommendations_.empty() && recommendations_.front().first < s.now - window)
    recommendations_.pop_front();
  std::int32_t window_max = up;
  for (const auto& [_, r] : recommendations_) window_max = std::max(window_max, r);

  std::int32_t desired = s.current;
  std::string why;
  if (up > s.current) {
    desired = up;
    why = need_forecast > reactive ? "scale up on forecast" : "scale up";
  } else if (window_max < s.current) {
    if (s.now - *first_decision_ < window) {
      // A window not yet full of recommendations (a policy that just took over) is not evidence
      // that the fleet is too big.
      why = "hold (scale-down window filling)";
    } else if (window_max >= static_cast<double>(s.current) * (1 - config_.band)) {
      why = "hold (within the " + fixed(config_.band * 100, 0) + "% band)";
    } else {
      desired = window_max;
      why = "scale down (highest of " + fixed(config_.scale_down_window_s, 0) + "s)";
    }
  } else {
    why = "hold";
  }
  if (!missing.empty() && desired < s.current) {
    desired = s.current;
    d.scale_down_blocked = true;
    why = "scale-down blocked: " + missing.front() +
          (missing.size() > 1 ? " (+" + std::to_string(missing.size() - 1) + " more)" : "");
  }
  desired = std::clamp(desired, s.min_replicas, max);
  d.desired = desired;
  d.explanation = why + ": rate " + fixed(rate, 2) + "/s, " + fixed(mu, 2) +
                  "/s per replica at ITL " + fixed(config_.itl_s * 1000, 0) + "ms -> " +
                  std::to_string(need_now);
  if (queued > 0)
    d.explanation += ", backlog " + fixed(queued, 0) + " -> " + std::to_string(need_backlog);
  if (config_.predict)
    d.explanation += ", forecast " + fixed(forecast_rate, 2) + "/s in " + fixed(horizon, 0) + "s" +
                     (forecaster_.seasonal() ? " (seasonal)" : "") + " -> " +
                     std::to_string(need_forecast);
  if (config_.credit) d.explanation += ", credit " + std::to_string(s.starting) + " starting";
  if (correction_ < 1) d.explanation += ", capacity x" + fixed(correction_, 2);
  return d;
}

}  // namespace llmscale::policy
