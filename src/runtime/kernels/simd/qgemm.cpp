// int8 GEMM micro-kernels, one source for every Highway target. A tile is MR rows by
// two vectors of int32 columns; per k group it loads two vectors of packed B, broadcasts
// one A word per row and multiply-adds: int16 pairs into int32 (ReorderWidenMulAccumulate)
// on most targets, byte quads with vpdpbusd on AVX-512 VNNI (qgemm.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/qgemm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <type_traits>

#include "runtime/kernels/simd/qgemm.h"
#include "runtime/kernels/simd/simd_requantize-inl.h"
#include "runtime/kernels/simd/simd_store-inl.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using D32 = hn::ScalableTag<int32_t>;
using D16 = hn::Repartition<int16_t, D32>;
using DF = hn::Repartition<float, D32>;

// Rows per tile. 16-register x86 targets: 5 rows x 2 vectors = 10 accumulators + 2 B
// vectors + the broadcast + the product (6 rows spilled an accumulator to the stack);
// Arm's 32 registers hold 6 rows with the second accumulator set that
// ReorderWidenMulAccumulate keeps there; AVX-512 VNNI's 32 registers hold 12 rows x 2
// vectors (one accumulator each: vpdpbusd adds in place) + 2 B vectors + the broadcast.
#if HWY_TARGET == HWY_AVX3_DL
#define PITH_QGEMM_QUADS 1
constexpr int kMR = 12;
constexpr int kKG = 4;  // k values per packed word: bytes for vpdpbusd
#else
#undef PITH_QGEMM_QUADS
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3
constexpr int kMR = 5;
#else
constexpr int kMR = 6;
#endif
constexpr int kKG = 2;  // int16 pairs
#endif

int64_t QMR() { return kMR; }
int64_t QNR() { return int64_t(2 * hn::Lanes(D32())); }
int64_t QKGroup() { return kKG; }

inline int32_t pair(int32_t lo, int32_t hi) {
  return int32_t(uint32_t(uint16_t(int16_t(lo))) | (uint32_t(uint16_t(int16_t(hi))) << 16));
}

// Four bytes b[0..3], b[0] lowest.
inline int32_t quad(const uint8_t* b) {
  return int32_t(uint32_t(b[0]) | uint32_t(b[1]) << 8 | uint32_t(b[2]) << 16 | uint32_t(b[3]) << 24);
}

void PackQA(const int8_t* src, int64_t rs, int64_t cs, int64_t M, int64_t K, int32_t* out) {
  const int64_t groups = (K + kKG - 1) / kKG;
  for (int64_t p = 0; p < M; p += kMR) {
    int32_t* panel = out + p * (groups + 1);
    for (int64_t j = 0; j < groups; ++j)
      for (int64_t r = 0; r < kMR; ++r) {
        const int64_t m = p + r;
        int32_t v[kKG];
        for (int64_t i = 0; i < kKG; ++i) {
          const int64_t k = kKG * j + i;
          v[i] = m < M && k < K ? src[m * rs + k * cs] : 0;
        }
        if constexpr (kKG == 2) {
          panel[j * kMR + r] = pair(v[0], v[1]);
        } else {
          uint8_t b[4];
          for (int i = 0; i < 4; ++i) b[i] = uint8_t(int8_t(v[i]));
          panel[j * kMR + r] = quad(b);
        }
      }
    for (int64_t r = 0; r < kMR; ++r) {
      int32_t sum = 0;
      for (int64_t k = 0; p + r < M && k < K; ++k) sum += src[(p + r) * rs + k * cs];
      panel[groups * kMR + r] = sum;
    }
  }
}

#if PITH_QGEMM_QUADS
// Codes as unsigned bytes: int8 codes flipped to code + 128 (x ^ 0x80).
template <typename T>
constexpr uint8_t kFlip = std::is_same_v<T, int8_t> ? 0x80 : 0;

