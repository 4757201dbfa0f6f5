// Balancer: backend records, leases, the FIFO queue with its timers, passive-health ejection.
#include "router/balancer.h"

#include <algorithm>
#include <cmath>
#include <list>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "core/duration.h"
#include "net/url.h"

namespace llmscale::router {

namespace detail {

struct BackendRecord {
  std::string id;
  std::string url;
  BackendState state = BackendState::kNotReady;
  std::size_t in_flight = 0;
  std::uint64_t in_flight_tokens = 0;  // Σ Lease::add_tokens of the leases in flight
  std::optional<LoadSignal> load;
  std::size_t in_flight_at_load = 0;
  std::size_t consecutive_failures = 0;
  std::optional<core::Time> ejected_until;
  core::Clock::TimerId eject_timer = 0;
  // When it last became ready (slow start).
  std::optional<core::Time> ready_since;
  std::uint64_t requests = 0;
  std::uint64_t failures = 0;
  std::vector<std::pair<Balancer::WatchId, Balancer::DrainCallback>> drain_watchers;
  bool removed = false;
};

// Callbacks decided under the lock and run after it is released.
struct Deferred {
  std::vector<std::pair<Balancer::GrantCallback, core::Result<Lease>>> grants;
  std::vector<Balancer::DrainCallback> drains;

  void run() {
    for (auto& [callback, result] : grants) callback(std::move(result));
    for (auto& callback : drains) callback();
  }
};

struct BalancerCore : std::enable_shared_from_this<BalancerCore> {
  BalancerCore(core::Clock& c, BalancerOptions o, std::unique_ptr<Policy> p)
      : clock(c), options(o), policy(std::move(p)) {}

  struct Waiting {
    Balancer::Ticket ticket = 0;
    Balancer::GrantCallback callback;
    core::Time enqueued_at;
    core::Clock::TimerId timer = 0;
  };

  core::Clock& clock;
  const BalancerOptions options;
  std::unique_ptr<Policy> policy;

  mutable std::mutex mutex;
  std::vector<std::shared_ptr<BackendRecord>> backends;
  std::list<Waiting> queue;
  std::unordered_map<Balancer::Ticket, std::list<Waiting>::iterator> queued;
  std::unordered_map<Balancer::WatchId, std::weak_ptr<BackendRecord>> watches;
  Balancer::Ticket next_ticket = 1;
  Balancer::WatchId next_watch = 1;
  BalancerStats stats;
  bool closed = false;
  // Re-dispatches the queue while a backend's slow-start cap grows.
  core::Clock::TimerId slow_start_timer = 0;
  // Reused by pick_locked() so a pick does not allocate.
  std::vector<Candidate> candidates;
  std::vector<std::size_t> candidate_index;

  std::shared_ptr<BackendRecord> find_locked(std::string_view id) const {
    for (const auto& b : backends) {
      if (b->id == id) return b;
    }
    return nullptr;
  }

  bool in_slow_start(const BackendRecord& b, core::Time now) const {
    return options.slow_start_window > core::Duration::zero() && b.ready_since &&
           now - *b.ready_since < options.slow_start_window;
  }

  bool can_take(const BackendRecord& b, core::Time now) const {
    if (b.state != BackendState::kReady) return false;
    if (b.ejected_until && now < *b.ejected_until) return false;
    if (in_slow_start(b, now)) {
      std::size_t steady = options.max_in_flight_per_backend != 0
                               ? options.max_in_flight_per_backend
                               : options.slow_start_in_flight;
      double elapsed =
          core::to_seconds(now - *b.ready_since) / core::to_seconds(options.slow_start_window);
      auto cap = static_cast<std::size_t>(std::ceil(double(steady) * elapsed));
      return b.in_flight < std::max<std::size_t>(cap, 1);
    }
    return options.max_in_flight_per_backend == 0 ||
           b.in_flight < options.max_in_flight_per_backend;
  }

  void became_ready_locked(BackendRecord& b) { b.ready_since = clock.now(); }

  bool fresh(const LoadSignal& load, core::Time now) const {
    return options.max_load_age <= core::Duration::zero() ||
           now - load.observed_at <= options.max_load_age;
  }

