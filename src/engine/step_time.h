// StepTimeModel: how long one engine step (one forward pass over a continuous batch) takes on
// the profile's accelerators, from a roofline model (docs/engine-model.md has the equations
// and where each constant comes from):
//
//   t = t_cpu + t_gemm + t_attention + t_allreduce
//   t_gemm       = (m^p + c^p)^(1/p),  m = W / (η_bw · BW),  c = 2 (N·T + N_head·S) / (η_fl · F)
//   t_attention  = K · kv_bytes / (η_attn_bw · BW) + 4 · L · H_q · d · A / (η_attn_fl · F)
//   t_allreduce  = 2 · L · (latency + T · hidden · 2 B / allreduce_bw)       (TP > 1)
//   t_host       = cpu_overhead + cpu_overhead_per_seq · n_seqs      (scheduler, sampler)
//   t_detok      = detokenize_per_token · S
//   t_step       = max(t_gpu + serial host terms, each overlapped host term)
// where t_gpu = t_gemm + t_attention + t_allreduce, and t_host / t_detok are serial (added)
// or overlapped (a bound on the step rate) as the engine does it (Efficiencies::host_overlap,
// detokenize_in_frontend):
// per chip of the tensor-parallel group: W weight bytes, N block parameters, N_head LM-head
// parameters, T new tokens in the batch, S sequences that sample, K KV tokens read,
// A = Σ chunk_tokens · (cached_context + chunk_tokens / 2) over prefill chunks.
//
// Immutable after construction; every method is const and thread-safe. The constants are
// folded at construction so step_time() is a handful of multiplications (it runs once per
// simulated step).
#pragma once

#include <cstdint>

#include "engine/profile.h"

namespace llmscale::engine {

// What one step computes, summed over the sequences of the batch.
struct BatchShape {
  std::int64_t new_tokens = 0;         // T: prefill-chunk tokens + one per decoding sequence
  std::int64_t num_seqs = 0;           // sequences in the batch
  std::int64_t sampled_seqs = 0;       // S: sequences whose last token is computed this step
  double decode_context_tokens = 0;    // K part: Σ context read by decode sequences
  double prefill_context_tokens = 0;   // K part: Σ cached context read by prefill chunks
  double prefill_attention_units = 0;  // A: Σ t_i · (c_i + t_i / 2)
};

// The terms of one step, in seconds (for tests, the docs and explain output).
// `cpu` and `detokenize` are the host time the step exposes: all of it when serial, the part
// beyond the GPU terms when overlapped.
struct StepTimeBreakdown {
  double cpu = 0;
  double detokenize = 0;
  double gemm = 0;
  double attention = 0;
  double allreduce = 0;
  double gpu() const { return gemm + attention + allreduce; }
  double total() const { return cpu + detokenize + gemm + attention + allreduce; }
};

class StepTimeModel {
 public:
  explicit StepTimeModel(const Profile& profile);

  // Seconds for one step of this shape; 0 for an empty batch.
  double step_seconds(const BatchShape& batch) const { return breakdown(batch).total(); }
  StepTimeBreakdown breakdown(const BatchShape& batch) const;

  // The hard roofline at 100% of datasheet bandwidth and FLOP/s with no overheads: no step
  // can be faster (throughput never exceeds T / lower_bound).
  double lower_bound_seconds(const BatchShape& batch) const;

  // Seconds the frontend process spends detokenizing and streaming this step's tokens when the
  // engine runs its detokenizer there (0 when it runs in the step loop, or costs nothing). The
  // Engine queues arriving requests behind it: one process tokenizes requests and streams tokens.
  double frontend_seconds(const BatchShape& batch) const {
    return detokenize_in_frontend_ ? detok_s_per_token_ * double(batch.sampled_seqs) : 0.0;
  }

  // Convenience shapes: `batch` sequences decoding one token each with `context` tokens of KV,
  // and one prompt of `tokens` tokens prefilled in one step from scratch.
  static BatchShape decode_shape(std::int64_t batch, std::int64_t context);
  static BatchShape prefill_shape(std::int64_t tokens);

  double weight_bytes_per_chip() const { return weight_bytes_; }
  double kv_bytes_per_token_per_chip() const { return kv_bytes_per_token_; }

 private:
  double weight_bytes_ = 0;
  double kv_bytes_per_token_ = 0;
  // Folded constants (seconds per unit).
  double weight_stream_s_ = 0;   // W / (η_bw BW)
  double gemm_s_per_token_ = 0;  // 2 N / (η_fl F)
  double head_s_per_seq_ = 0;    // 2 N_head / (η_fl F)
  double p_ = 1.5;
  double kv_s_per_token_ = 0;         // kv_bytes / (η_attn_bw BW)
  double attn_s_per_unit_ = 0;        // 4 L H_q d / (η_attn_fl F)
  double allreduce_fixed_s_ = 0;      // 2 L latency
  double allreduce_s_per_token_ = 0;  // 2 L hidden 2 B / bw
  double cpu_s_ = 0;
  double cpu_s_per_seq_ = 0;
  double detok_s_per_token_ = 0;
  bool host_overlap_ = false;
  bool detokenize_in_frontend_ = true;
  // Peak (η = 1) versions for lower_bound_seconds().
  double peak_weight_stream_s_ = 0;
  double peak_gemm_s_per_token_ = 0;
  double peak_head_s_per_seq_ = 0;
};

}  // namespace llmscale::engine
