// Einsum: general Einstein summation over any number of operands — explicit ("ij,jk->ik")
// and implicit outputs, ellipsis with broadcasting, repeated labels within an operand
// (diagonals) and reductions. A direct index loop: output labels outside, summed labels
// inside, with per-operand strides (repeated labels add their strides).
#include <algorithm>
#include <string>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {
namespace {

constexpr int kEllipsisMarker = -1;
constexpr int kLetters = 52;  // 'A'..'Z' -> 0..25, 'a'..'z' -> 26..51 (ASCII order); ellipsis dims after

// Parses one term into label ids (kEllipsisMarker for "...").
std::vector<int> parse_term(const KernelContext& ctx, const std::string& term) {
  std::vector<int> out;
  bool seen_ellipsis = false;
  for (size_t i = 0; i < term.size(); ++i) {
    const char c = term[i];
    if (c == '.') {
      KERNEL_CHECK(ctx, term.compare(i, 3, "...") == 0, "malformed ellipsis in einsum term '", term, "'");
      KERNEL_CHECK(ctx, !seen_ellipsis, "einsum term '", term, "' has more than one ellipsis");
      seen_ellipsis = true;
      out.push_back(kEllipsisMarker);
      i += 2;
    } else if (c >= 'A' && c <= 'Z') {
      out.push_back(c - 'A');
    } else if (c >= 'a' && c <= 'z') {
      out.push_back(26 + (c - 'a'));
    } else {
      ctx.fail("einsum equation has invalid character '", c, "'");
    }
  }
  return out;
}

template <typename T>
void einsum_loop(const std::vector<const T*>& xs, const std::vector<Shape>& strides, const Shape& sizes, size_t n_out,
                 T* y) {
  const size_t n_ops = xs.size(), n_loop = sizes.size();
  int64_t O = 1, R = 1;
  for (size_t l = 0; l < n_loop; ++l) (l < n_out ? O : R) *= sizes[l];
  using Acc = std::conditional_t<std::is_floating_point_v<T>, double, uint64_t>;
  Shape oidx(n_out, 0), ridx(n_loop - n_out, 0), off(n_ops, 0), inner(n_ops, 0);
  for (int64_t o = 0; o < O; ++o) {
    Acc acc = 0;
    if (R > 0) {
      std::copy(off.begin(), off.end(), inner.begin());
      std::fill(ridx.begin(), ridx.end(), 0);
      for (int64_t r = 0; r < R; ++r) {
        Acc prod = 1;
        for (size_t i = 0; i < n_ops; ++i) {
          if constexpr (std::is_floating_point_v<T>)
            prod *= Acc(xs[i][inner[i]]);
          else
            prod *= Acc(int64_t(xs[i][inner[i]]));
        }
        acc += prod;
        for (size_t l = n_loop; l-- > n_out;) {
          const size_t k = l - n_out;
          ++ridx[k];
          for (size_t i = 0; i < n_ops; ++i) inner[i] += strides[i][l];
          if (ridx[k] < sizes[l]) break;
          for (size_t i = 0; i < n_ops; ++i) inner[i] -= strides[i][l] * ridx[k];
          ridx[k] = 0;
        }
      }
    }
    y[o] = T(acc);
    for (size_t l = n_out; l-- > 0;) {
      ++oidx[l];
      for (size_t i = 0; i < n_ops; ++i) off[i] += strides[i][l];
      if (oidx[l] < sizes[l]) break;
      for (size_t i = 0; i < n_ops; ++i) off[i] -= strides[i][l] * oidx[l];
      oidx[l] = 0;
    }
  }
}

}  // namespace

