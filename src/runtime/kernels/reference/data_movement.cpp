// Data movement: Transpose, Concat, Split, Slice, Expand, Tile, Range, Trilu, CumSum,
// NonZero, Compress, ReverseSequence. Copy-like ops move elements by type (dispatch_all)
// or by bytes, with the innermost dimension as the tight loop.
#include <algorithm>
#include <climits>
#include <cstring>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

// out[i...] = in[base + sum(i_d * strides[d])] for every index of out_shape.
template <typename E>
void strided_copy_typed(const E* src, int64_t base, const Shape& strides, const Shape& out_shape, E* dst) {
  const size_t rank = out_shape.size();
  const int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  if (rank == 0) {
    dst[0] = src[base];
    return;
  }
  const int64_t inner = out_shape[rank - 1];
  const int64_t s = strides[rank - 1];
  Shape idx(rank, 0);
  int64_t off = base;
  for (int64_t o = 0; o < total; o += inner) {
    if (s == 1) {
      std::copy(src + off, src + off + inner, dst + o);
    } else {
      for (int64_t j = 0; j < inner; ++j) dst[o + j] = src[off + j * s];
    }
    for (size_t d = rank - 1; d-- > 0;) {
      ++idx[d];
      off += strides[d];
      if (idx[d] < out_shape[d]) break;
      off -= strides[d] * idx[d];
      idx[d] = 0;
    }
  }
}

void strided_copy(const KernelContext& ctx, const Tensor& in, int64_t base, const Shape& strides, Tensor& out) {
  ref::dispatch_all(ctx, in.dtype(), [&](auto tag) {
    using E = typename decltype(tag)::type;
    strided_copy_typed<E>(in.data<E>(), base, strides, out.shape(), out.data<E>());
  });
}

int64_t prod(const Shape& s, size_t from, size_t to) {
  int64_t p = 1;
  for (size_t i = from; i < to && i < s.size(); ++i) p *= s[i];
  return p;
}

// Scalar (or one-element) integer input.
int64_t scalar_int(const KernelContext& ctx, size_t i, const char* what) {
  const Tensor& t = ctx.input(i);
  KERNEL_CHECK(ctx, t.numel() == 1, what, " must be a scalar, got shape ", shape_str(t.shape()));
  return t.as_int64(0);
}

template <typename T>
T add_wrap(T a, T b) {
  if constexpr (std::is_integral_v<T> && std::is_signed_v<T>) {
    using U = std::make_unsigned_t<T>;
    return T(U(a) + U(b));
  } else {
    return T(a + b);
  }
}

}  // namespace

