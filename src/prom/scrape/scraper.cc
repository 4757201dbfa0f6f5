// Scrape pools, scrape loops on clock timers, HTTP fetches and ingestion.
#include "prom/scrape/scraper.h"

#include <algorithm>
#include <atomic>
#include <map>
#include <mutex>
#include <set>
#include <unordered_map>

#include "core/clock.h"
#include "core/log.h"
#include "core/strings.h"
#include "net/client.h"
#include "net/event_loop.h"
#include "net/http.h"
#include "net/url.h"
#include "prom/exposition/float_text.h"
#include "prom/scrape/ingest.h"
#include "prom/scrape/target.h"
#include "prom/tsdb/target_appender.h"

namespace llmscale::prom {

std::string_view target_health_name(TargetHealth health) {
  switch (health) {
    case TargetHealth::kUp: return "up";
    case TargetHealth::kDown: return "down";
    default: return "unknown";
  }
}

core::Duration scrape_offset(std::uint64_t target_hash, std::uint64_t jitter_seed,
                             core::Duration interval, core::Time now) {
  // Prometheus' Target.offset: the scrape phase within the interval, aligned to the epoch.
  auto iv = static_cast<std::uint64_t>(interval.count());
  if (iv == 0) return core::Duration::zero();
  auto now_ns = static_cast<std::uint64_t>(now.time_since_epoch().count());
  std::uint64_t base = iv - now_ns % iv;
  std::uint64_t offset = (target_hash ^ jitter_seed) % iv;
  std::uint64_t next = base + offset;
  if (next > iv) next -= iv;
  return core::Duration(static_cast<core::Duration::rep>(next));
}

namespace {

// Settings shared by a pool's targets (replaced as a whole on reload).
struct PoolSettings {
  ScrapeConfig config;
  IngestOptions ingest;  // without format and target labels
  std::int64_t body_limit = 0;
  std::shared_ptr<net::HttpClient> client;
  std::optional<std::string> forced_error;  // target_limit exceeded
};

struct Target {
  Target(Storage& storage, std::string pool, ScrapeTargetSpec spec)
      : pool(std::move(pool)), spec(std::move(spec)), appender(storage) {
    public_labels = this->spec.public_labels();
    hash = this->spec.hash();
  }

  const std::string pool;
  const ScrapeTargetSpec spec;
  Labels public_labels;
  std::uint64_t hash = 0;

  std::mutex mu;  // everything below
  std::shared_ptr<const PoolSettings> settings;
  Labels discovered_labels;
  // The appender is used by the scrape in flight without the lock, or under the lock when idle.
  TargetAppender appender;
  core::Clock::TimerId timer = 0;
  bool timer_armed = false;
  bool in_flight = false;
  bool removed = false;  // gone: stale markers once idle
  bool stopped = false;  // scraper stopped: no markers
  core::Time next_due{};
  core::Duration scheduled_interval{};
  // Status.
  TargetHealth health = TargetHealth::kUnknown;
  std::string last_error;
  std::optional<core::Time> last_scrape;
  core::Duration last_duration{};
};

}  // namespace

struct Scraper::Impl : std::enable_shared_from_this<Scraper::Impl> {
  Impl(net::EventLoop& loop, core::Clock& clock, Storage& storage, ScraperOptions options)
      : loop(loop), clock(clock), storage(storage), options(std::move(options)) {}

  struct Pool {
    std::shared_ptr<const PoolSettings> settings;
    std::unordered_map<std::uint64_t, std::shared_ptr<Target>> targets;
    std::vector<DroppedTarget> dropped;
    std::set<std::string> logged_errors;  // invalid targets already warned about
  };

  net::EventLoop& loop;
  core::Clock& clock;
  Storage& storage;
  const ScraperOptions options;

  mutable std::mutex mu;  // pools, groups, pods, stopped
  std::map<std::string, Pool> pools;
  std::map<std::string, std::vector<TargetGroup>, std::less<>> pushed_groups;
  std::vector<TargetGroup> pod_groups;
  PodSource* pod_source = nullptr;
  PodSource::ListenerId pod_listener = 0;
  bool stopped = false;

  std::mutex listeners_mu;
  std::map<ListenerId, std::shared_ptr<const ScrapeListener>> listeners;
  ListenerId next_listener = 1;

  std::mutex stats_mu;
  ScraperStats counters;
  std::atomic<std::size_t> in_flight{0};

