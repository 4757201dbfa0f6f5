// Balancer: the router's backend set, its balancing policy and its bounded request queue.
//
// The owner (the fleet in `llmscale up`, the `route` command, the fleet simulator) adds and
// removes backends and moves them between states at run time; request handlers take a Lease on
// a backend for the life of one upstream exchange. No I/O: time comes from the injected Clock
// (queue timeouts, ejection expiry, load-signal age), so tests and the simulator drive it with a
// SimulatedClock.
//
// States. kNotReady (starting, failing probes): takes no requests. kReady: takes requests.
// kDraining (being scaled down): takes no new requests; those in flight finish; on_drained()
// (or router::wait_drained) tells when none is left, in_flight() shows the count. A backend is
// added in any state; set_state(kReady) after kNotReady or kDraining puts it back in rotation.
// remove_backend() forgets a backend at once (drain first to let its requests finish: leases
// already taken stay valid and still count on the removed backend).
//
// Queue. When no backend can take a request (none ready, all draining or ejected, or all at
// max_in_flight_per_backend), acquire() queues it, up to max_queue; beyond that the request is
// refused at once (kResourceExhausted: answer 503 with Retry-After). A queued request waits up
// to queue_timeout (kDeadlineExceeded: answer 503, as Knative's activator does for both a full
// queue and a timeout) and is granted in FIFO order as soon as a backend can take it: when one
// becomes ready, a lease is released under the per-backend cap, or an ejection expires. While
// requests are queued, new ones queue behind them (no overtaking).
//
// Passive health (nginx max_fails/fail_timeout): Lease::release_failed() records that the
// backend could not be reached (connection refused or reset before any response byte).
// max_fails consecutive failures eject it for fail_timeout; a successful exchange resets the
// count; set_state(kReady) clears an ejection. While ejected it takes no requests, so a replica
// that died before its probes noticed stops eating retries.
//
// Callbacks (grants, drain notifications) run without the balancer's lock held, possibly
// inside the call that triggered them (acquire, set_state, Lease::release, Clock::advance):
// they should only record the outcome and wake their waiter (router/wait.h does that for
// coroutines).
//
// Thread-safety: one mutex guards the state; methods may be called from several threads as
// long as the Clock accepts call_after/cancel from them (queue and ejection timers are set and
// cancelled inside the calls): with an AsioClock, the threads that run its event loop (so an
// owner on another thread should post() its calls onto the loop); a SimulatedClock, one thread.
// Reads (backends(), in_flight(), stats()) and try_acquire() touch no timer. Leases may be
// released after the Balancer is destroyed.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "router/policy.h"

namespace llmscale::router {

namespace detail {
struct BalancerCore;
struct BackendRecord;
}  // namespace detail

enum class BackendState { kNotReady, kReady, kDraining };

// "not-ready", "ready", "draining".
std::string_view backend_state_name(BackendState state);

struct BalancerOptions {
  PolicyKind policy = PolicyKind::kLeastOutstanding;
  // Requests that may wait for a backend; 0 refuses at once when none can take one.
  std::size_t max_queue = 1024;
  // How long a queued request waits; zero waits until a backend is ready or the client leaves.
  core::Duration queue_timeout = std::chrono::seconds(60);
  // Requests in flight per backend; further ones queue. 0 = no limit (the servers queue).
  std::size_t max_in_flight_per_backend = 0;
  // Load signals older than this are ignored (least-kv-cache falls back); zero keeps them.
  core::Duration max_load_age = std::chrono::seconds(10);
  // Consecutive failures to reach a backend that eject it (nginx max_fails=1); 0 disables.
  std::size_t max_fails = 1;
  // How long an ejected backend takes no requests (nginx fail_timeout=10s).
  core::Duration fail_timeout = std::chrono::seconds(10);
  // Slow start (Envoy's slow_start_window): for this long after a backend becomes ready, its
  // in-flight cap grows linearly from 1 to its steady cap (max_in_flight_per_backend, or
  // slow_start_in_flight when that is 0), so a queue built up during a scale from zero is
  // released at the pace a just-started replica can take and spread over the replicas that
  // become ready after it. Zero disables.
  core::Duration slow_start_window = core::Duration::zero();
  std::size_t slow_start_in_flight = 256;  // vLLM's max_num_seqs (V0; V1 on most GPUs)
};

// kInvalidArgument for negative durations.
core::Status validate(const BalancerOptions& options);

struct BackendStatus {
  std::string id;
  std::string url;
  BackendState state = BackendState::kNotReady;
  std::size_t in_flight = 0;
  // Tokens of the requests in flight, as their leases counted them (Lease::add_tokens; the
  // proxy: prompt words plus the stream's events so far).
  std::uint64_t in_flight_tokens = 0;
  // Ejected by passive health until this time, or nullopt.
  std::optional<core::Time> ejected_until;
  // The last load signal (fresh or not).
  std::optional<LoadSignal> load;
  std::uint64_t requests = 0;  // leases granted
  std::uint64_t failures = 0;  // release_failed() calls
};

struct BalancerStats {
  std::uint64_t granted = 0;        // leases granted (at once or from the queue)
  std::uint64_t queued = 0;         // requests that had to wait
  std::uint64_t rejected_full = 0;  // refused: queue full
  std::uint64_t timed_out = 0;      // gave up waiting after queue_timeout
  std::uint64_t cancelled = 0;      // left the queue by cancel() or shutdown
  std::uint64_t ejections = 0;      // backends ejected by passive health
  std::size_t queue_length = 0;
};

// The right to send one request to one backend. Move-only; releasing (or destroying) it gives
// the slot back. Any thread.
class Lease {
 public:
  Lease();
  ~Lease();
  Lease(Lease&& other) noexcept;
  Lease& operator=(Lease&& other) noexcept;
  Lease(const Lease&) = delete;
  Lease& operator=(const Lease&) = delete;

