// Elementwise float32 kernels, one source for every Highway target:
//   unary: Relu, Clip, LeakyRelu, Sigmoid, HardSigmoid, HardSwish, Tanh, Exp, Erf, Sqrt,
//          Neg, Abs, Reciprocal, and Pow with the scalar exponent 2 (x * x, which is
//          what pow gives: the square of a float is exact in double);
//   binary: Add, Sub, Mul, Div with the broadcasts that reduce to at most three merged
//          dimensions (same shape, scalar, per-channel [1,C,1,1], last-dim [D], ...).
// Anything else (other dtypes, pre-opset-7 broadcasting, other broadcasts) goes to the
// reference kernel. The last partial vector of a run goes through a stack buffer with the
// same vector code, so every element gets the same arithmetic wherever a run is split:
// results do not depend on the thread count.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/elementwise.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/kernel.h"
#include "runtime/kernels/activation.h"
#include "runtime/kernels/simd/simd_activation-inl.h"
#include "runtime/kernels/simd/simd_math-inl.h"

#ifndef PITH_SIMD_ELEMENTWISE_ONCE
#define PITH_SIMD_ELEMENTWISE_ONCE
namespace pith::simd {
enum class UnaryOp {
  Relu,
  Clip,
  LeakyRelu,
  Sigmoid,
  HardSigmoid,
  HardSwish,
  Tanh,
  Exp,
  Erf,
  Sqrt,
  Neg,
  Abs,
  Reciprocal,
  Square
};
struct UnaryParams {
  UnaryOp op = UnaryOp::Relu;
  float alpha = 0, beta = 0;  // Clip: min, max; LeakyRelu: alpha; HardSigmoid: alpha, beta
};
enum class BinaryOp { Add, Sub, Mul, Div };
}  // namespace pith::simd
#endif

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Applies f to n floats: whole vectors, then the tail through an aligned buffer.
template <class F>
HWY_INLINE void MapUnary(const float* in, float* out, int64_t n, const F& f) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  for (; i + 2 * L <= n; i += 2 * L) {
    const VF a = hn::LoadU(d, in + i), b = hn::LoadU(d, in + i + L);
    hn::StoreU(f(d, a), d, out + i);
    hn::StoreU(f(d, b), d, out + i + L);
  }
  for (; i + L <= n; i += L) hn::StoreU(f(d, hn::LoadU(d, in + i)), d, out + i);
  if (i < n) {
    HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)] = {};
    std::memcpy(buf, in + i, size_t(n - i) * sizeof(float));
    hn::Store(f(d, hn::Load(d, buf)), d, buf);
    std::memcpy(out + i, buf, size_t(n - i) * sizeof(float));
  }
}

struct ReluF {
  // x < 0 ? 0 : x (keeps -0 and NaN, like the reference).
  HWY_INLINE VF operator()(DF d, VF v) const { return hn::IfThenZeroElse(hn::Lt(v, hn::Zero(d)), v); }
};
struct ClipF {
  float lo, hi;
  HWY_INLINE VF operator()(DF d, VF v) const {
    const VF l = hn::Set(d, lo), h = hn::Set(d, hi);
    v = hn::IfThenElse(hn::Lt(v, l), l, v);
    return hn::IfThenElse(hn::Gt(v, h), h, v);  // min > max: everything becomes max
  }
};
struct ActF {
  Activation act;
  HWY_INLINE VF operator()(DF d, VF v) const { return Activate(d, v, act); }
};
struct SigmoidF {
  HWY_INLINE VF operator()(DF d, VF v) const {
    Activation a;
    a.kind = ActivationKind::Sigmoid;
    return hn::IfThenElse(hn::IsNaN(v), v, Activate(d, v, a));
  }
};
struct TanhF {
  HWY_INLINE VF operator()(DF d, VF v) const {
    Activation a;
    a.kind = ActivationKind::Tanh;
    return hn::IfThenElse(hn::IsNaN(v), v, Activate(d, v, a));
  }
};
struct HardSigmoidF {
  float alpha, beta;
  // clamp(alpha * x + beta, 0, 1); NaN gives 0 (std::max(0, NaN) is 0).
  HWY_INLINE VF operator()(DF d, VF v) const {
    const VF r = hn::Add(hn::Mul(hn::Set(d, alpha), v), hn::Set(d, beta));
    const VF lo = hn::IfThenElse(hn::Gt(r, hn::Zero(d)), r, hn::Zero(d));
    return hn::IfThenElse(hn::Lt(lo, hn::Set(d, 1.0f)), lo, hn::Set(d, 1.0f));
  }
};
struct HardSwishF {
  // x * clamp(x / 6 + 0.5, 0, 1).
  HWY_INLINE VF operator()(DF d, VF v) const {
    const VF r = hn::Add(hn::Div(v, hn::Set(d, 6.0f)), hn::Set(d, 0.5f));
    const VF lo = hn::IfThenElse(hn::Gt(r, hn::Zero(d)), r, hn::Zero(d));
    return hn::Mul(v, hn::IfThenElse(hn::Lt(lo, hn::Set(d, 1.0f)), lo, hn::Set(d, 1.0f)));
  }
};
struct ExpOpF {
  HWY_INLINE VF operator()(DF d, VF v) const { return ExpF(d, v); }
};
struct ErfOpF {
  HWY_INLINE VF operator()(DF d, VF v) const { return ErfF(d, v); }
};
struct SqrtF {
  HWY_INLINE VF operator()(DF, VF v) const { return hn::Sqrt(v); }
};
struct NegF {
  HWY_INLINE VF operator()(DF, VF v) const { return hn::Neg(v); }
};
struct AbsF {
  // x < 0 ? -x : x (keeps -0, like the reference).
  HWY_INLINE VF operator()(DF d, VF v) const { return hn::IfThenElse(hn::Lt(v, hn::Zero(d)), hn::Neg(v), v); }
};
struct SquareF {
  HWY_INLINE VF operator()(DF, VF v) const { return hn::Mul(v, v); }
};
struct ReciprocalF {
  HWY_INLINE VF operator()(DF d, VF v) const { return hn::Div(hn::Set(d, 1.0f), v); }
};

