// Report writers: JSON, CSV, terminal tables, SVG chart, progress line, gates.
#include "loadgen/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/strings.h"

namespace llmscale::loadgen {
namespace {

using core::Json;

double round3(double value) {
  return std::round(value * 1000.0) / 1000.0;
}

double ns_to_ms(double ns) {
  return round3(ns / 1e6);
}

std::string fixed(double value, int decimals) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, "%.*f", decimals, value);
  return buffer;
}

// A histogram's figures. `scale` converts recorded units to reported ones (ns -> ms).
struct Figures {
  std::uint64_t count = 0;
  double mean = 0, stddev = 0, min = 0, p50 = 0, p90 = 0, p95 = 0, p99 = 0, max = 0;
};

Figures figures(const Histogram& h, bool nanoseconds) {
  auto conv = [&](double v) { return nanoseconds ? ns_to_ms(v) : round3(v); };
  Figures f;
  f.count = h.count();
  if (f.count == 0) return f;
  f.mean = conv(h.mean());
  f.stddev = conv(h.stddev());
  f.min = conv(static_cast<double>(h.min()));
  f.p50 = conv(static_cast<double>(h.quantile(0.50)));
  f.p90 = conv(static_cast<double>(h.quantile(0.90)));
  f.p95 = conv(static_cast<double>(h.quantile(0.95)));
  f.p99 = conv(static_cast<double>(h.quantile(0.99)));
  f.max = conv(static_cast<double>(h.max()));
  return f;
}

Json figures_json(const Histogram& h, bool nanoseconds) {
  Figures f = figures(h, nanoseconds);
  Json out = Json::object();
  out["count"] = f.count;
  if (f.count == 0) return out;
  out["mean"] = f.mean;
  out["stddev"] = f.stddev;
  out["min"] = f.min;
  out["p50"] = f.p50;
  out["p90"] = f.p90;
  out["p95"] = f.p95;
  out["p99"] = f.p99;
  out["max"] = f.max;
  return out;
}

struct NamedHistogram {
  const char* key;    // JSON / CSV name
  const char* label;  // table label
  const Histogram* histogram;
  bool nanoseconds;
};

std::vector<NamedHistogram> distributions(const StageStats& s) {
  return {
      {"ttft_ms", "Time to first token (ms)", &s.ttft, true},
      {"itl_ms", "Inter token latency (ms)", &s.itl, true},
      {"tpot_ms", "Time per output token (ms)", &s.tpot, true},
      {"e2e_ms", "Request latency (ms)", &s.e2e, true},
      {"schedule_delay_ms", "Schedule delay (ms)", &s.schedule_delay, true},
      {"output_tokens", "Output sequence length", &s.output_tokens, false},
      {"input_tokens", "Input sequence length", &s.input_tokens, false},
  };
}

double seconds(core::Duration d) {
  return round3(core::to_seconds(d));
}

std::string error_summary(const StageStats& s) {
  std::vector<std::string> parts;
  for (const auto& [kind, count] : s.errors) parts.push_back(kind + " " + std::to_string(count));
  return core::join(parts, ", ");
}

double fraction(std::uint64_t part, std::uint64_t whole) {
  return whole == 0 ? 0.0 : static_cast<double>(part) / static_cast<double>(whole);
}

}  // namespace

bool RunReport::gates_passed() const {
  return std::all_of(gates.begin(), gates.end(), [](const GateResult& g) { return g.passed; });
}

std::vector<GateResult> evaluate_gates(const std::vector<StageStats>& stages, const Gates& gates) {
  std::vector<GateResult> out;
  for (const StageStats& s : stages) {
    if (gates.max_error_fraction) {
      GateResult g;
      g.gate = "errors";
      g.stage = s.name();
      g.value = fraction(s.failed, s.measured());
      g.threshold = *gates.max_error_fraction;
      g.passed = g.value <= g.threshold;
      out.push_back(g);
    }
    if (gates.min_goodput_fraction) {
      GateResult g;
      g.gate = "goodput";
      g.stage = s.name();
      g.value = fraction(s.good, s.measured());
      g.threshold = *gates.min_goodput_fraction;
      // A stage that measured nothing has not shown its goodput.
      g.passed = s.measured() > 0 && g.value >= g.threshold;
      out.push_back(g);
    }
  }
  return out;
}

