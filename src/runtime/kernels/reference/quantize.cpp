// Linear quantization: QuantizeLinear and DequantizeLinear (per-tensor or per-axis
// scale/zero point; int8, uint8 and int32 data) and DynamicQuantizeLinear (uint8 with
// scale and zero point computed from the data range).
#include <algorithm>
#include <cmath>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/quant_util.h"

namespace pith {
namespace {

// Resolves how a scale/zero-point tensor of `count` elements maps onto x: per tensor
// (stride 0) or along `axis` (returns the block size: elements per step along axis).
struct AxisMap {
  bool per_axis = false;
  int64_t axis_dim = 1, inner = 1;
  int64_t index(int64_t i) const { return per_axis ? (i / inner) % axis_dim : 0; }
};

AxisMap map_axis(const KernelContext& ctx, const Tensor& x, const Tensor& scale, const char* what) {
  AxisMap m;
  const bool scalar = scale.rank() == 0 || (scale.rank() == 1 && scale.numel() == 1);
  if (scalar) return m;
  KERNEL_CHECK(ctx, ctx.opset() >= 13 && scale.rank() == 1, what,
               " must be a scalar (or a 1-D per-axis tensor from opset 13), got shape ", shape_str(scale.shape()));
  const int64_t axis = ctx.attr_int("axis", 1);
  KERNEL_CHECK(ctx, axis >= -x.rank() && axis < x.rank(), "axis ", axis, " is out of range for input of rank ",
               x.rank());
  const int64_t a = axis < 0 ? axis + x.rank() : axis;
  m.per_axis = true;
  m.axis_dim = x.shape()[size_t(a)];
  KERNEL_CHECK(ctx, scale.numel() == m.axis_dim, what, " has ", scale.numel(), " values but axis ", a, " has size ",
               m.axis_dim);
  for (int64_t d = a + 1; d < x.rank(); ++d) m.inner *= x.shape()[size_t(d)];
  return m;
}

template <typename Q>
void quantize_to(const Tensor& x, const std::vector<float>& scale, const std::vector<int32_t>& zp, const AxisMap& m,
                 Q* y) {
  const int64_t n = x.numel();
  if (x.dtype() == DType::Float32) {
    const float* xd = x.data<float>();
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = size_t(m.index(i));
      y[i] = ref::saturate_round<Q>(xd[i] / scale[k], zp[k]);
    }
  } else {
    for (int64_t i = 0; i < n; ++i) {
      const size_t k = size_t(m.index(i));
      y[i] = ref::saturate_round<Q>(float(x.as_double(i)) / scale[k], zp[k]);
    }
  }
}

}  // namespace

void kernel_quantize_linear(KernelContext& ctx) {
  Tensor x = ref::promote(ctx.input(0));
  const Tensor& scale = ctx.input(1);
  KERNEL_CHECK(ctx, x.dtype() == DType::Float32 || x.dtype() == DType::Int32 || x.dtype() == DType::Float64,
               "QuantizeLinear x must be float or int32, got ", dtype_name(x.dtype()));
  KERNEL_CHECK(ctx, dtype_is_float(scale.dtype()), "QuantizeLinear y_scale must be floating point");
  AxisMap m = map_axis(ctx, x, scale, "QuantizeLinear y_scale");
  DType out_type = DType::UInt8;
  std::vector<int32_t> zp(size_t(scale.numel()), 0);
  if (ctx.has_input(2)) {
    const Tensor& z = ctx.input(2);
    out_type = z.dtype();
    KERNEL_CHECK(ctx, z.numel() == scale.numel(), "QuantizeLinear y_zero_point has ", z.numel(),
                 " values but y_scale has ", scale.numel());
    for (int64_t i = 0; i < z.numel(); ++i) zp[size_t(i)] = int32_t(z.as_int64(i));
  }
  std::vector<float> s = scale.to_float_vector();
  Tensor& y = ctx.allocate_output(0, out_type, x.shape());
  switch (out_type) {
    case DType::UInt8:
      quantize_to(x, s, zp, m, y.data<uint8_t>());
      break;
    case DType::Int8:
      quantize_to(x, s, zp, m, y.data<int8_t>());
      break;
    case DType::UInt16:
      quantize_to(x, s, zp, m, y.data<uint16_t>());
      break;
    case DType::Int16:
      quantize_to(x, s, zp, m, y.data<int16_t>());
      break;
    default:
      ctx.fail("QuantizeLinear output type must be int8/uint8/int16/uint16, got ", dtype_name(out_type));
  }
}

