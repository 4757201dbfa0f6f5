// Scraper: Prometheus' scrape manager on net::EventLoop + core::Clock — scrape pools from scrape
// configs, targets from static_configs, pushed target groups and a PodSource, one scrape loop
// per target writing into a Storage.
//
// Per target, as Prometheus 2.42 does it:
//  * scrapes happen at a fixed offset within the interval, derived from a hash of the target's
//    labels and URL (so targets spread over the interval and keep their phase across restarts):
//    the first scrape comes `offset` after the start, then every `interval` (down to 100 ms);
//    a scrape that overruns skips the missed ticks;
//  * the request: GET url with Accept (OpenMetrics 1.0.0, then 0.0.1, then text 0.0.4, then
//    anything), Accept-Encoding: gzip, X-Prometheus-Scrape-Timeout-Seconds; the whole exchange is
//    bounded by scrape_timeout; the (decompressed) body by body_size_limit ("body size limit
//    exceeded"; configs without one get ScraperOptions::default_body_size_limit, where Prometheus
//    has no limit, so a 100 MB answer cannot exhaust memory); non-200 answers fail
//    ("server returned HTTP status 500 Internal Server Error"); redirects are followed;
//  * the body goes through ingest_scrape (scrape_ingest.h): relabeling, sample and label limits,
//    `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
//    `scrape_samples_post_metric_relabeling`, `scrape_series_added`; a failed scrape writes up=0
//    and staleness markers for what the target exposed before; the reason is logged (once per
//    change of reason) and kept as lastError;
//  * a target that disappears (removed from its group, pod gone, config changed) gets staleness
//    markers for all its series at the time of removal (Prometheus waits for the next would-be
//    scrape; here they are written at once), a stopped Scraper writes none (a shutdown).
// Targets are identified by labels + URL; identical targets in one pool are merged. Configs can
// be replaced at run time: targets whose identity is unchanged keep their series cache and phase.
// target_limit fails every scrape of a pool that has too many targets, as upstream.
//
// The post-scrape hook: listeners added with add_scrape_listener() run after each scrape has
// been committed to the Storage (a query issued from the listener sees it), on the event loop
// thread that ran the scrape. Keep them short; post longer work elsewhere.
//
// Threading: all public methods may be called from any thread (with a SimulatedClock: from the
// thread that runs the loop, since that clock is single-threaded). Scrape loops run on the
// EventLoop (several loop threads scrape different targets concurrently).
// Ownership: the Storage and the Clock must outlive the EventLoop (scrapes in flight when the
// Scraper is destroyed finish, or are destroyed with the loop, still holding their series).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "prom/exposition/labels.h"
#include "prom/scrape/config.h"
#include "prom/scrape/pod_source.h"
#include "prom/tsdb/storage.h"

namespace llmscale::core {
class Clock;
}
namespace llmscale::net {
class EventLoop;
}

namespace llmscale::prom {

struct ScraperOptions {
  // project_id / location / cluster for targets of PodMonitorings (empty: label not set).
  GmpTargetLabels gmp;
  // Body limit for scrape configs without body_size_limit (bytes; 0: none, as Prometheus).
  std::int64_t default_body_size_limit = 64 * 1024 * 1024;
  // Mixed into every target's scrape offset (Prometheus uses a hash of the external labels and
  // the host name), so two collectors can be kept out of phase.
  std::uint64_t jitter_seed = 0;
  std::string user_agent = "llmscale/0.1.0 (Prometheus/2.42.0 compatible)";
  // Connection timeout for scrapes (the scrape_timeout still bounds the whole exchange).
  core::Duration connect_timeout = std::chrono::seconds(10);
};

// What a scrape listener learns after each scrape.
struct ScrapeEvent {
  std::string scrape_pool;  // job_name of the scrape config
  Labels target_labels;     // the target labels samples carry (job, instance, pod, ...)
  std::string url;
  core::Time due;    // when the scrape was scheduled
  core::Time start;  // when it started; the samples' timestamp
  core::Duration duration{};
  bool up = false;
  std::string error;  // empty when up
  std::size_t samples_scraped = 0;
  std::size_t samples_post_relabeling = 0;
  std::size_t series_added = 0;
};

enum class TargetHealth { kUnknown, kUp, kDown };
// "unknown", "up", "down" (the API's health field).
std::string_view target_health_name(TargetHealth health);

// /api/v1/targets activeTargets[i].
struct TargetStatus {
  std::string scrape_pool;
  std::string url;
  Labels labels;             // public target labels
  Labels discovered_labels;  // before relabeling
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  std::optional<core::Time> last_scrape;
  core::Duration last_scrape_duration{};
  core::Duration interval{};
  core::Duration timeout{};
};

// /api/v1/targets droppedTargets[i].
struct DroppedTarget {
  std::string scrape_pool;
  Labels discovered_labels;
};

struct ScraperStats {
  std::uint64_t scrapes = 0;
  std::uint64_t failed_scrapes = 0;
  std::uint64_t body_size_limit_exceeded = 0;
  std::uint64_t sample_limit_exceeded = 0;
  // Scrapes failed because the Storage's series cap refused one of their series (llmscale's
  // --max-series; Prometheus has no storage-wide cap). Exposed by the collector as
  // prometheus_target_scrapes_exceeded_series_limit_total.
  std::uint64_t series_limit_exceeded = 0;
  std::uint64_t timeouts = 0;
  std::uint64_t samples_appended = 0;
  std::size_t active_targets = 0;
  std::size_t scrape_pools = 0;
};

class Scraper {
 public:
  using ListenerId = std::uint64_t;
  using ScrapeListener = std::function<void(const ScrapeEvent&)>;

