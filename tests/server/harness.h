// Test harness for the simulated server: a SimServer on a SimulatedClock whose handlers are
// driven through net::RecordingResponseWriter (no sockets), stepping the clock timer by timer
// so every token is written at its own simulated time; plus golden-file comparison.
// Set LLMSCALE_UPDATE_GOLDEN=1 to rewrite tests/server/golden/ after an intended change.
#pragma once

#include <cstdlib>
#include <deque>
#include <fstream>
#include <memory>
#include <sstream>
#include <string>

#include <gtest/gtest.h>
#include <boost/asio/io_context.hpp>

#include "core/clock.h"
#include "engine/profile.h"
#include "net/event_loop.h"
#include "net/recording_writer.h"
#include "server/profile_files.h"
#include "server/sim_server.h"

namespace llmscale::server::testing {

inline std::string source_path(const std::string& relative) {
  return std::string(LLMSCALE_SOURCE_DIR) + "/" + relative;
}

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

inline void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = source_path("tests/server/golden/" + name);
  const char* update = std::getenv("LLMSCALE_UPDATE_GOLDEN");
  if (update != nullptr && std::string(update) == "1") {
    std::ofstream(path, std::ios::binary) << actual;
    return;
  }
  std::string expected = read_file(path);
  EXPECT_EQ(expected, actual) << "golden file " << path
                              << " differs (LLMSCALE_UPDATE_GOLDEN=1 rewrites it)";
}

inline engine::Profile load_profile(const std::string& name) {
  auto profile = server::load_profile(source_path("profiles"), name);
  EXPECT_TRUE(profile.has_value()) << (profile ? "" : profile.error().to_string());
  return profile ? *profile : engine::Profile{};
}

// Options for handler tests: no listeners, no cold start, no jitter.
inline SimServerOptions test_options(Flavor flavor,
                                     const std::string& profile = "llama-3.1-8b-h100") {
  SimServerOptions o;
  o.flavor = flavor;
  o.profile = load_profile(profile);
  o.listen = false;
  o.startup = std::vector<engine::StartupPhase>{};
  o.seed = 7;
  return o;
}

// One request through the handler, with its recorded response.
struct Call {
  net::ServerRequest request;
  net::RecordingResponseWriter writer;
  bool done = false;
};

class Harness {
 public:
  explicit Harness(SimServerOptions options) {
    auto created = SimServer::create(loop_, clock_, std::move(options));
    EXPECT_TRUE(created.has_value()) << (created ? "" : created.error().to_string());
    if (created) server_ = std::move(*created);
    if (server_) {
      auto started = server_->start();
      EXPECT_TRUE(started.has_value());
    }
  }
  ~Harness() {
    server_.reset();
    settle();
  }

  SimServer& server() { return *server_; }
  core::SimulatedClock& clock() { return clock_; }
  net::EventLoop& loop() { return loop_; }

  // Starts a request on `handler` (default: the API handler); returns its call record.
  Call& send(std::string method, std::string target, std::string body = "",
             std::string content_type = "application/json", net::Handler handler = {}) {
    calls_.push_back(std::make_unique<Call>());
    Call& call = *calls_.back();
    call.request.method = std::move(method);
    EXPECT_TRUE(call.request.set_target(std::move(target)).has_value());
    if (!content_type.empty()) call.request.headers.add("Content-Type", content_type);
    call.request.body = std::move(body);
    net::Handler h = handler ? handler : server_->handler();
    net::spawn(loop_, run(std::move(h), call), "test-call");
    settle();
    return call;
  }
  Call& post(std::string target, std::string body) {
    return send("POST", std::move(target), std::move(body));
  }
  Call& get(std::string target) { return send("GET", std::move(target), "", ""); }

  // Runs every ready handler.
  void settle() {
    for (int i = 0; i < 1000; ++i) {
      if (loop_.poll() == 0) break;
    }
  }
  // Fires timers one deadline at a time (settling in between) up to `now + d`.
  void advance(core::Duration d) {
    core::Time target = clock_.now() + d;
    while (auto next = clock_.next_deadline()) {
      if (*next > target) break;
      clock_.run_next();
      settle();
    }
    clock_.advance_to(target);
    settle();
  }
  // Fires timers until `call` is done (or nothing is pending).
  void finish(Call& call, int max_timers = 1000000) {
    settle();
    for (int i = 0; i < max_timers && !call.done; ++i) {
      if (!clock_.run_next()) break;
      settle();
    }
  }
  // Fires timers until every call is done.
  void finish_all() {
    settle();
    while (!all_done() && clock_.run_next()) settle();
  }
  bool all_done() const {
    for (const auto& c : calls_) {
      if (!c->done) return false;
    }
    return true;
  }

 private:
  static net::Awaitable<void> run(net::Handler handler, Call& call) {
    co_await handler(call.request, call.writer);
    call.done = true;
  }

  net::EventLoop loop_{1};
  core::SimulatedClock clock_;
  std::unique_ptr<SimServer> server_;
  std::deque<std::unique_ptr<Call>> calls_;
};

}  // namespace llmscale::server::testing