void kernel_dequantize_linear(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& scale = ctx.input(1);
  KERNEL_CHECK(ctx, dtype_is_int(x.dtype()) && dtype_size(x.dtype()) <= 4,
               "DequantizeLinear x must be int8/uint8/int16/uint16/int32, got ", dtype_name(x.dtype()));
  KERNEL_CHECK(ctx, dtype_is_float(scale.dtype()), "DequantizeLinear x_scale must be floating point");
  AxisMap m = map_axis(ctx, x, scale, "DequantizeLinear x_scale");
  Shape zp(size_t(scale.numel()), 0);
  if (ctx.has_input(2)) {
    const Tensor& z = ctx.input(2);
    KERNEL_CHECK(ctx, z.dtype() == x.dtype(), "DequantizeLinear x_zero_point type ", dtype_name(z.dtype()),
                 " differs from x type ", dtype_name(x.dtype()));
    KERNEL_CHECK(ctx, z.numel() == scale.numel(), "DequantizeLinear x_zero_point has ", z.numel(),
                 " values but x_scale has ", scale.numel());
    for (int64_t i = 0; i < z.numel(); ++i) zp[size_t(i)] = z.as_int64(i);
  }
  std::vector<float> s = scale.to_float_vector();
  Tensor y(DType::Float32, x.shape());
  float* yd = y.data<float>();
  const int64_t n = x.numel();
  ref::dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_integral_v<T>) {
      const T* xd = x.data<T>();
      for (int64_t i = 0; i < n; ++i) {
        const size_t k = size_t(m.index(i));
        yd[i] = float(int64_t(xd[i]) - zp[k]) * s[k];
      }
    }
  });
  if (scale.dtype() != DType::Float32) y = cast_tensor(y, scale.dtype());
  ctx.set_output(0, y);
}

void kernel_dynamic_quantize_linear(KernelContext& ctx) {
  Tensor x = ref::promote(ctx.input(0));
  KERNEL_CHECK(ctx, x.dtype() == DType::Float32, "DynamicQuantizeLinear x must be float32, got ",
               dtype_name(ctx.input(0).dtype()));
  const float* xd = x.data<float>();
  const int64_t n = x.numel();
  float lo = 0.f, hi = 0.f;
  for (int64_t i = 0; i < n; ++i) {
    if (std::isnan(xd[i])) continue;
    lo = std::min(lo, xd[i]);
    hi = std::max(hi, xd[i]);
  }
  const float scale = (hi - lo) / 255.f;
  uint8_t zp = 0;
  if (scale > 0.f && std::isfinite(scale)) zp = ref::saturate_round<uint8_t>((0.f - lo) / scale, 0);
  Tensor& y = ctx.allocate_output(0, DType::UInt8, x.shape());
  uint8_t* yd = y.data<uint8_t>();
  if (scale > 0.f && std::isfinite(scale)) {
    for (int64_t i = 0; i < n; ++i) yd[i] = ref::saturate_round<uint8_t>(xd[i] / scale, zp);
  } else {
    for (int64_t i = 0; i < n; ++i) yd[i] = zp;
  }
  ctx.allocate_output(1, DType::Float32, {}).data<float>()[0] = scale;
  ctx.allocate_output(2, DType::UInt8, {}).data<uint8_t>()[0] = zp;
}

}  // namespace pith
