// `llmscale up`: wires fleets, routers, scraper, TSDB, adapter, controller and the control API
// on one event loop, prints the `kubectl get hpa -w` table, runs the optional load, stops cleanly.
#include "up/stack.h"

#include <cmath>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "adapter/adapter.h"
#include "apiserver/api_server.h"
#include "apiserver/resource.h"
#include "apiserver/status.h"
#include "apiserver/store.h"
#include "controller/controller.h"
#include "controller/pass_pacer.h"
#include "core/atomic_file.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/profile.h"
#include "fleet/fleet.h"
#include "fleet/launcher.h"
#include "fleet/prober.h"
#include "kube/field_error.h"
#include "kube/json_codec.h"
#include "kube/printers.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "net/tls.h"
#include "prom/api/http_api.h"
#include "prom/exposition/registry.h"
#include "prom/promql/engine.h"
#include "prom/scrape/pod_source.h"
#include "prom/scrape/scraper.h"
#include "prom/tsdb/storage.h"
#include "router/policy.h"
#include "router/proxy.h"
#include "router/spec.h"
#include "server/metric_contract.h"
#include "server/profile_files.h"
#include "up/activator.h"
#include "up/api_bridge.h"
#include "up/config.h"
#include "up/control_auth.h"
#include "up/dashboard_feed.h"
#include "up/feature_gates.h"
#include "up/fleet_monitoring.h"
#include "up/fleet_sizes.h"
#include "up/pod_resource_metrics.h"
#include "up/progress.h"
#include "up/scale_down.h"
#include "up/scrape_guard.h"
#include "up/what_if.h"

namespace llmscale::up {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;

// A crash loop's reason on stderr, once per new reason of a fleet (the fleet deduplicates): the
// last lines of the replica's log, so a failing replica does not need a hunt through logs/.
class CrashPrinter final : public fleet::FleetListener {
 public:
  explicit CrashPrinter(std::string fleet) : fleet_(std::move(fleet)) {}
  void on_crash_loop(const fleet::CrashReport& report) override {
    constexpr std::size_t kLines = 20;
    std::string text = "fleet " + fleet_ + ": pod " + report.pod + " crashed (" +
                       report.status.to_string() + "), restarting in " +
                       core::format_go_duration(report.backoff);
    if (report.log_tail.empty()) {
      text += report.log_path.empty() ? "; its output is discarded\n"
                                      : "; it wrote nothing to " + report.log_path + "\n";
    } else {
      text += "; last lines of " + report.log_path + ":\n";
      std::size_t from = report.log_tail.size() > kLines ? report.log_tail.size() - kLines : 0;
      for (std::size_t i = from; i < report.log_tail.size(); ++i)
        text += "  | " + report.log_tail[i] + "\n";
    }
    std::cerr << text << std::flush;
  }

 private:
  std::string fleet_;
};

// Calls `on_change` whenever a fleet's pods change (fleet::FleetListener::on_changed); one
// instance listens to every fleet.
class FleetChanges final : public fleet::FleetListener {
 public:
  explicit FleetChanges(std::function<void()> on_change) : on_change_(std::move(on_change)) {}
  void on_changed() override { on_change_(); }

 private:
  std::function<void()> on_change_;
};

// The cold start a fleet's replicas are expected to take: a serveSim replica's
// --startup-seconds, else its profile's startup phases; unknown for other commands.
std::optional<core::Duration> expected_cold_start(const fleet::FleetSpec& spec) {
  if (!spec.template_.serve_sim) return std::nullopt;
  const auto& args = spec.template_.serve_sim->args;
  std::optional<double> seconds;
  std::string profiles_dir;
  for (std::size_t i = 0; i + 1 < args.size(); ++i) {
    if (args[i] == "--startup-seconds") {
      char* end = nullptr;
      double v = std::strtod(args[i + 1].c_str(), &end);
      if (end != args[i + 1].c_str() && *end == '\0' && v >= 0) seconds = v;  // the last wins
    } else if (args[i] == "--profiles-dir") {
      profiles_dir = args[i + 1];
    }
  }
  if (!seconds) {
    auto profile = engine::load_profile(server::default_profile_search(profiles_dir),
                                        spec.template_.serve_sim->profile);
    if (!profile) return std::nullopt;
    seconds = profile->startup_seconds();
  }
  return std::chrono::duration_cast<core::Duration>(std::chrono::duration<double>(*seconds));
}

// The fleets as the adapter's object lister (wildcard pod requests), and the owner of a pod.
class FleetDirectory final : public adapter::ObjectLister {
 public:
  void add(fleet::Fleet* fleet) { fleets_.push_back(fleet); }

  core::Result<std::vector<std::string>> list(const adapter::GroupResource& resource,
                                              const std::string& ns,
                                              const kube::Selector& selector) override {
    std::vector<std::string> names;
    if (resource.resource != "pods" || !resource.group.empty()) return names;
    for (fleet::Fleet* f : fleets_) {
      for (const kube::Pod& pod : f->pods()) {
        if (pod.metadata.namespace_ == ns && selector.matches(pod.metadata.labels))
          names.push_back(pod.metadata.name);
      }
    }
    return names;
  }

  // The fleet a pod belongs to (pod names start with "<fleet>-<hash>-").
  fleet::Fleet* owner(const std::string& ns, const std::string& pod) const {
    for (fleet::Fleet* f : fleets_) {
      std::string prefix = f->spec().name + "-" + f->pod_template_hash() + "-";
      if (f->spec().namespace_ == ns && pod.rfind(prefix, 0) == 0) return f;
    }
    return nullptr;
  }

  std::vector<kube::Pod> all_pods() const {
    std::vector<kube::Pod> pods;
    for (fleet::Fleet* f : fleets_) {
      auto some = f->pods();
      pods.insert(pods.end(), some.begin(), some.end());
    }
    return pods;
  }

