// Balancer on a SimulatedClock: the backend set and its states, leases and in-flight counts,
// the FIFO queue (release on ready, full, timeout, cancel, no overtaking, per-backend cap),
// drain notifications, passive-health ejection, load signals and shutdown.
#include "router/balancer.h"

#include <gtest/gtest.h>

#include <atomic>
#include <optional>
#include <thread>
#include <vector>

namespace llmscale::router {
namespace {

using namespace std::chrono_literals;

// Records what a queued request's callback received.
struct Outcome {
  std::optional<core::Result<Lease>> result;
  Balancer::GrantCallback callback() {
    return [this](core::Result<Lease> r) { result = std::move(r); };
  }
  bool granted() const { return result && result->has_value(); }
  std::string backend() const { return granted() ? (*result)->backend_id() : ""; }
  core::ErrorCode code() const { return result->error().code; }
};

class BalancerTest : public ::testing::Test {
 protected:
  BalancerOptions options() {
    BalancerOptions o;
    o.queue_timeout = 30s;
    o.max_queue = 3;
    return o;
  }
  core::SimulatedClock clock;
};

TEST_F(BalancerTest, ValidatesBackends) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("pod-0", "http://127.0.0.1:8000"));
  EXPECT_EQ(b.add_backend("pod-0", "http://127.0.0.1:8001").error().code,
            core::ErrorCode::kAlreadyExists);
  EXPECT_EQ(b.add_backend("", "http://127.0.0.1:8001").error().code,
            core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.add_backend("x", "ftp://h:1").error().code, core::ErrorCode::kInvalidArgument);
  auto with_path = b.add_backend("x", "http://h:1/v1");
  ASSERT_FALSE(with_path);
  EXPECT_NE(with_path.error().message.find("no path"), std::string::npos);
  EXPECT_EQ(b.remove_backend("nope").error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(b.set_state("nope", BackendState::kReady).error().code, core::ErrorCode::kNotFound);
  EXPECT_EQ(b.in_flight("nope").error().code, core::ErrorCode::kNotFound);
  // The base URL is normalised: trailing slash dropped, default port omitted.
  ASSERT_TRUE(b.add_backend("pod-1", "http://LOCALHOST:80/"));
  EXPECT_EQ(b.backend("pod-1")->url, "http://localhost");
  EXPECT_EQ(b.backend("pod-0")->state, BackendState::kNotReady);
  BalancerOptions bad;
  bad.queue_timeout = -1s;
  EXPECT_FALSE(validate(bad));
}

TEST_F(BalancerTest, OnlyReadyBackendsTakeRequests) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kNotReady));
  ASSERT_TRUE(b.add_backend("b", "http://127.0.0.1:2", BackendState::kDraining));
  EXPECT_FALSE(b.try_acquire().has_value());
  ASSERT_TRUE(b.add_backend("c", "http://127.0.0.1:3", BackendState::kReady));
  for (int i = 0; i < 3; ++i) {
    auto lease = b.try_acquire();
    ASSERT_TRUE(lease.has_value());
    EXPECT_EQ(lease->backend_id(), "c");
    EXPECT_EQ(lease->url(), "http://127.0.0.1:3");
    EXPECT_EQ(lease->queued_for(), core::Duration::zero());
  }
  EXPECT_EQ(b.backend("c")->requests, 3u);
}

TEST_F(BalancerTest, LeasesCountInFlightUntilReleased) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto first = b.try_acquire();
  auto second = b.try_acquire();
  EXPECT_EQ(b.in_flight("a").value(), 2u);
  first->release();
  EXPECT_FALSE(first->valid());
  first->release();  // twice is harmless
  EXPECT_EQ(b.in_flight("a").value(), 1u);
  {
    Lease moved = std::move(*second);
    EXPECT_TRUE(moved.valid());
    EXPECT_EQ(b.in_flight("a").value(), 1u);
  }
  EXPECT_EQ(b.in_flight("a").value(), 0u);
}

TEST_F(BalancerTest, LeasesCountTheirTokensUntilReleased) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto first = b.try_acquire();
  auto second = b.try_acquire();
  first->add_tokens(100);
  second->add_tokens(7);
  second->add_tokens(3);
  EXPECT_EQ(b.backend("a")->in_flight_tokens, 110u);
  EXPECT_EQ(second->tokens(), 10u);
  first->release();
  first->add_tokens(5);  // a released lease counts nothing
  EXPECT_EQ(b.backend("a")->in_flight_tokens, 10u);
  {
    Lease moved = std::move(*second);
    EXPECT_EQ(moved.tokens(), 10u);
    EXPECT_EQ(b.backend("a")->in_flight_tokens, 10u);
  }
  EXPECT_EQ(b.backend("a")->in_flight_tokens, 0u);
  // A backend draining keeps the count of what it still serves.
  auto third = b.try_acquire();
  third->add_tokens(42);
  ASSERT_TRUE(b.set_state("a", BackendState::kDraining));
  EXPECT_EQ(b.backends().front().in_flight_tokens, 42u);
  third->release_failed();
  EXPECT_EQ(b.backend("a")->in_flight_tokens, 0u);
}

