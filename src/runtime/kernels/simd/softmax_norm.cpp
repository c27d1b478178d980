// Row-wise float32 kernels over a contiguous last axis, one source for every Highway
// target: Softmax and LogSoftmax (opset 13 along the last axis; before 13 the 2-D
// coercion at `axis`, which is always a contiguous row), LayerNormalization (rows from
// `axis` on, scale and bias covering the whole row) and ReduceMean over trailing axes.
// Statistics accumulate in double like the reference kernels; softmax sums in float.
// Rows are split among threads, so results do not depend on the thread count.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/softmax_norm.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernel.h"
#include "runtime/kernels/simd/simd_math-inl.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// (Log)softmax of `rows` rows of `len` floats.
void SoftmaxRows(const float* x, float* y, int64_t rows, int64_t len, bool log_output) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  const int64_t full = len / L * L, rest = len - full;
  const VF ninf = hn::Set(d, -std::numeric_limits<float>::infinity());
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * len;
    float* yr = y + r * len;
    // The tail, padded with -inf (neutral for the max, exp gives 0 for the sum).
    hn::Store(ninf, d, buf);
    if (rest) std::memcpy(buf, xr + full, size_t(rest) * sizeof(float));
    const VF tail = hn::Load(d, buf);
    VF m0 = tail, m1 = tail;
    int64_t i = 0;
    for (; i + 2 * L <= full; i += 2 * L) {
      m0 = hn::Max(m0, hn::LoadU(d, xr + i));
      m1 = hn::Max(m1, hn::LoadU(d, xr + i + L));
    }
    if (i < full) m0 = hn::Max(m0, hn::LoadU(d, xr + i));
    const VF vmax = hn::MaxOfLanes(d, hn::Max(m0, m1));
    VF s0 = hn::Zero(d), s1 = hn::Zero(d);
    if (log_output) {
      for (i = 0; i < full; i += L) s0 = hn::Add(s0, ExpF(d, hn::Sub(hn::LoadU(d, xr + i), vmax)));
      s1 = ExpF(d, hn::Sub(tail, vmax));
      const float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(s0, s1)));
      const VF shift = hn::Set(d, std::log(sum));
      for (i = 0; i < full; i += L) hn::StoreU(hn::Sub(hn::Sub(hn::LoadU(d, xr + i), vmax), shift), d, yr + i);
      if (rest) {
        hn::Store(hn::Sub(hn::Sub(tail, vmax), shift), d, buf);
        std::memcpy(yr + full, buf, size_t(rest) * sizeof(float));
      }
      continue;
    }
    for (i = 0; i + 2 * L <= full; i += 2 * L) {
      const VF e0 = ExpF(d, hn::Sub(hn::LoadU(d, xr + i), vmax));
      const VF e1 = ExpF(d, hn::Sub(hn::LoadU(d, xr + i + L), vmax));
      hn::StoreU(e0, d, yr + i);
      hn::StoreU(e1, d, yr + i + L);
      s0 = hn::Add(s0, e0);
      s1 = hn::Add(s1, e1);
    }
    if (i < full) {
      const VF e0 = ExpF(d, hn::Sub(hn::LoadU(d, xr + i), vmax));
      hn::StoreU(e0, d, yr + i);
      s0 = hn::Add(s0, e0);
    }
    const VF et = ExpF(d, hn::Sub(tail, vmax));
    const float sum = hn::GetLane(hn::SumOfLanes(d, hn::Add(hn::Add(s0, s1), et)));
    const VF inv = hn::Set(d, 1.0f / sum);
    for (i = 0; i < full; i += L) hn::StoreU(hn::Mul(hn::LoadU(d, yr + i), inv), d, yr + i);
    if (rest) {
      hn::Store(hn::Mul(et, inv), d, buf);
      std::memcpy(yr + full, buf, size_t(rest) * sizeof(float));
    }
  }
}

// Sum of n floats in double.
HWY_INLINE double SumDouble(const float* x, int64_t n) {
  const hn::Repartition<double, DF> dd;
  const hn::Rebind<float, decltype(dd)> dh;
  const int64_t H = int64_t(hn::Lanes(dd));
  auto s0 = hn::Zero(dd), s1 = hn::Zero(dd);
  int64_t i = 0;
  for (; i + 2 * H <= n; i += 2 * H) {
    s0 = hn::Add(s0, hn::PromoteTo(dd, hn::LoadU(dh, x + i)));
    s1 = hn::Add(s1, hn::PromoteTo(dd, hn::LoadU(dh, x + i + H)));
  }
  double s = hn::GetLane(hn::SumOfLanes(dd, hn::Add(s0, s1)));
  for (; i < n; ++i) s += double(x[i]);
  return s;
}