  // ---- pools ----

  core::Result<std::shared_ptr<const PoolSettings>> make_settings(const ScrapeConfig& config) {
    auto settings = std::make_shared<PoolSettings>();
    settings->config = config;
    if (!settings->config.relabel_rules || !settings->config.metric_relabel_rules) {
      if (auto s = compile_scrape_rules(settings->config); !s) return tl::unexpected(s.error());
    }
    IngestOptions& in = settings->ingest;
    in.honor_labels = config.honor_labels;
    in.honor_timestamps = config.honor_timestamps;
    in.metric_relabeling = settings->config.metric_relabel_rules;
    in.sample_limit = config.sample_limit;
    in.label_limit = config.label_limit;
    in.label_name_length_limit = config.label_name_length_limit;
    in.label_value_length_limit = config.label_value_length_limit;
    settings->body_limit =
        config.body_size_limit > 0 ? config.body_size_limit : options.default_body_size_limit;
    net::ClientOptions client;
    client.connect_timeout = options.connect_timeout;
    client.user_agent = options.user_agent;
    client.max_body_bytes = settings->body_limit > 0
                                ? static_cast<std::size_t>(settings->body_limit)
                                : std::numeric_limits<std::size_t>::max();
    if (config.tls_config) {
      client.tls.ca_file = config.tls_config->ca_file;
      client.tls.cert_file = config.tls_config->cert_file;
      client.tls.key_file = config.tls_config->key_file;
      client.tls.server_name = config.tls_config->server_name;
      client.tls.insecure_skip_verify = config.tls_config->insecure_skip_verify;
    }
    settings->client = std::make_shared<net::HttpClient>(loop, client);
    if (config.tls_config) {
      if (auto s = settings->client->check_tls_config(); !s) {
        return core::invalid_argument("scrape config " + core::go_quote(config.job_name) +
                                      ": tls_config: " + s.error().message);
      }
    }
    return std::shared_ptr<const PoolSettings>(std::move(settings));
  }

  static bool same_scrape_settings(const ScrapeConfig& a, const ScrapeConfig& b) {
    return a.scrape_interval == b.scrape_interval && a.scrape_timeout == b.scrape_timeout;
  }

  // Recomputes the targets of one pool from its groups. REQUIRES: mu held.
  void sync_pool(const std::string& name, Pool& pool) {
    const PoolSettings& settings = *pool.settings;
    std::vector<const TargetGroup*> groups;
    for (const auto& g : settings.config.static_configs) groups.push_back(&g);
    if (auto it = pushed_groups.find(name); it != pushed_groups.end()) {
      for (const auto& g : it->second) groups.push_back(&g);
    }
    if (settings.config.pod_discovery) {
      for (const auto& g : pod_groups) groups.push_back(&g);
    }
    std::unordered_map<std::uint64_t, std::pair<ScrapeTargetSpec, Labels>> wanted;
    std::vector<std::uint64_t> order;
    pool.dropped.clear();
    for (const TargetGroup* group : groups) {
      for (auto& outcome : targets_from_group(*group, settings.config)) {
        if (outcome.error) {
          std::string key = outcome.discovered_labels.to_string() + outcome.error->message;
          if (pool.logged_errors.insert(key).second) {
            core::log_warn("scrape pool " + core::go_quote(name) + ": creating target failed: " +
                           outcome.error->message + " " + outcome.discovered_labels.to_string());
          }
          continue;
        }
        if (!outcome.target) {
          pool.dropped.push_back(DroppedTarget{name, outcome.discovered_labels});
          continue;
        }
        std::uint64_t hash = outcome.target->hash();
        if (!wanted.count(hash)) order.push_back(hash);
        wanted[hash] = {std::move(*outcome.target), outcome.discovered_labels};
      }
    }
    std::shared_ptr<const PoolSettings> effective = pool.settings;
    if (settings.config.target_limit > 0 && wanted.size() > settings.config.target_limit) {
      auto limited = std::make_shared<PoolSettings>(settings);
      limited->forced_error =
          "target_limit exceeded (number of targets: " + std::to_string(wanted.size()) +
          ", limit: " + std::to_string(settings.config.target_limit) + ")";
      effective = std::move(limited);
    }
    // Gone targets.
    for (auto it = pool.targets.begin(); it != pool.targets.end();) {
      if (!wanted.count(it->first)) {
        retire(it->second, /*stale=*/true);
        it = pool.targets.erase(it);
      } else {
        ++it;
      }
    }
    // New and kept targets.
    for (std::uint64_t hash : order) {
      auto& [spec, discovered] = wanted[hash];
      auto it = pool.targets.find(hash);
      if (it == pool.targets.end()) {
        auto target = std::make_shared<Target>(storage, name, std::move(spec));
        {
          std::lock_guard lock(target->mu);
          target->settings = effective;
          target->discovered_labels = discovered;
        }
        pool.targets.emplace(hash, target);
        schedule_first(target);
      } else {
        const auto& target = it->second;
        bool reschedule = false;
        {
          std::lock_guard lock(target->mu);
          reschedule = !same_scrape_settings(target->settings->config, effective->config);
          target->settings = effective;
          target->discovered_labels = discovered;
        }
        if (reschedule) reschedule_target(target);
      }
    }
  }

