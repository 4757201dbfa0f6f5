// Per-stage aggregation of finished requests (definitions in stats.h).
#include "loadgen/stats.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/duration.h"
#include "core/strings.h"

namespace llmscale::loadgen {
namespace {

double ms(core::Duration d) {
  return std::chrono::duration<double, std::milli>(d).count();
}

}  // namespace

std::string Slo::to_string() const {
  std::vector<std::string> parts;
  auto add = [&](const char* name, const std::optional<core::Duration>& value) {
    if (value) parts.push_back(std::string(name) + "=" + core::format_go_duration(*value));
  };
  add("ttft", ttft);
  add("itl", itl);
  add("itl_max", itl_max);
  add("tpot", tpot);
  add("e2e", e2e);
  return core::join(parts, ",");
}

core::Result<Slo> parse_slo(std::string_view text) {
  Slo slo;
  if (core::trim(text).empty()) return slo;
  for (std::string_view part : core::split(text, ',')) {
    part = core::trim(part);
    auto eq = part.find('=');
    if (eq == std::string_view::npos) eq = part.find(':');  // genai-perf writes name:value
    if (eq == std::string_view::npos) {
      return core::invalid_argument("--slo " + core::go_quote(part) + ": expected name=duration");
    }
    std::string name(core::trim(part.substr(0, eq)));
    std::string_view value = core::trim(part.substr(eq + 1));
    core::Duration duration{};
    double millis = 0;
    auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), millis);
    if (ec == std::errc() && end == value.data() + value.size() && !value.empty()) {
      if (!std::isfinite(millis) || millis <= 0) {
        return core::invalid_argument("--slo " + name + ": must be positive");
      }
      duration = core::from_seconds(millis / 1000.0);
    } else {
      auto parsed = core::parse_go_duration(value);
      if (!parsed) return core::invalid_argument("--slo " + name + ": " + parsed.error().message);
      if (*parsed <= core::Duration::zero()) {
        return core::invalid_argument("--slo " + name + ": must be positive");
      }
      duration = *parsed;
    }
    if (name == "ttft" || name == "time_to_first_token") {
      slo.ttft = duration;
    } else if (name == "itl" || name == "inter_token_latency") {
      slo.itl = duration;
    } else if (name == "itl_max") {
      slo.itl_max = duration;
    } else if (name == "tpot") {
      slo.tpot = duration;
    } else if (name == "e2e" || name == "e2el" || name == "request_latency") {
      slo.e2e = duration;
    } else {
      return core::invalid_argument("--slo: unknown objective " + core::go_quote(name) +
                                    " (ttft, itl, itl_max, tpot, e2e)");
    }
  }
  return slo;
}

StageStats::StageStats(std::string name, std::string workload, core::Duration interval, Slo slo)
    : name_(std::move(name)),
      workload_(std::move(workload)),
      interval_(interval > core::Duration::zero() ? interval : std::chrono::seconds(1)),
      slo_(slo) {}

