// QuantizeLinear (float32 -> uint8/int8) and DequantizeLinear (uint8/int8 -> float32) with
// one scale and zero point for the whole tensor, one source for every Highway target.
// The arithmetic is the reference kernel's, so results are bit-identical: quantize
// divides by the scale (not a multiply by its inverse), rounds half to even, counts NaN
// as 0 and saturates; dequantize computes float(x - zero_point) * scale, where the
// difference is exact. Per-axis scales and other types go to the reference kernels.
// DynamicQuantizeLinear: its range by vectorized min/max, then the same quantization.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/quantize_linear.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/quant_util.h"
#include "runtime/kernels/simd/quantize_linear.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using DI = hn::Rebind<int32_t, DF>;

template <typename Q>
HWY_INLINE void QuantizeSpan(const float* x, int64_t n, float scale, int32_t zp, Q* y) {
  const DF df;
  const DI di;
  const hn::Rebind<Q, DF> dq;
  const int64_t L = int64_t(hn::Lanes(df));
  constexpr float kLo = float(std::numeric_limits<Q>::lowest()), kHi = float(std::numeric_limits<Q>::max());
  const auto vscale = hn::Set(df, scale);
  // Clamping before the zero point is added keeps every value an exact small integer.
  const auto lo = hn::Set(df, kLo - float(zp)), hi = hn::Set(df, kHi - float(zp));
  const auto vzp = hn::Set(di, zp);
  auto one = [&](hn::Vec<DF> v) {
    v = hn::Div(v, vscale);
    v = hn::IfThenZeroElse(hn::IsNaN(v), v);
    v = hn::Min(hn::Max(hn::Round(v), lo), hi);
    return hn::DemoteTo(dq, hn::Add(hn::ConvertTo(di, v), vzp));
  };
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(one(hn::LoadU(df, x + i)), dq, y + i);
  if (i < n) {
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
    HWY_ALIGN Q out[HWY_MAX_BYTES / sizeof(float)] = {};
    std::memcpy(buf, x + i, size_t(n - i) * sizeof(float));
    hn::Store(one(hn::Load(df, buf)), dq, out);
    std::memcpy(y + i, out, size_t(n - i) * sizeof(Q));
  }
}

template <typename Q>
HWY_INLINE void DequantizeSpan(const Q* x, int64_t n, float scale, int32_t zp, float* y) {
  const DF df;
  const DI di;
  const hn::Rebind<Q, DF> dq;
  const int64_t L = int64_t(hn::Lanes(df));
  const auto vscale = hn::Set(df, scale);
  const auto vzp = hn::Set(di, zp);
  auto one = [&](hn::Vec<decltype(dq)> q) {
    return hn::Mul(hn::ConvertTo(df, hn::Sub(hn::PromoteTo(di, q), vzp)), vscale);
  };
  int64_t i = 0;
  for (; i + L <= n; i += L) hn::StoreU(one(hn::LoadU(dq, x + i)), df, y + i);
  if (i < n) {
    HWY_ALIGN Q buf[HWY_MAX_BYTES / sizeof(float)] = {};
    HWY_ALIGN float out[HWY_MAX_BYTES / sizeof(float)];
    std::memcpy(buf, x + i, size_t(n - i) * sizeof(Q));
    hn::Store(one(hn::Load(dq, buf)), df, out);
    std::memcpy(y + i, out, size_t(n - i) * sizeof(float));
  }
}

void QuantizeU8(const float* x, int64_t n, float scale, int32_t zp, uint8_t* y) { QuantizeSpan(x, n, scale, zp, y); }
void QuantizeS8(const float* x, int64_t n, float scale, int32_t zp, int8_t* y) { QuantizeSpan(x, n, scale, zp, y); }
void DequantizeU8(const uint8_t* x, int64_t n, float scale, int32_t zp, float* y) {
  DequantizeSpan(x, n, scale, zp, y);
}
void DequantizeS8(const int8_t* x, int64_t n, float scale, int32_t zp, float* y) { DequantizeSpan(x, n, scale, zp, y); }