void UnaryF32(const float* in, float* out, int64_t n, const UnaryParams& p) {
  switch (p.op) {
    case UnaryOp::Relu:
      return MapUnary(in, out, n, ReluF{});
    case UnaryOp::Clip:
      return MapUnary(in, out, n, ClipF{p.alpha, p.beta});
    case UnaryOp::LeakyRelu: {
      Activation a;
      a.kind = ActivationKind::LeakyRelu;
      a.alpha = p.alpha;
      return MapUnary(in, out, n, ActF{a});
    }
    case UnaryOp::Sigmoid:
      return MapUnary(in, out, n, SigmoidF{});
    case UnaryOp::HardSigmoid:
      return MapUnary(in, out, n, HardSigmoidF{p.alpha, p.beta});
    case UnaryOp::HardSwish:
      return MapUnary(in, out, n, HardSwishF{});
    case UnaryOp::Tanh:
      return MapUnary(in, out, n, TanhF{});
    case UnaryOp::Exp:
      return MapUnary(in, out, n, ExpOpF{});
    case UnaryOp::Erf:
      return MapUnary(in, out, n, ErfOpF{});
    case UnaryOp::Sqrt:
      return MapUnary(in, out, n, SqrtF{});
    case UnaryOp::Neg:
      return MapUnary(in, out, n, NegF{});
    case UnaryOp::Abs:
      return MapUnary(in, out, n, AbsF{});
    case UnaryOp::Reciprocal:
      return MapUnary(in, out, n, ReciprocalF{});
    case UnaryOp::Square:
      return MapUnary(in, out, n, SquareF{});
  }
}

struct AddF {
  HWY_INLINE VF operator()(VF a, VF b) const { return hn::Add(a, b); }
};
struct SubF {
  HWY_INLINE VF operator()(VF a, VF b) const { return hn::Sub(a, b); }
};
struct MulF {
  HWY_INLINE VF operator()(VF a, VF b) const { return hn::Mul(a, b); }
};
struct DivF {
  HWY_INLINE VF operator()(VF a, VF b) const { return hn::Div(a, b); }
};

