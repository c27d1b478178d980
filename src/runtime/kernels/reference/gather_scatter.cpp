// Indexing ops: Gather, GatherElements, GatherND, ScatterElements (and its deprecated
// alias Scatter), ScatterND, OneHot. Negative indices wrap once; any index still outside
// its axis throws an Error naming the index and the valid range.
#include <algorithm>
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Wraps a negative index and checks it against an axis of size `dim`.
int64_t checked_index(const KernelContext& ctx, int64_t i, int64_t dim, int64_t axis) {
  if (i < -dim || i >= dim)
    ctx.fail("index ", i, " is out of range: axis ", axis, " has size ", dim, ", valid indices are [", -dim, ", ",
             dim - 1, "]");
  return i < 0 ? i + dim : i;
}

Shape read_indices(const KernelContext& ctx, size_t input) {
  const Tensor& t = ctx.input(input);
  KERNEL_CHECK(ctx, t.dtype() == DType::Int64 || t.dtype() == DType::Int32, "indices must be int32 or int64, got ",
               dtype_name(t.dtype()));
  return t.to_int64_vector();
}

int64_t normalized_axis(const KernelContext& ctx, int64_t axis, int64_t rank, const Shape& shape) {
  KERNEL_CHECK(ctx, axis >= -rank && axis < rank, "axis ", axis, " is out of range for shape ", shape_str(shape));
  return axis < 0 ? axis + rank : axis;
}

enum class Reduction { None, Add, Mul, Max, Min };

Reduction parse_reduction(const KernelContext& ctx) {
  std::string r = ctx.attr_string("reduction", "none");
  if (r == "none") return Reduction::None;
  if (r == "add") return Reduction::Add;
  if (r == "mul") return Reduction::Mul;
  if (r == "max") return Reduction::Max;
  if (r == "min") return Reduction::Min;
  ctx.fail("unknown reduction '", r, "' (expected none, add, mul, max or min)");
}

template <typename T>
void apply(T& dst, T v, Reduction r) {
  switch (r) {
    case Reduction::None:
      dst = v;
      break;
    case Reduction::Add:
      if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
        dst = T(std::make_unsigned_t<T>(dst) + std::make_unsigned_t<T>(v));
      else
        dst = T(dst + v);
      break;
    case Reduction::Mul:
      if constexpr (std::is_integral_v<T> && std::is_signed_v<T>)
        dst = T(std::make_unsigned_t<T>(dst) * std::make_unsigned_t<T>(v));
      else if constexpr (std::is_integral_v<T>)
        dst = T(uint64_t(dst) * uint64_t(v));
      else
        dst = T(dst * v);
      break;
    case Reduction::Max:
      dst = std::max(dst, v);
      break;
    case Reduction::Min:
      dst = std::min(dst, v);
      break;
  }
}

// Calls f(type_tag<T>) for the element type used to apply `r`: raw storage types for plain
// assignment, numeric types (half promoted by the caller) for arithmetic.
template <typename F>
void dispatch_for(const KernelContext& ctx, DType t, Reduction r, F&& f) {
  if (r == Reduction::None) {
    ref::dispatch_all(ctx, t, std::forward<F>(f));
  } else {
    KERNEL_CHECK(ctx, t != DType::Bool, "reduction is not defined for bool tensors");
    ref::dispatch_numeric(ctx, t, std::forward<F>(f));
  }
}

// Visits every index of `shape`, calling f(flat_index, index_vector).
template <typename F>
void for_each_index(const Shape& shape, F&& f) {
  const int64_t total = shape_numel(shape);
  Shape idx(shape.size(), 0);
  for (int64_t flat = 0; flat < total; ++flat) {
    f(flat, idx);
    for (size_t d = shape.size(); d-- > 0;) {
      if (++idx[d] < shape[d]) break;
      idx[d] = 0;
    }
  }
}

