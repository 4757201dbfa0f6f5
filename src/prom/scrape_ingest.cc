// Scrape ingestion: parse, label, relabel, limit, append, report.
#include "prom/scrape_ingest.h"

namespace llmscale::prom {

std::optional<Labels> scrape_sample_labels(std::string_view name, std::span<const Label> exposed,
                                           const IngestOptions& options) {
  LabelsBuilder lb;
  lb.set(kMetricNameLabel, name);
  for (const Label& l : exposed) lb.set(l.name, l.value);
  if (options.honor_labels) {
    for (Label l : options.target_labels) {
      if (!lb.has(l.name)) lb.set(l.name, l.value);
    }
  } else {
    // Prometheus: exposed labels that clash with target labels become exported_<name>
    // (exported_exported_<name> if that is taken too).
    std::vector<std::pair<std::string, std::string>> conflicts;
    for (Label l : options.target_labels) {
      std::string_view existing = lb.get(l.name);
      if (!existing.empty()) conflicts.emplace_back(std::string(l.name), std::string(existing));
      lb.set(l.name, l.value);
    }
    for (const auto& [conflict_name, value] : conflicts) {
      std::string renamed = "exported_" + conflict_name;
      while (lb.has(renamed)) renamed = "exported_" + renamed;
      lb.set(renamed, value);
    }
  }
  if (options.metric_relabeling && !options.metric_relabeling->empty()) {
    if (!options.metric_relabeling->apply(lb)) return std::nullopt;
  }
  return lb.labels();
}

namespace {

// Prometheus' verifyLabelLimits, with its messages (%.50s truncations included).
std::optional<core::Error> check_label_limits(const Labels& labels, const IngestOptions& options) {
  if (options.label_limit == 0 && options.label_name_length_limit == 0 &&
      options.label_value_length_limit == 0) {
    return std::nullopt;
  }
  auto cut = [](std::string_view s) { return std::string(s.substr(0, 50)); };
  std::string metric = cut(labels.metric_name());
  auto error = [](std::string message) {
    return core::Error{core::ErrorCode::kResourceExhausted, std::move(message)};
  };
  if (options.label_limit > 0 && labels.size() > options.label_limit) {
    return error("label_limit exceeded (metric: " + metric +
                 ", number of labels: " + std::to_string(labels.size()) +
                 ", limit: " + std::to_string(options.label_limit) + ")");
  }
  for (Label l : labels) {
    if (options.label_name_length_limit > 0 && l.name.size() > options.label_name_length_limit) {
      return error("label_name_length_limit exceeded (metric: " + metric +
                   ", label name: " + cut(l.name) + ", length: " + std::to_string(l.name.size()) +
                   ", limit: " + std::to_string(options.label_name_length_limit) + ")");
    }
    if (options.label_value_length_limit > 0 && l.value.size() > options.label_value_length_limit) {
      std::string quoted;
      append_quoted(quoted, l.value.substr(0, 50));
      return error("label_value_length_limit exceeded (metric: " + metric +
                   ", label name: " + cut(l.name) + ", value: " + quoted +
                   ", length: " + std::to_string(l.value.size()) +
                   ", limit: " + std::to_string(options.label_value_length_limit) + ")");
    }
  }
  return std::nullopt;
}

void append_report_series(TargetAppender& appender, const IngestOptions& options,
                          const IngestReport& report, double duration) {
  auto with_name = [&](std::string_view name) {
    LabelsBuilder lb(options.target_labels);
    lb.set(kMetricNameLabel, name);
    return lb.labels();
  };
  appender.append_report(with_name("up"), report.up ? 1 : 0);
  appender.append_report(with_name("scrape_duration_seconds"), duration);
  appender.append_report(with_name("scrape_samples_scraped"),
                         static_cast<double>(report.samples_scraped));
  appender.append_report(with_name("scrape_samples_post_metric_relabeling"),
                         static_cast<double>(report.samples_post_relabeling));
  appender.append_report(with_name("scrape_series_added"),
                         static_cast<double>(report.series_added));
}

IngestReport fail_scrape(TargetAppender& appender, std::int64_t t, double duration,
                         const IngestOptions& options, core::Error reason, IngestReport report) {
  // Prometheus: "A failed scrape is the same as an empty scrape": roll back, then commit an
  // empty scrape so every series of the previous one gets a stale marker.
  appender.rollback();
  appender.begin(t);
  report.up = false;
  report.error = std::move(reason);
  report.samples_post_relabeling = 0;
  report.series_added = 0;
  append_report_series(appender, options, report, duration);
  report.stats = appender.commit();
  return report;
}

}  // namespace

IngestReport ingest_scrape(TargetAppender& appender, std::string_view body,
                           std::int64_t scrape_time_ms, double scrape_duration_seconds,
                           const IngestOptions& options) {
  IngestReport report;
  appender.begin(scrape_time_ms);
  ExpositionParser parser(body, options.format);
  while (true) {
    auto step = parser.next();
    if (step == ExpositionParser::Step::kEnd) break;
    if (step == ExpositionParser::Step::kError) {
      report.warnings = parser.warnings();
      return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options, parser.error(),
                         std::move(report));
    }
    if (parser.kind() != ExpositionParser::Kind::kSample) continue;
    ++report.samples_scraped;
    std::optional<std::int64_t> ts =
        options.honor_timestamps ? parser.timestamp_ms() : std::nullopt;
    auto lookup = appender.append_cached(parser.series(), parser.value(), ts);
    if (lookup == TargetAppender::Lookup::kUnknown) {
      std::optional<Labels> labels = scrape_sample_labels(parser.name(), parser.labels(), options);
      if (labels && !labels->has(kMetricNameLabel)) {
        return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                           core::Error{core::ErrorCode::kInvalidArgument,
                                       "line " + std::to_string(parser.line()) +
                                           ": __name__ label is missing after relabeling"},
                           std::move(report));
      }
      if (labels) {
        if (auto limit_error = check_label_limits(*labels, options)) {
          return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                             std::move(*limit_error), std::move(report));
        }
      }
      appender.append_new(parser.series(), labels, parser.value(), ts);
      if (appender.series_limit_error()) {
        report.series_limit_exceeded = true;
        return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                           *appender.series_limit_error(), std::move(report));
      }
    }
    if (options.sample_limit > 0 && appender.batch_samples() > options.sample_limit) {
      return fail_scrape(
          appender, scrape_time_ms, scrape_duration_seconds, options,
          core::Error{core::ErrorCode::kResourceExhausted,
                      "sample limit exceeded (limit " + std::to_string(options.sample_limit) + ")"},
          std::move(report));
    }
  }
  report.warnings = parser.warnings();
  report.up = true;
  report.samples_post_relabeling = appender.batch_samples();
  report.series_added = appender.batch_stats().series_added;
  append_report_series(appender, options, report, scrape_duration_seconds);
  if (appender.series_limit_error()) {
    // A report series (`up`, ...) is new and over the cap: the scrape fails too.
    report.series_limit_exceeded = true;
    return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                       *appender.series_limit_error(), std::move(report));
  }
  report.stats = appender.commit();
  return report;
}

IngestReport ingest_failed_scrape(TargetAppender& appender, std::int64_t scrape_time_ms,
                                  double scrape_duration_seconds, const IngestOptions& options,
                                  core::Error reason) {
  return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options, std::move(reason),
                     IngestReport{});
}

}  // namespace llmscale::prom
