// Det: determinants of square matrices (the last two axes), by LU decomposition with
// partial pivoting in double precision.
#include <cmath>
#include <utility>

#include "runtime/kernels/reference/common.h"

namespace pith {

void kernel_det(KernelContext& ctx) {
  const Tensor& x0 = ctx.input(0);
  const Tensor x = ref::promote(x0);
  KERNEL_CHECK(ctx, x.rank() >= 2, "the input must have rank >= 2, got shape ", shape_str(x.shape()));
  const int64_t n = x.dim(-1);
  KERNEL_CHECK(ctx, x.dim(-2) == n, "the last two dimensions must be equal (square matrices), got ", shape_str(x.shape()));
  Shape out_shape(x.shape().begin(), x.shape().end() - 2);
  Tensor out(x.dtype(), out_shape);
  const int64_t mats = out.numel();
  std::vector<double> a(static_cast<size_t>(n * n));
  ref::dispatch_float(ctx, x.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* p = x.data<T>();
    for (int64_t m = 0; m < mats; ++m) {
      for (int64_t i = 0; i < n * n; ++i) a[size_t(i)] = double(p[m * n * n + i]);
      double det = 1;
      for (int64_t c = 0; c < n && det != 0; ++c) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < n; ++r)
          if (std::fabs(a[size_t(r * n + c)]) > std::fabs(a[size_t(piv * n + c)])) piv = r;
        if (a[size_t(piv * n + c)] == 0) { det = 0; break; }
        if (piv != c) {
          for (int64_t k = 0; k < n; ++k) std::swap(a[size_t(piv * n + k)], a[size_t(c * n + k)]);
          det = -det;
        }
        const double d = a[size_t(c * n + c)];
        det *= d;
        for (int64_t r = c + 1; r < n; ++r) {
          const double f = a[size_t(r * n + c)] / d;
          if (f == 0) continue;
          for (int64_t k = c; k < n; ++k) a[size_t(r * n + k)] -= f * a[size_t(c * n + k)];
        }
      }
      out.data<T>()[m] = T(det);
    }
  });
  ctx.set_output(0, ref::demote(out, x0.dtype()));
}

}  // namespace pith
