// Depthwise 2-D convolution, float32, NCHW: each channel convolved with its own
// KH x KW filter (+ bias, + residual, activation). Any kernel size, stride, dilation
// and padding; vectorized along the output width.
#pragma once

#include <cstdint>

#include "runtime/kernels/activation.h"

namespace pith {
struct Requantize;  // runtime/kernels/requantize.h
}

namespace pith::simd {

struct DepthwiseParams {
  int64_t H = 0, W = 0;    // input plane
  int64_t OH = 0, OW = 0;  // output plane
  int64_t KH = 0, KW = 0;
  int64_t stride_h = 1, stride_w = 1;
  int64_t dilation_h = 1, dilation_w = 1;
  int64_t pad_top = 0, pad_left = 0;
};

// Floats of scratch one call needs (a zero-padded, column-deinterleaved input plane).
int64_t depthwise_scratch_floats(const DepthwiseParams& p);

// The padded plane layout the depthwise kernel reads, shared with the convolution's
// im2col packing: padded column x of a row lies in phase x % stride_w at position
// x / stride_w, phase ph at ph * phase_cols; padded row y at y * row_stride. Padded
// (row, column) = (input row + pad_top, input column + pad_left); the rest is zero.
// Output (oy, ox) and tap (ky, kx) read padded (oy*stride_h + ky*dilation_h,
// ox*stride_w + kx*dilation_w), which for consecutive ox are consecutive floats.
struct PaddedPlane {
  int64_t rows = 0, row_stride = 0, phase_cols = 0;
  int64_t floats = 0;  // per plane
};
PaddedPlane padded_plane(const DepthwiseParams& p);
// Where filter tap t (= ky * KW + kx) of output (oy, ox) reads, relative to that output's
// position oy*stride_h*row_stride + ox: kx*dilation_w lies in phase (kx*dilation_w) %
// stride_w at position (kx*dilation_w) / stride_w.
inline int64_t padded_tap_offset(const DepthwiseParams& p, int64_t row_stride, int64_t phase_cols, int64_t t) {
  const int64_t cx = t % p.KW * p.dilation_w;
  return t / p.KW * p.dilation_h * row_stride + (cx % p.stride_w) * phase_cols + cx / p.stride_w;
}
// Writes planes [begin, end) of in (H*W floats each) into out (padded_plane(p).floats
// each), padding included. Reads of up to 64 floats past the last plane stay inside a
// buffer of (planes * floats + 64).
void pad_planes(const DepthwiseParams& p, int64_t begin, int64_t end, const float* in, float* out);

// Planes [begin, end) of a batch of planes of `channels` channels each: plane i reads
// in + i*H*W and writes out + i*OH*OW (and reads residual + i*OH*OW when given), with
// the filter w + c*KH*KW and bias[c] (0 when bias is null) of its channel c = i % channels:
//   out = conv(in, w) + bias, + residual, activation.
// Each plane's result depends only on that plane, so any split of a batch over threads
// gives the same bits.
void depthwise_conv2d(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end, const float* in,
                      const float* w, const float* bias, const float* residual, const Activation& act, float* out,
                      float* scratch);

// pith.QConv's depthwise convolution: planes [begin, end) of uint8 or int8 codes (in_int8)
// read as code - zero_point, filters of at most kDepthwiseRequantizedMaxTaps taps holding
// int8 values as floats, so that every partial sum (below 2^24) is exact in float; each
// plane's accumulators requantized as they are stored (runtime/kernels/requantize.h) as
// channel c = i % channels of q. Scratch: depthwise_scratch_floats(p).
constexpr int64_t kDepthwiseRequantizedMaxTaps = 64;
struct DepthwiseRequantization {
  const Requantize* rq = nullptr;     // output type, activation
  const float* multiplier = nullptr;  // per channel c
  const int32_t* bias = nullptr;      // per channel c, or null
  const void* residual = nullptr;     // residual codes, planes of OH*OW like the output, or null
  void* out = nullptr;                // planes of OH*OW outputs of rq's type
  int64_t acc_bound = 0;              // the largest |accumulator|
};
void depthwise_conv2d_requantized(const DepthwiseParams& p, int64_t channels, int64_t begin, int64_t end,
                                  const void* in, bool in_int8, int32_t zero_point, const float* w,
                                  const DepthwiseRequantization& q, float* scratch);

}  // namespace pith::simd
