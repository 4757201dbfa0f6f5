// Stage scheduling: closed-loop workers, the open-loop scheduler, queueing over max_inflight,
// stage ends and hard deadlines (see runner.h).
#include "loadgen/runner.h"
#include "core/hash.h"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <deque>
#include <exception>
#include <mutex>

#include "core/log.h"

namespace llmscale::loadgen {
namespace {

// The open-loop scheduler sleeps in slices no longer than this, so stop() takes effect soon
// even across a long gap in a trace.
constexpr core::Duration kMaxSleepSlice = std::chrono::milliseconds(250);

}  // namespace

core::Status validate_run(const RunOptions& options) {
  if (options.stages.empty()) return core::invalid_argument("no stage to run");
  if (options.max_inflight < 1) return core::invalid_argument("--max-inflight must be >= 1");
  if (options.request_timeout <= core::Duration::zero()) {
    return core::invalid_argument("--request-timeout must be > 0");
  }
  for (std::size_t i = 0; i < options.stages.size(); ++i) {
    const StageSpec& stage = options.stages[i];
    std::string where = "stage " + std::to_string(i + 1) + " (" +
                        (stage.name.empty() ? stage.workload.describe() : stage.name) + ")";
    if (auto status = validate_workload(stage.workload); !status) {
      return core::with_context(status.error(), where);
    }
    if (stage.requests && *stage.requests == 0) {
      return core::invalid_argument(where + ": --requests must be >= 1");
    }
    if (stage.duration && *stage.duration <= core::Duration::zero()) {
      return core::invalid_argument(where + ": --duration must be > 0");
    }
    if (stage.warmup < core::Duration::zero() || stage.drain_timeout < core::Duration::zero()) {
      return core::invalid_argument(where + ": --warmup and --drain-timeout must not be negative");
    }
    bool bounded_workload = stage.workload.kind == WorkloadKind::kTrace ||
                            (stage.workload.kind == WorkloadKind::kBurst &&
                             stage.workload.burst_interval <= core::Duration::zero());
    if (!stage.requests && !stage.duration && !bounded_workload) {
      return core::invalid_argument(where + ": needs --requests or --duration to stop");
    }
  }
  return {};
}

struct Runner::State : std::enable_shared_from_this<Runner::State> {
  // One shard's figures for one stage, under their own lock so that recording a request (the
  // costly part: histograms, one value per ITL) does not hold the Runner's lock. Lock order:
  // the Runner's lock, then a shard's; never the other way.
  struct ShardStats {
    explicit ShardStats(const StageStats& s) : stats(s) {}
    std::mutex mutex;
    StageStats stats;
    bool closed = false;  // the stage was abandoned: later completions are not recorded
    std::uint64_t recorded_measured = 0;
    std::uint64_t recorded_warmup = 0;
  };

  struct Stage {
    Stage(const StageSpec& s, std::uint64_t seed, const StageStats& stats, std::size_t shards)
        : spec(s), generator(spec.workload, seed), stats(stats) {
      for (std::size_t i = 0; i < shards; ++i) {
        shard_stats.push_back(std::make_unique<ShardStats>(stats));
      }
    }
    StageSpec spec;
    ArrivalGenerator generator;  // refers to spec.workload
    // Bounds, abandoned requests; what the shards recorded is in shard_stats (see merged()).
    StageStats stats;
    std::vector<std::unique_ptr<ShardStats>> shard_stats;
    std::uint64_t succeeded_measured = 0;
    // Requests whose completion the Runner has counted (below the shards' recorded counts while
    // a completion is between its shard's record and the Runner's count).
    std::uint64_t counted_measured = 0;
    std::uint64_t counted_warmup = 0;
    core::Time start{};
    std::optional<core::Time> hard_deadline;
    core::Clock::TimerId abandon_timer = 0;
    std::uint64_t dispatched = 0;
    std::uint64_t measured_dispatched = 0;
    std::uint64_t in_flight_measured = 0;
    std::uint64_t in_flight_warmup = 0;
    std::uint64_t completed = 0;
    std::uint64_t errors = 0;
    std::deque<PlannedRequest> queued;
    bool dispatch_closed = false;
    bool finished = false;

    std::uint64_t in_flight() const { return in_flight_measured + in_flight_warmup; }

    StageStats merged() const {
      StageStats out = stats;
      for (const auto& shard : shard_stats) {
        std::lock_guard lock(shard->mutex);
        out.merge(shard->stats);
      }
      return out;
    }
  };

  State(std::vector<RunnerShard> s, core::Clock& c, RunOptions o)
      : shards(std::move(s)), clock(c), options(std::move(o)) {}

  std::vector<RunnerShard> shards;
  core::Clock& clock;
  RunOptions options;

