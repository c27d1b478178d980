// Reductions: ReduceSum, ReduceMean, ReduceMax, ReduceMin, ReduceProd, ReduceL1, ReduceL2,
// ReduceLogSum, ReduceLogSumExp, ReduceSumSquare (keepdims, noop_with_empty_axes, empty
// reductions) and ArgMax/ArgMin (keepdims, select_last_index). Floats accumulate in
// double; integers in 64 bits with wrap-around.
#include <algorithm>
#include <cmath>
#include <limits>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

enum class Op { Sum, Mean, Max, Min, Prod, L1, L2, LogSum, LogSumExp, SumSquare };

template <typename A>
A wadd(A a, A b) {
  if constexpr (std::is_integral_v<A> && std::is_signed_v<A>)
    return A(uint64_t(a) + uint64_t(b));
  else
    return a + b;
}
template <typename A>
A wmul(A a, A b) {
  if constexpr (std::is_integral_v<A> && std::is_signed_v<A>)
    return A(uint64_t(a) * uint64_t(b));
  else
    return a * b;
}

// Calls f(in_offset, out_offset) for every input element, in input order.
template <typename F>
void visit(const Shape& in_shape, const Shape& out_strides, F&& f) {
  const size_t rank = in_shape.size();
  const int64_t total = shape_numel(in_shape);
  if (total == 0) return;
  if (rank == 0) {
    f(int64_t(0), int64_t(0));
    return;
  }
  const int64_t inner = in_shape[rank - 1], s = out_strides[rank - 1];
  Shape idx(rank, 0);
  int64_t o = 0;
  for (int64_t base = 0; base < total; base += inner) {
    for (int64_t j = 0; j < inner; ++j) f(base + j, o + j * s);
    for (size_t d = rank - 1; d-- > 0;) {
      ++idx[d];
      o += out_strides[d];
      if (idx[d] < in_shape[d]) break;
      o -= out_strides[d] * idx[d];
      idx[d] = 0;
    }
  }
}

template <typename T, typename A>
void reduce_typed(Op op, const T* x, T* y, const Shape& in_shape, const Shape& ostr, int64_t out_n, int64_t count) {
  constexpr bool fl = std::is_floating_point_v<A>;
  std::vector<A> acc(size_t(out_n), A(0));
  auto sum_with = [&](auto g) {
    visit(in_shape, ostr, [&](int64_t i, int64_t o) { acc[size_t(o)] = wadd<A>(acc[size_t(o)], g(A(x[i]))); });
  };
  switch (op) {
    case Op::Sum:
    case Op::Mean:
    case Op::LogSum:
      sum_with([](A v) { return v; });
      break;
    case Op::L1:
      sum_with([](A v) { return v < A(0) ? wmul<A>(v, A(-1)) : v; });
      break;
    case Op::L2:
    case Op::SumSquare:
      sum_with([](A v) { return wmul<A>(v, v); });
      break;
    case Op::Prod:
      std::fill(acc.begin(), acc.end(), A(1));
      visit(in_shape, ostr, [&](int64_t i, int64_t o) { acc[size_t(o)] = wmul<A>(acc[size_t(o)], A(x[i])); });
      break;
    case Op::Max:
    case Op::Min: {
      const bool mx = op == Op::Max;
      A init;
      if constexpr (fl)
        init = mx ? -std::numeric_limits<A>::infinity() : std::numeric_limits<A>::infinity();
      else
        init = A(mx ? std::numeric_limits<T>::lowest() : std::numeric_limits<T>::max());
      std::fill(acc.begin(), acc.end(), init);
      visit(in_shape, ostr, [&](int64_t i, int64_t o) {
        A v = A(x[i]);
        A& a = acc[size_t(o)];
        if constexpr (fl) {
          if (std::isnan(v)) {
            a = v;
            return;
          }
          if (std::isnan(a)) return;
        }
        if (mx ? v > a : v < a) a = v;
      });
      break;
    }
    case Op::LogSumExp:
      if constexpr (fl) {
        std::vector<A> m(size_t(out_n), -std::numeric_limits<A>::infinity());
        visit(in_shape, ostr, [&](int64_t i, int64_t o) { m[size_t(o)] = std::max(m[size_t(o)], A(x[i])); });
        for (auto& v : m)
          if (!std::isfinite(v)) v = 0;
        visit(in_shape, ostr, [&](int64_t i, int64_t o) { acc[size_t(o)] += std::exp(A(x[i]) - m[size_t(o)]); });
        for (int64_t o = 0; o < out_n; ++o) acc[size_t(o)] = std::log(acc[size_t(o)]) + m[size_t(o)];
      }
      break;
  }
  for (int64_t o = 0; o < out_n; ++o) {
    A v = acc[size_t(o)];
    if constexpr (fl) {
      if (op == Op::Mean)
        v = v / A(count);
      else if (op == Op::L2)
        v = std::sqrt(v);
      else if (op == Op::LogSum)
        v = std::log(v);
    } else {
      if (op == Op::Mean) v = count ? A(v / A(count)) : A(0);
    }
    if constexpr (fl && std::is_integral_v<T>) {
      // integer outputs of float-valued reductions (L2, LogSum...): no UB on inf/NaN
      if (std::isnan(v)) v = 0;
      if (v >= A(std::numeric_limits<T>::max())) {
        y[o] = std::numeric_limits<T>::max();
        continue;
      }
      if (v <= A(std::numeric_limits<T>::lowest())) {
        y[o] = std::numeric_limits<T>::lowest();
        continue;
      }
    }
    y[o] = T(v);
  }
}

