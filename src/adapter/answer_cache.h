// AnswerCache: rendered custom-metrics answers kept while the data under them is unchanged.
//
// An entry is the exact body a request was answered with, filed under a key naming everything
// the body was built from except the TSDB's contents and the clock: the request (API version,
// resource, namespace, name, metric, selectors, pretty), the objects listed and the PromQL run.
// It is reused only while (a) the storage's write generation is the one read before the answer
// was evaluated, (b) the clock is in the same whole second the answer's timestamps name
// (custom.metrics.k8s.io stamps "now" at second precision), and (c) the clock is before
// `valid_until_ms` (the first moment the lookback window could drop a series without a write).
// So a reused body is byte for byte what evaluating the request again would write.
//
// Bounded by entries and bytes (key + plain body), least recently used out first. clear() drops
// everything (the adapter calls it on relist).
//
// Bodies are net::SharedBody: the server sends an entry's bytes straight from the cache, and
// its gzip form, made by the first client that accepts gzip, stays with the entry for every
// later one (so it is compressed once; it is not counted in `bytes`, being a fraction of the
// plain size).
//
// Thread-safety: every method may be called from any thread at once (one mutex; the body is
// shared, never copied).
#pragma once

#include <cstddef>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

#include "net/http.h"

namespace llmscale::adapter {

struct AnswerCacheLimits {
  std::size_t max_entries = 256;
  std::size_t max_bytes = 64u << 20;  // keys + bodies
};

struct AnswerCacheStats {
  std::size_t entries = 0;
  std::size_t bytes = 0;
  std::uint64_t hits = 0;
  std::uint64_t misses = 0;
};

// What an answer was evaluated against.
struct AnswerValidity {
  std::uint64_t generation = 0;  // storage generation read before evaluating
  std::int64_t second = 0;       // floor(evaluation time / 1 s), the timestamps' second
  std::int64_t valid_until_ms = 0;
};

class AnswerCache {
 public:
  explicit AnswerCache(AnswerCacheLimits limits = {}) : limits_(limits) {}

  // The body filed under `key` when it is still valid for `generation` at `now_ms`; counts a
  // hit or a miss. An entry found stale is dropped.
  std::shared_ptr<const net::SharedBody> find(const std::string& key, std::uint64_t generation,
                                              std::int64_t now_ms);
  // Files `body` (replacing an older entry for `key`), then evicts least recently used entries
  // until both limits hold. A body larger than max_bytes on its own is not kept.
  void insert(const std::string& key, std::shared_ptr<const net::SharedBody> body,
              AnswerValidity validity);
  void clear();
  AnswerCacheStats stats() const;

  // floor(ms / 1000), also for times before 1970.
  static std::int64_t second_of(std::int64_t ms) { return ms >= 0 ? ms / 1000 : (ms - 999) / 1000; }

 private:
  struct Entry {
    std::string key;
    std::shared_ptr<const net::SharedBody> body;
    AnswerValidity validity;
    std::size_t bytes() const { return key.size() + body->bytes().size(); }
  };
  using Lru = std::list<Entry>;  // most recently used first
  void erase(Lru::iterator it);

  AnswerCacheLimits limits_;
  mutable std::mutex mu_;
  Lru lru_;
  std::unordered_map<std::string_view, Lru::iterator> by_key_;  // views into Entry::key
  std::size_t bytes_ = 0;
  std::uint64_t hits_ = 0;
  std::uint64_t misses_ = 0;
};

}  // namespace llmscale::adapter
