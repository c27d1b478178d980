// Depthwise convolution, one source for every Highway target. Each input plane is copied
// into scratch with zero padding, and for stride s its columns are split into s phases
// (column x goes to phase x % s at position x / s), so that every filter tap reads a
// contiguous run of the scratch for consecutive outputs: no bounds checks and no gathers
// in the inner loop. The padding is the same for every plane of a call, so the scratch is
// zeroed once per call and each plane only overwrites its interior.
//
// Outputs are computed in blocks of vectors held in registers: 8 rows of one vector on
// narrow planes (7x7), 7 rows of two (14x14), 3 rows of four on wide ones. One tap's
// broadcast weight feeds 8 to 14 independent FMA chains: enough to cover the FMA latency
// (each chain is one FMA per tap, 9 or 25 long), which fewer chains would leave exposed.
// The per-plane set-up (offsets, padding) is paid once per call.
//
// For pith.QConv the same kernel runs on 8-bit codes: each plane widened to floats
// (code - zero point) as it is copied into the scratch, and the accumulators, exact
// integers in float, requantized as they are stored (simd_requantize-inl.h).
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/depthwise.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "runtime/kernels/requantize.h"
#include "runtime/kernels/simd/depthwise.h"
#include "runtime/kernels/simd/simd_activation-inl.h"
#include "runtime/kernels/simd/simd_requantize-inl.h"

#ifndef PITH_DEPTHWISE_GEOMETRY_ONCE  // this file is compiled once per SIMD target
#define PITH_DEPTHWISE_GEOMETRY_ONCE
namespace pith::simd {
namespace {
// Output rows are computed in blocks of up to this many; rows past OH in the last block
// are computed from zero rows of the scratch and not stored.
constexpr int64_t kMaxBlockRows = 8;
// Padded plane geometry shared by the scratch size and the kernel.
struct Padded {
  int64_t rows, cols, phase_cols;
};
Padded padded_geometry(const DepthwiseParams& p) {
  const int64_t block_rows = p.OH + kMaxBlockRows - 1;  // any block height up to the maximum
  Padded g;
  g.rows = std::max(p.H + p.pad_top, (block_rows - 1) * p.stride_h + (p.KH - 1) * p.dilation_h + 1);
  g.cols = std::max(p.W + p.pad_left, (p.OW - 1) * p.stride_w + (p.KW - 1) * p.dilation_w + 1);
  g.phase_cols = (g.cols + p.stride_w - 1) / p.stride_w;
  return g;
}
// Vector over-read past the last row's end (lanes that are computed and discarded): a
// block of four vectors of 16 lanes starting inside the last row.
constexpr int64_t kSlackFloats = 128;
// Filters with more taps than this are summed in passes of this many.
constexpr int64_t kMaxTaps = 64;
}  // namespace
}  // namespace pith::simd
#endif

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Copies input row y (W floats at src, `readable` floats readable from there) into the
// interior of the padded, phase-split scratch (whose padding is already zero and is left
// untouched). Rows are copied in order: a row's spill past its end is rewritten by the
// next one.
HWY_INLINE void FillInteriorRow(const DepthwiseParams& p, const Padded& g, int64_t y, const float* src,
                                int64_t readable, float* scratch) {
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc;
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  float* row = scratch + (y + p.pad_top) * row_stride;
  if (s == 1) {
    float* dst = row + p.pad_left;
    int64_t x = 0;
    for (; x + L <= p.W; x += L) hn::StoreU(hn::LoadU(d, src + x), d, dst + x);
    if (x < p.W && x + L <= readable) {
      // A whole last vector (its source lanes past the row are still in the plane),
      // then zeros over what it wrote past the row: padding, or the start of the next
      // row, which is copied after this one.
      hn::StoreU(hn::LoadU(d, src + x), d, dst + x);
      hn::StoreU(hn::Zero(d), d, dst + p.W);
      return;
    }
    for (; x < p.W; ++x) dst[x] = src[x];  // < L floats: a loop beats a memcpy call
    return;
  }
  int64_t x = 0;
  if (s == 2) {
    // Padded column px = x + pad_left goes to phase px % 2, position px / 2.
    const int64_t base = p.pad_left / 2;
    float* even_dst = (p.pad_left % 2 == 0) ? row + base : row + pc + base;
    float* odd_dst = (p.pad_left % 2 == 0) ? row + pc + base : row + base + 1;
    // The last, partial two vectors first, as whole vectors (their source lanes past
    // the row are still in the plane), each followed by zeros over what it wrote past
    // its phase's data. The phase at the lower address goes first: what spills from
    // it runs into the other phase (whose data below is written after it, by the
    // whole chunks) or into the next row, copied after this one.
    const int64_t x_tail = p.W / (2 * L) * (2 * L);
    bool tail_done = false;
    if (x_tail < p.W && x_tail + 2 * L <= readable) {
      VF even, odd;
      hn::LoadInterleaved2(d, src + x_tail, even, odd);
      const int64_t n_even = (p.W - x_tail + 1) / 2, n_odd = (p.W - x_tail) / 2;
      auto put = [&](VF v, float* dst, int64_t n) HWY_ATTR {
        hn::StoreU(v, d, dst);
        hn::StoreU(hn::Zero(d), d, dst + n);
      };
      if (even_dst < odd_dst) {
        put(even, even_dst + x_tail / 2, n_even);
        put(odd, odd_dst + x_tail / 2, n_odd);
      } else {
        put(odd, odd_dst + x_tail / 2, n_odd);
        put(even, even_dst + x_tail / 2, n_even);
      }
      tail_done = true;
    }
    for (; x < x_tail; x += 2 * L) {
      VF even, odd;
      hn::LoadInterleaved2(d, src + x, even, odd);
      hn::StoreU(even, d, even_dst + x / 2);
      hn::StoreU(odd, d, odd_dst + x / 2);
    }
    if (!tail_done)
      for (; x < p.W; ++x) {
        const int64_t px = x + p.pad_left;
        row[(px & 1) * pc + (px >> 1)] = src[x];
      }
    return;
  }
  for (; x < p.W; ++x) {
    const int64_t px = x + p.pad_left;
    row[(px % s) * pc + px / s] = src[x];
  }
}