void StageStats::add(const CompletedRequest& request) {
  const RequestResult& r = request.result;
  core::Duration delay = std::max(request.sent - request.intended, core::Duration::zero());
  std::optional<core::Duration> ttft;
  if (r.ttft) ttft = delay + *r.ttft;
  core::Duration e2e_total = delay + r.e2e;
  std::optional<core::Duration> tpot;
  if (r.ok && r.ttft && r.output_tokens > 1) {
    tpot = (r.e2e - *r.ttft) / (r.output_tokens - 1);
  }
  core::Duration gap_sum{}, gap_max{};
  for (core::Duration gap : r.token_gaps) {
    gap_sum += gap;
    gap_max = std::max(gap_max, gap);
  }

  bool is_good = false;
  if (r.ok) {
    core::Duration first = ttft.value_or(e2e_total);
    is_good = true;
    if (slo_.ttft && first > *slo_.ttft) is_good = false;
    if (slo_.e2e && e2e_total > *slo_.e2e) is_good = false;
    if (slo_.tpot && tpot && *tpot > *slo_.tpot) is_good = false;
    if (slo_.itl && !r.token_gaps.empty() &&
        gap_sum / static_cast<std::int64_t>(r.token_gaps.size()) > *slo_.itl) {
      is_good = false;
    }
    if (slo_.itl_max && gap_max > *slo_.itl_max) is_good = false;
  }

  auto& bucket = timeline[request.completed / interval_];
  if (r.ok) {
    ++bucket.completed;
    bucket.output_tokens += static_cast<std::uint64_t>(std::max<std::int64_t>(r.output_tokens, 0));
    if (ttft) bucket.ttft.record(ttft->count());
    bucket.e2e.record(e2e_total.count());
  } else {
    ++bucket.errors;
  }

  if (keep_rows) {
    RequestRow row;
    row.id = request.id;
    row.stage = index;
    row.warmup = request.warmup;
    row.intended_s = core::to_seconds(request.intended);
    row.sent_s = core::to_seconds(request.sent);
    if (ttft) row.ttft_ms = ms(*ttft);
    row.e2e_ms = ms(e2e_total);
    if (tpot) row.tpot_ms = ms(*tpot);
    if (!r.token_gaps.empty()) row.itl_max_ms = ms(gap_max);
    row.input_tokens = request.input_tokens;
    row.output_tokens = r.output_tokens;
    row.http_status = r.http_status;
    row.ok = r.ok;
    row.good = is_good;
    row.error_kind = r.error_kind;
    rows.push_back(std::move(row));
  }

  if (request.warmup) {
    ++warmup_requests;
    return;
  }
  if (!window_start || request.intended < *window_start) window_start = request.intended;
  if (!window_end || request.completed > *window_end) window_end = request.completed;
  if (r.http_status != 0) ++http_statuses[r.http_status];
  schedule_delay.record(delay.count());
  if (!r.ok) {
    ++failed;
    std::string kind = r.error_kind.empty() ? "unknown" : r.error_kind;
    ++errors[kind];
    auto& samples = error_samples[kind];
    if (samples.size() < kMaxErrorSamples && !r.error_detail.empty() &&
        std::find(samples.begin(), samples.end(), r.error_detail) == samples.end()) {
      samples.push_back(r.error_detail);
    }
    return;
  }
  ++succeeded;
  if (is_good) ++good;
  if (ttft) this->ttft.record(ttft->count());
  for (core::Duration gap : r.token_gaps) itl.record(gap.count());
  if (tpot) this->tpot.record(tpot->count());
  e2e.record(e2e_total.count());
  input_tokens.record(request.input_tokens);
  output_tokens.record(r.output_tokens);
  input_token_total += static_cast<std::uint64_t>(std::max<std::int64_t>(request.input_tokens, 0));
  output_token_total += static_cast<std::uint64_t>(std::max<std::int64_t>(r.output_tokens, 0));
}

void StageStats::add_abandoned(std::uint64_t count, bool warmup) {
  if (count == 0) return;
  if (warmup) {
    warmup_requests += count;
    return;
  }
  failed += count;
  errors["stage deadline"] += count;
}

void StageStats::merge(const StageStats& other) {
  warmup_requests += other.warmup_requests;
  succeeded += other.succeeded;
  failed += other.failed;
  good += other.good;
  for (const auto& [kind, count] : other.errors) errors[kind] += count;
  for (const auto& [kind, theirs] : other.error_samples) {
    auto& samples = error_samples[kind];
    for (const std::string& sample : theirs) {
      if (samples.size() >= kMaxErrorSamples) break;
      if (std::find(samples.begin(), samples.end(), sample) == samples.end()) {
        samples.push_back(sample);
      }
    }
  }
  for (const auto& [status, count] : other.http_statuses) http_statuses[status] += count;
  ttft.merge(other.ttft);
  itl.merge(other.itl);
  tpot.merge(other.tpot);
  e2e.merge(other.e2e);
  schedule_delay.merge(other.schedule_delay);
  input_tokens.merge(other.input_tokens);
  output_tokens.merge(other.output_tokens);
  output_token_total += other.output_token_total;
  input_token_total += other.input_token_total;
  if (other.window_start && (!window_start || *other.window_start < *window_start)) {
    window_start = other.window_start;
  }
  if (other.window_end && (!window_end || *other.window_end > *window_end)) {
    window_end = other.window_end;
  }
  for (const auto& [key, theirs] : other.timeline) {
    TimelineBucket& bucket = timeline[key];
    bucket.completed += theirs.completed;
    bucket.errors += theirs.errors;
    bucket.output_tokens += theirs.output_tokens;
    bucket.ttft.merge(theirs.ttft);
    bucket.e2e.merge(theirs.e2e);
  }
  rows.insert(rows.end(), other.rows.begin(), other.rows.end());
}

double StageStats::window_seconds() const {
  if (!window_start || !window_end || *window_end <= *window_start) return 0;
  return core::to_seconds(*window_end - *window_start);
}

namespace {
double per_second(double amount, double seconds) {
  return seconds > 0 ? amount / seconds : 0;
}
}  // namespace

double StageStats::request_throughput() const {
  return per_second(static_cast<double>(succeeded), window_seconds());
}
double StageStats::output_token_throughput() const {
  return per_second(static_cast<double>(output_token_total), window_seconds());
}
double StageStats::input_token_throughput() const {
  return per_second(static_cast<double>(input_token_total), window_seconds());
}
double StageStats::goodput() const {
  return per_second(static_cast<double>(good), window_seconds());
}

}  // namespace llmscale::loadgen
