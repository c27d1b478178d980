// Depthwise convolution, one source for every Highway target. The input plane is first
// copied into scratch with zero padding, and for stride s its columns are split into s
// phases (column x goes to phase x % s at position x / s), so that every filter tap
// reads a contiguous run of the scratch for consecutive outputs: no bounds checks and
// no gathers in the inner loop.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/depthwise.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>

#include "runtime/kernels/simd/depthwise.h"
#include "runtime/kernels/simd/simd_activation-inl.h"

#ifndef PITH_DEPTHWISE_GEOMETRY_ONCE  // this file is compiled once per SIMD target
#define PITH_DEPTHWISE_GEOMETRY_ONCE
namespace pith::simd {
namespace {
// Padded plane geometry shared by the scratch size and the kernel.
struct Padded {
  int64_t rows, cols, phase_cols;
};
Padded padded_geometry(const DepthwiseParams& p) {
  Padded g;
  g.rows = std::max(p.H + p.pad_top, (p.OH - 1) * p.stride_h + (p.KH - 1) * p.dilation_h + 1);
  g.cols = std::max(p.W + p.pad_left, (p.OW - 1) * p.stride_w + (p.KW - 1) * p.dilation_w + 1);
  g.phase_cols = (g.cols + p.stride_w - 1) / p.stride_w;
  return g;
}
// Vector over-read past the last row's end (lanes that are computed and discarded).
constexpr int64_t kSlackFloats = 64;
// Planes at most this wide are copied into scratch without per-row library calls.
constexpr int64_t kSmallPlaneWidth = 32;
}  // namespace
}  // namespace pith::simd
#endif

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Copies the input plane into the padded, phase-split scratch layout. Only padding is
// zeroed; stride-2 rows are split with vector deinterleaving loads.
void FillScratch(const DepthwiseParams& p, const Padded& g, const float* in, float* scratch) {
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc;
  if (p.W <= kSmallPlaneWidth) {
    // Small planes (28x28 and below): per-row library calls would cost more than the
    // copy, so zero the whole scratch in one call and copy the pixels in plain loops.
    std::memset(scratch, 0, size_t(g.rows * row_stride + kSlackFloats) * sizeof(float));
    for (int64_t y = 0; y < p.H; ++y) {
      float* row = scratch + (y + p.pad_top) * row_stride;
      const float* src = in + y * p.W;
      if (s == 1) {
        for (int64_t x = 0; x < p.W; ++x) row[p.pad_left + x] = src[x];
      } else {
        // Column x goes to phase (x + pad_left) % s at (x + pad_left) / s: one strided pass per phase.
        for (int64_t x0 = 0; x0 < s && x0 < p.W; ++x0) {
          float* dst = row + ((x0 + p.pad_left) % s) * pc + (x0 + p.pad_left) / s;
          for (int64_t x = x0; x < p.W; x += s) *dst++ = src[x];
        }
      }
    }
    return;
  }
  std::memset(scratch, 0, size_t(p.pad_top * row_stride) * sizeof(float));
  std::memset(scratch + (p.pad_top + p.H) * row_stride, 0,
              size_t((g.rows - p.pad_top - p.H) * row_stride + kSlackFloats) * sizeof(float));
  const hn::ScalableTag<float> d;
  const int64_t L = int64_t(hn::Lanes(d));
  for (int64_t y = 0; y < p.H; ++y) {
    float* row = scratch + (y + p.pad_top) * row_stride;
    const float* src = in + y * p.W;
    if (s == 1) {
      std::memset(row, 0, size_t(p.pad_left) * sizeof(float));
      std::memcpy(row + p.pad_left, src, size_t(p.W) * sizeof(float));
      std::memset(row + p.pad_left + p.W, 0, size_t(pc - p.pad_left - p.W) * sizeof(float));
      continue;
    }
    // Zero only the padding columns of each phase (the rest is overwritten below).
    for (int64_t ph = 0; ph < s; ++ph) {
      float* phase = row + ph * pc;
      const int64_t first = (p.pad_left - ph + s - 1) / s;       // first position holding input
      const int64_t last = (p.pad_left + p.W - 1 - ph) / s + 1;  // one past the last
      std::memset(phase, 0, size_t(std::max<int64_t>(0, std::min(first, pc))) * sizeof(float));
      if (last < pc) std::memset(phase + last, 0, size_t(pc - last) * sizeof(float));
    }
    int64_t x = 0;
    if (s == 2) {
      // Padded column px = x + pad_left goes to phase px % 2, position px / 2.
      const int64_t base = p.pad_left / 2;
      float* even_dst = (p.pad_left % 2 == 0) ? row + base : row + pc + base;
      float* odd_dst = (p.pad_left % 2 == 0) ? row + pc + base : row + base + 1;
      for (; x + 2 * L <= p.W; x += 2 * L) {
        hn::Vec<decltype(d)> even, odd;
        hn::LoadInterleaved2(d, src + x, even, odd);
        hn::StoreU(even, d, even_dst + x / 2);
        hn::StoreU(odd, d, odd_dst + x / 2);
      }
    }
    if (s == 2) {
      for (; x < p.W; ++x) {
        const int64_t px = x + p.pad_left;
        row[(px & 1) * pc + (px >> 1)] = src[x];
      }
    }
    for (; x < p.W; ++x) {
      const int64_t px = x + p.pad_left;
      row[(px % s) * pc + px / s] = src[x];
    }
  }
}