// Copies one input plane into the interior of the padded scratch.
void FillInterior(const DepthwiseParams& p, const Padded& g, const float* in, float* scratch) {
  for (int64_t y = 0; y < p.H; ++y) FillInteriorRow(p, g, y, in + y * p.W, (p.H - y) * p.W, scratch);
}

// The same from 8-bit codes, as code - zero_point (exact small integers): at stride 1
// widened straight into the scratch; else the plane widened into `buf` (H * W + 2
// vectors of floats) first, in one vectorized pass, then copied into its phases.
template <typename T>
void FillInteriorCodes(const DepthwiseParams& p, const Padded& g, const T* in, int32_t zero_point, float* buf,
                       float* scratch) {
  const DF d;
  const hn::RebindToSigned<DF> d32;
  const hn::Rebind<T, decltype(d32)> d8;
  const int64_t L = int64_t(hn::Lanes(d)), n = p.H * p.W;
  const auto zp = hn::Set(d32, zero_point);
  auto widen = [&](const T* c) HWY_ATTR { return hn::ConvertTo(d, hn::Sub(hn::PromoteTo(d32, hn::LoadU(d8, c)), zp)); };
  if (p.stride_w == 1) {  // straight into the scratch rows, as FillInteriorRow copies floats
    const int64_t row_stride = g.phase_cols;
    for (int64_t y = 0; y < p.H; ++y) {
      const T* src = in + y * p.W;
      float* dst = scratch + (y + p.pad_top) * row_stride + p.pad_left;
      int64_t x = 0;
      for (; x + L <= p.W; x += L) hn::StoreU(widen(src + x), d, dst + x);
      if (x < p.W && y * p.W + x + L <= n) {  // a whole last vector, then zeros over its spill
        hn::StoreU(widen(src + x), d, dst + x);
        hn::StoreU(hn::Zero(d), d, dst + p.W);
        continue;
      }
      for (; x < p.W; ++x) dst[x] = float(int32_t(src[x]) - zero_point);
    }
    return;
  }
  int64_t i = 0;
  for (; i + L <= n; i += L)
    hn::StoreU(hn::ConvertTo(d, hn::Sub(hn::PromoteTo(d32, hn::LoadU(d8, in + i)), zp)), d, buf + i);
  for (; i < n; ++i) buf[i] = float(int32_t(in[i]) - zero_point);
  std::fill(buf + n, buf + n + 2 * L, 0.0f);
  for (int64_t y = 0; y < p.H; ++y) FillInteriorRow(p, g, y, buf + y * p.W, (p.H - y) * p.W + 2 * L, scratch);
}

