// SGEMM micro-kernels, one source for every Highway target (AVX-512, AVX2, SSE4, NEON).
// The micro-kernel computes an MR x NR tile of C with MR*2 vector accumulators: per k it
// loads two vectors of packed B and broadcasts MR values of packed A.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/sgemm.cpp"
#include <hwy/cache_control.h>
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "runtime/kernels/simd/sgemm.h"
#include "runtime/kernels/simd/simd_activation-inl.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

using DF = hn::ScalableTag<float>;

// Rows per tile: 16-register targets take 6 (12 accumulators + 2 B vectors + 1
// broadcast); AVX-512 takes 12 (24 accumulators of its 32 registers: with 8 rows the
// 512^3 SGEMM ran at 0.61 of the FMA peak on a Xeon, with 12 at 0.79); other
// 32-register targets (NEON) take 8, which keeps the runtime's code smaller.
#if HWY_TARGET == HWY_AVX2 || HWY_TARGET == HWY_SSE4 || HWY_TARGET == HWY_SSSE3 || HWY_TARGET == HWY_EMU128 || \
    HWY_TARGET == HWY_SCALAR
constexpr int kMR = 6;
#elif HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
constexpr int kMR = 12;
#else
constexpr int kMR = 8;
#endif

int64_t MR() { return kMR; }
int64_t NR() { return int64_t(2 * hn::Lanes(DF())); }

void ActivationInplace(float* x, int64_t n, const Activation& act) {
  if (act.kind == ActivationKind::None) return;
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(Activate(d, hn::LoadU(d, x + i), act), d, x + i);
  if (i < n) {
    HWY_ALIGN float buf[(HWY_MAX_BYTES / sizeof(float))] = {};
    std::memcpy(buf, x + i, size_t(n - i) * sizeof(float));
    hn::Store(Activate(d, hn::Load(d, buf), act), d, buf);
    std::memcpy(x + i, buf, size_t(n - i) * sizeof(float));
  }
}

void PackA(const float* src, int64_t rs, int64_t cs, int64_t M, int64_t K, float* out) {
  for (int64_t p = 0; p < M; p += kMR) {
    const int64_t rows = std::min<int64_t>(kMR, M - p);
    float* panel = out + p * K;
    if (cs == 1) {
      for (int64_t r = 0; r < rows; ++r) {
        const float* row = src + (p + r) * rs;
        for (int64_t k = 0; k < K; ++k) panel[k * kMR + r] = row[k];
      }
    } else {
      for (int64_t k = 0; k < K; ++k)
        for (int64_t r = 0; r < rows; ++r) panel[k * kMR + r] = src[(p + r) * rs + k * cs];
    }
    for (int64_t k = 0; k < K; ++k)
      for (int64_t r = rows; r < kMR; ++r) panel[k * kMR + r] = 0.0f;
  }
}

void PackB(const float* src, int64_t rs, int64_t cs, int64_t K, int64_t N, float* out) {
  const int64_t nr = NR();
  for (int64_t q = 0; q < N; q += nr) {
    const int64_t cols = std::min<int64_t>(nr, N - q);
    float* panel = out + q * K;
    for (int64_t k = 0; k < K; ++k) {
      float* dst = panel + k * nr;
      if (cs == 1) {
        std::memcpy(dst, src + k * rs + q, size_t(cols) * sizeof(float));
      } else {
        for (int64_t c = 0; c < cols; ++c) dst[c] = src[k * rs + (q + c) * cs];
      }
      for (int64_t c = cols; c < nr; ++c) dst[c] = 0.0f;
    }
  }
}

// One MR x NR tile over a K slice: acc = (accumulate ? C : 0) + A_slice * B_slice; the
// last slice adds the epilogue. Only the valid rows x cols are loaded and stored.
// The accumulators are only ever indexed by compile-time constants (loops over kR,
// fully unrolled) so that they stay in registers; the epilogue, which handles partial
// tiles, reads them back from a small stack tile written once per call. kR <= kMR rows
// and kV <= 2 vectors of columns are computed (the packed panels keep their full
// kMR and NR layouts). B's row k starts at b + k * b.stride, or at b + b.offsets[k].
struct BRows {
  const float* b;
  int64_t stride;
  const int64_t* offsets;  // used when the tile is instantiated with kOffsets
  // Prefetched one step per k while the tile runs (the next A panel, on a panel's first
  // tile; otherwise this tile's own A, already cached).
  const float* a_next;
};

