// Sample values as text: parsing the way Prometheus' scraper does and printing the way Go and
// Python Prometheus clients do.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmscale::prom {

// Prometheus textparse: strconv.ParseFloat without hex floats or '_' ("1", "-1.5e3", "NaN",
// "+Inf", "-inf", "Infinity"); nullopt for anything else, including out-of-range values.
std::optional<double> parse_prom_float(std::string_view text);

// The common case of parse_prom_float, for a caller that finds the value's end itself: digits
// with at most one '.' ("131.0", "0.25", "1700000000"), at most 15 significant and 22 fraction
// digits, which Clinger's fast path converts exactly (one correctly rounded division), so the
// result is the one strtod gives. Reads [p, end) up to the first other byte and returns it with
// `value` set, or nullptr when the text has no digit or needs the general path (then `value` is
// unspecified). No sign: the caller handles it.
inline const char* parse_plain_decimal(const char* p, const char* end, double& value) {
  static constexpr double kPow10[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                      1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                      1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};
  // The digits as one integer: at most 15 significant digits means mantissa < 10^15 (leading
  // zeros add nothing), which also keeps it far from overflow.
  constexpr std::uint64_t kLimit = 1'000'000'000'000'000;
  std::uint64_t mantissa = 0;
  const char* start = p;
  auto digit_at = [](const char* q) {
    return static_cast<unsigned>(static_cast<unsigned char>(*q) - '0');
  };
  for (unsigned d; p < end && (d = digit_at(p)) < 10; ++p) {
    mantissa = mantissa * 10 + d;
    if (mantissa >= kLimit) return nullptr;
  }
  std::size_t digits = static_cast<std::size_t>(p - start);
  int fraction = 0;
  if (p < end && *p == '.') {
    const char* fraction_start = ++p;
    for (unsigned d; p < end && (d = digit_at(p)) < 10; ++p) {
      mantissa = mantissa * 10 + d;
      if (mantissa >= kLimit) return nullptr;
    }
    fraction = static_cast<int>(p - fraction_start);
    digits += static_cast<std::size_t>(fraction);
  }
  if (digits == 0 || fraction > 22) return nullptr;
  // Trailing fraction zeros ("131.0" is 131 / 10^0, not 1310 / 10^1): the same number, so the
  // same correctly rounded double, mostly without a division.
  while (fraction > 0 && mantissa % 10 == 0) {
    mantissa /= 10;
    --fraction;
  }
  value = static_cast<double>(mantissa);
  if (fraction > 0) value /= kPow10[fraction];
  return p;
}

// Go strconv.FormatFloat(v, 'g', -1, 64), what client_golang and expfmt print: "1", "0.25",
// "1e+06", "1.5e-07", "+Inf", "-Inf", "NaN".
std::string format_go_float(double value);
void append_go_float(std::string& out, double value);

// Go strconv.FormatFloat(v, 'f', -1, 64), the form the Prometheus HTTP API uses for values:
// "1", "0.25", "1000000", "0.00000015", "+Inf", "-Inf", "NaN".
std::string format_go_float_fixed(double value);

// Python prometheus_client floatToGoString (vLLM, SGLang, JetStream): "1.0", "0.25",
// "8.128902e+06", "1e-05", "+Inf", "NaN".
void append_python_float(std::string& out, double value);

}  // namespace llmscale::prom