  void sync_all() {
    for (auto& [name, pool] : pools) sync_pool(name, pool);
  }

  // ---- scrape loops ----

  void arm(const std::shared_ptr<Target>& t, core::Time due) {
    // REQUIRES: t->mu held.
    t->next_due = due;
    t->scheduled_interval = t->settings->config.scrape_interval;
    std::weak_ptr<Impl> weak_impl = weak_from_this();
    std::weak_ptr<Target> weak_target = t;
    t->timer = clock.call_after(due - clock.now(), [weak_impl, weak_target, due] {
      auto impl = weak_impl.lock();
      auto target = weak_target.lock();
      if (impl && target) impl->on_due(target, due);
    });
    t->timer_armed = true;
  }

  void schedule_first(const std::shared_ptr<Target>& t) {
    std::lock_guard lock(t->mu);
    core::Time now = clock.now();
    arm(t, now + scrape_offset(t->hash, options.jitter_seed, t->spec.interval, now));
  }

  void reschedule_target(const std::shared_ptr<Target>& t) {
    std::lock_guard lock(t->mu);
    if (t->in_flight || t->removed || t->stopped) return;  // the scrape in flight re-arms
    if (t->timer_armed) clock.cancel(t->timer);
    t->timer_armed = false;
    core::Time now = clock.now();
    arm(t, now + scrape_offset(t->hash, options.jitter_seed, t->spec.interval, now));
  }

  // The target leaves its pool (stale: write staleness markers) or the scraper stops.
  void retire(const std::shared_ptr<Target>& t, bool stale) {
    std::lock_guard lock(t->mu);
    if (t->timer_armed) clock.cancel(t->timer);
    t->timer_armed = false;
    if (stale) {
      t->removed = true;
    } else {
      t->stopped = true;
    }
    if (stale && !t->in_flight) write_stale_markers(*t);
  }

  // Staleness markers for every series of a target that is gone, now but after its last scrape:
  // a marker in the millisecond of the samples it ends would be a duplicate the Storage drops,
  // leaving the series visible for the whole lookback (a removal or a quickly failing scrape
  // within the scrape's millisecond). REQUIRES: t.mu held.
  void write_stale_markers(Target& t) {
    std::int64_t t_ms = core::to_unix_millis(clock.now());
    if (t.last_scrape) t_ms = std::max(t_ms, core::to_unix_millis(*t.last_scrape) + 1);
    t.appender.mark_all_stale(t_ms);
  }

  void on_due(const std::shared_ptr<Target>& t, core::Time due) {
    {
      std::lock_guard lock(t->mu);
      t->timer_armed = false;
      if (t->removed || t->stopped || t->in_flight) return;
      t->in_flight = true;
    }
    ++in_flight;
    net::spawn(loop, scrape_once(shared_from_this(), t, due), "scrape");
  }

  // Go's http.Client error texts for the common cases (what Prometheus shows as lastError).
  static std::string fetch_error_text(const core::Error& error, const std::string& url) {
    std::string_view kind = net::client_error_kind(error);
    std::string prefix = "Get " + core::go_quote(url) + ": ";
    if (error.code == core::ErrorCode::kDeadlineExceeded && kind != "connect timeout") {
      return prefix + "context deadline exceeded";
    }
    if (kind == "connection refused") {
      auto parsed = net::parse_url(url);
      std::string address = parsed ? parsed->authority() : url;
      if (parsed && address.find(':') == std::string::npos) {
        address += ":" + std::to_string(parsed->port);
      }
      return prefix + "dial tcp " + address + ": connect: connection refused";
    }
    return prefix + error.message;
  }

