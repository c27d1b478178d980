// Monitor: what a deployment has been doing. Counts requests by outcome (ok, error,
// timeout, rejected) and cache hits and misses; a latency histogram over all requests
// (fixed buckets, Prometheus style); exact p50/p95/p99/max over a sliding window of the
// most recent latencies; throughput over the last seconds; and a trend that compares the
// p95 of the latest block of requests with the blocks before it. Thread-safe.
// Rendered as JSON (monitor_json) and as Prometheus text exposition (prometheus_text).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <deque>
#include <mutex>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace pith::serve {

enum class Outcome { Ok, Error, Timeout, Rejected };

// Upper bounds of the latency histogram's buckets, in seconds (+Inf implied).
constexpr std::array<double, 15> kLatencyBucketsSeconds = {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                                           0.05,   0.1,     0.25,   0.5,   1.0,    2.5,   5.0};

struct MonitorSnapshot {
  uint64_t requests = 0, ok = 0, errors = 0, timeouts = 0, rejected = 0;
  uint64_t cache_hits = 0, cache_misses = 0;
  uint64_t fallback_requests = 0;
  // Over the window of recent completed requests (ms); 0 when there are none.
  double p50_ms = 0, p95_ms = 0, p99_ms = 0, max_ms = 0, mean_ms = 0;
  size_t window_samples = 0;
  double throughput_rps = 0;         // completed requests per second over the last kThroughputSeconds
  std::string trend = "unknown";     // "degrading", "improving", "stable" or "unknown"
  std::vector<double> block_p95_ms;  // the p95 of each recent block, oldest first
  // Histogram over every completed request (cumulative counts per bucket, +Inf last).
  std::array<uint64_t, kLatencyBucketsSeconds.size() + 1> bucket_counts{};
  double latency_sum_seconds = 0;
  double cache_hit_rate() const {
    const uint64_t n = cache_hits + cache_misses;
    return n ? double(cache_hits) / double(n) : 0.0;
  }
};

class Monitor {
 public:
  using Clock = std::chrono::steady_clock;
  static constexpr double kThroughputSeconds = 10.0;
  // A trend block closes every `block` completed requests; the trend compares the last
  // block's p95 with the median of up to four before it (20 % either way).
  explicit Monitor(size_t window = 1024, size_t block = 128);

  // One finished request. Latency counts for ok requests (and is kept for timeouts in
  // the histogram, which shows how long callers waited).
  void record(Outcome outcome, double latency_ms, bool from_fallback = false);
  void record_cache(bool hit);
  MonitorSnapshot snapshot() const;

 private:
  const size_t window_, block_;
  mutable std::mutex mutex_;
  MonitorSnapshot counts_;                     // counters and histogram
  std::deque<double> recent_;                  // latencies of the last window_ ok requests
  std::vector<double> current_block_;          // ok latencies since the last block closed
  std::deque<double> block_p95_;               // closed blocks, oldest first (at most 8)
  std::deque<Clock::time_point> completions_;  // within the throughput horizon
  Clock::time_point started_ = Clock::now();
};

// The value below which a fraction q of `values` lies (nearest rank); 0 when empty.
double percentile(std::vector<double> values, double q);
// "degrading" / "improving" / "stable" from the block p95s (oldest first); "unknown" under two.
std::string latency_trend(const std::vector<double>& block_p95_ms);

struct ProcessStats {
  uint64_t resident_bytes = 0;
  double cpu_seconds = 0;  // user + system since the process started
  double uptime_seconds = 0;
};
ProcessStats process_stats();

nlohmann::json monitor_json(const MonitorSnapshot& s);
// Prometheus text format 0.0.4: every metric family once, a `model` label per deployment.
std::string prometheus_text(const std::vector<std::pair<std::string, MonitorSnapshot>>& models,
                            const ProcessStats& process);

}  // namespace pith::serve
