// Fuzzes the PromQL parser and evaluator: never crashes; a parsed expression prints to text that
// parses again and prints identically; valid expressions are evaluated (instant and a short range
// query) over a small fixed TSDB with a time and work budget. Seeds in fuzz/corpus/prom_promql/
// include operator chains and nestings at and past the parser's bounds (kMaxExprHeight,
// kMaxExprElements); fuzz/prom_promql.dict holds the language's tokens.
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "prom/promql/engine.h"
#include "prom/promql/parser.h"
#include "prom/promql/series_notation.h"
#include "prom/tsdb/storage.h"

using namespace llmscale::prom;

namespace {

const Storage& fixed_storage() {
  static Storage* storage = [] {
    auto* s = new Storage(StorageOptions{.retention = std::chrono::hours(24)});
    const char* series[][2] = {
        {R"(up{job="api",pod="a"})", "1 1 0 1 stale 1"},
        {R"(up{job="web",pod="b"})", "1x5"},
        {R"(req_total{pod="a",code="200"})", "0+10x5"},
        {R"(req_total{pod="b",code="500"})", "5+1x2 0+3x2"},
        {R"(lat_bucket{le="0.5"})", "0+1x5"},
        {R"(lat_bucket{le="+Inf"})", "0+2x5"},
        {R"(vllm:num_requests_waiting{pod="a"})", "3 NaN Inf -1 2 2"},
    };
    for (const auto& [name, values] : series) (void)load_series(*s, name, values, 60000);
    return s;
  }();
  return *storage;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto expr = parse_promql(text);
  if (!expr) return 0;
  std::string printed = to_string(**expr);
  auto again = parse_promql(printed);
  if (!again || to_string(**again) != printed) std::abort();
  LocalQueryEngine engine(fixed_storage());
  QueryOptions options;
  options.timeout = std::chrono::milliseconds(200);
  options.max_samples = 100000;
  // Deterministic bound besides the timeout: a 1,000-term chain over the range query's 11 steps
  // stays well under it; more is a clean kResourceExhausted, not a slow unit.
  options.max_work = 1'000'000;
  (void)engine.instant_query_ms(text, 180000, options);
  (void)engine.range_query_ms(text, 0, 300000, 30000, options);
  return 0;
}
