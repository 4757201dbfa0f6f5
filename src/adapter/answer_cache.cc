// AnswerCache: see answer_cache.h.
#include "adapter/answer_cache.h"

#include <utility>

namespace llmscale::adapter {

std::shared_ptr<const net::SharedBody> AnswerCache::find(const std::string& key,
                                                         std::uint64_t generation,
                                                         std::int64_t now_ms) {
  std::lock_guard lock(mu_);
  auto it = by_key_.find(key);
  if (it == by_key_.end()) {
    ++misses_;
    return nullptr;
  }
  const AnswerValidity& v = it->second->validity;
  if (v.generation != generation || v.second != second_of(now_ms) || now_ms >= v.valid_until_ms) {
    erase(it->second);
    ++misses_;
    return nullptr;
  }
  lru_.splice(lru_.begin(), lru_, it->second);
  ++hits_;
  return it->second->body;
}

void AnswerCache::insert(const std::string& key, std::shared_ptr<const net::SharedBody> body,
                         AnswerValidity validity) {
  std::lock_guard lock(mu_);
  if (auto it = by_key_.find(key); it != by_key_.end()) erase(it->second);
  if (limits_.max_entries == 0 || key.size() + body->bytes().size() > limits_.max_bytes) return;
  lru_.push_front(Entry{key, std::move(body), validity});
  by_key_.emplace(lru_.front().key, lru_.begin());
  bytes_ += lru_.front().bytes();
  while (lru_.size() > limits_.max_entries || bytes_ > limits_.max_bytes) {
    erase(std::prev(lru_.end()));
  }
}

void AnswerCache::erase(Lru::iterator it) {
  bytes_ -= it->bytes();
  by_key_.erase(it->key);
  lru_.erase(it);
}

void AnswerCache::clear() {
  std::lock_guard lock(mu_);
  by_key_.clear();
  lru_.clear();
  bytes_ = 0;
}

AnswerCacheStats AnswerCache::stats() const {
  std::lock_guard lock(mu_);
  return {lru_.size(), bytes_, hits_, misses_};
}

}  // namespace llmscale::adapter
