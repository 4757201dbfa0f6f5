// Small deterministic mixing functions shared by everything that derives reproducible
// pseudo-random values from a seed (engine jitter, generated text, trace prompts, simulator
// draws, object UIDs).
#pragma once

#include <cstdint>

namespace llmscale::core {

// SplitMix64 (Steele, Lea, Flood 2014): adds the golden-ratio increment, then finalizes. As a
// generator, state = splitmix64(state) walks a full-period sequence; as a hash, it maps
// neighbouring inputs to unrelated outputs.
constexpr std::uint64_t splitmix64(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ULL;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
  return x ^ (x >> 31);
}

// The golden-ratio increment itself, for spreading a sequence number before mixing.
inline constexpr std::uint64_t kGoldenGamma = 0x9E3779B97F4A7C15ULL;

}  // namespace llmscale::core
