// KvCache: the paged KV cache of one replica, with vLLM V1's prefix cache (BlockPool and
// KVCacheManager in vllm/v1/core/).
//
// The cache is `num_blocks` blocks of `block_size` tokens. A request owns a block table (a
// vector of block ids, kept in the request, passed in here). A full block gets a hash that
// identifies its content and everything before it (a chain hash); with prefix caching on, a
// hashed block stays findable after its last owner frees it, until it is evicted.
// vLLM V1 rules followed:
//  * free blocks form one LRU queue; allocation takes from the front, evicting the hash of a
//    cached block it reuses; a freed request returns its blocks to the back, last block first,
//    so a prompt's tail is evicted before its (more shareable) head;
//  * a prefix hit takes a reference on the cached block, removing it from the free queue when
//    it had no owner;
//  * when two blocks end up with the same hash only the first is indexed.
//
// Not thread-safe; owned by one Engine.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

namespace llmscale::engine {

using BlockId = std::int32_t;
using BlockHash = std::uint64_t;

class KvCache {
 public:
  // REQUIRES: num_blocks >= 1, block_size >= 1.
  KvCache(std::int64_t num_blocks, int block_size, bool enable_prefix_caching);

  std::int64_t num_blocks() const { return std::int64_t(blocks_.size()); }
  int block_size() const { return block_size_; }
  bool prefix_caching() const { return prefix_caching_; }
  // Blocks in the free queue (never used, or freed and possibly still holding a cached prefix).
  std::int64_t num_free_blocks() const { return num_free_; }
  // Blocks referenced by at least one request.
  std::int64_t num_used_blocks() const { return num_blocks() - num_free_; }
  // vLLM's kv_cache_usage_perc: used / total, in [0, 1].
  double usage() const { return double(num_used_blocks()) / double(num_blocks()); }
  std::int64_t num_cached_blocks() const { return std::int64_t(cached_.size()); }
  std::uint64_t evictions() const { return evictions_; }

  // Leading blocks of `hashes` found in the cache (at most max_blocks), appended to `hits`.
  // Does not change the cache. Returns the number found.
  int find_prefix(std::span<const BlockHash> hashes, int max_blocks,
                  std::vector<BlockId>& hits) const;

  // Grows `table` to `total_blocks` blocks: first the prefix `hits` (only when the table is
  // empty), then fresh blocks from the free queue. All or nothing: returns false, changing
  // nothing, when the free queue cannot supply them.
  bool allocate(std::vector<BlockId>& table, std::int64_t total_blocks,
                std::span<const BlockId> hits = {});

  // Marks block `id` as holding the content `hash` (a full block); no-op without prefix caching
  // or when the block is already hashed.
  void cache_block(BlockId id, BlockHash hash);

  // Releases every block of `table` (last block first) and clears it.
  void free(std::vector<BlockId>& table);

  // Drops every cached hash (vLLM's reset_prefix_cache); only free blocks lose theirs.
  void reset_prefix_cache();

  // Consistency check for tests: reference counts match `tables`, the free queue holds exactly
  // the unreferenced blocks, and the hash index points at hashed blocks.
  bool check_invariants(std::span<const std::vector<BlockId>* const> tables) const;

 private:
  struct Block {
    std::int32_t ref = 0;
    BlockId prev = -1;  // free-queue links (valid while ref == 0)
    BlockId next = -1;
    bool hashed = false;
    BlockHash hash = 0;
  };
  void push_back_free(BlockId id);
  void unlink_free(BlockId id);
  BlockId pop_front_free();

  int block_size_;
  bool prefix_caching_;
  std::vector<Block> blocks_;
  BlockId head_ = -1;  // least recently freed
  BlockId tail_ = -1;
  std::int64_t num_free_ = 0;
  std::uint64_t evictions_ = 0;
  // Open addressing (one allocation, reserved for every block): the index is hit on every
  // allocation, eviction and prefix lookup, and a node per entry made malloc a tenth of a
  // simulation's time.
  boost::unordered_flat_map<BlockHash, BlockId> cached_;
};

}  // namespace llmscale::engine
