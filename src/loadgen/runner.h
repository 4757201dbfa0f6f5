// Runner: drives the stages of a load run on a core::Clock, hands requests to an Executor and
// aggregates what comes back into StageStats.
//
// Stages run one after another. A stage sends requests until a bound is reached: `requests`
// measured requests, `duration` of measured time (after the warm-up), or the workload running
// out (one burst, the end of a trace); then it waits for its in-flight requests and the next
// stage begins. Warm-up requests (the first `warmup_requests`, and those intended within
// `warmup` of the stage start) are sent like the others but left out of the stage's figures.
//
// Ending on time: with a duration, a stage's hard deadline is start + warmup + duration +
// drain_timeout. Requests get at most the time left until then (and never more than the request
// timeout), so they end by it; whatever still runs shortly after is abandoned and counted as
// "stage deadline" errors. Without a duration the request timeout bounds every request, so a
// stage bounded by `requests` ends too. stop() (SIGINT) ends the current stage the same way as
// reaching its bound and skips the rest.
//
// Closed loop: `concurrency` workers, each taking the next request when its previous one ends.
// Open loop, burst and trace: a scheduler sleeps until each intended send time and starts the
// request; beyond `max_inflight` requests in flight, arrivals queue and start as others finish
// (their wait counts in their latency; see stats.h).
//
// Client threads (shards): the Runner may drive several event loops, each with its own
// Executor (and so its own connections), typically one loop per thread. A closed loop's users
// are spread over them (user u runs on shard u mod N); the open-loop scheduler runs on the first
// shard and keeps the one global schedule, handing arrival k of a stage to shard k mod N to send
// (an arrival queued over max_inflight is sent by whichever request frees the slot). Request
// ids and the workload draws behind them are assigned in one sequence under the Runner's lock,
// so request k carries the same sizes and prompt for any shard count. Each shard records into
// its own StageStats; stages() merges them (exactly: counts, histograms and timelines add).
//
// Threads: the Runner's state is guarded by a mutex, and each shard's figures by their own (a
// request is recorded without holding the Runner's lock), so shards may run on any threads. A
// SimulatedClock requires every shard's loop to be driven from one thread (tests poll them in
// turn). The Runner must outlive the run (done()).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/time.h"
#include "loadgen/executor.h"
#include "loadgen/stats.h"
#include "loadgen/workload.h"
#include "net/event_loop.h"

namespace llmscale::loadgen {

struct StageSpec {
  std::string name;  // defaults to workload.describe()
  WorkloadSpec workload;
  std::optional<std::uint64_t> requests;   // measured requests
  std::optional<core::Duration> duration;  // measured time, after the warm-up
  std::uint64_t warmup_requests = 0;
  core::Duration warmup{};
  core::Duration drain_timeout = std::chrono::seconds(60);
};

struct RunOptions {
  std::vector<StageSpec> stages;
  std::size_t max_inflight = 10000;  // open loop, burst and trace
  core::Duration request_timeout = std::chrono::minutes(10);
  core::Duration interval = std::chrono::seconds(1);  // timeline buckets
  std::uint64_t seed = 1;
  Slo slo;
  bool keep_rows = false;  // per-request rows (--requests-csv)
  // Extra time after a stage's hard deadline before in-flight requests are abandoned.
  core::Duration abandon_grace = std::chrono::seconds(2);
};

// Checks bounds and workloads; "stage 2 (rate=5/s poisson): --rate must be > 0".
core::Status validate_run(const RunOptions& options);

struct Progress {
  std::size_t stage = 0;  // index of the current (or last) stage
  std::size_t stages = 0;
  std::string stage_name;
  core::Duration stage_elapsed{};
  std::uint64_t sent = 0;
  std::uint64_t completed = 0;  // succeeded or failed, warm-up included
  std::uint64_t errors = 0;
  std::uint64_t in_flight = 0;
  std::uint64_t queued = 0;
  std::uint64_t succeeded_measured = 0;
  bool done = false;
};

// One client event loop and the Executor whose requests run on it.
struct RunnerShard {
  net::EventLoop* loop = nullptr;
  Executor* executor = nullptr;
};

class Runner {
 public:
  Runner(net::EventLoop& loop, core::Clock& clock, Executor& executor, RunOptions options);
  // REQUIRES: at least one shard. `clock` times every shard (timers fire on any loop thread).
  Runner(std::vector<RunnerShard> shards, core::Clock& clock, RunOptions options);
  ~Runner();
  Runner(const Runner&) = delete;
  Runner& operator=(const Runner&) = delete;

  // Called once when the last stage ends, on a loop thread. Set before start().
  void on_done(std::function<void()> callback);
  // Begins the first stage. Call once, from the loop's thread or before it runs.
  void start();
  // Ends the current stage early and skips the rest. Any thread.
  void stop();

  bool done() const;
  Progress progress() const;
  // When start() was called (clock time).
  core::Time started_at() const;
  // The stages begun so far, with their figures (complete once done()).
  std::vector<StageStats> stages() const;

 private:
  struct State;
  std::shared_ptr<State> state_;
};

}  // namespace llmscale::loadgen