void kernel_transpose(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  Shape perm = ctx.attr_ints("perm");
  if (perm.empty()) {
    for (int64_t i = r - 1; i >= 0; --i) perm.push_back(i);
  }
  KERNEL_CHECK(ctx, int64_t(perm.size()) == r, "perm ", shape_str(perm), " has ", perm.size(),
               " entries for input rank ", r);
  Shape seen(size_t(r), 0);  // per-axis flags, in place
  Shape out_shape(static_cast<size_t>(r));
  Shape in_strides = shape_strides(x.shape()), strides(static_cast<size_t>(r));
  for (int64_t i = 0; i < r; ++i) {
    int64_t p = perm[size_t(i)];
    KERNEL_CHECK(ctx, p >= -r && p < r, "perm ", shape_str(perm), " is not a permutation of 0..", r - 1);
    if (p < 0) p += r;
    KERNEL_CHECK(ctx, !seen[size_t(p)], "perm ", shape_str(perm), " repeats axis ", p);
    seen[size_t(p)] = true;
    out_shape[size_t(i)] = x.shape()[size_t(p)];
    strides[size_t(i)] = in_strides[size_t(p)];
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  strided_copy(ctx, x, 0, strides, out);
}

void kernel_concat(KernelContext& ctx) {
  const size_t n = ctx.num_inputs();
  KERNEL_CHECK(ctx, n >= 1, "needs at least one input");
  const Tensor& first = ctx.input(0);
  const int64_t r = first.rank();
  KERNEL_CHECK(ctx, r >= 1, "cannot concatenate scalars");
  int64_t axis = ctx.attr_int("axis", ctx.opset() < 4 ? 1 : 0);
  KERNEL_CHECK(ctx, ctx.opset() < 4 || ctx.has_attr("axis"), "the axis attribute is required");
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for rank ", r);
  if (axis < 0) axis += r;
  Shape out_shape = first.shape();
  out_shape[size_t(axis)] = 0;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = ctx.input(i);
    KERNEL_CHECK(ctx, t.dtype() == first.dtype(), "input ", i, " has type ", dtype_name(t.dtype()), ", input 0 has ",
                 dtype_name(first.dtype()));
    KERNEL_CHECK(ctx, t.rank() == r, "input ", i, " has shape ", shape_str(t.shape()), ", input 0 has ",
                 shape_str(first.shape()), " (ranks differ)");
    for (int64_t d = 0; d < r; ++d) {
      if (d == axis) continue;
      KERNEL_CHECK(ctx, t.shape()[size_t(d)] == first.shape()[size_t(d)], "input ", i, " has shape ",
                   shape_str(t.shape()), ", incompatible with input 0's ", shape_str(first.shape()), " outside axis ",
                   axis);
    }
    out_shape[size_t(axis)] += t.shape()[size_t(axis)];
  }
  // Uninitialized: every byte is written, and inputs the memory plan placed inside the
  // output must not be cleared.
  Tensor& out = ctx.allocate_output_uninitialized(0, first.dtype(), out_shape);
  if (out.numel() == 0) return;
  const size_t es = dtype_size(first.dtype());
  const int64_t outer = prod(out_shape, 0, size_t(axis));
  const int64_t inner = prod(out_shape, size_t(axis) + 1, out_shape.size());
  const size_t out_row = size_t(out_shape[size_t(axis)] * inner) * es;
  auto* dst = static_cast<uint8_t*>(out.raw());
  size_t col = 0;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& t = ctx.input(i);
    const size_t row = size_t(t.shape()[size_t(axis)] * inner) * es;
    if (row == 0) continue;
    const auto* src = static_cast<const uint8_t*>(t.raw());
    if (outer == 1 && src == dst + col) {  // in place: the memory plan had its producer write it there
      col += row;
      continue;
    }
    for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + size_t(o) * out_row + col, src + size_t(o) * row, row);
    col += row;
  }
}

void kernel_split(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  KERNEL_CHECK(ctx, r >= 1, "cannot split a scalar");
  int64_t axis = ctx.attr_int("axis", 0);
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x.shape()));
  if (axis < 0) axis += r;
  const int64_t dim = x.shape()[size_t(axis)];
  const size_t n_out = ctx.num_outputs();
  Shape split;
  if (ctx.opset() >= 13) {
    if (ctx.has_input(1)) split = ctx.input(1).to_int64_vector();
  } else if (ctx.opset() >= 2) {
    split = ctx.attr_ints("split");
  } else {
    split = ctx.has_input(1) ? ctx.input(1).to_int64_vector() : ctx.attr_ints("split");
  }
  if (split.empty()) {
    KERNEL_CHECK(ctx, n_out > 0, "no outputs");
    const int64_t n = int64_t(n_out);
    if (ctx.has_attr("num_outputs") || dim % n != 0) {
      // opset 18 semantics: chunks of ceil(dim / n), the last one smaller
      KERNEL_CHECK(ctx, ctx.has_attr("num_outputs"), "axis ", axis, " of size ", dim, " cannot be split into ", n,
                   " equal parts");
      const int64_t chunk = (dim + n - 1) / n;
      for (int64_t i = 0; i < n; ++i) split.push_back(std::max<int64_t>(0, std::min(chunk, dim - i * chunk)));
    } else {
      split.assign(n_out, dim / n);
    }
  }
  KERNEL_CHECK(ctx, split.size() == n_out, "split has ", split.size(), " entries but the node has ", n_out, " outputs");
  int64_t sum = 0;
  for (int64_t s : split) {
    KERNEL_CHECK(ctx, s >= 0, "negative split size ", s);
    sum += s;
  }
  KERNEL_CHECK(ctx, sum == dim, "split sizes ", shape_str(split), " sum to ", sum, ", but axis ", axis, " has size ",
               dim);
  const size_t es = dtype_size(x.dtype());
  const int64_t outer = prod(x.shape(), 0, size_t(axis));
  const int64_t inner = prod(x.shape(), size_t(axis) + 1, x.shape().size());
  const size_t in_row = size_t(dim * inner) * es;
  const auto* src = static_cast<const uint8_t*>(x.raw());
  size_t col = 0;
  for (size_t i = 0; i < n_out; ++i) {
    Shape s = x.shape();
    s[size_t(axis)] = split[i];
    const size_t row = size_t(split[i] * inner) * es;
    if (!ctx.wants_output(i)) {
      col += row;
      continue;
    }
    Tensor& out = ctx.allocate_output(i, x.dtype(), s);
    auto* dst = static_cast<uint8_t*>(out.raw());
    if (row != 0)
      for (int64_t o = 0; o < outer; ++o) std::memcpy(dst + size_t(o) * row, src + size_t(o) * in_row + col, row);
    col += row;
  }
}

