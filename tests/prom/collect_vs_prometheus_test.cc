// Proof against the real thing: Debian's `prometheus` (2.42) and `llmscale collect` run side by
// side, scrape the same loopback targets with the same prometheus.yml, and answer the same
// adapter-style queries the same way. Both are asked through RemoteQueryEngine (so this also
// proves our client against Prometheus and our HTTP API against our client), and through
// `promtool query instant` (a real Prometheus client against our API).
//
// Making two scrapers see identical samples: the targets serve vLLM-style payloads whose values
// are a function of a 1 s step with the step's start as explicit timestamp; both scrape every
// 100 ms and honor timestamps, so both store exactly one sample per step (a repeated
// (timestamp, value) is dropped as a duplicate by both). Targets serve an empty page until both
// scrapers see all targets up; from then on (step s0) every step is in both stores, and the
// queries are evaluated at steps after s0 only. Values must agree within 1e-9 relative, label
// sets exactly.
//
// Bounded: every wait has a deadline; processes are stopped by PID (SIGTERM, then SIGKILL).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include <gtest/gtest.h>

#include "core/time.h"
#include "net/event_loop.h"
#include "net/http.h"
#include "net/router.h"
#include "net/server.h"
#include "prom/api/remote_engine.h"
#include "support/process.h"

