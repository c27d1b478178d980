// Float32 NCHW pooling (and 8-bit MaxPool), one source for every Highway target: GlobalAveragePool,
// GlobalMaxPool (one plane reduced per (n, c)), and 2-D MaxPool / AveragePool with any
// kernel, stride, padding, dilation, ceil_mode and count_include_pad.
//
// A windowed pool is separable: for each output row, the input rows under the window are
// first reduced element by element (contiguous vector loads), into a padded row buffer
// split into `stride_w` phases (padded column c goes to phase c % s, position c / s);
// then each output column takes the window's columns from the phases, so every tap of
// consecutive outputs is one contiguous vector load. Padding is -inf (max) or 0 (sum) and
// never counted; averages divide by the rows counted times the columns counted.
// Global averages accumulate in double, like the reference. Planes are split among
// threads, so results do not depend on the thread count. Other layouts, dtypes or the
// MaxPool Indices output go to the reference kernels.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/pool.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/spatial.h"
#include "runtime/kernels/simd/scratch.h"
#include "runtime/kernels/simd/simd_store-inl.h"

#ifndef PITH_SIMD_POOL_ONCE
#define PITH_SIMD_POOL_ONCE
namespace pith::simd {
inline constexpr int64_t kRowSlack = 64;  // floats after each scratch row: vector over-reads
struct Pool2D {
  int64_t H = 0, W = 0, OH = 0, OW = 0, KH = 1, KW = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0, pb = 0, pr = 0;
  bool is_max = true, count_include_pad = false;
  // Layout of the per-thread scratch (floats).
  int64_t padded_cols() const { return std::max(pl + W, (OW - 1) * sw + (KW - 1) * dw + 1); }
  int64_t phase_cols() const { return (padded_cols() + sw - 1) / sw + 64; }  // + vector over-read
  int64_t scratch_floats() const { return sw * phase_cols() + W + kRowSlack + OW + 64; }
};
}  // namespace pith::simd
#endif

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Reduces `planes` contiguous planes of S floats each to one value per plane.
void GlobalPool(const float* x, int64_t planes, int64_t S, bool is_max, float* y) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  if (is_max) {
    for (int64_t p = 0; p < planes; ++p) {
      const float* xp = x + p * S;
      float m = xp[0];
      int64_t i = 0;
      if (S >= L) {
        VF m0 = hn::LoadU(d, xp), m1 = m0;
        for (i = L; i + 2 * L <= S; i += 2 * L) {
          m0 = hn::Max(m0, hn::LoadU(d, xp + i));
          m1 = hn::Max(m1, hn::LoadU(d, xp + i + L));
        }
        for (; i + L <= S; i += L) m0 = hn::Max(m0, hn::LoadU(d, xp + i));
        m = hn::GetLane(hn::MaxOfLanes(d, hn::Max(m0, m1)));
      }
      for (; i < S; ++i) m = xp[i] > m ? xp[i] : m;
      y[p] = m;
    }
    return;
  }
  const hn::Repartition<double, DF> dd;  // half as many lanes
  const hn::Rebind<float, decltype(dd)> dh;
  const int64_t H = int64_t(hn::Lanes(dd));
  for (int64_t p = 0; p < planes; ++p) {
    const float* xp = x + p * S;
    auto s0 = hn::Zero(dd), s1 = hn::Zero(dd), s2 = hn::Zero(dd), s3 = hn::Zero(dd);
    int64_t i = 0;
    for (; i + 4 * H <= S; i += 4 * H) {
      s0 = hn::Add(s0, hn::PromoteTo(dd, hn::LoadU(dh, xp + i)));
      s1 = hn::Add(s1, hn::PromoteTo(dd, hn::LoadU(dh, xp + i + H)));
      s2 = hn::Add(s2, hn::PromoteTo(dd, hn::LoadU(dh, xp + i + 2 * H)));
      s3 = hn::Add(s3, hn::PromoteTo(dd, hn::LoadU(dh, xp + i + 3 * H)));
    }
    for (; i + H <= S; i += H) s0 = hn::Add(s0, hn::PromoteTo(dd, hn::LoadU(dh, xp + i)));
    double s = hn::GetLane(hn::SumOfLanes(dd, hn::Add(hn::Add(s0, s1), hn::Add(s2, s3))));
    for (; i < S; ++i) s += double(xp[i]);
    y[p] = S > 0 ? float(s / double(S)) : 0.0f;
  }
}

