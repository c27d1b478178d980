// Microbenchmarks of the SIMD kernels (Google Benchmark). Reports GFLOP/s and, for the
// GEMM, the fraction of this machine's single-core FMA peak, which is measured first by
// a loop of independent vector FMAs (bench/fma_peak.cpp).
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "runtime/kernels/simd/depthwise.h"
#include "runtime/kernels/simd/scratch.h"
#include "runtime/kernels/simd/sgemm.h"

namespace pith {
double measured_fma_peak_gflops();  // fma_peak.cpp
}

namespace {

std::vector<float> random_floats(size_t n, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// C[M,N] = A[M,K] * B[K,N] with A pre-packed and B packed per call, as the conv kernel does.
void BM_Sgemm(benchmark::State& state) {
  const int64_t M = state.range(0), N = state.range(1), K = state.range(2);
  auto a = random_floats(size_t(M * K), 1), b = random_floats(size_t(K * N), 2);
  std::vector<float> c(size_t(M * N));
  std::vector<float> pa(pith::simd::packed_a_floats(M, K)), pb(pith::simd::packed_b_floats(N, K));
  pith::simd::pack_a(a.data(), K, 1, M, K, pa.data());
  pith::simd::GemmEpilogue ep;
  for (auto _ : state) {
    pith::simd::pack_b(b.data(), N, 1, K, N, pb.data());
    pith::simd::sgemm_packed(M, N, K, pa.data(), pb.data(), c.data(), N, ep);
    benchmark::DoNotOptimize(c.data());
  }
  const double flops = 2.0 * double(M) * double(N) * double(K);
  state.counters["GFLOP/s"] = benchmark::Counter(flops * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
  static const double peak = pith::measured_fma_peak_gflops();
  state.counters["peak_GFLOP/s"] = peak;
}
BENCHMARK(BM_Sgemm)
    ->Args({256, 256, 256})
    ->Args({512, 512, 512})
    ->Args({1024, 1024, 1024})
    ->Args({96, 12544, 16})
    ->Args({64, 3136, 576})
    ->Args({400, 49, 400})
    ->Args({1280, 49, 320})
    ->Unit(benchmark::kMicrosecond);

// A depthwise layer: args size, stride, kernel size, activation (0 none, 1 SiLU), channels.
void BM_Depthwise(benchmark::State& state) {
  pith::simd::DepthwiseParams p;
  const int64_t size = state.range(0), stride = state.range(1), k = state.range(2), C = state.range(4);
  p.H = p.W = size;
  p.KH = p.KW = k;
  p.stride_h = p.stride_w = stride;
  p.pad_top = p.pad_left = k / 2;
  p.OH = p.OW = (size + 2 * (k / 2) - k) / stride + 1;
  pith::Activation act;
  if (state.range(3) == 1) act.kind = pith::ActivationKind::SiLU;
  auto in = random_floats(size_t(C * size * size), 3), w = random_floats(size_t(C * k * k), 4);
  std::vector<float> out(size_t(C * p.OH * p.OW));
  float* scratch = pith::simd::thread_scratch(size_t(pith::simd::depthwise_scratch_floats(p)));
  for (auto _ : state) {
    pith::simd::depthwise_conv2d(p, C, 0, C, in.data(), w.data(), nullptr, nullptr, act, out.data(), scratch);
    benchmark::DoNotOptimize(out.data());
  }
  state.counters["GFLOP/s"] = benchmark::Counter(
      2.0 * double(C * k * k) * double(p.OH * p.OW) * double(state.iterations()) / 1e9, benchmark::Counter::kIsRate);
}
// MobileNetV2's and EfficientNet-B0's layers.
BENCHMARK(BM_Depthwise)
    ->Args({112, 1, 3, 0, 32})
    ->Args({112, 2, 3, 0, 96})
    ->Args({56, 1, 3, 0, 144})
    ->Args({56, 1, 3, 0, 8})
    ->Args({56, 2, 3, 0, 144})
    ->Args({28, 2, 3, 0, 192})
    ->Args({14, 2, 3, 0, 576})
    ->Args({14, 1, 3, 0, 576})
    ->Args({7, 1, 3, 0, 960})
    ->Args({14, 1, 5, 1, 480})
    ->Args({7, 1, 5, 1, 1152})
    ->Args({28, 1, 5, 1, 240})
    ->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
