// Geometry of a 2-D NCHW convolution as the fast kernels (float Conv and int8 QConv)
// read it from the input and weight shapes and the node's attributes.
#pragma once

#include <vector>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/spatial.h"
#include "runtime/kernels/simd/depthwise.h"

namespace pith::simd {

struct Conv2DShape {
  int64_t N = 0, C = 0, H = 0, W = 0, M = 0, KH = 0, KW = 0, OH = 0, OW = 0, group = 1;
  int64_t sh = 1, sw = 1, dh = 1, dw = 1, pt = 0, pl = 0;
  int64_t Cg() const { return C / group; }
  int64_t Mg() const { return M / group; }
  int64_t K() const { return Cg() * KH * KW; }
  bool depthwise() const { return group == C && M == C && group > 1; }
  bool pointwise() const { return KH == 1 && KW == 1 && sh == 1 && sw == 1 && pt == 0 && pl == 0; }
};

// Fills s from X [N, C, H, W] and W [M, C/group, KH, KW]; false when they do not make a
// valid convolution (the reference kernel then reports why) or the output is empty.
inline bool read_conv2d_shape(KernelContext& ctx, const Shape& x, const Shape& w, Conv2DShape& s) {
  if (x.size() != 4 || w.size() != 4) return false;
  s.N = x[0];
  s.C = x[1];
  s.H = x[2];
  s.W = x[3];
  s.M = w[0];
  s.KH = w[2];
  s.KW = w[3];
  s.group = ctx.attr_int("group", 1);
  if (s.group < 1 || s.C != w[1] * s.group || s.M % s.group != 0) return false;
  if (ctx.has_attr("kernel_shape") && ctx.attr_ints("kernel_shape") != Shape{s.KH, s.KW}) return false;
  ref::Window win;
  win.kernel = {s.KH, s.KW};
  ref::forward_window(ctx, {s.H, s.W}, win, true, false);
  s.OH = win.out[0];
  s.OW = win.out[1];
  s.sh = win.strides[0];
  s.sw = win.strides[1];
  s.dh = win.dilations[0];
  s.dw = win.dilations[1];
  s.pt = win.pad_begin[0];
  s.pl = win.pad_begin[1];
  return s.OH > 0 && s.OW > 0;
}

// The per-plane geometry the depthwise kernel takes (depthwise.h).
inline DepthwiseParams depthwise_params(const Conv2DShape& s) {
  DepthwiseParams p;
  p.H = s.H;
  p.W = s.W;
  p.OH = s.OH;
  p.OW = s.OW;
  p.KH = s.KH;
  p.KW = s.KW;
  p.stride_h = s.sh;
  p.stride_w = s.sw;
  p.dilation_h = s.dh;
  p.dilation_w = s.dw;
  p.pad_top = s.pt;
  p.pad_left = s.pl;
  return p;
}

}  // namespace pith::simd
