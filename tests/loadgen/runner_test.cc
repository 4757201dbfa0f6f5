// The Runner on a SimulatedClock with a fake executor: closed-loop concurrency, bounds, exact
// open-loop send times, queueing without coordinated omission, warm-up, sweeps, hard deadlines
// and stop(). No sleeps: the clock jumps from timer to timer.
#include "loadgen/runner.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <set>

#include "sim_driver.h"

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;
using testing::simulate;

std::int64_t ns(core::Duration d) {
  return d.count();
}

struct Behavior {
  core::Duration ttft = 10ms;
  int tokens = 10;
  core::Duration gap = 10ms;
  bool hang = false;  // ignores time_left (a broken executor)
};

class FakeExecutor final : public Executor {
 public:
  struct Send {
    std::uint64_t id;
    core::Time at;
    bool warmup;
    std::size_t stage;
    std::int64_t input_tokens;
  };

  explicit FakeExecutor(core::SimulatedClock& clock) : clock_(clock) {}

  std::function<Behavior(const PlannedRequest&)> behavior;
  std::vector<Send> sends;
  std::vector<core::Duration> time_lefts;
  int in_flight = 0;
  int max_in_flight = 0;

  net::Awaitable<RequestResult> execute(const PlannedRequest& request,
                                        core::Duration time_left) override {
    sends.push_back(
        {request.id, clock_.now(), request.warmup, request.stage, request.arrival.input_tokens});
    time_lefts.push_back(time_left);
    max_in_flight = std::max(max_in_flight, ++in_flight);
    Behavior b = behavior ? behavior(request) : Behavior{};
    core::Duration total = b.ttft + b.gap * (b.tokens - 1);
    RequestResult result;
    if (b.hang) {
      co_await net::sleep_for(clock_, std::chrono::hours(24));
    } else if (total > time_left) {
      co_await net::sleep_for(clock_, time_left);
      result.error_kind = "total timeout";
      result.e2e = time_left;
    } else {
      co_await net::sleep_for(clock_, total);
      result.ok = true;
      result.http_status = 200;
      result.ttft = b.ttft;
      result.e2e = total;
      result.output_tokens = b.tokens;
      for (int i = 1; i < b.tokens; ++i) result.token_gaps.push_back(b.gap);
    }
    --in_flight;
    co_return result;
  }

 private:
  core::SimulatedClock& clock_;
};

class RunnerTest : public ::testing::Test {
 protected:
  StageSpec closed(int concurrency) {
    StageSpec s;
    s.workload.kind = WorkloadKind::kClosedLoop;
    s.workload.concurrency = concurrency;
    return s;
  }
  StageSpec open_constant(double rate) {
    StageSpec s;
    s.workload.kind = WorkloadKind::kOpenLoop;
    s.workload.rate = rate;
    s.workload.arrival = ArrivalProcess::kConstant;
    return s;
  }

  std::vector<StageStats> run(RunOptions options) {
    EXPECT_TRUE(validate_run(options).has_value()) << validate_run(options).error().to_string();
    Runner runner(loop, clock, executor, std::move(options));
    bool callback = false;
    runner.on_done([&] { callback = true; });
    runner.start();
    EXPECT_TRUE(simulate(loop, clock, [&] { return runner.done(); }));
    EXPECT_TRUE(callback);
    started = runner.started_at();
    return runner.stages();
  }

  double since_start(core::Time t) const { return core::to_seconds(t - started); }

  // 2/s for 2 s with a 3 s drain (hard deadline at 5 s), then `users` users for `requests`.
  RunOptions hanging_first_stage(int users, std::uint64_t requests) {
    RunOptions options;
    options.stages.push_back(open_constant(2));
    options.stages[0].duration = 2s;
    options.stages[0].drain_timeout = 3s;
    options.stages.push_back(closed(users));
    options.stages[1].requests = requests;
    return options;
  }
  static Behavior hang_odd_in_first_stage(const PlannedRequest& r) {
    Behavior b;
    b.hang = r.stage == 0 && r.id % 2 == 1;
    return b;
  }

