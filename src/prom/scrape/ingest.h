// Scrape ingestion: a scraped body (or a failed scrape) into the TSDB, the way Prometheus'
// scrape loop does it, minus the network part (the scraper fetches, this ingests).
//
// For each sample: the scrape cache is consulted by raw series text; on a miss the labels are
// built (`__name__` + exposed labels + target labels; a clash renames the exposed label to
// `exported_<name>` unless honor_labels), metric relabeling runs, and the result is cached.
// The whole scrape fails (and, as in Prometheus, everything the target exposed last time is
// marked stale) when the body does not parse, when more than `sample_limit` samples survive
// relabeling, when a new series exceeds a label limit, when relabeling removes __name__, or when
// the Storage's series cap (StorageOptions::max_series) refuses one of its new series, report
// series included: "series limit exceeded (limit N): series ... was not created". Prometheus has
// no storage-wide cap; this fails the scrape the way its sample_limit does (up=0, health "down",
// the reason as lastError) instead of dropping the series silently. Every
// scrape then appends the report series `up`, `scrape_duration_seconds`, `scrape_samples_scraped`,
// `scrape_samples_post_metric_relabeling` and `scrape_series_added` with the target labels.
//
// Same threading rule as TargetAppender: one scrape at a time per appender.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "prom/exposition/labels.h"
#include "prom/exposition/parser.h"
#include "prom/exposition/registry.h"
#include "prom/scrape/relabel.h"
#include "prom/tsdb/target_appender.h"

namespace llmscale::prom {

struct IngestOptions {
  ExpositionFormat format = ExpositionFormat::kPrometheusText;
  // job, instance and the pod/container/namespace/node labels of the target.
  Labels target_labels;
  bool honor_labels = false;
  bool honor_timestamps = true;
  std::shared_ptr<const RelabelRules> metric_relabeling;  // may be null
  std::size_t sample_limit = 0;                           // 0: no limit
  // Prometheus' label_limit, label_name_length_limit, label_value_length_limit (0: none),
  // checked on each new series after relabeling; exceeding one fails the scrape.
  std::size_t label_limit = 0;
  std::size_t label_name_length_limit = 0;
  std::size_t label_value_length_limit = 0;
};

struct IngestReport {
  bool up = false;
  std::optional<core::Error> error;    // why the scrape failed
  bool series_limit_exceeded = false;  // it failed because the series cap refused a series
  std::size_t samples_scraped = 0;
  std::size_t samples_post_relabeling = 0;
  std::size_t series_added = 0;
  ScrapeStats stats;
  std::vector<Diagnostic> warnings;  // family diagnostics of the body
};

// Ingests one scraped body taken at `scrape_time_ms`; `scrape_duration_seconds` is reported.
IngestReport ingest_scrape(TargetAppender& appender, std::string_view body,
                           std::int64_t scrape_time_ms, double scrape_duration_seconds,
                           const IngestOptions& options);

// Ingests the samples of a MetricRegistry in the same process (MetricRegistry::collect): the
// same series, values and report as ingest_scrape over the registry's text, without printing and
// parsing it (the fleet simulator's scrapes). Errors name the sample's index as its line.
IngestReport ingest_samples(TargetAppender& appender,
                            std::span<const MetricRegistry::Sample> samples,
                            std::int64_t scrape_time_ms, double scrape_duration_seconds,
                            const IngestOptions& options);

// A scrape that failed before a body could be ingested (refused, timed out, too large):
// stale markers for the previous scrape's series, up=0.
IngestReport ingest_failed_scrape(TargetAppender& appender, std::int64_t scrape_time_ms,
                                  double scrape_duration_seconds, const IngestOptions& options,
                                  core::Error reason);

// Target labels + exposed labels as Prometheus' mutateSampleLabels combines them, then relabeling.
// nullopt when relabeling drops the series.
std::optional<Labels> scrape_sample_labels(std::string_view name, std::span<const Label> exposed,
                                           const IngestOptions& options);

}  // namespace llmscale::prom
