// Static memory planning: places buffers with known sizes and lifetimes (first and last
// step that use them) in one arena so that buffers alive at the same step never
// overlap. Greedy: largest buffers first, each at the lowest-waste gap between the
// buffers already placed that overlap it in time (best fit), else on top. The lower
// bound is the largest total size alive at any one step; the arena is usually within a
// few percent of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace pith {

struct BufferLifetime {
  size_t bytes = 0;
  int64_t first = 0;  // first step that writes it
  int64_t last = 0;   // last step that reads it (>= first)
};

struct MemoryPlan {
  std::vector<size_t> offsets;  // per buffer, aligned
  size_t arena_bytes = 0;
  size_t lower_bound = 0;       // max over steps of the bytes alive at that step
};

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment = 64);

}  // namespace pith
