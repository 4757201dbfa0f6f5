// RFC 3339 parsing and formatting with Go's conventions.
#include "core/time.h"

#include <cstdio>

namespace llmscale::core {
namespace {

using std::chrono::days;
using std::chrono::sys_days;

bool read_digits(std::string_view text, std::size_t& pos, int count, int& value) {
  if (pos + count > text.size()) return false;
  value = 0;
  for (int i = 0; i < count; ++i) {
    char c = text[pos + i];
    if (c < '0' || c > '9') return false;
    value = value * 10 + (c - '0');
  }
  pos += count;
  return true;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

}  // namespace

Result<Time> parse_rfc3339(std::string_view text) {
  auto fail = [&] {
    return invalid_argument("cannot parse \"" + std::string(text) +
                            "\" as RFC 3339 time (want 2006-01-02T15:04:05Z07:00)");
  };
  std::size_t pos = 0;
  int year, month, day, hour, minute, second;
  if (!read_digits(text, pos, 4, year) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, month) || !expect(text, pos, '-') ||
      !read_digits(text, pos, 2, day) || !expect(text, pos, 'T') ||
      !read_digits(text, pos, 2, hour) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, minute) || !expect(text, pos, ':') ||
      !read_digits(text, pos, 2, second)) {
    return fail();
  }
  std::chrono::year_month_day ymd{std::chrono::year(year), std::chrono::month(month),
                                  std::chrono::day(day)};
  if (!ymd.ok() || hour > 23 || minute > 59 || second > 59) return fail();

  std::int64_t nanos = 0;
  if (pos < text.size() && text[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
      if (digits < 9) nanos = nanos * 10 + (text[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return fail();
    for (int i = digits; i < 9; ++i) nanos *= 10;
  }

  int offset_minutes = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos < text.size() && (text[pos] == '+' || text[pos] == '-')) {
    int sign = text[pos] == '-' ? -1 : 1;
    ++pos;
    int oh, om;
    if (!read_digits(text, pos, 2, oh) || !expect(text, pos, ':') ||
        !read_digits(text, pos, 2, om) || oh > 23 || om > 59) {
      return fail();
    }
    offset_minutes = sign * (oh * 60 + om);
  } else {
    return fail();
  }
  if (pos != text.size()) return fail();

  Time result = Time(sys_days(ymd).time_since_epoch()) + std::chrono::hours(hour) +
                std::chrono::minutes(minute - offset_minutes) + std::chrono::seconds(second) +
                Duration(nanos);
  return result;
}

namespace {

struct Parts {
  int year, month, day, hour, minute, second;
  std::int64_t nanos;
};

Parts split(Time time) {
  auto day_point = std::chrono::floor<days>(time);
  std::chrono::year_month_day ymd{day_point};
  auto rest = time - day_point;
  auto secs = std::chrono::duration_cast<std::chrono::seconds>(rest);
  Parts p;
  p.year = int(ymd.year());
  p.month = int(unsigned(ymd.month()));
  p.day = int(unsigned(ymd.day()));
  p.hour = int(secs.count() / 3600);
  p.minute = int(secs.count() / 60 % 60);
  p.second = int(secs.count() % 60);
  p.nanos = (rest - secs).count();
  return p;
}

std::string format_base(const Parts& p) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", p.year, p.month, p.day, p.hour,
                p.minute, p.second);
  return buf;
}

}  // namespace

std::string format_rfc3339(Time time) {
  return format_base(split(time)) + "Z";
}

std::string format_rfc3339_nano(Time time) {
  Parts p = split(time);
  std::string out = format_base(p);
  if (p.nanos != 0) {
    char frac[32];
    std::snprintf(frac, sizeof frac, ".%09lld", static_cast<long long>(p.nanos));
    std::string f = frac;
    while (f.back() == '0') f.pop_back();
    out += f;
  }
  return out + "Z";
}

std::string format_rfc3339_micro(Time time) {
  Parts p = split(time);
  char frac[32];
  std::snprintf(frac, sizeof frac, ".%06lld", static_cast<long long>(p.nanos / 1000));
  return format_base(p) + frac + "Z";
}

}  // namespace llmscale::core