 private:
  std::vector<fleet::Fleet*> fleets_;
};

// What Prometheus' Kubernetes discovery would read from one fleet pod.
prom::PodInfo pod_info(const fleet::Fleet& f, const kube::Pod& pod,
                       const std::vector<std::uint16_t>& ports) {
  prom::PodInfo info;
  info.namespace_ = pod.metadata.namespace_;
  info.name = pod.metadata.name;
  info.uid = pod.metadata.uid;
  info.labels = pod.metadata.labels;
  info.annotations = pod.metadata.annotations;
  info.pod_ip = pod.pod_ip;
  info.host_ip = pod.pod_ip;
  info.node_name = "localhost";
  info.phase = pod.phase;
  const kube::PodCondition* ready = pod.ready_condition();
  if (ready != nullptr) info.ready = ready->status == "True";
  info.controller_kind = "ReplicaSet";
  info.controller_name = f.spec().name + "-" + f.pod_template_hash();
  prom::PodContainer container;
  container.name = pod.containers.empty() ? f.spec().name : pod.containers[0].name;
  const auto& template_ports = f.spec().template_.ports;
  for (std::size_t i = 0; i < template_ports.size() && i < ports.size(); ++i)
    container.ports.push_back({port_name(template_ports[i]), ports[i], "TCP"});
  info.containers.push_back(std::move(container));
  return info;
}

// One request to the aggregated metrics APIs, answered by the adapter (read-only, as
// prometheus-adapter serves them).
net::Response metrics_api_response(adapter::MetricsAdapter& adapter,
                                   const net::ServerRequest& request) {
  if (request.method != "GET" && request.method != "HEAD") {
    net::Response response = net::Response::json(
        405, R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",)"
             R"("message":"the server does not allow this method on the requested resource",)"
             R"("reason":"MethodNotAllowed","details":{},"code":405})"
             "\n");
    response.headers.set("Allow", "GET");
    return response;
  }
  auto answer = adapter.serve(request.raw_path, request.raw_query);
  if (!answer) return net::Response::json(answer.error().code, answer.error().to_json() + "\n");
  return net::Response::json(200, std::move(*answer));
}

constexpr const char* kAuthorizationResources =
    R"({"kind":"APIResourceList","apiVersion":"v1","groupVersion":"authorization.k8s.io/v1",)"
    R"("resources":[{"name":"selfsubjectaccessreviews","singularName":"selfsubjectaccessreview",)"
    R"("namespaced":false,"kind":"SelfSubjectAccessReview","verbs":["create"]},)"
    R"({"name":"selfsubjectrulesreviews","singularName":"selfsubjectrulesreview",)"
    R"("namespaced":false,"kind":"SelfSubjectRulesReview","verbs":["create"]}]})"
    "\n";

// POST of a SelfSubjectAccessReview or SelfSubjectRulesReview: the review back with its status.
net::Response access_review_response(const net::ServerRequest& request) {
  auto status_body = [](int code, const std::string& reason, const std::string& message) {
    core::Json body = {
        {"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", core::Json::object()},
        {"status", "Failure"}, {"message", message}, {"reason", reason},
        {"code", code}};
    return net::Response::json(code, core::to_compact_json(body) + "\n");
  };
  std::string resource = request.path.substr(request.path.rfind('/') + 1);
  if (resource != "selfsubjectaccessreviews" && resource != "selfsubjectrulesreviews")
    return status_body(404, "NotFound", "the server could not find the requested resource");
  if (request.method != "POST")
    return status_body(405, "MethodNotAllowed",
                       "the server does not allow this method on the requested resource");
  // kubectl's typed client sends these as protobuf (and accepts JSON back); the answer does not
  // depend on the spec, so a protobuf review is answered without decoding it.
  core::Json out = core::Json::object();
  if (request.header("Content-Type").find("protobuf") == std::string_view::npos) {
    auto review = core::parse_json(request.body);
    if (!review || !review->is_object())
      return status_body(400, "BadRequest", "the body must be a JSON object");
    out = *review;
  }
  out["metadata"] = core::Json::object();
  if (resource == "selfsubjectaccessreviews") {
    out["kind"] = "SelfSubjectAccessReview";
    out["status"] = {
        {"allowed", true},
        {"reason", "llmscale up: every client that reaches its API may do everything"}};
  } else {
    out["kind"] = "SelfSubjectRulesReview";
    out["status"] = {
        {"resourceRules", core::Json::array({core::Json{
                              {"verbs", {"*"}}, {"apiGroups", {"*"}}, {"resources", {"*"}}}})},
        {"nonResourceRules",
         core::Json::array({core::Json{{"verbs", {"*"}}, {"nonResourceURLs", {"*"}}}})},
        {"incomplete", false}};
  }
  out["apiVersion"] = "authorization.k8s.io/v1";
  return net::Response::json(201, core::to_compact_json(out) + "\n");
}

class Stack {
 public:
  explicit Stack(UpOptions options)
      : options_(std::move(options)),
        clock_(loop_.clock()),
        progress_(options_.progress_interval) {}
  ~Stack() {
    for (auto& f : fleets_) f->kill_all();
  }

  int run();

 private:
  core::Status start();
  void sync_pods();
  void restore_replicas();
  void save_replicas();
  void add_status_routes();
  void add_api_routes();
  std::vector<const core::StateFile*> state_files() const;
  void report_progress();
  void sample_resources();
  void start_activator();
  void record_router_demand();
  void sample_router_demand();
  void refresh_pods();
  void pods_changed();
  void relist_metrics();
  void start_load_when_ready();
  void on_scrape(const prom::ScrapeEvent& event);
  void feed_load_signal(fleet::Fleet& owner, const std::string& ns, const std::string& pod,
                        core::Time at);
  void reconcile_soon(const std::string& ns, const std::string& name);
  void on_pass(const controller::HpaView& view);
  void start_load();
  void poll_load();
  bool scaled_down() const;
  void begin_shutdown(int exit_code);
  net::Awaitable<void> finish_shutdown();