// out[i] = f(a[i or 0], b[i or 0]) for i < n: a_vec / b_vec say whether the operand
// advances along the run or repeats its first value.
template <class F>
HWY_INLINE void BinaryRun(const F& f, const float* a, bool a_vec, const float* b, bool b_vec, float* out, int64_t n) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  int64_t i = 0;
  if (a_vec && b_vec) {
    for (; i + 2 * L <= n; i += 2 * L) {
      const VF x0 = f(hn::LoadU(d, a + i), hn::LoadU(d, b + i));
      const VF x1 = f(hn::LoadU(d, a + i + L), hn::LoadU(d, b + i + L));
      hn::StoreU(x0, d, out + i);
      hn::StoreU(x1, d, out + i + L);
    }
    for (; i + L <= n; i += L) hn::StoreU(f(hn::LoadU(d, a + i), hn::LoadU(d, b + i)), d, out + i);
  } else if (a_vec) {
    const VF vb = hn::Set(d, b[0]);
    for (; i + 2 * L <= n; i += 2 * L) {
      const VF x0 = f(hn::LoadU(d, a + i), vb), x1 = f(hn::LoadU(d, a + i + L), vb);
      hn::StoreU(x0, d, out + i);
      hn::StoreU(x1, d, out + i + L);
    }
    for (; i + L <= n; i += L) hn::StoreU(f(hn::LoadU(d, a + i), vb), d, out + i);
  } else if (b_vec) {
    const VF va = hn::Set(d, a[0]);
    for (; i + 2 * L <= n; i += 2 * L) {
      const VF x0 = f(va, hn::LoadU(d, b + i)), x1 = f(va, hn::LoadU(d, b + i + L));
      hn::StoreU(x0, d, out + i);
      hn::StoreU(x1, d, out + i + L);
    }
    for (; i + L <= n; i += L) hn::StoreU(f(va, hn::LoadU(d, b + i)), d, out + i);
  } else {
    const VF v = f(hn::Set(d, a[0]), hn::Set(d, b[0]));
    for (; i + L <= n; i += L) hn::StoreU(v, d, out + i);
  }
  if (i < n) {
    HWY_ALIGN float ba[HWY_MAX_BYTES / sizeof(float)] = {};
    HWY_ALIGN float bb[HWY_MAX_BYTES / sizeof(float)] = {};
    const size_t rest = size_t(n - i);
    if (a_vec)
      std::memcpy(ba, a + i, rest * sizeof(float));
    else
      std::fill(ba, ba + L, a[0]);
    if (b_vec)
      std::memcpy(bb, b + i, rest * sizeof(float));
    else
      std::fill(bb, bb + L, b[0]);
    hn::Store(f(hn::Load(d, ba), hn::Load(d, bb)), d, ba);
    std::memcpy(out + i, ba, rest * sizeof(float));
  }
}

