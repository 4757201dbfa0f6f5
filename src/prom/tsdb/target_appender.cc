// Per-target scrape cache, batching and staleness markers.
#include "prom/tsdb/target_appender.h"

#include <cassert>

#include <xxhash.h>

namespace llmscale::prom {

std::size_t TargetAppender::KeyHash::operator()(std::string_view s) const {
  return static_cast<std::size_t>(XXH3_64bits(s.data(), s.size()));
}

TargetAppender::TargetAppender(Storage& storage) : storage_(storage) {}

TargetAppender::~TargetAppender() {
  for (auto& [key, entry] : cache_) release(entry);
}

void TargetAppender::release(Entry& entry) {
  if (entry.series != nullptr) {
    storage_.unpin(entry.series);
    entry.series = nullptr;
  }
}

void TargetAppender::begin(std::int64_t scrape_time_ms) {
  if (in_batch_) rollback();
  pending_.clear();
  batch_order_.clear();
  batch_stats_ = {};
  series_limit_error_.reset();
  scrape_time_ = scrape_time_ms;
  epoch_ = last_committed_ + 1;
  in_batch_ = true;
}

void TargetAppender::append_entry(Entry& entry, double value,
                                  std::optional<std::int64_t> timestamp_ms) {
  entry.seen_epoch = epoch_;
  entry.explicit_timestamp = timestamp_ms.has_value();
  pending_.push_back(Pending{entry.series, timestamp_ms.value_or(scrape_time_), value});
}

TargetAppender::Lookup TargetAppender::append_cached(std::string_view key, double value,
                                                     std::optional<std::int64_t> timestamp_ms) {
  assert(in_batch_);
  Slot* slot = nullptr;
  std::size_t position = batch_order_.size();
  if (position < order_.size() && order_[position]->first == key) {
    slot = order_[position];
  } else {
    auto it = cache_.find(key);
    if (it == cache_.end()) return Lookup::kUnknown;
    slot = &*it;
  }
  batch_order_.push_back(slot);
  Entry& entry = slot->second;
  if (entry.series == nullptr) {
    entry.seen_epoch = epoch_;
    ++batch_stats_.dropped_by_relabeling;
    return Lookup::kDropped;
  }
  append_entry(entry, value, timestamp_ms);
  return Lookup::kAppended;
}

void TargetAppender::append_new(std::string_view key, const std::optional<Labels>& labels,
                                double value, std::optional<std::int64_t> timestamp_ms) {
  assert(in_batch_);
  if (!labels) {
    auto [it, inserted] = cache_.try_emplace(std::string(key));
    batch_order_.push_back(&*it);
    Entry& entry = it->second;
    release(entry);
    entry.seen_epoch = epoch_;
    ++batch_stats_.dropped_by_relabeling;
    return;
  }
  bool created = false;
  auto series = storage_.acquire(*labels, &created);
  if (!series) {
    ++batch_stats_.series_limit_rejected;
    if (!series_limit_error_) series_limit_error_ = series.error();
    return;
  }
  auto [it, inserted] = cache_.try_emplace(std::string(key));
  batch_order_.push_back(&*it);
  Entry& entry = it->second;
  if (!inserted) release(entry);
  entry.series = *series;
  if (created) ++batch_stats_.series_created;
  ++batch_stats_.series_added;
  append_entry(entry, value, timestamp_ms);
}

void TargetAppender::append_report(const Labels& labels, double value) {
  assert(in_batch_);
  // Report series live in the same cache under keys that no exposition line can produce.
  std::string key = "\x01";
  key += labels.data();
  auto it = cache_.find(key);
  if (it == cache_.end()) {
    bool created = false;
    auto series = storage_.acquire(labels, &created);
    if (!series) {
      ++batch_stats_.series_limit_rejected;
      if (!series_limit_error_) series_limit_error_ = series.error();
      return;
    }
    it = cache_.emplace(std::move(key), Entry{}).first;
    it->second.series = *series;
    it->second.report = true;
    if (created) ++batch_stats_.series_created;
  }
  append_entry(it->second, value, std::nullopt);
}

ScrapeStats TargetAppender::commit() {
  assert(in_batch_);
  ScrapeStats stats = batch_stats_;
  for (const Pending& p : pending_) {
    switch (storage_.append_to(p.series, p.t, p.v)) {
      case AppendOutcome::kAppended: ++stats.samples_appended; break;
      case AppendOutcome::kDuplicateIgnored: break;
      case AppendOutcome::kOutOfOrder: ++stats.out_of_order; break;
      case AppendOutcome::kDuplicate: ++stats.duplicates; break;
      case AppendOutcome::kTooOld: ++stats.too_old; break;
    }
  }
  pending_.clear();
  // Staleness: series of the previous scrape that this one lacks.
  double stale = stale_nan();
  for (auto it = cache_.begin(); it != cache_.end();) {
    Entry& e = it->second;
    if (e.seen_epoch == epoch_) {
      e.committed_epoch = epoch_;
      ++it;
      continue;
    }
    if (e.report) {
      ++it;
      continue;
    }
    if (e.series != nullptr && !e.explicit_timestamp && last_committed_ != 0 &&
        e.committed_epoch == last_committed_) {
      if (storage_.append_to(e.series, scrape_time_, stale) == AppendOutcome::kAppended) {
        ++stats.stale_markers;
      }
    }
    release(e);
    it = cache_.erase(it);
  }
  order_.swap(batch_order_);
  batch_order_.clear();
  last_committed_ = epoch_;
  in_batch_ = false;
  storage_.maybe_truncate();
  return stats;
}

void TargetAppender::rollback() {
  pending_.clear();
  batch_order_.clear();
  batch_stats_ = {};
  series_limit_error_.reset();
  // Entries first seen in this batch were never committed; the next commit evicts them.
  for (auto& [key, e] : cache_) {
    if (e.seen_epoch == epoch_) e.seen_epoch = 0;
  }
  in_batch_ = false;
}

ScrapeStats TargetAppender::mark_all_stale(std::int64_t t_ms) {
  if (in_batch_) rollback();
  ScrapeStats stats;
  double stale = stale_nan();
  for (auto& [key, e] : cache_) {
    if (e.series != nullptr && !e.explicit_timestamp && last_committed_ != 0 &&
        e.committed_epoch == last_committed_) {
      if (storage_.append_to(e.series, t_ms, stale) == AppendOutcome::kAppended) {
        ++stats.stale_markers;
      }
    }
    release(e);
  }
  cache_.clear();
  order_.clear();
  return stats;
}

}  // namespace llmscale::prom
