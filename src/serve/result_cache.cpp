#include "serve/result_cache.h"

#define XXH_INLINE_ALL  // header-only, as in the artifact reader
#include <xxhash.h>

namespace pith::serve {

uint64_t request_key(const std::map<std::string, Tensor>& inputs, int64_t version) {
  // One buffer of every input's name, dtype, shape and data hash, hashed once.
  std::string meta(reinterpret_cast<const char*>(&version), sizeof version);
  for (auto& [name, t] : inputs) {
    const int64_t fields[] = {int64_t(name.size()), int64_t(t.dtype()), t.rank()};
    meta.append(reinterpret_cast<const char*>(fields), sizeof fields);
    meta += name;
    meta.append(reinterpret_cast<const char*>(t.shape().data()), t.shape().size() * sizeof(int64_t));
    const uint64_t data_hash = XXH64(t.raw(), t.nbytes(), 0);
    meta.append(reinterpret_cast<const char*>(&data_hash), sizeof data_hash);
  }
  return XXH64(meta.data(), meta.size(), 0);
}

ResultCache::ResultCache(size_t byte_cap, std::chrono::milliseconds ttl) : byte_cap_(byte_cap), ttl_(ttl) {
  stats_.byte_cap = byte_cap;
}

void ResultCache::erase(std::list<Entry>::iterator it) {
  stats_.bytes -= it->bytes;
  index_.erase(it->key);
  lru_.erase(it);
}

std::optional<std::vector<Tensor>> ResultCache::get(uint64_t key) {
  std::lock_guard<std::mutex> lock(mutex_);
  auto found = index_.find(key);
  if (found == index_.end()) {
    ++stats_.misses;
    return std::nullopt;
  }
  auto it = found->second;
  if (Clock::now() - it->stored > ttl_) {
    erase(it);
    ++stats_.misses;
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it);
  ++stats_.hits;
  std::vector<Tensor> copies;
  for (auto& t : it->outputs) copies.push_back(t.clone());
  return copies;
}

void ResultCache::put(uint64_t key, const std::vector<Tensor>& outputs) {
  size_t bytes = 0;
  for (auto& t : outputs) bytes += t.nbytes() + sizeof(Tensor);
  std::lock_guard<std::mutex> lock(mutex_);
  if (auto found = index_.find(key); found != index_.end()) erase(found->second);
  if (bytes > byte_cap_) return;
  while (!lru_.empty() && stats_.bytes + bytes > byte_cap_) {
    erase(std::prev(lru_.end()));
    ++stats_.evictions;
  }
  std::vector<Tensor> owned;  // outputs may view a Session's arena: keep copies
  for (auto& t : outputs) owned.push_back(t.clone());
  lru_.push_front(Entry{key, std::move(owned), bytes, Clock::now()});
  index_[key] = lru_.begin();
  stats_.bytes += bytes;
}

void ResultCache::clear() {
  std::lock_guard<std::mutex> lock(mutex_);
  lru_.clear();
  index_.clear();
  stats_.bytes = 0;
}

ResultCache::Stats ResultCache::stats() const {
  std::lock_guard<std::mutex> lock(mutex_);
  Stats s = stats_;
  s.entries = lru_.size();
  return s;
}

}  // namespace pith::serve