void BinaryRunF32(BinaryOp op, const float* a, bool a_vec, const float* b, bool b_vec, float* out, int64_t n) {
  switch (op) {
    case BinaryOp::Add:
      return BinaryRun(AddF{}, a, a_vec, b, b_vec, out, n);
    case BinaryOp::Sub:
      return BinaryRun(SubF{}, a, a_vec, b, b_vec, out, n);
    case BinaryOp::Mul:
      return BinaryRun(MulF{}, a, a_vec, b, b_vec, out, n);
    case BinaryOp::Div:
      return BinaryRun(DivF{}, a, a_vec, b, b_vec, out, n);
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith {

// Reference kernels (the fallbacks).
void kernel_relu(KernelContext&);
void kernel_clip(KernelContext&);
void kernel_leakyrelu(KernelContext&);
void kernel_sigmoid(KernelContext&);
void kernel_hardsigmoid(KernelContext&);
void kernel_hardswish(KernelContext&);
void kernel_tanh(KernelContext&);
void kernel_exp(KernelContext&);
void kernel_erf(KernelContext&);
void kernel_sqrt(KernelContext&);
void kernel_neg(KernelContext&);
void kernel_abs(KernelContext&);
void kernel_reciprocal(KernelContext&);
void kernel_add(KernelContext&);
void kernel_sub(KernelContext&);
void kernel_mul(KernelContext&);
void kernel_div(KernelContext&);
void kernel_pow(KernelContext&);

namespace simd {
HWY_EXPORT(UnaryF32);
HWY_EXPORT(BinaryRunF32);
}  // namespace simd

namespace {
// Unqualified below: with a single compiled target HWY_DYNAMIC_DISPATCH(F) names
// HWY_NAMESPACE::F, which must resolve from here (aarch64 compiles NEON only).
using namespace simd;

// Elements per parallel task: large enough that waking threads pays off.
constexpr int64_t kGrain = 16384;

// Calls fn(begin, end) over [0, n) on the Session's threads when n is large.
template <typename F>
void parallel_ranges(KernelContext& ctx, int64_t n, F&& fn) {
  ThreadPool* pool = ctx.thread_pool();
  if (pool && n >= 2 * kGrain)
    pool->parallel_for(n, kGrain, fn);
  else if (n > 0)
    fn(int64_t(0), n);
}

bool unary_fast(KernelContext& ctx, const simd::UnaryParams& p) {
  const Tensor& x = ctx.input(0);
  if (x.dtype() != DType::Float32) return false;
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, x.shape());
  const float* in = x.data<float>();
  float* out = y.data<float>();
  parallel_ranges(ctx, x.numel(), [&](int64_t b, int64_t e) {
    HWY_DYNAMIC_DISPATCH(UnaryF32)(in + b, out + b, e - b, p);
  });
  return true;
}

template <KernelFn Fallback>
void run_unary(KernelContext& ctx, simd::UnaryOp op, float alpha = 0, float beta = 0) {
  simd::UnaryParams p;
  p.op = op;
  p.alpha = alpha;
  p.beta = beta;
  if (!unary_fast(ctx, p)) Fallback(ctx);
}

// The broadcast of two shapes as at most three merged dimensions. Output dims of size 1
// are dropped; neighbouring dims where each operand is in the same state (present or
// broadcast) merge. strides_* are in elements of that operand (0 when broadcast).
struct Broadcast3 {
  int64_t size[3] = {1, 1, 1};
  int64_t sa[3] = {0, 0, 0}, sb[3] = {0, 0, 0};
  bool a_inner = true, b_inner = true;  // operand advances along the innermost dim
};

bool plan_broadcast(const Shape& a, const Shape& b, const Shape& out, Broadcast3& plan) {
  const size_t r = out.size();
  struct Dim {
    int64_t size;
    bool ap, bp;
  };
  Dim dims[3];
  int count = 0;
  for (size_t d = 0; d < r; ++d) {
    const int64_t o = out[d];
    if (o == 1) continue;
    const int64_t ad = d + a.size() >= r ? a[d + a.size() - r] : 1;
    const int64_t bd = d + b.size() >= r ? b[d + b.size() - r] : 1;
    const bool ap = ad == o, bp = bd == o;
    if ((!ap && ad != 1) || (!bp && bd != 1)) return false;
    if (count > 0 && dims[count - 1].ap == ap && dims[count - 1].bp == bp) {
      dims[count - 1].size *= o;
      continue;
    }
    if (count == 3) return false;
    dims[count++] = {o, ap, bp};
  }
  // Right-align into three dims (leading ones are present in both).
  const int pad = 3 - count;
  for (int k = 0; k < count; ++k) plan.size[pad + k] = dims[k].size;
  int64_t stride_a = 1, stride_b = 1;
  for (int k = 2; k >= pad; --k) {
    const Dim& dm = dims[k - pad];
    plan.sa[k] = dm.ap ? stride_a : 0;
    plan.sb[k] = dm.bp ? stride_b : 0;
    if (dm.ap) stride_a *= dm.size;
    if (dm.bp) stride_b *= dm.size;
  }
  if (count > 0) {
    plan.a_inner = dims[count - 1].ap;
    plan.b_inner = dims[count - 1].bp;
  }
  return true;
}

template <KernelFn Fallback>
void run_binary(KernelContext& ctx, simd::BinaryOp op) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != DType::Float32 || b.dtype() != DType::Float32 || ctx.opset() < 7) return Fallback(ctx);
  Shape out_shape;
  try {
    out_shape = broadcast_shapes(a.shape(), b.shape());
  } catch (const Error&) {
    return Fallback(ctx);  // the reference reports the mismatch
  }
  Broadcast3 plan;
  if (!plan_broadcast(a.shape(), b.shape(), out_shape, plan)) return Fallback(ctx);
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, out_shape);
  const float* pa = a.data<float>();
  const float* pb = b.data<float>();
  float* out = y.data<float>();
  const int64_t inner = plan.size[2], mid = plan.size[1];
  const int64_t total = plan.size[0] * mid * inner;
  if (total == 0) return;
  parallel_ranges(ctx, total, [&](int64_t begin, int64_t end) {
    int64_t pos = begin;
    while (pos < end) {
      const int64_t row = pos / inner, col = pos % inner;
      const int64_t i0 = row / mid, i1 = row % mid;
      const int64_t n = std::min(inner - col, end - pos);
      const int64_t oa = i0 * plan.sa[0] + i1 * plan.sa[1] + (plan.a_inner ? col : 0);
      const int64_t ob = i0 * plan.sb[0] + i1 * plan.sb[1] + (plan.b_inner ? col : 0);
      HWY_DYNAMIC_DISPATCH(BinaryRunF32)(op, pa + oa, plan.a_inner, pb + ob, plan.b_inner, out + pos, n);
      pos += n;
    }
  });
}

