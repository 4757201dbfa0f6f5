// Scrape ingestion: parse, label, relabel, limit, append, report.
#include "prom/scrape/ingest.h"

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

namespace {

// Appends one sample of a scrape; returns the error that fails the whole scrape, if any.
// `exposed` yields the sample's name and exposed labels; it is called only for a series the
// target's cache does not know yet (`line` names it in errors).
template <class Exposed>
std::optional<core::Error> append_sample(TargetAppender& appender, std::string_view series,
                                         double value, std::optional<std::int64_t> ts,
                                         std::size_t line, const IngestOptions& options,
                                         IngestReport& report, const Exposed& exposed) {
  ++report.samples_scraped;
  if (appender.append_cached(series, value, ts) == TargetAppender::Lookup::kUnknown) {
    auto [name, labels_exposed] = exposed();
    std::optional<Labels> labels = scrape_sample_labels(name, labels_exposed, options);
    if (labels && !labels->has(kMetricNameLabel)) {
      return core::Error{
          core::ErrorCode::kInvalidArgument,
          "line " + std::to_string(line) + ": __name__ label is missing after relabeling"};
    }
    if (labels) {
      if (auto limit_error = check_label_limits(*labels, options)) return limit_error;
    }
    appender.append_new(series, labels, value, ts);
    if (appender.series_limit_error()) {
      report.series_limit_exceeded = true;
      return appender.series_limit_error();
    }
  }
  if (options.sample_limit > 0 && appender.batch_samples() > options.sample_limit) {
    return core::Error{
        core::ErrorCode::kResourceExhausted,
        "sample limit exceeded (limit " + std::to_string(options.sample_limit) + ")"};
  }
  return std::nullopt;
}

// After the last sample: the report series, then the commit.
IngestReport finish_scrape(TargetAppender& appender, std::int64_t t, double duration,
                           const IngestOptions& options, IngestReport report) {
  report.up = true;
  report.samples_post_relabeling = appender.batch_samples();
  report.series_added = appender.batch_stats().series_added;
  append_report_series(appender, options, report, duration);
  if (appender.series_limit_error()) {
    // A report series (`up`, ...) is new and over the cap: the scrape fails too.
    report.series_limit_exceeded = true;
    return fail_scrape(appender, t, duration, options, *appender.series_limit_error(),
                       std::move(report));
  }
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
  auto exposed = [&parser] { return std::pair(parser.name(), parser.labels()); };
  while (true) {
    auto step = parser.next();
    if (step == ExpositionParser::Step::kEnd) break;
    if (step == ExpositionParser::Step::kError) {
      report.warnings = parser.warnings();
      return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options, parser.error(),
                         std::move(report));
    }
    if (parser.kind() != ExpositionParser::Kind::kSample) continue;
    std::optional<std::int64_t> ts =
        options.honor_timestamps ? parser.timestamp_ms() : std::nullopt;
    if (auto error = append_sample(appender, parser.series(), parser.value(), ts, parser.line(),
                                   options, report, exposed)) {
      return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                         std::move(*error), std::move(report));
    }
  }
  report.warnings = parser.warnings();
  return finish_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                       std::move(report));
}

IngestReport ingest_samples(TargetAppender& appender,
                            std::span<const MetricRegistry::Sample> samples,
                            std::int64_t scrape_time_ms, double scrape_duration_seconds,
                            const IngestOptions& options) {
  IngestReport report;
  appender.begin(scrape_time_ms);
  std::string line;
  std::optional<ExpositionParser> parser;
  for (std::size_t i = 0; i < samples.size(); ++i) {
    const MetricRegistry::Sample& sample = samples[i];
    // A new series: its name and labels read back from its text, exactly as ingest_scrape
    // reads them from the body (rare: once per series per target).
    auto exposed = [&] {
      line.assign(sample.series).append(" 0\n");
      parser.emplace(line, ExpositionFormat::kPrometheusText);
      parser->next();
      return std::pair(parser->name(), parser->labels());
    };
    if (auto error = append_sample(appender, sample.series, sample.value, std::nullopt, i + 1,
                                   options, report, exposed)) {
      return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                         std::move(*error), std::move(report));
    }
  }
  return finish_scrape(appender, scrape_time_ms, scrape_duration_seconds, options,
                       std::move(report));
}

IngestReport ingest_failed_scrape(TargetAppender& appender, std::int64_t scrape_time_ms,
                                  double scrape_duration_seconds, const IngestOptions& options,
                                  core::Error reason) {
  return fail_scrape(appender, scrape_time_ms, scrape_duration_seconds, options, std::move(reason),
                     IngestReport{});
}

}  // namespace llmscale::prom
