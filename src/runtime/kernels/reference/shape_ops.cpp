// Shape ops: Reshape, Flatten, Squeeze, Unsqueeze, Shape, Size, ConstantOfShape,
// Dropout (inference, plus training mode), EyeLike. Ops that only change the shape
// return views sharing the input's storage.
#include <algorithm>
#include <cstring>
#include <random>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

// Reads a list of ints from input `i` (opset >= since) or attribute `attr` (older opsets).
Shape axes_of(const KernelContext& ctx, size_t input, const char* attr, int64_t since) {
  if (ctx.opset() >= since) return ctx.has_input(input) ? ctx.input(input).to_int64_vector() : Shape{};
  return ctx.attr_ints(attr);
}

}  // namespace

void kernel_reshape(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape want;
  if (ctx.opset() >= 5) {
    const Tensor& s = ctx.input(1);
    KERNEL_CHECK(ctx, s.rank() == 1, "the shape input must be 1-D, got shape ", shape_str(s.shape()));
    KERNEL_CHECK(ctx, dtype_is_int(s.dtype()), "the shape input must be int64, got ", dtype_name(s.dtype()));
    want = s.to_int64_vector();
  } else {
    want = ctx.attr_ints("shape");
  }
  const bool allowzero = ctx.attr_int("allowzero", 0) != 0;
  Shape out(want.size());
  int infer = -1;
  int64_t known = 1;
  for (size_t i = 0; i < want.size(); ++i) {
    int64_t d = want[i];
    if (d == -1) {
      KERNEL_CHECK(ctx, infer < 0, "the shape ", shape_str(want), " has more than one -1");
      infer = int(i);
      continue;
    }
    if (d == 0 && !allowzero) {
      KERNEL_CHECK(ctx, i < x.shape().size(), "shape entry ", i, " is 0 (copy the input dimension) but the input ",
                   shape_str(x.shape()), " has rank ", x.rank());
      d = x.shape()[i];
    }
    KERNEL_CHECK(ctx, d >= 0, "invalid shape entry ", want[i], " at position ", i, " in ", shape_str(want));
    out[i] = d;
    known *= d;
  }
  if (infer >= 0) {
    KERNEL_CHECK(ctx, known != 0 || x.numel() == 0, "cannot infer -1 in ", shape_str(want));
    KERNEL_CHECK(ctx, known != 0 && x.numel() % known == 0, "cannot reshape ", shape_str(x.shape()), " to ",
                 shape_str(want), ": ", x.numel(), " elements are not divisible by ", known);
    out[size_t(infer)] = x.numel() / known;
  }
  KERNEL_CHECK(ctx, shape_numel(out) == x.numel(), "cannot reshape ", shape_str(x.shape()), " (", x.numel(),
               " elements) to ", shape_str(out));
  ctx.set_output(0, x.reshaped(out));
}

void kernel_flatten(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  int64_t r = x.rank();
  int64_t axis = ctx.attr_int("axis", 1);
  KERNEL_CHECK(ctx, axis >= -r && axis <= r, "axis ", axis, " is out of range [", -r, ", ", r, "] for input ",
               shape_str(x.shape()));
  if (axis < 0) axis += r;
  int64_t a = 1, b = 1;
  for (int64_t i = 0; i < r; ++i) (i < axis ? a : b) *= x.shape()[size_t(i)];
  ctx.set_output(0, x.reshaped({a, b}));
}

void kernel_squeeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape axes = axes_of(ctx, 1, "axes", 13);
  const int64_t r = x.rank();
  Shape drop(size_t(r), 0);  // per-axis flags, in place
  if (axes.empty()) {
    for (int64_t i = 0; i < r; ++i) drop[size_t(i)] = x.shape()[size_t(i)] == 1;
  } else {
    for (int64_t a : axes) {
      KERNEL_CHECK(ctx, a >= -r && a < r, "axis ", a, " is out of range [", -r, ", ", r - 1, "] for input ",
                   shape_str(x.shape()));
      int64_t n = a < 0 ? a + r : a;
      KERNEL_CHECK(ctx, x.shape()[size_t(n)] == 1, "cannot squeeze axis ", a, " of shape ", shape_str(x.shape()),
                   ": its size is not 1");
      drop[size_t(n)] = true;
    }
  }
  Shape out;
  for (int64_t i = 0; i < r; ++i)
    if (!drop[size_t(i)]) out.push_back(x.shape()[size_t(i)]);
  ctx.set_output(0, x.reshaped(out));
}

void kernel_unsqueeze(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  Shape axes = axes_of(ctx, 1, "axes", 13);
  KERNEL_CHECK(ctx, !axes.empty(), "axes are required");
  const int64_t r = x.rank() + int64_t(axes.size());
  Shape added(size_t(r), 0);  // per-axis flags, in place
  for (int64_t a : axes) {
    KERNEL_CHECK(ctx, a >= -r && a < r, "axis ", a, " is out of range [", -r, ", ", r - 1, "] for output rank ", r);
    int64_t n = a < 0 ? a + r : a;
    KERNEL_CHECK(ctx, !added[size_t(n)], "axis ", a, " is repeated");
    added[size_t(n)] = true;
  }
  Shape out;
  size_t k = 0;
  for (int64_t i = 0; i < r; ++i) out.push_back(added[size_t(i)] ? 1 : x.shape()[k++]);
  ctx.set_output(0, x.reshaped(out));
}