  static net::Awaitable<void> scrape_once(std::shared_ptr<Impl> impl, std::shared_ptr<Target> t,
                                          core::Time due) {
    std::shared_ptr<const PoolSettings> settings;
    {
      std::lock_guard lock(t->mu);
      settings = t->settings;
    }
    core::Time start = impl->clock.now();  // the samples' timestamp
    core::MonotonicTime started = impl->clock.monotonic_now();
    std::optional<core::Error> error;
    std::string body;
    std::string content_type;
    bool body_limit_hit = false;
    bool timed_out = false;
    if (settings->forced_error) {
      error = core::Error{core::ErrorCode::kResourceExhausted, *settings->forced_error};
    } else {
      std::string url = t->spec.url;
      for (int redirects = 0;; ++redirects) {
        net::Request request = net::Request::get(url);
        request.headers.set("Accept", kScrapeAcceptHeader);
        request.headers.set("Accept-Encoding", "gzip");
        request.headers.set("X-Prometheus-Scrape-Timeout-Seconds",
                            format_go_float_fixed(core::to_seconds(t->spec.timeout)));
        core::Duration elapsed = impl->clock.monotonic_now() - started;
        request.total_timeout = std::max(core::Duration(1), t->spec.timeout - elapsed);
        if (settings->body_limit > 0) {
          request.max_body_bytes = static_cast<std::size_t>(settings->body_limit);
        }
        auto response = co_await settings->client->request(std::move(request));
        if (!response) {
          if (response.error().code == core::ErrorCode::kResourceExhausted) {
            body_limit_hit = true;
            error = core::Error{core::ErrorCode::kResourceExhausted, "body size limit exceeded"};
          } else {
            timed_out = response.error().code == core::ErrorCode::kDeadlineExceeded;
            error =
                core::Error{response.error().code, fetch_error_text(response.error(), t->spec.url)};
          }
          break;
        }
        int status = response->status;
        bool redirect =
            status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
        if (redirect && settings->config.follow_redirects && redirects < 10 &&
            response->headers.contains("Location")) {
          url = resolve_location(url, std::string(response->headers.value("Location")));
          continue;
        }
        if (status != 200) {
          error = core::Error{core::ErrorCode::kUnavailable,
                              "server returned HTTP status " + std::to_string(status) + " " +
                                  std::string(net::reason_phrase(status))};
          break;
        }
        content_type = std::string(response->headers.value("Content-Type"));
        body = std::move(response->body);
        break;
      }
    }
    double duration = core::to_seconds(impl->clock.monotonic_now() - started);
    IngestOptions options = settings->ingest;
    options.format = exposition_format_for_content_type(content_type);
    options.target_labels = t->public_labels;
    std::int64_t start_ms = core::to_unix_millis(start);
    IngestReport report =
        error ? ingest_failed_scrape(t->appender, start_ms, duration, options, *error)
              : ingest_scrape(t->appender, body, start_ms, duration, options);
    body.clear();
    body.shrink_to_fit();

    ScrapeEvent event;
    event.scrape_pool = t->pool;
    event.target_labels = t->public_labels;
    event.url = t->spec.url;
    event.due = due;
    event.start = start;
    event.duration = core::from_seconds(duration);
    event.up = report.up;
    if (report.error) event.error = report.error->message;
    event.samples_scraped = report.samples_scraped;
    event.samples_post_relabeling = report.samples_post_relabeling;
    event.series_added = report.series_added;
    {
      std::lock_guard lock(impl->stats_mu);
      ++impl->counters.scrapes;
      if (!report.up) ++impl->counters.failed_scrapes;
      if (body_limit_hit) ++impl->counters.body_size_limit_exceeded;
      if (timed_out) ++impl->counters.timeouts;
      if (report.error && report.error->message.starts_with("sample limit exceeded")) {
        ++impl->counters.sample_limit_exceeded;
      }
      if (report.series_limit_exceeded) ++impl->counters.series_limit_exceeded;
      impl->counters.samples_appended += report.stats.samples_appended;
    }
    bool log_failure = false;
    {
      std::lock_guard lock(t->mu);
      log_failure = !report.up && event.error != t->last_error;
      t->health = report.up ? TargetHealth::kUp : TargetHealth::kDown;
      if (report.up && t->last_error.size()) {
        core::log_info("scrape of " + t->spec.url + " (" + t->pool + ") recovered");
      }
      t->last_error = event.error;
      t->last_scrape = start;
      t->last_duration = event.duration;
    }
    if (log_failure) {
      core::log_warn("scrape of " + t->spec.url + " (" + t->pool + ") failed: " + event.error);
    }
    // Listeners see the committed scrape.
    std::vector<std::shared_ptr<const ScrapeListener>> listeners;
    {
      std::lock_guard lock(impl->listeners_mu);
      for (const auto& [id, listener] : impl->listeners) listeners.push_back(listener);
    }
    for (const auto& listener : listeners) (*listener)(event);
    // Next scrape, or the end of this target.
    std::lock_guard lock(t->mu);
    t->in_flight = false;
    --impl->in_flight;
    if (t->removed) {
      impl->write_stale_markers(*t);
      co_return;
    }
    if (t->stopped) co_return;
    core::Time now = impl->clock.now();
    core::Duration interval = t->settings->config.scrape_interval;
    core::Time next = due + interval;
    if (t->scheduled_interval != interval || next <= now) {
      // Skipped ticks (a slow scrape) or a new interval: the next slot of the target's phase.
      next = now + scrape_offset(t->hash, impl->options.jitter_seed, interval, now);
    }
    impl->arm(t, next);
  }