  bool valid() const { return backend_ != nullptr; }
  // REQUIRES: valid().
  const std::string& backend_id() const;
  // The backend's base URL ("http://127.0.0.1:8001").
  const std::string& url() const;
  // How long the request waited in the queue (zero when granted at once).
  core::Duration queued_for() const { return queued_for_; }
  // Counts `tokens` more for this request on its backend (BackendStatus::in_flight_tokens)
  // until the lease ends. No-op on an invalid lease.
  void add_tokens(std::uint64_t tokens);
  std::uint64_t tokens() const { return tokens_; }

  // Gives the slot back after an exchange (successful as far as reaching the backend goes).
  void release();
  // Gives the slot back and records that the backend could not be reached. Returns true when
  // this failure ejected the backend.
  bool release_failed();

 private:
  friend struct detail::BalancerCore;
  Lease(std::shared_ptr<detail::BalancerCore> core, std::shared_ptr<detail::BackendRecord> backend,
        core::Duration queued_for);
  bool finish(bool failed);

  std::shared_ptr<detail::BalancerCore> core_;
  std::shared_ptr<detail::BackendRecord> backend_;
  core::Duration queued_for_{};
  std::uint64_t tokens_ = 0;
};

class Balancer {
 public:
  using Ticket = std::uint64_t;   // 0: the request did not queue
  using WatchId = std::uint64_t;  // 0: the callback already ran
  using GrantCallback = std::function<void(core::Result<Lease>)>;
  using DrainCallback = std::function<void()>;

  // REQUIRES: validate(options) succeeds; `clock` outlives the Balancer.
  Balancer(core::Clock& clock, BalancerOptions options = {});
  // A custom policy (the simulator's experiments); options.policy is then ignored.
  Balancer(core::Clock& clock, BalancerOptions options, std::unique_ptr<Policy> policy);
  // Queued requests get kCancelled. Outstanding leases stay valid.
  ~Balancer();
  Balancer(const Balancer&) = delete;
  Balancer& operator=(const Balancer&) = delete;

  const BalancerOptions& options() const { return options_; }
  std::string_view policy_name() const;

  // ---- The backend set (the owner's side)

  // kAlreadyExists for a known id; kInvalidArgument for an empty id or a URL that is not
  // http(s)://host:port with no path.
  core::Status add_backend(std::string id, std::string_view url,
                           BackendState state = BackendState::kNotReady);
  // kNotFound for an unknown id.
  core::Status remove_backend(std::string_view id);
  core::Status set_state(std::string_view id, BackendState state);
  // The owner's latest metrics for the backend (least-kv-cache). kInvalidArgument for NaN or
  // negative values.
  core::Status set_load(std::string_view id, const LoadSignal& load);
  core::Result<std::size_t> in_flight(std::string_view id) const;
  core::Result<BackendStatus> backend(std::string_view id) const;
  // In the order added.
  std::vector<BackendStatus> backends() const;
  std::size_t queue_length() const;
  BalancerStats stats() const;

  // Calls `callback` once when the backend has no request in flight: now (inside this call,
  // returning 0) if it has none, else when its last lease is released. For draining: set the
  // state to kDraining first, or new requests keep arriving. kNotFound for an unknown id.
  core::Result<WatchId> on_drained(std::string_view id, DrainCallback callback);
  // Forgets a callback that has not run; false if there is none.
  bool cancel_watch(WatchId watch);

  // ---- Requests (the proxy's side)

  // A lease at once when a backend can take the request and nobody is queued, else nullopt.
  std::optional<Lease> try_acquire();
  // A lease now or later: `callback` runs exactly once (unless cancel() wins) with a lease,
  // kResourceExhausted (queue full), kDeadlineExceeded (queue_timeout passed) or kCancelled
  // (Balancer destroyed). Returns the ticket of a queued request, or 0 when the callback
  // already ran.
  Ticket acquire(GrantCallback callback);
  // Takes a queued request out of the queue; its callback will not run. False when it is not
  // queued (already granted, timed out or cancelled).
  bool cancel(Ticket ticket);

  // Stops taking requests: queued ones get kCancelled ("router shutting down"), later
  // acquire() calls too, try_acquire() returns nullopt. Leases in use stay valid and the owner's
  // calls keep working. Idempotent; the destructor calls it.
  void shutdown();

 private:
  BalancerOptions options_;
  std::shared_ptr<detail::BalancerCore> core_;
};

}  // namespace llmscale::router
