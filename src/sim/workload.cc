// Simulator workloads: trace slicing and replay through loadgen's reader and generator, and the
// synthetic arrival processes (see workload.h).
#include "sim/workload.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <numbers>

#include <nlohmann/json.hpp>

#include "core/duration.h"
#include "loadgen/workload.h"

namespace llmscale::sim {
namespace {

std::int64_t sample(loadgen::Random& random, double mean, double stddev) {
  double v = stddev > 0 ? random.normal(mean, stddev) : mean;
  return std::max<std::int64_t>(1, std::llround(v));
}

core::Result<double> number(const core::Json& object, const char* key, double fallback,
                            const std::string& path) {
  if (!object.contains(key)) return fallback;
  const core::Json& v = object[key];
  if (!v.is_number()) return core::invalid_argument(path + key + ": expected a number");
  double d = v.get<double>();
  if (!std::isfinite(d)) return core::invalid_argument(path + key + ": must be finite");
  return d;
}

core::Result<core::Duration> duration(const core::Json& object, const char* key,
                                      core::Duration fallback, const std::string& path) {
  if (!object.contains(key)) return fallback;
  const core::Json& v = object[key];
  if (v.is_number()) return core::from_seconds(v.get<double>());
  if (!v.is_string())
    return core::invalid_argument(path + key + ": expected a duration such as \"10m\"");
  auto d = core::parse_go_duration(v.get<std::string>());
  if (!d) return core::invalid_argument(path + key + ": " + d.error().message);
  return *d;
}

}  // namespace

core::Result<WorkloadKind> parse_workload_kind(std::string_view text) {
  if (text == "trace") return WorkloadKind::kTrace;
  if (text == "poisson") return WorkloadKind::kPoisson;
  if (text == "gamma") return WorkloadKind::kGamma;
  if (text == "constant") return WorkloadKind::kConstant;
  if (text == "burst") return WorkloadKind::kBurst;
  if (text == "ramp") return WorkloadKind::kRamp;
  if (text == "diurnal") return WorkloadKind::kDiurnal;
  return core::invalid_argument("unknown workload kind \"" + std::string(text) +
                                "\" (trace, poisson, gamma, constant, burst, ramp, diurnal)");
}

std::string_view workload_kind_name(WorkloadKind kind) {
  switch (kind) {
    case WorkloadKind::kTrace: return "trace";
    case WorkloadKind::kPoisson: return "poisson";
    case WorkloadKind::kGamma: return "gamma";
    case WorkloadKind::kConstant: return "constant";
    case WorkloadKind::kBurst: return "burst";
    case WorkloadKind::kRamp: return "ramp";
    case WorkloadKind::kDiurnal: return "diurnal";
  }
  return "poisson";
}

std::string WorkloadConfig::describe() const {
  auto num = [](double v) {
    std::string s = std::to_string(v);
    s.erase(s.find_last_not_of('0') + 1);
    if (!s.empty() && s.back() == '.') s.pop_back();
    return s;
  };
  std::string text(workload_kind_name(kind));
  if (kind == WorkloadKind::kTrace) {
    text += " " + trace_path;
    if (time_scale != 1) text += " time-scale=" + num(time_scale);
    if (rate_scale != 1) text += " rate-scale=" + num(rate_scale);
  } else if (kind == WorkloadKind::kBurst) {
    text += " size=" + std::to_string(burst_size);
  } else {
    text += " rate=" + num(rate) + "/s";
    if (kind == WorkloadKind::kRamp) text += "->" + num(rate_end) + "/s";
    if (kind == WorkloadKind::kDiurnal) text += " amplitude=" + num(amplitude);
  }
  return text;
}

core::Status load_trace_for(WorkloadConfig& config) {
  if (config.kind != WorkloadKind::kTrace || config.trace) return {};
  if (config.trace_path.empty()) return core::invalid_argument("workload: trace: path required");
  auto trace =
      loadgen::load_trace(config.trace_path, config.trace_format, loadgen::BadRowPolicy::kSkip);
  if (!trace) return tl::unexpected(trace.error());
  config.trace = std::make_shared<const loadgen::Trace>(std::move(*trace));
  return {};
}

core::Result<Arrivals> generate_arrivals(const WorkloadConfig& config) {
  Arrivals out;
  loadgen::Random random(config.seed);
  auto push = [&](double t) {
    SimArrival a;
    a.offset = core::from_seconds(t);
    a.input_tokens = sample(random, config.input_mean, config.input_stddev);
    a.output_tokens = sample(random, config.output_mean, config.output_stddev);
    out.list.push_back(a);
  };
  double horizon = core::to_seconds(config.duration);
  switch (config.kind) {
    case WorkloadKind::kTrace: {
      if (!config.trace) return core::invalid_argument("workload: trace not loaded");
      if (config.time_scale <= 0 || config.rate_scale <= 0)
        return core::invalid_argument("workload: timeScale and rateScale must be positive");
      // Slice the window, re-based at its start.
      auto sliced = std::make_shared<loadgen::Trace>();
      sliced->source = config.trace->source;
      sliced->format = config.trace->format;
      core::Duration start = config.window_start;
      core::Duration end = config.window_end;
      for (const auto& row : config.trace->rows) {
        if (row.offset < start) continue;
        if (end > core::Duration::zero() && row.offset >= end) break;
        loadgen::TraceRow copy = row;
        copy.offset -= start;
        sliced->rows.push_back(std::move(copy));
      }
      if (sliced->rows.empty()) return core::invalid_argument("workload: the window holds no row");
      out.trace = sliced;
      loadgen::WorkloadSpec spec;
      spec.kind = loadgen::WorkloadKind::kTrace;
      spec.trace = sliced;
      spec.time_scale = config.time_scale;
      spec.rate_scale = config.rate_scale;
      loadgen::ArrivalGenerator gen(spec, config.seed);
      while (auto a = gen.next()) {
        SimArrival s;
        s.offset = a->offset;
        s.input_tokens = a->input_tokens;
        s.output_tokens = std::max<std::int64_t>(1, a->output_tokens);
        s.hash_ids = a->hash_ids;
        out.list.push_back(s);
      }
      double span = core::to_seconds(sliced->span()) * config.time_scale;
      out.span = core::from_seconds(span);
      break;
    }
    case WorkloadKind::kPoisson:
    case WorkloadKind::kGamma:
    case WorkloadKind::kConstant: {
      if (config.rate <= 0) return core::invalid_argument("workload: rate must be positive");
      // The first arrival at 0, as loadgen's open loop.
      for (double t = 0; t < horizon;) {
        push(t);
        if (config.kind == WorkloadKind::kPoisson) {
          t += random.exponential(config.rate);
        } else if (config.kind == WorkloadKind::kGamma) {
          t += random.gamma(config.burstiness, 1.0 / (config.rate * config.burstiness));
        } else {
          t += 1.0 / config.rate;
        }
      }
      out.span = config.duration;
      break;
    }
    case WorkloadKind::kBurst: {
      if (config.burst_size < 1) return core::invalid_argument("workload: burstSize must be >= 1");
      double every = core::to_seconds(config.burst_interval);
      for (double t = 0; t < horizon || t == 0; t += every) {
        for (int i = 0; i < config.burst_size; ++i) push(t);
        if (every <= 0) break;
      }
      out.span = config.duration;
      break;
    }
    case WorkloadKind::kRamp:
    case WorkloadKind::kDiurnal: {
      auto rate_at = [&](double t) {
        if (config.kind == WorkloadKind::kRamp)
          return config.rate + (config.rate_end - config.rate) * (horizon > 0 ? t / horizon : 0);
        double period = core::to_seconds(config.period);
        return config.rate * (1 + config.amplitude * std::sin(2 * std::numbers::pi * t / period));
      };
      double peak = config.kind == WorkloadKind::kRamp ? std::max(config.rate, config.rate_end)
                                                       : config.rate * (1 + config.amplitude);
      if (peak <= 0) return core::invalid_argument("workload: rate must be positive");
      if (config.amplitude < 0 || config.amplitude > 1)
        return core::invalid_argument("workload: amplitude must be within [0, 1]");
      // Thinning: candidates at the peak rate, each kept with probability rate(t)/peak.
      for (double t = random.exponential(peak); t < horizon; t += random.exponential(peak)) {
        if (random.uniform() * peak < rate_at(t)) push(t);
      }
      out.span = config.duration;
      break;
    }
  }
  return out;
}

core::Result<WorkloadConfig> decode_workload(const core::Json& spec, const std::string& base_dir) {
  WorkloadConfig c;
  const std::string p = "workload.spec.";
  if (!spec.is_object()) return core::invalid_argument("workload.spec: expected an object");
  if (spec.contains("kind")) {
    if (!spec["kind"].is_string()) return core::invalid_argument(p + "kind: expected a string");
    auto kind = parse_workload_kind(spec["kind"].get<std::string>());
    if (!kind) return core::invalid_argument(p + "kind: " + kind.error().message);
    c.kind = *kind;
  }
  if (spec.contains("trace")) {
    if (!spec["trace"].is_string()) return core::invalid_argument(p + "trace: expected a path");
    // Relative to the scenario's folder when the file is there, else to the working directory
    // (the repository root: `../shared/traces/...`).
    std::filesystem::path path(spec["trace"].get<std::string>());
    std::error_code ec;
    if (path.is_relative() && !base_dir.empty() &&
        std::filesystem::exists(std::filesystem::path(base_dir) / path, ec))
      path = std::filesystem::path(base_dir) / path;
    c.trace_path = path.string();
    if (!spec.contains("kind")) c.kind = WorkloadKind::kTrace;
  }
  if (spec.contains("format")) {
    if (!spec["format"].is_string()) return core::invalid_argument(p + "format: expected a string");
    auto format = loadgen::parse_trace_format(spec["format"].get<std::string>());
    if (!format) return core::invalid_argument(p + "format: " + format.error().message);
    c.trace_format = *format;
  }
  if (spec.contains("window")) {
    const core::Json& w = spec["window"];
    if (!w.is_object()) return core::invalid_argument(p + "window: expected {start, end}");
    auto start = duration(w, "start", {}, p + "window.");
    if (!start) return tl::unexpected(start.error());
    auto end = duration(w, "end", {}, p + "window.");
    if (!end) return tl::unexpected(end.error());
    c.window_start = *start;
    c.window_end = *end;
  }
  struct NumberField {
    const char* key;
    double* target;
  };
  for (NumberField f : {NumberField{"timeScale", &c.time_scale},
                        {"rateScale", &c.rate_scale},
                        {"rate", &c.rate},
                        {"rateEnd", &c.rate_end},
                        {"burstiness", &c.burstiness},
                        {"amplitude", &c.amplitude}}) {
    auto v = number(spec, f.key, *f.target, p);
    if (!v) return tl::unexpected(v.error());
    *f.target = *v;
  }
  if (!spec.contains("rateEnd")) c.rate_end = c.rate;
  auto burst = number(spec, "burstSize", 0, p);
  if (!burst) return tl::unexpected(burst.error());
  c.burst_size = static_cast<int>(*burst);
  struct DurationField {
    const char* key;
    core::Duration* target;
  };
  for (DurationField f : {DurationField{"period", &c.period},
                          {"burstInterval", &c.burst_interval},
                          {"duration", &c.duration}}) {
    auto v = duration(spec, f.key, *f.target, p);
    if (!v) return tl::unexpected(v.error());
    *f.target = *v;
  }
  for (const char* which : {"input", "output"}) {
    if (!spec.contains(which)) continue;
    const core::Json& t = spec[which];
    if (!t.is_object()) return core::invalid_argument(p + which + ": expected {mean, stddev}");
    double& mean = std::string_view(which) == "input" ? c.input_mean : c.output_mean;
    double& stddev = std::string_view(which) == "input" ? c.input_stddev : c.output_stddev;
    auto m = number(t, "mean", mean, p + which + ".");
    if (!m) return tl::unexpected(m.error());
    auto s = number(t, "stddev", stddev, p + which + ".");
    if (!s) return tl::unexpected(s.error());
    mean = *m;
    stddev = *s;
  }
  auto seed = number(spec, "seed", 1, p);
  if (!seed) return tl::unexpected(seed.error());
  c.seed = static_cast<std::uint64_t>(*seed);
  return c;
}

}  // namespace llmscale::sim
