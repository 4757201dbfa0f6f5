// The fleet simulator end to end on the example scenario: determinism, cold start and
// readiness, scale-up under load and scale-down after it, drain, the router queue.
#include "sim/simulator.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/log.h"
#include "sim/recommend.h"
#include "sim/report.h"
#include "sim/sim_test_support.h"

namespace llmscale::sim {
namespace {

Scenario poisson_scenario(SimOptions& options, double rate, core::Duration duration) {
  auto scenario = load_scenario({kScenario}, options);
  EXPECT_TRUE(scenario) << scenario.error().message;
  scenario->workload = WorkloadConfig{};
  scenario->workload.kind = WorkloadKind::kPoisson;
  scenario->workload.rate = rate;
  scenario->workload.duration = duration;
  scenario->workload.input_mean = 500;
  scenario->workload.output_mean = 50;
  // Under the sanitizers a PromQL pass per 1 s scrape dominates; the seeds' 15 s keeps tests
  // short (the pipeline is exercised the same way).
  options.pipeline.scrape_interval = std::chrono::seconds(15);
  return *scenario;
}

TEST(Simulator, LoadsTheScenarioAndItsSimulationKnobs) {
  SimOptions options;
  auto scenario = load_scenario({kScenario}, options);
  ASSERT_TRUE(scenario) << scenario.error().message;
  EXPECT_EQ(scenario->config.fleets.size(), 1u);
  EXPECT_EQ(scenario->config.hpas.size(), 1u);
  EXPECT_EQ(scenario->workload.kind, WorkloadKind::kTrace);
  EXPECT_EQ(scenario->workload.rate_scale, 2);
  ASSERT_TRUE(options.cold_start);
  EXPECT_EQ(*options.cold_start, std::chrono::seconds(60));
}

TEST(Simulator, SameSeedSameBytes) {
  SimOptions options;
  Scenario scenario = poisson_scenario(options, 4, std::chrono::minutes(2));
  options.tail = std::chrono::seconds(30);
  auto a = simulate(scenario, options);
  auto b = simulate(scenario, options);
  ASSERT_TRUE(a && b);
  EXPECT_EQ(requests_csv(*a), requests_csv(*b));
  EXPECT_EQ(seconds_csv(*a), seconds_csv(*b));
  EXPECT_EQ(scale_events_csv(*a), scale_events_csv(*b));
  options.seed = 2;
  scenario.workload.seed = 2;
  auto c = simulate(scenario, options);
  ASSERT_TRUE(c);
  EXPECT_NE(requests_csv(*a), requests_csv(*c));
}

TEST(Simulator, ScalesUpUnderLoadAfterColdStartsAndDownAfterIt) {
  SimOptions options;
  Scenario scenario = poisson_scenario(options, 40, std::chrono::minutes(3));
  options.downscale_stabilization = std::chrono::minutes(1);
  options.tail = std::chrono::minutes(4);
  auto r = simulate(scenario, options);
  ASSERT_TRUE(r) << r.error().message;
  Summary s = summarize(*r, Slo{});
  EXPECT_EQ(s.requests, s.ok + s.rejected + s.aborted);
  EXPECT_GT(s.ok, s.requests * 9 / 10);
  ASSERT_GE(r->scale_events.size(), 2u);
  EXPECT_GT(r->scale_events.front().to, r->scale_events.front().from);
  EXPECT_GT(s.max_replicas, 1);
  // Scaled down again once the load stopped.
  EXPECT_LT(r->samples.back().desired, s.max_replicas);
  EXPECT_GT(s.scale_downs, 0u);
  // Cold start: 60 s, then the first 1 s readiness probe at or after it.
  for (const auto& pod : r->pods) {
    if (!pod.ready || pod.created == 0) continue;  // the initial pod starts warm
    EXPECT_GE(*pod.ready - pod.created, 60.0 - 1e-9);
    EXPECT_LE(*pod.ready - pod.created, 61.0 + 1e-9);
  }
  // Every pod removed after a scale-down was drained within the grace period.
  for (const auto& pod : r->pods) {
    if (pod.deleted && pod.removed) {
      EXPECT_LE(*pod.removed - *pod.deleted, 30.0 + 1e-9);
    }
  }
  // The metric the controller saw is recorded against its target.
  bool saw = false;
  for (const auto& x : r->samples) saw = saw || (x.metric > 0 && x.target == 24);
  EXPECT_TRUE(saw);
}

TEST(Simulator, RequestsWaitInTheRouterUntilAReplicaIsReady) {
  SimOptions options;
  Scenario scenario = poisson_scenario(options, 1, std::chrono::seconds(30));
  options.tail = std::chrono::seconds(60);
  auto warm = simulate(scenario, options);
  ASSERT_TRUE(warm);
  ASSERT_FALSE(warm->requests.empty());
  EXPECT_EQ(warm->requests.front().router_wait, 0);  // the initial replica is up at 0
  options.start_warm = false;
  auto r = simulate(scenario, options);
  ASSERT_TRUE(r);
  // A cold fleet: the first pod is ready at 60 s; the first request arrived at 0 and waited.
  EXPECT_EQ(r->requests.front().status, RequestStatus::kOk);
  EXPECT_NEAR(r->requests.front().router_wait, 60.0, 1e-6);
  EXPECT_GE(r->requests.front().ttft, 60.0);
  // A queue timeout shorter than the cold start rejects them.
  options.router_queue_timeout = std::chrono::seconds(10);
  auto rejected = simulate(scenario, options);
  ASSERT_TRUE(rejected);
  EXPECT_EQ(rejected->requests.front().status, RequestStatus::kRejected);
}

TEST(Simulator, ReportsAreWellFormed) {
  SimOptions options;
  Scenario scenario = poisson_scenario(options, 2, std::chrono::minutes(1));
  options.tail = std::chrono::seconds(30);
  auto r = simulate(scenario, options);
  ASSERT_TRUE(r);
  Slo slo;
  Summary s = summarize(*r, slo);
  std::string json = summary_json(s, *r, slo);
  auto parsed = nlohmann::json::parse(json, nullptr, false);
  ASSERT_FALSE(parsed.is_discarded()) << json;
  EXPECT_EQ(parsed["requests"]["total"], r->requests.size());
  std::string html = html_report(s, *r, slo, "test");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);  // self-contained, static
}

// Light load (1 request/s) that one replica serves well within the SLO: every configuration meets
// it, so the cheapest is the answer — minReplicas 1 with the target that never asks for a second
// replica (100 running requests per replica), not target 0.1 (scales out as soon as a request is in
// flight) nor minReplicas 2.
TEST(Recommend, FindsTheCheapestConfigurationThatMeetsTheSlo) {
  SimOptions options;
  Scenario scenario = poisson_scenario(options, 1, std::chrono::minutes(2));
  scenario.workload.output_mean = 300;  // ~2 s in flight: about 2 running on average
  options.tail = std::chrono::seconds(30);
  options.cold_start = std::chrono::seconds(10);
  SearchSpace space;
  space.metrics = {{"prometheus.googleapis.com|vllm:num_requests_running|gauge", {0.1, 100}}};
  space.min_replicas = {1, 2};
  space.max_replicas = {4};
  Slo slo{2.0, 0.2, 0.9};
  auto ranked = recommend(scenario, options, slo, space, 2);
  ASSERT_TRUE(ranked) << ranked.error().message;
  ASSERT_EQ(ranked->size(), 4u);
  const Ranked& best = ranked->front();
  EXPECT_TRUE(best.error.empty()) << best.error;
  EXPECT_TRUE(best.summary.slo_met);
  EXPECT_EQ(best.candidate.min_replicas, 1);
  EXPECT_EQ(best.candidate.target, 100);
  for (std::size_t i = 1; i < ranked->size(); ++i)
    EXPECT_LE(best.summary.replica_hours, (*ranked)[i].summary.replica_hours);
  // The manifest carries what was simulated.
  auto hpa = apply_candidate(scenario.config.hpas.front(), best.candidate);
  ASSERT_TRUE(hpa.spec.behavior && hpa.spec.behavior->scale_down);
  EXPECT_EQ(hpa.spec.behavior->scale_down->stabilization_window_seconds, 300);
  EXPECT_EQ(hpa.spec.min_replicas, 1);
  EXPECT_EQ(hpa.spec.max_replicas, 4);
}

}  // namespace
}  // namespace llmscale::sim