void kernel_slice(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  Shape starts, ends, axes, steps;
  if (ctx.opset() >= 10) {
    starts = ctx.input(1).to_int64_vector();
    ends = ctx.input(2).to_int64_vector();
    if (ctx.has_input(3)) axes = ctx.input(3).to_int64_vector();
    if (ctx.has_input(4)) steps = ctx.input(4).to_int64_vector();
  } else {
    starts = ctx.attr_ints("starts");
    ends = ctx.attr_ints("ends");
    axes = ctx.attr_ints("axes");
  }
  KERNEL_CHECK(ctx, starts.size() == ends.size(), "starts has ", starts.size(), " entries but ends has ", ends.size());
  if (axes.empty())
    for (size_t i = 0; i < starts.size(); ++i) axes.push_back(int64_t(i));
  if (steps.empty()) steps.assign(starts.size(), 1);
  KERNEL_CHECK(ctx, axes.size() == starts.size(), "axes has ", axes.size(), " entries but starts has ", starts.size());
  KERNEL_CHECK(ctx, steps.size() == starts.size(), "steps has ", steps.size(), " entries but starts has ",
               starts.size());
  Shape out_shape = x.shape();
  Shape begin(size_t(r), 0), step(size_t(r), 1);
  Shape seen(size_t(r), 0);  // per-axis flags, in place
  for (size_t i = 0; i < axes.size(); ++i) {
    int64_t a = axes[i];
    KERNEL_CHECK(ctx, a >= -r && a < r, "axis ", a, " is out of range for input ", shape_str(x.shape()));
    if (a < 0) a += r;
    KERNEL_CHECK(ctx, !seen[size_t(a)], "axis ", axes[i], " is repeated");
    seen[size_t(a)] = true;
    const int64_t d = x.shape()[size_t(a)];
    int64_t s = starts[i], e = ends[i], st = steps[i];
    KERNEL_CHECK(ctx, st != 0, "step for axis ", a, " is 0");
    if (s < 0) s += d;
    if (e < 0) e += d;
    int64_t n;
    if (st > 0) {
      s = std::clamp<int64_t>(s, 0, d);
      e = std::clamp<int64_t>(e, 0, d);
      n = e > s ? (e - s - 1) / st + 1 : 0;
    } else {
      s = std::clamp<int64_t>(s, 0, d - 1);
      e = std::clamp<int64_t>(e, -1, d - 1);
      n = s > e ? (st == INT64_MIN ? 1 : (s - e - 1) / (-st) + 1) : 0;
    }
    out_shape[size_t(a)] = n;
    begin[size_t(a)] = n > 0 ? s : 0;
    step[size_t(a)] = st;
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  if (out.numel() == 0) return;
  Shape in_strides = shape_strides(x.shape()), strides(static_cast<size_t>(r));
  int64_t base = 0;
  for (int64_t d = 0; d < r; ++d) {
    base += begin[size_t(d)] * in_strides[size_t(d)];
    // a dimension of output size 1 never advances, so its (possibly huge) step is irrelevant
    strides[size_t(d)] = out_shape[size_t(d)] > 1 ? step[size_t(d)] * in_strides[size_t(d)] : 0;
  }
  strided_copy(ctx, x, base, strides, out);
}

void kernel_expand(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& s = ctx.input(1);
  KERNEL_CHECK(ctx, s.rank() == 1, "the shape input must be 1-D, got shape ", shape_str(s.shape()));
  Shape want = s.to_int64_vector();
  for (int64_t d : want) KERNEL_CHECK(ctx, d >= 0, "negative dimension in shape ", shape_str(want));
  Shape out_shape;
  try {
    out_shape = broadcast_shapes(x.shape(), want);
  } catch (const Error& e) {
    ctx.fail("cannot expand ", shape_str(x.shape()), " to ", shape_str(want), ": ", e.what());
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  strided_copy(ctx, x, 0, broadcast_strides(x.shape(), out_shape), out);
}

void kernel_tile(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape reps = ctx.input(1).to_int64_vector();
  const size_t r = size_t(x.rank());
  KERNEL_CHECK(ctx, reps.size() == r, "repeats has ", reps.size(), " entries for input ", shape_str(x.shape()));
  Shape out_shape(r);
  for (size_t d = 0; d < r; ++d) {
    KERNEL_CHECK(ctx, reps[d] >= 0, "negative repeat ", reps[d], " for axis ", d);
    out_shape[d] = x.shape()[d] * reps[d];
  }
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  if (out.numel() == 0) return;
  const size_t es = dtype_size(x.dtype());
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  if (r == 0) {
    std::memcpy(dst, src, es);
    return;
  }
  const size_t row = size_t(x.shape()[r - 1]) * es;
  const Shape in_strides = shape_strides(x.shape());
  Shape idx(r, 0);  // output index over dims [0, r-1)
  const int64_t rows = out.numel() / out_shape[r - 1];
  size_t o = 0;
  for (int64_t k = 0; k < rows; ++k) {
    int64_t off = 0;
    for (size_t d = 0; d + 1 < r; ++d) off += (idx[d] % x.shape()[d]) * in_strides[d];
    for (int64_t t = 0; t < reps[r - 1]; ++t, o += row) std::memcpy(dst + o, src + size_t(off) * es, row);
    for (size_t d = r - 1; d-- > 0;) {
      if (++idx[d] < out_shape[d]) break;
      idx[d] = 0;
    }
  }
}

void kernel_range(KernelContext& ctx) {
  const Tensor& ts = ctx.input(0);
  const Tensor& tl = ctx.input(1);
  const Tensor& td = ctx.input(2);
  KERNEL_CHECK(ctx, ts.numel() == 1 && tl.numel() == 1 && td.numel() == 1, "start, limit and delta must be scalars");
  KERNEL_CHECK(ctx, ts.dtype() == tl.dtype() && ts.dtype() == td.dtype(), "start, limit and delta must have one type");
  ref::dispatch_numeric(ctx, ts.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T start = ts.data<T>()[0], limit = tl.data<T>()[0], delta = td.data<T>()[0];
    KERNEL_CHECK(ctx, delta != T(0), "delta must not be zero");
    int64_t n;
    if constexpr (std::is_floating_point_v<T>) {
      double c = std::ceil((double(limit) - double(start)) / double(delta));
      KERNEL_CHECK(ctx, std::isfinite(c), "the number of elements is not finite");
      KERNEL_CHECK(ctx, c < 1e10, "Range would produce ", c, " elements");
      n = c > 0 ? int64_t(c) : 0;
    } else {
      long double c = std::ceil(((long double)limit - (long double)start) / (long double)delta);
      KERNEL_CHECK(ctx, c < 1e10L, "Range would produce ", double(c), " elements");
      n = c > 0 ? int64_t(c) : 0;
    }
    Tensor& out = ctx.allocate_output(0, ts.dtype(), {n});
    T* o = out.data<T>();
    if constexpr (std::is_floating_point_v<T>) {
      for (int64_t i = 0; i < n; ++i) o[i] = T(start + T(i) * delta);
    } else {
      T v = start;
      for (int64_t i = 0; i < n; ++i, v = add_wrap<T>(v, delta)) o[i] = v;
    }
  });
}

void kernel_trilu(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  KERNEL_CHECK(ctx, x.rank() >= 2, "the input must have rank >= 2, got shape ", shape_str(x.shape()));
  const int64_t k = ctx.has_input(1) ? scalar_int(ctx, 1, "k") : 0;
  const bool upper = ctx.attr_int("upper", 1) != 0;
  Tensor out = x.clone();
  const int64_t rows = x.dim(-2), cols = x.dim(-1);
  const int64_t mats = rows != 0 && cols != 0 ? x.numel() / (rows * cols) : 0;
  const size_t es = dtype_size(x.dtype());
  auto* p = static_cast<uint8_t*>(out.raw());
  for (int64_t m = 0; m < mats; ++m)
    for (int64_t i = 0; i < rows; ++i)
      for (int64_t j = 0; j < cols; ++j) {
        // keep j - i >= k (upper) or j - i <= k (lower); compare without overflow
        const int64_t diff = j - i;
        const bool keep = upper ? diff >= k : diff <= k;
        if (!keep) std::memset(p + size_t((m * rows + i) * cols + j) * es, 0, es);
      }
  ctx.set_output(0, out);
}

void kernel_cumsum(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const Tensor x = ref::promote(x0);
  const int64_t r = x.rank();
  KERNEL_CHECK(ctx, r >= 1, "the input must have rank >= 1");
  int64_t axis = scalar_int(ctx, 1, "axis");
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x.shape()));
  if (axis < 0) axis += r;
  const bool exclusive = ctx.attr_int("exclusive", 0) != 0, reverse = ctx.attr_int("reverse", 0) != 0;
  const int64_t outer = prod(x.shape(), 0, size_t(axis)), n = x.shape()[size_t(axis)];
  const int64_t inner = prod(x.shape(), size_t(axis) + 1, x.shape().size());
  Tensor out(x.dtype(), x.shape());
  ref::dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = x.data<T>();
    T* dst = out.data<T>();
    std::vector<T> acc(static_cast<size_t>(inner));
    for (int64_t o = 0; o < outer; ++o) {
      std::fill(acc.begin(), acc.end(), T(0));
      for (int64_t s = 0; s < n; ++s) {
        const int64_t k = reverse ? n - 1 - s : s;
        const int64_t off = (o * n + k) * inner;
        for (int64_t i = 0; i < inner; ++i) {
          if (exclusive) {
            dst[off + i] = acc[size_t(i)];
            acc[size_t(i)] = add_wrap<T>(acc[size_t(i)], src[off + i]);
          } else {
            acc[size_t(i)] = add_wrap<T>(acc[size_t(i)], src[off + i]);
            dst[off + i] = acc[size_t(i)];
          }
        }
      }
    }
  });
  ctx.set_output(0, ref::demote(out, x0.dtype()));
}

