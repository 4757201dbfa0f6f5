// Forecasts of a rate sampled at irregular instants, for the predictive policy (the arrival rate
// over the measured cold start). Holt's linear (double exponential) smoothing — a level and a
// per-second trend — plus, when the history has one, an additive season (Holt-Winters): a daily
// pattern of `bins` slots learned over the first whole period and smoothed after it.
//
// The season is used only once a whole period has been seen and only when it explains a
// meaningful share of that period's variance (the per-slot means against the samples: R² ≥
// kMinSeasonStrength); a history without a daily shape keeps plain Holt forecasts. Before that,
// and with period 0, the forecasts are exactly Holt's. Not thread-safe.
#pragma once

#include <cstddef>
#include <optional>
#include <vector>

#include "core/time.h"

namespace llmscale::policy {

struct SeasonConfig {
  double period_s = 0;     // 0: no season (86,400 for a daily one)
  std::size_t bins = 288;  // slots per period (5 minutes of a day)
  double gamma = 0.3;      // smoothing of a slot each time it is visited again
};

class HoltForecaster {
 public:
  static constexpr double kMinSeasonStrength = 0.3;

  // alpha, beta: the smoothing constants per `reference_s` seconds of elapsed time (so the
  // smoothing does not depend on how often update() is called).
  HoltForecaster(double alpha, double beta, double reference_s = 10, SeasonConfig season = {});

  void update(core::Time at, double value);
  // level + trend·h (+ the season's slot at now + h once it is in use), never below 0; nullopt
  // before the first update.
  std::optional<double> forecast(double horizon_s) const;
  double level() const { return level_; }
  double trend_per_s() const { return trend_; }
  // Whether the forecasts include the learned season.
  bool seasonal() const { return seasonal_; }
  // The season's slot for an instant (its offset from the level); 0 while none is in use.
  double season_at(core::Time at) const;

 private:
  std::size_t slot(core::Time at) const;
  void learn_season();

  double alpha_, beta_, reference_s_;
  SeasonConfig season_;
  bool primed_ = false;
  core::Time first_{};
  core::Time last_{};
  double level_ = 0;
  double trend_ = 0;
  // The first period: per-slot sums and counts of the samples (then the slots' offsets).
  std::vector<double> slot_sum_;
  std::vector<double> slot_sum_sq_;
  std::vector<std::size_t> slot_count_;
  std::vector<double> offsets_;
  bool season_decided_ = false;
  bool seasonal_ = false;
};

}  // namespace llmscale::policy
