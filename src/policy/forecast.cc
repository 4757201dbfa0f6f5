// Holt's linear smoothing with elapsed-time-scaled constants (forecast.h).
#include "policy/forecast.h"

#include <algorithm>
#include <cmath>

#include "core/time.h"

namespace llmscale::policy {

void HoltForecaster::update(core::Time at, double value) {
  if (!primed_) {
    primed_ = true;
    last_ = at;
    level_ = value;
    trend_ = 0;
    return;
  }
  double dt = core::to_seconds(at - last_);
  if (dt <= 0) return;
  last_ = at;
  // Constants per reference interval, scaled to dt: 1 - (1 - α)^(dt/ref).
  double a = 1 - std::pow(1 - alpha_, dt / reference_s_);
  double b = 1 - std::pow(1 - beta_, dt / reference_s_);
  double predicted = level_ + trend_ * dt;
  double level = a * value + (1 - a) * predicted;
  trend_ = b * (level - level_) / dt + (1 - b) * trend_;
  level_ = level;
}

std::optional<double> HoltForecaster::forecast(double horizon_s) const {
  if (!primed_) return std::nullopt;
  return std::max(0.0, level_ + trend_ * horizon_s);
}

}  // namespace llmscale::policy
