// Leader election on a simulated clock with an in-memory Lease (optimistic concurrency as the
// API server applies it): exactly one of two electors leads; a crashed leader is replaced
// within the lease duration, a released one within a retry period; a leader that cannot renew
// stops acting within the renew deadline; client-go's timing checks.
#include "kubeclient/leader_election.h"

#include <gtest/gtest.h>

#include "../loadgen/sim_driver.h"

namespace llmscale::kubeclient {
namespace {

using namespace std::chrono_literals;

// One Lease in memory, versioned.
struct LeaseRecordStore {
  std::optional<LeaderElectionRecord> record;
  int version = 0;
  bool unreachable = false;
  int writes = 0;
};

// One client's view: remembers the version it read, as resourcelock.LeaseLock does.
class FakeLeaseLock final : public LeaseLock {
 public:
  explicit FakeLeaseLock(LeaseRecordStore& store) : store_(store) {}
  net::Awaitable<ApiResult<std::optional<LeaderElectionRecord>>> get() override {
    if (store_.unreachable) co_return tl::unexpected(ApiError{0, "", "connection refused"});
    read_version_ = store_.version;
    co_return store_.record;
  }
  net::Awaitable<ApiResult<bool>> create(LeaderElectionRecord record) override {
    if (store_.unreachable) co_return tl::unexpected(ApiError{0, "", "connection refused"});
    if (store_.record) co_return tl::unexpected(ApiError{409, "AlreadyExists", "exists"});
    store_.record = record;
    read_version_ = ++store_.version;
    ++store_.writes;
    co_return true;
  }
  net::Awaitable<ApiResult<bool>> update(LeaderElectionRecord record) override {
    if (store_.unreachable) co_return tl::unexpected(ApiError{0, "", "connection refused"});
    if (read_version_ != store_.version) {
      co_return tl::unexpected(ApiError{409, "Conflict", "the object has been modified"});
    }
    store_.record = record;
    read_version_ = ++store_.version;
    ++store_.writes;
    co_return true;
  }
  std::string describe() const override { return "llmscale-system/llmscale-controller"; }

 private:
  LeaseRecordStore& store_;
  int read_version_ = -1;
};

class LeaderElectionTest : public ::testing::Test {
 protected:
  struct Candidate {
    std::unique_ptr<FakeLeaseLock> lock;
    std::unique_ptr<LeaderElector> elector;
    int started = 0;
    int stopped = 0;
  };

  std::unique_ptr<Candidate> candidate(const std::string& identity, std::uint64_t seed) {
    auto c = std::make_unique<Candidate>();
    c->lock = std::make_unique<FakeLeaseLock>(store_);
    LeaderElectionConfig config;
    config.identity = identity;
    config.seed = seed;
    LeaderCallbacks callbacks;
    Candidate* raw = c.get();
    callbacks.on_started_leading = [raw] { ++raw->started; };
    callbacks.on_stopped_leading = [raw] { ++raw->stopped; };
    auto elector = LeaderElector::create(*c->lock, clock_, config, callbacks);
    EXPECT_TRUE(elector);
    c->elector = std::move(*elector);
    c->elector->start(loop_);
    return c;
  }

  // Runs the loop and the simulated clock until `done` or `limit` of simulated time passes.
  bool simulate_until(const std::function<bool()>& done, core::Duration limit) {
    core::Time end = clock_.now() + limit;
    return loadgen::testing::simulate(loop_, clock_,
                                      [&] { return done() || clock_.now() > end; }) &&
           done();
  }
  void simulate_for(core::Duration span) {
    core::Time end = clock_.now() + span;
    loadgen::testing::simulate(loop_, clock_, [&] { return clock_.now() >= end; });
  }

