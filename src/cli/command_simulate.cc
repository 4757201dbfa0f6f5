// `llmscale simulate SCENARIO`: the autoscaling loop of `up` on a simulated clock (sim module),
// writing per-request and per-second CSV, a summary JSON, SVG plots and an HTML report.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli/commands.h"
#include "cli/from_up.h"
#include "cli/io.h"
#include "core/atomic_file.h"
#include "core/log.h"
#include "sim/flags.h"
#include "sim/report.h"

namespace llmscale::cli {
namespace {

struct SimulateFlags {
  sim::SimFlags sim;
  std::string out = "sim-out";
  std::string progress = "auto";
  bool verbose = false;
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

int run(const SimulateFlags& f) {
  if (!f.verbose) core::set_log_level(core::LogLevel::kWarn);
  sim::SimFlags sim_flags = f.sim;
  if (auto fetched = fetch_from_up(sim_flags, f.out + "/from-up"); !fetched)
    return fail(fetched.error().message);
  auto resolved = sim::resolve_sim_flags(sim_flags);
  if (!resolved) return fail(resolved.error().message);
  bool bar = f.progress == "always" || (f.progress == "auto" && isatty(STDERR_FILENO) == 1);
  if (f.progress != "auto" && f.progress != "always" && f.progress != "never")
    return fail("--progress: auto, always or never");
  auto started = std::chrono::steady_clock::now();
  sim::ProgressFn progress;
  if (bar) {
    progress = [](double fraction) {
      int width = 40;
      int filled = static_cast<int>(fraction * width);
      std::cerr << "\r[" << std::string(filled, '#') << std::string(width - filled, ' ') << "] "
                << static_cast<int>(fraction * 100) << "%" << std::flush;
    };
  }
  auto result = sim::simulate(resolved->scenario, resolved->options, progress);
  if (bar) std::cerr << "\n";
  if (!result) return fail(result.error().message);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  sim::Summary s = sim::summarize(*result, resolved->slo);

  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return fail("--out: " + f.out + ": " + ec.message(), 1);
  struct File {
    const char* name;
    std::string text;
  };
  std::vector<File> files = {
      {"summary.json", sim::summary_json(s, *result, resolved->slo)},
      {"requests.csv", sim::requests_csv(*result)},
      {"seconds.csv", sim::seconds_csv(*result)},
      {"scale_events.csv", sim::scale_events_csv(*result)},
      {"decisions.csv", sim::decisions_csv(*result)},
      {"replicas.svg", sim::replicas_svg(*result)},
      {"metric.svg", sim::metric_svg(*result)},
      {"latency_cdf.svg", sim::latency_cdf_svg(*result, resolved->slo)},
      {"report.html",
       sim::html_report(s, *result, resolved->slo,
                        "llmscale simulate: " + resolved->scenario.workload.describe())},
  };
  for (const auto& file : files) {
    std::string path = f.out + "/" + file.name;
    if (auto st = core::write_file_atomically(path, file.text); !st)
      return fail(path + ": " + st.error().message, 1);
  }
  std::cout << "workload:            " << resolved->scenario.workload.describe() << "\n"
            << "requests:            " << s.requests << " (" << s.ok << " ok, " << s.rejected
            << " rejected, " << s.aborted << " aborted)\n"
            << "SLO (p" << fixed(resolved->slo.quantile * 100, 0)
            << " TTFT <= " << resolved->slo.ttft << "s, TPOT <= " << resolved->slo.tpot
            << "s): " << (s.slo_met ? "met" : "NOT met") << ", attainment "
            << fixed(s.attainment * 100, 1) << " %\n"
            << "TTFT p50/p90/p99:    " << fixed(s.ttft.p50, 3) << " / " << fixed(s.ttft.p90, 3)
            << " / " << fixed(s.ttft.p99, 3) << " s\n"
            << "TPOT p50/p90/p99:    " << fixed(s.tpot.p50 * 1000, 1) << " / "
            << fixed(s.tpot.p90 * 1000, 1) << " / " << fixed(s.tpot.p99 * 1000, 1) << " ms\n"
            << "goodput:             " << fixed(s.goodput_rps, 2) << " req/s, "
            << fixed(s.goodput_tokens_per_s, 0) << " tokens/s\n"
            << "replica-hours:       " << fixed(s.replica_hours, 2) << " (mean ready "
            << fixed(s.mean_ready, 1) << ", max " << s.max_replicas << ")\n"
            << "scale events:        " << s.scale_events << " (" << s.scale_ups << " up, "
            << s.scale_downs << " down)\n"
            << "under/over-provisioned: " << fixed(s.under_provisioned_s, 0) << " s / "
            << fixed(s.over_provisioned_s, 0) << " s\n"
            << "simulated " << fixed(result->duration, 0) << " s in " << fixed(wall, 2)
            << " s wall (" << fixed(result->duration / std::max(wall, 1e-9), 0) << "x); "
            << result->tokens << " tokens, " << result->engine_steps << " engine steps\n"
            << "wrote " << f.out << "/{summary.json,requests.csv,seconds.csv,scale_events.csv,"
            << "replicas.svg,metric.svg,latency_cdf.svg,report.html}\n";
  return 0;
}

}  // namespace

void add_simulate_command(CLI::App& app, int& exit_code) {
  static SimulateFlags f;
  auto* c = app.add_subcommand(
      "simulate",
      "Replay a workload through the autoscaling loop of `up` on a simulated clock (seconds "
      "for hours of traffic)");
  sim::add_sim_flags(*c, f.sim);
  c->add_option("--out", f.out, "output folder")->capture_default_str();
  c->add_option("--progress", f.progress, "auto (on a terminal), always or never")
      ->capture_default_str();
  c->add_flag("--verbose", f.verbose, "log the controller's decisions");
  c->callback([&exit_code] { exit_code = run(f); });
}

}  // namespace llmscale::cli
