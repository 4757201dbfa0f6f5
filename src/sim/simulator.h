// Simulator: the autoscaling loop of `llmscale up` as discrete events on a core::SimulatedClock,
// with no threads and no sockets, built from the same code `up` runs:
//
//   arrivals ─► router policy (router/policy.h) ─► replicas: engine::Engine per pod, observed by
//   server::FlavorMetrics (the flavor's exact metric families)
//   scrape (PodMonitoring → prom scrape configs → target labels, prom::scrape_offset phases)
//     ─► exposition text ─► prom::ingest_scrape into a prom::Storage (after an ingestion delay)
//     ─► adapter::MetricsAdapter rules (relisted on a period) ─► controller::Controller with the
//   pure hpa engine (sync period, and right after a scrape as `up` does) ─► the simulated fleet.
//
// Pods follow Kubernetes' lifecycle as `up`'s fleet does: created Running, ready at the first
// readiness probe after the cold start (the profile's startup phases, or an override, with an
// optional uniform jitter), chosen for deletion by fleet::delete_before (the ReplicaSet
// ranking; with scale_down "drain-aware" after setting pod-deletion-cost from the in-flight
// tokens, as `up` does), drained on termination (no new requests; removed when idle or after the
// grace period, aborting what is left). Requests that find no ready replica wait in the router's
// queue up to router_queue_timeout, then fail (503), as router.md describes.
//
// Deterministic: the event queue is the SimulatedClock's (deadline, then scheduling order), every
// random choice is seeded from SimOptions::seed, no unordered iteration reaches the output.
//
// Not thread-safe; independent Simulators may run on different threads (recommend does).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "controller/pass_pacer.h"
#include "core/result.h"
#include "core/time.h"
#include "kube/objects.h"
#include "sim/workload.h"
#include "up/config.h"

