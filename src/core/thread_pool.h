// ThreadPool: a fixed set of worker threads that run one parallel loop at a time.
// The calling thread takes part, so a pool of N threads starts N-1 workers. Work is
// split into contiguous ranges by index only (never by timing), so a kernel that
// writes disjoint outputs per index gives bitwise identical results for any thread
// count. parallel_for performs no heap allocation.
//
// Interruption: while a RunControl is set (Session::run sets the run's deadline and cancel
// flag), every chunk checks it first; once it has expired the remaining chunks are skipped
// and parallel_for throws Interrupted on the calling thread, after every worker is done.
// Without workers the loop is then still cut in chunks, so one thread stops as promptly.
//
// Waking: an inference issues one parallel loop per node, a few hundred per run, often
// tens of microseconds apart. Sleeping on a futex between them costs more than the
// loops themselves, so workers (and the caller, waiting for the last range) spin on
// an atomic for a short while before they block (as XNNPACK's pthreadpool and ONNX
// Runtime's pool do). After kSpinMicros of idleness a worker sleeps and uses no CPU.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "core/run_control.h"

namespace pith {

class ThreadPool {
 public:
  explicit ThreadPool(int threads);
  ~ThreadPool();
  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  int threads() const { return int(workers_.size()) + 1; }

  // Calls fn(begin, end) over [0, n) split in ranges of at least `grain` indices.
  // Returns when every range is done. Not reentrant: call from one thread at a time.
  template <typename F>
  void parallel_for(int64_t n, int64_t grain, F&& fn) {
    if (n <= 0) return;
    if (grain < 1) grain = 1;
    int64_t max_chunks = (n + grain - 1) / grain;
    // A few chunks per thread, taken in turn: a thread that starts late (woken from
    // sleep, preempted) does less instead of holding everyone up.
    int64_t chunks = std::min<int64_t>(max_chunks, int64_t(threads()) * kChunksPerThread);
    if (chunks <= 1 || workers_.empty()) {
      if (!control_ || max_chunks <= 1) {
        fn(int64_t(0), n);
        return;
      }
      const int64_t serial = std::min<int64_t>(max_chunks, kSerialChunks);
      for (int64_t c = 0; c < serial; ++c) {
        check_run_control(control_);
        fn(c * n / serial, (c + 1) * n / serial);
      }
      return;
    }
    using Fn = std::remove_reference_t<F>;
    Task task{&invoke<Fn>, const_cast<void*>(static_cast<const void*>(&fn)), n, chunks};
    run(task);
    check_run_control(control_);
  }

  // Calls fn() once on each thread of the pool, the caller's included (to size per-thread
  // buffers, say). Each thread holds its call until every thread has made one, so no
  // thread makes two.
  template <typename F>
  void on_every_thread(F&& fn) {
    const int n = threads();
    if (n == 1) {
      fn();
      return;
    }
    std::atomic<int> arrived{0};
    const RunControl* control = control_;
    control_ = nullptr;  // not interruptible: every thread must arrive
    parallel_for(n, 1, [&](int64_t begin, int64_t end) {
      for (int64_t i = begin; i < end; ++i) {
        fn();
        arrived.fetch_add(1, std::memory_order_acq_rel);
        while (arrived.load(std::memory_order_acquire) < n) std::this_thread::yield();
      }
    });
    control_ = control;
  }

  // The run that parallel loops belong to from now on (nullptr: none). Set by the
  // thread that calls parallel_for, between loops.
  void set_control(const RunControl* control) { control_ = control && control->active() ? control : nullptr; }

  static constexpr int kChunksPerThread = 4;
  // How long an idle worker spins before it sleeps.
  static constexpr int64_t kSpinMicros = 200;
  // Chunks of an interruptible loop on the calling thread alone.
  static constexpr int64_t kSerialChunks = 16;

 private:
  struct Task {
    void (*call)(void* fn, int64_t begin, int64_t end);
    void* fn;
    int64_t n;
    int64_t chunks;
  };
  template <typename F>
  static void invoke(void* fn, int64_t begin, int64_t end) {
    (*static_cast<F*>(fn))(begin, end);
  }
  void run(const Task& task);
  void work_on(const Task& task);
  void worker_loop();

  std::vector<std::thread> workers_;
  std::mutex mutex_;
  std::condition_variable wake_;
  Task task_{};                          // written before generation_ is published
  std::atomic<uint64_t> generation_{0};  // one per parallel loop
  std::atomic<int> sleepers_{0};         // workers blocked (or about to block) on wake_
  std::atomic<int> finished_{0};         // workers done with the current generation
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<bool> stop_{false};
  const RunControl* control_ = nullptr;
};

}  // namespace pith