template <int kR, int kV, bool kOffsets>
HWY_INLINE void Tile(int64_t kc, const float* HWY_RESTRICT a, BRows brows, float* c, int64_t ldc, int64_t rows,
                     int64_t cols, int64_t row0, int64_t col0, const GemmEpilogue& ep, bool accumulate, bool last) {
  static_assert(kV == 1 || kV == 2, "a tile is one or two vectors wide");
  const DF d;
  const size_t L = hn::Lanes(d);
  using V = hn::Vec<DF>;
  const bool full = cols == int64_t(kV * L);
  constexpr size_t kMaxL = HWY_MAX_BYTES / sizeof(float);
  V acc0[kR], acc1[kR];
#pragma GCC unroll 12
  for (int r = 0; r < kR; ++r) {
    acc0[r] = hn::Zero(d);
    acc1[r] = hn::Zero(d);
  }
  if (accumulate) {
#pragma GCC unroll 12
    for (int r = 0; r < kR; ++r) {
      if (r >= rows) break;
      if (full) {
        acc0[r] = hn::LoadU(d, c + r * ldc);
        if constexpr (kV == 2) acc1[r] = hn::LoadU(d, c + r * ldc + L);
      } else {
        HWY_ALIGN float buf[2 * kMaxL] = {};
        std::memcpy(buf, c + r * ldc, size_t(cols) * sizeof(float));
        acc0[r] = hn::Load(d, buf);
        if constexpr (kV == 2) acc1[r] = hn::Load(d, buf + L);
      }
    }
  }
  const float* HWY_RESTRICT b = brows.b;
#pragma GCC unroll 2
  for (int64_t k = 0; k < kc; ++k) {
    hwy::Prefetch(brows.a_next + k * kMR);
    const float* bk = kOffsets ? b + brows.offsets[k] : b + k * brows.stride;
    const V b0 = hn::LoadU(d, bk);
    const float* ak = a + k * kMR;
    if constexpr (kV == 2) {
      const V b1 = hn::LoadU(d, bk + L);
#pragma GCC unroll 12
      for (int r = 0; r < kR; ++r) {
        const V av = hn::Set(d, ak[r]);
        acc0[r] = hn::MulAdd(av, b0, acc0[r]);
        acc1[r] = hn::MulAdd(av, b1, acc1[r]);
      }
    } else {
#pragma GCC unroll 12
      for (int r = 0; r < kR; ++r) acc0[r] = hn::MulAdd(hn::Set(d, ak[r]), b0, acc0[r]);
    }
  }
  // Row r of the tile at tile + r * 2L (the second half unused when kV == 1).
  HWY_ALIGN float tile[kR * 2 * kMaxL];
#pragma GCC unroll 12
  for (int r = 0; r < kR; ++r) {
    hn::Store(acc0[r], d, tile + r * 2 * L);
    hn::Store(acc1[r], d, tile + r * 2 * L + L);
  }
  for (int64_t r = 0; r < rows; ++r) {
    float* crow = c + r * ldc;
    float* t = tile + r * 2 * L;
    if (!last) {
      if (full) {
        hn::StoreU(hn::Load(d, t), d, crow);
        if constexpr (kV == 2) hn::StoreU(hn::Load(d, t + L), d, crow + L);
      } else {
        std::memcpy(crow, t, size_t(cols) * sizeof(float));
      }
      continue;
    }
    const int64_t m = row0 + r;
    V v0 = hn::Load(d, t), v1 = hn::Load(d, t + L);
    if (ep.bias_per_row) {
      const V bias = hn::Set(d, ep.bias_per_row[m]);
      v0 = hn::Add(v0, bias);
      v1 = hn::Add(v1, bias);
    }
    if (full) {
      if (ep.bias_per_col) {
        v0 = hn::Add(v0, hn::LoadU(d, ep.bias_per_col + col0));
        if constexpr (kV == 2) v1 = hn::Add(v1, hn::LoadU(d, ep.bias_per_col + col0 + L));
      }
      if (ep.residual) {
        const float* res = ep.residual + m * ldc + col0;
        v0 = hn::Add(v0, hn::LoadU(d, res));
        if constexpr (kV == 2) v1 = hn::Add(v1, hn::LoadU(d, res + L));
      }
      hn::StoreU(Activate(d, v0, ep.activation), d, crow);
      if constexpr (kV == 2) hn::StoreU(Activate(d, v1, ep.activation), d, crow + L);
    } else {
      hn::Store(v0, d, t);
      hn::Store(v1, d, t + L);
      for (int64_t j = 0; j < cols; ++j) {
        if (ep.bias_per_col) t[j] += ep.bias_per_col[col0 + j];
        if (ep.residual) t[j] += ep.residual[m * ldc + col0 + j];
      }
      hn::Store(Activate(d, hn::Load(d, t), ep.activation), d, t);
      if constexpr (kV == 2) hn::Store(Activate(d, hn::Load(d, t + L), ep.activation), d, t + L);
      std::memcpy(crow, t, size_t(cols) * sizeof(float));
    }
  }
}

