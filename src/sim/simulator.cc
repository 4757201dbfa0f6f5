// The fleet simulator's discrete-event core (simulator.h): pods, router, scrape pipeline,
// adapter and HPA controller on one SimulatedClock.
#include "sim/simulator.h"
#include "core/hash.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <deque>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>
#include <map>
#include <set>
#include <sstream>
#include <unordered_map>

#include <nlohmann/json.hpp>

#include "adapter/adapter.h"
#include "controller/controller.h"
#include "controller/pass_pacer.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/strings.h"
#include "engine/engine.h"
#include "engine/profile.h"
#include "fleet/fleet.h"
#include "policy/scaler.h"
#include "prom/promql/engine.h"
#include "prom/scrape/ingest.h"
#include "prom/scrape/pod_source.h"
#include "prom/scrape/scraper.h"
#include "prom/scrape/target.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"
#include "router/policy.h"
#include "server/flavor.h"
#include "server/flavor_metrics.h"
#include "server/profile_files.h"
#include "up/fleet_monitoring.h"

namespace llmscale::sim {

std::string_view request_status_name(RequestStatus status) {
  switch (status) {
    case RequestStatus::kOk: return "ok";
    case RequestStatus::kRejected: return "rejected";
    case RequestStatus::kAborted: return "aborted";
  }
  return "ok";
}

namespace {

using core::Duration;
using core::Time;

// Kubernetes: the alphabet of generated name suffixes (apimachinery/pkg/util/rand).
constexpr std::string_view kAlphanums = "bcdfghjklmnpqrstvwxz2456789";

struct Pod;

// The router's view of a pod's in-flight tokens (router::BackendStatus::in_flight_tokens):
// prompts of the requests routed to it plus the tokens they have streamed so far.
struct InFlightTokens {
  std::uint64_t total = 0;
  std::unordered_map<engine::RequestId, std::uint64_t> per_request;
};

// Forwards the engine's observations to the flavor's metrics and keeps finished records.
class TeeObserver final : public engine::EngineObserver {
 public:
  server::FlavorMetrics* metrics = nullptr;
  std::vector<engine::RequestRecord>* finished = nullptr;
  InFlightTokens* tokens = nullptr;  // counted only for drain-aware scale-down
  void on_step(const engine::StepRecord& step) override { metrics->on_step(step); }
  void on_token(const engine::TokenRecord& token) override {
    metrics->on_token(token);
    if (tokens != nullptr) {
      ++tokens->total;
      ++tokens->per_request[token.id];
    }
  }
  void on_request_finished(const engine::RequestRecord& request) override {
    metrics->on_request_finished(request);
    finished->push_back(request);
  }
};

struct ScrapeTarget {
  prom::ScrapeTargetSpec spec;
  prom::IngestOptions ingest;
  std::unique_ptr<prom::TargetAppender> appender;
};

struct Pod {
  int index = 0;
  int fleet = 0;
  std::string name;
  std::string uid;
  Time created{};
  Time startup_end{};
  std::optional<Time> ready_since;
  std::optional<Time> deletion;
  bool ready = false;
  bool terminating = false;
  bool removed = false;
  std::unique_ptr<server::FlavorMetrics> metrics;
  TeeObserver observer;
  std::vector<engine::RequestRecord> finished;
  std::unique_ptr<engine::Engine> engine;
  bool stepping = false;
  std::size_t in_flight = 0;
  InFlightTokens tokens;
  std::optional<std::int32_t> deletion_cost;  // drain-aware: set before each scale-down
  std::optional<router::LoadSignal> load;
  std::size_t in_flight_at_load = 0;
  std::vector<ScrapeTarget> targets;
  std::unordered_map<engine::RequestId, std::uint64_t> requests;  // engine id -> result index
  double busy_seen = 0;
  std::uint64_t tokens_seen = 0;
  // The gauges of the last ingested scrape (what a policy reads), and when they were scraped.
  std::optional<engine::EngineStats> scraped;
  Time scraped_at{};
  // The pod in Kubernetes' shape (Simulator::to_kube), rebuilt only when its state changes
  // (ready, terminating): every HPA pass reads every pod.
  std::optional<kube::Pod> kube;
};

struct FleetState {
  fleet::FleetSpec spec;
  std::string template_hash;
  engine::Profile profile;
  server::Flavor flavor = server::Flavor::kVllmV1;
  double startup_seconds = 0;
  double weights_seconds = 0;
  std::int32_t desired = 0;
  std::vector<int> pods;  // indexes into Simulator::pods_, creation order
};

class Simulator;

class SimScaleTarget final : public controller::ScaleTarget {
 public:
  SimScaleTarget(Simulator& sim, int fleet) : sim_(sim), fleet_(fleet) {}
  core::Result<kube::Scale> get_scale() override;
  core::Status set_replicas(std::int32_t replicas) override;
  std::vector<kube::Pod> pods() override;

 private:
  Simulator& sim_;
  int fleet_;
};

class Simulator final : public adapter::ObjectLister, public controller::ScaleTargetResolver {
 public:
  Simulator(const Scenario& scenario, const SimOptions& options)
      : scenario_(scenario), options_(options), clock_(core::SimulatedClock::default_start()) {}

  core::Status setup();
  core::Result<SimResult> run(const ProgressFn& progress);

  // ObjectLister (the adapter's wildcard pod requests).
  core::Result<std::vector<std::string>> list(const adapter::GroupResource& resource,
                                              const std::string& ns,
                                              const kube::Selector& selector) override {
    std::vector<std::string> names;
    if (resource.resource != "pods" || !resource.group.empty()) return names;
    for (const auto& f : fleets_) {
      for (int i : f.pods) {
        const Pod& p = *pods_[i];
        if (p.removed) continue;
        if (f.spec.namespace_ == ns && selector.matches(pod_labels(f))) names.push_back(p.name);
      }
    }
    return names;
  }

  // ScaleTargetResolver.
  core::Result<controller::ScaleTarget*> resolve(
      const std::string& ns, const kube::CrossVersionObjectReference& ref) override {
    for (std::size_t i = 0; i < fleets_.size(); ++i) {
      const auto& spec = fleets_[i].spec;
      if (spec.name == ref.name && spec.namespace_ == ns &&
          (ref.kind == "Deployment" || ref.kind == "Fleet"))
        return static_cast<controller::ScaleTarget*>(targets_[i].get());
    }
    std::string resource =
        ref.kind == "Deployment" ? "deployments.apps" : core::to_lower(ref.kind) + "s";
    return core::make_error(core::ErrorCode::kNotFound,
                            resource + " \"" + ref.name + "\" not found");
  }

