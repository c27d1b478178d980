// Normalization kernels: BatchNormalization (inference and training mode),
// LayerNormalization, InstanceNormalization, LRN and MeanVarianceNormalization.
// float16/bfloat16 inputs are computed in float32; statistics are accumulated in double.
#include <algorithm>
#include <cmath>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

using ref::demote;
using ref::dispatch_float;
using ref::promote;

// Elements of a (small) parameter tensor as a vector of T, any numeric dtype.
template <typename T>
std::vector<T> param_vector(const Tensor& t) {
  std::vector<T> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = T(t.as_double(i));
  return v;
}

// The floating-point dtype a kernel computes in for input dtype `t`.
DType compute_dtype(const KernelContext& ctx, DType t) {
  KERNEL_CHECK(ctx, dtype_is_float(t), "expected a floating-point input, got ", dtype_name(t));
  return ref::is_half(t) ? DType::Float32 : t;
}

}  // namespace

// BatchNormalization: Y = scale * (X - mean) / sqrt(var + epsilon) + B per channel (axis 1).
// With training_mode (opset 14+), or when the training outputs are requested in older
// opsets, the batch statistics are used and the running statistics are updated.
void kernel_batchnormalization(KernelContext& ctx) {
  const Tensor& x_in = ctx.input(0);
  const DType orig = x_in.dtype();
  const DType ct = compute_dtype(ctx, orig);
  Tensor x = promote(x_in);
  KERNEL_CHECK(ctx, x.rank() >= 2, "X must have rank >= 2 (N, C, ...), got shape ", shape_str(x.shape()));
  for (size_t i = 1; i <= 4; ++i)
    KERNEL_CHECK(ctx, ctx.has_input(i), "input ", i, " (scale, B, mean, var) is required");
  const int64_t n = x.dim(0), c = x.dim(1);
  const int64_t spatial = shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  const float epsilon = ctx.attr_float("epsilon", 1e-5f);
  const float momentum = ctx.attr_float("momentum", 0.9f);
  bool training = ctx.opset() >= 14 && ctx.attr_int("training_mode", 0) != 0;
  if (ctx.opset() < 14) {
    for (size_t o = 1; o < 5; ++o) training = training || ctx.wants_output(o);
    if (ctx.opset() < 7 && ctx.attr_int("is_test", 0) != 0) training = false;
  }
  // Parameters are per channel, or (spatial = 0 in opsets < 9) per channel and position.
  const int64_t pcount = ctx.input(1).numel();
  KERNEL_CHECK(ctx, pcount == c || (pcount == c * spatial && !training), "scale must have C = ", c,
               " elements, got shape ", shape_str(ctx.input(1).shape()));
  for (size_t i = 2; i <= 4; ++i)
    KERNEL_CHECK(ctx, ctx.input(i).numel() == pcount, "input ", i, " must have the same size as scale (", pcount,
                 "), got shape ", shape_str(ctx.input(i).shape()));

  dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto scale = param_vector<double>(ctx.input(1));
    auto bias = param_vector<double>(ctx.input(2));
    auto mean = param_vector<double>(ctx.input(3));
    auto var = param_vector<double>(ctx.input(4));
    const T* xp = x.data<T>();
    std::vector<double> bmean(static_cast<size_t>(c), 0.0), bvar(static_cast<size_t>(c), 0.0);
    if (training) {
      const double count = double(n * spatial);
      for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch) {
          const T* p = xp + (b * c + ch) * spatial;
          double s = 0;
          for (int64_t k = 0; k < spatial; ++k) s += double(p[k]);
          bmean[size_t(ch)] += s;
        }
      for (auto& m : bmean) m = count > 0 ? m / count : 0.0;
      for (int64_t b = 0; b < n; ++b)
        for (int64_t ch = 0; ch < c; ++ch) {
          const T* p = xp + (b * c + ch) * spatial;
          double s = 0, m = bmean[size_t(ch)];
          for (int64_t k = 0; k < spatial; ++k) s += (double(p[k]) - m) * (double(p[k]) - m);
          bvar[size_t(ch)] += s;
        }
      for (auto& v : bvar) v = count > 0 ? v / count : 0.0;
    }
    const std::vector<double>& use_mean = training ? bmean : mean;
    const std::vector<double>& use_var = training ? bvar : var;
    Tensor y(ct, x.shape());
    T* yp = y.data<T>();
    // y = x * a + b with a = scale / sqrt(var + eps), b = bias - mean * a.
    std::vector<T> fa(static_cast<size_t>(pcount)), fb(static_cast<size_t>(pcount));
    for (size_t pi = 0; pi < size_t(pcount); ++pi) {
      const double a = scale[pi] / std::sqrt(use_var[pi] + double(epsilon));
      fa[pi] = T(a);
      fb[pi] = T(bias[pi] - use_mean[pi] * a);
    }
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t off = (b * c + ch) * spatial;
        if (pcount == c) {
          const T a = fa[size_t(ch)], bb = fb[size_t(ch)];
          for (int64_t k = 0; k < spatial; ++k) yp[off + k] = xp[off + k] * a + bb;
        } else {
          for (int64_t k = 0; k < spatial; ++k) {
            const size_t pi = size_t(ch * spatial + k);
            yp[off + k] = xp[off + k] * fa[pi] + fb[pi];
          }
        }
      }
    ctx.set_output(0, demote(y, orig));
    if (!training) return;
    const DType mdt = ctx.input(3).dtype();
    auto emit = [&](size_t o, const std::vector<double>& v) {
      if (o >= ctx.num_outputs() || !ctx.wants_output(o)) return;
      Tensor t(DType::Float64, {c});
      for (int64_t i = 0; i < c; ++i) t.data<double>()[i] = v[size_t(i)];
      ctx.set_output(o, cast_tensor(t, mdt));
    };
    std::vector<double> run_mean(static_cast<size_t>(c)), run_var(static_cast<size_t>(c));
    for (size_t i = 0; i < size_t(c); ++i) {
      run_mean[i] = mean[i] * momentum + bmean[i] * (1.0 - momentum);
      run_var[i] = var[i] * momentum + bvar[i] * (1.0 - momentum);
    }
    emit(1, run_mean);
    emit(2, run_var);
    if (ctx.opset() < 14) {
      emit(3, bmean);
      emit(4, bvar);
    }
  });
}

