// The peers' rules in table tests on a simulated clock: Knative KPA's stable/panic windows,
// AIBrix APA's fluctuation band, KEDA with llm-d's SLO formula.
#include "policy/peers.h"

#include <gtest/gtest.h>

#include "core/clock.h"

namespace llmscale::policy {
namespace {

using std::chrono::seconds;

Signals at(core::Time now, std::int32_t ready, double in_flight) {
  Signals s;
  s.now = now;
  s.current = s.ready = ready;
  s.min_replicas = 1;
  s.max_replicas = 100;
  s.in_flight = in_flight;
  return s;
}

TEST(Kpa, StableWindowAverages) {
  core::SimulatedClock clock;
  KpaScaler kpa({});
  Decision d;
  for (int i = 0; i < 30; ++i) {  // 60 s at 96 in flight on 4 pods: exactly at target 24
    d = kpa.decide(at(clock.now(), 4, 96));
    clock.advance(seconds(2));
  }
  EXPECT_EQ(d.desired, 4) << d.explanation;
  EXPECT_FALSE(kpa.in_panic());
}

TEST(Kpa, PanicAtTwiceTheReadyPodsAndNeverShrinksInPanic) {
  core::SimulatedClock clock;
  KpaScaler kpa({});
  for (int i = 0; i < 30; ++i) {
    kpa.decide(at(clock.now(), 4, 96));
    clock.advance(seconds(2));
  }
  // A burst: 6 s of 240 in flight = 10 pods in the panic window, >= 2 x 4 ready.
  Decision d;
  for (int i = 0; i < 3; ++i) {
    d = kpa.decide(at(clock.now(), 4, 240));
    clock.advance(seconds(2));
  }
  EXPECT_TRUE(kpa.in_panic());
  EXPECT_EQ(d.desired, 10) << d.explanation;
  EXPECT_NE(d.explanation.find("panic"), std::string::npos);
  // The burst ends: still in panic for a stable window, and the count does not drop.
  for (int i = 0; i < 10; ++i) {
    d = kpa.decide(at(clock.now(), 10, 48));
    EXPECT_EQ(d.desired, 10) << i << ": " << d.explanation;
    clock.advance(seconds(2));
  }
  for (int i = 0; i < 40; ++i) {
    d = kpa.decide(at(clock.now(), 10, 48));
    clock.advance(seconds(2));
  }
  EXPECT_FALSE(kpa.in_panic());
  EXPECT_EQ(d.desired, 5) << d.explanation;  // max-scale-down-rate 2: at most halve
}

TEST(Kpa, ScaleUpRateBoundsTheJump) {
  core::SimulatedClock clock;
  KpaConfig c;
  c.max_scale_up_rate = 2;
  KpaScaler kpa(c);
  Decision d = kpa.decide(at(clock.now(), 3, 24 * 50));
  EXPECT_EQ(d.desired, 6);
}

TEST(Apa, FluctuationBand) {
  core::SimulatedClock clock;
  struct Case {
    double per_pod;
    std::int32_t want;
  };
  // 10 ready pods, target 24: up beyond 26.4, down below 19.2, rates 2.
  for (const Case& c : {Case{25, 10}, Case{20, 10}, Case{30, 13}, Case{100, 20}, Case{12, 5},
                        Case{18, 8}, Case{0, 5}}) {
    ApaScaler apa({});
    Decision d = apa.decide(at(clock.now(), 10, c.per_pod * 10));
    EXPECT_EQ(d.desired, c.want) << c.per_pod << ": " << d.explanation;
  }
}

TEST(KedaLlmd, SaturationFormula) {
  core::SimulatedClock clock;
  struct Case {
    std::optional<double> ttft;
    std::int32_t want;
  };
  // One recording (the first poll), 10 replicas, S_ttft 1 s.
  for (const Case& c : {Case{1.5, 15}, Case{3.0, 20} /* clamped at 2 */, Case{0.8, 10},
                        Case{0.35, 5}, Case{std::nullopt, 1} /* idle */}) {
    KedaLlmdScaler keda({});
    Signals s = at(clock.now(), 10, 0);
    s.ttft_quantile = c.ttft;
    Decision d = keda.decide(s);
    EXPECT_EQ(d.desired, c.want) << (c.ttft ? *c.ttft : -1) << ": " << d.explanation;
  }
}

TEST(KedaLlmd, ScaleDownWaitsForTheHpaWindow) {
  core::SimulatedClock clock;
  KedaLlmdScaler keda({});
  Signals s = at(clock.now(), 10, 0);
  s.ttft_quantile = 1.5;
  ASSERT_EQ(keda.decide(s).desired, 15);
  Decision d;
  for (int i = 0; i < 10; ++i) {  // idle for 150 s
    clock.advance(seconds(15));
    s = at(clock.now(), 15, 0);
    d = keda.decide(s);
  }
  EXPECT_EQ(d.desired, 15) << d.explanation;
  for (int i = 0; i < 14; ++i) {  // past the 5 min window of the last high recommendation
    clock.advance(seconds(15));
    d = keda.decide(at(clock.now(), 15, 0));
  }
  EXPECT_EQ(d.desired, 1) << d.explanation;
}

}  // namespace
}  // namespace llmscale::policy