  static std::string resolve_location(const std::string& base, const std::string& location) {
    if (location.starts_with("http://") || location.starts_with("https://")) return location;
    auto url = net::parse_url(base);
    if (!url) return location;
    std::string origin = url->scheme + "://" + url->authority();
    if (location.starts_with("/")) return origin + location;
    std::string path = url->path;
    auto slash = path.rfind('/');
    return origin + path.substr(0, slash + 1) + location;
  }

  void notify_pods_changed() {
    std::vector<PodInfo> pods;
    PodSource* source = nullptr;
    {
      std::lock_guard lock(mu);
      source = pod_source;
    }
    if (source != nullptr) pods = source->pods();
    std::vector<TargetGroup> groups;
    groups.reserve(pods.size());
    for (const auto& pod : pods) groups.push_back(pod_target_group(pod));
    std::lock_guard lock(mu);
    if (stopped || pod_source != source) return;
    pod_groups = std::move(groups);
    for (auto& [name, pool] : pools) {
      if (pool.settings->config.pod_discovery) sync_pool(name, pool);
    }
  }
};

Scraper::Scraper(net::EventLoop& loop, core::Clock& clock, Storage& storage, ScraperOptions options)
    : impl_(std::make_shared<Impl>(loop, clock, storage, std::move(options))) {}

Scraper::~Scraper() {
  set_pod_source(nullptr);
  stop();
}

core::Status Scraper::apply_config(const CollectConfig& config) {
  std::vector<ScrapeConfig> configs = config.scrape_configs;
  for (const auto& pm : config.pod_monitorings) {
    auto generated = pod_monitoring_scrape_configs(pm, impl_->options.gmp);
    if (!generated) {
      return core::invalid_argument("PodMonitoring " +
                                    core::go_quote(pm.namespace_ + "/" + pm.name) + ": " +
                                    generated.error().message);
    }
    for (auto& c : *generated) configs.push_back(std::move(c));
  }
  return set_scrape_configs(configs);
}

core::Status Scraper::set_scrape_configs(const std::vector<ScrapeConfig>& configs) {
  std::map<std::string, std::shared_ptr<const PoolSettings>> settings;
  for (const auto& c : configs) {
    if (c.scrape_interval <= core::Duration::zero() || c.scrape_timeout <= core::Duration::zero()) {
      return core::invalid_argument("scrape config " + core::go_quote(c.job_name) +
                                    ": scrape_interval and scrape_timeout must be positive");
    }
    if (settings.count(c.job_name)) {
      return core::invalid_argument("found multiple scrape configs with job name " +
                                    core::go_quote(c.job_name));
    }
    auto s = impl_->make_settings(c);
    if (!s) return tl::unexpected(s.error());
    settings[c.job_name] = std::move(*s);
  }
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return {};
  for (auto it = impl_->pools.begin(); it != impl_->pools.end();) {
    if (!settings.count(it->first)) {
      for (auto& [hash, target] : it->second.targets) impl_->retire(target, /*stale=*/true);
      it = impl_->pools.erase(it);
    } else {
      ++it;
    }
  }
  for (auto& [name, s] : settings) {
    auto& pool = impl_->pools[name];
    pool.settings = std::move(s);
    impl_->sync_pool(name, pool);
  }
  return {};
}

void Scraper::set_target_groups(std::string_view job_name, std::vector<TargetGroup> groups) {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return;
  std::string name(job_name);
  impl_->pushed_groups[name] = std::move(groups);
  if (auto it = impl_->pools.find(name); it != impl_->pools.end()) {
    impl_->sync_pool(name, it->second);
  }
}

void Scraper::set_pod_source(PodSource* source) {
  PodSource* old = nullptr;
  PodSource::ListenerId old_id = 0;
  {
    std::lock_guard lock(impl_->mu);
    old = impl_->pod_source;
    old_id = impl_->pod_listener;
    impl_->pod_source = source;
    impl_->pod_listener = 0;
  }
  // Never unsubscribe while holding mu: the source may be notifying into us.
  if (old != nullptr) old->unsubscribe(old_id);
  if (source != nullptr) {
    std::weak_ptr<Impl> weak = impl_;
    auto id = source->subscribe([weak] {
      if (auto impl = weak.lock()) impl->notify_pods_changed();
    });
    {
      std::lock_guard lock(impl_->mu);
      impl_->pod_listener = id;
    }
  }
  impl_->notify_pods_changed();
}

void Scraper::resync_pods() {
  impl_->notify_pods_changed();
}

Scraper::ListenerId Scraper::add_scrape_listener(ScrapeListener listener) {
  std::lock_guard lock(impl_->listeners_mu);
  ListenerId id = impl_->next_listener++;
  impl_->listeners[id] = std::make_shared<const ScrapeListener>(std::move(listener));
  return id;
}

void Scraper::remove_scrape_listener(ListenerId id) {
  std::lock_guard lock(impl_->listeners_mu);
  impl_->listeners.erase(id);
}

std::vector<TargetStatus> Scraper::active_targets() const {
  std::vector<TargetStatus> out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [name, pool] : impl_->pools) {
    std::vector<TargetStatus> pool_targets;
    for (const auto& [hash, t] : pool.targets) {
      TargetStatus s;
      s.scrape_pool = name;
      s.url = t->spec.url;
      s.labels = t->public_labels;
      s.interval = t->spec.interval;
      s.timeout = t->spec.timeout;
      std::lock_guard target_lock(t->mu);
      s.discovered_labels = t->discovered_labels;
      s.health = t->health;
      s.last_error = t->last_error;
      s.last_scrape = t->last_scrape;
      s.last_scrape_duration = t->last_duration;
      pool_targets.push_back(std::move(s));
    }
    std::sort(pool_targets.begin(), pool_targets.end(),
              [](const TargetStatus& a, const TargetStatus& b) { return a.labels < b.labels; });
    for (auto& s : pool_targets) out.push_back(std::move(s));
  }
  return out;
}