TEST_F(BalancerTest, DefaultPolicySpreadsByOutstandingRequests) {
  Balancer b(clock, options());
  EXPECT_EQ(b.policy_name(), "least-outstanding-requests");
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  ASSERT_TRUE(b.add_backend("b", "http://127.0.0.1:2", BackendState::kReady));
  std::vector<Lease> held;
  for (int i = 0; i < 10; ++i) held.push_back(std::move(*b.try_acquire()));
  EXPECT_EQ(b.in_flight("a").value(), 5u);
  EXPECT_EQ(b.in_flight("b").value(), 5u);
  // Finishing a's requests sends the next ones there.
  for (auto& l : held) {
    if (l.backend_id() == "a") l.release();
  }
  for (int i = 0; i < 5; ++i) EXPECT_EQ(b.try_acquire()->backend_id(), "a");
}

TEST_F(BalancerTest, QueuesUntilABackendIsReadyThenReleasesInOrder) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1"));  // cold-starting
  Outcome first, second, third;
  EXPECT_NE(b.acquire(first.callback()), 0u);
  clock.advance(2s);
  EXPECT_NE(b.acquire(second.callback()), 0u);
  clock.advance(1s);
  EXPECT_NE(b.acquire(third.callback()), 0u);
  EXPECT_EQ(b.queue_length(), 3u);
  EXPECT_FALSE(first.result.has_value());
  // No overtaking while others wait, even when a backend could take it.
  EXPECT_FALSE(b.try_acquire().has_value());

  clock.advance(5s);
  std::vector<std::string> order;
  ASSERT_TRUE(b.set_state("a", BackendState::kReady));
  ASSERT_TRUE(first.granted());
  ASSERT_TRUE(second.granted());
  ASSERT_TRUE(third.granted());
  EXPECT_EQ((*first.result)->queued_for(), 8s);
  EXPECT_EQ((*second.result)->queued_for(), 6s);
  EXPECT_EQ((*third.result)->queued_for(), 5s);
  EXPECT_EQ(b.queue_length(), 0u);
  EXPECT_EQ(b.in_flight("a").value(), 3u);
  // The timeouts were cancelled with the grants.
  clock.advance(60s);
  EXPECT_EQ(b.stats().timed_out, 0u);
  EXPECT_EQ(b.stats().queued, 3u);
}

// Slow start: a queue built up during a scale from zero is released at the pace of the
// backend's growing cap (1 at once, then linearly to the steady cap over the window), and a
// replica that becomes ready later takes its share instead of finding everything gone.
TEST_F(BalancerTest, SlowStartReleasesTheQueueAtTheNewBackendsPace) {
  BalancerOptions o = options();
  o.max_queue = 100;
  o.queue_timeout = 0s;
  o.slow_start_window = 10s;
  o.slow_start_in_flight = 10;
  Balancer b(clock, o);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1"));
  ASSERT_TRUE(b.add_backend("b", "http://127.0.0.1:2"));
  std::vector<Outcome> waiting(16);
  for (auto& w : waiting) b.acquire(w.callback());
  auto granted_to = [&](const std::string& id) {
    int n = 0;
    for (const auto& w : waiting) n += w.backend() == id ? 1 : 0;
    return n;
  };
  ASSERT_TRUE(b.set_state("a", BackendState::kReady));
  EXPECT_EQ(granted_to("a"), 1);  // the cap starts at 1
  clock.advance(5s);              // half the window: cap 5
  EXPECT_EQ(granted_to("a"), 5);
  ASSERT_TRUE(b.set_state("b", BackendState::kReady));
  EXPECT_EQ(granted_to("b"), 1);
  clock.advance(5s);  // b at half its window (cap 5); a is past its window: no cap (the steady
                      // cap is max_in_flight_per_backend, 0 here), so it takes the last one
  EXPECT_EQ(granted_to("b"), 5);
  EXPECT_EQ(granted_to("a"), 11);
  EXPECT_EQ(b.queue_length(), 0u);
  // Past the window the steady cap applies: none here (max_in_flight_per_backend 0).
  for (int i = 0; i < 20; ++i) EXPECT_TRUE(b.try_acquire().has_value());
}