  mutable std::mutex mutex;
  std::vector<std::unique_ptr<Stage>> stages;
  core::Time run_start{};
  std::uint64_t next_id = 0;
  bool stopping = false;
  std::atomic<bool> finished_run{false};
  std::function<void()> on_done;

  // --- under the lock ---

  bool out_of_bounds(Stage& stage, core::Duration offset) const {
    const StageSpec& spec = stage.spec;
    if (stopping) return true;
    if (spec.requests && stage.measured_dispatched >= *spec.requests) return true;
    if (spec.duration && offset >= spec.warmup + *spec.duration) return true;
    return false;
  }

  PlannedRequest plan(Stage& stage, std::size_t index, Arrival arrival) {
    PlannedRequest request;
    request.id = next_id++;
    request.stage = index;
    request.warmup =
        stage.dispatched < stage.spec.warmup_requests || arrival.offset < stage.spec.warmup;
    request.arrival = arrival;
    ++stage.dispatched;
    if (request.warmup) {
      ++stage.in_flight_warmup;
    } else {
      ++stage.measured_dispatched;
      ++stage.in_flight_measured;
    }
    return request;
  }

  // Closed loop: the next request for a worker, or nothing when the stage stops dispatching.
  std::optional<PlannedRequest> take_closed(Stage& stage, std::size_t index) {
    if (stage.dispatch_closed || stage.finished) return std::nullopt;
    core::Duration elapsed = clock.now() - stage.start;
    std::optional<Arrival> arrival;
    if (!out_of_bounds(stage, elapsed)) arrival = stage.generator.next();
    if (!arrival) {
      stage.dispatch_closed = true;
      return std::nullopt;
    }
    arrival->offset = elapsed;
    return plan(stage, index, *arrival);
  }

  // Marks the stage finished when nothing is left; returns true when the caller must advance
  // to the next stage (outside the lock).
  bool maybe_finish(Stage& stage) {
    if (stage.finished || !stage.dispatch_closed || stage.in_flight() > 0 ||
        !stage.queued.empty()) {
      return false;
    }
    finish(stage);
    return true;
  }

  void finish(Stage& stage) {
    stage.finished = true;
    stage.stats.end = clock.now() - run_start;
    if (stage.abandon_timer != 0) clock.cancel(stage.abandon_timer);
    stage.abandon_timer = 0;
  }

  // Counts a completion that its shard has recorded (under the Runner's lock).
  void count(Stage& stage, const PlannedRequest& request, bool ok) {
    if (request.warmup) {
      --stage.in_flight_warmup;
      ++stage.counted_warmup;
    } else {
      --stage.in_flight_measured;
      ++stage.counted_measured;
      if (ok) ++stage.succeeded_measured;
    }
    ++stage.completed;
    if (!ok) ++stage.errors;
  }

  // Records a completion in its shard's figures (under the shard's lock, not the Runner's).
  // False when the stage was abandoned meanwhile (it was counted as such).
  bool record(Stage& stage, std::size_t shard, const PlannedRequest& request, core::Time sent,
              core::Time completed, RequestResult result) const {
    CompletedRequest done;
    done.id = request.id;
    done.warmup = request.warmup;
    done.intended = (stage.start - run_start) + request.arrival.offset;
    done.sent = sent - run_start;
    done.completed = completed - run_start;
    done.input_tokens = request.arrival.input_tokens;
    done.max_tokens = request.arrival.output_tokens;
    done.result = std::move(result);
    ShardStats& mine = *stage.shard_stats[shard];
    std::lock_guard lock(mine.mutex);
    if (mine.closed) return false;
    mine.stats.add(done);
    ++(request.warmup ? mine.recorded_warmup : mine.recorded_measured);
    return true;
  }

  // --- lock-free entry points (they take the lock) ---

