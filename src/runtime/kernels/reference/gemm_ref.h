// Reference GEMM shared by MatMul, Gemm, Conv/ConvTranspose (im2col) and the integer ops:
// C[M,N] = alpha * op(A)[M,K] * op(B)[K,N] + beta * C, with row-major storage and
// leading dimensions. Cache-blocked i-k-j loops with the j loop contiguous; a
// transposed B is copied to row-major panels first so the inner loop stays contiguous.
#pragma once

#include <cstdint>

namespace pith::ref {

// Single-precision GEMM (the hot path for CNNs). beta == 0 overwrites C (NaNs in C ignored).
// A is M x K (K x M when trans_a), B is K x N (N x K when trans_b); lda/ldb/ldc are row strides.
void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A,
              int64_t lda, const float* B, int64_t ldb, float beta, float* C, int64_t ldc);

// The same contract for double, int32, int64, uint32 and uint64 (integers wrap modulo 2^n;
// alpha/beta are applied in T).
void gemm_f64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, double alpha, const double* A,
              int64_t lda, const double* B, int64_t ldb, double beta, double* C, int64_t ldc);
void gemm_i32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int32_t alpha, const int32_t* A,
              int64_t lda, const int32_t* B, int64_t ldb, int32_t beta, int32_t* C, int64_t ldc);
void gemm_i64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, int64_t alpha, const int64_t* A,
              int64_t lda, const int64_t* B, int64_t ldb, int64_t beta, int64_t* C, int64_t ldc);
void gemm_u32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, uint32_t alpha, const uint32_t* A,
              int64_t lda, const uint32_t* B, int64_t ldb, uint32_t beta, uint32_t* C, int64_t ldc);
void gemm_u64(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, uint64_t alpha, const uint64_t* A,
              int64_t lda, const uint64_t* B, int64_t ldb, uint64_t beta, uint64_t* C, int64_t ldc);

// Overloads that pick the right function from the element type (for templated kernels).
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_f32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
                 const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_f64(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int32_t alpha, const int32_t* A, int64_t lda,
                 const int32_t* B, int64_t ldb, int32_t beta, int32_t* C, int64_t ldc) {
  gemm_i32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t alpha, const int64_t* A, int64_t lda,
                 const int64_t* B, int64_t ldb, int64_t beta, int64_t* C, int64_t ldc) {
  gemm_i64(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, uint32_t alpha, const uint32_t* A,
                 int64_t lda, const uint32_t* B, int64_t ldb, uint32_t beta, uint32_t* C, int64_t ldc) {
  gemm_u32(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
inline void gemm(bool ta, bool tb, int64_t M, int64_t N, int64_t K, uint64_t alpha, const uint64_t* A,
                 int64_t lda, const uint64_t* B, int64_t ldb, uint64_t beta, uint64_t* C, int64_t ldc) {
  gemm_u64(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace pith::ref
