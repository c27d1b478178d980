#include "runtime/memory/planner.h"

#include <gtest/gtest.h>

#include <random>

namespace pith {

// No two buffers alive at the same step may overlap in the arena.
void expect_valid(const std::vector<BufferLifetime>& b, const MemoryPlan& p) {
  for (size_t i = 0; i < b.size(); ++i) {
    EXPECT_EQ(p.offsets[i] % 64, 0u);
    EXPECT_LE(p.offsets[i] + b[i].bytes, p.arena_bytes);
    for (size_t j = i + 1; j < b.size(); ++j) {
      bool time = b[i].first <= b[j].last && b[j].first <= b[i].last;
      bool space = p.offsets[i] < p.offsets[j] + b[j].bytes && p.offsets[j] < p.offsets[i] + b[i].bytes;
      ASSERT_FALSE(time && space && b[i].bytes && b[j].bytes) << i << " and " << j;
    }
  }
  EXPECT_GE(p.arena_bytes, p.lower_bound);
}

TEST(MemoryPlanner, ChainReusesTwoSlots) {
  // A chain a -> b -> c -> d: each buffer lives from its producer to its consumer.
  std::vector<BufferLifetime> b = {{1024, 0, 1}, {1024, 1, 2}, {1024, 2, 3}, {1024, 3, 4}};
  MemoryPlan p = plan_memory(b);
  expect_valid(b, p);
  EXPECT_EQ(p.arena_bytes, 2048u);
  EXPECT_EQ(p.lower_bound, 2048u);
}

TEST(MemoryPlanner, RandomLifetimesAreValidAndNearTheBound) {
  std::mt19937 rng(5);
  for (int trial = 0; trial < 50; ++trial) {
    std::vector<BufferLifetime> b;
    for (int i = 0; i < 60; ++i) {
      int64_t first = rng() % 40, len = rng() % 6;
      b.push_back({size_t(1 + rng() % 100000), first, first + len});
    }
    MemoryPlan p = plan_memory(b);
    expect_valid(b, p);
    EXPECT_LE(double(p.arena_bytes), 1.6 * double(p.lower_bound));
  }
}

TEST(MemoryPlanner, EmptyAndZeroSized) {
  EXPECT_EQ(plan_memory({}).arena_bytes, 0u);
  MemoryPlan p = plan_memory({{0, 0, 3}, {10, 1, 2}});
  EXPECT_EQ(p.arena_bytes, 64u);
}

}  // namespace pith
