// Byte scanning for the exposition parser's fast path (internal to prom/exposition): the end of a
// metric name, the end of a label name, and the first byte of a label value that ends it or needs
// the general path ('"', '\\', '\n'), many bytes per step. Two implementations with one contract:
// `scan::sse2` (16 bytes per step; SSE2 is part of x86-64's baseline, so no run-time dispatch) and
// `scan::portable` (8 bytes per step with word operations, SWAR, for the value search; a table
// lookup per byte for the name classes). `scan::active` is SSE2 where the compiler targets it,
// unless LLMSCALE_PROM_PORTABLE_SCAN is defined: the tests build the parser both ways.
//
// Every function takes [p, end) where `end` is the end of the whole input, not of the line: a
// block is loaded only when all its bytes lie before `end`, the rest is scanned a byte at a time.
#pragma once

#include <array>
#include <bit>
#include <cstdint>
#include <cstring>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

namespace llmscale::prom::scan {

// Character classes, one table lookup each.
enum : std::uint8_t { kLabelStart = 1, kLabelChar = 2, kNameStart = 4, kNameChar = 8 };
constexpr std::array<std::uint8_t, 256> make_char_classes() {
  std::array<std::uint8_t, 256> t{};
  for (int c = 0; c < 256; ++c) {
    bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
    bool digit = c >= '0' && c <= '9';
    std::uint8_t v = 0;
    if (alpha) v |= kLabelStart | kLabelChar | kNameStart | kNameChar;
    if (digit) v |= kLabelChar | kNameChar;
    if (c == ':') v |= kNameStart | kNameChar;
    t[static_cast<std::size_t>(c)] = v;
  }
  return t;
}
inline constexpr std::array<std::uint8_t, 256> kCharClasses = make_char_classes();
inline bool char_is(char c, std::uint8_t cls) {
  return (kCharClasses[static_cast<unsigned char>(c)] & cls) != 0;
}

// Where a label value scan stopped: at `stop` ('"', '\\' or '\n'; `end` when none), and whether a
// byte before it has the high bit set (non-ASCII: the value needs a UTF-8 check).
struct ValueStop {
  const char* stop;
  bool high;
};

// a[0, n) == b[0, n), a word at a time and inline (names are compared once per sample; a libc
// memcmp call costs more than the compare).
inline bool equal_bytes(const char* a, const char* b, std::size_t n) {
  auto load8 = [](const char* p) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    return w;
  };
  if (n >= 8) {
    std::uint64_t diff = 0;
    for (std::size_t i = 0; i + 8 < n; i += 8) diff |= load8(a + i) ^ load8(b + i);
    diff |= load8(a + n - 8) ^ load8(b + n - 8);  // the last word may overlap the one before
    return diff == 0;
  }
  unsigned diff = 0;
  for (std::size_t i = 0; i < n; ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

namespace portable {

inline const char* skip_class(const char* p, const char* end, std::uint8_t cls) {
  while (p < end && char_is(*p, cls)) ++p;
  return p;
}
// First byte of [p, end) that is not [a-zA-Z0-9_:].
inline const char* skip_name_chars(const char* p, const char* end) {
  return skip_class(p, end, kNameChar);
}
// First byte of [p, end) that is not [a-zA-Z0-9_].
inline const char* skip_label_chars(const char* p, const char* end) {
  return skip_class(p, end, kLabelChar);
}

inline ValueStop find_value_stop(const char* p, const char* end) {
  constexpr std::uint64_t kOnes = 0x0101010101010101ULL;
  constexpr std::uint64_t kHigh = 0x8080808080808080ULL;
  // Per byte: high bit set where the byte equals `c` (exact, no false positives: the classic
  // has-zero test with the carry out of each byte masked, Hacker's Delight 6-1).
  auto equal = [](std::uint64_t w, char c) {
    std::uint64_t x = w ^ (kOnes * static_cast<unsigned char>(c));
    return ~(((x & ~kHigh) + ~kHigh) | x) & kHigh;
  };
  std::uint64_t high = 0;
  for (; end - p >= 8; p += 8) {
    std::uint64_t w;
    std::memcpy(&w, p, 8);
    std::uint64_t hits = equal(w, '"') | equal(w, '\\') | equal(w, '\n');
    if (hits != 0) {
      // Bytes are in memory order in the little-endian word; big-endian takes the byte loop.
      if constexpr (std::endian::native == std::endian::little) {
        int index = std::countr_zero(hits) / 8;
        std::uint64_t before = index == 0 ? 0 : (~0ULL >> (64 - 8 * index));
        return ValueStop{p + index, ((high | (w & before)) & kHigh) != 0};
      }
      break;
    }
    high |= w;
  }
  bool high_seen = (high & kHigh) != 0;
  for (; p < end; ++p) {
    char c = *p;
    if (c == '"' || c == '\\' || c == '\n') break;
    high_seen |= (static_cast<unsigned char>(c) & 0x80) != 0;
  }
  return ValueStop{p, high_seen};
}

}  // namespace portable

#if defined(__SSE2__)
namespace sse2 {

// Bit i set where byte i of `x` is in [lo, lo + count) (unsigned), via the signed compare of
// SSE2 after shifting the range to start at -128.
inline __m128i in_range(__m128i x, char lo, int count) {
  __m128i shifted = _mm_add_epi8(x, _mm_set1_epi8(static_cast<char>(0x80 - lo)));
  return _mm_cmplt_epi8(shifted, _mm_set1_epi8(static_cast<char>(-128 + count)));
}

// Mask of bytes in [a-zA-Z0-9_] (plus ':' when `colon`).
template <bool colon>
inline unsigned word_mask(__m128i x) {
  __m128i alpha = in_range(_mm_or_si128(x, _mm_set1_epi8(0x20)), 'a', 26);
  __m128i digit = in_range(x, '0', colon ? 11 : 10);  // ':' follows '9'
  __m128i under = _mm_cmpeq_epi8(x, _mm_set1_epi8('_'));
  return static_cast<unsigned>(_mm_movemask_epi8(_mm_or_si128(_mm_or_si128(alpha, digit), under)));
}

template <bool colon>
inline const char* skip_word(const char* p, const char* end) {
  for (; end - p >= 16; p += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    unsigned stop = ~word_mask<colon>(x) & 0xFFFFu;
    if (stop != 0) return p + std::countr_zero(stop);
  }
  return portable::skip_class(p, end, colon ? kNameChar : kLabelChar);
}
inline const char* skip_name_chars(const char* p, const char* end) {
  return skip_word<true>(p, end);
}
inline const char* skip_label_chars(const char* p, const char* end) {
  return skip_word<false>(p, end);
}

inline ValueStop find_value_stop(const char* p, const char* end) {
  unsigned high = 0;
  for (; end - p >= 16; p += 16) {
    __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    __m128i hits = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(x, _mm_set1_epi8('"')), _mm_cmpeq_epi8(x, _mm_set1_epi8('\\'))),
        _mm_cmpeq_epi8(x, _mm_set1_epi8('\n')));
    auto stop = static_cast<unsigned>(_mm_movemask_epi8(hits));
    auto block_high = static_cast<unsigned>(_mm_movemask_epi8(x));
    if (stop != 0) {
      int index = std::countr_zero(stop);
      high |= block_high & ((1u << index) - 1);
      return ValueStop{p + index, high != 0};
    }
    high |= block_high;
  }
  ValueStop tail = portable::find_value_stop(p, end);
  tail.high |= high != 0;
  return tail;
}

}  // namespace sse2
#endif

#if defined(__SSE2__) && !defined(LLMSCALE_PROM_PORTABLE_SCAN)
namespace active = sse2;
inline constexpr bool kActiveIsSse2 = true;
#else
namespace active = portable;
inline constexpr bool kActiveIsSse2 = false;
#endif

}  // namespace llmscale::prom::scan
