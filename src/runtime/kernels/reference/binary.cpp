// Binary elementwise operators with numpy broadcasting: arithmetic (Add, Sub, Mul, Div,
// Pow, Mod), bitwise (BitShift), logic (And, Or, Xor), comparisons (Equal, Greater,
// Less, GreaterOrEqual, LessOrEqual), PRelu, the variadic Min/Max/Sum/Mean and Where.
// Integer arithmetic wraps (no signed overflow); integer division by zero throws.
#include <cmath>
#include <limits>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

using ref::dispatch_numeric;
using ref::type_tag;

// Calls f(out_index, a_index, b_index) over the broadcast of a and b to out_shape,
// with fast paths for equal shapes and scalar operands.
template <typename F>
void broadcast2(const Shape& out_shape, const Shape& a, const Shape& b, F&& f) {
  const int64_t n = shape_numel(out_shape);
  const int64_t na = shape_numel(a), nb = shape_numel(b);
  if (na == n && nb == n) {
    // Same element count as the output: both index like the output (possibly with a
    // rank difference of leading ones, which does not change the layout).
    for (int64_t i = 0; i < n; ++i) f(i, i, i);
  } else if (na == n && nb == 1) {
    for (int64_t i = 0; i < n; ++i) f(i, i, int64_t(0));
  } else if (na == 1 && nb == n) {
    for (int64_t i = 0; i < n; ++i) f(i, int64_t(0), i);
  } else {
    ref::for_each_broadcast(out_shape, {a, b}, [&](int64_t o, int64_t i0, int64_t i1, int64_t) { f(o, i0, i1); });
  }
}

Shape broadcast_or_fail(const KernelContext& ctx, const Shape& a, const Shape& b) {
  try {
    return broadcast_shapes(a, b);
  } catch (const Error& e) {
    ctx.fail(e.what());
  }
}

// A wider unsigned type in which wrapping arithmetic on T is well defined.
template <typename T>
using wide_unsigned_t = std::conditional_t<(sizeof(T) < 4), uint32_t, std::make_unsigned_t<T>>;

template <typename T> T wrap_add(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using W = wide_unsigned_t<T>;
    return T(W(W(a) + W(b)));
  } else {
    return a + b;
  }
}
template <typename T> T wrap_sub(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using W = wide_unsigned_t<T>;
    return T(W(W(a) - W(b)));
  } else {
    return a - b;
  }
}
template <typename T> T wrap_mul(T a, T b) {
  if constexpr (std::is_integral_v<T>) {
    using W = wide_unsigned_t<T>;
    return T(W(W(a) * W(b)));
  } else {
    return a * b;
  }
}

// Runs a same-type binary op: out = f(a, b), of type bool when BoolResult, else the inputs' type.
// Halves are promoted to float32 and, for non-bool results, demoted back.
template <bool BoolResult, bool AllowBool, typename F>
void binary_op(KernelContext& ctx, const Tensor& a0, const Tensor& b0, F f) {
  KERNEL_CHECK(ctx, a0.dtype() == b0.dtype(), "inputs must have the same type, got ", dtype_name(a0.dtype()),
               " and ", dtype_name(b0.dtype()));
  const DType orig = a0.dtype();
  Tensor a = ref::promote(a0), b = ref::promote(b0);
  Shape out_shape = broadcast_or_fail(ctx, a.shape(), b.shape());
  Tensor y(BoolResult ? DType::Bool : a.dtype(), out_shape);
  auto run = [&](auto tag) {
    using T = typename decltype(tag)::type;
    using R = std::conditional_t<BoolResult, bool, T>;
    const T* pa = a.data<T>();
    const T* pb = b.data<T>();
    R* out = y.data<R>();
    broadcast2(out_shape, a.shape(), b.shape(),
               [&](int64_t o, int64_t i, int64_t j) { out[o] = R(f(pa[i], pb[j])); });
  };
  bool done = false;
  if constexpr (AllowBool) {
    if (a.dtype() == DType::Bool) {
      run(type_tag<bool>{});
      done = true;
    }
  }
  if (!done) {
    KERNEL_CHECK(ctx, a.dtype() != DType::Bool, "bool inputs are not supported");
    dispatch_numeric(ctx, a.dtype(), run);
  }
  ctx.set_output(0, BoolResult ? y : ref::demote(y, orig));
}