  net::EventLoop loop;
  // ShardedRunnerTest's loops: declared before the clock, whose pending timers hold handlers
  // bound to them.
  std::vector<std::unique_ptr<net::EventLoop>> loops;
  core::SimulatedClock clock;
  FakeExecutor executor{clock};
  core::Time started{};
};

TEST_F(RunnerTest, ClosedLoopKeepsConcurrencyAndStopsAtRequests) {
  RunOptions options;
  options.stages.push_back(closed(4));
  options.stages[0].requests = 20;
  executor.behavior = [](const PlannedRequest&) { return Behavior{10ms, 10, 10ms}; };  // 100 ms
  auto stages = run(options);
  ASSERT_EQ(stages.size(), 1u);
  const StageStats& s = stages[0];
  EXPECT_EQ(executor.sends.size(), 20u);
  EXPECT_EQ(executor.max_in_flight, 4);
  EXPECT_EQ(s.succeeded, 20u);
  EXPECT_EQ(s.failed, 0u);
  EXPECT_EQ(s.end - s.start, 500ms);  // five rounds of four
  EXPECT_DOUBLE_EQ(s.window_seconds(), 0.5);
  EXPECT_DOUBLE_EQ(s.request_throughput(), 40);
  EXPECT_DOUBLE_EQ(s.output_token_throughput(), 400);
  EXPECT_EQ(s.ttft.quantile(0.5), ns(10ms));
  EXPECT_EQ(s.itl.count(), 20u * 9);
  EXPECT_EQ(s.tpot.quantile(0.5), ns(10ms));
  EXPECT_EQ(s.e2e.max(), ns(100ms));
  EXPECT_EQ(s.schedule_delay.max(), 0);
}

TEST_F(RunnerTest, ClosedLoopDuration) {
  RunOptions options;
  options.stages.push_back(closed(2));
  options.stages[0].duration = 1s;
  executor.behavior = [](const PlannedRequest&) { return Behavior{300ms, 1, 0ms}; };
  auto stages = run(options);
  // Rounds start at 0, 300, 600, 900 ms; at 1.2 s the duration has passed.
  EXPECT_EQ(executor.sends.size(), 8u);
  EXPECT_EQ(stages[0].succeeded, 8u);
  EXPECT_EQ(stages[0].end, 1200ms);
  EXPECT_EQ(stages[0].tpot.count(), 0u);  // single-token requests have no TPOT
}

TEST_F(RunnerTest, OpenLoopSendsAtTheIntendedTimes) {
  RunOptions options;
  options.stages.push_back(open_constant(10));
  options.stages[0].duration = 1s;
  auto stages = run(options);
  ASSERT_EQ(executor.sends.size(), 10u);
  for (std::size_t i = 0; i < executor.sends.size(); ++i) {
    EXPECT_DOUBLE_EQ(since_start(executor.sends[i].at), 0.1 * static_cast<double>(i));
  }
  EXPECT_EQ(stages[0].succeeded, 10u);
  EXPECT_EQ(stages[0].schedule_delay.max(), 0);
  // The window ends with the last completion: 0.9 s + 100 ms.
  EXPECT_DOUBLE_EQ(stages[0].window_seconds(), 1.0);
}

TEST_F(RunnerTest, QueueingOverMaxInflightCountsInLatency) {
  RunOptions options;
  options.stages.push_back(open_constant(10));
  options.stages[0].requests = 20;
  options.max_inflight = 2;
  executor.behavior = [](const PlannedRequest&) { return Behavior{1s, 1, 0ms}; };
  auto stages = run(options);
  const StageStats& s = stages[0];
  EXPECT_EQ(executor.max_in_flight, 2);
  EXPECT_EQ(s.succeeded, 20u);
  // Two at a time, 1 s each: the last pair starts at 9.0 and 9.1 s although intended at 1.8
  // and 1.9 s.
  EXPECT_EQ(s.end, 10100ms);
  EXPECT_EQ(s.schedule_delay.min(), 0);
  EXPECT_EQ(s.schedule_delay.max(), ns(7200ms));
  // Latency is measured from the intended send (no coordinated omission): up to 8.2 s, not 1 s.
  EXPECT_EQ(s.e2e.max(), ns(8200ms));
  EXPECT_EQ(s.ttft.max(), ns(8200ms));
}

