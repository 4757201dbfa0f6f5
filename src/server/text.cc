// Token counting and deterministic synthetic words.
#include "server/text.h"
#include "core/hash.h"

#include <array>

namespace llmscale::server {
namespace {

bool is_word_byte(unsigned char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         c >= 0x80;
}

bool is_space(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

// Common English words; ids are their index plus an offset past Llama's special tokens.
constexpr std::array<std::string_view, 64> kWords = {
    " the",    " of",     " and",    " a",       " to",     " in",      " is",     " it",
    " that",   " for",    " was",    " on",      " with",   " as",      " at",     " by",
    " from",   " city",   " river",  " bridge",  " light",  " morning", " water",  " story",
    " people", " road",   " market", " harbor",  " hill",   " street",  " fog",    " bay",
    " old",    " new",    " small",  " quiet",   " bright", " long",    " green",  " blue",
    " walked", " saw",    " found",  " built",   " opened", " turned",  " said",   " made",
    " under",  " across", " over",   " between", " near",   " after",   " before", " again",
    " house",  " window", " garden", " train",   " music",  " coffee",  " book",   " day"};

constexpr std::int64_t kFirstWordId = 1000;

std::size_t word_index(std::uint64_t seed, std::uint64_t sequence, std::int64_t index) {
  std::uint64_t h = core::splitmix64(
      seed ^ core::splitmix64(sequence * core::kGoldenGamma + std::uint64_t(index)));
  return static_cast<std::size_t>(h % kWords.size());
}

}  // namespace

std::int64_t count_text_tokens(std::string_view text) {
  std::int64_t tokens = 0;
  bool in_word = false;
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (is_word_byte(c)) {
      if (!in_word) ++tokens;
      in_word = true;
    } else {
      in_word = false;
      if (!is_space(c)) ++tokens;
    }
  }
  return tokens;
}

std::int64_t count_prompt_tokens(std::string_view prompt) {
  return count_text_tokens(prompt) + 1;
}

std::string_view synthetic_token(std::uint64_t seed, std::uint64_t sequence, std::int64_t index) {
  return kWords[word_index(seed, sequence, index)];
}

std::int64_t synthetic_token_id(std::uint64_t seed, std::uint64_t sequence, std::int64_t index) {
  return kFirstWordId + static_cast<std::int64_t>(word_index(seed, sequence, index));
}

std::string synthetic_text(std::uint64_t seed, std::uint64_t sequence, std::int64_t first,
                           std::int64_t last) {
  std::string out;
  for (std::int64_t i = first; i <= last; ++i) out += synthetic_token(seed, sequence, i);
  return out;
}

std::string hex_id(std::uint64_t seed, std::uint64_t sequence) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(32, '0');
  std::uint64_t a = core::splitmix64(seed ^ core::splitmix64(sequence));
  std::uint64_t b = core::splitmix64(a ^ 0xD1B54A32D192ED03ULL);
  for (int i = 0; i < 16; ++i) {
    out[i] = kHex[(a >> (60 - 4 * i)) & 0xF];
    out[16 + i] = kHex[(b >> (60 - 4 * i)) & 0xF];
  }
  return out;
}

}  // namespace llmscale::server