// Before opset 7, binary ops broadcast only with the attribute broadcast=1, and then
// B's dimensions line up with A's starting at `axis` (default: B is a suffix of A).
// Returns B reshaped so that numpy broadcasting gives that alignment.
Tensor legacy_broadcast_b(const KernelContext& ctx, const Tensor& a, const Tensor& b) {
  if (ctx.opset() >= 7 || ctx.attr_int("broadcast", 0) == 0 || !ctx.has_attr("axis")) return b;
  const int64_t ra = a.rank(), rb = b.rank();
  int64_t axis = ctx.attr_int("axis", 0);
  if (axis < 0) axis += ra;
  KERNEL_CHECK(ctx, axis >= 0 && axis + rb <= ra, "axis ", ctx.attr_int("axis", 0), " cannot align B of shape ",
               shape_str(b.shape()), " with A of shape ", shape_str(a.shape()));
  Shape s = b.shape();
  s.resize(size_t(ra - axis), 1);  // trailing ones after B's dimensions
  return b.reshaped(s);
}

template <bool BoolResult, bool AllowBool, typename F>
void binary_op(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  binary_op<BoolResult, AllowBool>(ctx, a, legacy_broadcast_b(ctx, a, ctx.input(1)), f);
}

// Logical ops on bool tensors.
template <typename F>
void logic_op(KernelContext& ctx, F f) {
  const Tensor& a = ctx.input(0);
  const Tensor b = legacy_broadcast_b(ctx, a, ctx.input(1));
  KERNEL_CHECK(ctx, a.dtype() == DType::Bool && b.dtype() == DType::Bool, "expected bool inputs, got ",
               dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  Shape out_shape = broadcast_or_fail(ctx, a.shape(), b.shape());
  Tensor& y = ctx.allocate_output(0, DType::Bool, out_shape);
  const bool* pa = a.data<bool>();
  const bool* pb = b.data<bool>();
  bool* out = y.data<bool>();
  broadcast2(out_shape, a.shape(), b.shape(), [&](int64_t o, int64_t i, int64_t j) { out[o] = f(pa[i], pb[j]); });
}

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

// Integer power by squaring, wrapping on overflow; negative exponents follow the
// truncation of the real result (only |base| == 1 gives a non-zero value).
template <typename T, typename E>
T int_pow(T base, E e) {
  if constexpr (std::is_signed_v<E>) {
    if (e < 0) {
      if (base == T(1)) return T(1);
      if constexpr (std::is_signed_v<T>) {
        if (base == T(-1)) return (e % 2 == 0) ? T(1) : T(-1);
      }
      return T(0);  // includes 0^-n, which has no integer value
    }
  }
  T result = T(1);
  T b = base;
  using U = std::make_unsigned_t<E>;
  U n = U(e);
  while (n) {
    if (n & 1u) result = wrap_mul(result, b);
    n >>= 1;
    if (n) b = wrap_mul(b, b);
  }
  return result;
}

template <typename T, typename E>
T pow_value(T base, E e) {
  if constexpr (std::is_integral_v<T> && std::is_integral_v<E>) {
    return int_pow(base, e);
  } else {
    return saturate_to<T>(std::pow(double(base), double(e)));
  }
}

}  // namespace

void kernel_add(KernelContext& ctx) {
  binary_op<false, false>(ctx, [](auto a, auto b) { return wrap_add(a, b); });
}
void kernel_sub(KernelContext& ctx) {
  binary_op<false, false>(ctx, [](auto a, auto b) { return wrap_sub(a, b); });
}
void kernel_mul(KernelContext& ctx) {
  binary_op<false, false>(ctx, [](auto a, auto b) { return wrap_mul(a, b); });
}

void kernel_div(KernelContext& ctx) {
  binary_op<false, false>(ctx, [&](auto a, auto b) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T>) {
      if (b == T(0)) ctx.fail("integer division by zero");
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return wrap_sub(T(0), a);  // avoids MIN / -1 overflow
      }
      return T(a / b);
    } else {
      return a / b;
    }
  });
}

void kernel_mod(KernelContext& ctx) {
  const bool use_fmod = ctx.attr_int("fmod", 0) != 0;
  binary_op<false, false>(ctx, [&](auto a, auto b) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T>) {
      if (b == T(0)) ctx.fail("integer modulo by zero");
      if constexpr (std::is_signed_v<T>) {
        if (b == T(-1)) return T(0);
        T r = T(a % b);
        // Python-style: the remainder takes the sign of the divisor.
        if (!use_fmod && r != T(0) && ((r < T(0)) != (b < T(0)))) r = T(r + b);
        return r;
      } else {
        return T(a % b);
      }
    } else {
      T r = std::fmod(a, b);
      if (!use_fmod && r != T(0) && ((r < T(0)) != (b < T(0)))) r += b;
      return r;
    }
  });
}

