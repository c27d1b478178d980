// Softmax, LogSoftmax and Hardmax (opset < 13: the input is coerced to 2-D at `axis`,
// default 1; from opset 13: along one axis, default -1), and the losses built on them:
// NegativeLogLikelihoodLoss and SoftmaxCrossEntropyLoss (reduction none/sum/mean,
// optional weights, ignore_index, optional log_prob output).
#include <cmath>
#include <limits>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

using ref::dispatch_float;

// The input viewed as [outer, len, inner] around the softmax axis.
struct AxisView {
  int64_t outer = 1, len = 1, inner = 1;
};

AxisView softmax_view(const KernelContext& ctx, const Shape& shape) {
  const int64_t rank = int64_t(shape.size());
  const bool legacy = ctx.opset() < 13;
  int64_t axis = ctx.attr_int("axis", legacy ? 1 : -1);
  KERNEL_CHECK(ctx, rank >= 1, "expected an input of rank >= 1, got a scalar");
  KERNEL_CHECK(ctx, axis >= -rank && axis < rank, "axis ", axis, " is out of range for rank ", rank);
  if (axis < 0) axis += rank;
  AxisView v;
  for (int64_t d = 0; d < axis; ++d) v.outer *= shape[size_t(d)];
  if (legacy) {
    for (int64_t d = axis; d < rank; ++d) v.len *= shape[size_t(d)];
  } else {
    v.len = shape[size_t(axis)];
    for (int64_t d = axis + 1; d < rank; ++d) v.inner *= shape[size_t(d)];
  }
  return v;
}

// (Log)softmax over the middle dimension of an [outer, len, inner] block; the inner
// dimension is contiguous, so it is the tight loop.
template <typename T>
void softmax_block(const T* x, T* y, const AxisView& v, bool log_output) {
  std::vector<T> mx(size_t(v.inner)), sum(size_t(v.inner));
  for (int64_t o = 0; o < v.outer; ++o) {
    const T* xo = x + o * v.len * v.inner;
    T* yo = y + o * v.len * v.inner;
    std::fill(mx.begin(), mx.end(), -std::numeric_limits<T>::infinity());
    std::fill(sum.begin(), sum.end(), T(0));
    for (int64_t j = 0; j < v.len; ++j)
      for (int64_t k = 0; k < v.inner; ++k) mx[size_t(k)] = std::max(mx[size_t(k)], xo[j * v.inner + k]);
    for (int64_t j = 0; j < v.len; ++j)
      for (int64_t k = 0; k < v.inner; ++k) {
        T e = std::exp(xo[j * v.inner + k] - mx[size_t(k)]);
        sum[size_t(k)] += e;
        if (!log_output) yo[j * v.inner + k] = e;
      }
    if (log_output) {
      for (int64_t k = 0; k < v.inner; ++k) sum[size_t(k)] = std::log(sum[size_t(k)]);
      for (int64_t j = 0; j < v.len; ++j)
        for (int64_t k = 0; k < v.inner; ++k)
          yo[j * v.inner + k] = (xo[j * v.inner + k] - mx[size_t(k)]) - sum[size_t(k)];
    } else {
      for (int64_t k = 0; k < v.inner; ++k) sum[size_t(k)] = T(1) / sum[size_t(k)];
      for (int64_t j = 0; j < v.len; ++j)
        for (int64_t k = 0; k < v.inner; ++k) yo[j * v.inner + k] *= sum[size_t(k)];
    }
  }
}

void softmax_common(KernelContext& ctx, bool log_output) {
  const Tensor& x0 = ctx.input(0);
  const DType orig = x0.dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "expected a floating-point input, got ", dtype_name(orig));
  Tensor x = ref::promote(x0);
  const AxisView v = softmax_view(ctx, x.shape());
  Tensor y(x.dtype(), x.shape());
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_block(x.data<T>(), y.data<T>(), v, log_output);
  });
  ctx.set_output(0, ref::demote(y, orig));
}

}  // namespace

void kernel_softmax(KernelContext& ctx) { softmax_common(ctx, false); }
void kernel_logsoftmax(KernelContext& ctx) { softmax_common(ctx, true); }

// Hardmax: 1 at the first maximum along the axis, 0 elsewhere.
void kernel_hardmax(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const DType orig = x0.dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "expected a floating-point input, got ", dtype_name(orig));
  Tensor x = ref::promote(x0);
  const AxisView v = softmax_view(ctx, x.shape());
  Tensor y(x.dtype(), x.shape());  // zero-filled
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = y.data<T>();
    Shape best(size_t(v.inner));
    for (int64_t o = 0; o < v.outer; ++o) {
      const int64_t base = o * v.len * v.inner;
      if (v.len == 0) continue;
      std::fill(best.begin(), best.end(), int64_t(0));
      for (int64_t j = 1; j < v.len; ++j)
        for (int64_t k = 0; k < v.inner; ++k)
          if (in[base + j * v.inner + k] > in[base + best[size_t(k)] * v.inner + k]) best[size_t(k)] = j;
      for (int64_t k = 0; k < v.inner; ++k) out[base + best[size_t(k)] * v.inner + k] = T(1);
    }
  });
  ctx.set_output(0, ref::demote(y, orig));
}

