// Coroutine forms of the Balancer's callbacks, for code running on a net::EventLoop: waiting
// for a lease (with the queue) and waiting for a draining backend to finish its requests.
//
//   // fleet, scaling down pod-3:
//   balancer.set_state("pod-3", router::BackendState::kDraining);
//   auto drained = co_await router::wait_drained(balancer, loop.clock(), "pod-3", grace);
//   balancer.remove_backend("pod-3");   // then SIGTERM
//
// Timeouts run on the given Clock (SimulatedClock in tests). Thread-safety: as Balancer;
// LeaseWait::cancel() may be called from any thread.
#pragma once

#include <memory>
#include <string>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "net/event_loop.h"
#include "router/balancer.h"

namespace llmscale::router {

// Waits until backend `id` has no request in flight, or `timeout` (zero: no limit) passes.
// Returns true when drained, false on timeout; kNotFound for an unknown id.
net::Awaitable<core::Result<bool>> wait_drained(Balancer& balancer, core::Clock& clock,
                                                std::string id, core::Duration timeout);

// One request's wait for a lease, which another party (the client leaving) may cancel.
class LeaseWait {
 public:
  // REQUIRES: `balancer` and `clock` outlive the wait.
  LeaseWait(Balancer& balancer, core::Clock& clock);
  ~LeaseWait();
  LeaseWait(const LeaseWait&) = delete;
  LeaseWait& operator=(const LeaseWait&) = delete;

  // A lease at once, or after waiting in the queue; errors as Balancer::acquire, and
  // kCancelled after cancel(). Call once.
  net::Awaitable<core::Result<Lease>> acquire();
  // Leaves the queue (or makes a later acquire() fail at once). Idempotent.
  void cancel();

 private:
  struct State;
  Balancer& balancer_;
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::router
