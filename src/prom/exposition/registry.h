// Live metrics for our own /metrics and the simulated inference servers' vLLM/TGI/JetStream
// metrics: gauges, counters, histograms and summaries with pre-resolved series handles.
//
// Usage:
//   MetricRegistry registry(ValueStyle::kPython);                    // vLLM prints "1.0"
//   auto* waiting = registry.add_gauge("vllm:num_requests_waiting", "Number of requests waiting.",
//                                      {"model_name", "engine"}).value();
//   Gauge& w = waiting->with({"llama", "0"});                        // resolve once
//   w.set(3);                                                         // per step: one atomic store
//   auto* ttft = registry.add_histogram("vllm:time_to_first_token_seconds", "...",
//                                       {"model_name", "engine"}, {0.001, 0.005, 0.01}).value();
//   ttft->with({"llama", "0"}).observe(0.004);                        // a few atomic adds
//   std::string body = registry.text();                               // scrape
//
// Thread-safety: registration and with() take the registry/family mutex (rare); updates through a
// handle are lock-free atomics and may race with write(), which reads each value once (a scrape
// may see a histogram mid-update: its count is derived from the bucket counts so _count always
// equals the +Inf bucket). Handles stay valid for the registry's lifetime. Summaries keep the last
// `window` observations under a small per-series mutex (TGI's summaries see few updates).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/exposition/parser.h"
#include "prom/exposition/writer.h"

namespace llmscale::prom {

class Gauge {
 public:
  void set(double value) { value_.store(value, std::memory_order_relaxed); }
  void inc(double delta = 1) { value_.fetch_add(delta, std::memory_order_relaxed); }
  void dec(double delta = 1) { value_.fetch_sub(delta, std::memory_order_relaxed); }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Counter {
 public:
  // REQUIRES: delta >= 0 (counters only go up; a negative delta is ignored).
  void inc(double delta = 1) {
    if (delta >= 0) value_.fetch_add(delta, std::memory_order_relaxed);
  }
  double value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Histogram {
 public:
  explicit Histogram(const std::vector<double>& bounds);
  void observe(double value);
  // Cumulative counts per bound plus the +Inf bucket last.
  std::vector<std::uint64_t> cumulative_counts() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const;

 private:
  const std::vector<double>& bounds_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> counts_;  // bounds_.size() + 1, not cumulative
  std::atomic<double> sum_{0};
};

class Summary {
 public:
  Summary(const std::vector<double>& quantiles, std::size_t window);
  void observe(double value);
  // Quantiles over the window (NaN when empty), as prometheus_client-style summaries report.
  std::vector<double> quantile_values() const;
  double sum() const { return sum_.load(std::memory_order_relaxed); }
  std::uint64_t count() const { return count_.load(std::memory_order_relaxed); }

 private:
  const std::vector<double>& quantiles_;
  std::size_t window_;
  mutable std::mutex mu_;
  std::vector<double> ring_;
  std::size_t next_ = 0;
  std::atomic<double> sum_{0};
  std::atomic<std::uint64_t> count_{0};
};

class MetricRegistry;

// A named family with fixed label names; with() returns the handle for one label-value tuple.
template <class Child>
class MetricFamilyOf {
 public:
  const std::string& name() const { return name_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

  // REQUIRES: values.size() == label_names().size().
  Child& with(std::initializer_list<std::string_view> values) {
    return with(std::vector<std::string>(values.begin(), values.end()));
  }
  Child& with(const std::vector<std::string>& values);
  // Removes one child; its handle must no longer be used.
  void remove(const std::vector<std::string>& values);

 private:
  friend class MetricRegistry;
  template <class... Args>
  MetricFamilyOf(std::string name, std::string help, std::vector<std::string> label_names,
                 MetricType type, Args... args);

  // Every sample line of every child in print order: its series text and value. The text
  // format's series are cached per child; OpenMetrics ones are formatted on each call.
  void for_each_sample(ExpositionFormat format, ValueStyle style,
                       const std::function<void(std::string_view, double)>& fn) const;

  std::string name_;
  std::string help_;
  std::vector<std::string> label_names_;
  MetricType type_;
  std::vector<double> params_;  // histogram bounds or summary quantiles
  // params_ as the exposition prints them (`le`/`quantile` values), formatted on the first write
  // in the registry's style (guarded by mu_; params_ and the style never change).
  mutable std::vector<std::string> param_texts_;
  std::size_t window_ = 0;
  mutable std::mutex mu_;
  struct Slot {
    std::unique_ptr<Child> child;
    // The child's text-format series (`name{labels}`, one per sample line), formatted on the
    // first write or collect (guarded by mu_; names and label values never change).
    mutable std::vector<std::string> series;
  };
  std::map<std::vector<std::string>, Slot> children_;
};

using GaugeFamily = MetricFamilyOf<Gauge>;
using CounterFamily = MetricFamilyOf<Counter>;
using HistogramFamily = MetricFamilyOf<Histogram>;
using SummaryFamily = MetricFamilyOf<Summary>;

class MetricRegistry {
 public:
  explicit MetricRegistry(ValueStyle style = ValueStyle::kGo);
  MetricRegistry(const MetricRegistry&) = delete;
  MetricRegistry& operator=(const MetricRegistry&) = delete;
  ~MetricRegistry();

  // Errors: invalid or duplicate names, reserved label names (`__*`, `le` on histograms,
  // `quantile` on summaries), bounds that are not strictly increasing.
  core::Result<GaugeFamily*> add_gauge(std::string name, std::string help,
                                       std::vector<std::string> label_names = {});
  // `name` is the sample name (usually ending in _total, as client libraries expose it).
  core::Result<CounterFamily*> add_counter(std::string name, std::string help,
                                           std::vector<std::string> label_names = {});
  // `bounds` without +Inf (it is always added).
  core::Result<HistogramFamily*> add_histogram(std::string name, std::string help,
                                               std::vector<std::string> label_names,
                                               std::vector<double> bounds);
  core::Result<SummaryFamily*> add_summary(std::string name, std::string help,
                                           std::vector<std::string> label_names,
                                           std::vector<double> quantiles = {0.5, 0.9, 0.99},
                                           std::size_t window = 1024);

  // Families in registration order, children sorted by label values.
  void write(std::string& out, ExpositionFormat format = ExpositionFormat::kPrometheusText) const;
  std::string text(ExpositionFormat format = ExpositionFormat::kPrometheusText) const;

  // One sample of the text exposition without the text: `series` is its `name{labels}` exactly
  // as write() prints it (what ExpositionParser::series() returns for that line); it points into
  // the registry and stays valid until its child is removed or the registry is destroyed.
  struct Sample {
    std::string_view series;
    double value;
  };
  // Appends every sample of write()'s text format, in its order, with the values now: what a
  // scraper in the same process (the fleet simulator) ingests instead of printing and parsing.
  void collect(std::vector<Sample>& out) const;

 private:
  core::Status check_new(const std::string& name, const std::vector<std::string>& label_names,
                         std::string_view reserved);

  ValueStyle style_;
  mutable std::mutex mu_;
  struct Entry;
  std::vector<std::unique_ptr<Entry>> entries_;
};

}  // namespace llmscale::prom