// Four rows of contiguous codes into quad words at dst, 16 columns at a time; returns the
// columns done (the rest, fewer than 16, are left to the caller).
template <typename T>
HWY_INLINE int64_t InterleaveFourRows(const T* r0, const T* r1, const T* r2, const T* r3, int64_t cols, int32_t* dst) {
  const hn::FixedTag<uint8_t, 16> d8;
  const hn::FixedTag<uint16_t, 8> d16;
  const hn::FixedTag<uint32_t, 4> d32;
  const auto flip = hn::Set(d8, kFlip<T>);
  int64_t c = 0;
  auto row = [&](const T* r) { return hn::Xor(hn::LoadU(d8, reinterpret_cast<const uint8_t*>(r) + c), flip); };
  for (; c + 16 <= cols; c += 16) {
    const auto a = row(r0), b = row(r1), e = row(r2), f = row(r3);
    const auto ab_lo = hn::ZipLower(d16, a, b), ab_hi = hn::ZipUpper(d16, a, b);
    const auto ef_lo = hn::ZipLower(d16, e, f), ef_hi = hn::ZipUpper(d16, e, f);
    uint32_t* out = reinterpret_cast<uint32_t*>(dst + c);
    hn::StoreU(hn::ZipLower(d32, ab_lo, ef_lo), d32, out);
    hn::StoreU(hn::ZipUpper(d32, ab_lo, ef_lo), d32, out + 4);
    hn::StoreU(hn::ZipLower(d32, ab_hi, ef_hi), d32, out + 8);
    hn::StoreU(hn::ZipUpper(d32, ab_hi, ef_hi), d32, out + 12);
  }
  return c;
}
#endif

template <typename T>
int32_t PackQB(const T* src, int64_t rs, int64_t cs, int64_t K, int64_t N, int32_t zp, int32_t* out) {
  const int64_t nr = QNR(), groups = (K + kKG - 1) / kKG;
  for (int64_t q = 0; q < N; q += nr) {
    const int64_t cols = std::min(nr, N - q);
    int32_t* panel = out + q * groups;
    for (int64_t j = 0; j < groups; ++j) {
      const int64_t k = kKG * j;
      const T* r0 = src + k * rs + q * cs;
      int32_t* dst = panel + j * nr;
#if PITH_QGEMM_QUADS
      const int64_t done =
          cs == 1 && k + 3 < K ? InterleaveFourRows(r0, r0 + rs, r0 + 2 * rs, r0 + 3 * rs, cols, dst) : 0;
      for (int64_t c = done; c < cols; ++c) {
        uint8_t b[4] = {0, 0, 0, 0};  // k past K meets zero weights
        for (int64_t i = 0; i < 4 && k + i < K; ++i) b[i] = uint8_t(uint8_t(r0[i * rs + c * cs]) ^ kFlip<T>);
        dst[c] = quad(b);
      }
#else
      const T* r1 = r0 + rs;
      if (k + 1 < K) {
        for (int64_t c = 0; c < cols; ++c) dst[c] = pair(int32_t(r0[c * cs]) - zp, int32_t(r1[c * cs]) - zp);
      } else {
        for (int64_t c = 0; c < cols; ++c) dst[c] = pair(int32_t(r0[c * cs]) - zp, 0);
      }
#endif
      for (int64_t c = cols; c < nr; ++c) dst[c] = 0;
    }
  }
#if PITH_QGEMM_QUADS
  return zp + kFlip<T>;
#else
  return 0;
#endif
}

int32_t PackQBU8(const uint8_t* src, int64_t rs, int64_t cs, int64_t K, int64_t N, int32_t zp, int32_t* out) {
  return PackQB(src, rs, cs, K, N, zp, out);
}
int32_t PackQBS8(const int8_t* src, int64_t rs, int64_t cs, int64_t K, int64_t N, int32_t zp, int32_t* out) {
  return PackQB(src, rs, cs, K, N, zp, out);
}

