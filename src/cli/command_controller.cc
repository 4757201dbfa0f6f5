// `llmscale controller`: the hpa engine as an in-cluster controller (cluster::ClusterController)
// over the Kubernetes API resolved as kubectl does (kubeclient), with Lease leader election,
// metrics from a Prometheus server through prometheus-adapter rules, and /metrics, /healthz,
// /readyz. See docs/controller.md.
//
// Everything runs on one event loop: the passes fetch their metrics from Prometheus with
// co_await (adapter::AsyncAdapterMetricsProvider over the RemoteQueryEngine's *_async calls on
// this loop), so a slow Prometheus never blocks the loop thread. Discovery (the adapter's relist)
// runs before the first pass and every 10 minutes.
#include <unistd.h>

#include <iostream>

#include <CLI/CLI.hpp>

#include "adapter/adapter.h"
#include "adapter/async_provider.h"
#include "adapter/kube_lister.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "cluster/cluster_controller.h"
#include "core/duration.h"
#include "core/log.h"
#include "kubeclient/kubeconfig.h"
#include "kubeclient/leader_election.h"
#include "kubeclient/rest_client.h"
#include "net/event_loop.h"
#include "net/router.h"
#include "net/server.h"
#include "prom/api/remote_engine.h"

namespace llmscale::cli {
namespace {

struct ControllerFlags {
  std::string kubeconfig;
  std::string context;
  std::string namespace_name;
  bool all_namespaces = false;
  bool advisory = false;
  bool deletion_cost_from_load = false;
  bool leader_elect = true;
  std::string lease_namespace;
  std::string lease_name = "llmscale-controller";
  std::string identity;
  std::string sync_period = "15s";
  std::string listen = "0.0.0.0:8080";
  std::string prometheus_url;
  std::string adapter_config;
  double qps = 5;
  int burst = 10;
};

int run_controller(const ControllerFlags& f) {
  auto fail = [](const std::string& message, int code = 2) {
    std::cerr << "error: " << message << "\n";
    return code;
  };
  auto sync = core::parse_go_duration(f.sync_period);
  if (!sync || *sync <= core::Duration::zero()) return fail("--sync-period: invalid duration");
  if (f.prometheus_url.empty() || f.adapter_config.empty()) {
    return fail(
        "metrics come from a Prometheus server through prometheus-adapter rules: pass "
        "--prometheus-url URL and --adapter-config FILE");
  }
  kubeclient::Environment env = kubeclient::Environment::process();
  kubeclient::ConfigOverrides overrides;
  overrides.context = f.context;
  overrides.namespace_name = f.namespace_name;
  auto rest = kubeclient::resolve_client_config(
      kubeclient::LoadingRules::from_environment(env, f.kubeconfig), overrides, env);
  if (!rest) return fail(rest.error().message);
  std::string watched_namespace = f.all_namespaces ? "" : rest->namespace_name;

  auto config_text = read_input(f.adapter_config);
  if (!config_text) return fail(config_text.error().message);
  auto adapter_config = adapter::parse_adapter_config(*config_text);
  if (!adapter_config) return fail(f.adapter_config + ": " + adapter_config.error().message);

  // The adapter lists the pods of a Pods metric from the controller's pod informer
  // (cluster::InformerPodLister, attached below); before it syncs, and for anything else, through
  // this blocking client.
  adapter::KubeClientConfig lister_config;
  lister_config.server = rest->host;
  lister_config.tls.ca_pem = rest->ca_pem;
  lister_config.tls.ca_file = rest->ca_file;
  lister_config.tls.insecure_skip_verify = rest->insecure_skip_tls_verify;
  lister_config.tls.server_name = rest->tls_server_name;
  lister_config.tls.cert_pem = rest->cert_pem;
  lister_config.tls.cert_file = rest->cert_file;
  lister_config.tls.key_pem = rest->key_pem;
  lister_config.tls.key_file = rest->key_file;
  lister_config.bearer_token = rest->bearer_token;
  lister_config.token_file = rest->bearer_token_file;
  auto api_lister = adapter::KubeObjectLister(std::make_shared<adapter::KubeClient>(lister_config));
  cluster::InformerPodLister lister(api_lister);

  net::EventLoop loop;
  prom::RemoteEngineOptions remote_options;
  remote_options.base_url = f.prometheus_url;
  auto remote = prom::RemoteQueryEngine::create(loop, remote_options);
  if (!remote) return fail("--prometheus-url: " + remote.error().message);
  adapter::AsyncAdapterMetricsProvider provider(
      std::make_shared<const adapter::AdapterConfig>(std::move(*adapter_config)), **remote, lister,
      loop.clock(), adapter::AdapterOptions{});

  kubeclient::RestClientOptions client_options;
  client_options.qps = f.qps;
  client_options.burst = f.burst;
  client_options.user_agent = "llmscale-controller";
  kubeclient::RestClient client(loop, loop.clock(), *rest, client_options);

  std::string identity = f.identity;
  if (identity.empty()) {
    char host[256] = {0};
    ::gethostname(host, sizeof host - 1);
    identity = std::string(host) + "_" + std::to_string(::getpid());
  }
  kubeclient::ApiLeaseLock lock(
      client, f.lease_namespace.empty() ? rest->namespace_name : f.lease_namespace, f.lease_name);
  std::unique_ptr<kubeclient::LeaderElector> elector;
  if (f.leader_elect) {
    kubeclient::LeaderElectionConfig election;
    election.identity = identity;
    election.seed = static_cast<std::uint64_t>(::getpid());
    kubeclient::LeaderCallbacks callbacks;
    callbacks.on_stopped_leading = [&loop] {
      // Kubernetes: kube-controller-manager exits when it loses the lease; a restart rejoins.
      core::log_warn("controller: leadership lost or released; stopping");
      loop.stop();
    };
    auto created = kubeclient::LeaderElector::create(lock, loop.clock(), election, callbacks);
    if (!created) return fail(created.error().message);
    elector = std::move(*created);
  }

  cluster::ClusterControllerOptions options;
  options.namespace_name = watched_namespace;
  options.advisory = f.advisory;
  options.deletion_cost_from_load = f.deletion_cost_from_load;
  options.sync_period = *sync;
  cluster::ClusterController controller(client, provider, options,
                                        [&elector] { return !elector || elector->leading(); });
  lister.attach(&controller);

  net::Router router;
  router.get("/metrics", [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
    net::Response response = net::Response::text(200, controller.metrics_text());
    response.headers.set("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
    co_await w.send(std::move(response));
  });
  router.get("/healthz", [](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
    co_await w.send(net::Response::text(200, "ok"));
  });
  router.get("/readyz", [&](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
    bool ready = controller.synced();
    co_await w.send(net::Response::text(ready ? 200 : 503, ready ? "ok" : "informers not synced"));
  });
  net::ServerOptions server_options;
  auto colon = f.listen.rfind(':');
  if (colon == std::string::npos) return fail("--listen: expected HOST:PORT");
  server_options.address = f.listen.substr(0, colon);
  server_options.port = static_cast<std::uint16_t>(std::stoi(f.listen.substr(colon + 1)));
  net::HttpServer server(loop, server_options);
  if (auto st = server.start(router.handler()); !st) {
    return fail("--listen: " + st.error().message, 1);
  }

  std::cout << "controller: " << rest->host
            << " namespace=" << (watched_namespace.empty() ? "(all)" : watched_namespace)
            << (f.advisory ? " advisory" : "") << " identity=" << identity << " serving on "
            << server.url("") << std::endl;
  if (elector) elector->start(loop);
  // Discovery first, so the first pass finds the metrics; then the controller, and discovery
  // again every 10 minutes (prometheus-adapter's --metrics-relist-interval default).
  auto discover_then_run = [](adapter::AsyncAdapterMetricsProvider& metrics,
                              cluster::ClusterController& autoscaler,
                              net::EventLoop& on) -> net::Awaitable<void> {
    bool started = false;
    while (true) {
      core::Status discovered = co_await metrics.relist();
      if (!discovered) {
        core::log_warn("controller: metrics discovery failed (retried every 10m): " +
                       discovered.error().message);
      }
      if (!started) {
        autoscaler.start(on);
        started = true;
      }
      co_await net::sleep_for(on.clock(), std::chrono::minutes(10));
    }
  };
  net::spawn(loop, discover_then_run(provider, controller, loop), "metrics discovery");
  net::stop_on_signals(loop, [&](int) {
    // Stop acting, release the Lease, then leave.
    controller.stop();
    if (elector && elector->running()) {
      elector->stop();
    } else {
      loop.stop();
    }
  });
  loop.run();
  return 0;
}

}  // namespace

void add_controller_command(CLI::App& app, int& exit_code) {
  auto* cmd = app.add_subcommand(
      "controller",
      "Reconcile LLMAutoscaler objects in a Kubernetes cluster (or advise on native HPAs)");
  static ControllerFlags flags;
  cmd->add_option("--kubeconfig", flags.kubeconfig,
                  "kubeconfig file (default: $KUBECONFIG, "
                  "~/.kube/config, in-cluster)");
  cmd->add_option("--context", flags.context, "kubeconfig context");
  cmd->add_option("-n,--namespace", flags.namespace_name, "namespace to watch");
  cmd->add_flag("-A,--all-namespaces", flags.all_namespaces, "watch every namespace");
  cmd->add_flag("--advisory", flags.advisory,
                "watch native HPAs and record what llmscale would decide; scale nothing");
  cmd->add_flag("--deletion-cost-from-load", flags.deletion_cost_from_load,
                "before a scale-down, PATCH each pod's controller.kubernetes.io/pod-deletion-cost "
                "from its value of the first Pods metric (needs patch on pods)");
  cmd->add_option("--leader-elect", flags.leader_elect, "Lease leader election (default true)");
  cmd->add_option("--leader-elect-lease-namespace", flags.lease_namespace,
                  "namespace of the Lease (default: the namespace)");
  cmd->add_option("--leader-elect-lease-name", flags.lease_name, "name of the Lease");
  cmd->add_option("--identity", flags.identity, "leader election identity (default host_pid)");
  cmd->add_option("--sync-period", flags.sync_period, "reconcile period (default 15s)");
  cmd->add_option("--listen", flags.listen, "/metrics /healthz /readyz address");
  cmd->add_option("--prometheus-url", flags.prometheus_url, "Prometheus server for metrics");
  cmd->add_option("--adapter-config", flags.adapter_config,
                  "prometheus-adapter rules mapping metrics to pods and objects");
  cmd->add_option("--kube-api-qps", flags.qps, "client-side QPS limit (default 5)");
  cmd->add_option("--kube-api-burst", flags.burst, "client-side burst (default 10)");
  cmd->callback([&exit_code] { exit_code = run_controller(flags); });
}

}  // namespace llmscale::cli
