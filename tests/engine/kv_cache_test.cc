// KvCache: all-or-nothing allocation, reference counting, LRU eviction of free cached blocks,
// prefix hits (vLLM V1 BlockPool behaviour).
#include "engine/kv_cache.h"

#include <gtest/gtest.h>

#include <vector>

namespace llmscale::engine {
namespace {

bool consistent(const KvCache& kv, std::vector<const std::vector<BlockId>*> tables) {
  return kv.check_invariants(tables);
}

TEST(KvCacheTest, AllocatesAndFrees) {
  KvCache kv(8, 16, true);
  std::vector<BlockId> a, b;
  EXPECT_TRUE(kv.allocate(a, 3));
  EXPECT_TRUE(kv.allocate(b, 5));
  EXPECT_EQ(kv.num_free_blocks(), 0);
  EXPECT_DOUBLE_EQ(kv.usage(), 1.0);
  EXPECT_TRUE(consistent(kv, {&a, &b}));
  std::vector<BlockId> c;
  EXPECT_FALSE(kv.allocate(c, 1));
  EXPECT_TRUE(c.empty());
  kv.free(a);
  EXPECT_TRUE(a.empty());
  EXPECT_EQ(kv.num_free_blocks(), 3);
  EXPECT_TRUE(kv.allocate(b, 7));  // grows by two
  EXPECT_EQ(b.size(), 7u);
  EXPECT_TRUE(consistent(kv, {&a, &b}));
}

TEST(KvCacheTest, AllocationIsAllOrNothing) {
  KvCache kv(4, 16, true);
  std::vector<BlockId> a;
  EXPECT_TRUE(kv.allocate(a, 2));
  EXPECT_FALSE(kv.allocate(a, 5));
  EXPECT_EQ(a.size(), 2u);
  EXPECT_EQ(kv.num_free_blocks(), 2);
}

TEST(KvCacheTest, PrefixHitsShareBlocksAndSurviveTheirOwner) {
  KvCache kv(8, 16, true);
  std::vector<BlockId> a;
  ASSERT_TRUE(kv.allocate(a, 3));
  kv.cache_block(a[0], 100);
  kv.cache_block(a[1], 101);
  std::vector<BlockHash> hashes = {100, 101, 999};
  std::vector<BlockId> hits;
  EXPECT_EQ(kv.find_prefix(hashes, 3, hits), 2);
  EXPECT_EQ(hits, (std::vector<BlockId>{a[0], a[1]}));
  std::vector<BlockId> b;
  ASSERT_TRUE(kv.allocate(b, 3, hits));  // two shared, one fresh
  EXPECT_EQ(kv.num_used_blocks(), 4);
  EXPECT_TRUE(consistent(kv, {&a, &b}));
  kv.free(a);
  EXPECT_EQ(kv.num_used_blocks(), 3);  // the shared ones are still owned by b
  kv.free(b);
  EXPECT_EQ(kv.num_used_blocks(), 0);
  // Still findable after every owner left.
  hits.clear();
  EXPECT_EQ(kv.find_prefix(hashes, 3, hits), 2);
  EXPECT_TRUE(consistent(kv, {}));
}

TEST(KvCacheTest, HitsOnFreeBlocksDoNotCountAsFreeCapacity) {
  KvCache kv(4, 16, true);
  std::vector<BlockId> a;
  ASSERT_TRUE(kv.allocate(a, 2));
  kv.cache_block(a[0], 7);
  kv.cache_block(a[1], 8);
  kv.free(a);
  std::vector<BlockHash> hashes = {7, 8};
  std::vector<BlockId> hits;
  ASSERT_EQ(kv.find_prefix(hashes, 2, hits), 2);
  std::vector<BlockId> b;
  EXPECT_FALSE(kv.allocate(b, 5, hits));  // 2 hits + 3 fresh > 4 blocks
  EXPECT_TRUE(kv.allocate(b, 4, hits));
  EXPECT_EQ(kv.num_free_blocks(), 0);
  EXPECT_EQ(kv.num_cached_blocks(), 2);  // reused blocks kept their hashes
}

TEST(KvCacheTest, EvictsLeastRecentlyFreedAndTailBlocksFirst) {
  KvCache kv(4, 16, true);
  std::vector<BlockId> a, b;
  ASSERT_TRUE(kv.allocate(a, 2));
  ASSERT_TRUE(kv.allocate(b, 2));
  kv.cache_block(a[0], 10);
  kv.cache_block(a[1], 11);
  kv.cache_block(b[0], 20);
  kv.cache_block(b[1], 21);
  kv.free(a);  // queue: a[1], a[0]
  kv.free(b);  // queue: a[1], a[0], b[1], b[0]
  std::vector<BlockId> c;
  ASSERT_TRUE(kv.allocate(c, 1));
  EXPECT_EQ(kv.evictions(), 1u);
  std::vector<BlockId> hits;
  std::vector<BlockHash> a_hashes = {10, 11};
  EXPECT_EQ(kv.find_prefix(a_hashes, 2, hits), 1);  // a's tail went first, its head survives
  ASSERT_TRUE(kv.allocate(c, 3));
  hits.clear();
  std::vector<BlockHash> b_hashes = {20, 21};
  EXPECT_EQ(kv.find_prefix(b_hashes, 2, hits), 1);  // then a's head, then b's tail
  EXPECT_TRUE(consistent(kv, {&c}));
}

TEST(KvCacheTest, WithoutPrefixCachingNothingIsFound) {
  KvCache kv(4, 16, false);
  std::vector<BlockId> a;
  ASSERT_TRUE(kv.allocate(a, 1));
  kv.cache_block(a[0], 5);
  std::vector<BlockHash> hashes = {5};
  std::vector<BlockId> hits;
  EXPECT_EQ(kv.find_prefix(hashes, 1, hits), 0);
  EXPECT_EQ(kv.num_cached_blocks(), 0);
}

TEST(KvCacheTest, ResetDropsOnlyFreeBlocksHashes) {
  KvCache kv(4, 16, true);
  std::vector<BlockId> a, b;
  ASSERT_TRUE(kv.allocate(a, 1));
  ASSERT_TRUE(kv.allocate(b, 1));
  kv.cache_block(a[0], 1);
  kv.cache_block(b[0], 2);
  kv.free(a);
  kv.reset_prefix_cache();
  EXPECT_EQ(kv.num_cached_blocks(), 1);
  EXPECT_TRUE(consistent(kv, {&b}));
}

}  // namespace
}  // namespace llmscale::engine
