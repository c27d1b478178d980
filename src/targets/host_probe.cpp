#include "targets/host_probe.h"

#include <algorithm>
#include <chrono>
#include <cstring>
#include <fstream>
#include <string>
#include <vector>

#include "runtime/kernels/simd/qgemm.h"
#include "runtime/kernels/simd/sgemm.h"

namespace pith::targets {

namespace {

using Clock = std::chrono::steady_clock;

// Best rate over a few timed repetitions of `work`, which performs `units` of work per call.
template <typename F>
double best_rate(double units, F&& work) {
  work();  // warm caches and pages
  double best = 0;
  for (int round = 0; round < 5; ++round) {
    int reps = 0;
    const auto t0 = Clock::now();
    double s = 0;
    do {
      work();
      ++reps;
      s = std::chrono::duration<double>(Clock::now() - t0).count();
    } while (s < 0.01);
    best = std::max(best, units * reps / s);
  }
  return best;
}

Throughput probe() {
  constexpr int64_t n = 192;
  Throughput t;
  {
    std::vector<float> a(size_t(n * n), 0.5f), b(size_t(n * n), 0.25f), c(size_t(n * n));
    std::vector<float> pa(simd::packed_a_floats(n, n)), pb(simd::packed_b_floats(n, n));
    simd::pack_a(a.data(), n, 1, n, n, pa.data());
    simd::pack_b(b.data(), n, 1, n, n, pb.data());
    t.fp32_gflops =
        best_rate(2.0 * n * n * n / 1e9, [&] { simd::sgemm_packed(n, n, n, pa.data(), pb.data(), c.data(), n, {}); });
  }
  {
    std::vector<int8_t> a(size_t(n * n), 3);
    std::vector<uint8_t> b(size_t(n * n), 7);
    std::vector<int32_t> pa(simd::packed_qa_words(n, n)), pb(simd::packed_qb_words(n, n)), acc(size_t(n * n));
    simd::pack_qa(a.data(), n, 1, n, n, pa.data());
    const int32_t b_offset = simd::pack_qb_u8(b.data(), n, 1, n, n, 0, pb.data());
    Requantize rq;
    rq.multiplier.assign(size_t(n), 1e-3f);
    std::vector<float> out(size_t(n * n));
    simd::QgemmOutput o{out.data(), n, 1};
    t.int8_gops = best_rate(2.0 * n * n * n / 1e9,
                            [&] { simd::qgemm_packed(n, n, n, pa.data(), pb.data(), b_offset, nullptr, rq, 0, o); });
  }
  {
    const size_t bytes = size_t(64) << 20;
    std::vector<char> src(bytes, 1), dst(bytes, 0);
    t.bandwidth_gbs = best_rate(2.0 * double(bytes) / 1e9, [&] {
      std::memcpy(dst.data(), src.data(), bytes);
      src[0] = dst[bytes - 1];  // keep the copy observable
    });
  }
  return t;
}

}  // namespace

const Throughput& measured_host_throughput() {
  static const Throughput t = probe();
  return t;
}

double host_clock_mhz() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("cpu MHz", 0) != 0) continue;
    const auto colon = line.find(':');
    if (colon != std::string::npos) return std::strtod(line.c_str() + colon + 1, nullptr);
  }
  return 0;
}

}  // namespace pith::targets
