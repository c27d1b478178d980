// Unary elementwise operators: math (Abs, Neg, Sqrt, Exp, trig, Erf, Round, Sign...),
// logic and tests (Not, IsNaN, IsInf) and activations (Relu, LeakyRelu, Elu, Selu, Celu,
// Sigmoid, HardSigmoid, HardSwish, Tanh, Softplus, Softsign, Mish, ThresholdedRelu,
// Shrink, Clip). float16/bfloat16 are computed in float32.
#include <cmath>
#include <limits>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

using ref::dispatch_float;
using ref::dispatch_numeric;
using ref::type_tag;

// Applies f elementwise to a floating-point input (halves promoted to float32).
template <typename F>
void unary_float(KernelContext& ctx, F f) {
  const Tensor& x0 = ctx.input(0);
  const DType orig = x0.dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "expected a floating-point input, got ", dtype_name(orig));
  Tensor x = ref::promote(x0);
  Tensor y(x.dtype(), x.shape());
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) out[i] = T(f(in[i]));
  });
  ctx.set_output(0, ref::demote(y, orig));
}

// Applies f elementwise to any numeric input (halves promoted to float32). When
// `allow_unsigned` is false, unsigned integer inputs are rejected.
template <typename F>
void unary_numeric(KernelContext& ctx, bool allow_unsigned, F f) {
  const Tensor& x0 = ctx.input(0);
  const DType orig = x0.dtype();
  KERNEL_CHECK(ctx, allow_unsigned || !dtype_is_unsigned_int(orig), "unsigned input type ",
               dtype_name(orig), " is not allowed");
  Tensor x = ref::promote(x0);
  Tensor y(x.dtype(), x.shape());
  dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) out[i] = f(in[i]);
  });
  ctx.set_output(0, ref::demote(y, orig));
}

// Two's-complement negation without signed overflow.
template <typename T>
T wrap_neg(T v) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return T(U(U(0) - U(v)));
  } else {
    return -v;
  }
}

// Rounds a double to an integer type, saturating (NaN -> 0).
template <typename T>
T saturate_to(double v) {
  if constexpr (std::is_floating_point_v<T>) {
    return T(v);
  } else {
    if (std::isnan(v)) return T(0);
    if (v >= double(std::numeric_limits<T>::max())) return std::numeric_limits<T>::max();
    if (v <= double(std::numeric_limits<T>::lowest())) return std::numeric_limits<T>::lowest();
    return T(v);
  }
}

template <typename T>
T stable_sigmoid(T x) {
  if (x >= T(0)) return T(1) / (T(1) + std::exp(-x));
  T e = std::exp(x);
  return e / (T(1) + e);
}

template <typename T>
T stable_softplus(T x) {
  if (x > T(0)) return x + std::log1p(std::exp(-x));
  return std::log1p(std::exp(x));
}

}  // namespace

// ---- math ----

void kernel_abs(KernelContext& ctx) {
  unary_numeric(ctx, true, [](auto v) {
    using T = decltype(v);
    if constexpr (std::is_unsigned_v<T>) return v;
    else return v < T(0) ? wrap_neg(v) : v;
  });
}

void kernel_neg(KernelContext& ctx) {
  unary_numeric(ctx, false, [](auto v) { return wrap_neg(v); });
}

void kernel_sign(KernelContext& ctx) {
  unary_numeric(ctx, true, [](auto v) {
    using T = decltype(v);
    if (v > T(0)) return T(1);
    if constexpr (std::is_signed_v<T> || std::is_floating_point_v<T>) {
      if (v < T(0)) return T(-1);
    }
    return v;  // zero (or NaN)
  });
}

