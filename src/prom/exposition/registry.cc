// Metric registry: families of atomically updated series and their exposition.
#include "prom/exposition/registry.h"

#include <algorithm>
#include <cmath>
#include <variant>

#include "prom/exposition/float_text.h"

namespace llmscale::prom {

Histogram::Histogram(const std::vector<double>& bounds)
    : bounds_(bounds), counts_(new std::atomic<std::uint64_t>[bounds.size() + 1]) {
  for (std::size_t i = 0; i <= bounds.size(); ++i) counts_[i].store(0, std::memory_order_relaxed);
}

void Histogram::observe(double value) {
  // Bucket i counts observations <= bounds_[i] (Prometheus `le`); NaN lands in +Inf.
  std::size_t i =
      std::isnan(value)
          ? bounds_.size()
          : static_cast<std::size_t>(std::lower_bound(bounds_.begin(), bounds_.end(), value) -
                                     bounds_.begin());
  counts_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(value, std::memory_order_relaxed);
}

std::vector<std::uint64_t> Histogram::cumulative_counts() const {
  std::vector<std::uint64_t> out(bounds_.size() + 1);
  std::uint64_t total = 0;
  for (std::size_t i = 0; i <= bounds_.size(); ++i) {
    total += counts_[i].load(std::memory_order_relaxed);
    out[i] = total;
  }
  return out;
}

std::uint64_t Histogram::count() const {
  return cumulative_counts().back();
}

Summary::Summary(const std::vector<double>& quantiles, std::size_t window)
    : quantiles_(quantiles), window_(std::max<std::size_t>(window, 1)) {}

void Summary::observe(double value) {
  {
    std::lock_guard lock(mu_);
    if (ring_.size() < window_) {
      ring_.push_back(value);
    } else {
      ring_[next_] = value;
      next_ = (next_ + 1) % window_;
    }
  }
  sum_.fetch_add(value, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

std::vector<double> Summary::quantile_values() const {
  std::vector<double> values;
  {
    std::lock_guard lock(mu_);
    values = ring_;
  }
  std::sort(values.begin(), values.end());
  std::vector<double> out;
  for (double q : quantiles_) {
    if (values.empty()) {
      out.push_back(std::nan(""));
      continue;
    }
    // Nearest rank, as the streaming estimators of client libraries approximate.
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(values.size())));
    out.push_back(values[rank == 0 ? 0 : std::min(rank, values.size()) - 1]);
  }
  return out;
}

namespace {

template <class Child>
std::unique_ptr<Child> make_child(const std::vector<double>& params, std::size_t window) {
  if constexpr (std::is_same_v<Child, Histogram>) {
    return std::make_unique<Histogram>(params);
  } else if constexpr (std::is_same_v<Child, Summary>) {
    return std::make_unique<Summary>(params, window);
  } else {
    (void)params;
    (void)window;
    return std::make_unique<Child>();
  }
}

}  // namespace

namespace {

std::vector<Label> zip_labels(const std::vector<std::string>& names,
                              const std::vector<std::string>& values) {
  std::vector<Label> out;
  out.reserve(names.size() + 1);
  for (std::size_t i = 0; i < names.size(); ++i) {
    // Printed even when empty, as client libraries do (vLLM's lora_requests_info); Prometheus
    // treats an empty value as an absent label.
    out.push_back(Label{names[i], values[i]});
  }
  return out;
}

std::string bound_text(double bound, ValueStyle style) {
  std::string out;
  if (style == ValueStyle::kPython) {
    append_python_float(out, bound);
  } else {
    append_go_float(out, bound);
  }
  return out;
}

}  // namespace

template <class Child>
template <class... Args>
MetricFamilyOf<Child>::MetricFamilyOf(std::string name, std::string help,
                                      std::vector<std::string> label_names, MetricType type,
                                      Args... args)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      type_(type) {
  if constexpr (sizeof...(args) >= 1) {
    auto tuple = std::make_tuple(args...);
    params_ = std::get<0>(tuple);
    if constexpr (sizeof...(args) >= 2) window_ = std::get<1>(tuple);
  }
}

template <class Child>
Child& MetricFamilyOf<Child>::with(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  auto it = children_.find(values);
  if (it == children_.end()) {
    it = children_.emplace(values, Slot{make_child<Child>(params_, window_), {}}).first;
  }
  return *it->second.child;
}

template <class Child>
void MetricFamilyOf<Child>::remove(const std::vector<std::string>& values) {
  std::lock_guard lock(mu_);
  children_.erase(values);
}

template <class Child>
void MetricFamilyOf<Child>::for_each_sample(
    ExpositionFormat format, ValueStyle style,
    const std::function<void(std::string_view, double)>& fn) const {
  std::lock_guard lock(mu_);
  constexpr bool kHistogram = std::is_same_v<Child, Histogram>;
  constexpr bool kSummary = std::is_same_v<Child, Summary>;
  if constexpr (kHistogram || kSummary) {
    if (param_texts_.size() != params_.size()) {
      param_texts_.clear();
      for (double p : params_) param_texts_.push_back(bound_text(p, style));
    }
  }
  const bool om = format == ExpositionFormat::kOpenMetrics;
  std::vector<std::string> scratch;
  std::vector<double> values;
  for (const auto& [label_values, slot] : children_) {
    std::vector<std::string>& texts = om ? scratch : slot.series;
    if (om || texts.empty()) {
      texts.clear();
      std::vector<Label> labels = zip_labels(label_names_, label_values);
      auto add = [&](std::string_view name, Label extra) {
        std::string text;
        ExpositionWriter(text, format, style).series(name, labels, extra);
        texts.push_back(std::move(text));
      };
      if constexpr (kHistogram) {
        std::string bucket = name_ + "_bucket";
        for (std::size_t i = 0; i <= params_.size(); ++i) {
          std::string_view le =
              i < params_.size() ? std::string_view(param_texts_[i]) : std::string_view("+Inf");
          add(bucket, Label{kBucketLabel, le});
        }
      } else if constexpr (kSummary) {
        for (const std::string& q : param_texts_) add(name_, Label{kQuantileLabel, q});
      } else if constexpr (std::is_same_v<Child, Counter>) {
        bool renamed = om && openmetrics_family_name(name_, type_) == name_;
        add(renamed ? name_ + "_total" : name_, {});
      } else {
        add(name_, {});
      }
      if constexpr (kHistogram || kSummary) {
        add(name_ + "_sum", {});
        add(name_ + "_count", {});
      }
    }
    values.clear();
    const Child& child = *slot.child;
    if constexpr (kHistogram) {
      std::vector<std::uint64_t> counts = child.cumulative_counts();
      for (std::uint64_t c : counts) values.push_back(static_cast<double>(c));
      values.push_back(child.sum());
      values.push_back(static_cast<double>(counts.back()));
    } else if constexpr (kSummary) {
      values = child.quantile_values();
      values.push_back(child.sum());
      values.push_back(static_cast<double>(child.count()));
    } else {
      values.push_back(child.value());
    }
    for (std::size_t i = 0; i < values.size(); ++i) fn(texts[i], values[i]);
  }
}

template class MetricFamilyOf<Gauge>;
template class MetricFamilyOf<Counter>;
template class MetricFamilyOf<Histogram>;
template class MetricFamilyOf<Summary>;

struct MetricRegistry::Entry {
  std::variant<std::unique_ptr<GaugeFamily>, std::unique_ptr<CounterFamily>,
               std::unique_ptr<HistogramFamily>, std::unique_ptr<SummaryFamily>>
      family;
  std::string name;
};

MetricRegistry::MetricRegistry(ValueStyle style) : style_(style) {}
MetricRegistry::~MetricRegistry() = default;

core::Status MetricRegistry::check_new(const std::string& name,
                                       const std::vector<std::string>& label_names,
                                       std::string_view reserved) {
  if (!is_valid_metric_name(name)) {
    return core::invalid_argument("invalid metric name \"" + name + "\"");
  }
  for (const auto& entry : entries_) {
    if (entry->name == name) {
      return core::make_error(core::ErrorCode::kAlreadyExists,
                              "metric family \"" + name + "\" is already registered");
    }
  }
  for (std::size_t i = 0; i < label_names.size(); ++i) {
    const std::string& l = label_names[i];
    if (!is_valid_label_name(l) || l.rfind("__", 0) == 0) {
      return core::invalid_argument("metric " + name + ": invalid label name \"" + l + "\"");
    }
    if (!reserved.empty() && l == reserved) {
      return core::invalid_argument("metric " + name + ": label name \"" + l +
                                    "\" is reserved for this metric type");
    }
    for (std::size_t j = 0; j < i; ++j) {
      if (label_names[j] == l) {
        return core::invalid_argument("metric " + name + ": duplicate label name \"" + l + "\"");
      }
    }
  }
  return {};
}

core::Result<GaugeFamily*> MetricRegistry::add_gauge(std::string name, std::string help,
                                                     std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  if (auto s = check_new(name, label_names, {}); !s) return tl::unexpected(s.error());
  auto family = std::unique_ptr<GaugeFamily>(
      new GaugeFamily(name, std::move(help), std::move(label_names), MetricType::kGauge));
  GaugeFamily* out = family.get();
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(family), std::move(name)}));
  return out;
}