void PoolPlanes(const Pool2D& g, const float* x, float* y, int64_t planes, float* scratch) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  const int64_t s = g.sw, pc = g.phase_cols();
  const float pad = g.is_max ? -std::numeric_limits<float>::infinity() : 0.0f;
  const float empty = g.is_max ? std::numeric_limits<float>::lowest() : 0.0f;
  float* phases = scratch;                     // s * pc
  float* rowbuf = phases + s * pc;             // W + slack: the reduced rows (stride > 1)
  float* colcount = rowbuf + g.W + kRowSlack;  // OW + 64: columns counted per output column
  const float* x_end = x + planes * g.H * g.W;
  const float* y_end = y + planes * g.OH * g.OW;
  // Columns: how many taps each output column counts, and whether any is inside.
  bool any_empty_col = false;
  for (int64_t ox = 0; ox < g.OW; ++ox) {
    int64_t inside = 0, padded = 0;
    for (int64_t kx = 0; kx < g.KW; ++kx) {
      const int64_t c = ox * g.sw - g.pl + kx * g.dw;
      if (c >= g.W + g.pr) break;
      ++padded;
      if (c >= 0 && c < g.W) ++inside;
    }
    colcount[ox] = float(g.count_include_pad ? padded : inside);
    if (colcount[ox] == 0.0f) any_empty_col = true;
  }
  // Where tap kx of output column 0 sits in the phase-split row.
  int64_t tap[64];
  for (int64_t kx = 0; kx < g.KW; ++kx) tap[kx] = (kx * g.dw % s) * pc + kx * g.dw / s;
  // Padding of the phase-split row: everything except the columns the rows fill.
  std::fill(phases, phases + s * pc, pad);
  std::fill(rowbuf, rowbuf + g.W + kRowSlack, 0.0f);  // the slack is read, never used
  for (int64_t plane = 0; plane < planes; ++plane) {
    const float* xp = x + plane * g.H * g.W;
    float* yp = y + plane * g.OH * g.OW;
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      float* yrow = yp + oy * g.OW;
      const int64_t r0 = oy * g.sh - g.pt;
      int64_t rows[64];
      int64_t nrows = 0, padded_rows = 0;
      for (int64_t ky = 0; ky < g.KH; ++ky) {
        const int64_t r = r0 + ky * g.dh;
        if (r >= g.H + g.pb) break;
        ++padded_rows;
        if (r >= 0 && r < g.H) rows[nrows++] = r;
      }
      if (nrows == 0) {
        std::fill(yrow, yrow + g.OW, empty);
        continue;
      }
      // Vertical: reduce the window's rows into `dst` (the phase row when stride is 1).
      float* dst = s == 1 ? phases + g.pl : rowbuf;
      const float* first = xp + rows[0] * g.W;
      int64_t c = 0;
      for (; c + L <= g.W; c += L) {
        VF acc = hn::LoadU(d, first + c);
        for (int64_t k = 1; k < nrows; ++k) {
          const VF v = hn::LoadU(d, xp + rows[k] * g.W + c);
          acc = g.is_max ? hn::Max(acc, v) : hn::Add(acc, v);
        }
        hn::StoreU(acc, d, dst + c);
      }
      if (c < g.W) {
        // The tail as one vector: whole loads while they stay inside this call's planes
        // (rows ascend, so the last row decides), and only the tail's lanes stored, so the
        // phase row's right padding is kept.
        const int64_t n = g.W - c;
        const bool over_read_ok = xp + rows[nrows - 1] * g.W + c + L <= x_end;
        const auto load = [&](const float* p) { return over_read_ok ? hn::LoadU(d, p) : LoadFirstN(d, n, p); };
        VF acc = load(first + c);
        for (int64_t k = 1; k < nrows; ++k) {
          const VF v = load(xp + rows[k] * g.W + c);
          acc = g.is_max ? hn::Max(acc, v) : hn::Add(acc, v);
        }
        hn::BlendedStore(acc, hn::FirstN(d, size_t(n)), d, dst + c);
      }
      if (s > 1) {
        // Padded column pl + j goes to phase (pl + j) % s, position (pl + j) / s.
        int64_t j = 0, ph = g.pl % s, pos = g.pl / s;
        if (s == 2) {
          float* even_dst = ph == 0 ? phases + pos : phases + pc + pos;
          float* odd_dst = ph == 0 ? phases + pc + pos : phases + pos + 1;
          for (; j + 2 * L <= g.W; j += 2 * L) {
            VF even, odd;
            hn::LoadInterleaved2(d, rowbuf + j, even, odd);
            hn::StoreU(even, d, even_dst + j / 2);
            hn::StoreU(odd, d, odd_dst + j / 2);
          }
          if (j < g.W && 2 * L <= kRowSlack) {
            // The tail reads into rowbuf's slack and stores only its own columns.
            const int64_t n = g.W - j;
            VF even, odd;
            hn::LoadInterleaved2(d, rowbuf + j, even, odd);
            hn::BlendedStore(even, hn::FirstN(d, size_t((n + 1) / 2)), d, even_dst + j / 2);
            hn::BlendedStore(odd, hn::FirstN(d, size_t(n / 2)), d, odd_dst + j / 2);
            j = g.W;
          }
          ph = (g.pl + j) % s;
          pos = (g.pl + j) / s;
        }
        for (; j < g.W; ++j) {
          phases[ph * pc + pos] = rowbuf[j];
          if (++ph == s) {
            ph = 0;
            ++pos;
          }
        }
      }
      // Horizontal: each tap is a contiguous run of one phase.
      const VF rowcount = hn::Set(d, float(g.count_include_pad ? padded_rows : nrows));
      for (int64_t ox = 0; ox < g.OW; ox += L) {
        VF acc = hn::LoadU(d, phases + ox);  // tap 0
        for (int64_t kx = 1; kx < g.KW; ++kx) {
          const VF v = hn::LoadU(d, phases + tap[kx] + ox);
          acc = g.is_max ? hn::Max(acc, v) : hn::Add(acc, v);
        }
        if (!g.is_max) {
          // Taps past the padded extent are not counted (they read padding zeros).
          acc = hn::Div(acc, hn::Mul(rowcount, hn::LoadU(d, colcount + ox)));
        }
        // A whole vector may spill into the next output row (written after this one) but
        // never past this call's planes, which another thread may own.
        if (yrow + ox + L <= y_end) {
          hn::StoreU(acc, d, yrow + ox);
        } else {
          StoreFirstN(acc, d, std::min(L, g.OW - ox), yrow + ox);
        }
      }
      if (any_empty_col) {
        for (int64_t ox = 0; ox < g.OW; ++ox)
          if (colcount[ox] == 0.0f) yrow[ox] = empty;
      }
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith {

void kernel_max_pool(KernelContext&);
void kernel_average_pool(KernelContext&);
void kernel_global_max_pool(KernelContext&);
void kernel_global_average_pool(KernelContext&);

namespace simd {
HWY_EXPORT(GlobalPool);
HWY_EXPORT(PoolPlanes);
}  // namespace simd

namespace {
// Unqualified below: with a single compiled target HWY_DYNAMIC_DISPATCH(F) names
// HWY_NAMESPACE::F, which must resolve from here (aarch64 compiles NEON only).
using namespace simd;

template <typename F>
void parallel_planes(KernelContext& ctx, int64_t planes, int64_t grain, F&& fn) {
  ThreadPool* pool = ctx.thread_pool();
  if (pool)
    pool->parallel_for(planes, grain, fn);
  else
    fn(int64_t(0), planes);
}

bool global_pool(KernelContext& ctx, bool is_max) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32 || x.rank() < 3) return false;
  Shape ys{x.dim(0), x.dim(1)};
  int64_t S = 1;
  for (int64_t k = 2; k < x.rank(); ++k) {
    ys.push_back(1);
    S *= x.shape()[size_t(k)];
  }
  if (S == 0) return false;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, ys);
  const float* xd = x.data<float>();
  float* yd = y.data<float>();
  const int64_t planes = ys[0] * ys[1];
  // About 16K input floats per task.
  const int64_t grain = std::max<int64_t>(1, 16384 / S);
  parallel_planes(ctx, planes, grain, [&](int64_t b, int64_t e) {
    HWY_DYNAMIC_DISPATCH(GlobalPool)(xd + b * S, e - b, S, is_max, yd + b);
  });
  return true;
}