// Clip bounds: attributes before opset 11, optional scalar inputs from 11. False when
// the bounds are not plain float32 scalars (the reference handles and reports those).
bool clip_bounds(const KernelContext& ctx, float& lo, float& hi) {
  lo = -std::numeric_limits<float>::infinity();
  hi = std::numeric_limits<float>::infinity();
  if (ctx.opset() < 11) {
    if (ctx.has_attr("min")) lo = ctx.attr_float("min", 0.f);
    if (ctx.has_attr("max")) hi = ctx.attr_float("max", 0.f);
    return true;
  }
  for (size_t i = 1; i <= 2; ++i) {
    if (!ctx.has_input(i)) continue;
    const Tensor& t = ctx.input(i);
    if (t.dtype() != DType::Float32 || t.numel() != 1) return false;
    (i == 1 ? lo : hi) = t.data<float>()[0];
  }
  return true;
}

}  // namespace

void kernel_relu_fast(KernelContext& ctx) { run_unary<kernel_relu>(ctx, simd::UnaryOp::Relu); }
void kernel_clip_fast(KernelContext& ctx) {
  float lo, hi;
  if (!clip_bounds(ctx, lo, hi)) return kernel_clip(ctx);
  run_unary<kernel_clip>(ctx, simd::UnaryOp::Clip, lo, hi);
}
void kernel_leakyrelu_fast(KernelContext& ctx) {
  run_unary<kernel_leakyrelu>(ctx, simd::UnaryOp::LeakyRelu, ctx.attr_float("alpha", 0.01f));
}
void kernel_sigmoid_fast(KernelContext& ctx) { run_unary<kernel_sigmoid>(ctx, simd::UnaryOp::Sigmoid); }
void kernel_hardsigmoid_fast(KernelContext& ctx) {
  run_unary<kernel_hardsigmoid>(ctx, simd::UnaryOp::HardSigmoid, ctx.attr_float("alpha", 0.2f),
                                ctx.attr_float("beta", 0.5f));
}
void kernel_hardswish_fast(KernelContext& ctx) { run_unary<kernel_hardswish>(ctx, simd::UnaryOp::HardSwish); }
void kernel_tanh_fast(KernelContext& ctx) { run_unary<kernel_tanh>(ctx, simd::UnaryOp::Tanh); }
void kernel_exp_fast(KernelContext& ctx) { run_unary<kernel_exp>(ctx, simd::UnaryOp::Exp); }
void kernel_erf_fast(KernelContext& ctx) { run_unary<kernel_erf>(ctx, simd::UnaryOp::Erf); }
void kernel_sqrt_fast(KernelContext& ctx) { run_unary<kernel_sqrt>(ctx, simd::UnaryOp::Sqrt); }
void kernel_neg_fast(KernelContext& ctx) { run_unary<kernel_neg>(ctx, simd::UnaryOp::Neg); }
void kernel_abs_fast(KernelContext& ctx) { run_unary<kernel_abs>(ctx, simd::UnaryOp::Abs); }
void kernel_reciprocal_fast(KernelContext& ctx) { run_unary<kernel_reciprocal>(ctx, simd::UnaryOp::Reciprocal); }

void kernel_add_fast(KernelContext& ctx) { run_binary<kernel_add>(ctx, simd::BinaryOp::Add); }
void kernel_sub_fast(KernelContext& ctx) { run_binary<kernel_sub>(ctx, simd::BinaryOp::Sub); }
void kernel_mul_fast(KernelContext& ctx) { run_binary<kernel_mul>(ctx, simd::BinaryOp::Mul); }
void kernel_div_fast(KernelContext& ctx) { run_binary<kernel_div>(ctx, simd::BinaryOp::Div); }

// Pow(x, 2) with a one-element exponent that does not add dimensions (LayerNorm as
// decomposed by exporters: ReduceMean((x - mean) ^ 2)).
void kernel_pow_fast(KernelContext& ctx) {
  const Tensor& e = ctx.input(1);
  const bool square = ctx.opset() >= 7 && e.numel() == 1 && e.rank() <= ctx.input(0).rank() &&
                      (dtype_is_float(e.dtype()) || dtype_is_int(e.dtype())) && e.dtype() != DType::Bool &&
                      e.as_double(0) == 2.0;
  if (!square) return kernel_pow(ctx);
  run_unary<kernel_pow>(ctx, simd::UnaryOp::Square);
}

}  // namespace pith
#endif
