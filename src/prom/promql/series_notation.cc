// Series notation expansion and loading.
#include "prom/promql/series_notation.h"

#include "core/strings.h"
#include "prom/exposition/float_text.h"
#include "prom/promql/parser.h"
#include "prom/tsdb/xor_chunk.h"

namespace llmscale::prom {
namespace {

std::optional<double> parse_value(std::string_view text) {
  if (text == "stale") return stale_nan();
  return parse_prom_float(text);
}

}  // namespace

core::Result<std::vector<std::optional<double>>> expand_series_values(std::string_view values) {
  std::vector<std::optional<double>> out;
  std::size_t i = 0;
  auto fail = [&](std::string_view item) {
    return core::invalid_argument("invalid series value " + core::go_quote(item) + " in " +
                                  core::go_quote(values));
  };
  while (i < values.size()) {
    while (i < values.size() && (values[i] == ' ' || values[i] == '\t')) ++i;
    if (i >= values.size()) break;
    std::size_t start = i;
    while (i < values.size() && values[i] != ' ' && values[i] != '\t') ++i;
    std::string_view item = values.substr(start, i - start);
    std::size_t x = item.rfind('x');
    std::optional<std::uint64_t> times;
    std::string_view head = item;
    if (x != std::string_view::npos && x > 0 && x + 1 < item.size()) {
      std::uint64_t n = 0;
      bool digits = true;
      for (char c : item.substr(x + 1)) {
        if (c < '0' || c > '9') {
          digits = false;
          break;
        }
        n = n * 10 + static_cast<std::uint64_t>(c - '0');
      }
      if (digits) {
        times = n;
        head = item.substr(0, x);
      }
    }
    if (head == "_") {
      std::uint64_t n = times ? *times : 1;
      for (std::uint64_t k = 0; k < n; ++k) out.push_back(std::nullopt);
      continue;
    }
    if (!times) {
      auto v = parse_value(head);
      if (!v) return fail(item);
      out.push_back(v);
      continue;
    }
    // a, or a+b / a-b: find the sign that starts the increment (not an exponent sign or a
    // leading sign).
    std::size_t split = std::string_view::npos;
    for (std::size_t k = 1; k < head.size(); ++k) {
      if ((head[k] == '+' || head[k] == '-') && head[k - 1] != 'e' && head[k - 1] != 'E') {
        split = k;
        break;
      }
    }
    double value;
    double step = 0;
    if (split == std::string_view::npos) {
      auto v = parse_value(head);
      if (!v) return fail(item);
      value = *v;
    } else {
      auto a = parse_value(head.substr(0, split));
      auto b = parse_prom_float(head.substr(split));
      if (!a || !b) return fail(item);
      value = *a;
      step = *b;
    }
    for (std::uint64_t k = 0; k <= *times; ++k) {
      out.push_back(value);
      value += step;
    }
  }
  return out;
}

core::Result<Labels> parse_series_labels(std::string_view series) {
  auto matchers = parse_series_selector(series);
  if (!matchers) return tl::unexpected(matchers.error());
  LabelsBuilder b;
  for (const Matcher& m : *matchers) {
    if (m.type() != MatchType::kEqual) {
      return core::invalid_argument("series " + core::go_quote(series) +
                                    ": only equality matchers describe a series");
    }
    b.set(m.name(), m.value());
  }
  return b.labels();
}

core::Status load_series(Storage& storage, std::string_view series, std::string_view values,
                         std::int64_t interval_ms, std::int64_t start_ms) {
  auto labels = parse_series_labels(series);
  if (!labels) return tl::unexpected(labels.error());
  auto expanded = expand_series_values(values);
  if (!expanded) return tl::unexpected(expanded.error());
  for (std::size_t i = 0; i < expanded->size(); ++i) {
    if (!(*expanded)[i]) continue;
    auto status = storage.append(*labels, start_ms + static_cast<std::int64_t>(i) * interval_ms,
                                 *(*expanded)[i]);
    if (!status) return status;
  }
  return {};
}

}  // namespace llmscale::prom
