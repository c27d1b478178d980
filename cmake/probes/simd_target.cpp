// Prints the SIMD target Highway's runtime dispatch picks on this CPU, and every target
// that was compiled and that this CPU supports (the ones the SIMD kernel tests loop over);
// then runs a small SGEMM through the dispatcher and checks it against a scalar loop.
#include <hwy/targets.h>

#include <cmath>
#include <cstdio>
#include <vector>

#include "runtime/kernels/simd/sgemm.h"

int main() {
  std::printf("dispatched SIMD target: %s\n", pith::simd::simd_target_name());
  std::printf("supported and compiled targets:");
  for (int64_t t : hwy::SupportedAndGeneratedTargets()) std::printf(" %s", hwy::TargetName(t));
  std::printf("\nsgemm tile: MR=%lld NR=%lld\n", (long long)pith::simd::sgemm_mr(),
              (long long)pith::simd::sgemm_nr());

  const int64_t M = 13, N = 37, K = 19;
  std::vector<float> a(M * K), b(K * N), c(M * N), ref(M * N, 0.f);
  for (size_t i = 0; i < a.size(); ++i) a[i] = float(int(i * 7 % 11) - 5) * 0.25f;
  for (size_t i = 0; i < b.size(); ++i) b[i] = float(int(i * 5 % 13) - 6) * 0.5f;
  for (int64_t m = 0; m < M; ++m)
    for (int64_t k = 0; k < K; ++k)
      for (int64_t n = 0; n < N; ++n) ref[m * N + n] += a[m * K + k] * b[k * N + n];
  std::vector<float> pa(pith::simd::packed_a_floats(M, K)), pb(pith::simd::packed_b_floats(N, K));
  pith::simd::pack_a(a.data(), K, 1, M, K, pa.data());
  pith::simd::pack_b(b.data(), N, 1, K, N, pb.data());
  pith::simd::sgemm_packed(M, N, K, pa.data(), pb.data(), c.data(), N, {});
  for (size_t i = 0; i < c.size(); ++i) {
    if (std::fabs(c[i] - ref[i]) > 1e-4f) {
      std::printf("sgemm mismatch at %zu: %g vs %g\n", i, c[i], ref[i]);
      return 1;
    }
  }
  std::printf("sgemm %lldx%lldx%lld matches the scalar loop\n", (long long)M, (long long)N, (long long)K);
  return 0;
}