  UpOptions options_;
  net::EventLoop loop_{1};
  core::Clock& clock_;
  UpConfig config_;
  router::PolicyKind policy_ = router::PolicyKind::kLeastOutstanding;
  fleet::ProcessLauncher launcher_;
  std::unique_ptr<fleet::HttpProber> prober_;
  std::vector<std::unique_ptr<router::Proxy>> proxies_;
  std::vector<std::unique_ptr<RouterBridge>> bridges_;
  std::vector<std::unique_ptr<CrashPrinter>> crash_printers_;
  std::vector<std::optional<core::Duration>> cold_starts_;  // per fleet, expected
  ColdStartProgress progress_;
  // Before fleets_, so it outlives them (a fleet's teardown may still report changes).
  FleetChanges fleet_changes_{[this] { pods_changed(); }};
  bool pod_sync_posted_ = false;  // a sync after fleet changes is queued on the loop
  std::vector<std::unique_ptr<fleet::Fleet>> fleets_;
  FleetDirectory directory_;
  prom::Storage storage_;
  prom::LocalQueryEngine engine_{storage_};
  prom::StaticPodSource pod_source_;
  std::string pod_signature_;  // of the pods last given to pod_source_
  std::unique_ptr<prom::Scraper> scraper_;
  std::unique_ptr<adapter::MetricsAdapter> adapter_;
  std::unique_ptr<adapter::AdapterMetricsProvider> provider_;
  std::unique_ptr<ScrapeGuardedProvider> guarded_provider_;  // the controller's
  std::unique_ptr<controller::Controller> controller_;
  std::unique_ptr<controller::PassPacer> pacer_;  // post-scrape passes
  apiserver::Store store_{clock_};
  std::unique_ptr<apiserver::ApiServer> api_;
  std::unique_ptr<ApiBridge> bridge_;
  std::unique_ptr<Activator> activator_;      // scale from zero (activator.h)
  std::vector<std::int64_t> demand_written_;  // per fleet: the last pending-requests sample (ms)
  std::unique_ptr<prom::PrometheusApi> prom_api_;
  PodResourceSampler pod_usage_;  // metrics.k8s.io without resourceRules
  net::Router control_router_;
  std::unique_ptr<DashboardFeed> dashboard_;  // the live page at / (dashboard_feed.h)
  std::unique_ptr<net::HttpServer> control_server_;

  bool relist_pending_ = false;
  kube::TableWriter table_;
  bool header_printed_ = false;
  std::map<std::string, std::string> printed_;  // namespace/name -> last HPA object printed

  std::unique_ptr<fleet::ProcessHandle> load_;
  std::unique_ptr<FleetSizesFile> fleet_sizes_;
  bool load_started_ = false;
  core::Time load_started_at_;
  core::Time started_at_;  // when the HPAs were applied (their AGE counts from there)
  std::optional<int> load_exit_;
  bool shutting_down_ = false;
  int exit_code_ = 0;
};

core::Status Stack::start() {
  DeploymentOptions deployments;
  deployments.profiles = server::default_profile_search();
  for (const std::string& text : options_.image_commands) {
    auto parsed = parse_image_command(text);
    if (!parsed) return tl::unexpected(parsed.error());
    deployments.image_commands.push_back(std::move(*parsed));
  }
  auto gates = parse_feature_gates(options_.feature_gates);
  if (!gates) return tl::unexpected(gates.error());
  auto scale_down = parse_scale_down_policy(options_.scale_down);
  if (!scale_down) return tl::unexpected(scale_down.error());
  auto loaded = load_up_config(options_.config_paths, deployments, *gates);
  if (!loaded) return tl::unexpected(loaded.error());
  config_ = std::move(*loaded);
  for (const std::string& note : config_.notes) core::log_info(note);
  for (const std::string& warning : config_.warnings) core::log_warn(warning);
  // Signals and --stop-after first: they are handled as soon as the loop runs, and pods are
  // created in bursts on the loop (fleet.h), so neither waits for a large fleet to spawn.
  net::stop_on_signals(loop_, [this](int signal) {
    core::log_info(std::string("received ") + (signal == SIGINT ? "SIGINT" : "SIGTERM") +
                   ": draining replicas and stopping");
    begin_shutdown(0);
  });
  if (options_.stop_after) clock_.call_after(*options_.stop_after, [this] { begin_shutdown(0); });
  if (options_.max_replicas < 1)
    return core::invalid_argument("--max-replicas: must be at least 1");
  std::vector<std::string> warnings;
  if (auto limited = apply_replica_limit(config_, options_.max_replicas, warnings); !limited)
    return limited;
  for (const std::string& warning : warnings) core::log_warn(warning);
  if (options_.serve_sim_startup) {
    auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(*options_.serve_sim_startup);
    for (auto& spec : config_.fleets) {
      if (spec.template_.serve_sim)
        spec.template_.serve_sim->args.insert(
            spec.template_.serve_sim->args.end(),
            {"--startup-seconds",
             core::go_format_float(static_cast<double>(millis.count()) / 1000.0)});
    }
  }

  auto policy = router::parse_policy(options_.policy);
  if (!policy) return core::invalid_argument("--policy: " + policy.error().message);
  policy_ = *policy;
  auto listen = router::parse_listen_address(options_.router_listen);
  if (!listen) return core::invalid_argument("--router-listen: " + listen.error().message);
  auto control = router::parse_listen_address(options_.control_listen);
  if (!control) return core::invalid_argument("--control-listen: " + control.error().message);

  std::error_code dir_error;
  std::filesystem::create_directories(options_.state_dir + "/logs", dir_error);
  if (dir_error)
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "--state-dir: " + options_.state_dir + ": " + dir_error.message());
  fleet_sizes_ = std::make_unique<FleetSizesFile>(options_.state_dir + "/replicas.json");
  restore_replicas();
  prober_ = std::make_unique<fleet::HttpProber>(loop_);
  std::vector<apiserver::ResourceType> resources = apiserver::builtin_resources();
  for (apiserver::ResourceType& type : apiserver::llmscale_resources())
    resources.push_back(std::move(type));  // LLMAutoscaler, for `llmscale controller`
  // Local replicas are processes: a Deployment above --max-replicas is refused at admission
  // (422, naming the flag), not accepted and then left unrun.
  for (apiserver::ResourceType& type : resources) {
    if ((type.group == "autoscaling" && type.resource == "horizontalpodautoscalers") ||
        (type.group == "autoscaling.llmscale.io" && type.resource == "llmautoscalers"))
      apply_hpa_gates(type, *gates);  // an LLMAutoscaler's spec is an HPA's, gated alike
    if (type.group != "apps" || type.resource != "deployments") continue;
    auto admit = type.admit;
    std::int32_t max = options_.max_replicas;
    type.admit = [admit, max](core::Json& object, const core::Json* old,
                              bool strict) -> apiserver::ApiOutcome {
      if (admit) {
        if (auto ok = admit(object, old, strict); !ok) return ok;
      }
      const core::Json& replicas = object["spec"]["replicas"];
      if (replicas.is_number_integer() && replicas.get<std::int64_t>() > max)
        return tl::unexpected(apiserver::invalid(
            "apps", "Deployment", object["metadata"].value("name", ""),
            {kube::invalid("spec.replicas", std::to_string(replicas.get<std::int64_t>()),
                           "must be less than or equal to " + std::to_string(max) +
                               " (llmscale up --max-replicas)")}));
      return {};
    };
  }
  api_ = std::make_unique<apiserver::ApiServer>(store_, clock_, std::move(resources));
  bridge_ = std::make_unique<ApiBridge>(*api_, store_, clock_);

