// Quantity: a port of apimachinery's resource.Quantity parsing and canonical printing.
#include "kube/quantity.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace llmscale::kube {
namespace {

using core::Result;
using Int128 = __int128;

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();
// Largest magnitude upstream's slow path allows: 2^63-1 units, held here in nano-units.
constexpr Int128 kMaxNanos = Int128(kMaxInt64) * 1000000000;

std::string int128_to_string(Int128 v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  unsigned __int128 u = negative ? (unsigned __int128)(-(v + 1)) + 1 : (unsigned __int128)v;
  std::string digits;
  while (u > 0) {
    digits.push_back(char('0' + int(u % 10)));
    u /= 10;
  }
  if (negative) digits.push_back('-');
  std::reverse(digits.begin(), digits.end());
  return digits;
}

int digit_count(Int128 v) {
  if (v < 0) v = -v;
  int n = 1;
  while (v >= 10) {
    v /= 10;
    ++n;
  }
  return n;
}

// removeInt64Factors: strips factors of `base` from value, counting them.
Int128 remove_factors(Int128 value, Int128 base, int& times) {
  times = 0;
  bool negative = value < 0;
  if (negative) value = -value;
  while (value >= base && value % base == 0) {
    ++times;
    value /= base;
  }
  return negative ? -value : value;
}

struct QuantityString {
  bool positive = true;
  std::string_view value;  // sign, digits, point and fraction as written
  std::string_view num;    // integer digits without leading zeros ("0" if none)
  std::string_view denom;  // fraction digits
  std::string_view suffix;
};

bool contains_suffix_char(char c) {
  return std::string_view("eEinumkKMGTP").find(c) != std::string_view::npos;
}
bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// parseQuantityString: splits text into its parts, or fails with the format error.
bool split_quantity(std::string_view str, QuantityString& out) {
  std::size_t pos = 0;
  const std::size_t end = str.size();
  if (pos < end) {
    if (str[0] == '-') {
      out.positive = false;
      ++pos;
    } else if (str[0] == '+') {
      ++pos;
    }
  }
  // Leading zeros.
  for (std::size_t i = pos;; ++i) {
    if (i >= end) {
      out.num = "0";
      out.value = out.num;
      return true;
    }
    if (str[i] == '0') {
      ++pos;
    } else {
      break;
    }
  }
  // Numerator.
  for (std::size_t i = pos;; ++i) {
    if (i >= end) {
      out.num = str.substr(pos);
      out.value = str;
      return true;
    }
    if (!is_digit(str[i])) {
      out.num = str.substr(pos, i - pos);
      pos = i;
      break;
    }
  }
  if (out.num.empty()) out.num = "0";
  // Denominator.
  if (pos < end && str[pos] == '.') {
    ++pos;
    for (std::size_t i = pos;; ++i) {
      if (i >= end) {
        out.denom = str.substr(pos);
        out.value = str;
        return true;
      }
      if (!is_digit(str[i])) {
        out.denom = str.substr(pos, i - pos);
        pos = i;
        break;
      }
    }
  }
  out.value = str.substr(0, pos);
  // Suffix: letters, then an optional signed exponent.
  const std::size_t suffix_start = pos;
  for (std::size_t i = pos;; ++i) {
    if (i >= end) {
      out.suffix = str.substr(suffix_start);
      return true;
    }
    if (!contains_suffix_char(str[i])) {
      pos = i;
      break;
    }
  }
  if (pos < end && (str[pos] == '-' || str[pos] == '+')) ++pos;
  for (std::size_t i = pos;; ++i) {
    if (i >= end) {
      out.suffix = str.substr(suffix_start);
      return true;
    }
    if (!is_digit(str[i])) return false;
  }
}

struct SuffixMeaning {
  int base;
  int exponent;
  Quantity::Format format;
};

bool interpret_suffix(std::string_view suffix, SuffixMeaning& out) {
  struct Entry {
    std::string_view text;
    int base, exponent;
  };
  static constexpr Entry kDecimal[] = {{"n", 10, -9}, {"u", 10, -6}, {"m", 10, -3}, {"", 10, 0},
                                       {"k", 10, 3},  {"M", 10, 6},  {"G", 10, 9},  {"T", 10, 12},
                                       {"P", 10, 15}, {"E", 10, 18}};
  static constexpr Entry kBinary[] = {{"Ki", 2, 10}, {"Mi", 2, 20}, {"Gi", 2, 30},
                                      {"Ti", 2, 40}, {"Pi", 2, 50}, {"Ei", 2, 60}};
  for (const Entry& e : kDecimal) {
    if (e.text == suffix) {
      out = {e.base, e.exponent, Quantity::Format::kDecimalSI};
      return true;
    }
  }
  for (const Entry& e : kBinary) {
    if (e.text == suffix) {
      out = {e.base, e.exponent, Quantity::Format::kBinarySI};
      return true;
    }
  }
  if (suffix.size() > 1 && (suffix[0] == 'E' || suffix[0] == 'e')) {
    // strconv.ParseInt(suffix[1:], 10, 64), then truncated to int32 as upstream does.
    std::string_view digits = suffix.substr(1);
    bool negative = false;
    if (digits[0] == '+' || digits[0] == '-') {
      negative = digits[0] == '-';
      digits.remove_prefix(1);
    }
    if (digits.empty()) return false;
    std::uint64_t magnitude = 0;
    for (char c : digits) {
      if (!is_digit(c)) return false;
      if (magnitude > (std::uint64_t(1) << 63) / 10) return false;  // ParseInt range error
      magnitude = magnitude * 10 + std::uint64_t(c - '0');
    }
    if (magnitude > (std::uint64_t(1) << 63) - (negative ? 0 : 1)) return false;
    std::int64_t parsed = negative ? std::int64_t(0 - magnitude) : std::int64_t(magnitude);
    out = {10, static_cast<std::int32_t>(static_cast<std::uint32_t>(parsed)),
           Quantity::Format::kDecimalExponent};
    return true;
  }
  return false;
}

// Decimal digit string times a small factor.
std::string multiply_digits(const std::string& digits, std::uint32_t factor) {
  std::string out(digits.size() + 10, '0');
  std::uint64_t carry = 0;
  std::size_t k = out.size();
  for (std::size_t i = digits.size(); i-- > 0;) {
    std::uint64_t v = std::uint64_t(digits[i] - '0') * factor + carry;
    out[--k] = char('0' + v % 10);
    carry = v / 10;
  }
  while (carry > 0) {
    out[--k] = char('0' + carry % 10);
    carry /= 10;
  }
  out.erase(0, k);
  std::size_t nz = out.find_first_not_of('0');
  return nz == std::string::npos ? "0" : out.substr(nz);
}

// Upstream's arbitrary-precision path: |digits * 10^exp10 * 2^exp2| rounded up to a nano-unit
// and capped at 2^63-1 units; returned in nano-units.
Int128 exact_nanos(std::string digits, long long exp10, int exp2) {
  std::size_t nz = digits.find_first_not_of('0');
  if (nz == std::string::npos) return 0;
  digits.erase(0, nz);
  while (exp2 > 0) {
    int step = std::min(exp2, 20);
    digits = multiply_digits(digits, std::uint32_t(1) << step);
    exp2 -= step;
  }
  long long shift = exp10 + 9;  // to nano-units
  if (shift < 0) {
    long long drop = -shift;
    bool remainder = false;
    if (drop >= (long long)digits.size()) {
      remainder = true;  // digits are non-zero
      digits = "0";
    } else {
      std::string_view dropped(digits.data() + digits.size() - drop, std::size_t(drop));
      remainder = dropped.find_first_not_of('0') != std::string_view::npos;
      digits.resize(digits.size() - std::size_t(drop));
    }
    if (digits.size() > 30) return kMaxNanos;
    Int128 v = 0;
    for (char c : digits) v = v * 10 + (c - '0');
    if (remainder) ++v;  // round up, away from zero
    return std::min(v, kMaxNanos);
  }
  if ((long long)digits.size() + shift > 30) return kMaxNanos;
  Int128 v = 0;
  for (char c : digits) v = v * 10 + (c - '0');
  for (long long i = 0; i < shift; ++i) v *= 10;
  return std::min(v, kMaxNanos);
}

bool multiply_int64(std::int64_t a, std::int64_t b, std::int64_t& out) {
  return !__builtin_mul_overflow(a, b, &out);
}

}  // namespace

