// The balancing policies as pure functions: round-robin order, least-outstanding with rotating
// ties, and the Gateway API Inference Extension's queue-then-KV-cache filter with our staleness
// correction and fallbacks.
#include "router/policy.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <vector>

namespace llmscale::router {
namespace {

Candidate idle(std::size_t in_flight) {
  Candidate c;
  c.in_flight = in_flight;
  return c;
}

Candidate loaded(std::size_t in_flight, double kv, double queue, std::size_t at_load) {
  Candidate c;
  c.in_flight = in_flight;
  c.load = LoadSignal{kv, queue, {}};
  c.in_flight_at_load = at_load;
  return c;
}

TEST(PolicyTest, NamesRoundTrip) {
  for (auto kind :
       {PolicyKind::kRoundRobin, PolicyKind::kLeastOutstanding, PolicyKind::kLeastKvCache}) {
    auto parsed = parse_policy(policy_name(kind));
    ASSERT_TRUE(parsed.has_value());
    EXPECT_EQ(*parsed, kind);
    EXPECT_EQ(make_policy(kind)->name(), policy_name(kind));
  }
  EXPECT_EQ(parse_policy("lor").value(), PolicyKind::kLeastOutstanding);
  auto bad = parse_policy("random");
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().code, core::ErrorCode::kInvalidArgument);
  EXPECT_NE(bad.error().message.find("least-kv-cache"), std::string::npos);
}

TEST(PolicyTest, RoundRobinVisitsEachInTurn) {
  RoundRobinPolicy policy;
  std::vector<Candidate> c = {idle(5), idle(0), idle(9)};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 6; ++i) picks.push_back(policy.pick(c));
  EXPECT_EQ(picks, (std::vector<std::size_t>{0, 1, 2, 0, 1, 2}));
}

TEST(PolicyTest, LeastOutstandingPicksTheFewestInFlight) {
  LeastOutstandingPolicy policy;
  std::vector<Candidate> c = {idle(3), idle(1), idle(2)};
  for (int i = 0; i < 5; ++i) EXPECT_EQ(policy.pick(c), 1u);
}

TEST(PolicyTest, LeastOutstandingRotatesAmongTies) {
  LeastOutstandingPolicy policy;
  std::vector<Candidate> c = {idle(0), idle(4), idle(0), idle(0)};
  std::map<std::size_t, int> count;
  for (int i = 0; i < 30; ++i) ++count[policy.pick(c)];
  EXPECT_EQ(count[1], 0);
  EXPECT_EQ(count[0], 10);
  EXPECT_EQ(count[2], 10);
  EXPECT_EQ(count[3], 10);
}

// Sending each request to the pick (and counting it in flight) spreads a burst evenly.
TEST(PolicyTest, LeastOutstandingBalancesABurst) {
  LeastOutstandingPolicy policy;
  std::vector<Candidate> c = {idle(0), idle(0), idle(0)};
  for (int i = 0; i < 300; ++i) ++c[policy.pick(c)].in_flight;
  for (const auto& candidate : c) EXPECT_EQ(candidate.in_flight, 100u);
}

// The upstream filter chain keeps the lowest 1/n of each range: queue first, KV cache second.
TEST(PolicyTest, LeastKvCacheFiltersByQueueThenKvCache) {
  LeastKvCachePolicy policy;
  // Queues 0, 3, 10 (n=3): keep queue <= 0 + 10/3, i.e. candidates 0 and 1.
  // KV among them 0.9 and 0.2 (m=2): keep kv <= 0.2 + 0.7/2 = 0.55, i.e. candidate 1.
  std::vector<Candidate> c = {loaded(0, 0.9, 0, 0), loaded(0, 0.2, 3, 0), loaded(0, 0.0, 10, 0)};
  for (int i = 0; i < 4; ++i) EXPECT_EQ(policy.pick(c), 1u);
}

TEST(PolicyTest, LeastKvCacheBreaksTiesByInFlight) {
  LeastKvCachePolicy policy;
  std::vector<Candidate> c = {loaded(4, 0.1, 0, 4), loaded(2, 0.1, 0, 2), loaded(7, 0.1, 0, 7)};
  EXPECT_EQ(policy.pick(c), 1u);
}