  // Routers and fleets.
  for (std::size_t i = 0; i < config_.fleets.size(); ++i) {
    const fleet::FleetSpec& spec = config_.fleets[i];
    router::ProxyOptions proxy_options;
    proxy_options.server.address = listen->address;
    proxy_options.server.port =
        listen->port == 0 ? 0 : static_cast<std::uint16_t>(listen->port + i);
    proxy_options.balancer.policy = *policy;
    proxy_options.balancer.queue_timeout = options_.router_queue_timeout;
    proxy_options.balancer.slow_start_window = options_.router_slow_start_window;
    proxy_options.journal_capacity = options_.request_journal;
    // The wake-up signal: handled on a later turn, once the request is in the queue.
    proxy_options.on_wait_without_ready_backend = [this, i] {
      loop_.post([this, i] {
        if (!shutting_down_ && activator_) activator_->wake(i);
      });
    };
    auto proxy = std::make_unique<router::Proxy>(loop_, clock_, proxy_options);
    if (auto started = proxy->start(); !started)
      return core::make_error(started.error().code,
                              "router for fleet " + spec.name + ": " + started.error().message);
    auto bridge = std::make_unique<RouterBridge>(
        proxy->balancer(), [router = proxy.get()] { router->close_idle_connections(); });
    fleet::FleetOptions fleet_options;
    fleet_options.exe = options_.exe;
    fleet_options.log_dir = options_.state_dir + "/logs";
    fleet_options.seed = static_cast<std::uint64_t>(core::wall_now().time_since_epoch().count());
    fleet_options.max_replicas = options_.max_replicas;
    auto f = std::make_unique<fleet::Fleet>(clock_, spec, launcher_, *prober_, fleet_options);
    f->add_listener(bridge.get());
    if (*scale_down == ScaleDownPolicy::kDrainAware) {
      // Before the ReplicaSet ranking picks victims: the least in-flight tokens go first.
      f->set_before_scale_down([fleet = f.get(), router = proxy.get()] {
        set_deletion_costs_from_load(*fleet, router->balancer());
      });
    }
    auto printer = std::make_unique<CrashPrinter>(spec.name);
    f->add_listener(printer.get());
    f->add_listener(&fleet_changes_);
    crash_printers_.push_back(std::move(printer));
    cold_starts_.push_back(expected_cold_start(spec));
    directory_.add(f.get());
    auto manifest = config_.deployment_manifests.find(spec.namespace_ + "/" + spec.name);
    bridge_->add_fleet(
        *f, manifest == config_.deployment_manifests.end() ? nullptr : manifest->second.get());
    std::cout << "fleet " << spec.name << ": router on " << proxy->url("") << "\n";
    proxies_.push_back(std::move(proxy));
    bridges_.push_back(std::move(bridge));
    fleets_.push_back(std::move(f));
  }

  // Scraping: the PodMonitorings given (else one per fleet), over the fleets' pods.
  std::vector<prom::PodMonitoring> monitorings = config_.pod_monitorings;
  if (monitorings.empty()) {
    for (const auto& spec : config_.fleets) monitorings.push_back(default_pod_monitoring(spec));
  }
  std::vector<prom::ScrapeConfig> scrape_configs;
  for (prom::PodMonitoring& pm : monitorings) {
    map_port_numbers(pm, config_.fleets);
    if (options_.scrape_interval) {
      for (auto& endpoint : pm.endpoints) {
        endpoint.interval = core::format_go_duration(*options_.scrape_interval);
        endpoint.timeout.clear();
      }
    }
    auto configs = prom::pod_monitoring_scrape_configs(pm, {});
    if (!configs)
      return core::invalid_argument("PodMonitoring \"" + pm.name +
                                    "\": " + configs.error().message);
    scrape_configs.insert(scrape_configs.end(), configs->begin(), configs->end());
  }
  scraper_ = std::make_unique<prom::Scraper>(loop_, clock_, storage_);
  scraper_->set_pod_source(&pod_source_);
  if (auto applied = scraper_->set_scrape_configs(scrape_configs); !applied) return applied;
  scraper_->add_scrape_listener([this](const prom::ScrapeEvent& event) { on_scrape(event); });

  // Adapter and controller.
  auto adapter_config =
      config_.adapter ? config_.adapter : std::make_shared<const adapter::AdapterConfig>();
  adapter_ = std::make_unique<adapter::MetricsAdapter>(adapter_config, engine_, directory_, clock_);
  provider_ = std::make_unique<adapter::AdapterMetricsProvider>(*adapter_);
  guarded_provider_ = std::make_unique<ScrapeGuardedProvider>(
      *provider_, [this] { return directory_.all_pods(); },
      [this](const prom::Labels& selector) { return scraper_->targets_matching(selector); });
  controller::ControllerOptions controller_options;
  controller_options.sync_period = options_.sync_period;
  controller_options.hpa.downscale_stabilization_window = options_.downscale_stabilization;
  controller_options.hpa.gates.hpa_scale_to_zero = gates->hpa_scale_to_zero;
  controller_options.hpa.gates.hpa_configurable_tolerance = gates->hpa_configurable_tolerance;
  controller_options.state_file = options_.state_dir + "/state.json";
  controller_ = std::make_unique<controller::Controller>(clock_, *guarded_provider_, *bridge_,
                                                         controller_options);
  if (auto restored = controller_->load_state(); !restored) return restored;
  controller_->subscribe([this](const controller::HpaView& view) { on_pass(view); });
  pacer_ = std::make_unique<controller::PassPacer>(
      clock_, options_.min_pass_interval, [this](const std::string& ns, const std::string& name) {
        if (shutting_down_) return;
        if (relist_pending_) {
          relist_pending_ = false;
          adapter_->relist();
        }
        controller_->reconcile_now(ns, name);
      });
  start_activator();

