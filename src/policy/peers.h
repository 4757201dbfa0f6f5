// The peers' published scaling rules, re-implemented from their documentation and source (no
// code copied) so the simulator compares llmscale with what users would otherwise pick:
//
//  * Knative KPA (serving pkg/autoscaler/scaling/autoscaler.go): average concurrency per pod
//    over a 60 s stable and a 6 s panic window; desired = ceil(avg / target) for each, bounded
//    by max-scale-up-rate·ready and ready/max-scale-down-rate; panic when the panic desire is
//    >= 200 % of the ready pods, held until a stable window passes without that, and in panic
//    the count never decreases; an optional scale-down delay keeps the highest desire of its
//    window. Ticks every 2 s.
//  * KEDA with llm-d's SLO-aware formula: saturation s = max(p90 TTFT / S_ttft, p90 TPOT /
//    S_tpot), 0 with no traffic, clamped at 2 and averaged over 45 s of 15 s recordings; the
//    formula's value is fed to an HPA (target 1, tolerance 10 %, 5 min scale-down window) over
//    the scale's spec.replicas, so pending pods are credited. Hysteresis band: s in
//    [band_low, 1] holds, s > 1 grows in proportion, s < band_low shrinks toward the band (our
//    reading of the guide's band; see docs/policies.md).
//  * AIBrix APA (pkg/controller/podautoscaler/algorithm): the window average of the metric per
//    ready pod against its target; scale only outside the fluctuation band (up 10 %, down
//    20 %): ceil(ready · value/target), bounded by max scale-up rate 2 and scale-down rate 2.
//
// The metric for KPA and APA is the router's in-flight requests (Knative's queue-proxy
// concurrency; APA's pod metric), per ready pod. Not thread-safe; one per fleet.
#pragma once

#include <deque>
#include <utility>

#include "policy/signals.h"

namespace llmscale::policy {

struct KpaConfig {
  double target = 24;  // concurrency per pod (container-concurrency-target × utilization)
  double stable_window_s = 60;
  double panic_window_percent = 10;
  double panic_threshold = 2.0;  // 200 %
  double max_scale_up_rate = 1000;
  double max_scale_down_rate = 2;
  double scale_down_delay_s = 0;
  core::Duration interval = std::chrono::seconds(2);
};

class KpaScaler final : public Scaler {
 public:
  explicit KpaScaler(KpaConfig config) : config_(config) {}
  Decision decide(const Signals& signals) override;
  std::string_view name() const override { return "kpa"; }
  core::Duration interval() const override { return config_.interval; }
  bool in_panic() const { return panic_since_.has_value(); }

 private:
  KpaConfig config_;
  std::deque<std::pair<core::Time, double>> samples_;
  std::optional<core::Time> panic_since_;
  double max_panic_pods_ = 0;
  std::deque<std::pair<core::Time, std::int32_t>> delay_window_;
};

struct KedaLlmdConfig {
  double ttft_s = 1.0;
  double tpot_s = 0.1;
  double clamp = 2.0;
  double smoothing_s = 45;
  core::Duration recording_interval = std::chrono::seconds(15);
  double band_low = 0.7;
  double tolerance = 0.1;
  double scale_down_window_s = 300;
  core::Duration interval = std::chrono::seconds(15);  // KEDA pollingInterval / HPA sync
};

class KedaLlmdScaler final : public Scaler {
 public:
  explicit KedaLlmdScaler(KedaLlmdConfig config) : config_(config) {}
  Decision decide(const Signals& signals) override;
  std::string_view name() const override { return "keda-llmd"; }
  core::Duration interval() const override { return config_.interval; }

 private:
  KedaLlmdConfig config_;
  std::deque<std::pair<core::Time, double>> recordings_;
  std::optional<core::Time> last_recording_;
  std::deque<std::pair<core::Time, std::int32_t>> recommendations_;
};

struct ApaConfig {
  double target = 24;  // metric per pod
  double up_tolerance = 0.1;
  double down_tolerance = 0.2;
  double window_s = 60;
  double max_scale_up_rate = 2;
  double max_scale_down_rate = 2;
  core::Duration interval = std::chrono::seconds(15);
};

class ApaScaler final : public Scaler {
 public:
  explicit ApaScaler(ApaConfig config) : config_(config) {}
  Decision decide(const Signals& signals) override;
  std::string_view name() const override { return "aibrix-apa"; }
  core::Duration interval() const override { return config_.interval; }

 private:
  ApaConfig config_;
  std::deque<std::pair<core::Time, double>> samples_;
};

}  // namespace llmscale::policy
