// Storage: the in-memory TSDB (Prometheus' "head block" without a WAL or disk blocks).
//
// Series are identified by their label set and indexed by label postings (name -> value -> series
// sorted by creation order), so `=`, `!=`, `=~`, `!~` matchers resolve by set operations the way
// Prometheus' PostingsForMatchers does (a matcher that matches "" also selects series without the
// label). Samples live in Gorilla chunks (xor_chunk.h) of up to `samples_per_chunk` samples.
// Retention: chunks whose newest sample is older than (newest sample in the store - retention)
// are dropped, and series left empty and unused are removed; truncation runs from the append path
// about every retention/8 of data time, or on truncate(). A cap on series makes creating one more
// fail with kResourceExhausted and a message naming the cap and the series.
//
// Appending: Storage::append() (finds the series by labels each time; loaders and tests) or a
// TargetAppender (target_appender.h) per scrape target, which caches series handles across
// scrapes and writes staleness markers. Samples must arrive in time order per series: an older
// timestamp is rejected as out of order, an equal one with different bits as a duplicate (same
// bits: accepted silently), as Prometheus' head does.
//
// Thread-safety: all public methods are safe to call concurrently. The series index is guarded
// by a shared mutex (queries and lookups shared; creating or removing series exclusive); each
// series' samples by a per-series spin lock held only to append one sample or to snapshot the
// chunk list (closed chunks are immutable and shared, so decoding happens outside any lock).
// A scrape thread therefore never waits for a long query, and queries never see a torn sample.
// Query results are copies; nothing returned refers to storage internals.
//
// Memory (bench/prom_bench.cc BM_TsdbMemory, heap measured with mallinfo2, see
// docs/benchmarks.md): about 0.6-0.8 KB per series with 7 typical vLLM labels (series struct,
// shared label buffer, index entries), plus per sample 1 byte for small-integer gauges, 4.5-5
// bytes for counters with scrape jitter and ~11 bytes for full-precision float gauges.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <shared_mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/result.h"
#include "core/time.h"
#include "prom/exposition/labels.h"
#include "prom/tsdb/matcher.h"
#include "prom/tsdb/xor_chunk.h"

namespace llmscale::prom {

struct StorageOptions {
  core::Duration retention = std::chrono::minutes(15);
  std::size_t max_series = 1'000'000;
  std::uint32_t samples_per_chunk = 120;
};

struct StorageStats {
  std::size_t series = 0;
  std::size_t chunks = 0;        // closed chunks plus non-empty heads
  std::size_t samples = 0;       // samples held
  std::size_t chunk_bytes = 0;   // encoded sample bytes (capacity)
  std::size_t label_bytes = 0;   // label buffers
  std::size_t memory_bytes = 0;  // estimate: series structs, index, labels, chunks
  std::int64_t min_time = 0;     // oldest retained sample (ms), 0 when empty
  std::int64_t max_time = 0;     // newest sample (ms)
};

struct SeriesSamples {
  Labels labels;
  std::vector<SamplePoint> samples;  // ascending time, stale markers included
};

enum class AppendOutcome { kAppended, kDuplicateIgnored, kOutOfOrder, kDuplicate, kTooOld };

class MemSeries;  // opaque series handle (see target_appender.h)

class Storage {
 public:
  explicit Storage(StorageOptions options = {});
  ~Storage();
  Storage(const Storage&) = delete;
  Storage& operator=(const Storage&) = delete;

  const StorageOptions& options() const { return options_; }

  // Appends one sample, creating the series if needed. Errors: kResourceExhausted at the series
  // cap; kOutOfRange for out-of-order, duplicate or too-old samples.
  core::Status append(const Labels& labels, std::int64_t t_ms, double value);

  // All series matching every matcher with a sample in [mint, maxt]; samples restricted to that
  // window. Series come in creation order. REQUIRES: at least one matcher.
  std::vector<SeriesSamples> select(const std::vector<Matcher>& matchers, std::int64_t mint,
                                    std::int64_t maxt) const;
  // Like select() but only the newest sample in [mint, maxt] per series (cheap when maxt is at
  // or after the series' newest sample: no decoding). What an instant vector selector needs.
  std::vector<SeriesSamples> select_latest(const std::vector<Matcher>& matchers, std::int64_t mint,
                                           std::int64_t maxt) const;

  // Label sets of the series matching any of the matcher sets (all series when empty) with a
  // sample in [mint, maxt]; sorted, unique.
  std::vector<Labels> series(const std::vector<std::vector<Matcher>>& matcher_sets,
                             std::int64_t mint, std::int64_t maxt) const;
  std::vector<std::string> label_names(const std::vector<std::vector<Matcher>>& matcher_sets,
                                       std::int64_t mint, std::int64_t maxt) const;
  std::vector<std::string> label_values(std::string_view name,
                                        const std::vector<std::vector<Matcher>>& matcher_sets,
                                        std::int64_t mint, std::int64_t maxt) const;

  // Drops data older than `min_time_ms` and removes series left empty and unpinned.
  void truncate(std::int64_t min_time_ms);
  StorageStats stats() const;
  std::size_t series_count() const;

  // --- Series handles (for TargetAppender) ---
  // Finds or creates the series and pins it (a pinned series is never removed). `created` tells
  // whether it is new. REQUIRES: a matching unpin().
  core::Result<MemSeries*> acquire(const Labels& labels, bool* created = nullptr);
  void unpin(MemSeries* series);
  AppendOutcome append_to(MemSeries* series, std::int64_t t_ms, double value);
  static const Labels& labels_of(const MemSeries* series);
  // Called by appenders after a batch; runs retention when due.
  void maybe_truncate();

  // --- Change tracking (for answer caches) ---
  // A counter that moves whenever what a query could see changes: a sample appended (stale
  // markers included), a series created, data truncated. Bumped after the change is visible, so
  // a reader that loads it before evaluating and finds it unchanged afterwards saw no change.
  std::uint64_t generation() const { return generation_.load(std::memory_order_acquire); }
  // The newest sample time in the store (ms); INT64_MIN when empty.
  std::int64_t newest_time() const { return max_time_.load(std::memory_order_relaxed); }
  // The smallest per-series newest-sample time greater than `after_ms`, INT64_MAX when none.
  // An instant selector's lookback window first loses a series at that time + lookback.
  // O(series) under the shared index lock.
  std::int64_t earliest_newest_sample_after(std::int64_t after_ms) const;

 private:
  struct Index;
  std::vector<MemSeries*> postings_for(const std::vector<Matcher>& matchers) const;
  std::vector<MemSeries*> series_for_sets(const std::vector<std::vector<Matcher>>& sets) const;
  void note_time(std::int64_t t_ms);

  StorageOptions options_;
  mutable std::shared_mutex mu_;
  std::unique_ptr<Index> index_;
  std::atomic<std::int64_t> max_time_;
  std::atomic<std::int64_t> min_valid_time_;
  std::atomic<std::int64_t> last_truncate_;
  std::atomic<std::uint64_t> generation_{0};
};

}  // namespace llmscale::prom
