// Simulator workloads: synthetic processes, trace slicing and scaling through loadgen's reader.
#include "sim/workload.h"

#include <filesystem>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace llmscale::sim {
namespace {

constexpr const char* kAzureConv = "/work/shared/traces/azure2023/AzureLLMInferenceTrace_conv.csv";
constexpr const char* kMooncake = "/work/shared/traces/mooncake/synthetic_trace.jsonl.gz";

TEST(SimWorkload, PoissonHasTheRateAndIsDeterministic) {
  WorkloadConfig c;
  c.kind = WorkloadKind::kPoisson;
  c.rate = 10;
  c.duration = std::chrono::minutes(10);
  auto a = generate_arrivals(c);
  auto b = generate_arrivals(c);
  ASSERT_TRUE(a && b);
  EXPECT_NEAR(static_cast<double>(a->list.size()), 6000, 300);
  ASSERT_EQ(a->list.size(), b->list.size());
  for (std::size_t i = 0; i < a->list.size(); ++i) EXPECT_EQ(a->list[i].offset, b->list[i].offset);
  EXPECT_EQ(a->list.front().offset, core::Duration::zero());
  EXPECT_TRUE(std::is_sorted(a->list.begin(), a->list.end(),
                             [](auto& x, auto& y) { return x.offset < y.offset; }));
}

TEST(SimWorkload, RampRisesAndDiurnalFollowsTheSine) {
  WorkloadConfig c;
  c.kind = WorkloadKind::kRamp;
  c.rate = 1;
  c.rate_end = 19;
  c.duration = std::chrono::seconds(1000);
  auto a = generate_arrivals(c);
  ASSERT_TRUE(a);
  std::size_t first_half = 0;
  for (const auto& x : a->list) first_half += x.offset < std::chrono::seconds(500) ? 1 : 0;
  // Expected: 2750 in the first half (mean rate 5.5), 10000 in all.
  EXPECT_NEAR(static_cast<double>(a->list.size()), 10000, 400);
  EXPECT_NEAR(static_cast<double>(first_half), 2750, 200);

  c.kind = WorkloadKind::kDiurnal;
  c.rate = 10;
  c.amplitude = 0.5;
  c.period = std::chrono::seconds(1000);
  a = generate_arrivals(c);
  ASSERT_TRUE(a);
  std::size_t peak = 0, trough = 0;  // first vs third quarter of the period
  for (const auto& x : a->list) {
    if (x.offset < std::chrono::seconds(250)) ++peak;
    if (x.offset >= std::chrono::seconds(500) && x.offset < std::chrono::seconds(750)) ++trough;
  }
  EXPECT_GT(peak, trough * 3 / 2);
}

TEST(SimWorkload, AzureWindowIsSlicedAndRateScaled) {
  if (!std::filesystem::exists(kAzureConv)) GTEST_SKIP() << kAzureConv << " not present";
  WorkloadConfig c;
  c.kind = WorkloadKind::kTrace;
  c.trace_path = kAzureConv;
  c.window_start = std::chrono::minutes(10);
  c.window_end = std::chrono::minutes(20);
  ASSERT_TRUE(load_trace_for(c));
  EXPECT_EQ(c.trace->rows.size(), 19366u);
  auto once = generate_arrivals(c);
  ASSERT_TRUE(once);
  EXPECT_GT(once->list.size(), 1000u);
  EXPECT_LE(once->span, std::chrono::minutes(10));
  c.rate_scale = 2;
  auto twice = generate_arrivals(c);
  ASSERT_TRUE(twice);
  EXPECT_EQ(twice->list.size(), 2 * once->list.size());
  c.rate_scale = 1;
  c.time_scale = 0.5;
  auto fast = generate_arrivals(c);
  ASSERT_TRUE(fast);
  EXPECT_EQ(fast->list.size(), once->list.size());
  EXPECT_LE(fast->span, std::chrono::minutes(5));
}

TEST(SimWorkload, MooncakeKeepsHashIds) {
  if (!std::filesystem::exists(kMooncake)) GTEST_SKIP() << kMooncake << " not present";
  WorkloadConfig c;
  c.kind = WorkloadKind::kTrace;
  c.trace_path = kMooncake;
  ASSERT_TRUE(load_trace_for(c));
  auto a = generate_arrivals(c);
  ASSERT_TRUE(a);
  EXPECT_EQ(a->list.size(), 3993u);
  ASSERT_NE(a->list.front().hash_ids, nullptr);
  EXPECT_FALSE(a->list.front().hash_ids->empty());
}

TEST(SimWorkload, DecodeNamesTheField) {
  auto bad = decode_workload(core::Json::parse(R"({"kind": "poisson", "rate": "x"})"), "");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message, "workload.spec.rate: expected a number");
  auto ok = decode_workload(
      core::Json::parse(R"({"kind": "ramp", "rate": 1, "rateEnd": 5, "duration": "2m",
                            "input": {"mean": 100}, "output": {"mean": 20, "stddev": 5}})"),
      "");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->kind, WorkloadKind::kRamp);
  EXPECT_EQ(ok->duration, std::chrono::minutes(2));
  EXPECT_EQ(ok->rate_end, 5);
  EXPECT_EQ(ok->input_mean, 100);
  EXPECT_EQ(ok->output_stddev, 5);
}

}  // namespace
}  // namespace llmscale::sim
