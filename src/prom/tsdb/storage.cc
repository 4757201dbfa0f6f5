// In-memory TSDB: series index with postings, per-series Gorilla chunks, retention.
#include "prom/tsdb/storage.h"

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <unordered_set>

namespace llmscale::prom {

namespace {

constexpr std::int64_t kNoTime = std::numeric_limits<std::int64_t>::min();

// A tiny lock for one series: held for one append or one chunk-list snapshot, never while
// decoding, so contention is short; spins briefly, then yields.
class SpinLock {
 public:
  void lock() {
    int spins = 0;
    while (locked_.exchange(true, std::memory_order_acquire)) {
      while (locked_.load(std::memory_order_relaxed)) {
        if (++spins > 64) std::this_thread::yield();
      }
    }
  }
  void unlock() { locked_.store(false, std::memory_order_release); }

 private:
  std::atomic<bool> locked_{false};
};

inline std::uint64_t value_bits(double v) {
  std::uint64_t b;
  std::memcpy(&b, &v, sizeof b);
  return b;
}

}  // namespace

class MemSeries {
 public:
  MemSeries(std::uint64_t ref, Labels labels, std::uint64_t hash)
      : ref(ref), labels(std::move(labels)), hash(hash) {}

  const std::uint64_t ref;
  const Labels labels;
  const std::uint64_t hash;
  std::atomic<std::int32_t> pins{0};

  mutable SpinLock lock;
  // Guarded by lock:
  std::vector<std::shared_ptr<const XorChunk>> chunks;  // closed, oldest first
  XorEncoder head;
  std::int64_t last_t = kNoTime;
  double last_v = 0;

  bool empty() const { return chunks.empty() && head.empty(); }
  std::int64_t min_time() const {
    if (!chunks.empty()) return chunks.front()->min_time();
    return head.empty() ? std::numeric_limits<std::int64_t>::max() : head.min_time();
  }
};

namespace {

bool by_ref(const MemSeries* a, const MemSeries* b) {
  return a->ref < b->ref;
}

// A snapshot of the chunks of one series that overlap a window; decoded outside the locks.
struct SeriesSnapshot {
  const MemSeries* series;
  Labels labels;
  std::vector<std::shared_ptr<const XorChunk>> chunks;
};

void decode_window(const std::vector<std::shared_ptr<const XorChunk>>& chunks, std::int64_t mint,
                   std::int64_t maxt, std::vector<SamplePoint>& out) {
  for (const auto& chunk : chunks) {
    XorIterator it(*chunk);
    while (it.next()) {
      std::int64_t t = it.t();
      if (t < mint) continue;
      if (t > maxt) break;
      out.push_back(it.at());
    }
  }
}

}  // namespace

struct Storage::Index {
  std::uint64_t next_ref = 1;
  std::vector<std::unique_ptr<MemSeries>> all;  // ascending ref
  std::unordered_map<std::uint64_t, std::vector<MemSeries*>> by_hash;
  std::map<std::string, std::map<std::string, std::vector<MemSeries*>, std::less<>>, std::less<>>
      postings;

  std::vector<MemSeries*> all_series() const {
    std::vector<MemSeries*> out;
    out.reserve(all.size());
    for (const auto& s : all) out.push_back(s.get());
    return out;
  }

  MemSeries* find(const Labels& labels, std::uint64_t hash) const {
    auto it = by_hash.find(hash);
    if (it == by_hash.end()) return nullptr;
    for (MemSeries* s : it->second) {
      if (s->labels == labels) return s;
    }
    return nullptr;
  }

