// The three balancing policies (see policy.h for the upstream rules they follow).
#include "router/policy.h"

#include <algorithm>
#include <limits>
#include <string>

namespace llmscale::router {
namespace {

// Among the candidates `keep` accepts, one with the fewest requests in flight; ties take turns
// (the cursor picks which of the tied ones). REQUIRES: keep() accepts at least one candidate.
template <class Keep>
std::size_t least_in_flight(std::span<const Candidate> candidates, std::uint64_t& cursor,
                            const Keep& keep) {
  const std::size_t n = candidates.size();
  std::size_t least = std::numeric_limits<std::size_t>::max();
  std::size_t tied = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (!keep(i)) continue;
    if (candidates[i].in_flight < least) {
      least = candidates[i].in_flight;
      tied = 1;
    } else if (candidates[i].in_flight == least) {
      ++tied;
    }
  }
  if (tied == 0) return 0;
  std::size_t turn = static_cast<std::size_t>(cursor++ % tied);
  for (std::size_t i = 0; i < n; ++i) {
    if (keep(i) && candidates[i].in_flight == least && turn-- == 0) return i;
  }
  return 0;
}

}  // namespace

std::string_view policy_name(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kRoundRobin: return "round-robin";
    case PolicyKind::kLeastOutstanding: return "least-outstanding-requests";
    case PolicyKind::kLeastKvCache: return "least-kv-cache";
  }
  return "unknown";
}

core::Result<PolicyKind> parse_policy(std::string_view name) {
  if (name == "round-robin" || name == "rr") return PolicyKind::kRoundRobin;
  if (name == "least-outstanding-requests" || name == "least-outstanding" ||
      name == "least-request" || name == "lor") {
    return PolicyKind::kLeastOutstanding;
  }
  if (name == "least-kv-cache" || name == "kv") return PolicyKind::kLeastKvCache;
  return core::invalid_argument(
      "unknown balancing policy \"" + std::string(name) +
      "\" (want round-robin, least-outstanding-requests or least-kv-cache)");
}

std::unique_ptr<Policy> make_policy(PolicyKind kind) {
  switch (kind) {
    case PolicyKind::kRoundRobin: return std::make_unique<RoundRobinPolicy>();
    case PolicyKind::kLeastOutstanding: return std::make_unique<LeastOutstandingPolicy>();
    case PolicyKind::kLeastKvCache: return std::make_unique<LeastKvCachePolicy>();
  }
  return std::make_unique<LeastOutstandingPolicy>();
}

std::size_t RoundRobinPolicy::pick(std::span<const Candidate> candidates) {
  return static_cast<std::size_t>(cursor_++ % candidates.size());
}

std::size_t LeastOutstandingPolicy::pick(std::span<const Candidate> candidates) {
  return least_in_flight(candidates, cursor_, [](std::size_t) { return true; });
}

LoadEstimate LeastKvCachePolicy::estimate(const Candidate& candidate, double kv_per_request) {
  LoadEstimate out;
  if (!candidate.load) return out;
  const LoadSignal& load = *candidate.load;
  double delta =
      static_cast<double>(candidate.in_flight) - static_cast<double>(candidate.in_flight_at_load);
  if (candidate.in_flight_at_load > 0) {
    kv_per_request = load.kv_cache_usage / static_cast<double>(candidate.in_flight_at_load);
  }
  out.kv_cache_usage = std::max(0.0, load.kv_cache_usage + delta * kv_per_request);
  out.queue_length = load.queue_length;
  // New requests wait when the replica was already queueing or its cache is (estimated) full.
  if (delta > 0 && (load.queue_length > 0 || out.kv_cache_usage >= 1.0)) {
    out.queue_length += delta;
  }
  return out;
}

std::size_t LeastKvCachePolicy::pick(std::span<const Candidate> candidates) {
  const std::size_t n = candidates.size();
  // KV cache per request where the signal tells (usage / requests in flight when measured),
  // averaged for the replicas that had none in flight then.
  std::size_t known = 0;
  std::size_t measured = 0;
  double per_request_sum = 0;
  for (const auto& c : candidates) {
    if (!c.load) continue;
    ++known;
    if (c.in_flight_at_load > 0) {
      ++measured;
      per_request_sum += c.load->kv_cache_usage / static_cast<double>(c.in_flight_at_load);
    }
  }
  if (known == 0) return least_in_flight(candidates, cursor_, [](std::size_t) { return true; });
  const double kv_per_request = measured > 0 ? per_request_sum / static_cast<double>(measured) : 0;

  // Candidates without a signal are assumed average.
  double queue_sum = 0;
  double kv_sum = 0;
  for (const auto& c : candidates) {
    if (!c.load) continue;
    LoadEstimate e = estimate(c, kv_per_request);
    queue_sum += e.queue_length;
    kv_sum += e.kv_cache_usage;
  }
  const LoadEstimate average{kv_sum / static_cast<double>(known),
                             queue_sum / static_cast<double>(known)};
  auto at = [&](std::size_t i) {
    return candidates[i].load ? estimate(candidates[i], kv_per_request) : average;
  };

  // Gateway API Inference Extension: keep the lowest 1/n of the range, first by waiting queue...
  double queue_min = std::numeric_limits<double>::infinity();
  double queue_max = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    double q = at(i).queue_length;
    queue_min = std::min(queue_min, q);
    queue_max = std::max(queue_max, q);
  }
  const double queue_limit = queue_min + (queue_max - queue_min) / static_cast<double>(n);
  // ...then by KV-cache use among those.
  std::size_t m = 0;
  double kv_min = std::numeric_limits<double>::infinity();
  double kv_max = -std::numeric_limits<double>::infinity();
  for (std::size_t i = 0; i < n; ++i) {
    LoadEstimate e = at(i);
    if (e.queue_length > queue_limit) continue;
    ++m;
    kv_min = std::min(kv_min, e.kv_cache_usage);
    kv_max = std::max(kv_max, e.kv_cache_usage);
  }
  const double kv_limit = kv_min + (kv_max - kv_min) / static_cast<double>(m);
  // Finally the fewest in flight: the only live number, so a burst spreads over equals.
  return least_in_flight(candidates, cursor_, [&](std::size_t i) {
    LoadEstimate e = at(i);
    return e.queue_length <= queue_limit && e.kv_cache_usage <= kv_limit;
  });
}

}  // namespace llmscale::router