void kernel_einsum(KernelContext& ctx) {
  std::string eq;
  for (char c : ctx.attr_string("equation", ""))
    if (c != ' ') eq += c;
  KERNEL_CHECK(ctx, !eq.empty(), "attribute equation is required");
  const size_t arrow = eq.find("->");
  const bool explicit_out = arrow != std::string::npos;
  const std::string lhs = explicit_out ? eq.substr(0, arrow) : eq;
  const std::string rhs = explicit_out ? eq.substr(arrow + 2) : "";
  std::vector<std::string> terms(1);
  for (char c : lhs) {
    if (c == ',')
      terms.emplace_back();
    else
      terms.back() += c;
  }
  const size_t n_ops = ctx.num_inputs();
  KERNEL_CHECK(ctx, terms.size() == n_ops, "einsum equation '", eq, "' has ", terms.size(),
               " operands but the node has ", n_ops, " inputs");
  const DType orig = ctx.input(0).dtype();
  std::vector<Tensor> xs;
  for (size_t i = 0; i < n_ops; ++i) {
    KERNEL_CHECK(ctx, ctx.input(i).dtype() == orig, "einsum inputs must share one type");
    xs.push_back(ref::promote(ctx.input(i)));
  }
  // Expand each term to one label per dimension.
  std::vector<std::vector<int>> dims_labels(n_ops);
  std::vector<std::vector<int>> parsed(n_ops);
  int64_t max_ell = 0;
  for (size_t i = 0; i < n_ops; ++i) {
    parsed[i] = parse_term(ctx, terms[i]);
    const bool has_ell = std::count(parsed[i].begin(), parsed[i].end(), kEllipsisMarker) > 0;
    const int64_t letters = int64_t(parsed[i].size()) - (has_ell ? 1 : 0);
    const int64_t ell = xs[i].rank() - letters;
    KERNEL_CHECK(ctx, ell >= 0 && (has_ell || ell == 0), "einsum term '", terms[i], "' does not match input ", i,
                 " of shape ", shape_str(xs[i].shape()));
    max_ell = std::max(max_ell, ell);
  }
  Shape label_size(size_t(kLetters + max_ell), -1);
  std::vector<int> count(size_t(kLetters + max_ell), 0);
  for (size_t i = 0; i < n_ops; ++i) {
    const int64_t ell = xs[i].rank() - (int64_t(parsed[i].size()) -
                                        (std::count(parsed[i].begin(), parsed[i].end(), kEllipsisMarker) ? 1 : 0));
    for (int l : parsed[i]) {
      if (l == kEllipsisMarker) {
        for (int64_t j = 0; j < ell; ++j) dims_labels[i].push_back(int(kLetters + max_ell - ell + j));
      } else {
        dims_labels[i].push_back(l);
      }
    }
    for (size_t d = 0; d < dims_labels[i].size(); ++d) {
      const int l = dims_labels[i][d];
      const int64_t n = xs[i].shape()[d];
      ++count[size_t(l)];
      int64_t& s = label_size[size_t(l)];
      if (s == -1 || (l >= kLetters && s == 1)) {
        s = n;
      } else if (l < kLetters || n != 1) {
        KERNEL_CHECK(ctx, s == n, "einsum label sizes disagree: ", s, " vs ", n, " in input ", i, " of shape ",
                     shape_str(xs[i].shape()));
      }
    }
  }
  // Output labels.
  std::vector<int> out_labels;
  if (explicit_out) {
    for (int l : parse_term(ctx, rhs)) {
      if (l == kEllipsisMarker) {
        for (int64_t j = 0; j < max_ell; ++j) out_labels.push_back(int(kLetters + j));
      } else {
        KERNEL_CHECK(ctx, count[size_t(l)] > 0, "einsum output label in '", rhs, "' does not appear in any input");
        KERNEL_CHECK(ctx, std::find(out_labels.begin(), out_labels.end(), l) == out_labels.end(), "einsum output '",
                     rhs, "' repeats a label");
        out_labels.push_back(l);
      }
    }
  } else {
    for (int64_t j = 0; j < max_ell; ++j) out_labels.push_back(int(kLetters + j));
    for (int l = 0; l < kLetters; ++l)
      if (count[size_t(l)] == 1) out_labels.push_back(l);
  }
  std::vector<int> loop = out_labels;
  for (int l = 0; l < int(count.size()); ++l)
    if (count[size_t(l)] > 0 && std::find(out_labels.begin(), out_labels.end(), l) == out_labels.end())
      loop.push_back(l);
  Shape sizes;
  for (int l : loop) sizes.push_back(std::max<int64_t>(label_size[size_t(l)], 1));
  // Ellipsis labels no input uses (can happen only when max_ell counts them) get size 1 above.
  std::vector<Shape> strides(n_ops, Shape(loop.size(), 0));
  for (size_t i = 0; i < n_ops; ++i) {
    Shape st = shape_strides(xs[i].shape());
    for (size_t d = 0; d < dims_labels[i].size(); ++d) {
      const int l = dims_labels[i][d];
      if (xs[i].shape()[d] == 1 && label_size[size_t(l)] != 1) continue;  // broadcast
      const size_t pos = size_t(std::find(loop.begin(), loop.end(), l) - loop.begin());
      strides[i][pos] += st[d];
    }
  }
  Shape out_shape;
  for (size_t k = 0; k < out_labels.size(); ++k) out_shape.push_back(sizes[k]);
  // A zero-size label makes its extent 0.
  for (size_t k = 0; k < loop.size(); ++k)
    if (label_size[size_t(loop[k])] == 0) sizes[k] = 0;
  for (size_t k = 0; k < out_labels.size(); ++k) out_shape[k] = sizes[k];
  Tensor y(xs[0].dtype(), out_shape);
  ref::dispatch_numeric(ctx, xs[0].dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    std::vector<const T*> ptrs;
    for (auto& t : xs) ptrs.push_back(t.data<T>());
    einsum_loop<T>(ptrs, strides, sizes, out_labels.size(), y.data<T>());
  });
  ctx.set_output(0, ref::demote(y, orig));
}

}  // namespace pith