// Stores one output vector: + residual, activation; n < L lanes go through a buffer.
HWY_INLINE void StoreOutput(DF d, VF acc, const float* res, const Activation& act, float* out, int64_t n) {
  const int64_t L = int64_t(hn::Lanes(d));
  if (n == L) {
    if (res) acc = hn::Add(acc, hn::LoadU(d, res));
    hn::StoreU(Activate(d, acc, act), d, out);
    return;
  }
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(acc, d, buf);
  if (res)
    for (int64_t j = 0; j < n; ++j) buf[j] += res[j];
  hn::Store(Activate(d, hn::Load(d, buf), act), d, buf);
  for (int64_t j = 0; j < n; ++j) out[j] = buf[j];  // n < L: a loop beats a memcpy call
}

struct Block;

// The int8 requantization of one output plane (depthwise.h's DepthwiseRequantization
// for the plane's channel). Its store is reached through a pointer set by the int8 entry
// point, so that programs with only float depthwise convolutions link none of it.
struct PlaneRequantization {
  void (*store)(const float* tile, int64_t vecs, const Block& b);
  const Requantize* rq;
  float multiplier;
  int32_t bias;
  bool float_sum;        // acc + bias is exact in float (no int32 round trip)
  const char* residual;  // the plane's residual codes, or null
  char* out;             // the plane's output (codes, or floats)
};

// Where one block of outputs lies: kRows x kVecs vectors from output (oy0, ox0).
struct Block {
  const float* in;               // scratch position tap offsets are relative to (row oy0, column ox0)
  int64_t in_row;                // scratch floats between consecutive output rows (stride_h rows)
  const float* res;              // residual at (oy0, ox0), or null; rows OW apart like the output
  float* out;                    // output at (oy0, ox0)
  int64_t OW;                    // output row stride
  int64_t rows;                  // rows to store (the rest of the block are past the plane)
  int64_t cols;                  // columns to store in each row (at most kVecs vectors)
  int64_t room;                  // floats from out to the plane's end that may be written when a
                                 // row is the whole strip: a partial last vector is then stored
                                 // whole, spilling into the rows below, which are stored after it
  int64_t at;                    // the output index of (oy0, ox0) in its plane
  const PlaneRequantization* q;  // int8: requantized as stored (out, res unused), or null
};

// Stores a block computed into `tile` through the int8 epilogue.
template <class Ep>
void StoreBlockRequantized(const Ep& ep, const float* tile, int64_t vecs, const Block& b) {
  const DF d;
  const hn::RebindToSigned<DF> d32;
  const int64_t L = int64_t(hn::Lanes(d));
  const PlaneRequantization& q = *b.q;
  const auto multiplier = hn::Set(d, q.multiplier);
  const auto bias_f = hn::Set(d, float(q.bias));
  const auto bias_i = hn::Set(d32, q.bias);
  auto store = [&](const float* acc_at, int64_t n, int64_t at) HWY_ATTR {
    const auto acc = hn::Load(d, acc_at);
    // float(acc + bias): in float when that is exact, else through int32 (the
    // accumulators are exact integers, so their conversion is exact).
    const auto sum = q.float_sum ? hn::Add(acc, bias_f) : hn::ConvertTo(d, hn::Add(hn::ConvertTo(d32, acc), bias_i));
    ep.StoreSum(sum, multiplier, n, q.out + size_t(at) * Ep::kOutputBytes, q.residual ? q.residual + at : nullptr);
  };
  if (b.cols == b.OW && b.cols % L != 0) {
    // Whole rows of a narrow plane: contiguous in the output, so gathered into whole
    // vectors first (7x7 planes: 4 vectors for 8 rows instead of 8 partial ones).
    HWY_ALIGN float rows[kMaxBlockRows * 4 * HWY_MAX_BYTES / sizeof(float)];
    for (int64_t r = 0; r < b.rows; ++r)
      std::memcpy(rows + r * b.cols, tile + r * vecs * L, size_t(b.cols) * sizeof(float));
    const int64_t n = b.rows * b.cols;
    for (int64_t c = 0; c < n; c += L) store(rows + c, std::min(L, n - c), b.at + c);
    return;
  }
  for (int64_t r = 0; r < b.rows; ++r) {
    const int64_t at = b.at + r * b.OW;
    const float* t = tile + r * vecs * L;
    for (int64_t c = 0; c < b.cols; c += L) store(t + c, std::min(L, b.cols - c), at + c);
  }
}

