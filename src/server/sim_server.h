// SimServer: one simulated inference replica (vLLM, TGI, JetStream, NIM or SGLang flavor)
// served over HTTP on a net::EventLoop, its tokens timed by the engine model on a core::Clock.
//
//   net::EventLoop loop;                       // one thread (see below)
//   server::SimServerOptions options;
//   options.profile = *engine::load_builtin_profile("llama-3.1-8b-h100");
//   options.port = 0;                          // pick a free port
//   auto server = server::SimServer::create(loop, loop.clock(), std::move(options)).value();
//   server->start();                           // binds; the cold start begins
//   ... server->ports().api ...                // the bound port
//   loop.run();
//
// What it serves (per flavor, docs/server.md): the inference APIs of api.h, GET /health (503
// until the cold start is over and while draining), /metrics (FlavorMetrics, from the start),
// /v1/models, a debug GET /llmscale/stats (JSON: readiness, phase, in-flight, lag), and
// optionally a separate metrics port (JetStream's prometheus_port) and an accelerator-metrics
// port (DCGM or TPU gauges). A request is decoded, submitted to the Engine through an
// EngineDriver on the Clock, and its tokens are written when the driver delivers them (the
// step's end on the Clock); a client that disconnects aborts its request, freeing its KV blocks.
//
// Cold start: the startup phases (the profile's, or options.startup) run one after another on
// the Clock; inference routes and /health answer 503 until they are over.
// Faults (FaultOptions): crash after N requests or at a time (listeners closed at once,
// on_crash called: the CLI exits non-zero), hang (every response stops), slow or garbage
// /metrics, and an error rate.
//
// Threads: everything runs on the loop's thread, which must be the only thread running the
// loop (create() refuses an EventLoop with more than one thread); several SimServers may
// share one loop, or each have its own loop on its own thread. create(), start() and the
// destructor run on that thread or before the loop runs; stop() is a coroutine on the loop;
// request_stop() may be called from any thread. ready() and ports() may be read from any
// thread. The Clock and the EventLoop must outlive the SimServer. Destroying a SimServer
// closes its connections at once; handlers still suspended leave without touching it.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/result.h"
#include "core/time.h"
#include "engine/driver.h"
#include "engine/engine.h"
#include "engine/profile.h"
#include "net/event_loop.h"
#include "net/server.h"
#include "server/accelerator_metrics.h"
#include "server/flavor.h"