// Between two scrapes the signal is stale: each request sent since adds the replica's KV cache
// per request, so a burst fills the replicas towards equal use instead of all landing on the
// one that looked emptiest at the last scrape.
TEST(PolicyTest, LeastKvCacheMovesStaleSignalsForward) {
  LeastKvCachePolicy policy;
  // 0.1 with 1 request in flight, 0.4 with 2: 0.1 and 0.2 per request.
  std::vector<Candidate> c = {loaded(1, 0.1, 0, 1), loaded(2, 0.4, 0, 2)};
  std::vector<int> sent(2, 0);
  for (int i = 0; i < 12; ++i) {
    std::size_t k = policy.pick(c);
    ++c[k].in_flight;
    ++sent[k];
  }
  EXPECT_GE(sent[0], 6);  // the emptier one takes more...
  EXPECT_GE(sent[1], 2);  // ...but not everything
  double kv0 = LeastKvCachePolicy::estimate(c[0], 0).kv_cache_usage;
  double kv1 = LeastKvCachePolicy::estimate(c[1], 0).kv_cache_usage;
  EXPECT_NEAR(kv0, kv1, 0.25);
  // Without requests in flight when measured, the fleet's per-request figure is used.
  EXPECT_DOUBLE_EQ(LeastKvCachePolicy::estimate(loaded(3, 0.0, 0, 0), 0.05).kv_cache_usage, 0.15);
  // Requests finished since lower the estimate, never below zero.
  EXPECT_DOUBLE_EQ(LeastKvCachePolicy::estimate(loaded(0, 0.5, 1, 5), 0).kv_cache_usage, 0.0);
  EXPECT_DOUBLE_EQ(LeastKvCachePolicy::estimate(idle(4), 0.1).kv_cache_usage, 0.0);
}

// Requests sent to a replica that queues (or whose cache is full) wait there.
TEST(PolicyTest, LeastKvCacheCountsNewRequestsAsWaitingOnAFullReplica) {
  LoadEstimate queueing = LeastKvCachePolicy::estimate(loaded(5, 0.6, 2, 2), 0);
  EXPECT_DOUBLE_EQ(queueing.queue_length, 5.0);
  LoadEstimate full = LeastKvCachePolicy::estimate(loaded(12, 0.9, 0, 9), 0);
  EXPECT_DOUBLE_EQ(full.kv_cache_usage, 1.2);
  EXPECT_DOUBLE_EQ(full.queue_length, 3.0);
  LoadEstimate room = LeastKvCachePolicy::estimate(loaded(4, 0.2, 0, 2), 0);
  EXPECT_DOUBLE_EQ(room.queue_length, 0.0);
  // A replica at 0.5 with 5 in flight (0.1 each) and one already queueing 2: the first takes
  // requests until it is estimated full, then its queue grows past the other's.
  LeastKvCachePolicy policy;
  std::vector<Candidate> c = {loaded(5, 0.5, 0, 5), loaded(3, 0.9, 2, 3)};
  std::vector<std::size_t> picks;
  for (int i = 0; i < 8; ++i) {
    std::size_t k = policy.pick(c);
    ++c[k].in_flight;
    picks.push_back(k);
  }
  EXPECT_EQ(std::vector<std::size_t>(picks.begin(), picks.begin() + 5),
            (std::vector<std::size_t>{0, 0, 0, 0, 0}));
  EXPECT_NE(std::find(picks.begin() + 5, picks.end(), 1u), picks.end());
}

TEST(PolicyTest, LeastKvCacheFallsBackToLeastOutstandingWithoutSignals) {
  LeastKvCachePolicy policy;
  std::vector<Candidate> c = {idle(3), idle(1), idle(2)};
  EXPECT_EQ(policy.pick(c), 1u);
}

// A replica not scraped yet is assumed average: neither flooded nor starved.
TEST(PolicyTest, LeastKvCacheAssumesAverageLoadForUnknownCandidates) {
  LeastKvCachePolicy policy;
  // Known: kv 0.2 and 0.8 (mean 0.5), queues 0. Unknown gets 0.5: band is kv <= 0.2 + 0.6/3.
  std::vector<Candidate> c = {loaded(0, 0.2, 0, 0), loaded(0, 0.8, 0, 0), idle(0)};
  EXPECT_EQ(policy.pick(c), 0u);
  // With equal known loads the unknown one ties with them; in flight decides.
  std::vector<Candidate> same = {loaded(1, 0.4, 0, 1), loaded(1, 0.4, 0, 1), idle(0)};
  EXPECT_EQ(policy.pick(same), 2u);  // equal load, fewest in flight
}

TEST(PolicyTest, SingleCandidateIsAlwaysPicked) {
  std::vector<Candidate> one = {loaded(9, 1.0, 50, 0)};
  for (auto kind :
       {PolicyKind::kRoundRobin, PolicyKind::kLeastOutstanding, PolicyKind::kLeastKvCache}) {
    auto policy = make_policy(kind);
    for (int i = 0; i < 3; ++i) EXPECT_EQ(policy->pick(one), 0u) << policy->name();
  }
}

}  // namespace
}  // namespace llmscale::router
