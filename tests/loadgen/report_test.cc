// Report shapes on deterministic input: JSON, CSV, per-request CSV, SVG and the terminal table
// against golden files (LLMSCALE_UPDATE_GOLDEN=1 rewrites them), plus SLO parsing and gates.
#include "loadgen/report.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace llmscale::loadgen {
namespace {

using namespace std::chrono_literals;

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

void expect_golden(const std::string& name, const std::string& actual) {
  std::string path = std::string(LLMSCALE_SOURCE_DIR) + "/tests/loadgen/golden/" + name;
  if (std::getenv("LLMSCALE_UPDATE_GOLDEN") != nullptr) std::ofstream(path) << actual;
  EXPECT_EQ(actual, slurp(path)) << "golden " << name
                                 << " differs (LLMSCALE_UPDATE_GOLDEN=1 rewrites it)";
}

CompletedRequest request(std::uint64_t id, core::Duration intended, core::Duration delay,
                         core::Duration ttft, int tokens, core::Duration gap) {
  CompletedRequest r;
  r.id = id;
  r.intended = intended;
  r.sent = intended + delay;
  r.input_tokens = 200 + static_cast<std::int64_t>(id % 7);
  r.max_tokens = tokens;
  r.result.ok = true;
  r.result.http_status = 200;
  r.result.ttft = ttft;
  r.result.output_tokens = tokens;
  for (int i = 1; i < tokens; ++i)
    r.result.token_gaps.push_back(gap + std::chrono::microseconds(i * 37 % 500));
  core::Duration sum = ttft;
  for (auto g : r.result.token_gaps) sum += g;
  r.result.e2e = sum;
  r.completed = r.sent + sum;
  return r;
}

CompletedRequest failure(std::uint64_t id, core::Duration at, std::string kind, int status,
                         std::string detail) {
  CompletedRequest r;
  r.id = id;
  r.intended = r.sent = at;
  r.completed = at + 3ms;
  r.input_tokens = 200;
  r.result.error_kind = std::move(kind);
  r.result.error_detail = std::move(detail);
  r.result.http_status = status;
  r.result.e2e = 3ms;
  return r;
}

// Two stages of a streaming sweep: concurrency 2 (clean, with warm-up) then 8 (slower, with
// errors and queueing delay), on fixed numbers.
RunReport sample_report() {
  RunReport report;
  report.url = "http://127.0.0.1:8000";
  report.api = "openai-chat";
  report.endpoint = "/v1/chat/completions";
  report.streaming = true;
  report.model = "meta/llama-3.1-8b-instruct";
  report.seed = 1;
  report.slo = *parse_slo("ttft=200ms,itl=30ms");
  report.started_at = core::SimulatedClock::default_start();
  report.elapsed = 9500ms;

  StageStats first("concurrency=2", "concurrency=2", 1s, report.slo);
  first.index = 0;
  first.keep_rows = true;
  first.start = 0s;
  for (std::uint64_t i = 0; i < 2; ++i) {
    CompletedRequest warm = request(i, 0ms, 0ms, 400ms, 10, 20ms);
    warm.warmup = true;
    first.add(warm);
  }
  for (std::uint64_t i = 2; i < 22; ++i) {
    auto intended = std::chrono::milliseconds(600 + 180 * static_cast<int>(i - 2));
    first.add(request(i, intended, 0ms, std::chrono::milliseconds(90 + 7 * (i % 5)),
                      20 + static_cast<int>(i % 4), 18ms));
  }
  first.end = 4500ms;

  StageStats second("concurrency=8", "concurrency=8", 1s, report.slo);
  second.index = 1;
  second.keep_rows = true;
  second.start = 4500ms;
  for (std::uint64_t i = 22; i < 52; ++i) {
    auto intended = std::chrono::milliseconds(4500 + 120 * static_cast<int>(i - 22));
    auto delay = std::chrono::milliseconds(i % 6 == 0 ? 150 : 0);
    second.add(request(i, intended, delay, std::chrono::milliseconds(140 + 11 * (i % 9)),
                       24 + static_cast<int>(i % 5), 26ms + std::chrono::milliseconds(i % 8)));
  }
  second.add(failure(52, 6s, "http 503", 503, R"({"object":"error","message":"overloaded"})"));
  second.add(failure(53, 7s, "connection reset", 0, "connection reset: end of stream"));
  second.add(failure(54, 7100ms, "http 503", 503, R"({"object":"error","message":"overloaded"})"));
  second.add_abandoned(1, false);
  second.end = 9500ms;

  report.stages = {first, second};
  Gates gates;
  gates.max_error_fraction = 0.05;
  gates.min_goodput_fraction = 0.5;
  report.gates = evaluate_gates(report.stages, gates);
  TraceSummary trace;
  trace.source = "trace.csv";
  trace.format = "azure";
  trace.rows = 52;
  trace.bad_row_count = 1;
  trace.bad_rows = {{17, "ContextTokens: invalid integer \"x\""}};
  trace.span = 9s;
  report.trace = trace;
  return report;
}

TEST(ReportTest, JsonGolden) {
  std::string json = report_json(sample_report());
  expect_golden("report.json", json);
  auto doc = nlohmann::json::parse(json);
  EXPECT_EQ(doc["schema_version"], 1);
  EXPECT_EQ(doc["stages"].size(), 2u);
  EXPECT_EQ(doc["stages"][1]["errors"]["http 503"], 2);
  EXPECT_EQ(doc["stages"][1]["errors"]["stage deadline"], 1);
  EXPECT_EQ(doc["stages"][0]["requests"]["warmup"], 2);
  EXPECT_EQ(doc["passed"], false);
}

TEST(ReportTest, CsvGolden) {
  RunReport report = sample_report();
  expect_golden("report.csv", report_csv(report));
  expect_golden("requests.csv", requests_csv(report));
}

TEST(ReportTest, SvgGolden) {
  std::string svg = report_svg(sample_report());
  expect_golden("report.svg", svg);
  EXPECT_EQ(svg.rfind("<svg", 0), 0u);
  EXPECT_NE(svg.find("</svg>\n"), std::string::npos);
}

TEST(ReportTest, TableGolden) {
  expect_golden("report.txt", report_table(sample_report()));
}

TEST(ReportTest, NonStreamingTableSaysTtftIsNotAvailable) {
  RunReport report;
  report.api = "jetstream";
  StageStats s("burst=100", "burst=100", 1s, {});
  CompletedRequest r = failure(0, 0s, "", 200, "");
  r.result.ok = true;
  r.result.output_tokens = 200;
  r.result.e2e = 2s;
  s.add(r);
  report.stages = {s};
  std::string table = report_table(report);
  EXPECT_NE(table.find("Time to first token (ms)"), std::string::npos);
  EXPECT_NE(table.find("n/a (not streaming)"), std::string::npos);
  EXPECT_EQ(table.find("Inter token latency"), std::string::npos);
  EXPECT_NE(table.find("Request latency (ms)"), std::string::npos);
}

TEST(ReportTest, EmptyRunStillRenders) {
  RunReport report;
  StageStats s("concurrency=1", "concurrency=1", 1s, {});
  report.stages = {s};
  EXPECT_NO_THROW(nlohmann::json::parse(report_json(report)));
  EXPECT_NE(report_svg(report).find("</svg>"), std::string::npos);
  EXPECT_NE(report_table(report).find("0 ok, 0 failed"), std::string::npos);
}

TEST(ReportTest, ProgressLine) {
  Progress p;
  p.stage = 0;
  p.stages = 3;
  p.stage_name = "concurrency=10";
  p.stage_elapsed = 12s;
  p.sent = 1234;
  p.completed = 1200;
  p.errors = 3;
  p.in_flight = 34;
  EXPECT_EQ(progress_line(p, 95.14),
            "stage 1/3 concurrency=10 | 12.0s | sent 1234 done 1200 err 3 | in flight 34 | "
            "95.1 req/s");
}

TEST(SloTest, ParseForms) {
  auto slo = parse_slo("ttft=2s,itl=100ms");
  ASSERT_TRUE(slo.has_value());
  EXPECT_EQ(*slo->ttft, 2s);
  EXPECT_EQ(*slo->itl, 100ms);
  EXPECT_EQ(slo->to_string(), "ttft=2s,itl=100ms");
  // genai-perf's --goodput form: name:milliseconds.
  auto genai = parse_slo("time_to_first_token:100 inter_token_latency:3.4");
  EXPECT_FALSE(genai.has_value());  // space-separated is not accepted: one flag, commas
  genai = parse_slo("time_to_first_token:100,inter_token_latency:3.4,request_latency:5000");
  ASSERT_TRUE(genai.has_value()) << genai.error().to_string();
  EXPECT_EQ(*genai->ttft, 100ms);
  EXPECT_EQ(*genai->itl, 3400us);
  EXPECT_EQ(*genai->e2e, 5s);
  EXPECT_TRUE(parse_slo("")->empty());
  EXPECT_EQ(parse_slo("latency=1s").error().message,
            "--slo: unknown objective \"latency\" (ttft, itl, itl_max, tpot, e2e)");
  EXPECT_FALSE(parse_slo("ttft=fast").has_value());
  EXPECT_FALSE(parse_slo("ttft=-1s").has_value());
  EXPECT_FALSE(parse_slo("ttft").has_value());
}

TEST(GateTest, ErrorsAndGoodput) {
  RunReport report = sample_report();
  ASSERT_EQ(report.gates.size(), 4u);
  EXPECT_TRUE(report.gates[0].passed);   // stage 1 errors 0
  EXPECT_TRUE(report.gates[1].passed);   // stage 1 goodput
  EXPECT_FALSE(report.gates[2].passed);  // stage 2: 4 of 34 failed > 5%
  EXPECT_NEAR(report.gates[2].value, 4.0 / 34, 1e-9);
  EXPECT_FALSE(report.gates_passed());
  Gates none;
  EXPECT_TRUE(evaluate_gates(report.stages, none).empty());
}

}  // namespace
}  // namespace llmscale::loadgen