  Scraper(net::EventLoop& loop, core::Clock& clock, Storage& storage, ScraperOptions options = {});
  // Stops every scrape loop (see stop()).
  ~Scraper();
  Scraper(const Scraper&) = delete;
  Scraper& operator=(const Scraper&) = delete;

  // Replaces the scrape configuration: the file's scrape_configs plus the scrape configs of its
  // PodMonitorings. Errors (a PodMonitoring that does not translate, a duplicate job name) leave
  // the previous configuration in place.
  core::Status apply_config(const CollectConfig& config);
  // Replaces the scrape pools with these configs (validated and defaulted, e.g. from
  // parse_collect_config or pod_monitoring_scrape_configs). Pools that are gone stop, with
  // staleness markers for their targets.
  core::Status set_scrape_configs(const std::vector<ScrapeConfig>& configs);

  // Discovered target groups for the pool `job_name` besides its static_configs, e.g. from a
  // custom discovery. Replaces the groups set before for that pool. Unknown pools keep them until
  // a config with that job name arrives.
  void set_target_groups(std::string_view job_name, std::vector<TargetGroup> groups);
  // Pods for PodMonitoring pools (and any config with pod_discovery). The Scraper subscribes and
  // re-reads the pods on every change; nullptr detaches. REQUIRES: `source` outlives the Scraper
  // or a later set_pod_source call.
  void set_pod_source(PodSource* source);
  // Re-reads the attached PodSource now (what a change notification does).
  void resync_pods();

  ListenerId add_scrape_listener(ScrapeListener listener);
  void remove_scrape_listener(ListenerId id);

  std::vector<TargetStatus> active_targets() const;
  std::vector<DroppedTarget> dropped_targets() const;
  // The active targets whose public labels include every label of `selector` (for a pod:
  // {namespace="default", pod="vllm-0"}; an empty selector matches all), in active_targets()
  // order. For in-process users that read a target's metrics from the Storage: a target whose
  // health is kDown failed its last scrape (unreachable, HTTP error, body/sample/label limit, or
  // the Storage's series cap: last_error "series limit exceeded (limit N): ..."), so the Storage
  // holds no fresh samples of it (only stale markers and up=0 where `up` could be stored): treat
  // its metrics as a failed fetch, not as absent or zero. kUnknown: not scraped yet.
  std::vector<TargetStatus> targets_matching(const Labels& selector) const;
  ScraperStats stats() const;

  // Scrapes running now (after stop(), wait for 0 before destroying the Storage or the loop).
  std::size_t scrapes_in_flight() const;

  // Stops every scrape loop without staleness markers (like a Prometheus shutdown). Scrapes in
  // flight finish but are not followed by another. Idempotent; later configuration calls are
  // ignored.
  void stop();

  struct Impl;

 private:
  std::shared_ptr<Impl> impl_;
};

// The Accept header Prometheus 2.42 sends.
inline constexpr std::string_view kScrapeAcceptHeader =
    "application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;"
    "q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1";

// Prometheus' Target.offset: when within `interval` (from `now`) the first scrape is due.
core::Duration scrape_offset(std::uint64_t target_hash, std::uint64_t jitter_seed,
                             core::Duration interval, core::Time now);

}  // namespace llmscale::prom
