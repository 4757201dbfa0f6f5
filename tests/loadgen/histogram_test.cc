// Histogram: exact small values, the relative error bound of every quantile, and exact merging
// (unit cases plus rapidcheck properties over random data).
#include "loadgen/histogram.h"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace llmscale::loadgen {
namespace {

// The value of nearest rank ceil(q * n) in sorted data: what quantile() estimates.
std::int64_t exact_quantile(std::vector<std::int64_t> values, double q) {
  std::sort(values.begin(), values.end());
  if (q <= 0) return values.front();
  if (q >= 1) return values.back();
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
  rank = std::clamp<std::size_t>(rank, 1, values.size());
  return values[rank - 1];
}

TEST(HistogramTest, EmptyReportsZeros) {
  Histogram h;
  EXPECT_TRUE(h.empty());
  EXPECT_EQ(h.quantile(0.5), 0);
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), 0);
  EXPECT_EQ(h.mean(), 0);
  EXPECT_EQ(h.stddev(), 0);
}

TEST(HistogramTest, SmallValuesAreExact) {
  Histogram h(7);
  for (int v = 0; v < 256; ++v) h.record(v);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(h.bucket_width(h.bucket_index(v)), 1);
  EXPECT_EQ(h.quantile(0.5), 127);  // rank 128 of 0..255
  EXPECT_EQ(h.quantile(1.0), 255);
  EXPECT_EQ(h.quantile(0.0), 0);
  EXPECT_DOUBLE_EQ(h.mean(), 127.5);
}

TEST(HistogramTest, BucketsTileTheRangeWithoutGaps) {
  Histogram h(4);
  std::uint64_t expected_lower = 0;
  // Up to the bucket holding INT64_MAX: (64 - 4) * 16 buckets.
  for (std::size_t i = 0; i < 60 * 16; ++i) {
    ASSERT_EQ(static_cast<std::uint64_t>(h.bucket_lower(i)), expected_lower) << "bucket " << i;
    ASSERT_EQ(h.bucket_index(h.bucket_lower(i)), i);
    ASSERT_EQ(h.bucket_index(static_cast<std::int64_t>(
                  expected_lower + static_cast<std::uint64_t>(h.bucket_width(i) - 1))),
              i);
    // Width never exceeds 2^-p of the lower bound (beyond the exact region).
    if (h.bucket_width(i) > 1) {
      ASSERT_LE(static_cast<double>(h.bucket_width(i)) / static_cast<double>(h.bucket_lower(i)),
                1.0 / 16);
    }
    expected_lower += static_cast<std::uint64_t>(h.bucket_width(i));
  }
}

TEST(HistogramTest, ExtremesAndNegatives) {
  Histogram h;
  h.record(-5);
  h.record(std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(h.min(), 0);
  EXPECT_EQ(h.max(), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(h.quantile(1), std::numeric_limits<std::int64_t>::max());
  EXPECT_EQ(h.count(), 2u);
}

TEST(HistogramTest, MeanAndStddevAreExactForLatencies) {
  Histogram h;
  // 1 ms and 3 ms in nanoseconds: mean 2 ms, stddev 1 ms.
  h.record(1'000'000);
  h.record(3'000'000);
  EXPECT_DOUBLE_EQ(h.mean(), 2'000'000);
  EXPECT_NEAR(h.stddev(), 1'000'000, 1e-3);
}

TEST(HistogramTest, CountsWeighted) {
  Histogram a, b;
  a.record(1000, 3);
  for (int i = 0; i < 3; ++i) b.record(1000);
  EXPECT_EQ(a, b);
}

// Every quantile is within the bound of the exact value at that rank.
RC_GTEST_PROP(HistogramProperties, QuantilesWithinRelativeErrorBound, ()) {
  int precision = *rc::gen::inRange(1, 11);
  auto values = *rc::gen::nonEmpty(rc::gen::container<std::vector<std::int64_t>>(rc::gen::oneOf(
      rc::gen::inRange<std::int64_t>(0, 1000),
      rc::gen::inRange<std::int64_t>(0, std::int64_t{1} << 40),
      rc::gen::map(rc::gen::inRange(0, 62), [](int e) { return (std::int64_t{1} << e) + e; }))));
  Histogram h(precision);
  for (auto v : values) h.record(v);
  RC_ASSERT(h.count() == values.size());
  RC_ASSERT(h.min() == *std::min_element(values.begin(), values.end()));
  RC_ASSERT(h.max() == *std::max_element(values.begin(), values.end()));
  for (double q : {0.0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99, 0.999, 1.0}) {
    double exact = static_cast<double>(exact_quantile(values, q));
    double estimate = static_cast<double>(h.quantile(q));
    RC_ASSERT(std::fabs(estimate - exact) <= h.relative_error_bound() * exact + 1e-9);
  }
}

// merge(h(A), h(B)) == h(A ∪ B), in any grouping.
RC_GTEST_PROP(HistogramProperties, MergeEqualsHistogramOfUnion, ()) {
  auto gen_values = rc::gen::container<std::vector<std::int64_t>>(
      rc::gen::inRange<std::int64_t>(0, std::int64_t{1} << 45));
  auto a = *gen_values;
  auto b = *gen_values;
  auto c = *gen_values;
  Histogram ha, hb, hc, all;
  for (auto v : a) ha.record(v), all.record(v);
  for (auto v : b) hb.record(v), all.record(v);
  for (auto v : c) hc.record(v), all.record(v);
  Histogram left = ha;  // (a + b) + c
  left.merge(hb);
  left.merge(hc);
  Histogram right = hc;  // c + (b + a)
  Histogram ba = hb;
  ba.merge(ha);
  right.merge(ba);
  RC_ASSERT(left == all);
  RC_ASSERT(right == all);
  RC_ASSERT(left.quantile(0.99) == all.quantile(0.99));
  RC_ASSERT(left.mean() == all.mean());
}

}  // namespace
}  // namespace llmscale::loadgen
