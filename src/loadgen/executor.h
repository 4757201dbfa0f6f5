// Executor: sends one planned request and measures it. The Runner decides what to send and
// when; an Executor only performs. HttpExecutor (http_executor.h) talks to a real server; tests
// use fakes that answer on a SimulatedClock.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/time.h"
#include "loadgen/stats.h"
#include "loadgen/workload.h"
#include "net/event_loop.h"

namespace llmscale::loadgen {

struct PlannedRequest {
  std::uint64_t id = 0;  // unique in the run, in dispatch order
  std::size_t stage = 0;
  bool warmup = false;
  Arrival arrival;
};

class Executor {
 public:
  virtual ~Executor() = default;

  // Sends `request` and measures it. Must complete within `time_left` (the request timeout, or
  // less near a stage's hard deadline) with a result, never an exception: the Runner relies on
  // it to end stages on time (and abandons what is still running a little after that).
  // `request` stays valid until the returned awaitable completes. May be called concurrently.
  virtual net::Awaitable<RequestResult> execute(const PlannedRequest& request,
                                                core::Duration time_left) = 0;
};

}  // namespace llmscale::loadgen