  add_api_routes();
  add_status_routes();
  {  // `simulate --from-up`: the configuration and each router's recent requests (what_if.h).
    auto scenario = read_scenario_text(config_.files);
    if (!scenario) return tl::unexpected(scenario.error());
    std::vector<JournalSource> sources;
    for (std::size_t i = 0; i < fleets_.size(); ++i) {
      JournalSource source;
      source.namespace_name = config_.fleets[i].namespace_;
      source.name = config_.fleets[i].name;
      source.journal = proxies_[i]->journal();
      sources.push_back(std::move(source));
    }
    add_what_if_routes(control_router_, clock_, std::move(sources), std::move(*scenario));
  }
  {  // The live dashboard at / of the control address (docs/dashboard.md).
    std::vector<fleet::Fleet*> fleets;
    std::vector<router::Proxy*> proxies;
    for (auto& f : fleets_) fleets.push_back(f.get());
    for (auto& p : proxies_) proxies.push_back(p.get());
    dashboard_ = std::make_unique<DashboardFeed>(clock_, *controller_, fleets, proxies, engine_,
                                                 controller_options.hpa.tolerance);
    dashboard_->dashboard().add_routes(control_router_);
    dashboard_->dashboard().start();
  }
  net::ServerOptions control_options;
  control_options.address = control->address;
  control_options.port = control->port;
  ControlAuthOptions auth;
  auth.listen_host = control->address;
  if (!options_.control_token_file.empty()) {
    auto token = read_token_file(options_.control_token_file);
    if (!token) return tl::unexpected(token.error());
    auth.token = std::move(*token);
  }
  if (!options_.control_tls_cert_file.empty() || !options_.control_tls_key_file.empty()) {
    if (options_.control_tls_cert_file.empty() || options_.control_tls_key_file.empty())
      return core::invalid_argument("--control-tls-cert and --control-tls-key go together");
    net::TlsServerOptions tls;
    tls.cert_file = options_.control_tls_cert_file;
    tls.key_file = options_.control_tls_key_file;
    tls.client_ca_file = options_.control_client_ca_file;
    control_options.tls = tls;
    auth.client_certificates = !options_.control_client_ca_file.empty();
  } else if (!options_.control_client_ca_file.empty()) {
    return core::invalid_argument("--control-client-ca needs --control-tls-cert/--control-tls-key");
  }
  if (auto ok = check_control_auth(auth); !ok) return ok;
  control_server_ = std::make_unique<net::HttpServer>(loop_, control_options);
  net::Handler routes = control_router_.handler();
  net::Handler guarded = [auth, routes](net::ServerRequest& request,
                                        net::ResponseWriter& writer) -> net::Awaitable<void> {
    std::optional<std::string> denial = control_auth_denial(auth, request);
    if (denial) {
      net::Response response = net::Response::json(401, std::move(*denial));
      co_await writer.send(std::move(response));
      co_return;
    }
    co_await routes(request, writer);
  };
  if (auto started = control_server_->start(guarded); !started)
    return core::make_error(started.error().code, "control API on " + options_.control_listen +
                                                      ": " + started.error().message);
  std::cout << "control API on " << control_server_->url("") << " (kubectl --server "
            << control_server_->url("") << " get hpa -w)\n"
            << std::flush;  // the addresses are what a script piping stdout waits for
  std::cout << "dashboard on " << control_server_->url("/") << "\n" << std::flush;

  for (auto& f : fleets_) f->start();
  started_at_ = clock_.now();
  if (auto applied = bridge_->start(*controller_, config_.hpas); !applied) return applied;

  loop_.post([this] { refresh_pods(); });
  loop_.post([this] { relist_metrics(); });
  loop_.post([this] { sample_resources(); });
  loop_.post([this] { sample_router_demand(); });
  if (options_.progress_interval > core::Duration::zero())
    loop_.post([this] { report_progress(); });
  if (!options_.load_args.empty()) loop_.post([this] { start_load_when_ready(); });
  loop_.run();
  return {};
}

// The pods as discovery and the API see them follow the fleets' changes (pods_changed); this
// periodic resync is a safety net only, as an informer's resync period is.
void Stack::refresh_pods() {
  if (shutting_down_) return;
  sync_pods();
  bridge_->sync();  // pods and Deployment status in the API
  clock_.call_after(seconds(5), [this] { refresh_pods(); });
}

// A fleet changed (often several times in one turn): one sync on the loop's next turn.
void Stack::pods_changed() {
  if (pod_sync_posted_ || shutting_down_) return;
  pod_sync_posted_ = true;
  loop_.post([this] {
    pod_sync_posted_ = false;
    if (shutting_down_) return;
    sync_pods();
    bridge_->sync();
  });
}

// New series are picked up after the scrape that added them (on_scrape); this catches series
// that went away.
void Stack::relist_metrics() {
  if (shutting_down_) return;
  adapter_->relist();
  clock_.call_after(seconds(30), [this] { relist_metrics(); });
}

void Stack::start_load_when_ready() {
  if (shutting_down_) return;
  bool all_ready = true;
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    bool any = activator_ && activator_->would_wake(i);  // the load's first request wakes it
    for (const auto& e : fleets_[i]->endpoints()) any = any || e.ready;
    all_ready = all_ready && any;
  }
  if (all_ready) {
    clock_.call_after(options_.load_delay, [this] { start_load(); });
  } else {
    clock_.call_after(milliseconds(250), [this] { start_load_when_ready(); });
  }
}

void Stack::sync_pods() {
  std::vector<prom::PodInfo> pods;
  std::string signature;  // what discovery reads of each pod, to skip unchanged refreshes
  for (const auto& f : fleets_) {
    std::map<std::string, std::vector<std::uint16_t>> ports;
    for (const auto& e : f->endpoints()) ports[e.pod] = e.ports;
    for (const kube::Pod& pod : f->pods()) {
      if (pod.metadata.deletion_timestamp) continue;  // a terminating pod's target goes
      const auto& pod_ports = ports[pod.metadata.name];
      pods.push_back(pod_info(*f, pod, pod_ports));
      const prom::PodInfo& info = pods.back();
      signature += info.key() + " " + info.phase + " " + info.pod_ip + " " +
                   (info.ready.value_or(false) ? "ready" : "-");
      for (std::uint16_t port : pod_ports) signature += " " + std::to_string(port);
      signature += "\n";
    }
  }
  if (signature == pod_signature_) return;
  pod_signature_ = std::move(signature);
  pod_source_.set_pods(std::move(pods));
}

