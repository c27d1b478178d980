// Spatial-window geometry shared by Conv, ConvTranspose and the pooling kernels:
// reading kernel_shape/strides/dilations/pads/auto_pad and computing output sizes.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith::ref {

struct Window {
  Shape kernel, strides, dilations, pad_begin, pad_end, out;
};

// Reads an ints attribute of exactly `n` values (or `fallback` repeated n times when absent);
// every value must be >= `min_value`.
inline Shape spatial_attr(const KernelContext& ctx, const char* name, size_t n, int64_t fallback, int64_t min_value) {
  Shape v = ctx.attr_ints(name, Shape(n, fallback));
  KERNEL_CHECK(ctx, v.size() == n, "attribute ", name, " has ", v.size(), " values, expected ", n);
  for (int64_t x : v)
    KERNEL_CHECK(ctx, x >= min_value, "attribute ", name, " has value ", x, ", expected >= ", min_value);
  return v;
}

// Fills strides/dilations/pads and the output size for a forward window op (Conv, pools)
// over input spatial dims `in`; `w.kernel` must be set. ceil_mode rounds the output size
// up (a last window must still start inside the input or left padding).
inline void forward_window(const KernelContext& ctx, const Shape& in, Window& w, bool use_dilations, bool ceil_mode) {
  const size_t n = in.size();
  KERNEL_CHECK(ctx, w.kernel.size() == n, "kernel_shape has ", w.kernel.size(), " values, expected ", n);
  for (int64_t k : w.kernel) KERNEL_CHECK(ctx, k >= 1, "kernel_shape values must be >= 1, got ", k);
  w.strides = spatial_attr(ctx, "strides", n, 1, 1);
  w.dilations = use_dilations ? spatial_attr(ctx, "dilations", n, 1, 1) : Shape(n, 1);
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  w.pad_begin.assign(n, 0);
  w.pad_end.assign(n, 0);
  w.out.assign(n, 0);
  if (auto_pad == "NOTSET" || auto_pad.empty()) {
    Shape pads = spatial_attr(ctx, "pads", 2 * n, 0, 0);
    for (size_t i = 0; i < n; ++i) {
      w.pad_begin[i] = pads[i];
      w.pad_end[i] = pads[i + n];
    }
  } else {
    KERNEL_CHECK(ctx, auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" || auto_pad == "VALID",
                 "auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '", auto_pad, "'");
  }
  for (size_t i = 0; i < n; ++i) {
    const int64_t dk = (w.kernel[i] - 1) * w.dilations[i] + 1;
    if (auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER") {
      w.out[i] = (in[i] + w.strides[i] - 1) / w.strides[i];
      const int64_t total = std::max<int64_t>(0, (w.out[i] - 1) * w.strides[i] + dk - in[i]);
      const int64_t small = total / 2, big = total - small;
      w.pad_begin[i] = auto_pad == "SAME_UPPER" ? small : big;
      w.pad_end[i] = auto_pad == "SAME_UPPER" ? big : small;
      continue;
    }
    const int64_t span = in[i] + w.pad_begin[i] + w.pad_end[i] - dk;
    KERNEL_CHECK(ctx, span >= 0, "window of extent ", dk, " does not fit spatial dim ", i, " of size ", in[i],
                 " with pads ", w.pad_begin[i], "+", w.pad_end[i]);
    if (ceil_mode) {
      w.out[i] = (span + w.strides[i] - 1) / w.strides[i] + 1;
      if ((w.out[i] - 1) * w.strides[i] >= in[i] + w.pad_begin[i]) --w.out[i];
    } else {
      w.out[i] = span / w.strides[i] + 1;
    }
  }
}

}  // namespace pith::ref