HWY_NOINLINE void StoreBlockRequantized(const float* tile, int64_t vecs, const Block& b) {
  WithEpilogue(*b.q->rq, [&](const auto& ep) { StoreBlockRequantized(ep, tile, vecs, b); });
}

// Stores a block computed into `tile` (rows of `vecs` vectors): + residual, activation K
// (a compile-time kind, so the activation's switch folds away).
// K = ActivationKind(-1): the activation's kind read at run time. Not cloned per call
// site (GCC's constant-propagation clones tripled its size).
template <ActivationKind K>
HWY_NOINLINE __attribute__((noclone)) void StoreBlockAs(const float* tile, int64_t vecs, const Block& b,
                                                        const Activation& activation) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  Activation act = activation;
  if (K != ActivationKind(-1)) act.kind = K;
  const int64_t full = b.cols / L;  // whole vectors per row; then one partial one
  const int64_t tail = b.cols - full * L;
  for (int64_t r = 0; r < b.rows; ++r) {
    float* orow = b.out + r * b.OW;
    const float* t = tile + r * vecs * L;
    const float* rrow = b.res ? b.res + r * b.OW : nullptr;
    // The partial vector is stored whole when what it writes past the row is in the
    // plane and stored later (room), so most rows of narrow planes need no tail.
    const bool spill = tail && r * b.OW + full * L + L <= b.room;
    const int64_t n = full + (spill ? 1 : 0);
    if (rrow) {
      for (int64_t v = 0; v < n; ++v)
        hn::StoreU(Activate(d, hn::Add(hn::Load(d, t + v * L), hn::LoadU(d, rrow + v * L)), act), d, orow + v * L);
    } else {
      for (int64_t v = 0; v < n; ++v) hn::StoreU(Activate(d, hn::Load(d, t + v * L), act), d, orow + v * L);
    }
    if (tail && !spill)
      StoreOutput(d, hn::Load(d, t + full * L), rrow ? rrow + full * L : nullptr, act, orow + full * L, tail);
  }
}

// Specialized for the activations convolutions mostly carry; the rest through Activate's
// runtime switch (one copy of each: the runtime's size).
HWY_INLINE void StoreBlock(const float* tile, int64_t vecs, const Block& b, const Activation& act) {
  if (b.q) return b.q->store(tile, vecs, b);
  switch (act.kind) {
    case ActivationKind::None:
      return StoreBlockAs<ActivationKind::None>(tile, vecs, b, act);
    case ActivationKind::Relu:
      return StoreBlockAs<ActivationKind::Relu>(tile, vecs, b, act);
    case ActivationKind::Clip:
      return StoreBlockAs<ActivationKind::Clip>(tile, vecs, b, act);
    default:
      return StoreBlockAs<ActivationKind(-1)>(tile, vecs, b, act);
  }
}

// Stores a block's accumulators (rows of `vecs` vectors) through a small stack tile, so
// that the stores, which handle partial rows, index no register array at run time.
template <int kAcc>
HWY_INLINE void StoreAccumulators(const VF (&acc)[kAcc], int64_t vecs, const Block& b, const Activation& act) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  HWY_ALIGN float tile[kAcc * HWY_MAX_BYTES / sizeof(float)];
#pragma GCC unroll 16
  for (int i = 0; i < kAcc; ++i) hn::Store(acc[i], d, tile + i * L);
  StoreBlock(tile, vecs, b, act);
}

