// Scale-down victims in the simulator (SimOptions::scale_down, `simulate --scale-down`): the
// ReplicaSet ranking alone against drain-aware (pod-deletion-cost from in-flight tokens), on a
// load that scales out and back while long streams run; the outputs without the option unchanged.
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "sim/report.h"
#include "sim/sim_test_support.h"
#include "sim/simulator.h"

namespace llmscale::sim {
namespace {

// Waves of generations of very different lengths (1000 ± 900 output tokens, up to about a minute
// at the engine's pace): the fleet scales out on each wave and back in after it, while streams of
// every length are still running on the replicas.
Scenario long_stream_scenario(SimOptions& options) {
  auto scenario = load_scenario({kScenario}, options);
  EXPECT_TRUE(scenario) << scenario.error().message;
  scenario->workload = WorkloadConfig{};
  scenario->workload.kind = WorkloadKind::kDiurnal;
  scenario->workload.rate = 3;
  scenario->workload.amplitude = 0.9;
  scenario->workload.period = std::chrono::minutes(3);
  scenario->workload.duration = std::chrono::minutes(9);
  scenario->workload.input_mean = 1000;
  scenario->workload.input_stddev = 500;
  scenario->workload.output_mean = 1000;
  scenario->workload.output_stddev = 900;
  options.pipeline.scrape_interval = std::chrono::seconds(15);
  options.downscale_stabilization = std::chrono::seconds(30);
  options.tail = std::chrono::minutes(4);
  return *scenario;
}

TEST(SimScaleDown, WithoutTheOptionTheOutputsAreThoseOfTheReplicaSetRanking) {
  SimOptions options;
  Scenario scenario = long_stream_scenario(options);
  auto before = simulate(scenario, options);
  options.scale_down = "replicaset";
  auto replicaset = simulate(scenario, options);
  ASSERT_TRUE(before && replicaset);
  EXPECT_EQ(requests_csv(*before), requests_csv(*replicaset));
  EXPECT_EQ(seconds_csv(*before), seconds_csv(*replicaset));
  EXPECT_EQ(scale_events_csv(*before), scale_events_csv(*replicaset));
  Slo slo;
  auto plain = nlohmann::json::parse(summary_json(summarize(*before, slo), *before, slo));
  auto with = nlohmann::json::parse(summary_json(summarize(*replicaset, slo), *replicaset, slo));
  EXPECT_FALSE(plain.contains("scaleDown"));
  ASSERT_TRUE(with.contains("scaleDown"));
  EXPECT_EQ(with["scaleDown"]["policy"], "replicaset");
  with.erase("scaleDown");
  EXPECT_EQ(plain, with);
  options.scale_down = "random";
  EXPECT_FALSE(simulate(scenario, options));
}

TEST(SimScaleDown, DrainAwareVictimsCarryFewerTokensAndDrainSooner) {
  SimOptions options;
  Scenario scenario = long_stream_scenario(options);
  options.scale_down = "replicaset";
  auto replicaset = simulate(scenario, options);
  options.scale_down = "drain-aware";
  auto drain_aware = simulate(scenario, options);
  ASSERT_TRUE(replicaset && drain_aware);
  Slo slo;
  Summary rs = summarize(*replicaset, slo);
  Summary da = summarize(*drain_aware, slo);
  ASSERT_GT(rs.victims, 0u);
  ASSERT_GT(da.victims, 0u);
  // The scale-downs happened with streams running (else the comparison says nothing).
  EXPECT_GT(rs.victim_requests, 0);
  EXPECT_LT(da.victim_tokens, rs.victim_tokens);
  EXPECT_LT(da.drain_seconds, rs.drain_seconds);
  EXPECT_LE(da.aborted, rs.aborted);
  // The same decisions seen by both rankings: drain-aware never picks victims carrying more,
  // and here picks ones carrying less in total.
  for (const auto* run : {&*replicaset, &*drain_aware}) {
    ASSERT_FALSE(run->scale_down_choices.empty());
    for (const ScaleDownChoice& c : run->scale_down_choices)
      EXPECT_LE(c.drain_aware_tokens, c.replicaset_tokens) << "at " << c.t;
  }
  EXPECT_LT(rs.drain_aware_choice_tokens, rs.replicaset_choice_tokens);
  EXPECT_LT(da.drain_aware_choice_tokens, da.replicaset_choice_tokens);
  // The applied ranking is the one whose victims were terminated.
  EXPECT_EQ(da.victim_tokens, da.drain_aware_choice_tokens);
  EXPECT_EQ(rs.victim_tokens, rs.replicaset_choice_tokens);
  EXPECT_EQ(da.requests, da.ok + da.rejected + da.aborted);
  auto json = nlohmann::json::parse(summary_json(da, *drain_aware, slo));
  EXPECT_EQ(json["scaleDown"]["policy"], "drain-aware");
  EXPECT_EQ(json["scaleDown"]["victims"], da.victims);
}

TEST(SimScaleDown, AGracePeriodLongerThanEveryStreamCutsNothing) {
  SimOptions options;
  Scenario scenario = long_stream_scenario(options);
  for (auto& fleet : scenario.config.fleets) fleet.template_.termination_grace_period_seconds = 600;
  for (const char* policy : {"replicaset", "drain-aware"}) {
    options.scale_down = policy;
    auto r = simulate(scenario, options);
    ASSERT_TRUE(r);
    Summary s = summarize(*r, Slo{});
    EXPECT_GT(s.victims, 0u) << policy;
    EXPECT_EQ(s.aborted, 0u) << policy;  // every stream in flight on a victim finished
    EXPECT_EQ(s.ok + s.rejected, s.requests) << policy;
  }
}

}  // namespace
}  // namespace llmscale::sim
