// Reference GEMM (see gemm_ref.h): C = alpha * op(A) * op(B) + beta * C.
// Blocked over N (columns of C) and K so a B panel stays in cache; four rows of C are
// updated per pass over a B row so each B load feeds four multiply-adds. The innermost
// loop walks contiguous memory in both B and C, which compilers vectorize.
#include "runtime/kernels/reference/gemm_ref.h"

#include <algorithm>
#include <vector>

namespace pith::ref {
namespace {

// Dot product with eight independent partial sums (vectorizable, short dependency chains).
template <typename T>
T dot(const T* __restrict a, const T* __restrict b, int64_t n) {
  T acc[8] = {};
  int64_t k = 0;
  for (; k + 8 <= n; k += 8)
    for (int u = 0; u < 8; ++u) acc[u] += a[k + u] * b[k + u];
  T s = ((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7]));
  for (; k < n; ++k) s += a[k] * b[k];
  return s;
}

template <typename T>
void gemm_impl(bool ta, bool tb, int64_t M, int64_t N, int64_t K, T alpha, const T* A, int64_t lda, const T* B,
               int64_t ldb, T beta, T* C, int64_t ldc) {
  if (M <= 0 || N <= 0) return;
  for (int64_t i = 0; i < M; ++i) {
    T* row = C + i * ldc;
    if (beta == T(0)) {
      std::fill(row, row + N, T(0));
    } else if (beta != T(1)) {
      for (int64_t j = 0; j < N; ++j) row[j] *= beta;
    }
  }
  if (K <= 0) return;
  if (tb && !ta && M < 4) {
    // A few rows against a transposed B (e.g. a batch-1 Linear layer): both operands are
    // contiguous along K, so plain dot products beat repacking B.
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < N; ++j)
        C[i * ldc + j] += alpha * dot(A + i * lda, B + j * ldb, K);
    return;
  }
  constexpr int64_t KB = 128, NB = 256;
  std::vector<T> panel;
  if (tb) panel.resize(size_t(std::min(K, KB) * std::min(N, NB)));
  auto a_at = [&](int64_t i, int64_t k) -> T { return ta ? A[k * lda + i] : A[i * lda + k]; };

  for (int64_t j0 = 0; j0 < N; j0 += NB) {
    const int64_t nb = std::min(NB, N - j0);
    for (int64_t k0 = 0; k0 < K; k0 += KB) {
      const int64_t kb = std::min(KB, K - k0);
      const T* bp;
      int64_t ldbp;
      if (tb) {
        for (int64_t k = 0; k < kb; ++k)
          for (int64_t j = 0; j < nb; ++j) panel[size_t(k * nb + j)] = B[(j0 + j) * ldb + k0 + k];
        bp = panel.data();
        ldbp = nb;
      } else {
        bp = B + k0 * ldb + j0;
        ldbp = ldb;
      }
      int64_t i = 0;
      for (; i + 4 <= M; i += 4) {
        T* __restrict c0 = C + (i + 0) * ldc + j0;
        T* __restrict c1 = C + (i + 1) * ldc + j0;
        T* __restrict c2 = C + (i + 2) * ldc + j0;
        T* __restrict c3 = C + (i + 3) * ldc + j0;
        for (int64_t k = 0; k < kb; ++k) {
          const T a0 = alpha * a_at(i + 0, k0 + k), a1 = alpha * a_at(i + 1, k0 + k);
          const T a2 = alpha * a_at(i + 2, k0 + k), a3 = alpha * a_at(i + 3, k0 + k);
          const T* __restrict b = bp + k * ldbp;
          for (int64_t j = 0; j < nb; ++j) {
            const T bv = b[j];
            c0[j] += a0 * bv;
            c1[j] += a1 * bv;
            c2[j] += a2 * bv;
            c3[j] += a3 * bv;
          }
        }
      }
      for (; i < M; ++i) {
        T* __restrict c = C + i * ldc + j0;
        for (int64_t k = 0; k < kb; ++k) {
          const T a = alpha * a_at(i, k0 + k);
          const T* __restrict b = bp + k * ldbp;
          for (int64_t j = 0; j < nb; ++j) c[j] += a * b[j];
        }
      }
    }
  }
}

}  // namespace

void gemm_f32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
              const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
  gemm_impl<float>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm_f64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, double alpha, const double* A, int64_t lda,
              const double* B, int64_t ldb, double beta, double* C, int64_t ldc) {
  gemm_impl<double>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm_i32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int32_t alpha, const int32_t* A, int64_t lda,
              const int32_t* B, int64_t ldb, int32_t beta, int32_t* C, int64_t ldc) {
  // Integer arithmetic wraps (as ONNX Runtime's does); done in uint32 to avoid signed overflow UB.
  gemm_impl<uint32_t>(ta, tb, M, N, K, uint32_t(alpha), reinterpret_cast<const uint32_t*>(A), lda,
                      reinterpret_cast<const uint32_t*>(B), ldb, uint32_t(beta), reinterpret_cast<uint32_t*>(C),
                      ldc);
}
void gemm_i64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, int64_t alpha, const int64_t* A, int64_t lda,
              const int64_t* B, int64_t ldb, int64_t beta, int64_t* C, int64_t ldc) {
  gemm_impl<uint64_t>(ta, tb, M, N, K, uint64_t(alpha), reinterpret_cast<const uint64_t*>(A), lda,
                      reinterpret_cast<const uint64_t*>(B), ldb, uint64_t(beta), reinterpret_cast<uint64_t*>(C),
                      ldc);
}
void gemm_u32(bool ta, bool tb, int64_t M, int64_t N, int64_t K, uint32_t alpha, const uint32_t* A, int64_t lda,
              const uint32_t* B, int64_t ldb, uint32_t beta, uint32_t* C, int64_t ldc) {
  gemm_impl<uint32_t>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
void gemm_u64(bool ta, bool tb, int64_t M, int64_t N, int64_t K, uint64_t alpha, const uint64_t* A, int64_t lda,
              const uint64_t* B, int64_t ldb, uint64_t beta, uint64_t* C, int64_t ldc) {
  gemm_impl<uint64_t>(ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace pith::ref