// LayerNormalization (opset 17): normalizes over the dimensions [axis, rank).
void kernel_layernormalization(KernelContext& ctx) {
  const Tensor& x_in = ctx.input(0);
  const DType orig = x_in.dtype();
  const DType ct = compute_dtype(ctx, orig);
  Tensor x = promote(x_in);
  const int64_t rank = x.rank();
  KERNEL_CHECK(ctx, rank >= 1, "X must have rank >= 1");
  const int64_t axis = normalize_axis(ctx.attr_int("axis", -1), rank);
  const float epsilon = ctx.attr_float("epsilon", 1e-5f);
  const int64_t stash = ctx.attr_int("stash_type", 1);
  KERNEL_CHECK(ctx, stash == 1 || stash == 11 || stash == 10 || stash == 16, "unsupported stash_type ", stash);
  Shape inner_shape(x.shape().begin() + axis, x.shape().end());
  const int64_t inner = shape_numel(inner_shape);
  const int64_t outer = inner == 0 ? 0 : x.numel() / inner;
  // Scale and B broadcast (unidirectionally) to X.shape[axis:].
  auto expand = [&](size_t i, double fallback) {
    std::vector<double> v(static_cast<size_t>(inner), fallback);
    if (!ctx.has_input(i)) return v;
    const Tensor& p = ctx.input(i);
    KERNEL_CHECK(ctx, p.rank() <= int64_t(inner_shape.size()), "input ", i, " of shape ", shape_str(p.shape()),
                 " does not broadcast to ", shape_str(inner_shape));
    for (int64_t d = 0; d < p.rank(); ++d) {
      int64_t pd = p.shape()[size_t(d)], od = inner_shape[inner_shape.size() - size_t(p.rank()) + size_t(d)];
      KERNEL_CHECK(ctx, pd == od || pd == 1, "input ", i, " of shape ", shape_str(p.shape()), " does not broadcast to ",
                   shape_str(inner_shape));
    }
    auto strides = broadcast_strides(p.shape(), inner_shape);
    Shape idx(inner_shape.size(), 0);
    for (int64_t k = 0; k < inner; ++k) {
      int64_t off = 0;
      for (size_t d = 0; d < idx.size(); ++d) off += idx[d] * strides[d];
      v[size_t(k)] = p.as_double(off);
      for (size_t d = idx.size(); d-- > 0;) {
        if (++idx[d] < inner_shape[d]) break;
        idx[d] = 0;
      }
    }
    return v;
  };
  KERNEL_CHECK(ctx, ctx.has_input(1), "Scale is required");
  auto scale = expand(1, 1.0);
  auto bias = expand(2, 0.0);
  Shape stat_shape(x.shape().begin(), x.shape().begin() + axis);
  stat_shape.resize(size_t(rank), 1);
  Tensor mean_t(DType::Float32, stat_shape), inv_t(DType::Float32, stat_shape);
  dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    Tensor y(ct, x.shape());
    T* yp = y.data<T>();
    for (int64_t o = 0; o < outer; ++o) {
      const T* row = xp + o * inner;
      double s = 0;
      for (int64_t k = 0; k < inner; ++k) s += double(row[k]);
      const double m = s / double(inner);
      double sq = 0;
      for (int64_t k = 0; k < inner; ++k) sq += (double(row[k]) - m) * (double(row[k]) - m);
      const double inv = 1.0 / std::sqrt(sq / double(inner) + double(epsilon));
      for (int64_t k = 0; k < inner; ++k)
        yp[o * inner + k] = T((double(row[k]) - m) * inv * scale[size_t(k)] + bias[size_t(k)]);
      mean_t.data<float>()[o] = float(m);
      inv_t.data<float>()[o] = float(inv);
    }
    ctx.set_output(0, demote(y, orig));
  });
  const DType stash_dt = DType(int32_t(stash));
  if (ctx.num_outputs() > 1 && ctx.wants_output(1)) ctx.set_output(1, cast_tensor(mean_t, stash_dt));
  if (ctx.num_outputs() > 2 && ctx.wants_output(2)) ctx.set_output(2, cast_tensor(inv_t, stash_dt));
}