TEST_F(RunnerTest, WarmupIsSentButNotMeasured) {
  RunOptions options;
  options.stages.push_back(closed(1));
  options.stages[0].requests = 5;
  options.stages[0].warmup_requests = 3;
  auto stages = run(options);
  EXPECT_EQ(executor.sends.size(), 8u);
  EXPECT_TRUE(executor.sends[2].warmup);
  EXPECT_FALSE(executor.sends[3].warmup);
  EXPECT_EQ(stages[0].warmup_requests, 3u);
  EXPECT_EQ(stages[0].succeeded, 5u);
  EXPECT_EQ(stages[0].e2e.count(), 5u);
  // The window starts with the first measured request (after three of 100 ms).
  EXPECT_EQ(*stages[0].window_start, 300ms);
}

TEST_F(RunnerTest, WarmupByTimeInAnOpenLoop) {
  RunOptions options;
  options.stages.push_back(open_constant(10));
  options.stages[0].warmup = 500ms;
  options.stages[0].duration = 1s;
  auto stages = run(options);
  EXPECT_EQ(executor.sends.size(), 15u);  // 0..1.4 s
  EXPECT_EQ(stages[0].warmup_requests, 5u);
  EXPECT_EQ(stages[0].succeeded, 10u);
}

TEST_F(RunnerTest, SweepStagesRunOneAfterAnother) {
  RunOptions options;
  for (int c : {1, 3}) {
    options.stages.push_back(closed(c));
    options.stages.back().requests = 6;
  }
  int max_first = 0;
  executor.behavior = [&](const PlannedRequest& r) {
    if (r.stage == 0) max_first = std::max(max_first, executor.in_flight);
    return Behavior{};
  };
  auto stages = run(options);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].name(), "concurrency=1");
  EXPECT_EQ(stages[1].name(), "concurrency=3");
  EXPECT_EQ(max_first, 1);
  EXPECT_EQ(executor.max_in_flight, 3);
  EXPECT_GE(stages[1].start, stages[0].end);
  EXPECT_EQ(stages[0].succeeded, 6u);
  EXPECT_EQ(stages[1].succeeded, 6u);
  EXPECT_EQ(stages[1].end - stages[1].start, 200ms);
}

TEST_F(RunnerTest, RequestsGetOnlyTheTimeLeftBeforeTheHardDeadline) {
  RunOptions options;
  options.stages.push_back(closed(1));
  options.stages[0].duration = 1s;
  options.stages[0].drain_timeout = 1s;
  executor.behavior = [](const PlannedRequest&) { return Behavior{10s, 1, 0ms}; };
  auto stages = run(options);
  ASSERT_EQ(executor.sends.size(), 1u);
  EXPECT_EQ(executor.time_lefts[0], 2s);
  EXPECT_EQ(stages[0].errors.at("total timeout"), 1u);
  EXPECT_EQ(stages[0].end, 2s);
}

TEST_F(RunnerTest, HangingRequestsAreAbandonedAfterTheHardDeadline) {
  RunOptions options = hanging_first_stage(1, 1);
  executor.behavior = hang_odd_in_first_stage;
  auto stages = run(options);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].succeeded, 2u);
  EXPECT_EQ(stages[0].errors.at("stage deadline"), 2u);
  EXPECT_EQ(stages[0].end, 7s);  // 2 s + 3 s drain + 2 s grace
  EXPECT_EQ(stages[1].succeeded, 1u);
}

