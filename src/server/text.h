// Token counting and synthetic token text for the simulated server.
//
// The simulated server has no tokenizer: a prompt counts one token per word (a run of letters,
// digits, '_' or non-ASCII bytes) and one per other non-space character, plus one BOS token,
// as Llama tokenizers add (so "San Francisco is a" is 5 tokens, as vLLM reports for Llama 3).
// Clients that know the real count send it in the `llmscale.prompt_tokens` extension field
// (docs/server.md). Output tokens are words from a fixed list, chosen by a hash of the server
// seed, the request's sequence number and the token index: the same seed and request order
// give the same text, bit for bit. Pure functions; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace llmscale::server {

// Words and punctuation characters in `text` (no BOS).
std::int64_t count_text_tokens(std::string_view text);
// A completion prompt: count_text_tokens + 1 (BOS).
std::int64_t count_prompt_tokens(std::string_view prompt);

// Chat prompts follow the Llama 3 template: BOS, per message a header (start, role, end, "\n\n")
// plus the content and <|eot_id|>, then the assistant header.
constexpr std::int64_t kChatTokensPerMessage = 5;  // around role + content
constexpr std::int64_t kChatTokensForReply = 4;    // the assistant header at the end

// The text of output token `index` (1-based) of request `sequence`: a word with a leading
// space (" the", " river").
std::string_view synthetic_token(std::uint64_t seed, std::uint64_t sequence, std::int64_t index);
// A token id for APIs that report ids (TGI, JetStream): stable for the word.
std::int64_t synthetic_token_id(std::uint64_t seed, std::uint64_t sequence, std::int64_t index);
// Tokens [first, last] (1-based, inclusive) concatenated.
std::string synthetic_text(std::uint64_t seed, std::uint64_t sequence, std::int64_t first,
                           std::int64_t last);

// 32 lowercase hex digits derived from (seed, sequence): request ids ("cmpl-<hex>").
std::string hex_id(std::uint64_t seed, std::uint64_t sequence);

}  // namespace llmscale::server
