// Saturation shape through the HTTP layer on a SimulatedClock: closed-loop clients at rising
// concurrency against a server with 32 decode slots. Below capacity the queue stays empty and
// TTFT flat; beyond it ITL plateaus (the batch cannot grow) while TTFT and
// vllm:num_requests_waiting grow with the excess clients, as vLLM does past saturation. The
// numbers come from the server's own /metrics (TTFT and TPOT histogram sums and counts).
#include <gtest/gtest.h>

#include "harness.h"
#include "prom/exposition/parser.h"

namespace llmscale::server {
namespace {

using namespace std::chrono_literals;
using testing::Call;
using testing::Harness;
using testing::test_options;

struct Point {
  int concurrency = 0;
  double ttft = 0;     // mean, s
  double itl = 0;      // mean time per output token, s
  double waiting = 0;  // mean vllm:num_requests_waiting
  double completed_per_s = 0;
};

// Sum and count of a histogram family in a vLLM scrape.
std::pair<double, double> histogram_totals(const std::string& text, const std::string& family) {
  auto parsed = prom::parse_exposition(text, prom::ExpositionFormat::kPrometheusText);
  EXPECT_TRUE(parsed.has_value());
  double sum = 0, count = 0;
  for (const auto& f : parsed->families) {
    if (f.name != family) continue;
    for (const auto& s : f.samples) {
      if (s.name == family + "_sum") sum += s.value;
      if (s.name == family + "_count") count += s.value;
    }
  }
  return {sum, count};
}

Point measure(int concurrency) {
  SimServerOptions o = test_options(Flavor::kVllmV1);
  o.profile.scheduler.max_num_seqs = 32;
  Harness h(o);
  const std::string body =
      R"({"prompt":"x","max_tokens":128,"ignore_eos":true,"llmscale":{"prompt_tokens":512}})";
  std::vector<Call*> clients;
  for (int i = 0; i < concurrency; ++i) clients.push_back(&h.post("/v1/completions", body));
  auto run_for = [&](core::Duration d, double* waiting_sum, int* samples, int* completed) {
    core::Time end = h.clock().now() + d;
    core::Time next_sample = h.clock().now();
    while (h.clock().now() < end) {
      if (waiting_sum != nullptr && h.clock().now() >= next_sample) {
        *waiting_sum += double(h.server().engine_stats().num_waiting);
        ++*samples;
        next_sample += 50ms;
      }
      if (!h.clock().run_next()) break;
      h.settle();
      for (Call*& c : clients) {
        if (!c->done) continue;
        EXPECT_EQ(c->writer.status(), 200);
        if (completed != nullptr) ++*completed;
        c = &h.post("/v1/completions", body);
      }
    }
  };
  run_for(20s, nullptr, nullptr, nullptr);  // warm up to a steady state
  auto [ttft_sum0, ttft_n0] =
      histogram_totals(h.server().metrics_text(), "vllm:time_to_first_token_seconds");
  auto [tpot_sum0, tpot_n0] =
      histogram_totals(h.server().metrics_text(), "vllm:time_per_output_token_seconds");
  double waiting_sum = 0;
  int samples = 0, completed = 0;
  run_for(30s, &waiting_sum, &samples, &completed);
  auto [ttft_sum1, ttft_n1] =
      histogram_totals(h.server().metrics_text(), "vllm:time_to_first_token_seconds");
  auto [tpot_sum1, tpot_n1] =
      histogram_totals(h.server().metrics_text(), "vllm:time_per_output_token_seconds");
  Point p;
  p.concurrency = concurrency;
  p.ttft = (ttft_sum1 - ttft_sum0) / std::max(1.0, ttft_n1 - ttft_n0);
  p.itl = (tpot_sum1 - tpot_sum0) / std::max(1.0, tpot_n1 - tpot_n0);
  p.waiting = samples > 0 ? waiting_sum / samples : 0;
  p.completed_per_s = completed / 30.0;
  return p;
}

TEST(SaturationTest, ItlPlateausWhileTtftAndQueueGrow) {
  std::vector<Point> points;
  for (int c : {8, 32, 64, 128, 256}) {
    points.push_back(measure(c));
    const Point& p = points.back();
    std::printf("concurrency %4d: TTFT %.4f s  ITL %.4f s  waiting %.1f  %.2f req/s\n",
                p.concurrency, p.ttft, p.itl, p.waiting, p.completed_per_s);
  }
  const Point& at_capacity = points[1];  // 32 = max_num_seqs
  // Up to capacity: no queue.
  EXPECT_LT(points[0].waiting, 0.5);
  EXPECT_LT(at_capacity.waiting, 1.0);
  // ITL grows with the batch up to capacity, then plateaus (within 15%).
  EXPECT_LT(points[0].itl, at_capacity.itl);
  for (std::size_t i = 2; i < points.size(); ++i) {
    EXPECT_NEAR(points[i].itl, at_capacity.itl, 0.15 * at_capacity.itl) << points[i].concurrency;
    // Past saturation TTFT and the queue grow with the excess clients.
    EXPECT_GT(points[i].ttft, 1.5 * points[i - 1].ttft) << points[i].concurrency;
    EXPECT_GT(points[i].waiting, 0.7 * (points[i].concurrency - 32)) << points[i].concurrency;
    // Throughput is capped.
    EXPECT_NEAR(points[i].completed_per_s, at_capacity.completed_per_s,
                0.15 * at_capacity.completed_per_s);
  }
}

}  // namespace
}  // namespace llmscale::server
