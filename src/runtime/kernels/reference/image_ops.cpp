// Image and geometry kernels: Pad (constant / reflect / edge / wrap, negative pads crop),
// DepthToSpace, SpaceToDepth, GridSample, RoiAlign and NonMaxSuppression.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

using ref::demote;
using ref::dispatch_all;
using ref::promote;

// Converts a float attribute value to the storage type T of dtype `dt` (half types are raw bits).
template <typename T>
T value_as(float v, DType dt) {
  if constexpr (std::is_same_v<T, bool>) {
    return v != 0.0f;
  } else if constexpr (std::is_same_v<T, uint16_t>) {
    if (dt == DType::Float16) return float_to_half(v);
    if (dt == DType::BFloat16) return float_to_bfloat16(v);
    return static_cast<T>(v);
  } else {
    return static_cast<T>(v);
  }
}

int64_t positive_mod(int64_t a, int64_t m) {
  const int64_t r = a % m;
  return r < 0 ? r + m : r;
}

}  // namespace

// Pad: pads from the `paddings` (opset 1) / `pads` (opsets 2-10) attribute or the pads
// input (opset 11+, with optional constant_value and axes inputs).
void kernel_pad(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t rank = x.rank();
  const std::string mode = ctx.attr_string("mode", "constant");
  KERNEL_CHECK(ctx, mode == "constant" || mode == "reflect" || mode == "edge" || mode == "wrap",
               "mode must be constant, reflect, edge or wrap, got '", mode, "'");
  Shape pads;
  if (ctx.opset() >= 11) {
    const Tensor& p = ctx.input(1);
    KERNEL_CHECK(ctx, dtype_is_int(p.dtype()) && p.rank() <= 1, "pads must be a 1-D int64 tensor, got ",
                 dtype_name(p.dtype()), " ", shape_str(p.shape()));
    pads = p.to_int64_vector();
  } else {
    pads = ctx.attr_ints(ctx.opset() < 2 ? "paddings" : "pads");
  }
  // Axes (opset 18): pads name only these axes.
  Shape axes(static_cast<size_t>(rank));
  std::iota(axes.begin(), axes.end(), 0);
  if (ctx.opset() >= 11 && ctx.has_input(3)) {
    axes = ctx.input(3).to_int64_vector();
    for (auto& a : axes) {
      KERNEL_CHECK(ctx, a >= -rank && a < rank, "axis ", a, " is out of range for rank ", rank);
      if (a < 0) a += rank;
    }
  }
  const int64_t na = int64_t(axes.size());
  KERNEL_CHECK(ctx, int64_t(pads.size()) == 2 * na, "pads must have ", 2 * na,
               " values (begin and end for each axis), got ", pads.size());
  for (int64_t p : pads)
    KERNEL_CHECK(ctx, p > -(int64_t(1) << 40) && p < (int64_t(1) << 40), "pad value ", p, " is out of range");
  Shape begin(static_cast<size_t>(rank), 0), end(static_cast<size_t>(rank), 0);
  for (int64_t i = 0; i < na; ++i) {
    begin[size_t(axes[size_t(i)])] = pads[size_t(i)];
    end[size_t(axes[size_t(i)])] = pads[size_t(i + na)];
  }
  Shape out_shape(static_cast<size_t>(rank));
  // For each axis, the source index of every output position (-1: the constant).
  std::vector<Shape> maps(static_cast<size_t>(rank));
  for (int64_t d = 0; d < rank; ++d) {
    const int64_t n = x.shape()[size_t(d)];
    const int64_t o = n + begin[size_t(d)] + end[size_t(d)];
    KERNEL_CHECK(ctx, o >= 0, "pads ", begin[size_t(d)], " and ", end[size_t(d)], " crop more than axis ", d,
                 " of size ", n, " holds");
    out_shape[size_t(d)] = o;
    auto& m = maps[size_t(d)];
    m.resize(size_t(o));
    for (int64_t i = 0; i < o; ++i) {
      int64_t s = i - begin[size_t(d)];
      if (s < 0 || s >= n) {
        if (mode == "constant") {
          s = -1;
        } else {
          KERNEL_CHECK(ctx, n > 0, "cannot pad the empty axis ", d, " in ", mode, " mode");
          if (mode == "edge") {
            s = std::clamp<int64_t>(s, 0, n - 1);
          } else if (mode == "wrap") {
            s = positive_mod(s, n);
          } else {  // reflect
            if (n == 1) {
              s = 0;
            } else {
              const int64_t period = 2 * (n - 1);
              s = positive_mod(s, period);
              if (s >= n) s = period - s;
            }
          }
        }
      }
      m[size_t(i)] = s;
    }
  }
  dispatch_all(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T cv = value_as<T>(0.0f, x.dtype());
    if (ctx.opset() >= 11) {
      if (ctx.has_input(2) && ctx.input(2).numel() > 0) {
        const Tensor& c = ctx.input(2);
        KERNEL_CHECK(ctx, c.dtype() == x.dtype(), "constant_value must have the element type of data (",
                     dtype_name(x.dtype()), "), got ", dtype_name(c.dtype()));
        cv = c.data<T>()[0];
      }
    } else {
      cv = value_as<T>(ctx.attr_float("value", 0.0f), x.dtype());
    }
    Tensor out(x.dtype(), out_shape);
    const int64_t total = out.numel();
    if (total == 0) {
      ctx.set_output(0, out);
      return;
    }
    T* op = out.data<T>();
    const T* ip = x.data<T>();
    if (rank == 0) {
      op[0] = ip[0];
      ctx.set_output(0, out);
      return;
    }
    const auto in_strides = shape_strides(x.shape());
    const int64_t inner = out_shape[size_t(rank - 1)];
    const auto& last = maps[size_t(rank - 1)];
    Shape idx(static_cast<size_t>(rank), 0);
    for (int64_t base = 0; base < total; base += inner) {
      bool constant_row = false;
      int64_t off = 0;
      for (int64_t d = 0; d + 1 < rank; ++d) {
        const int64_t s = maps[size_t(d)][size_t(idx[size_t(d)])];
        if (s < 0) constant_row = true;
        off += s * in_strides[size_t(d)];
      }
      T* row = op + base;
      if (constant_row) {
        std::fill(row, row + inner, cv);
      } else {
        for (int64_t j = 0; j < inner; ++j) {
          const int64_t s = last[size_t(j)];
          row[j] = s < 0 ? cv : ip[off + s];
        }
      }
      for (int64_t d = rank - 1; d-- > 0;) {
        if (++idx[size_t(d)] < out_shape[size_t(d)]) break;
        idx[size_t(d)] = 0;
      }
    }
    ctx.set_output(0, out);
  });
}

