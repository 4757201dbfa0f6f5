// Collector: wiring of storage, scraper, query engine, API server and self-metrics.
#include "prom/api/collector.h"

#include <sys/resource.h>
#include <unistd.h>

#include <fstream>
#include <mutex>

#include "core/clock.h"
#include "core/log.h"
#include "net/router.h"
#include "net/server.h"

namespace llmscale::prom {

struct Collector::SelfMetrics {
  std::mutex mu;
  Gauge* head_series = nullptr;
  Gauge* head_chunks = nullptr;
  Gauge* discovered = nullptr;
  Gauge* resident = nullptr;
  Counter* samples_appended = nullptr;
  Counter* scrapes = nullptr;
  Counter* failed = nullptr;
  Counter* body_limit = nullptr;
  Counter* sample_limit = nullptr;
  Counter* series_limit = nullptr;
  Counter* timeouts = nullptr;
  Counter* cpu = nullptr;
  ScraperStats last;
  double last_cpu = 0;
};

namespace {

double process_cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  auto seconds = [](const timeval& tv) { return tv.tv_sec + tv.tv_usec / 1e6; };
  return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

double resident_bytes() {
  std::ifstream statm("/proc/self/statm");
  long pages_total = 0, pages_resident = 0;
  statm >> pages_total >> pages_resident;
  return static_cast<double>(pages_resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

}  // namespace

Collector::Collector(net::EventLoop& loop, core::Clock& clock, CollectorOptions options)
    : loop_(loop), clock_(clock), options_(std::move(options)) {
  storage_ = std::make_unique<Storage>(options_.storage);
  scraper_ = std::make_unique<Scraper>(loop_, clock_, *storage_, options_.scraper);
  engine_ = std::make_unique<LocalQueryEngine>(*storage_);
  registry_ = std::make_unique<MetricRegistry>();
  api_ = std::make_unique<PrometheusApi>(*engine_, clock_, options_.api);
  self_ = std::make_unique<SelfMetrics>();

  auto gauge = [&](const char* name, const char* help) {
    return &(*registry_->add_gauge(name, help))->with(std::vector<std::string>{});
  };
  auto counter = [&](const char* name, const char* help) {
    return &(*registry_->add_counter(name, help))->with(std::vector<std::string>{});
  };
  self_->head_series =
      gauge("prometheus_tsdb_head_series", "Total number of series in the head block.");
  self_->head_chunks =
      gauge("prometheus_tsdb_head_chunks", "Total number of chunks in the head block.");
  self_->samples_appended =
      counter("prometheus_tsdb_head_samples_appended_total", "Total number of appended samples.");
  self_->discovered =
      gauge("prometheus_sd_discovered_targets", "Current number of discovered targets.");
  self_->scrapes = counter("prometheus_target_scrapes_total", "Total number of scrapes.");
  self_->failed = counter("prometheus_target_scrapes_failed_total",
                          "Total number of scrapes that failed (up=0).");
  self_->body_limit = counter("prometheus_target_scrapes_exceeded_body_size_limit_total",
                              "Total number of scrapes that hit the body size limit");
  self_->sample_limit =
      counter("prometheus_target_scrapes_exceeded_sample_limit_total",
              "Total number of scrapes that hit the sample limit and were rejected.");
  // Not in Prometheus (it has no storage-wide series cap); named like the scrape-limit counters
  // above, which count the same kind of failed scrape.
  self_->series_limit = counter(
      "prometheus_target_scrapes_exceeded_series_limit_total",
      "Total number of scrapes that failed because the storage's series limit (--max-series) "
      "refused one of their series.");
  self_->timeouts = counter("prometheus_target_scrapes_timed_out_total",
                            "Total number of scrapes that timed out.");
  self_->cpu =
      counter("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.");
  self_->resident = gauge("process_resident_memory_bytes", "Resident memory size in bytes.");
  gauge("process_start_time_seconds", "Start time of the process since unix epoch in seconds.")
      ->set(core::to_unix_seconds(clock_.now()));
  api_->set_scraper(scraper_.get());
  api_->set_metrics(registry_.get(), [this] { refresh_metrics(); });
}

Collector::~Collector() {
  scraper_->set_pod_source(nullptr);
  scraper_->stop();
  if (server_) server_->close();
}

void Collector::refresh_metrics() {
  SelfMetrics& m = *self_;
  std::lock_guard lock(m.mu);
  StorageStats storage = storage_->stats();
  m.head_series->set(static_cast<double>(storage.series));
  m.head_chunks->set(static_cast<double>(storage.chunks));
  ScraperStats s = scraper_->stats();
  m.discovered->set(static_cast<double>(s.active_targets));
  auto delta = [](Counter* c, std::uint64_t now, std::uint64_t before) {
    if (now > before) c->inc(static_cast<double>(now - before));
  };
  delta(m.samples_appended, s.samples_appended, m.last.samples_appended);
  delta(m.scrapes, s.scrapes, m.last.scrapes);
  delta(m.failed, s.failed_scrapes, m.last.failed_scrapes);
  delta(m.body_limit, s.body_size_limit_exceeded, m.last.body_size_limit_exceeded);
  delta(m.sample_limit, s.sample_limit_exceeded, m.last.sample_limit_exceeded);
  delta(m.series_limit, s.series_limit_exceeded, m.last.series_limit_exceeded);
  delta(m.timeouts, s.timeouts, m.last.timeouts);
  m.last = s;
  double cpu = process_cpu_seconds();
  if (cpu > m.last_cpu) m.cpu->inc(cpu - m.last_cpu);
  m.last_cpu = cpu;
  m.resident->set(resident_bytes());
}

core::Status Collector::start(const CollectConfig& config, PodSource* pods) {
  if (auto s = scraper_->apply_config(config); !s) return s;
  scraper_->set_pod_source(pods);
  net::ServerOptions server;
  server.address = options_.listen_address;
  server.port = options_.port;
  server_ = std::make_unique<net::HttpServer>(loop_, server);
  auto router = std::make_shared<net::Router>();
  api_->add_routes(*router);
  PrometheusApi* api = api_.get();
  router->set_not_found(
      [api](net::ServerRequest& request, net::ResponseWriter& writer) -> net::Awaitable<void> {
        net::Response response = api->handle(request);
        co_await writer.send(std::move(response));
      });
  if (auto s = server_->start(router->handler()); !s) return s;
  core::log_info("collect: serving the Prometheus API on " + server_->url(""));
  return {};
}

core::Status Collector::reload(const CollectConfig& config) {
  return scraper_->apply_config(config);
}

net::Awaitable<void> Collector::stop(core::Duration grace) {
  scraper_->set_pod_source(nullptr);
  scraper_->stop();
  // Scrapes in flight end within their timeout; wait so none outlives the storage.
  core::MonotonicTime deadline = clock_.monotonic_now() + std::chrono::seconds(120);
  while (scraper_->scrapes_in_flight() > 0 && clock_.monotonic_now() < deadline) {
    co_await net::sleep_for(std::chrono::milliseconds(10));
  }
  if (server_) co_await server_->stop(grace);
}

std::uint16_t Collector::port() const {
  return server_ ? server_->port() : 0;
}

std::string Collector::url() const {
  if (!server_) return "";
  std::string url = server_->url("/");
  if (!url.empty() && url.back() == '/') url.pop_back();
  return url;
}

}  // namespace llmscale::prom