// Shared by ScatterElements and Scatter.
void scatter_elements(KernelContext& ctx, Reduction red) {
  const Tensor& data0 = ctx.input(0);
  const Tensor& ind_t = ctx.input(1);
  const Tensor& upd0 = ctx.input(2);
  const int64_t r = data0.rank();
  KERNEL_CHECK(ctx, r >= 1, "data must have rank >= 1");
  KERNEL_CHECK(ctx, ind_t.rank() == r, "indices ", shape_str(ind_t.shape()), " must have the rank of data ",
               shape_str(data0.shape()));
  KERNEL_CHECK(ctx, upd0.shape() == ind_t.shape(), "updates ", shape_str(upd0.shape()),
               " must have the shape of indices ", shape_str(ind_t.shape()));
  KERNEL_CHECK(ctx, upd0.dtype() == data0.dtype(), "updates type ", dtype_name(upd0.dtype()),
               " differs from data type ", dtype_name(data0.dtype()));
  const int64_t axis = normalized_axis(ctx, ctx.attr_int("axis", 0), r, data0.shape());
  for (int64_t d = 0; d < r; ++d)
    KERNEL_CHECK(ctx, d == axis || ind_t.shape()[size_t(d)] <= data0.shape()[size_t(d)], "indices ",
                 shape_str(ind_t.shape()), " exceed data ", shape_str(data0.shape()), " in dimension ", d);
  const Shape idx = read_indices(ctx, 1);
  const int64_t dim = data0.shape()[size_t(axis)];
  for (int64_t i : idx) checked_index(ctx, i, dim, axis);
  const bool promote = red != Reduction::None && ref::is_half(data0.dtype());
  const Tensor data = promote ? ref::promote(data0) : data0;
  const Tensor upd = promote ? ref::promote(upd0) : upd0;
  Tensor out = data.clone();
  const Shape strides = shape_strides(data.shape());
  dispatch_for(ctx, data.dtype(), red, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T* u = upd.data<T>();
    for_each_index(ind_t.shape(), [&](int64_t flat, const Shape& ix) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) {
        int64_t v = d == axis ? idx[size_t(flat)] : ix[size_t(d)];
        if (v < 0) v += dim;
        off += v * strides[size_t(d)];
      }
      apply<T>(o[off], u[flat], red);
    });
  });
  ctx.set_output(0, promote ? ref::demote(out, data0.dtype()) : out);
}

}  // namespace

void kernel_gather(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind_t = ctx.input(1);
  const int64_t r = data.rank();
  KERNEL_CHECK(ctx, r >= 1, "data must have rank >= 1");
  const int64_t axis = normalized_axis(ctx, ctx.attr_int("axis", 0), r, data.shape());
  Shape idx = read_indices(ctx, 1);
  const int64_t dim = data.shape()[size_t(axis)];
  for (int64_t& i : idx) i = checked_index(ctx, i, dim, axis);
  Shape out_shape(data.shape().begin(), data.shape().begin() + axis);
  out_shape.insert(out_shape.end(), ind_t.shape().begin(), ind_t.shape().end());
  out_shape.insert(out_shape.end(), data.shape().begin() + axis + 1, data.shape().end());
  Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
  const size_t es = dtype_size(data.dtype());
  const int64_t outer = prod(data.shape(), 0, size_t(axis));
  const size_t inner = size_t(prod(data.shape(), size_t(axis) + 1, data.shape().size())) * es;
  if (inner == 0 || out.numel() == 0) return;
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t i : idx) {
      std::memcpy(dst, src + size_t(o * dim + i) * inner, inner);
      dst += inner;
    }
}

