// Per-tensor linear (de)quantization spans, vectorized (quantize_linear.cpp), bit-identical
// to the reference QuantizeLinear / DequantizeLinear kernels:
//   quantize:   y = saturate(round_half_even(x / scale) + zero_point), NaN -> zero_point
//   dequantize: y = float(x - zero_point) * scale (with scale 1: the exact widening that
//               the int8 depthwise kernel feeds to the float one)
#pragma once

#include <cstdint>

namespace pith::simd {

void quantize_u8(const float* x, int64_t n, float scale, int32_t zero_point, uint8_t* y);
void quantize_s8(const float* x, int64_t n, float scale, int32_t zero_point, int8_t* y);
void dequantize_u8(const uint8_t* x, int64_t n, float scale, int32_t zero_point, float* y);
void dequantize_s8(const int8_t* x, int64_t n, float scale, int32_t zero_point, float* y);
// Widens [*lo, *hi], which must hold 0, to hold every value of x but NaN (ignored).
void widen_to_range(const float* x, int64_t n, float* lo, float* hi);

}  // namespace pith::simd
