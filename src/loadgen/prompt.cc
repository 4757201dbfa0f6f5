// Prompt words from a fixed list, picked by a hash of (seed or block id, position).
#include "loadgen/prompt.h"
#include "core/hash.h"

#include <array>

namespace llmscale::loadgen {
namespace {

constexpr std::array<std::string_view, 128> kWords = {
    "the",     "of",      "and",      "to",     "in",     "is",      "that",    "for",
    "it",      "as",      "was",      "with",   "be",     "by",      "on",      "not",
    "he",      "this",    "are",      "or",     "his",    "from",    "at",      "which",
    "but",     "have",    "an",       "had",    "they",   "you",     "were",    "their",
    "one",     "all",     "we",       "can",    "her",    "has",     "there",   "been",
    "if",      "more",    "when",     "will",   "would",  "who",     "so",      "no",
    "time",    "people",  "year",     "way",    "day",    "man",     "thing",   "woman",
    "life",    "child",   "world",    "school", "state",  "family",  "student", "group",
    "country", "problem", "hand",     "part",   "place",  "case",    "week",    "company",
    "system",  "program", "question", "work",   "number", "night",   "point",   "home",
    "water",   "room",    "mother",   "area",   "money",  "story",   "fact",    "month",
    "lot",     "right",   "study",    "book",   "eye",    "job",     "word",    "business",
    "issue",   "side",    "kind",     "head",   "house",  "service", "friend",  "father",
    "power",   "hour",    "game",     "line",   "end",    "member",  "law",     "car",
    "city",    "name",    "team",     "minute", "idea",   "kid",     "body",    "information",
    "back",    "parent",  "face",     "others", "level",  "office",  "door",    "health",
};

std::string_view word(std::uint64_t key, std::uint64_t position) {
  return kWords[core::splitmix64(key * 0x100000001b3ULL ^ core::splitmix64(position)) %
                kWords.size()];
}

}  // namespace

std::string make_prompt(std::int64_t tokens, std::uint64_t seed,
                        const std::vector<std::uint64_t>* hash_ids, std::int64_t block_tokens) {
  std::string text;
  if (tokens <= 0) return text;
  text.reserve(static_cast<std::size_t>(tokens) * 6);
  for (std::int64_t p = 0; p < tokens; ++p) {
    if (p > 0) text += ' ';
    auto block = static_cast<std::size_t>(p / block_tokens);
    if (hash_ids != nullptr && block < hash_ids->size()) {
      // Block ids and per-request seeds live in different key spaces (the tag bit).
      text += word((*hash_ids)[block] << 1, static_cast<std::uint64_t>(p % block_tokens));
    } else {
      text += word((seed << 1) | 1, static_cast<std::uint64_t>(p));
    }
  }
  return text;
}

}  // namespace llmscale::loadgen
