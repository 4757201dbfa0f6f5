// Batch-aware replica capacity and the Erlang-C fleet size (capacity.h).
#include "policy/capacity.h"

#include <algorithm>
#include <cmath>

#include "engine/step_time.h"

namespace llmscale::policy {

namespace {

// Step time of the steady-state batch at rate r (requests/s) with step length y.
double steady_step_seconds(const engine::StepTimeModel& model, double r, double y, double in,
                           double out) {
  double decoding = r * y * out;
  double prefill_tokens = r * y * in;
  engine::BatchShape shape;
  shape.new_tokens = static_cast<std::int64_t>(std::ceil(decoding + prefill_tokens));
  shape.num_seqs = static_cast<std::int64_t>(std::ceil(decoding + r * y));
  shape.sampled_seqs = static_cast<std::int64_t>(std::ceil(decoding));
  shape.decode_context_tokens = decoding * (in + out / 2);
  shape.prefill_attention_units = prefill_tokens * in / 2;
  return model.step_seconds(shape);
}

}  // namespace

ReplicaCapacity replica_capacity(const engine::Profile& profile, double mean_input_tokens,
                                 double mean_output_tokens, double itl_target_s,
                                 double utilization) {
  engine::StepTimeModel model(profile);
  double in = std::max(1.0, mean_input_tokens);
  double out = std::max(1.0, mean_output_tokens);
  double y = itl_target_s;
  double kv_tokens = static_cast<double>(engine::memory_plan(profile).capacity_tokens());
  double max_seqs = profile.scheduler.max_num_seqs;
  double max_tokens = profile.scheduler.max_num_batched_tokens;
  // The steady step at rate r is the smallest fixed point of t = step(r, t) (the step time grows
  // with the batch, which grows with the step time); it fits when that is within Y, and the
  // batch, its tokens and its KV are within the engine's limits.
  auto fits = [&](double r) {
    if (steady_step_seconds(model, r, y, in, out) > y) return false;
    double t = 0;
    for (int i = 0; i < 40; ++i) t = steady_step_seconds(model, r, t, in, out);
    double b = r * t * out;
    if (b > max_seqs || b * (in + out) > kv_tokens) return false;
    return r * t * (in + out) <= max_tokens;
  };
  double lo = 0;
  double hi = 1;
  while (fits(hi) && hi < 1e6) hi *= 2;
  for (int i = 0; i < 60; ++i) {
    double mid = (lo + hi) / 2;
    (fits(mid) ? lo : hi) = mid;
  }
  ReplicaCapacity c;
  // A step never fits (ITL below one bare step): one request at a time is all there is.
  double r = lo > 0 ? lo
                    : 1.0 / (out * model.step_seconds(engine::StepTimeModel::decode_shape(
                                       1, static_cast<std::int64_t>(in))));
  c.requests_per_s = r * std::clamp(utilization, 0.05, 1.0);
  double t = 0;
  for (int i = 0; i < 40; ++i) t = steady_step_seconds(model, c.requests_per_s, t, in, out);
  c.batch = c.requests_per_s * t * out;
  c.prefill_s =
      model.step_seconds(engine::StepTimeModel::prefill_shape(static_cast<std::int64_t>(in)));
  return c;
}

double erlang_c(std::int32_t servers, double offered) {
  if (servers <= 0 || offered >= servers) return 1;
  if (offered <= 0) return 0;
  // Erlang B by its recursion, then C from B (numerically stable for thousands of servers).
  double b = 1;
  for (std::int32_t k = 1; k <= servers; ++k) b = offered * b / (k + offered * b);
  double c = servers;
  return c * b / (c - offered * (1 - b));
}

double wait_tail(std::int32_t servers, double arrival_rate, double service_rate, double t) {
  if (arrival_rate <= 0) return 0;
  if (service_rate <= 0 || servers <= 0) return 1;
  double a = arrival_rate / service_rate;
  if (a >= servers) return 1;
  return erlang_c(servers, a) * std::exp(-(servers * service_rate - arrival_rate) * t);
}

std::int32_t servers_for_wait(double arrival_rate, double service_rate, double budget_s,
                              double miss_fraction, std::int32_t max_servers) {
  for (std::int32_t c = 1; c <= max_servers; ++c) {
    if (wait_tail(c, arrival_rate, service_rate, std::max(0.0, budget_s)) <= miss_fraction)
      return c;
  }
  return max_servers;
}

}  // namespace llmscale::policy