  // The backend the policy picks among those that can take a request now, or null.
  std::shared_ptr<BackendRecord> pick_locked(core::Time now) {
    candidates.clear();
    candidate_index.clear();
    for (std::size_t i = 0; i < backends.size(); ++i) {
      const BackendRecord& b = *backends[i];
      if (!can_take(b, now)) continue;
      Candidate c;
      c.in_flight = b.in_flight;
      if (b.load && fresh(*b.load, now)) {
        c.load = b.load;
        c.in_flight_at_load = b.in_flight_at_load;
      }
      candidates.push_back(c);
      candidate_index.push_back(i);
    }
    if (candidates.empty()) return nullptr;
    std::size_t chosen = policy->pick(candidates);
    if (chosen >= candidates.size()) chosen = 0;  // a misbehaving custom policy
    return backends[candidate_index[chosen]];
  }

  Lease grant_locked(const std::shared_ptr<BackendRecord>& b, core::Duration queued_for) {
    ++b->in_flight;
    ++b->requests;
    ++stats.granted;
    return Lease(shared_from_this(), b, queued_for);
  }

  // Grants queued requests, oldest first, while some backend can take one.
  void dispatch_locked(Deferred& deferred) {
    if (queue.empty()) return;
    core::Time now = clock.now();
    while (!queue.empty()) {
      auto backend = pick_locked(now);
      if (!backend) break;
      Waiting waiting = std::move(queue.front());
      queue.pop_front();
      queued.erase(waiting.ticket);
      if (waiting.timer != 0) clock.cancel(waiting.timer);
      deferred.grants.emplace_back(std::move(waiting.callback),
                                   grant_locked(backend, now - waiting.enqueued_at));
    }
    // Requests still wait while a slow-starting backend's cap grows: look again soon (a twentieth
    // of the window), as nothing else (a release, a state change) may come.
    if (queue.empty() || slow_start_timer != 0) return;
    bool growing = false;
    for (const auto& b : backends)
      growing = growing || (b->state == BackendState::kReady && in_slow_start(*b, now));
    if (!growing) return;
    std::weak_ptr<BalancerCore> weak = shared_from_this();
    core::Duration tick =
        std::max<core::Duration>(options.slow_start_window / 20, std::chrono::milliseconds(10));
    slow_start_timer = clock.call_after(tick, [weak] {
      if (auto core = weak.lock()) core->on_slow_start_tick();
    });
  }

  void on_slow_start_tick() {
    Deferred deferred;
    {
      std::lock_guard lock(mutex);
      slow_start_timer = 0;
      if (closed) return;
      dispatch_locked(deferred);
    }
    deferred.run();
  }

  void on_queue_timeout(Balancer::Ticket ticket) {
    Balancer::GrantCallback callback;
    {
      std::lock_guard lock(mutex);
      auto it = queued.find(ticket);
      if (it == queued.end()) return;
      callback = std::move(it->second->callback);
      queue.erase(it->second);
      queued.erase(it);
      ++stats.timed_out;
    }
    callback(core::make_error(core::ErrorCode::kDeadlineExceeded,
                              "queue timeout: no backend could take the request within " +
                                  core::format_go_duration(options.queue_timeout)));
  }

  void on_ejection_over() {
    Deferred deferred;
    {
      std::lock_guard lock(mutex);
      if (closed) return;
      dispatch_locked(deferred);
    }
    deferred.run();
  }

  void eject_locked(BackendRecord& b, core::Time now) {
    b.ejected_until = now + options.fail_timeout;
    b.consecutive_failures = 0;
    ++stats.ejections;
    if (b.eject_timer != 0) clock.cancel(b.eject_timer);
    std::weak_ptr<BalancerCore> weak = shared_from_this();
    b.eject_timer = clock.call_after(options.fail_timeout, [weak] {
      if (auto core = weak.lock()) core->on_ejection_over();
    });
  }

  void clear_ejection_locked(BackendRecord& b) {
    if (b.eject_timer != 0) clock.cancel(b.eject_timer);
    b.eject_timer = 0;
    b.ejected_until.reset();
    b.consecutive_failures = 0;
  }