// Requantizes one row of `cols` int32 values (whole vectors readable) with the generic
// epilogue and writes them `col_stride` outputs apart (QGemm's transposed rows: out of
// line, one copy per output type).
HWY_NOINLINE void StoreRowStrided(const Requantize& rq, const int32_t* acc, int64_t cols, int32_t bias,
                                  float multiplier, char* base, int64_t col_stride) {
  const D32 d32;
  const DF df;
  const int64_t L = int64_t(hn::Lanes(d32));
  const auto bias_v = hn::Set(d32, bias);
  const auto multiplier_v = hn::Set(df, multiplier);
  WithGenericEpilogue(rq, [&](const auto& ep) {
    using Ep = std::decay_t<decltype(ep)>;
    constexpr size_t kMaxL = HWY_MAX_BYTES / sizeof(int32_t);
    HWY_ALIGN float real[2 * kMaxL];
    HWY_ALIGN int32_t q[2 * kMaxL];
    for (int64_t c = 0; c < cols; c += L) {
      const auto f = ep.Real(hn::LoadU(d32, acc + c), bias_v, multiplier_v, L, nullptr);
      if constexpr (Ep::kOutputBytes == 1)
        hn::Store(ep.Codes(f), d32, q + c);
      else
        hn::Store(f, df, real + c);
    }
    for (int64_t c = 0; c < cols; ++c) {
      char* y = base + size_t(c * col_stride) * Ep::kOutputBytes;
      if constexpr (Ep::kOutputBytes == 1)
        *y = char(q[c]);  // the code's low byte: uint8 or int8
      else
        std::memcpy(y, &real[c], sizeof(float));
    }
  });
}

// Requantizes one row of `cols` int32 values (whole vectors readable) through the epilogue
// and writes them with the output's strides; the fused residual (contiguous rows only) is
// read where the row's outputs go.
template <class Ep>
HWY_INLINE void StoreRow(const Ep& ep, const Requantize& rq, const int32_t* acc, int64_t cols, int32_t bias,
                         float multiplier, char* base, int64_t col_stride, const void* residual) {
  if (col_stride != 1) return StoreRowStrided(rq, acc, cols, bias, multiplier, base, col_stride);
  const D32 d32;
  const DF df;
  const int64_t L = int64_t(hn::Lanes(d32));
  const auto bias_v = hn::Set(d32, bias);
  const auto multiplier_v = hn::Set(df, multiplier);
  if (cols == 2 * L && !residual) {  // a whole tile row: no tail checks
    ep.Store(hn::LoadU(d32, acc), bias_v, multiplier_v, L, base, nullptr);
    ep.Store(hn::LoadU(d32, acc + L), bias_v, multiplier_v, L, base + size_t(L) * Ep::kOutputBytes, nullptr);
    return;
  }
  for (int64_t c = 0; c < cols; c += L)
    ep.Store(hn::LoadU(d32, acc + c), bias_v, multiplier_v, std::min(L, cols - c), base + size_t(c) * Ep::kOutputBytes,
             residual ? static_cast<const char*>(residual) + c : nullptr);  // byte codes
}

#if PITH_QGEMM_QUADS
#pragma GCC push_options
#pragma GCC target("avx512vnni")  // Highway's AVX3_DL target string names only AVX-VNNI
// acc += vpdpbusd(u, s). Inline assembly: GCC 12 copies the accumulator of the intrinsic
// through a second register (and, with 24 accumulators, spills them to the stack).
HWY_INLINE void DotBytesAdd(__m512i& acc, __m512i u, __m512i s) {
  asm("vpdpbusd %2, %1, %0" : "+v"(acc) : "v"(u), "v"(s));
}
// The accumulators of one MR x NR tile in the quads layout (B's codes offset removed).
HWY_NOINLINE void AccumulateQuads(int64_t groups, const int32_t* HWY_RESTRICT a, const int32_t* HWY_RESTRICT b,
                                  int32_t b_offset, int32_t* HWY_RESTRICT tile) {
  constexpr int64_t kNR = 32;
  __m512i c0[kMR], c1[kMR];
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) c0[r] = c1[r] = _mm512_setzero_si512();
  for (int64_t j = 0; j < groups; ++j) {
    const __m512i b0 = _mm512_loadu_si512(b + j * kNR), b1 = _mm512_loadu_si512(b + j * kNR + 16);
    const int32_t* aj = a + j * kMR;
#pragma GCC unroll 12
    for (int r = 0; r < kMR; ++r) {
      const __m512i av = _mm512_set1_epi32(aj[r]);
      DotBytesAdd(c0[r], b0, av);
      DotBytesAdd(c1[r], b1, av);
    }
  }
  const int32_t* row_sums = a + groups * kMR;