void Stack::on_scrape(const prom::ScrapeEvent& event) {
  if (event.series_added > 0) relist_pending_ = true;
  if (!event.up) return;
  std::string ns(event.target_labels.get("namespace"));
  if (ns.empty()) ns = "default";
  std::string pod(event.target_labels.get("pod"));
  fleet::Fleet* owner = directory_.owner(ns, pod);
  if (owner == nullptr) return;
  if (policy_ == router::PolicyKind::kLeastKvCache) feed_load_signal(*owner, ns, pod, event.start);
  if (!options_.reconcile_after_scrape) return;
  for (const controller::HpaView& view : controller_->list()) {
    const auto& hpa = view.hpa;
    if (hpa.metadata.namespace_ == owner->spec().namespace_ &&
        hpa.spec.scale_target_ref.name == owner->spec().name)
      reconcile_soon(hpa.metadata.namespace_, hpa.metadata.name);
  }
}

// The least-KV-cache policy's signal for one replica, from what was just scraped: its KV-cache
// use and its queue, whichever engine and release it runs (server/metric_contract.h).
void Stack::feed_load_signal(fleet::Fleet& owner, const std::string& ns, const std::string& pod,
                             core::Time at) {
  std::string m = "{namespace=\"" + ns + "\",pod=\"" + pod + "\"}";
  auto value = [&](const std::string& expr) -> std::optional<double> {
    auto result = engine_.instant_query(expr, at);
    if (!result || result->type() != prom::ResultType::kVector || result->vector().empty())
      return std::nullopt;
    return result->vector().front().value;
  };
  auto kv = value(server::signal_promql(server::Signal::kKvUsage, m));
  auto queue = value(server::signal_promql(server::Signal::kQueue, m));
  if (!kv && !queue) return;
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    if (fleets_[i].get() != &owner) continue;
    router::LoadSignal signal;
    signal.kv_cache_usage = std::isfinite(kv.value_or(0)) ? std::max(0.0, kv.value_or(0)) : 0;
    signal.queue_length = std::isfinite(queue.value_or(0)) ? std::max(0.0, queue.value_or(0)) : 0;
    signal.observed_at = at;
    if (proxies_[i]->balancer().backend(pod)) proxies_[i]->balancer().set_load(pod, signal);
  }
}

// Scrapes of the target's pods lead to passes coalesced and paced (controller/pass_pacer.h).
void Stack::reconcile_soon(const std::string& ns, const std::string& name) {
  pacer_->request(ns, name);
}

// Fleet sizes survive a restart, as a Deployment's spec.replicas does in the API server (the
// HPA's history is in the controller's state file next to it); fleet_sizes.h.
void Stack::restore_replicas() {
  auto sizes = fleet_sizes_->load();
  if (!sizes) {
    core::log_warn(sizes.error().message + "; using the configured replicas");
    return;
  }
  for (auto& spec : config_.fleets) {
    auto it = sizes->find(spec.namespace_ + "/" + spec.name);
    if (it == sizes->end()) continue;
    spec.replicas = std::min(it->second, options_.max_replicas);
    core::log_info("fleet " + spec.name + ": " + std::to_string(spec.replicas) +
                   " replicas, as when llmscale up last stopped" +
                   (it->second > options_.max_replicas
                        ? " (" + std::to_string(it->second) + ", capped by --max-replicas)"
                        : ""));
  }
}

void Stack::save_replicas() {
  FleetSizes sizes;
  for (const auto& f : fleets_) {
    auto scale = f->get_scale();
    if (scale) sizes[f->spec().namespace_ + "/" + f->spec().name] = scale->spec_replicas;
  }
  // A failure is logged once by StateFile and shows in /status and /metrics; retried next pass.
  (void)fleet_sizes_->save(sizes);
}

std::vector<const core::StateFile*> Stack::state_files() const {
  std::vector<const core::StateFile*> files;
  if (fleet_sizes_) files.push_back(&fleet_sizes_->file());
  if (controller_ && controller_->state_file() != nullptr)
    files.push_back(controller_->state_file());
  return files;
}

// The control address serves, besides /status and /metrics: the Kubernetes API (apiserver),
// the aggregated metrics APIs answered by the adapter (custom.metrics.k8s.io,
// external.metrics.k8s.io, metrics.k8s.io: `kubectl get --raw`, `kubectl top pods`), the
// Prometheus HTTP API of the embedded TSDB (Grafana, promtool) and kube-apiserver's health paths.
void Stack::add_api_routes() {
  api_->add_routes(control_router_);
  auto metrics_apis = [this](net::ServerRequest& request,
                             net::ResponseWriter& writer) -> net::Awaitable<void> {
    net::Response response = metrics_api_response(*adapter_, request);
    co_await writer.send(std::move(response));
  };
  for (const char* group : {"custom.metrics.k8s.io", "external.metrics.k8s.io"}) {
    control_router_.add("*", std::string("/apis/") + group, metrics_apis);
    control_router_.add_prefix("*", std::string("/apis/") + group + "/", metrics_apis);
  }
  // metrics.k8s.io: the adapter's resourceRules when the configuration has them (as
  // prometheus-adapter), else the replicas' own CPU and memory from /proc (as metrics-server).
  net::Handler resource_metrics = metrics_apis;
  if (!(config_.adapter && config_.adapter->resource_rules)) {
    resource_metrics = [this](net::ServerRequest& request,
                              net::ResponseWriter& writer) -> net::Awaitable<void> {
      net::Response response = pod_metrics_response(pod_usage_.usage(), request);
      co_await writer.send(std::move(response));
    };
  }
  control_router_.add("*", "/apis/metrics.k8s.io", resource_metrics);
  control_router_.add_prefix("*", "/apis/metrics.k8s.io/", resource_metrics);
  // prometheus-adapter registers both custom metrics versions (v1beta2 preferred).
  api_->add_external_group("custom.metrics.k8s.io", "v1beta2");
  api_->add_external_group("custom.metrics.k8s.io", "v1beta1");
  api_->add_external_group("external.metrics.k8s.io", "v1beta1");
  api_->add_external_group("metrics.k8s.io", "v1beta1");

  // `kubectl auth can-i`: whoever reaches the API (loopback, or authenticated by control_auth.h)
  // may do everything, as a cluster-admin; SelfSubjectAccessReview and SelfSubjectRulesReview
  // say so in the authorization.k8s.io/v1 shapes.
  api_->add_external_group("authorization.k8s.io", "v1");
  control_router_.add(
      "*", "/apis/authorization.k8s.io/v1/{resource}",
      [](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        net::Response response = access_review_response(request);
        co_await writer.send(std::move(response));
      });
  control_router_.get("/apis/authorization.k8s.io/v1",
                      [](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
                        net::Response response = net::Response::json(200, kAuthorizationResources);
                        co_await writer.send(std::move(response));
                      });

  prom_api_ = std::make_unique<prom::PrometheusApi>(engine_, clock_);
  prom_api_->set_scraper(scraper_.get());
  prom_api_->add_routes(control_router_, /*standalone=*/false);

  for (const char* path : {"/healthz", "/livez", "/readyz"}) {
    control_router_.get(
        path, [](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
          co_await writer.send(net::Response::text(200, "ok"));
        });
  }
}

