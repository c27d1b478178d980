// Sorting ops: TopK (largest/smallest, ties resolved by the smaller index first) and
// Unique (sorted or in order of first occurrence, flattened or along an axis, with the
// indices, inverse_indices and counts outputs).
#include <algorithm>
#include <cstring>
#include <numeric>

#include "runtime/kernels/reference/common.h"

namespace pith {

void kernel_top_k(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const Tensor x = ref::promote(x0);
  const int64_t r = x.rank();
  KERNEL_CHECK(ctx, r >= 1, "the input must have rank >= 1");
  int64_t axis = ctx.attr_int("axis", -1);
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x.shape()));
  if (axis < 0) axis += r;
  int64_t k;
  if (ctx.opset() >= 10) {
    const Tensor& kt = ctx.input(1);
    KERNEL_CHECK(ctx, kt.numel() == 1, "K must hold one value, got shape ", shape_str(kt.shape()));
    k = kt.as_int64(0);
  } else {
    KERNEL_CHECK(ctx, ctx.has_attr("k"), "the k attribute is required");
    k = ctx.attr_int("k", 0);
  }
  const int64_t n = x.shape()[size_t(axis)];
  KERNEL_CHECK(ctx, k >= 0 && k <= n, "k = ", k, " must be in [0, ", n, "] (axis ", axis, " of ", shape_str(x.shape()),
               ")");
  const bool largest = ctx.attr_int("largest", 1) != 0;
  Shape out_shape = x.shape();
  out_shape[size_t(axis)] = k;
  Tensor values(x.dtype(), out_shape);
  Tensor& indices = ctx.allocate_output(1, DType::Int64, out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= x.shape()[size_t(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= x.shape()[size_t(d)];
  int64_t* oi = indices.data<int64_t>();
  ref::dispatch_numeric(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x.data<T>();
    T* ov = values.data<T>();
    Shape order(static_cast<size_t>(n));
    std::vector<T> row(static_cast<size_t>(n));
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t i = 0; i < inner; ++i) {
        const T* base = p + o * n * inner + i;
        for (int64_t j = 0; j < n; ++j) row[size_t(j)] = base[j * inner];
        std::iota(order.begin(), order.end(), int64_t(0));
        auto cmp = [&](int64_t a, int64_t b) {
          const T va = row[size_t(a)], vb = row[size_t(b)];
          if (va != vb) return largest ? va > vb : va < vb;
          return a < b;
        };
        std::partial_sort(order.begin(), order.begin() + k, order.end(), cmp);
        for (int64_t j = 0; j < k; ++j) {
          const int64_t dst = (o * k + j) * inner + i;
          ov[dst] = row[size_t(order[size_t(j)])];
          oi[dst] = order[size_t(j)];
        }
      }
  });
  ctx.set_output(0, ref::demote(values, x0.dtype()));
}

void kernel_unique(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const bool sorted = ctx.attr_int("sorted", 1) != 0;
  const bool has_axis = ctx.has_attr("axis");
  const Tensor xflat = has_axis ? x0 : x0.reshaped({x0.numel()});
  const int64_t r = xflat.rank();
  KERNEL_CHECK(ctx, r >= 1, "the input must have rank >= 1 when an axis is given");
  int64_t axis = has_axis ? ctx.attr_int("axis", 0) : 0;
  KERNEL_CHECK(ctx, axis >= -r && axis < r, "axis ", axis, " is out of range for input ", shape_str(x0.shape()));
  if (axis < 0) axis += r;
  const Tensor xc = ref::promote(xflat);  // comparison copy (half types as float)
  const int64_t n = xflat.shape()[size_t(axis)];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < axis; ++d) outer *= xflat.shape()[size_t(d)];
  for (int64_t d = axis + 1; d < r; ++d) inner *= xflat.shape()[size_t(d)];

  Shape order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), int64_t(0));
  Shape group(static_cast<size_t>(n));  // group id of each unit, in sorted order of groups
  int64_t groups = 0;
  ref::dispatch_all(ctx, xc.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = xc.data<T>();
    auto compare = [&](int64_t a, int64_t b) -> int {
      for (int64_t o = 0; o < outer; ++o)
        for (int64_t i = 0; i < inner; ++i) {
          const T va = p[(o * n + a) * inner + i], vb = p[(o * n + b) * inner + i];
          if (va < vb) return -1;
          if (vb < va) return 1;
        }
      return 0;
    };
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return compare(a, b) < 0; });
    for (int64_t j = 0; j < n; ++j) {
      if (j == 0 || compare(order[size_t(j - 1)], order[size_t(j)]) != 0) ++groups;
      group[size_t(order[size_t(j)])] = groups - 1;
    }
  });
  // first occurrence and count per group (sorted order)
  Shape first(size_t(groups), -1), count(size_t(groups), 0);
  for (int64_t u = 0; u < n; ++u) {
    const int64_t g = group[size_t(u)];
    if (first[size_t(g)] < 0) first[size_t(g)] = u;
    ++count[size_t(g)];
  }
  // output position of each group
  Shape pos(static_cast<size_t>(groups));
  std::iota(pos.begin(), pos.end(), int64_t(0));
  if (!sorted) {
    Shape by_first(static_cast<size_t>(groups));
    std::iota(by_first.begin(), by_first.end(), int64_t(0));
    std::sort(by_first.begin(), by_first.end(),
              [&](int64_t a, int64_t b) { return first[size_t(a)] < first[size_t(b)]; });
    for (int64_t j = 0; j < groups; ++j) pos[size_t(by_first[size_t(j)])] = j;
  }
  Shape y_shape = xflat.shape();
  y_shape[size_t(axis)] = groups;
  Tensor& y = ctx.allocate_output(0, x0.dtype(), y_shape);
  Shape out_first(static_cast<size_t>(groups)), out_count(static_cast<size_t>(groups)), inverse(static_cast<size_t>(n));
  for (int64_t g = 0; g < groups; ++g) {
    out_first[size_t(pos[size_t(g)])] = first[size_t(g)];
    out_count[size_t(pos[size_t(g)])] = count[size_t(g)];
  }
  for (int64_t u = 0; u < n; ++u) inverse[size_t(u)] = pos[size_t(group[size_t(u)])];
  const size_t es = dtype_size(x0.dtype());
  const size_t blk = size_t(inner) * es;
  const auto* src = static_cast<const uint8_t*>(xflat.raw());
  auto* dst = static_cast<uint8_t*>(y.raw());
  if (blk)
    for (int64_t o = 0; o < outer; ++o)
      for (int64_t j = 0; j < groups; ++j)
        std::memcpy(dst + size_t(o * groups + j) * blk, src + size_t(o * n + out_first[size_t(j)]) * blk, blk);
  if (ctx.wants_output(1)) ctx.set_output(1, Tensor::from_vector<int64_t>(out_first, {groups}));
  if (ctx.wants_output(2)) ctx.set_output(2, Tensor::from_vector<int64_t>(inverse, {n}));
  if (ctx.wants_output(3)) ctx.set_output(3, Tensor::from_vector<int64_t>(out_count, {groups}));
}

}  // namespace pith
