// TargetAppender: what one scrape target writes into the Storage, scrape after scrape.
//
// It keeps Prometheus' scrape cache: raw exposition series text (`foo{a="b"}`, from
// ExpositionParser::series()) -> pinned series handle, so a repeated scrape costs one hash lookup
// per sample and never re-parses labels, re-applies relabeling or touches the series index. Series
// dropped by relabeling are cached too. Staleness follows Prometheus' scrape loop:
//  * a series present in the previous committed scrape and absent from this one gets a stale
//    marker (StaleNaN) at this scrape's timestamp, and leaves the cache;
//  * a failed scrape is an empty scrape: rollback(), then begin()/commit() with nothing appended
//    marks everything stale (report series such as `up` excepted);
//  * a target that goes away: mark_all_stale(t);
//  * samples with explicit timestamps never get stale markers (honor_timestamps).
// Report series (up, scrape_duration_seconds, ...) are appended with append_report() and are only
// marked stale by mark_all_stale().
//
// Usage per scrape (scrape_ingest.h does all of it from a body):
//   appender.begin(t);
//   for each parsed sample:
//     if (appender.append_cached(parser.series(), v, ts) == Lookup::kUnknown)
//       appender.append_new(parser.series(), final_labels_or_nullopt, v, ts);
//   ScrapeStats stats = appender.commit();
//
// Thread-compatible: one thread at a time per appender (the target's scrape loop); any number of
// appenders and queries may run concurrently on one Storage. Destroying the appender unpins its
// series without writing stale markers.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/result.h"
#include "prom/exposition/labels.h"
#include "prom/tsdb/storage.h"

namespace llmscale::prom {

struct ScrapeStats {
  std::size_t samples_appended = 0;  // written to the TSDB (stale markers not included)
  std::size_t series_added = 0;      // new in this target's cache (Prometheus scrape_series_added)
  std::size_t series_created = 0;    // new in the TSDB
  std::size_t stale_markers = 0;
  std::size_t dropped_by_relabeling = 0;
  std::size_t out_of_order = 0;
  std::size_t duplicates = 0;
  std::size_t too_old = 0;
  std::size_t series_limit_rejected = 0;  // samples lost to the storage's series cap
};

class TargetAppender {
 public:
  enum class Lookup { kAppended, kDropped, kUnknown };

  explicit TargetAppender(Storage& storage);
  ~TargetAppender();
  TargetAppender(const TargetAppender&) = delete;
  TargetAppender& operator=(const TargetAppender&) = delete;

  // Starts a batch for the scrape at `scrape_time_ms` (the default sample timestamp).
  void begin(std::int64_t scrape_time_ms);
  // Known series text: appends (or counts as dropped) and returns kAppended/kDropped; kUnknown
  // when the caller must resolve labels and call append_new().
  Lookup append_cached(std::string_view key, double value,
                       std::optional<std::int64_t> timestamp_ms = std::nullopt);
  // A series text seen for the first time: `labels` are final (target labels and relabeling
  // applied), nullopt when relabeling dropped it.
  void append_new(std::string_view key, const std::optional<Labels>& labels, double value,
                  std::optional<std::int64_t> timestamp_ms = std::nullopt);
  // Report series of the scrape (`up`, ...): `labels` complete; always at the scrape time.
  void append_report(const Labels& labels, double value);
  // Number of samples (not dropped) in the current batch.
  std::size_t batch_samples() const { return pending_.size(); }
  // Counts of the current batch so far (series_added, dropped_by_relabeling, ...).
  const ScrapeStats& batch_stats() const { return batch_stats_; }
  // The storage's error for the first series of the current batch that the series cap refused
  // (append_new or append_report), nullopt when none was; begin() and rollback() clear it.
  // ingest_scrape fails the scrape with it.
  const std::optional<core::Error>& series_limit_error() const { return series_limit_error_; }

  // Writes the batch, then stale markers for series of the previous scrape missing from this one.
  ScrapeStats commit();
  // Discards the batch (the scrape failed).
  void rollback();
  // The target is gone: stale markers at `t_ms` for everything it exposed; the cache is emptied.
  ScrapeStats mark_all_stale(std::int64_t t_ms);

  std::size_t cached_series() const { return cache_.size(); }

 private:
  struct Entry {
    MemSeries* series = nullptr;        // nullptr: dropped by relabeling
    std::uint64_t seen_epoch = 0;       // batch in which it was last appended
    std::uint64_t committed_epoch = 0;  // last committed scrape that had it
    bool explicit_timestamp = false;
    bool report = false;
  };
  struct Pending {
    MemSeries* series;
    std::int64_t t;
    double v;
  };
  struct KeyHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const;
  };

  void release(Entry& entry);
  void append_entry(Entry& entry, double value, std::optional<std::int64_t> timestamp_ms);

  using Cache = std::unordered_map<std::string, Entry, KeyHash, std::equal_to<>>;
  using Slot = Cache::value_type;
  Storage& storage_;
  Cache cache_;
  // The last committed scrape's series in exposition order, and this batch's so far: a target
  // exposes its series in the same order every scrape, so append_cached first compares the key
  // with the one at the same position (no hashing). Elements of an unordered_map keep their
  // address across rehashes; commit() erases only entries this batch did not see.
  std::vector<Slot*> order_;
  std::vector<Slot*> batch_order_;
  std::vector<Pending> pending_;
  ScrapeStats batch_stats_;
  std::optional<core::Error> series_limit_error_;
  std::int64_t scrape_time_ = 0;
  std::uint64_t epoch_ = 0;           // current batch
  std::uint64_t last_committed_ = 0;  // epoch of the last commit
  bool in_batch_ = false;
};

}  // namespace llmscale::prom