namespace llmscale::prom {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

// A child process with output to a file; stopped by PID when destroyed.
class Child {
 public:
  Child(const std::vector<std::string>& argv, const fs::path& log) : log_(log) {
    pid_ = fork();
    if (pid_ == 0) {
      FILE* out = std::fopen(log.c_str(), "w");
      if (out) {
        dup2(fileno(out), 1);
        dup2(fileno(out), 2);
      }
      std::vector<char*> args;
      for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
  }
  ~Child() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      std::this_thread::sleep_for(50ms);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  std::string log() const {
    std::ifstream in(log_);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
  }

 private:
  pid_t pid_ = -1;
  fs::path log_;
};

constexpr int kPods = 3;
constexpr std::int64_t kStepMs = 1000;

// The payload of pod `pod` at step `step` (s0 = 0), timestamped at the step's start.
std::string payload(int pod, std::int64_t step, std::int64_t ts_ms) {
  std::ostringstream o;
  o.precision(17);
  std::string ts = " " + std::to_string(ts_ms) + "\n";
  std::string labels = "{model_name=\"llama\",engine=\"0\"}";
  o << "# HELP vllm:num_requests_waiting Number of requests waiting to be processed.\n"
    << "# TYPE vllm:num_requests_waiting gauge\n"
    << "vllm:num_requests_waiting" << labels << " " << (pod + 1) * ((step % 5) + 1) << ts
    << "# HELP vllm:num_requests_running Number of requests in model execution batches.\n"
    << "# TYPE vllm:num_requests_running gauge\n"
    << "vllm:num_requests_running" << labels << " " << 3 + pod + (step % 3) << ts
    << "# HELP vllm:gpu_cache_usage_perc GPU KV-cache usage. 1 means 100 percent usage.\n"
    << "# TYPE vllm:gpu_cache_usage_perc gauge\n"
    << "vllm:gpu_cache_usage_perc" << labels << " " << 0.1 * pod + 0.07 * (step % 7) << ts
    << "# HELP vllm:prompt_tokens_total Number of prefill tokens processed.\n"
    << "# TYPE vllm:prompt_tokens_total counter\n"
    << "vllm:prompt_tokens_total" << labels << " " << 1000 * pod + 137 * step + step * step << ts;
  // A histogram whose counts grow differently per bucket.
  static const char* les[] = {"0.3", "0.5", "1", "2.5", "5", "+Inf"};
  o << "# HELP vllm:e2e_request_latency_seconds Histogram of end to end request latency.\n"
    << "# TYPE vllm:e2e_request_latency_seconds histogram\n";
  std::int64_t cumulative = 0;
  for (int b = 0; b < 6; ++b) {
    cumulative += (b + 1) * step * (pod + 1) + (b == 2 ? 3 * step : 0);
    o << "vllm:e2e_request_latency_seconds_bucket{model_name=\"llama\",engine=\"0\",le=\"" << les[b]
      << "\"} " << cumulative << ts;
  }
  o << "vllm:e2e_request_latency_seconds_sum" << labels << " " << 1.25 * cumulative << ts
    << "vllm:e2e_request_latency_seconds_count" << labels << " " << cumulative << ts;
  return o.str();
}

std::int64_t now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

bool close_enough(double a, double b) {
  if (std::isnan(a) || std::isnan(b)) return std::isnan(a) && std::isnan(b);
  if (a == b) return true;
  return std::fabs(a - b) <= 1e-9 * std::max(std::fabs(a), std::fabs(b));
}

std::string show(const Labels& l) {
  return l.to_string();
}

// Compares two results: type, label sets (order-insensitive for vectors), values.
void expect_same(const QueryResult& ours, const QueryResult& theirs, const std::string& what) {
  ASSERT_EQ(ours.type(), theirs.type()) << what;
  if (ours.type() == ResultType::kVector) {
    auto a = ours.vector();
    auto b = theirs.vector();
    auto by_labels = [](const VectorSample& x, const VectorSample& y) {
      return show(x.metric) < show(y.metric);
    };
    std::sort(a.begin(), a.end(), by_labels);
    std::sort(b.begin(), b.end(), by_labels);
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(show(a[i].metric), show(b[i].metric)) << what;
      EXPECT_TRUE(close_enough(a[i].value, b[i].value))
          << what << " " << show(a[i].metric) << ": ours " << a[i].value << " prometheus "
          << b[i].value;
      EXPECT_EQ(a[i].t, b[i].t) << what;
    }
  } else if (ours.type() == ResultType::kMatrix) {
    const auto& a = ours.matrix();
    const auto& b = theirs.matrix();
    ASSERT_EQ(a.size(), b.size()) << what;
    for (std::size_t i = 0; i < a.size(); ++i) {
      EXPECT_EQ(show(a[i].metric), show(b[i].metric)) << what;
      ASSERT_EQ(a[i].points.size(), b[i].points.size()) << what << " " << show(a[i].metric);
      for (std::size_t j = 0; j < a[i].points.size(); ++j) {
        EXPECT_EQ(a[i].points[j].t, b[i].points[j].t) << what;
        EXPECT_TRUE(close_enough(a[i].points[j].v, b[i].points[j].v))
            << what << " " << show(a[i].metric) << " @" << a[i].points[j].t << ": ours "
            << a[i].points[j].v << " prometheus " << b[i].points[j].v;
      }
    }
  } else if (ours.type() == ResultType::kScalar) {
    EXPECT_TRUE(close_enough(ours.scalar().value, theirs.scalar().value)) << what;
  }
}

class CollectVsPrometheusTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::program_on_path("prometheus") ||
        !llmscale::testing::program_on_path("promtool")) {
      GTEST_SKIP() << "prometheus/promtool not installed (scripts/install-deps.sh)";
    }
    dir_ = fs::temp_directory_path() / ("llmscale-collect-vs-prom-" + std::to_string(getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_ / "tsdb");
  }
  void TearDown() override {
    if (!dir_.empty()) fs::remove_all(dir_);
  }
  fs::path dir_;
};