void kernel_non_zero(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t total = x.numel();
  Shape hits;
  ref::dispatch_all(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x.data<T>();
    const bool half = ref::is_half(x.dtype());
    for (int64_t i = 0; i < total; ++i) {
      bool nz;
      if constexpr (std::is_same_v<T, uint16_t>)
        nz = half ? (p[i] & 0x7fff) != 0 : p[i] != 0;
      else
        nz = p[i] != T(0);
      if (nz) hits.push_back(i);
    }
  });
  const Shape shape = x.rank() == 0 ? Shape{1} : x.shape();
  const int64_t r = int64_t(shape.size()), nnz = int64_t(hits.size());
  Tensor& out = ctx.allocate_output(0, DType::Int64, {r, nnz});
  int64_t* o = out.data<int64_t>();
  for (int64_t k = 0; k < nnz; ++k) {
    int64_t flat = hits[size_t(k)];
    for (int64_t d = r - 1; d >= 0; --d) {
      o[d * nnz + k] = flat % shape[size_t(d)];
      flat /= shape[size_t(d)];
    }
  }
}

void kernel_compress(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const Tensor& cond = ctx.input(1);
  KERNEL_CHECK(ctx, cond.rank() == 1, "condition must be 1-D, got shape ", shape_str(cond.shape()));
  const bool has_axis = ctx.has_attr("axis");
  const Tensor x = has_axis ? x0 : x0.reshaped({x0.numel()});
  const int64_t r = x.rank();
  int64_t axis = has_axis ? ctx.attr_int("axis", 0) : 0;
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x.shape()));
  if (axis < 0) axis += r;
  const int64_t dim = x.shape()[size_t(axis)];
  Shape keep;
  for (int64_t i = 0; i < cond.numel(); ++i) {
    if (cond.as_double(i) == 0) continue;
    KERNEL_CHECK(ctx, i < dim, "condition selects index ", i, " but axis ", axis, " has size ", dim);
    keep.push_back(i);
  }
  Shape out_shape = x.shape();
  out_shape[size_t(axis)] = int64_t(keep.size());
  Tensor& out = ctx.allocate_output(0, x.dtype(), out_shape);
  const size_t es = dtype_size(x.dtype());
  const int64_t outer = prod(x.shape(), 0, size_t(axis));
  const size_t inner = size_t(prod(x.shape(), size_t(axis) + 1, x.shape().size())) * es;
  if (inner == 0) return;
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t o = 0; o < outer; ++o)
    for (int64_t k : keep) {
      std::memcpy(dst, src + (size_t(o * dim + k)) * inner, inner);
      dst += inner;
    }
}

