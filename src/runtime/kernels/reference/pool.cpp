// Pooling: MaxPool (optional Indices output, storage_order, ceil_mode, dilations; float
// and int8/uint8), AveragePool (count_include_pad, ceil_mode), LpPool, their Global*
// forms, and MaxUnpool. Windows are computed once per output position over 1-3 spatial
// dims (lower-rank inputs are padded to 3 dims of size 1).
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/spatial.h"

namespace pith {
namespace {

using ref::type_tag;

enum class PoolKind { Max, Avg, Lp };

struct PoolGeom {
  int64_t N = 0, C = 0;
  size_t nd = 0;  // real spatial dims
  int64_t in[3], out[3], k[3], s[3], d[3], pb[3], pe[3];
  int64_t in_size() const { return in[0] * in[1] * in[2]; }
  int64_t out_size() const { return out[0] * out[1] * out[2]; }
};

// Reads the window attributes of a pooling node for input shape xs.
PoolGeom pool_geometry(const KernelContext& ctx, const Shape& xs, bool use_dilations, bool use_ceil) {
  KERNEL_CHECK(ctx, xs.size() >= 3 && xs.size() <= 5,
               "pooling expects an input of rank 3 to 5 (N, C, 1-3 spatial dims), got ", shape_str(xs));
  KERNEL_CHECK(ctx, ctx.has_attr("kernel_shape"), "attribute kernel_shape is required");
  ref::Window w;
  w.kernel = ctx.attr_ints("kernel_shape");
  Shape in(xs.begin() + 2, xs.end());
  const bool ceil_mode = use_ceil && ctx.attr_int("ceil_mode", 0) != 0;
  ref::forward_window(ctx, in, w, use_dilations, ceil_mode);
  PoolGeom g;
  g.N = xs[0];
  g.C = xs[1];
  g.nd = in.size();
  const size_t lead = 3 - g.nd;
  for (size_t i = 0; i < 3; ++i) {
    const bool real = i >= lead;
    const size_t j = i - lead;
    g.in[i] = real ? in[j] : 1;
    g.out[i] = real ? w.out[j] : 1;
    g.k[i] = real ? w.kernel[j] : 1;
    g.s[i] = real ? w.strides[j] : 1;
    g.d[i] = real ? w.dilations[j] : 1;
    g.pb[i] = real ? w.pad_begin[j] : 0;
    g.pe[i] = real ? w.pad_end[j] : 0;
  }
  return g;
}

Shape pool_out_shape(const PoolGeom& g) {
  Shape s{g.N, g.C};
  for (size_t i = 3 - g.nd; i < 3; ++i) s.push_back(g.out[i]);
  return s;
}

// Computes one pooled output per window. For Max, `indices` (may be null) receives the
// flat input index of the max (row-major, or column-major over spatial dims when
// col_major). For Avg, count_include_pad counts taps inside the padded extent.
template <typename T>
void pool_run(const PoolGeom& g, PoolKind kind, const T* x, T* y, int64_t* indices, bool col_major,
              bool count_include_pad, double p) {
  const int64_t I = g.in_size(), O = g.out_size();
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, int64_t>;
  for (int64_t plane = 0; plane < g.N * g.C; ++plane) {
    const T* xp = x + plane * I;
    T* yp = y + plane * O;
    int64_t o = 0;
    for (int64_t o0 = 0; o0 < g.out[0]; ++o0)
      for (int64_t o1 = 0; o1 < g.out[1]; ++o1)
        for (int64_t o2 = 0; o2 < g.out[2]; ++o2, ++o) {
          const int64_t st0 = o0 * g.s[0] - g.pb[0], st1 = o1 * g.s[1] - g.pb[1], st2 = o2 * g.s[2] - g.pb[2];
          T best = std::numeric_limits<T>::lowest();
          int64_t best_idx = -1;
          Acc sum = 0;
          int64_t count = 0, padded_count = 0;
          for (int64_t k0 = 0; k0 < g.k[0]; ++k0) {
            const int64_t p0 = st0 + k0 * g.d[0];
            if (p0 >= g.in[0] + g.pe[0]) break;
            const bool in0 = p0 >= 0 && p0 < g.in[0];
            for (int64_t k1 = 0; k1 < g.k[1]; ++k1) {
              const int64_t p1 = st1 + k1 * g.d[1];
              if (p1 >= g.in[1] + g.pe[1]) break;
              const bool in1 = in0 && p1 >= 0 && p1 < g.in[1];
              for (int64_t k2 = 0; k2 < g.k[2]; ++k2) {
                const int64_t p2 = st2 + k2 * g.d[2];
                if (p2 >= g.in[2] + g.pe[2]) break;
                ++padded_count;
                if (!in1 || p2 < 0 || p2 >= g.in[2]) continue;
                const int64_t off = (p0 * g.in[1] + p1) * g.in[2] + p2;
                const T v = xp[off];
                ++count;
                if (kind == PoolKind::Max) {
                  if (best_idx < 0 || v > best) {
                    best = v;
                    best_idx = col_major ? p0 + p1 * g.in[0] + p2 * g.in[0] * g.in[1] : off;
                  }
                } else if (kind == PoolKind::Avg) {
                  sum += Acc(v);
                } else {
                  sum += Acc(std::pow(std::fabs(double(v)), p));
                }
              }
            }
          }
          if (kind == PoolKind::Max) {
            yp[o] = best;
            if (indices) indices[plane * O + o] = best_idx < 0 ? -1 : plane * I + best_idx;
          } else if (kind == PoolKind::Avg) {
            const int64_t div = count_include_pad ? padded_count : count;
            yp[o] = div > 0 ? T(double(sum) / double(div)) : T(0);
          } else {
            yp[o] = T(std::pow(double(sum), 1.0 / p));
          }
        }
  }
}

template <typename F>
void dispatch_pool_types(const KernelContext& ctx, DType t, bool allow_int8, F&& f) {
  switch (t) {
    case DType::Float32:
      f(type_tag<float>{});
      break;
    case DType::Float64:
      f(type_tag<double>{});
      break;
    case DType::Int8:
      if (allow_int8) {
        f(type_tag<int8_t>{});
        break;
      }
      [[fallthrough]];
    case DType::UInt8:
      if (allow_int8 && t == DType::UInt8) {
        f(type_tag<uint8_t>{});
        break;
      }
      [[fallthrough]];
    default:
      ctx.fail("unsupported element type ", dtype_name(t));
  }
}

double lp_order(const KernelContext& ctx) {
  const double p = ctx.attr_float("p", 2.0f);
  KERNEL_CHECK(ctx, p > 0, "attribute p must be > 0, got ", p);
  return p;
}

// Shared body of the windowed pools.
void run_windowed(KernelContext& ctx, PoolKind kind) {
  const DType orig = ctx.input(0).dtype();
  Tensor x = ref::promote(ctx.input(0));
  const bool is_max = kind == PoolKind::Max;
  const bool dil = is_max || ctx.opset() >= 18 || ctx.has_attr("dilations");
  PoolGeom g = pool_geometry(ctx, x.shape(), dil, true);
  Tensor y(x.dtype(), pool_out_shape(g));
  int64_t* idx = nullptr;
  if (is_max && ctx.num_outputs() > 1 && ctx.wants_output(1)) {
    idx = ctx.allocate_output(1, DType::Int64, y.shape()).data<int64_t>();
  }
  const int64_t storage_order = ctx.attr_int("storage_order", 0);
  KERNEL_CHECK(ctx, storage_order == 0 || storage_order == 1, "storage_order must be 0 or 1, got ", storage_order);
  const bool cip = ctx.attr_int("count_include_pad", 0) != 0;
  const double p = kind == PoolKind::Lp ? lp_order(ctx) : 2.0;
  dispatch_pool_types(ctx, x.dtype(), is_max, [&](auto tag) {
    using T = typename decltype(tag)::type;
    pool_run<T>(g, kind, x.data<T>(), y.data<T>(), idx, storage_order == 1, cip, p);
  });
  ctx.set_output(0, ref::demote(y, orig));
}

// Global pools reduce every spatial position of each (n, c) plane.
void run_global(KernelContext& ctx, PoolKind kind) {
  const DType orig = ctx.input(0).dtype();
  Tensor x = ref::promote(ctx.input(0));
  KERNEL_CHECK(ctx, x.rank() >= 3, "global pooling expects an input of rank >= 3 (N, C, spatial...), got ",
               shape_str(x.shape()));
  Shape ys{x.dim(0), x.dim(1)};
  int64_t S = 1;
  for (int64_t d = 2; d < x.rank(); ++d) {
    ys.push_back(1);
    S *= x.shape()[size_t(d)];
  }
  const double p = kind == PoolKind::Lp ? lp_order(ctx) : 2.0;
  Tensor y(x.dtype(), ys);
  ref::dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xd = x.data<T>();
    T* yd = y.data<T>();
    for (int64_t plane = 0; plane < ys[0] * ys[1]; ++plane) {
      const T* xp = xd + plane * S;
      if (kind == PoolKind::Max) {
        T m = S > 0 ? xp[0] : T(0);
        for (int64_t i = 1; i < S; ++i) m = xp[i] > m ? xp[i] : m;
        yd[plane] = m;
      } else if (kind == PoolKind::Avg) {
        double s = 0;
        for (int64_t i = 0; i < S; ++i) s += double(xp[i]);
        yd[plane] = S > 0 ? T(s / double(S)) : T(0);
      } else {
        double s = 0;
        for (int64_t i = 0; i < S; ++i) s += std::pow(std::fabs(double(xp[i])), p);
        yd[plane] = T(std::pow(s, 1.0 / p));
      }
    }
  });
  ctx.set_output(0, ref::demote(y, orig));
}

}  // namespace

