// Convolutions: Conv (1-D/2-D/3-D..., groups incl. depthwise, dilations, strides, pads,
// auto_pad, optional bias), ConvTranspose (output_padding, output_shape, auto_pad),
// ConvInteger, QLinearConv and pith.QConv (QLinearConv with a fused activation and an
// optional float output, runtime/kernels/requantize.h). Forward convolution is im2col + the shared GEMM (a 1x1,
// stride-1, unpadded kernel uses the input directly); ConvTranspose is GEMM + col2im.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/gemm_ref.h"
#include "runtime/kernels/reference/quant_util.h"
#include "runtime/kernels/reference/spatial.h"
#include "runtime/kernels/requantize.h"

namespace pith {
namespace {

using ref::type_tag;

struct ConvGeom {
  int64_t N = 0, C = 0, M = 0, group = 1;
  Shape in;  // input spatial dims
  ref::Window win;
  int64_t in_size() const { return shape_numel(in); }
  int64_t out_size() const { return shape_numel(win.out); }
  int64_t kernel_size() const { return shape_numel(win.kernel); }
};

// Validates X (N, C, D...) and W (M, C/group, k...) and computes the output geometry.
ConvGeom conv_geometry(const KernelContext& ctx, const Shape& xs, const Shape& ws) {
  KERNEL_CHECK(ctx, xs.size() >= 3, "Conv input X must have rank >= 3 (N, C, spatial...), got ", shape_str(xs));
  KERNEL_CHECK(ctx, ws.size() == xs.size(), "Conv weight W must have the rank of X (", xs.size(), "), got ",
               shape_str(ws));
  ConvGeom g;
  g.N = xs[0];
  g.C = xs[1];
  g.M = ws[0];
  g.group = ctx.attr_int("group", 1);
  KERNEL_CHECK(ctx, g.group >= 1, "group must be >= 1, got ", g.group);
  KERNEL_CHECK(ctx, g.C == ws[1] * g.group, "X has ", g.C, " channels but W ", shape_str(ws), " with group ", g.group,
               " expects ", ws[1] * g.group);
  KERNEL_CHECK(ctx, g.M % g.group == 0, "W has ", g.M, " output channels, not divisible by group ", g.group);
  g.in.assign(xs.begin() + 2, xs.end());
  g.win.kernel.assign(ws.begin() + 2, ws.end());
  if (ctx.has_attr("kernel_shape")) {
    KERNEL_CHECK(ctx, ctx.attr_ints("kernel_shape") == g.win.kernel, "kernel_shape attribute ",
                 shape_str(ctx.attr_ints("kernel_shape")), " disagrees with W ", shape_str(ws));
  }
  ref::forward_window(ctx, g.in, g.win, true, false);
  return g;
}

// Fills col[Cg * K, out] for one group of one image: row (c, k...) holds the input
// value each output position sees through kernel tap k of channel c (0 in the padding).
template <typename T>
void im2col(const ConvGeom& g, int64_t Cg, const T* x, T* col) {
  const size_t nd = g.in.size();
  const int64_t K = g.kernel_size(), O = g.out_size(), I = g.in_size();
  const auto& w = g.win;
  if (nd == 2) {
    const int64_t H = g.in[0], W = g.in[1], OH = w.out[0], OW = w.out[1];
    const int64_t KH = w.kernel[0], KW = w.kernel[1];
    for (int64_t c = 0; c < Cg; ++c) {
      const T* xc = x + c * I;
      for (int64_t kh = 0; kh < KH; ++kh)
        for (int64_t kw = 0; kw < KW; ++kw) {
          T* row = col + ((c * KH + kh) * KW + kw) * O;
          const int64_t dw = kw * w.dilations[1] - w.pad_begin[1];
          // output columns [ow_lo, ow_hi) read inside the input
          int64_t ow_lo = 0, ow_hi = OW;
          while (ow_lo < OW && ow_lo * w.strides[1] + dw < 0) ++ow_lo;
          while (ow_hi > ow_lo && (ow_hi - 1) * w.strides[1] + dw >= W) --ow_hi;
          for (int64_t oh = 0; oh < OH; ++oh) {
            T* r = row + oh * OW;
            const int64_t ih = oh * w.strides[0] - w.pad_begin[0] + kh * w.dilations[0];
            if (ih < 0 || ih >= H) {
              std::fill(r, r + OW, T(0));
              continue;
            }
            const int64_t base = ih * W + dw;  // + ow * stride is inside the row for ow in [ow_lo, ow_hi)
            std::fill(r, r + ow_lo, T(0));
            if (w.strides[1] == 1) {
              if (ow_hi > ow_lo) std::memcpy(r + ow_lo, xc + base + ow_lo, size_t(ow_hi - ow_lo) * sizeof(T));
            } else {
              for (int64_t ow = ow_lo; ow < ow_hi; ++ow) r[ow] = xc[base + ow * w.strides[1]];
            }
            std::fill(r + std::max(ow_hi, ow_lo), r + OW, T(0));
          }
        }
    }
    return;
  }
  // Generic N-D path.
  Shape kidx(nd), oidx(nd);
  for (int64_t c = 0; c < Cg; ++c) {
    const T* xc = x + c * I;
    std::fill(kidx.begin(), kidx.end(), 0);
    for (int64_t k = 0; k < K; ++k) {
      T* row = col + (c * K + k) * O;
      std::fill(oidx.begin(), oidx.end(), 0);
      for (int64_t o = 0; o < O; ++o) {
        int64_t off = 0;
        bool inside = true;
        for (size_t d = 0; d < nd; ++d) {
          const int64_t p = oidx[d] * w.strides[d] - w.pad_begin[d] + kidx[d] * w.dilations[d];
          if (p < 0 || p >= g.in[d]) {
            inside = false;
            break;
          }
          off = off * g.in[d] + p;
        }
        row[o] = inside ? xc[off] : T(0);
        for (size_t d = nd; d-- > 0;) {
          if (++oidx[d] < w.out[d]) break;
          oidx[d] = 0;
        }
      }
      for (size_t d = nd; d-- > 0;) {
        if (++kidx[d] < w.kernel[d]) break;
        kidx[d] = 0;
      }
    }
  }
}

// y (N, M, out...) = conv(x, w) (+ bias per output channel when bias != nullptr).
template <typename T>
void conv_forward(const ConvGeom& g, const T* x, const T* w, const T* bias, T* y) {
  const int64_t Cg = g.C / g.group, Mg = g.M / g.group;
  const int64_t K = g.kernel_size(), O = g.out_size(), I = g.in_size();
  const int64_t rows = Cg * K;
  bool direct = true;  // 1x1, stride 1, no padding: the input already is the column matrix
  for (size_t d = 0; d < g.in.size(); ++d)
    direct =
        direct && g.win.kernel[d] == 1 && g.win.strides[d] == 1 && g.win.pad_begin[d] == 0 && g.win.pad_end[d] == 0;
  std::vector<T> col;
  if (!direct) col.resize(size_t(rows * O));
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t gr = 0; gr < g.group; ++gr) {
      const T* xg = x + (n * g.C + gr * Cg) * I;
      const T* b = xg;
      if (!direct) {
        im2col(g, Cg, xg, col.data());
        b = col.data();
      }
      T* yg = y + (n * g.M + gr * Mg) * O;
      ref::gemm(false, false, Mg, O, rows, T(1), w + gr * Mg * rows, rows, b, O, T(0), yg, O);
    }
    if (bias) {
      for (int64_t m = 0; m < g.M; ++m) {
        T* ym = y + (n * g.M + m) * O;
        const T bv = bias[m];
        if constexpr (std::is_integral_v<T>) {  // wrap like the GEMM does (no signed overflow)
          using U = std::make_unsigned_t<T>;
          for (int64_t o = 0; o < O; ++o) ym[o] = T(U(ym[o]) + U(bv));
        } else {
          for (int64_t o = 0; o < O; ++o) ym[o] += bv;
        }
      }
    }
  }
}

