// Holt's linear smoothing with elapsed-time-scaled constants, and its additive season
// (forecast.h).
#include "policy/forecast.h"

#include <algorithm>
#include <cmath>

namespace llmscale::policy {

HoltForecaster::HoltForecaster(double alpha, double beta, double reference_s, SeasonConfig season)
    : alpha_(alpha), beta_(beta), reference_s_(reference_s), season_(season) {
  if (season_.period_s > 0 && season_.bins > 0) {
    slot_sum_.assign(season_.bins, 0);
    slot_sum_sq_.assign(season_.bins, 0);
    slot_count_.assign(season_.bins, 0);
  }
}

std::size_t HoltForecaster::slot(core::Time at) const {
  double s = std::fmod(core::to_seconds(at.time_since_epoch()), season_.period_s);
  if (s < 0) s += season_.period_s;
  auto i = static_cast<std::size_t>(s / season_.period_s * static_cast<double>(season_.bins));
  return std::min(i, season_.bins - 1);
}

double HoltForecaster::season_at(core::Time at) const {
  return seasonal_ ? offsets_[slot(at)] : 0.0;
}

// End of the first period: the slots' means against their overall mean, used when they explain
// at least kMinSeasonStrength of the samples' variance. Slots never visited get offset 0.
void HoltForecaster::learn_season() {
  season_decided_ = true;
  double sum = 0, sum_sq = 0, n = 0, slot_means = 0, visited = 0;
  for (std::size_t i = 0; i < season_.bins; ++i) {
    sum += slot_sum_[i];
    sum_sq += slot_sum_sq_[i];
    n += static_cast<double>(slot_count_[i]);
    if (slot_count_[i] > 0) {
      slot_means += slot_sum_[i] / static_cast<double>(slot_count_[i]);
      visited += 1;
    }
  }
  if (n < 2 || visited < 2) return;
  double mean = sum / n;
  double total = sum_sq / n - mean * mean;  // variance of the samples
  double mean_of_slots = slot_means / visited;
  offsets_.assign(season_.bins, 0);
  double explained = 0;
  for (std::size_t i = 0; i < season_.bins; ++i) {
    if (slot_count_[i] == 0) continue;
    double m = slot_sum_[i] / static_cast<double>(slot_count_[i]);
    offsets_[i] = m - mean_of_slots;
    explained += static_cast<double>(slot_count_[i]) * (m - mean) * (m - mean);
  }
  explained /= n;
  seasonal_ = total > 0 && explained / total >= kMinSeasonStrength;
  if (!seasonal_) return;
  // Re-base the level on the deseasonalized present so the first seasonal forecast is
  // continuous; the first period's trend was mostly the season's slope, which the slots now carry.
  level_ -= offsets_[slot(last_)];
  trend_ = 0;
}

void HoltForecaster::update(core::Time at, double value) {
  if (!primed_) {
    primed_ = true;
    first_ = last_ = at;
    level_ = value;
    trend_ = 0;
    if (!slot_sum_.empty()) {
      std::size_t i = slot(at);
      slot_sum_[i] += value;
      slot_sum_sq_[i] += value * value;
      ++slot_count_[i];
    }
    return;
  }
  double dt = core::to_seconds(at - last_);
  if (dt <= 0) return;
  last_ = at;
  double season = seasonal_ ? offsets_[slot(at)] : 0.0;
  // Constants per reference interval, scaled to dt: 1 - (1 - α)^(dt/ref).
  double a = 1 - std::pow(1 - alpha_, dt / reference_s_);
  double b = 1 - std::pow(1 - beta_, dt / reference_s_);
  double predicted = level_ + trend_ * dt;
  double level = a * (value - season) + (1 - a) * predicted;
  trend_ = b * (level - level_) / dt + (1 - b) * trend_;
  level_ = level;
  if (slot_sum_.empty()) return;
  if (seasonal_) {
    // Holt-Winters: the visited slot moves toward what this sample says of it.
    double& offset = offsets_[slot(at)];
    offset = season_.gamma * (value - level_) + (1 - season_.gamma) * offset;
    return;
  }
  if (season_decided_) return;
  if (core::to_seconds(at - first_) >= season_.period_s) {
    learn_season();
    return;
  }
  std::size_t i = slot(at);
  slot_sum_[i] += value;
  slot_sum_sq_[i] += value * value;
  ++slot_count_[i];
}

std::optional<double> HoltForecaster::forecast(double horizon_s) const {
  if (!primed_) return std::nullopt;
  double season = 0;
  if (seasonal_) {
    auto ahead =
        std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(horizon_s));
    season = offsets_[slot(last_ + ahead)];
  }
  return std::max(0.0, level_ + trend_ * horizon_s + season);
}

}  // namespace llmscale::policy
