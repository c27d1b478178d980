// ResultCache: a thread-safe LRU of inference results keyed by a hash of the request's
// input tensors (names, dtypes, shapes, bytes: xxHash64) and the deployment version, so
// a new version never answers from an older one's entries. Entries expire after a TTL;
// the total bytes held stay under a cap (least recently used evicted first; a result
// larger than the cap is not kept). Hit and miss counts for the monitor.
#pragma once

#include <chrono>
#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/tensor.h"

namespace pith::serve {

// xxHash64 of every input (name, dtype, shape and bytes, in name order) and the version.
uint64_t request_key(const std::map<std::string, Tensor>& inputs, int64_t version);

class ResultCache {
 public:
  using Clock = std::chrono::steady_clock;
  ResultCache(size_t byte_cap, std::chrono::milliseconds ttl);

  // The outputs stored under key, when present and fresh (deep copies: callers own them).
  std::optional<std::vector<Tensor>> get(uint64_t key);
  void put(uint64_t key, const std::vector<Tensor>& outputs);
  void clear();

  struct Stats {
    uint64_t hits = 0, misses = 0, evictions = 0;
    size_t entries = 0, bytes = 0, byte_cap = 0;
  };
  Stats stats() const;

 private:
  struct Entry {
    uint64_t key;
    std::vector<Tensor> outputs;
    size_t bytes;
    Clock::time_point stored;
  };
  void erase(std::list<Entry>::iterator it);

  const size_t byte_cap_;
  const std::chrono::milliseconds ttl_;
  mutable std::mutex mutex_;
  std::list<Entry> lru_;  // most recently used first
  std::unordered_map<uint64_t, std::list<Entry>::iterator> index_;
  Stats stats_;
};

}  // namespace pith::serve