Shape conv_out_shape(const ConvGeom& g) {
  Shape s{g.N, g.M};
  s.insert(s.end(), g.win.out.begin(), g.win.out.end());
  return s;
}

// int32 copy of an int8/uint8 tensor minus a zero point (scalar or one per `axis0` slice).
Tensor centered(const KernelContext& ctx, const Tensor& x, const Tensor* zp, const char* what) {
  KERNEL_CHECK(ctx, x.dtype() == DType::Int8 || x.dtype() == DType::UInt8, what, " must be int8 or uint8, got ",
               dtype_name(x.dtype()));
  std::vector<int32_t> z{0};
  if (zp) {
    KERNEL_CHECK(ctx, zp->dtype() == x.dtype(), what, " zero point must have type ", dtype_name(x.dtype()));
    z.assign(size_t(zp->numel()), 0);
    for (int64_t i = 0; i < zp->numel(); ++i) z[size_t(i)] = int32_t(zp->as_int64(i));
  }
  const int64_t n = x.numel();
  const int64_t outer = x.rank() > 0 ? x.shape()[0] : 1;
  KERNEL_CHECK(ctx, z.size() == 1 || int64_t(z.size()) == outer, what, " zero point has ", z.size(),
               " values, expected 1 or ", outer);
  const int64_t inner = outer ? n / outer : 0;
  Tensor out(DType::Int32, x.shape());
  int32_t* o = out.data<int32_t>();
  for (int64_t i = 0; i < n; ++i) o[i] = int32_t(x.as_int64(i)) - z[z.size() == 1 ? 0 : size_t(i / inner)];
  return out;
}