void reduce(KernelContext& ctx, Op op, int64_t axes_input_since) {
  const Tensor& x0 = ctx.input(0);
  Shape axes;
  if (ctx.opset() >= axes_input_since) {
    if (ctx.has_input(1)) axes = ctx.input(1).to_int64_vector();
  } else {
    axes = ctx.attr_ints("axes");
  }
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  if (axes.empty() && ctx.attr_int("noop_with_empty_axes", 0) != 0) {
    ctx.set_output(0, x0);
    return;
  }
  const Tensor x = ref::promote(x0);
  const int64_t r = x.rank();
  Shape red(size_t(r), axes.empty() ? 1 : 0);  // per-axis flags, in place
  for (int64_t a : axes) {
    KERNEL_CHECK(ctx, a >= -r && a < r, "axis ", a, " is out of range for input ", shape_str(x.shape()));
    red[size_t(a < 0 ? a + r : a)] = true;
  }
  Shape kept_shape, out_shape;
  int64_t count = 1;
  for (int64_t d = 0; d < r; ++d) {
    const int64_t n = x.shape()[size_t(d)];
    if (red[size_t(d)]) {
      count *= n;
      kept_shape.push_back(1);
      if (keepdims) out_shape.push_back(1);
    } else {
      kept_shape.push_back(n);
      out_shape.push_back(n);
    }
  }
  Shape ostr = shape_strides(kept_shape);
  for (int64_t d = 0; d < r; ++d)
    if (red[size_t(d)]) ostr[size_t(d)] = 0;
  Tensor out(x.dtype(), out_shape);
  const int64_t out_n = out.numel();
  ref::dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    if constexpr (std::is_floating_point_v<T>) {
      reduce_typed<T, double>(op, x.data<T>(), out.data<T>(), x.shape(), ostr, out_n, count);
    } else {
      const bool exact = op == Op::Sum || op == Op::Prod || op == Op::SumSquare || op == Op::L1 || op == Op::Max ||
                         op == Op::Min || op == Op::Mean;
      using I = std::conditional_t<std::is_signed_v<T>, int64_t, uint64_t>;
      if (exact)
        reduce_typed<T, I>(op, x.data<T>(), out.data<T>(), x.shape(), ostr, out_n, count);
      else
        reduce_typed<T, double>(op, x.data<T>(), out.data<T>(), x.shape(), ostr, out_n, count);
    }
  });
  ctx.set_output(0, ref::demote(out, x0.dtype()));
}

void arg_reduce(KernelContext& ctx, bool is_max) {
  const Tensor x = ref::promote(ctx.input(0));
  const int64_t r = x.rank();
  KERNEL_CHECK(ctx, r >= 1, "the input must have rank >= 1");
  int64_t axis = ctx.attr_int("axis", 0);
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x.shape()));
  if (axis < 0) axis += r;
  const bool keepdims = ctx.attr_int("keepdims", 1) != 0;
  const bool last = ctx.attr_int("select_last_index", 0) != 0;
  const int64_t n = x.shape()[size_t(axis)];
  KERNEL_CHECK(ctx, n > 0, "cannot take the arg", is_max ? "max" : "min", " of an empty axis (", shape_str(x.shape()),
               ")");
  Shape out_shape = x.shape();
  if (keepdims)
    out_shape[size_t(axis)] = 1;
  else
    out_shape.erase(out_shape.begin() + axis);
  Tensor& out = ctx.allocate_output(0, DType::Int64, out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[size_t(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= x.shape()[size_t(d)];
  int64_t* y = out.data<int64_t>();
  ref::dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x.data<T>();
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* base = p + o * n * inner + i;
        int64_t best = 0;
        T bv = base[0];
        for (int64_t k = 1; k < n; ++k) {
          T v = base[k * inner];
          bool better = is_max ? (last ? v >= bv : v > bv) : (last ? v <= bv : v < bv);
          if (better) {
            bv = v;
            best = k;
          }
        }
        y[o * inner + i] = best;
      }
  });
}

}  // namespace

void kernel_reduce_sum(KernelContext& ctx) { reduce(ctx, Op::Sum, 13); }
void kernel_reduce_mean(KernelContext& ctx) { reduce(ctx, Op::Mean, 18); }
void kernel_reduce_max(KernelContext& ctx) { reduce(ctx, Op::Max, 18); }
void kernel_reduce_min(KernelContext& ctx) { reduce(ctx, Op::Min, 18); }
void kernel_reduce_prod(KernelContext& ctx) { reduce(ctx, Op::Prod, 18); }
void kernel_reduce_l1(KernelContext& ctx) { reduce(ctx, Op::L1, 18); }
void kernel_reduce_l2(KernelContext& ctx) { reduce(ctx, Op::L2, 18); }
void kernel_reduce_log_sum(KernelContext& ctx) { reduce(ctx, Op::LogSum, 18); }
void kernel_reduce_log_sum_exp(KernelContext& ctx) { reduce(ctx, Op::LogSumExp, 18); }
void kernel_reduce_sum_square(KernelContext& ctx) { reduce(ctx, Op::SumSquare, 18); }
void kernel_arg_max(KernelContext& ctx) { arg_reduce(ctx, true); }
void kernel_arg_min(KernelContext& ctx) { arg_reduce(ctx, false); }

}  // namespace pith