// Pow: the exponent may have a different numeric type; the result has the base's type.
void kernel_pow(KernelContext& ctx) {
  const Tensor& a0 = ctx.input(0);
  const Tensor& b0 = ctx.input(1);
  const DType orig = a0.dtype();
  KERNEL_CHECK(ctx, orig != DType::Bool && b0.dtype() != DType::Bool, "bool inputs are not supported");
  Tensor a = ref::promote(a0);
  Tensor b = ref::promote(legacy_broadcast_b(ctx, a0, b0));
  // Exponent: keep it when it has the base's type, else widen to int64 or float64.
  if (b.dtype() != a.dtype()) {
    if (dtype_is_int(b.dtype())) {
      if (b.dtype() != DType::UInt64) b = cast_tensor(b, DType::Int64);
    } else {
      b = cast_tensor(b, DType::Float64);
    }
  }
  Shape out_shape = broadcast_or_fail(ctx, a.shape(), b.shape());
  Tensor y(a.dtype(), out_shape);
  dispatch_numeric(ctx, a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    auto run = [&](auto etag) {
      using E = typename decltype(etag)::type;
      const T* pa = a.data<T>();
      const E* pb = b.data<E>();
      T* out = y.data<T>();
      broadcast2(out_shape, a.shape(), b.shape(),
                 [&](int64_t o, int64_t i, int64_t j) { out[o] = pow_value(pa[i], pb[j]); });
    };
    if (b.dtype() == a.dtype()) run(type_tag<T>{});
    else if (b.dtype() == DType::Int64) run(type_tag<int64_t>{});
    else if (b.dtype() == DType::UInt64) run(type_tag<uint64_t>{});
    else run(type_tag<double>{});
  });
  ctx.set_output(0, ref::demote(y, orig));
}

void kernel_bitshift(KernelContext& ctx) {
  const std::string dir = ctx.attr_string("direction", "");
  KERNEL_CHECK(ctx, dir == "LEFT" || dir == "RIGHT", "attribute direction must be LEFT or RIGHT, got '", dir, "'");
  KERNEL_CHECK(ctx, dtype_is_unsigned_int(ctx.input(0).dtype()), "expected unsigned integer inputs, got ",
               dtype_name(ctx.input(0).dtype()));
  const bool left = dir == "LEFT";
  binary_op<false, false>(ctx, [=](auto a, auto b) {
    using T = decltype(a);
    if constexpr (std::is_integral_v<T> && std::is_unsigned_v<T>) {
      if (uint64_t(b) >= sizeof(T) * 8) return T(0);
      using W = wide_unsigned_t<T>;
      return left ? T(W(a) << b) : T(W(a) >> b);
    } else {
      return a;  // unreachable: checked above
    }
  });
}

void kernel_and(KernelContext& ctx) { logic_op(ctx, [](bool a, bool b) { return a && b; }); }
void kernel_or(KernelContext& ctx) { logic_op(ctx, [](bool a, bool b) { return a || b; }); }
void kernel_xor(KernelContext& ctx) { logic_op(ctx, [](bool a, bool b) { return a != b; }); }

void kernel_equal(KernelContext& ctx) {
  binary_op<true, true>(ctx, [](auto a, auto b) { return a == b; });
}
void kernel_greater(KernelContext& ctx) {
  binary_op<true, false>(ctx, [](auto a, auto b) { return a > b; });
}
void kernel_less(KernelContext& ctx) {
  binary_op<true, false>(ctx, [](auto a, auto b) { return a < b; });
}
void kernel_greaterorequal(KernelContext& ctx) {
  binary_op<true, false>(ctx, [](auto a, auto b) { return a >= b; });
}
void kernel_lessorequal(KernelContext& ctx) {
  binary_op<true, false>(ctx, [](auto a, auto b) { return a <= b; });
}

// PRelu: slope broadcasts (unidirectionally) to X. Before opset 7, a 1-D slope of
// length C applies per channel (axis 1), as Caffe2/PyTorch exported it.
void kernel_prelu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Tensor slope = ctx.input(1);
  if (ctx.opset() < 7 && slope.rank() == 1 && x.rank() >= 2 && slope.dim(0) == x.dim(1) && slope.dim(0) > 1) {
    Shape s(size_t(x.rank() - 1), 1);
    s[0] = slope.dim(0);
    slope = slope.reshaped(s);
  }
  Shape out_shape = broadcast_or_fail(ctx, x.shape(), slope.shape());
  KERNEL_CHECK(ctx, out_shape == x.shape(), "slope of shape ", shape_str(slope.shape()),
               " does not broadcast to the input shape ", shape_str(x.shape()));
  binary_op<false, false>(ctx, x, slope, [](auto a, auto s) {
    using T = decltype(a);
    if constexpr (std::is_unsigned_v<T>) return a;
    else return a < T(0) ? wrap_mul(s, a) : a;
  });
}

