// Fuzzes profile decoding: never crashes; a profile that loads runs a few engine steps with
// consistent KV bookkeeping and finite step times.
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "engine/engine.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  using namespace llmscale;
  std::string_view text(reinterpret_cast<const char*>(data), size);
  // No file access: named models and accelerators resolve against the built-in profiles only.
  auto profile = engine::parse_profile(text, "fuzz", "fuzz");
  if (!profile) {
    if (profile.error().message.empty()) std::abort();
    return 0;
  }
  engine::MemoryPlan plan = engine::memory_plan(*profile);
  if (plan.num_blocks < 1 || plan.num_blocks > 100000) return 0;
  auto e = engine::Engine::create(*profile);
  if (!e) return 0;
  core::Time now{};
  engine::RequestSpec spec;
  spec.prompt_tokens = std::min<std::int64_t>(100, (*e)->max_model_len() - 1);
  spec.max_tokens = 3;
  spec.ignore_eos = true;
  if (spec.prompt_tokens < 1 || !(*e)->submit(spec, now)) return 0;
  for (int i = 0; i < 200 && (*e)->has_work(); ++i) {
    const auto& step = (*e)->step(now);
    if (step.duration.count() < 0) std::abort();
    now = step.end();
  }
  if (!(*e)->check_invariants()) std::abort();
  return 0;
}
