// Per-thread scratch memory for kernels: grows to the largest request a thread has
// seen and is then reused, so steady-state runs allocate nothing. 64-byte aligned.
// Two slots per thread: a kernel that hands one buffer to every thread of a parallel
// loop (slot 1, filled before the loop) can still use its own per-thread buffer
// (slot 0) inside the loop, also on the calling thread, which takes part in it.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace pith::simd {

inline float* thread_scratch(size_t floats, int slot = 0) {
  struct Buffer {
    float* data = nullptr;
    size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffers[2];
  Buffer& buffer = buffers[slot & 1];
  if (floats > buffer.capacity) {
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

}  // namespace pith::simd
