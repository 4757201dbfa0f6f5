// Shared helpers for the engine tests: the repository's profiles and a tiny inline profile whose
// KV cache size and scheduler limits each test chooses.
#pragma once

#include <string>

#include <gtest/gtest.h>

#include "engine/profile.h"

namespace llmscale::engine::testing {

inline std::string profiles_dir() {
  return std::string(LLMSCALE_SOURCE_DIR) + "/profiles";
}

inline Profile shipped(const std::string& name) {
  auto profile = load_profile(profiles_dir(), name);
  EXPECT_TRUE(profile.has_value()) << (profile ? "" : profile.error().message);
  return profile ? *profile : Profile{};
}

struct TinyOptions {
  int num_blocks = 64;
  int block_size = 16;
  int max_num_seqs = 8;
  int max_num_batched_tokens = 256;
  int max_model_len = 1024;
  bool prefix_caching = true;
  bool chunked_prefill = true;
};

// Llama-3.1-8B on H100 timings with a small, exactly sized KV cache.
inline Profile tiny(const TinyOptions& o = {}) {
  Profile p = shipped("llama-3.1-8b-h100");
  p.name = "tiny";
  p.scheduler.num_gpu_blocks_override = o.num_blocks;
  p.scheduler.block_size = o.block_size;
  p.scheduler.max_num_seqs = o.max_num_seqs;
  p.scheduler.max_num_batched_tokens = o.max_num_batched_tokens;
  p.scheduler.max_model_len = o.max_model_len;
  p.scheduler.enable_prefix_caching = o.prefix_caching;
  p.scheduler.enable_chunked_prefill = o.chunked_prefill;
  return p;
}

}  // namespace llmscale::engine::testing