#pragma GCC unroll 12
  for (int r = 0; r < kMR; ++r) {  // wrapping int32 arithmetic: the true result fits
    const __m512i off = _mm512_set1_epi32(int32_t(uint32_t(b_offset) * uint32_t(row_sums[r])));
    _mm512_storeu_si512(tile + r * kNR, _mm512_sub_epi32(c0[r], off));
    _mm512_storeu_si512(tile + r * kNR + 16, _mm512_sub_epi32(c1[r], off));
  }
}
#pragma GCC pop_options
#endif

// The MR x NR accumulators of one tile over all of K, into tile (rows of NR).
HWY_NOINLINE void Accumulate(int64_t groups, const int32_t* HWY_RESTRICT a, const int32_t* HWY_RESTRICT b,
                             int32_t b_offset, int32_t* HWY_RESTRICT tile) {
  const D32 d32;
  const size_t L = hn::Lanes(d32);
  const int64_t nr = int64_t(2 * L);
#if PITH_QGEMM_QUADS
  AccumulateQuads(groups, a, b, b_offset, tile);
#elif HWY_TARGET == HWY_SCALAR
  // One lane: int16 pairs cannot be bit-cast from one int32 lane; multiply them out.
  for (int64_t i = 0; i < kMR * nr; ++i) tile[i] = 0;
  for (int64_t j = 0; j < groups; ++j)
    for (int r = 0; r < kMR; ++r) {
      const int32_t av = a[j * kMR + r];
      for (int64_t c = 0; c < nr; ++c) {
        const int32_t bv = b[j * nr + c];
        tile[r * nr + c] += int32_t(int16_t(av & 0xFFFF)) * int16_t(bv & 0xFFFF) +
                            int32_t(int16_t(uint32_t(av) >> 16)) * int16_t(uint32_t(bv) >> 16);
      }
    }
#else
  const D16 d16;
  using V = hn::Vec<D32>;
  V c0[kMR], c1[kMR], s0[kMR], s1[kMR];
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) c0[r] = c1[r] = s0[r] = s1[r] = hn::Zero(d32);
  for (int64_t j = 0; j < groups; ++j) {
    const auto b0 = hn::BitCast(d16, hn::LoadU(d32, b + j * nr));
    const auto b1 = hn::BitCast(d16, hn::LoadU(d32, b + j * nr + L));
    const int32_t* aj = a + j * kMR;
#pragma GCC unroll 8
    for (int r = 0; r < kMR; ++r) {
      const auto av = hn::BitCast(d16, hn::Set(d32, aj[r]));
      c0[r] = hn::ReorderWidenMulAccumulate(d32, av, b0, c0[r], s0[r]);
      c1[r] = hn::ReorderWidenMulAccumulate(d32, av, b1, c1[r], s1[r]);
    }
  }
#pragma GCC unroll 8
  for (int r = 0; r < kMR; ++r) {
    hn::Store(hn::RearrangeToOddPlusEven(c0[r], s0[r]), d32, tile + r * nr);
    hn::Store(hn::RearrangeToOddPlusEven(c1[r], s1[r]), d32, tile + r * nr + L);
  }
#endif
}

