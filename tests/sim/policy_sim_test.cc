// Policy scalers inside the simulator (--scaler): the ranking on a short synthetic ramp (the
// latency-SLO policy with cold-start credit meets the SLO with fewer replica-seconds than the
// reactive HPA with the same cold start), decisions recorded with their explanation, and the
// HPA path untouched when no policy is chosen.
#include <gtest/gtest.h>

#include "core/log.h"
#include "sim/report.h"
#include "sim/sim_test_support.h"
#include "sim/simulator.h"

namespace llmscale::sim {
namespace {

core::Result<SimResult> ramp(const std::string& scaler) {
  SimOptions options;
  auto scenario = load_scenario({kScenario}, options);
  if (!scenario) return tl::unexpected(scenario.error());
  scenario->workload = WorkloadConfig{};
  scenario->workload.kind = WorkloadKind::kRamp;
  scenario->workload.rate = 1;
  scenario->workload.rate_end = 15;
  scenario->workload.duration = std::chrono::minutes(3);
  scenario->workload.input_mean = 1500;
  scenario->workload.output_mean = 300;
  options.pipeline.scrape_interval = std::chrono::seconds(15);  // short under the sanitizers
  options.tail = std::chrono::minutes(2);
  options.scaler = scaler;  // same 60 s cold start (the scenario's) for every scaler
  return simulate(*scenario, options);
}

TEST(PolicySim, SloWithCreditBeatsTheReactiveHpaOnARamp) {
  auto hpa = ramp("hpa");
  auto slo = ramp("slo+credit");
  ASSERT_TRUE(hpa) << hpa.error().message;
  ASSERT_TRUE(slo) << slo.error().message;
  Slo target;  // 1 s TTFT, 100 ms TPOT at p90
  Summary h = summarize(*hpa, target);
  Summary s = summarize(*slo, target);
  EXPECT_EQ(h.requests, s.requests);  // the same traffic
  EXPECT_GE(s.ttft_attainment, 0.99);
  EXPECT_TRUE(s.slo_met);
  EXPECT_LT(slo->replica_seconds, hpa->replica_seconds)
      << "slo+credit " << slo->replica_seconds << " s vs hpa " << hpa->replica_seconds << " s";
  EXPECT_EQ(s.rejected + s.aborted, 0u);
  // Its decisions are recorded, each with the signal, the capacity and the credit.
  ASSERT_FALSE(slo->decisions.empty());
  EXPECT_NE(slo->decisions.back().explanation.find("per replica"), std::string::npos);
  EXPECT_NE(slo->decisions.back().explanation.find("credit"), std::string::npos);
  EXPECT_NE(decisions_csv(*slo).find("slo+credit"), std::string::npos);
  EXPECT_TRUE(hpa->decisions.empty());  // the HPA path is the controller's own
  EXPECT_EQ(hpa->scaler, "hpa");
}

TEST(PolicySim, AdvisoryRecordsThePolicyBesideTheHpaWithoutActing) {
  auto run = [](const std::string& advise) {
    SimOptions options;
    auto scenario = load_scenario({kScenario}, options);
    EXPECT_TRUE(scenario);
    scenario->workload = WorkloadConfig{};
    scenario->workload.kind = WorkloadKind::kPoisson;
    scenario->workload.rate = 30;
    scenario->workload.duration = std::chrono::minutes(1);
    scenario->workload.input_mean = 1500;
    scenario->workload.output_mean = 300;
    options.pipeline.scrape_interval = std::chrono::seconds(15);
    options.tail = std::chrono::seconds(30);
    options.advise = advise;
    return simulate(*scenario, options);
  };
  auto plain = run("");
  auto advised = run("slo+credit+predict");
  ASSERT_TRUE(plain && advised);
  EXPECT_EQ(scale_events_csv(*plain), scale_events_csv(*advised));  // the HPA alone acted
  EXPECT_EQ(requests_csv(*plain), requests_csv(*advised));
  EXPECT_TRUE(plain->decisions.empty());
  ASSERT_FALSE(advised->decisions.empty());
  EXPECT_EQ(advised->decided_by, "slo+credit+predict");
  // It would have asked for more than the single replica at 30 requests/s of 1500/300 tokens.
  std::int32_t wanted = 0;
  for (const auto& d : advised->decisions) wanted = std::max(wanted, d.desired);
  EXPECT_GT(wanted, 1);
}

TEST(PolicySim, UnknownScalerIsAnError) {
  auto r = ramp("vpa");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("unknown scaler \"vpa\""), std::string::npos)
      << r.error().message;
}

}  // namespace
}  // namespace llmscale::sim
