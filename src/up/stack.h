// The whole autoscaling loop of `llmscale up` on one machine, in one process:
//
//   load (optional child) ─► router (one per fleet) ─► replicas (fleet processes)
//   scraper (PodMonitoring over the fleets' pods) ─► TSDB ─► adapter ─► controller ─► fleet
//   Kubernetes API (apiserver, loopback) ◄── kubectl, llmscale get / describe
//
// Everything runs on one EventLoop thread (the controller, fleets and router are not
// thread-safe); replicas are child processes. Each HPA is reconciled on its sync period and
// right after every scrape of one of its target's pods, so decisions follow fresh metrics.
// A fleet that an HPA with minReplicas 0 scaled to zero is woken by the first request that
// reaches its router (activator.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "controller/pass_pacer.h"
#include "core/time.h"

namespace llmscale::up {

struct UpOptions {
  std::vector<std::string> config_paths;
  // `--image-command PREFIX=COMMAND`: a Deployment whose image starts with PREFIX runs COMMAND
  // (with the container's args) instead of simulated replicas (seed_deployment.h).
  std::vector<std::string> image_commands;
  std::string router_listen = "127.0.0.1:8080";   // the first fleet's; the next ones count up
  std::string control_listen = "127.0.0.1:9190";  // where `llmscale get` finds us
  // Authentication of the control address (control_auth.h): required off loopback.
  std::string control_token_file;
  std::string control_tls_cert_file;
  std::string control_tls_key_file;
  std::string control_client_ca_file;
  std::string policy = "least-outstanding-requests";
  // How long a request waits in a router's queue for a ready replica (during a cold start, or
  // while every replica is busy with max-in-flight) before 503 with Retry-After (router.md).
  core::Duration router_queue_timeout = std::chrono::seconds(60);
  // The routers' slow start (Envoy's slow_start_window, router/balancer.h): a replica that just
  // became ready takes a growing share of the queue over this long; zero disables.
  core::Duration router_slow_start_window{};
  // Requests each router remembers for `simulate --from-up` (router/journal.h); 0 keeps none.
  std::size_t request_journal = 262144;
  core::Duration sync_period = std::chrono::seconds(15);
  // kube-controller-manager's --horizontal-pod-autoscaler-downscale-stabilization: the
  // scale-down window of HPAs whose behavior does not set one.
  core::Duration downscale_stabilization = std::chrono::minutes(5);
  // Overrides the cold start of serveSim replicas (`serve-sim --startup-seconds`).
  std::optional<core::Duration> serve_sim_startup;
  std::optional<core::Duration> scrape_interval;  // overrides every PodMonitoring interval
  bool reconcile_after_scrape = true;
  // Post-scrape passes of one HPA at least this far apart (controller/pass_pacer.h).
  core::Duration min_pass_interval = controller::kDefaultMinPassInterval;
  std::string state_dir = ".llmscale";  // state.json (HPA history) and logs/
  std::string exe;                      // this binary (serveSim replicas, --load)
  // `llmscale load` arguments, run once every fleet has a ready replica; "{router}" is replaced
  // by the first router's base URL.
  std::vector<std::string> load_args;
  core::Duration load_delay{0};
  // Exit once the load has finished and every HPA is back at its minimum (scale-down done).
  bool stop_when_scaled_down = false;
  std::optional<core::Duration> stop_after;
  bool print_table = true;  // `kubectl get hpa -w` rows on stdout
  // The most replicas a fleet may have (local processes): a Fleet's spec.replicas above it is an
  // error, an HPA's maxReplicas above it is clamped with a warning (config.h).
  std::int32_t max_replicas = 64;
  // How often a replica that is not ready yet gets a progress line (0: never).
  core::Duration progress_interval = std::chrono::seconds(15);
  // `--scale-down`: which replicas go on scale-down (scale_down.h): "drain-aware" sets each
  // pod's pod-deletion-cost from the router's in-flight tokens first; "replicaset" ranks as the
  // ReplicaSet controller alone.
  std::string scale_down = "drain-aware";
  // `--feature-gates`: Kubernetes gates that change HPAs, for the API and the controller
  // (feature_gates.h); empty: v1.37's defaults (HPAScaleToZero on).
  std::string feature_gates;
};

// Runs until SIGINT/SIGTERM or a stop condition. Returns the process exit code: 0, the load's
// non-zero exit code, 2 for a bad configuration, 1 when something could not start.
int run_up(const UpOptions& options);

}  // namespace llmscale::up
