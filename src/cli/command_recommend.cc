// `llmscale recommend SCENARIO`: simulate a grid of HPA configurations in parallel, print them
// ranked (SLO met, then cheapest), write the winner as a ready-to-apply HPA manifest and its
// simulated run (sim/recommend.h).
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <mutex>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/from_up.h"
#include "cli/io.h"
#include "core/atomic_file.h"
#include "core/duration.h"
#include "core/log.h"
#include "core/strings.h"
#include "kube/json_codec.h"
#include "kube/printers.h"
#include "sim/flags.h"
#include "sim/recommend.h"

namespace llmscale::cli {
namespace {

struct RecommendFlags {
  sim::SimFlags sim;
  std::vector<std::string> metrics;  // NAME=T1,T2,...
  std::vector<double> tolerances;
  std::vector<std::string> windows;
  std::vector<std::int32_t> min_replicas;
  std::vector<std::int32_t> max_replicas;
  unsigned jobs = 0;
  int top = 15;
  std::string out = "recommend-out";
};

std::string fixed(double v, int digits) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string short_metric(const std::string& name) {
  auto parts = core::split(name, '|');
  return parts.size() == 3 ? std::string(parts[1]) : name;
}

int run(const RecommendFlags& f) {
  core::set_log_level(core::LogLevel::kWarn);
  sim::SimFlags sim_flags = f.sim;
  if (auto fetched = fetch_from_up(sim_flags, f.out + "/from-up"); !fetched)
    return fail(fetched.error().message);
  auto resolved = sim::resolve_sim_flags(sim_flags);
  if (!resolved) return fail(resolved.error().message);
  sim::SearchSpace space;
  for (const std::string& m : f.metrics) {
    auto eq = m.rfind('=');
    if (eq == std::string::npos) return fail("--metric: expected NAME=T1,T2,... got " + m);
    sim::MetricChoice choice{m.substr(0, eq), {}};
    for (auto v : core::split(std::string_view(m).substr(eq + 1), ',')) {
      char* end = nullptr;
      std::string text(v);
      double d = std::strtod(text.c_str(), &end);
      if (text.empty() || *end != '\0' || !(d > 0)) return fail("--metric: bad target " + text);
      choice.targets.push_back(d);
    }
    space.metrics.push_back(std::move(choice));
  }
  if (!f.tolerances.empty()) space.tolerances = f.tolerances;
  if (!f.windows.empty()) {
    space.scale_down_windows.clear();
    for (const auto& w : f.windows) {
      auto d = core::parse_go_duration(w);
      if (!d) return fail("--scale-down-window: " + d.error().message);
      space.scale_down_windows.push_back(*d);
    }
  }
  if (!f.min_replicas.empty()) space.min_replicas = f.min_replicas;
  if (!f.max_replicas.empty()) space.max_replicas = f.max_replicas;

  bool tty = isatty(STDERR_FILENO) == 1;
  auto started = std::chrono::steady_clock::now();
  auto ranked = sim::recommend(resolved->scenario, resolved->options, resolved->slo, space, f.jobs,
                               [tty](std::size_t done, std::size_t total) {
                                 if (tty) std::cerr << "\r" << done << "/" << total << std::flush;
                               });
  if (tty) std::cerr << "\n";
  if (!ranked) return fail(ranked.error().message);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  std::printf("%-4s %-32s %9s %5s %7s %4s %4s %8s %9s %8s %8s %6s\n", "RANK", "METRIC", "TARGET",
              "TOL", "WINDOW", "MIN", "MAX", "SLO", "ATTAIN%", "TTFT_P90", "REPL_H", "EVENTS");
  int shown = 0;
  for (const auto& r : *ranked) {
    if (shown++ >= f.top) break;
    const auto& c = r.candidate;
    if (!r.error.empty()) {
      std::printf("%-4d %-32s error: %s\n", shown, short_metric(c.metric).c_str(), r.error.c_str());
      continue;
    }
    std::printf("%-4d %-32s %9s %5s %7s %4d %4d %8s %9s %8s %8s %6zu\n", shown,
                short_metric(c.metric).c_str(), fixed(c.target, 3).c_str(),
                fixed(c.tolerance, 2).c_str(),
                core::format_go_duration(c.scale_down_window).c_str(), c.min_replicas,
                c.max_replicas, r.summary.slo_met ? "met" : "missed",
                fixed(r.summary.attainment * 100, 1).c_str(), fixed(r.summary.ttft.p90, 3).c_str(),
                fixed(r.summary.replica_hours, 2).c_str(), r.summary.scale_events);
  }
  std::printf("%zu configurations simulated in %.1f s\n", ranked->size(), wall);
  const sim::Ranked& best = ranked->front();
  if (!best.error.empty()) return fail("every configuration failed: " + best.error, 1);
  if (!best.summary.slo_met)
    std::printf("no configuration meets the SLO; the closest is written\n");

  std::error_code ec;
  std::filesystem::create_directories(f.out, ec);
  if (ec) return fail("--out: " + f.out + ": " + ec.message(), 1);
  kube::HorizontalPodAutoscaler hpa =
      sim::apply_candidate(resolved->scenario.config.hpas.front(), best.candidate);
  core::Json manifest = kube::encode_hpa(hpa);
  manifest.erase("status");
  std::string hpa_path = f.out + "/hpa.yaml";
  if (auto st = core::write_file_atomically(hpa_path, kube::kubectl_yaml(manifest)); !st)
    return fail(hpa_path + ": " + st.error().message, 1);
  // The run that justifies it, with every output of `simulate`.
  sim::Scenario winner = resolved->scenario;
  winner.config.hpas.front() = hpa;
  auto run = sim::simulate(winner, resolved->options);
  if (!run) return fail(run.error().message, 1);
  sim::Summary s = sim::summarize(*run, resolved->slo);
  struct File {
    const char* name;
    std::string text;
  };
  for (const File& file :
       {File{"summary.json", sim::summary_json(s, *run, resolved->slo)},
        File{"requests.csv", sim::requests_csv(*run)}, File{"seconds.csv", sim::seconds_csv(*run)},
        File{"report.html",
             sim::html_report(s, *run, resolved->slo, "llmscale recommend: winner")}}) {
    std::string path = f.out + "/" + file.name;
    if (auto st = core::write_file_atomically(path, file.text); !st)
      return fail(path + ": " + st.error().message, 1);
  }
  std::printf("winner written to %s (its simulated run: %s/report.html)\n", hpa_path.c_str(),
              f.out.c_str());
  return 0;
}

}  // namespace

void add_recommend_command(CLI::App& app, int& exit_code) {
  static RecommendFlags f;
  auto* c = app.add_subcommand(
      "recommend",
      "Search HPA metric, target, tolerance, windows and min/max by simulation; rank by SLO and "
      "cost; write the winner as an HPA manifest");
  sim::add_sim_flags(*c, f.sim);
  auto* g = "Search space";
  c->add_option("--metric", f.metrics,
                "NAME=T1,T2,...: a Pods metric and its averageValue targets (repeatable; "
                "default: the flavor's queue, running and KV-cache signals)")
      ->group(g);
  c->add_option("--tolerances", f.tolerances, "tolerances to try (default 0.1)")
      ->delimiter(',')
      ->group(g);
  c->add_option("--scale-down-windows", f.windows, "scale-down stabilization windows (default 5m)")
      ->delimiter(',')
      ->group(g);
  c->add_option("--min-replicas", f.min_replicas, "minReplicas values (default 1)")
      ->delimiter(',')
      ->group(g);
  c->add_option("--max-replicas", f.max_replicas, "maxReplicas values (default: the HPA's)")
      ->delimiter(',')
      ->group(g);
  c->add_option("--jobs", f.jobs, "parallel runs (default: every core)");
  c->add_option("--top", f.top, "rows to print")->capture_default_str();
  c->add_option("--out", f.out, "output folder: hpa.yaml and the winner's run")
      ->capture_default_str();
  c->callback([&exit_code] { exit_code = run(f); });
}

}  // namespace llmscale::cli
