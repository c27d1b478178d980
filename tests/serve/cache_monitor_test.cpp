// The result cache (LRU, TTL, byte cap, version in the key) and the monitor (counts,
// percentiles, histogram, trend, Prometheus text).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <thread>

#include "serve/monitor.h"
#include "serve/result_cache.h"

namespace pith::serve {
namespace {

using ::testing::HasSubstr;

std::vector<Tensor> one(float v, int64_t n = 4) {
  Tensor t(DType::Float32, {n});
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = v;
  return {t};
}

TEST(RequestKey, DependsOnEveryPartOfTheRequestAndTheVersion) {
  std::map<std::string, Tensor> a{{"x", one(1)[0]}};
  const uint64_t k = request_key(a, 1);
  EXPECT_EQ(k, request_key(a, 1));
  EXPECT_NE(k, request_key(a, 2));
  std::map<std::string, Tensor> renamed{{"y", one(1)[0]}};
  EXPECT_NE(k, request_key(renamed, 1));
  std::map<std::string, Tensor> reshaped{{"x", one(1)[0].reshaped({2, 2})}};
  EXPECT_NE(k, request_key(reshaped, 1));
  std::map<std::string, Tensor> changed{{"x", one(1)[0].clone()}};
  changed["x"].data<float>()[3] = 2;
  EXPECT_NE(k, request_key(changed, 1));
  std::map<std::string, Tensor> retyped{{"x", Tensor(DType::Int32, {4})}};
  std::map<std::string, Tensor> zeros{{"x", Tensor(DType::Float32, {4})}};
  EXPECT_NE(request_key(retyped, 1), request_key(zeros, 1));  // same bytes, other dtype
}

TEST(ResultCache, HitsMissesAndOwnedCopies) {
  ResultCache cache(1 << 20, std::chrono::seconds(60));
  EXPECT_FALSE(cache.get(1));
  auto outputs = one(3);
  cache.put(1, outputs);
  outputs[0].data<float>()[0] = 99;  // the cache kept its own copy
  auto hit = cache.get(1);
  ASSERT_TRUE(hit);
  EXPECT_EQ((*hit)[0].data<float>()[0], 3);
  (*hit)[0].data<float>()[1] = 99;  // and hands out copies
  EXPECT_EQ((*cache.get(1))[0].data<float>()[1], 3);
  const auto s = cache.stats();
  EXPECT_EQ(s.hits, 2u);
  EXPECT_EQ(s.misses, 1u);
  EXPECT_EQ(s.entries, 1u);
}

TEST(ResultCache, EvictsLeastRecentlyUsedUnderTheByteCap) {
  const size_t entry = 1024 * sizeof(float) + sizeof(Tensor);
  ResultCache cache(3 * entry, std::chrono::seconds(60));
  for (uint64_t k = 1; k <= 3; ++k) cache.put(k, one(float(k), 1024));
  EXPECT_TRUE(cache.get(1));  // 1 is now the most recent: 2 goes first
  cache.put(4, one(4, 1024));
  EXPECT_FALSE(cache.get(2));
  EXPECT_TRUE(cache.get(1));
  EXPECT_TRUE(cache.get(3));
  EXPECT_TRUE(cache.get(4));
  EXPECT_LE(cache.stats().bytes, 3 * entry);
  EXPECT_EQ(cache.stats().evictions, 1u);
  cache.put(5, one(5, 4096));  // larger than the whole cap: not kept, nothing evicted
  EXPECT_FALSE(cache.get(5));
  EXPECT_EQ(cache.stats().entries, 3u);
}

TEST(ResultCache, EntriesExpireAfterTheTtl) {
  ResultCache cache(1 << 20, std::chrono::milliseconds(20));
  cache.put(7, one(1));
  EXPECT_TRUE(cache.get(7));
  std::this_thread::sleep_for(std::chrono::milliseconds(40));
  EXPECT_FALSE(cache.get(7));
  EXPECT_EQ(cache.stats().entries, 0u);
}

TEST(Monitor, PercentilesAreExactNearestRank) {
  std::vector<double> v;
  for (int i = 1; i <= 100; ++i) v.push_back(double(101 - i));
  EXPECT_EQ(percentile(v, 0.50), 50);
  EXPECT_EQ(percentile(v, 0.95), 95);
  EXPECT_EQ(percentile(v, 0.99), 99);
  EXPECT_EQ(percentile(v, 1.0), 100);
  EXPECT_EQ(percentile({}, 0.5), 0);
  EXPECT_EQ(percentile({4}, 0.0), 4);
}

TEST(Monitor, CountsWindowHistogramAndThroughput) {
  Monitor m(/*window=*/10, /*block=*/5);
  for (int i = 1; i <= 20; ++i) m.record(Outcome::Ok, double(i));  // the window keeps 11..20
  m.record(Outcome::Error, 0);
  m.record(Outcome::Timeout, 30);
  m.record(Outcome::Rejected, 0);
  m.record_cache(true);
  m.record_cache(false);
  m.record_cache(false);
  const MonitorSnapshot s = m.snapshot();
  EXPECT_EQ(s.requests, 23u);
  EXPECT_EQ(s.ok, 20u);
  EXPECT_EQ(s.errors, 1u);
  EXPECT_EQ(s.timeouts, 1u);
  EXPECT_EQ(s.rejected, 1u);
  EXPECT_EQ(s.window_samples, 10u);
  EXPECT_EQ(s.p50_ms, 15);
  EXPECT_EQ(s.p99_ms, 20);
  EXPECT_EQ(s.max_ms, 20);
  EXPECT_DOUBLE_EQ(s.mean_ms, 15.5);
  EXPECT_NEAR(s.cache_hit_rate(), 1.0 / 3, 1e-12);
  EXPECT_GT(s.throughput_rps, 0);
  // Histogram: cumulative, +Inf last, ok and timeouts counted (21 requests ran).
  EXPECT_EQ(s.bucket_counts.back(), 21u);
  EXPECT_EQ(s.bucket_counts[6], 10u);  // <= 10 ms: 1..10
  for (size_t b = 1; b < s.bucket_counts.size(); ++b) EXPECT_GE(s.bucket_counts[b], s.bucket_counts[b - 1]);
}

TEST(Monitor, TrendComparesTheLastBlockWithTheOnesBefore) {
  EXPECT_EQ(latency_trend({}), "unknown");
  EXPECT_EQ(latency_trend({5}), "unknown");
  EXPECT_EQ(latency_trend({5, 5, 5.5}), "stable");
  EXPECT_EQ(latency_trend({5, 5, 5, 9}), "degrading");
  EXPECT_EQ(latency_trend({9, 9, 9, 4}), "improving");
  Monitor m(100, 10);
  for (int i = 0; i < 30; ++i) m.record(Outcome::Ok, 1.0);
  EXPECT_EQ(m.snapshot().trend, "stable");
  for (int i = 0; i < 10; ++i) m.record(Outcome::Ok, 3.0);
  EXPECT_EQ(m.snapshot().trend, "degrading");
  EXPECT_EQ(m.snapshot().block_p95_ms.size(), 4u);
}

TEST(Monitor, PrometheusTextHasEachFamilyOnceAndEscapedLabels) {
  Monitor a, b;
  a.record(Outcome::Ok, 2.0);
  b.record(Outcome::Timeout, 7.0);
  const std::string text =
      prometheus_text({{"alpha", a.snapshot()}, {"be\"ta", b.snapshot()}}, ProcessStats{1 << 20, 1.5, 3});
  EXPECT_THAT(text, HasSubstr("# TYPE pith_requests_total counter\n"));
  EXPECT_THAT(text, HasSubstr("pith_requests_total{model=\"alpha\",outcome=\"ok\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pith_requests_total{model=\"be\\\"ta\",outcome=\"timeout\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pith_request_duration_seconds_bucket{model=\"alpha\",le=\"0.0025\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pith_request_duration_seconds_bucket{model=\"alpha\",le=\"+Inf\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pith_request_duration_seconds_count{model=\"alpha\"} 1\n"));
  EXPECT_THAT(text, HasSubstr("pith_process_resident_memory_bytes 1048576\n"));
  size_t families = 0;
  for (size_t p = text.find("# TYPE pith_requests_total"); p != std::string::npos;
       p = text.find("# TYPE pith_requests_total", p + 1))
    ++families;
  EXPECT_EQ(families, 1u);
  EXPECT_GT(process_stats().resident_bytes, 0u);
  const auto j = monitor_json(a.snapshot());
  EXPECT_EQ(j["ok"], 1);
  EXPECT_EQ(j["latency_ms"]["p50"], 2.0);
}

}  // namespace
}  // namespace pith::serve
