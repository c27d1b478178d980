// Depthwise 2-D convolution, float32, NCHW: each channel convolved with its own
// KH x KW filter (+ bias, + residual, activation). Any kernel size, stride, dilation
// and padding; vectorized along the output width.
#pragma once

#include <cstdint>

#include "runtime/kernels/activation.h"

namespace pith::simd {

struct DepthwiseParams {
  int64_t H = 0, W = 0;             // input plane
  int64_t OH = 0, OW = 0;           // output plane
  int64_t KH = 0, KW = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
};

// Floats of scratch one call needs (a zero-padded, column-deinterleaved input plane).
int64_t depthwise_scratch_floats(const DepthwiseParams& p);

// One channel: out[OH x OW] = conv(in[H x W], w[KH x KW]) + bias, + residual, activation.
void depthwise_conv2d_plane(const DepthwiseParams& p, const float* in, const float* w, float bias,
                            const float* residual, const Activation& act, float* out, float* scratch);

}  // namespace pith::simd