// Any filter geometry (taps from an offset table; 3x3 and 5x5 at stride 1 and 2 take
// DepthwiseBlockFixed below). One block: acc = bias + sum over taps of
// w[t] * in[off[t] + ...], then the stores. The accumulators are indexed by compile-time
// constants only (fully unrolled loops), so they stay in registers.
template <int kRows, int kVecs>
HWY_INLINE void DepthwiseBlock(int64_t taps, const int64_t* HWY_RESTRICT off, const float* HWY_RESTRICT w, float bias,
                               const Block& b, const Activation& act) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  constexpr int kAcc = kRows * kVecs;
  VF acc[kAcc];
#pragma GCC unroll 16
  for (int i = 0; i < kAcc; ++i) acc[i] = hn::Set(d, bias);
  // Per block row pointers and one offset per tap: each FMA then reads its operand with
  // a single addressing mode (row + offset + vector), instead of the compiler keeping a
  // precomputed address per (tap, row) on the stack.
  const float* row[kRows];
#pragma GCC unroll 8
  for (int r = 0; r < kRows; ++r) row[r] = b.in + r * b.in_row;
  auto tap = [&](int64_t t) HWY_ATTR {
    const VF wt = hn::Set(d, w[t]);
    const int64_t o = off[t];
#pragma GCC unroll 16
    for (int i = 0; i < kAcc; ++i) acc[i] = hn::MulAdd(wt, hn::LoadU(d, row[i / kVecs] + o + (i % kVecs) * L), acc[i]);
  };
  for (int64_t t = 0; t < taps; ++t) tap(t);
  StoreAccumulators<kAcc>(acc, kVecs, b, act);
}

// The same for a kK x kK filter at stride kS, dilation 1, with everything but the row
// stride and the phase width known at compile time: each FMA reads its input at a
// constant displacement from one of a few input row pointers set up per block. (With
// tap offsets from a table, GCC keeps one precomputed address per tap and row on the
// stack and reloads it for every FMA.) Here b.in_row is one scratch row, not kS.
template <int kK, int kS, int kRows, int kVecs>
HWY_INLINE void DepthwiseBlockFixed(const float* HWY_RESTRICT w, float bias, int64_t phase_cols, const Block& b,
                                    const Activation& act) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  constexpr int kAcc = kRows * kVecs;
  VF acc[kAcc];
#pragma GCC unroll 16
  for (int i = 0; i < kAcc; ++i) acc[i] = hn::Set(d, bias);
  // The filter rows in a loop, each unrolled: fully unrolled 5x5 blocks were most of
  // the runtime's size on aarch64 for little speed.
  for (int64_t ky = 0; ky < kK; ++ky) {
    const float* in[kRows];
#pragma GCC unroll 8
    for (int r = 0; r < kRows; ++r) in[r] = b.in + (r * kS + ky) * b.in_row;
    const float* wy = w + ky * kK;
#pragma GCC unroll 5
    for (int kx = 0; kx < kK; ++kx) {
      const VF wt = hn::Set(d, wy[kx]);
      const int64_t col = (kx % kS) * phase_cols + kx / kS;  // phase, position in it
#pragma GCC unroll 16
      for (int i = 0; i < kAcc; ++i)
        acc[i] = hn::MulAdd(wt, hn::LoadU(d, in[i / kVecs] + col + (i % kVecs) * L), acc[i]);
    }
  }
  StoreAccumulators<kAcc>(acc, kVecs, b, act);
}

template <int kK, int kS, int kRows, int kVecs>
void DepthwisePlaneFixed(const DepthwiseParams& p, const float* w, float bias, const float* scratch, int64_t row_stride,
                         int64_t phase_cols, const float* residual, const Activation& act, float* out,
                         const PlaneRequantization* q) {
  const int64_t L = int64_t(hn::Lanes(DF()));
  const int64_t strip = kVecs * L;
  const bool one_strip = p.OW <= strip;
  Block b;
  b.q = q;
  b.in_row = row_stride;
  b.OW = p.OW;
  for (int64_t oy = 0; oy < p.OH; oy += kRows) {
    b.rows = std::min<int64_t>(kRows, p.OH - oy);
    b.room = one_strip ? (p.OH - oy) * p.OW : 0;
    for (int64_t ox = 0; ox < p.OW; ox += strip) {
      b.in = scratch + oy * kS * row_stride + ox;
      b.res = residual ? residual + oy * p.OW + ox : nullptr;
      b.at = oy * p.OW + ox;
      b.out = out ? out + b.at : nullptr;
      b.cols = std::min(strip, p.OW - ox);
      DepthwiseBlockFixed<kK, kS, kRows, kVecs>(w, bias, phase_cols, b, act);
    }
  }
}

