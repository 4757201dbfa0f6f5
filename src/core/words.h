// Counting whitespace-separated words: how llmscale estimates tokens where it has no tokenizer
// (the load generator's output text without usage, the router's prompt size).
#pragma once

#include <cstdint>
#include <string_view>

namespace llmscale::core {

// Runs of characters other than ' ', '\n', '\t', '\r', '\f' and '\v' (C's isspace).
inline std::int64_t count_words(std::string_view text) {
  std::int64_t words = 0;
  bool in_word = false;
  for (char c : text) {
    bool space = c == ' ' || c == '\n' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
    if (!space && !in_word) ++words;
    in_word = !space;
  }
  return words;
}

}  // namespace llmscale::core
