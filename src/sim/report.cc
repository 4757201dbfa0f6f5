// Simulator outputs (report.h): summary, CSV, SVG and HTML.
#include "sim/report.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <limits>
#include <vector>

#include "core/json.h"

namespace llmscale::sim {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

std::string num(double v) {
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  if (std::isnan(v)) return "nan";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.6g", v);
  return buf;
}
// JSON has no infinity: null stands for it.
std::string jnum(double v) {
  return std::isfinite(v) ? num(v) : "null";
}

// Nearest-rank quantile of sorted values.
double quantile(const std::vector<double>& sorted, double q) {
  if (sorted.empty()) return 0;
  auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
  rank = std::clamp<std::size_t>(rank, 1, sorted.size());
  return sorted[rank - 1];
}

Percentiles percentiles(std::vector<double> v) {
  Percentiles p;
  if (v.empty()) return p;
  std::sort(v.begin(), v.end());
  p.p50 = quantile(v, 0.5);
  p.p90 = quantile(v, 0.9);
  p.p99 = quantile(v, 0.99);
  double sum = 0;
  for (double x : v) sum += x;
  p.mean = sum / static_cast<double>(v.size());
  return p;
}

bool meets(const RequestResult& r, const Slo& slo) {
  return r.status == RequestStatus::kOk && r.ttft <= slo.ttft && r.tpot <= slo.tpot;
}

std::string escape_xml(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

struct Series {
  std::string name;
  std::string color;
  std::vector<std::pair<double, double>> points;
  bool step = false;
  bool dashed = false;
};

// A line chart: x and y ranges from the data (y from 0), min/max tick labels.
std::string chart(const std::string& title, const std::string& x_label, const std::string& y_label,
                  const std::vector<Series>& series, bool log_x = false) {
  const double w = 720, h = 300, left = 60, right = 20, top = 30, bottom = 40;
  double x0 = kInf, x1 = -kInf, y1 = 0;
  for (const auto& s : series) {
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      double xv = log_x ? std::log10(std::max(x, 1e-4)) : x;
      x0 = std::min(x0, xv);
      x1 = std::max(x1, xv);
      y1 = std::max(y1, y);
    }
  }
  if (!std::isfinite(x0)) x0 = 0, x1 = 1;
  if (x1 <= x0) x1 = x0 + 1;
  if (y1 <= 0) y1 = 1;
  y1 *= 1.05;
  auto px = [&](double x) {
    double xv = log_x ? std::log10(std::max(x, 1e-4)) : x;
    return left + (xv - x0) / (x1 - x0) * (w - left - right);
  };
  auto py = [&](double y) { return h - bottom - y / y1 * (h - top - bottom); };
  std::string out = "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + num(w) + "\" height=\"" +
                    num(h) + "\" viewBox=\"0 0 " + num(w) + " " + num(h) +
                    "\" font-family=\"sans-serif\" font-size=\"11\">\n";
  out += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  out +=
      "<text x=\"" + num(left) + "\" y=\"18\" font-size=\"13\">" + escape_xml(title) + "</text>\n";
  out += "<line x1=\"" + num(left) + "\" y1=\"" + num(h - bottom) + "\" x2=\"" + num(w - right) +
         "\" y2=\"" + num(h - bottom) + "\" stroke=\"black\"/>\n";
  out += "<line x1=\"" + num(left) + "\" y1=\"" + num(top) + "\" x2=\"" + num(left) + "\" y2=\"" +
         num(h - bottom) + "\" stroke=\"black\"/>\n";
  auto xtick = [&](double xv) { return log_x ? num(std::pow(10, xv)) : num(xv); };
  out +=
      "<text x=\"" + num(left) + "\" y=\"" + num(h - bottom + 14) + "\">" + xtick(x0) + "</text>\n";
  out += "<text x=\"" + num(w - right) + "\" y=\"" + num(h - bottom + 14) +
         "\" text-anchor=\"end\">" + xtick(x1) + "</text>\n";
  out += "<text x=\"" + num((left + w - right) / 2) + "\" y=\"" + num(h - 8) +
         "\" text-anchor=\"middle\">" + escape_xml(x_label) + "</text>\n";
  out += "<text x=\"" + num(left - 4) + "\" y=\"" + num(py(y1 / 1.05) + 4) +
         "\" text-anchor=\"end\">" + num(y1 / 1.05) + "</text>\n";
  out += "<text x=\"" + num(left - 4) + "\" y=\"" + num(h - bottom) +
         "\" text-anchor=\"end\">0</text>\n";
  out += "<text x=\"12\" y=\"" + num(top + (h - top - bottom) / 2) +
         "\" transform=\"rotate(-90 12 " + num(top + (h - top - bottom) / 2) +
         ")\" text-anchor=\"middle\">" + escape_xml(y_label) + "</text>\n";
  double legend_x = left + 10;
  for (const auto& s : series) {
    std::string pts;
    double prev_y = 0;
    bool first = true;
    for (auto [x, y] : s.points) {
      if (!std::isfinite(x) || !std::isfinite(y)) continue;
      if (s.step && !first) pts += num(px(x)) + "," + num(py(prev_y)) + " ";
      pts += num(px(x)) + "," + num(py(y)) + " ";
      prev_y = y;
      first = false;
    }
    out += "<polyline fill=\"none\" stroke=\"" + s.color + "\" stroke-width=\"1.5\"" +
           (s.dashed ? std::string(" stroke-dasharray=\"5,3\"") : std::string()) + " points=\"" +
           pts + "\"/>\n";
    out += "<text x=\"" + num(legend_x) + "\" y=\"" + num(top + 10) + "\" fill=\"" + s.color +
           "\">" + escape_xml(s.name) + "</text>\n";
    legend_x += 12 + 7 * static_cast<double>(s.name.size());
  }
  out += "</svg>\n";
  return out;
}

}  // namespace

