// The latency-SLO policy's rules in table tests on a simulated clock: sizing for the arrival
// rate, hysteresis, cold-start credit, prediction (up only) and the metric contract.
#include "policy/slo_policy.h"

#include <gtest/gtest.h>

#include "core/clock.h"
#include "engine/profile.h"
#include "policy/scaler.h"

namespace llmscale::policy {
namespace {

using std::chrono::seconds;

SloPolicyConfig config(bool credit, bool predict) {
  auto profile = engine::load_builtin_profile("llama-3.1-8b-h100");
  SloPolicyConfig c;
  c.profile = std::make_shared<const engine::Profile>(std::move(*profile));
  c.credit = credit;
  c.predict = predict;
  c.prior_ready_time_s = 70;
  return c;
}

Signals fleet(core::Time now, std::int32_t replicas, double rate) {
  Signals s;
  s.now = now;
  s.current = s.ready = replicas;
  s.min_replicas = 1;
  s.max_replicas = 40;
  s.arrival_rate = rate;
  s.mean_input_tokens = 1000;
  s.mean_output_tokens = 200;
  for (int i = 0; i < replicas; ++i)
    s.replicas.push_back({"pod-" + std::to_string(i), true, 0.0, 1.0, 0.1, 1.0});
  return s;
}

TEST(SloPolicy, SizesForTheArrivalRate) {
  core::SimulatedClock clock;
  struct Case {
    double rate;
    std::int32_t at_least, at_most;
  };
  SloPolicy probe(config(false, false));
  double mu = replica_capacity(*config(false, false).profile, 1000, 200, 0.1, 0.85).requests_per_s;
  for (const Case& c : {Case{0, 1, 1}, Case{mu * 3, 4, 6}, Case{mu * 10, 11, 14}}) {
    SloPolicy p(config(false, false));
    Decision d = p.decide(fleet(clock.now(), 1, c.rate));
    EXPECT_GE(d.desired, c.at_least) << c.rate << ": " << d.explanation;
    EXPECT_LE(d.desired, c.at_most) << c.rate << ": " << d.explanation;
    EXPECT_NE(d.explanation.find("rate"), std::string::npos);
  }
}

TEST(SloPolicy, HysteresisBandAndWindowHoldSmallDrops) {
  core::SimulatedClock clock;
  SloPolicy p(config(false, false));
  double mu = replica_capacity(*config(false, false).profile, 1000, 200, 0.1, 0.85).requests_per_s;
  Decision up = p.decide(fleet(clock.now(), 1, mu * 18));
  ASSERT_GE(up.desired, 19);
  std::int32_t n = up.desired;
  // A drop inside the band holds; a big drop waits for the window, then scales down.
  clock.advance(seconds(5));
  Decision small = p.decide(fleet(clock.now(), n, mu * 17.5));
  EXPECT_EQ(small.desired, n) << small.explanation;
  clock.advance(seconds(5));
  Decision big = p.decide(fleet(clock.now(), n, mu * 5));
  EXPECT_EQ(big.desired, n) << big.explanation;  // the window still remembers the peak
  for (int i = 0; i < 30; ++i) {
    clock.advance(seconds(5));
    big = p.decide(fleet(clock.now(), n, mu * 5));
  }
  EXPECT_LT(big.desired, n / 2) << big.explanation;
  EXPECT_NE(big.explanation.find("scale down"), std::string::npos);
}

TEST(SloPolicy, MissingOrStaleMetricBlocksScaleDownAndSaysSo) {
  core::SimulatedClock clock;
  struct Case {
    std::string name;
    void (*breakit)(Signals&);
    std::string says;
  };
  std::vector<Case> cases = {
      {"vanished queue series", [](Signals& s) { s.replicas[2].waiting.reset(); },
       "pod-2 queue/running series missing"},
      {"stale scrape", [](Signals& s) { s.replicas[0].age_s = 120; }, "pod-0 stale 120s"},
      {"no arrival rate", [](Signals& s) { s.arrival_rate.reset(); }, "arrival rate"},
      {"token shape not learned yet", [](Signals& s) { s.mean_output_tokens.reset(); },
       "token shape"},
  };
  for (const Case& c : cases) {
    SloPolicy p(config(false, false));
    p.decide(fleet(clock.now(), 10, 0.1));  // a policy that has run a full window
    clock.advance(seconds(125));
    Signals s = fleet(clock.now(), 10, 0.1);  // far fewer needed
    c.breakit(s);
    Decision d = p.decide(s);
    EXPECT_EQ(d.desired, 10) << c.name << ": " << d.explanation;
    EXPECT_TRUE(d.scale_down_blocked) << c.name;
    EXPECT_NE(d.explanation.find("scale-down blocked: " + c.says), std::string::npos)
        << c.name << ": " << d.explanation;
  }
  // Scale-up is never blocked: a missing replica gauge does not stop growth.
  SloPolicy p(config(false, false));
  double mu = replica_capacity(*config(false, false).profile, 1000, 200, 0.1, 0.85).requests_per_s;
  Signals s = fleet(clock.now(), 2, mu * 8);
  s.replicas[0].running.reset();
  EXPECT_GT(p.decide(s).desired, 2);
}

TEST(SloPolicy, ColdStartCreditAsksForLessDuringAColdStart) {
  core::SimulatedClock clock;
  double mu = replica_capacity(*config(false, false).profile, 1000, 200, 0.1, 0.85).requests_per_s;
  auto during_cold_start = [&](SloPolicy& p) {
    // 4 ready, 6 starting for the rate; a backlog builds on the ready ones.
    Signals s = fleet(clock.now(), 4, mu * 8);
    s.current = 10;
    s.starting = 6;
    s.router_queue = 200;
    s.ready_times = {70, 72, 69};
    return p.decide(s);
  };
  SloPolicy with(config(true, false));
  SloPolicy without(config(false, false));
  Decision a = during_cold_start(with);
  Decision b = during_cold_start(without);
  EXPECT_LT(a.desired, b.desired) << a.explanation << " | " << b.explanation;
  EXPECT_NE(a.explanation.find("credit 6 starting"), std::string::npos) << a.explanation;
}

TEST(SloPolicy, ForecastScalesUpAheadButNeverDown) {
  core::SimulatedClock clock;
  double mu = replica_capacity(*config(false, false).profile, 1000, 200, 0.1, 0.85).requests_per_s;
  SloPolicy predictive(config(true, true));
  SloPolicy reactive(config(true, false));
  Decision p, r;
  std::int32_t n = 2;
  for (int i = 0; i < 12; ++i) {  // a ramp of +mu per 30 s
    double rate = mu * (1 + i * 5.0 / 30);
    p = predictive.decide(fleet(clock.now(), n, rate));
    r = reactive.decide(fleet(clock.now(), n, rate));
    clock.advance(seconds(5));
  }
  EXPECT_GT(p.desired, r.desired) << p.explanation << " | " << r.explanation;
  EXPECT_NE(p.explanation.find("scale up on forecast"), std::string::npos) << p.explanation;
  // On the way down, the forecast (below the current rate) adds nothing: same as reactive.
  SloPolicy down_p(config(true, true));
  SloPolicy down_r(config(true, false));
  for (int i = 0; i < 40; ++i) {
    double rate = std::max(0.5, mu * (12 - i * 0.5));
    p = down_p.decide(fleet(clock.now(), 14, rate));
    r = down_r.decide(fleet(clock.now(), 14, rate));
    EXPECT_EQ(p.desired, r.desired) << i << ": " << p.explanation;
    clock.advance(seconds(5));
  }
}

TEST(SloPolicy, HorizonIsTheMeasuredReadyTime) {
  SloPolicy p(config(true, true));
  Signals s;
  EXPECT_EQ(p.horizon_s(s), 70);  // the prior
  s.ready_times = {360, 340, 400, 355, 370, 365, 350, 345, 362, 390};
  EXPECT_EQ(p.horizon_s(s), 390);  // p90 of the measured cold starts
}

TEST(MakeScaler, NamesAndErrors) {
  ScalerOptions o;
  o.slo = config(true, true);
  for (const auto& name : scaler_names()) {
    auto s = make_scaler(name, o);
    ASSERT_TRUE(s) << name << ": " << s.error().message;
    EXPECT_EQ((*s)->name(), name);
  }
  auto bad = make_scaler("slo+predict+credit", o);
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("did you mean slo+credit+predict"), std::string::npos);
  EXPECT_FALSE(make_scaler("vpa", o));
}

}  // namespace
}  // namespace llmscale::policy