  // The loop outlives the clock: pending timers hold handlers bound to the loop's executor.
  net::EventLoop loop_;
  core::SimulatedClock clock_;
  LeaseRecordStore store_;
};

TEST_F(LeaderElectionTest, ExactlyOneLeadsAndACrashedLeaderIsReplacedWithinTheLease) {
  auto a = candidate("a", 1);
  auto b = candidate("b", 2);
  ASSERT_TRUE(simulate_until([&] { return a->elector->leading() || b->elector->leading(); }, 5s));
  for (int i = 0; i < 60; ++i) {
    simulate_for(1s);
    ASSERT_NE(a->elector->leading(), b->elector->leading()) << "at " << i << " s";
  }
  Candidate& leader = a->elector->leading() ? *a : *b;
  Candidate& follower = a->elector->leading() ? *b : *a;
  EXPECT_EQ(leader.started, 1);
  EXPECT_EQ(store_.record->holder_identity, &leader == a.get() ? "a" : "b");
  EXPECT_EQ(store_.record->leader_transitions, 0);
  EXPECT_EQ(store_.record->lease_duration_seconds, 15);

  // The leader dies without releasing: the follower takes over once 15 s have passed since it
  // last saw the record change. It may see the last renewal up to one jittered retry
  // (2 s + 1.2 x 2 s) after it was written, and tries again up to one retry after expiry.
  core::Time crashed = clock_.now();
  leader.elector->abandon();
  ASSERT_TRUE(simulate_until([&] { return follower.elector->leading(); }, 30s));
  core::Duration takeover = clock_.now() - crashed;
  EXPECT_GE(takeover, 13s);
  EXPECT_LE(takeover, 15s + 2 * 4400ms);
  EXPECT_EQ(store_.record->leader_transitions, 1);
  EXPECT_EQ(follower.started, 1);
}

TEST_F(LeaderElectionTest, ReleaseOnStopHandsOverWithinARetryPeriod) {
  auto a = candidate("a", 1);
  ASSERT_TRUE(simulate_until([&] { return a->elector->leading(); }, 1s));
  auto b = candidate("b", 2);
  simulate_for(10s);
  EXPECT_FALSE(b->elector->leading());
  core::Time stopped = clock_.now();
  a->elector->stop();
  ASSERT_TRUE(simulate_until([&] { return !a->elector->running(); }, 5s));
  EXPECT_EQ(a->stopped, 1);
  EXPECT_EQ(store_.record->holder_identity, "");
  EXPECT_EQ(store_.record->lease_duration_seconds, 1);
  ASSERT_TRUE(simulate_until([&] { return b->elector->leading(); }, 10s));
  EXPECT_LE(clock_.now() - stopped, 2s + 4400ms + 2s);
  EXPECT_EQ(b->elector->observed_leader(), "b");
}

TEST_F(LeaderElectionTest, StopsActingWithinTheRenewDeadlineWhenTheApiIsUnreachable) {
  auto a = candidate("a", 1);
  ASSERT_TRUE(simulate_until([&] { return a->elector->leading(); }, 1s));
  simulate_for(7s);
  core::Time last_write = clock_.now();
  int writes = store_.writes;
  store_.unreachable = true;
  // leading() turns false no later than the renew deadline after the last renewal...
  ASSERT_TRUE(simulate_until([&] { return !a->elector->leading(); }, 15s));
  EXPECT_LE(clock_.now() - last_write, 10s);
  // ...and the renew loop gives up (on_stopped_leading) by then as well.
  ASSERT_TRUE(simulate_until([&] { return a->stopped == 1; }, 3s));
  EXPECT_LE(clock_.now() - last_write, 10s + 2s);
  EXPECT_EQ(store_.writes, writes);
  EXPECT_FALSE(a->elector->running());
}

TEST_F(LeaderElectionTest, ClientGoTimingChecks) {
  FakeLeaseLock lock(store_);
  LeaderElectionConfig config;
  config.identity = "x";
  config.renew_deadline = 15s;
  EXPECT_EQ(LeaderElector::create(lock, clock_, config, {}).error().message,
            "leaseDuration must be greater than renewDeadline");
  config.renew_deadline = 2s;
  EXPECT_EQ(LeaderElector::create(lock, clock_, config, {}).error().message,
            "renewDeadline must be greater than retryPeriod*JitterFactor");
  config = {};
  EXPECT_EQ(LeaderElector::create(lock, clock_, config, {}).error().message,
            "Lock identity is empty");
}

TEST(LeaseSpecTest, RoundTripsMicroTimes) {
  LeaderElectionRecord record;
  record.holder_identity = "pod-1";
  record.lease_duration_seconds = 15;
  record.acquire_time = core::SimulatedClock::default_start() + 1500ms;
  record.renew_time = core::SimulatedClock::default_start() + 2s;
  record.leader_transitions = 3;
  core::Json spec = lease_spec(record);
  EXPECT_EQ(spec["acquireTime"], "2026-01-01T00:00:01.500000Z");
  EXPECT_EQ(record_from_lease(core::Json{{"spec", spec}}), record);
}

}  // namespace
}  // namespace llmscale::kubeclient
