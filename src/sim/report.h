// Simulator outputs: the summary an SRE plans with (SLO attainment, goodput, replica-hours,
// scale events, time over/under-provisioned), per-request and per-second CSV, SVG plots and a
// self-contained HTML report. Pure functions of a SimResult; byte-identical for equal inputs.
//
// Definitions (docs/simulator.md):
//  * a request meets the SLO when it succeeded with TTFT <= ttft and mean TPOT (ITL) <= tpot;
//    attainment = meeting / all requests (rejected and aborted ones count as misses);
//  * slo_met: the `quantile` of TTFT and of TPOT over all requests (failures as +inf) are
//    within the thresholds (the "p90 TTFT <= 1 s" form);
//  * goodput = requests (and output tokens) meeting the SLO per simulated second;
//  * replica-hours: Σ pod lifetimes, cold start and drain included (what is billed);
//  * under-provisioned second: a request arriving in it misses the SLO; over-provisioned second:
//    none does, more replicas are ready than the minimum, and the work done in it would fit on
//    one replica fewer at <= 80 % busy.
#pragma once

#include <string>

#include "sim/simulator.h"

namespace llmscale::sim {

struct Slo {
  double ttft = 1.0;  // seconds
  double tpot = 0.1;  // seconds per output token
  double quantile = 0.9;
};

struct Percentiles {
  double p50 = 0, p90 = 0, p99 = 0, mean = 0;
};

struct Summary {
  std::size_t requests = 0, ok = 0, rejected = 0, aborted = 0;
  Percentiles ttft, tpot, e2e, queue;
  double attainment = 0;  // fraction meeting both thresholds
  double ttft_attainment = 0;
  double tpot_attainment = 0;
  double ttft_at_quantile = 0;  // +inf when failures push the quantile past the successes
  double tpot_at_quantile = 0;
  bool slo_met = false;
  double goodput_rps = 0;
  double goodput_tokens_per_s = 0;
  double throughput_tokens_per_s = 0;
  double replica_hours = 0;
  double chip_hours = 0;
  std::size_t scale_events = 0;
  std::size_t scale_ups = 0, scale_downs = 0;
  double over_provisioned_s = 0;
  double under_provisioned_s = 0;
  double mean_ready = 0;
  std::int32_t max_replicas = 0;
  double duration = 0;
  // Scale-down (written with --scale-down): pods chosen for deletion, the requests and tokens
  // in flight on them then (what their drains had to finish), Σ and max of deleted → removed.
  // Requests cut by scale-down are the aborted ones (the grace period ran out).
  std::size_t victims = 0;
  std::int64_t victim_requests = 0;
  std::int64_t victim_tokens = 0;
  double drain_seconds = 0;
  double max_drain_seconds = 0;
  // Σ over the scale-downs of SimResult::scale_down_choices: the same decisions seen by both
  // rankings.
  std::int64_t replicaset_choice_requests = 0, replicaset_choice_tokens = 0;
  std::int64_t drain_aware_choice_requests = 0, drain_aware_choice_tokens = 0;
};

Summary summarize(const SimResult& result, const Slo& slo);

std::string summary_json(const Summary& summary, const SimResult& result, const Slo& slo);
std::string requests_csv(const SimResult& result);
std::string seconds_csv(const SimResult& result);
std::string scale_events_csv(const SimResult& result);
// Every decision of a policy scaler (--scaler other than hpa, or --advise beside the HPA): time,
// the replicas asked for then, what the policy wants, whether a missing metric blocked a
// scale-down, and the one-line explanation.
std::string decisions_csv(const SimResult& result);
// Replicas (desired, ready, starting) over time.
std::string replicas_svg(const SimResult& result);
// The HPA's metric (as the controller saw it) against its target.
std::string metric_svg(const SimResult& result);
// TTFT and TPOT CDFs with the SLO thresholds.
std::string latency_cdf_svg(const SimResult& result, const Slo& slo);
std::string html_report(const Summary& summary, const SimResult& result, const Slo& slo,
                        const std::string& title);

}  // namespace llmscale::sim
