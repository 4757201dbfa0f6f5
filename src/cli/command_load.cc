// `llmscale load`: the load generator (closed/open loop, bursts, sweeps, trace replay) against
// OpenAI, TGI and JetStream servers, with genai-perf-style figures and JSON/CSV/SVG reports.
// Flag semantics live in loadgen/config.h; this file parses, runs and prints.
//
// Exit codes: 0 the run completed (errors counted in the report); 1 a --fail-on-errors or
// --fail-on-goodput gate failed; 2 bad flags or input (including a trace file with a bad row
// under --on-bad-row fail, or a report path that cannot be written).
#include <sys/resource.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/log.h"
#include "loadgen/client_threads.h"
#include "loadgen/config.h"
#include "loadgen/report.h"
#include "loadgen/runner.h"
#include "net/client.h"
#include "net/event_loop.h"

namespace llmscale::cli {
namespace {

struct LoadCliOptions {
  loadgen::LoadFlags flags;
  std::string report_json;
  std::string report_csv;
  std::string report_svg;
  std::string requests_csv;
  bool quiet = false;
};

// Raises the open-file limit to its hard maximum: every concurrent stream is a socket.
void raise_file_limit(std::size_t wanted) {
  rlimit limit{};
  if (getrlimit(RLIMIT_NOFILE, &limit) != 0) return;
  if (limit.rlim_cur < limit.rlim_max) {
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
  }
  if (limit.rlim_cur != RLIM_INFINITY && wanted + 64 > limit.rlim_cur) {
    core::log_warn("open-file limit " + std::to_string(limit.rlim_cur) + " is below the " +
                   std::to_string(wanted) +
                   " connections this run may open; raise it (ulimit -n) or expect "
                   "connection errors");
  }
}

// An output file opened before the run, so a bad path fails at once rather than after it.
struct OutputFile {
  std::string path;
  std::ofstream stream;
};

core::Result<std::unique_ptr<OutputFile>> open_output(const std::string& flag,
                                                      const std::string& path) {
  if (path.empty()) return std::unique_ptr<OutputFile>();
  auto file = std::make_unique<OutputFile>();
  file->path = path;
  file->stream.open(path, std::ios::binary | std::ios::trunc);
  if (!file->stream) return core::invalid_argument(flag + ": cannot write " + path);
  return file;
}

bool write_output(OutputFile* file, const std::string& text) {
  if (file == nullptr) return true;
  file->stream << text;
  file->stream.flush();
  if (!file->stream) {
    std::cerr << "error: cannot write " << file->path << "\n";
    return false;
  }
  return true;
}

int run_load(LoadCliOptions& o) {
  o.flags.keep_rows = !o.requests_csv.empty();
  auto plan = loadgen::build_load_plan(o.flags);
  if (!plan) return fail(plan.error().message);
  std::unique_ptr<OutputFile> outputs[4];
  const std::pair<const char*, std::string*> paths[4] = {{"--report-json", &o.report_json},
                                                         {"--report-csv", &o.report_csv},
                                                         {"--report-svg", &o.report_svg},
                                                         {"--requests-csv", &o.requests_csv}};
  for (int i = 0; i < 4; ++i) {
    auto file = open_output(paths[i].first, *paths[i].second);
    if (!file) return fail(file.error().message);
    outputs[i] = std::move(*file);
  }
  for (const auto& note : plan->notes) std::cerr << "note: " << note << "\n";
  if (plan->trace && plan->trace->bad_row_count > 0) {
    const auto& first = plan->trace->bad_rows.front();
    std::cerr << "warning: " << plan->trace->source << ": skipped " << plan->trace->bad_row_count
              << " bad rows (first at line " << first.line << ": " << first.reason << ")\n";
  }
  raise_file_limit(plan->max_connections);

  net::ClientOptions client_options;
  client_options.connect_timeout = plan->connect_timeout;
  client_options.tls = plan->tls;
  client_options.max_connections_per_host = plan->max_connections;
  client_options.response_head_timeout = core::Duration::zero();  // per request
  client_options.idle_timeout = plan->target.idle_timeout;
  client_options.user_agent = "llmscale-load";
  loadgen::ClientThreads clients(plan->threads, client_options, plan->target);
  if (auto tls = clients.check_tls_config(); !tls) return fail(tls.error().message);
  net::EventLoop& loop = clients.primary();
  loadgen::Runner runner(clients.shards(), loop.clock(), plan->run);

  std::atomic<bool> interrupted{false};
  net::stop_on_signals(loop, [&](int) {
    interrupted = true;
    runner.stop();
  });
  runner.start();
  clients.start();

  bool tty = !o.quiet && isatty(STDOUT_FILENO) == 1;
  auto last_tick = std::chrono::steady_clock::now();
  std::uint64_t last_completed = 0;
  std::size_t last_stage = 0;
  while (!runner.done() && !loop.stopped()) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    auto now = std::chrono::steady_clock::now();
    if (tty && now - last_tick >= std::chrono::seconds(1)) {
      loadgen::Progress p = runner.progress();
      if (p.stage != last_stage) last_completed = 0, last_stage = p.stage;
      double seconds = std::chrono::duration<double>(now - last_tick).count();
      double rate = static_cast<double>(p.completed - last_completed) / seconds;
      last_completed = p.completed;
      last_tick = now;
      std::cout << "\r\033[K" << loadgen::progress_line(p, rate) << std::flush;
    }
  }
  if (tty) std::cout << "\r\033[K" << std::flush;
  clients.stop_and_join();