// 8-bit max pooling (int8 graphs), separable like the float path in plain loops the
// compiler vectorizes: the rows under the window reduced into a row padded with the
// type's minimum (padding never wins), then each output column takes its window's
// columns, one tap at a time over the whole output row (strides 1 and 2 as constants,
// so that the loads vectorize). `row` holds padded_cols() values.
template <typename T>
void max_pool_8bit(const simd::Pool2D& g, const T* x, T* y, int64_t planes, T* row) {
  // Sizes in locals and restrict pointers: stores through a byte type may alias anything,
  // which would reload g's fields every iteration and keep the loops scalar.
  const T lowest = std::numeric_limits<T>::lowest();
  const int64_t W = g.W, OW = g.OW, cols = g.padded_cols(), sw = g.sw;
  T* HWY_RESTRICT padded = row;
  T* HWY_RESTRICT interior = row + g.pl;
  for (int64_t p = 0; p < planes; ++p) {
    const T* xp = x + p * g.H * W;
    for (int64_t oy = 0; oy < g.OH; ++oy) {
      std::fill(padded, padded + cols, lowest);
      for (int64_t ky = 0; ky < g.KH; ++ky) {
        const int64_t iy = oy * g.sh - g.pt + ky * g.dh;
        if (iy < 0 || iy >= g.H) continue;
        const T* HWY_RESTRICT r = xp + iy * W;
        for (int64_t ix = 0; ix < W; ++ix) interior[ix] = std::max(interior[ix], r[ix]);
      }
      T* HWY_RESTRICT out = y + (p * g.OH + oy) * OW;
      std::fill(out, out + OW, lowest);
      for (int64_t kx = 0; kx < g.KW; ++kx) {
        const T* HWY_RESTRICT in = padded + kx * g.dw;
        if (sw == 1)
          for (int64_t ox = 0; ox < OW; ++ox) out[ox] = std::max(out[ox], in[ox]);
        else if (sw == 2)
          for (int64_t ox = 0; ox < OW; ++ox) out[ox] = std::max(out[ox], in[ox * 2]);
        else
          for (int64_t ox = 0; ox < OW; ++ox) out[ox] = std::max(out[ox], in[ox * sw]);
      }
    }
  }
}