void kernel_reciprocal(KernelContext& ctx) {
  unary_float(ctx, [](auto v) { return decltype(v)(1) / v; });
}
void kernel_floor(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::floor(v); }); }
void kernel_ceil(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::ceil(v); }); }
// Round half to even (the default floating-point rounding mode).
void kernel_round(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::nearbyint(v); }); }
void kernel_sqrt(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::sqrt(v); }); }
void kernel_exp(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::exp(v); }); }
void kernel_log(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::log(v); }); }
void kernel_sin(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::sin(v); }); }
void kernel_cos(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::cos(v); }); }
void kernel_tan(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::tan(v); }); }
void kernel_asin(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::asin(v); }); }
void kernel_acos(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::acos(v); }); }
void kernel_atan(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::atan(v); }); }
void kernel_sinh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::sinh(v); }); }
void kernel_cosh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::cosh(v); }); }
void kernel_asinh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::asinh(v); }); }
void kernel_acosh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::acosh(v); }); }
void kernel_atanh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::atanh(v); }); }
void kernel_erf(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::erf(v); }); }

// ---- logic and tests ----

void kernel_not(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  KERNEL_CHECK(ctx, x.dtype() == DType::Bool, "expected a bool input, got ", dtype_name(x.dtype()));
  Tensor& y = ctx.allocate_output(0, DType::Bool, x.shape());
  const bool* in = x.data<bool>();
  bool* out = y.data<bool>();
  for (int64_t i = 0; i < x.numel(); ++i) out[i] = !in[i];
}

namespace {
template <typename Pred>
void float_test(KernelContext& ctx, Pred pred) {
  const Tensor& x0 = ctx.input(0);
  KERNEL_CHECK(ctx, dtype_is_float(x0.dtype()), "expected a floating-point input, got ",
               dtype_name(x0.dtype()));
  Tensor x = ref::promote(x0);
  Tensor& y = ctx.allocate_output(0, DType::Bool, x.shape());
  bool* out = y.data<bool>();
  dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* in = x.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) out[i] = pred(in[i]);
  });
}
}  // namespace

void kernel_isnan(KernelContext& ctx) {
  float_test(ctx, [](auto v) { return std::isnan(v); });
}

void kernel_isinf(KernelContext& ctx) {
  const bool pos = ctx.attr_int("detect_positive", 1) != 0;
  const bool neg = ctx.attr_int("detect_negative", 1) != 0;
  float_test(ctx, [=](auto v) { return std::isinf(v) && ((v > 0 && pos) || (v < 0 && neg)); });
}

// ---- activations ----

void kernel_relu(KernelContext& ctx) {
  KERNEL_CHECK(ctx, dtype_is_float(ctx.input(0).dtype()) || dtype_is_signed_int(ctx.input(0).dtype()),
               "expected a floating-point or signed integer input, got ",
               dtype_name(ctx.input(0).dtype()));
  unary_numeric(ctx, false, [](auto v) {
    using T = decltype(v);
    return v < T(0) ? T(0) : v;
  });
}

void kernel_leakyrelu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 0.01f);
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    return v < T(0) ? T(alpha) * v : v;
  });
}

void kernel_elu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 1.0f);
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    return v < T(0) ? T(alpha) * (std::exp(v) - T(1)) : v;
  });
}

void kernel_selu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 1.67326319217681884765625f);
  const double gamma = ctx.attr_float("gamma", 1.05070102214813232421875f);
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    return v <= T(0) ? T(gamma) * (T(alpha) * std::exp(v) - T(alpha)) : T(gamma) * v;
  });
}

void kernel_celu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 1.0f);
  KERNEL_CHECK(ctx, alpha != 0.0, "attribute alpha must be non-zero");
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    T neg = T(alpha) * (std::exp(v / T(alpha)) - T(1));
    return (v > T(0) ? v : T(0)) + (neg < T(0) ? neg : T(0));
  });
}

void kernel_sigmoid(KernelContext& ctx) {
  unary_float(ctx, [](auto v) { return stable_sigmoid(v); });
}

void kernel_hardsigmoid(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 0.2f);
  const double beta = ctx.attr_float("beta", 0.5f);
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    T r = T(alpha) * v + T(beta);
    return std::min(T(1), std::max(T(0), r));
  });
}

