// Simulated-server costs without sockets (the socket path is bench/server_http.sh):
//  * one non-streaming and one streaming completion through the API handler on the zero-time
//    profile (decode, engine submit/steps, formatting, writer) on a SimulatedClock;
//  * a /metrics scrape per flavor after a small workload (the TGI flavor prints ~1,700 lines).
// Run from the repository root or the build directory (profiles are found upward).
#include <cstdlib>

#include <benchmark/benchmark.h>

#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "core/log.h"
#include "engine/profile.h"
#include "net/event_loop.h"
#include "net/recording_writer.h"
#include "server/profile_files.h"
#include "server/sim_server.h"

namespace {

using namespace llmscale;

engine::Profile load(const std::string& name) {
  const char* env = std::getenv("LLMSCALE_PROFILES");
  std::string dir = env != nullptr ? env : "";
  auto profile = server::load_profile(
      dir, name == "zero-time" ? dir + "/../bench/server_zero_time.yaml" : name);
  if (!profile) {
    std::fprintf(stderr, "%s\n", profile.error().to_string().c_str());
    std::abort();
  }
  return *profile;
}

struct Rig {
  explicit Rig(server::Flavor flavor, const std::string& profile = "zero-time") {
    core::set_log_level(core::LogLevel::kWarn);  // no "ready" line per benchmark run
    server::SimServerOptions o;
    o.flavor = flavor;
    o.profile = load(profile);
    o.listen = false;
    o.startup = std::vector<engine::StartupPhase>{};
    server = server::SimServer::create(loop, clock, std::move(o)).value();
    (void)server->start();
    handler = server->handler();
  }
  void settle() {
    while (loop.poll() > 0) {
    }
  }
  // Runs one request to completion.
  std::size_t call(const std::string& target, const std::string& body) {
    net::ServerRequest request;
    request.method = "POST";
    (void)request.set_target(target);
    request.headers.add("Content-Type", "application/json");
    request.body = body;
    net::RecordingResponseWriter writer;
    bool done = false;
    net::spawn(loop, run(handler, request, writer, done));
    settle();
    while (!done && clock.run_next()) settle();
    return writer.body().size();
  }
  static net::Awaitable<void> run(net::Handler h, net::ServerRequest& r,
                                  net::RecordingResponseWriter& w, bool& done) {
    co_await h(r, w);
    done = true;
  }

  net::EventLoop loop{1};
  core::SimulatedClock clock;
  std::unique_ptr<server::SimServer> server;
  net::Handler handler;
};

void BM_CompletionHandler(benchmark::State& state) {
  Rig rig(server::Flavor::kVllmV1);
  bool stream = state.range(0) != 0;
  std::string body = std::string(R"({"prompt":"San Francisco is a","max_tokens":16,"stream":)") +
                     (stream ? "true" : "false") + "}";
  std::size_t bytes = 0;
  for (auto _ : state) bytes += rig.call("/v1/completions", body);
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(std::int64_t(bytes));
  state.SetLabel(stream ? "stream, 16 tokens" : "non-stream, 16 tokens");
}
BENCHMARK(BM_CompletionHandler)->Arg(0)->Arg(1);

void BM_MetricsScrape(benchmark::State& state) {
  auto flavor = static_cast<server::Flavor>(state.range(0));
  Rig rig(flavor, "llama-3.1-8b-h100");
  std::string target = flavor == server::Flavor::kTgi         ? "/generate"
                       : flavor == server::Flavor::kJetStream ? "/generate"
                                                              : "/v1/completions";
  std::string body = flavor == server::Flavor::kTgi
                         ? R"({"inputs":"x","parameters":{"max_new_tokens":20}})"
                     : flavor == server::Flavor::kJetStream ? R"({"prompt":"x","max_tokens":20})"
                                                            : R"({"prompt":"x","max_tokens":20})";
  for (int i = 0; i < 20; ++i) rig.call(target, body);
  std::size_t bytes = 0;
  for (auto _ : state) bytes += rig.server->metrics_text().size();
  state.SetBytesProcessed(std::int64_t(bytes));
  state.SetLabel(std::string(server::flavor_name(flavor)));
}
BENCHMARK(BM_MetricsScrape)->DenseRange(0, 5);

}  // namespace