template <int kK, int kS>
void DepthwisePlaneFixedSize(const DepthwiseParams& p, const float* w, float bias, const float* scratch,
                             int64_t row_stride, int64_t phase_cols, const float* residual, const Activation& act,
                             float* out, const PlaneRequantization* q) {
  const int64_t L = int64_t(hn::Lanes(DF()));
  if (p.OW <= L) {
    DepthwisePlaneFixed<kK, kS, 8, 1>(p, w, bias, scratch, row_stride, phase_cols, residual, act, out, q);
  } else if (p.OW <= 2 * L) {
    DepthwisePlaneFixed<kK, kS, 7, 2>(p, w, bias, scratch, row_stride, phase_cols, residual, act, out, q);
  } else {
    DepthwisePlaneFixed<kK, kS, 3, 4>(p, w, bias, scratch, row_stride, phase_cols, residual, act, out, q);
  }
}

// One plane with the filter's taps in one pass: blocks of kRows x kVecs vectors.
template <int kRows, int kVecs>
void DepthwisePlaneBlocks(const DepthwiseParams& p, int64_t taps, const int64_t* off, const float* w, float bias,
                          const float* scratch, int64_t row_stride, const float* residual, const Activation& act,
                          float* out, const PlaneRequantization* q) {
  const int64_t L = int64_t(hn::Lanes(DF()));
  const int64_t strip = kVecs * L;
  const bool one_strip = p.OW <= strip;  // then a row's spill lands in the next row only
  Block b;
  b.q = q;
  b.in_row = p.stride_h * row_stride;
  b.OW = p.OW;
  for (int64_t oy = 0; oy < p.OH; oy += kRows) {
    b.rows = std::min<int64_t>(kRows, p.OH - oy);
    b.room = one_strip ? (p.OH - oy) * p.OW : 0;
    for (int64_t ox = 0; ox < p.OW; ox += strip) {
      b.in = scratch + oy * b.in_row + ox;
      b.res = residual ? residual + oy * p.OW + ox : nullptr;
      b.at = oy * p.OW + ox;
      b.out = out ? out + b.at : nullptr;
      b.cols = std::min(strip, p.OW - ox);
      DepthwiseBlock<kRows, kVecs>(taps, off, w, bias, b, act);
    }
  }
}

void DepthwisePlaneTaps(const DepthwiseParams& p, int64_t taps, const int64_t* off, const float* w, float bias,
                        const float* scratch, int64_t row_stride, const float* residual, const Activation& act,
                        float* out, const PlaneRequantization* q) {
  const int64_t L = int64_t(hn::Lanes(DF()));
  if (p.OW <= L) {
    DepthwisePlaneBlocks<8, 1>(p, taps, off, w, bias, scratch, row_stride, residual, act, out, q);
  } else if (p.OW <= 2 * L) {
    DepthwisePlaneBlocks<7, 2>(p, taps, off, w, bias, scratch, row_stride, residual, act, out, q);
  } else {
    DepthwisePlaneBlocks<3, 4>(p, taps, off, w, bias, scratch, row_stride, residual, act, out, q);
  }
}