Result<Quantity> Quantity::parse(std::string_view str) {
  if (str.empty()) return core::invalid_argument(std::string(kQuantityFormatError));
  if (str == "0") {
    Quantity q;
    q.text_ = "0";
    return q;
  }
  QuantityString parts;
  if (!split_quantity(str, parts)) return core::invalid_argument(std::string(kQuantityFormatError));
  SuffixMeaning meaning;
  if (!interpret_suffix(parts.suffix, meaning)) {
    return core::invalid_argument("unable to parse quantity's suffix");
  }

  int precision = 0;
  long long scale = 0;
  std::int64_t mantissa = 1;
  const int num_len = int(parts.num.size());
  const int denom_len = int(parts.denom.size());
  if (meaning.format == Format::kBinarySI) {
    if (meaning.exponent >= 0 && denom_len == 0) {
      mantissa = std::int64_t(1) << meaning.exponent;
      precision = 15 - num_len - int(float(meaning.exponent) * 3 / 10) - 1;
    } else {
      precision = -1;
    }
  } else {
    scale = meaning.exponent;
    precision = 18 - (num_len + denom_len);
  }

  if (precision >= 0) {
    scale -= denom_len;
    if (scale >= -9) {
      std::string shifted = std::string(parts.num) + std::string(parts.denom);
      std::int64_t value = 0;
      for (char c : shifted) value = value * 10 + (c - '0');
      std::int64_t result;
      if (multiply_int64(value, mantissa, result)) {
        if (!parts.positive) result = -result;
        Quantity q(result, int(scale), meaning.format);
        bool canonical;
        if (meaning.format == Format::kBinarySI) {
          canonical = meaning.exponent % 10 == 0 && (value & 0x07) != 0;
        } else {
          canonical =
              scale % 3 == 0 &&
              !(shifted.size() >= 3 && shifted.compare(shifted.size() - 3, 3, "000") == 0) &&
              shifted[0] != '0';
        }
        if (canonical) q.text_ = std::string(str);
        return q;
      }
    }
  }

  // Arbitrary-precision path.
  std::string digits = std::string(parts.num) + std::string(parts.denom);
  long long exp10 = -denom_len;
  int exp2 = 0;
  if (meaning.base == 10) {
    exp10 += meaning.exponent;
  } else {
    exp2 = meaning.exponent;
  }
  Int128 nanos = exact_nanos(digits, exp10, exp2);
  Format format = meaning.format;
  if (format == Format::kBinarySI && nanos > 0 && nanos < 1000000000) format = Format::kDecimalSI;
  if (!parts.positive) nanos = -nanos;
  return Quantity(nanos, -9, format, /*from_decimal_amount=*/true);
}

