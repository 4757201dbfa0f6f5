// Synthetic prompt text whose whitespace token count is exact: one word per token.
//
// Real tokenizers split text differently, so the load generator does not pretend to know a
// model's tokenizer: it sends N space-separated words for N prompt tokens, which the simulated
// server (llmscale serve-sim) counts as N tokens, and which real servers count as roughly N to
// 1.3 N. An optional request field can carry the exact count as well (RequestOptions).
//
// Words come from a fixed list of common English words, chosen by a hash of (seed, position),
// so distinct requests do not share a KV-cache prefix by accident. With Mooncake hash ids, the
// words of block b (512 tokens) depend only on hash_ids[b]: requests whose ids share a leading
// run share exactly that text prefix, as the trace intends.
//
// Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/words.h"

namespace llmscale::loadgen {

// A prompt of exactly `tokens` words (REQUIRES: tokens >= 0).
std::string make_prompt(std::int64_t tokens, std::uint64_t seed,
                        const std::vector<std::uint64_t>* hash_ids = nullptr,
                        std::int64_t block_tokens = 512);

// Whitespace-separated words in `text` (how output text is counted when a server reports no
// token usage).
using core::count_words;

}  // namespace llmscale::loadgen