Summary summarize(const SimResult& result, const Slo& slo) {
  Summary s;
  s.requests = result.requests.size();
  s.duration = result.duration;
  std::vector<double> ttft, tpot, e2e, queue, ttft_all, tpot_all;
  std::size_t meeting = 0, ttft_ok = 0, tpot_ok = 0;
  double good_tokens = 0;
  // Under-provisioned seconds: a request arriving in that second misses the SLO.
  std::vector<bool> missed(result.samples.size() + 1, false);
  for (const auto& r : result.requests) {
    switch (r.status) {
      case RequestStatus::kOk: ++s.ok; break;
      case RequestStatus::kRejected: ++s.rejected; break;
      case RequestStatus::kAborted: ++s.aborted; break;
    }
    bool ok = r.status == RequestStatus::kOk;
    if (ok) {
      ttft.push_back(r.ttft);
      tpot.push_back(r.tpot);
      e2e.push_back(r.e2e);
      queue.push_back(r.queue + r.router_wait);
    }
    ttft_all.push_back(ok ? r.ttft : kInf);
    tpot_all.push_back(ok ? r.tpot : kInf);
    if (ok && r.ttft <= slo.ttft) ++ttft_ok;
    if (ok && r.tpot <= slo.tpot) ++tpot_ok;
    if (meets(r, slo)) {
      ++meeting;
      good_tokens += static_cast<double>(r.output_tokens);
    } else {
      auto second = static_cast<std::size_t>(std::max(0.0, r.arrival));
      if (second < missed.size()) missed[second] = true;
    }
  }
  s.ttft = percentiles(ttft);
  s.tpot = percentiles(tpot);
  s.e2e = percentiles(e2e);
  s.queue = percentiles(queue);
  double n = static_cast<double>(std::max<std::size_t>(1, s.requests));
  s.attainment = static_cast<double>(meeting) / n;
  s.ttft_attainment = static_cast<double>(ttft_ok) / n;
  s.tpot_attainment = static_cast<double>(tpot_ok) / n;
  std::sort(ttft_all.begin(), ttft_all.end());
  std::sort(tpot_all.begin(), tpot_all.end());
  s.ttft_at_quantile = quantile(ttft_all, slo.quantile);
  s.tpot_at_quantile = quantile(tpot_all, slo.quantile);
  s.slo_met = s.requests > 0 && s.ttft_at_quantile <= slo.ttft && s.tpot_at_quantile <= slo.tpot;
  double duration = std::max(1e-9, result.duration);
  s.goodput_rps = static_cast<double>(meeting) / duration;
  s.goodput_tokens_per_s = good_tokens / duration;
  double out_tokens = 0;
  for (const auto& r : result.requests) out_tokens += static_cast<double>(r.output_tokens);
  s.throughput_tokens_per_s = out_tokens / duration;
  s.replica_hours = result.replica_seconds / 3600.0;
  s.chip_hours = s.replica_hours * result.chips_per_replica;
  s.scale_events = result.scale_events.size();
  for (const auto& e : result.scale_events) (e.to > e.from ? s.scale_ups : s.scale_downs)++;
  std::int32_t min_ready = std::numeric_limits<std::int32_t>::max();
  for (const auto& x : result.samples) min_ready = std::min(min_ready, x.desired);
  double ready_sum = 0;
  for (std::size_t i = 0; i < result.samples.size(); ++i) {
    const SecondSample& x = result.samples[i];
    ready_sum += x.ready;
    s.max_replicas = std::max(s.max_replicas, x.ready + x.starting + x.terminating);
    bool miss = i < missed.size() && missed[i];
    if (miss) {
      s.under_provisioned_s += 1;
    } else if (x.ready > 1 && x.ready > min_ready && x.busy / (x.ready - 1) <= 0.8) {
      s.over_provisioned_s += 1;
    }
  }
  if (!result.samples.empty())
    s.mean_ready = ready_sum / static_cast<double>(result.samples.size());
  for (const auto& pod : result.pods) {
    if (!pod.deleted) continue;
    ++s.victims;
    s.victim_requests += pod.in_flight_at_deletion;
    s.victim_tokens += pod.tokens_at_deletion;
    double drain = pod.removed.value_or(result.duration) - *pod.deleted;
    s.drain_seconds += drain;
    s.max_drain_seconds = std::max(s.max_drain_seconds, drain);
  }
  for (const auto& c : result.scale_down_choices) {
    s.replicaset_choice_requests += c.replicaset_requests;
    s.replicaset_choice_tokens += c.replicaset_tokens;
    s.drain_aware_choice_requests += c.drain_aware_requests;
    s.drain_aware_choice_tokens += c.drain_aware_tokens;
  }
  return s;
}

