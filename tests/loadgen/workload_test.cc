// Arrival processes (rate, dispersion, determinism), bursts, trace replay scaling, synthetic
// token counts and prompts.
#include "loadgen/workload.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "loadgen/prompt.h"

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

struct GapStats {
  double mean = 0;
  double cv = 0;
};

GapStats gaps_of(const WorkloadSpec& spec, int n, std::uint64_t seed = 7) {
  ArrivalGenerator generator(spec, seed);
  std::vector<double> gaps;
  double previous = 0;
  for (int i = 0; i < n; ++i) {
    auto a = generator.next();
    EXPECT_TRUE(a.has_value());
    double t = core::to_seconds(a->offset);
    if (i > 0) gaps.push_back(t - previous);
    previous = t;
  }
  double mean = std::accumulate(gaps.begin(), gaps.end(), 0.0) / static_cast<double>(gaps.size());
  double var = 0;
  for (double g : gaps) var += (g - mean) * (g - mean);
  var /= static_cast<double>(gaps.size());
  return {mean, std::sqrt(var) / mean};
}

TEST(WorkloadTest, PoissonRateAndDispersion) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = 50;
  GapStats s = gaps_of(spec, 40000);
  EXPECT_NEAR(s.mean, 1.0 / 50, 0.02 / 50);  // 2% (40k samples: stderr 0.5%)
  EXPECT_NEAR(s.cv, 1.0, 0.03);
}

TEST(WorkloadTest, GammaBurstinessSetsDispersion) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = 10;
  spec.arrival = ArrivalProcess::kGamma;
  for (double burstiness : {0.25, 1.0, 4.0}) {
    spec.burstiness = burstiness;
    GapStats s = gaps_of(spec, 60000);
    EXPECT_NEAR(s.mean, 0.1, 0.004) << "burstiness " << burstiness;
    EXPECT_NEAR(s.cv, 1.0 / std::sqrt(burstiness), 0.05 / std::sqrt(burstiness))
        << "burstiness " << burstiness;
  }
}

TEST(WorkloadTest, ConstantArrivalsStartAtZero) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = 4;
  spec.arrival = ArrivalProcess::kConstant;
  ArrivalGenerator generator(spec, 1);
  EXPECT_EQ(generator.next()->offset, 0ms);
  EXPECT_EQ(generator.next()->offset, 250ms);
  EXPECT_EQ(generator.next()->offset, 500ms);
}

TEST(WorkloadTest, SameSeedSameWorkload) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = 3;
  spec.input = {200, 10};
  spec.output = {100, 20};
  ArrivalGenerator a(spec, 42), b(spec, 42), c(spec, 43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    auto x = a.next(), y = b.next(), z = c.next();
    EXPECT_EQ(x->offset, y->offset);
    EXPECT_EQ(x->input_tokens, y->input_tokens);
    EXPECT_EQ(x->output_tokens, y->output_tokens);
    EXPECT_EQ(x->prompt_seed, y->prompt_seed);
    differs = differs || x->offset != z->offset;
  }
  EXPECT_TRUE(differs);
}

TEST(WorkloadTest, SyntheticTokenCounts) {
  WorkloadSpec spec;  // closed loop
  spec.input = {200, 10};
  spec.output = {0, 0};
  ArrivalGenerator generator(spec, 3);
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    auto a = generator.next();
    EXPECT_EQ(a->output_tokens, 0);  // unset: the server decides
    EXPECT_GE(a->input_tokens, 1);
    sum += static_cast<double>(a->input_tokens);
    sum_sq += static_cast<double>(a->input_tokens * a->input_tokens);
  }
  double mean = sum / n;
  EXPECT_NEAR(mean, 200, 0.5);
  EXPECT_NEAR(std::sqrt(sum_sq / n - mean * mean), 10, 0.3);

  spec.input = {3, 50};  // clamped at 1
  spec.output = {200, 0};
  ArrivalGenerator clamped(spec, 3);
  for (int i = 0; i < 1000; ++i) {
    auto a = clamped.next();
    EXPECT_GE(a->input_tokens, 1);
    EXPECT_EQ(a->output_tokens, 200);
  }
}

TEST(WorkloadTest, OneBurstThenDone) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kBurst;
  spec.burst_size = 100;
  ArrivalGenerator generator(spec, 1);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(generator.next()->offset, 0ms);
  EXPECT_FALSE(generator.next().has_value());
}

TEST(WorkloadTest, RepeatedBursts) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kBurst;
  spec.burst_size = 3;
  spec.burst_interval = 10s;
  ArrivalGenerator generator(spec, 1);
  std::vector<core::Duration> offsets;
  for (int i = 0; i < 7; ++i) offsets.push_back(generator.next()->offset);
  EXPECT_EQ(offsets, (std::vector<core::Duration>{0s, 0s, 0s, 10s, 10s, 10s, 20s}));
}

std::shared_ptr<Trace> trace_with(std::vector<std::pair<int, int>> ms_and_tokens) {
  auto trace = std::make_shared<Trace>();
  for (auto [ms, tokens] : ms_and_tokens) {
    TraceRow row;
    row.offset = std::chrono::milliseconds(ms);
    row.input_tokens = tokens;
    row.output_tokens = tokens / 2 + 1;
    trace->rows.push_back(row);
  }
  return trace;
}