namespace {

// DepthToSpace (to_space = true) and SpaceToDepth on NCHW tensors.
void space_depth(KernelContext& ctx, bool to_space) {
  const Tensor& x = ctx.input(0);
  KERNEL_CHECK(ctx, x.rank() == 4, "input must be 4-D (N, C, H, W), got shape ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, ctx.has_attr("blocksize"), "attribute 'blocksize' is required");
  const int64_t bs = ctx.attr_int("blocksize", 1);
  KERNEL_CHECK(ctx, bs >= 1 && bs <= (1 << 20), "blocksize must be in [1, 2^20], got ", bs);
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const std::string mode = to_space ? ctx.attr_string("mode", "DCR") : "DCR";
  KERNEL_CHECK(ctx, mode == "DCR" || mode == "CRD", "mode must be DCR or CRD, got '", mode, "'");
  const bool crd = mode == "CRD";
  Shape out_shape;
  if (to_space) {
    KERNEL_CHECK(ctx, c % (bs * bs) == 0, "channels (", c, ") must be divisible by blocksize^2 (", bs * bs, ")");
    out_shape = {n, c / (bs * bs), h * bs, w * bs};
  } else {
    KERNEL_CHECK(ctx, h % bs == 0 && w % bs == 0, "height and width (", h, ", ", w, ") must be divisible by blocksize ",
                 bs);
    out_shape = {n, c * bs * bs, h / bs, w / bs};
  }
  dispatch_all(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor out(x.dtype(), out_shape);
    const T* ip = x.data<T>();
    T* op = out.data<T>();
    // Iterate over the depth-side tensor [N, C', H', W'] with its block (i, j).
    const int64_t dc = to_space ? c : out_shape[1];  // depth-side channels
    const int64_t sc = dc / (bs * bs);               // space-side channels
    const int64_t dh = to_space ? h : out_shape[2], dw = to_space ? w : out_shape[3];
    const int64_t sh = dh * bs, sw = dw * bs;
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < sc; ++ch)
        for (int64_t i = 0; i < bs; ++i)
          for (int64_t j = 0; j < bs; ++j) {
            const int64_t depth_ch = crd ? (ch * bs + i) * bs + j : (i * bs + j) * sc + ch;
            for (int64_t y = 0; y < dh; ++y) {
              const int64_t doff = ((b * dc + depth_ch) * dh + y) * dw;
              const int64_t soff = ((b * sc + ch) * sh + y * bs + i) * sw + j;
              if (to_space) {
                for (int64_t xx = 0; xx < dw; ++xx) op[soff + xx * bs] = ip[doff + xx];
              } else {
                for (int64_t xx = 0; xx < dw; ++xx) op[doff + xx] = ip[soff + xx * bs];
              }
            }
          }
    ctx.set_output(0, out);
  });
}

}  // namespace

