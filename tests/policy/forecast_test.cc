// The forecast's season (Holt-Winters): used only after a whole period with a shape, exactly
// Holt's before; better than Holt's linear extrapolation where a daily-style curve turns.
#include "policy/forecast.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numbers>

#include "core/clock.h"

namespace llmscale::policy {
namespace {

using namespace std::chrono_literals;

constexpr double kPeriod = 3600;  // an "hour-long day" keeps the test short

double curve(double t) {  // mean 20, amplitude 10, one period per kPeriod
  return 20 + 10 * std::sin(2 * std::numbers::pi * t / kPeriod);
}

SeasonConfig season(double period_s) {
  SeasonConfig s;
  s.period_s = period_s;
  s.bins = 60;
  return s;
}

TEST(SeasonalForecast, IsHoltUntilAWholePeriodHasBeenSeen) {
  core::SimulatedClock clock;
  HoltForecaster plain(0.5, 0.2);
  HoltForecaster seasonal(0.5, 0.2, 10, season(kPeriod));
  for (int i = 0; i < 359; ++i) {  // 10 s samples, just short of one period
    double t = i * 10.0;
    plain.update(clock.now(), curve(t));
    seasonal.update(clock.now(), curve(t));
    EXPECT_EQ(*plain.forecast(300), *seasonal.forecast(300)) << t;
    clock.advance(10s);
  }
  EXPECT_FALSE(seasonal.seasonal());
}

TEST(SeasonalForecast, TurnsWithTheCurveWhereHoltOvershoots) {
  core::SimulatedClock clock;
  const double start = core::to_seconds(clock.now().time_since_epoch());
  HoltForecaster plain(0.5, 0.2);
  HoltForecaster seasonal(0.5, 0.2, 10, season(kPeriod));
  double plain_error = 0, seasonal_error = 0;
  int n = 0;
  for (int i = 0; i <= 3 * 360; ++i) {  // three periods
    double t = core::to_seconds(clock.now().time_since_epoch()) - start;
    plain.update(clock.now(), curve(t));
    seasonal.update(clock.now(), curve(t));
    if (i > 2 * 360) {  // the third period: forecast 15 minutes (a quarter period) ahead
      double truth = curve(t + 900);
      plain_error += std::abs(*plain.forecast(900) - truth);
      seasonal_error += std::abs(*seasonal.forecast(900) - truth);
      ++n;
    }
    clock.advance(10s);
  }
  EXPECT_TRUE(seasonal.seasonal());
  EXPECT_FALSE(plain.seasonal());
  plain_error /= n;
  seasonal_error /= n;
  EXPECT_LT(seasonal_error, 2.5) << "mean absolute error, seasonal (amplitude 10)";
  EXPECT_GT(plain_error, 4 * seasonal_error) << "holt " << plain_error << " vs " << seasonal_error;
}

TEST(SeasonalForecast, NoShapeNoSeason) {
  core::SimulatedClock clock;
  HoltForecaster plain(0.5, 0.2);
  HoltForecaster seasonal(0.5, 0.2, 10, season(kPeriod));
  std::uint64_t x = 12345;
  for (int i = 0; i <= 2 * 360; ++i) {  // noise around 20, no daily shape
    x = x * 6364136223846793005ULL + 1442695040888963407ULL;
    double noise = static_cast<double>(x >> 40) / static_cast<double>(1ULL << 24) - 0.5;
    plain.update(clock.now(), 20 + 4 * noise);
    seasonal.update(clock.now(), 20 + 4 * noise);
    clock.advance(10s);
  }
  EXPECT_FALSE(seasonal.seasonal());
  EXPECT_EQ(*seasonal.forecast(900), *plain.forecast(900));
}

TEST(SeasonalForecast, NeverNegativeAndSlotsWrapAroundThePeriod) {
  core::SimulatedClock clock;
  HoltForecaster seasonal(0.5, 0.2, 10, season(kPeriod));
  for (int i = 0; i <= 2 * 360; ++i) {
    double t = i * 10.0;
    seasonal.update(clock.now(), std::max(0.0, 10 * std::sin(2 * std::numbers::pi * t / kPeriod)));
    clock.advance(10s);
  }
  ASSERT_TRUE(seasonal.seasonal());
  for (double h = 0; h <= 3 * kPeriod; h += 60) EXPECT_GE(*seasonal.forecast(h), 0.0) << h;
  EXPECT_NEAR(seasonal.season_at(clock.now()), seasonal.season_at(clock.now() + 1h), 1e-12);
}

}  // namespace
}  // namespace llmscale::policy