TEST_F(BalancerTest, SlowStartOptionsAreValidated) {
  BalancerOptions o = options();
  o.slow_start_window = -1s;
  EXPECT_FALSE(validate(o));
  o.slow_start_window = 1s;
  o.slow_start_in_flight = 0;
  EXPECT_FALSE(validate(o));
}

TEST_F(BalancerTest, AddingAReadyBackendReleasesTheQueue) {
  Balancer b(clock, options());
  Outcome waiting;
  b.acquire(waiting.callback());
  EXPECT_FALSE(waiting.result);
  ASSERT_TRUE(b.add_backend("new", "http://127.0.0.1:9", BackendState::kReady));
  ASSERT_TRUE(waiting.granted());
  EXPECT_EQ(waiting.backend(), "new");
}

TEST_F(BalancerTest, FullQueueRefusesAtOnce) {
  Outcome o[4];  // outlives the balancer, which cancels the queued ones
  Balancer b(clock, options());
  for (int i = 0; i < 3; ++i) EXPECT_NE(b.acquire(o[i].callback()), 0u);
  EXPECT_EQ(b.acquire(o[3].callback()), 0u);
  ASSERT_TRUE(o[3].result.has_value());
  EXPECT_EQ(o[3].code(), core::ErrorCode::kResourceExhausted);
  EXPECT_NE(o[3].result->error().message.find("queue full"), std::string::npos);
  EXPECT_EQ(b.stats().rejected_full, 1u);

  BalancerOptions no_queue = options();
  no_queue.max_queue = 0;
  Balancer refusing(clock, no_queue);
  Outcome refused;
  EXPECT_EQ(refusing.acquire(refused.callback()), 0u);
  EXPECT_EQ(refused.code(), core::ErrorCode::kResourceExhausted);
}

TEST_F(BalancerTest, QueuedRequestsTimeOut) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1"));
  Outcome early, late;
  b.acquire(early.callback());
  clock.advance(10s);
  b.acquire(late.callback());
  clock.advance(20s - 1ns);
  EXPECT_FALSE(early.result.has_value());
  clock.advance(1ns);
  ASSERT_TRUE(early.result.has_value());
  EXPECT_EQ(early.code(), core::ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(early.result->error().message,
            "queue timeout: no backend could take the request within 30s");
  EXPECT_FALSE(late.result.has_value());
  EXPECT_EQ(b.queue_length(), 1u);
  clock.advance(10s);
  EXPECT_EQ(late.code(), core::ErrorCode::kDeadlineExceeded);
  EXPECT_EQ(b.stats().timed_out, 2u);
}

TEST_F(BalancerTest, ZeroQueueTimeoutWaitsForever) {
  BalancerOptions o = options();
  o.queue_timeout = core::Duration::zero();
  Balancer b(clock, o);
  Outcome waiting;
  b.acquire(waiting.callback());
  EXPECT_EQ(clock.pending(), 0u);
  clock.advance(24h);
  EXPECT_FALSE(waiting.result);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  EXPECT_TRUE(waiting.granted());
}

TEST_F(BalancerTest, CancelledRequestsLeaveTheQueue) {
  Balancer b(clock, options());
  Outcome first, second;
  auto t1 = b.acquire(first.callback());
  b.acquire(second.callback());
  EXPECT_TRUE(b.cancel(t1));
  EXPECT_FALSE(b.cancel(t1));
  EXPECT_EQ(b.queue_length(), 1u);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  EXPECT_FALSE(first.result.has_value());
  EXPECT_TRUE(second.granted());
  clock.advance(1min);
  EXPECT_FALSE(first.result.has_value());  // its timer went with it
  EXPECT_EQ(b.stats().cancelled, 1u);
}

TEST_F(BalancerTest, PerBackendCapQueuesAndReleasesOnCompletion) {
  BalancerOptions o = options();
  o.max_in_flight_per_backend = 2;
  Balancer b(clock, o);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto l1 = b.try_acquire();
  auto l2 = b.try_acquire();
  ASSERT_TRUE(l1 && l2);
  EXPECT_FALSE(b.try_acquire().has_value());
  Outcome waiting;
  EXPECT_NE(b.acquire(waiting.callback()), 0u);
  clock.advance(3s);
  l1->release();
  ASSERT_TRUE(waiting.granted());
  EXPECT_EQ((*waiting.result)->queued_for(), 3s);
  EXPECT_EQ(b.in_flight("a").value(), 2u);
}

