// Matrix products: Gemm, MatMul (numpy semantics: 1-D promotion, broadcast batch dims),
// MatMulInteger and QLinearMatMul (int8/uint8 with zero points, int32 accumulation), and
// pith.QGemm (a quantized Gemm/MatMul with a constant-shaped B, runtime/kernels/requantize.h).
// All of them run through the shared reference GEMM (gemm_ref.h).
#include <cmath>
#include <limits>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/reference/gemm_ref.h"
#include "runtime/kernels/reference/quant_util.h"
#include "runtime/kernels/requantize.h"

namespace pith {
namespace {

using ref::type_tag;

// Shapes of a numpy matmul: out = batch(A) x batch(B) broadcast, then M x N.
struct MatMulPlan {
  int64_t M = 0, N = 0, K = 0;
  Shape out_shape;
  Shape batch;      // broadcast batch dims
  Shape a_bstride;  // per batch dim, in matrices (0 when broadcast)
  Shape b_bstride;
  int64_t a_batches = 1, b_batches = 1;
};

MatMulPlan plan_matmul(const KernelContext& ctx, Shape sa, Shape sb) {
  KERNEL_CHECK(ctx, !sa.empty() && !sb.empty(), "MatMul inputs must have rank >= 1, got ", shape_str(sa), " and ",
               shape_str(sb));
  const bool a_vec = sa.size() == 1, b_vec = sb.size() == 1;
  if (a_vec) sa.insert(sa.begin(), 1);
  if (b_vec) sb.push_back(1);
  MatMulPlan p;
  p.M = sa[sa.size() - 2];
  p.K = sa[sa.size() - 1];
  p.N = sb[sb.size() - 1];
  KERNEL_CHECK(ctx, sb[sb.size() - 2] == p.K, "MatMul inner dimensions differ: ", shape_str(sa), " x ", shape_str(sb));
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  try {
    p.batch = broadcast_shapes(ba, bb);
  } catch (const Error& e) {
    ctx.fail("MatMul batch dimensions do not broadcast: ", e.what());
  }
  p.a_bstride = broadcast_strides(ba, p.batch);
  p.b_bstride = broadcast_strides(bb, p.batch);
  p.a_batches = shape_numel(ba);
  p.b_batches = shape_numel(bb);
  p.out_shape = p.batch;
  if (!a_vec) p.out_shape.push_back(p.M);
  if (!b_vec) p.out_shape.push_back(p.N);
  return p;
}

template <typename T>
void run_matmul(const MatMulPlan& p, const T* a, const T* b, T* y) {
  const int64_t nb = shape_numel(p.batch);
  if (nb == 0 || p.M == 0 || p.N == 0) return;
  const int64_t sa = p.M * p.K, sb = p.K * p.N, sy = p.M * p.N;
  if (p.b_batches == 1 && p.a_batches == nb) {
    // One weight matrix for every batch: fold the batches into M.
    ref::gemm(false, false, nb * p.M, p.N, p.K, T(1), a, p.K, b, p.N, T(0), y, p.N);
    return;
  }
  const size_t rank = p.batch.size();
  Shape idx(rank, 0);
  int64_t oa = 0, ob = 0;
  for (int64_t t = 0; t < nb; ++t) {
    ref::gemm(false, false, p.M, p.N, p.K, T(1), a + oa * sa, p.K, b + ob * sb, p.N, T(0), y + t * sy, p.N);
    for (size_t d = rank; d-- > 0;) {
      ++idx[d];
      oa += p.a_bstride[d];
      ob += p.b_bstride[d];
      if (idx[d] < p.batch[d]) break;
      oa -= p.a_bstride[d] * idx[d];
      ob -= p.b_bstride[d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Dispatch over the types MatMul/Gemm accept (half types are promoted by the caller).
template <typename F>
void dispatch_matmul_types(const KernelContext& ctx, DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      f(type_tag<float>{});
      break;
    case DType::Float64:
      f(type_tag<double>{});
      break;
    case DType::Int32:
      f(type_tag<int32_t>{});
      break;
    case DType::Int64:
      f(type_tag<int64_t>{});
      break;
    case DType::UInt32:
      f(type_tag<uint32_t>{});
      break;
    case DType::UInt64:
      f(type_tag<uint64_t>{});
      break;
    default:
      ctx.fail("unsupported element type ", dtype_name(t));
  }
}

// x - zero_point as int32 for an int8/uint8 tensor; zp is a scalar or one value per
// row (axis = rank-2, for A) or per column (axis = rank-1, for B).
Tensor centered_int32(const KernelContext& ctx, const Tensor& x, const Tensor* zp, bool per_row, const char* what) {
  KERNEL_CHECK(ctx, x.dtype() == DType::Int8 || x.dtype() == DType::UInt8, what, " must be int8 or uint8, got ",
               dtype_name(x.dtype()));
  Tensor out(DType::Int32, x.shape());
  int32_t* o = out.data<int32_t>();
  const int64_t n = x.numel();
  std::vector<int32_t> zps{0};
  if (zp) {
    KERNEL_CHECK(ctx, zp->dtype() == x.dtype(), what, " zero point type ", dtype_name(zp->dtype()), " differs from ",
                 dtype_name(x.dtype()));
    zps.resize(size_t(zp->numel()));
    for (int64_t i = 0; i < zp->numel(); ++i) zps[size_t(i)] = int32_t(zp->as_int64(i));
  }
  if (zps.size() == 1) {
    for (int64_t i = 0; i < n; ++i) o[i] = int32_t(x.as_int64(i)) - zps[0];
    return out;
  }
  const int64_t r = x.rank();
  KERNEL_CHECK(ctx, r >= 2 || (r == 1 && !per_row), what, " zero point with ", zps.size(),
               " values needs a matrix input, got ", shape_str(x.shape()));
  const int64_t rows = r >= 2 ? x.shape()[size_t(r - 2)] : 1, cols = x.shape()[size_t(r - 1)];
  const int64_t count = per_row ? rows : cols;
  KERNEL_CHECK(ctx, int64_t(zps.size()) == count, what, " zero point has ", zps.size(), " values, expected 1 or ",
               count);
  for (int64_t i = 0; i < n; ++i) {
    const int64_t col = i % cols, row = (i / cols) % rows;
    o[i] = int32_t(x.as_int64(i)) - zps[size_t(per_row ? row : col)];
  }
  return out;
}

}  // namespace

void kernel_matmul(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, ctx.input(1).dtype() == orig, "MatMul inputs must have the same type, got ", dtype_name(orig),
               " and ", dtype_name(ctx.input(1).dtype()));
  Tensor a = ref::promote(ctx.input(0)), b = ref::promote(ctx.input(1));
  MatMulPlan p = plan_matmul(ctx, a.shape(), b.shape());
  Tensor y(a.dtype(), p.out_shape);
  dispatch_matmul_types(ctx, a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    run_matmul<T>(p, a.data<T>(), b.data<T>(), y.data<T>());
  });
  ctx.set_output(0, ref::demote(y, orig));
}

void kernel_gemm(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  Tensor a = ref::promote(ctx.input(0)), b = ref::promote(ctx.input(1));
  KERNEL_CHECK(ctx, ctx.input(1).dtype() == orig, "Gemm inputs A and B must have the same type");
  KERNEL_CHECK(ctx, a.rank() == 2 && b.rank() == 2, "Gemm expects 2-D A and B, got ", shape_str(a.shape()), " and ",
               shape_str(b.shape()));
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const double alpha = ctx.attr_float("alpha", 1.0f), beta = ctx.attr_float("beta", 1.0f);
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t Kb = tb ? b.dim(1) : b.dim(0), N = tb ? b.dim(0) : b.dim(1);
  KERNEL_CHECK(ctx, K == Kb, "Gemm inner dimensions differ: A ", shape_str(a.shape()), (ta ? " (transposed)" : ""),
               ", B ", shape_str(b.shape()), (tb ? " (transposed)" : ""));
  Tensor y(a.dtype(), {M, N});
  const bool has_c = ctx.has_input(2);
  Tensor c;
  if (has_c) {
    c = ref::promote(ctx.input(2));
    KERNEL_CHECK(ctx, c.dtype() == a.dtype(), "Gemm C must have the type of A");
    KERNEL_CHECK(ctx, c.rank() <= 2, "Gemm C must have rank <= 2, got ", shape_str(c.shape()));
    bool ok = true;
    for (int64_t d = 0; d < c.rank(); ++d) {
      const int64_t want = (d == c.rank() - 1) ? N : M;
      if (c.shape()[size_t(d)] != 1 && c.shape()[size_t(d)] != want) ok = false;
    }
    KERNEL_CHECK(ctx, ok, "Gemm C of shape ", shape_str(c.shape()), " does not broadcast to [", M, ", ", N, "]");
  }
  dispatch_matmul_types(ctx, a.dtype(), [&](auto tag) {
    using T = typename decltype(tag)::type;
    T* yd = y.data<T>();
    T bet = T(0);
    if (has_c && beta != 0.0) {
      const T* cd = c.data<T>();
      const T cb = T(beta);
      ref::for_each_broadcast(y.shape(), {c.shape()},
                              [&](int64_t o, int64_t i0, int64_t, int64_t) { yd[o] = T(cb * cd[i0]); });
      bet = T(1);
    }
    ref::gemm(ta, tb, M, N, K, T(alpha), a.data<T>(), a.dim(1), b.data<T>(), b.dim(1), bet, yd, N);
  });
  ctx.set_output(0, ref::demote(y, orig));
}

void kernel_matmul_integer(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  Tensor ac = centered_int32(ctx, a, ctx.has_input(2) ? &ctx.input(2) : nullptr, true, "MatMulInteger A");
  Tensor bc = centered_int32(ctx, b, ctx.has_input(3) ? &ctx.input(3) : nullptr, false, "MatMulInteger B");
  MatMulPlan p = plan_matmul(ctx, a.shape(), b.shape());
  Tensor& y = ctx.allocate_output(0, DType::Int32, p.out_shape);
  run_matmul<int32_t>(p, ac.data<int32_t>(), bc.data<int32_t>(), y.data<int32_t>());
}

void kernel_qlinear_matmul(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const Tensor& a_scale = ctx.input(1);
  const Tensor& b_scale = ctx.input(4);
  const Tensor& y_scale = ctx.input(6);
  const Tensor& y_zp = ctx.input(7);
  Tensor ac = centered_int32(ctx, a, &ctx.input(2), true, "QLinearMatMul a");
  Tensor bc = centered_int32(ctx, b, &ctx.input(5), false, "QLinearMatMul b");
  KERNEL_CHECK(ctx, y_scale.numel() == 1 && y_zp.numel() == 1,
               "QLinearMatMul y_scale and y_zero_point must be scalars");
  KERNEL_CHECK(ctx, y_zp.dtype() == DType::Int8 || y_zp.dtype() == DType::UInt8,
               "QLinearMatMul y_zero_point must be int8 or uint8");
  MatMulPlan p = plan_matmul(ctx, a.shape(), b.shape());
  Tensor acc(DType::Int32, p.out_shape);
  run_matmul<int32_t>(p, ac.data<int32_t>(), bc.data<int32_t>(), acc.data<int32_t>());
  const int64_t rows = p.M, cols = p.N;
  KERNEL_CHECK(ctx, a_scale.numel() == 1 || (a.rank() >= 2 && a_scale.numel() == rows),
               "QLinearMatMul a_scale must be a scalar or one value per row of a");
  KERNEL_CHECK(ctx, b_scale.numel() == 1 || b_scale.numel() == cols,
               "QLinearMatMul b_scale must be a scalar or one value per column of b");
  std::vector<float> as = a_scale.to_float_vector(), bs = b_scale.to_float_vector();
  const float ys = float(y_scale.as_double(0));
  const int32_t yz = int32_t(y_zp.as_int64(0));
  Tensor& y = ctx.allocate_output(0, y_zp.dtype(), p.out_shape);
  const int32_t* accd = acc.data<int32_t>();
  const int64_t n = acc.numel();
  auto scale_at = [&](int64_t i) {
    const int64_t col = cols ? i % cols : 0, row = (cols && rows) ? (i / cols) % rows : 0;
    return as[as.size() == 1 ? 0 : size_t(row)] * bs[bs.size() == 1 ? 0 : size_t(col)] / ys;
  };
  if (y.dtype() == DType::UInt8) {
    uint8_t* yd = y.data<uint8_t>();
    for (int64_t i = 0; i < n; ++i) yd[i] = ref::saturate_round<uint8_t>(float(accd[i]) * scale_at(i), yz);
  } else {
    int8_t* yd = y.data<int8_t>();
    for (int64_t i = 0; i < n; ++i) yd[i] = ref::saturate_round<int8_t>(float(accd[i]) * scale_at(i), yz);
  }
}

// pith.QGemm: Y[..., N] = A[..., K] x op(B) with QLinearConv's input layout (a, a_scale,
// a_zero_point, b, b_scale (scalar or per N), b_zero_point, [y_scale, y_zero_point],
// [bias int32 [N]]); B is [N, K] with transB = 1, else [K, N]; every leading dimension of
// A is a row. Fused activation attributes as pith.FusedGemm.
void kernel_quantized_gemm(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const bool trans_b = ctx.attr_int("transB", 0) != 0;
  KERNEL_CHECK(ctx, a.rank() >= 2 && b.rank() == 2, "QGemm needs A of rank >= 2 and a 2-D B, got ",
               shape_str(a.shape()), " and ", shape_str(b.shape()));
  const int64_t K = a.dim(-1), N = trans_b ? b.dim(0) : b.dim(1), rows = a.numel() / std::max<int64_t>(K, 1);
  KERNEL_CHECK(ctx, (trans_b ? b.dim(1) : b.dim(0)) == K, "QGemm A ", shape_str(a.shape()), " and B ",
               shape_str(b.shape()), " (transB=", trans_b, ") do not match");
  KERNEL_CHECK(ctx, ctx.input(2).numel() == 1, "a_zero_point must be a scalar");
  KERNEL_CHECK(ctx, !ctx.has_input(5) || ctx.input(5).numel() == 1 || ctx.input(5).numel() == N,
               "b_zero_point must be a scalar or one per column");
  Tensor ac = centered_int32(ctx, a, &ctx.input(2), true, "QGemm a");
  Tensor bc = centered_int32(ctx, b, nullptr, false, "QGemm b");
  if (ctx.has_input(5)) {  // subtract b's zero point per output column
    const Tensor& bz = ctx.input(5);
    KERNEL_CHECK(ctx, bz.dtype() == b.dtype(), "b_zero_point type differs from b");
    int32_t* p = bc.data<int32_t>();
    for (int64_t i = 0; i < b.numel(); ++i) {
      const int64_t col = trans_b ? i / K : i % N;
      p[i] -= int32_t(bz.as_int64(bz.numel() == 1 ? 0 : col));
    }
  }
  const Tensor* bias = nullptr;
  if (ctx.has_input(8)) {
    bias = &ctx.input(8);
    KERNEL_CHECK(ctx, bias->dtype() == DType::Int32 && bias->numel() == N, "QGemm bias must be int32 [", N, "]");
  }
  const Requantize rq = read_requantize(ctx, N);
  Tensor acc(DType::Int32, {rows, N});
  int32_t* accd = acc.data<int32_t>();
  if (bias)
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t j = 0; j < N; ++j) accd[r * N + j] = bias->data<int32_t>()[j];
  ref::gemm(false, trans_b, rows, N, K, int32_t(1), ac.data<int32_t>(), K, bc.data<int32_t>(), trans_b ? K : N,
            int32_t(bias ? 1 : 0), accd, N);
  Shape ys = a.shape();
  ys.back() = N;
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, ys);
  for (int64_t i = 0; i < rows * N; ++i) {
    const float real = rq.real(accd[i], i % N);
    if (!rq.quantized_output)
      y.data<float>()[i] = real;
    else if (rq.output_dtype == DType::UInt8)
      y.data<uint8_t>()[i] = uint8_t(rq.quantize(real));
    else
      y.data<int8_t>()[i] = int8_t(rq.quantize(real));
  }
}

}  // namespace pith
