// Shared flags of `llmscale simulate` and `llmscale recommend` (flags.h).
#include "sim/flags.h"

#include <CLI/CLI.hpp>

#include "core/duration.h"

namespace llmscale::sim {
namespace {

core::Status duration_flag(const std::string& flag, const std::string& text, core::Duration& out) {
  if (text.empty()) return {};
  auto d = core::parse_go_duration(text);
  if (!d) return core::invalid_argument(flag + ": " + d.error().message);
  if (*d < core::Duration::zero()) return core::invalid_argument(flag + ": must not be negative");
  out = *d;
  return {};
}

}  // namespace

void add_sim_flags(CLI::App& c, SimFlags& f) {
  c.add_option("scenario", f.scenario,
               "folder or files: the manifests `llmscale up` reads, plus optional Workload and "
               "Simulation documents (or --from-up)");
  auto* u = "What-if on a running `llmscale up` (instead of a scenario)";
  c.add_option("--from-up", f.from_up,
               "its control URL (e.g. http://127.0.0.1:9190): replay its configuration and its "
               "router's recent requests")
      ->group(u);
  c.add_option("--from-up-fleet", f.from_up_fleet, "NAMESPACE/NAME when it runs several fleets")
      ->group(u);
  c.add_option("--from-up-since", f.from_up_since, "how far back (a Go duration)")
      ->capture_default_str()
      ->group(u);
  c.add_option("--from-up-token-file", f.from_up_token_file,
               "bearer token for its control address (up --control-token-file)")
      ->group(u);
  auto* w = "Workload (overrides the scenario's)";
  c.add_option("--workload", f.workload, "trace, poisson, gamma, constant, burst, ramp, diurnal")
      ->group(w);
  c.add_option("--trace", f.trace, "trace file (Azure CSV, Mooncake JSONL, BurstGPT CSV; .gz ok)")
      ->group(w);
  c.add_option("--trace-format", f.trace_format, "auto, azure, mooncake or burstgpt")->group(w);
  c.add_option("--window-start", f.window_start, "slice the trace from this offset (e.g. 10m)")
      ->group(w);
  c.add_option("--window-end", f.window_end, "slice the trace up to this offset")->group(w);
  c.add_option("--time-scale", f.time_scale, "multiply trace time offsets")->group(w);
  c.add_option("--rate-scale", f.rate_scale, "send each trace row this many times on average")
      ->group(w);
  c.add_option("--rate", f.rate, "requests/s (ramp: start; diurnal: mean)")->group(w);
  c.add_option("--rate-end", f.rate_end, "ramp: final requests/s")->group(w);
  c.add_option("--burstiness", f.burstiness, "gamma shape (1 = Poisson)")->group(w);
  c.add_option("--amplitude", f.amplitude, "diurnal: relative amplitude 0..1")->group(w);
  c.add_option("--period", f.period, "diurnal: period (e.g. 24h)")->group(w);
  c.add_option("--burst-size", f.burst_size, "burst: requests at once")->group(w);
  c.add_option("--burst-interval", f.burst_interval, "burst: repeat every")->group(w);
  c.add_option("--duration", f.duration, "synthetic workloads: how long to send")->group(w);
  c.add_option("--input-mean", f.input_mean, "synthetic prompt tokens, mean")->group(w);
  c.add_option("--input-stddev", f.input_stddev, "synthetic prompt tokens, stddev")->group(w);
  c.add_option("--output-mean", f.output_mean, "synthetic output tokens, mean")->group(w);
  c.add_option("--output-stddev", f.output_stddev, "synthetic output tokens, stddev")->group(w);
  auto* p = "Simulation (overrides the scenario's Simulation document)";
  c.add_option("--seed", f.seed, "random seed (same seed, same bytes)")->group(p);
  c.add_option("--policy", f.policy, "round-robin, least-outstanding-requests or least-kv-cache")
      ->group(p);
  c.add_option("--scaler", f.scaler,
               "who scales: hpa (default), slo, slo+credit, slo+predict, slo+credit+predict, kpa, "
               "keda-llmd, aibrix-apa (docs/policies.md)")
      ->group(p);
  c.add_option("--advise", f.advise,
               "with the HPA scaling: evaluate this policy beside it and record what it would "
               "have done (decisions.csv), without applying it")
      ->group(p);
  c.add_option("--scale-down", f.scale_down,
               "scale-down victims as `up --scale-down`: drain-aware (least in-flight tokens "
               "first) or replicaset; either adds a scale_down block to summary.json")
      ->check(CLI::IsMember({"drain-aware", "replicaset"}))
      ->group(p);
  c.add_option("--forecast-season", f.forecast_season,
               "slo+predict: the arrival forecast's season, used once a whole one with that "
               "shape has been seen (default 24h; 0s: none)")
      ->group(p);
  c.add_option("--peer-target", f.peer_target,
               "kpa/aibrix-apa: in-flight requests per pod (default: the HPA's AverageValue)")
      ->group(p);
  c.add_option("--scrape-interval", f.scrape_interval, "override every PodMonitoring's interval")
      ->group(p);
  c.add_option("--scrape-offset", f.scrape_offset,
               "first scrape this long after a pod appears (default: Prometheus' hash offset)")
      ->group(p);
  c.add_option("--ingestion-delay", f.ingestion_delay, "scrape to queryable (default 0s)")
      ->group(p);
  c.add_option("--adapter-relist", f.adapter_relist, "adapter relist period (default 30s)")
      ->group(p);
  c.add_option("--sync-period", f.sync_period, "HPA sync period (default 15s)")->group(p);
  c.add_option("--min-pass-interval", f.min_pass_interval,
               "post-scrape passes of one HPA at least this far apart (default 250ms; 0s: one "
               "per scrape)")
      ->group(p);
  c.add_flag("--no-post-scrape-reconcile", f.no_post_scrape,
             "reconcile only on the sync period, as Kubernetes does")
      ->group(p);
  c.add_option("--horizontal-pod-autoscaler-downscale-stabilization", f.downscale_stabilization,
               "scale-down window of HPAs whose behavior sets none (default 5m)")
      ->group(p);
  c.add_option("--tolerance", f.tolerance, "--horizontal-pod-autoscaler-tolerance (default 0.1)")
      ->group(p);
  c.add_option("--cold-start", f.cold_start, "override the profile's cold start (e.g. 90s)")
      ->group(p);
  c.add_option("--cold-start-jitter", f.cold_start_jitter, "relative, uniform (e.g. 0.2)")
      ->group(p);
  c.add_option("--step-time-jitter", f.step_time_jitter, "relative stddev of engine step times")
      ->group(p);
  c.add_option("--router-queue-timeout", f.router_queue_timeout,
               "wait for a ready replica before 503 (default 60s)")
      ->group(p);
  c.add_option("--tail", f.tail, "simulate this long after the last arrival (default 10m)")
      ->group(p);
  c.add_option("--max-duration", f.max_duration, "stop at this simulated time")->group(p);
  c.add_option("--profiles-dir", f.profiles_dir, "profiles searched before the built-in ones")
      ->group(p);
  auto* s = "SLO";
  c.add_option("--slo-ttft", f.slo_ttft, "time to first token threshold")
      ->capture_default_str()
      ->group(s);
  c.add_option("--slo-tpot", f.slo_tpot, "time per output token (mean ITL) threshold")
      ->capture_default_str()
      ->group(s);
  c.add_option("--slo-quantile", f.slo_quantile, "quantile that must meet both thresholds")
      ->capture_default_str()
      ->group(s);
}

core::Result<Resolved> resolve_sim_flags(const SimFlags& f) {
  Resolved r;
  if (f.scenario.empty())
    return core::invalid_argument("a scenario folder or file is required (or --from-up URL)");
  auto scenario = load_scenario(f.scenario, r.options);
  if (!scenario) return tl::unexpected(scenario.error());
  r.scenario = std::move(*scenario);
  WorkloadConfig& w = r.scenario.workload;
  if (!f.workload.empty()) {
    auto kind = parse_workload_kind(f.workload);
    if (!kind) return core::invalid_argument("--workload: " + kind.error().message);
    w.kind = *kind;
  }
  if (!f.trace.empty()) {
    w.trace_path = f.trace;
    w.trace.reset();
    if (f.workload.empty()) w.kind = WorkloadKind::kTrace;
  }
  if (!f.trace_format.empty()) {
    auto format = loadgen::parse_trace_format(f.trace_format);
    if (!format) return core::invalid_argument("--trace-format: " + format.error().message);
    w.trace_format = *format;
  }
  struct D {
    const char* flag;
    const std::string& text;
    core::Duration& out;
  };
  for (D d : {D{"--window-start", f.window_start, w.window_start},
              D{"--window-end", f.window_end, w.window_end},
              D{"--duration", f.duration, w.duration}, D{"--period", f.period, w.period},
              D{"--burst-interval", f.burst_interval, w.burst_interval},
              D{"--horizontal-pod-autoscaler-downscale-stabilization", f.downscale_stabilization,
                r.options.downscale_stabilization},
              D{"--ingestion-delay", f.ingestion_delay, r.options.pipeline.ingestion_delay},
              D{"--adapter-relist", f.adapter_relist, r.options.pipeline.adapter_relist},
              D{"--sync-period", f.sync_period, r.options.pipeline.sync_period},
              D{"--min-pass-interval", f.min_pass_interval, r.options.pipeline.min_pass_interval},
              D{"--router-queue-timeout", f.router_queue_timeout, r.options.router_queue_timeout},
              D{"--tail", f.tail, r.options.tail}}) {
    if (auto st = duration_flag(d.flag, d.text, d.out); !st) return tl::unexpected(st.error());
  }
  struct O {
    const char* flag;
    const std::string& text;
    std::optional<core::Duration>& out;
  };
  for (O o : {O{"--scrape-interval", f.scrape_interval, r.options.pipeline.scrape_interval},
              O{"--scrape-offset", f.scrape_offset, r.options.pipeline.scrape_offset},
              O{"--cold-start", f.cold_start, r.options.cold_start},
              O{"--max-duration", f.max_duration, r.options.max_duration},
              O{"--forecast-season", f.forecast_season, r.options.forecast_season}}) {
    if (o.text.empty()) continue;
    core::Duration d{};
    if (auto st = duration_flag(o.flag, o.text, d); !st) return tl::unexpected(st.error());
    o.out = d;
  }
  if (r.options.pipeline.sync_period <= core::Duration::zero())
    return core::invalid_argument("--sync-period: must be positive");
  if (r.options.pipeline.scrape_interval &&
      *r.options.pipeline.scrape_interval < std::chrono::milliseconds(100))
    return core::invalid_argument("--scrape-interval: at least 100ms");
  if (r.options.pipeline.adapter_relist <= core::Duration::zero())
    return core::invalid_argument("--adapter-relist: must be positive");
  struct N {
    double value;
    double& out;
  };
  for (N n :
       {N{f.rate, w.rate}, N{f.rate_end, w.rate_end}, N{f.time_scale, w.time_scale},
        N{f.rate_scale, w.rate_scale}, N{f.burstiness, w.burstiness}, N{f.amplitude, w.amplitude},
        N{f.input_mean, w.input_mean}, N{f.output_mean, w.output_mean},
        N{f.input_stddev, w.input_stddev}, N{f.output_stddev, w.output_stddev},
        N{f.tolerance, r.options.tolerance}, N{f.cold_start_jitter, r.options.cold_start_jitter},
        N{f.step_time_jitter, r.options.step_time_jitter}}) {
    if (n.value >= 0) n.out = n.value;
  }
  if (f.rate >= 0 && f.rate_end < 0) w.rate_end = w.rate;
  if (f.burst_size >= 0) w.burst_size = f.burst_size;
  if (f.seed >= 0) {
    r.options.seed = static_cast<std::uint64_t>(f.seed);
    w.seed = static_cast<std::uint64_t>(f.seed);
  }
  if (!f.policy.empty()) r.options.policy = f.policy;
  if (f.no_post_scrape) r.options.pipeline.reconcile_after_scrape = false;
  if (!f.profiles_dir.empty()) r.options.profiles_dir = f.profiles_dir;
  core::Duration ttft{}, tpot{};
  if (auto st = duration_flag("--slo-ttft", f.slo_ttft, ttft); !st)
    return tl::unexpected(st.error());
  if (auto st = duration_flag("--slo-tpot", f.slo_tpot, tpot); !st)
    return tl::unexpected(st.error());
  r.slo.ttft = core::to_seconds(ttft);
  r.slo.tpot = core::to_seconds(tpot);
  if (!(f.slo_quantile > 0 && f.slo_quantile <= 1))
    return core::invalid_argument("--slo-quantile: must be within (0, 1]");
  r.slo.quantile = f.slo_quantile;
  if (!f.scaler.empty()) r.options.scaler = f.scaler;
  if (f.peer_target > 0) r.options.peer_target = f.peer_target;
  if (!f.advise.empty()) r.options.advise = f.advise;
  if (!f.scale_down.empty()) r.options.scale_down = f.scale_down;
  r.options.scaler_ttft = r.slo.ttft;
  r.options.scaler_itl = r.slo.tpot;
  r.options.scaler_quantile = r.slo.quantile;
  if (auto st = load_trace_for(w); !st) return tl::unexpected(st.error());
  return r;
}

}  // namespace llmscale::sim
