// Paged KV cache with an LRU free queue and a prefix-hash index (vLLM V1 BlockPool).
#include "engine/kv_cache.h"

#include <cassert>

namespace llmscale::engine {

KvCache::KvCache(std::int64_t num_blocks, int block_size, bool enable_prefix_caching)
    : block_size_(block_size), prefix_caching_(enable_prefix_caching) {
  assert(num_blocks >= 1 && block_size >= 1);
  blocks_.resize(std::size_t(num_blocks));
  for (BlockId id = 0; id < BlockId(num_blocks); ++id) push_back_free(id);
  if (prefix_caching_) cached_.reserve(std::size_t(num_blocks));
}

void KvCache::push_back_free(BlockId id) {
  Block& b = blocks_[std::size_t(id)];
  b.prev = tail_;
  b.next = -1;
  if (tail_ >= 0) {
    blocks_[std::size_t(tail_)].next = id;
  } else {
    head_ = id;
  }
  tail_ = id;
  ++num_free_;
}

void KvCache::unlink_free(BlockId id) {
  Block& b = blocks_[std::size_t(id)];
  if (b.prev >= 0) {
    blocks_[std::size_t(b.prev)].next = b.next;
  } else {
    head_ = b.next;
  }
  if (b.next >= 0) {
    blocks_[std::size_t(b.next)].prev = b.prev;
  } else {
    tail_ = b.prev;
  }
  b.prev = b.next = -1;
  --num_free_;
}

BlockId KvCache::pop_front_free() {
  BlockId id = head_;
  unlink_free(id);
  Block& b = blocks_[std::size_t(id)];
  if (b.hashed) {
    // Evict: the content is about to be overwritten.
    auto it = cached_.find(b.hash);
    if (it != cached_.end() && it->second == id) cached_.erase(it);
    b.hashed = false;
    ++evictions_;
  }
  return id;
}

int KvCache::find_prefix(std::span<const BlockHash> hashes, int max_blocks,
                         std::vector<BlockId>& hits) const {
  if (!prefix_caching_ || cached_.empty()) return 0;
  int found = 0;
  for (BlockHash hash : hashes) {
    if (found >= max_blocks) break;
    auto it = cached_.find(hash);
    if (it == cached_.end()) break;
    hits.push_back(it->second);
    ++found;
  }
  return found;
}

bool KvCache::allocate(std::vector<BlockId>& table, std::int64_t total_blocks,
                       std::span<const BlockId> hits) {
  std::int64_t have = std::int64_t(table.size()) + std::int64_t(hits.size());
  std::int64_t fresh = total_blocks - have;
  if (fresh <= 0 && hits.empty()) return true;
  if (fresh < 0) fresh = 0;
  // Hits that sit in the free queue leave it, so they cannot also serve as fresh blocks.
  std::int64_t free_hits = 0;
  for (BlockId id : hits) free_hits += blocks_[std::size_t(id)].ref == 0 ? 1 : 0;
  if (fresh > num_free_ - free_hits) return false;
  for (BlockId id : hits) {
    Block& b = blocks_[std::size_t(id)];
    if (b.ref == 0) unlink_free(id);
    ++b.ref;
    table.push_back(id);
  }
  for (std::int64_t i = 0; i < fresh; ++i) {
    BlockId id = pop_front_free();
    blocks_[std::size_t(id)].ref = 1;
    table.push_back(id);
  }
  return true;
}

void KvCache::cache_block(BlockId id, BlockHash hash) {
  if (!prefix_caching_) return;
  Block& b = blocks_[std::size_t(id)];
  if (b.hashed) return;
  if (cached_.emplace(hash, id).second) {
    b.hashed = true;
    b.hash = hash;
  }
}

void KvCache::free(std::vector<BlockId>& table) {
  for (auto it = table.rbegin(); it != table.rend(); ++it) {
    Block& b = blocks_[std::size_t(*it)];
    assert(b.ref > 0);
    if (--b.ref == 0) push_back_free(*it);
  }
  table.clear();
}

void KvCache::reset_prefix_cache() {
  boost::unordered::erase_if(cached_, [this](const auto& entry) {
    Block& b = blocks_[std::size_t(entry.second)];
    if (b.ref != 0) return false;
    b.hashed = false;
    return true;
  });
}

bool KvCache::check_invariants(std::span<const std::vector<BlockId>* const> tables) const {
  std::vector<std::int32_t> refs(blocks_.size(), 0);
  for (const auto* table : tables) {
    for (BlockId id : *table) {
      if (id < 0 || std::size_t(id) >= blocks_.size()) return false;
      ++refs[std::size_t(id)];
    }
  }
  std::int64_t free_count = 0;
  for (std::size_t i = 0; i < blocks_.size(); ++i) {
    if (refs[i] != blocks_[i].ref) return false;
    if (blocks_[i].ref == 0) ++free_count;
  }
  if (free_count != num_free_) return false;
  std::int64_t walked = 0;
  BlockId prev = -1;
  for (BlockId id = head_; id >= 0; id = blocks_[std::size_t(id)].next) {
    if (blocks_[std::size_t(id)].ref != 0 || blocks_[std::size_t(id)].prev != prev) return false;
    prev = id;
    if (++walked > num_free_) return false;
  }
  if (walked != num_free_ || prev != tail_) return false;
  for (const auto& [hash, id] : cached_) {
    const Block& b = blocks_[std::size_t(id)];
    if (!b.hashed || b.hash != hash) return false;
  }
  return true;
}

}  // namespace llmscale::engine
