// `llmscale up DIR|FILE...`: the whole autoscaling loop on this machine (up/stack.h).
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/duration.h"
#include "up/stack.h"

namespace llmscale::cli {
namespace {

struct UpFlags {
  up::UpOptions options;
  std::string sync_period = "15s";
  std::string min_pass_interval = "250ms";
  std::string router_slow_start_window = "0s";
  std::string downscale_stabilization = "5m0s";
  std::string serve_sim_startup;
  std::string scrape_interval;
  std::string load_delay = "0s";
  std::string stop_after;
  std::string progress_interval = "15s";
  std::string router_queue_timeout = "60s";
  bool no_post_scrape = false;
  bool quiet = false;
  std::string load;
};

core::Result<core::Duration> duration_flag(const std::string& flag, const std::string& text) {
  auto d = core::parse_go_duration(text);
  if (!d) return core::invalid_argument(flag + ": " + d.error().message);
  return d;
}

int run(UpFlags& f) {
  up::UpOptions& o = f.options;
  auto sync = duration_flag("--sync-period", f.sync_period);
  if (!sync) return fail(sync.error().message);
  if (*sync <= core::Duration::zero()) return fail("--sync-period: must be positive");
  o.sync_period = *sync;
  if (!f.scrape_interval.empty()) {
    auto interval = duration_flag("--scrape-interval", f.scrape_interval);
    if (!interval) return fail(interval.error().message);
    if (*interval < std::chrono::milliseconds(100))
      return fail("--scrape-interval: at least 100ms");
    o.scrape_interval = *interval;
  }
  auto window = duration_flag("--horizontal-pod-autoscaler-downscale-stabilization",
                              f.downscale_stabilization);
  if (!window) return fail(window.error().message);
  o.downscale_stabilization = *window;
  if (!f.serve_sim_startup.empty()) {
    auto startup = duration_flag("--serve-sim-startup", f.serve_sim_startup);
    if (!startup) return fail(startup.error().message);
    o.serve_sim_startup = *startup;
  }
  auto delay = duration_flag("--load-delay", f.load_delay);
  if (!delay) return fail(delay.error().message);
  o.load_delay = *delay;
  if (!f.stop_after.empty()) {
    auto after = duration_flag("--stop-after", f.stop_after);
    if (!after) return fail(after.error().message);
    o.stop_after = *after;
  }
  auto progress = duration_flag("--progress-interval", f.progress_interval);
  if (!progress) return fail(progress.error().message);
  o.progress_interval = *progress;
  auto queue_timeout = duration_flag("--router-queue-timeout", f.router_queue_timeout);
  if (!queue_timeout) return fail(queue_timeout.error().message);
  if (*queue_timeout < core::Duration::zero())
    return fail("--router-queue-timeout: must not be negative");
  o.router_queue_timeout = *queue_timeout;
  auto slow_start = duration_flag("--router-slow-start-window", f.router_slow_start_window);
  if (!slow_start) return fail(slow_start.error().message);
  if (*slow_start < core::Duration::zero())
    return fail("--router-slow-start-window: must not be negative");
  o.router_slow_start_window = *slow_start;
  if (o.max_replicas < 1) return fail("--max-replicas: must be at least 1");
  if (!f.load.empty()) {
    auto args = CLI::detail::split_up(f.load);
    if (!args.empty() && (args[0] == "llmscale" || args[0] == "load")) args.erase(args.begin());
    if (!args.empty() && args[0] == "load") args.erase(args.begin());
    o.load_args = args;
  }
  if (o.stop_when_scaled_down && o.load_args.empty())
    return fail("--stop-when-scaled-down needs --load");
  auto min_pass = duration_flag("--min-pass-interval", f.min_pass_interval);
  if (!min_pass) return fail(min_pass.error().message);
  if (*min_pass < core::Duration::zero()) return fail("--min-pass-interval: must not be negative");
  o.min_pass_interval = *min_pass;
  o.reconcile_after_scrape = !f.no_post_scrape;
  o.print_table = !f.quiet;
  o.exe = "/proc/self/exe";
  return up::run_up(o);
}

}  // namespace

void add_up_command(CLI::App& app, int& exit_code) {
  static UpFlags f;
  auto* up = app.add_subcommand(
      "up", "Run fleets, routers, scraper, adapter and HPA controller from a folder of manifests");
  up->add_option("config", f.options.config_paths,
                 "directories or files: Fleet, HorizontalPodAutoscaler, PodMonitoring, "
                 "prometheus-adapter config")
      ->required();
  up->add_option("--router-listen", f.options.router_listen,
                 "the router of the first fleet (the next fleets use the next ports)")
      ->capture_default_str();
  up->add_option("--control-listen", f.options.control_listen,
                 "control API for llmscale get/describe")
      ->capture_default_str();
  up->add_option("--policy", f.options.policy,
                 "round-robin, least-outstanding-requests or least-kv-cache")
      ->capture_default_str();
  up->add_option(
        "--sync-period", f.sync_period,
        "HPA sync period (kube-controller-manager --horizontal-pod-autoscaler-sync-period)")
      ->capture_default_str();
  up->add_option("--horizontal-pod-autoscaler-downscale-stabilization", f.downscale_stabilization,
                 "scale-down window of HPAs whose behavior sets none (as kube-controller-manager)")
      ->capture_default_str();
  up->add_option("--serve-sim-startup", f.serve_sim_startup,
                 "override the cold start of serveSim replicas (e.g. 5s)");
  up->add_option("--scrape-interval", f.scrape_interval,
                 "override every PodMonitoring's interval (e.g. 1s)");
  up->add_flag("--no-post-scrape-reconcile", f.no_post_scrape,
               "reconcile only on the sync period, as Kubernetes does");
  up->add_option("--min-pass-interval", f.min_pass_interval,
                 "post-scrape passes of one HPA at least this far apart (0s: one per scrape)")
      ->capture_default_str();
  up->add_option("--state-dir", f.options.state_dir,
                 "HPA history (state.json) and replica logs (logs/)")
      ->capture_default_str();
  up->add_option("--load", f.load,
                 "run `llmscale load ARGS` once every fleet has a ready replica; {router} is "
                 "the first router's URL");
  up->add_option("--load-delay", f.load_delay, "wait this long after the replicas are ready");
  up->add_flag("--stop-when-scaled-down", f.options.stop_when_scaled_down,
               "exit once the load is done and every HPA is back at minReplicas");
  up->add_option("--stop-after", f.stop_after, "exit after this long");
  up->add_option("--control-token-file", f.options.control_token_file,
                 "clients of the control address must send `Authorization: Bearer` with the "
                 "token in this file (required when --control-listen is not loopback, unless "
                 "--control-client-ca)");
  up->add_option("--control-tls-cert", f.options.control_tls_cert_file,
                 "serve the control address over HTTPS with this certificate (PEM)");
  up->add_option("--control-tls-key", f.options.control_tls_key_file,
                 "the key of --control-tls-cert (PEM)");
  up->add_option("--control-client-ca", f.options.control_client_ca_file,
                 "accept client certificates signed by this CA (PEM) on the control address");
  up->add_option("--image-command", f.options.image_commands,
                 "IMAGE_PREFIX=COMMAND: run a Deployment whose image starts with IMAGE_PREFIX as "
                 "COMMAND (its container args appended) instead of simulated replicas");
  up->add_option("--max-replicas", f.options.max_replicas,
                 "most replicas per fleet (local processes): a Fleet's spec.replicas above it is "
                 "an error, an HPA's maxReplicas above it is lowered to it with a warning")
      ->capture_default_str();
  up->add_option("--router-slow-start-window", f.router_slow_start_window,
                 "a replica that just became ready gets a growing share of the queued requests "
                 "over this long (Envoy's slow_start_window; e.g. 30s after a scale from zero)")
      ->capture_default_str();
  up->add_option("--request-journal", f.options.request_journal,
                 "requests each router remembers (arrival, tokens, status) for `llmscale "
                 "simulate --from-up`; 0 keeps none")
      ->capture_default_str();
  up->add_option("--router-queue-timeout", f.router_queue_timeout,
                 "how long a request waits for a ready replica before 503 with Retry-After "
                 "(0s: until one is ready or the client leaves)")
      ->capture_default_str();
  up->add_option("--progress-interval", f.progress_interval,
                 "how often a replica in its cold start gets a progress line (0s: never)")
      ->capture_default_str();
  up->add_option("--feature-gates", f.options.feature_gates,
                 "Kubernetes gates for the API and the HPA controller, v1.37 defaults "
                 "HPAScaleToZero=true,HPAConfigurableTolerance=true; e.g. HPAScaleToZero=false");
  up->add_option("--scale-down", f.options.scale_down,
                 "victims on scale-down: drain-aware (least in-flight tokens first, through "
                 "pod-deletion-cost) or replicaset (the ReplicaSet's ranking alone)")
      ->check(CLI::IsMember({"drain-aware", "replicaset"}))
      ->capture_default_str();
  up->add_flag("--quiet,-q", f.quiet, "do not print the `get hpa -w` table");
  up->callback([&] { exit_code = run(f); });
}

}  // namespace llmscale::cli
