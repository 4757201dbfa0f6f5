// AsioClock: the production Clock — wall time, the steady clock for durations, and timers on an
// Asio io_context. Only the event loop creates one (EventLoop::clock()); everything else sees a
// core::Clock&, so the same code runs on a SimulatedClock in tests and the fleet simulator.
//
// Thread-safety: call_after() and cancel() may be called from any thread; callbacks run on a
// thread that runs the io_context.
#pragma once

#include <memory>

#include "core/clock.h"

namespace boost::asio {
class io_context;
}

namespace llmscale::net {

class AsioClock final : public core::Clock {
 public:
  explicit AsioClock(boost::asio::io_context& io);
  ~AsioClock() override;

  core::Time now() const override;
  core::MonotonicTime monotonic_now() const override;
  TimerId call_after(core::Duration delay, Callback callback) override;
  bool cancel(TimerId id) override;

 private:
  struct State;
  boost::asio::io_context& io_;
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::net