TEST_F(RunnerTest, StopEndsTheRunEarly) {
  RunOptions options;
  options.stages.push_back(open_constant(1));
  options.stages[0].duration = std::chrono::hours(1);
  options.stages.push_back(closed(1));
  options.stages[1].requests = 1;
  Runner runner(loop, clock, executor, options);
  runner.start();
  ASSERT_TRUE(simulate(loop, clock, [&] { return executor.sends.size() == 10; }));
  runner.stop();
  ASSERT_TRUE(simulate(loop, clock, [&] { return runner.done(); }));
  EXPECT_LT(clock.now() - runner.started_at(), 11s);
  auto stages = runner.stages();
  ASSERT_EQ(stages.size(), 1u);  // the second stage was skipped
  EXPECT_EQ(stages[0].succeeded, 10u);
  EXPECT_TRUE(runner.progress().done);
}

TEST_F(RunnerTest, BurstSendsEverythingAtOnce) {
  RunOptions options;
  StageSpec s;
  s.workload.kind = WorkloadKind::kBurst;
  s.workload.burst_size = 100;
  options.stages.push_back(s);
  auto stages = run(options);
  EXPECT_EQ(executor.sends.size(), 100u);
  EXPECT_EQ(executor.max_in_flight, 100);
  EXPECT_EQ(executor.sends.back().at, started);
  EXPECT_EQ(stages[0].succeeded, 100u);
}

// A trace stage with rows at `offsets_ms` (input tokens from `input`), replayed at half time.
StageSpec trace_stage(std::initializer_list<int> offsets_ms,
                      const std::function<std::int64_t(int)>& input) {
  auto trace = std::make_shared<Trace>();
  for (int ms : offsets_ms) {
    TraceRow row;
    row.offset = std::chrono::milliseconds(ms);
    row.input_tokens = input(ms);
    row.output_tokens = 5;
    trace->rows.push_back(row);
  }
  StageSpec s;
  s.workload.kind = WorkloadKind::kTrace;
  s.workload.trace = trace;
  s.workload.time_scale = 0.5;
  return s;
}

TEST_F(RunnerTest, TraceReplayAtItsTimes) {
  RunOptions options;
  options.stages.push_back(trace_stage({0, 1000, 3000}, [](int) { return 100; }));
  auto stages = run(options);
  ASSERT_EQ(executor.sends.size(), 3u);
  EXPECT_DOUBLE_EQ(since_start(executor.sends[1].at), 0.5);
  EXPECT_DOUBLE_EQ(since_start(executor.sends[2].at), 1.5);
  EXPECT_EQ(stages[0].input_tokens.quantile(0.5), 100);
}

TEST_F(RunnerTest, GoodputAgainstSlo) {
  RunOptions options;
  options.stages.push_back(closed(2));
  options.stages[0].requests = 10;
  options.slo = *parse_slo("ttft=15ms,itl=20ms");
  executor.behavior = [](const PlannedRequest& r) {
    return r.id % 2 == 0 ? Behavior{10ms, 5, 10ms} : Behavior{20ms, 5, 10ms};
  };
  auto stages = run(options);
  EXPECT_EQ(stages[0].good, 5u);
  EXPECT_EQ(stages[0].succeeded, 10u);
  EXPECT_GT(stages[0].goodput(), 0);
  EXPECT_DOUBLE_EQ(stages[0].goodput() * 2, stages[0].request_throughput());
}

TEST_F(RunnerTest, TimelineBucketsByCompletion) {
  RunOptions options;
  options.stages.push_back(open_constant(4));
  options.stages[0].duration = 2s;
  options.interval = 1s;
  auto stages = run(options);
  const auto& timeline = stages[0].timeline;
  // Sends at 0, 0.25, ..., 1.75 s; completions 100 ms later fall in the first two seconds.
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_EQ(timeline.at(0).completed, 4u);
  std::uint64_t total = 0;
  for (const auto& [index, bucket] : timeline) total += bucket.completed;
  EXPECT_EQ(total, 8u);
}