  void begin_stage(std::size_t index) {
    std::shared_ptr<State> self = shared_from_this();
    Stage* stage = nullptr;
    {
      std::lock_guard lock(mutex);
      if (index >= options.stages.size() || stopping) {
        finished_run = true;
      } else {
        const StageSpec& spec = options.stages[index];
        std::string name = spec.name.empty() ? spec.workload.describe() : spec.name;
        StageStats stats(name, spec.workload.describe(), options.interval, options.slo);
        stats.index = index;
        stats.keep_rows = options.keep_rows;
        // Each stage draws from its own stream, so adding a stage leaves the others' unchanged.
        std::uint64_t seed = options.seed * core::kGoldenGamma + index;
        core::Time start = clock.now();
        stats.start = start - run_start;
        stages.push_back(std::make_unique<Stage>(spec, seed, stats, shards.size()));
        stage = stages.back().get();
        stage->start = start;
        if (spec.duration) {
          stage->hard_deadline = stage->start + spec.warmup + *spec.duration + spec.drain_timeout;
          std::weak_ptr<State> weak = self;
          stage->abandon_timer = clock.call_after(
              *stage->hard_deadline - clock.now() + options.abandon_grace, [weak, stage] {
                if (auto state = weak.lock()) state->abandon(*stage);
              });
        }
      }
    }
    if (stage == nullptr) {
      complete_run();
      return;
    }
    if (stage->spec.workload.kind == WorkloadKind::kClosedLoop) {
      // User u on shard u mod N: the shards' shares differ by one at most.
      for (int w = 0; w < stage->spec.workload.concurrency; ++w) {
        std::size_t shard = static_cast<std::size_t>(w) % shards.size();
        net::spawn(*shards[shard].loop, worker(self, stage, index, shard), "loadgen worker");
      }
    } else {
      net::spawn(*shards.front().loop, scheduler(self, stage, index), "loadgen scheduler");
    }
  }

  void complete_run() {
    std::function<void()> callback;
    {
      std::lock_guard lock(mutex);
      finished_run = true;
      callback = std::move(on_done);
      on_done = nullptr;
    }
    if (callback) callback();
  }

  void advance(std::size_t finished_index) { begin_stage(finished_index + 1); }

  void abandon(Stage& stage) {
    std::size_t index = 0;
    {
      std::lock_guard lock(mutex);
      stage.abandon_timer = 0;
      if (stage.finished) return;
      // The in-flight counts include the queued arrivals, and completions a shard has recorded
      // but the Runner not yet counted: those are left out (they will find the stage finished).
      std::uint64_t recorded_measured = 0, recorded_warmup = 0;
      for (auto& shard : stage.shard_stats) {
        std::lock_guard shard_lock(shard->mutex);
        shard->closed = true;
        recorded_measured += shard->recorded_measured;
        recorded_warmup += shard->recorded_warmup;
      }
      std::uint64_t measured =
          stage.in_flight_measured - (recorded_measured - stage.counted_measured);
      std::uint64_t warmup = stage.in_flight_warmup - (recorded_warmup - stage.counted_warmup);
      stage.stats.add_abandoned(measured, false);
      stage.stats.add_abandoned(warmup, true);
      core::log_warn("stage \"" + stage.stats.name() + "\": " + std::to_string(measured + warmup) +
                     " requests still unfinished at the stage's hard deadline; abandoned");
      stage.errors += measured;
      stage.in_flight_measured = stage.in_flight_warmup = 0;
      stage.queued.clear();
      stage.dispatch_closed = true;
      finish(stage);
      index = stage.stats.index;
    }
    advance(index);
  }

  core::Duration time_left(const Stage& stage, core::Time now) const {
    core::Duration left = options.request_timeout;
    if (stage.hard_deadline) left = std::min(left, *stage.hard_deadline - now);
    return left;
  }

  // Sends `request` on `shard` and, while the stage has queued arrivals, the next ones.
  static net::Awaitable<void> send_and_record(std::shared_ptr<State> self, Stage* stage,
                                              std::size_t shard, PlannedRequest request) {
    Executor& executor = *self->shards[shard].executor;
    core::Clock& clock = self->clock;
    while (true) {
      core::Time sent = clock.now();
      core::Duration left = self->time_left(*stage, sent);  // reads what never changes
      RequestResult result;
      if (left <= core::Duration::zero()) {
        result.error_kind = "stage deadline";
        result.error_detail = "no time left before the stage's hard deadline";
      } else {
        try {
          result = co_await executor.execute(request, left);
        } catch (const std::exception& e) {
          result = RequestResult{};
          result.error_kind = "internal";
          result.error_detail = e.what();
        }
      }
      core::Time completed = clock.now();
      bool ok = result.ok;
      // Abandoned: the stage was accounted for without this request.
      if (!self->record(*stage, shard, request, sent, completed, std::move(result))) co_return;
      bool advance_now = false;
      std::optional<PlannedRequest> next;
      {
        std::lock_guard lock(self->mutex);
        if (stage->finished) co_return;  // abandoned after the record (left out of its count)
        self->count(*stage, request, ok);
        if (!stage->queued.empty()) {
          next = stage->queued.front();
          stage->queued.pop_front();
        }
        if (!next) advance_now = self->maybe_finish(*stage);
      }
      if (advance_now) self->advance(stage->stats.index);
      if (!next) co_return;
      request = *next;
    }
  }