std::string report_json(const RunReport& report) {
  Json root = Json::object();
  root["schema_version"] = RunReport::kSchemaVersion;
  root["tool"] = "llmscale load";
  Json config = Json::object();
  config["url"] = report.url;
  config["api"] = report.api;
  config["endpoint"] = report.endpoint;
  config["streaming"] = report.streaming;
  config["model"] = report.model;
  config["seed"] = report.seed;
  config["slo"] = report.slo.to_string();
  root["config"] = std::move(config);
  root["started_at"] = core::format_rfc3339_micro(report.started_at);
  root["elapsed_s"] = seconds(report.elapsed);
  root["interrupted"] = report.interrupted;
  if (report.trace) {
    const TraceSummary& t = *report.trace;
    Json trace = Json::object();
    trace["source"] = t.source;
    trace["format"] = t.format;
    trace["rows"] = t.rows;
    trace["span_s"] = seconds(t.span);
    trace["bad_rows"] = t.bad_row_count;
    Json samples = Json::array();
    for (const BadRow& b : t.bad_rows) samples.push_back({{"line", b.line}, {"reason", b.reason}});
    trace["bad_row_samples"] = std::move(samples);
    root["trace"] = std::move(trace);
  }
  Json stages = Json::array();
  for (const StageStats& s : report.stages) {
    Json stage = Json::object();
    stage["index"] = s.index + 1;
    stage["name"] = s.name();
    stage["workload"] = s.workload();
    stage["start_s"] = seconds(s.start);
    stage["end_s"] = seconds(s.end);
    Json window = Json::object();
    window["start_s"] = s.window_start ? seconds(*s.window_start) : 0.0;
    window["end_s"] = s.window_end ? seconds(*s.window_end) : 0.0;
    window["duration_s"] = round3(s.window_seconds());
    stage["window"] = std::move(window);
    Json requests = Json::object();
    requests["measured"] = s.measured();
    requests["succeeded"] = s.succeeded;
    requests["failed"] = s.failed;
    requests["warmup"] = s.warmup_requests;
    stage["requests"] = std::move(requests);
    Json errors = Json::object();
    for (const auto& [kind, count] : s.errors) errors[kind] = count;
    stage["errors"] = std::move(errors);
    Json samples = Json::object();
    for (const auto& [kind, list] : s.error_samples) samples[kind] = list;
    stage["error_samples"] = std::move(samples);
    Json statuses = Json::object();
    for (const auto& [status, count] : s.http_statuses) statuses[std::to_string(status)] = count;
    stage["http_status"] = std::move(statuses);
    Json throughput = Json::object();
    throughput["requests_per_s"] = round3(s.request_throughput());
    throughput["output_tokens_per_s"] = round3(s.output_token_throughput());
    throughput["input_tokens_per_s"] = round3(s.input_token_throughput());
    throughput["goodput_requests_per_s"] = round3(s.goodput());
    stage["throughput"] = std::move(throughput);
    Json goodput = Json::object();
    goodput["slo"] = s.slo().to_string();
    goodput["good"] = s.good;
    goodput["fraction"] = round3(fraction(s.good, s.measured()));
    stage["goodput"] = std::move(goodput);
    Json metrics = Json::object();
    for (const NamedHistogram& d : distributions(s)) {
      metrics[d.key] = figures_json(*d.histogram, d.nanoseconds);
    }
    stage["metrics"] = std::move(metrics);
    Json timeline = Json::array();
    double interval_s = core::to_seconds(s.interval());
    for (const auto& [index, bucket] : s.timeline) {
      Json point = Json::object();
      point["t_s"] = round3(static_cast<double>(index) * interval_s);
      point["completed"] = bucket.completed;
      point["errors"] = bucket.errors;
      point["output_tokens"] = bucket.output_tokens;
      if (!bucket.ttft.empty()) {
        point["ttft_p50_ms"] = ns_to_ms(static_cast<double>(bucket.ttft.quantile(0.5)));
        point["ttft_p99_ms"] = ns_to_ms(static_cast<double>(bucket.ttft.quantile(0.99)));
      }
      if (!bucket.e2e.empty()) {
        point["e2e_p50_ms"] = ns_to_ms(static_cast<double>(bucket.e2e.quantile(0.5)));
        point["e2e_p99_ms"] = ns_to_ms(static_cast<double>(bucket.e2e.quantile(0.99)));
      }
      timeline.push_back(std::move(point));
    }
    stage["timeline_interval_s"] = round3(interval_s);
    stage["timeline"] = std::move(timeline);
    stages.push_back(std::move(stage));
  }
  root["stages"] = std::move(stages);
  Json gates = Json::array();
  for (const GateResult& g : report.gates) {
    gates.push_back({{"gate", g.gate},
                     {"stage", g.stage},
                     {"value", round3(g.value)},
                     {"threshold", g.threshold},
                     {"passed", g.passed}});
  }
  root["gates"] = std::move(gates);
  root["passed"] = report.gates_passed();
  return core::to_pretty_json(root) + "\n";
}