// Output shape of ConvTranspose and its pads.
struct TransGeom {
  int64_t N = 0, C = 0, M = 0, group = 1;
  Shape in, out, kernel, strides, dilations, pad_begin;
};

TransGeom conv_transpose_geometry(const KernelContext& ctx, const Shape& xs, const Shape& ws) {
  KERNEL_CHECK(ctx, xs.size() >= 3, "ConvTranspose input X must have rank >= 3, got ", shape_str(xs));
  KERNEL_CHECK(ctx, ws.size() == xs.size(), "ConvTranspose weight W must have the rank of X, got ", shape_str(ws));
  TransGeom g;
  const size_t n = xs.size() - 2;
  g.N = xs[0];
  g.C = xs[1];
  g.group = ctx.attr_int("group", 1);
  KERNEL_CHECK(ctx, g.group >= 1, "group must be >= 1, got ", g.group);
  KERNEL_CHECK(ctx, ws[0] == g.C, "W ", shape_str(ws), " must have ", g.C, " input channels first");
  KERNEL_CHECK(ctx, g.C % g.group == 0, "X channels ", g.C, " not divisible by group ", g.group);
  g.M = ws[1] * g.group;
  g.in.assign(xs.begin() + 2, xs.end());
  g.kernel.assign(ws.begin() + 2, ws.end());
  if (ctx.has_attr("kernel_shape"))
    KERNEL_CHECK(ctx, ctx.attr_ints("kernel_shape") == g.kernel, "kernel_shape attribute disagrees with W ",
                 shape_str(ws));
  g.strides = ref::spatial_attr(ctx, "strides", n, 1, 1);
  g.dilations = ref::spatial_attr(ctx, "dilations", n, 1, 1);
  Shape out_pad = ref::spatial_attr(ctx, "output_padding", n, 0, 0);
  const std::string auto_pad = ctx.attr_string("auto_pad", "NOTSET");
  KERNEL_CHECK(ctx,
               auto_pad == "NOTSET" || auto_pad.empty() || auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER" ||
                   auto_pad == "VALID",
               "auto_pad must be NOTSET, SAME_UPPER, SAME_LOWER or VALID, got '", auto_pad, "'");
  Shape out_shape = ctx.attr_ints("output_shape");
  if (out_shape.size() == n + 2) out_shape.erase(out_shape.begin(), out_shape.begin() + 2);
  KERNEL_CHECK(ctx, out_shape.empty() || out_shape.size() == n, "output_shape has ", out_shape.size(),
               " values, expected ", n);
  const bool same = auto_pad == "SAME_UPPER" || auto_pad == "SAME_LOWER";
  if (out_shape.empty() && same)
    for (size_t i = 0; i < n; ++i) out_shape.push_back(g.in[i] * g.strides[i]);
  g.out.assign(n, 0);
  g.pad_begin.assign(n, 0);
  Shape pads(2 * n, 0);
  if (out_shape.empty() && auto_pad != "VALID") pads = ref::spatial_attr(ctx, "pads", 2 * n, 0, 0);
  for (size_t i = 0; i < n; ++i) {
    const int64_t full = g.strides[i] * (g.in[i] - 1) + out_pad[i] + (g.kernel[i] - 1) * g.dilations[i] + 1;
    if (!out_shape.empty()) {
      const int64_t total = full - out_shape[i];
      // A negative total (output_shape larger than the full result) pads at the end, as output_padding would.
      KERNEL_CHECK(ctx, out_shape[i] >= 0, "output_shape values must be >= 0, got ", out_shape[i]);
      // The spec's split (Python floor division): SAME_UPPER puts the odd unit at the end,
      // every other mode at the start.
      const int64_t half = total >= 0 ? total / 2 : -((-total + 1) / 2);
      g.pad_begin[i] = auto_pad == "SAME_UPPER" ? half : total - half;
      g.out[i] = out_shape[i];
    } else {
      g.pad_begin[i] = pads[i];
      g.out[i] = full - pads[i] - pads[i + n];
      KERNEL_CHECK(ctx, g.out[i] >= 0, "pads make the output of dim ", i, " negative");
    }
  }
  return g;
}