std::string summary_json(const Summary& s, const SimResult& r, const Slo& slo) {
  auto pct = [](const Percentiles& p) {
    return "{\"p50\": " + jnum(p.p50) + ", \"p90\": " + jnum(p.p90) + ", \"p99\": " + jnum(p.p99) +
           ", \"mean\": " + jnum(p.mean) + "}";
  };
  std::string out = "{\n";
  auto add_string = [&out](std::string_view key, std::string_view value) {
    out += "  \"" + std::string(key) + "\": ";
    core::append_go_json_string(out, value);
    out += ",\n";
  };
  add_string("profile", r.profile);
  add_string("flavor", r.flavor);
  add_string("metric", r.metric_name);
  if (r.scaler != "hpa") add_string("scaler", r.scaler);
  out += "  \"durationSeconds\": " + jnum(s.duration) + ",\n";
  out += "  \"slo\": {\"ttftSeconds\": " + jnum(slo.ttft) + ", \"tpotSeconds\": " + jnum(slo.tpot) +
         ", \"quantile\": " + jnum(slo.quantile) + "},\n";
  out += "  \"requests\": {\"total\": " + std::to_string(s.requests) +
         ", \"ok\": " + std::to_string(s.ok) + ", \"rejected\": " + std::to_string(s.rejected) +
         ", \"aborted\": " + std::to_string(s.aborted) + "},\n";
  out += "  \"sloAttainment\": " + jnum(s.attainment) + ",\n";
  out += "  \"ttftAttainment\": " + jnum(s.ttft_attainment) + ",\n";
  out += "  \"tpotAttainment\": " + jnum(s.tpot_attainment) + ",\n";
  out += "  \"ttftAtQuantile\": " + jnum(s.ttft_at_quantile) + ",\n";
  out += "  \"tpotAtQuantile\": " + jnum(s.tpot_at_quantile) + ",\n";
  out += "  \"sloMet\": " + std::string(s.slo_met ? "true" : "false") + ",\n";
  out += "  \"ttftSeconds\": " + pct(s.ttft) + ",\n";
  out += "  \"tpotSeconds\": " + pct(s.tpot) + ",\n";
  out += "  \"e2eSeconds\": " + pct(s.e2e) + ",\n";
  out += "  \"queueSeconds\": " + pct(s.queue) + ",\n";
  out += "  \"goodputRequestsPerSecond\": " + jnum(s.goodput_rps) + ",\n";
  out += "  \"goodputTokensPerSecond\": " + jnum(s.goodput_tokens_per_s) + ",\n";
  out += "  \"throughputTokensPerSecond\": " + jnum(s.throughput_tokens_per_s) + ",\n";
  out += "  \"replicaHours\": " + jnum(s.replica_hours) + ",\n";
  out += "  \"chipHours\": " + jnum(s.chip_hours) + ",\n";
  out += "  \"meanReadyReplicas\": " + jnum(s.mean_ready) + ",\n";
  out += "  \"maxReplicas\": " + std::to_string(s.max_replicas) + ",\n";
  out += "  \"scaleEvents\": {\"total\": " + std::to_string(s.scale_events) +
         ", \"up\": " + std::to_string(s.scale_ups) +
         ", \"down\": " + std::to_string(s.scale_downs) + "},\n";
  out += "  \"overProvisionedSeconds\": " + jnum(s.over_provisioned_s) + ",\n";
  out += "  \"underProvisionedSeconds\": " + jnum(s.under_provisioned_s) + ",\n";
  if (!r.scale_down.empty()) {
    out += "  \"scaleDown\": {\"policy\": \"" + r.scale_down +
           "\", \"victims\": " + std::to_string(s.victims) +
           ", \"requestsInFlightOnVictims\": " + std::to_string(s.victim_requests) +
           ", \"tokensInFlightOnVictims\": " + std::to_string(s.victim_tokens) +
           ", \"cut\": " + std::to_string(s.aborted) +
           ", \"drainSeconds\": " + jnum(s.drain_seconds) +
           ", \"maxDrainSeconds\": " + jnum(s.max_drain_seconds) +
           ", \"sameDecisions\": {\"replicaset\": {\"requests\": " +
           std::to_string(s.replicaset_choice_requests) +
           ", \"tokens\": " + std::to_string(s.replicaset_choice_tokens) +
           "}, \"drainAware\": {\"requests\": " + std::to_string(s.drain_aware_choice_requests) +
           ", \"tokens\": " + std::to_string(s.drain_aware_choice_tokens) + "}}},\n";
  }
  out += "  \"engineSteps\": " + std::to_string(r.engine_steps) + ",\n";
  out += "  \"tokensComputed\": " + std::to_string(r.tokens) + "\n";
  out += "}\n";
  return out;
}