TEST_F(CollectVsPrometheusTest, SameScrapesSameAnswers) {
  // Targets: one server per pod, serving an empty page until `start_step` is set.
  std::atomic<std::int64_t> start_step{-1};
  net::EventLoop target_loop(1);
  std::vector<std::unique_ptr<net::HttpServer>> targets;
  for (int pod = 0; pod < kPods; ++pod) {
    net::Router router;
    router.get(
        "/metrics",
        [pod, &start_step](net::ServerRequest&, net::ResponseWriter& w) -> net::Awaitable<void> {
          std::int64_t s0 = start_step.load();
          std::string body;
          if (s0 >= 0) {
            std::int64_t step_abs = now_ms() / kStepMs;
            if (step_abs >= s0) body = payload(pod, step_abs - s0, step_abs * kStepMs);
          }
          net::Response r = net::Response::text(200, std::move(body));
          r.headers.set("Content-Type", "text/plain; version=0.0.4");
          co_await w.send(std::move(r));
        });
    net::ServerOptions options;
    auto server = std::make_unique<net::HttpServer>(target_loop, options);
    ASSERT_TRUE(server->start(router.handler()));
    targets.push_back(std::move(server));
  }
  target_loop.start();

  std::ostringstream config;
  config << "global:\n  scrape_interval: 100ms\n  scrape_timeout: 100ms\n"
         << "scrape_configs:\n- job_name: vllm\n  static_configs:\n";
  for (int pod = 0; pod < kPods; ++pod) {
    config << "  - targets: ['127.0.0.1:" << targets[pod]->port() << "']\n"
           << "    labels: {pod: vllm-" << pod << "}\n";
  }
  {
    std::ofstream out(dir_ / "prometheus.yml");
    out << config.str();
  }
  std::uint16_t prom_port = free_port();
  std::uint16_t ours_port = free_port();
  Child prometheus(
      {"prometheus", "--config.file=" + (dir_ / "prometheus.yml").string(),
       "--storage.tsdb.path=" + (dir_ / "tsdb").string(),
       "--web.listen-address=127.0.0.1:" + std::to_string(prom_port), "--log.level=warn"},
      dir_ / "prometheus.log");
  Child collect({LLMSCALE_BINARY, "collect", "--config", (dir_ / "prometheus.yml").string(),
                 "--listen", "127.0.0.1:" + std::to_string(ours_port)},
                dir_ / "collect.log");

  net::EventLoop client_loop(1);
  client_loop.start();
  RemoteEngineOptions prom_options;
  prom_options.base_url = "http://127.0.0.1:" + std::to_string(prom_port);
  prom_options.timeout = 5s;
  RemoteEngineOptions ours_options = prom_options;
  ours_options.base_url = "http://127.0.0.1:" + std::to_string(ours_port);
  auto prom = RemoteQueryEngine::create(client_loop, prom_options);
  ASSERT_TRUE(prom) << prom.error().message;
  auto ours = RemoteQueryEngine::create(client_loop, ours_options);
  ASSERT_TRUE(ours) << ours.error().message;

  // Both up, all targets scraped at least once.
  auto all_up = [&](QueryEngine& e) {
    auto r = e.instant_query("sum(up)", core::wall_now());
    return r && r->type() == ResultType::kVector && r->vector().size() == 1 &&
           r->vector()[0].value == kPods;
  };
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!(all_up(**prom) && all_up(**ours))) {
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "prometheus log:\n"
                                                          << prometheus.log() << "\ncollect log:\n"
                                                          << collect.log();
    std::this_thread::sleep_for(100ms);
  }
  const std::int64_t s0 = now_ms() / kStepMs + 1;
  start_step = s0;
  constexpr std::int64_t kSteps = 9;
  // Wait until the last step has been scraped by both (plus slack for ingestion).
  while (now_ms() < (s0 + kSteps) * kStepMs + 600) std::this_thread::sleep_for(50ms);

  auto at = [&](std::int64_t step) { return core::from_unix_millis((s0 + step) * kStepMs); };
  const std::vector<std::string> exprs = {
      "vllm:num_requests_waiting",
      "avg(vllm:num_requests_waiting{model_name=\"llama\"}) by (pod)",
      "sum(vllm:num_requests_running) / sum(vllm:num_requests_waiting)",
      "vllm:num_requests_running / vllm:num_requests_waiting",
      "vllm:num_requests_running / on(pod) group_left vllm:gpu_cache_usage_perc",
      "rate(vllm:prompt_tokens_total[1m])",
      "sum by (pod) (increase(vllm:prompt_tokens_total[4s]))",
      "irate(vllm:prompt_tokens_total[1m])",
      "histogram_quantile(0.9, sum by (le) (rate(vllm:e2e_request_latency_seconds_bucket[1m])))",
      "histogram_quantile(0.5, sum by (le, pod) "
      "(rate(vllm:e2e_request_latency_seconds_bucket[1m])))",
      "max_over_time(vllm:gpu_cache_usage_perc[3s])",
      "avg_over_time(vllm:num_requests_waiting[5s])",
      "topk(2, vllm:num_requests_waiting)",
      "sum(rate(vllm:e2e_request_latency_seconds_sum[1m])) / "
      "sum(rate(vllm:e2e_request_latency_seconds_count[1m]))",
      "count by (job) (up)",
      "vllm:num_requests_waiting > bool 4",
      "scalar(sum(vllm:num_requests_running))",
  };
  int compared = 0;
  for (const auto& expr : exprs) {
    for (std::int64_t step : {2, 5, 8}) {
      auto a = (*ours)->instant_query(expr, at(step));
      auto b = (*prom)->instant_query(expr, at(step));
      ASSERT_TRUE(a) << expr << ": " << a.error().message;
      ASSERT_TRUE(b) << expr << ": " << b.error().message;
      expect_same(*a, *b, expr + " @ step " + std::to_string(step));
      // Every expression here has an answer: an empty match would prove nothing.
      EXPECT_TRUE(a->type() != ResultType::kVector || !a->vector().empty()) << expr;
      ++compared;
    }
    auto a = (*ours)->range_query(expr, at(1), at(8), 1s);
    auto b = (*prom)->range_query(expr, at(1), at(8), 1s);
    ASSERT_TRUE(a) << expr << ": " << a.error().message;
    ASSERT_TRUE(b) << expr << ": " << b.error().message;
    expect_same(*a, *b, expr + " range");
    ASSERT_EQ(a->type(), ResultType::kMatrix) << expr;
    ASSERT_FALSE(a->matrix().empty()) << expr;
    EXPECT_GE(a->matrix()[0].points.size(), 7u) << expr;
    ++compared;
  }
  EXPECT_EQ(compared, static_cast<int>(exprs.size()) * 4);

  // Series and label metadata over the data steps.
  {
    auto a = (*ours)->series({"vllm:num_requests_waiting"}, at(0), at(8));
    auto b = (*prom)->series({"vllm:num_requests_waiting"}, at(0), at(8));
    ASSERT_TRUE(a && b);
    std::vector<std::string> sa, sb;
    for (const auto& l : *a) sa.push_back(show(l));
    for (const auto& l : *b) sb.push_back(show(l));
    std::sort(sa.begin(), sa.end());
    std::sort(sb.begin(), sb.end());
    EXPECT_EQ(sa, sb);
    auto va = (*ours)->label_values("pod", {"vllm:prompt_tokens_total"}, at(0), at(8));
    auto vb = (*prom)->label_values("pod", {"vllm:prompt_tokens_total"}, at(0), at(8));
    ASSERT_TRUE(va && vb);
    EXPECT_EQ(*va, *vb);
  }

  // A malformed query: the same error type from both.
  {
    auto a = (*ours)->instant_query("sum(rate(x[1m])", at(8));
    auto b = (*prom)->instant_query("sum(rate(x[1m])", at(8));
    ASSERT_FALSE(a);
    ASSERT_FALSE(b);
    EXPECT_EQ(api_error_type(a.error()), api_error_type(b.error()))
        << a.error().message << " vs " << b.error().message;
  }

  // promtool, a real Prometheus API client, against both: the same lines (order aside).
  for (const std::string expr :
       {"vllm:num_requests_waiting", "sum by (pod) (rate(vllm:prompt_tokens_total[1m]))"}) {
    std::string time = std::to_string((s0 + 6) * kStepMs / 1000);
    auto run = [&](std::uint16_t port) {
      auto r = llmscale::testing::run_process({"promtool", "query", "instant", "--time=" + time,
                                               "http://127.0.0.1:" + std::to_string(port), expr},
                                              "", 20s);
      EXPECT_EQ(r.exit_code, 0) << r.output;
      std::vector<std::string> lines;
      std::istringstream in(r.output);
      for (std::string line; std::getline(in, line);) lines.push_back(line);
      std::sort(lines.begin(), lines.end());
      return lines;
    };
    auto ours_lines = run(ours_port);
    auto prom_lines = run(prom_port);
    EXPECT_FALSE(ours_lines.empty()) << expr;
    EXPECT_EQ(ours_lines, prom_lines) << expr;
  }

  target_loop.stop();
  target_loop.join();
}

}  // namespace
}  // namespace llmscale::prom