  // Series whose value for `name` satisfies `pred` (only series that have the label).
  template <class Pred>
  std::vector<MemSeries*> matching_values(const std::string& name, Pred&& pred) const {
    auto it = postings.find(name);
    if (it == postings.end()) return {};
    const std::vector<MemSeries*>* single = nullptr;
    std::vector<MemSeries*> out;
    std::size_t lists = 0;
    for (const auto& [value, list] : it->second) {
      if (!pred(value)) continue;
      if (lists++ == 0) {
        single = &list;
      } else {
        if (lists == 2) out.assign(single->begin(), single->end());
        out.insert(out.end(), list.begin(), list.end());
      }
    }
    if (lists == 1) return *single;
    if (lists > 1) std::sort(out.begin(), out.end(), by_ref);
    return out;
  }
};

Storage::Storage(StorageOptions options)
    : options_(options),
      index_(std::make_unique<Index>()),
      max_time_(kNoTime),
      min_valid_time_(kNoTime),
      last_truncate_(kNoTime) {}

Storage::~Storage() = default;

const Labels& Storage::labels_of(const MemSeries* series) {
  return series->labels;
}

core::Result<MemSeries*> Storage::acquire(const Labels& labels, bool* created) {
  std::uint64_t hash = labels.hash();
  {
    std::shared_lock lock(mu_);
    if (MemSeries* s = index_->find(labels, hash)) {
      s->pins.fetch_add(1, std::memory_order_relaxed);
      if (created != nullptr) *created = false;
      return s;
    }
  }
  std::unique_lock lock(mu_);
  if (MemSeries* s = index_->find(labels, hash)) {
    s->pins.fetch_add(1, std::memory_order_relaxed);
    if (created != nullptr) *created = false;
    return s;
  }
  if (index_->all.size() >= options_.max_series) {
    // Worded like Prometheus' "sample limit exceeded (limit N)": it becomes the lastError of
    // the target whose scrape hit the cap.
    return core::make_error(core::ErrorCode::kResourceExhausted,
                            "series limit exceeded (limit " + std::to_string(options_.max_series) +
                                "): series " + labels.to_series_string() + " was not created");
  }
  auto series = std::make_unique<MemSeries>(index_->next_ref++, labels, hash);
  MemSeries* s = series.get();
  index_->all.push_back(std::move(series));
  index_->by_hash[hash].push_back(s);
  for (Label l : s->labels) {
    index_->postings[std::string(l.name)][std::string(l.value)].push_back(s);
  }
  s->pins.fetch_add(1, std::memory_order_relaxed);
  if (created != nullptr) *created = true;
  generation_.fetch_add(1, std::memory_order_release);
  return s;
}

void Storage::unpin(MemSeries* series) {
  series->pins.fetch_sub(1, std::memory_order_relaxed);
}

void Storage::note_time(std::int64_t t_ms) {
  std::int64_t current = max_time_.load(std::memory_order_relaxed);
  while (t_ms > current &&
         !max_time_.compare_exchange_weak(current, t_ms, std::memory_order_relaxed)) {
  }
}

AppendOutcome Storage::append_to(MemSeries* s, std::int64_t t, double v) {
  if (t < min_valid_time_.load(std::memory_order_relaxed)) return AppendOutcome::kTooOld;
  {
    std::lock_guard lock(s->lock);
    if (s->last_t != kNoTime) {
      if (t < s->last_t) return AppendOutcome::kOutOfOrder;
      if (t == s->last_t) {
        return value_bits(v) == value_bits(s->last_v) ? AppendOutcome::kDuplicateIgnored
                                                      : AppendOutcome::kDuplicate;
      }
    }
    if (s->head.samples() >= options_.samples_per_chunk) s->chunks.push_back(s->head.cut());
    s->head.append(t, v);
    s->last_t = t;
    s->last_v = v;
  }
  note_time(t);
  generation_.fetch_add(1, std::memory_order_release);
  return AppendOutcome::kAppended;
}

core::Status Storage::append(const Labels& labels, std::int64_t t_ms, double value) {
  auto series = acquire(labels);
  if (!series) return tl::unexpected(series.error());
  AppendOutcome outcome = append_to(*series, t_ms, value);
  unpin(*series);
  maybe_truncate();
  switch (outcome) {
    case AppendOutcome::kAppended:
    case AppendOutcome::kDuplicateIgnored: return {};
    case AppendOutcome::kOutOfOrder:
      return core::make_error(core::ErrorCode::kOutOfRange, "out of order sample");
    case AppendOutcome::kDuplicate:
      return core::make_error(core::ErrorCode::kOutOfRange, "duplicate sample for timestamp");
    case AppendOutcome::kTooOld:
      return core::make_error(core::ErrorCode::kOutOfRange, "out of bounds: sample too old");
  }
  return {};
}

std::vector<MemSeries*> Storage::postings_for(const std::vector<Matcher>& matchers) const {
  const Index& idx = *index_;
  // As Prometheus' PostingsForMatchers: start from the most selective postings lists (equality
  // matchers that do not match "", intersected), then check every other matcher against the
  // candidates' own labels instead of building its postings over every series (a matcher such
  // as namespace!="" or pod=~"a|b" selects nearly everything; a label a series lacks reads as "",
  // so matchers that match "" keep those series).
  std::vector<MemSeries*> result;
  std::vector<const Matcher*> rest;
  // The smallest equality postings list gives the candidates (only it is copied); the other
  // equality matchers are checked on the candidates' labels like the rest: a list such as
  // namespace="default" holds nearly every series, and intersecting with it costs its length.
  const std::vector<MemSeries*>* smallest = nullptr;
  const Matcher* smallest_matcher = nullptr;
  for (const Matcher& m : matchers) {
    if (m.matches_empty() || m.type() != MatchType::kEqual) {
      rest.push_back(&m);
      continue;
    }
    auto it = idx.postings.find(m.name());
    if (it == idx.postings.end()) return result;
    auto v = it->second.find(m.value());
    if (v == it->second.end() || v->second.empty()) return result;
    if (smallest == nullptr || v->second.size() < smallest->size()) {
      if (smallest_matcher != nullptr) rest.push_back(smallest_matcher);
      smallest = &v->second;
      smallest_matcher = &m;
    } else {
      rest.push_back(&m);
    }
  }
  const bool have = smallest != nullptr;
  if (have) result = *smallest;
  if (!have) {
    // No equality to start from: the first matcher that does not match "" gives the candidates
    // (its postings are the union of the values it matches); else every series.
    auto first = std::find_if(rest.begin(), rest.end(),
                              [](const Matcher* m) { return !m->matches_empty(); });
    if (first != rest.end()) {
      const Matcher& m = **first;
      result = idx.matching_values(m.name(), [&](const std::string& v) { return m.matches(v); });
      rest.erase(first);
    } else {
      result = idx.all_series();
    }
  }
  if (rest.empty() || result.empty()) return result;
  std::vector<MemSeries*> kept;
  kept.reserve(result.size());
  for (MemSeries* series : result) {
    bool ok = true;
    for (const Matcher* m : rest) {
      if (!m->matches(series->labels)) {
        ok = false;
        break;
      }
    }
    if (ok) kept.push_back(series);
  }
  return kept;
}

std::vector<SeriesSamples> Storage::select(const std::vector<Matcher>& matchers, std::int64_t mint,
                                           std::int64_t maxt) const {
  std::vector<SeriesSnapshot> snapshots;
  {
    std::shared_lock lock(mu_);
    std::vector<MemSeries*> series = postings_for(matchers);
    snapshots.reserve(series.size());
    for (MemSeries* s : series) {
      SeriesSnapshot snap{s, {}, {}};
      {
        std::lock_guard series_lock(s->lock);
        if (s->last_t == kNoTime || s->last_t < mint || s->min_time() > maxt) continue;
        for (const auto& c : s->chunks) {
          if (c->max_time() >= mint && c->min_time() <= maxt) snap.chunks.push_back(c);
        }
        if (!s->head.empty() && s->head.max_time() >= mint && s->head.min_time() <= maxt) {
          snap.chunks.push_back(s->head.snapshot());
        }
      }
      if (snap.chunks.empty()) continue;
      snap.labels = s->labels;
      snapshots.push_back(std::move(snap));
    }
  }
  std::vector<SeriesSamples> out;
  out.reserve(snapshots.size());
  for (auto& snap : snapshots) {
    SeriesSamples ss;
    decode_window(snap.chunks, mint, maxt, ss.samples);
    if (ss.samples.empty()) continue;
    ss.labels = std::move(snap.labels);
    out.push_back(std::move(ss));
  }
  return out;
}

std::vector<SeriesSamples> Storage::select_latest(const std::vector<Matcher>& matchers,
                                                  std::int64_t mint, std::int64_t maxt) const {
  std::vector<SeriesSamples> out;
  std::vector<SeriesSnapshot> older;  // series whose newest sample is after maxt: decode
  {
    std::shared_lock lock(mu_);
    std::vector<MemSeries*> series = postings_for(matchers);
    out.reserve(series.size());
    for (MemSeries* s : series) {
      std::int64_t t;
      double v;
      std::shared_ptr<const XorChunk> chunk;
      {
        std::lock_guard series_lock(s->lock);
        t = s->last_t;
        v = s->last_v;
        if (t == kNoTime || s->min_time() > maxt) continue;
        if (t > maxt) {
          // The newest sample <= maxt is in the newest chunk that starts at or before maxt.
          if (!s->head.empty() && s->head.min_time() <= maxt) {
            chunk = s->head.snapshot();
          } else {
            for (auto it = s->chunks.rbegin(); it != s->chunks.rend(); ++it) {
              if ((*it)->min_time() <= maxt) {
                chunk = *it;
                break;
              }
            }
          }
        }
      }
      if (chunk) {
        older.push_back(SeriesSnapshot{s, s->labels, {std::move(chunk)}});
        continue;
      }
      if (t < mint) continue;
      SeriesSamples ss;
      ss.labels = s->labels;
      ss.samples.push_back(SamplePoint{t, v});
      out.push_back(std::move(ss));
    }
  }
  for (auto& snap : older) {
    XorIterator it(*snap.chunks.front());
    bool found = false;
    SamplePoint last;
    while (it.next() && it.t() <= maxt) {
      last = it.at();
      found = true;
    }
    if (!found || last.t < mint) continue;
    SeriesSamples ss;
    ss.labels = std::move(snap.labels);
    ss.samples.push_back(last);
    out.push_back(std::move(ss));
  }
  return out;
}

std::vector<MemSeries*> Storage::series_for_sets(
    const std::vector<std::vector<Matcher>>& sets) const {
  if (sets.empty()) return index_->all_series();
  std::vector<MemSeries*> out;
  for (const auto& set : sets) {
    std::vector<MemSeries*> part = postings_for(set);
    std::vector<MemSeries*> merged;
    std::set_union(out.begin(), out.end(), part.begin(), part.end(), std::back_inserter(merged),
                   by_ref);
    out = std::move(merged);
  }
  return out;
}

namespace {
bool overlaps(const MemSeries* s, std::int64_t mint, std::int64_t maxt) {
  std::lock_guard lock(s->lock);
  return s->last_t != kNoTime && s->last_t >= mint && s->min_time() <= maxt;
}
}  // namespace

std::vector<Labels> Storage::series(const std::vector<std::vector<Matcher>>& matcher_sets,
                                    std::int64_t mint, std::int64_t maxt) const {
  std::vector<Labels> out;
  {
    std::shared_lock lock(mu_);
    for (MemSeries* s : series_for_sets(matcher_sets)) {
      if (overlaps(s, mint, maxt)) out.push_back(s->labels);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<std::string> Storage::label_names(const std::vector<std::vector<Matcher>>& matcher_sets,
                                              std::int64_t mint, std::int64_t maxt) const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  std::unordered_set<std::string_view> seen;
  for (MemSeries* s : series_for_sets(matcher_sets)) {
    if (!overlaps(s, mint, maxt)) continue;
    for (Label l : s->labels) {
      if (seen.insert(l.name).second) out.emplace_back(l.name);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::vector<std::string> Storage::label_values(
    std::string_view name, const std::vector<std::vector<Matcher>>& matcher_sets, std::int64_t mint,
    std::int64_t maxt) const {
  std::vector<std::string> out;
  std::shared_lock lock(mu_);
  std::unordered_set<std::string_view> seen;
  for (MemSeries* s : series_for_sets(matcher_sets)) {
    std::string_view v = s->labels.get(name);
    if (v.empty() || !overlaps(s, mint, maxt)) continue;
    if (seen.insert(v).second) out.emplace_back(v);
  }
  std::sort(out.begin(), out.end());
  return out;
}

void Storage::truncate(std::int64_t min_time) {
  std::int64_t current = min_valid_time_.load(std::memory_order_relaxed);
  while (min_time > current &&
         !min_valid_time_.compare_exchange_weak(current, min_time, std::memory_order_relaxed)) {
  }
  // Dropped chunks change what range queries over old data see; tell caches now (a reader that
  // loaded the old generation during the drop sees the new one afterwards and evaluates again).
  generation_.fetch_add(1, std::memory_order_release);
  std::vector<MemSeries*> empty;
  {
    std::shared_lock lock(mu_);
    for (const auto& owned : index_->all) {
      MemSeries* s = owned.get();
      std::lock_guard series_lock(s->lock);
      auto& chunks = s->chunks;
      auto keep = std::find_if(chunks.begin(), chunks.end(),
                               [&](const auto& c) { return c->max_time() >= min_time; });
      chunks.erase(chunks.begin(), keep);
      if (chunks.empty() && !s->head.empty() && s->head.max_time() < min_time) s->head = {};
      if (s->empty() && s->pins.load(std::memory_order_relaxed) == 0) empty.push_back(s);
    }
  }
  if (empty.empty()) return;
  std::unique_lock lock(mu_);
  std::unordered_set<MemSeries*> doomed;
  for (MemSeries* s : empty) {
    std::lock_guard series_lock(s->lock);
    if (s->empty() && s->pins.load(std::memory_order_relaxed) == 0) doomed.insert(s);
  }
  if (doomed.empty()) return;
  Index& idx = *index_;
  for (MemSeries* s : doomed) {
    auto& bucket = idx.by_hash[s->hash];
    std::erase(bucket, s);
    if (bucket.empty()) idx.by_hash.erase(s->hash);
    for (Label l : s->labels) {
      auto name_it = idx.postings.find(l.name);
      if (name_it == idx.postings.end()) continue;
      auto value_it = name_it->second.find(l.value);
      if (value_it == name_it->second.end()) continue;
      std::erase(value_it->second, s);
      if (value_it->second.empty()) name_it->second.erase(value_it);
      if (name_it->second.empty()) idx.postings.erase(name_it);
    }
  }
  std::erase_if(idx.all, [&](const auto& owned) { return doomed.count(owned.get()) > 0; });
}

void Storage::maybe_truncate() {
  std::int64_t max_time = max_time_.load(std::memory_order_relaxed);
  if (max_time == kNoTime) return;
  std::int64_t retention_ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(options_.retention).count();
  std::int64_t cutoff = max_time - retention_ms;
  std::int64_t last = last_truncate_.load(std::memory_order_relaxed);
  if (last != kNoTime && cutoff - last < std::max<std::int64_t>(retention_ms / 8, 1)) return;
  if (!last_truncate_.compare_exchange_strong(last, cutoff, std::memory_order_relaxed)) return;
  truncate(cutoff);
}

std::int64_t Storage::earliest_newest_sample_after(std::int64_t after_ms) const {
  std::int64_t earliest = std::numeric_limits<std::int64_t>::max();
  std::shared_lock lock(mu_);
  for (const auto& owned : index_->all) {
    std::lock_guard series_lock(owned->lock);
    if (owned->last_t != kNoTime && owned->last_t > after_ms) {
      earliest = std::min(earliest, owned->last_t);
    }
  }
  return earliest;
}

std::size_t Storage::series_count() const {
  std::shared_lock lock(mu_);
  return index_->all.size();
}

StorageStats Storage::stats() const {
  StorageStats st;
  std::shared_lock lock(mu_);
  st.series = index_->all.size();
  std::int64_t min_time = std::numeric_limits<std::int64_t>::max();
  std::size_t postings_entries = 0;
  for (const auto& owned : index_->all) {
    const MemSeries* s = owned.get();
    std::lock_guard series_lock(s->lock);
    st.label_bytes += s->labels.bytes();
    for (const auto& c : s->chunks) {
      ++st.chunks;
      st.samples += c->samples();
      st.chunk_bytes += c->data().capacity();
      // Chunk object, shared_ptr control block and the chunk-list slot.
      st.memory_bytes += c->bytes() + 16 + sizeof(std::shared_ptr<const XorChunk>);
    }
    if (!s->head.empty()) {
      ++st.chunks;
      st.samples += s->head.samples();
      st.chunk_bytes += s->head.bytes();
    }
    st.memory_bytes += sizeof(MemSeries) + s->labels.bytes() + s->head.bytes() +
                       (s->chunks.capacity() - s->chunks.size()) * sizeof(void*) * 2;
    postings_entries += s->labels.size();
    if (s->last_t != kNoTime) min_time = std::min(min_time, s->min_time());
  }
  // Index: the owning vector slot, the hash map node and bucket, one posting per label.
  st.memory_bytes += st.series * (sizeof(void*) + 64) + postings_entries * sizeof(void*);
  for (const auto& [name, values] : index_->postings) {
    st.memory_bytes += name.capacity() + 64;
    for (const auto& [value, list] : values) {
      // The posting list's own object (its elements are counted above) plus its spare capacity.
      using PostingList = std::remove_cvref_t<decltype(list)>;
      st.memory_bytes += value.capacity() + 64 + sizeof(PostingList) +
                         (list.capacity() - list.size()) * sizeof(void*);
    }
  }
  std::int64_t max_time = max_time_.load(std::memory_order_relaxed);
  st.max_time = max_time == kNoTime ? 0 : max_time;
  st.min_time = st.samples == 0 ? 0 : min_time;
  return st;
}

}  // namespace llmscale::prom
