// Our exposition output checked by the real parser: `promtool check metrics` (Prometheus 2.42)
// must exit 0, or 3 with lint findings only (it parses the 0.0.4 text format only; OpenMetrics
// output is covered by our own parser's strict round trip).
#include <regex>
#include <sstream>

#include <gtest/gtest.h>

#include "prom/exposition/registry.h"
#include "support/process.h"
#include "test_util.h"

namespace llmscale::prom {
namespace {

using namespace std::chrono_literals;

llmscale::testing::ProcessResult promtool_check(const std::string& text) {
  return llmscale::testing::run_process({"promtool", "check", "metrics"}, text, 30s);
}

// Lint findings (not parse errors) that our edge cases deliberately provoke.
bool is_accepted_lint(const std::string& line) {
  static const std::regex kLint(
      "^[a-zA-Z_:][a-zA-Z0-9_:]* (metric names should not contain ':'"
      "|non-histogram metrics should not have \"le\" label"
      "|non-counter metrics should not have \"_total\" suffix)$");
  return std::regex_match(line, kLint);
}

class PromtoolCheckMetricsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!llmscale::testing::program_on_path("promtool")) GTEST_SKIP() << "promtool not installed";
  }
};

TEST_F(PromtoolCheckMetricsTest, CleanRegistryPassesWithExitZero) {
  MetricRegistry r;
  r.add_gauge("llmscale_queue_depth", "Requests queued.", {"pod"}).value()->with({"a"}).set(2);
  r.add_counter("llmscale_requests_total", "Requests served.", {"code"})
      .value()
      ->with({"200"})
      .inc(5);
  auto* h = r.add_histogram("llmscale_request_duration_seconds", "Latency.", {"route"},
                            {0.005, 0.01, 0.1, 1})
                .value();
  h->with({"/v1/completions"}).observe(0.02);
  h->with({"/v1/chat/completions"}).observe(2);
  r.add_summary("llmscale_batch_size", "Batch sizes.", {}).value()->with({}).observe(4);
  auto result = promtool_check(r.text());
  EXPECT_FALSE(result.timed_out);
  EXPECT_EQ(result.exit_code, 0) << result.output;
}

TEST_F(PromtoolCheckMetricsTest, EdgeCaseGoldensPassWithLintFindingsOnly) {
  for (const char* golden : {"golden/registry_text_go.txt", "golden/registry_text_python.txt"}) {
    auto result = promtool_check(llmscale::testing::read_file(testing::prom_test_path(golden)));
    EXPECT_FALSE(result.timed_out);
    EXPECT_TRUE(result.exit_code == 0 || result.exit_code == 3) << golden << "\n" << result.output;
    std::istringstream lines(result.output);
    std::string line;
    while (std::getline(lines, line)) {
      if (line.empty()) continue;
      EXPECT_TRUE(is_accepted_lint(line)) << golden << ": unexpected promtool output: " << line;
    }
  }
}

TEST_F(PromtoolCheckMetricsTest, VllmShapedServerOutputPasses) {
  // What the simulated vLLM V1 server will expose: colon names, engine labels, Python values.
  MetricRegistry r(ValueStyle::kPython);
  std::vector<std::string> labels = {"model_name", "engine"};
  for (const char* g :
       {"vllm:num_requests_running", "vllm:num_requests_waiting", "vllm:kv_cache_usage_perc"}) {
    r.add_gauge(g, "gauge", labels).value()->with({"llama", "0"}).set(0.5);
  }
  r.add_counter("vllm:generation_tokens_total", "Generated tokens.", labels)
      .value()
      ->with({"llama", "0"})
      .inc(27453);
  r.add_histogram("vllm:time_to_first_token_seconds", "TTFT.", labels,
                  {0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1,  0.25,  0.5,   0.75,
                   1.0,   2.5,   5.0,  7.5,  10.0, 20.0, 40.0, 80.0, 160.0, 640.0, 2560.0})
      .value()
      ->with({"llama", "0"})
      .observe(0.03);
  auto result = promtool_check(r.text());
  EXPECT_EQ(result.exit_code, 3) << result.output;
  std::istringstream lines(result.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (!line.empty()) {
      EXPECT_TRUE(is_accepted_lint(line)) << line;
    }
  }
}

TEST_F(PromtoolCheckMetricsTest, PromtoolRejectsWhatOurParserRejects) {
  // Sanity check of the harness: a broken body makes promtool exit 1.
  auto result = promtool_check("metric{a=\"1\" 1\n");
  EXPECT_EQ(result.exit_code, 1) << result.output;
}

}  // namespace
}  // namespace llmscale::prom