void kernel_depthtospace(KernelContext& ctx) { space_depth(ctx, true); }
void kernel_spacetodepth(KernelContext& ctx) { space_depth(ctx, false); }

namespace {

// Reflects x into [lo, hi] (GridSample reflection padding).
double reflect_coord(double x, double lo, double hi) {
  const double range = hi - lo;
  if (range <= 0) return lo;
  if (x < lo) {
    const double dx = lo - x;
    const int64_t k = int64_t(dx / range);
    const double r = dx - double(k) * range;
    return k % 2 == 0 ? lo + r : hi - r;
  }
  if (x > hi) {
    const double dx = x - hi;
    const int64_t k = int64_t(dx / range);
    const double r = dx - double(k) * range;
    return k % 2 == 0 ? hi - r : lo + r;
  }
  return x;
}

void cubic_coeffs(double t, double a, double c[4]) {
  const double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
  c[0] = ((a * t1 - 5 * a) * t1 + 8 * a) * t1 - 4 * a;
  c[1] = ((a + 2) * t - (a + 3)) * t * t + 1;
  c[2] = ((a + 2) * t2 - (a + 3)) * t2 * t2 + 1;
  c[3] = ((a * t3 - 5 * a) * t3 + 8 * a) * t3 - 4 * a;
}

}  // namespace