  loadgen::RunReport report;
  report.url = plan->base_url;
  report.api = o.flags.api;
  report.endpoint = plan->endpoint;
  report.streaming = o.flags.streaming;
  report.model = o.flags.model;
  report.seed = o.flags.seed;
  report.slo = plan->run.slo;
  report.started_at = runner.started_at();
  report.elapsed = loop.clock().now() - runner.started_at();
  report.interrupted = interrupted.load() || !runner.done();
  report.trace = plan->trace;
  report.stages = runner.stages();
  report.gates = loadgen::evaluate_gates(report.stages, plan->gates);

  if (!o.quiet) std::cout << loadgen::report_table(report) << std::flush;
  bool written = write_output(outputs[0].get(), loadgen::report_json(report)) &
                 write_output(outputs[1].get(), loadgen::report_csv(report)) &
                 write_output(outputs[2].get(), loadgen::report_svg(report)) &
                 write_output(outputs[3].get(), loadgen::requests_csv(report));
  if (!written) return 2;
  return report.gates_passed() ? 0 : 1;
}

}  // namespace

void add_load_command(CLI::App& app, int& exit_code) {
  auto options = std::make_shared<LoadCliOptions>();
  loadgen::LoadFlags& f = options->flags;
  CLI::App* load = app.add_subcommand(
      "load",
      "Drive an inference server with load (closed/open loop, bursts, sweeps, trace replay) and "
      "report TTFT, ITL, latency and throughput");
  load->footer(
      "Exit codes: 0 ok (request errors are counted, not fatal), 1 a --fail-on-* gate failed, 2 "
      "bad flags or input. Docs: docs/loadgen.md");

  load->add_option("--url", f.url, "Server base URL (http://127.0.0.1:8000)")
      ->required()
      ->group("Target");
  load->add_option("--api", f.api, "openai-chat, openai-completions, tgi or jetstream")
      ->capture_default_str()
      ->group("Target");
  load->add_option("--endpoint", f.endpoint, "Request path (default: the API's)")->group("Target");
  load->add_option("-m,--model", f.model, "Model name sent with OpenAI requests")->group("Target");
  load->add_flag("--streaming", f.streaming, "Stream responses (SSE; TTFT and ITL)")
      ->group("Target");
  load->add_option("-H,--header", f.headers, "Extra request header \"Name: value\" (repeatable)")
      ->group("Target");
  load->add_option("--cacert", f.ca_file, "https: trusted CA file (default: the system store)")
      ->group("Target");
  load->add_option("--cert", f.cert_file, "https: client certificate file (with --key)")
      ->group("Target");
  load->add_option("--key", f.key_file, "https: client key file")->group("Target");
  load->add_flag("-k,--insecure", f.insecure, "https: skip certificate verification")
      ->group("Target");

  load->add_option("--concurrency", f.concurrency,
                   "Closed loop: users each sending the next request when one ends; a comma list "
                   "runs a sweep of stages")
      ->group("Workload");
  load->add_option("--rate", f.rate, "Open loop: requests per second; a comma list runs a sweep")
      ->group("Workload");
  load->add_option("--arrival", f.arrival, "Open-loop arrivals: poisson, gamma or constant")
      ->capture_default_str()
      ->group("Workload");
  load->add_option("--burstiness", f.burstiness,
                   "Gamma shape: 1 is Poisson, below 1 burstier (vLLM's knob)")
      ->capture_default_str()
      ->group("Workload");
  load->add_option("--burst", f.burst, "Send N requests at once")->group("Workload");
  load->add_option("--burst-interval", f.burst_interval, "Repeat the burst this often (30s)")
      ->group("Workload");
  load->add_option("--trace", f.trace, "Replay a trace: Azure CSV or Mooncake JSONL (.gz ok)")
      ->group("Workload");
  load->add_option("--trace-format", f.trace_format, "auto, azure, mooncake or burstgpt")
      ->capture_default_str()
      ->group("Workload");
  load->add_option("--time-scale", f.time_scale, "Multiply trace times (0.1 = ten times faster)")
      ->capture_default_str()
      ->group("Workload");
  load->add_option("--rate-scale", f.rate_scale,
                   "Multiply the trace's request rate, keeping its time span")
      ->capture_default_str()
      ->group("Workload");
  load->add_option("--on-bad-row", f.on_bad_row, "Bad trace rows: skip (and report) or fail")
      ->capture_default_str()
      ->group("Workload");

  load->add_option("--requests", f.requests, "Measured requests per stage")->group("Bounds");
  load->add_option("--duration", f.duration, "Measured time per stage (60s, 5m)")->group("Bounds");
  load->add_option("--warmup", f.warmup, "Warm-up time at the start of each stage")
      ->group("Bounds");
  load->add_option("--warmup-requests", f.warmup_requests,
                   "Warm-up requests per stage (sweeps default to one per user)")
      ->group("Bounds");
  load->add_option("--drain-timeout", f.drain_timeout,
                   "After --duration, how long in-flight requests may finish")
      ->capture_default_str()
      ->group("Bounds");

  load->add_option("--input-tokens-mean,--synthetic-input-tokens-mean", f.input_tokens_mean,
                   "Prompt tokens (words), mean")
      ->capture_default_str()
      ->group("Requests");
  load->add_option("--input-tokens-stddev,--synthetic-input-tokens-stddev", f.input_tokens_stddev,
                   "Prompt tokens, standard deviation")
      ->capture_default_str()
      ->group("Requests");
  load->add_option("--output-tokens-mean", f.output_tokens_mean,
                   "max_tokens, mean (0: let the server decide)")
      ->capture_default_str()
      ->group("Requests");
  load->add_option("--output-tokens-stddev", f.output_tokens_stddev, "max_tokens, stddev")
      ->capture_default_str()
      ->group("Requests");
  load->add_flag("--ignore-eos", f.ignore_eos,
                 "Ask for exactly max_tokens (vLLM ignore_eos + min_tokens)")
      ->group("Requests");
  load->add_option("--extra-inputs", f.extra_inputs,
                   "Body field name:value, JSON-typed (repeatable; genai-perf's flag)")
      ->group("Requests");
  load->add_option("--prompt-tokens-field", f.prompt_tokens_field,
                   "Also send the prompt token count in this body field")
      ->group("Requests");
  load->add_option("--seed", f.seed, "Random seed (arrivals, lengths, prompts)")
      ->capture_default_str()
      ->group("Requests");

  load->add_option("--max-inflight", f.max_inflight,
                   "Open loop: requests in flight at most; later arrivals queue (their wait "
                   "counts in their latency)")
      ->capture_default_str()
      ->group("Engine");
  load->add_option("--threads", f.threads,
                   "Client threads, each with its own event loop and connections (0: one per "
                   "core, at most one per connection)")
      ->capture_default_str()
      ->group("Engine");
  load->add_option("--connect-timeout", f.connect_timeout, "TCP (and TLS) connect timeout")
      ->capture_default_str()
      ->group("Engine");
  load->add_option("--first-byte-timeout", f.first_byte_timeout,
                   "Time to the response head (0s: off)")
      ->capture_default_str()
      ->group("Engine");
  load->add_option("--idle-timeout", f.idle_timeout, "Longest silence inside a response body")
      ->capture_default_str()
      ->group("Engine");
  load->add_option("--request-timeout", f.request_timeout, "Whole-request timeout")
      ->capture_default_str()
      ->group("Engine");

  load->add_option("--slo", f.slo, "Goodput objectives: ttft=2s,itl=100ms[,itl_max,tpot,e2e]")
      ->group("Report");
  load->add_option("--interval", f.interval, "Timeline bucket for the JSON and the chart")
      ->capture_default_str()
      ->group("Report");
  load->add_option("--report-json", options->report_json, "Write the JSON report here")
      ->group("Report");
  load->add_option("--report-csv", options->report_csv, "Write the figures as CSV here")
      ->group("Report");
  load->add_option("--report-svg", options->report_svg,
                   "Write a chart of latency and throughput over time here")
      ->group("Report");
  load->add_option("--requests-csv", options->requests_csv, "Write one CSV row per request here")
      ->group("Report");
  load->add_flag("-q,--quiet", options->quiet, "No table or progress line on stdout")
      ->group("Report");
  load->add_option("--fail-on-errors", f.fail_on_errors,
                   "Exit 1 if a stage's failed fraction exceeds this (0 = any error)")
      ->group("Report");
  load->add_option("--fail-on-goodput", f.fail_on_goodput,
                   "Exit 1 if a stage's fraction of requests meeting --slo is below this")
      ->group("Report");

  load->callback([options, &exit_code] { exit_code = run_load(*options); });
}

}  // namespace llmscale::cli