template <typename T>
void conv_transpose_run(const TransGeom& g, const T* x, const T* w, const T* bias, T* y) {
  const size_t nd = g.in.size();
  const int64_t Cg = g.C / g.group, Mg = g.M / g.group;
  const int64_t K = shape_numel(g.kernel), I = shape_numel(g.in), O = shape_numel(g.out);
  const int64_t rows = Mg * K;
  std::vector<T> col(size_t(rows * I));
  Shape kidx(nd), iidx(nd);
  for (int64_t n = 0; n < g.N; ++n) {
    for (int64_t gr = 0; gr < g.group; ++gr) {
      // col[Mg*K, I] = W_g^T (W_g is Cg x Mg*K) * X_g (Cg x I)
      ref::gemm(true, false, rows, I, Cg, T(1), w + gr * Cg * rows, rows, x + (n * g.C + gr * Cg) * I, I, T(0),
                col.data(), I);
      for (int64_t m = 0; m < Mg; ++m) {
        T* ym = y + (n * g.M + gr * Mg + m) * O;
        std::fill(ym, ym + O, bias ? bias[gr * Mg + m] : T(0));
        std::fill(kidx.begin(), kidx.end(), 0);
        for (int64_t k = 0; k < K; ++k) {
          const T* row = col.data() + (m * K + k) * I;
          std::fill(iidx.begin(), iidx.end(), 0);
          for (int64_t i = 0; i < I; ++i) {
            int64_t off = 0;
            bool inside = true;
            for (size_t d = 0; d < nd; ++d) {
              const int64_t p = iidx[d] * g.strides[d] - g.pad_begin[d] + kidx[d] * g.dilations[d];
              if (p < 0 || p >= g.out[d]) {
                inside = false;
                break;
              }
              off = off * g.out[d] + p;
            }
            if (inside) ym[off] += row[i];
            for (size_t d = nd; d-- > 0;) {
              if (++iidx[d] < g.in[d]) break;
              iidx[d] = 0;
            }
          }
          for (size_t d = nd; d-- > 0;) {
            if (++kidx[d] < g.kernel[d]) break;
            kidx[d] = 0;
          }
        }
      }
    }
  }
}

