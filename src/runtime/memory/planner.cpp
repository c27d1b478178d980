#include "runtime/memory/planner.h"

#include <algorithm>
#include <map>
#include <numeric>

namespace pith {

MemoryPlan plan_memory(const std::vector<BufferLifetime>& buffers, size_t alignment) {
  MemoryPlan plan;
  const size_t n = buffers.size();
  plan.offsets.assign(n, 0);
  auto aligned = [&](size_t b) { return (b + alignment - 1) / alignment * alignment; };

  // Lower bound: sweep the steps.
  std::map<int64_t, int64_t> delta;
  for (auto& b : buffers) {
    delta[b.first] += int64_t(aligned(b.bytes));
    delta[b.last + 1] -= int64_t(aligned(b.bytes));
  }
  int64_t alive = 0;
  for (auto& [step, d] : delta) {
    alive += d;
    plan.lower_bound = std::max(plan.lower_bound, size_t(std::max<int64_t>(alive, 0)));
  }

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (buffers[a].bytes != buffers[b].bytes) return buffers[a].bytes > buffers[b].bytes;
    return buffers[a].first < buffers[b].first;
  });
  std::vector<size_t> placed;
  std::vector<std::pair<size_t, size_t>> busy;  // [offset, end) of time-overlapping placed buffers
  for (size_t idx : order) {
    const BufferLifetime& b = buffers[idx];
    const size_t size = aligned(b.bytes);
    busy.clear();
    for (size_t p : placed) {
      const BufferLifetime& o = buffers[p];
      if (o.first <= b.last && b.first <= o.last) busy.push_back({plan.offsets[p], plan.offsets[p] + aligned(o.bytes)});
    }
    std::sort(busy.begin(), busy.end());
    // Best fit: the smallest gap that holds it; else just above everything.
    size_t best = SIZE_MAX, best_gap = SIZE_MAX, cursor = 0;
    for (auto& [start, end] : busy) {
      if (start > cursor && start - cursor >= size && start - cursor < best_gap) {
        best = cursor;
        best_gap = start - cursor;
      }
      cursor = std::max(cursor, end);
    }
    if (best == SIZE_MAX) best = cursor;
    plan.offsets[idx] = best;
    plan.arena_bytes = std::max(plan.arena_bytes, best + size);
    placed.push_back(idx);
  }
  return plan;
}

}  // namespace pith
