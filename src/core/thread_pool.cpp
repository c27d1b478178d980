#include "core/thread_pool.h"

namespace pith {

ThreadPool::ThreadPool(int threads) {
  for (int i = 1; i < threads; ++i) workers_.emplace_back([this] { worker_loop(); });
}

ThreadPool::~ThreadPool() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stop_ = true;
  }
  wake_.notify_all();
  for (auto& w : workers_) w.join();
}

void ThreadPool::work_on(const Task& task) {
  // Chunk c covers [c*n/chunks, (c+1)*n/chunks): fixed by index, not by who runs it.
  for (;;) {
    int64_t c = next_chunk_.fetch_add(1);
    if (c >= task.chunks) break;
    int64_t begin = c * task.n / task.chunks, end = (c + 1) * task.n / task.chunks;
    task.call(task.fn, begin, end);
    if (pending_.fetch_sub(1) == 1) {
      std::lock_guard<std::mutex> lock(mutex_);
      done_.notify_all();
    }
  }
}

void ThreadPool::run(const Task& task) {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    // A worker that woke late for the previous loop must leave it before the
    // shared chunk counter is reset.
    done_.wait(lock, [&] { return active_ == 0; });
    task_ = task;
    next_chunk_ = 0;
    pending_ = task.chunks;
    ++generation_;
  }
  wake_.notify_all();
  work_on(task);
  std::unique_lock<std::mutex> lock(mutex_);
  done_.wait(lock, [&] { return pending_.load() == 0 && active_ == 0; });
}

void ThreadPool::worker_loop() {
  uint64_t seen = 0;
  for (;;) {
    Task task;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      wake_.wait(lock, [&] { return stop_ || generation_ != seen; });
      if (stop_) return;
      seen = generation_;
      task = task_;
      ++active_;
    }
    work_on(task);
    std::lock_guard<std::mutex> lock(mutex_);
    if (--active_ == 0) done_.notify_all();
  }
}

}  // namespace pith
