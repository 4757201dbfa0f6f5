// `llmscale serve-sim`: one simulated inference server (vLLM, TGI, JetStream, NIM or SGLang
// flavor) on the engine model, on a real clock. Prints one JSON line on stdout once listening
// ({"event":"listening","host":...,"api_port":N,"metrics_port":N,"accelerator_port":N,
// "pid":N}) so a parent (the fleet) can read the ports it got with --port 0; logs go to stderr.
// SIGTERM/SIGINT drain in-flight requests for --drain-grace, then exit 0; a second signal
// exits at once. A crash fault exits with --fault-exit-code.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/io.h"
#include "core/duration.h"
#include "core/json.h"
#include "core/log.h"
#include "core/strings.h"
#include "engine/profile.h"
#include "net/event_loop.h"
#include "server/profile_files.h"
#include "server/sim_server.h"

namespace llmscale::cli {
namespace {

struct ServeSimOptions {
  std::string host = "127.0.0.1";
  int port = 8000;
  std::string flavor = "vllm-v1";
  std::string profile = "llama-3.1-8b-h100";
  std::string profiles_dir;
  bool list_profiles = false;
  std::string model;
  int metrics_port = -1;
  std::string accelerator_metrics = "none";
  int accelerator_metrics_port = 9400;
  std::string pod;
  std::string pod_namespace;
  std::string container;
  std::string startup;
  double startup_seconds = -1;
  std::uint64_t seed = 0;
  double step_time_jitter = engine::kServingStepTimeJitter;  // docs/engine-model.md, "Defaults"
  double output_length_jitter = 0;
  double admission_delay_ms = engine::kServingAdmissionDelaySeconds * 1e3;
  int max_concurrent_requests = -1;
  std::string drain_grace = "30s";
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::string header_timeout = "10s";
  // Faults.
  std::uint64_t crash_after_requests = 0;
  std::string crash_after;
  int exit_code = 1;
  std::string hang_after;
  std::string metrics_delay;
  bool garbage_metrics = false;
  double error_rate = 0;
};

std::string env_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? std::string(value) : fallback;
}

core::Result<core::Duration> duration_flag(const std::string& flag, const std::string& text) {
  auto d = core::parse_go_duration(text);
  if (!d) return core::invalid_argument(flag + ": " + d.error().message);
  if (*d < core::Duration::zero()) return core::invalid_argument(flag + ": must not be negative");
  return *d;
}

// "weights_load=25,compile=20" (seconds, or Go durations "25s").
core::Result<std::vector<engine::StartupPhase>> parse_phases(const std::string& text) {
  std::vector<engine::StartupPhase> phases;
  for (std::string_view item : core::split(text, ',')) {
    item = core::trim(item);
    if (item.empty()) continue;
    auto eq = item.find('=');
    if (eq == std::string_view::npos || eq == 0) {
      return core::invalid_argument("--startup: want name=seconds[,name=seconds...], got \"" +
                                    std::string(item) + "\"");
    }
    std::string value(core::trim(item.substr(eq + 1)));
    double seconds = 0;
    if (auto d = core::parse_go_duration(value)) {
      seconds = core::to_seconds(*d);
    } else {
      char* end = nullptr;
      seconds = std::strtod(value.c_str(), &end);
      if (value.empty() || end == nullptr || *end != '\0') {
        return core::invalid_argument("--startup: bad duration \"" + value + "\"");
      }
    }
    if (!(seconds >= 0)) return core::invalid_argument("--startup: negative duration");
    phases.push_back({std::string(core::trim(item.substr(0, eq))), seconds});
  }
  return phases;
}

// --startup-seconds S: the profile's phases scaled to total S (one "startup" phase if it has
// none); 0 disables the cold start.
std::vector<engine::StartupPhase> scale_phases(const std::vector<engine::StartupPhase>& phases,
                                               double total) {
  double sum = 0;
  for (const auto& p : phases) sum += p.seconds;
  if (total <= 0) return {};
  if (sum <= 0) return {{"startup", total}};
  std::vector<engine::StartupPhase> out = phases;
  for (auto& p : out) p.seconds = p.seconds * total / sum;
  return out;
}

int run_serve_sim(const ServeSimOptions& o) {
  server::SimServerOptions options;
  auto flavor = server::parse_flavor(o.flavor);
  if (!flavor) return fail(flavor.error().message);
  options.flavor = *flavor;
  if (o.list_profiles) {
    engine::ProfileSearch search = server::default_profile_search(o.profiles_dir);
    std::cerr << "looked in " << search.describe() << "\n";
    for (const auto& name : engine::list_profiles(search)) std::cout << name << "\n";
    return 0;
  }
  // Users' own profiles (--profiles-dir, else $LLMSCALE_PROFILES) first, then the ones built
  // into the binary: a replica started from any directory finds the shipped profiles.
  auto profile = engine::load_profile(server::default_profile_search(o.profiles_dir), o.profile);
  if (!profile) return fail(profile.error().to_string());
  options.profile = *profile;
  options.served_model_name = o.model;
  options.host = o.host;
  if (o.port < 0 || o.port > 65535) return fail("--port: must be in [0, 65535]");
  options.port = static_cast<std::uint16_t>(o.port);
  if (o.metrics_port > 65535) return fail("--metrics-port: must be in [0, 65535]");
  if (o.metrics_port >= 0) options.metrics_port = static_cast<std::uint16_t>(o.metrics_port);
  auto accel = server::parse_accelerator_metrics(o.accelerator_metrics);
  if (!accel) return fail(accel.error().message);
  options.accelerator_metrics = *accel;
  if (o.accelerator_metrics_port < 0 || o.accelerator_metrics_port > 65535) {
    return fail("--accelerator-metrics-port: must be in [0, 65535]");
  }
  options.accelerator_metrics_port = static_cast<std::uint16_t>(o.accelerator_metrics_port);
  options.pod.pod = o.pod.empty() ? env_or("POD_NAME", env_or("HOSTNAME", "")) : o.pod;
  options.pod.namespace_ = o.pod_namespace.empty() ? env_or("POD_NAMESPACE", "") : o.pod_namespace;
  options.pod.container = o.container.empty() ? env_or("CONTAINER_NAME", "") : o.container;
  options.pod.hostname = env_or("HOSTNAME", options.pod.pod);
  options.instance_id = env_or("HOSTNAME", options.pod.pod);
  if (!o.startup.empty()) {
    auto phases = parse_phases(o.startup);
    if (!phases) return fail(phases.error().message);
    options.startup = *phases;
  }
  if (o.startup_seconds >= 0) {
    options.startup =
        scale_phases(options.startup.value_or(options.profile.startup), o.startup_seconds);
  }
  options.seed = o.seed;
  if (o.step_time_jitter < 0 || o.step_time_jitter > 1) {
    return fail("--step-time-jitter: must be in [0, 1]");
  }
  options.step_time_jitter = o.step_time_jitter;
  if (o.output_length_jitter < 0 || o.output_length_jitter > 1) {
    return fail("--output-length-jitter: must be in [0, 1]");
  }
  options.output_length_jitter = o.output_length_jitter;
  if (!(o.admission_delay_ms >= 0) || o.admission_delay_ms > 10000) {
    return fail("--admission-delay-ms: must be in [0, 10000]");
  }
  options.admission_delay_s = o.admission_delay_ms * 1e-3;
  if (o.max_concurrent_requests >= 0) {
    options.max_concurrent_requests = static_cast<std::size_t>(o.max_concurrent_requests);
  }
  options.max_body_bytes = o.max_body_bytes;
  auto header_timeout = duration_flag("--header-timeout", o.header_timeout);
  if (!header_timeout) return fail(header_timeout.error().message);
  options.header_timeout = *header_timeout;
  auto grace = duration_flag("--drain-grace", o.drain_grace);
  if (!grace) return fail(grace.error().message);

  server::FaultOptions& faults = options.faults;
  if (o.crash_after_requests > 0) faults.crash_after_requests = o.crash_after_requests;
  if (!o.crash_after.empty()) {
    auto d = duration_flag("--fault-crash-after", o.crash_after);
    if (!d) return fail(d.error().message);
    faults.crash_after = *d;
  }
  if (o.exit_code == 0) return fail("--fault-exit-code: must be non-zero");
  faults.crash_exit_code = o.exit_code;
  if (!o.hang_after.empty()) {
    auto d = duration_flag("--fault-hang-after", o.hang_after);
    if (!d) return fail(d.error().message);
    faults.hang_after = *d;
  }
  if (!o.metrics_delay.empty()) {
    auto d = duration_flag("--fault-metrics-delay", o.metrics_delay);
    if (!d) return fail(d.error().message);
    faults.metrics_delay = *d;
  }
  faults.garbage_metrics = o.garbage_metrics;
  if (!(o.error_rate >= 0 && o.error_rate <= 1))
    return fail("--fault-error-rate: must be in [0, 1]");
  faults.error_rate = o.error_rate;
  options.on_crash = [](int code) {
    std::fflush(stdout);
    std::fflush(stderr);
    std::_Exit(code);
  };

  net::EventLoop loop(1);
  auto created = server::SimServer::create(loop, loop.clock(), std::move(options));
  if (!created) return fail(created.error().to_string());
  server::SimServer& sim = **created;
  if (auto s = sim.start(); !s) return fail(s.error().to_string(), 1);

  server::SimServerPorts ports = sim.ports();
  core::Json line = {{"event", "listening"},
                     {"host", o.host},
                     {"api_port", ports.api},
                     {"metrics_port", ports.metrics != 0 ? ports.metrics : ports.api},
                     {"accelerator_port", ports.accelerator},
                     {"pid", static_cast<std::int64_t>(::getpid())}};
  std::cout << core::to_compact_json(line) << std::endl;

  core::Duration drain_grace = *grace;
  net::stop_on_signals(loop, [&](int) { sim.request_stop(drain_grace, [&loop] { loop.stop(); }); });
  loop.run();
  core::log_info("serve-sim: stopped");
  return 0;
}

}  // namespace

