// The capacity model of the latency-SLO policy: how many requests per second one replica serves
// within an inter-token-latency target (batch-aware, from the engine's roofline step-time
// model), and how many replicas a fleet needs so that the queueing delay stays within the
// TTFT budget at the SLO's quantile (M/M/c, Erlang C). Pure functions.
#pragma once

#include <cstdint>

#include "engine/profile.h"

namespace llmscale::policy {

struct ReplicaCapacity {
  double requests_per_s = 0;  // sustainable arrival rate per replica within the ITL target
  double batch = 0;           // decoding sequences at that rate (Little's law)
  double prefill_s = 0;       // one prompt's prefill alone: the TTFT floor
};

// Steady state at rate r with mean prompt I and output O tokens: every step lasts at most the
// ITL target Y, so B = r·Y·O sequences decode and r·Y·I prompt tokens are prefilled per step
// (vLLM V1 mixes them, chunked); r is the largest rate whose step fits in Y, with B within
// max_num_seqs and the KV cache, and the step's tokens within max_num_batched_tokens.
// `utilization` (0..1] keeps headroom below that limit.
ReplicaCapacity replica_capacity(const engine::Profile& profile, double mean_input_tokens,
                                 double mean_output_tokens, double itl_target_s,
                                 double utilization);

// Erlang C: the probability that an arrival waits, c servers, offered load a = λ/μ (a < c);
// 1 when a >= c.
double erlang_c(std::int32_t servers, double offered);

// P(wait > t) in M/M/c: C(c, a)·exp(-(cμ - λ)·t); 1 when unstable.
double wait_tail(std::int32_t servers, double arrival_rate, double service_rate, double t);

// The fewest servers (1..max) with P(wait > budget) <= miss_fraction; max when none.
std::int32_t servers_for_wait(double arrival_rate, double service_rate, double budget_s,
                              double miss_fraction, std::int32_t max_servers);

}  // namespace llmscale::policy
