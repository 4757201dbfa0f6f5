// Fuzzes the exposition parser (text 0.0.4 and OpenMetrics): never crashes; the fast path and the
// general path agree (samples, labels, values to the bit, errors); whatever parses is written
// back by our writer and parses again to the same number of samples; the scrape path (cache,
// relabeling, TSDB append) takes the same body without crashing.
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <string_view>

#include "prom/exposition/parser.h"
#include "prom/exposition/writer.h"
#include "prom/scrape/ingest.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"

using namespace llmscale::prom;

namespace {

bool same_result(const llmscale::core::Result<ParsedExposition>& a,
                 const llmscale::core::Result<ParsedExposition>& b) {
  if (a.has_value() != b.has_value()) return false;
  if (!a) return a.error().message == b.error().message;
  if (a->families.size() != b->families.size() || a->warnings.size() != b->warnings.size()) {
    return false;
  }
  for (std::size_t f = 0; f < a->families.size(); ++f) {
    const MetricFamily& x = a->families[f];
    const MetricFamily& y = b->families[f];
    if (x.name != y.name || x.type != y.type || x.samples.size() != y.samples.size()) return false;
    for (std::size_t i = 0; i < x.samples.size(); ++i) {
      const FamilySample& s = x.samples[i];
      const FamilySample& t = y.samples[i];
      if (s.name != t.name || !(s.labels == t.labels) || s.timestamp_ms != t.timestamp_ms ||
          std::memcmp(&s.value, &t.value, sizeof s.value) != 0) {
        return false;
      }
    }
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
    auto parsed = parse_exposition(text, format);
    ParseOptions general;
    general.fast_path = false;
    if (!same_result(parsed, parse_exposition(text, format, general))) std::abort();
    if (!parsed) continue;
    std::string written = write_families(parsed->families, format);
    auto again = parse_exposition(written, format);
    if (!again || again->sample_count != parsed->sample_count) std::abort();
  }
  // Twice through one appender: the second scrape takes the cached path.
  static Storage storage(StorageOptions{.max_series = 10000});
  TargetAppender appender(storage);
  IngestOptions options;
  options.target_labels = Labels{{"job", "fuzz"}, {"instance", "x:1"}};
  ingest_scrape(appender, text, 1000, 0, options);
  ingest_scrape(appender, text, 2000, 0, options);
  appender.mark_all_stale(3000);
  return 0;
}