// Filters of more than kMaxTaps taps (never in practice): plain partial sums in the
// output, one pass of kMaxTaps taps at a time; the bias on the first pass, residual and
// activation on the last.
void DepthwisePlaneInPasses(const DepthwiseParams& p, const Padded& g, const float* w, float bias, const float* scratch,
                            const float* residual, const Activation& act, float* out) {
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc, taps = p.KH * p.KW;
  int64_t off[kMaxTaps];
  for (int64_t t0 = 0; t0 < taps; t0 += kMaxTaps) {
    const int64_t n = std::min(kMaxTaps, taps - t0);
    for (int64_t t = 0; t < n; ++t) off[t] = padded_tap_offset(p, row_stride, pc, t0 + t);
    const bool first = t0 == 0, final = t0 + n == taps;
    for (int64_t oy = 0; oy < p.OH; ++oy) {
      float* orow = out + oy * p.OW;
      const float* base = scratch + oy * p.stride_h * row_stride;
      for (int64_t ox = 0; ox < p.OW; ++ox) {
        float acc = first ? bias : orow[ox];
        for (int64_t t = 0; t < n; ++t) acc += w[t0 + t] * base[off[t] + ox];
        orow[ox] = acc;
      }
      if (!final) continue;
      const float* res_row = residual ? residual + oy * p.OW : nullptr;
      const DF d;
      const int64_t L = int64_t(hn::Lanes(d));
      for (int64_t ox = 0; ox < p.OW; ox += L) {
        const int64_t m = std::min(L, p.OW - ox);
        HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
        std::memcpy(buf, orow + ox, size_t(m) * sizeof(float));
        StoreOutput(d, hn::Load(d, buf), res_row ? res_row + ox : nullptr, act, orow + ox, m);
      }
    }
  }
}

// One plane whose input is in the scratch: into o (floats), or through q (int8).
HWY_INLINE void DepthwisePlane(const DepthwiseParams& p, const Padded& g, const int64_t* off, const float* wc, float bc,
                               const float* scratch, const float* res, const Activation& act, float* o,
                               const PlaneRequantization* q) {
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc, taps = p.KH * p.KW;
  const bool square = p.KH == p.KW && p.stride_h == p.stride_w && p.dilation_h == 1 && p.dilation_w == 1;
  if (taps > kMaxTaps) {
    DepthwisePlaneInPasses(p, g, wc, bc, scratch, res, act, o);  // never with q (depthwise.h)
  } else if (square && p.KH == 3 && s == 1) {
    DepthwisePlaneFixedSize<3, 1>(p, wc, bc, scratch, row_stride, pc, res, act, o, q);
  } else if (square && p.KH == 3 && s == 2) {
    DepthwisePlaneFixedSize<3, 2>(p, wc, bc, scratch, row_stride, pc, res, act, o, q);
  } else if (square && p.KH == 5 && s == 1) {
    DepthwisePlaneFixedSize<5, 1>(p, wc, bc, scratch, row_stride, pc, res, act, o, q);
  } else if (square && p.KH == 5 && s == 2) {
    DepthwisePlaneFixedSize<5, 2>(p, wc, bc, scratch, row_stride, pc, res, act, o, q);
  } else {
    DepthwisePlaneTaps(p, taps, off, wc, bc, scratch, row_stride, res, act, o, q);
  }
}

// Zeroes the padded scratch (its padding stays zero for every plane of the call) and
// fills the offset of each tap from the scratch position of its output (depthwise.h).
HWY_INLINE void PrepareScratch(const DepthwiseParams& p, const Padded& g, float* scratch, int64_t* off) {
  const int64_t pc = g.phase_cols, row_stride = p.stride_w * pc, taps = p.KH * p.KW;
  std::memset(scratch, 0, size_t(g.rows * row_stride + kSlackFloats) * sizeof(float));
  if (taps <= kMaxTaps)
    for (int64_t t = 0; t < taps; ++t) off[t] = padded_tap_offset(p, row_stride, pc, t);
}

void DepthwisePlanes(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end, const float* in,
                     const float* w, const float* bias, const float* residual, const Activation& act, float* out,
                     float* scratch) {
  const Padded g = padded_geometry(p);
  const int64_t taps = p.KH * p.KW, in_plane = p.H * p.W, out_plane = p.OH * p.OW;
  int64_t off[kMaxTaps];
  PrepareScratch(p, g, scratch, off);
  for (int64_t i = begin, c = begin % channels; i < end; ++i, c = c + 1 == channels ? 0 : c + 1) {
    FillInterior(p, g, in + i * in_plane, scratch);
    DepthwisePlane(p, g, off, w + c * taps, bias ? bias[c] : 0.0f, scratch,
                   residual ? residual + i * out_plane : nullptr, act, out + i * out_plane, nullptr);
  }
}

