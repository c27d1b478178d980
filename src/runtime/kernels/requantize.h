// Requantization of the int8 kernels (pith.QConv, pith.QGemm), shared by the reference
// and SIMD kernels so that they agree bit for bit. For output channel c, with the int32
// accumulator acc = sum (x - x_zp) * (w - w_zp) + bias_q[c]:
//   real = act(float(acc) * multiplier[c])        multiplier[c] = x_scale * w_scale[c]
// or, with a fused residual r (pith.QConv's inputs 9-11: a uint8/int8 tensor of the
// output's shape, its scale and zero point), the residual's real value added first:
//   real = act(float(acc) * multiplier[c] + float(r - r_zero_point) * r_scale)
// in that order of operations (the sources that compute it are compiled with
// -ffp-contract=off, CMakeLists.txt, so that no FMA merges a product into the sum):
//   float output:     y = real
//   quantized output: y = saturate(round_half_even(real * inv_y_scale) + y_zero_point)
// The two multiplications are kept separate (not folded into one factor) so that a
// float output and a quantized one see the same real value.
#pragma once

#include <cmath>
#include <cstdint>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/kernels/activation.h"

namespace pith {

struct Requantize {
  std::vector<float> multiplier;  // one per output channel
  Activation activation;
  bool quantized_output = false;
  DType output_dtype = DType::Float32;  // UInt8 or Int8 when quantized
  float inv_y_scale = 1.0f;
  int32_t y_zero_point = 0;
  int32_t q_min = 0, q_max = 0;  // the output type's range
  bool residual = false;         // a fused residual input (its data is given per run)
  DType residual_dtype = DType::UInt8;
  float residual_scale = 1.0f;
  int32_t residual_zero_point = 0;

  float real(int32_t acc, int64_t c) const { return apply_activation(activation, float(acc) * multiplier[size_t(c)]); }
  // The residual's code at element i of its data.
  int32_t residual_code(const void* data, int64_t i) const {
    return residual_dtype == DType::UInt8 ? int32_t(static_cast<const uint8_t*>(data)[i])
                                          : int32_t(static_cast<const int8_t*>(data)[i]);
  }
  // The real value with the residual whose code is r added before the activation.
  float real(int32_t acc, int64_t c, int32_t r) const {
    return apply_activation(activation,
                            float(acc) * multiplier[size_t(c)] + float(r - residual_zero_point) * residual_scale);
  }
  int32_t quantize(float real) const {
    float r = std::nearbyint(real * inv_y_scale);
    if (std::isnan(r)) r = 0;
    const float lo = float(q_min - y_zero_point), hi = float(q_max - y_zero_point);
    r = r < lo ? lo : (r > hi ? hi : r);
    return int32_t(r) + y_zero_point;
  }
};

// The largest scale magnitude accepted: any int32 accumulator times it, plus a residual's
// real value, stays finite, so the real values of Relu, Clip and no activation are never
// NaN (far past any real model's scales, which are below 1).
constexpr float kMaxScale = 1e28f;

// Reads the scales of a quantized node laid out as QLinearConv's inputs: x_scale (1),
// w_scale (4; a scalar or one per output channel), y_scale (6) and y_zero_point (7),
// both omitted for a float output, the fused residual's scale (10) and zero point (11)
// when it has one (9), and the fused activation attributes.
inline Requantize read_requantize(const KernelContext& ctx, int64_t channels) {
  Requantize rq;
  const Tensor& xs = ctx.input(1);
  const Tensor& ws = ctx.input(4);
  KERNEL_CHECK(ctx, xs.numel() == 1, "x_scale must be a scalar");
  KERNEL_CHECK(ctx, ws.numel() == 1 || ws.numel() == channels, "w_scale has ", ws.numel(), " values; expected 1 or ",
               channels);
  const float x_scale = float(xs.as_double(0));
  rq.multiplier.resize(size_t(channels));
  for (int64_t c = 0; c < channels; ++c) {
    const float m = x_scale * float(ws.as_double(ws.numel() == 1 ? 0 : c));
    KERNEL_CHECK(ctx, std::fabs(m) <= kMaxScale, "x_scale * w_scale is ", m, " for output channel ", c,
                 "; expected a finite value of magnitude at most ", kMaxScale);
    rq.multiplier[size_t(c)] = m;
  }
  rq.activation = activation_from_node(ctx.node());
  rq.quantized_output = ctx.has_input(6);
  if (rq.quantized_output) {
    KERNEL_CHECK(ctx, ctx.has_input(7), "y_scale is given without y_zero_point");
    const Tensor& ys = ctx.input(6);
    const Tensor& yz = ctx.input(7);
    KERNEL_CHECK(ctx, ys.numel() == 1 && yz.numel() == 1, "y_scale and y_zero_point must be scalars");
    KERNEL_CHECK(ctx, yz.dtype() == DType::UInt8 || yz.dtype() == DType::Int8,
                 "y_zero_point must be uint8 or int8, got ", dtype_name(yz.dtype()));
    const float y_scale = float(ys.as_double(0));
    KERNEL_CHECK(ctx, y_scale > 0 && std::isfinite(y_scale), "y_scale must be positive and finite, got ", y_scale);
    rq.inv_y_scale = 1.0f / y_scale;
    rq.y_zero_point = int32_t(yz.as_int64(0));
    rq.output_dtype = yz.dtype();
    rq.q_min = yz.dtype() == DType::UInt8 ? 0 : -128;
    rq.q_max = yz.dtype() == DType::UInt8 ? 255 : 127;
  }
  rq.residual = ctx.has_input(9);
  if (rq.residual) {
    KERNEL_CHECK(ctx, ctx.has_input(10) && ctx.has_input(11), "a residual input needs its scale and zero point");
    const Tensor& r = ctx.input(9);
    const Tensor& rs = ctx.input(10);
    const Tensor& rz = ctx.input(11);
    KERNEL_CHECK(ctx, r.dtype() == DType::UInt8 || r.dtype() == DType::Int8, "the residual must be uint8 or int8, got ",
                 dtype_name(r.dtype()));
    KERNEL_CHECK(ctx, rs.numel() == 1 && rz.numel() == 1, "the residual's scale and zero point must be scalars");
    KERNEL_CHECK(ctx, rz.dtype() == r.dtype(), "the residual's zero point is ", dtype_name(rz.dtype()),
                 "; the residual is ", dtype_name(r.dtype()));
    rq.residual_dtype = r.dtype();
    rq.residual_scale = float(rs.as_double(0));
    KERNEL_CHECK(ctx, std::fabs(rq.residual_scale) <= kMaxScale, "the residual's scale is ", rq.residual_scale,
                 "; expected a finite value of magnitude at most ", kMaxScale);
    rq.residual_zero_point = int32_t(rz.as_int64(0));
  }
  return rq;
}

}  // namespace pith
