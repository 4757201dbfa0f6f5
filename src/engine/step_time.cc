// Roofline step-time model; equations in step_time.h and docs/engine-model.md.
#include "engine/step_time.h"

#include <algorithm>
#include <cmath>

namespace llmscale::engine {

StepTimeModel::StepTimeModel(const Profile& profile) {
  const ModelConfig& m = profile.model;
  const AcceleratorSpec& a = profile.accelerator;
  const Efficiencies& e = profile.efficiency;
  const double tp = profile.tensor_parallel;

  // Per chip: the transformer blocks and the LM head are split across the TP group (vLLM's
  // column/row-parallel linears and vocab-parallel LM head). The embedding lookup is a gather of
  // T rows, negligible next to the GEMMs, so its table is not streamed.
  const double block_params = m.block_parameters() / tp;
  const double head_params = m.embedding_parameters() / tp;
  // Quantized blocks stream fewer bytes and, with FP8/INT8 tensor cores, compute faster; the LM
  // head stays in torch_dtype (vLLM does not quantize it).
  weight_bytes_ =
      block_params * m.block_weight_bytes_per_param() + head_params * m.weight_bytes_per_param;
  const double gemm_peak = gemm_peak_flops(m, a);
  kv_bytes_per_token_ = engine::kv_bytes_per_token_per_chip(m, profile.tensor_parallel);

  weight_stream_s_ = weight_bytes_ / (e.weight_bandwidth * a.memory_bandwidth);
  gemm_s_per_token_ = 2.0 * block_params / (e.gemm_flops * gemm_peak);
  head_s_per_seq_ = 2.0 * head_params / (e.gemm_flops * a.peak_flops);
  p_ = e.overlap_exponent;
  kv_s_per_token_ = kv_bytes_per_token_ / (e.attention_bandwidth * a.memory_bandwidth);
  // QK^T and PV: 2 matmuls × 2 FLOP per multiply-add × heads per chip × head_dim, per layer.
  const double q_heads = double(m.num_attention_heads) / tp;
  attn_s_per_unit_ =
      4.0 * m.num_hidden_layers * q_heads * m.head_dim / (e.attention_flops * a.peak_flops);
  if (profile.tensor_parallel > 1) {
    // Two all-reduces per layer (after attention and after the MLP) of T × hidden bf16 values.
    allreduce_fixed_s_ = 2.0 * m.num_hidden_layers * a.allreduce_latency_s;
    allreduce_s_per_token_ = a.allreduce_bandwidth > 0 ? 2.0 * m.num_hidden_layers * m.hidden_size *
                                                             2.0 / a.allreduce_bandwidth
                                                       : 0.0;
  }
  cpu_s_ = e.cpu_overhead_s;
  cpu_s_per_seq_ = e.cpu_overhead_per_seq_s;
  detok_s_per_token_ = e.detokenize_per_token_s;
  host_overlap_ = e.host_overlap.value_or(host_overlap_default(profile.scheduler.policy));
  detokenize_in_frontend_ =
      e.detokenize_in_frontend.value_or(detokenize_in_frontend_default(profile.scheduler.policy));

  peak_weight_stream_s_ = weight_bytes_ / a.memory_bandwidth;
  peak_gemm_s_per_token_ = 2.0 * block_params / gemm_peak;
  peak_head_s_per_seq_ = 2.0 * head_params / a.peak_flops;
}

StepTimeBreakdown StepTimeModel::breakdown(const BatchShape& b) const {
  StepTimeBreakdown t;
  if (b.new_tokens <= 0) return t;
  const double memory = weight_stream_s_;
  const double compute =
      gemm_s_per_token_ * double(b.new_tokens) + head_s_per_seq_ * double(b.sampled_seqs);
  // Smooth roofline: max(m, c) · (1 + (min/max)^p)^(1/p). p = 1 adds both; p → ∞ is max().
  const double hi = std::max(memory, compute);
  const double lo = std::min(memory, compute);
  const double ratio = lo / hi;
  t.gemm = p_ == 1.0 ? hi + lo : hi * std::pow(1.0 + std::pow(ratio, p_), 1.0 / p_);
  t.attention = kv_s_per_token_ * (b.decode_context_tokens + b.prefill_context_tokens) +
                attn_s_per_unit_ * b.prefill_attention_units;
  t.allreduce = allreduce_fixed_s_ > 0 || allreduce_s_per_token_ > 0
                    ? allreduce_fixed_s_ + allreduce_s_per_token_ * double(b.new_tokens)
                    : 0.0;
  // Host work: serial terms add to the step; overlapped ones (run one batch ahead, or in
  // another process) only bound it: the step takes as long as the slowest of the pipelines.
  const double host = cpu_s_ + cpu_s_per_seq_ * double(b.num_seqs);
  const double detok = detok_s_per_token_ * double(b.sampled_seqs);
  t.cpu = host_overlap_ ? 0.0 : host;
  t.detokenize = detokenize_in_frontend_ ? 0.0 : detok;
  const double serial = t.gpu() + t.cpu + t.detokenize;
  if (host_overlap_ && host > serial) t.cpu += host - serial;
  if (detokenize_in_frontend_ && detok > t.total()) t.detokenize += detok - t.total();
  return t;
}

double StepTimeModel::lower_bound_seconds(const BatchShape& b) const {
  if (b.new_tokens <= 0) return 0;
  return std::max(peak_weight_stream_s_, peak_gemm_s_per_token_ * double(b.new_tokens) +
                                             peak_head_s_per_seq_ * double(b.sampled_seqs));
}

BatchShape StepTimeModel::decode_shape(std::int64_t batch, std::int64_t context) {
  BatchShape b;
  b.new_tokens = batch;
  b.num_seqs = batch;
  b.sampled_seqs = batch;
  b.decode_context_tokens = double(batch) * double(context + 1);
  return b;
}

BatchShape StepTimeModel::prefill_shape(std::int64_t tokens) {
  BatchShape b;
  b.new_tokens = tokens;
  b.num_seqs = 1;
  b.sampled_seqs = 1;
  b.prefill_attention_units = double(tokens) * double(tokens) / 2.0;
  return b;
}

}  // namespace llmscale::engine