TEST_F(BalancerTest, DrainingBackendsFinishTheirRequests) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("old", "http://127.0.0.1:1", BackendState::kReady));
  auto l1 = b.try_acquire();
  auto l2 = b.try_acquire();
  ASSERT_TRUE(b.add_backend("new", "http://127.0.0.1:2", BackendState::kReady));
  ASSERT_TRUE(b.set_state("old", BackendState::kDraining));
  int drained = 0;
  auto watch = b.on_drained("old", [&] { ++drained; });
  ASSERT_TRUE(watch.has_value());
  EXPECT_NE(*watch, 0u);
  // New requests avoid the draining backend.
  for (int i = 0; i < 4; ++i) EXPECT_EQ(b.try_acquire()->backend_id(), "new");
  l1->release();
  EXPECT_EQ(drained, 0);
  EXPECT_EQ(b.in_flight("old").value(), 1u);
  l2->release();
  EXPECT_EQ(drained, 1);
  // Already drained: the callback runs inside the call.
  auto now = b.on_drained("old", [&] { ++drained; });
  EXPECT_EQ(now.value(), 0u);
  EXPECT_EQ(drained, 2);
  EXPECT_TRUE(b.remove_backend("old"));
  EXPECT_EQ(b.backends().size(), 1u);
}

TEST_F(BalancerTest, DrainWatchesCanBeCancelled) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto lease = b.try_acquire();
  bool called = false;
  auto watch = b.on_drained("a", [&] { called = true; });
  EXPECT_TRUE(b.cancel_watch(*watch));
  EXPECT_FALSE(b.cancel_watch(*watch));
  lease->release();
  EXPECT_FALSE(called);
}

// Removing a backend with requests in flight: they finish and still release on it; a drain
// watch set before the removal still fires.
TEST_F(BalancerTest, RemovedBackendsKeepTheirLeases) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto lease = b.try_acquire();
  bool drained = false;
  b.on_drained("a", [&] { drained = true; });
  ASSERT_TRUE(b.remove_backend("a"));
  EXPECT_EQ(lease->backend_id(), "a");
  lease->release();
  EXPECT_TRUE(drained);
  // A new backend with the same id is a new record.
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:5", BackendState::kReady));
  EXPECT_EQ(b.in_flight("a").value(), 0u);
}

TEST_F(BalancerTest, FailuresEjectABackendForFailTimeout) {
  BalancerOptions o = options();
  o.fail_timeout = 5s;
  Balancer b(clock, o);
  ASSERT_TRUE(b.add_backend("dead", "http://127.0.0.1:1", BackendState::kReady));
  auto lease = b.try_acquire();
  EXPECT_TRUE(lease->release_failed());
  auto status = b.backend("dead").value();
  ASSERT_TRUE(status.ejected_until.has_value());
  EXPECT_EQ(*status.ejected_until, clock.now() + 5s);
  EXPECT_EQ(status.failures, 1u);
  EXPECT_EQ(b.stats().ejections, 1u);
  // Ejected: requests queue...
  EXPECT_FALSE(b.try_acquire().has_value());
  Outcome waiting;
  b.acquire(waiting.callback());
  clock.advance(4s);
  EXPECT_FALSE(waiting.result);
  // ...and go when the ejection ends.
  clock.advance(1s);
  ASSERT_TRUE(waiting.granted());
  EXPECT_EQ(waiting.backend(), "dead");
}

TEST_F(BalancerTest, OwnerMarkingReadyClearsAnEjection) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  b.try_acquire()->release_failed();
  ASSERT_TRUE(b.set_state("a", BackendState::kNotReady));  // the fleet saw the crash
  ASSERT_TRUE(b.set_state("a", BackendState::kReady));     // restarted, probes pass
  EXPECT_FALSE(b.backend("a")->ejected_until.has_value());
  EXPECT_TRUE(b.try_acquire().has_value());
}