void kernel_max_pool(KernelContext& ctx) { run_windowed(ctx, PoolKind::Max); }
void kernel_average_pool(KernelContext& ctx) { run_windowed(ctx, PoolKind::Avg); }
void kernel_lp_pool(KernelContext& ctx) { run_windowed(ctx, PoolKind::Lp); }
void kernel_global_max_pool(KernelContext& ctx) { run_global(ctx, PoolKind::Max); }
void kernel_global_average_pool(KernelContext& ctx) { run_global(ctx, PoolKind::Avg); }
void kernel_global_lp_pool(KernelContext& ctx) { run_global(ctx, PoolKind::Lp); }

void kernel_max_unpool(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  Tensor x = ref::promote(ctx.input(0));
  const Tensor& ind = ctx.input(1);
  KERNEL_CHECK(ctx, x.rank() >= 3, "MaxUnpool X must have rank >= 3, got ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, ind.dtype() == DType::Int64 && ind.shape() == x.shape(), "MaxUnpool I must be int64 of shape ",
               shape_str(x.shape()), ", got ", dtype_name(ind.dtype()), " ", shape_str(ind.shape()));
  const size_t n = size_t(x.rank() - 2);
  Shape kernel = ctx.attr_ints("kernel_shape");
  KERNEL_CHECK(ctx, kernel.size() == n, "kernel_shape must have ", n, " values");
  Shape strides = ref::spatial_attr(ctx, "strides", n, 1, 1);
  Shape pads = ref::spatial_attr(ctx, "pads", 2 * n, 0, 0);
  // Indices address the inferred output (N, C, (in-1)*stride - pads + kernel); an explicit
  // output_shape places that result at its origin (extra space stays zero).
  Shape inferred{x.dim(0), x.dim(1)};
  for (size_t i = 0; i < n; ++i) {
    const int64_t v = (x.shape()[i + 2] - 1) * strides[i] - (pads[i] + pads[i + n]) + kernel[i];
    KERNEL_CHECK(ctx, v >= 0, "MaxUnpool output dim ", i, " would be negative");
    inferred.push_back(v);
  }
  Shape ys = inferred;
  if (ctx.has_input(2)) {
    ys = ctx.input(2).to_int64_vector();
    KERNEL_CHECK(ctx, ys.size() == size_t(x.rank()), "MaxUnpool output_shape must have ", x.rank(), " values");
    KERNEL_CHECK(ctx, ys[0] == x.dim(0) && ys[1] == x.dim(1), "MaxUnpool output_shape must keep N and C");
    for (int64_t v : ys) KERNEL_CHECK(ctx, v >= 0, "MaxUnpool output_shape values must be >= 0");
  }
  Tensor y(x.dtype(), ys);
  const int64_t total = shape_numel(inferred);
  const bool same = ys == inferred;
  const int64_t* id = ind.data<int64_t>();
  dispatch_pool_types(ctx, x.dtype(), true, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xd = x.data<T>();
    T* yd = y.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      KERNEL_CHECK(ctx, id[i] >= 0 && id[i] < total, "MaxUnpool index ", id[i], " is out of range [0, ", total, ")");
      if (same) {
        yd[id[i]] = xd[i];
        continue;
      }
      int64_t rem = id[i], off = 0, mul = 1;
      bool inside = true;
      for (size_t d = inferred.size(); d-- > 0;) {
        const int64_t c = rem % inferred[d];
        rem /= inferred[d];
        if (c >= ys[d]) inside = false;
        off += c * mul;
        mul *= ys[d];
      }
      if (inside) yd[off] = xd[i];
    }
  });
  ctx.set_output(0, ref::demote(y, orig));
}

}  // namespace pith
