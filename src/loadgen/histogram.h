// Histogram: a mergeable histogram of non-negative integers (latencies in nanoseconds, token
// counts) with a bounded relative error, laid out like HdrHistogram's log-linear buckets.
//
// With precision p, values below 2^(p+1) each have their own bucket (exact); above that, every
// power of two [2^e, 2^(e+1)) is split into 2^p equal buckets. A bucket is therefore never wider
// than 2^-p of its lower bound, and a quantile reported as the bucket's midpoint is within
// 2^-(p+1) (relative) of the true value at that rank: p = 7 gives 0.39%. Counts, min, max and
// the sum are exact, so the mean is exact too.
//
// Merging adds bucket counts: merge(h(A), h(B)) equals h(A ∪ B) exactly, so per-thread or
// per-interval histograms combine without losing anything. Storage grows with the largest value
// recorded: at most (64 - p) * 2^p counters (57 KiB for p = 7), typically a few KiB.
//
// A Histogram is a plain value; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace llmscale::loadgen {

class Histogram {
 public:
  static constexpr int kDefaultPrecision = 7;

  // REQUIRES: 1 <= precision_bits <= 16.
  explicit Histogram(int precision_bits = kDefaultPrecision);

  // Records `value` `count` times; negative values are recorded as 0.
  void record(std::int64_t value, std::uint64_t count = 1);
  // Adds every count of `other`. REQUIRES: other.precision_bits() == precision_bits().
  void merge(const Histogram& other);
  void clear();

  int precision_bits() const { return precision_; }
  std::uint64_t count() const { return count_; }
  bool empty() const { return count_ == 0; }
  // 0 when empty.
  std::int64_t min() const { return count_ == 0 ? 0 : min_; }
  std::int64_t max() const { return count_ == 0 ? 0 : max_; }
  double sum() const { return static_cast<double>(sum_); }
  double mean() const;
  // Population standard deviation (from an extended-precision sum of squares).
  double stddev() const;

  // The nearest-rank quantile: the value of rank ceil(q * count) in sorted order (q <= 0: min,
  // q >= 1: max), reported as its bucket's midpoint clamped to [min, max]. 0 when empty.
  std::int64_t quantile(double q) const;

  // The largest relative error of quantile(): 2^-(p+1).
  double relative_error_bound() const;

  // Bucket layout, for tests and exporters.
  std::size_t bucket_index(std::int64_t value) const;
  std::int64_t bucket_lower(std::size_t index) const;
  // Width of bucket `index` (its values are [lower, lower + width)).
  std::int64_t bucket_width(std::size_t index) const;
  std::size_t bucket_count() const { return counts_.size(); }
  std::uint64_t count_at(std::size_t index) const {
    return index < counts_.size() ? counts_[index] : 0;
  }

  bool operator==(const Histogram& other) const;

 private:
  std::int64_t midpoint(std::size_t index) const;

  int precision_;
  std::vector<std::uint64_t> counts_;
  std::uint64_t count_ = 0;
  std::int64_t min_ = 0;
  std::int64_t max_ = 0;
  __int128 sum_ = 0;
  long double sum_squares_ = 0;
};

}  // namespace llmscale::loadgen
