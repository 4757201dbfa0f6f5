// SimServer: routes, request lifecycle on the engine driver, cold start, faults and drain.
#include "server/sim_server.h"
#include "core/hash.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <unordered_set>

#include <nlohmann/json.hpp>

#include "core/json.h"
#include "core/log.h"
#include "net/notifier.h"
#include "net/router.h"
#include "server/api.h"
#include "server/flavor_metrics.h"
#include "server/text.h"

namespace llmscale::server {

namespace {

constexpr std::string_view kMetricsContentType = "text/plain; version=0.0.4; charset=utf-8";
// TGI's --max-concurrent-requests default.
constexpr std::size_t kTgiMaxConcurrentRequests = 128;

// One inference request between the driver's callbacks and the handler writing it out.
struct RequestState {
  net::Notifier notifier;
  engine::RequestId id = 0;
  std::int64_t tokens = 0;       // output tokens delivered by the driver
  core::Time last_token_time{};  // model time of the latest token
  bool finished = false;
  engine::FinishReason reason = engine::FinishReason::kStop;
  bool disconnected = false;  // the client left
  bool shut_down = false;     // aborted by stop() or a crash
};

bool is_weights_phase(const std::string& name) {
  return name.find("weight") != std::string::npos || name.find("load") != std::string::npos;
}

}  // namespace

struct SimServer::Impl {
  Impl(net::EventLoop& l, core::Clock& c, SimServerOptions o)
      : loop(l), clock(c), options(std::move(o)) {}

  net::EventLoop& loop;
  core::Clock& clock;
  SimServerOptions options;
  std::string model;
  std::vector<engine::StartupPhase> phases;
  ApiContext api_context;

  std::unique_ptr<FlavorMetrics> metrics;
  std::unique_ptr<engine::Engine> engine;
  std::unique_ptr<engine::EngineDriver> driver;
  std::unique_ptr<AcceleratorMetricsExporter> accelerator;

  net::Router api_router;
  net::Router metrics_router;
  net::Router accelerator_router;
  std::unique_ptr<net::HttpServer> api_server;
  std::unique_ptr<net::HttpServer> metrics_server;
  std::unique_ptr<net::HttpServer> accelerator_server;

  // Handlers hold this; false once the SimServer is gone, so a late resumption leaves at once.
  std::shared_ptr<bool> alive = std::make_shared<bool>(true);
  std::atomic<bool> ready{false};
  std::atomic<bool> crashed{false};
  bool draining = false;
  bool hung = false;
  bool started = false;
  std::size_t phase_index = 0;
  core::Time start_time{};
  core::Time phase_start{};
  std::vector<core::Clock::TimerId> timers;

  std::unordered_set<std::shared_ptr<RequestState>> in_flight;
  std::vector<std::shared_ptr<net::Notifier>> hang_waiters;
  std::shared_ptr<net::Notifier> drain_notifier;
  std::uint64_t sequence = 0;
  std::uint64_t rng;
  std::size_t max_concurrent = 0;
  SimServerStats stats;

  // Setup.
  core::Status build();
  void add_routes();
  core::Status listen(std::unique_ptr<net::HttpServer>& server, std::uint16_t port,
                      const net::Router& router);
  void begin_startup();
  void next_phase();
  void become_ready();
  MemoryState memory_state(double& progress) const;

  // Faults.
  void crash(const std::string& reason);
  void hang_now();
  net::Awaitable<void> hang_forever(std::shared_ptr<bool> alive_flag);
  bool fail_by_error_rate();

