// Flag semantics of `llmscale load` (see config.h).
#include "loadgen/config.h"

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/duration.h"
#include "core/strings.h"
#include "net/url.h"

namespace llmscale::loadgen {
namespace {

constexpr core::Duration kDefaultDuration = std::chrono::seconds(60);

core::Result<core::Duration> duration_flag(std::string_view name, std::string_view text,
                                           bool allow_zero) {
  auto d = core::parse_go_duration(text);
  if (!d) return core::invalid_argument(std::string(name) + ": " + d.error().message);
  if (*d < core::Duration::zero() || (!allow_zero && *d == core::Duration::zero())) {
    return core::invalid_argument(std::string(name) + ": must be " +
                                  (allow_zero ? "zero or positive" : "positive") + ", got " +
                                  core::go_quote(text));
  }
  return *d;
}

template <class T>
core::Result<std::vector<T>> list_flag(std::string_view name, std::string_view text) {
  std::vector<T> values;
  for (std::string_view part : core::split(text, ',')) {
    part = core::trim(part);
    T value{};
    auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), value);
    if (part.empty() || ec != std::errc() || end != part.data() + part.size()) {
      return core::invalid_argument(std::string(name) + ": invalid value " + core::go_quote(part) +
                                    " in " + core::go_quote(text));
    }
    values.push_back(value);
  }
  return values;
}

core::Result<std::pair<std::string, std::string>> header_flag(std::string_view text) {
  auto colon = text.find(':');
  std::string_view name = colon == std::string_view::npos ? "" : core::trim(text.substr(0, colon));
  if (name.empty()) {
    return core::invalid_argument("--header " + core::go_quote(text) +
                                  ": expected \"Name: value\"");
  }
  return std::pair{std::string(name), std::string(core::trim(text.substr(colon + 1)))};
}

}  // namespace