void kernel_hardswish(KernelContext& ctx) {
  unary_float(ctx, [](auto v) {
    using T = decltype(v);
    T r = v / T(6) + T(0.5);
    return v * std::min(T(1), std::max(T(0), r));
  });
}

void kernel_tanh(KernelContext& ctx) { unary_float(ctx, [](auto v) { return std::tanh(v); }); }

void kernel_softplus(KernelContext& ctx) {
  unary_float(ctx, [](auto v) { return stable_softplus(v); });
}

void kernel_softsign(KernelContext& ctx) {
  unary_float(ctx, [](auto v) {
    using T = decltype(v);
    return v / (T(1) + std::fabs(v));
  });
}

void kernel_mish(KernelContext& ctx) {
  unary_float(ctx, [](auto v) { return v * std::tanh(stable_softplus(v)); });
}

void kernel_thresholdedrelu(KernelContext& ctx) {
  const double alpha = ctx.attr_float("alpha", 1.0f);
  unary_float(ctx, [=](auto v) {
    using T = decltype(v);
    return v > T(alpha) ? v : T(0);
  });
}

void kernel_shrink(KernelContext& ctx) {
  const double bias = ctx.attr_float("bias", 0.0f);
  const double lambd = ctx.attr_float("lambd", 0.5f);
  unary_numeric(ctx, true, [=](auto v) {
    using T = decltype(v);
    const double d = double(v);
    if (d < -lambd) return saturate_to<T>(d + bias);
    if (d > lambd) return saturate_to<T>(d - bias);
    return T(0);
  });
}

// Clip: bounds are attributes before opset 11, optional scalar inputs from opset 11.
void kernel_clip(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const DType orig = x0.dtype();
  Tensor x = ref::promote(x0);
  Tensor y(x.dtype(), x.shape());
  if (ctx.opset() < 11) {
    KERNEL_CHECK(ctx, dtype_is_float(orig), "expected a floating-point input before opset 11, got ",
                 dtype_name(orig));
  }
  auto bound = [&](size_t i) -> Tensor {
    if (!ctx.has_input(i)) return Tensor();
    Tensor b = ref::promote(ctx.input(i));
    KERNEL_CHECK(ctx, b.numel() == 1, "input ", i, " (", i == 1 ? "min" : "max",
                 ") must be a scalar, got shape ", shape_str(b.shape()));
    KERNEL_CHECK(ctx, b.dtype() == x.dtype(), "input ", i, " has type ", dtype_name(ctx.input(i).dtype()),
                 ", expected ", dtype_name(orig));
    return b;
  };
  Tensor lo_t, hi_t;
  if (ctx.opset() >= 11) {
    lo_t = bound(1);
    hi_t = bound(2);
  }
  dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T lo = std::numeric_limits<T>::lowest(), hi = std::numeric_limits<T>::max();
    if constexpr (std::is_floating_point_v<T>) {
      lo = -std::numeric_limits<T>::infinity();
      hi = std::numeric_limits<T>::infinity();
    }
    if (ctx.opset() < 11) {
      if (ctx.has_attr("min")) lo = T(ctx.attr_float("min", 0.f));
      if (ctx.has_attr("max")) hi = T(ctx.attr_float("max", 0.f));
    } else {
      if (lo_t.defined()) lo = lo_t.data<T>()[0];
      if (hi_t.defined()) hi = hi_t.data<T>()[0];
    }
    const T* in = x.data<T>();
    T* out = y.data<T>();
    const int64_t n = x.numel();
    for (int64_t i = 0; i < n; ++i) {
      T v = in[i];
      if (v < lo) v = lo;
      if (v > hi) v = hi;  // min > max: every value becomes max
      out[i] = v;
    }
  });
  ctx.set_output(0, ref::demote(y, orig));
}

}  // namespace pith
