// Per-thread scratch memory for kernels: grows to the largest request a thread has
// seen and is then reused, so steady-state runs allocate nothing. 64-byte aligned.
// Two slots per thread: a kernel that hands one buffer to every thread of a parallel
// loop (slot 1, filled before the loop) can still use its own per-thread buffer
// (slot 0) inside the loop, also on the calling thread, which takes part in it.
// Which thread runs which tile varies from run to run, so the largest request of each
// slot on any thread is kept too: reserve_thread_scratch() grows the calling thread's
// buffers to it (the Session does so on every thread after a run in which one grew).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>

namespace pith::simd {

inline std::atomic<size_t> g_scratch_high_water[2];  // floats, per slot, any thread
inline std::atomic<uint64_t> g_scratch_growths{0};   // buffer allocations so far, any thread

inline float* thread_scratch(size_t floats, int slot = 0) {
  struct Buffer {
    float* data = nullptr;
    size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffers[2];
  Buffer& buffer = buffers[slot & 1];
  std::atomic<size_t>& high_water = g_scratch_high_water[slot & 1];
  for (size_t seen = high_water.load(std::memory_order_relaxed);
       floats > seen && !high_water.compare_exchange_weak(seen, floats, std::memory_order_relaxed);) {
  }
  if (floats > buffer.capacity) {
    g_scratch_growths.fetch_add(1, std::memory_order_relaxed);
    std::free(buffer.data);
    buffer.data = nullptr;
    buffer.capacity = 0;
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buffer.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buffer.data) throw std::bad_alloc();
    buffer.capacity = floats;
  }
  return buffer.data;
}

// Grows the calling thread's buffers to the largest request any thread has made.
inline void reserve_thread_scratch() {
  for (int slot = 0; slot < 2; ++slot) {
    const size_t floats = g_scratch_high_water[slot].load(std::memory_order_relaxed);
    if (floats) thread_scratch(floats, slot);
  }
}
inline uint64_t thread_scratch_growths() { return g_scratch_growths.load(std::memory_order_relaxed); }

}  // namespace pith::simd
