// wait_drained and LeaseWait: Balancer callbacks bridged to coroutines through detail::Wakeup.
#include "router/wait.h"

#include <mutex>
#include <optional>

#include "router/detail/wakeup.h"

namespace llmscale::router {

net::Awaitable<core::Result<bool>> wait_drained(Balancer& balancer, core::Clock& clock,
                                                std::string id, core::Duration timeout) {
  detail::Wakeup wakeup(clock);
  auto waker = wakeup.waker();
  auto watch = balancer.on_drained(id, [waker] { waker.wake(); });
  if (!watch) co_return tl::unexpected(watch.error());
  bool drained = co_await wakeup.wait(timeout);
  if (!drained) balancer.cancel_watch(*watch);
  co_return drained;
}

struct LeaseWait::State {
  explicit State(core::Clock& clock) : wakeup(clock) {}

  detail::Wakeup wakeup;
  std::mutex mutex;
  bool cancelled = false;
  Balancer::Ticket ticket = 0;
  std::optional<core::Result<Lease>> result;
};

LeaseWait::LeaseWait(Balancer& balancer, core::Clock& clock)
    : balancer_(balancer), state_(std::make_shared<State>(clock)) {}

LeaseWait::~LeaseWait() {
  cancel();
}

net::Awaitable<core::Result<Lease>> LeaseWait::acquire() {
  auto state = state_;
  {
    std::lock_guard lock(state->mutex);
    if (state->cancelled) co_return core::make_error(core::ErrorCode::kCancelled, "cancelled");
  }
  auto waker = state->wakeup.waker();
  std::weak_ptr<State> weak = state;
  Balancer::Ticket ticket = balancer_.acquire([weak, waker](core::Result<Lease> result) {
    auto s = weak.lock();
    if (!s) return;  // the waiter is gone; dropping the lease releases it
    {
      std::lock_guard lock(s->mutex);
      s->result = std::move(result);
      s->ticket = 0;  // no longer queued: cancel() must not touch the balancer (it may be gone)
    }
    waker.wake();
  });
  bool cancel_now = false;
  {
    std::lock_guard lock(state->mutex);
    if (!state->result) state->ticket = ticket;
    cancel_now = state->cancelled && state->ticket != 0;
  }
  // cancel() ran between the check above and the ticket being known.
  if (cancel_now && balancer_.cancel(ticket)) {
    co_return core::make_error(core::ErrorCode::kCancelled, "cancelled");
  }
  co_await state->wakeup.wait(core::Duration::zero());
  std::lock_guard lock(state->mutex);
  if (!state->result) co_return core::make_error(core::ErrorCode::kCancelled, "cancelled");
  co_return std::move(*state->result);
}

void LeaseWait::cancel() {
  Balancer::Ticket ticket = 0;
  {
    std::lock_guard lock(state_->mutex);
    if (state_->cancelled) return;
    state_->cancelled = true;
    ticket = state_->ticket;
  }
  if (ticket != 0 && balancer_.cancel(ticket)) state_->wakeup.wake();
}

}  // namespace llmscale::router