std::string requests_csv(const SimResult& result) {
  std::string out =
      "id,arrival_s,input_tokens,output_tokens,cached_prompt_tokens,pod,status,router_wait_s,"
      "queue_s,ttft_s,tpot_s,e2e_s\n";
  for (const auto& r : result.requests) {
    std::string pod = r.pod >= 0 && static_cast<std::size_t>(r.pod) < result.pods.size()
                          ? result.pods[r.pod].name
                          : "";
    out += std::to_string(r.id) + "," + num(r.arrival) + "," + std::to_string(r.input_tokens) +
           "," + std::to_string(r.output_tokens) + "," + std::to_string(r.cached_prompt_tokens) +
           "," + pod + "," + std::string(request_status_name(r.status)) + "," + num(r.router_wait) +
           "," + num(r.queue) + "," + num(r.ttft) + "," + num(r.tpot) + "," + num(r.e2e) + "\n";
  }
  return out;
}

std::string seconds_csv(const SimResult& result) {
  std::string out =
      "t_s,desired,ready,starting,terminating,metric,target,router_queue,waiting,running,"
      "kv_usage,busy,arrivals,completed,output_tokens\n";
  for (const auto& s : result.samples) {
    out += num(s.t) + "," + std::to_string(s.desired) + "," + std::to_string(s.ready) + "," +
           std::to_string(s.starting) + "," + std::to_string(s.terminating) + "," + num(s.metric) +
           "," + num(s.target) + "," + std::to_string(s.router_queue) + "," +
           std::to_string(s.waiting) + "," + std::to_string(s.running) + "," + num(s.kv_usage) +
           "," + num(s.busy) + "," + std::to_string(s.arrivals) + "," +
           std::to_string(s.completed) + "," + std::to_string(s.tokens) + "\n";
  }
  return out;
}

namespace {
// A free-text CSV field: quoted, with its double quotes turned into single ones.
std::string quoted(std::string text) {
  std::replace(text.begin(), text.end(), '"', '\'');
  return "\"" + text + "\"";
}
}  // namespace

std::string scale_events_csv(const SimResult& result) {
  std::string out = "t_s,hpa,from,to,reason\n";
  for (const auto& e : result.scale_events) {
    out += num(e.t) + "," + e.hpa + "," + std::to_string(e.from) + "," + std::to_string(e.to) +
           "," + quoted(e.reason) + "\n";
  }
  return out;
}

std::string decisions_csv(const SimResult& result) {
  std::string out = "t_s,scaler,current,desired,scale_down_blocked,explanation\n";
  for (const auto& d : result.decisions) {
    out += num(d.t) + "," + result.decided_by + "," + std::to_string(d.current) + "," +
           std::to_string(d.desired) + "," + (d.scale_down_blocked ? "true" : "false") + "," +
           quoted(d.explanation) + "\n";
  }
  return out;
}

std::string replicas_svg(const SimResult& result) {
  Series desired{"desired", "#1f77b4", {}, true};
  Series ready{"ready", "#2ca02c", {}, true};
  Series starting{"starting", "#ff7f0e", {}, true};
  for (const auto& s : result.samples) {
    desired.points.emplace_back(s.t, s.desired);
    ready.points.emplace_back(s.t, s.ready);
    starting.points.emplace_back(s.t, s.starting);
  }
  return chart("Replicas over time", "simulated seconds", "replicas", {desired, ready, starting});
}

