// `llmscale adapter`: the custom/external metrics API server (HTTPS, aggregated-API
// authentication), and `llmscale adapter explain`: how it answers one request path — the rule
// and series it resolves to, the objects listed, the PromQL run and the answer.
#include <filesystem>
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "adapter/adapter.h"
#include "adapter/kube_lister.h"
#include "adapter/server.h"
#include "cli/commands.h"
#include "cli/io.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"
#include "core/time.h"
#include "kube/json_codec.h"
#include "net/event_loop.h"
#include "net/tls_cert.h"
#include "prom/api/remote_engine.h"
#include "prom/exposition/parser.h"
#include "prom/promql/engine.h"
#include "prom/scrape/config.h"
#include "prom/scrape/pod_source.h"
#include "prom/scrape/scraper.h"
#include "prom/tsdb/storage.h"

namespace llmscale::cli {
namespace {

// Loads Prometheus text files into `storage` at `now` (a sample's own timestamp wins).
core::Status load_metrics(const std::vector<std::string>& paths, prom::Storage& storage,
                          core::Time now) {
  for (const auto& path : paths) {
    auto text = read_input(path);
    if (!text) return tl::unexpected(text.error());
    auto parsed = prom::parse_exposition(*text, prom::ExpositionFormat::kPrometheusText);
    if (!parsed) return core::with_context(parsed.error(), path);
    for (const auto& family : parsed->families) {
      for (const auto& sample : family.samples) {
        prom::LabelsBuilder builder(sample.labels);
        builder.set("__name__", sample.name);
        auto st =
            storage.append(builder.labels(),
                           sample.timestamp_ms.value_or(core::to_unix_millis(now)), sample.value);
        if (!st) return core::with_context(st.error(), path + ": " + sample.name);
      }
    }
  }
  return {};
}

// Pods (or any objects) from manifests: Pod documents, or List/PodList items.
core::Result<std::vector<adapter::StaticObjectLister::Object>> load_objects(
    const std::string& path) {
  auto text = read_input(path);
  if (!text) return tl::unexpected(text.error());
  return adapter::parse_object_manifests(*text, path);
}

struct ExplainOptions {
  std::string config;
  std::vector<std::string> metrics;
  std::string objects;
  std::string time;
  std::string path;
};

int run_explain(const ExplainOptions& o) {
  auto config_text = read_input(o.config);
  if (!config_text) return fail(config_text.error().message);
  auto config = adapter::parse_adapter_config(*config_text);
  if (!config) return fail(o.config + ": " + config.error().message);

  core::Time now = core::wall_now();
  if (!o.time.empty()) {
    auto t = core::parse_rfc3339(o.time);
    if (!t) return fail("--time: " + t.error().message);
    now = *t;
  }
  core::SimulatedClock clock(now);
  prom::Storage storage;
  if (auto st = load_metrics(o.metrics, storage, now); !st) return fail(st.error().message);
  std::vector<adapter::StaticObjectLister::Object> objects;
  if (!o.objects.empty()) {
    auto loaded = load_objects(o.objects);
    if (!loaded) return fail(loaded.error().message);
    objects = std::move(*loaded);
  }

  std::string path = o.path, raw_query;
  if (auto q = path.find('?'); q != std::string::npos) {
    raw_query = path.substr(q + 1);
    path.resize(q);
  }
  auto request = adapter::parse_metrics_request(path, raw_query);
  if (!request) return fail(o.path + ": " + request.error().message);
  if (request->wildcard() && !request->external() && o.objects.empty()) {
    return fail("a wildcard request lists objects by labelSelector: pass them with --objects FILE");
  }

  prom::LocalQueryEngine engine(storage);
  adapter::StaticObjectLister lister(std::move(objects));
  adapter::MetricsAdapter metrics_adapter(
      std::make_shared<const adapter::AdapterConfig>(std::move(*config)), engine, lister, clock);
  if (auto st = metrics_adapter.relist(); !st)
    return fail("discovery failed: " + st.error().message, 1);

  adapter::Explanation why;
  std::string body;
  int code = 200;
  if (request->external()) {
    auto items = metrics_adapter.external_metric(*request, &why);
    if (items) {
      body = core::to_pretty_json(
          *core::parse_document(kube::external_metric_value_list_json(*items)));
    } else {
      code = items.error().code;
      body = items.error().to_json();
    }
  } else {
    auto items = metrics_adapter.custom_metric(*request, &why);
    if (items) {
      std::string version =
          request->api == adapter::MetricsApi::kCustomV1Beta1 ? "v1beta1" : "v1beta2";
      body = core::to_pretty_json(
          *core::parse_document(kube::metric_value_list_json(*items, version)));
    } else {
      code = items.error().code;
      body = items.error().to_json();
    }
  }

  std::cout << "request:   " << (request->external() ? "external " : "custom ") << request->metric;
  if (!request->external())
    std::cout << " of " << request->resource.to_string() << "/" << request->name;
  if (!request->namespace_name.empty()) std::cout << " in namespace " << request->namespace_name;
  std::cout << "\n";
  if (!request->object_selector.empty())
    std::cout << "objects:   labelSelector " << request->object_selector.to_string() << "\n";
  if (!request->metric_selector.empty())
    std::cout << "series:    selector " << request->metric_selector.to_string() << "\n";
  if (why.source.empty()) {
    std::cout << "metric:    not discovered\n";
    std::cout << "known:    ";
    std::size_t shown = 0;
    if (request->external()) {
      for (const auto& m : metrics_adapter.external_metrics())
        std::cout << (shown++ ? ", " : " ") << m;
    } else {
      for (const auto& m : metrics_adapter.custom_metrics()) {
        std::cout << (shown++ ? ", " : " ") << m.resource.to_string() << "/" << m.metric;
      }
    }
    std::cout << (shown == 0 ? " nothing (no rule's seriesQuery matched a series)" : "") << "\n";
  } else {
    std::cout << "metric:    from " << why.source << ", series " << why.series_name << "\n";
  }
  if (request->wildcard() && !request->external()) {
    std::cout << "listed:    " << why.objects.size() << " object(s)"
              << (why.objects.empty() ? "" : ": ") << core::join(why.objects, ", ") << "\n";
  }
  if (!why.query.empty()) std::cout << "query:     " << why.query << "\n";
  std::cout << "answer:    HTTP " << code << "\n" << body << "\n";
  return code == 200 ? 0 : 1;
}

struct ServeOptions {
  std::string config;
  std::vector<std::string> metrics;
  std::string objects;
  std::string kubeconfig;
  std::string bind_address;  // "": 0.0.0.0, or 127.0.0.1 with --insecure-loopback
  int secure_port = 6443;
  std::string cert_dir = "apiserver.local.config/certificates";
  std::string tls_cert_file, tls_private_key_file;
  std::string client_ca_file, requestheader_client_ca_file;
  std::vector<std::string> requestheader_allowed_names;
  std::vector<std::string> requestheader_username_headers{"X-Remote-User"};
  std::vector<std::string> requestheader_group_headers{"X-Remote-Group"};
  std::vector<std::string> requestheader_extra_headers_prefix{"X-Remote-Extra-"};
  bool anonymous_auth = true;
  std::string authorization_mode = "Authenticated";
  std::vector<std::string> always_allow_paths{"/healthz", "/readyz", "/livez"};
  std::string relist_interval = "10m";
  std::string max_age;
  std::string prometheus_url;
  std::string prometheus_verb = "GET";
  std::string prometheus_ca_file;
  std::string scrape_config;
  std::string pods;
  bool insecure_loopback = false;
};

core::Result<std::string> read_pem(const std::string& path, const char* flag) {
  auto text = read_input(path);
  if (!text) return core::invalid_argument(std::string(flag) + ": " + text.error().message);
  return *text;
}

// The serving certificate: the given files, or a self-signed one kept in --cert-dir
// (apiserver.crt / apiserver.key, as the generic API server names them).
core::Status serving_certificate(const ServeOptions& o, net::TlsServerOptions& tls) {
  if (!o.tls_cert_file.empty() || !o.tls_private_key_file.empty()) {
    if (o.tls_cert_file.empty() || o.tls_private_key_file.empty()) {
      return core::invalid_argument("--tls-cert-file and --tls-private-key-file go together");
    }
    tls.cert_file = o.tls_cert_file;
    tls.key_file = o.tls_private_key_file;
    return {};
  }
  namespace fs = std::filesystem;
  fs::path cert = fs::path(o.cert_dir) / "apiserver.crt",
           key = fs::path(o.cert_dir) / "apiserver.key";
  if (!fs::exists(cert) || !fs::exists(key)) {
    net::CertificateSpec spec;
    spec.common_name = "localhost@llmscale-adapter";
    spec.dns_names = {"localhost"};
    spec.ip_addresses = {"127.0.0.1"};
    auto generated = net::generate_self_signed_certificate(spec);
    if (!generated) return tl::unexpected(generated.error());
    std::error_code ec;
    fs::create_directories(o.cert_dir, ec);
    if (ec) return core::invalid_argument("--cert-dir: " + ec.message());
    std::ofstream(cert) << generated->cert_pem;
    std::ofstream(key) << generated->key_pem;
    fs::permissions(key, fs::perms::owner_read | fs::perms::owner_write, ec);
    core::log_info("adapter: generated a self-signed serving certificate in " + o.cert_dir);
  }
  tls.cert_file = cert.string();
  tls.key_file = key.string();
  return {};
}

int run_serve(const ServeOptions& o) {
  auto config_text = read_input(o.config);
  if (!config_text) return fail(config_text.error().message);
  auto config = adapter::parse_adapter_config(*config_text);
  if (!config) return fail(o.config + ": " + config.error().message);
  auto relist = core::parse_go_duration(o.relist_interval);
  if (!relist || *relist <= core::Duration::zero())
    return fail("--metrics-relist-interval: invalid duration");
  core::Duration max_age = *relist;
  if (!o.max_age.empty()) {
    auto parsed = core::parse_go_duration(o.max_age);
    if (!parsed) return fail("--metrics-max-age: " + parsed.error().message);
    max_age = *parsed;
  }
  if (max_age < *relist)
    return fail("--metrics-max-age must be greater than or equal to --metrics-relist-interval");
  int backends = (o.metrics.empty() ? 0 : 1) + (o.prometheus_url.empty() ? 0 : 1) +
                 (o.scrape_config.empty() ? 0 : 1);
  if (backends != 1) {
    return fail(
        "pass exactly one metrics backend: --prometheus-url URL (a Prometheus server), "
        "--scrape-config FILE (scrape targets in-process) or --metrics FILE (a snapshot)");
  }
  if (!o.pods.empty() && o.scrape_config.empty()) return fail("--pods needs --scrape-config");
  if (o.authorization_mode != "AlwaysAllow" && o.authorization_mode != "Authenticated") {
    return fail("--authorization-mode: must be AlwaysAllow or Authenticated");
  }

  std::string bind_address = !o.bind_address.empty() ? o.bind_address
                             : o.insecure_loopback   ? "127.0.0.1"
                                                     : "0.0.0.0";
  if (bind_address == "localhost") bind_address = "127.0.0.1";  // the listener takes addresses
  adapter::AdapterServerOptions server_options;
  server_options.http.address = bind_address;
  if (o.secure_port < 0 || o.secure_port > 65535) return fail("--secure-port: out of range");
  server_options.http.port = static_cast<std::uint16_t>(o.secure_port);
  if (o.insecure_loopback) {
    // The developer path: plain HTTP (so kubectl sends no credentials and never prompts for
    // them) and every request allowed, only where nothing but this machine can connect.
    if (!adapter::is_loopback_address(bind_address)) {
      return fail(
          "--insecure-loopback serves plain HTTP without authentication, so it needs a "
          "loopback --bind-address (127.0.0.1, ::1 or localhost), not \"" +
          bind_address + "\"");
    }
    if (!o.tls_cert_file.empty() || !o.tls_private_key_file.empty() || !o.client_ca_file.empty() ||
        !o.requestheader_client_ca_file.empty() || !o.kubeconfig.empty()) {
      return fail(
          "--insecure-loopback serves plain HTTP to anyone on this machine: it does not combine "
          "with --tls-cert-file, --tls-private-key-file, --client-ca-file, "
          "--requestheader-client-ca-file or --kubeconfig");
    }
  } else {
    server_options.http.tls = net::TlsServerOptions{};
    if (auto st = serving_certificate(o, *server_options.http.tls); !st)
      return fail(st.error().message);
  }
  auto& authn = server_options.authn;
  if (!o.client_ca_file.empty()) {
    auto pem = read_pem(o.client_ca_file, "--client-ca-file");
    if (!pem) return fail(pem.error().message);
    authn.client_ca_pem = *pem;
  }
  if (!o.requestheader_client_ca_file.empty()) {
    auto pem = read_pem(o.requestheader_client_ca_file, "--requestheader-client-ca-file");
    if (!pem) return fail(pem.error().message);
    authn.requestheader_client_ca_pem = *pem;
  }
  authn.requestheader_allowed_names = o.requestheader_allowed_names;
  authn.requestheader_username_headers = o.requestheader_username_headers;
  authn.requestheader_group_headers = o.requestheader_group_headers;
  authn.requestheader_extra_headers_prefix = o.requestheader_extra_headers_prefix;
  authn.anonymous = o.anonymous_auth;
  server_options.authz = o.authorization_mode == "AlwaysAllow" || o.insecure_loopback
                             ? adapter::AuthorizationMode::kAlwaysAllow
                             : adapter::AuthorizationMode::kAuthenticated;
  if (o.insecure_loopback) authn.anonymous = true;
  server_options.always_allow_paths = o.always_allow_paths;
  server_options.relist_interval = *relist;

  // Objects for wildcard requests: a manifest file, a kubeconfig, or the pod's service account.
  // In a cluster (a kubeconfig, or the pod's service account) the API server also supplies the
  // front proxy's CA and header names, as for every aggregated API server.
  std::shared_ptr<adapter::KubeClient> kube;
  if (o.insecure_loopback) {
    // No cluster: the delegated authentication settings would not apply to plain HTTP.
  } else if (!o.kubeconfig.empty()) {
    auto config = adapter::load_kubeconfig(o.kubeconfig);
    if (!config) return fail("--kubeconfig: " + config.error().message);
    kube = std::make_shared<adapter::KubeClient>(std::move(*config));
  } else if (auto in_cluster = adapter::in_cluster_config(); in_cluster) {
    kube = std::make_shared<adapter::KubeClient>(std::move(*in_cluster));
  }
  if (kube) {
    auto delegated = adapter::load_delegated_authentication(*kube, server_options.authn);
    if (!delegated)
      return fail("cannot read the delegated authentication settings: " + delegated.error().message,
                  1);
    server_options.authn = std::move(*delegated);
  }
  std::unique_ptr<adapter::ObjectLister> lister;
  if (!o.objects.empty()) {
    auto objects = load_objects(o.objects);
    if (!objects) return fail(objects.error().message);
    lister = std::make_unique<adapter::StaticObjectLister>(std::move(*objects));
  } else if (kube) {
    lister = std::make_unique<adapter::KubeObjectLister>(kube);
  } else {
    core::log_warn(
        "adapter: no --objects, --kubeconfig or in-cluster credentials: wildcard requests will "
        "fail "
        "with \"unable to list matching resources\"");
    lister = std::make_unique<adapter::StaticObjectLister>(
        std::vector<adapter::StaticObjectLister::Object>{});
  }

  // The backend: a Prometheus server (its own client loop: the adapter's handlers query it
  // synchronously), our scraper over an in-process TSDB, or a snapshot of text files.
  net::EventLoop loop(2);
  prom::Storage storage;
  prom::LocalQueryEngine local_engine(storage);
  prom::QueryEngine* engine = &local_engine;
  std::unique_ptr<prom::RemoteQueryEngine> remote;
  server_options.metrics = std::make_shared<adapter::ServerMetrics>();
  std::unique_ptr<adapter::InstrumentedQueryEngine> instrumented;
  std::unique_ptr<prom::Scraper> scraper;
  prom::StaticPodSource pods;
  if (!o.prometheus_url.empty()) {
    prom::RemoteEngineOptions remote_options;
    remote_options.base_url = o.prometheus_url;
    remote_options.method = o.prometheus_verb;
    if (!o.prometheus_ca_file.empty()) remote_options.tls.ca_file = o.prometheus_ca_file;
    auto created = prom::RemoteQueryEngine::create(remote_options);
    if (!created) return fail("--prometheus-url: " + created.error().message);
    remote = std::move(*created);
    // prometheus-adapter's query latency, on the adapter's /metrics.
    instrumented = std::make_unique<adapter::InstrumentedQueryEngine>(
        *remote, *server_options.metrics, o.prometheus_url, loop.clock());
    engine = instrumented.get();
  } else if (!o.scrape_config.empty()) {
    auto text = read_input(o.scrape_config);
    if (!text) return fail(text.error().message);
    auto collect = prom::parse_collect_config(*text);
    if (!collect) return fail(o.scrape_config + ": " + collect.error().message);
    if (!o.pods.empty()) {
      auto pod_text = read_input(o.pods);
      if (!pod_text) return fail(pod_text.error().message);
      auto parsed = prom::parse_pod_manifests(*pod_text);
      if (!parsed) return fail(o.pods + ": " + parsed.error().message);
      pods.set_pods(std::move(*parsed));
    }
    scraper = std::make_unique<prom::Scraper>(loop, loop.clock(), storage);
    scraper->set_pod_source(&pods);
    if (auto applied = scraper->apply_config(*collect); !applied)
      return fail(o.scrape_config + ": " + applied.error().message);
  } else if (auto st = load_metrics(o.metrics, storage, loop.clock().now()); !st) {
    return fail(st.error().message);
  }
  adapter::AdapterOptions adapter_options;
  adapter_options.max_age = max_age;
  if (!remote) adapter_options.answer_cache_storage = &storage;  // answers reused between writes
  adapter::MetricsAdapter metrics_adapter(
      std::make_shared<const adapter::AdapterConfig>(std::move(*config)), *engine, *lister,
      loop.clock(), adapter_options);
  adapter::AdapterServer server(loop, metrics_adapter, loop.clock(), server_options);
  if (auto st = server.start(); !st) return fail("cannot serve: " + st.error().message, 1);
  std::string host =
      bind_address.find(':') != std::string::npos ? "[" + bind_address + "]" : bind_address;
  std::cout << "adapter: serving on " << (o.insecure_loopback ? "http" : "https") << "://" << host
            << ":" << server.port() << std::endl;
  net::stop_on_signals(loop);
  loop.run();
  if (scraper) scraper->stop();
  server.stop();
  return 0;
}

}  // namespace

void add_adapter_command(CLI::App& app, int& exit_code) {
  auto* adapter_cmd = app.add_subcommand(
      "adapter", "custom.metrics.k8s.io / external.metrics.k8s.io from prometheus-adapter rules");
  adapter_cmd->require_subcommand(0, 1);
  static ServeOptions serve;
  adapter_cmd->add_option("--config", serve.config, "prometheus-adapter configuration (YAML)");
  adapter_cmd->add_option("--prometheus-url", serve.prometheus_url,
                          "URL of the Prometheus server to query (as prometheus-adapter)");
  adapter_cmd
      ->add_option("--prometheus-verb", serve.prometheus_verb,
                   "HTTP verb for queries to Prometheus: GET or POST")
      ->capture_default_str();
  adapter_cmd->add_option("--prometheus-ca-file", serve.prometheus_ca_file,
                          "CA bundle for an https --prometheus-url");
  adapter_cmd->add_option("--scrape-config", serve.scrape_config,
                          "scrape in-process instead: a Prometheus configuration and/or "
                          "PodMonitoring documents");
  adapter_cmd->add_option("--pods", serve.pods,
                          "Pod manifests that PodMonitorings in --scrape-config select from");
  adapter_cmd->add_option("--metrics", serve.metrics,
                          "Prometheus text files served as the backend (a snapshot)");
  adapter_cmd->add_option("--objects", serve.objects,
                          "Pod (or other object) manifests for wildcard requests");
  adapter_cmd->add_option("--kubeconfig", serve.kubeconfig,
                          "list wildcard objects through this cluster's API");
  adapter_cmd->add_option("--bind-address", serve.bind_address,
                          "address to listen on (default 0.0.0.0; 127.0.0.1 with "
                          "--insecure-loopback)");
  adapter_cmd->add_option("--secure-port", serve.secure_port, "HTTPS port (0: any free port)")
      ->capture_default_str();
  adapter_cmd->add_option("--cert-dir", serve.cert_dir, "where a self-signed certificate is kept")
      ->capture_default_str();
  adapter_cmd->add_option("--tls-cert-file", serve.tls_cert_file, "serving certificate (PEM)");
  adapter_cmd->add_option("--tls-private-key-file", serve.tls_private_key_file,
                          "serving key (PEM)");
  adapter_cmd->add_option("--client-ca-file", serve.client_ca_file,
                          "CA of client certificates (user = CN)");
  adapter_cmd->add_option(
      "--requestheader-client-ca-file", serve.requestheader_client_ca_file,
      "CA of the front proxy (the aggregator) whose X-Remote-* headers are trusted");
  adapter_cmd
      ->add_option("--requestheader-allowed-names", serve.requestheader_allowed_names,
                   "front-proxy certificate CNs allowed (empty: any)")
      ->delimiter(',');
  adapter_cmd->add_option("--requestheader-username-headers", serve.requestheader_username_headers)
      ->delimiter(',')
      ->capture_default_str();
  adapter_cmd->add_option("--requestheader-group-headers", serve.requestheader_group_headers)
      ->delimiter(',')
      ->capture_default_str();
  adapter_cmd
      ->add_option("--requestheader-extra-headers-prefix", serve.requestheader_extra_headers_prefix)
      ->delimiter(',')
      ->capture_default_str();
  adapter_cmd
      ->add_option("--anonymous-auth", serve.anonymous_auth,
                   "allow anonymous requests (then authorized)")
      ->capture_default_str();
  adapter_cmd
      ->add_option("--authorization-mode", serve.authorization_mode, "AlwaysAllow or Authenticated")
      ->capture_default_str();
  adapter_cmd
      ->add_option("--authorization-always-allow-paths", serve.always_allow_paths,
                   "paths served without authentication or authorization (add /metrics to let a "
                   "Prometheus scrape without a client certificate)")
      ->delimiter(',')
      ->capture_default_str();
  adapter_cmd->add_flag(
      "--insecure-loopback", serve.insecure_loopback,
      "developer mode: plain HTTP, anonymous requests allowed; only with a loopback "
      "--bind-address (then `kubectl --server http://127.0.0.1:PORT get --raw PATH` works)");
  adapter_cmd->add_option("--metrics-relist-interval", serve.relist_interval, "discovery period")
      ->capture_default_str();
  adapter_cmd->add_option("--metrics-max-age", serve.max_age,
                          "series lookback for discovery (default: the interval)");
  adapter_cmd->callback([adapter_cmd, &exit_code] {
    if (!adapter_cmd->get_subcommands().empty()) return;
    if (serve.config.empty()) {
      exit_code = fail("--config is required");
      return;
    }
    exit_code = run_serve(serve);
  });

  static ExplainOptions explain;
  auto* explain_cmd = adapter_cmd->add_subcommand(
      "explain",
      "Show how a request path is answered: rule, series, objects, PromQL and the answer");
  explain_cmd->add_option("--config", explain.config, "prometheus-adapter configuration (YAML)")
      ->required();
  explain_cmd->add_option(
      "--metrics", explain.metrics,
      "Prometheus text files with the series (labels as Prometheus stores them)");
  explain_cmd->add_option("--objects", explain.objects,
                          "Pod (or other object) manifests for wildcard requests");
  explain_cmd->add_option("--time", explain.time, "evaluation time, RFC 3339 (default: now)");
  explain_cmd
      ->add_option("path", explain.path,
                   "request path, e.g. /apis/custom.metrics.k8s.io/v1beta2/...")
      ->required();
  explain_cmd->callback([&] { exit_code = run_explain(explain); });
}

}  // namespace llmscale::cli