// Means of `rows` rows of `len` floats.
void MeanRows(const float* x, float* y, int64_t rows, int64_t len) {
  for (int64_t r = 0; r < rows; ++r) y[r] = float(SumDouble(x + r * len, len) / double(len));
}

// y = (x - mean) / sqrt(var + eps) * scale + bias per row; statistics and the affine
// map in double, like the reference.
void LayerNormRows(const float* x, float* y, int64_t rows, int64_t len, const float* scale, const float* bias,
                   float epsilon) {
  const hn::Repartition<double, DF> dd;
  const hn::Rebind<float, decltype(dd)> dh;
  using VD = hn::Vec<decltype(dd)>;
  const int64_t H = int64_t(hn::Lanes(dd));
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * len;
    float* yr = y + r * len;
    const double mean = SumDouble(xr, len) / double(len);
    const VD vm = hn::Set(dd, mean);
    VD q0 = hn::Zero(dd), q1 = hn::Zero(dd);
    int64_t i = 0;
    for (; i + 2 * H <= len; i += 2 * H) {
      const VD a = hn::Sub(hn::PromoteTo(dd, hn::LoadU(dh, xr + i)), vm);
      const VD b = hn::Sub(hn::PromoteTo(dd, hn::LoadU(dh, xr + i + H)), vm);
      q0 = hn::MulAdd(a, a, q0);
      q1 = hn::MulAdd(b, b, q1);
    }
    double sq = hn::GetLane(hn::SumOfLanes(dd, hn::Add(q0, q1)));
    for (; i < len; ++i) sq += (double(xr[i]) - mean) * (double(xr[i]) - mean);
    const double inv = 1.0 / std::sqrt(sq / double(len) + double(epsilon));
    const VD vi = hn::Set(dd, inv);
    for (i = 0; i + H <= len; i += H) {
      const VD t = hn::Mul(hn::Sub(hn::PromoteTo(dd, hn::LoadU(dh, xr + i)), vm), vi);
      VD v = hn::Mul(t, hn::PromoteTo(dd, hn::LoadU(dh, scale + i)));
      if (bias) v = hn::Add(v, hn::PromoteTo(dd, hn::LoadU(dh, bias + i)));
      hn::StoreU(hn::DemoteTo(dh, v), dh, yr + i);
    }
    for (; i < len; ++i) {
      const double v = (double(xr[i]) - mean) * inv * double(scale[i]);
      yr[i] = float(bias ? v + double(bias[i]) : v);
    }
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith {

void kernel_softmax(KernelContext&);
void kernel_logsoftmax(KernelContext&);
void kernel_layernormalization(KernelContext&);
void kernel_reduce_mean(KernelContext&);

namespace simd {
HWY_EXPORT(SoftmaxRows);
HWY_EXPORT(MeanRows);
HWY_EXPORT(LayerNormRows);
}  // namespace simd

namespace {
// Unqualified below: with a single compiled target HWY_DYNAMIC_DISPATCH(F) names
// HWY_NAMESPACE::F, which must resolve from here (aarch64 compiles NEON only).
using namespace simd;

// Calls fn(begin, end) over rows, about `work` floats per task.
template <typename F>
void parallel_rows(KernelContext& ctx, int64_t rows, int64_t len, F&& fn) {
  ThreadPool* pool = ctx.thread_pool();
  const int64_t grain = std::max<int64_t>(1, 8192 / std::max<int64_t>(len, 1));
  if (pool && rows >= 2 * grain)
    pool->parallel_for(rows, grain, fn);
  else if (rows > 0)
    fn(int64_t(0), rows);
}

bool softmax_fast(KernelContext& ctx, bool log_output) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32 || x.rank() < 1) return false;
  const int64_t rank = x.rank();
  const bool legacy = ctx.opset() < 13;
  int64_t axis = ctx.attr_int("axis", legacy ? 1 : -1);
  if (axis < -rank || axis >= rank) return false;  // the reference reports it
  if (axis < 0) axis += rank;
  int64_t rows = 1, len = 1;
  for (int64_t k = 0; k < axis; ++k) rows *= x.shape()[size_t(k)];
  if (legacy) {
    for (int64_t k = axis; k < rank; ++k) len *= x.shape()[size_t(k)];
  } else {
    len = x.shape()[size_t(axis)];
    for (int64_t k = axis + 1; k < rank; ++k)
      if (x.shape()[size_t(k)] != 1) return false;  // not the innermost axis
  }
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, x.shape());
  if (len == 0 || rows == 0) return true;
  const float* xd = x.data<float>();
  float* yd = y.data<float>();
  parallel_rows(ctx, rows, len, [&](int64_t b, int64_t e) {
    HWY_DYNAMIC_DISPATCH(SoftmaxRows)(xd + b * len, yd + b * len, e - b, len, log_output);
  });
  return true;
}