// GridSample (opset 16): samples X [N, C, H, W] at grid [N, Ho, Wo, 2] (x, y in [-1, 1]).
void kernel_gridsample(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "X must be floating-point, got ", dtype_name(orig));
  const Tensor x = cast_tensor(ctx.input(0), DType::Float64);
  const Tensor grid = cast_tensor(ctx.input(1), DType::Float64);
  KERNEL_CHECK(ctx, x.rank() == 4, "X must be 4-D (N, C, H, W), got shape ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, grid.rank() == 4 && grid.dim(3) == 2 && grid.dim(0) == x.dim(0),
               "grid must have shape [N, H_out, W_out, 2] with N = ", x.dim(0), ", got ", shape_str(grid.shape()));
  const std::string mode = ctx.attr_string("mode", "bilinear");
  const std::string padding = ctx.attr_string("padding_mode", "zeros");
  KERNEL_CHECK(ctx, mode == "bilinear" || mode == "nearest" || mode == "bicubic",
               "mode must be bilinear, nearest or bicubic, got '", mode, "'");
  KERNEL_CHECK(ctx, padding == "zeros" || padding == "border" || padding == "reflection",
               "padding_mode must be zeros, border or reflection, got '", padding, "'");
  const bool align = ctx.attr_int("align_corners", 0) != 0;
  const int pad_mode = padding == "zeros" ? 0 : padding == "border" ? 1 : 2;
  const int interp = mode == "nearest" ? 0 : mode == "bilinear" ? 1 : 2;
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3);
  const int64_t ho = grid.dim(1), wo = grid.dim(2);
  Tensor out(DType::Float64, {n, c, ho, wo});
  const double* xp = x.data<double>();
  const double* gp = grid.data<double>();
  double* op = out.data<double>();
  const double xmin = align ? 0.0 : -0.5, xmax = align ? double(w) - 1 : double(w) - 0.5;
  const double ymin = align ? 0.0 : -0.5, ymax = align ? double(h) - 1 : double(h) - 0.5;
  auto unnormalize = [&](double v, int64_t size) {
    return align ? (v + 1) / 2 * double(size - 1) : ((v + 1) * double(size) - 1) / 2;
  };
  for (int64_t b = 0; b < n; ++b)
    for (int64_t ch = 0; ch < c; ++ch) {
      const double* img = xp + (b * c + ch) * h * w;
      // Pixel at integer position (yy, xx) with the padding rule.
      auto pixel = [&](int64_t yy, int64_t xx) -> double {
        if (h == 0 || w == 0) return 0.0;
        if (pad_mode == 0) {
          if (yy < 0 || yy >= h || xx < 0 || xx >= w) return 0.0;
        } else if (pad_mode == 1) {
          yy = std::clamp<int64_t>(yy, 0, h - 1);
          xx = std::clamp<int64_t>(xx, 0, w - 1);
        } else {
          xx = int64_t(reflect_coord(double(xx), xmin, xmax));
          yy = int64_t(reflect_coord(double(yy), ymin, ymax));
          yy = std::clamp<int64_t>(yy, 0, h - 1);
          xx = std::clamp<int64_t>(xx, 0, w - 1);
        }
        return img[yy * w + xx];
      };
      for (int64_t i = 0; i < ho; ++i)
        for (int64_t j = 0; j < wo; ++j) {
          const double* g = gp + ((b * ho + i) * wo + j) * 2;
          double fx = unnormalize(g[0], w), fy = unnormalize(g[1], h);
          double* dst = op + ((b * c + ch) * ho + i) * wo + j;
          if (!std::isfinite(fx) || !std::isfinite(fy) || std::fabs(fx) > 1e15 || std::fabs(fy) > 1e15) {
            *dst = 0.0;  // far outside (or NaN): no pixel contributes
            continue;
          }
          if (interp == 0) {
            fx = std::nearbyint(fx);
            fy = std::nearbyint(fy);
          }
          if (fx < xmin || fx > xmax || fy < ymin || fy > ymax) {
            if (pad_mode == 1) {
              fx = std::clamp(fx, 0.0, std::max(0.0, double(w) - 1));
              fy = std::clamp(fy, 0.0, std::max(0.0, double(h) - 1));
            } else if (pad_mode == 2) {
              fx = reflect_coord(fx, xmin, xmax);
              fy = reflect_coord(fy, ymin, ymax);
            }
          }
          double v;
          if (interp == 0) {
            v = pixel(int64_t(std::nearbyint(fy)), int64_t(std::nearbyint(fx)));
          } else if (interp == 1) {
            const int64_t x1 = int64_t(std::floor(fx)), y1 = int64_t(std::floor(fy));
            const double dx = fx - double(x1), dy = fy - double(y1);
            v = (1 - dy) * ((1 - dx) * pixel(y1, x1) + dx * pixel(y1, x1 + 1)) +
                dy * ((1 - dx) * pixel(y1 + 1, x1) + dx * pixel(y1 + 1, x1 + 1));
          } else {
            const int64_t x0 = int64_t(std::floor(fx)) - 1, y0 = int64_t(std::floor(fy)) - 1;
            double cx[4], cy[4];
            cubic_coeffs(fx - double(x0) - 1, -0.75, cx);
            cubic_coeffs(fy - double(y0) - 1, -0.75, cy);
            v = 0;
            for (int64_t a = 0; a < 4; ++a) {
              double row = 0;
              for (int64_t k = 0; k < 4; ++k) row += cx[k] * pixel(y0 + a, x0 + k);
              v += cy[a] * row;
            }
          }
          *dst = v;
        }
    }
  ctx.set_output(0, cast_tensor(out, orig));
}

