// int8 GEMM for the quantized kernels (pith.QConv, pith.QGemm): C[M x N] int32 =
// A (int8 weights, M x K) * B (uint8/int8 activations minus their zero point, K x N),
// then the requantization epilogue of runtime/kernels/requantize.h, bit-identical to the
// reference kernels. Two layouts, chosen by the CPU's best SIMD target:
//   pairs (every target but AVX3_DL): operands widened to int16 and multiplied in pairs
//     along K (Highway's ReorderWidenMulAccumulate: vpmaddwd on x86, smlal on NEON);
//     B holds the activations minus their zero point.
//   quads (AVX3_DL, i.e. AVX-512 VNNI): vpdpbusd multiplies unsigned bytes of B by signed
//     bytes of A in groups of four along K; B holds the activations' codes as unsigned
//     bytes (int8 codes plus 128), and each row's sum of weights times the codes' offset
//     (zero point, plus 128 for int8) is subtracted afterwards. In int32 this is exact:
//     |sum| <= 255 * 128 * K < 2^31 while K < 2^16.
// Either way results are exact for any int8 weights and uint8/int8 activations while
// K < 2^16.
//
// Packed layouts (int32 words, each holding G = qgemm_k_group() values of K: two int16,
// low half first, or four bytes, lowest k in the lowest byte):
//   packed A: ceil(M / MR) panels; panel p holds rows [p*MR, p*MR + MR): for each k
//             group j, MR words (A[m][G*j] .. A[m][G*j + G-1]); then MR words of row sums
//             (sum over k of A[m][k]); rows past M and k past K are 0.
//   packed B: ceil(N / NR) panels; panel q holds columns [q*NR, q*NR + NR): for each k
//             group j, NR words (B[G*j][n] .. B[G*j + G-1][n]); columns past N and k past
//             K hold unspecified (initialized) values.
// MR, NR and G depend on the CPU's best SIMD target; pack with the process that computes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/requantize.h"

namespace pith::simd {

int64_t qgemm_mr();
int64_t qgemm_nr();
int64_t qgemm_k_group();

inline int64_t qgemm_groups(int64_t K) {
  const int64_t g = qgemm_k_group();
  return (K + g - 1) / g;
}
// Words of one packed-A panel (MR rows: their k groups and their row sums).
inline int64_t packed_qa_panel_words(int64_t K) { return qgemm_mr() * (qgemm_groups(K) + 1); }
inline size_t packed_qa_words(int64_t M, int64_t K) {
  const int64_t mr = qgemm_mr();
  return size_t((M + mr - 1) / mr * packed_qa_panel_words(K));
}
inline size_t packed_qb_words(int64_t N, int64_t K) {
  const int64_t nr = qgemm_nr();
  return size_t((N + nr - 1) / nr * nr * qgemm_groups(K));
}

// A[m][k] = src[m * row_stride + k * col_stride].
void pack_qa(const int8_t* src, int64_t row_stride, int64_t col_stride, int64_t M, int64_t K, int32_t* out);
// B[k][n] = src[k * row_stride + n * col_stride] - zero_point, for uint8 or int8 sources.
// Returns the offset the packed values carry above that difference (0 in the pairs
// layout), which qgemm_packed takes back off.
int32_t pack_qb_u8(const uint8_t* src, int64_t row_stride, int64_t col_stride, int64_t K, int64_t N, int32_t zero_point,
                   int32_t* out);
int32_t pack_qb_s8(const int8_t* src, int64_t row_stride, int64_t col_stride, int64_t K, int64_t N, int32_t zero_point,
                   int32_t* out);

// Where the epilogue writes: element (m, n) of C goes to out[m * row_stride + n * col_stride]
// (Conv: rows are channel planes; QGemm computes C^T and writes rows as columns).
// residual (when rq has one; contiguous rows only, col_stride 1): its uint8/int8 codes
// laid out as the output, element (m, n) at residual[m * row_stride + n].
struct QgemmOutput {
  void* data = nullptr;
  int64_t row_stride = 0, col_stride = 1;
  const void* residual = nullptr;
};

// C = packed_a * packed_b for rows [m0, m0 + M) of the requantization (bias[m0 + i] and
// rq.multiplier[m0 + i] for row i; bias may be null); packed_a starts at row m0's panel;
// b_offset is what pack_qb_* returned for packed_b.
void qgemm_packed(int64_t M, int64_t N, int64_t K, const int32_t* packed_a, const int32_t* packed_b, int32_t b_offset,
                  const int32_t* bias, const Requantize& rq, int64_t m0, const QgemmOutput& out);

// Requantizes n accumulators of output channel `channel` (bias added first) into n
// contiguous outputs at `out` (the element type rq says), with the fused residual's n
// codes at `residual` when rq has one.
void requantize_row(const int32_t* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                    const void* residual = nullptr);
// The same for accumulators held in float, each an exact integer below 2^24 in magnitude.
void requantize_row_f32(const float* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                        const void* residual = nullptr);

// Matrix-vector product for one-row inputs: for n in [n0, n1), output n of `out` =
// requantize(sum_k w[n * ldw + k] * x[k] + bias[n]) as channel n, where x holds the
// activations minus their zero point (int16) and bias may be null.
void qgemv_rows(int64_t n0, int64_t n1, int64_t K, const int8_t* w, int64_t ldw, const int16_t* x, const int32_t* bias,
                const Requantize& rq, void* out);

}  // namespace pith::simd