namespace {

// RFC 4180: quote fields holding a comma, quote or line break.
std::string csv_field(std::string_view text) {
  if (text.find_first_of(",\"\r\n") == std::string_view::npos) return std::string(text);
  std::string out = "\"";
  for (char c : text) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

std::string csv_number(double value) {
  return core::go_format_float(round3(value));
}

}  // namespace

std::string report_csv(const RunReport& report) {
  std::string out = "stage,name,metric,statistic,value\n";
  for (const StageStats& s : report.stages) {
    std::string prefix = std::to_string(s.index + 1) + "," + csv_field(s.name()) + ",";
    auto row = [&](std::string_view metric, std::string_view statistic, double value) {
      out += prefix;
      out += metric;
      out += ',';
      out += statistic;
      out += ',';
      out += csv_number(value);
      out += '\n';
    };
    for (const NamedHistogram& d : distributions(s)) {
      Figures f = figures(*d.histogram, d.nanoseconds);
      row(d.key, "count", static_cast<double>(f.count));
      if (f.count == 0) continue;
      row(d.key, "mean", f.mean);
      row(d.key, "stddev", f.stddev);
      row(d.key, "min", f.min);
      row(d.key, "p50", f.p50);
      row(d.key, "p90", f.p90);
      row(d.key, "p95", f.p95);
      row(d.key, "p99", f.p99);
      row(d.key, "max", f.max);
    }
    row("requests", "measured", static_cast<double>(s.measured()));
    row("requests", "succeeded", static_cast<double>(s.succeeded));
    row("requests", "failed", static_cast<double>(s.failed));
    row("requests", "warmup", static_cast<double>(s.warmup_requests));
    row("requests", "good", static_cast<double>(s.good));
    for (const auto& [kind, count] : s.errors) {
      out += prefix + "errors," + csv_field(kind) + "," + std::to_string(count) + "\n";
    }
    row("throughput", "requests_per_s", s.request_throughput());
    row("throughput", "output_tokens_per_s", s.output_token_throughput());
    row("throughput", "input_tokens_per_s", s.input_token_throughput());
    row("throughput", "goodput_requests_per_s", s.goodput());
    row("window", "duration_s", s.window_seconds());
  }
  return out;
}

std::string requests_csv(const RunReport& report) {
  std::string out =
      "id,stage,warmup,intended_s,sent_s,ttft_ms,e2e_ms,tpot_ms,itl_max_ms,input_tokens,"
      "output_tokens,http_status,ok,good,error\n";
  auto optional = [](const std::optional<double>& v) {
    return v ? core::go_format_float(round3(*v)) : std::string();
  };
  for (const StageStats& s : report.stages) {
    std::vector<const RequestRow*> rows;
    rows.reserve(s.rows.size());
    for (const RequestRow& r : s.rows) rows.push_back(&r);
    std::sort(rows.begin(), rows.end(),
              [](const RequestRow* a, const RequestRow* b) { return a->id < b->id; });
    for (const RequestRow* r : rows) {
      out += std::to_string(r->id) + "," + std::to_string(r->stage + 1) + "," +
             (r->warmup ? "true" : "false") + "," + fixed(r->intended_s, 6) + "," +
             fixed(r->sent_s, 6) + "," + optional(r->ttft_ms) + "," +
             core::go_format_float(round3(r->e2e_ms)) + "," + optional(r->tpot_ms) + "," +
             optional(r->itl_max_ms) + "," + std::to_string(r->input_tokens) + "," +
             std::to_string(r->output_tokens) + "," + std::to_string(r->http_status) + "," +
             (r->ok ? "true" : "false") + "," + (r->good ? "true" : "false") + "," +
             csv_field(r->error_kind) + "\n";
    }
  }
  return out;
}

namespace {

std::string pad_left(std::string text, std::size_t width) {
  if (text.size() < width) text.insert(0, width - text.size(), ' ');
  return text;
}

std::string pad_right(std::string text, std::size_t width) {
  if (text.size() < width) text.append(width - text.size(), ' ');
  return text;
}

std::string table_number(double value) {
  if (std::fabs(value) >= 1e6) return fixed(value, 0);
  return fixed(value, 2);
}

}  // namespace

std::string report_table(const RunReport& report) {
  constexpr std::size_t kLabel = 34, kColumn = 11;
  const char* columns[] = {"avg", "min", "max", "p50", "p90", "p95", "p99"};
  std::string out;
  std::size_t total = report.stages.size();
  for (const StageStats& s : report.stages) {
    out += "stage " + std::to_string(s.index + 1) + "/" + std::to_string(total) + ": " + s.name();
    if (s.name() != s.workload()) out += " (" + s.workload() + ")";
    out += "  window " + fixed(s.window_seconds(), 2) + " s\n";
    out += pad_right("Statistic", kLabel);
    for (const char* c : columns) out += pad_left(c, kColumn);
    out += "\n";
    for (const NamedHistogram& d : distributions(s)) {
      if (d.histogram->empty()) {
        // Without streaming there is no TTFT, ITL or TPOT; say so once rather than print zeros.
        if (std::string_view(d.key) == "ttft_ms" && !report.streaming) {
          out += pad_right(d.label, kLabel) + pad_left("n/a (not streaming)", kColumn * 3) + "\n";
        }
        continue;
      }
      Figures f = figures(*d.histogram, d.nanoseconds);
      out += pad_right(d.label, kLabel);
      for (double v : {f.mean, f.min, f.max, f.p50, f.p90, f.p95, f.p99}) {
        out += pad_left(table_number(v), kColumn);
      }
      out += "\n";
    }
    out += pad_right("Output token throughput (per sec)", kLabel) +
           pad_left(table_number(s.output_token_throughput()), kColumn) + "\n";
    out += pad_right("Request throughput (per sec)", kLabel) +
           pad_left(table_number(s.request_throughput()), kColumn) + "\n";
    if (!s.slo().empty()) {
      out += pad_right("Goodput (per sec)", kLabel) + pad_left(table_number(s.goodput()), kColumn) +
             "  " + std::to_string(s.good) + " of " + std::to_string(s.measured()) +
             " requests met " + s.slo().to_string() + "\n";
    }
    out +=
        "Requests: " + std::to_string(s.succeeded) + " ok, " + std::to_string(s.failed) + " failed";
    if (s.failed > 0) out += " (" + error_summary(s) + ")";
    if (s.warmup_requests > 0) out += ", " + std::to_string(s.warmup_requests) + " warm-up";
    out += "\n";
    for (const auto& [kind, samples] : s.error_samples) {
      if (!samples.empty()) out += "  " + kind + ": " + samples.front() + "\n";
    }
    out += "\n";
  }
  if (report.stages.size() > 1) {
    const char* headers[] = {"req/s",   "out tok/s", "TTFT p50", "TTFT p99", "ITL p50",
                             "e2e p50", "e2e p99",   "errors",   "goodput/s"};
    out += pad_right("stage", 28);
    for (const char* h : headers) out += pad_left(h, kColumn);
    out += "\n";
    for (const StageStats& s : report.stages) {
      auto ms_or_dash = [](const Histogram& h, double q) {
        return h.empty() ? std::string("-")
                         : table_number(ns_to_ms(static_cast<double>(h.quantile(q))));
      };
      out += pad_right(s.name(), 28);
      out += pad_left(table_number(s.request_throughput()), kColumn);
      out += pad_left(table_number(s.output_token_throughput()), kColumn);
      out += pad_left(ms_or_dash(s.ttft, 0.5), kColumn);
      out += pad_left(ms_or_dash(s.ttft, 0.99), kColumn);
      out += pad_left(ms_or_dash(s.itl, 0.5), kColumn);
      out += pad_left(ms_or_dash(s.e2e, 0.5), kColumn);
      out += pad_left(ms_or_dash(s.e2e, 0.99), kColumn);
      out += pad_left(std::to_string(s.failed), kColumn);
      out += pad_left(s.slo().empty() ? std::string("-") : table_number(s.goodput()), kColumn);
      out += "\n";
    }
    out += "(latencies in ms)\n";
  }
  if (report.trace && report.trace->bad_row_count > 0) {
    out += "trace " + report.trace->source + ": " + std::to_string(report.trace->bad_row_count) +
           " bad rows skipped (first at line " +
           std::to_string(report.trace->bad_rows.front().line) + ": " +
           report.trace->bad_rows.front().reason + ")\n";
  }
  for (const GateResult& g : report.gates) {
    if (g.passed) continue;
    out += "FAILED gate " + g.gate + " in stage " + g.stage + ": " + fixed(g.value, 3) +
           (g.gate == "errors" ? " > " : " < ") + fixed(g.threshold, 3) + "\n";
  }
  if (report.interrupted) out += "interrupted: later stages were skipped\n";
  return out;
}

// --- SVG ---

namespace {

struct Series {
  std::string label;
  std::string color;
  bool dashed = false;
  // Polylines (broken where data is missing), points in data units.
  std::vector<std::vector<std::pair<double, double>>> lines;
};

double nice_step(double max_value, int ticks) {
  if (max_value <= 0) return 1;
  double raw = max_value / ticks;
  double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
    if (m * magnitude >= raw) return m * magnitude;
  }
  return 10 * magnitude;
}

std::string coord(double value) {
  return fixed(value, 1);
}

std::string tick_label(double value) {
  char buffer[32];
  if (std::fabs(value) >= 10000) {
    std::snprintf(buffer, sizeof buffer, "%.0fk", value / 1000);
  } else {
    std::snprintf(buffer, sizeof buffer, "%g", value);
  }
  return buffer;
}

std::string escape_xml(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Panel {
  std::string title;
  std::vector<Series> series;
};

constexpr double kWidth = 960, kPanelHeight = 220, kLeft = 70, kRight = 180, kTop = 40, kGap = 50;

void draw_panel(std::string& out, const Panel& panel, double y0, double x_max,
                const std::vector<const StageStats*>& stages) {
  double plot_w = kWidth - kLeft - kRight, plot_h = kPanelHeight;
  double y_max = 0;
  for (const Series& s : panel.series) {
    for (const auto& line : s.lines) {
      for (const auto& [x, y] : line) y_max = std::max(y_max, y);
    }
  }
  double step = nice_step(y_max, 4);
  double top = std::max(step, std::ceil(y_max / step) * step);
  auto px = [&](double x) { return kLeft + (x_max > 0 ? x / x_max : 0) * plot_w; };
  auto py = [&](double y) { return y0 + plot_h - (top > 0 ? y / top : 0) * plot_h; };

  out += "<text x=\"" + coord(kLeft) + "\" y=\"" + coord(y0 - 8) + "\" class=\"title\">" +
         escape_xml(panel.title) + "</text>\n";
  out += "<rect x=\"" + coord(kLeft) + "\" y=\"" + coord(y0) + "\" width=\"" + coord(plot_w) +
         "\" height=\"" + coord(plot_h) + "\" class=\"frame\"/>\n";
  for (double v = 0; v <= top + step / 2; v += step) {
    out += "<line x1=\"" + coord(kLeft) + "\" y1=\"" + coord(py(v)) + "\" x2=\"" +
           coord(kLeft + plot_w) + "\" y2=\"" + coord(py(v)) + "\" class=\"grid\"/>\n";
    out += "<text x=\"" + coord(kLeft - 6) + "\" y=\"" + coord(py(v) + 4) + "\" class=\"ylabel\">" +
           tick_label(v) + "</text>\n";
  }
  for (const StageStats* s : stages) {
    double x = px(core::to_seconds(s->start));
    out += "<line x1=\"" + coord(x) + "\" y1=\"" + coord(y0) + "\" x2=\"" + coord(x) + "\" y2=\"" +
           coord(y0 + plot_h) + "\" class=\"stage\"/>\n";
  }
  double legend_y = y0 + 14;
  for (const Series& s : panel.series) {
    std::string style =
        "stroke=\"" + s.color + "\"" + (s.dashed ? " stroke-dasharray=\"5,3\"" : std::string());
    for (const auto& line : s.lines) {
      if (line.size() == 1) {
        out += "<circle cx=\"" + coord(px(line[0].first)) + "\" cy=\"" + coord(py(line[0].second)) +
               "\" r=\"2\" fill=\"" + s.color + "\"/>\n";
        continue;
      }
      out += "<polyline fill=\"none\" " + style + " points=\"";
      for (std::size_t i = 0; i < line.size(); ++i) {
        if (i > 0) out += ' ';
        out += coord(px(line[i].first)) + "," + coord(py(line[i].second));
      }
      out += "\"/>\n";
    }
    double lx = kLeft + plot_w + 16;
    out += "<line x1=\"" + coord(lx) + "\" y1=\"" + coord(legend_y - 4) + "\" x2=\"" +
           coord(lx + 22) + "\" y2=\"" + coord(legend_y - 4) + "\" " + style + "/>\n";
    out += "<text x=\"" + coord(lx + 28) + "\" y=\"" + coord(legend_y) + "\" class=\"legend\">" +
           escape_xml(s.label) + "</text>\n";
    legend_y += 18;
  }
}

}  // namespace

std::string report_svg(const RunReport& report) {
  std::vector<const StageStats*> stages;
  double x_max = 0;
  for (const StageStats& s : report.stages) {
    stages.push_back(&s);
    x_max = std::max(x_max, core::to_seconds(s.end));
    if (!s.timeline.empty()) {
      x_max = std::max(x_max, static_cast<double>(s.timeline.rbegin()->first + 1) *
                                  core::to_seconds(s.interval()));
    }
  }
  if (x_max <= 0) x_max = 1;

  Panel latency{"Latency per interval (ms)", {}};
  Panel requests{"Requests per second", {}};
  Panel tokens{"Output tokens per second", {}};
  Series ttft50{"TTFT p50", "#1f77b4", false, {}}, ttft99{"TTFT p99", "#1f77b4", true, {}};
  Series e2e50{"e2e p50", "#d62728", false, {}}, e2e99{"e2e p99", "#d62728", true, {}};
  Series ok{"succeeded/s", "#2ca02c", false, {}}, failed{"failed/s", "#ff7f0e", false, {}};
  Series tok{"output tokens/s", "#9467bd", false, {}};
  for (const StageStats* s : stages) {
    double interval = core::to_seconds(s->interval());
    auto start_index = static_cast<std::int64_t>(std::floor(core::to_seconds(s->start) / interval));
    auto end_index = std::max(
        start_index, static_cast<std::int64_t>(std::ceil(core::to_seconds(s->end) / interval)) - 1);
    if (!s->timeline.empty()) end_index = std::max(end_index, s->timeline.rbegin()->first);
    std::vector<std::pair<double, double>> ok_line, failed_line, tok_line;
    std::vector<std::pair<double, double>> lat[4];
    auto flush_latency = [&](Series* series[4]) {
      for (int i = 0; i < 4; ++i) {
        if (!lat[i].empty()) series[i]->lines.push_back(std::move(lat[i]));
        lat[i].clear();
      }
    };
    Series* latency_series[4] = {&ttft50, &ttft99, &e2e50, &e2e99};
    for (std::int64_t k = start_index; k <= end_index; ++k) {
      double x = (static_cast<double>(k) + 0.5) * interval;
      auto it = s->timeline.find(k);
      if (it == s->timeline.end()) {
        ok_line.emplace_back(x, 0);
        failed_line.emplace_back(x, 0);
        tok_line.emplace_back(x, 0);
        flush_latency(latency_series);
        continue;
      }
      const TimelineBucket& b = it->second;
      ok_line.emplace_back(x, static_cast<double>(b.completed) / interval);
      failed_line.emplace_back(x, static_cast<double>(b.errors) / interval);
      tok_line.emplace_back(x, static_cast<double>(b.output_tokens) / interval);
      if (!b.ttft.empty()) {
        lat[0].emplace_back(x, static_cast<double>(b.ttft.quantile(0.5)) / 1e6);
        lat[1].emplace_back(x, static_cast<double>(b.ttft.quantile(0.99)) / 1e6);
      }
      if (!b.e2e.empty()) {
        lat[2].emplace_back(x, static_cast<double>(b.e2e.quantile(0.5)) / 1e6);
        lat[3].emplace_back(x, static_cast<double>(b.e2e.quantile(0.99)) / 1e6);
      }
    }
    flush_latency(latency_series);
    ok.lines.push_back(std::move(ok_line));
    failed.lines.push_back(std::move(failed_line));
    tok.lines.push_back(std::move(tok_line));
  }
  if (!ttft50.lines.empty()) {
    latency.series.push_back(std::move(ttft50));
    latency.series.push_back(std::move(ttft99));
  }
  latency.series.push_back(std::move(e2e50));
  latency.series.push_back(std::move(e2e99));
  requests.series.push_back(std::move(ok));
  requests.series.push_back(std::move(failed));
  tokens.series.push_back(std::move(tok));

  double height = kTop + 30 + 3 * kPanelHeight + 2 * kGap + 60;
  std::string out;
  out += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + coord(kWidth) + "\" height=\"" +
         coord(height) + "\" viewBox=\"0 0 " + coord(kWidth) + " " + coord(height) +
         "\" font-family=\"sans-serif\" font-size=\"12\">\n";
  out +=
      "<style>.title{font-weight:bold}.frame{fill:none;stroke:#444}.grid{stroke:#ddd}"
      ".stage{stroke:#888;stroke-dasharray:2,4}.ylabel{text-anchor:end}.xlabel{text-anchor:"
      "middle}.legend{dominant-baseline:middle}.stagelabel{fill:#555;font-size:11px}"
      "polyline{stroke-width:1.5}</style>\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out += "<text x=\"" + coord(kLeft) +
         "\" y=\"20\" class=\"title\">llmscale load: " + escape_xml(report.api) +
         (report.streaming ? " streaming" : "") + " " + escape_xml(report.url) + "</text>\n";
  double y = kTop + 30;
  for (const Panel* panel : {&latency, &requests, &tokens}) {
    draw_panel(out, *panel, y, x_max, stages);
    y += kPanelHeight + kGap;
  }
  double plot_w = kWidth - kLeft - kRight;
  double axis_y = y - kGap + 16;
  double step = nice_step(x_max, 8);
  for (double v = 0; v <= x_max + step / 1000; v += step) {
    double x = kLeft + v / x_max * plot_w;
    out += "<text x=\"" + coord(x) + "\" y=\"" + coord(axis_y) + "\" class=\"xlabel\">" +
           tick_label(v) + "</text>\n";
  }
  out += "<text x=\"" + coord(kLeft + plot_w / 2) + "\" y=\"" + coord(axis_y + 18) +
         "\" class=\"xlabel\">seconds since start</text>\n";
  for (const StageStats* s : stages) {
    double x = kLeft + core::to_seconds(s->start) / x_max * plot_w;
    out += "<text x=\"" + coord(x + 3) + "\" y=\"" + coord(kTop + 4) + "\" class=\"stagelabel\">" +
           escape_xml(s->name()) + "</text>\n";
  }
  out += "</svg>\n";
  return out;
}

std::string progress_line(const Progress& p, double requests_per_second) {
  std::string out = "stage " + std::to_string(p.stage + 1) + "/" + std::to_string(p.stages) + " " +
                    p.stage_name + " | " + fixed(core::to_seconds(p.stage_elapsed), 1) +
                    "s | sent " + std::to_string(p.sent) + " done " + std::to_string(p.completed) +
                    " err " + std::to_string(p.errors) + " | in flight " +
                    std::to_string(p.in_flight);
  if (p.queued > 0) out += " queued " + std::to_string(p.queued);
  out += " | " + fixed(requests_per_second, 1) + " req/s";
  return out;
}

}  // namespace llmscale::loadgen