void QgemmPacked(int64_t M, int64_t N, int64_t K, const int32_t* pa, const int32_t* pb, int32_t b_offset,
                 const int32_t* bias, const Requantize& rq, int64_t m0, const QgemmOutput& out) {
  const int64_t groups = (K + kKG - 1) / kKG, nr = QNR();
  constexpr size_t kMaxL = HWY_MAX_BYTES / sizeof(int32_t);
  HWY_ALIGN int32_t tile[kMR * 2 * kMaxL];
  WithEpilogue(rq, [&](const auto& ep) {
    using Ep = std::decay_t<decltype(ep)>;
    for (int64_t q = 0; q < N; q += nr) {
      const int64_t cols = std::min(nr, N - q);
      for (int64_t p = 0; p < M; p += kMR) {
        Accumulate(groups, pa + p * (groups + 1), pb + q * groups, b_offset, tile);
        const int64_t rows = std::min<int64_t>(kMR, M - p);
        for (int64_t r = 0; r < rows; ++r) {
          const int64_t m = m0 + p + r;
          const size_t at = size_t((p + r) * out.row_stride + q * out.col_stride);
          StoreRow(ep, rq, tile + r * nr, cols, bias ? bias[m] : 0, rq.multiplier[size_t(m)],
                   static_cast<char*>(out.data) + at * Ep::kOutputBytes, out.col_stride,
                   out.residual ? static_cast<const char*>(out.residual) + at : nullptr);
        }
      }
    }
  });
}

// Whole vectors straight from acc; the last partial vector from a zero-padded copy, so
// nothing past n is read.
template <typename T, class Load>
HWY_INLINE void RequantizeSpan(const T* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                               const void* residual, const Load& load) {
  const D32 d32;
  const DF df;
  const int64_t L = int64_t(hn::Lanes(d32));
  const auto bias_v = hn::Set(d32, bias);
  const auto multiplier_v = hn::Set(df, rq.multiplier[size_t(channel)]);
  auto residual_at = [&](int64_t c) { return residual ? static_cast<const char*>(residual) + c : nullptr; };
  WithGenericEpilogue(rq, [&](const auto& ep) {
    using Ep = std::decay_t<decltype(ep)>;
    char* y = static_cast<char*>(out);
    const int64_t whole = n / L * L;
    for (int64_t c = 0; c < whole; c += L)
      ep.Store(load(acc + c), bias_v, multiplier_v, L, y + size_t(c) * Ep::kOutputBytes, residual_at(c));
    if (whole == n) return;
    constexpr size_t kMaxL = HWY_MAX_BYTES / sizeof(int32_t);
    HWY_ALIGN T tail[kMaxL] = {};
    std::memcpy(tail, acc + whole, size_t(n - whole) * sizeof(T));
    ep.Store(load(tail), bias_v, multiplier_v, n - whole, y + size_t(whole) * Ep::kOutputBytes, residual_at(whole));
  });
}

void RequantizeRow(const int32_t* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                   const void* residual) {
  const D32 d32;
  RequantizeSpan(acc, n, bias, channel, rq, out, residual, [&](const int32_t* p) { return hn::LoadU(d32, p); });
}

// Float accumulators hold exact integers below 2^24: the conversion is exact.
void RequantizeRowF32(const float* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                      const void* residual) {
  const D32 d32;
  const DF df;
  RequantizeSpan(acc, n, bias, channel, rq, out, residual,
                 [&](const float* p) { return hn::ConvertTo(d32, hn::LoadU(df, p)); });
}