template <typename T>
HWY_INLINE void DepthwisePlanesRequantizedAs(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end,
                                             const T* in, int32_t zero_point, const float* w,
                                             const DepthwiseRequantization& dq, float* scratch) {
  const Padded g = padded_geometry(p);
  const int64_t taps = p.KH * p.KW, in_plane = p.H * p.W, out_plane = p.OH * p.OW;
  const size_t out_bytes = dq.rq->quantized_output ? 1 : sizeof(float);
  int64_t off[kMaxTaps];
  PrepareScratch(p, g, scratch, off);
  float* widened = scratch + g.rows * p.stride_w * g.phase_cols + kSlackFloats;
  for (int64_t i = begin, c = begin % channels; i < end; ++i, c = c + 1 == channels ? 0 : c + 1) {
    FillInteriorCodes(p, g, in + i * in_plane, zero_point, widened, scratch);
    PlaneRequantization q;
    q.store = StoreBlockRequantized;
    q.rq = dq.rq;
    q.multiplier = dq.multiplier[c];
    q.bias = dq.bias ? dq.bias[c] : 0;
    q.float_sum = dq.acc_bound + std::abs(int64_t(q.bias)) <= (int64_t(1) << 24);
    q.residual = dq.residual ? static_cast<const char*>(dq.residual) + i * out_plane : nullptr;
    q.out = static_cast<char*>(dq.out) + size_t(i * out_plane) * out_bytes;
    DepthwisePlane(p, g, off, w + c * taps, 0.0f, scratch, nullptr, Activation{}, nullptr, &q);
  }
}

void DepthwisePlanesRequantized(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end, const void* in,
                                bool in_int8, int32_t zero_point, const float* w, const DepthwiseRequantization& dq,
                                float* scratch) {
  if (in_int8)
    DepthwisePlanesRequantizedAs(p, channels, begin, end, static_cast<const int8_t*>(in), zero_point, w, dq, scratch);
  else
    DepthwisePlanesRequantizedAs(p, channels, begin, end, static_cast<const uint8_t*>(in), zero_point, w, dq, scratch);
}

void PadPlanes(const DepthwiseParams& p, int64_t begin, int64_t end, const float* in, float* out) {
  const Padded g = padded_geometry(p);
  const int64_t floats = g.rows * p.stride_w * g.phase_cols;
  for (int64_t i = begin; i < end; ++i) {
    float* plane = out + i * floats;
    std::memset(plane, 0, size_t(floats) * sizeof(float));
    FillInterior(p, g, in + i * p.H * p.W, plane);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith::simd {
HWY_EXPORT(DepthwisePlanes);
HWY_EXPORT(DepthwisePlanesRequantized);
HWY_EXPORT(PadPlanes);

PaddedPlane padded_plane(const DepthwiseParams& p) {
  const Padded g = padded_geometry(p);
  PaddedPlane pp;
  pp.rows = g.rows;
  pp.row_stride = p.stride_w * g.phase_cols;
  pp.phase_cols = g.phase_cols;
  pp.floats = g.rows * pp.row_stride;
  return pp;
}

void pad_planes(const DepthwiseParams& p, int64_t begin, int64_t end, const float* in, float* out) {
  HWY_DYNAMIC_DISPATCH(PadPlanes)(p, begin, end, in, out);
}

int64_t depthwise_scratch_floats(const DepthwiseParams& p) {
  const Padded g = padded_geometry(p);
  // + one widened input plane for the int8 path, with two vectors of room (of the widest
  // target's 16 floats: HWY_MAX_BYTES here is the last compiled target's).
  return g.rows * p.stride_w * g.phase_cols + kSlackFloats + p.H * p.W + 2 * 16;
}

void depthwise_conv2d(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end, const float* in,
                      const float* w, const float* bias, const float* residual, const Activation& act, float* out,
                      float* scratch) {
  HWY_DYNAMIC_DISPATCH(DepthwisePlanes)(p, channels, begin, end, in, w, bias, residual, act, out, scratch);
}

void depthwise_conv2d_requantized(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end,
                                  const void* in, bool in_int8, int32_t zero_point, const float* w,
                                  const DepthwiseRequantization& q, float* scratch) {
  HWY_DYNAMIC_DISPATCH(DepthwisePlanesRequantized)(p, channels, begin, end, in, in_int8, zero_point, w, q, scratch);
}
}  // namespace pith::simd
#endif