TEST(RunnerValidation, Messages) {
  RunOptions options;
  EXPECT_EQ(validate_run(options).error().message, "no stage to run");
  StageSpec s;
  s.workload.concurrency = 2;
  options.stages.push_back(s);
  EXPECT_EQ(validate_run(options).error().message,
            "stage 1 (concurrency=2): needs --requests or --duration to stop");
  options.stages[0].requests = 0;
  EXPECT_EQ(validate_run(options).error().message,
            "stage 1 (concurrency=2): --requests must be >= 1");
  options.stages[0].requests = 5;
  options.stages[0].workload.concurrency = 0;
  EXPECT_EQ(validate_run(options).error().message,
            "stage 1 (concurrency=0): --concurrency must be >= 1");
}

// --- client threads: the same run over several shards (one loop and executor each) ---

class ShardedRunnerTest : public RunnerTest {
 protected:
  static constexpr int kShards = 3;

  ShardedRunnerTest() {
    for (int i = 0; i < kShards; ++i) {
      loops.push_back(std::make_unique<net::EventLoop>());
      executors.push_back(std::make_unique<FakeExecutor>(clock));
    }
  }

  void behave(const std::function<Behavior(const PlannedRequest&)>& behavior) {
    executor.behavior = behavior;
    for (auto& e : executors) e->behavior = behavior;
  }

  std::vector<StageStats> run_sharded(RunOptions options) {
    std::vector<RunnerShard> shards;
    std::vector<net::EventLoop*> raw;
    for (int i = 0; i < kShards; ++i) {
      shards.push_back(RunnerShard{loops[i].get(), executors[i].get()});
      raw.push_back(loops[i].get());
    }
    Runner runner(shards, clock, std::move(options));
    bool callback = false;
    runner.on_done([&] { callback = true; });
    runner.start();
    EXPECT_TRUE(simulate(raw, clock, [&] { return runner.done(); }));
    EXPECT_TRUE(callback);
    sharded_started = runner.started_at();
    return runner.stages();
  }

  // Every shard's sends, by request id; fails on a duplicated id.
  std::map<std::uint64_t, FakeExecutor::Send> sharded_sends() const {
    std::map<std::uint64_t, FakeExecutor::Send> out;
    for (const auto& e : executors) {
      for (const auto& send : e->sends) EXPECT_TRUE(out.emplace(send.id, send).second) << send.id;
    }
    return out;
  }

  // The single-shard run's sends, by id.
  std::map<std::uint64_t, FakeExecutor::Send> single_sends() const {
    std::map<std::uint64_t, FakeExecutor::Send> out;
    for (const auto& send : executor.sends) out.emplace(send.id, send);
    return out;
  }

  static void expect_same_figures(const StageStats& a, const StageStats& b) {
    EXPECT_EQ(a.succeeded, b.succeeded);
    EXPECT_EQ(a.failed, b.failed);
    EXPECT_EQ(a.good, b.good);
    EXPECT_EQ(a.warmup_requests, b.warmup_requests);
    EXPECT_EQ(a.errors, b.errors);
    EXPECT_TRUE(a.ttft == b.ttft);
    EXPECT_TRUE(a.itl == b.itl);
    EXPECT_TRUE(a.tpot == b.tpot);
    EXPECT_TRUE(a.e2e == b.e2e);
    EXPECT_TRUE(a.schedule_delay == b.schedule_delay);
    EXPECT_TRUE(a.input_tokens == b.input_tokens);
    EXPECT_TRUE(a.output_tokens == b.output_tokens);
    EXPECT_EQ(a.output_token_total, b.output_token_total);
    EXPECT_EQ(a.input_token_total, b.input_token_total);
    EXPECT_EQ(a.end - a.start, b.end - b.start);
    EXPECT_EQ(a.window_seconds(), b.window_seconds());
    std::uint64_t a_total = 0, b_total = 0;
    for (const auto& [key, bucket] : a.timeline) a_total += bucket.completed + bucket.errors;
    for (const auto& [key, bucket] : b.timeline) b_total += bucket.completed + bucket.errors;
    EXPECT_EQ(a_total, b_total);
  }

  std::vector<std::unique_ptr<FakeExecutor>> executors;
  core::Time sharded_started{};
};