void kernel_shape(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const int64_t r = x.rank();
  int64_t start = ctx.attr_int("start", 0), end = ctx.attr_int("end", r);
  if (start < 0) start += r;
  if (end < 0) end += r;
  start = std::clamp<int64_t>(start, 0, r);
  end = std::clamp<int64_t>(end, 0, r);
  Shape dims;
  for (int64_t i = start; i < end; ++i) dims.push_back(x.shape()[size_t(i)]);
  ctx.set_output(0, Tensor::from_vector<int64_t>(dims, {int64_t(dims.size())}));
}

void kernel_size(KernelContext& ctx) { ctx.set_output(0, Tensor::scalar<int64_t>(ctx.input(0).numel())); }

void kernel_constant_of_shape(KernelContext& ctx) {
  const Tensor& s = ctx.input(0);
  KERNEL_CHECK(ctx, s.rank() == 1, "the shape input must be 1-D, got shape ", shape_str(s.shape()));
  Shape shape = s.to_int64_vector();
  for (int64_t d : shape) KERNEL_CHECK(ctx, d >= 0, "negative dimension in shape ", shape_str(shape));
  const Attribute* a = ctx.node().attr("value");
  if (!a || !a->t.defined()) {
    ctx.allocate_output(0, DType::Float32, shape);
    return;
  }
  const Tensor& v = a->t;
  KERNEL_CHECK(ctx, v.numel() == 1, "the value attribute must hold one element, got shape ", shape_str(v.shape()));
  Tensor& out = ctx.allocate_output(0, v.dtype(), shape);
  const size_t es = dtype_size(v.dtype());
  auto* dst = static_cast<uint8_t*>(out.raw());
  const auto* src = static_cast<const uint8_t*>(v.raw());
  for (int64_t i = 0; i < out.numel(); ++i) std::memcpy(dst + size_t(i) * es, src, es);
}

void kernel_dropout(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  float ratio = 0.5f;
  bool training = false;
  if (ctx.opset() >= 12) {
    if (ctx.has_input(1)) {
      const Tensor& r = ctx.input(1);
      KERNEL_CHECK(ctx, r.numel() == 1, "ratio must be a scalar, got shape ", shape_str(r.shape()));
      ratio = float(r.as_double(0));
    }
    if (ctx.has_input(2)) {
      const Tensor& t = ctx.input(2);
      KERNEL_CHECK(ctx, t.numel() == 1, "training_mode must be a scalar, got shape ", shape_str(t.shape()));
      training = t.as_double(0) != 0;
    }
  } else {
    // Before opset 12 the ratio is an attribute and inference runs never drop.
    ratio = ctx.attr_float("ratio", 0.5f);
  }
  KERNEL_CHECK(ctx, ratio >= 0 && ratio < 1, "ratio must be in [0, 1), got ", ratio);
  const bool want_mask = ctx.wants_output(1) && ctx.num_outputs() > 1;
  const DType mask_type = ctx.opset() >= 10 ? DType::Bool : x.dtype();
  if (!training || ratio == 0) {
    ctx.set_output(0, x);
    if (want_mask) {
      Tensor& m = ctx.allocate_output(1, mask_type, x.shape());
      if (mask_type == DType::Bool) {
        std::fill_n(m.data<bool>(), m.numel(), true);
      } else {
        ctx.set_output(1, cast_tensor(Tensor::from_vector<bool>(std::vector<bool>(size_t(x.numel()), true), x.shape()),
                                      mask_type));
      }
    }
    return;
  }
  // Training mode: random mask, kept values scaled by 1 / (1 - ratio).
  std::mt19937_64 rng(uint64_t(ctx.attr_int("seed", 0)));
  std::uniform_real_distribution<float> uni(0.f, 1.f);
  Tensor xf = ref::promote(x);
  Tensor out(xf.dtype(), x.shape());
  Tensor mask(DType::Bool, x.shape());
  const double scale = 1.0 / (1.0 - ratio);
  ref::dispatch_float(ctx, xf.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    const T* src = xf.data<T>();
    T* dst = out.data<T>();
    for (int64_t i = 0; i < x.numel(); ++i) {
      bool keep = uni(rng) >= ratio;
      mask.data<bool>()[i] = keep;
      dst[i] = keep ? T(double(src[i]) * scale) : T(0);
    }
  });
  ctx.set_output(0, ref::demote(out, x.dtype()));
  if (want_mask) ctx.set_output(1, mask_type == DType::Bool ? mask : cast_tensor(mask, mask_type));
}

void kernel_eye_like(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  KERNEL_CHECK(ctx, x.rank() == 2, "the input must be 2-D, got shape ", shape_str(x.shape()));
  DType dt = ctx.has_attr("dtype") ? DType(ctx.attr_int("dtype", 1)) : x.dtype();
  KERNEL_CHECK(ctx, dtype_is_storable(dt) && dt != DType::String, "unsupported dtype ", int(dt));
  const int64_t k = ctx.attr_int("k", 0);
  const int64_t rows = x.shape()[0], cols = x.shape()[1];
  Tensor eye(DType::Float32, x.shape());
  for (int64_t i = 0; i < rows; ++i) {
    // j = i + k, computed without overflow for huge k
    if (k >= cols || k <= -rows) break;
    int64_t j = i + k;
    if (j >= 0 && j < cols) eye.data<float>()[i * cols + j] = 1.f;
  }
  ctx.set_output(0, dt == DType::Float32 ? eye : cast_tensor(eye, dt));
}

}  // namespace pith