void add_serve_sim_command(CLI::App& app, int& exit_code) {
  static ServeSimOptions o;
  auto* cmd = app.add_subcommand(
      "serve-sim",
      "Run a simulated inference server (vLLM, TGI, JetStream, NIM, SGLang) on the engine model");
  cmd->add_option("--host", o.host, "address to bind")->capture_default_str();
  cmd->add_option("--port", o.port, "API port (0: pick a free one, printed on stdout)")
      ->capture_default_str();
  cmd->add_option("--flavor", o.flavor, "vllm-v1, vllm-v0, tgi, jetstream, nim or sglang")
      ->capture_default_str();
  cmd->add_option("--profile", o.profile, "deployment profile name or YAML path")
      ->capture_default_str();
  cmd->add_option("--profiles-dir", o.profiles_dir,
                  "directory of your own profiles, searched before the built-in ones (default: "
                  "$LLMSCALE_PROFILES)");
  cmd->add_flag("--list-profiles", o.list_profiles,
                "print the profile names found (--profiles-dir or $LLMSCALE_PROFILES, then the "
                "built-in ones) and exit");
  cmd->add_option("--model", o.model, "served model name (default: the profile's model)");
  cmd->add_option("--metrics-port", o.metrics_port,
                  "separate /metrics listener (JetStream's prometheus_port); default: API port");
  cmd->add_option("--accelerator-metrics", o.accelerator_metrics, "dcgm, tpu or none")
      ->capture_default_str();
  cmd->add_option("--accelerator-metrics-port", o.accelerator_metrics_port,
                  "port of the accelerator metrics (0: pick one)")
      ->capture_default_str();
  cmd->add_option("--pod", o.pod,
                  "pod label of accelerator metrics (default: $POD_NAME, $HOSTNAME)");
  cmd->add_option("--namespace", o.pod_namespace, "namespace label (default: $POD_NAMESPACE)");
  cmd->add_option("--container", o.container, "container label (default: $CONTAINER_NAME)");
  cmd->add_option("--startup", o.startup,
                  "cold-start phases, e.g. weights_load=25,cuda_graph_capture=10 (default: the "
                  "profile's)");
  cmd->add_option("--startup-seconds", o.startup_seconds,
                  "total cold start, the phases scaled to it (0: ready at once)");
  cmd->add_option("--seed", o.seed, "seed of step-time jitter, token text and faults")
      ->capture_default_str();
  cmd->add_option("--step-time-jitter", o.step_time_jitter,
                  "relative standard deviation of step-time noise")
      ->capture_default_str();
  cmd->add_option("--output-length-jitter", o.output_length_jitter,
                  "relative standard deviation of natural reply lengths (EOS), per request")
      ->capture_default_str();
  cmd->add_option("--admission-delay-ms", o.admission_delay_ms,
                  "mean frontend delay before a request reaches the scheduler (tokenisation, "
                  "API server -> engine), served one request at a time")
      ->capture_default_str();
  cmd->add_option("--max-concurrent-requests", o.max_concurrent_requests,
                  "429 beyond this many in flight (default: 128 for tgi, unlimited otherwise)");
  cmd->add_option("--drain-grace", o.drain_grace, "how long SIGTERM lets requests finish")
      ->capture_default_str();
  cmd->add_option("--max-body-bytes", o.max_body_bytes, "413 for larger request bodies")
      ->capture_default_str();
  cmd->add_option("--header-timeout", o.header_timeout,
                  "408 when a request header takes longer (slow clients)")
      ->capture_default_str();
  cmd->add_option("--fault-crash-after-requests", o.crash_after_requests,
                  "exit non-zero when the Nth inference request arrives");
  cmd->add_option("--fault-crash-after", o.crash_after, "exit non-zero this long after start");
  cmd->add_option("--fault-exit-code", o.exit_code, "exit code of a crash fault")
      ->capture_default_str();
  cmd->add_option("--fault-hang-after", o.hang_after,
                  "stop answering anything this long after start");
  cmd->add_option("--fault-metrics-delay", o.metrics_delay, "answer /metrics this late");
  cmd->add_flag("--fault-garbage-metrics", o.garbage_metrics, "answer /metrics with garbage");
  cmd->add_option("--fault-error-rate", o.error_rate,
                  "fraction of inference requests failed with the server's error")
      ->capture_default_str();
  cmd->callback([&] { exit_code = run_serve_sim(o); });
}

}  // namespace llmscale::cli