// The tile with the fewest rows and vectors that covers rows x cols: a last panel of 2,
// 4 or 8 rows (M = 16, 32, ...) or of at most one vector of columns (N = 49 on 7x7 planes)
// does not pay for the full kMR x 2 vectors.
template <int kR, bool kOffsets>
HWY_INLINE void TileCols(int64_t kc, const float* HWY_RESTRICT a, BRows b, float* c, int64_t ldc, int64_t rows,
                         int64_t cols, int64_t row0, int64_t col0, const GemmEpilogue& ep, bool accumulate, bool last) {
  if (cols <= int64_t(hn::Lanes(DF()))) {
    Tile<kR, 1, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
  } else {
    Tile<kR, 2, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
  }
}

template <bool kOffsets = false>
HWY_INLINE void TileRows(int64_t kc, const float* HWY_RESTRICT a, BRows b, float* c, int64_t ldc, int64_t rows,
                         int64_t cols, int64_t row0, int64_t col0, const GemmEpilogue& ep, bool accumulate, bool last) {
  if constexpr (kMR > 8) {
    if (rows > 4 && rows <= 8) {  // M = 8, 16, ... on 12-row targets
      TileCols<8, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
      return;
    }
  }
  if (rows > 4) {
    TileCols<kMR, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
  } else if (rows > 2) {
    TileCols<4, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
  } else {
    TileCols<2, kOffsets>(kc, a, b, c, ldc, rows, cols, row0, col0, ep, accumulate, last);
  }
}

// K is processed in slices of kKC so that one slice of an A panel stays in L1 (12 KiB at
// 6 rows, 16 at 8, 24 at 12), and N in blocks of kL2BlockFloats / kc columns so that one slice of
// the B block stays in L2 while every A panel passes over it; C accumulates across
// slices. The summation order per element is fixed (slices in order, each k once),
// independent of threads, blocking and the slice length.
// A's panels are read once per run and are cold: a network's weights do not stay cached
// from one run to the next. A panel's first tile prefetches the next panel, one step per
// k, so that its first tile does not wait on memory; with K = 400 (RegNet's 1x1 layers on
// 7x7 planes) that and one slice instead of two (256 + 144) took each layer from 0.345 to
// about 0.23 ms inside the network (with the weights cached:
// 0.197 -> 0.179 ms).
constexpr int64_t kKC = 512;
constexpr int64_t kL2BlockFloats = 48 * 1024;  // 192 KiB of B: half of a small core's L2