// `up`'s own health on the control API: GET /status (JSON with a StateSaved condition, as an
// object's status.conditions) and GET /metrics (Prometheus text).
void Stack::add_status_routes() {
  control_router_.get(
      "/status", [this](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
        core::Json files = core::Json::array();
        std::vector<std::string> failing;
        for (const core::StateFile* file : state_files()) {
          core::Json item = {{"path", file->path()},
                             {"what", file->what()},
                             {"writes", file->writes()},
                             {"failures", file->failures()},
                             {"failing", file->failing()}};
          if (!file->last_error().empty()) item["lastError"] = file->last_error();
          if (file->failing()) failing.push_back(file->last_error());
          files.push_back(std::move(item));
        }
        core::Json condition = {{"type", "StateSaved"}};
        if (failing.empty()) {
          condition["status"] = "True";
          condition["reason"] = "Saved";
          condition["message"] = "state files are written";
        } else {
          condition["status"] = "False";
          condition["reason"] = "WriteFailed";
          condition["message"] = core::join(failing, "; ");
        }
        core::Json body = {{"kind", "LlmscaleUpStatus"},
                           {"conditions", core::Json::array({condition})},
                           {"stateFiles", files}};
        co_await writer.send(net::Response::json(200, core::to_compact_json(body) + "\n"));
      });
  control_router_.get(
      "/metrics", [this](net::ServerRequest&, net::ResponseWriter& writer) -> net::Awaitable<void> {
        prom::MetricRegistry registry;
        auto* writes = registry
                           .add_counter("llmscale_up_state_file_writes_total",
                                        "Successful atomic writes of a state file.", {"file"})
                           .value();
        auto* failures =
            registry
                .add_counter("llmscale_up_state_file_write_failures_total",
                             "Failed writes of a state file (the old file is kept).", {"file"})
                .value();
        auto* failing = registry
                            .add_gauge("llmscale_up_state_file_failing",
                                       "1 while the latest write of a state file failed.", {"file"})
                            .value();
        if (dashboard_) dashboard_->add_hpa_metrics(registry);  // kube_horizontalpodautoscaler_*
        for (const core::StateFile* file : state_files()) {
          std::string name = std::filesystem::path(file->path()).filename().string();
          writes->with({name}).inc(static_cast<double>(file->writes()));
          failures->with({name}).inc(static_cast<double>(file->failures()));
          failing->with({name}).set(file->failing() ? 1 : 0);
        }
        net::Response response;
        response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        response.body = registry.text();
        if (dashboard_) response.body += dashboard_->controller_metrics_text();
        co_await writer.send(std::move(response));
      });
}

// CPU and memory of every replica process, every 5 s (pod_resource_metrics.h).
void Stack::sample_resources() {
  if (shutting_down_) return;
  std::vector<std::pair<kube::Pod, pid_t>> pods;
  for (const auto& f : fleets_) {
    std::map<std::string, pid_t> pids = f->pod_pids();
    for (const kube::Pod& pod : f->pods()) {
      auto it = pids.find(pod.metadata.name);
      if (it != pids.end() && !pod.metadata.deletion_timestamp) pods.emplace_back(pod, it->second);
    }
  }
  pod_usage_.sample(pods, clock_.now());
  clock_.call_after(seconds(5), [this] { sample_resources(); });
}

// The activator over every fleet: woken by its router, it scales through the API like the HPA,
// records its event on the HPA and asks for a pass; scale-to-zero waits for queued requests.
void Stack::start_activator() {
  ActivatorHooks hooks;
  hooks.hpas = [this] {
    std::vector<kube::HorizontalPodAutoscaler> hpas;
    for (const controller::HpaView& view : controller_->list()) hpas.push_back(view.hpa);
    return hpas;
  };
  hooks.record_event = [this](const kube::HorizontalPodAutoscaler& hpa,
                              const controller::RecordedEvent& event) {
    bridge_->record_event(hpa, event, "llmscale-activator");
    if (dashboard_) dashboard_->record_event(hpa, event, "llmscale-activator");
  };
  hooks.reconcile = [this](const std::string& ns, const std::string& name) {
    record_router_demand();  // the HPA's pass sees the waiting request
    reconcile_soon(ns, name);
  };
  activator_ = std::make_unique<Activator>(clock_, std::move(hooks));
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    const fleet::FleetSpec& spec = fleets_[i]->spec();
    auto target = bridge_->resolve(spec.namespace_, {"Deployment", spec.name, "apps/v1"});
    router::Balancer& balancer = proxies_[i]->balancer();
    activator_->add_fleet({spec.namespace_, spec.name, target ? *target : nullptr,
                           [&balancer] { return balancer.queue_length(); },
                           [&balancer] {
                             std::size_t n = 0;
                             for (const auto& b : balancer.backends()) n += b.in_flight;
                             return n;
                           },
                           cold_starts_[i]});
    demand_written_.push_back(0);
  }
  bridge_->set_scale_check(
      [this](const std::string& ns, const std::string& name, std::int32_t replicas) {
        return activator_->check_scale(ns, name, replicas);
      });
  for (const std::string& warning :
       activator_->cold_start_warnings(config_.hpas, options_.router_queue_timeout))
    core::log_warn(warning);
}

