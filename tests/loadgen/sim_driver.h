// Drives an EventLoop whose coroutines wait on a SimulatedClock: runs every ready handler, then
// jumps the clock to its next timer, until a condition holds. Deterministic and sleep-free.
// Several loops may be driven together (one thread polls them in turn).
#pragma once

#include <functional>
#include <vector>

#include "core/clock.h"
#include "net/event_loop.h"

namespace llmscale::loadgen::testing {

// Several loops (the Runner's client shards) on one thread and one clock: each step polls them
// all in order.
inline bool simulate(const std::vector<net::EventLoop*>& loops, core::SimulatedClock& clock,
                     const std::function<bool()>& done, int max_steps = 10'000'000) {
  auto poll_all = [&] {
    std::size_t ran = 0;
    for (net::EventLoop* loop : loops) ran += loop->poll();
    return ran;
  };
  for (int step = 0; step < max_steps; ++step) {
    poll_all();
    if (done()) return true;
    if (!clock.run_next()) {
      if (poll_all() == 0) return done();
    }
  }
  return false;
}

inline bool simulate(net::EventLoop& loop, core::SimulatedClock& clock,
                     const std::function<bool()>& done, int max_steps = 10'000'000) {
  return simulate(std::vector<net::EventLoop*>{&loop}, clock, done, max_steps);
}

}  // namespace llmscale::loadgen::testing
