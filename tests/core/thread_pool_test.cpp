#include "core/thread_pool.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <mutex>
#include <numeric>
#include <thread>
#include <vector>

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

// Idle workers spin for a while, then sleep: loops that come after a pause long enough
// for them to fall asleep must wake them and still cover every index once.
TEST(ThreadPool, WakesWorkersThatFellAsleep) {
  ThreadPool pool(3);
  for (int round = 0; round < 20; ++round) {
    if (round % 2) std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kSpinMicros * 5));
    std::vector<int> hits(97, 0);
    pool.parallel_for(97, 1, [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) ++hits[size_t(i)];
    });
    for (int h : hits) ASSERT_EQ(h, 1) << "round " << round;
  }
}

// Destroying a pool whose workers sleep (or spin) ends promptly.
TEST(ThreadPool, DestroysIdlePools) {
  for (int i = 0; i < 20; ++i) {
    ThreadPool pool(2 + i % 3);
    if (i % 2) std::this_thread::sleep_for(std::chrono::microseconds(ThreadPool::kSpinMicros * 3));
    pool.parallel_for(10, 1, [](int64_t, int64_t) {});
  }
}

// A run's control: once it has expired the remaining chunks are skipped and the loop
// throws Interrupted on the caller, with workers and on one thread alone (cut in chunks).
TEST(ThreadPool, ExpiredControlSkipsTheRestAndThrows) {
  for (int threads : {1, 3}) {
    ThreadPool pool(threads);
    std::atomic<bool> cancel{false};
    RunControl control;
    control.cancel = &cancel;
    pool.set_control(&control);
    std::atomic<int64_t> done{0};
    try {
      pool.parallel_for(1000, 1, [&](int64_t b, int64_t e) {
        done += e - b;
        cancel = true;  // the first chunk cancels the run
      });
      ADD_FAILURE() << "no Interrupted with " << threads << " thread(s)";
    } catch (const Interrupted& e) {
      EXPECT_EQ(e.reason(), Interrupted::Reason::Cancelled);
    }
    EXPECT_GT(done.load(), 0);
    EXPECT_LT(done.load(), 1000) << threads << " thread(s) ran every chunk";
    // A deadline in the past; then no control: loops run whole again.
    cancel = false;
    RunControl late;
    late.deadline = RunControl::Clock::now() - std::chrono::milliseconds(1);
    pool.set_control(&late);
    EXPECT_THROW(pool.parallel_for(100, 1, [](int64_t, int64_t) {}), Interrupted);
    pool.set_control(nullptr);
    done = 0;
    pool.parallel_for(1000, 1, [&](int64_t b, int64_t e) { done += e - b; });
    EXPECT_EQ(done.load(), 1000);
  }
}

// on_every_thread runs its function once on each thread: as many distinct threads as
// the pool has, the caller's among them, every time.
TEST(ThreadPool, OnEveryThreadRunsOncePerThread) {
  for (int threads : {1, 2, 3}) {
    ThreadPool pool(threads);
    for (int round = 0; round < 20; ++round) {
      std::mutex m;
      std::vector<std::thread::id> ids;
      pool.on_every_thread([&] {
        std::lock_guard<std::mutex> lock(m);
        ids.push_back(std::this_thread::get_id());
      });
      ASSERT_EQ(int(ids.size()), threads);
      std::sort(ids.begin(), ids.end());
      EXPECT_EQ(std::unique(ids.begin(), ids.end()), ids.end()) << threads << " threads, round " << round;
      EXPECT_NE(std::find(ids.begin(), ids.end(), std::this_thread::get_id()), ids.end());
    }
  }
}

}  // namespace pith
