// Holt's linear (double exponential) smoothing of a rate sampled at irregular instants: a level
// and a per-second trend, forecast h seconds ahead. The predictive policy uses it for the
// arrival rate over the measured cold start. Not thread-safe.
#pragma once

#include <optional>

#include "core/time.h"

namespace llmscale::policy {

class HoltForecaster {
 public:
  // alpha, beta: the smoothing constants per `reference_s` seconds of elapsed time (so the
  // smoothing does not depend on how often update() is called).
  HoltForecaster(double alpha, double beta, double reference_s = 10)
      : alpha_(alpha), beta_(beta), reference_s_(reference_s) {}

  void update(core::Time at, double value);
  // level + trend·h, never below 0; nullopt before the first update.
  std::optional<double> forecast(double horizon_s) const;
  double level() const { return level_; }
  double trend_per_s() const { return trend_; }

 private:
  double alpha_, beta_, reference_s_;
  bool primed_ = false;
  core::Time last_{};
  double level_ = 0;
  double trend_ = 0;
};

}  // namespace llmscale::policy