core::Result<LoadPlan> build_load_plan(const LoadFlags& flags) {
  LoadPlan plan;

  // Target.
  if (flags.url.empty()) return core::invalid_argument("--url is required");
  std::string url_text = flags.url;
  if (url_text.find("://") == std::string::npos) url_text = "http://" + url_text;
  auto url = net::parse_url(url_text);
  if (!url) return core::invalid_argument("--url: " + url.error().message);
  auto api = parse_api(flags.api);
  if (!api) return core::invalid_argument("--api: " + api.error().message);
  if (!flags.endpoint.empty()) {
    if (flags.endpoint.front() != '/') {
      return core::invalid_argument("--endpoint must start with '/'");
    }
    plan.endpoint = flags.endpoint;
  } else if (url->path != "/") {
    plan.endpoint = url->path;
  } else {
    plan.endpoint = std::string(default_endpoint(*api, flags.streaming));
  }
  plan.base_url = url->scheme + "://" + url->authority();
  plan.target.url = plan.base_url + plan.endpoint + (url->query.empty() ? "" : "?" + url->query);
  plan.target.api.api = *api;
  plan.target.api.streaming = flags.streaming;
  plan.target.api.model = flags.model;
  plan.target.api.ignore_eos = flags.ignore_eos;
  plan.target.api.prompt_tokens_field = flags.prompt_tokens_field;
  for (const auto& extra : flags.extra_inputs) {
    auto parsed = parse_extra_input(extra);
    if (!parsed) return tl::unexpected(parsed.error());
    plan.target.api.extra_inputs.push_back(std::move(*parsed));
  }
  for (const auto& header : flags.headers) {
    auto parsed = header_flag(header);
    if (!parsed) return tl::unexpected(parsed.error());
    plan.target.headers.push_back(std::move(*parsed));
  }

  if (!flags.cert_file.empty() != !flags.key_file.empty()) {
    return core::invalid_argument("--cert and --key go together");
  }
  plan.tls.ca_file = flags.ca_file;
  plan.tls.cert_file = flags.cert_file;
  plan.tls.key_file = flags.key_file;
  plan.tls.insecure_skip_verify = flags.insecure;

  // Timeouts and engine.
  auto connect = duration_flag("--connect-timeout", flags.connect_timeout, false);
  if (!connect) return tl::unexpected(connect.error());
  plan.connect_timeout = *connect;
  auto first_byte = duration_flag("--first-byte-timeout", flags.first_byte_timeout, true);
  if (!first_byte) return tl::unexpected(first_byte.error());
  plan.target.first_byte_timeout = *first_byte;
  auto idle = duration_flag("--idle-timeout", flags.idle_timeout, true);
  if (!idle) return tl::unexpected(idle.error());
  plan.target.idle_timeout = *idle;
  auto request_timeout = duration_flag("--request-timeout", flags.request_timeout, false);
  if (!request_timeout) return tl::unexpected(request_timeout.error());
  plan.run.request_timeout = *request_timeout;
  if (flags.threads < 0 || flags.threads > kMaxThreads) {
    return core::invalid_argument("--threads must be 0 (auto) to " + std::to_string(kMaxThreads));
  }
  plan.run.max_inflight = flags.max_inflight;
  plan.run.seed = flags.seed;
  plan.run.keep_rows = flags.keep_rows;
  auto interval = duration_flag("--interval", flags.interval, false);
  if (!interval) return tl::unexpected(interval.error());
  plan.run.interval = *interval;
  auto slo = parse_slo(flags.slo);
  if (!slo) return tl::unexpected(slo.error());
  plan.run.slo = *slo;
  for (auto [name, value] : {std::pair{"--fail-on-errors", flags.fail_on_errors},
                             std::pair{"--fail-on-goodput", flags.fail_on_goodput}}) {
    if (value && (!std::isfinite(*value) || *value < 0 || *value > 1)) {
      return core::invalid_argument(std::string(name) + " must be a fraction in [0, 1]");
    }
  }
  plan.gates.max_error_fraction = flags.fail_on_errors;
  plan.gates.min_goodput_fraction = flags.fail_on_goodput;
  if (flags.fail_on_goodput && slo->empty()) {
    return core::invalid_argument("--fail-on-goodput needs --slo");
  }

  // The workload template.
  WorkloadSpec base;
  base.input = {flags.input_tokens_mean, flags.input_tokens_stddev};
  base.output = {flags.output_tokens_mean, flags.output_tokens_stddev};
  int workloads = (!flags.concurrency.empty()) + (!flags.rate.empty()) + (flags.burst != 0) +
                  (!flags.trace.empty());
  if (workloads > 1) {
    return core::invalid_argument("choose one workload: --concurrency, --rate, --burst or --trace");
  }
  std::vector<WorkloadSpec> workload_stages;
  if (!flags.rate.empty()) {
    auto rates = list_flag<double>("--rate", flags.rate);
    if (!rates) return tl::unexpected(rates.error());
    auto arrival = parse_arrival_process(flags.arrival);
    if (!arrival) return core::invalid_argument("--arrival: " + arrival.error().message);
    for (double rate : *rates) {
      WorkloadSpec w = base;
      w.kind = WorkloadKind::kOpenLoop;
      w.rate = rate;
      w.arrival = *arrival;
      w.burstiness = flags.burstiness;
      workload_stages.push_back(w);
    }
  } else if (flags.burst != 0) {
    WorkloadSpec w = base;
    w.kind = WorkloadKind::kBurst;
    w.burst_size = flags.burst;
    if (!flags.burst_interval.empty()) {
      auto every = duration_flag("--burst-interval", flags.burst_interval, true);
      if (!every) return tl::unexpected(every.error());
      w.burst_interval = *every;
    }
    workload_stages.push_back(w);
  } else if (!flags.trace.empty()) {
    auto format = parse_trace_format(flags.trace_format);
    if (!format) return core::invalid_argument("--trace-format: " + format.error().message);
    auto policy = parse_bad_row_policy(flags.on_bad_row);
    if (!policy) return core::invalid_argument("--on-bad-row: " + policy.error().message);
    auto trace = load_trace(flags.trace, *format, *policy);
    if (!trace) return tl::unexpected(trace.error());
    TraceSummary summary;
    summary.source = trace->source;
    summary.format = std::string(trace_format_name(trace->format));
    summary.rows = trace->rows.size();
    summary.bad_row_count = trace->bad_row_count;
    summary.bad_rows = trace->bad_rows;
    summary.span = trace->span();
    plan.trace = summary;
    WorkloadSpec w = base;
    w.kind = WorkloadKind::kTrace;
    w.trace = std::make_shared<const Trace>(std::move(*trace));
    w.time_scale = flags.time_scale;
    w.rate_scale = flags.rate_scale;
    workload_stages.push_back(w);
  } else {
    auto users =
        list_flag<int>("--concurrency", flags.concurrency.empty() ? "1" : flags.concurrency);
    if (!users) return tl::unexpected(users.error());
    for (int c : *users) {
      WorkloadSpec w = base;
      w.kind = WorkloadKind::kClosedLoop;
      w.concurrency = c;
      workload_stages.push_back(w);
    }
  }

  // Bounds and warm-up, per stage.
  std::optional<core::Duration> duration;
  if (!flags.duration.empty()) {
    auto d = duration_flag("--duration", flags.duration, false);
    if (!d) return tl::unexpected(d.error());
    duration = *d;
  }
  core::Duration warmup{};
  if (!flags.warmup.empty()) {
    auto w = duration_flag("--warmup", flags.warmup, true);
    if (!w) return tl::unexpected(w.error());
    warmup = *w;
  }
  auto drain = duration_flag("--drain-timeout", flags.drain_timeout, true);
  if (!drain) return tl::unexpected(drain.error());
  if (flags.requests && *flags.requests == 0) {
    return core::invalid_argument("--requests must be >= 1");
  }
  bool sweep = workload_stages.size() > 1;
  bool defaulted_duration = false;
  for (const WorkloadSpec& w : workload_stages) {
    StageSpec stage;
    stage.workload = w;
    stage.requests = flags.requests;
    stage.duration = duration;
    stage.warmup = warmup;
    stage.drain_timeout = *drain;
    if (flags.warmup_requests) {
      stage.warmup_requests = *flags.warmup_requests;
    } else if (sweep && w.kind == WorkloadKind::kClosedLoop) {
      stage.warmup_requests = static_cast<std::uint64_t>(std::max(w.concurrency, 0));
    }
    bool self_bounded = w.kind == WorkloadKind::kTrace ||
                        (w.kind == WorkloadKind::kBurst && w.burst_interval == core::Duration{});
    if (!stage.requests && !stage.duration && !self_bounded) {
      stage.duration = kDefaultDuration;
      defaulted_duration = true;
    }
    plan.run.stages.push_back(std::move(stage));
  }
  if (defaulted_duration) {
    plan.notes.push_back("no --requests or --duration given: each stage runs for 60s");
  }
  if (sweep && !flags.warmup_requests &&
      workload_stages.front().kind == WorkloadKind::kClosedLoop) {
    plan.notes.push_back(
        "concurrency sweep: each stage first sends one warm-up request per user "
        "(--warmup-requests 0 turns this off)");
  }
  if (auto status = validate_run(plan.run); !status) return tl::unexpected(status.error());

  std::size_t connections = 1;
  for (const StageSpec& stage : plan.run.stages) {
    connections = std::max<std::size_t>(connections,
                                        stage.workload.kind == WorkloadKind::kClosedLoop
                                            ? static_cast<std::size_t>(stage.workload.concurrency)
                                            : plan.run.max_inflight);
  }
  plan.max_connections = connections;
  plan.threads = flags.threads > 0 ? flags.threads : auto_client_threads(connections);
  return plan;
}

}  // namespace llmscale::loadgen