TEST(WorkloadTest, TraceReplayAndTimeScale) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kTrace;
  spec.trace = trace_with({{0, 10}, {1000, 20}, {3000, 30}});
  spec.time_scale = 0.5;
  ArrivalGenerator generator(spec, 1);
  auto a = generator.next(), b = generator.next(), c = generator.next();
  EXPECT_EQ(a->offset, 0ms);
  EXPECT_EQ(b->offset, 500ms);
  EXPECT_EQ(c->offset, 1500ms);
  EXPECT_EQ(c->input_tokens, 30);
  EXPECT_EQ(c->output_tokens, 16);
  EXPECT_FALSE(generator.next().has_value());
}

TEST(WorkloadTest, RateScaleSpreadsCopiesAndKeepsTheSpan) {
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kTrace;
  spec.trace = trace_with({{0, 10}, {1000, 20}, {2000, 30}});
  spec.rate_scale = 2;
  ArrivalGenerator generator(spec, 1);
  std::vector<core::Duration> offsets;
  while (auto a = generator.next()) offsets.push_back(a->offset);
  // Two copies per row, the second halfway to the next row (the last row has no gap).
  EXPECT_EQ(offsets, (std::vector<core::Duration>{0ms, 500ms, 1000ms, 1500ms, 2000ms, 2000ms}));
}

TEST(WorkloadTest, FractionalRateScaleHasTheRightMean) {
  std::vector<std::pair<int, int>> rows;
  for (int i = 0; i < 20000; ++i) rows.push_back({i * 10, 5});
  WorkloadSpec spec;
  spec.kind = WorkloadKind::kTrace;
  spec.trace = trace_with(rows);
  for (double scale : {0.3, 2.5}) {
    spec.rate_scale = scale;
    ArrivalGenerator generator(spec, 9);
    int count = 0;
    core::Duration last{};
    while (auto a = generator.next()) {
      EXPECT_GE(a->offset, last);  // still in time order
      last = a->offset;
      ++count;
    }
    EXPECT_NEAR(count, 20000 * scale, 20000 * scale * 0.03) << "scale " << scale;
    EXPECT_LE(last, 199990ms);
  }
}

TEST(WorkloadTest, ValidationMessages) {
  WorkloadSpec spec;
  spec.concurrency = 0;
  EXPECT_EQ(validate_workload(spec).error().message, "--concurrency must be >= 1");
  spec = {};
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = -1;
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec.rate = 1;
  spec.burstiness = 0;
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec = {};
  spec.kind = WorkloadKind::kTrace;
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec.trace = trace_with({{0, 1}});
  spec.rate_scale = 0;
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec = {};
  spec.input = {0, 0};
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec.input = {10, NAN};
  EXPECT_FALSE(validate_workload(spec).has_value());
  spec = {};
  EXPECT_TRUE(validate_workload(spec).has_value());
}

TEST(WorkloadTest, Describe) {
  WorkloadSpec spec;
  spec.concurrency = 10;
  EXPECT_EQ(spec.describe(), "concurrency=10");
  spec.kind = WorkloadKind::kOpenLoop;
  spec.rate = 2.5;
  spec.arrival = ArrivalProcess::kGamma;
  spec.burstiness = 0.5;
  EXPECT_EQ(spec.describe(), "rate=2.5/s gamma burstiness=0.5");
  spec.kind = WorkloadKind::kBurst;
  spec.burst_size = 100;
  EXPECT_EQ(spec.describe(), "burst=100");
  spec.kind = WorkloadKind::kTrace;
  spec.time_scale = 0.1;
  EXPECT_EQ(spec.describe(), "trace time-scale=0.1");
}

TEST(PromptTest, ExactWordCount) {
  for (std::int64_t n : {0, 1, 2, 7, 512, 1000}) {
    std::string prompt = make_prompt(n, 99);
    EXPECT_EQ(count_words(prompt), n);
    EXPECT_EQ(prompt.find("  "), std::string::npos);
  }
  EXPECT_EQ(make_prompt(50, 1), make_prompt(50, 1));
  EXPECT_NE(make_prompt(50, 1), make_prompt(50, 2));
}

TEST(PromptTest, SharedHashIdsShareAPrefix) {
  std::vector<std::uint64_t> a = {7, 8, 9}, b = {7, 8, 10};
  std::string pa = make_prompt(1300, 1, &a), pb = make_prompt(1200, 2, &b);
  EXPECT_EQ(count_words(pa), 1300);
  EXPECT_EQ(count_words(pb), 1200);
  // The first two blocks (1024 words) are identical; the third differs.
  auto prefix_words = [](const std::string& x, const std::string& y) {
    std::size_t i = 0;
    while (i < x.size() && i < y.size() && x[i] == y[i]) ++i;
    return count_words(std::string_view(x).substr(0, i));
  };
  std::int64_t shared = prefix_words(pa, pb);
  EXPECT_GE(shared, 1024);
  EXPECT_LT(shared, 1100);
}

TEST(PromptTest, CountWords) {
  EXPECT_EQ(count_words(""), 0);
  EXPECT_EQ(count_words("  a\tb\nc  "), 3);
  EXPECT_EQ(count_words("hello"), 1);
}

}  // namespace
}  // namespace llmscale::loadgen
