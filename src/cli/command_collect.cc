// `llmscale collect`: a standalone collector — scrapes the targets of a Prometheus configuration
// (static_configs, and PodMonitoring documents over pods from --pods), stores them in the
// in-memory TSDB and serves the Prometheus HTTP API, until SIGINT/SIGTERM.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/clock.h"
#include "core/duration.h"
#include "core/log.h"
#include "net/event_loop.h"
#include "prom/api/collector.h"
#include "prom/scrape/config.h"
#include "prom/scrape/pod_source.h"

namespace llmscale::cli {
namespace {

struct CollectOptions {
  std::string config;
  std::string pods;
  std::string listen = "127.0.0.1:9090";
  std::string retention = "15m";
  std::size_t max_series = 1'000'000;
  std::string default_body_limit = "64MiB";
  std::string project_id;
  std::string location;
  std::string cluster;
  bool check = false;
};

// "host:port", "[::1]:port" or ":port".
core::Result<std::pair<std::string, std::uint16_t>> parse_listen(const std::string& text) {
  auto colon = text.rfind(':');
  if (colon == std::string::npos) {
    return core::invalid_argument("--listen " + text + ": expected host:port");
  }
  std::string host = text.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') {
    host = host.substr(1, host.size() - 2);
  }
  if (host.empty()) host = "0.0.0.0";
  std::string port_text = text.substr(colon + 1);
  unsigned long port = 0;
  try {
    std::size_t used = 0;
    port = std::stoul(port_text, &used);
    if (used != port_text.size() || port > 65535) throw std::out_of_range("port");
  } catch (const std::exception&) {
    return core::invalid_argument("--listen " + text + ": bad port " + port_text);
  }
  return std::pair{host, static_cast<std::uint16_t>(port)};
}

int run_collect(const CollectOptions& options) {
  auto text = read_input(options.config);
  if (!text) return fail(text.error().message);
  auto config = prom::parse_collect_config(*text);
  if (!config) return fail("parsing " + options.config + ": " + config.error().message);
  for (const auto& warning : config->warnings) core::log_warn(options.config + ": " + warning);
  std::unique_ptr<prom::StaticPodSource> pods;
  if (!options.pods.empty()) {
    auto pod_text = read_input(options.pods);
    if (!pod_text) return fail(pod_text.error().message);
    auto list = prom::parse_pod_manifests(*pod_text);
    if (!list) return fail("parsing " + options.pods + ": " + list.error().message);
    pods = std::make_unique<prom::StaticPodSource>(std::move(*list));
  }
  if (options.check) {
    std::size_t jobs = config->scrape_configs.size();
    for (const auto& pm : config->pod_monitorings) jobs += pm.endpoints.size();
    std::cout << options.config << ": " << config->scrape_configs.size() << " scrape configs, "
              << config->pod_monitorings.size() << " PodMonitorings (" << jobs
              << " scrape pools)\n";
    return 0;
  }
  auto listen = parse_listen(options.listen);
  if (!listen) return fail(listen.error().message);
  auto retention = core::parse_prometheus_duration(options.retention);
  if (!retention || *retention <= core::Duration::zero()) {
    return fail("--retention " + options.retention + ": not a positive Prometheus duration");
  }
  auto body_limit = prom::parse_base2_bytes(options.default_body_limit);
  if (!body_limit) return fail("--default-body-size-limit: " + body_limit.error().message);

  prom::CollectorOptions collector_options;
  collector_options.listen_address = listen->first;
  collector_options.port = listen->second;
  collector_options.storage.retention = *retention;
  collector_options.storage.max_series = options.max_series;
  collector_options.scraper.default_body_size_limit = *body_limit;
  collector_options.scraper.gmp = {options.project_id, options.location, options.cluster};

  net::EventLoop loop(2);
  prom::Collector collector(loop, loop.clock(), collector_options);
  if (auto s = collector.start(*config, pods.get()); !s) return fail(s.error().message, 1);
  std::cout << "collect: serving on " << collector.url() << "\n" << std::flush;
  net::stop_on_signals(loop, [&](int) {
    net::spawn(
        loop,
        [](prom::Collector& c, net::EventLoop& l) -> net::Awaitable<void> {
          co_await c.stop();
          l.stop();
        }(collector, loop),
        "collect shutdown");
  });
  loop.run();
  core::log_info("collect: stopped");
  return 0;
}

}  // namespace

void add_collect_command(CLI::App& app, int& exit_code) {
  static CollectOptions options;
  auto* cmd = app.add_subcommand(
      "collect",
      "Scrape targets into the in-memory TSDB and serve the Prometheus HTTP API (standalone)");
  cmd->add_option("--config", options.config,
                  "Prometheus configuration file; may also hold PodMonitoring documents")
      ->required();
  cmd->add_option("--pods", options.pods,
                  "Pod manifests (YAML/JSON, Pod or PodList) for PodMonitoring targets");
  cmd->add_option("--listen", options.listen, "address of the query API (host:port)")
      ->capture_default_str();
  cmd->add_option("--retention", options.retention, "how long samples are kept")
      ->capture_default_str();
  cmd->add_option("--max-series", options.max_series,
                  "cap on stored series; a scrape needing a new series over it fails (target "
                  "down, lastError \"series limit exceeded\", "
                  "prometheus_target_scrapes_exceeded_series_limit_total)")
      ->capture_default_str();
  cmd->add_option("--default-body-size-limit", options.default_body_limit,
                  "body limit for scrape configs without body_size_limit (0: none)")
      ->capture_default_str();
  cmd->add_option("--project-id", options.project_id,
                  "project_id label on PodMonitoring targets (as GMP sets it)");
  cmd->add_option("--location", options.location, "location label on PodMonitoring targets");
  cmd->add_option("--cluster", options.cluster, "cluster label on PodMonitoring targets");
  cmd->add_flag("--check", options.check, "validate the configuration and exit");
  cmd->callback([&] { exit_code = run_collect(options); });
}

}  // namespace llmscale::cli