void kernel_gather_elements(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind_t = ctx.input(1);
  const int64_t r = data.rank();
  KERNEL_CHECK(ctx, r >= 1, "data must have rank >= 1");
  KERNEL_CHECK(ctx, ind_t.rank() == r, "indices ", shape_str(ind_t.shape()), " must have the rank of data ",
               shape_str(data.shape()));
  const int64_t axis = normalized_axis(ctx, ctx.attr_int("axis", 0), r, data.shape());
  for (int64_t d = 0; d < r; ++d)
    KERNEL_CHECK(ctx, d == axis || ind_t.shape()[size_t(d)] <= data.shape()[size_t(d)], "indices ",
                 shape_str(ind_t.shape()), " exceed data ", shape_str(data.shape()), " in dimension ", d);
  Shape idx = read_indices(ctx, 1);
  const int64_t dim = data.shape()[size_t(axis)];
  for (int64_t& i : idx) i = checked_index(ctx, i, dim, axis);
  Tensor& out = ctx.allocate_output(0, data.dtype(), ind_t.shape());
  const Shape strides = shape_strides(data.shape());
  ref::dispatch_all(ctx, data.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = data.data<T>();
    T* dst = out.data<T>();
    for_each_index(ind_t.shape(), [&](int64_t flat, const Shape& ix) {
      int64_t off = 0;
      for (int64_t d = 0; d < r; ++d) off += (d == axis ? idx[size_t(flat)] : ix[size_t(d)]) * strides[size_t(d)];
      dst[flat] = src[off];
    });
  });
}

void kernel_gather_nd(KernelContext& ctx) {
  const Tensor& data = ctx.input(0);
  const Tensor& ind_t = ctx.input(1);
  const int64_t r = data.rank(), q = ind_t.rank();
  const int64_t b = ctx.attr_int("batch_dims", 0);
  KERNEL_CHECK(ctx, r >= 1 && q >= 1, "data and indices must have rank >= 1");
  KERNEL_CHECK(ctx, b >= 0 && b < q && b < r, "batch_dims ", b, " must be less than the ranks of data (", r,
               ") and indices (", q, ")");
  const int64_t k = ind_t.shape()[size_t(q - 1)];
  KERNEL_CHECK(ctx, k >= 1 && k <= r - b, "the last dimension of indices (", k, ") must be in [1, ", r - b, "]");
  for (int64_t d = 0; d < b; ++d)
    KERNEL_CHECK(ctx, ind_t.shape()[size_t(d)] == data.shape()[size_t(d)], "batch dimension ", d, " differs: indices ",
                 shape_str(ind_t.shape()), ", data ", shape_str(data.shape()));
  const Shape idx = read_indices(ctx, 1);
  Shape out_shape(ind_t.shape().begin(), ind_t.shape().end() - 1);
  out_shape.insert(out_shape.end(), data.shape().begin() + b + k, data.shape().end());
  Tensor& out = ctx.allocate_output(0, data.dtype(), out_shape);
  const size_t es = dtype_size(data.dtype());
  const Shape strides = shape_strides(data.shape());
  const int64_t batches = prod(data.shape(), 0, size_t(b));
  const int64_t per_batch = prod(ind_t.shape(), size_t(b), size_t(q - 1));
  const int64_t batch_size = prod(data.shape(), size_t(b), data.shape().size());
  const size_t slice = size_t(prod(data.shape(), size_t(b + k), data.shape().size())) * es;
  const auto* src = static_cast<const uint8_t*>(data.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t bi = 0; bi < batches; ++bi)
    for (int64_t j = 0; j < per_batch; ++j) {
      const int64_t* t = idx.data() + (bi * per_batch + j) * k;
      int64_t off = bi * batch_size;
      for (int64_t m = 0; m < k; ++m)
        off += checked_index(ctx, t[m], data.shape()[size_t(b + m)], b + m) * strides[size_t(b + m)];
      if (slice) std::memcpy(dst, src + size_t(off) * es, slice);
      dst += slice;
    }
}

void kernel_scatter_elements(KernelContext& ctx) {
  scatter_elements(ctx, ctx.opset() >= 16 ? parse_reduction(ctx) : Reduction::None);
}

void kernel_scatter(KernelContext& ctx) { scatter_elements(ctx, Reduction::None); }