// llmscale_router_pending_requests{namespace,fleet}: requests queued or in flight at each
// router, every second and at each wake-up, straight into the TSDB (no scrape wait), for HPAs
// that scale on the router's demand (External metric through the adapter's externalRules).
void Stack::record_router_demand() {
  if (shutting_down_ || !activator_) return;
  bool first = false;
  std::int64_t now_ms = core::to_unix_millis(clock_.now());
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    if (now_ms <= demand_written_[i]) continue;
    first = first || demand_written_[i] == 0;
    const fleet::FleetSpec& spec = fleets_[i]->spec();
    prom::Labels labels{{"__name__", "llmscale_router_pending_requests"},
                        {"namespace", spec.namespace_},
                        {"fleet", spec.name}};
    if (storage_.append(labels, now_ms, static_cast<double>(activator_->pending_requests(i))))
      demand_written_[i] = now_ms;
  }
  if (first) adapter_->relist();  // the adapter lists the new series at once
}

void Stack::sample_router_demand() {
  if (shutting_down_) return;
  record_router_demand();
  clock_.call_after(seconds(1), [this] { sample_router_demand(); });
}

// A line per interval for each replica still in its cold start (progress.h).
void Stack::report_progress() {
  if (shutting_down_) return;
  for (std::size_t i = 0; i < fleets_.size(); ++i) {
    for (const std::string& line : progress_.update(fleets_[i]->spec().name, fleets_[i]->pods(),
                                                    cold_starts_[i], clock_.now()))
      core::log_info(line);
  }
  clock_.call_after(seconds(1), [this] { report_progress(); });
}

void Stack::on_pass(const controller::HpaView& view) {
  bridge_->on_pass(view);
  if (dashboard_) dashboard_->on_pass(view);
  if (!shutting_down_) save_replicas();
  if (options_.print_table) {
    const auto& meta = view.hpa.metadata;
    std::string key = meta.namespace_ + "/" + meta.name;
    std::string text = core::to_compact_json(kube::encode_hpa(view.hpa));
    if (printed_[key] != text) {
      printed_[key] = text;
      std::vector<std::vector<std::string>> rows;
      if (!header_printed_) rows.push_back(kube::hpa_table_header());
      header_printed_ = true;
      rows.push_back(kube::hpa_table_row(view.hpa, clock_.now()));
      std::cout << table_.flush(rows) << std::flush;
    }
  }
  if (options_.stop_when_scaled_down && load_exit_ && !shutting_down_ && scaled_down())
    begin_shutdown(*load_exit_);
}

bool Stack::scaled_down() const {
  for (const controller::HpaView& view : controller_->list()) {
    const auto& hpa = view.hpa;
    std::int32_t min = hpa.spec.min_replicas.value_or(1);
    if (hpa.status.current_replicas > min || hpa.status.desired_replicas > min) return false;
  }
  for (const auto& f : fleets_) {
    for (const kube::Pod& pod : f->pods())
      if (pod.metadata.deletion_timestamp) return false;  // still draining
  }
  return true;
}

void Stack::start_load() {
  if (load_started_ || shutting_down_) return;
  load_started_ = true;
  std::string base = proxies_.front()->url("");
  if (!base.empty() && base.back() == '/') base.pop_back();
  fleet::LaunchSpec spec;
  spec.argv = {options_.exe, "load"};
  for (std::string arg : options_.load_args) {
    for (std::size_t at; (at = arg.find("{router}")) != std::string::npos;)
      arg.replace(at, 8, base);
    spec.argv.push_back(std::move(arg));
  }
  spec.log_path = "/dev/stdout";
  std::cout << "load: "
            << core::join(std::vector<std::string>(spec.argv.begin() + 1, spec.argv.end()), " ")
            << "\n"
            << std::flush;
  auto handle = launcher_.launch(spec);
  if (!handle) {
    core::log_error("load: " + handle.error().message);
    load_exit_ = 1;
    begin_shutdown(1);
    return;
  }
  load_ = std::move(*handle);
  load_started_at_ = clock_.now();
  core::log_info("load: started (pid " + std::to_string(load_->pid()) + ")");
  poll_load();
}

void Stack::poll_load() {
  if (!load_) return;
  if (auto status = load_->poll_exit()) {
    load_exit_ = status->exit_code;
    auto took = std::chrono::duration_cast<seconds>(clock_.now() - load_started_at_);
    core::log_info("load: finished (" + status->to_string() + ")");
    std::cout << "load: finished (" << status->to_string() << ") after " << took.count() << "s, at "
              << kube::human_duration(clock_.now() - started_at_) << "\n"
              << std::flush;
    load_.reset();
    if (options_.stop_when_scaled_down && scaled_down()) begin_shutdown(*load_exit_);
    return;
  }
  clock_.call_after(milliseconds(200), [this] { poll_load(); });
}

void Stack::begin_shutdown(int exit_code) {
  if (shutting_down_) return;
  shutting_down_ = true;
  exit_code_ = exit_code;
  net::spawn(loop_, finish_shutdown(), "shutdown");
}

net::Awaitable<void> Stack::finish_shutdown() {
  if (load_) load_->send_signal(SIGTERM);
  auto remaining = std::make_shared<std::size_t>(fleets_.size());
  for (auto& f : fleets_) f->shutdown([remaining] { --*remaining; });
  // Fleets drain through the routers and stop their replicas (SIGTERM, then SIGKILL after the
  // grace period); wait for them, bounded by the longest grace period plus a margin.
  std::int64_t longest = 0;
  for (const auto& spec : config_.fleets)
    longest = std::max(longest, spec.template_.termination_grace_period_seconds);
  core::Time deadline = clock_.now() + seconds(longest + 5);
  while (*remaining > 0 && clock_.now() < deadline) co_await net::sleep_for(milliseconds(50));
  for (auto& proxy : proxies_) co_await proxy->stop(seconds(1));
  if (scraper_) scraper_->stop();
  if (dashboard_) dashboard_->dashboard().stop();  // ends its streams
  if (control_server_) co_await control_server_->stop(milliseconds(200));
  if (load_) load_->send_signal(SIGKILL);
  loop_.stop();
}

int Stack::run() {
  if (auto started = start(); !started) {
    std::cerr << "llmscale up: " << started.error().message << "\n";
    return started.error().code == core::ErrorCode::kInvalidArgument ? 2 : 1;
  }
  for (auto& f : fleets_) f->kill_all();
  return exit_code_;
}

}  // namespace

int run_up(const UpOptions& options) {
  Stack stack(options);
  return stack.run();
}

}  // namespace llmscale::up