// RoiAlign (opsets 10 and 16): average or max pooling of bilinear samples in each bin.
void kernel_roialign(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "X must be floating-point, got ", dtype_name(orig));
  const Tensor x = cast_tensor(ctx.input(0), DType::Float64);
  const Tensor rois = cast_tensor(ctx.input(1), DType::Float64);
  const Tensor& bidx = ctx.input(2);
  KERNEL_CHECK(ctx, x.rank() == 4, "X must be 4-D (N, C, H, W), got shape ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, rois.rank() == 2 && rois.dim(1) == 4, "rois must have shape [num_rois, 4], got ",
               shape_str(rois.shape()));
  KERNEL_CHECK(ctx, bidx.rank() == 1 && bidx.dim(0) == rois.dim(0), "batch_indices must have shape [", rois.dim(0),
               "], got ", shape_str(bidx.shape()));
  const std::string mode = ctx.attr_string("mode", "avg");
  KERNEL_CHECK(ctx, mode == "avg" || mode == "max", "mode must be avg or max, got '", mode, "'");
  const bool avg = mode == "avg";
  const int64_t oh = ctx.attr_int("output_height", 1), ow = ctx.attr_int("output_width", 1);
  const int64_t sampling = ctx.attr_int("sampling_ratio", 0);
  KERNEL_CHECK(ctx, oh > 0 && ow > 0, "output_height and output_width must be positive");
  KERNEL_CHECK(ctx, sampling >= 0, "sampling_ratio must be >= 0, got ", sampling);
  const double scale = ctx.attr_float("spatial_scale", 1.0f);
  const std::string ctm =
      ctx.opset() >= 16 ? ctx.attr_string("coordinate_transformation_mode", "half_pixel") : "output_half_pixel";
  KERNEL_CHECK(ctx, ctm == "half_pixel" || ctm == "output_half_pixel",
               "coordinate_transformation_mode must be half_pixel or output_half_pixel, got '", ctm, "'");
  const bool half_pixel = ctm == "half_pixel";
  const int64_t n = x.dim(0), c = x.dim(1), h = x.dim(2), w = x.dim(3), nr = rois.dim(0);
  Tensor out(DType::Float64, {nr, c, oh, ow});
  const double* xp = x.data<double>();
  const double* rp = rois.data<double>();
  double* op = out.data<double>();
  struct Sample {
    int64_t o1, o2, o3, o4;
    double w1, w2, w3, w4;
  };
  std::vector<Sample> samples;
  for (int64_t r = 0; r < nr; ++r) {
    const int64_t b = bidx.as_int64(r);
    KERNEL_CHECK(ctx, b >= 0 && b < n, "batch index ", b, " of roi ", r, " is outside [0, ", n, ")");
    const double off = half_pixel ? 0.5 : 0.0;
    const double x1 = rp[r * 4] * scale - off, y1 = rp[r * 4 + 1] * scale - off;
    const double x2 = rp[r * 4 + 2] * scale - off, y2 = rp[r * 4 + 3] * scale - off;
    double rw = x2 - x1, rh = y2 - y1;
    if (!half_pixel) {
      rw = std::max(rw, 1.0);
      rh = std::max(rh, 1.0);
    }
    KERNEL_CHECK(ctx,
                 std::isfinite(x1) && std::isfinite(y1) && std::isfinite(rw) && std::isfinite(rh) &&
                     std::fabs(rw) < 1e9 && std::fabs(rh) < 1e9,
                 "roi ", r, " has invalid coordinates");
    const double bin_h = rh / double(oh), bin_w = rw / double(ow);
    const int64_t gh = sampling > 0 ? sampling : int64_t(std::ceil(rh / double(oh)));
    const int64_t gw = sampling > 0 ? sampling : int64_t(std::ceil(rw / double(ow)));
    KERNEL_CHECK(ctx, gh >= 0 && gw >= 0 && gh < (1 << 16) && gw < (1 << 16), "roi ", r, " is too large or invalid");
    const double count = double(std::max<int64_t>(gh * gw, 1));
    for (int64_t ph = 0; ph < oh; ++ph)
      for (int64_t pw = 0; pw < ow; ++pw) {
        // Sampling points and bilinear weights of this bin, shared by all channels.
        samples.clear();
        for (int64_t iy = 0; iy < gh; ++iy) {
          double yy = y1 + double(ph) * bin_h + (double(iy) + 0.5) * bin_h / double(gh);
          for (int64_t ix = 0; ix < gw; ++ix) {
            double xx = x1 + double(pw) * bin_w + (double(ix) + 0.5) * bin_w / double(gw);
            if (yy < -1.0 || yy > double(h) || xx < -1.0 || xx > double(w) || h == 0 || w == 0) {
              samples.push_back({0, 0, 0, 0, 0, 0, 0, 0});
              continue;
            }
            double sy = std::max(yy, 0.0), sx = std::max(xx, 0.0);
            int64_t ylo = int64_t(sy), xlo = int64_t(sx), yhi, xhi;
            if (ylo >= h - 1) {
              yhi = ylo = h - 1;
              sy = double(ylo);
            } else {
              yhi = ylo + 1;
            }
            if (xlo >= w - 1) {
              xhi = xlo = w - 1;
              sx = double(xlo);
            } else {
              xhi = xlo + 1;
            }
            const double ly = sy - double(ylo), lx = sx - double(xlo), hy = 1 - ly, hx = 1 - lx;
            samples.push_back(
                {ylo * w + xlo, ylo * w + xhi, yhi * w + xlo, yhi * w + xhi, hy * hx, hy * lx, ly * hx, ly * lx});
          }
        }
        for (int64_t ch = 0; ch < c; ++ch) {
          const double* img = xp + (b * c + ch) * h * w;
          double acc = 0;
          bool first = true;
          for (const auto& s : samples) {
            if (avg) {
              if (s.w1 == 0 && s.w2 == 0 && s.w3 == 0 && s.w4 == 0) continue;
              acc += s.w1 * img[s.o1] + s.w2 * img[s.o2] + s.w3 * img[s.o3] + s.w4 * img[s.o4];
            } else {
              double m = 0;
              if (!(s.w1 == 0 && s.w2 == 0 && s.w3 == 0 && s.w4 == 0))
                m = std::max(std::max(s.w1 * img[s.o1], s.w2 * img[s.o2]),
                             std::max(s.w3 * img[s.o3], s.w4 * img[s.o4]));
              acc = first ? m : std::max(acc, m);
              first = false;
            }
          }
          op[((r * c + ch) * oh + ph) * ow + pw] = avg ? acc / count : acc;
        }
      }
  }
  ctx.set_output(0, cast_tensor(out, orig));
}