bool layernorm_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32 || x.rank() < 1 || !ctx.has_input(1)) return false;
  for (size_t o = 1; o < ctx.num_outputs(); ++o)
    if (ctx.wants_output(o)) return false;  // Mean / InvStdDev
  const int64_t rank = x.rank();
  int64_t axis = ctx.attr_int("axis", -1);
  if (axis < -rank || axis >= rank) return false;
  if (axis < 0) axis += rank;
  const int64_t stash = ctx.attr_int("stash_type", 1);
  if (stash != 1) return false;
  int64_t len = 1;
  for (int64_t k = axis; k < rank; ++k) len *= x.shape()[size_t(k)];
  const Tensor& scale = ctx.input(1);
  const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  // Scale and bias must cover the whole row (any leading ones aside).
  auto covers = [&](const Tensor& t) {
    if (t.dtype() != DType::Float32 || t.numel() != len || t.rank() > rank - axis) return false;
    for (int64_t k = 0; k < t.rank(); ++k)
      if (t.shape()[size_t(t.rank() - 1 - k)] != x.shape()[size_t(rank - 1 - k)]) return false;
    return true;
  };
  if (!covers(scale) || (bias && !covers(*bias)) || len == 0) return false;
  const int64_t rows = x.numel() / len;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, x.shape());
  const float* xd = x.data<float>();
  const float* sd = scale.data<float>();
  const float* bd = bias ? bias->data<float>() : nullptr;
  const float eps = ctx.attr_float("epsilon", 1e-5f);
  float* yd = y.data<float>();
  parallel_rows(ctx, rows, len, [&](int64_t b, int64_t e) {
    HWY_DYNAMIC_DISPATCH(LayerNormRows)(xd + b * len, yd + b * len, e - b, len, sd, bd, eps);
  });
  return true;
}

// ReduceMean whose reduced axes are trailing (dims of size 1 may sit between them).
bool reduce_mean_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32) return false;
  Shape axes;
  if (ctx.opset() >= 18) {
    if (ctx.has_input(1)) axes = ctx.input(1).to_int64_vector();
  } else {
    axes = ctx.attr_ints("axes");
  }
  if (axes.empty() && ctx.attr_int("noop_with_empty_axes", 0) != 0) return false;
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const int64_t r = x.rank();
  Shape red(size_t(r), axes.empty() ? 1 : 0);  // per-axis flags, in place
  for (int64_t a : axes) {
    if (a < -r || a >= r) return false;
    red[size_t(a < 0 ? a + r : a)] = true;
  }
  int64_t rows = 1, len = 1;
  bool in_suffix = false;
  Shape out_shape;
  for (int64_t k = 0; k < r; ++k) {
    const int64_t n = x.shape()[size_t(k)];
    if (red[size_t(k)]) {
      in_suffix = true;
      len *= n;
      if (keepdims) out_shape.push_back(1);
    } else {
      if (in_suffix && n != 1) return false;
      rows *= n;
      out_shape.push_back(n);
    }
  }
  if (len == 0) return false;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, out_shape);
  const float* xd = x.data<float>();
  float* yd = y.data<float>();
  parallel_rows(ctx, rows, len, [&](int64_t b, int64_t e) {
    HWY_DYNAMIC_DISPATCH(MeanRows)(xd + b * len, yd + b, e - b, len);
  });
  return true;
}

}  // namespace

void kernel_softmax_fast(KernelContext& ctx) {
  if (!softmax_fast(ctx, false)) kernel_softmax(ctx);
}
void kernel_logsoftmax_fast(KernelContext& ctx) {
  if (!softmax_fast(ctx, true)) kernel_logsoftmax(ctx);
}
void kernel_layernormalization_fast(KernelContext& ctx) {
  if (!layernorm_fast(ctx)) kernel_layernormalization(ctx);
}
void kernel_reduce_mean_fast(KernelContext& ctx) {
  if (!reduce_mean_fast(ctx)) kernel_reduce_mean(ctx);
}

}  // namespace pith
#endif