void SgemmPacked(int64_t M, int64_t N, int64_t K, const float* pa, const float* pb, float* C, int64_t ldc,
                 const GemmEpilogue& ep) {
  const int64_t nr = NR();
  for (int64_t k0 = 0; k0 < K || k0 == 0; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    const bool accumulate = k0 > 0, last = k0 + kc >= K;
    const int64_t nb = std::max(nr, kL2BlockFloats / std::max<int64_t>(kc, 1) / nr * nr);
    for (int64_t n0 = 0; n0 < N; n0 += nb) {
      const int64_t n1 = std::min(N, n0 + nb);
      for (int64_t m = 0; m < M; m += kMR) {
        const int64_t rows = std::min<int64_t>(kMR, M - m);
        const float* a = pa + m * K + k0 * kMR;
        const float* a_next = m + kMR < M ? a + kMR * K : a;
        for (int64_t n = n0; n < n1; n += nr) {
          const int64_t cols = std::min<int64_t>(nr, N - n);
          TileRows(kc, a, {pb + n * K + k0 * nr, nr, nullptr, n == n0 ? a_next : a}, C + m * ldc + n, ldc, rows, cols,
                   m, n, ep, accumulate, last);
        }
      }
    }
    if (K == 0) break;
  }
}

// The same with B read where it lies: its row k at b + k * ldb, or (kOffsets) at
// b + offsets[k]. A last partial tile reads whole vectors (the lanes past N are computed
// and dropped).
template <bool kOffsets>
void SgemmInPlaceB(int64_t M, int64_t N, int64_t K, const float* pa, const float* b, int64_t ldb,
                   const int64_t* offsets, float* C, int64_t ldc, const GemmEpilogue& ep) {
  const int64_t nr = NR();
  for (int64_t k0 = 0; k0 < K || k0 == 0; k0 += kKC) {
    const int64_t kc = std::min(kKC, K - k0);
    const bool accumulate = k0 > 0, last = k0 + kc >= K;
    for (int64_t m = 0; m < M; m += kMR) {
      const int64_t rows = std::min<int64_t>(kMR, M - m);
      const float* a = pa + m * K + k0 * kMR;
      const float* a_next = m + kMR < M ? a + kMR * K : a;
      for (int64_t n = 0; n < N; n += nr) {
        const float* pf = n == 0 ? a_next : a;
        const BRows brows = kOffsets ? BRows{b + n, 0, offsets + k0, pf} : BRows{b + k0 * ldb + n, ldb, nullptr, pf};
        TileRows<kOffsets>(kc, a, brows, C + m * ldc + n, ldc, rows, std::min(nr, N - n), m, n, ep, accumulate, last);
      }
    }
    if (K == 0) break;
  }
}

// B's rows ldb floats apart; N must be a multiple of NR.
void SgemmDirectB(int64_t M, int64_t N, int64_t K, const float* pa, const float* b, int64_t ldb, float* C, int64_t ldc,
                  const GemmEpilogue& ep) {
  SgemmInPlaceB<false>(M, N, K, pa, b, ldb, nullptr, C, ldc, ep);
}

// B's rows where a table says: B[k][n] = b[offsets[k] + n].
void SgemmOffsetB(int64_t M, int64_t N, int64_t K, const float* pa, const float* b, const int64_t* offsets, float* C,
                  int64_t ldc, const GemmEpilogue& ep) {
  SgemmInPlaceB<true>(M, N, K, pa, b, 0, offsets, C, ldc, ep);
}