// InstanceNormalization: per (n, c) normalization over the spatial dimensions.
void kernel_instancenormalization(KernelContext& ctx) {
  const Tensor& x_in = ctx.input(0);
  const DType orig = x_in.dtype();
  const DType ct = compute_dtype(ctx, orig);
  Tensor x = promote(x_in);
  KERNEL_CHECK(ctx, x.rank() >= 3, "input must have rank >= 3 (N, C, D1, ...), got shape ", shape_str(x.shape()));
  const int64_t n = x.dim(0), c = x.dim(1);
  const int64_t spatial = shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  KERNEL_CHECK(ctx, ctx.input(1).numel() == c && ctx.input(2).numel() == c, "scale and B must have C = ", c,
               " elements, got shapes ", shape_str(ctx.input(1).shape()), " and ", shape_str(ctx.input(2).shape()));
  const double epsilon = ctx.attr_float("epsilon", 1e-5f);
  auto scale = param_vector<double>(ctx.input(1));
  auto bias = param_vector<double>(ctx.input(2));
  dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor y(ct, x.shape());
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        const int64_t off = (b * c + ch) * spatial;
        double s = 0;
        for (int64_t k = 0; k < spatial; ++k) s += double(xp[off + k]);
        const double m = spatial ? s / double(spatial) : 0.0;
        double sq = 0;
        for (int64_t k = 0; k < spatial; ++k) sq += (double(xp[off + k]) - m) * (double(xp[off + k]) - m);
        const double inv = 1.0 / std::sqrt((spatial ? sq / double(spatial) : 0.0) + epsilon);
        const double a = scale[size_t(ch)] * inv, bb = bias[size_t(ch)] - m * a;
        for (int64_t k = 0; k < spatial; ++k) yp[off + k] = T(double(xp[off + k]) * a + bb);
      }
    ctx.set_output(0, demote(y, orig));
  });
}