TEST_F(ShardedRunnerTest, ClosedLoopOverShardsMatchesOneShard) {
  RunOptions options;
  options.stages.push_back(closed(7));
  options.stages[0].requests = 60;
  options.stages[0].warmup_requests = 2;
  options.stages[0].workload.input = {100, 30};
  options.keep_rows = true;
  // Durations depend on the request id only, so both runs measure the same requests alike.
  behave([](const PlannedRequest& r) {
    return Behavior{(1 + static_cast<int>(r.id % 3)) * 10ms, 1 + static_cast<int>(r.id % 4), 5ms};
  });
  auto one = run(options);
  auto sharded = run_sharded(options);
  ASSERT_EQ(one.size(), 1u);
  ASSERT_EQ(sharded.size(), 1u);
  expect_same_figures(one[0], sharded[0]);
  EXPECT_EQ(sharded[0].succeeded, 60u);
  EXPECT_EQ(sharded[0].rows.size(), 62u);
  // The same ids, each sent once, with the same draws; users 3, 2 and 2 per shard.
  auto by_id = sharded_sends();
  auto single = single_sends();
  ASSERT_EQ(by_id.size(), 62u);
  ASSERT_EQ(single.size(), 62u);
  for (const auto& [id, send] : single) {
    ASSERT_TRUE(by_id.count(id)) << id;
    EXPECT_EQ(by_id.at(id).input_tokens, send.input_tokens) << id;
    EXPECT_EQ(by_id.at(id).warmup, send.warmup) << id;
  }
  EXPECT_EQ(executors[0]->max_in_flight, 3);
  EXPECT_EQ(executors[1]->max_in_flight, 2);
  EXPECT_EQ(executors[2]->max_in_flight, 2);
}

TEST_F(ShardedRunnerTest, OpenLoopKeepsTheGlobalScheduleAndPartitionsByIndex) {
  RunOptions options;
  options.stages.push_back(open_constant(100));
  options.stages[0].requests = 30;
  auto stages = run_sharded(options);
  auto by_id = sharded_sends();
  ASSERT_EQ(by_id.size(), 30u);
  for (const auto& [id, send] : by_id) {
    EXPECT_EQ(send.at - sharded_started, std::chrono::milliseconds(10 * id)) << id;
  }
  for (int shard = 0; shard < kShards; ++shard) {
    ASSERT_EQ(executors[shard]->sends.size(), 10u);
    for (const auto& send : executors[shard]->sends) EXPECT_EQ(send.id % kShards, shard);
  }
  EXPECT_EQ(stages[0].succeeded, 30u);
  EXPECT_EQ(stages[0].schedule_delay.max(), 0);
  EXPECT_DOUBLE_EQ(stages[0].window_seconds(), 0.39);
}

TEST_F(ShardedRunnerTest, TraceReplayKeepsItsScheduleOverShards) {
  RunOptions options;
  options.stages.push_back(
      trace_stage({0, 1000, 1000, 3000, 3500, 3501, 7000}, [](int ms) { return 10 + ms % 97; }));
  options.stages[0].workload.rate_scale = 2.5;
  auto one = run(options);
  auto sharded = run_sharded(options);
  expect_same_figures(one[0], sharded[0]);
  auto by_id = sharded_sends();
  auto single = single_sends();
  ASSERT_EQ(by_id.size(), single.size());
  EXPECT_GE(by_id.size(), 14u);
  for (const auto& [id, send] : single) {
    ASSERT_TRUE(by_id.count(id)) << id;
    EXPECT_EQ(by_id.at(id).at - sharded_started, send.at - started) << id;
    EXPECT_EQ(by_id.at(id).input_tokens, send.input_tokens) << id;
  }
  for (int shard = 0; shard < kShards; ++shard) EXPECT_FALSE(executors[shard]->sends.empty());
}