// y[n] = dot(W[n, 0..K), x) + bias[n], activation; rows [n0, n1). Four rows at a time
// share each load of x; every row's sum runs in the same order for any row split.
void GemvRows(int64_t n0, int64_t n1, int64_t K, const float* w, int64_t ldw, const float* x, const float* bias,
              const Activation& act, float* y) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  auto finish = [&](int64_t n, hn::Vec<DF> acc, int64_t k_tail_from) {
    float sum = hn::GetLane(hn::SumOfLanes(d, acc));
    for (int64_t k = k_tail_from; k < K; ++k) sum += w[n * ldw + k] * x[k];
    if (bias) sum += bias[n];
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
    buf[0] = sum;
    hn::Store(Activate(d, hn::Load(d, buf), act), d, buf);
    y[n] = buf[0];
  };
  const int64_t kv = K / L * L;
  int64_t n = n0;
  for (; n + 4 <= n1; n += 4) {
    auto a0 = hn::Zero(d), a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    const float *r0 = w + n * ldw, *r1 = r0 + ldw, *r2 = r1 + ldw, *r3 = r2 + ldw;
    for (int64_t k = 0; k < kv; k += L) {
      const auto xv = hn::LoadU(d, x + k);
      a0 = hn::MulAdd(hn::LoadU(d, r0 + k), xv, a0);
      a1 = hn::MulAdd(hn::LoadU(d, r1 + k), xv, a1);
      a2 = hn::MulAdd(hn::LoadU(d, r2 + k), xv, a2);
      a3 = hn::MulAdd(hn::LoadU(d, r3 + k), xv, a3);
    }
    finish(n, a0, kv);
    finish(n + 1, a1, kv);
    finish(n + 2, a2, kv);
    finish(n + 3, a3, kv);
  }
  for (; n < n1; ++n) {
    auto a0 = hn::Zero(d);
    for (int64_t k = 0; k < kv; k += L) a0 = hn::MulAdd(hn::LoadU(d, w + n * ldw + k), hn::LoadU(d, x + k), a0);
    finish(n, a0, kv);
  }
}

const char* TargetName() { return hwy::TargetName(HWY_TARGET); }

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith::simd {

HWY_EXPORT(MR);
HWY_EXPORT(NR);
HWY_EXPORT(PackA);
HWY_EXPORT(PackB);
HWY_EXPORT(SgemmPacked);
HWY_EXPORT(SgemmDirectB);
HWY_EXPORT(SgemmOffsetB);
HWY_EXPORT(GemvRows);
HWY_EXPORT(ActivationInplace);
HWY_EXPORT(TargetName);

// Not cached: tests switch targets (hwy::SetSupportedTargetsForTest) within a process.
int64_t sgemm_mr() { return HWY_DYNAMIC_DISPATCH(MR)(); }
int64_t sgemm_nr() { return HWY_DYNAMIC_DISPATCH(NR)(); }
void pack_a(const float* src, int64_t rs, int64_t cs, int64_t M, int64_t K, float* out) {
  HWY_DYNAMIC_DISPATCH(PackA)(src, rs, cs, M, K, out);
}
void pack_b(const float* src, int64_t rs, int64_t cs, int64_t K, int64_t N, float* out) {
  HWY_DYNAMIC_DISPATCH(PackB)(src, rs, cs, K, N, out);
}
void sgemm_packed(int64_t M, int64_t N, int64_t K, const float* pa, const float* pb, float* C, int64_t ldc,
                  const GemmEpilogue& ep) {
  HWY_DYNAMIC_DISPATCH(SgemmPacked)(M, N, K, pa, pb, C, ldc, ep);
}
void sgemm_direct_b(int64_t M, int64_t N, int64_t K, const float* pa, const float* b, int64_t ldb, float* C,
                    int64_t ldc, const GemmEpilogue& ep) {
  HWY_DYNAMIC_DISPATCH(SgemmDirectB)(M, N, K, pa, b, ldb, C, ldc, ep);
}
void sgemm_offset_b(int64_t M, int64_t N, int64_t K, const float* pa, const float* b, const int64_t* offsets, float* C,
                    int64_t ldc, const GemmEpilogue& ep) {
  HWY_DYNAMIC_DISPATCH(SgemmOffsetB)(M, N, K, pa, b, offsets, C, ldc, ep);
}
void gemv_rows(int64_t n0, int64_t n1, int64_t K, const float* w, int64_t ldw, const float* x, const float* bias,
               const Activation& act, float* y) {
  HWY_DYNAMIC_DISPATCH(GemvRows)(n0, n1, K, w, ldw, x, bias, act, y);
}
void activation_inplace(float* x, int64_t n, const Activation& act) {
  HWY_DYNAMIC_DISPATCH(ActivationInplace)(x, n, act);
}
const char* simd_target_name() { return HWY_DYNAMIC_DISPATCH(TargetName)(); }

}  // namespace pith::simd
#endif  // HWY_ONCE