// NonMaxSuppression (opsets 10/11): greedy per-class selection by score and IoU.
void kernel_nonmaxsuppression(KernelContext& ctx) {
  const Tensor boxes = cast_tensor(ctx.input(0), DType::Float64);
  const Tensor scores = cast_tensor(ctx.input(1), DType::Float64);
  KERNEL_CHECK(ctx, boxes.rank() == 3 && boxes.dim(2) == 4, "boxes must have shape [batches, boxes, 4], got ",
               shape_str(boxes.shape()));
  KERNEL_CHECK(ctx, scores.rank() == 3 && scores.dim(0) == boxes.dim(0) && scores.dim(2) == boxes.dim(1),
               "scores must have shape [", boxes.dim(0), ", classes, ", boxes.dim(1), "], got ",
               shape_str(scores.shape()));
  int64_t max_out = 0;
  if (ctx.has_input(2) && ctx.input(2).numel() > 0) max_out = ctx.input(2).as_int64(0);
  double iou_threshold = 0;
  if (ctx.has_input(3) && ctx.input(3).numel() > 0) iou_threshold = ctx.input(3).as_double(0);
  const bool has_score_threshold = ctx.has_input(4) && ctx.input(4).numel() > 0;
  const double score_threshold = has_score_threshold ? ctx.input(4).as_double(0) : 0.0;
  KERNEL_CHECK(ctx, iou_threshold >= 0 && iou_threshold <= 1, "iou_threshold must be in [0, 1], got ", iou_threshold);
  const int64_t center = ctx.attr_int("center_point_box", 0);
  KERNEL_CHECK(ctx, center == 0 || center == 1, "center_point_box must be 0 or 1, got ", center);
  const int64_t nb = boxes.dim(0), nbox = boxes.dim(1), nc = scores.dim(1);
  // Boxes as (ymin, xmin, ymax, xmax).
  std::vector<double> corners(static_cast<size_t>(nb * nbox * 4));
  const double* bp = boxes.data<double>();
  for (int64_t i = 0; i < nb * nbox; ++i) {
    const double* v = bp + i * 4;
    double* o = corners.data() + i * 4;
    if (center == 1) {
      o[0] = v[1] - v[3] / 2;
      o[1] = v[0] - v[2] / 2;
      o[2] = v[1] + v[3] / 2;
      o[3] = v[0] + v[2] / 2;
    } else {
      o[0] = std::min(v[0], v[2]);
      o[1] = std::min(v[1], v[3]);
      o[2] = std::max(v[0], v[2]);
      o[3] = std::max(v[1], v[3]);
    }
  }
  auto suppresses = [&](const double* a, const double* b) {
    const double ih = std::min(a[2], b[2]) - std::max(a[0], b[0]);
    const double iw = std::min(a[3], b[3]) - std::max(a[1], b[1]);
    if (ih <= 0 || iw <= 0) return false;
    const double inter = ih * iw;
    const double area_a = (a[2] - a[0]) * (a[3] - a[1]), area_b = (b[2] - b[0]) * (b[3] - b[1]);
    if (area_a <= 0 || area_b <= 0) return false;
    const double uni = area_a + area_b - inter;
    if (uni <= 0) return false;
    return inter / uni > iou_threshold;
  };
  Shape selected;  // triples
  Shape order, picked;
  const double* sp = scores.data<double>();
  for (int64_t b = 0; b < nb; ++b)
    for (int64_t cl = 0; cl < nc; ++cl) {
      if (max_out <= 0) continue;
      const double* s = sp + (b * nc + cl) * nbox;
      order.clear();
      for (int64_t i = 0; i < nbox; ++i)
        if (!std::isnan(s[i]) && (!has_score_threshold || s[i] > score_threshold)) order.push_back(i);
      std::stable_sort(order.begin(), order.end(), [&](int64_t i, int64_t j) { return s[i] > s[j]; });
      picked.clear();
      for (int64_t i : order) {
        if (int64_t(picked.size()) >= max_out) break;
        const double* bi = corners.data() + (b * nbox + i) * 4;
        bool keep = true;
        for (int64_t j : picked)
          if (suppresses(corners.data() + (b * nbox + j) * 4, bi)) {
            keep = false;
            break;
          }
        if (!keep) continue;
        picked.push_back(i);
        selected.insert(selected.end(), {b, cl, i});
      }
    }
  const int64_t count = int64_t(selected.size() / 3);
  Tensor out(DType::Int64, {count, 3});
  std::copy(selected.begin(), selected.end(), out.data<int64_t>());
  ctx.set_output(0, out);
}

}  // namespace pith
