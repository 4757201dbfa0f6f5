// Float parsing and the Go/Python shortest-representation formats.
#include "prom/exposition/float_text.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>

namespace llmscale::prom {
namespace {

bool iequals_prefix(std::string_view text, std::string_view word) {
  if (text.size() != word.size()) return false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    if (c != word[i]) return false;
  }
  return true;
}

// Shortest round-trip decimal digits of |value| (finite, non-zero) and its decimal exponent:
// value = 0.d1d2d3... * 10^point, i.e. `point` digits before the decimal point.
struct Digits {
  char digits[32];
  int count = 0;
  int point = 0;
};

Digits shortest_digits(double value) {
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, std::fabs(value), std::chars_format::scientific);
  // Form: d[.ddd]e[+-]xx
  Digits d;
  const char* p = buf;
  const char* end = res.ptr;
  while (p < end && *p != 'e') {
    if (*p != '.') d.digits[d.count++] = *p;
    ++p;
  }
  int exp = 0;
  std::from_chars(p + 1 + (p[1] == '+' ? 1 : 0), end, exp);
  // Trim trailing zeros of the mantissa (to_chars already gives the shortest form).
  while (d.count > 1 && d.digits[d.count - 1] == '0') --d.count;
  d.point = exp + 1;
  return d;
}

void append_exponent(std::string& out, int exp, int min_digits) {
  out.push_back('e');
  out.push_back(exp < 0 ? '-' : '+');
  int a = exp < 0 ? -exp : exp;
  char buf[8];
  int n = std::snprintf(buf, sizeof buf, "%0*d", min_digits, a);
  out.append(buf, static_cast<std::size_t>(n));
}

bool append_special(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return true;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return true;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0" : "0";
    return true;
  }
  return false;
}

void append_fixed(std::string& out, const Digits& d) {
  if (d.point <= 0) {
    out += "0.";
    out.append(static_cast<std::size_t>(-d.point), '0');
    out.append(d.digits, static_cast<std::size_t>(d.count));
  } else if (d.point >= d.count) {
    out.append(d.digits, static_cast<std::size_t>(d.count));
    out.append(static_cast<std::size_t>(d.point - d.count), '0');
  } else {
    out.append(d.digits, static_cast<std::size_t>(d.point));
    out.push_back('.');
    out.append(d.digits + d.point, static_cast<std::size_t>(d.count - d.point));
  }
}

void append_scientific(std::string& out, const Digits& d, int min_exp_digits) {
  out.push_back(d.digits[0]);
  if (d.count > 1) {
    out.push_back('.');
    out.append(d.digits + 1, static_cast<std::size_t>(d.count - 1));
  }
  append_exponent(out, d.point - 1, min_exp_digits);
}

}  // namespace

std::optional<double> parse_prom_float(std::string_view text) {
  if (text.empty()) return std::nullopt;
  std::string_view body = text;
  bool negative = false;
  bool has_sign = false;
  if (body[0] == '+' || body[0] == '-') {
    negative = body[0] == '-';
    has_sign = true;
    body.remove_prefix(1);
    if (body.empty()) return std::nullopt;
  }
  char c = body[0];
  if (c == 'i' || c == 'I') {
    if (iequals_prefix(body, "inf") || iequals_prefix(body, "infinity")) {
      return negative ? -std::numeric_limits<double>::infinity()
                      : std::numeric_limits<double>::infinity();
    }
    return std::nullopt;
  }
  if (c == 'n' || c == 'N') {
    // Go: a sign is not allowed before NaN.
    if (!has_sign && iequals_prefix(body, "nan")) return std::numeric_limits<double>::quiet_NaN();
    return std::nullopt;
  }
  if (!((c >= '0' && c <= '9') || c == '.')) return std::nullopt;
  double plain = 0;
  const char* body_end = body.data() + body.size();
  if (parse_plain_decimal(body.data(), body_end, plain) == body_end)
    return negative ? -plain : plain;
  double value = 0;
  auto res =
      std::from_chars(body.data(), body.data() + body.size(), value, std::chars_format::general);
  if (res.ec != std::errc() || res.ptr != body.data() + body.size()) {
    if (res.ec == std::errc::result_out_of_range && res.ptr == body.data() + body.size()) {
      // Go returns ErrRange for overflow; underflow to a subnormal or zero is accepted.
      double probe = std::strtod(std::string(body).c_str(), nullptr);
      if (std::isinf(probe)) return std::nullopt;
      value = probe;
    } else {
      return std::nullopt;
    }
  }
  return negative ? -value : value;
}

void append_go_float(std::string& out, double value) {
  if (append_special(out, value)) return;
  if (value < 0) out.push_back('-');
  Digits d = shortest_digits(value);
  // Go strconv/ftoa.go, 'g' with shortest precision: "if precision was the shortest possible,
  // use precision 6 for this decision": %e when exp < -4 || exp >= 6.
  int exp = d.point - 1;
  if (exp < -4 || exp >= 6) {
    append_scientific(out, d, 2);
  } else {
    append_fixed(out, d);
  }
}

std::string format_go_float(double value) {
  std::string out;
  append_go_float(out, value);
  return out;
}

std::string format_go_float_fixed(double value) {
  std::string out;
  if (append_special(out, value)) return out;
  if (value < 0) out.push_back('-');
  append_fixed(out, shortest_digits(value));
  return out;
}

void append_python_float(std::string& out, double value) {
  if (std::isnan(value)) {
    out += "NaN";
    return;
  }
  if (std::isinf(value)) {
    out += value > 0 ? "+Inf" : "-Inf";
    return;
  }
  if (value == 0) {
    out += std::signbit(value) ? "-0.0" : "0.0";
    return;
  }
  if (value < 0) out.push_back('-');
  Digits d = shortest_digits(value);
  int exp = d.point - 1;
  // Python repr: scientific when exp < -4 or exp >= 16, else fixed with at least ".0".
  if (exp < -4 || exp >= 16) {
    append_scientific(out, d, 2);
    return;
  }
  std::size_t start = out.size();
  append_fixed(out, d);
  if (d.point >= d.count) out += ".0";
  // prometheus_client floatToGoString: "Go switches to exponents sooner than Python": for
  // positive values with more than 6 integer digits, mantissa.rstrip('0.') + "e+0" + (dot-1).
  if (value > 0) {
    std::string_view s(out.data() + start, out.size() - start);
    std::size_t dot = s.find('.');
    if (dot != std::string_view::npos && dot > 6) {
      std::string mantissa;
      mantissa.push_back(s[0]);
      mantissa.push_back('.');
      mantissa.append(s.substr(1, dot - 1));
      mantissa.append(s.substr(dot + 1));
      while (!mantissa.empty() && (mantissa.back() == '0' || mantissa.back() == '.')) {
        mantissa.pop_back();
      }
      out.resize(start);
      out += mantissa;
      out += "e+0";
      out += std::to_string(dot - 1);
    }
  }
}

}  // namespace llmscale::prom