std::vector<TargetStatus> Scraper::targets_matching(const Labels& selector) const {
  std::vector<TargetStatus> out;
  for (TargetStatus& s : active_targets()) {
    bool match = true;
    for (Label l : selector) {
      if (s.labels.get(l.name) != l.value) {
        match = false;
        break;
      }
    }
    if (match) out.push_back(std::move(s));
  }
  return out;
}

std::vector<DroppedTarget> Scraper::dropped_targets() const {
  std::vector<DroppedTarget> out;
  std::lock_guard lock(impl_->mu);
  for (const auto& [name, pool] : impl_->pools) {
    out.insert(out.end(), pool.dropped.begin(), pool.dropped.end());
  }
  return out;
}

ScraperStats Scraper::stats() const {
  ScraperStats s;
  {
    std::lock_guard lock(impl_->stats_mu);
    s = impl_->counters;
  }
  std::lock_guard lock(impl_->mu);
  s.scrape_pools = impl_->pools.size();
  for (const auto& [name, pool] : impl_->pools) s.active_targets += pool.targets.size();
  return s;
}

std::size_t Scraper::scrapes_in_flight() const {
  return impl_->in_flight.load();
}

void Scraper::stop() {
  std::lock_guard lock(impl_->mu);
  if (impl_->stopped) return;
  impl_->stopped = true;
  for (auto& [name, pool] : impl_->pools) {
    for (auto& [hash, target] : pool.targets) impl_->retire(target, /*stale=*/false);
  }
}

}  // namespace llmscale::prom
