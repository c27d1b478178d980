// Fast float32 Gemm, pith.FusedGemm and MatMul through the packed SGEMM. The right-hand
// operand B is packed once per node when it is an initializer (weights), else on every
// call; A is packed per call. Work is split over column blocks, so results do not depend
// on the thread count. Batched MatMul runs one packed SGEMM per batch. Cases outside the
// fast path (other types, alpha != 1, a C that is not a row, column or full bias) use the
// reference kernel.
#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/kernel.h"
#include "runtime/kernels/activation.h"
#include "runtime/kernels/simd/scratch.h"
#include "runtime/kernels/simd/sgemm.h"

namespace pith {

void kernel_gemm(KernelContext& ctx);        // reference
void kernel_fused_gemm(KernelContext& ctx);  // reference
void kernel_matmul(KernelContext& ctx);      // reference

namespace {

struct PackedB {
  const void* source = nullptr;
  Shape shape;
  bool transposed = false;
  int64_t nr = 0;  // panel width it was packed for (the SIMD target's)
  std::vector<float> data;
};

// Packed B (K x N, B'[k][n] = src[k*rs + n*cs]); cached in the node state for initializers.
const float* packed_b(KernelContext& ctx, size_t input, const Tensor& b, bool transposed, int64_t K, int64_t N) {
  const int64_t rs = transposed ? 1 : N, cs = transposed ? K : 1;
  if (!ctx.input_is_constant(input) || !ctx.node_state()) {
    float* buf = simd::thread_scratch(simd::packed_b_floats(N, K));
    simd::pack_b(b.data<float>(), rs, cs, K, N, buf);
    return buf;
  }
  std::shared_ptr<void>& slot = *ctx.node_state();
  auto* cached = static_cast<PackedB*>(slot.get());
  if (!cached || cached->source != b.raw() || cached->shape != b.shape() || cached->transposed != transposed ||
      cached->nr != simd::sgemm_nr()) {
    auto pb = std::make_shared<PackedB>();
    pb->source = b.raw();
    pb->shape = b.shape();
    pb->transposed = transposed;
    pb->nr = simd::sgemm_nr();
    pb->data.resize(simd::packed_b_floats(N, K));
    simd::pack_b(b.data<float>(), rs, cs, K, N, pb->data.data());
    slot = pb;
    cached = pb.get();
  }
  return cached->data.data();
}

// C[M x N] (row stride N) = A' * B' with A' given by strides, B' packed; epilogue per column block.
void run_gemm(KernelContext& ctx, int64_t M, int64_t N, int64_t K, const float* a, int64_t a_rs, int64_t a_cs,
              const float* pb, float* c, const simd::GemmEpilogue& ep) {
  const int64_t nr = simd::sgemm_nr();
  // A is packed once by the calling thread (pack_a writes all rows), then shared.
  std::vector<float>& pa_buf = *[] {
    thread_local std::vector<float> v;
    return &v;
  }();
  if (pa_buf.size() < simd::packed_a_floats(M, K)) pa_buf.resize(simd::packed_a_floats(M, K));
  simd::pack_a(a, a_rs, a_cs, M, K, pa_buf.data());
  const float* pa = pa_buf.data();
  const int64_t panels = (N + nr - 1) / nr;
  auto work = [&](int64_t p0, int64_t p1) {
    const int64_t j0 = p0 * nr, cols = std::min(N, p1 * nr) - j0;
    simd::GemmEpilogue e = ep;
    if (e.bias_per_col) e.bias_per_col += j0;
    if (e.residual) e.residual += j0;
    simd::sgemm_packed(M, cols, K, pa, pb + j0 * K, c + j0, N, e);
  };
  ThreadPool* pool = ctx.thread_pool();
  // Enough work per task to beat the hand-off cost (~4 panels of a 64-deep GEMM).
  const int64_t grain = std::max<int64_t>(1, 4096 / std::max<int64_t>(1, M * K / 16));
  if (pool && M * N * K > 32768)
    pool->parallel_for(panels, grain, work);
  else
    work(0, panels);
}

void gemm_fast(KernelContext& ctx, bool fused) {
  auto fallback = [&] { fused ? kernel_fused_gemm(ctx) : kernel_gemm(ctx); };
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() != DType::Float32 || b.dtype() != DType::Float32 || a.rank() != 2 || b.rank() != 2 ||
      ctx.attr_float("alpha", 1.f) != 1.f) {
    return fallback();
  }
  const bool ta = ctx.attr_int("transA", 0) != 0, tb = ctx.attr_int("transB", 0) != 0;
  const int64_t M = ta ? a.dim(1) : a.dim(0), K = ta ? a.dim(0) : a.dim(1);
  const int64_t N = tb ? b.dim(0) : b.dim(1), Kb = tb ? b.dim(1) : b.dim(0);
  if (K != Kb) return fallback();  // the reference names the mismatch
  simd::GemmEpilogue ep;
  if (ctx.has_input(2)) {
    const Tensor& c = ctx.input(2);
    const float beta = ctx.attr_float("beta", 1.f);
    if (c.dtype() != DType::Float32 || beta != 1.f) return fallback();
    const Shape& cs = c.shape();
    if (c.numel() == N && (cs.size() == 1 || (cs.size() == 2 && cs[0] == 1)))
      ep.bias_per_col = c.data<float>();
    else if (cs.size() == 2 && cs[0] == M && cs[1] == 1)
      ep.bias_per_row = c.data<float>();
    else if (cs == Shape{M, N})
      ep.residual = c.data<float>();
    else
      return fallback();
  }
  if (fused) ep.activation = activation_from_node(ctx.node());
  if (M == 1 && tb && K > 0 && !ep.bias_per_row && !ep.residual) {
    // One input row against weights stored [N, K]: dot products over contiguous rows.
    Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, {M, N});
    const float* w = b.data<float>();
    const float* x = a.data<float>();  // [1, K] or [K, 1]: contiguous either way
    auto rows = [&](int64_t n0, int64_t n1) {
      simd::gemv_rows(n0, n1, K, w, K, x, ep.bias_per_col, ep.activation, y.data<float>());
    };
    // Split in whole groups of 4 rows, so every row takes the same code path (the 4-row
    // loop or the remainder loop) for any thread count: bitwise-identical results.
    ThreadPool* pool = ctx.thread_pool();
    if (pool && N * K > 65536) {
      pool->parallel_for((N + 3) / 4, 16, [&](int64_t g0, int64_t g1) { rows(g0 * 4, std::min(N, g1 * 4)); });
    } else {
      rows(0, N);
    }
    return;
  }
  const float* pb = packed_b(ctx, 1, b, tb, K, N);
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, {M, N});
  if (M == 0 || N == 0) return;
  if (K == 0) {  // empty product: bias and activation only
    return fallback();
  }
  run_gemm(ctx, M, N, K, a.data<float>(), ta ? 1 : K, ta ? M : 1, pb, y.data<float>(), ep);
}

}  // namespace