namespace llmscale::sim {

// The metric pipeline's timing (llmscale `up` defaults: PodMonitoring interval, immediate
// ingestion, relist every 30 s, sync 15 s, reconcile after every scrape).
struct PipelineOptions {
  std::optional<core::Duration> scrape_interval;  // overrides every PodMonitoring interval
  // Phase of the scrapes: nullopt staggers targets as Prometheus does (prom::scrape_offset of the
  // target hash); a value puts every target's first scrape that long after it appears.
  std::optional<core::Duration> scrape_offset;
  core::Duration ingestion_delay{};  // scrape → queryable (Prometheus remote-write/GMP lag)
  core::Duration adapter_relist = std::chrono::seconds(30);
  core::Duration sync_period = std::chrono::seconds(15);
  bool reconcile_after_scrape = true;
  // Post-scrape passes of one HPA start at least this far apart (controller/pass_pacer.h).
  core::Duration min_pass_interval = controller::kDefaultMinPassInterval;
};

struct SimOptions {
  std::uint64_t seed = 1;
  std::string policy = "least-outstanding-requests";
  PipelineOptions pipeline;
  core::Duration downscale_stabilization = std::chrono::minutes(5);
  double tolerance = 0.1;  // --horizontal-pod-autoscaler-tolerance
  // The Fleets' initial replicas are ready at time 0 (a running fleet when the traffic window
  // starts); false: they start cold with the rest.
  bool start_warm = true;
  std::optional<core::Duration> cold_start;  // overrides the profile's startup phases
  double cold_start_jitter = 0;              // relative, uniform in [1-j, 1+j]
  double step_time_jitter = 0;
  core::Duration router_queue_timeout = std::chrono::seconds(60);
  // Simulated time after the last arrival (the fleet scales down meanwhile); the run also stops
  // early when every request is done and every HPA is back at its minimum.
  core::Duration tail = std::chrono::minutes(10);
  std::optional<core::Duration> max_duration;  // hard stop
  core::Duration sample_interval = std::chrono::seconds(1);
  std::string profiles_dir;  // --profiles-dir
  // Who scales the first Fleet: "hpa" (the controller with the scenario's HPAs, as `up`) or a
  // policy of policy/scaler.h (slo, slo+credit+predict, kpa, keda-llmd, aibrix-apa ...), which
  // then replaces the HPAs, within the first HPA's min/max replicas.
  std::string scaler = "hpa";
  double scaler_ttft = 1.0;  // the policies' SLO targets, seconds (simulate's --slo-*)
  double scaler_itl = 0.1;
  double scaler_quantile = 0.9;
  // Advisory (dry run): with scaler "hpa", this policy is evaluated beside the HPA on the same
  // signals and its decisions recorded (SimResult::decisions), never applied.
  std::string advise;
  // KPA/APA per-pod in-flight target; nullopt: the first HPA's AverageValue target, else 24.
  std::optional<double> peer_target;
  // The SLO policy's forecast season (policy/forecast.h); nullopt: daily; zero: none.
  std::optional<core::Duration> forecast_season;
  // Scale-down victims, as `up --scale-down`: "replicaset" (the ReplicaSet ranking alone) or
  // "drain-aware" (each pod's pod-deletion-cost set from the router's in-flight tokens on it
  // just before the ranking). Empty: the ReplicaSet ranking with the outputs of before (no
  // scale_down block in summary.json).
  std::string scale_down;
};

enum class RequestStatus : std::uint8_t { kOk, kRejected, kAborted };
std::string_view request_status_name(RequestStatus status);

struct RequestResult {
  std::uint64_t id = 0;  // arrival order
  double arrival = 0;    // seconds since the start
  std::int64_t input_tokens = 0;
  std::int64_t output_tokens = 0;  // produced
  int pod = -1;                    // pod index (SimResult::pods), -1 when never routed
  double router_wait = 0;          // in the router's queue
  double queue = 0;                // in the engine's queue (vLLM request_queue_time)
  double ttft = 0;                 // from arrival at the router
  double tpot = 0;                 // mean inter-token latency after the first token
  double e2e = 0;
  std::int32_t cached_prompt_tokens = 0;
  RequestStatus status = RequestStatus::kOk;
};

struct SecondSample {
  double t = 0;
  std::int32_t desired = 0;  // the scale's spec.replicas
  std::int32_t ready = 0;
  std::int32_t starting = 0;
  std::int32_t terminating = 0;
  double metric = 0;  // the first metric of the first HPA, as the controller last saw it
  double target = 0;  // its target
  std::int64_t router_queue = 0;
  std::int64_t waiting = 0;  // Σ engine waiting queues
  std::int64_t running = 0;
  double kv_usage = 0;  // mean over ready pods
  double busy = 0;      // Σ engine busy seconds in the interval / interval
  std::int64_t arrivals = 0;
  std::int64_t completed = 0;
  std::int64_t tokens = 0;  // output tokens produced in the interval
};

struct ScaleEventRecord {
  double t = 0;
  std::string hpa;
  std::int32_t from = 0;
  std::int32_t to = 0;
  std::string reason;
};

// One decision of a policy scaler (SimOptions::scaler other than hpa): what it asked and why.
struct PolicyDecisionRecord {
  double t = 0;
  std::int32_t current = 0;
  std::int32_t desired = 0;
  bool scale_down_blocked = false;
  std::string explanation;
};

struct PodRecord {
  std::string name;
  double created = 0;
  std::optional<double> ready;
  std::optional<double> deleted;
  std::optional<double> removed;
  // When chosen for deletion: the requests in flight on it and their tokens (prompt + output so
  // far), what its drain has to finish.
  std::int64_t in_flight_at_deletion = 0;
  std::int64_t tokens_at_deletion = 0;
};

// One scale-down seen by both rankings on the same fleet state (SimOptions::scale_down set): the
// requests and tokens in flight on the victims the ReplicaSet ranking alone picks, and on those
// the drain-aware one (pod-deletion-cost from in-flight tokens) picks. The run applies one.
struct ScaleDownChoice {
  double t = 0;
  std::int32_t victims = 0;
  std::int64_t replicaset_requests = 0, replicaset_tokens = 0;
  std::int64_t drain_aware_requests = 0, drain_aware_tokens = 0;
};

struct SimResult {
  std::vector<RequestResult> requests;
  std::vector<SecondSample> samples;
  std::vector<ScaleEventRecord> scale_events;
  std::vector<PolicyDecisionRecord> decisions;  // policy scalers only
  std::vector<PodRecord> pods;
  std::vector<ScaleDownChoice> scale_down_choices;  // with SimOptions::scale_down only
  double duration = 0;                              // simulated seconds
  double replica_seconds = 0;                       // Σ pod lifetimes (created → removed)
  int chips_per_replica = 1;                        // tensor-parallel degree
  std::uint64_t engine_steps = 0;
  std::uint64_t tokens = 0;  // prompt + output tokens computed
  std::string metric_name;   // what SecondSample::metric is
  std::string scaler = "hpa";
  std::string scale_down;  // SimOptions::scale_down
  std::string decided_by;  // the policy whose decisions are recorded (applied or advisory)
  std::string profile;
  std::string flavor;
};

// A scenario: what `up` would run plus the workload.
struct Scenario {
  up::UpConfig config;
  WorkloadConfig workload;
};

// Reads a scenario folder (or files): the documents `up` reads (up/config.h) plus an optional
// `kind: Workload` document (workload.h) and an optional `kind: Simulation` document whose
// spec sets SimOptions fields (policy, scrapeInterval, ingestionDelay, adapterRelist,
// syncPeriod, coldStart, seed ...), applied to `options`.
core::Result<Scenario> load_scenario(const std::vector<std::string>& paths, SimOptions& options);

// Progress: called with the simulated fraction done (0..1) now and then.
using ProgressFn = std::function<void(double)>;

// Runs one simulation. Fails on an unusable configuration (no fleet, unknown profile or flavor,
// a fleet that is not serveSim, an invalid PodMonitoring).
core::Result<SimResult> simulate(const Scenario& scenario, const SimOptions& options,
                                 const ProgressFn& progress = {});

}  // namespace llmscale::sim
