// `llmscale route` as a process: it serves through to a backend, answers its own /metrics,
// stops cleanly on SIGTERM, and rejects bad flags with exit code 2.
#include <gtest/gtest.h>

#include <signal.h>

#include "net/client.h"
#include "net/server.h"
#include "net/tcp.h"
#include "net/test_util.h"
#include "support/process.h"

namespace llmscale::router {
namespace {

using namespace std::chrono_literals;
using llmscale::testing::Process;
using llmscale::testing::TempDir;

std::uint16_t free_port(net::EventLoop& loop) {
  auto listener = net::TcpListener::listen(loop);
  EXPECT_TRUE(listener.has_value());
  std::uint16_t port = listener->port();
  listener->close();
  return port;
}

// Waits (driving the loop, polled every 50 ms at most) until the process has exited.
bool wait_exit(net::EventLoop& loop, Process& process) {
  return loop.run_until([&] { return process.poll(); }, 10s);
}

TEST(RouteCliTest, ServesThroughToABackendAndStopsOnSigterm) {
  if (!llmscale::testing::have_program(LLMSCALE_BINARY)) GTEST_SKIP() << "llmscale not built";
  net::EventLoop loop;
  net::HttpServer backend(loop, net::ServerOptions());
  ASSERT_OK(
      backend.start([](net::ServerRequest& r, net::ResponseWriter& w) -> net::Awaitable<void> {
        co_await w.send(net::Response::json(200, R"({"path":")" + r.path + R"("})"));
      }));
  TempDir dir;
  std::uint16_t port = free_port(loop);
  std::string listen = "127.0.0.1:" + std::to_string(port);
  auto process =
      Process::start({LLMSCALE_BINARY, "route", "--listen", listen, "--backend",
                      "sim=http://127.0.0.1:" + std::to_string(backend.port()), "--health-path",
                      "/health", "--health-interval", "100ms", "--threads", "1"},
                     dir);
  ASSERT_TRUE(process.has_value());

  // The router comes up, probes the backend ready, then forwards.
  net::HttpClient client(loop);
  std::optional<net::Response> answer;
  net::testing::run(loop, [&]() -> net::Awaitable<void> {
    for (int attempt = 0; attempt < 200 && !answer; ++attempt) {
      auto r = co_await client.request(
          net::Request::post("http://" + listen + "/v1/completions", "{}", "application/json"));
      if (r && r->status == 200) answer = std::move(*r);
      if (!answer) co_await net::sleep_for(50ms);  // the process is starting
    }
  }());
  ASSERT_TRUE(answer.has_value()) << process->errors();
  EXPECT_EQ(answer->body, R"({"path":"/v1/completions"})");
  EXPECT_EQ(answer->headers.value("X-Llmscale-Backend"), "sim");
  std::string metrics;
  net::testing::run(loop, [&]() -> net::Awaitable<void> {
    auto r = co_await client.request(net::Request::get("http://" + listen + "/metrics"));
    CO_ASSERT_OK(r);
    metrics = r->body;
  }());
  EXPECT_NE(
      metrics.find(
          R"(llmscale_router_requests_total{route="completions",backend="sim",code="200"} 1)"),
      std::string::npos);

  ::kill(process->pid(), SIGTERM);
  ASSERT_TRUE(wait_exit(loop, *process));
  EXPECT_EQ(process->exit_code(), 0) << process->errors();
  EXPECT_NE(process->errors().find("backend sim is ready"), std::string::npos);
}

TEST(RouteCliTest, RejectsBadFlags) {
  if (!llmscale::testing::have_program(LLMSCALE_BINARY)) GTEST_SKIP() << "llmscale not built";
  net::EventLoop loop;
  TempDir dir;
  struct Case {
    std::vector<std::string> args;
    std::string message;
  };
  std::vector<Case> cases = {
      {{"--backend", "http://127.0.0.1:1", "--policy", "random"}, "unknown balancing policy"},
      {{"--backend", "ftp://h:1"}, "unsupported scheme"},
      {{"--backend", "http://127.0.0.1:1", "--listen", "x:y"}, "--listen"},
      {{"--backend", "http://127.0.0.1:1", "--queue-timeout", "soon"}, "--queue-timeout"},
      {{"--backend", "a=http://127.0.0.1:1", "--backend", "a=http://127.0.0.1:2"},
       "already exists"},
  };
  for (const auto& c : cases) {
    std::vector<std::string> argv = {LLMSCALE_BINARY, "route"};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto process = Process::start(argv, dir);
    ASSERT_TRUE(process.has_value());
    ASSERT_TRUE(wait_exit(loop, *process));
    EXPECT_EQ(process->exit_code(), 2) << c.message;
    EXPECT_NE(process->errors().find(c.message), std::string::npos) << process->errors();
  }
}

}  // namespace
}  // namespace llmscale::router