void kernel_reverse_sequence(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& lens_t = ctx.input(1);
  KERNEL_CHECK(ctx, x.rank() >= 2, "the input must have rank >= 2, got shape ", shape_str(x.shape()));
  const int64_t time_axis = ctx.attr_int("time_axis", 0), batch_axis = ctx.attr_int("batch_axis", 1);
  KERNEL_CHECK(ctx, (time_axis == 0 && batch_axis == 1) || (time_axis == 1 && batch_axis == 0),
               "time_axis and batch_axis must be 0 and 1 (in either order), got ", time_axis, " and ", batch_axis);
  const int64_t max_time = x.shape()[size_t(time_axis)], batch = x.shape()[size_t(batch_axis)];
  Shape lens = lens_t.to_int64_vector();
  KERNEL_CHECK(ctx, int64_t(lens.size()) == batch, "sequence_lens has ", lens.size(), " entries for batch size ",
               batch);
  Tensor out = x.clone();
  const Shape strides = shape_strides(x.shape());
  const size_t es = dtype_size(x.dtype());
  const size_t inner = size_t(prod(x.shape(), 2, x.shape().size())) * es;
  const auto* src = static_cast<const uint8_t*>(x.raw());
  auto* dst = static_cast<uint8_t*>(out.raw());
  for (int64_t b = 0; b < batch; ++b) {
    const int64_t len = lens[size_t(b)];
    KERNEL_CHECK(ctx, len >= 0 && len <= max_time, "sequence_lens[", b, "] = ", len, " is outside [0, ", max_time, "]");
    if (inner == 0) continue;
    for (int64_t t = 0; t < len; ++t) {
      const int64_t from = b * strides[size_t(batch_axis)] + (len - 1 - t) * strides[size_t(time_axis)];
      const int64_t to = b * strides[size_t(batch_axis)] + t * strides[size_t(time_axis)];
      std::memcpy(dst + size_t(to) * es, src + size_t(from) * es, inner);
    }
  }
  ctx.set_output(0, out);
}

}  // namespace pith
