// Per-thread scratch memory for kernels: grows to the largest request a thread has
// seen and is then reused, so steady-state runs allocate nothing. 64-byte aligned.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

namespace pith::simd {

inline float* thread_scratch(size_t floats) {
  struct Buffer {
    float* data = nullptr;
    size_t capacity = 0;
    ~Buffer() { std::free(data); }
  };
  thread_local Buffer buffer;
  if (floats > buffer.capacity) {
    std::free(buffer.data);
    size_t bytes = (floats * sizeof(float) + 63) / 64 * 64;
    buffer.data = static_cast<float*>(std::aligned_alloc(64, bytes));
    if (!buffer.data) throw std::bad_alloc();
    buffer.capacity = floats;
  }
  return buffer.data;
}

}  // namespace pith::simd