  // A lease ends. Returns whether a failure ejected the backend.
  bool release(const std::shared_ptr<BackendRecord>& b, bool failed, std::uint64_t tokens) {
    Deferred deferred;
    bool ejected = false;
    {
      std::lock_guard lock(mutex);
      if (b->in_flight > 0) --b->in_flight;
      b->in_flight_tokens -= std::min(b->in_flight_tokens, tokens);
      if (failed) {
        ++b->failures;
        ++b->consecutive_failures;
        core::Time now = clock.now();
        bool already = b->ejected_until && now < *b->ejected_until;
        if (!closed && !b->removed && options.max_fails > 0 &&
            options.fail_timeout > core::Duration::zero() &&
            b->consecutive_failures >= options.max_fails && !already) {
          eject_locked(*b, now);
          ejected = true;
        }
      } else {
        b->consecutive_failures = 0;
      }
      if (b->in_flight == 0) {
        for (auto& [watch, callback] : b->drain_watchers) {
          watches.erase(watch);
          deferred.drains.push_back(std::move(callback));
        }
        b->drain_watchers.clear();
      }
      if (!closed) dispatch_locked(deferred);
    }
    deferred.run();
    return ejected;
  }

  static BackendStatus status_of(const BackendRecord& b) {
    BackendStatus s;
    s.id = b.id;
    s.url = b.url;
    s.state = b.state;
    s.in_flight = b.in_flight;
    s.in_flight_tokens = b.in_flight_tokens;
    s.ejected_until = b.ejected_until;
    s.load = b.load;
    s.requests = b.requests;
    s.failures = b.failures;
    return s;
  }
};

}  // namespace detail

using detail::BackendRecord;
using detail::BalancerCore;
using detail::Deferred;

std::string_view backend_state_name(BackendState state) {
  switch (state) {
    case BackendState::kNotReady: return "not-ready";
    case BackendState::kReady: return "ready";
    case BackendState::kDraining: return "draining";
  }
  return "unknown";
}

core::Status validate(const BalancerOptions& options) {
  auto negative = [](core::Duration d) { return d < core::Duration::zero(); };
  if (negative(options.queue_timeout)) return core::invalid_argument("queue timeout is negative");
  if (negative(options.max_load_age)) return core::invalid_argument("max load age is negative");
  if (negative(options.fail_timeout)) return core::invalid_argument("fail timeout is negative");
  if (negative(options.slow_start_window)) {
    return core::invalid_argument("slow start window is negative");
  }
  if (options.slow_start_in_flight == 0) {
    return core::invalid_argument("slow start in-flight must be at least 1");
  }
  return {};
}

// ---------------------------------------------------------------------------------------------
// Lease

Lease::Lease() = default;

Lease::Lease(std::shared_ptr<BalancerCore> core, std::shared_ptr<BackendRecord> backend,
             core::Duration queued_for)
    : core_(std::move(core)), backend_(std::move(backend)), queued_for_(queued_for) {}

Lease::~Lease() {
  release();
}

Lease::Lease(Lease&& other) noexcept
    : core_(std::move(other.core_)),
      backend_(std::move(other.backend_)),
      queued_for_(other.queued_for_),
      tokens_(std::exchange(other.tokens_, 0)) {}

Lease& Lease::operator=(Lease&& other) noexcept {
  if (this != &other) {
    release();
    core_ = std::move(other.core_);
    backend_ = std::move(other.backend_);
    queued_for_ = other.queued_for_;
    tokens_ = std::exchange(other.tokens_, 0);
  }
  return *this;
}

const std::string& Lease::backend_id() const {
  return backend_->id;
}

const std::string& Lease::url() const {
  return backend_->url;
}

void Lease::add_tokens(std::uint64_t tokens) {
  if (!backend_ || tokens == 0) return;
  std::lock_guard lock(core_->mutex);
  backend_->in_flight_tokens += tokens;
  tokens_ += tokens;
}

void Lease::release() {
  finish(false);
}

bool Lease::release_failed() {
  return finish(true);
}

bool Lease::finish(bool failed) {
  if (!backend_) return false;
  auto core = std::move(core_);
  auto backend = std::move(backend_);
  core_.reset();
  backend_.reset();
  return core->release(backend, failed, std::exchange(tokens_, 0));
}

// ---------------------------------------------------------------------------------------------
// Balancer

Balancer::Balancer(core::Clock& clock, BalancerOptions options)
    : Balancer(clock, options, make_policy(options.policy)) {}

Balancer::Balancer(core::Clock& clock, BalancerOptions options, std::unique_ptr<Policy> policy)
    : options_(options), core_(std::make_shared<BalancerCore>(clock, options, std::move(policy))) {}

Balancer::~Balancer() {
  shutdown();
  std::lock_guard lock(core_->mutex);
  for (auto& b : core_->backends) {
    if (b->eject_timer != 0) core_->clock.cancel(b->eject_timer);
    b->eject_timer = 0;
    b->drain_watchers.clear();
  }
  if (core_->slow_start_timer != 0) core_->clock.cancel(core_->slow_start_timer);
  core_->slow_start_timer = 0;
  core_->watches.clear();
}

void Balancer::shutdown() {
  std::vector<GrantCallback> cancelled;
  {
    std::lock_guard lock(core_->mutex);
    core_->closed = true;
    for (auto& waiting : core_->queue) {
      if (waiting.timer != 0) core_->clock.cancel(waiting.timer);
      cancelled.push_back(std::move(waiting.callback));
    }
    core_->stats.cancelled += core_->queue.size();
    core_->queue.clear();
    core_->queued.clear();
  }
  for (auto& callback : cancelled) {
    callback(core::make_error(core::ErrorCode::kCancelled, "router shutting down"));
  }
}

std::string_view Balancer::policy_name() const {
  return core_->policy->name();
}

core::Status Balancer::add_backend(std::string id, std::string_view url, BackendState state) {
  if (id.empty()) return core::invalid_argument("backend id is empty");
  auto parsed = net::parse_url(url);
  if (!parsed) {
    return core::invalid_argument("backend " + id + ": " + parsed.error().message);
  }
  if (parsed->path != "/" || !parsed->query.empty() || !parsed->userinfo.empty()) {
    return core::invalid_argument("backend " + id + ": URL \"" + std::string(url) +
                                  "\" must be scheme://host:port with no path or query");
  }
  auto record = std::make_shared<BackendRecord>();
  record->id = std::move(id);
  record->url = parsed->scheme + "://" + parsed->authority();
  record->state = state;
  if (state == BackendState::kReady) record->ready_since = core_->clock.now();
  Deferred deferred;
  {
    std::lock_guard lock(core_->mutex);
    if (core_->find_locked(record->id)) {
      return core::make_error(core::ErrorCode::kAlreadyExists,
                              "backend " + record->id + " already exists");
    }
    core_->backends.push_back(std::move(record));
    core_->dispatch_locked(deferred);
  }
  deferred.run();
  return {};
}

core::Status Balancer::remove_backend(std::string_view id) {
  std::lock_guard lock(core_->mutex);
  auto it = std::find_if(core_->backends.begin(), core_->backends.end(),
                         [&](const auto& b) { return b->id == id; });
  if (it == core_->backends.end()) {
    return core::make_error(core::ErrorCode::kNotFound,
                            "backend " + std::string(id) + " not found");
  }
  BackendRecord& b = **it;
  b.removed = true;
  if (b.eject_timer != 0) core_->clock.cancel(b.eject_timer);
  b.eject_timer = 0;
  // Drain watchers stay: they fire when the leases still out are released.
  core_->backends.erase(it);
  return {};
}

core::Status Balancer::set_state(std::string_view id, BackendState state) {
  Deferred deferred;
  {
    std::lock_guard lock(core_->mutex);
    auto b = core_->find_locked(id);
    if (!b) {
      return core::make_error(core::ErrorCode::kNotFound,
                              "backend " + std::string(id) + " not found");
    }
    if (b->state == state) return {};
    b->state = state;
    // The owner vouches for it again (a restarted replica passed its probes).
    if (state == BackendState::kReady) {
      core_->clear_ejection_locked(*b);
      core_->became_ready_locked(*b);
    }
    core_->dispatch_locked(deferred);
  }
  deferred.run();
  return {};
}

core::Status Balancer::set_load(std::string_view id, const LoadSignal& load) {
  if (!std::isfinite(load.kv_cache_usage) || !std::isfinite(load.queue_length) ||
      load.kv_cache_usage < 0 || load.queue_length < 0) {
    return core::invalid_argument("backend " + std::string(id) +
                                  ": load signal values must be finite and >= 0");
  }
  std::lock_guard lock(core_->mutex);
  auto b = core_->find_locked(id);
  if (!b) {
    return core::make_error(core::ErrorCode::kNotFound,
                            "backend " + std::string(id) + " not found");
  }
  b->load = load;
  b->in_flight_at_load = b->in_flight;
  return {};
}

core::Result<std::size_t> Balancer::in_flight(std::string_view id) const {
  auto status = backend(id);
  if (!status) return tl::unexpected(status.error());
  return status->in_flight;
}

core::Result<BackendStatus> Balancer::backend(std::string_view id) const {
  std::lock_guard lock(core_->mutex);
  auto b = core_->find_locked(id);
  if (!b) {
    return core::make_error(core::ErrorCode::kNotFound,
                            "backend " + std::string(id) + " not found");
  }
  return BalancerCore::status_of(*b);
}

std::vector<BackendStatus> Balancer::backends() const {
  std::lock_guard lock(core_->mutex);
  std::vector<BackendStatus> out;
  out.reserve(core_->backends.size());
  for (const auto& b : core_->backends) out.push_back(BalancerCore::status_of(*b));
  return out;
}

std::size_t Balancer::queue_length() const {
  std::lock_guard lock(core_->mutex);
  return core_->queue.size();
}

BalancerStats Balancer::stats() const {
  std::lock_guard lock(core_->mutex);
  BalancerStats s = core_->stats;
  s.queue_length = core_->queue.size();
  return s;
}

core::Result<Balancer::WatchId> Balancer::on_drained(std::string_view id, DrainCallback callback) {
  {
    std::lock_guard lock(core_->mutex);
    auto b = core_->find_locked(id);
    if (!b) {
      return core::make_error(core::ErrorCode::kNotFound,
                              "backend " + std::string(id) + " not found");
    }
    if (b->in_flight > 0) {
      WatchId watch = core_->next_watch++;
      b->drain_watchers.emplace_back(watch, std::move(callback));
      core_->watches.emplace(watch, b);
      return watch;
    }
  }
  callback();
  return WatchId{0};
}

bool Balancer::cancel_watch(WatchId watch) {
  std::lock_guard lock(core_->mutex);
  auto it = core_->watches.find(watch);
  if (it == core_->watches.end()) return false;
  auto b = it->second.lock();
  core_->watches.erase(it);
  if (!b) return false;
  auto& watchers = b->drain_watchers;
  auto w = std::find_if(watchers.begin(), watchers.end(),
                        [&](const auto& entry) { return entry.first == watch; });
  if (w == watchers.end()) return false;
  watchers.erase(w);
  return true;
}

std::optional<Lease> Balancer::try_acquire() {
  std::lock_guard lock(core_->mutex);
  if (core_->closed || !core_->queue.empty()) return std::nullopt;
  auto b = core_->pick_locked(core_->clock.now());
  if (!b) return std::nullopt;
  return core_->grant_locked(b, core::Duration::zero());
}

Balancer::Ticket Balancer::acquire(GrantCallback callback) {
  core::Result<Lease> now_result = core::make_error(core::ErrorCode::kInternal, "");
  {
    std::lock_guard lock(core_->mutex);
    if (core_->closed) {
      now_result = core::make_error(core::ErrorCode::kCancelled, "router shutting down");
    } else if (auto b = core_->queue.empty() ? core_->pick_locked(core_->clock.now()) : nullptr) {
      now_result = core_->grant_locked(b, core::Duration::zero());
    } else if (core_->queue.size() >= core_->options.max_queue) {
      ++core_->stats.rejected_full;
      now_result = core::make_error(core::ErrorCode::kResourceExhausted,
                                    "queue full: " + std::to_string(core_->queue.size()) +
                                        " requests already wait for a backend");
    } else {
      Ticket ticket = core_->next_ticket++;
      BalancerCore::Waiting waiting;
      waiting.ticket = ticket;
      waiting.callback = std::move(callback);
      waiting.enqueued_at = core_->clock.now();
      if (core_->options.queue_timeout > core::Duration::zero()) {
        std::weak_ptr<BalancerCore> weak = core_;
        waiting.timer = core_->clock.call_after(core_->options.queue_timeout, [weak, ticket] {
          if (auto core = weak.lock()) core->on_queue_timeout(ticket);
        });
      }
      core_->queue.push_back(std::move(waiting));
      core_->queued.emplace(ticket, std::prev(core_->queue.end()));
      ++core_->stats.queued;
      return ticket;
    }
  }
  callback(std::move(now_result));
  return 0;
}

bool Balancer::cancel(Ticket ticket) {
  std::lock_guard lock(core_->mutex);
  auto it = core_->queued.find(ticket);
  if (it == core_->queued.end()) return false;
  if (it->second->timer != 0) core_->clock.cancel(it->second->timer);
  core_->queue.erase(it->second);
  core_->queued.erase(it);
  ++core_->stats.cancelled;
  return true;
}

}  // namespace llmscale::router