void QgemvRows(int64_t n0, int64_t n1, int64_t K, const int8_t* w, int64_t ldw, const int16_t* x, const int32_t* bias,
               const Requantize& rq, void* out) {
  WithGenericEpilogue(rq, [&](const auto& ep) {
    using Ep = std::decay_t<decltype(ep)>;
    for (int64_t n = n0; n < n1; ++n) {
      const int8_t* row = w + n * ldw;
      int64_t k = 0;
      int32_t sum = 0;
#if HWY_TARGET != HWY_SCALAR
      const D32 d32;
      const D16 d16;
      const hn::Rebind<int8_t, D16> d8;
      const int64_t L16 = int64_t(hn::Lanes(d16));
      auto s0 = hn::Zero(d32), s1 = hn::Zero(d32);
      for (; k + L16 <= K; k += L16)
        s0 = hn::ReorderWidenMulAccumulate(d32, hn::PromoteTo(d16, hn::LoadU(d8, row + k)), hn::LoadU(d16, x + k), s0,
                                           s1);
      sum = hn::GetLane(hn::SumOfLanes(d32, hn::Add(s0, s1)));
#endif
      for (; k < K; ++k) sum += int32_t(row[k]) * int32_t(x[k]);
      constexpr size_t kMaxL = HWY_MAX_BYTES / sizeof(int32_t);
      HWY_ALIGN int32_t one[2 * kMaxL] = {};  // StoreRow reads whole vectors
      one[0] = sum;
      StoreRow(ep, rq, one, 1, bias ? bias[n] : 0, rq.multiplier[size_t(n)],
               static_cast<char*>(out) + size_t(n) * Ep::kOutputBytes, 1, nullptr);
    }
  });
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith::simd {

HWY_EXPORT(QMR);
HWY_EXPORT(QNR);
HWY_EXPORT(QKGroup);
HWY_EXPORT(PackQA);
HWY_EXPORT(PackQBU8);
HWY_EXPORT(PackQBS8);
HWY_EXPORT(QgemmPacked);
HWY_EXPORT(RequantizeRow);
HWY_EXPORT(RequantizeRowF32);
HWY_EXPORT(QgemvRows);

int64_t qgemm_mr() { return HWY_DYNAMIC_DISPATCH(QMR)(); }
int64_t qgemm_nr() { return HWY_DYNAMIC_DISPATCH(QNR)(); }
int64_t qgemm_k_group() { return HWY_DYNAMIC_DISPATCH(QKGroup)(); }
void pack_qa(const int8_t* src, int64_t rs, int64_t cs, int64_t M, int64_t K, int32_t* out) {
  HWY_DYNAMIC_DISPATCH(PackQA)(src, rs, cs, M, K, out);
}
int32_t pack_qb_u8(const uint8_t* src, int64_t rs, int64_t cs, int64_t K, int64_t N, int32_t zp, int32_t* out) {
  return HWY_DYNAMIC_DISPATCH(PackQBU8)(src, rs, cs, K, N, zp, out);
}
int32_t pack_qb_s8(const int8_t* src, int64_t rs, int64_t cs, int64_t K, int64_t N, int32_t zp, int32_t* out) {
  return HWY_DYNAMIC_DISPATCH(PackQBS8)(src, rs, cs, K, N, zp, out);
}
void qgemm_packed(int64_t M, int64_t N, int64_t K, const int32_t* pa, const int32_t* pb, int32_t b_offset,
                  const int32_t* bias, const Requantize& rq, int64_t m0, const QgemmOutput& out) {
  HWY_DYNAMIC_DISPATCH(QgemmPacked)(M, N, K, pa, pb, b_offset, bias, rq, m0, out);
}

void requantize_row(const int32_t* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                    const void* residual) {
  HWY_DYNAMIC_DISPATCH(RequantizeRow)(acc, n, bias, channel, rq, out, residual);
}
void requantize_row_f32(const float* acc, int64_t n, int32_t bias, int64_t channel, const Requantize& rq, void* out,
                        const void* residual) {
  HWY_DYNAMIC_DISPATCH(RequantizeRowF32)(acc, n, bias, channel, rq, out, residual);
}
void qgemv_rows(int64_t n0, int64_t n1, int64_t K, const int8_t* w, int64_t ldw, const int16_t* x, const int32_t* bias,
                const Requantize& rq, void* out) {
  HWY_DYNAMIC_DISPATCH(QgemvRows)(n0, n1, K, w, ldw, x, bias, rq, out);
}

}  // namespace pith::simd
#endif  // HWY_ONCE