void kernel_scatter_nd(KernelContext& ctx) {
  const Tensor& data0 = ctx.input(0);
  const Tensor& ind_t = ctx.input(1);
  const Tensor& upd0 = ctx.input(2);
  const int64_t r = data0.rank(), q = ind_t.rank();
  KERNEL_CHECK(ctx, r >= 1 && q >= 1, "data and indices must have rank >= 1");
  const int64_t k = ind_t.shape()[size_t(q - 1)];
  KERNEL_CHECK(ctx, k >= 1 && k <= r, "the last dimension of indices (", k, ") must be in [1, ", r, "]");
  Shape upd_shape(ind_t.shape().begin(), ind_t.shape().end() - 1);
  upd_shape.insert(upd_shape.end(), data0.shape().begin() + k, data0.shape().end());
  KERNEL_CHECK(ctx, upd0.shape() == upd_shape, "updates have shape ", shape_str(upd0.shape()), ", expected ",
               shape_str(upd_shape));
  KERNEL_CHECK(ctx, upd0.dtype() == data0.dtype(), "updates type ", dtype_name(upd0.dtype()),
               " differs from data type ", dtype_name(data0.dtype()));
  const Reduction red = ctx.opset() >= 16 ? parse_reduction(ctx) : Reduction::None;
  const Shape idx = read_indices(ctx, 1);
  const Shape strides = shape_strides(data0.shape());
  const int64_t n = prod(ind_t.shape(), 0, size_t(q - 1));
  const int64_t slice = prod(data0.shape(), size_t(k), data0.shape().size());
  Shape offsets(static_cast<size_t>(n));
  for (int64_t j = 0; j < n; ++j) {
    int64_t off = 0;
    for (int64_t m = 0; m < k; ++m)
      off += checked_index(ctx, idx[size_t(j * k + m)], data0.shape()[size_t(m)], m) * strides[size_t(m)];
    offsets[size_t(j)] = off;
  }
  const bool promote = red != Reduction::None && ref::is_half(data0.dtype());
  const Tensor data = promote ? ref::promote(data0) : data0;
  const Tensor upd = promote ? ref::promote(upd0) : upd0;
  Tensor out = data.clone();
  dispatch_for(ctx, data.dtype(), red, [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* o = out.data<T>();
    const T* u = upd.data<T>();
    for (int64_t j = 0; j < n; ++j)
      for (int64_t e = 0; e < slice; ++e) apply<T>(o[offsets[size_t(j)] + e], u[j * slice + e], red);
  });
  ctx.set_output(0, promote ? ref::demote(out, data0.dtype()) : out);
}

void kernel_one_hot(KernelContext& ctx) {
  const Tensor& ind_t = ctx.input(0);
  const Tensor& depth_t = ctx.input(1);
  const Tensor& values = ctx.input(2);
  KERNEL_CHECK(ctx, depth_t.numel() == 1, "depth must be a scalar, got shape ", shape_str(depth_t.shape()));
  KERNEL_CHECK(ctx, values.numel() == 2, "values must hold [off_value, on_value], got shape ",
               shape_str(values.shape()));
  const double depth_d = depth_t.as_double(0);
  KERNEL_CHECK(ctx, depth_d >= 1 && depth_d < 1e9, "depth must be positive, got ", depth_d);
  const int64_t depth = int64_t(depth_d);
  const int64_t r = ind_t.rank();
  int64_t axis = ctx.attr_int("axis", -1);
  KERNEL_CHECK(ctx, axis >= -(r + 1) && axis <= r, "axis ", axis, " is out of range for output rank ", r + 1);
  if (axis < 0) axis += r + 1;
  Shape out_shape = ind_t.shape();
  out_shape.insert(out_shape.begin() + axis, depth);
  Tensor& out = ctx.allocate_output(0, values.dtype(), out_shape);
  const size_t es = dtype_size(values.dtype());
  const auto* vals = static_cast<const uint8_t*>(values.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(dst + size_t(i) * es, vals, es);
  const int64_t outer = prod(ind_t.shape(), 0, size_t(axis));
  const int64_t inner = prod(ind_t.shape(), size_t(axis), ind_t.shape().size());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t j = 0; j < inner; ++j) {
      const double v = ind_t.as_double(o * inner + j);
      if (!(v >= -double(depth) && v < double(depth))) continue;  // out of range: all off
      int64_t c = int64_t(v);
      if (c < 0) c += depth;
      std::memcpy(dst + size_t((o * depth + c) * inner + j) * es, vals + es, es);
    }
}

}  // namespace pith
