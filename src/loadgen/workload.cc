// Arrival processes and synthetic token counts (see workload.h).
#include "loadgen/workload.h"

#include <cmath>
#include <cstdio>
#include <numbers>

#include "core/strings.h"

namespace llmscale::loadgen {
namespace {

std::string format_number(double value) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%g", value);
  return buffer;
}

std::int64_t sample_tokens(Random& random, const TokenDistribution& d) {
  if (d.mean <= 0) return 0;
  double value = d.stddev > 0 ? random.normal(d.mean, d.stddev) : d.mean;
  auto rounded = static_cast<std::int64_t>(std::llround(std::min(value, 1e12)));
  return std::max<std::int64_t>(rounded, 1);
}

}  // namespace

core::Result<ArrivalProcess> parse_arrival_process(std::string_view text) {
  if (text == "poisson") return ArrivalProcess::kPoisson;
  if (text == "gamma") return ArrivalProcess::kGamma;
  if (text == "constant") return ArrivalProcess::kConstant;
  return core::invalid_argument("unknown arrival process " + core::go_quote(text) +
                                " (poisson, gamma, constant)");
}

std::string_view arrival_process_name(ArrivalProcess process) {
  switch (process) {
    case ArrivalProcess::kPoisson: return "poisson";
    case ArrivalProcess::kGamma: return "gamma";
    case ArrivalProcess::kConstant: return "constant";
  }
  return "poisson";
}

std::string_view workload_kind_name(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kClosedLoop: return "closed";
    case WorkloadKind::kOpenLoop: return "open";
    case WorkloadKind::kBurst: return "burst";
    case WorkloadKind::kTrace: return "trace";
  }
  return "closed";
}

std::string WorkloadSpec::describe() const {
  switch (kind) {
    case WorkloadKind::kClosedLoop: return "concurrency=" + std::to_string(concurrency);
    case WorkloadKind::kOpenLoop: {
      std::string text =
          "rate=" + format_number(rate) + "/s " + std::string(arrival_process_name(arrival));
      if (arrival == ArrivalProcess::kGamma) text += " burstiness=" + format_number(burstiness);
      return text;
    }
    case WorkloadKind::kBurst: {
      std::string text = "burst=" + std::to_string(burst_size);
      if (burst_interval > core::Duration::zero()) {
        text += " every " + format_number(core::to_seconds(burst_interval)) + "s";
      }
      return text;
    }
    case WorkloadKind::kTrace: {
      std::string text = "trace";
      if (time_scale != 1) text += " time-scale=" + format_number(time_scale);
      if (rate_scale != 1) text += " rate-scale=" + format_number(rate_scale);
      return text;
    }
  }
  return "";
}

double Random::uniform() {
  return static_cast<double>(engine_() >> 11) * 0x1.0p-53;
}

double Random::exponential(double rate) {
  return -std::log1p(-uniform()) / rate;
}

double Random::normal(double mean, double stddev) {
  if (spare_normal_) {
    double z = *spare_normal_;
    spare_normal_.reset();
    return mean + stddev * z;
  }
  // Box-Muller; u1 in (0, 1] so the log is finite.
  double u1 = 1.0 - uniform();
  double u2 = uniform();
  double r = std::sqrt(-2.0 * std::log(u1));
  double theta = 2.0 * std::numbers::pi * u2;
  spare_normal_ = r * std::sin(theta);
  return mean + stddev * r * std::cos(theta);
}

double Random::gamma(double shape, double scale) {
  if (shape < 1) {
    // Gamma(k) = Gamma(k + 1) * U^(1/k).
    double u = 1.0 - uniform();
    return gamma(shape + 1, scale) * std::pow(u, 1.0 / shape);
  }
  double d = shape - 1.0 / 3.0;
  double c = 1.0 / std::sqrt(9.0 * d);
  while (true) {
    double x = normal(0, 1);
    double v = 1 + c * x;
    if (v <= 0) continue;
    v = v * v * v;
    double u = 1.0 - uniform();
    if (std::log(u) < 0.5 * x * x + d - d * v + d * std::log(v)) return d * v * scale;
  }
}

ArrivalGenerator::ArrivalGenerator(const WorkloadSpec& spec, std::uint64_t seed)
    : spec_(spec), random_(seed) {}

Arrival ArrivalGenerator::synthetic(core::Duration offset) {
  Arrival arrival;
  arrival.offset = offset;
  arrival.input_tokens = std::max<std::int64_t>(sample_tokens(random_, spec_.input), 1);
  arrival.output_tokens = sample_tokens(random_, spec_.output);
  arrival.prompt_seed = random_.next_u64();
  return arrival;
}