// LRN: y = x / (bias + alpha / size * sum of x^2 over a window of `size` channels)^beta.
void kernel_lrn(KernelContext& ctx) {
  const Tensor& x_in = ctx.input(0);
  const DType orig = x_in.dtype();
  const DType ct = compute_dtype(ctx, orig);
  Tensor x = promote(x_in);
  KERNEL_CHECK(ctx, x.rank() >= 3, "input must have rank >= 3 (N, C, D1, ...), got shape ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, ctx.has_attr("size"), "attribute 'size' is required");
  const int64_t size = ctx.attr_int("size", 1);
  KERNEL_CHECK(ctx, size >= 1, "attribute 'size' must be >= 1, got ", size);
  const double alpha = ctx.attr_float("alpha", 1e-4f), beta = ctx.attr_float("beta", 0.75f),
               bias = ctx.attr_float("bias", 1.0f);
  const int64_t n = x.dim(0), c = x.dim(1);
  const int64_t spatial = shape_numel(Shape(x.shape().begin() + 2, x.shape().end()));
  const int64_t lo = (size - 1) / 2, hi = size - 1 - lo;  // floor / ceil of (size-1)/2
  dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    Tensor y(ct, x.shape());
    const T* xp = x.data<T>();
    T* yp = y.data<T>();
    std::vector<double> sq(static_cast<size_t>(spatial));
    for (int64_t b = 0; b < n; ++b)
      for (int64_t ch = 0; ch < c; ++ch) {
        std::fill(sq.begin(), sq.end(), 0.0);
        const int64_t c0 = std::max<int64_t>(0, ch - lo), c1 = std::min<int64_t>(c - 1, ch + hi);
        for (int64_t j = c0; j <= c1; ++j) {
          const T* p = xp + (b * c + j) * spatial;
          for (int64_t k = 0; k < spatial; ++k) sq[size_t(k)] += double(p[k]) * double(p[k]);
        }
        const int64_t off = (b * c + ch) * spatial;
        for (int64_t k = 0; k < spatial; ++k)
          yp[off + k] = T(double(xp[off + k]) / std::pow(bias + alpha / double(size) * sq[size_t(k)], beta));
      }
    ctx.set_output(0, demote(y, orig));
  });
}

// MeanVarianceNormalization: (X - mean) / sqrt(var + 1e-9) with statistics over `axes`.
void kernel_meanvariancenormalization(KernelContext& ctx) {
  const Tensor& x_in = ctx.input(0);
  const DType orig = x_in.dtype();
  const DType ct = compute_dtype(ctx, orig);
  Tensor x = promote(x_in);
  const int64_t rank = x.rank();
  Shape axes = ctx.attr_ints("axes", {0, 2, 3});
  Shape reduced(static_cast<size_t>(rank), 0);  // per-axis flags, in place
  for (int64_t a : axes) {
    KERNEL_CHECK(ctx, a >= -rank && a < rank, "axis ", a, " is out of range for rank ", rank);
    reduced[size_t(a < 0 ? a + rank : a)] = true;
  }
  // Statistics live in a tensor of the kept dimensions; stat_strides maps an input index there.
  Shape kept(size_t(rank), 1);
  for (int64_t d = 0; d < rank; ++d)
    if (!reduced[size_t(d)]) kept[size_t(d)] = x.shape()[size_t(d)];
  const auto stat_strides = broadcast_strides(kept, x.shape());
  const int64_t nstat = shape_numel(kept);
  const int64_t total = x.numel();
  const double count = nstat ? double(total) / double(nstat) : 1.0;
  Shape stat_index(static_cast<size_t>(total));
  {
    Shape idx(static_cast<size_t>(rank), 0);
    int64_t off = 0;
    for (int64_t i = 0; i < total; ++i) {
      stat_index[size_t(i)] = off;
      for (int64_t d = rank; d-- > 0;) {
        off += stat_strides[size_t(d)];
        if (++idx[size_t(d)] < x.shape()[size_t(d)]) break;
        off -= stat_strides[size_t(d)] * idx[size_t(d)];
        idx[size_t(d)] = 0;
      }
    }
  }
  dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* xp = x.data<T>();
    std::vector<double> mean(static_cast<size_t>(nstat), 0.0), var(static_cast<size_t>(nstat), 0.0);
    for (int64_t i = 0; i < total; ++i) mean[size_t(stat_index[size_t(i)])] += double(xp[i]);
    for (auto& m : mean) m /= count;
    for (int64_t i = 0; i < total; ++i) {
      const double dv = double(xp[i]) - mean[size_t(stat_index[size_t(i)])];
      var[size_t(stat_index[size_t(i)])] += dv * dv;
    }
    for (auto& v : var) v = 1.0 / std::sqrt(v / count + 1e-9);
    Tensor y(ct, x.shape());
    T* yp = y.data<T>();
    for (int64_t i = 0; i < total; ++i) {
      const size_t s = size_t(stat_index[size_t(i)]);
      yp[i] = T((double(xp[i]) - mean[s]) * var[s]);
    }
    ctx.set_output(0, demote(y, orig));
  });
}

}  // namespace pith
