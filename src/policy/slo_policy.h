// llmscale's latency-SLO policy (issue 17): sizes the fleet for the arrival rate so that the
// TTFT stays within its target at the wanted attainment, with each replica's capacity taken at
// the ITL target from the engine's step-time model (capacity.h), corrected by what is observed.
// Optional parts, each its own switch so the simulator can show what each buys:
//  * cold-start credit: replicas that are starting count toward capacity (a backlog is drained
//    by the capacity already on its way, and the observed-latency correction is frozen while
//    replicas start); the ready-time distribution is measured per fleet and is the horizon;
//  * prediction: Holt's smoothing of the arrival rate (with its daily season once a day with a
//    daily shape has been seen), forecast over the measured ready time; scale-up only — a
//    forecast never scales down;
//  * always on, the metric contract: a missing or stale signal blocks scale-down (never read as
//    zero) and the explanation names it.
// Scale-down goes through a hysteresis band and the highest recommendation of a window.
//
// Not thread-safe (keeps its forecast and recommendation history); one per fleet.
#pragma once

#include <deque>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include "engine/profile.h"
#include "policy/capacity.h"
#include "policy/forecast.h"
#include "policy/signals.h"

namespace llmscale::policy {

inline SeasonConfig daily_season() {
  SeasonConfig season;
  season.period_s = 86400;
  return season;
}

struct SloPolicyConfig {
  double ttft_s = 1.0;  // TTFT target at `quantile`
  double itl_s = 0.1;   // ITL (TPOT) target
  double quantile = 0.9;
  // Fraction of requests that should meet the TTFT target (the queueing model's miss budget is
  // 1 - this); an SRE's goal is stricter than the quantile the SLO is stated at.
  double target_attainment = 0.99;
  bool credit = true;
  bool predict = true;
  std::shared_ptr<const engine::Profile> profile;  // REQUIRES: set
  double utilization = 0.85;                       // headroom under the ITL capacity
  double prior_input_tokens = 1000;                // until requests are observed
  double prior_output_tokens = 200;
  double prior_ready_time_s = 70;  // horizon until a cold start has been measured
  double band = 0.1;               // scale down only below current·(1 - band)
  double scale_down_window_s = 120;
  double stale_after_s = 30;                         // a replica gauge older than this is stale
  double forecast_alpha = 0.5, forecast_beta = 0.2;  // per 10 s
  // The forecast's season (forecast.h): daily by default, used only once a whole day with a
  // daily shape has been seen; period 0 turns it off.
  SeasonConfig forecast_season = daily_season();
  core::Duration interval = std::chrono::seconds(5);
};

class SloPolicy final : public Scaler {
 public:
  explicit SloPolicy(SloPolicyConfig config)
      : config_(std::move(config)),
        name_(std::string("slo") + (config_.credit ? "+credit" : "") +
              (config_.predict ? "+predict" : "")) {}
  Decision decide(const Signals& signals) override;
  std::string_view name() const override { return name_; }
  core::Duration interval() const override { return config_.interval; }

  // The horizon the predictive part uses: p90 of the measured ready times (prior until one).
  double horizon_s(const Signals& signals) const;
  double capacity_correction() const { return correction_; }

 private:
  SloPolicyConfig config_;
  std::string name_;
  HoltForecaster forecaster_{config_.forecast_alpha, config_.forecast_beta, 10,
                             config_.forecast_season};
  std::deque<std::pair<core::Time, std::int32_t>> recommendations_;
  double correction_ = 1.0;
  std::optional<core::Time> first_decision_;
};

}  // namespace llmscale::policy
