// ThreadPool: a fixed set of worker threads that run one parallel loop at a time.
// The calling thread takes part, so a pool of N threads starts N-1 workers. Work is
// split into contiguous ranges by index only (never by timing), so a kernel that
// writes disjoint outputs per index gives bitwise identical results for any thread
// count. parallel_for performs no heap allocation.
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

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
    int64_t chunks = std::min<int64_t>(max_chunks, threads());
    if (chunks <= 1 || workers_.empty()) {
      fn(int64_t(0), n);
      return;
    }
    using Fn = std::remove_reference_t<F>;
    Task task{&invoke<Fn>, const_cast<void*>(static_cast<const void*>(&fn)), n, chunks};
    run(task);
  }

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
  std::condition_variable wake_, done_;
  Task task_{};
  uint64_t generation_ = 0;
  int active_ = 0;  // workers inside work_on (guarded by mutex_)
  std::atomic<int64_t> next_chunk_{0};
  std::atomic<int64_t> pending_{0};
  bool stop_ = false;
};

}  // namespace pith