core::Result<CounterFamily*> MetricRegistry::add_counter(std::string name, std::string help,
                                                         std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  if (auto s = check_new(name, label_names, {}); !s) return tl::unexpected(s.error());
  auto family = std::unique_ptr<CounterFamily>(
      new CounterFamily(name, std::move(help), std::move(label_names), MetricType::kCounter));
  CounterFamily* out = family.get();
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(family), std::move(name)}));
  return out;
}

core::Result<HistogramFamily*> MetricRegistry::add_histogram(std::string name, std::string help,
                                                             std::vector<std::string> label_names,
                                                             std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  if (auto s = check_new(name, label_names, kBucketLabel); !s) return tl::unexpected(s.error());
  if (!bounds.empty() && std::isinf(bounds.back()) && bounds.back() > 0) bounds.pop_back();
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    if (std::isnan(bounds[i]) || (i > 0 && !(bounds[i] > bounds[i - 1]))) {
      return core::invalid_argument("histogram " + name +
                                    ": bucket bounds must be strictly increasing");
    }
  }
  auto family = std::unique_ptr<HistogramFamily>(new HistogramFamily(
      name, std::move(help), std::move(label_names), MetricType::kHistogram, std::move(bounds)));
  HistogramFamily* out = family.get();
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(family), std::move(name)}));
  return out;
}