const Tensor* optional_bias(const KernelContext& ctx, size_t i, int64_t M, const char* op) {
  if (!ctx.has_input(i)) return nullptr;
  const Tensor& b = ctx.input(i);
  KERNEL_CHECK(ctx, b.rank() == 1 && b.dim(0) == M, op, " bias must have shape [", M, "], got ", shape_str(b.shape()));
  return &b;
}

}  // namespace

void kernel_conv(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  Tensor x = ref::promote(ctx.input(0)), w = ref::promote(ctx.input(1));
  KERNEL_CHECK(ctx, w.dtype() == x.dtype(), "Conv X and W must have the same type");
  ConvGeom g = conv_geometry(ctx, x.shape(), w.shape());
  const Tensor* bp = optional_bias(ctx, 2, g.M, "Conv");
  Tensor b = bp ? ref::promote(*bp) : Tensor();
  Tensor y(x.dtype(), conv_out_shape(g));
  ref::dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    conv_forward<T>(g, x.data<T>(), w.data<T>(), bp ? b.data<T>() : nullptr, y.data<T>());
  });
  ctx.set_output(0, ref::demote(y, orig));
}

void kernel_conv_transpose(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  Tensor x = ref::promote(ctx.input(0)), w = ref::promote(ctx.input(1));
  KERNEL_CHECK(ctx, w.dtype() == x.dtype(), "ConvTranspose X and W must have the same type");
  TransGeom g = conv_transpose_geometry(ctx, x.shape(), w.shape());
  const Tensor* bp = optional_bias(ctx, 2, g.M, "ConvTranspose");
  Tensor b = bp ? ref::promote(*bp) : Tensor();
  Shape ys{g.N, g.M};
  ys.insert(ys.end(), g.out.begin(), g.out.end());
  Tensor y(x.dtype(), ys);
  ref::dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    conv_transpose_run<T>(g, x.data<T>(), w.data<T>(), bp ? b.data<T>() : nullptr, y.data<T>());
  });
  ctx.set_output(0, ref::demote(y, orig));
}

void kernel_conv_integer(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  const Tensor* xz = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  KERNEL_CHECK(ctx, !xz || xz->numel() == 1, "ConvInteger x_zero_point must be a scalar");
  Tensor xc = centered(ctx, x, xz, "ConvInteger x");
  Tensor wc = centered(ctx, w, ctx.has_input(3) ? &ctx.input(3) : nullptr, "ConvInteger w");
  ConvGeom g = conv_geometry(ctx, x.shape(), w.shape());
  Tensor& y = ctx.allocate_output(0, DType::Int32, conv_out_shape(g));
  conv_forward<int32_t>(g, xc.data<int32_t>(), wc.data<int32_t>(), nullptr, y.data<int32_t>());
}

