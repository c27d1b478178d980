// Single-precision GEMM for the fast kernels: C = A * B (+ bias, + residual, activation),
// row-major, with both operands in packed panel layouts so the register-blocked
// micro-kernel reads them contiguously.
//
// Packed layouts (written down so pack and compute always agree):
//   packed A: ceil(M / MR) panels; panel p holds rows [p*MR, p*MR + MR) as K groups of
//             MR floats (group k = A[p*MR + 0..MR-1][k]); rows past M are zero.
//   packed B: ceil(N / NR) panels; panel q holds columns [q*NR, q*NR + NR) as K groups
//             of NR floats (group k = B[k][q*NR + 0..NR-1]); columns past N are zero.
// MR and NR depend on the CPU's best SIMD target (sgemm_mr/sgemm_nr); pack with the
// same process that computes. Runtime dispatch through Google Highway.
#pragma once

#include <cstddef>
#include <cstdint>

#include "core/thread_pool.h"
#include "runtime/kernels/activation.h"

namespace pith::simd {

int64_t sgemm_mr();
int64_t sgemm_nr();

inline size_t packed_a_floats(int64_t M, int64_t K) {
  int64_t mr = sgemm_mr();
  return size_t((M + mr - 1) / mr * mr * K);
}
inline size_t packed_b_floats(int64_t N, int64_t K) {
  int64_t nr = sgemm_nr();
  return size_t((N + nr - 1) / nr * nr * K);
}

// A[m][k] = src[m * row_stride + k * col_stride] (transposed sources: swap strides).
void pack_a(const float* src, int64_t row_stride, int64_t col_stride, int64_t M, int64_t K, float* out);
// B[k][n] = src[k * row_stride + n * col_stride], columns [n0, n0 + N) of the source.
void pack_b(const float* src, int64_t row_stride, int64_t col_stride, int64_t K, int64_t N, float* out);

struct GemmEpilogue {
  const float* bias_per_row = nullptr;  // M values (Conv: one per output channel)
  const float* bias_per_col = nullptr;  // N values (Gemm: one per output feature)
  const float* residual = nullptr;      // added after bias, same layout as C (ldc)
  Activation activation;
};

// C[M x N] = packed_a * packed_b, then the epilogue; C rows are ldc floats apart.
// packed_b covers exactly the N columns computed (pack the block you compute).
void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* packed_b, float* C, int64_t ldc,
                  const GemmEpilogue& epilogue);

// The same with B read where it lies: B[k][n] = b[k * ldb + n]. For operands already
// laid out by rows (a 1x1 convolution's input planes), skipping the packing copy. N must
// be a multiple of sgemm_nr() (callers handle a last partial panel with sgemm_packed).
void sgemm_direct_b(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, int64_t ldb, float* C,
                    int64_t ldc, const GemmEpilogue& epilogue);

// The same with B's rows where a table says: B[k][n] = b[offsets[k] + n] (an implicit-GEMM
// convolution: row k = (input channel, filter tap) of padded input planes, n = output
// pixels of one row). Any N: the last partial panel loads whole vectors, reading up to
// sgemm_nr() - 1 floats past column N - 1 of each row (never stored).
void sgemm_offset_b(int64_t M, int64_t N, int64_t K, const float* packed_a, const float* b, const int64_t* offsets,
                    float* C, int64_t ldc, const GemmEpilogue& epilogue);

// Matrix-vector product for one-row inputs (classifier layers): for n in [n0, n1),
// y[n] = act(dot(W[n, 0..K), x) + bias[n]) with W rows ldw floats apart (bias may be null).
void gemv_rows(int64_t n0, int64_t n1, int64_t K, const float* w, int64_t ldw, const float* x, const float* bias,
               const Activation& act, float* y);

// Applies an activation to n contiguous floats in place (vectorized).
void activation_inplace(float* x, int64_t n, const Activation& act);

// Name of the SIMD target the dispatcher picked (e.g. "AVX3", "AVX2", "NEON").
const char* simd_target_name();

}  // namespace pith::simd
