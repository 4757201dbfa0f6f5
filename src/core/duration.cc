// Go and Prometheus duration text forms, following time/format.go and common/model/time.go.
#include "core/duration.h"

#include <cstdint>
#include <limits>

namespace llmscale::core {
namespace {

std::string quote(std::string_view s) {
  return "\"" + std::string(s) + "\"";
}

// Unit lengths in nanoseconds, as in Go's unitMap.
bool go_unit(std::string_view unit, std::uint64_t& nanos) {
  if (unit == "ns")
    nanos = 1;
  else if (unit == "us" || unit == "\xC2\xB5s" || unit == "\xCE\xBCs")
    nanos = 1000;
  else if (unit == "ms")
    nanos = 1000000;
  else if (unit == "s")
    nanos = 1000000000ull;
  else if (unit == "m")
    nanos = 60ull * 1000000000ull;
  else if (unit == "h")
    nanos = 3600ull * 1000000000ull;
  else
    return false;
  return true;
}

bool is_digit(char c) {
  return c >= '0' && c <= '9';
}

// Writes v's fraction of `precision` digits without trailing zeros into the tail of buf; returns
// the new start and v with the fraction removed (Go's fmtFrac).
std::string frac_part(std::uint64_t& v, int precision) {
  std::string digits;
  bool print = false;
  for (int i = 0; i < precision; ++i) {
    int digit = int(v % 10);
    print = print || digit != 0;
    if (print) digits.insert(digits.begin(), char('0' + digit));
    v /= 10;
  }
  if (print) digits.insert(digits.begin(), '.');
  return digits;
}

}  // namespace

Result<Duration> parse_go_duration(std::string_view text) {
  const std::string_view orig = text;
  auto invalid = [&] { return invalid_argument("time: invalid duration " + quote(orig)); };
  bool negative = false;
  if (!text.empty() && (text[0] == '-' || text[0] == '+')) {
    negative = text[0] == '-';
    text.remove_prefix(1);
  }
  if (text == "0") return Duration(0);
  if (text.empty()) return invalid();

  constexpr std::uint64_t kMax = std::uint64_t(1) << 63;
  std::uint64_t total = 0;
  while (!text.empty()) {
    if (!(text[0] == '.' || is_digit(text[0]))) return invalid();
    // Integer part.
    std::uint64_t whole = 0;
    std::size_t i = 0;
    bool overflow = false;
    while (i < text.size() && is_digit(text[i])) {
      if (whole > (kMax - 1) / 10) overflow = true;
      whole = whole * 10 + std::uint64_t(text[i] - '0');
      if (whole > kMax) overflow = true;
      ++i;
    }
    if (overflow) return invalid();
    bool had_whole = i > 0;
    text.remove_prefix(i);
    // Fraction.
    std::uint64_t frac = 0;
    double scale = 1;
    bool had_frac = false;
    if (!text.empty() && text[0] == '.') {
      text.remove_prefix(1);
      i = 0;
      while (i < text.size() && is_digit(text[i])) {
        if (frac <= (std::numeric_limits<std::uint64_t>::max() - 9) / 10 && scale < 1e18) {
          frac = frac * 10 + std::uint64_t(text[i] - '0');
          scale *= 10;
        }
        ++i;
      }
      had_frac = i > 0;
      text.remove_prefix(i);
    }
    if (!had_whole && !had_frac) return invalid();
    // Unit.
    i = 0;
    while (i < text.size() && text[i] != '.' && !is_digit(text[i])) ++i;
    if (i == 0) return invalid_argument("time: missing unit in duration " + quote(orig));
    std::string_view unit = text.substr(0, i);
    text.remove_prefix(i);
    std::uint64_t unit_nanos;
    if (!go_unit(unit, unit_nanos)) {
      return invalid_argument("time: unknown unit " + quote(unit) + " in duration " + quote(orig));
    }
    if (whole > kMax / unit_nanos) return invalid();
    whole *= unit_nanos;
    if (frac > 0) {
      whole += std::uint64_t(double(frac) * (double(unit_nanos) / scale));
      if (whole > kMax) return invalid();
    }
    total += whole;
    if (total > kMax) return invalid();
  }
  if (total == kMax && !negative) return invalid();
  std::int64_t signed_total =
      total == kMax ? std::numeric_limits<std::int64_t>::min() : std::int64_t(total);
  return Duration(negative ? -signed_total : signed_total);
}

std::string format_go_duration(Duration duration) {
  std::int64_t d = duration.count();
  bool negative = d < 0;
  std::uint64_t u = negative ? std::uint64_t(0) - std::uint64_t(d) : std::uint64_t(d);
  std::string out;
  if (u < 1000000000ull) {
    if (u == 0) return "0s";
    int precision;
    std::string unit;
    if (u < 1000) {
      out = std::to_string(u) + "ns";
      return negative ? "-" + out : out;
    } else if (u < 1000000) {
      precision = 3;
      unit = "\xC2\xB5s";
    } else {
      precision = 6;
      unit = "ms";
    }
    std::string frac = frac_part(u, precision);
    out = std::to_string(u) + frac + unit;
  } else {
    std::string frac = frac_part(u, 9);
    out = std::to_string(u % 60) + frac + "s";
    u /= 60;
    if (u > 0) {
      out = std::to_string(u % 60) + "m" + out;
      u /= 60;
      if (u > 0) out = std::to_string(u) + "h" + out;
    }
  }
  return negative ? "-" + out : out;
}

Result<Duration> parse_prometheus_duration(std::string_view text) {
  auto invalid = [&] { return invalid_argument("not a valid duration string: " + quote(text)); };
  if (text == "0") return Duration(0);
  if (text.empty()) return invalid_argument("empty duration string");
  struct Unit {
    std::string_view name;
    std::uint64_t millis;
  };
  static constexpr Unit kUnits[] = {{"y", 365ull * 24 * 3600 * 1000},
                                    {"w", 7ull * 24 * 3600 * 1000},
                                    {"d", 24ull * 3600 * 1000},
                                    {"h", 3600ull * 1000},
                                    {"ms", 1},
                                    {"m", 60ull * 1000},
                                    {"s", 1000}};
  // Order in which units may appear (ms after s).
  static constexpr std::string_view kOrder[] = {"y", "w", "d", "h", "m", "s", "ms"};
  int last_rank = -1;
  std::uint64_t millis = 0;
  std::string_view rest = text;
  while (!rest.empty()) {
    std::size_t i = 0;
    std::uint64_t n = 0;
    while (i < rest.size() && is_digit(rest[i])) {
      if (n > std::numeric_limits<std::uint64_t>::max() / 10 - 10) return invalid();
      n = n * 10 + std::uint64_t(rest[i] - '0');
      ++i;
    }
    if (i == 0) return invalid();
    rest.remove_prefix(i);
    std::size_t j = 0;
    while (j < rest.size() && !is_digit(rest[j])) ++j;
    std::string_view unit = rest.substr(0, j);
    rest.remove_prefix(j);
    const Unit* found = nullptr;
    for (const Unit& u : kUnits) {
      if (u.name == unit) found = &u;
    }
    if (found == nullptr) return invalid();
    int rank = 0;
    while (kOrder[rank] != unit) ++rank;
    if (rank <= last_rank) return invalid();
    last_rank = rank;
    if (n != 0 && found->millis > (std::uint64_t(1) << 62) / 1000000 / n) {
      return invalid_argument("duration out of range: " + quote(text));
    }
    millis += n * found->millis;
  }
  if (millis > std::uint64_t(std::numeric_limits<std::int64_t>::max()) / 1000000) {
    return invalid_argument("duration out of range: " + quote(text));
  }
  return std::chrono::duration_cast<Duration>(std::chrono::milliseconds(millis));
}

std::string format_prometheus_duration(Duration duration) {
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(duration).count();
  if (ms == 0) return "0s";
  std::string out;
  if (ms < 0) {
    out = "-";
    ms = -ms;
  }
  struct Unit {
    const char* name;
    std::int64_t millis;
  };
  static constexpr Unit kUnits[] = {{"y", 365LL * 24 * 3600 * 1000},
                                    {"w", 7LL * 24 * 3600 * 1000},
                                    {"d", 24LL * 3600 * 1000},
                                    {"h", 3600LL * 1000},
                                    {"m", 60LL * 1000},
                                    {"s", 1000},
                                    {"ms", 1}};
  for (const Unit& u : kUnits) {
    std::int64_t n = ms / u.millis;
    if (n > 0) {
      out += std::to_string(n) + u.name;
      ms -= n * u.millis;
    }
  }
  return out;
}

}  // namespace llmscale::core
