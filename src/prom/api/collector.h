// Collector: scraper + TSDB + Prometheus-compatible query API in one object — what
// `llmscale collect` runs, and what other commands embed to get a local Prometheus.
//
//   net::EventLoop loop;
//   prom::Collector collector(loop, loop.clock(), options);
//   if (auto s = collector.start(config, &pods); !s) ...   // binds, starts scraping
//   ... loop.run() ...
//   co_await collector.stop();                             // graceful, see stop()
//
// It owns the Storage, the Scraper, a LocalQueryEngine over the storage, the PrometheusApi and
// a MetricRegistry with its own metrics (/metrics): prometheus_tsdb_head_series,
// prometheus_tsdb_head_chunks, prometheus_tsdb_head_samples_appended_total,
// prometheus_target_scrapes_total and the failure counters, prometheus_sd_discovered_targets,
// process_cpu_seconds_total, process_resident_memory_bytes, process_start_time_seconds, and the
// API's request counters.
//
// Threading: construct, start, reload and stop on the loop's thread or before the loop runs.
// Destroy it after stop() completed (or with the loop no longer running).
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "core/result.h"
#include "net/event_loop.h"
#include "prom/api/http_api.h"
#include "prom/exposition/registry.h"
#include "prom/promql/engine.h"
#include "prom/scrape/config.h"
#include "prom/scrape/pod_source.h"
#include "prom/scrape/scraper.h"
#include "prom/tsdb/storage.h"

namespace llmscale::net {
class HttpServer;
}

namespace llmscale::prom {

struct CollectorOptions {
  std::string listen_address = "127.0.0.1";
  std::uint16_t port = 9090;  // 0: any free port
  StorageOptions storage;
  ScraperOptions scraper;
  ApiOptions api;
};

class Collector {
 public:
  Collector(net::EventLoop& loop, core::Clock& clock, CollectorOptions options = {});
  ~Collector();
  Collector(const Collector&) = delete;
  Collector& operator=(const Collector&) = delete;

  // Applies `config`, attaches `pods` (may be null; REQUIRES: it outlives the collector) and
  // starts serving. Errors: the config does not apply, the address cannot be bound.
  core::Status start(const CollectConfig& config, PodSource* pods = nullptr);
  // Replaces the scrape configuration (targets with unchanged identity keep their series).
  core::Status reload(const CollectConfig& config);
  // Stops scraping (no staleness markers), waits for scrapes in flight, then stops the server
  // gracefully (requests in progress finish within `grace`).
  net::Awaitable<void> stop(core::Duration grace = std::chrono::seconds(5));

  std::uint16_t port() const;
  // "http://127.0.0.1:PORT".
  std::string url() const;

  Storage& storage() { return *storage_; }
  Scraper& scraper() { return *scraper_; }
  QueryEngine& engine() { return *engine_; }
  MetricRegistry& metrics() { return *registry_; }

 private:
  void refresh_metrics();

  net::EventLoop& loop_;
  core::Clock& clock_;
  CollectorOptions options_;
  std::unique_ptr<Storage> storage_;
  std::unique_ptr<Scraper> scraper_;
  std::unique_ptr<LocalQueryEngine> engine_;
  std::unique_ptr<MetricRegistry> registry_;
  std::unique_ptr<PrometheusApi> api_;
  std::unique_ptr<net::HttpServer> server_;
  struct SelfMetrics;
  std::unique_ptr<SelfMetrics> self_;
};

}  // namespace llmscale::prom