TEST_F(BalancerTest, MaxFailsCountsConsecutiveFailures) {
  BalancerOptions o = options();
  o.max_fails = 2;
  Balancer b(clock, o);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  EXPECT_FALSE(b.try_acquire()->release_failed());
  b.try_acquire()->release();  // a success resets the count
  EXPECT_FALSE(b.try_acquire()->release_failed());
  EXPECT_TRUE(b.try_acquire()->release_failed());
  EXPECT_FALSE(b.try_acquire().has_value());

  BalancerOptions off = options();
  off.max_fails = 0;
  Balancer never(clock, off);
  ASSERT_TRUE(never.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(never.try_acquire()->release_failed());
  EXPECT_TRUE(never.try_acquire().has_value());
}

TEST_F(BalancerTest, LoadSignalsDriveLeastKvCacheUntilTheyAreStale) {
  BalancerOptions o = options();
  o.policy = PolicyKind::kLeastKvCache;
  o.max_load_age = 5s;
  Balancer b(clock, o);
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  ASSERT_TRUE(b.add_backend("b", "http://127.0.0.1:2", BackendState::kReady));
  EXPECT_EQ(b.set_load("a", LoadSignal{-0.1, 0, clock.now()}).error().code,
            core::ErrorCode::kInvalidArgument);
  EXPECT_EQ(b.set_load("zz", LoadSignal{0.1, 0, clock.now()}).error().code,
            core::ErrorCode::kNotFound);
  ASSERT_TRUE(b.set_load("a", LoadSignal{0.9, 0, clock.now()}));
  ASSERT_TRUE(b.set_load("b", LoadSignal{0.1, 0, clock.now()}));
  std::vector<Lease> held;
  for (int i = 0; i < 3; ++i) {
    held.push_back(std::move(*b.try_acquire()));
    EXPECT_EQ(held.back().backend_id(), "b");
  }
  EXPECT_DOUBLE_EQ(b.backend("b")->load->kv_cache_usage, 0.1);
  // Stale signals are ignored: least outstanding takes over and fills "a".
  clock.advance(6s);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(b.try_acquire()->backend_id(), "a");
}

TEST_F(BalancerTest, ShutdownCancelsQueuedRequests) {
  Outcome waiting;
  std::optional<Lease> outstanding;
  {
    Balancer b(clock, options());
    ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
    outstanding = b.try_acquire();
    ASSERT_TRUE(b.set_state("a", BackendState::kNotReady));
    b.acquire(waiting.callback());
  }
  ASSERT_TRUE(waiting.result.has_value());
  EXPECT_EQ(waiting.code(), core::ErrorCode::kCancelled);
  outstanding->release();  // after the balancer is gone: harmless
  EXPECT_EQ(clock.pending(), 0u);
}

TEST_F(BalancerTest, ShutdownRefusesNewRequestsAndKeepsLeases) {
  Balancer b(clock, options());
  ASSERT_TRUE(b.add_backend("a", "http://127.0.0.1:1", BackendState::kReady));
  auto lease = b.try_acquire();
  ASSERT_TRUE(b.set_state("a", BackendState::kNotReady));
  Outcome queued, later;
  b.acquire(queued.callback());
  b.shutdown();
  EXPECT_EQ(queued.code(), core::ErrorCode::kCancelled);
  EXPECT_EQ(b.acquire(later.callback()), 0u);
  EXPECT_EQ(later.code(), core::ErrorCode::kCancelled);
  ASSERT_TRUE(b.set_state("a", BackendState::kReady));
  EXPECT_FALSE(b.try_acquire().has_value());
  EXPECT_EQ(b.in_flight("a").value(), 1u);
  lease->release();
  EXPECT_EQ(b.in_flight("a").value(), 0u);
  b.shutdown();  // idempotent
}

// Leases taken and released on several threads while the owner flips states: counts stay exact.
TEST_F(BalancerTest, ConcurrentLeasesKeepExactCounts) {
  BalancerOptions o = options();
  o.max_queue = 0;
  Balancer b(clock, o);
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(b.add_backend("p" + std::to_string(i), "http://127.0.0.1:" + std::to_string(i + 1),
                              BackendState::kReady));
  }
  std::atomic<bool> stop = false;
  std::atomic<int> granted = 0;
  std::vector<std::thread> workers;
  for (int t = 0; t < 4; ++t) {
    workers.emplace_back([&] {
      for (int i = 0; i < 2000; ++i) {
        auto lease = b.try_acquire();
        if (lease) ++granted;
      }
    });
  }
  std::thread owner([&] {
    while (!stop) {
      (void)b.set_state("p0", BackendState::kDraining);
      (void)b.set_state("p0", BackendState::kReady);
    }
  });
  for (auto& w : workers) w.join();
  stop = true;
  owner.join();
  std::uint64_t total = 0;
  for (const auto& s : b.backends()) {
    EXPECT_EQ(s.in_flight, 0u);
    total += s.requests;
  }
  EXPECT_EQ(total, static_cast<std::uint64_t>(granted.load()));
  EXPECT_EQ(b.stats().granted, total);
}

}  // namespace
}  // namespace llmscale::router
