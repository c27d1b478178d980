// Resize (opsets 10, 11, 13+: nearest / linear / cubic, every coordinate transformation
// and nearest rounding mode, scales or sizes, tf_crop_and_resize with extrapolation) and
// Upsample (opsets 1, 7, 9). Interpolation is separable: each resized axis is one pass
// of per-output-index taps (source index, weight) over the current buffer.
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

struct ResizeOptions {
  std::string mode = "nearest";                     // nearest | linear | cubic
  std::string ctm = "half_pixel";                   // coordinate_transformation_mode
  std::string nearest_mode = "round_prefer_floor";  // ... | simple (Upsample, Resize-10)
  double cubic_a = -0.75;
  bool exclude_outside = false;
  double extrapolation = 0.0;
};

// Taps of one axis: for output index o, `k` (index, weight) pairs and an extrapolation flag.
struct AxisTaps {
  int64_t k = 1;
  Shape index;
  std::vector<double> weight;
  std::vector<char> extrapolate;
  bool identity = false;
};

AxisTaps make_taps(const KernelContext& ctx, const ResizeOptions& opt, int64_t in, int64_t out, double scale,
                   double roi_start, double roi_end) {
  AxisTaps t;
  t.k = opt.mode == "nearest" ? 1 : opt.mode == "linear" ? 2 : 4;
  t.index.assign(static_cast<size_t>(out * t.k), 0);
  t.weight.assign(static_cast<size_t>(out * t.k), 0.0);
  t.extrapolate.assign(static_cast<size_t>(out), 0);
  KERNEL_CHECK(ctx, in > 0 || out == 0, "cannot resize an empty axis to size ", out);
  bool identity = in == out && opt.ctm != "tf_crop_and_resize";
  // As in the ONNX reference, the coordinate formulas use the unrounded resized length.
  const double len = double(in) * scale;
  for (int64_t o = 0; o < out; ++o) {
    const double xr = double(o);
    double x = 0;
    const std::string& m = opt.ctm;
    if (m == "half_pixel") {
      x = (xr + 0.5) / scale - 0.5;
    } else if (m == "half_pixel_symmetric") {
      const double adjustment = double(out) / len;
      const double center = double(in) / 2;
      x = center * (1 - adjustment) + (xr + 0.5) / scale - 0.5;
    } else if (m == "pytorch_half_pixel") {
      x = len > 1 ? (xr + 0.5) / scale - 0.5 : 0.0;
    } else if (m == "align_corners") {
      x = len == 1 ? 0.0 : xr * double(in - 1) / (len - 1);
    } else if (m == "asymmetric") {
      x = xr / scale;
    } else if (m == "tf_half_pixel_for_nn") {
      x = (xr + 0.5) / scale;
    } else if (m == "tf_crop_and_resize") {
      x = len != 1 ? roi_start * double(in - 1) + xr * (roi_end - roi_start) * double(in - 1) / (len - 1)
                   : 0.5 * (roi_start + roi_end) * double(in - 1);
      if (x < 0 || x > double(in - 1)) {
        t.extrapolate[size_t(o)] = 1;
        identity = false;
        continue;
      }
    } else {
      ctx.fail("unsupported coordinate_transformation_mode '", m, "'");
    }
    KERNEL_CHECK(ctx, std::isfinite(x) && std::fabs(x) < 1e15, "invalid resize coordinate (scale ", scale, ")");
    const double f = std::floor(x), r = x - f;
    const int64_t fi = int64_t(f);
    auto clampi = [&](int64_t i) { return std::clamp<int64_t>(i, 0, in - 1); };
    int64_t* idx = t.index.data() + o * t.k;
    double* w = t.weight.data() + o * t.k;
    if (opt.mode == "nearest") {
      int64_t n;
      const std::string& nm = opt.nearest_mode;
      if (nm == "round_prefer_floor")
        n = r <= 0.5 ? fi : fi + 1;
      else if (nm == "round_prefer_ceil")
        n = r < 0.5 ? fi : fi + 1;
      else if (nm == "floor")
        n = fi;
      else if (nm == "ceil")
        n = int64_t(std::ceil(x));
      else if (nm == "simple")
        n = scale < 1 ? int64_t(std::ceil(x)) : int64_t(x);
      else
        ctx.fail("unsupported nearest_mode '", nm, "'");
      idx[0] = clampi(n);
      w[0] = 1.0;
      if (idx[0] != o) identity = false;
    } else if (opt.mode == "linear") {
      idx[0] = clampi(fi);
      idx[1] = clampi(fi + 1);
      w[0] = 1 - r;
      w[1] = r;
      if (!(idx[0] == o && r == 0)) identity = false;
    } else {
      const double a = opt.cubic_a;
      const double t1 = r + 1, t2 = 1 - r, t3 = 2 - r;
      w[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
      w[1] = ((a + 2) * r - (a + 3)) * r * r + 1;
      w[2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;
      w[3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;
      double sum = 0;
      for (int64_t j = 0; j < 4; ++j) {
        const int64_t src = fi - 1 + j;
        if (opt.exclude_outside && (src < 0 || src >= in)) w[j] = 0;
        sum += w[j];
        idx[j] = clampi(src);
      }
      if (opt.exclude_outside && sum != 0)
        for (int64_t j = 0; j < 4; ++j) w[j] /= sum;
      if (!(fi == o && r == 0)) identity = false;
    }
  }
  t.identity = identity;
  return t;
}

// One separable pass over axis `d` of `cur` (shape `shape`), writing `next`.
template <typename V>
void resize_axis(const std::vector<V>& cur, const Shape& shape, size_t d, const AxisTaps& taps, int64_t out,
                 V extrapolation, std::vector<V>& next) {
  int64_t outer = 1, inner = 1;
  for (size_t i = 0; i < d; ++i) outer *= shape[i];
  for (size_t i = d + 1; i < shape.size(); ++i) inner *= shape[i];
  const int64_t in = shape[d];
  next.assign(static_cast<size_t>(outer * out * inner), V{});
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t o = 0; o < out; ++o) {
      V* dst = next.data() + (a * out + o) * inner;
      if (taps.extrapolate[size_t(o)]) {
        std::fill(dst, dst + inner, extrapolation);
        continue;
      }
      if constexpr (std::is_same_v<V, double>) {
        for (int64_t j = 0; j < taps.k; ++j) {
          const double w = taps.weight[size_t(o * taps.k + j)];
          if (w == 0) continue;
          const V* src = cur.data() + (a * in + taps.index[size_t(o * taps.k + j)]) * inner;
          for (int64_t i = 0; i < inner; ++i) dst[i] += w * src[i];
        }
      } else {
        const V* src = cur.data() + (a * in + taps.index[size_t(o * taps.k)]) * inner;
        std::copy(src, src + inner, dst);
      }
    }
}

// Resizes x to out_shape with per-axis scales and roi ([starts..., ends...] or empty).
void resize_tensor(KernelContext& ctx, const Tensor& x_in, const Shape& out_shape, const std::vector<double>& scales,
                   const std::vector<double>& roi, const ResizeOptions& opt) {
  const DType orig = x_in.dtype();
  const size_t rank = size_t(x_in.rank());
  std::vector<AxisTaps> taps;
  for (size_t d = 0; d < rank; ++d) {
    const double s = scales[d];
    KERNEL_CHECK(ctx, s > 0 || out_shape[d] == 0, "scale for axis ", d, " must be positive, got ", s);
    const double r0 = roi.empty() ? 0.0 : roi[d], r1 = roi.empty() ? 1.0 : roi[rank + d];
    taps.push_back(make_taps(ctx, opt, x_in.shape()[d], out_shape[d], s, r0, r1));
  }
  if (opt.mode == "nearest" && !ref::is_half(orig)) {
    // bool is stored as one byte: resize its bytes as uint8.
    const DType storage = orig == DType::Bool ? DType::UInt8 : orig;
    ref::dispatch_numeric(ctx, storage, [&](auto tag) {
      using T = typename decltype(tag)::type;
      const T* xp = static_cast<const T*>(x_in.raw());
      std::vector<T> cur(xp, xp + x_in.numel()), next;
      Shape shape = x_in.shape();
      const T extrap = orig == DType::Bool ? T(opt.extrapolation != 0) : static_cast<T>(opt.extrapolation);
      for (size_t d = 0; d < rank; ++d) {
        if (taps[d].identity) continue;
        resize_axis<T>(cur, shape, d, taps[d], out_shape[d], extrap, next);
        shape[d] = out_shape[d];
        cur.swap(next);
      }
      Tensor out(orig, out_shape);
      std::copy(cur.begin(), cur.end(), static_cast<T*>(out.raw()));
      ctx.set_output(0, out);
    });
    return;
  }
  KERNEL_CHECK(ctx, orig != DType::Bool, "mode '", opt.mode, "' does not support bool tensors");
  const Tensor xd = cast_tensor(x_in, DType::Float64);
  std::vector<double> cur(xd.data<double>(), xd.data<double>() + xd.numel()), next;
  Shape shape = x_in.shape();
  for (size_t d = 0; d < rank; ++d) {
    if (taps[d].identity) continue;
    resize_axis<double>(cur, shape, d, taps[d], out_shape[d], opt.extrapolation, next);
    shape[d] = out_shape[d];
    cur.swap(next);
  }
  Tensor out(DType::Float64, out_shape);
  const bool integer = dtype_is_int(orig);
  for (size_t i = 0; i < cur.size(); ++i) out.data<double>()[i] = integer ? std::nearbyint(cur[i]) : cur[i];
  ctx.set_output(0, cast_tensor(out, orig));
}

// Output shape from scales (floor(in * scale)).
Shape scaled_shape(const KernelContext& ctx, const Shape& in, const std::vector<double>& scales) {
  KERNEL_CHECK(ctx, scales.size() == in.size(), "scales must have one value per input axis (", in.size(), "), got ",
               scales.size());
  Shape out(in.size());
  for (size_t d = 0; d < in.size(); ++d) {
    KERNEL_CHECK(ctx, scales[d] > 0 && std::isfinite(scales[d]), "scale for axis ", d, " must be positive, got ",
                 scales[d]);
    const double v = std::floor(double(in[d]) * scales[d]);
    KERNEL_CHECK(ctx, v < 1e12, "scale ", scales[d], " for axis ", d, " gives a too large output");
    out[d] = int64_t(v);
  }
  return out;
}

std::vector<double> doubles_of(const Tensor& t) {
  std::vector<double> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = double(float(t.as_double(i)));
  return v;
}

}  // namespace

void kernel_resize(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const size_t rank = size_t(x.rank());
  ResizeOptions opt;
  opt.mode = ctx.attr_string("mode", "nearest");
  KERNEL_CHECK(ctx, opt.mode == "nearest" || opt.mode == "linear" || (opt.mode == "cubic" && ctx.opset() >= 11),
               "mode must be nearest, linear or cubic, got '", opt.mode, "'");
  KERNEL_CHECK(ctx, ctx.attr_int("antialias", 0) == 0, "antialias is not supported");
  KERNEL_CHECK(ctx, !ctx.has_attr("axes"), "the axes attribute is not supported");
  std::vector<double> scales, roi;
  Shape out_shape;
  if (ctx.opset() < 11) {
    opt.ctm = "asymmetric";
    opt.nearest_mode = "simple";
    scales = doubles_of(ctx.input(1));
    out_shape = scaled_shape(ctx, x.shape(), scales);
  } else {
    opt.ctm = ctx.attr_string("coordinate_transformation_mode", "half_pixel");
    opt.nearest_mode = ctx.attr_string("nearest_mode", "round_prefer_floor");
    opt.cubic_a = ctx.attr_float("cubic_coeff_a", -0.75f);
    opt.exclude_outside = ctx.attr_int("exclude_outside", 0) != 0;
    opt.extrapolation = ctx.attr_float("extrapolation_value", 0.0f);
    const bool has_scales = ctx.has_input(2) && ctx.input(2).numel() > 0;
    const bool has_sizes = ctx.has_input(3) && ctx.input(3).numel() > 0;
    KERNEL_CHECK(ctx, has_scales != has_sizes, "exactly one of scales and sizes must be given");
    if (has_scales) {
      scales = doubles_of(ctx.input(2));
      out_shape = scaled_shape(ctx, x.shape(), scales);
    } else {
      out_shape = ctx.input(3).to_int64_vector();
      KERNEL_CHECK(ctx, out_shape.size() == rank, "sizes must have one value per input axis (", rank, "), got ",
                   out_shape.size());
      scales.resize(rank);
      for (size_t d = 0; d < rank; ++d) {
        KERNEL_CHECK(ctx, out_shape[d] >= 0, "sizes must be non-negative, got ", out_shape[d]);
        scales[d] = x.shape()[d] > 0 ? double(out_shape[d]) / double(x.shape()[d]) : 1.0;
      }
    }
    if (opt.ctm == "tf_crop_and_resize") {
      KERNEL_CHECK(ctx, ctx.has_input(1) && ctx.input(1).numel() == int64_t(2 * rank),
                   "tf_crop_and_resize needs roi with ", 2 * rank, " values");
      const Tensor& r = ctx.input(1);
      for (int64_t i = 0; i < r.numel(); ++i) roi.push_back(r.as_double(i));
    }
  }
  resize_tensor(ctx, x, out_shape, scales, roi, opt);
}

void kernel_upsample(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  ResizeOptions opt;
  opt.mode = ctx.attr_string("mode", "nearest");
  if (opt.mode == "bilinear") opt.mode = "linear";
  KERNEL_CHECK(ctx, opt.mode == "nearest" || opt.mode == "linear", "mode must be nearest or linear, got '", opt.mode,
               "'");
  opt.ctm = "asymmetric";
  opt.nearest_mode = "simple";
  std::vector<double> scales;
  if (ctx.opset() >= 9) {
    scales = doubles_of(ctx.input(1));
  } else if (ctx.opset() >= 7) {
    for (float s : ctx.attr_floats("scales")) scales.push_back(s);
  } else {
    KERNEL_CHECK(ctx, x.rank() == 4, "Upsample-1 needs a 4-D input, got shape ", shape_str(x.shape()));
    scales = {1.0, 1.0, ctx.attr_float("height_scale", 1.0f), ctx.attr_float("width_scale", 1.0f)};
  }
  for (double s : scales) KERNEL_CHECK(ctx, s >= 1, "Upsample scales must be >= 1, got ", s);
  const Shape out_shape = scaled_shape(ctx, x.shape(), scales);
  resize_tensor(ctx, x, out_shape, scales, {}, opt);
}

}  // namespace pith