// ---- variadic ----

namespace {

// out = fold(inputs) with broadcasting; with `mean`, the sum is divided by the count.
template <typename F>
void variadic_op(KernelContext& ctx, bool float_only, F f, bool mean) {
  const size_t n = ctx.num_inputs();
  KERNEL_CHECK(ctx, n >= 1, "expected at least one input");
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, !float_only || dtype_is_float(orig), "expected floating-point inputs, got ",
               dtype_name(orig));
  Shape out_shape = ctx.input(0).shape();
  for (size_t k = 0; k < n; ++k) {
    const Tensor& t = ctx.input(k);
    KERNEL_CHECK(ctx, t.dtype() == orig, "input ", k, " has type ", dtype_name(t.dtype()), ", expected ",
                 dtype_name(orig));
    out_shape = broadcast_or_fail(ctx, out_shape, t.shape());
  }
  if (n == 1 && !mean) {
    ctx.set_output(0, ctx.input(0));
    return;
  }
  Tensor first = ref::promote(ctx.input(0));
  const DType work = first.dtype();
  Tensor y(work, out_shape);
  dispatch_numeric(ctx, work, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* out = y.data<T>();
    const T* p0 = first.data<T>();
    broadcast2(out_shape, out_shape, first.shape(), [&](int64_t o, int64_t, int64_t j) { out[o] = p0[j]; });
    for (size_t k = 1; k < n; ++k) {
      Tensor t = ref::promote(ctx.input(k));
      const T* pk = t.data<T>();
      broadcast2(out_shape, out_shape, t.shape(),
                 [&](int64_t o, int64_t i, int64_t j) { out[o] = f(out[i], pk[j]); });
    }
    if constexpr (std::is_floating_point_v<T>) {
      if (mean) {
        const T inv = T(1) / T(n);
        for (int64_t i = 0; i < y.numel(); ++i) out[i] *= inv;
      }
    }
  });
  ctx.set_output(0, ref::demote(y, orig));
}

template <typename T> T nan_max(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  }
  return a < b ? b : a;
}
template <typename T> T nan_min(T a, T b) {
  if constexpr (std::is_floating_point_v<T>) {
    if (std::isnan(a) || std::isnan(b)) return std::numeric_limits<T>::quiet_NaN();
  }
  return b < a ? b : a;
}

}  // namespace

void kernel_max(KernelContext& ctx) {
  variadic_op(ctx, false, [](auto a, auto b) { return nan_max(a, b); }, false);
}
void kernel_min(KernelContext& ctx) {
  variadic_op(ctx, false, [](auto a, auto b) { return nan_min(a, b); }, false);
}
void kernel_sum(KernelContext& ctx) {
  variadic_op(ctx, true, [](auto a, auto b) { return wrap_add(a, b); }, false);
}
void kernel_mean(KernelContext& ctx) {
  variadic_op(ctx, true, [](auto a, auto b) { return wrap_add(a, b); }, true);
}

// Where(condition, X, Y): three-way broadcast.
void kernel_where(KernelContext& ctx) {
  const Tensor& c = ctx.input(0);
  const Tensor& x = ctx.input(1);
  const Tensor& yv = ctx.input(2);
  KERNEL_CHECK(ctx, c.dtype() == DType::Bool, "condition must be bool, got ", dtype_name(c.dtype()));
  KERNEL_CHECK(ctx, x.dtype() == yv.dtype(), "X and Y must have the same type, got ", dtype_name(x.dtype()),
               " and ", dtype_name(yv.dtype()));
  Shape out_shape = broadcast_or_fail(ctx, broadcast_or_fail(ctx, c.shape(), x.shape()), yv.shape());
  Tensor& out_t = ctx.allocate_output(0, x.dtype(), out_shape);
  ref::dispatch_all(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const bool* pc = c.data<bool>();
    const T* px = x.data<T>();
    const T* py = yv.data<T>();
    T* out = out_t.data<T>();
    ref::for_each_broadcast(out_shape, {c.shape(), x.shape(), yv.shape()},
                            [&](int64_t o, int64_t i, int64_t j, int64_t k) { out[o] = pc[i] ? px[j] : py[k]; });
  });
}

}  // namespace pith