namespace llmscale::server {

struct FaultOptions {
  // Crash (exit non-zero through on_crash) when the Nth inference request arrives.
  std::optional<std::uint64_t> crash_after_requests;
  // Crash this long after start().
  std::optional<core::Duration> crash_after;
  int crash_exit_code = 1;
  // From this long after start(), no request on any port gets an answer and streams stop
  // (a wedged process: connections stay open, liveness probes time out).
  std::optional<core::Duration> hang_after;
  // /metrics answers this late.
  core::Duration metrics_delay{0};
  // /metrics answers 200 with a body no Prometheus parser accepts.
  bool garbage_metrics = false;
  // Fraction of inference requests answered with the server's generation error (OpenAI 500,
  // TGI 424) instead of being served; drawn from the seed.
  double error_rate = 0;
};

struct SimServerOptions {
  Flavor flavor = Flavor::kVllmV1;
  engine::Profile profile;        // REQUIRED (engine::load_profile)
  std::string served_model_name;  // default: the profile's model name
  std::string host = "127.0.0.1";
  std::uint16_t port = 8000;  // 0: pick a free port
  // A separate listener for /metrics (any path for JetStream, like prometheus_client's
  // start_http_server). Absent: /metrics is served on the API port.
  std::optional<std::uint16_t> metrics_port;
  AcceleratorMetrics accelerator_metrics = AcceleratorMetrics::kNone;
  std::uint16_t accelerator_metrics_port = 9400;  // 0: pick a free port
  PodIdentity pod;                                // labels of the accelerator metrics
  std::string instance_id;  // JetStream's `id` label; default: pod name, else from the seed
  // Cold-start phases; absent: the profile's.
  std::optional<std::vector<engine::StartupPhase>> startup;
  std::uint64_t seed = 0;
  double step_time_jitter = 0;  // relative noise on each step time (EngineOptions)
  // Relative spread of natural reply lengths, and the frontend's mean admission delay
  // (EngineOptions::output_length_jitter, admission_delay_s): what keeps equal requests from
  // moving in lock-step.
  double output_length_jitter = 0;
  double admission_delay_s = 0;
  // TGI's --max-concurrent-requests (429 beyond); absent: 128 for TGI, unlimited otherwise.
  std::optional<std::size_t> max_concurrent_requests;
  FaultOptions faults;
  // HTTP limits (net::ServerOptions): bodies over max_body_bytes get 413; a header not complete
  // within header_timeout (slow-loris) gets 408.
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  core::Duration header_timeout = std::chrono::seconds(10);
  core::Duration body_timeout = std::chrono::seconds(30);
  core::Duration idle_timeout = std::chrono::seconds(60);
  // Called after a crash fault closed everything (the CLI exits the process with the code).
  std::function<void(int exit_code)> on_crash;
  // For handler tests: start() does not bind listeners (drive handler() directly).
  bool listen = true;
};

struct SimServerPorts {
  std::uint16_t api = 0;
  std::uint16_t metrics = 0;      // 0: /metrics is on the API port
  std::uint16_t accelerator = 0;  // 0: none
};

struct SimServerStats {
  std::uint64_t requests_received = 0;  // inference requests
  std::uint64_t requests_rejected = 0;  // answered with an error (4xx, 5xx)
  std::uint64_t requests_completed = 0;
  std::uint64_t requests_cancelled = 0;  // client disconnected
  std::size_t in_flight = 0;
  std::uint64_t tokens_sent = 0;
  std::uint64_t token_writes = 0;  // writes (chunks or bodies) carrying tokens
  // How late tokens reached the socket writer relative to the model's time for them (the
  // step's end), one sample per write: driver timer lag plus scheduling. Sustaining real
  // time means these stay near zero.
  double token_lag_seconds_max = 0;
  double token_lag_seconds_total = 0;
  engine::DriverStats driver;
};

class SimServer {
 public:
  // Validates the options and builds the engine (KV cache sized from the profile).
  // kInvalidArgument for a bad profile or option, kFailedPrecondition for a multi-threaded loop.
  static core::Result<std::unique_ptr<SimServer>> create(net::EventLoop& loop, core::Clock& clock,
                                                         SimServerOptions options);
  ~SimServer();
  SimServer(const SimServer&) = delete;
  SimServer& operator=(const SimServer&) = delete;

  // Binds the listeners (unless options.listen is false) and begins the cold start.
  // kUnavailable when a port cannot be bound.
  core::Status start();
  // Graceful stop: /health and new inference requests answer 503, listeners stop accepting,
  // requests in flight may finish until `grace`, then are aborted; completes when every
  // connection is closed.
  net::Awaitable<void> stop(core::Duration grace = std::chrono::seconds(30));
  // Spawns stop(grace) on the loop from any thread; `done` (optional) runs on the loop after.
  void request_stop(core::Duration grace, std::function<void()> done = {});
  // Closes every listener and connection at once.
  void close();

  SimServerPorts ports() const;
  bool ready() const;
  bool crashed() const;

  // Loop thread only.
  // The current cold-start phase ("ready" once ready).
  std::string phase() const;
  std::string metrics_text();
  std::string accelerator_metrics_text();
  SimServerStats stats() const;
  engine::EngineStats engine_stats() const;
  const SimServerOptions& options() const;
  // The API listener's handler (and the separate metrics and accelerator handlers), for tests
  // that drive requests through net::RecordingResponseWriter.
  net::Handler handler() const;
  net::Handler metrics_handler() const;
  net::Handler accelerator_handler() const;

 private:
  struct Impl;
  explicit SimServer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace llmscale::server