Quantity Quantity::from_milli(std::int64_t milli, Format format) {
  return Quantity(milli, -3, format);
}
Quantity Quantity::from_int(std::int64_t value, Format format) {
  return Quantity(value, 0, format);
}
Quantity Quantity::from_scaled(std::int64_t value, int scale, Format format) {
  return Quantity(value, scale, format);
}

std::string Quantity::to_string() const {
  if (!text_.empty()) return text_;
  if (mantissa_ == 0) return "0";

  Format format = format_;
  Int128 whole = 0;
  if (format == Format::kBinarySI) {
    // Between -1024 and 1024, or not a whole number: print as DecimalSI.
    bool small = compare(Quantity(-1024, 0, Format::kDecimalSI)) > 0 &&
                 compare(Quantity(1024, 0, Format::kDecimalSI)) < 0;
    bool exact = false;
    if (!small) {
      if (scale_ >= 0) {
        whole = mantissa_;
        exact = digit_count(mantissa_) + scale_ <= 37;
        for (int i = 0; exact && i < scale_; ++i) whole *= 10;
      } else {
        Int128 divisor = 1;
        for (int i = 0; i < -scale_ && i < 38; ++i) divisor *= 10;
        exact = -scale_ < 38 && mantissa_ % divisor == 0;
        whole = exact ? mantissa_ / divisor : 0;
      }
    }
    if (small || !exact) format = Format::kDecimalSI;
  }

  if (format == Format::kBinarySI) {
    int times = 0;
    Int128 amount = remove_factors(whole, 1024, times);
    static constexpr const char* kBinarySuffix[] = {"", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"};
    return int128_to_string(amount) + (times < 7 ? kBinarySuffix[times] : "");
  }

  int times = 0;
  Int128 amount = remove_factors(mantissa_, 10, times);
  long long exponent = (long long)scale_ + times;
  while (exponent % 3 != 0) {
    amount *= 10;
    --exponent;
  }
  std::string suffix;
  if (format == Format::kDecimalExponent) {
    if (exponent != 0) suffix = "e" + std::to_string(exponent);
  } else {
    switch (exponent) {
      case -9: suffix = "n"; break;
      case -6: suffix = "u"; break;
      case -3: suffix = "m"; break;
      case 3: suffix = "k"; break;
      case 6: suffix = "M"; break;
      case 9: suffix = "G"; break;
      case 12: suffix = "T"; break;
      case 15: suffix = "P"; break;
      case 18: suffix = "E"; break;
      default: break;  // upstream has no suffix for other exponents and prints none
    }
  }
  return int128_to_string(amount) + suffix;
}

std::int64_t Quantity::scaled_value(int scale) const {
  if (inf_dec_) {
    // scaledValue() on the decimal amount: ceil toward +infinity when dividing.
    long long diff = (long long)scale_ - scale;
    if (diff >= 0) {
      Int128 v = mantissa_;
      for (long long i = 0; i < diff; ++i) v *= 10;
      return std::int64_t(static_cast<std::uint64_t>(static_cast<unsigned __int128>(v)));
    }
    Int128 divisor = 1;
    for (long long i = 0; i < -diff && i < 38; ++i) divisor *= 10;
    if (-diff >= 38) return mantissa_ > 0 ? 1 : 0;
    Int128 q = mantissa_ / divisor;
    if (mantissa_ % divisor != 0) q += 1;
    return std::int64_t(q);
  }
  // int64Amount.AsScaledInt64: away from zero when dividing, 0 on overflow when multiplying.
  if (scale_ < scale) {
    long long steps = (long long)scale - scale_;
    Int128 value = mantissa_;
    bool fraction = false;
    for (long long i = 0; i < steps; ++i) {
      if (!fraction && value % 10 != 0) fraction = true;
      value /= 10;
      if (value == 0) {
        if (fraction) return mantissa_ > 0 ? 1 : -1;
        return 0;
      }
    }
    if (fraction) value += mantissa_ > 0 ? 1 : -1;
    return std::int64_t(value);
  }
  Int128 value = mantissa_;
  for (int i = 0; i < scale_ - scale; ++i) {
    value *= 10;
    if (value > kMaxInt64 || value < std::numeric_limits<std::int64_t>::min()) return 0;
  }
  return std::int64_t(value);
}

double Quantity::as_double() const {
  long double v = (long double)mantissa_;
  return double(v * std::pow(10.0L, (long double)scale_));
}

int Quantity::compare(const Quantity& other) const {
  int s1 = sign(), s2 = other.sign();
  if (s1 != s2) return s1 < s2 ? -1 : 1;
  if (s1 == 0) return 0;
  int t1 = 0, t2 = 0;
  Int128 m1 = remove_factors(mantissa_, 10, t1);
  Int128 m2 = remove_factors(other.mantissa_, 10, t2);
  long long e1 = (long long)scale_ + t1, e2 = (long long)other.scale_ + t2;
  long long order1 = digit_count(m1) + e1, order2 = digit_count(m2) + e2;
  if (order1 != order2) {
    bool first_bigger_magnitude = order1 > order2;
    return (first_bigger_magnitude == (s1 > 0)) ? 1 : -1;
  }
  // Same order of magnitude: align exponents; the shift is bounded by the digit counts.
  while (e1 > e2) {
    m1 *= 10;
    --e1;
  }
  while (e2 > e1) {
    m2 *= 10;
    --e2;
  }
  return m1 < m2 ? -1 : (m1 > m2 ? 1 : 0);
}

}  // namespace llmscale::kube