void kernel_gemm_fast(KernelContext& ctx) { gemm_fast(ctx, false); }
void kernel_fused_gemm_fast(KernelContext& ctx) { gemm_fast(ctx, true); }

namespace {

// Batched MatMul (attention scores and context: [B, M, K] x [B, K, N]), batch dims
// broadcast as numpy does. Each batch packs its A and B and runs the packed SGEMM;
// batches are split over the threads, each computed whole by one thread.
void batched_matmul(KernelContext& ctx, const Tensor& a, const Tensor& b) {
  const int64_t M = a.dim(a.rank() - 2), K = a.dim(a.rank() - 1), N = b.dim(b.rank() - 1);
  const size_t batch_rank = size_t(std::max(a.rank(), b.rank()) - 2);
  // Batch dims right-aligned; a missing or size-1 dim broadcasts (stride 0).
  Shape batch(batch_rank), a_stride(batch_rank, 0), b_stride(batch_rank, 0);
  int64_t as = M * K, bs = K * N;
  for (size_t i = 0; i < batch_rank; ++i) {
    const size_t d = batch_rank - 1 - i;
    const int64_t ad = i + 2 < size_t(a.rank()) ? a.dim(a.rank() - 3 - int64_t(i)) : 1;
    const int64_t bd = i + 2 < size_t(b.rank()) ? b.dim(b.rank() - 3 - int64_t(i)) : 1;
    if (ad != bd && ad != 1 && bd != 1) return kernel_matmul(ctx);  // the reference names the mismatch
    batch[d] = std::max(ad, bd);
    a_stride[d] = ad == 1 ? 0 : as;
    b_stride[d] = bd == 1 ? 0 : bs;
    as *= ad;
    bs *= bd;
  }
  Shape out = batch;
  out.push_back(M);
  out.push_back(N);
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, out);
  const int64_t batches = shape_numel(batch);
  if (batches == 0 || M == 0 || N == 0) return;
  const float* ad = a.data<float>();
  const float* bd = b.data<float>();
  float* yd = y.data<float>();
  auto work = [&](int64_t i0, int64_t i1) {
    float* pa = simd::thread_scratch(simd::packed_a_floats(M, K) + simd::packed_b_floats(N, K));
    float* pb = pa + simd::packed_a_floats(M, K);
    for (int64_t i = i0; i < i1; ++i) {
      int64_t rest = i, ao = 0, bo = 0;
      for (size_t d = batch_rank; d-- > 0;) {
        const int64_t idx = rest % batch[d];
        rest /= batch[d];
        ao += idx * a_stride[d];
        bo += idx * b_stride[d];
      }
      simd::pack_a(ad + ao, K, 1, M, K, pa);
      simd::pack_b(bd + bo, N, 1, K, N, pb);
      simd::sgemm_packed(M, N, K, pa, pb, yd + i * M * N, N, simd::GemmEpilogue{});
    }
  };
  ThreadPool* pool = ctx.thread_pool();
  if (pool && batches > 1 && M * N * K * batches > 32768)
    pool->parallel_for(batches, 1, work);
  else
    work(0, batches);
}

}  // namespace

// MatMul with a 2-D right operand (the weights of linear layers, attention projections):
// A's leading dims fold into M. Batched right operands run per batch (batched_matmul).
void kernel_matmul_fast(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(1);
  if (a.dtype() == DType::Float32 && b.dtype() == DType::Float32 && a.rank() >= 2 && b.rank() >= 3 &&
      a.shape().back() == b.dim(b.rank() - 2) && a.shape().back() > 0) {
    return batched_matmul(ctx, a, b);
  }
  if (a.dtype() != DType::Float32 || b.dtype() != DType::Float32 || a.rank() < 2 || b.rank() != 2 ||
      a.shape().back() != b.dim(0)) {
    return kernel_matmul(ctx);
  }
  const int64_t K = b.dim(0), N = b.dim(1), M = a.numel() / std::max<int64_t>(K, 1);
  Shape out = a.shape();
  out.back() = N;
  if (K == 0) return kernel_matmul(ctx);
  const float* pb = packed_b(ctx, 1, b, false, K, N);
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, out);
  if (M == 0 || N == 0) return;
  run_gemm(ctx, M, N, K, a.data<float>(), K, 1, pb, y.data<float>(), simd::GemmEpilogue{});
}

}  // namespace pith
