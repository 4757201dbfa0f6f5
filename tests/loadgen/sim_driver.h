// Drives an EventLoop whose coroutines wait on a SimulatedClock: runs every ready handler, then
// jumps the clock to its next timer, until a condition holds. Deterministic and sleep-free.
#pragma once

#include <functional>

#include "core/clock.h"
#include "net/event_loop.h"

namespace llmscale::loadgen::testing {

inline bool simulate(net::EventLoop& loop, core::SimulatedClock& clock,
                     const std::function<bool()>& done, int max_steps = 10'000'000) {
  for (int step = 0; step < max_steps; ++step) {
    loop.poll();
    if (done()) return true;
    if (!clock.run_next()) {
      if (loop.poll() == 0) return done();
    }
  }
  return false;
}

}  // namespace llmscale::loadgen::testing