// Stores one output vector: + residual, activation; the last one of a row may be partial.
template <class D, class V>
HWY_INLINE void StoreOutput(D d, V acc, const float* res, const Activation& act, float* out, int64_t n) {
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

// One output row. Tap t of output x reads base[off[t] + x]. Four output vectors are
// computed at a time with independent accumulators: a single accumulator would chain
// every tap's FMA behind the previous one and leave the FMA units idle on latency.
// kTaps > 0 fixes the tap count at compile time (3x3, 5x5), so the loops over taps
// unroll; up to 9 taps the broadcast weights also stay in registers.
template <int kTaps>
HWY_INLINE void DepthwiseRow(int64_t taps_dynamic, const int64_t* off, const float* w, float bias, const float* base,
                             const float* res_row, const Activation& act, float* orow, int64_t OW) {
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = int64_t(hn::Lanes(d));
  const int64_t taps = kTaps > 0 ? kTaps : taps_dynamic;
  const V vbias = hn::Set(d, bias);
  constexpr bool kHoist = kTaps > 0 && kTaps <= 9;
  V wv[kHoist ? kTaps : 1];
  if constexpr (kHoist)
    for (int t = 0; t < kTaps; ++t) wv[t] = hn::Set(d, w[t]);
  auto weight = [&](int64_t t) {
    if constexpr (kHoist)
      return wv[t];
    else
      return hn::Set(d, w[t]);
  };
  int64_t ox = 0;
  for (; ox + 4 * L <= OW; ox += 4 * L) {
    V a0 = vbias, a1 = vbias, a2 = vbias, a3 = vbias;
    for (int64_t t = 0; t < taps; ++t) {
      const V wt = weight(t);
      const float* b = base + off[t] + ox;
      a0 = hn::MulAdd(wt, hn::LoadU(d, b), a0);
      a1 = hn::MulAdd(wt, hn::LoadU(d, b + L), a1);
      a2 = hn::MulAdd(wt, hn::LoadU(d, b + 2 * L), a2);
      a3 = hn::MulAdd(wt, hn::LoadU(d, b + 3 * L), a3);
    }
    StoreOutput(d, a0, res_row ? res_row + ox : nullptr, act, orow + ox, L);
    StoreOutput(d, a1, res_row ? res_row + ox + L : nullptr, act, orow + ox + L, L);
    StoreOutput(d, a2, res_row ? res_row + ox + 2 * L : nullptr, act, orow + ox + 2 * L, L);
    StoreOutput(d, a3, res_row ? res_row + ox + 3 * L : nullptr, act, orow + ox + 3 * L, L);
  }
  // The rest, one vector at a time (over-reads stay inside the scratch slack), with four
  // partial sums over the taps so that four FMA chains are in flight, not one.
  for (; ox < OW; ox += L) {
    V a0 = vbias, a1 = hn::Zero(d), a2 = hn::Zero(d), a3 = hn::Zero(d);
    int64_t t = 0;
    for (; t + 4 <= taps; t += 4) {
      a0 = hn::MulAdd(hn::Set(d, w[t]), hn::LoadU(d, base + off[t] + ox), a0);
      a1 = hn::MulAdd(hn::Set(d, w[t + 1]), hn::LoadU(d, base + off[t + 1] + ox), a1);
      a2 = hn::MulAdd(hn::Set(d, w[t + 2]), hn::LoadU(d, base + off[t + 2] + ox), a2);
      a3 = hn::MulAdd(hn::Set(d, w[t + 3]), hn::LoadU(d, base + off[t + 3] + ox), a3);
    }
    for (; t < taps; ++t) a0 = hn::MulAdd(hn::Set(d, w[t]), hn::LoadU(d, base + off[t] + ox), a0);
    StoreOutput(d, hn::Add(hn::Add(a0, a1), hn::Add(a2, a3)), res_row ? res_row + ox : nullptr, act, orow + ox,
                std::min(L, OW - ox));
  }
}

void DepthwisePlane(const DepthwiseParams& p, const float* in, const float* w, float bias, const float* residual,
                    const Activation& act, float* out, float* scratch) {
  const Padded g = padded_geometry(p);
  FillScratch(p, g, in, scratch);
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc;
  const int64_t taps = p.KH * p.KW;
  // Offset of each tap from the scratch position of output (oy, 0), row part excluded.
  constexpr int64_t kMaxTaps = 64;
  int64_t offsets[kMaxTaps];
  // Column offset of each kx within a row (phase cx % s, position cx / s), found by
  // stepping instead of dividing (this runs once per channel, and small planes have
  // little work to hide integer divisions behind).
  int64_t col_offset[kMaxTaps];
  const int64_t kw_cols = std::min(p.KW, kMaxTaps);
  for (int64_t kx = 0, phase = 0, pos = 0; kx < kw_cols; ++kx) {
    col_offset[kx] = phase * pc + pos;
    phase += p.dilation_w;
    while (phase >= s) {
      phase -= s;
      ++pos;
    }
  }
  for (int64_t t0 = 0; t0 < taps; t0 += kMaxTaps) {  // filters above 64 taps: in passes
    const int64_t n = std::min(kMaxTaps, taps - t0);
    for (int64_t t = 0, ky = t0 / p.KW, kx = t0 % p.KW; t < n; ++t) {
      if (kx < kMaxTaps) {
        offsets[t] = ky * p.dilation_h * row_stride + col_offset[kx];
      } else {  // rows wider than 64 taps (never in practice): divide
        const int64_t cx = kx * p.dilation_w;
        offsets[t] = ky * p.dilation_h * row_stride + (cx % s) * pc + cx / s;
      }
      if (++kx == p.KW) {
        kx = 0;
        ++ky;
      }
    }
    const bool first = t0 == 0, final = t0 + n == taps;
    for (int64_t oy = 0; oy < p.OH; ++oy) {
      float* orow = out + oy * p.OW;
      const float* base = scratch + oy * p.stride_h * row_stride;
      if (first && final) {
        const float* res_row = residual ? residual + oy * p.OW : nullptr;
        if (n == 9) {
          DepthwiseRow<9>(n, offsets, w, bias, base, res_row, act, orow, p.OW);
        } else if (n == 25) {
          DepthwiseRow<25>(n, offsets, w, bias, base, res_row, act, orow, p.OW);
        } else {
          DepthwiseRow<0>(n, offsets, w, bias, base, res_row, act, orow, p.OW);
        }
        continue;
      }
      // Multi-pass (huge filters): plain partial sums in the output row; the bias on the
      // first pass, residual and activation on the last.
      for (int64_t ox = 0; ox < p.OW; ++ox) {
        float acc = first ? bias : orow[ox];
        for (int64_t t = 0; t < n; ++t) acc += w[t0 + t] * base[offsets[t] + ox];
        orow[ox] = acc;
      }
      if (final) {
        const float* res_row = residual ? residual + oy * p.OW : nullptr;
        const hn::ScalableTag<float> d;
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
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith::simd {
HWY_EXPORT(DepthwisePlane);

int64_t depthwise_scratch_floats(const DepthwiseParams& p) {
  const Padded g = padded_geometry(p);
  return g.rows * p.stride_w * g.phase_cols + kSlackFloats;
}

void depthwise_conv2d_plane(const DepthwiseParams& p, const float* in, const float* w, float bias,
                            const float* residual, const Activation& act, float* out, float* scratch) {
  HWY_DYNAMIC_DISPATCH(DepthwisePlane)(p, in, w, bias, residual, act, out, scratch);
}
}  // namespace pith::simd
#endif