core::Result<SummaryFamily*> MetricRegistry::add_summary(std::string name, std::string help,
                                                         std::vector<std::string> label_names,
                                                         std::vector<double> quantiles,
                                                         std::size_t window) {
  std::lock_guard lock(mu_);
  if (auto s = check_new(name, label_names, kQuantileLabel); !s) return tl::unexpected(s.error());
  for (double q : quantiles) {
    if (!(q >= 0 && q <= 1)) {
      return core::invalid_argument("summary " + name + ": quantiles must be in [0, 1]");
    }
  }
  auto family = std::unique_ptr<SummaryFamily>(
      new SummaryFamily(name, std::move(help), std::move(label_names), MetricType::kSummary,
                        std::move(quantiles), window));
  SummaryFamily* out = family.get();
  entries_.push_back(std::make_unique<Entry>(Entry{std::move(family), std::move(name)}));
  return out;
}

void MetricRegistry::write(std::string& out, ExpositionFormat format) const {
  std::lock_guard lock(mu_);
  ExpositionWriter w(out, format, style_);
  bool om = format == ExpositionFormat::kOpenMetrics;
  for (const auto& entry : entries_) {
    std::visit(
        [&](const auto& family) {
          std::string_view family_name = om ? openmetrics_family_name(family->name_, family->type_)
                                            : std::string_view(family->name_);
          w.help(family_name, family->help_);
          w.type(family_name, family->type_);
          family->for_each_sample(format, style_, [&](std::string_view series, double value) {
            out += series;
            w.value_and_timestamp(value);
          });
        },
        entry->family);
  }
  w.eof();
}

void MetricRegistry::collect(std::vector<Sample>& out) const {
  std::lock_guard lock(mu_);
  for (const auto& entry : entries_) {
    std::visit(
        [&](const auto& family) {
          family->for_each_sample(ExpositionFormat::kPrometheusText, style_,
                                  [&](std::string_view series, double value) {
                                    out.push_back(Sample{series, value});
                                  });
        },
        entry->family);
  }
}

std::string MetricRegistry::text(ExpositionFormat format) const {
  std::string out;
  write(out, format);
  return out;
}

}  // namespace llmscale::prom