// ---- losses ----

namespace {

enum class Reduction { None, Sum, Mean };

Reduction parse_reduction(const KernelContext& ctx) {
  const std::string r = ctx.attr_string("reduction", "mean");
  if (r == "none") return Reduction::None;
  if (r == "sum") return Reduction::Sum;
  KERNEL_CHECK(ctx, r == "mean", "attribute reduction must be none, sum or mean, got '", r, "'");
  return Reduction::Mean;
}

// Negative log-likelihood of log-probabilities `logp` ([N, C, D] flattened) at the
// target classes ([N, D]); sets output 0.
template <typename T>
void nll_loss(KernelContext& ctx, const T* logp, const Shape& in_shape, const Tensor& target, const Tensor& weight,
              DType orig) {
  const int64_t rank = int64_t(in_shape.size());
  const int64_t N = in_shape[0], C = in_shape[1];
  int64_t D = 1;
  for (int64_t d = 2; d < rank; ++d) D *= in_shape[size_t(d)];
  const Reduction red = parse_reduction(ctx);
  const bool has_ignore = ctx.has_attr("ignore_index");
  const int64_t ignore = ctx.attr_int("ignore_index", 0);
  const T* w = weight.defined() ? weight.data<T>() : nullptr;

  Shape out_shape = red == Reduction::None ? target.shape() : Shape{};
  Tensor out(dtype_of<T>::value, out_shape);
  T* po = out.data<T>();
  double total = 0, weight_total = 0;
  for (int64_t n = 0; n < N; ++n) {
    for (int64_t d = 0; d < D; ++d) {
      const int64_t t = target.as_int64(n * D + d);
      double l = 0, wt = 0;
      if (!(has_ignore && t == ignore)) {
        KERNEL_CHECK(ctx, t >= 0 && t < C, "target class ", t, " at index ", n * D + d, " is out of range [0, ", C,
                     ")");
        wt = w ? double(w[t]) : 1.0;
        l = -double(logp[(n * C + t) * D + d]) * wt;
      }
      if (red == Reduction::None) po[n * D + d] = T(l);
      total += l;
      weight_total += wt;
    }
  }
  if (red == Reduction::Sum) po[0] = T(total);
  if (red == Reduction::Mean) po[0] = T(total / weight_total);
  ctx.set_output(0, ref::demote(out, orig));
}

// Checks the shapes and types shared by both losses; returns the promoted weight.
Tensor check_loss_inputs(const KernelContext& ctx, const Tensor& input, const Tensor& target) {
  const Shape& s = input.shape();
  KERNEL_CHECK(ctx, dtype_is_float(input.dtype()), "expected a floating-point input, got ", dtype_name(input.dtype()));
  KERNEL_CHECK(ctx, s.size() >= 2, "input must have shape [N, C, ...], got ", shape_str(s));
  KERNEL_CHECK(ctx, target.dtype() == DType::Int32 || target.dtype() == DType::Int64,
               "target must be int32 or int64, got ", dtype_name(target.dtype()));
  Shape expect = {s[0]};
  expect.insert(expect.end(), s.begin() + 2, s.end());
  KERNEL_CHECK(ctx, target.shape() == expect, "target shape ", shape_str(target.shape()), " does not match input ",
               shape_str(s), " (expected ", shape_str(expect), ")");
  if (!ctx.has_input(2)) return Tensor();
  const Tensor& w = ctx.input(2);
  KERNEL_CHECK(ctx, w.dtype() == input.dtype(), "weight type ", dtype_name(w.dtype()), " differs from input type ",
               dtype_name(input.dtype()));
  KERNEL_CHECK(ctx, w.shape() == Shape{s[1]}, "weight must have shape [C] = [", s[1], "], got ", shape_str(w.shape()));
  return ref::promote(w);
}

}  // namespace

void kernel_negativeloglikelihoodloss(KernelContext& ctx) {
  const Tensor& in0 = ctx.input(0);
  const Tensor& target = ctx.input(1);
  Tensor weight = check_loss_inputs(ctx, in0, target);
  const DType orig = in0.dtype();
  Tensor x = ref::promote(in0);
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    nll_loss<T>(ctx, x.data<T>(), x.shape(), target, weight, orig);
  });
}

void kernel_softmaxcrossentropyloss(KernelContext& ctx) {
  const Tensor& in0 = ctx.input(0);
  const Tensor& target = ctx.input(1);
  Tensor weight = check_loss_inputs(ctx, in0, target);
  const DType orig = in0.dtype();
  Tensor x = ref::promote(in0);
  const Shape& s = x.shape();
  AxisView v;
  v.outer = s[0];
  v.len = s[1];
  for (size_t d = 2; d < s.size(); ++d) v.inner *= s[d];
  Tensor logp(x.dtype(), s);
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    softmax_block(x.data<T>(), logp.data<T>(), v, true);
    nll_loss<T>(ctx, logp.data<T>(), s, target, weight, orig);
  });
  if (ctx.wants_output(1)) ctx.set_output(1, ref::demote(logp, orig));
}

}  // namespace pith