  // Handlers.
  net::Awaitable<void> generate(Api api, net::ServerRequest& request, net::ResponseWriter& writer);
  net::Awaitable<void> stream_out(std::shared_ptr<RequestState> state, OutputFormatter& formatter,
                                  net::ResponseWriter& writer, std::shared_ptr<bool> alive_flag);
  net::Awaitable<void> reply(std::shared_ptr<RequestState> state, OutputFormatter& formatter,
                             net::ResponseWriter& writer, std::shared_ptr<bool> alive_flag, Api api,
                             core::Time arrival);
  net::Awaitable<void> health(net::ServerRequest& request, net::ResponseWriter& writer);
  net::Awaitable<void> serve_metrics(net::ServerRequest& request, net::ResponseWriter& writer);
  net::Awaitable<void> serve_accelerator(net::ServerRequest& request, net::ResponseWriter& writer);
  net::Awaitable<void> send_json(net::ResponseWriter& writer, int status, std::string_view body);
  net::Awaitable<void> send_error(net::ResponseWriter& writer, Api api, ApiError error);
  std::string stats_json() const;
  void finish_request(const std::shared_ptr<RequestState>& state);
  void abort_all();
  void record_token_lag(const RequestState& state);
};

core::Status SimServer::Impl::build() {
  if (loop.threads() != 1) {
    return core::make_error(core::ErrorCode::kFailedPrecondition,
                            "SimServer needs an EventLoop run by one thread (got " +
                                std::to_string(loop.threads()) + ")");
  }
  if (auto s = engine::validate_profile(options.profile); !s) return s;
  if (!(options.faults.error_rate >= 0 && options.faults.error_rate <= 1)) {
    return core::invalid_argument("error rate must be in [0, 1], got " +
                                  std::to_string(options.faults.error_rate));
  }
  model =
      options.served_model_name.empty() ? options.profile.model.name : options.served_model_name;
  phases = options.startup ? *options.startup : options.profile.startup;
  for (const auto& phase : phases) {
    if (!(phase.seconds >= 0) || !std::isfinite(phase.seconds)) {
      return core::invalid_argument("startup phase " + phase.name +
                                    ": seconds must be a non-negative number");
    }
  }
  if (options.instance_id.empty()) {
    options.instance_id =
        !options.pod.pod.empty() ? options.pod.pod : hex_id(options.seed, 0).substr(0, 22);
  }
  max_concurrent = options.max_concurrent_requests.value_or(
      options.flavor == Flavor::kTgi ? kTgiMaxConcurrentRequests : 0);
  rng = core::splitmix64(options.seed ^ 0xFA17FA17ULL);

  engine::MemoryPlan plan = engine::memory_plan(options.profile);
  FlavorMetricsConfig config;
  config.flavor = options.flavor;
  config.model_name = model;
  config.instance_id = options.instance_id;
  config.max_model_len = options.profile.max_model_len();
  config.max_num_seqs = options.profile.scheduler.max_num_seqs;
  config.num_gpu_blocks = plan.num_blocks;
  config.kv_capacity_tokens = plan.capacity_tokens();
  config.profile = &options.profile;
  metrics = std::make_unique<FlavorMetrics>(config);

  engine::EngineOptions engine_options;
  engine_options.seed = options.seed;
  engine_options.step_time_jitter = options.step_time_jitter;
  engine_options.output_length_jitter = options.output_length_jitter;
  engine_options.admission_delay_s = options.admission_delay_s;
  engine_options.observer = metrics.get();
  auto created = engine::Engine::create(options.profile, engine_options);
  if (!created) return tl::unexpected(created.error());
  engine = std::move(*created);
  driver = std::make_unique<engine::EngineDriver>(*engine, clock);
  api_context = ApiContext{options.flavor, model, engine->max_model_len(),
                           engine->profile().model.chat_system_preamble_tokens};
  if (options.accelerator_metrics != AcceleratorMetrics::kNone) {
    accelerator = std::make_unique<AcceleratorMetricsExporter>(
        options.accelerator_metrics, options.profile, engine->memory(), options.pod, options.seed);
  }
  add_routes();
  return {};
}

void SimServer::Impl::add_routes() {
  Flavor flavor = options.flavor;
  auto route = [this](Api api) {
    return
        [this, api](net::ServerRequest& r, net::ResponseWriter& w) { return generate(api, r, w); };
  };
  auto health_handler = [this](net::ServerRequest& r, net::ResponseWriter& w) {
    return health(r, w);
  };
  auto metrics_handler = [this](net::ServerRequest& r, net::ResponseWriter& w) {
    return serve_metrics(r, w);
  };
  auto models = [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
    auto flag = alive;
    std::string body = models_body(options.flavor, model, engine->max_model_len(),
                                   std::int64_t(core::to_unix_seconds(clock.now())));
    co_await send_json(w, 200, std::move(body));
  };
  net::Router& r = api_router;
  if (has_openai_routes(flavor)) {
    r.post("/v1/completions", route(Api::kCompletions));
    r.post("/v1/chat/completions", route(Api::kChatCompletions));
    r.get("/v1/models", models);
  }
  switch (flavor) {
    case Flavor::kTgi:
      r.post("/generate", route(Api::kTgiGenerate));
      r.post("/generate_stream", route(Api::kTgiGenerateStream));
      r.post("/", route(Api::kTgiCompat));
      r.get("/", health_handler);
      r.get("/ping", health_handler);
      r.get("/info", [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
        core::Json info = {{"model_id", model},
                           {"model_sha", nullptr},
                           {"model_pipeline_tag", "text-generation"},
                           {"max_concurrent_requests", max_concurrent},
                           {"max_best_of", 2},
                           {"max_stop_sequences", 4},
                           {"max_input_tokens", engine->max_model_len() - 1},
                           {"max_total_tokens", engine->max_model_len()},
                           {"validation_workers", 2},
                           {"max_client_batch_size", 4},
                           {"router", "text-generation-router"},
                           {"version", "3.3.6"},
                           {"sha", nullptr},
                           {"docker_label", nullptr}};
        co_await send_json(w, 200, core::to_compact_json(info));
      });
      break;
    case Flavor::kJetStream:
      r.post("/generate", route(Api::kJetStreamGenerate));
      r.post("/v1/generate", route(Api::kJetStreamDecode));
      r.get("/v1/health", health_handler);
      r.get("/", [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
        co_await send_json(w, 200, "{\n    \"message\": \"JetStream HTTP Server\"\n}");
      });
      break;
    case Flavor::kNim:
      r.get("/v1/health/ready", health_handler);
      r.get("/v1/health/live",
            [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
              co_await send_json(w, 200,
                                 R"({"object":"health.response","message":"Service is live."})");
            });
      r.get("/v1/metrics", metrics_handler);
      break;
    case Flavor::kVllmV1:
    case Flavor::kVllmV0:
      r.get("/version",
            [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
              co_await send_json(w, 200,
                                 options.flavor == Flavor::kVllmV1 ? R"({"version":"0.10.1"})"
                                                                   : R"({"version":"0.7.0"})");
            });
      r.get("/ping", health_handler);
      break;
    case Flavor::kSglang: r.get("/health_generate", health_handler); break;
  }
  r.get("/health", health_handler);
  if (!options.metrics_port) r.get("/metrics", metrics_handler);
  r.get("/llmscale/stats",
        [this](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
          co_await send_json(w, 200, stats_json());
        });
  r.set_not_found([flavor](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
    co_await w.send(route_error_response(flavor, ErrorKind::kRouteNotFound));
  });
  r.set_method_not_allowed([flavor](net::ServerRequest&, net::ResponseWriter& w,
                                    std::string allow) -> net::Awaitable<void> {
    net::Response response = route_error_response(flavor, ErrorKind::kMethodNotAllowed);
    response.headers.set("Allow", allow);
    co_await w.send(std::move(response));
  });

  // prometheus_client's start_http_server answers every path; so do the separate listeners.
  metrics_router.add_prefix("GET", "/", metrics_handler);
  accelerator_router.add_prefix("GET", "/", [this](net::ServerRequest& r, net::ResponseWriter& w) {
    return serve_accelerator(r, w);
  });
}

core::Status SimServer::Impl::listen(std::unique_ptr<net::HttpServer>& server, std::uint16_t port,
                                     const net::Router& router) {
  net::ServerOptions o;
  o.address = options.host;
  o.port = port;
  o.max_body_bytes = options.max_body_bytes;
  o.header_timeout = options.header_timeout;
  o.body_timeout = options.body_timeout;
  o.idle_timeout = options.idle_timeout;
  if (options.flavor == Flavor::kTgi) {
    o.server_name = "";
  } else {
    o.server_name = "uvicorn";
  }
  server = std::make_unique<net::HttpServer>(loop, o);
  return server->start(router.handler());
}

void SimServer::Impl::begin_startup() {
  start_time = clock.now();
  phase_index = 0;
  phase_start = start_time;
  if (options.faults.crash_after) {
    timers.push_back(clock.call_after(*options.faults.crash_after, [this] {
      crash("crash fault: " + std::to_string(core::to_seconds(*options.faults.crash_after)) +
            " s after start");
    }));
  }
  if (options.faults.hang_after) {
    timers.push_back(clock.call_after(*options.faults.hang_after, [this] { hang_now(); }));
  }
  next_phase();
}

void SimServer::Impl::next_phase() {
  // Skip zero-length phases synchronously so a server without a cold start is ready at once.
  while (phase_index < phases.size() && phases[phase_index].seconds <= 0) ++phase_index;
  phase_start = clock.now();
  if (phase_index >= phases.size()) {
    become_ready();
    return;
  }
  const engine::StartupPhase& phase = phases[phase_index];
  core::log_info("serve-sim: startup phase " + phase.name + " (" +
                 core::go_format_float(phase.seconds) + " s)");
  timers.push_back(clock.call_after(core::from_seconds(phase.seconds), [this] {
    ++phase_index;
    next_phase();
  }));
}

void SimServer::Impl::become_ready() {
  double load = 0;
  double total = 0;
  for (const auto& phase : phases) {
    total += phase.seconds;
    if (is_weights_phase(phase.name)) load += phase.seconds;
  }
  metrics->on_ready(load, total, clock.now());
  ready = true;
  core::log_info("serve-sim: ready (" + std::string(flavor_name(options.flavor)) + ", model " +
                 model + ", " + std::to_string(engine->memory().num_blocks) + " KV blocks)");
}

MemoryState SimServer::Impl::memory_state(double& progress) const {
  progress = 0;
  if (ready) return MemoryState::kAllocated;
  bool loaded = false;
  for (std::size_t i = 0; i < phases.size() && i <= phase_index; ++i) {
    if (!is_weights_phase(phases[i].name)) continue;
    if (i < phase_index) {
      loaded = true;
    } else {
      double elapsed = core::to_seconds(clock.now() - phase_start);
      progress = phases[i].seconds > 0 ? std::clamp(elapsed / phases[i].seconds, 0.0, 1.0) : 1.0;
      return MemoryState::kLoadingWeights;
    }
  }
  return loaded ? MemoryState::kWeightsLoaded : MemoryState::kContext;
}

void SimServer::Impl::crash(const std::string& reason) {
  if (crashed) return;
  crashed = true;
  ready = false;
  core::log_error("serve-sim: " + reason + "; exiting with " +
                  std::to_string(options.faults.crash_exit_code));
  abort_all();
  if (api_server) api_server->close();
  if (metrics_server) metrics_server->close();
  if (accelerator_server) accelerator_server->close();
  if (options.on_crash) options.on_crash(options.faults.crash_exit_code);
}

void SimServer::Impl::hang_now() {
  if (hung) return;
  core::log_warn("serve-sim: hang fault: no further responses");
  hung = true;
  for (const auto& state : in_flight) state->notifier.notify();
}

net::Awaitable<void> SimServer::Impl::hang_forever(std::shared_ptr<bool> alive_flag) {
  auto waiter = std::make_shared<net::Notifier>();
  hang_waiters.push_back(waiter);
  co_await waiter->wait();  // released only by stop() or the destructor
  (void)alive_flag;
}

bool SimServer::Impl::fail_by_error_rate() {
  if (options.faults.error_rate <= 0) return false;
  rng = core::splitmix64(rng);
  double u = double(rng >> 11) * 0x1.0p-53;
  return u < options.faults.error_rate;
}

net::Awaitable<void> SimServer::Impl::send_json(net::ResponseWriter& writer, int status,
                                                std::string_view body) {
  net::Response response = net::Response::json(status, std::string(body));
  co_await writer.send(std::move(response));
}

net::Awaitable<void> SimServer::Impl::send_error(net::ResponseWriter& writer, Api api,
                                                 ApiError error) {
  ++stats.requests_rejected;
  metrics->on_request_failed(api, error.kind);
  net::Response response = error_response(options.flavor, api, error);
  co_await writer.send(std::move(response));
}

void SimServer::Impl::record_token_lag(const RequestState& state) {
  double lag = std::max(0.0, core::to_seconds(clock.now() - state.last_token_time));
  stats.token_lag_seconds_max = std::max(stats.token_lag_seconds_max, lag);
  stats.token_lag_seconds_total += lag;
  ++stats.token_writes;
}

void SimServer::Impl::finish_request(const std::shared_ptr<RequestState>& state) {
  in_flight.erase(state);
  if (state->disconnected) {
    ++stats.requests_cancelled;
  } else if (state->finished && !state->shut_down) {
    ++stats.requests_completed;
  }
  if (drain_notifier && in_flight.empty()) drain_notifier->notify();
}

void SimServer::Impl::abort_all() {
  std::vector<std::shared_ptr<RequestState>> states(in_flight.begin(), in_flight.end());
  for (const auto& state : states) {
    if (state->finished) continue;
    state->shut_down = true;
    driver->abort(state->id);
    state->finished = true;
    state->reason = engine::FinishReason::kAbort;
    state->notifier.notify();
  }
}

net::Awaitable<void> SimServer::Impl::generate(Api api, net::ServerRequest& request,
                                               net::ResponseWriter& writer) {
  auto alive_flag = alive;
  core::Time arrival = clock.now();
  ++stats.requests_received;
  if (options.faults.crash_after_requests &&
      stats.requests_received >= *options.faults.crash_after_requests) {
    crash("crash fault: request " + std::to_string(stats.requests_received));
    co_return;
  }
  if (hung) {
    co_await hang_forever(alive_flag);
    co_return;
  }
  if (!ready || draining || crashed) {
    ApiError error{ErrorKind::kNotReady,
                   draining ? "The server is shutting down." : "The server is starting up.", "",
                   ""};
    co_await send_error(writer, api, std::move(error));
    co_return;
  }
  if (is_tgi(api) || options.flavor == Flavor::kTgi) {
    // axum's Json extractor: 415 unless the body is declared JSON.
    std::string_view type = request.header("content-type");
    if (type.find("json") == std::string_view::npos) {
      ++stats.requests_rejected;
      net::Response response =
          net::Response::text(415, "Expected request with `Content-Type: application/json`");
      co_await writer.send(std::move(response));
      co_return;
    }
  }
  auto decoded = decode_request(api, request.body, api_context);
  // Bodies that do not decode never reach TGI's handler (axum's extractor answers), so they are
  // not counted in tgi_request_count; refusals by validation are.
  if (decoded || (decoded.error().kind != ErrorKind::kJsonSyntax &&
                  decoded.error().kind != ErrorKind::kSchema)) {
    metrics->on_request_received(api);
  }
  if (!decoded) {
    co_await send_error(writer, api, decoded.error());
    co_return;
  }
  GenerationRequest& gen = *decoded;
  if (max_concurrent > 0 && in_flight.size() >= max_concurrent) {
    ApiError overloaded{ErrorKind::kOverloaded, "Model is overloaded", "", ""};
    co_await send_error(writer, api, std::move(overloaded));
    co_return;
  }
  if (fail_by_error_rate()) {
    std::string message = is_tgi(api) || options.flavor == Flavor::kTgi
                              ? "Request failed during generation: injected fault"
                              : "Internal server error (injected fault)";
    ApiError failure{ErrorKind::kGeneration, message, "", ""};
    co_await send_error(writer, api, std::move(failure));
    co_return;
  }

  auto state = std::make_shared<RequestState>();
  std::weak_ptr<RequestState> weak = state;
  auto submitted = driver->submit(gen.spec, [weak](const engine::EngineEvent& event) {
    auto s = weak.lock();
    if (!s) return;
    switch (event.kind) {
      case engine::EventKind::kFirstToken:
      case engine::EventKind::kToken:
        s->tokens = event.output_tokens;
        s->last_token_time = event.time;
        break;
      case engine::EventKind::kFinished:
        s->finished = true;
        s->reason = event.reason;
        break;
      default: return;
    }
    s->notifier.notify();
  });
  if (!submitted) {
    // The engine's refusals carry vLLM's messages (context window, min_tokens, prefix blocks).
    std::string param = submitted.error().message.find("context length") != std::string::npos
                            ? (api == Api::kChatCompletions ? "messages" : "prompt")
                            : "";
    ApiError refused{ErrorKind::kValidation, submitted.error().message, param, ""};
    co_await send_error(writer, api, std::move(refused));
    co_return;
  }
  state->id = *submitted;
  in_flight.insert(state);
  metrics->on_request_submitted(state->id, gen.max_tokens_param);
  writer.on_disconnect([this, weak, alive_flag] {
    auto s = weak.lock();
    if (!*alive_flag || !s || s->finished) return;
    s->disconnected = true;
    driver->abort(s->id);
    s->notifier.notify();
  });
  std::uint64_t seq = ++sequence;
  OutputFormatter formatter(gen, model, options.seed, seq,
                            std::int64_t(core::to_unix_seconds(arrival)));
  if (gen.stream) {
    co_await stream_out(state, formatter, writer, alive_flag);
  } else {
    co_await reply(state, formatter, writer, alive_flag, api, arrival);
  }
  if (*alive_flag) finish_request(state);
}

net::Awaitable<void> SimServer::Impl::stream_out(std::shared_ptr<RequestState> state,
                                                 OutputFormatter& formatter,
                                                 net::ResponseWriter& writer,
                                                 std::shared_ptr<bool> alive_flag) {
  net::Headers headers;
  headers.add("Content-Type", "text/event-stream; charset=utf-8");
  auto begun = co_await writer.begin_sse(std::move(headers));
  if (!*alive_flag) co_return;
  if (!begun) {
    if (!state->finished) {
      state->disconnected = true;
      driver->abort(state->id);
    }
    co_return;
  }
  std::int64_t sent = 0;
  while (true) {
    if (state->disconnected || state->shut_down) co_return;
    if (hung) {
      co_await hang_forever(alive_flag);
      co_return;
    }
    std::int64_t available = state->tokens;
    if (available > sent || state->finished) {
      bool done = state->finished;
      std::optional<engine::FinishReason> finish;
      if (done && state->reason != engine::FinishReason::kAbort) finish = state->reason;
      std::string chunk;
      if (available > sent) {
        chunk = formatter.stream_tokens(sent + 1, available, finish);
        record_token_lag(*state);
        stats.tokens_sent += std::uint64_t(available - sent);
        sent = available;
      }
      if (done && finish) chunk += formatter.stream_end(sent);
      if (!chunk.empty()) {
        auto written = co_await writer.write(chunk);
        if (!*alive_flag) co_return;
        if (!written) {
          if (!state->finished) {
            state->disconnected = true;
            driver->abort(state->id);
          }
          co_return;
        }
      }
      if (done) co_return;
      continue;
    }
    co_await state->notifier.wait();
    if (!*alive_flag) co_return;
  }
}

net::Awaitable<void> SimServer::Impl::reply(std::shared_ptr<RequestState> state,
                                            OutputFormatter& formatter, net::ResponseWriter& writer,
                                            std::shared_ptr<bool> alive_flag, Api api,
                                            core::Time arrival) {
  while (!state->finished && !state->disconnected) {
    if (hung) break;
    co_await state->notifier.wait();
    if (!*alive_flag) co_return;
  }
  if (hung) {
    co_await hang_forever(alive_flag);
    co_return;
  }
  if (state->disconnected) co_return;
  if (state->reason == engine::FinishReason::kAbort) {
    ApiError error{ErrorKind::kNotReady, "The server is shutting down.", "", ""};
    co_await send_error(writer, api, std::move(error));
    co_return;
  }
  record_token_lag(*state);
  stats.tokens_sent += std::uint64_t(state->tokens);
  net::Response response = formatter.full_response(state->tokens, state->reason);
  if (is_tgi(api)) {
    double total = core::to_seconds(clock.now() - arrival);
    response.headers.add("x-compute-time", core::go_format_float(total));
    response.headers.add("x-total-time", std::to_string(std::int64_t(total * 1000)));
  }
  co_await writer.send(std::move(response));
}

net::Awaitable<void> SimServer::Impl::health(net::ServerRequest& request,
                                             net::ResponseWriter& writer) {
  auto alive_flag = alive;
  if (hung) {
    co_await hang_forever(alive_flag);
    co_return;
  }
  if (!ready || draining || crashed) {
    co_await writer.send(unhealthy_response(options.flavor));
    co_return;
  }
  if (options.flavor == Flavor::kJetStream && request.path == "/v1/health") {
    co_await send_json(writer, 200, "{\n    \"is_live\": \"True\"\n}");
  } else if (options.flavor == Flavor::kNim && request.path == "/v1/health/ready") {
    co_await send_json(writer, 200,
                       R"({"object":"health.response","message":"Service is ready."})");
  } else {
    net::Response ok;
    ok.status = 200;
    co_await writer.send(std::move(ok));
  }
}

net::Awaitable<void> SimServer::Impl::serve_metrics(net::ServerRequest&,
                                                    net::ResponseWriter& writer) {
  auto alive_flag = alive;
  if (hung) {
    co_await hang_forever(alive_flag);
    co_return;
  }
  if (options.faults.metrics_delay > core::Duration::zero()) {
    co_await net::sleep_for(clock, options.faults.metrics_delay);
    if (!*alive_flag) co_return;
  }
  net::Response response;
  response.status = 200;
  response.headers.add("Content-Type", kMetricsContentType);
  if (options.faults.garbage_metrics) {
    response.body =
        "# TYPE vllm:num_requests_waiting gauge\nvllm:num_requests_waiting{model_name=\"" + model +
        "\" 3\n\x01\x02 not { metrics }}}\n";
  } else {
    response.body = metrics->render(engine->stats(), clock.now());
  }
  co_await writer.send(std::move(response));
}

net::Awaitable<void> SimServer::Impl::serve_accelerator(net::ServerRequest&,
                                                        net::ResponseWriter& writer) {
  auto alive_flag = alive;
  if (hung) {
    co_await hang_forever(alive_flag);
    co_return;
  }
  double progress = 0;
  MemoryState state = memory_state(progress);
  net::Response response;
  response.status = 200;
  response.headers.add("Content-Type", kMetricsContentType);
  response.body = accelerator->render(engine->stats(), clock.now(), state, progress);
  co_await writer.send(std::move(response));
}

std::string SimServer::Impl::stats_json() const {
  engine::EngineStats e = engine->stats();
  const engine::DriverStats& d = driver->stats();
  core::Json j = {
      {"flavor", flavor_name(options.flavor)},
      {"model", model},
      {"ready", ready.load()},
      {"draining", draining},
      {"phase", ready ? std::string("ready")
                      : (phase_index < phases.size() ? phases[phase_index].name : "starting")},
      {"requests_received", stats.requests_received},
      {"requests_rejected", stats.requests_rejected},
      {"requests_completed", stats.requests_completed},
      {"requests_cancelled", stats.requests_cancelled},
      {"in_flight", in_flight.size()},
      {"num_running", e.num_running},
      {"num_waiting", e.num_waiting},
      {"kv_usage", e.kv_usage},
      {"tokens_sent", stats.tokens_sent},
      {"token_lag_seconds_max", stats.token_lag_seconds_max},
      {"token_lag_seconds_mean",
       stats.token_writes > 0 ? stats.token_lag_seconds_total / double(stats.token_writes) : 0.0},
      {"token_writes", stats.token_writes},
      {"steps", d.steps},
      {"step_lag_seconds_max", d.lag_seconds_max},
      {"step_lag_seconds_mean", d.steps > 0 ? d.lag_seconds_total / double(d.steps) : 0.0},
  };
  return core::to_compact_json(j);
}

// SimServer.

SimServer::SimServer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

core::Result<std::unique_ptr<SimServer>> SimServer::create(net::EventLoop& loop, core::Clock& clock,
                                                           SimServerOptions options) {
  auto impl = std::make_unique<Impl>(loop, clock, std::move(options));
  if (auto s = impl->build(); !s) return tl::unexpected(s.error());
  return std::unique_ptr<SimServer>(new SimServer(std::move(impl)));
}

SimServer::~SimServer() {
  Impl& m = *impl_;
  *m.alive = false;
  for (auto id : m.timers) m.clock.cancel(id);
  // Close the sockets first: handlers woken below then find their writers failing.
  if (m.api_server) m.api_server->close();
  if (m.metrics_server) m.metrics_server->close();
  if (m.accelerator_server) m.accelerator_server->close();
  for (const auto& state : m.in_flight) {
    state->shut_down = true;
    state->notifier.notify();
  }
  for (const auto& waiter : m.hang_waiters) waiter->notify();
  if (m.drain_notifier) m.drain_notifier->notify();
}

core::Status SimServer::start() {
  Impl& m = *impl_;
  if (m.started) return core::make_error(core::ErrorCode::kFailedPrecondition, "already started");
  if (m.options.listen) {
    if (auto s = m.listen(m.api_server, m.options.port, m.api_router); !s) return s;
    if (m.options.metrics_port) {
      if (auto s = m.listen(m.metrics_server, *m.options.metrics_port, m.metrics_router); !s) {
        return s;
      }
    }
    if (m.accelerator) {
      if (auto s = m.listen(m.accelerator_server, m.options.accelerator_metrics_port,
                            m.accelerator_router);
          !s) {
        return s;
      }
    }
  }
  m.started = true;
  m.begin_startup();
  return {};
}

net::Awaitable<void> SimServer::stop(core::Duration grace) {
  Impl& m = *impl_;
  auto alive_flag = m.alive;
  if (m.draining) co_return;
  m.draining = true;
  m.ready = false;
  core::log_info("serve-sim: draining " + std::to_string(m.in_flight.size()) + " requests (grace " +
                 core::go_format_float(core::to_seconds(grace)) + " s)");
  // Stop accepting; connections with a request in progress may finish it.
  auto drain = std::make_shared<net::Notifier>();
  m.drain_notifier = drain;
  auto timed_out = std::make_shared<bool>(false);
  auto timer = m.clock.call_after(grace, [drain, timed_out] {
    *timed_out = true;
    drain->notify();
  });
  while (!m.in_flight.empty() && !*timed_out) {
    co_await drain->wait();
    if (!*alive_flag) co_return;
  }
  m.clock.cancel(timer);
  if (!m.in_flight.empty()) {
    core::log_warn("serve-sim: aborting " + std::to_string(m.in_flight.size()) +
                   " requests still running after the grace period");
    m.abort_all();
  }
  for (const auto& waiter : m.hang_waiters) waiter->notify();
  m.hang_waiters.clear();
  auto short_grace = std::chrono::seconds(2);
  if (m.api_server) co_await m.api_server->stop(short_grace);
  if (!*alive_flag) co_return;
  if (m.metrics_server) co_await m.metrics_server->stop(short_grace);
  if (!*alive_flag) co_return;
  if (m.accelerator_server) co_await m.accelerator_server->stop(short_grace);
}

void SimServer::request_stop(core::Duration grace, std::function<void()> done) {
  Impl* m = impl_.get();
  m->loop.post([this, grace, done = std::move(done)] {
    net::spawn(
        impl_->loop,
        [](SimServer* server, core::Duration g, std::function<void()> d) -> net::Awaitable<void> {
          co_await server->stop(g);
          if (d) d();
        }(this, grace, done),
        "sim-server-stop");
  });
}

void SimServer::close() {
  Impl& m = *impl_;
  m.abort_all();
  if (m.api_server) m.api_server->close();
  if (m.metrics_server) m.metrics_server->close();
  if (m.accelerator_server) m.accelerator_server->close();
}

SimServerPorts SimServer::ports() const {
  SimServerPorts p;
  if (impl_->api_server) p.api = impl_->api_server->port();
  if (impl_->metrics_server) p.metrics = impl_->metrics_server->port();
  if (impl_->accelerator_server) p.accelerator = impl_->accelerator_server->port();
  return p;
}

bool SimServer::ready() const {
  return impl_->ready.load();
}
bool SimServer::crashed() const {
  return impl_->crashed.load();
}

std::string SimServer::phase() const {
  const Impl& m = *impl_;
  if (m.ready) return "ready";
  if (m.phase_index < m.phases.size()) return m.phases[m.phase_index].name;
  return m.started ? "ready" : "not started";
}

std::string SimServer::metrics_text() {
  return impl_->metrics->render(impl_->engine->stats(), impl_->clock.now());
}

std::string SimServer::accelerator_metrics_text() {
  Impl& m = *impl_;
  if (!m.accelerator) return {};
  double progress = 0;
  MemoryState state = m.memory_state(progress);
  return m.accelerator->render(m.engine->stats(), m.clock.now(), state, progress);
}

SimServerStats SimServer::stats() const {
  SimServerStats s = impl_->stats;
  s.in_flight = impl_->in_flight.size();
  s.driver = impl_->driver->stats();
  return s;
}

engine::EngineStats SimServer::engine_stats() const {
  return impl_->engine->stats();
}

const SimServerOptions& SimServer::options() const {
  return impl_->options;
}

net::Handler SimServer::handler() const {
  return impl_->api_router.handler();
}
net::Handler SimServer::metrics_handler() const {
  return impl_->metrics_router.handler();
}
net::Handler SimServer::accelerator_handler() const {
  return impl_->accelerator_router.handler();
}

}  // namespace llmscale::server
