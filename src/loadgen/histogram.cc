// Log-linear bucket arithmetic (see histogram.h for the layout and its error bound).
#include "loadgen/histogram.h"

#include <algorithm>
#include <bit>
#include <cassert>
#include <cmath>

namespace llmscale::loadgen {

Histogram::Histogram(int precision_bits) : precision_(precision_bits) {
  assert(precision_bits >= 1 && precision_bits <= 16);
}

std::size_t Histogram::bucket_index(std::int64_t value) const {
  auto v = static_cast<std::uint64_t>(std::max<std::int64_t>(value, 0));
  const std::uint64_t sub = std::uint64_t{1} << precision_;
  if (v < 2 * sub) return static_cast<std::size_t>(v);
  int exponent = 63 - std::countl_zero(v);  // >= precision + 1
  int shift = exponent - precision_;
  // v >> shift lies in [sub, 2 * sub): the position inside the power of two, plus `sub`.
  return static_cast<std::size_t>(static_cast<std::uint64_t>(shift) * sub + (v >> shift));
}

std::int64_t Histogram::bucket_lower(std::size_t index) const {
  const std::size_t sub = std::size_t{1} << precision_;
  if (index < 2 * sub) return static_cast<std::int64_t>(index);
  std::size_t shift = index / sub - 1;
  std::uint64_t mantissa = sub + index % sub;
  return static_cast<std::int64_t>(mantissa << shift);
}

std::int64_t Histogram::bucket_width(std::size_t index) const {
  const std::size_t sub = std::size_t{1} << precision_;
  if (index < 2 * sub) return 1;
  return std::int64_t{1} << (index / sub - 1);
}

std::int64_t Histogram::midpoint(std::size_t index) const {
  return bucket_lower(index) + (bucket_width(index) - 1) / 2;
}

void Histogram::record(std::int64_t value, std::uint64_t count) {
  if (count == 0) return;
  value = std::max<std::int64_t>(value, 0);
  std::size_t index = bucket_index(value);
  if (index >= counts_.size()) counts_.resize(index + 1, 0);
  counts_[index] += count;
  if (count_ == 0) {
    min_ = max_ = value;
  } else {
    min_ = std::min(min_, value);
    max_ = std::max(max_, value);
  }
  count_ += count;
  sum_ += static_cast<__int128>(value) * count;
  sum_squares_ += static_cast<long double>(value) * value * count;
}

void Histogram::merge(const Histogram& other) {
  assert(other.precision_ == precision_);
  if (other.count_ == 0) return;
  if (other.counts_.size() > counts_.size()) counts_.resize(other.counts_.size(), 0);
  for (std::size_t i = 0; i < other.counts_.size(); ++i) counts_[i] += other.counts_[i];
  if (count_ == 0) {
    min_ = other.min_;
    max_ = other.max_;
  } else {
    min_ = std::min(min_, other.min_);
    max_ = std::max(max_, other.max_);
  }
  count_ += other.count_;
  sum_ += other.sum_;
  sum_squares_ += other.sum_squares_;
}

void Histogram::clear() {
  counts_.clear();
  count_ = 0;
  min_ = max_ = 0;
  sum_ = 0;
  sum_squares_ = 0;
}

double Histogram::mean() const {
  if (count_ == 0) return 0;
  return static_cast<double>(static_cast<long double>(sum_) / static_cast<long double>(count_));
}

double Histogram::stddev() const {
  if (count_ == 0) return 0;
  long double n = static_cast<long double>(count_);
  long double mean = static_cast<long double>(sum_) / n;
  long double variance = sum_squares_ / n - mean * mean;
  return variance <= 0 ? 0.0 : static_cast<double>(std::sqrt(variance));
}

std::int64_t Histogram::quantile(double q) const {
  if (count_ == 0) return 0;
  if (!(q > 0)) return min_;  // also NaN
  if (q >= 1) return max_;
  auto rank = static_cast<std::uint64_t>(std::ceil(q * static_cast<double>(count_)));
  rank = std::clamp<std::uint64_t>(rank, 1, count_);
  std::uint64_t seen = 0;
  for (std::size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::clamp(midpoint(i), min_, max_);
  }
  return max_;
}

double Histogram::relative_error_bound() const {
  return std::ldexp(1.0, -(precision_ + 1));
}

bool Histogram::operator==(const Histogram& other) const {
  if (precision_ != other.precision_ || count_ != other.count_ || min() != other.min() ||
      max() != other.max() || sum_ != other.sum_) {
    return false;
  }
  std::size_t n = std::max(counts_.size(), other.counts_.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (count_at(i) != other.count_at(i)) return false;
  }
  return true;
}

}  // namespace llmscale::loadgen
