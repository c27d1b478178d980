#include "core/thread_pool.h"

#include <chrono>

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define PITH_CPU_RELAX() _mm_pause()
#elif defined(__aarch64__)
#define PITH_CPU_RELAX() asm volatile("yield")
#else
#define PITH_CPU_RELAX() ((void)0)
#endif

namespace pith {

namespace {

// Spins until pred() holds or kSpinMicros pass; true when pred() held.
template <typename Pred>
bool spin_until(Pred pred) {
  using clock = std::chrono::steady_clock;
  auto deadline = clock::now() + std::chrono::microseconds(ThreadPool::kSpinMicros);
  for (int i = 0;; ++i) {
    if (pred()) return true;
    PITH_CPU_RELAX();
    if ((i & 63) == 63 && clock::now() > deadline) return pred();
  }
}

}  // namespace

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
    generation_.fetch_add(1);
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::work_on(const Task& task) {
  // Chunk c covers [c*n/chunks, (c+1)*n/chunks): fixed by index, not by who runs it.
  for (;;) {
    int64_t c = next_chunk_.fetch_add(1, std::memory_order_relaxed);
    if (c >= task.chunks) break;
    if (control_ && control_->expired()) break;  // the caller throws once all are done
    int64_t begin = c * task.n / task.chunks, end = (c + 1) * task.n / task.chunks;
    task.call(task.fn, begin, end);
  }
}

// Every worker takes part in every generation exactly once (it may find no chunk left),
// and run() returns only when all have finished it: so no worker still reads task_ or
// the chunk counter when the next loop rewrites them.
void ThreadPool::run(const Task& task) {
  task_ = task;
  next_chunk_.store(0, std::memory_order_relaxed);
  finished_.store(0, std::memory_order_relaxed);
  generation_.fetch_add(1, std::memory_order_seq_cst);
  if (sleepers_.load(std::memory_order_seq_cst) > 0) {
    std::lock_guard<std::mutex> lock(mutex_);  // a sleeper checks the generation under it
    wake_.notify_all();
  }
  work_on(task);
  const int workers = int(workers_.size());
  auto all_done = [&] { return finished_.load(std::memory_order_acquire) == workers; };
  if (!spin_until(all_done)) {
    while (!all_done()) std::this_thread::yield();
  }
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    auto fresh = [&] { return generation_.load(std::memory_order_acquire) != seen; };
    if (!spin_until(fresh)) {
      std::unique_lock<std::mutex> lock(mutex_);
      sleepers_.fetch_add(1, std::memory_order_seq_cst);
      wake_.wait(lock, fresh);
      sleepers_.fetch_sub(1, std::memory_order_relaxed);
    }
    if (stop_.load(std::memory_order_acquire)) return;
    seen = generation_.load(std::memory_order_acquire);
    work_on(task_);
    finished_.fetch_add(1, std::memory_order_release);
  }
}

}  // namespace pith
