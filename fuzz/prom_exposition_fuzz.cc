// Fuzzes the exposition parser (text 0.0.4 and OpenMetrics): never crashes; whatever parses is
// written back by our writer and parses again to the same number of samples; the scrape path
// (cache, relabeling, TSDB append) takes the same body without crashing.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "prom/exposition/parser.h"
#include "prom/exposition/writer.h"
#include "prom/scrape/ingest.h"
#include "prom/tsdb/storage.h"
#include "prom/tsdb/target_appender.h"

using namespace llmscale::prom;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  for (auto format : {ExpositionFormat::kPrometheusText, ExpositionFormat::kOpenMetrics}) {
    auto parsed = parse_exposition(text, format);
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