  static net::Awaitable<void> worker(std::shared_ptr<State> self, Stage* stage, std::size_t index,
                                     std::size_t shard) {
    while (true) {
      std::optional<PlannedRequest> request;
      bool advance_now = false;
      {
        std::lock_guard lock(self->mutex);
        request = self->take_closed(*stage, index);
        if (!request) advance_now = self->maybe_finish(*stage);
      }
      if (!request) {
        if (advance_now) self->advance(index);
        co_return;
      }
      // One request at a time per worker: send_and_record sends just this one (closed loops
      // never queue).
      co_await send_and_record(self, stage, shard, *request);
      {
        std::lock_guard lock(self->mutex);
        if (stage->finished) co_return;
      }
    }
  }

  static net::Awaitable<void> scheduler(std::shared_ptr<State> self, Stage* stage,
                                        std::size_t index) {
    core::Clock& clock = self->clock;
    while (true) {
      std::optional<Arrival> arrival;
      {
        std::lock_guard lock(self->mutex);
        if (stage->finished) break;
        if (!self->out_of_bounds(*stage, core::Duration::zero())) {
          arrival = stage->generator.next();
        }
        if (arrival && self->out_of_bounds(*stage, arrival->offset)) arrival.reset();
      }
      if (!arrival) break;
      core::Time due = stage->start + arrival->offset;
      bool stopped = false;
      while (true) {
        core::Duration wait = due - clock.now();
        if (wait <= core::Duration::zero()) break;
        co_await net::sleep_for(clock, std::min(wait, kMaxSleepSlice));
        std::lock_guard lock(self->mutex);
        if (self->stopping || stage->finished) {
          stopped = true;
          break;
        }
      }
      if (stopped) break;
      std::optional<PlannedRequest> start_now;
      std::size_t shard = 0;
      {
        std::lock_guard lock(self->mutex);
        if (stage->finished) break;
        // Arrival k of the stage goes to shard k mod N.
        shard = static_cast<std::size_t>(stage->dispatched % self->shards.size());
        PlannedRequest request = self->plan(*stage, index, *arrival);
        if (stage->in_flight() - stage->queued.size() <= self->options.max_inflight) {
          start_now = request;
        } else {
          stage->queued.push_back(request);
        }
      }
      if (start_now) {
        net::spawn(*self->shards[shard].loop, send_and_record(self, stage, shard, *start_now),
                   "loadgen request");
      }
    }
    bool advance_now = false;
    {
      std::lock_guard lock(self->mutex);
      stage->dispatch_closed = true;
      advance_now = self->maybe_finish(*stage);
    }
    if (advance_now) self->advance(index);
  }
};

Runner::Runner(net::EventLoop& loop, core::Clock& clock, Executor& executor, RunOptions options)
    : Runner(std::vector<RunnerShard>{RunnerShard{&loop, &executor}}, clock, std::move(options)) {}

Runner::Runner(std::vector<RunnerShard> shards, core::Clock& clock, RunOptions options)
    : state_(std::make_shared<State>(std::move(shards), clock, std::move(options))) {
  assert(!state_->shards.empty());
}

Runner::~Runner() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
  for (auto& stage : state_->stages) {
    if (stage->abandon_timer != 0) state_->clock.cancel(stage->abandon_timer);
    stage->abandon_timer = 0;
  }
}

void Runner::on_done(std::function<void()> callback) {
  std::lock_guard lock(state_->mutex);
  state_->on_done = std::move(callback);
}

void Runner::start() {
  {
    std::lock_guard lock(state_->mutex);
    state_->run_start = state_->clock.now();
  }
  state_->begin_stage(0);
}

void Runner::stop() {
  std::lock_guard lock(state_->mutex);
  state_->stopping = true;
}

bool Runner::done() const {
  return state_->finished_run.load();
}

Progress Runner::progress() const {
  std::lock_guard lock(state_->mutex);
  Progress p;
  p.stages = state_->options.stages.size();
  p.done = state_->finished_run.load();
  if (state_->stages.empty()) return p;
  const auto& stage = *state_->stages.back();
  p.stage = state_->stages.size() - 1;
  p.stage_name = stage.stats.name();
  p.stage_elapsed =
      (stage.finished ? state_->run_start + stage.stats.end : state_->clock.now()) - stage.start;
  p.sent = stage.dispatched - stage.queued.size();
  p.completed = stage.completed;
  p.errors = stage.errors;
  p.in_flight = stage.in_flight() - stage.queued.size();
  p.queued = stage.queued.size();
  p.succeeded_measured = stage.succeeded_measured;
  return p;
}

core::Time Runner::started_at() const {
  std::lock_guard lock(state_->mutex);
  return state_->run_start;
}

std::vector<StageStats> Runner::stages() const {
  std::lock_guard lock(state_->mutex);
  std::vector<StageStats> out;
  out.reserve(state_->stages.size());
  for (const auto& stage : state_->stages) out.push_back(stage->merged());
  return out;
}

}  // namespace llmscale::loadgen