  kube::Scale scale(int fleet) const {
    kube::Scale s;
    s.spec_replicas = fleets_[fleet].desired;
    for (int i : fleets_[fleet].pods)
      if (!pods_[i]->removed && !pods_[i]->terminating) ++s.status_replicas;
    s.selector = fleets_[fleet].spec.selector_string();
    return s;
  }
  core::Status set_replicas(int fleet, std::int32_t replicas) {
    if (replicas < 0) return core::invalid_argument("replicas: must not be negative");
    fleets_[fleet].desired = replicas;
    reconcile_fleet(fleet);
    return {};
  }
  std::vector<kube::Pod> kube_pods(int fleet) const {
    std::vector<kube::Pod> out;
    for (int i : fleets_[fleet].pods)
      if (!pods_[i]->removed) out.push_back(to_kube(*pods_[i]));
    return out;
  }

 private:
  kube::Labels pod_labels(const FleetState& f) const {
    kube::Labels labels = f.spec.template_.labels;
    labels["pod-template-hash"] = f.template_hash;
    return labels;
  }
  const kube::Pod& to_kube(Pod& pod) const;
  kube::Pod make_kube_pod(const Pod& pod) const;
  void reconcile_fleet(int fleet);
  void compare_choices(const std::vector<std::pair<int, kube::Pod>>& pods, std::size_t victims,
                       const std::function<void(std::vector<std::pair<int, kube::Pod>>&)>& rank);
  void create_pod(int fleet, bool warm = false);
  void begin_termination(Pod& pod);
  void remove_pod(Pod& pod);
  void become_ready(Pod& pod);
  void scrape(int pod, std::size_t target);
  void arm_scrape(int pod, std::size_t target, Duration delay);
  void on_scraped(Pod& pod, const prom::IngestReport& report);
  void reconcile_soon(const std::string& ns, const std::string& name);
  void relist();
  void next_arrival();
  void route(std::uint64_t request);
  void flush_router_queue();
  void kick(Pod& pod);
  void step(int pod);
  void end_step(int pod);
  void collect_finished(Pod& pod);
  void sample();
  bool done() const;
  core::Status setup_scaler();
  void policy_tick();
  policy::Signals policy_signals();

  const Scenario& scenario_;
  SimOptions options_;
  core::SimulatedClock clock_;
  Time start_{};
  prom::Storage storage_;
  prom::LocalQueryEngine query_{storage_};
  std::unique_ptr<adapter::MetricsAdapter> adapter_;
  std::unique_ptr<adapter::AdapterMetricsProvider> provider_;
  std::unique_ptr<controller::Controller> controller_;
  std::vector<std::unique_ptr<SimScaleTarget>> targets_;
  std::vector<FleetState> fleets_;
  std::vector<std::unique_ptr<Pod>> pods_;
  std::vector<prom::ScrapeConfig> scrape_configs_;
  router::PolicyKind policy_kind_ = router::PolicyKind::kLeastOutstanding;
  std::unique_ptr<router::Policy> policy_;
  std::vector<int> backends_;  // ready, not terminating pods of fleet 0, in the order they got
                               // ready (the balancer's stable order)
  std::vector<router::Candidate> candidates_;
  std::deque<std::uint64_t> router_queue_;
  std::unique_ptr<controller::PassPacer> pacer_;
  bool relist_pending_ = false;
  std::uint64_t rng_ = 0;

