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
      const int64_t first = (p.pad_left - ph + s - 1) / s;         // first position holding input
      const int64_t last = (p.pad_left + p.W - 1 - ph) / s + 1;     // one past the last
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

void DepthwisePlane(const DepthwiseParams& p, const float* in, const float* w, float bias, const float* residual,
                    const Activation& act, float* out, float* scratch) {
  const Padded g = padded_geometry(p);
  FillScratch(p, g, in, scratch);
  const int64_t s = p.stride_w, pc = g.phase_cols, row_stride = s * pc;
  const int64_t taps = p.KH * p.KW;
  // Offset of each tap from the scratch position of output (oy, 0), row part excluded.
  int64_t offsets[64];
  const bool small = taps <= 64;
  if (small) {
    for (int64_t t = 0; t < taps; ++t) {
      const int64_t ky = t / p.KW, kx = t % p.KW, cx = kx * p.dilation_w;
      offsets[t] = ky * p.dilation_h * row_stride + (cx % s) * pc + cx / s;
    }
  }
  const hn::ScalableTag<float> d;
  using V = hn::Vec<decltype(d)>;
  const int64_t L = int64_t(hn::Lanes(d));
  const V vbias = hn::Set(d, bias);
  for (int64_t oy = 0; oy < p.OH; ++oy) {
    float* orow = out + oy * p.OW;
    const float* res_row = residual ? residual + oy * p.OW : nullptr;
    const float* base = scratch + oy * p.stride_h * row_stride;
    for (int64_t ox = 0; ox < p.OW; ox += L) {
      V acc = vbias;
      if (taps == 9 && small) {
        const float* b = base + ox;
        acc = hn::MulAdd(hn::Set(d, w[0]), hn::LoadU(d, b + offsets[0]), acc);
        acc = hn::MulAdd(hn::Set(d, w[1]), hn::LoadU(d, b + offsets[1]), acc);
        acc = hn::MulAdd(hn::Set(d, w[2]), hn::LoadU(d, b + offsets[2]), acc);
        acc = hn::MulAdd(hn::Set(d, w[3]), hn::LoadU(d, b + offsets[3]), acc);
        acc = hn::MulAdd(hn::Set(d, w[4]), hn::LoadU(d, b + offsets[4]), acc);
        acc = hn::MulAdd(hn::Set(d, w[5]), hn::LoadU(d, b + offsets[5]), acc);
        acc = hn::MulAdd(hn::Set(d, w[6]), hn::LoadU(d, b + offsets[6]), acc);
        acc = hn::MulAdd(hn::Set(d, w[7]), hn::LoadU(d, b + offsets[7]), acc);
        acc = hn::MulAdd(hn::Set(d, w[8]), hn::LoadU(d, b + offsets[8]), acc);
      } else {
        for (int64_t t = 0; t < taps; ++t) {
          int64_t off = offsets[small ? t : 0];
          if (!small) {
            const int64_t ky = t / p.KW, kx = t % p.KW, cx = kx * p.dilation_w;
            off = ky * p.dilation_h * row_stride + (cx % s) * pc + cx / s;
          }
          acc = hn::MulAdd(hn::Set(d, w[t]), hn::LoadU(d, base + off + ox), acc);
        }
      }
      const int64_t n = std::min(L, p.OW - ox);
      if (n == L) {
        if (res_row) acc = hn::Add(acc, hn::LoadU(d, res_row + ox));
        hn::StoreU(Activate(d, acc, act), d, orow + ox);
      } else {
        HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
        hn::Store(acc, d, buf);
        if (res_row)
          for (int64_t j = 0; j < n; ++j) buf[j] += res_row[ox + j];
        hn::Store(Activate(d, hn::Load(d, buf), act), d, buf);
        std::memcpy(orow + ox, buf, size_t(n) * sizeof(float));
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
