// Load-balancing policies: which ready backend gets the next request.
//
// A Policy is a pure decision over a list of candidates (the backends that may take a request
// now, in the balancer's stable order): no I/O, no clock, no locks, no allocation per pick. The
// Balancer calls it under its own lock; the fleet simulator calls it on a SimulatedClock with the
// same candidates. Policies keep only a rotation cursor, so equal inputs give equal picks
// (deterministic, unlike the random tie-break of the upstream projects they follow).
//
//  * round-robin: each candidate in turn (Envoy ROUND_ROBIN, nginx's default).
//  * least-outstanding-requests (default): fewest requests in flight through this router; ties go
//    round-robin (nginx least_conn; Envoy LEAST_REQUEST with all hosts compared instead of
//    power-of-two choices, since fleets here are small and a full scan is exact).
//  * least-KV-cache: the Gateway API Inference Extension's default filter chain — keep the
//    candidates whose waiting queue lies in the lowest 1/n of the [min, max] range, then those
//    whose KV-cache use lies in the lowest 1/m of its range — then the fewest in flight (where
//    upstream picks at random). The signal comes from scraped server metrics
//    (vllm:kv_cache_usage_perc, vllm:num_requests_waiting, ...), so it is as old as the last
//    scrape (upstream refreshes every 50 ms; here a scrape is 1-15 s). To keep a burst between
//    two scrapes from landing on the replica that looked emptiest, the signal is moved forward
//    by the requests this router sent (or finished) since it was taken: each adds the replica's
//    KV cache per request (usage / requests in flight when measured; the fleet's mean for a
//    replica that had none), and adds to the waiting queue when the replica was already
//    queueing or its cache is estimated full. A candidate without a (fresh) signal is assumed
//    average; when none has one the policy is least-outstanding-requests.
//
// Thread-safety: a Policy instance is not thread-safe (its cursor changes on every pick).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>

#include "core/result.h"
#include "core/time.h"

namespace llmscale::router {

// What the owner knows about a backend's load, from its metrics.
struct LoadSignal {
  // Fraction 0..1 of the KV cache in use: the metric contract's "KV-cache use"
  // (server/metric_contract.h; vllm:kv_cache_usage_perc and its aliases on every engine).
  double kv_cache_usage = 0;
  // Requests waiting in the server's own queue: the contract's "queue".
  double queue_length = 0;
  // When the metrics were taken (the scrape time); older than BalancerOptions::max_load_age
  // counts as unknown.
  core::Time observed_at{};
};

// A load signal moved forward to now (see least-KV-cache above).
struct LoadEstimate {
  double kv_cache_usage = 0;
  double queue_length = 0;
};

struct Candidate {
  // Requests this router has in flight on the backend.
  std::size_t in_flight = 0;
  // The backend's load signal when fresh, else nullopt.
  std::optional<LoadSignal> load;
  // in_flight when `load` was set (for the staleness correction).
  std::size_t in_flight_at_load = 0;
};

class Policy {
 public:
  virtual ~Policy() = default;
  virtual std::string_view name() const = 0;
  // The position in `candidates` of the backend to use. REQUIRES: !candidates.empty().
  virtual std::size_t pick(std::span<const Candidate> candidates) = 0;
};

enum class PolicyKind { kRoundRobin, kLeastOutstanding, kLeastKvCache };

// "round-robin", "least-outstanding-requests", "least-kv-cache".
std::string_view policy_name(PolicyKind kind);
// Accepts the names above (and "least-request", "least-outstanding", "lor", "rr", "kv").
core::Result<PolicyKind> parse_policy(std::string_view name);
std::unique_ptr<Policy> make_policy(PolicyKind kind);

class RoundRobinPolicy final : public Policy {
 public:
  std::string_view name() const override { return policy_name(PolicyKind::kRoundRobin); }
  std::size_t pick(std::span<const Candidate> candidates) override;

 private:
  std::uint64_t cursor_ = 0;
};

class LeastOutstandingPolicy final : public Policy {
 public:
  std::string_view name() const override { return policy_name(PolicyKind::kLeastOutstanding); }
  std::size_t pick(std::span<const Candidate> candidates) override;

 private:
  std::uint64_t cursor_ = 0;
};

class LeastKvCachePolicy final : public Policy {
 public:
  std::string_view name() const override { return policy_name(PolicyKind::kLeastKvCache); }
  std::size_t pick(std::span<const Candidate> candidates) override;

  // The load the policy assumes for a candidate: its signal moved forward by the requests sent
  // or finished since, at `kv_per_request` when the signal cannot tell (none were in flight).
  // All zero without a signal.
  static LoadEstimate estimate(const Candidate& candidate, double kv_per_request);

 private:
  std::uint64_t cursor_ = 0;
};

}  // namespace llmscale::router