  Arrivals arrivals_;
  std::size_t next_arrival_ = 0;
  Time last_arrival_{};
  SimResult result_;
  std::vector<Time> arrival_time_;  // per request
  std::vector<Time> submit_time_;
  std::size_t outstanding_ = 0;
  // Sampling.
  std::int64_t interval_arrivals_ = 0;
  std::int64_t interval_completed_ = 0;
  double last_metric_ = 0;
  double last_target_ = 0;
  bool stopped_ = false;
  // Policy scaler (SimOptions::scaler other than hpa) and the router-side signals it reads.
  std::unique_ptr<policy::Scaler> scaler_;
  struct Completion {
    Time at;
    double ttft = 0, tpot = 0;
    std::int64_t input = 0, output = 0;
  };
  std::deque<Time> recent_arrivals_;
  std::deque<Completion> completions_;
  bool advisory_ = false;      // scaler_ only advises; the HPA scales
  bool drain_aware_ = false;   // SimOptions::scale_down
  bool count_tokens_ = false;  // in-flight tokens per pod (any scale_down given)
  std::optional<std::pair<double, double>> token_shape_;  // mean input, output tokens
};

core::Result<kube::Scale> SimScaleTarget::get_scale() {
  return sim_.scale(fleet_);
}
core::Status SimScaleTarget::set_replicas(std::int32_t replicas) {
  return sim_.set_replicas(fleet_, replicas);
}
std::vector<kube::Pod> SimScaleTarget::pods() {
  return sim_.kube_pods(fleet_);
}

// As `up`'s fleet reports a pod (fleet/fleet.cc to_kube): Running from creation, Ready once the
// readiness probe passed.
const kube::Pod& Simulator::to_kube(Pod& pod) const {
  if (!pod.kube) pod.kube = make_kube_pod(pod);
  return *pod.kube;
}

kube::Pod Simulator::make_kube_pod(const Pod& pod) const {
  const FleetState& f = fleets_[pod.fleet];
  kube::Pod out;
  out.metadata.name = pod.name;
  out.metadata.generate_name = f.spec.name + "-" + f.template_hash + "-";
  out.metadata.namespace_ = f.spec.namespace_;
  out.metadata.uid = pod.uid;
  out.metadata.creation_timestamp = pod.created;
  if (pod.terminating) out.metadata.deletion_timestamp = pod.deletion;
  out.metadata.labels = pod_labels(f);
  out.metadata.annotations = f.spec.template_.annotations;
  if (pod.deletion_cost)
    out.metadata.annotations[kube::kPodDeletionCost] = std::to_string(*pod.deletion_cost);
  kube::Container container;
  container.name = f.spec.name;
  out.containers.push_back(container);
  out.phase = "Running";
  out.start_time = pod.created;
  const char* ready = pod.ready ? "True" : "False";
  std::optional<Time> since = pod.ready_since ? pod.ready_since : std::optional<Time>(pod.created);
  out.conditions = {{"PodScheduled", "True", pod.created},
                    {"Initialized", "True", pod.created},
                    {"ContainersReady", ready, since},
                    {"Ready", ready, since}};
  out.pod_ip =
      "10.0." + std::to_string(pod.index / 250) + "." + std::to_string(pod.index % 250 + 1);
  kube::ContainerStatus status;
  status.name = f.spec.name;
  status.ready = pod.ready;
  out.container_statuses.push_back(status);
  return out;
}

core::Status Simulator::setup() {
  const up::UpConfig& config = scenario_.config;
  if (config.fleets.empty()) return core::invalid_argument("scenario: no Fleet document");
  start_ = clock_.now();
  rng_ = core::splitmix64(options_.seed);
  auto policy = router::parse_policy(options_.policy);
  if (!policy) return core::invalid_argument("policy: " + policy.error().message);
  policy_kind_ = *policy;
  policy_ = router::make_policy(*policy);

  engine::ProfileSearch search = server::default_profile_search(options_.profiles_dir);
  for (const auto& spec : config.fleets) {
    if (!spec.template_.serve_sim)
      return core::invalid_argument("fleet " + spec.name +
                                    ": only serveSim replicas can be simulated");
    FleetState f;
    f.spec = spec;
    f.template_hash = fleet::pod_template_hash(spec);
    const auto& ss = *spec.template_.serve_sim;
    auto flavor = server::parse_flavor(ss.flavor);
    if (!flavor)
      return core::invalid_argument("fleet " + spec.name + ": " + flavor.error().message);
    f.flavor = *flavor;
    std::optional<double> startup;
    engine::ProfileSearch fleet_search = search;
    for (std::size_t i = 0; i + 1 < ss.args.size(); ++i) {
      if (ss.args[i] == "--startup-seconds") {
        startup = std::strtod(ss.args[i + 1].c_str(), nullptr);
      } else if (ss.args[i] == "--profiles-dir") {
        fleet_search.dirs.insert(fleet_search.dirs.begin(), {ss.args[i + 1], "--profiles-dir"});
      }
    }
    auto profile = engine::load_profile(fleet_search, ss.profile);
    if (!profile)
      return core::invalid_argument("fleet " + spec.name + ": " + profile.error().message);
    f.profile = std::move(*profile);
    f.startup_seconds = startup.value_or(f.profile.startup_seconds());
    if (options_.cold_start) f.startup_seconds = core::to_seconds(*options_.cold_start);
    for (const auto& phase : f.profile.startup) {
      if (phase.name.find("weight") != std::string::npos) f.weights_seconds += phase.seconds;
    }
    f.desired = spec.replicas;
    fleets_.push_back(std::move(f));
  }
  for (std::size_t i = 0; i < fleets_.size(); ++i)
    targets_.push_back(std::make_unique<SimScaleTarget>(*this, static_cast<int>(i)));
  if (!options_.scale_down.empty() && options_.scale_down != "replicaset" &&
      options_.scale_down != "drain-aware")
    return core::invalid_argument("scale-down: unknown policy \"" + options_.scale_down +
                                  "\" (drain-aware or replicaset)");
  drain_aware_ = options_.scale_down == "drain-aware";
  count_tokens_ = !options_.scale_down.empty();
  result_.scale_down = options_.scale_down;
  result_.profile = fleets_[0].profile.name;
  result_.flavor = std::string(server::flavor_name(fleets_[0].flavor));
  result_.chips_per_replica = fleets_[0].profile.tensor_parallel;

  // Scrape configs, as `up` builds them.
  std::vector<prom::PodMonitoring> monitorings = config.pod_monitorings;
  if (monitorings.empty()) {
    for (const auto& spec : config.fleets) monitorings.push_back(up::default_pod_monitoring(spec));
  }
  for (prom::PodMonitoring& pm : monitorings) {
    up::map_port_numbers(pm, config.fleets);
    if (options_.pipeline.scrape_interval) {
      for (auto& endpoint : pm.endpoints) {
        endpoint.interval = core::format_go_duration(*options_.pipeline.scrape_interval);
        endpoint.timeout.clear();
      }
    }
    auto configs = prom::pod_monitoring_scrape_configs(pm, {});
    if (!configs)
      return core::invalid_argument("PodMonitoring \"" + pm.name +
                                    "\": " + configs.error().message);
    scrape_configs_.insert(scrape_configs_.end(), configs->begin(), configs->end());
  }

  auto adapter_config =
      config.adapter ? config.adapter : std::make_shared<const adapter::AdapterConfig>();
  adapter_ = std::make_unique<adapter::MetricsAdapter>(adapter_config, query_, *this, clock_);
  provider_ = std::make_unique<adapter::AdapterMetricsProvider>(*adapter_);
  controller::ControllerOptions controller_options;
  controller_options.sync_period = options_.pipeline.sync_period;
  controller_options.hpa.downscale_stabilization_window = options_.downscale_stabilization;
  controller_options.hpa.tolerance = options_.tolerance;
  controller_ =
      std::make_unique<controller::Controller>(clock_, *provider_, *this, controller_options);
  pacer_ = std::make_unique<controller::PassPacer>(
      clock_, options_.pipeline.min_pass_interval,
      [this](const std::string& ns, const std::string& name) {
        if (stopped_) return;
        if (relist_pending_) {
          relist_pending_ = false;
          (void)adapter_->relist();
        }
        controller_->reconcile_now(ns, name);
      });
  controller_->subscribe([this](const controller::HpaView& view) {
    if (!view.last_decision) return;
    const hpa::Decision& d = *view.last_decision;
    if (d.rescale) {
      result_.scale_events.push_back({core::to_seconds(clock_.now() - start_),
                                      view.hpa.metadata.name, d.current_replicas,
                                      d.desired_replicas, d.rescale_reason});
    }
    if (!scenario_.config.hpas.empty() &&
        view.hpa.metadata.name == scenario_.config.hpas.front().metadata.name &&
        !d.metrics.empty()) {
      const hpa::MetricResult& m = d.metrics.front();
      if (m.utilization_percent) {
        last_metric_ = *m.utilization_percent;
        last_target_ = m.target_utilization.value_or(0);
      } else if (m.usage_milli) {
        last_metric_ = static_cast<double>(*m.usage_milli) / 1000.0;
        last_target_ = m.target_milli ? static_cast<double>(*m.target_milli) / 1000.0 : 0;
      }
    }
  });
  if (!config.hpas.empty() && !config.hpas.front().spec.metrics.empty()) {
    const auto& m = config.hpas.front().spec.metrics.front();
    result_.metric_name = m.type;
    if (m.pods) result_.metric_name = m.pods->metric.name;
    if (m.object) result_.metric_name = m.object->metric.name;
    if (m.external) result_.metric_name = m.external->metric.name;
    if (m.resource) result_.metric_name = m.resource->name;
  }

  // Workload (a trace not loaded yet is read now).
  WorkloadConfig workload = scenario_.workload;
  if (auto loaded = load_trace_for(workload); !loaded) return loaded;
  auto arrivals = generate_arrivals(workload);
  if (!arrivals) return tl::unexpected(arrivals.error());
  arrivals_ = std::move(*arrivals);
  result_.requests.resize(arrivals_.list.size());
  arrival_time_.resize(arrivals_.list.size());
  submit_time_.resize(arrivals_.list.size());
  for (std::size_t i = 0; i < arrivals_.list.size(); ++i) {
    RequestResult& r = result_.requests[i];
    r.id = i;
    r.arrival = core::to_seconds(arrivals_.list[i].offset);
    r.input_tokens = arrivals_.list[i].input_tokens;
    r.status = RequestStatus::kRejected;  // until it finishes
  }
  last_arrival_ =
      start_ + (arrivals_.list.empty() ? Duration::zero() : arrivals_.list.back().offset);
  return setup_scaler();
}

core::Status Simulator::setup_scaler() {
  result_.scaler = options_.scaler;
  std::string name = options_.scaler;
  if (name == "hpa") {
    if (options_.advise.empty()) return {};
    name = options_.advise;
    advisory_ = true;
  }
  policy::ScalerOptions o;
  const FleetState& f = fleets_[0];
  o.slo.ttft_s = options_.scaler_ttft;
  o.slo.itl_s = options_.scaler_itl;
  o.slo.quantile = options_.scaler_quantile;
  o.slo.profile = std::make_shared<const engine::Profile>(f.profile);
  o.slo.prior_ready_time_s = f.startup_seconds;
  if (options_.forecast_season)
    o.slo.forecast_season.period_s = core::to_seconds(*options_.forecast_season);
  o.slo.stale_after_s = std::max(
      30.0,
      3 * core::to_seconds(options_.pipeline.scrape_interval.value_or(std::chrono::seconds(15))) +
          core::to_seconds(options_.pipeline.ingestion_delay));
  // Token-shape priors until requests finish: a synthetic workload's means (a trace's are
  // learned from its first completions).
  if (scenario_.workload.kind != WorkloadKind::kTrace) {
    o.slo.prior_input_tokens = scenario_.workload.input_mean;
    o.slo.prior_output_tokens = scenario_.workload.output_mean;
  }
  double target = 24;
  if (!scenario_.config.hpas.empty() && !scenario_.config.hpas.front().spec.metrics.empty()) {
    const auto& m = scenario_.config.hpas.front().spec.metrics.front();
    if (m.pods && m.pods->target.average_value) target = m.pods->target.average_value->as_double();
  }
  o.kpa.target = o.apa.target = options_.peer_target.value_or(target);
  auto scaler = policy::make_scaler(name, o);
  if (!scaler) return core::invalid_argument("scaler: " + scaler.error().message);
  scaler_ = std::move(*scaler);
  result_.decided_by = std::string(scaler_->name());
  return {};
}

policy::Signals Simulator::policy_signals() {
  policy::Signals s;
  Time now = clock_.now();
  const FleetState& f = fleets_[0];
  s.now = now;
  s.current = f.desired;
  s.min_replicas = 1;
  s.max_replicas = std::max<std::int32_t>(1, f.desired);
  for (const auto& hpa : scenario_.config.hpas) {
    if (hpa.spec.scale_target_ref.name != f.spec.name) continue;
    s.min_replicas = hpa.spec.min_replicas.value_or(1);
    s.max_replicas = hpa.spec.max_replicas;
    break;
  }
  // The router's view: arrivals over the last 10 s, in flight, queued.
  constexpr double kRateWindow = 10;
  while (!recent_arrivals_.empty() &&
         recent_arrivals_.front() <= now - core::from_seconds(kRateWindow))
    recent_arrivals_.pop_front();
  double elapsed = std::min(kRateWindow, core::to_seconds(now - start_));
  s.arrival_rate = elapsed > 0 ? static_cast<double>(recent_arrivals_.size()) / elapsed : 0.0;
  s.router_queue = static_cast<double>(router_queue_.size());
  // Latency over the last minute: finished requests, plus those still queued past the TTFT
  // target (the router knows their TTFT is at least that).
  constexpr double kLatencyWindow = 60;
  while (!completions_.empty() && completions_.front().at <= now - core::from_seconds(300))
    completions_.pop_front();
  std::vector<double> ttfts, tpots;
  double in_sum = 0, out_sum = 0;
  for (const Completion& c : completions_) {
    in_sum += static_cast<double>(c.input);
    out_sum += static_cast<double>(c.output);
    if (c.at <= now - core::from_seconds(kLatencyWindow)) continue;
    ttfts.push_back(c.ttft);
    tpots.push_back(c.tpot);
  }
  // The token shape of the last 5 minutes, from 20 finished requests on; the last one known
  // is kept through a quiet spell.
  if (completions_.size() >= 20) {
    token_shape_ = {in_sum / static_cast<double>(completions_.size()),
                    out_sum / static_cast<double>(completions_.size())};
  }
  if (token_shape_) {
    s.mean_input_tokens = token_shape_->first;
    s.mean_output_tokens = token_shape_->second;
  }
  for (std::uint64_t id : router_queue_) {
    double waited = core::to_seconds(now - arrival_time_[id]);
    if (waited > options_.scaler_ttft) ttfts.push_back(waited);
  }
  auto quantile = [this](std::vector<double>& v) -> std::optional<double> {
    if (v.empty()) return std::nullopt;
    std::size_t k =
        static_cast<std::size_t>(options_.scaler_quantile * static_cast<double>(v.size() - 1));
    std::nth_element(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(k), v.end());
    return v[k];
  };
  s.latency_samples = ttfts.size();
  s.ttft_quantile = quantile(ttfts);
  s.itl_quantile = quantile(tpots);
  for (int i : f.pods) {
    const Pod& p = *pods_[i];
    if (p.removed || p.terminating) continue;
    s.in_flight += static_cast<double>(p.in_flight);
    if (p.ready) {
      ++s.ready;
    } else {
      ++s.starting;
    }
    policy::ReplicaSignals r;
    r.name = p.name;
    r.ready = p.ready;
    if (p.scraped) {
      r.waiting = static_cast<double>(p.scraped->num_waiting);
      r.running = static_cast<double>(p.scraped->num_running);
      r.kv_usage = p.scraped->kv_usage;
      r.age_s = core::to_seconds(now - p.scraped_at);
    }
    s.replicas.push_back(std::move(r));
  }
  for (int i : f.pods) {
    const PodRecord& rec = result_.pods[i];
    if (rec.ready && *rec.ready > rec.created) s.ready_times.push_back(*rec.ready - rec.created);
  }
  return s;
}

void Simulator::policy_tick() {
  if (stopped_) return;
  policy::Signals signals = policy_signals();
  policy::Decision d = scaler_->decide(signals);
  double t = core::to_seconds(clock_.now() - start_);
  result_.decisions.push_back({t, signals.current, d.desired, d.scale_down_blocked, d.explanation});
  if (!advisory_ && d.desired != fleets_[0].desired) {
    result_.scale_events.push_back(
        {t, std::string(scaler_->name()), fleets_[0].desired, d.desired, d.explanation});
    (void)set_replicas(0, d.desired);
  }
  clock_.call_after(scaler_->interval(), [this] { policy_tick(); });
}

std::string pod_suffix(std::uint64_t& rng) {
  std::string s;
  for (int i = 0; i < 5; ++i) {
    rng = core::splitmix64(rng);
    s += kAlphanums[rng % kAlphanums.size()];
  }
  return s;
}

void Simulator::create_pod(int fleet_index, bool warm) {
  FleetState& f = fleets_[fleet_index];
  auto pod = std::make_unique<Pod>();
  pod->index = static_cast<int>(pods_.size());
  pod->fleet = fleet_index;
  pod->name = f.spec.name + "-" + f.template_hash + "-" + pod_suffix(rng_);
  rng_ = core::splitmix64(rng_);
  char uid[40];
  std::snprintf(uid, sizeof uid, "%08x-0000-4000-8000-%012llx", static_cast<unsigned>(rng_),
                static_cast<unsigned long long>(pod->index));
  pod->uid = uid;
  pod->created = clock_.now();
  double startup = warm ? 0 : f.startup_seconds;
  if (options_.cold_start_jitter > 0 && !warm) {
    rng_ = core::splitmix64(rng_);
    double u = static_cast<double>(rng_ >> 11) * 0x1.0p-53;
    startup *= 1 + options_.cold_start_jitter * (2 * u - 1);
  }
  pod->startup_end = pod->created + core::from_seconds(startup);
  result_.pods.push_back({pod->name, core::to_seconds(pod->created - start_), {}, {}, {}});

  server::FlavorMetricsConfig mc;
  mc.flavor = f.flavor;
  mc.model_name = f.profile.model.name;
  mc.instance_id = pod->name;
  mc.max_model_len = f.profile.max_model_len();
  mc.max_num_seqs = f.profile.scheduler.max_num_seqs;
  engine::MemoryPlan plan = engine::memory_plan(f.profile);
  mc.num_gpu_blocks = plan.num_blocks;
  mc.kv_capacity_tokens = plan.capacity_tokens();
  mc.profile = &f.profile;
  pod->metrics = std::make_unique<server::FlavorMetrics>(mc);
  pod->observer.metrics = pod->metrics.get();
  pod->observer.finished = &pod->finished;
  if (count_tokens_) pod->observer.tokens = &pod->tokens;
  engine::EngineOptions eo;
  eo.seed = core::splitmix64(options_.seed ^ (0xE261ULL + static_cast<std::uint64_t>(pod->index)));
  eo.step_time_jitter = options_.step_time_jitter;
  eo.observer = &pod->observer;
  auto engine = engine::Engine::create(f.profile, eo);
  if (engine) pod->engine = std::move(*engine);

  // Readiness: the first probe at or after the end of the cold start (kubelet probes every
  // periodSeconds from initialDelaySeconds); without a probe, ready when the server is.
  Time ready_at = pod->startup_end;
  if (const auto& probe = f.spec.template_.readiness_probe; probe && !warm) {
    Time first = pod->created + std::chrono::seconds(probe->initial_delay_seconds);
    Duration period = std::chrono::seconds(std::max(1, probe->period_seconds));
    if (ready_at <= first) {
      ready_at = first;
    } else {
      auto k = (ready_at - first + period - Duration(1)) / period;
      ready_at = first + k * period;
    }
  }
  int index = pod->index;
  pods_.push_back(std::move(pod));
  f.pods.push_back(index);
  clock_.call_after(pods_[index]->startup_end - clock_.now(), [this, index] {
    Pod& p = *pods_[index];
    if (p.removed) return;
    const FleetState& fs = fleets_[p.fleet];
    p.metrics->on_ready(fs.weights_seconds, fs.startup_seconds, clock_.now());
  });
  clock_.call_after(ready_at - clock_.now(), [this, index] {
    Pod& p = *pods_[index];
    if (!p.removed && !p.terminating) become_ready(p);
  });

  // Scrape targets: Prometheus' pod discovery and relabeling over what the pod looks like.
  Pod& p = *pods_[index];
  kube::Pod kp = to_kube(p);
  prom::PodInfo info;
  info.namespace_ = kp.metadata.namespace_;
  info.name = kp.metadata.name;
  info.uid = kp.metadata.uid;
  info.labels = kp.metadata.labels;
  info.annotations = kp.metadata.annotations;
  info.pod_ip = kp.pod_ip;
  info.host_ip = kp.pod_ip;
  info.node_name = "sim-node";
  info.phase = "Running";
  info.ready = false;
  info.controller_kind = "ReplicaSet";
  info.controller_name = f.spec.name + "-" + f.template_hash;
  prom::PodContainer container;
  container.name = f.spec.name;
  for (const auto& port : f.spec.template_.ports)
    container.ports.push_back({up::port_name(port), port.container_port, "TCP"});
  info.containers.push_back(container);
  prom::TargetGroup group = prom::pod_target_group(info);
  for (const auto& config : scrape_configs_) {
    for (auto& outcome : prom::targets_from_group(group, config)) {
      if (!outcome.target) continue;
      ScrapeTarget t;
      t.spec = std::move(*outcome.target);
      t.ingest.target_labels = t.spec.public_labels();
      t.ingest.honor_labels = config.honor_labels;
      t.ingest.honor_timestamps = config.honor_timestamps;
      t.ingest.metric_relabeling = config.metric_relabel_rules;
      t.ingest.sample_limit = config.sample_limit;
      t.appender = std::make_unique<prom::TargetAppender>(storage_);
      p.targets.push_back(std::move(t));
    }
  }
  for (std::size_t t = 0; t < p.targets.size(); ++t) {
    Duration interval = p.targets[t].spec.interval;
    Duration offset =
        options_.pipeline.scrape_offset
            ? *options_.pipeline.scrape_offset
            : prom::scrape_offset(p.targets[t].spec.hash(), options_.seed, interval, clock_.now());
    arm_scrape(index, t, offset);
  }
}

void Simulator::arm_scrape(int pod, std::size_t target, Duration delay) {
  clock_.call_after(delay, [this, pod, target] { scrape(pod, target); });
}

void Simulator::scrape(int index, std::size_t target) {
  Pod& pod = *pods_[index];
  if (pod.removed || stopped_) return;
  ScrapeTarget& t = pod.targets[target];
  Time now = clock_.now();
  // The flavor's samples go into the TSDB without the exposition text (the text path is `up`'s
  // and is tested there): same series, values and report as rendering and parsing it.
  // One reading of the engine serves the samples, the router's signal and the policies' gauges.
  const engine::EngineStats gauges = pod.engine->stats();
  std::vector<prom::MetricRegistry::Sample> samples;
  pod.metrics->collect(gauges, now, samples);
  // The router's least-KV-cache signal comes from the same scrape (up/stack.cc
  // feed_load_signal reads it back from the TSDB; here from the engine state rendered).
  if (policy_kind_ == router::PolicyKind::kLeastKvCache) {
    pod.load = router::LoadSignal{gauges.kv_usage, static_cast<double>(gauges.num_waiting), now};
    pod.in_flight_at_load = pod.in_flight;
  }
  std::int64_t t_ms = core::to_unix_millis(now);
  auto ingest = [this, index, target, t_ms, now, gauges, samples = std::move(samples)] {
    Pod& p = *pods_[index];
    if (p.removed) return;
    p.scraped = gauges;
    p.scraped_at = now;
    ScrapeTarget& st = p.targets[target];
    prom::IngestReport report = prom::ingest_samples(*st.appender, samples, t_ms, 0.001, st.ingest);
    on_scraped(p, report);
  };
  if (options_.pipeline.ingestion_delay > Duration::zero()) {
    clock_.call_after(options_.pipeline.ingestion_delay, std::move(ingest));
  } else {
    ingest();
  }
  arm_scrape(index, target, t.spec.interval);
}

// As `up` (up/stack.cc on_scrape): new series make the adapter relist before the next pass; a
// scrape of a target's pod reconciles the HPAs of that target soon.
void Simulator::on_scraped(Pod& pod, const prom::IngestReport& report) {
  if (report.series_added > 0) relist_pending_ = true;
  if (!report.up || !options_.pipeline.reconcile_after_scrape) return;
  const FleetState& f = fleets_[pod.fleet];
  for (const auto& hpa : scenario_.config.hpas) {
    if (hpa.metadata.namespace_ == f.spec.namespace_ &&
        hpa.spec.scale_target_ref.name == f.spec.name)
      reconcile_soon(hpa.metadata.namespace_, hpa.metadata.name);
  }
}

void Simulator::reconcile_soon(const std::string& ns, const std::string& name) {
  pacer_->request(ns, name);
}

void Simulator::relist() {
  if (stopped_) return;
  (void)adapter_->relist();
  clock_.call_after(options_.pipeline.adapter_relist, [this] { relist(); });
}

void Simulator::reconcile_fleet(int fleet_index) {
  FleetState& f = fleets_[fleet_index];
  std::int32_t active = 0;
  for (int i : f.pods)
    if (!pods_[i]->removed && !pods_[i]->terminating) ++active;
  while (active < f.desired) {
    create_pod(fleet_index);
    ++active;
  }
  if (active > f.desired) {
    // Drain-aware (up/scale_down.h): the router's in-flight tokens become the pods'
    // pod-deletion-cost, which the ranking below puts first when lower.
    if (drain_aware_) {
      for (int i : f.pods) {
        Pod& p = *pods_[i];
        if (p.removed || p.terminating) continue;
        auto cost = static_cast<std::int32_t>(std::min<std::uint64_t>(
            p.tokens.total, static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())));
        if (p.deletion_cost != cost) p.kube.reset();
        p.deletion_cost = cost;
      }
    }
    // The ReplicaSet's ranking (fleet::delete_before), as `up`'s fleet uses.
    std::vector<std::pair<int, kube::Pod>> ranked;
    for (int i : f.pods) {
      if (!pods_[i]->removed && !pods_[i]->terminating) ranked.emplace_back(i, to_kube(*pods_[i]));
    }
    Time now = clock_.now();
    auto rank = [now](std::vector<std::pair<int, kube::Pod>>& pods) {
      std::stable_sort(pods.begin(), pods.end(), [now](const auto& a, const auto& b) {
        return fleet::delete_before(a.second, b.second, now);
      });
    };
    auto victims = static_cast<std::size_t>(active - f.desired);
    if (count_tokens_) compare_choices(ranked, victims, rank);
    rank(ranked);
    for (std::size_t n = 0; n < victims; ++n) begin_termination(*pods_[ranked[n].first]);
  }
}

// Both rankings on this very fleet state — without pod-deletion-cost (the ReplicaSet's) and with
// it from the in-flight tokens (drain-aware) — and what their victims carry: a paired
// comparison, whichever of the two the run applies.
void Simulator::compare_choices(
    const std::vector<std::pair<int, kube::Pod>>& pods, std::size_t victims,
    const std::function<void(std::vector<std::pair<int, kube::Pod>>&)>& rank) {
  auto with_costs = pods;
  auto without = pods;
  for (auto& [i, kp] : with_costs) {
    kp.metadata.annotations[kube::kPodDeletionCost] = std::to_string(std::min<std::uint64_t>(
        pods_[i]->tokens.total,
        static_cast<std::uint64_t>(std::numeric_limits<std::int32_t>::max())));
  }
  for (auto& [i, kp] : without) kp.metadata.annotations.erase(kube::kPodDeletionCost);
  rank(with_costs);
  rank(without);
  ScaleDownChoice choice;
  choice.t = core::to_seconds(clock_.now() - start_);
  choice.victims = static_cast<std::int32_t>(victims);
  for (std::size_t n = 0; n < victims && n < pods.size(); ++n) {
    const Pod& rs = *pods_[without[n].first];
    const Pod& da = *pods_[with_costs[n].first];
    choice.replicaset_requests += static_cast<std::int64_t>(rs.in_flight);
    choice.replicaset_tokens += static_cast<std::int64_t>(rs.tokens.total);
    choice.drain_aware_requests += static_cast<std::int64_t>(da.in_flight);
    choice.drain_aware_tokens += static_cast<std::int64_t>(da.tokens.total);
  }
  result_.scale_down_choices.push_back(choice);
}

void Simulator::become_ready(Pod& pod) {
  pod.kube.reset();
  pod.ready = true;
  pod.ready_since = clock_.now();
  result_.pods[pod.index].ready = core::to_seconds(clock_.now() - start_);
  if (pod.fleet == 0) {
    backends_.push_back(pod.index);
    flush_router_queue();
  }
}

void Simulator::begin_termination(Pod& pod) {
  pod.kube.reset();
  pod.terminating = true;
  pod.deletion = clock_.now();
  result_.pods[pod.index].deleted = core::to_seconds(clock_.now() - start_);
  result_.pods[pod.index].in_flight_at_deletion = static_cast<std::int64_t>(pod.in_flight);
  result_.pods[pod.index].tokens_at_deletion = static_cast<std::int64_t>(pod.tokens.total);
  backends_.erase(std::remove(backends_.begin(), backends_.end(), pod.index), backends_.end());
  if (pod.in_flight == 0) {
    remove_pod(pod);
    return;
  }
  // Drain: the requests in flight finish (end_step removes the pod once idle), within the
  // termination grace period; what is left then is aborted (SIGKILL).
  auto grace =
      std::chrono::seconds(fleets_[pod.fleet].spec.template_.termination_grace_period_seconds);
  int index = pod.index;
  clock_.call_after(grace, [this, index] {
    Pod& p = *pods_[index];
    if (p.removed) return;
    std::vector<engine::RequestId> ids;
    for (const auto& [id, _] : p.requests) ids.push_back(id);
    std::sort(ids.begin(), ids.end());
    for (engine::RequestId id : ids) p.engine->abort(id, clock_.now());
    collect_finished(p);
    remove_pod(p);
  });
}

void Simulator::remove_pod(Pod& pod) {
  pod.removed = true;
  result_.pods[pod.index].removed = core::to_seconds(clock_.now() - start_);
  std::int64_t t_ms = core::to_unix_millis(clock_.now());
  for (auto& t : pod.targets) t.appender->mark_all_stale(t_ms);
  pod.targets.clear();
  backends_.erase(std::remove(backends_.begin(), backends_.end(), pod.index), backends_.end());
  pod.engine.reset();
}

void Simulator::next_arrival() {
  if (next_arrival_ >= arrivals_.list.size()) return;
  std::uint64_t id = next_arrival_++;
  arrival_time_[id] = clock_.now();
  ++interval_arrivals_;
  if (scaler_) recent_arrivals_.push_back(clock_.now());
  ++outstanding_;
  if (backends_.empty()) {
    router_queue_.push_back(id);
    // The router's queue timeout: 503 when no replica took it in time.
    clock_.call_after(options_.router_queue_timeout, [this, id] {
      auto it = std::find(router_queue_.begin(), router_queue_.end(), id);
      if (it == router_queue_.end()) return;
      router_queue_.erase(it);
      RequestResult& r = result_.requests[id];
      r.status = RequestStatus::kRejected;
      r.router_wait = core::to_seconds(clock_.now() - arrival_time_[id]);
      --outstanding_;
      ++interval_completed_;
    });
  } else {
    route(id);
  }
  if (next_arrival_ < arrivals_.list.size()) {
    Time at = start_ + arrivals_.list[next_arrival_].offset;
    clock_.call_after(at - clock_.now(), [this] { next_arrival(); });
  }
}

void Simulator::flush_router_queue() {
  while (!router_queue_.empty() && !backends_.empty()) {
    std::uint64_t id = router_queue_.front();
    router_queue_.pop_front();
    route(id);
  }
}

void Simulator::route(std::uint64_t id) {
  candidates_.clear();
  for (int i : backends_) {
    const Pod& p = *pods_[i];
    router::Candidate c;
    c.in_flight = p.in_flight;
    c.load = p.load;
    c.in_flight_at_load = p.in_flight_at_load;
    candidates_.push_back(c);
  }
  std::size_t pick = policy_->pick(candidates_);
  Pod& pod = *pods_[backends_[pick]];
  const SimArrival& a = arrivals_.list[id];
  RequestResult& r = result_.requests[id];
  r.pod = pod.index;
  submit_time_[id] = clock_.now();
  r.router_wait = core::to_seconds(clock_.now() - arrival_time_[id]);
  engine::RequestSpec spec;
  spec.prompt_tokens = a.input_tokens;
  spec.max_tokens = a.output_tokens;
  spec.ignore_eos = true;
  if (a.hash_ids != nullptr) {
    spec.prefix_hash_ids = *a.hash_ids;
    spec.prefix_block_tokens = loadgen::Trace::kMooncakeBlockTokens;
  }
  auto submitted = pod.engine->submit(spec, clock_.now());
  if (!submitted) {  // the server's 400 (prompt beyond the context window)
    r.status = RequestStatus::kRejected;
    --outstanding_;
    ++interval_completed_;
    return;
  }
  pod.requests.emplace(*submitted, id);
  ++pod.in_flight;
  if (count_tokens_) {
    pod.tokens.total += static_cast<std::uint64_t>(a.input_tokens);
    pod.tokens.per_request[*submitted] += static_cast<std::uint64_t>(a.input_tokens);
  }
  kick(pod);
}

void Simulator::kick(Pod& pod) {
  if (pod.stepping) return;
  pod.stepping = true;
  int index = pod.index;
  // Requests arriving at the same instant join one batch (the driver's busy loop).
  clock_.call_after(Duration::zero(), [this, index] { step(index); });
}

void Simulator::step(int index) {
  Pod& pod = *pods_[index];
  if (pod.removed) return;
  const engine::StepResult& res = pod.engine->step(clock_.now());
  ++result_.engine_steps;
  if (res.idle()) {
    pod.stepping = false;
    return;
  }
  result_.tokens += static_cast<std::uint64_t>(res.record.scheduled_tokens);
  clock_.call_after(res.duration, [this, index] { end_step(index); });
}

void Simulator::collect_finished(Pod& pod) {
  for (const engine::RequestRecord& rec : pod.finished) {
    auto it = pod.requests.find(rec.id);
    if (it == pod.requests.end()) continue;
    std::uint64_t id = it->second;
    pod.requests.erase(it);
    if (auto t = pod.tokens.per_request.find(rec.id); t != pod.tokens.per_request.end()) {
      pod.tokens.total -= std::min(pod.tokens.total, t->second);
      pod.tokens.per_request.erase(t);
    }
    RequestResult& r = result_.requests[id];
    Time arrival = arrival_time_[id];
    r.output_tokens = rec.output_tokens;
    r.cached_prompt_tokens = static_cast<std::int32_t>(rec.cached_prompt_tokens);
    r.queue = core::to_seconds(rec.queue_time());
    if (auto ttft = rec.ttft()) r.ttft = core::to_seconds(*ttft + (submit_time_[id] - arrival));
    if (auto tpot = rec.mean_time_per_output_token()) r.tpot = core::to_seconds(*tpot);
    r.e2e = core::to_seconds(rec.finished - arrival);
    r.status =
        rec.reason == engine::FinishReason::kAbort ? RequestStatus::kAborted : RequestStatus::kOk;
    if (scaler_ && r.status == RequestStatus::kOk)
      completions_.push_back({clock_.now(), r.ttft, r.tpot, r.input_tokens, r.output_tokens});
    --pod.in_flight;
    --outstanding_;
    ++interval_completed_;
  }
  pod.finished.clear();
}

void Simulator::end_step(int index) {
  Pod& pod = *pods_[index];
  if (pod.removed) return;
  collect_finished(pod);
  if (pod.terminating && pod.in_flight == 0) {
    remove_pod(pod);
    return;
  }
  if (pod.engine->has_work()) {
    step(index);
  } else {
    pod.stepping = false;
  }
}

void Simulator::sample() {
  if (stopped_) return;
  SecondSample s;
  Time now = clock_.now();
  s.t = core::to_seconds(now - start_);
  s.desired = fleets_[0].desired;
  double interval = core::to_seconds(options_.sample_interval);
  int kv_n = 0;
  for (const auto& p : pods_) {
    if (p->removed) continue;
    if (p->terminating) {
      ++s.terminating;
    } else if (p->ready) {
      ++s.ready;
    } else {
      ++s.starting;
    }
    if (p->fleet != 0) continue;
    engine::EngineStats st = p->engine->stats();
    s.waiting += st.num_waiting;
    s.running += st.num_running;
    if (p->ready) {
      s.kv_usage += st.kv_usage;
      ++kv_n;
    }
    s.busy += st.busy_seconds_total - p->busy_seen;
    p->busy_seen = st.busy_seconds_total;
    s.tokens += static_cast<std::int64_t>(st.generation_tokens_total - p->tokens_seen);
    p->tokens_seen = st.generation_tokens_total;
  }
  s.busy /= interval;
  if (kv_n > 0) s.kv_usage /= kv_n;
  s.router_queue = static_cast<std::int64_t>(router_queue_.size());
  s.metric = last_metric_;
  s.target = last_target_;
  s.arrivals = interval_arrivals_;
  s.completed = interval_completed_;
  interval_arrivals_ = interval_completed_ = 0;
  result_.samples.push_back(s);
  clock_.call_after(options_.sample_interval, [this] { sample(); });
}

bool Simulator::done() const {
  if (next_arrival_ < arrivals_.list.size() || outstanding_ > 0) return false;
  for (const auto& hpa : scenario_.config.hpas) {
    std::int32_t min = hpa.spec.min_replicas.value_or(1);
    for (const auto& f : fleets_) {
      if (f.spec.name == hpa.spec.scale_target_ref.name && f.desired > min) return false;
    }
  }
  for (const auto& p : pods_)
    if (p->terminating && !p->removed) return false;
  return true;
}

core::Result<SimResult> Simulator::run(const ProgressFn& progress) {
  // The fleet's initial replicas are up when the traffic starts (SimOptions::start_warm).
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    for (std::int32_t n = 0; n < fleets_[i].desired; ++n)
      create_pod(static_cast<int>(i), options_.start_warm);
  }
  if (scaler_) clock_.call_after(scaler_->interval(), [this] { policy_tick(); });
  if (!scaler_ || advisory_) {
    for (const auto& hpa : scenario_.config.hpas) controller_->apply(hpa);
  }
  clock_.call_after(Duration::zero(), [this] { relist(); });
  clock_.call_after(Duration::zero(), [this] { sample(); });
  if (!arrivals_.list.empty()) {
    clock_.call_after(arrivals_.list.front().offset, [this] { next_arrival(); });
  }
  Time end = last_arrival_ + options_.tail;
  if (options_.max_duration) end = start_ + *options_.max_duration;
  double total = core::to_seconds(end - start_);
  double next_report = 0;
  while (true) {
    auto next = clock_.next_deadline();
    if (!next || *next > end) break;
    clock_.run_next();
    if (clock_.now() > last_arrival_ && done() && !options_.max_duration) break;
    if (progress && total > 0) {
      double fraction = core::to_seconds(clock_.now() - start_) / total;
      if (fraction >= next_report) {
        progress(std::min(1.0, fraction));
        next_report = fraction + 0.01;
      }
    }
  }
  stopped_ = true;
  if (progress) progress(1.0);
  Time stop = clock_.now();
  result_.duration = core::to_seconds(stop - start_);
  for (auto& rec : result_.pods) {
    double until = rec.removed.value_or(result_.duration);
    result_.replica_seconds += until - rec.created;
  }
  return std::move(result_);
}

}  // namespace

core::Result<SimResult> simulate(const Scenario& scenario, const SimOptions& options,
                                 const ProgressFn& progress) {
  Simulator sim(scenario, options);
  if (auto ok = sim.setup(); !ok) return tl::unexpected(ok.error());
  return sim.run(progress);
}

}  // namespace llmscale::sim
