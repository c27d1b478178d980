#include "serve/monitor.h"

#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <sstream>

namespace pith::serve {

namespace {
const auto kProcessStart = std::chrono::steady_clock::now();
}

double percentile(std::vector<double> values, double q) {
  if (values.empty()) return 0.0;
  const size_t rank = size_t(std::ceil(q * double(values.size())));
  const size_t i = std::min(values.size() - 1, rank == 0 ? 0 : rank - 1);
  std::nth_element(values.begin(), values.begin() + std::ptrdiff_t(i), values.end());
  return values[i];
}

std::string latency_trend(const std::vector<double>& block_p95_ms) {
  if (block_p95_ms.size() < 2) return "unknown";
  const double last = block_p95_ms.back();
  std::vector<double> before(block_p95_ms.end() - std::ptrdiff_t(std::min<size_t>(5, block_p95_ms.size())),
                             block_p95_ms.end() - 1);
  std::sort(before.begin(), before.end());
  const double median =
      before.size() % 2 ? before[before.size() / 2] : 0.5 * (before[before.size() / 2 - 1] + before[before.size() / 2]);
  if (last > 1.2 * median) return "degrading";
  if (last * 1.2 < median) return "improving";
  return "stable";
}

Monitor::Monitor(size_t window, size_t block)
    : window_(std::max<size_t>(1, window)), block_(std::max<size_t>(1, block)) {}

void Monitor::record(Outcome outcome, double latency_ms, bool from_fallback) {
  std::lock_guard<std::mutex> lock(mutex_);
  MonitorSnapshot& c = counts_;
  ++c.requests;
  c.fallback_requests += from_fallback;
  switch (outcome) {
    case Outcome::Ok:
      ++c.ok;
      break;
    case Outcome::Error:
      ++c.errors;
      break;
    case Outcome::Timeout:
      ++c.timeouts;
      break;
    case Outcome::Rejected:
      ++c.rejected;
      return;  // never ran: no latency
  }
  if (outcome == Outcome::Error) return;
  const double seconds = latency_ms / 1000.0;
  size_t b = 0;
  while (b < kLatencyBucketsSeconds.size() && seconds > kLatencyBucketsSeconds[b]) ++b;
  ++c.bucket_counts[b];
  c.latency_sum_seconds += seconds;
  const auto now = Clock::now();
  completions_.push_back(now);
  while (!completions_.empty() && now - completions_.front() > std::chrono::duration<double>(kThroughputSeconds))
    completions_.pop_front();
  if (outcome != Outcome::Ok) return;
  recent_.push_back(latency_ms);
  if (recent_.size() > window_) recent_.pop_front();
  current_block_.push_back(latency_ms);
  if (current_block_.size() >= block_) {
    block_p95_.push_back(percentile(current_block_, 0.95));
    if (block_p95_.size() > 8) block_p95_.pop_front();
    current_block_.clear();
  }
}

void Monitor::record_cache(bool hit) {
  std::lock_guard<std::mutex> lock(mutex_);
  ++(hit ? counts_.cache_hits : counts_.cache_misses);
}

MonitorSnapshot Monitor::snapshot() const {
  std::lock_guard<std::mutex> lock(mutex_);
  MonitorSnapshot s = counts_;
  for (size_t b = 1; b < s.bucket_counts.size(); ++b) s.bucket_counts[b] += s.bucket_counts[b - 1];
  std::vector<double> window(recent_.begin(), recent_.end());
  s.window_samples = window.size();
  if (!window.empty()) {
    s.p50_ms = percentile(window, 0.50);
    s.p95_ms = percentile(window, 0.95);
    s.p99_ms = percentile(window, 0.99);
    s.max_ms = *std::max_element(window.begin(), window.end());
    double sum = 0;
    for (double v : window) sum += v;
    s.mean_ms = sum / double(window.size());
  }
  const auto now = Clock::now();
  size_t recent = 0;
  for (auto t : completions_) recent += now - t <= std::chrono::duration<double>(kThroughputSeconds);
  const double span = std::min(kThroughputSeconds, std::chrono::duration<double>(now - started_).count());
  s.throughput_rps = span > 0 ? double(recent) / span : 0.0;
  s.block_p95_ms.assign(block_p95_.begin(), block_p95_.end());
  s.trend = latency_trend(s.block_p95_ms);
  return s;
}

ProcessStats process_stats() {
  ProcessStats p;
  std::ifstream statm("/proc/self/statm");
  uint64_t size_pages = 0, resident_pages = 0;
  if (statm >> size_pages >> resident_pages) p.resident_bytes = resident_pages * uint64_t(sysconf(_SC_PAGESIZE));
  rusage u{};
  if (getrusage(RUSAGE_SELF, &u) == 0) {
    p.cpu_seconds =
        double(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + 1e-6 * double(u.ru_utime.tv_usec + u.ru_stime.tv_usec);
  }
  p.uptime_seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - kProcessStart).count();
  return p;
}

nlohmann::json monitor_json(const MonitorSnapshot& s) {
  nlohmann::json histogram = nlohmann::json::array();
  for (size_t b = 0; b < s.bucket_counts.size(); ++b) {
    histogram.push_back({{"le_ms", b < kLatencyBucketsSeconds.size() ? nlohmann::json(kLatencyBucketsSeconds[b] * 1000)
                                                                     : nlohmann::json("+Inf")},
                         {"count", s.bucket_counts[b]}});
  }
  return {{"requests", s.requests},
          {"ok", s.ok},
          {"errors", s.errors},
          {"timeouts", s.timeouts},
          {"rejected", s.rejected},
          {"fallback_requests", s.fallback_requests},
          {"latency_ms",
           {{"p50", s.p50_ms},
            {"p95", s.p95_ms},
            {"p99", s.p99_ms},
            {"max", s.max_ms},
            {"mean", s.mean_ms},
            {"window", s.window_samples}}},
          {"throughput_rps", s.throughput_rps},
          {"trend", s.trend},
          {"block_p95_ms", s.block_p95_ms},
          {"cache", {{"hits", s.cache_hits}, {"misses", s.cache_misses}, {"hit_rate", s.cache_hit_rate()}}},
          {"histogram", histogram}};
}

namespace {

// Label values escape backslash, quote and newline (the exposition format's rule).
std::string label(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

std::string prometheus_text(const std::vector<std::pair<std::string, MonitorSnapshot>>& models,
                            const ProcessStats& process) {
  std::ostringstream os;
  os.precision(9);
  auto family = [&](const char* name, const char* type, const char* help) {
    os << "# HELP " << name << ' ' << help << "\n# TYPE " << name << ' ' << type << '\n';
  };
  family("pith_requests_total", "counter", "Inference requests by outcome.");
  for (auto& [m, s] : models) {
    const std::pair<const char*, uint64_t> outcomes[] = {
        {"ok", s.ok}, {"error", s.errors}, {"timeout", s.timeouts}, {"rejected", s.rejected}};
    for (auto& [o, n] : outcomes)
      os << "pith_requests_total{model=\"" << label(m) << "\",outcome=\"" << o << "\"} " << n << '\n';
  }
  family("pith_fallback_requests_total", "counter", "Requests answered by the fallback deployment.");
  for (auto& [m, s] : models)
    os << "pith_fallback_requests_total{model=\"" << label(m) << "\"} " << s.fallback_requests << '\n';
  family("pith_request_duration_seconds", "histogram", "Inference latency of completed requests.");
  for (auto& [m, s] : models) {
    for (size_t b = 0; b < s.bucket_counts.size(); ++b) {
      os << "pith_request_duration_seconds_bucket{model=\"" << label(m) << "\",le=\"";
      if (b < kLatencyBucketsSeconds.size())
        os << kLatencyBucketsSeconds[b];
      else
        os << "+Inf";
      os << "\"} " << s.bucket_counts[b] << '\n';
    }
    os << "pith_request_duration_seconds_sum{model=\"" << label(m) << "\"} " << s.latency_sum_seconds << '\n';
    os << "pith_request_duration_seconds_count{model=\"" << label(m) << "\"} " << s.bucket_counts.back() << '\n';
  }
  family("pith_request_latency_window_seconds", "gauge", "Latency quantiles over the recent window.");
  for (auto& [m, s] : models) {
    const std::pair<const char*, double> qs[] = {
        {"0.5", s.p50_ms}, {"0.95", s.p95_ms}, {"0.99", s.p99_ms}, {"1", s.max_ms}};
    for (auto& [q, v] : qs)
      os << "pith_request_latency_window_seconds{model=\"" << label(m) << "\",quantile=\"" << q << "\"} " << v / 1000
         << '\n';
  }
  family("pith_throughput_requests_per_second", "gauge", "Completed requests per second, last 10 s.");
  for (auto& [m, s] : models)
    os << "pith_throughput_requests_per_second{model=\"" << label(m) << "\"} " << s.throughput_rps << '\n';
  family("pith_cache_hits_total", "counter", "Result cache hits.");
  for (auto& [m, s] : models) os << "pith_cache_hits_total{model=\"" << label(m) << "\"} " << s.cache_hits << '\n';
  family("pith_cache_misses_total", "counter", "Result cache misses.");
  for (auto& [m, s] : models) os << "pith_cache_misses_total{model=\"" << label(m) << "\"} " << s.cache_misses << '\n';
  family("pith_latency_trend", "gauge", "Latency trend: 1 degrading, -1 improving, 0 stable or unknown.");
  for (auto& [m, s] : models)
    os << "pith_latency_trend{model=\"" << label(m) << "\"} "
       << (s.trend == "degrading"   ? 1
           : s.trend == "improving" ? -1
                                    : 0)
       << '\n';
  family("pith_process_resident_memory_bytes", "gauge", "Resident set size of the server process.");
  os << "pith_process_resident_memory_bytes " << process.resident_bytes << '\n';
  family("pith_process_cpu_seconds_total", "counter", "User and system CPU time of the server process.");
  os << "pith_process_cpu_seconds_total " << process.cpu_seconds << '\n';
  family("pith_process_uptime_seconds", "gauge", "Seconds since the server started.");
  os << "pith_process_uptime_seconds " << process.uptime_seconds << '\n';
  return os.str();
}

}  // namespace pith::serve