std::optional<Arrival> ArrivalGenerator::next() {
  switch (spec_.kind) {
    case WorkloadKind::kClosedLoop: return synthetic(core::Duration::zero());
    case WorkloadKind::kOpenLoop: {
      Arrival arrival = synthetic(next_offset_);
      double gap = 0;
      switch (spec_.arrival) {
        case ArrivalProcess::kPoisson: gap = random_.exponential(spec_.rate); break;
        case ArrivalProcess::kGamma:
          gap = random_.gamma(spec_.burstiness, 1.0 / (spec_.rate * spec_.burstiness));
          break;
        case ArrivalProcess::kConstant: gap = 1.0 / spec_.rate; break;
      }
      next_offset_ += core::from_seconds(gap);
      return arrival;
    }
    case WorkloadKind::kBurst: {
      if (emitted_in_burst_ == spec_.burst_size) {
        if (spec_.burst_interval <= core::Duration::zero()) return std::nullopt;
        emitted_in_burst_ = 0;
        next_offset_ += spec_.burst_interval;
      }
      ++emitted_in_burst_;
      return synthetic(next_offset_);
    }
    case WorkloadKind::kTrace: {
      const auto& rows = spec_.trace->rows;
      while (row_ < rows.size()) {
        if (copies_ < 0) {
          double whole = std::floor(spec_.rate_scale);
          copies_ = static_cast<std::int64_t>(whole) +
                    (random_.uniform() < spec_.rate_scale - whole ? 1 : 0);
          copy_ = 0;
        }
        if (copy_ < copies_) {
          const TraceRow& row = rows[row_];
          core::Duration start = row.offset;
          core::Duration gap =
              row_ + 1 < rows.size() ? rows[row_ + 1].offset - start : core::Duration::zero();
          double at = core::to_seconds(start) + core::to_seconds(gap) * static_cast<double>(copy_) /
                                                    static_cast<double>(copies_);
          ++copy_;
          Arrival arrival;
          arrival.offset = core::from_seconds(at * spec_.time_scale);
          arrival.input_tokens = row.input_tokens;
          arrival.output_tokens = row.output_tokens;
          arrival.hash_ids = row.hash_ids.empty() ? nullptr : &row.hash_ids;
          arrival.prompt_seed = random_.next_u64();
          return arrival;
        }
        ++row_;
        copies_ = -1;
      }
      return std::nullopt;
    }
  }
  return std::nullopt;
}

core::Status validate_workload(const WorkloadSpec& spec) {
  auto finite_nonnegative = [](double v) { return std::isfinite(v) && v >= 0; };
  switch (spec.kind) {
    case WorkloadKind::kClosedLoop:
      if (spec.concurrency < 1) return core::invalid_argument("--concurrency must be >= 1");
      break;
    case WorkloadKind::kOpenLoop:
      if (!std::isfinite(spec.rate) || spec.rate <= 0) {
        return core::invalid_argument("--rate must be > 0");
      }
      if (!std::isfinite(spec.burstiness) || spec.burstiness <= 0) {
        return core::invalid_argument("--burstiness must be > 0");
      }
      break;
    case WorkloadKind::kBurst:
      if (spec.burst_size < 1) return core::invalid_argument("--burst must be >= 1");
      if (spec.burst_interval < core::Duration::zero()) {
        return core::invalid_argument("--burst-interval must not be negative");
      }
      break;
    case WorkloadKind::kTrace:
      if (!spec.trace || spec.trace->rows.empty()) {
        return core::invalid_argument("--trace: the trace has no usable rows");
      }
      if (!std::isfinite(spec.time_scale) || spec.time_scale <= 0) {
        return core::invalid_argument("--time-scale must be > 0");
      }
      if (!std::isfinite(spec.rate_scale) || spec.rate_scale <= 0 || spec.rate_scale > 1000) {
        return core::invalid_argument("--rate-scale must be in (0, 1000]");
      }
      break;
  }
  if (!finite_nonnegative(spec.input.mean) || spec.input.mean < 1 ||
      !finite_nonnegative(spec.input.stddev)) {
    return core::invalid_argument("input tokens: mean must be >= 1 and stddev >= 0");
  }
  if (!finite_nonnegative(spec.output.mean) || !finite_nonnegative(spec.output.stddev)) {
    return core::invalid_argument("output tokens: mean and stddev must be >= 0");
  }
  return {};
}

}  // namespace llmscale::loadgen