void kernel_qlinear_conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& x_scale = ctx.input(1);
  const Tensor& w = ctx.input(3);
  const Tensor& w_scale = ctx.input(4);
  const Tensor& y_scale = ctx.input(6);
  const Tensor& y_zp = ctx.input(7);
  KERNEL_CHECK(ctx, ctx.input(2).numel() == 1 && x_scale.numel() == 1,
               "QLinearConv x_scale/x_zero_point must be scalars");
  KERNEL_CHECK(ctx, y_scale.numel() == 1 && y_zp.numel() == 1, "QLinearConv y_scale/y_zero_point must be scalars");
  KERNEL_CHECK(ctx, y_zp.dtype() == DType::Int8 || y_zp.dtype() == DType::UInt8,
               "QLinearConv y_zero_point must be int8 or uint8");
  Tensor xc = centered(ctx, x, &ctx.input(2), "QLinearConv x");
  Tensor wc = centered(ctx, w, &ctx.input(5), "QLinearConv w");
  ConvGeom g = conv_geometry(ctx, x.shape(), w.shape());
  KERNEL_CHECK(ctx, w_scale.numel() == 1 || w_scale.numel() == g.M, "QLinearConv w_scale must have 1 or ", g.M,
               " values");
  const Tensor* bias = optional_bias(ctx, 8, g.M, "QLinearConv");
  Tensor b32;
  if (bias) {
    KERNEL_CHECK(ctx, bias->dtype() == DType::Int32, "QLinearConv bias must be int32");
    b32 = *bias;
  }
  Tensor acc(DType::Int32, conv_out_shape(g));
  conv_forward<int32_t>(g, xc.data<int32_t>(), wc.data<int32_t>(), bias ? b32.data<int32_t>() : nullptr,
                        acc.data<int32_t>());
  const float xs = float(x_scale.as_double(0)), ys = float(y_scale.as_double(0));
  std::vector<float> ws = w_scale.to_float_vector();
  const int32_t yz = int32_t(y_zp.as_int64(0));
  Tensor& y = ctx.allocate_output(0, y_zp.dtype(), acc.shape());
  const int64_t O = g.out_size();
  const int32_t* a = acc.data<int32_t>();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t m = 0; m < g.M; ++m) {
      const float mult = xs * ws[ws.size() == 1 ? 0 : size_t(m)] / ys;
      const int64_t base = (n * g.M + m) * O;
      for (int64_t o = 0; o < O; ++o) {
        const float v = float(a[base + o]) * mult;
        if (y.dtype() == DType::UInt8)
          y.data<uint8_t>()[base + o] = ref::saturate_round<uint8_t>(v, yz);
        else
          y.data<int8_t>()[base + o] = ref::saturate_round<int8_t>(v, yz);
      }
    }
}

// pith.QConv: QLinearConv's inputs (x, x_scale, x_zero_point, w, w_scale, w_zero_point,
// [y_scale, y_zero_point], [bias int32], [residual, residual_scale, residual_zero_point])
// and Conv's attributes plus a fused activation (requantize.h).
void kernel_quantized_conv(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  KERNEL_CHECK(ctx, ctx.input(2).numel() == 1, "x_zero_point must be a scalar");
  Tensor xc = centered(ctx, x, &ctx.input(2), "QConv x");
  Tensor wc = centered(ctx, w, ctx.has_input(5) ? &ctx.input(5) : nullptr, "QConv w");
  ConvGeom g = conv_geometry(ctx, x.shape(), w.shape());
  const Tensor* bias = optional_bias(ctx, 8, g.M, "QConv");
  KERNEL_CHECK(ctx, !bias || bias->dtype() == DType::Int32, "QConv bias must be int32");
  const Requantize rq = read_requantize(ctx, g.M);
  const void* residual = rq.residual ? ctx.input(9).raw() : nullptr;
  if (rq.residual)
    KERNEL_CHECK(ctx, ctx.input(9).shape() == conv_out_shape(g), "the residual has shape ",
                 shape_str(ctx.input(9).shape()), "; the output has ", shape_str(conv_out_shape(g)));
  Tensor acc(DType::Int32, conv_out_shape(g));
  conv_forward<int32_t>(g, xc.data<int32_t>(), wc.data<int32_t>(), bias ? bias->data<int32_t>() : nullptr,
                        acc.data<int32_t>());
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, acc.shape());
  const int64_t O = g.out_size();
  const int32_t* a = acc.data<int32_t>();
  for (int64_t n = 0; n < g.N; ++n)
    for (int64_t m = 0; m < g.M; ++m) {
      const int64_t base = (n * g.M + m) * O;
      for (int64_t o = 0; o < O; ++o) {
        const float real =
            residual ? rq.real(a[base + o], m, rq.residual_code(residual, base + o)) : rq.real(a[base + o], m);
        if (!rq.quantized_output)
          y.data<float>()[base + o] = real;
        else if (rq.output_dtype == DType::UInt8)
          y.data<uint8_t>()[base + o] = uint8_t(rq.quantize(real));
        else
          y.data<int8_t>()[base + o] = int8_t(rq.quantize(real));
      }
    }
}

}  // namespace pith