bool windowed_pool(KernelContext& ctx, bool is_max) {
  const Tensor& x = ctx.input(0);
  const bool eight_bit = is_max && (x.dtype() == DType::UInt8 || x.dtype() == DType::Int8);
  if ((x.dtype() != DType::Float32 && !eight_bit) || x.rank() != 4) return false;
  if (is_max && ctx.num_outputs() > 1 && ctx.wants_output(1)) return false;  // Indices
  if (!ctx.has_attr("kernel_shape") || ctx.attr_ints("kernel_shape").size() != 2) return false;
  const bool dil = is_max || ctx.opset() >= 18 || ctx.has_attr("dilations");
  ref::Window w;
  w.kernel = ctx.attr_ints("kernel_shape");
  Shape in{x.dim(2), x.dim(3)};
  ref::forward_window(ctx, in, w, dil, ctx.attr_int("ceil_mode", 0) != 0);
  simd::Pool2D g;
  g.H = in[0];
  g.W = in[1];
  g.OH = w.out[0];
  g.OW = w.out[1];
  g.KH = w.kernel[0];
  g.KW = w.kernel[1];
  g.sh = w.strides[0];
  g.sw = w.strides[1];
  g.dh = w.dilations[0];
  g.dw = w.dilations[1];
  g.pt = w.pad_begin[0];
  g.pl = w.pad_begin[1];
  g.pb = w.pad_end[0];
  g.pr = w.pad_end[1];
  g.is_max = is_max;
  g.count_include_pad = !is_max && ctx.attr_int("count_include_pad", 0) != 0;
  if (g.KH > 64 || g.KW > 64 || g.H == 0 || g.W == 0) return false;
  const int64_t N = x.dim(0), C = x.dim(1);
  Tensor& y =
      ctx.allocate_output_uninitialized(0, x.dtype(), {N, C, std::max<int64_t>(g.OH, 0), std::max<int64_t>(g.OW, 0)});
  if (g.OH <= 0 || g.OW <= 0 || N * C == 0) return true;
  if (eight_bit) {
    const int64_t plane_in = g.H * g.W, plane_out = g.OH * g.OW;
    parallel_planes(ctx, N * C, 1, [&](int64_t b, int64_t e) {
      void* row = simd::thread_scratch(size_t(g.padded_cols() + 4) / 4 + 1);
      if (x.dtype() == DType::UInt8)
        max_pool_8bit(g, x.data<uint8_t>() + b * plane_in, y.data<uint8_t>() + b * plane_out, e - b,
                      static_cast<uint8_t*>(row));
      else
        max_pool_8bit(g, x.data<int8_t>() + b * plane_in, y.data<int8_t>() + b * plane_out, e - b,
                      static_cast<int8_t*>(row));
    });
    return true;
  }
  const float* xd = x.data<float>();
  float* yd = y.data<float>();
  const int64_t plane_in = g.H * g.W, plane_out = g.OH * g.OW;
  const size_t scratch = size_t(g.scratch_floats());
  parallel_planes(ctx, N * C, 1, [&](int64_t b, int64_t e) {
    float* buf = simd::thread_scratch(scratch);
    HWY_DYNAMIC_DISPATCH(PoolPlanes)(g, xd + b * plane_in, yd + b * plane_out, e - b, buf);
  });
  return true;
}

}  // namespace

void kernel_global_average_pool_fast(KernelContext& ctx) {
  if (!global_pool(ctx, false)) kernel_global_average_pool(ctx);
}
void kernel_global_max_pool_fast(KernelContext& ctx) {
  if (!global_pool(ctx, true)) kernel_global_max_pool(ctx);
}
void kernel_max_pool_fast(KernelContext& ctx) {
  if (!windowed_pool(ctx, true)) kernel_max_pool(ctx);
}
void kernel_average_pool_fast(KernelContext& ctx) {
  if (!windowed_pool(ctx, false)) kernel_average_pool(ctx);
}

}  // namespace pith
#endif
