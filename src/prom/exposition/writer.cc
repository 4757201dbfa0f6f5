// Exposition writer: escaping and value formatting for both formats.
#include "prom/exposition/writer.h"

#include <cstdio>

#include "prom/exposition/float_text.h"

namespace llmscale::prom {
namespace {

void append_escaped_label_value(std::string& out, std::string_view value) {
  // Runs without a character to escape (nearly every value) are appended whole.
  while (!value.empty()) {
    std::size_t run = 0;
    while (run < value.size() && value[run] != '\\' && value[run] != '"' && value[run] != '\n') {
      ++run;
    }
    out.append(value.data(), run);
    if (run == value.size()) return;
    switch (value[run]) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      default: out += "\\n"; break;
    }
    value.remove_prefix(run + 1);
  }
}

void append_int(std::string& out, std::int64_t v) {
  out += std::to_string(v);
}

}  // namespace

std::string_view openmetrics_family_name(std::string_view name, MetricType type) {
  constexpr std::string_view kTotal = "_total";
  if (type == MetricType::kCounter && name.size() > kTotal.size() &&
      name.substr(name.size() - kTotal.size()) == kTotal) {
    return name.substr(0, name.size() - kTotal.size());
  }
  return name;
}

void ExpositionWriter::help(std::string_view family, std::string_view text) {
  out_ += "# HELP ";
  out_.append(family);
  out_.push_back(' ');
  bool om = format_ == ExpositionFormat::kOpenMetrics;
  for (char c : text) {
    switch (c) {
      case '\\': out_ += "\\\\"; break;
      case '\n': out_ += "\\n"; break;
      case '"':
        if (om) {
          out_ += "\\\"";
        } else {
          out_.push_back(c);
        }
        break;
      default: out_.push_back(c);
    }
  }
  out_.push_back('\n');
}

void ExpositionWriter::type(std::string_view family, MetricType type) {
  out_ += "# TYPE ";
  out_.append(family);
  out_.push_back(' ');
  out_.append(metric_type_name(type, format_));
  out_.push_back('\n');
}

void ExpositionWriter::unit(std::string_view family, std::string_view unit) {
  if (format_ != ExpositionFormat::kOpenMetrics || unit.empty()) return;
  out_ += "# UNIT ";
  out_.append(family);
  out_.push_back(' ');
  out_.append(unit);
  out_.push_back('\n');
}

void ExpositionWriter::append_value(double value) {
  if (style_ == ValueStyle::kPython) {
    append_python_float(out_, value);
  } else {
    append_go_float(out_, value);
  }
}

void ExpositionWriter::sample(std::string_view name, std::span<const Label> labels, double value,
                              std::optional<std::int64_t> timestamp_ms, Label extra) {
  series(name, labels, extra);
  value_and_timestamp(value, timestamp_ms);
}

void ExpositionWriter::series(std::string_view name, std::span<const Label> labels, Label extra) {
  out_.append(name);
  if (!labels.empty() || !extra.name.empty()) {
    out_.push_back('{');
    bool first = true;
    auto put = [&](const Label& l) {
      if (!first) out_.push_back(',');
      first = false;
      out_.append(l.name);
      out_ += "=\"";
      append_escaped_label_value(out_, l.value);
      out_.push_back('"');
    };
    for (const Label& l : labels) put(l);
    if (!extra.name.empty()) put(extra);
    out_.push_back('}');
  }
}

void ExpositionWriter::value_and_timestamp(double value, std::optional<std::int64_t> timestamp_ms) {
  out_.push_back(' ');
  append_value(value);
  if (timestamp_ms) {
    out_.push_back(' ');
    if (format_ == ExpositionFormat::kOpenMetrics) {
      // OpenMetrics timestamps are seconds; printed exactly from the milliseconds.
      std::int64_t ms = *timestamp_ms;
      if (ms < 0) {
        out_.push_back('-');
        ms = -ms;
      }
      append_int(out_, ms / 1000);
      if (std::int64_t frac = ms % 1000; frac != 0) {
        char buf[5];
        std::snprintf(buf, sizeof buf, ".%03d", static_cast<int>(frac));
        std::string_view f(buf);
        while (f.back() == '0') f.remove_suffix(1);
        out_.append(f);
      }
    } else {
      append_int(out_, *timestamp_ms);
    }
  }
  out_.push_back('\n');
}

void ExpositionWriter::eof() {
  if (format_ == ExpositionFormat::kOpenMetrics) out_ += "# EOF\n";
}

std::string write_families(const std::vector<MetricFamily>& families, ExpositionFormat format,
                           ValueStyle style) {
  std::string out;
  ExpositionWriter writer(out, format, style);
  std::vector<Label> labels;
  for (const MetricFamily& family : families) {
    std::string_view name = format == ExpositionFormat::kOpenMetrics
                                ? openmetrics_family_name(family.name, family.type)
                                : std::string_view(family.name);
    if (!family.help.empty()) writer.help(name, family.help);
    writer.type(name, family.type);
    writer.unit(name, family.unit);
    for (const FamilySample& s : family.samples) {
      labels.clear();
      for (Label l : s.labels) labels.push_back(l);
      writer.sample(s.name, labels, s.value, s.timestamp_ms);
    }
  }
  writer.eof();
  return out;
}

}  // namespace llmscale::prom
