#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <numeric>

namespace pith {

TEST(ThreadPool, CoversEveryIndexExactlyOnce) {
  for (int threads : {1, 2, 3, 8}) {
    ThreadPool pool(threads);
    for (int64_t n : {0, 1, 2, 7, 100, 1001}) {
      for (int64_t grain : {1, 3, 64}) {
        std::vector<int> hits(size_t(n), 0);
        pool.parallel_for(n, grain, [&](int64_t b, int64_t e) {
          for (int64_t i = b; i < e; ++i) ++hits[size_t(i)];
        });
        for (int h : hits) ASSERT_EQ(h, 1) << threads << " " << n << " " << grain;
      }
    }
  }
}

TEST(ThreadPool, ManyBackToBackLoopsDoNotRace) {
  ThreadPool pool(4);
  std::atomic<int64_t> total{0};
  for (int round = 0; round < 2000; ++round) {
    pool.parallel_for(16, 1, [&](int64_t b, int64_t e) { total += e - b; });
  }
  EXPECT_EQ(total.load(), 2000 * 16);
}

}  // namespace pith