std::string metric_svg(const SimResult& result) {
  Series metric{result.metric_name.empty() ? "metric" : result.metric_name, "#d62728", {}, true};
  Series target{"target", "#7f7f7f", {}, true, true};
  for (const auto& s : result.samples) {
    metric.points.emplace_back(s.t, s.metric);
    target.points.emplace_back(s.t, s.target);
  }
  return chart("HPA metric (as the controller saw it) vs target", "simulated seconds", "value",
               {metric, target});
}

std::string latency_cdf_svg(const SimResult& result, const Slo& slo) {
  std::vector<double> ttft, tpot;
  for (const auto& r : result.requests) {
    if (r.status != RequestStatus::kOk) continue;
    ttft.push_back(r.ttft);
    tpot.push_back(r.tpot);
  }
  std::sort(ttft.begin(), ttft.end());
  std::sort(tpot.begin(), tpot.end());
  auto cdf = [](const std::vector<double>& v, Series s) {
    std::size_t stride = std::max<std::size_t>(1, v.size() / 400);
    for (std::size_t i = 0; i < v.size(); i += stride)
      s.points.emplace_back(v[i], static_cast<double>(i + 1) / static_cast<double>(v.size()));
    if (!v.empty()) s.points.emplace_back(v.back(), 1.0);
    return s;
  };
  Series ttft_slo{
      "TTFT SLO " + num(slo.ttft) + "s", "#1f77b4", {{slo.ttft, 0}, {slo.ttft, 1}}, false, true};
  Series tpot_slo{
      "TPOT SLO " + num(slo.tpot) + "s", "#ff7f0e", {{slo.tpot, 0}, {slo.tpot, 1}}, false, true};
  return chart(
      "Latency CDFs (log x)", "seconds", "fraction of requests",
      {cdf(ttft, {"TTFT", "#1f77b4", {}}), cdf(tpot, {"TPOT", "#ff7f0e", {}}), ttft_slo, tpot_slo},
      true);
}

std::string html_report(const Summary& s, const SimResult& r, const Slo& slo,
                        const std::string& title) {
  std::string out = "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" +
                    escape_xml(title) +
                    "</title><style>body{font-family:sans-serif;max-width:760px;margin:auto}"
                    "td{padding:2px 10px}</style></head><body>\n";
  out += "<h1>" + escape_xml(title) + "</h1>\n";
  out += "<p>Profile " + escape_xml(r.profile) + " (" + escape_xml(r.flavor) +
         "), SLO: TTFT &le; " + num(slo.ttft) + " s and TPOT &le; " + num(slo.tpot) + " s at p" +
         num(slo.quantile * 100) + ".</p>\n<table>\n";
  auto row = [&](const std::string& k, const std::string& v) {
    out += "<tr><td>" + escape_xml(k) + "</td><td>" + escape_xml(v) + "</td></tr>\n";
  };
  row("SLO met", s.slo_met ? "yes" : "no");
  row("SLO attainment", num(s.attainment * 100) + " %");
  row("requests (ok / rejected / aborted)", std::to_string(s.ok) + " / " +
                                                std::to_string(s.rejected) + " / " +
                                                std::to_string(s.aborted));
  row("TTFT p50 / p90 / p99 (s)",
      num(s.ttft.p50) + " / " + num(s.ttft.p90) + " / " + num(s.ttft.p99));
  row("TPOT p50 / p90 / p99 (s)",
      num(s.tpot.p50) + " / " + num(s.tpot.p90) + " / " + num(s.tpot.p99));
  row("goodput (req/s, tokens/s)", num(s.goodput_rps) + ", " + num(s.goodput_tokens_per_s));
  row("replica-hours (chip-hours)", num(s.replica_hours) + " (" + num(s.chip_hours) + ")");
  row("mean ready / max replicas", num(s.mean_ready) + " / " + std::to_string(s.max_replicas));
  row("scale events (up / down)", std::to_string(s.scale_events) + " (" +
                                      std::to_string(s.scale_ups) + " / " +
                                      std::to_string(s.scale_downs) + ")");
  row("under / over-provisioned seconds",
      num(s.under_provisioned_s) + " / " + num(s.over_provisioned_s));
  row("simulated seconds", num(s.duration));
  out += "</table>\n";
  out += replicas_svg(r) + metric_svg(r) + latency_cdf_svg(r, slo);
  out += "</body></html>\n";
  return out;
}

}  // namespace llmscale::sim