TEST_F(ShardedRunnerTest, QueueingOverMaxInflightLosesNothing) {
  RunOptions options;
  options.stages.push_back(open_constant(10));
  options.stages[0].requests = 20;
  options.max_inflight = 2;
  behave([](const PlannedRequest&) { return Behavior{1s, 1, 0ms}; });
  auto one = run(options);
  auto sharded = run_sharded(options);
  expect_same_figures(one[0], sharded[0]);
  EXPECT_EQ(sharded[0].end, 10100ms);
  EXPECT_EQ(sharded[0].e2e.max(), ns(8200ms));
  auto by_id = sharded_sends();
  ASSERT_EQ(by_id.size(), 20u);
  EXPECT_EQ(by_id.rbegin()->first, 19u);
  int peak = 0;
  for (const auto& e : executors) peak += e->max_in_flight;
  EXPECT_LE(peak, 2 * kShards);
}

TEST_F(ShardedRunnerTest, AbandonedRequestsAreCountedOnceOverShards) {
  RunOptions options = hanging_first_stage(4, 9);
  behave(hang_odd_in_first_stage);
  auto stages = run_sharded(options);
  ASSERT_EQ(stages.size(), 2u);
  EXPECT_EQ(stages[0].succeeded, 2u);
  EXPECT_EQ(stages[0].errors.at("stage deadline"), 2u);
  EXPECT_EQ(stages[0].measured(), 4u);
  EXPECT_EQ(stages[0].end, 7s);
  EXPECT_EQ(stages[1].succeeded, 9u);
}

// Real threads: four loops on four threads, requests answered at once, so the shards race for
// the Runner's lock and their own. Every request is sent once and counted once.
class InstantExecutor final : public Executor {
 public:
  net::Awaitable<RequestResult> execute(const PlannedRequest& request, core::Duration) override {
    {
      std::lock_guard lock(mutex);
      ids.push_back(request.id);
    }
    RequestResult result;
    result.ok = true;
    result.http_status = 200;
    result.e2e = std::chrono::microseconds(request.id % 1000);
    result.output_tokens = 1;
    co_return result;
  }
  std::mutex mutex;
  std::vector<std::uint64_t> ids;
};

TEST(RunnerThreads, FourThreadsSendAndCountEveryRequestOnce) {
  constexpr int kThreads = 4;
  constexpr std::uint64_t kRequests = 20000;
  std::vector<std::unique_ptr<net::EventLoop>> loops;
  std::vector<std::unique_ptr<InstantExecutor>> executors;
  std::vector<RunnerShard> shards;
  for (int i = 0; i < kThreads; ++i) {
    loops.push_back(std::make_unique<net::EventLoop>());
    executors.push_back(std::make_unique<InstantExecutor>());
    shards.push_back(RunnerShard{loops.back().get(), executors.back().get()});
  }
  RunOptions options;
  StageSpec stage;
  stage.workload.concurrency = 16;
  stage.requests = kRequests;
  stage.warmup_requests = 16;
  options.stages.push_back(stage);
  Runner runner(shards, loops[0]->clock(), options);
  std::mutex mutex;
  std::condition_variable done_cv;
  bool done = false;
  runner.on_done([&] {
    std::lock_guard lock(mutex);
    done = true;
    done_cv.notify_all();
  });
  runner.start();
  for (auto& loop : loops) loop->start();
  {
    std::unique_lock lock(mutex);
    ASSERT_TRUE(done_cv.wait_for(lock, std::chrono::seconds(60), [&] { return done; }));
  }
  for (auto& loop : loops) {
    loop->stop();
    loop->join();
  }
  auto stages = runner.stages();
  ASSERT_EQ(stages.size(), 1u);
  EXPECT_EQ(stages[0].succeeded, kRequests);
  EXPECT_EQ(stages[0].warmup_requests, 16u);
  EXPECT_EQ(stages[0].e2e.count(), kRequests);
  std::set<std::uint64_t> ids;
  std::size_t sends = 0;
  for (auto& e : executors) {
    sends += e->ids.size();
    ids.insert(e->ids.begin(), e->ids.end());
  }
  EXPECT_EQ(sends, kRequests + 16);
  EXPECT_EQ(ids.size(), kRequests + 16);
  EXPECT_EQ(*ids.rbegin(), kRequests + 15);
}

}  // namespace
}  // namespace llmscale::loadgen