// Widens [lo, hi] (which holds 0) to hold every non-NaN value of x (NaN counts as 0).
void MinMax(const float* x, int64_t n, float* lo, float* hi) {
  const DF df;
  const int64_t L = int64_t(hn::Lanes(df));
  auto vlo = hn::Set(df, *lo), vhi = hn::Set(df, *hi);
  int64_t i = 0;
  for (; i + L <= n; i += L) {
    auto v = hn::LoadU(df, x + i);
    v = hn::IfThenZeroElse(hn::IsNaN(v), v);
    vlo = hn::Min(vlo, v);
    vhi = hn::Max(vhi, v);
  }
  float l = hn::GetLane(hn::MinOfLanes(df, vlo)), h = hn::GetLane(hn::MaxOfLanes(df, vhi));
  for (; i < n; ++i)
    if (!std::isnan(x[i])) {
      l = std::min(l, x[i]);
      h = std::max(h, x[i]);
    }
  *lo = l;
  *hi = h;
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith {

void kernel_quantize_linear(KernelContext& ctx);          // reference
void kernel_dequantize_linear(KernelContext& ctx);        // reference
void kernel_dynamic_quantize_linear(KernelContext& ctx);  // reference

namespace simd {
HWY_EXPORT(QuantizeU8);
HWY_EXPORT(QuantizeS8);
HWY_EXPORT(DequantizeU8);
HWY_EXPORT(DequantizeS8);
HWY_EXPORT(MinMax);

void widen_to_range(const float* x, int64_t n, float* lo, float* hi) { HWY_DYNAMIC_DISPATCH(MinMax)(x, n, lo, hi); }
void quantize_u8(const float* x, int64_t n, float scale, int32_t zp, uint8_t* y) {
  HWY_DYNAMIC_DISPATCH(QuantizeU8)(x, n, scale, zp, y);
}
void quantize_s8(const float* x, int64_t n, float scale, int32_t zp, int8_t* y) {
  HWY_DYNAMIC_DISPATCH(QuantizeS8)(x, n, scale, zp, y);
}
void dequantize_u8(const uint8_t* x, int64_t n, float scale, int32_t zp, float* y) {
  HWY_DYNAMIC_DISPATCH(DequantizeU8)(x, n, scale, zp, y);
}
void dequantize_s8(const int8_t* x, int64_t n, float scale, int32_t zp, float* y) {
  HWY_DYNAMIC_DISPATCH(DequantizeS8)(x, n, scale, zp, y);
}
}  // namespace simd

namespace {

bool is_scalar(const Tensor& t) { return t.numel() == 1 && t.rank() <= 1; }

// Runs f(begin, end) over n elements, split over the Session's threads when large.
template <typename F>
void spans(KernelContext& ctx, int64_t n, const F& f) {
  constexpr int64_t kGrain = 16384;
  if (ThreadPool* pool = ctx.thread_pool(); pool && n >= 2 * kGrain)
    pool->parallel_for(n, kGrain, f);
  else
    f(int64_t(0), n);
}

}  // namespace

void kernel_quantize_linear_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  const DType q = ctx.has_input(2) ? ctx.input(2).dtype() : DType::UInt8;
  if (x.dtype() != DType::Float32 || scale.dtype() != DType::Float32 || !is_scalar(scale) ||
      (ctx.has_input(2) && !is_scalar(ctx.input(2))) || (q != DType::UInt8 && q != DType::Int8))
    return kernel_quantize_linear(ctx);
  const float s = scale.data<float>()[0];
  const int32_t zp = ctx.has_input(2) ? int32_t(ctx.input(2).as_int64(0)) : 0;
  Tensor& y = ctx.allocate_output_uninitialized(0, q, x.shape());
  const float* xd = x.data<float>();
  spans(ctx, x.numel(), [&](int64_t b, int64_t e) {
    if (q == DType::UInt8)
      simd::quantize_u8(xd + b, e - b, s, zp, y.data<uint8_t>() + b);
    else
      simd::quantize_s8(xd + b, e - b, s, zp, y.data<int8_t>() + b);
  });
}

void kernel_dequantize_linear_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  if ((x.dtype() != DType::UInt8 && x.dtype() != DType::Int8) || scale.dtype() != DType::Float32 || !is_scalar(scale) ||
      (ctx.has_input(2) && (!is_scalar(ctx.input(2)) || ctx.input(2).dtype() != x.dtype())))
    return kernel_dequantize_linear(ctx);
  const float s = scale.data<float>()[0];
  const int32_t zp = ctx.has_input(2) ? int32_t(ctx.input(2).as_int64(0)) : 0;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, x.shape());
  float* yd = y.data<float>();
  spans(ctx, x.numel(), [&](int64_t b, int64_t e) {
    if (x.dtype() == DType::UInt8)
      simd::dequantize_u8(x.data<uint8_t>() + b, e - b, s, zp, yd + b);
    else
      simd::dequantize_s8(x.data<int8_t>() + b, e - b, s, zp, yd + b);
  });
}

// DynamicQuantizeLinear: the range [min(0, min x), max(0, max x)] over non-NaN values,
// scale = its width / 255 and zero point = round(-min / scale), as the reference computes
// them; then the quantization above.
void kernel_dynamic_quantize_linear_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32) return kernel_dynamic_quantize_linear(ctx);
  const float* xd = x.data<float>();
  float lo = 0.f, hi = 0.f;
  simd::widen_to_range(xd, x.numel(), &lo, &hi);
  const float scale = (hi - lo) / 255.f;
  const bool usable = scale > 0.f && std::isfinite(scale);
  const int32_t zp = usable ? ref::saturate_round<uint8_t>((0.f - lo) / scale, 0) : 0;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::UInt8, x.shape());
  if (usable)
    spans(ctx, x.numel(),
          [&](int64_t b, int64_t e) { simd::quantize_u8(xd + b, e - b, scale, zp, y.data<uint8_t>() + b); });
  else
    std::fill(y.data<uint8_t>(), y.data<uint8_t>() + y.numel(), uint8_t(zp));
  ctx.allocate_output_uninitialized(1, DType::Float32, {}).data<float>()[0] = scale;
  ctx.allocate_output_uninitialized(2, DType::UInt8, {}).data<uint8_t>()[0] = uint8_t(zp);
}

}  // namespace pith
#endif  // HWY_ONCE
