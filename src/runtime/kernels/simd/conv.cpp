// Fast float32 2-D convolution in NCHW for Conv and pith.FusedConv. Weights are packed
// once per node (kept in the node's state). Depthwise convolutions use the depthwise
// kernel; 3x3 stride-1 convolutions with at least 32 channels per group use Winograd
// F(2x2, 3x3) (winograd.h); every other grouping is a GEMM per group,
//   Y[g] (Mg x OH*OW) = W[g] (Mg x Cg*KH*KW) * im2col(X[g]) (Cg*KH*KW x OH*OW),
// whose B is read from the input planes padded once per call (and split into column
// phases for strides above 1), so that every tap of a run of output pixels reads
// consecutive floats. With few output channels per group B is read there in place (an
// implicit GEMM: a table says where each of its rows starts); otherwise im2col is
// written into packed-B panels one column block at a time, so the column matrix is never
// materialized. Work is split over tiles by index, so results are identical for any
// thread count. Anything else (other ranks or types) goes to the reference kernel.
#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/kernel.h"
#include "runtime/kernels/activation.h"
#include "runtime/kernels/reference/spatial.h"
#include "runtime/kernels/simd/conv_shape.h"
#include "runtime/kernels/simd/depthwise.h"
#include "runtime/kernels/simd/scratch.h"
#include "runtime/kernels/simd/sgemm.h"
#include "runtime/kernels/simd/winograd.h"

namespace pith {

void kernel_conv(KernelContext& ctx);        // reference
void kernel_fused_conv(KernelContext& ctx);  // reference

namespace {

// Pointwise convolutions read B (the input planes) in place instead of packing it when
// packing would cost about as much as the math: few input channels, or few output
// channels to amortize the copy over (measured on MobileNetV2's 1x1 layers: packing
// wins only for wide layers such as 320 -> 1280 on 7x7 planes).
constexpr int64_t kDirectMaxK = 64;
constexpr int64_t kDirectMaxM = 128;

// The fewest output pixels per plane for which Winograd beats im2col + GEMM. With 8-lane
// vectors (16-column GEMM panels: AVX2) it won down to 7x7 planes (ResNet-18's 512 -> 512
// layers, 1.26x). With 16 lanes (32-column panels: AVX-512) the 16 to 49 tiles of a 7x7 to
// 14x14 plane leave its 16 GEMMs' panels half empty, and im2col was faster there
// (SqueezeNet's 13x13 layers: the network in 0.88 of the time; ResNet-18 0.97, GoogLeNet
// 0.98); on 27x27 and 28x28 planes the two were even.
int64_t winograd_min_outputs() { return simd::sgemm_nr() >= 32 ? 200 : 16; }

struct ConvShape : simd::Conv2DShape {
  // Winograd F(2x2, 3x3) where it pays: enough channels per group for the 16 GEMMs
  // to run at speed and the transforms to be amortized over them (with 16 or 24, as in
  // RegNet's groups and GoogLeNet's narrow branches, the implicit GEMM took half the
  // time), on planes large enough (winograd_min_outputs).
  bool winograd() const {
    return KH == 3 && KW == 3 && sh == 1 && sw == 1 && dh == 1 && dw == 1 && Cg() >= 32 && Mg() >= 16 &&
           OH * OW >= winograd_min_outputs();
  }
  // One group's convolution (the padded input holds all C planes; group g starts at plane g * Cg).
  simd::WinogradParams winograd_params() const {
    simd::WinogradParams p;
    p.C = Cg();
    p.H = H;
    p.W = W;
    p.M = Mg();
    p.OH = OH;
    p.OW = OW;
    p.pad_top = pt;
    p.pad_left = pl;
    return p;
  }
};

// Convolutions that read B straight from the padded input planes (run_implicit_gemm)
// instead of packing im2col panels: those with few output channels per group, over
// which a packed panel's copy would be amortized (measured per layer: grouped 3x3s with
// 16 channels per group, 3-channel stems, 1x1 stride 2 with 32 outputs 0.6-0.8x the
// packed path's time; with 128 outputs or more, 1.2-1.6x).
bool implicit_gemm(const ConvShape& s) {
  if (s.depthwise() || s.winograd() || s.pointwise()) return false;
  return s.Mg() <= 64;
}

struct PackedConv {
  const void* source = nullptr;  // W data the packing came from
  Shape w_shape;
  int64_t mr = 0;                 // panel height it was packed for (the SIMD target's)
  bool winograd = false;          // packed as 16 Winograd-domain matrices (winograd.h)
  int64_t group_stride = 0;       // floats per packed group
  std::shared_ptr<float> packed;  // 64-byte aligned
  // The node's geometry and activation as last read from its attributes, for inputs of
  // shape x_shape: read once, not on every run (attribute lists are heap vectors).
  Shape x_shape;
  ConvShape geometry{};
  Activation activation;
  std::vector<int64_t> tap_rows;  // implicit-GEMM path: where each row of B starts (tap_row_offsets)
};

std::shared_ptr<float> aligned_floats(size_t n) {
  size_t bytes = std::max<size_t>(64, (n * sizeof(float) + 63) / 64 * 64);
  float* p = static_cast<float*>(std::aligned_alloc(64, bytes));
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<float>(p, [](float* q) { std::free(q); });
}

PackedConv& packed_weights(KernelContext& ctx, const Tensor& w, const ConvShape& s) {
  // Cache only weights that are initializers: a runtime tensor may reuse an address.
  std::shared_ptr<void>* slot = ctx.input_is_constant(1) ? ctx.node_state() : nullptr;
  auto* cached = slot && *slot ? static_cast<PackedConv*>(slot->get()) : nullptr;
  if (cached && cached->source == w.raw() && cached->w_shape == w.shape() && cached->mr == simd::sgemm_mr() &&
      cached->winograd == s.winograd())
    return *cached;
  auto pc = std::make_shared<PackedConv>();
  pc->source = w.raw();
  pc->w_shape = w.shape();
  pc->mr = simd::sgemm_mr();
  pc->winograd = s.winograd();
  const float* wd = w.data<float>();
  if (pc->winograd) {
    const int64_t Mg = s.Mg(), Cg = s.Cg();
    pc->group_stride = 16 * int64_t(simd::winograd_u_stride(Mg, Cg));
    pc->packed = aligned_floats(size_t(pc->group_stride * s.group));
    for (int64_t g = 0; g < s.group; ++g)
      simd::winograd_pack_weights(wd + g * Mg * Cg * 9, Mg, Cg, pc->packed.get() + g * pc->group_stride);
  } else if (s.depthwise()) {
    pc->group_stride = s.KH * s.KW;  // plain copy: one KH x KW filter per channel
    pc->packed = aligned_floats(size_t(w.numel()));
    std::memcpy(pc->packed.get(), wd, w.nbytes());
  } else {
    const int64_t Mg = s.Mg(), K = s.K();
    pc->group_stride = int64_t(simd::packed_a_floats(Mg, K));
    pc->packed = aligned_floats(size_t(pc->group_stride * s.group));
    for (int64_t g = 0; g < s.group; ++g)
      simd::pack_a(wd + g * Mg * K, K, 1, Mg, K, pc->packed.get() + g * pc->group_stride);
  }
  if (!slot) {  // no state kept: hold it in a thread-local holder for this call
    thread_local std::shared_ptr<PackedConv> holder;
    holder = pc;
    return *holder;
  }
  *slot = pc;
  return *pc;
}

// Writes columns [j0, j0 + nc) of im2col(x) (one group: Cg channels) as packed-B panels,
// reading the group's planes in the padded layout (depthwise.h), where each run of
// consecutive output pixels within an output row reads consecutive floats: copies in
// whole chunks of 8 floats, no bounds checks. A chunk may write past its run; every such
// write lands on floats written after it (the next run, the next tap's row, the next
// panel) or in the buffer's slack, so `out` needs 8 floats beyond its panels, and the
// padded planes 8 floats beyond their end.
constexpr int64_t kChunk = 8;
void pack_im2col(const ConvShape& s, const simd::PaddedPlane& pp, const float* padded, int64_t j0, int64_t nc,
                 float* out) {
  const int64_t nr = simd::sgemm_nr(), K = s.K();
  // Where each tap (ky, kx) starts relative to its plane, found once per call: for every
  // panel and channel a division per tap would cost more than the copies.
  constexpr int64_t kMaxTaps = 256;
  int64_t tap_offsets[kMaxTaps];
  const int64_t taps = s.KH * s.KW;
  const simd::DepthwiseParams geometry = simd::depthwise_params(s);
  auto tap_offset = [&](int64_t t) { return simd::padded_tap_offset(geometry, pp.row_stride, pp.phase_cols, t); };
  for (int64_t t = 0; t < std::min(taps, kMaxTaps); ++t) tap_offsets[t] = tap_offset(t);
  for (int64_t q = 0; q < nc; q += nr) {
    const int64_t cols = std::min(nr, nc - q);
    float* panel = out + q * K;
    // Runs of consecutive output pixels within one output row, and where each reads.
    struct Run {
      int64_t t, len, src;
    };
    Run runs[64];
    int nruns = 0;
    for (int64_t t = 0; t < cols;) {
      const int64_t j = j0 + q + t, oy = j / s.OW, ox = j % s.OW;
      const int64_t len = std::min(cols - t, s.OW - ox);
      runs[nruns++] = {t, len, oy * s.sh * pp.row_stride + ox};
      t += len;
    }
    int64_t k = 0;
    for (int64_t c = 0; c < s.Cg(); ++c) {
      const float* plane = padded + c * pp.floats;
      for (int64_t t = 0; t < taps; ++t, ++k) {
        const float* tap = plane + (t < kMaxTaps ? tap_offsets[t] : tap_offset(t));
        float* dst = panel + k * nr;
        for (int r = 0; r < nruns; ++r) {
          const float* from = tap + runs[r].src;
          float* to = dst + runs[r].t;
          for (int64_t i = 0; i < runs[r].len; i += kChunk)
            std::memcpy(to + i, from + i, kChunk * sizeof(float));  // a fixed size: vector moves
        }
        for (int64_t j = cols; j < nr; ++j) dst[j] = 0.f;
      }
    }
  }
}

// The implicit-GEMM path: B's row k = (channel c, tap t) of one group read straight from
// the padded planes, B[k][n] = padded[offsets[k] + n] for the pixels n of one output row
// (relative to that row's start), so nothing is packed per call.
std::vector<int64_t> tap_row_offsets(const ConvShape& s, const simd::PaddedPlane& pp) {
  const simd::DepthwiseParams geometry = simd::depthwise_params(s);
  const int64_t taps = s.KH * s.KW;
  std::vector<int64_t> offsets(size_t(s.K()));
  for (int64_t t = 0; t < taps; ++t) {
    const int64_t tap = simd::padded_tap_offset(geometry, pp.row_stride, pp.phase_cols, t);
    for (int64_t c = 0; c < s.Cg(); ++c) offsets[size_t(c * taps + t)] = c * pp.floats + tap;
  }
  return offsets;
}

bool read_shape(KernelContext& ctx, const Tensor& x, const Tensor& w, ConvShape& s) {
  if (x.dtype() != DType::Float32 || w.dtype() != DType::Float32) return false;
  return simd::read_conv2d_shape(ctx, x.shape(), w.shape(), s);
}

// Winograd path: each image padded once (a buffer every thread reads), then (group,
// tile block, output row chunk) pieces split over the threads by index.
void run_winograd(const ConvShape& s, const PackedConv& pc, const float* xd, const float* bd, const float* rd,
                  const Activation& act, float* yd, ThreadPool* pool) {
  const simd::WinogradParams p = s.winograd_params();
  simd::WinogradParams all = p;  // every channel, for padding
  all.C = s.C;
  const int64_t mr = simd::sgemm_mr(), block = simd::winograd_block_tiles(p);
  const int64_t blocks = (p.tiles() + block - 1) / block, Mg = s.Mg();
  const int threads = pool ? pool->threads() : 1;
  int64_t row_chunks = 1;
  if (blocks * s.N * s.group < threads) row_chunks = std::min<int64_t>((Mg + mr - 1) / mr, threads);
  const int64_t rows_per_chunk = ((Mg + mr - 1) / mr + row_chunks - 1) / row_chunks * mr;
  const size_t image_floats = simd::winograd_padded_floats(all);
  const size_t group_floats = simd::winograd_padded_floats(p);
  float* padded = simd::thread_scratch(image_floats * size_t(s.N), 1);
  // Padded plane by plane over the threads (a plane's layout does not depend on C).
  simd::WinogradParams one = all;
  one.C = 1;
  const size_t plane_floats = simd::winograd_padded_floats(one);
  auto pad = [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i)
      simd::winograd_pad_input(one, xd + i * s.H * s.W, padded + size_t(i) * plane_floats);
  };
  if (pool)
    pool->parallel_for(s.N * s.C, 1, pad);
  else
    pad(0, s.N * s.C);
  const int64_t pieces = s.N * s.group * blocks * row_chunks, out_plane = s.OH * s.OW;
  auto work = [&](int64_t b, int64_t e) {
    float* scratch = simd::thread_scratch(simd::winograd_block_scratch_floats(p, rows_per_chunk));
    for (int64_t t = b; t < e; ++t) {
      const int64_t rc = t % row_chunks, blk = (t / row_chunks) % blocks;
      const int64_t g = (t / row_chunks / blocks) % s.group, n = t / row_chunks / blocks / s.group;
      const int64_t m0 = rc * rows_per_chunk, rows = std::min(rows_per_chunk, Mg - m0);
      if (rows <= 0) continue;
      const int64_t t0 = blk * block, nt = std::min(block, p.tiles() - t0);
      const int64_t out_off = (n * s.M + g * Mg) * out_plane;
      simd::winograd_conv_block(p, padded + n * image_floats + g * group_floats, pc.packed.get() + g * pc.group_stride,
                                m0, rows, t0, nt, bd ? bd + g * Mg : nullptr, rd ? rd + out_off : nullptr, act,
                                yd + out_off, scratch);
    }
  };
  if (pool)
    pool->parallel_for(pieces, 1, work);
  else
    work(0, pieces);
}

// Every input plane of x padded once, in the layout of padded_plane(depthwise_params(s)),
// into a per-call buffer all threads read (scratch slot 1), padded plane by plane over
// the threads.
const float* pad_input_planes(const ConvShape& s, const float* xd, ThreadPool* pool) {
  const simd::DepthwiseParams geometry = simd::depthwise_params(s);
  float* padded = simd::thread_scratch(size_t(s.N * s.C * simd::padded_plane(geometry).floats + 64), 1);
  if (pool)
    pool->parallel_for(s.N * s.C, 1, [&](int64_t b, int64_t e) { simd::pad_planes(geometry, b, e, xd, padded); });
  else
    simd::pad_planes(geometry, 0, s.N * s.C, xd, padded);
  return padded;
}

// Implicit-GEMM path: every input plane padded once (a buffer all threads read), then
// (image, group, block of output rows, chunk of output channels) units split over the
// threads by index. Within a unit each panel of output channels runs over the block's
// rows, so its weights stay in L1 while the block's input rows stay in L2.
void run_implicit_gemm(const ConvShape& s, const PackedConv& pc, const float* xd, const float* bd, const float* rd,
                       const Activation& act, float* yd, ThreadPool* pool) {
  const simd::PaddedPlane pp = simd::padded_plane(simd::depthwise_params(s));
  const float* padded = pad_input_planes(s, xd, pool);
  const int64_t Mg = s.Mg(), Cg = s.Cg(), K = s.K(), mr = simd::sgemm_mr(), OHW = s.OH * s.OW;
  const int threads = pool ? pool->threads() : 1;
  constexpr int64_t kUnitPixels = 512;
  int64_t block_rows = std::clamp<int64_t>(kUnitPixels / s.OW, 1, s.OH);
  int64_t row_blocks = (s.OH + block_rows - 1) / block_rows;
  if (threads > 1 && (s.N * s.group * row_blocks) % threads != 0 && s.OH > 1) {
    // Near-equal blocks, a multiple of the thread count (see the GEMM path's columns).
    const int64_t want = std::min(s.OH, (row_blocks + threads - 1) / threads * threads);
    block_rows = (s.OH + want - 1) / want;
    row_blocks = (s.OH + block_rows - 1) / block_rows;
  }
  int64_t row_chunks = 1;
  if (row_blocks * s.N * s.group < threads)
    row_chunks = std::min<int64_t>((Mg + mr - 1) / mr, (threads + row_blocks - 1) / row_blocks);
  const int64_t rows_per_chunk = ((Mg + mr - 1) / mr + row_chunks - 1) / row_chunks * mr;
  const int64_t units = s.N * s.group * row_blocks * row_chunks;
  const int64_t* offsets = pc.tap_rows.data();
  auto work = [&](int64_t b, int64_t e) {
    for (int64_t u = b; u < e; ++u) {
      const int64_t rc = u % row_chunks, rb = (u / row_chunks) % row_blocks;
      const int64_t g = (u / row_chunks / row_blocks) % s.group, n = u / row_chunks / row_blocks / s.group;
      const int64_t m_begin = rc * rows_per_chunk, m_end = std::min(Mg, m_begin + rows_per_chunk);
      const int64_t y0 = rb * block_rows, y1 = std::min(s.OH, y0 + block_rows);
      const float* planes = padded + (n * s.C + g * Cg) * pp.floats;
      for (int64_t m = m_begin; m < m_end; m += mr) {
        const float* pa = pc.packed.get() + g * pc.group_stride + m * K;
        simd::GemmEpilogue ep;
        ep.bias_per_row = bd ? bd + g * Mg + m : nullptr;
        ep.activation = act;
        for (int64_t oy = y0; oy < y1; ++oy) {
          const int64_t out_off = (n * s.M + g * Mg + m) * OHW + oy * s.OW;
          ep.residual = rd ? rd + out_off : nullptr;
          simd::sgemm_offset_b(std::min(mr, m_end - m), s.OW, K, pa, planes + oy * s.sh * pp.row_stride, offsets,
                               yd + out_off, OHW, ep);
        }
      }
    }
  };
  if (pool)
    pool->parallel_for(units, 1, work);
  else
    work(0, units);
}

// The state packed_weights keeps for this node, if any.
const PackedConv* node_conv_state(KernelContext& ctx) {
  std::shared_ptr<void>* slot = ctx.input_is_constant(1) ? ctx.node_state() : nullptr;
  return slot && *slot ? static_cast<const PackedConv*>(slot->get()) : nullptr;
}

void run_fast_conv(KernelContext& ctx, bool fused) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(1);
  ConvShape s{};
  Activation act;
  const Tensor* bias = ctx.has_input(2) ? &ctx.input(2) : nullptr;
  const Tensor* residual = fused && ctx.has_input(3) ? &ctx.input(3) : nullptr;
  const PackedConv* state = node_conv_state(ctx);
  const bool known = state && x.dtype() == DType::Float32 && state->x_shape == x.shape() && state->source == w.raw() &&
                     state->w_shape == w.shape();
  if (known) {
    s = state->geometry;
    act = state->activation;
  } else if (read_shape(ctx, x, w, s)) {
    act = fused ? activation_from_node(ctx.node()) : Activation{};
  } else {
    fused ? kernel_fused_conv(ctx) : kernel_conv(ctx);
    return;
  }
  const bool residual_fits =
      !residual || (residual->dtype() == DType::Float32 && residual->rank() == 4 && residual->dim(0) == s.N &&
                    residual->dim(1) == s.M && residual->dim(2) == s.OH && residual->dim(3) == s.OW);
  if ((bias && (bias->dtype() != DType::Float32 || bias->numel() != s.M)) || !residual_fits) {
    fused ? kernel_fused_conv(ctx) : kernel_conv(ctx);
    return;
  }
  PackedConv& pc = packed_weights(ctx, w, s);
  const bool implicit = implicit_gemm(s);
  if (!known || (implicit && pc.tap_rows.empty())) {
    pc.x_shape = x.shape();
    pc.geometry = s;
    pc.activation = act;
    pc.tap_rows.clear();
    if (implicit) pc.tap_rows = tap_row_offsets(s, simd::padded_plane(simd::depthwise_params(s)));
  }
  Tensor& y = ctx.allocate_output_uninitialized(0, DType::Float32, {s.N, s.M, s.OH, s.OW});
  const float* xd = x.data<float>();
  const float* bd = bias ? bias->data<float>() : nullptr;
  const float* rd = residual ? residual->data<float>() : nullptr;
  float* yd = y.data<float>();
  const int64_t HW = s.H * s.W, OHW = s.OH * s.OW;
  ThreadPool* pool = ctx.thread_pool();
  auto parallel = [&](int64_t n, int64_t grain, auto&& fn) {
    if (pool)
      pool->parallel_for(n, grain, fn);
    else
      fn(int64_t(0), n);
  };

  if (s.depthwise()) {
    const simd::DepthwiseParams p = simd::depthwise_params(s);
    const int64_t scratch = simd::depthwise_scratch_floats(p);
    parallel(s.N * s.C, 1, [&](int64_t b, int64_t e) {
      simd::depthwise_conv2d(p, s.C, b, e, xd, pc.packed.get(), bd, rd, act, yd, simd::thread_scratch(size_t(scratch)));
    });
    return;
  }

  if (s.winograd()) {
    run_winograd(s, pc, xd, bd, rd, act, yd, pool);
    return;
  }
  if (implicit) {
    run_implicit_gemm(s, pc, xd, bd, rd, act, yd, pool);
    return;
  }

  const int64_t Mg = s.Mg(), Cg = s.Cg(), K = s.K(), nr = simd::sgemm_nr(), mr = simd::sgemm_mr();
  // Column blocks sized so one K slice of a packed block (256 x NC floats) stays in L2,
  // and at most kMaxBlockCols wide: blocks are the unit of work split over threads, and
  // a few large uneven ones (4096 + 256 columns) left one thread idle.
  constexpr int64_t kMaxBlockCols = 512;
  int64_t nc =
      std::max<int64_t>(nr, (int64_t(256 * 1024 / 4) / std::max<int64_t>(std::min<int64_t>(K, 256), 1)) / nr * nr);
  nc = std::min({nc, kMaxBlockCols, (OHW + nr - 1) / nr * nr});
  int64_t col_blocks = (OHW + nc - 1) / nc;
  const int threads = pool ? pool->threads() : 1;
  if (threads > 1 && col_blocks > 1 && col_blocks % threads != 0) {
    // A multiple of the thread count of near-equal blocks: 784 columns on two threads
    // as 400 + 384, not 512 + 272 (which left one thread idle a third of the time).
    // Only the grouping of columns changes: each output's sum is the same.
    const int64_t want = (col_blocks + threads - 1) / threads * threads;
    nc = ((OHW + want - 1) / want + nr - 1) / nr * nr;
    col_blocks = (OHW + nc - 1) / nc;
  }
  // Split rows too when there are fewer column blocks than threads (small late layers).
  int64_t row_chunks = 1;
  if (col_blocks * s.N * s.group < threads) {
    row_chunks = std::min<int64_t>((Mg + mr - 1) / mr, (threads + col_blocks - 1) / col_blocks);
  }
  const int64_t rows_per_chunk = ((Mg + mr - 1) / mr + row_chunks - 1) / row_chunks * mr;
  const int64_t tiles = s.N * s.group * col_blocks * row_chunks;
  // Other than 1x1: every input plane padded once, in a buffer all threads read.
  const simd::PaddedPlane pp = simd::padded_plane(simd::depthwise_params(s));
  const float* padded = s.pointwise() ? nullptr : pad_input_planes(s, xd, pool);
  parallel(tiles, 1, [&](int64_t b, int64_t e) {
    float* packed_b = simd::thread_scratch(simd::packed_b_floats(nc, K) + kChunk);
    for (int64_t t = b; t < e; ++t) {
      const int64_t rc = t % row_chunks, cb = (t / row_chunks) % col_blocks;
      const int64_t g = (t / row_chunks / col_blocks) % s.group, n = t / row_chunks / col_blocks / s.group;
      const int64_t j0 = cb * nc, cols = std::min(nc, OHW - j0);
      const int64_t m0 = rc * rows_per_chunk, rows = std::min(rows_per_chunk, Mg - m0);
      if (rows <= 0) continue;
      const float* xg = xd + (n * s.C + g * Cg) * HW;
      const int64_t out_off = (n * s.M + g * Mg + m0) * OHW + j0;
      const float* pa = pc.packed.get() + g * pc.group_stride + m0 * K;
      simd::GemmEpilogue ep;
      ep.bias_per_row = bd ? bd + g * Mg + m0 : nullptr;
      ep.residual = rd ? rd + out_off : nullptr;  // addressed relative to the tile, like C
      ep.activation = act;
      if (s.pointwise() && (K <= kDirectMaxK || Mg <= kDirectMaxM)) {
        // 1x1: the input planes already are B's rows; only a last partial panel is packed.
        const int64_t full = cols / nr * nr;
        if (full) simd::sgemm_direct_b(rows, full, K, pa, xg + j0, HW, yd + out_off, OHW, ep);
        if (full < cols) {
          simd::pack_b(xg + j0 + full, HW, 1, K, cols - full, packed_b);
          simd::GemmEpilogue tail = ep;
          if (tail.residual) tail.residual += full;
          simd::sgemm_packed(rows, cols - full, K, pa, packed_b, yd + out_off + full, OHW, tail);
        }
        continue;
      }
      if (s.pointwise()) {
        simd::pack_b(xg + j0, HW, 1, K, cols, packed_b);
      } else {
        pack_im2col(s, pp, padded + (n * s.C + g * Cg) * pp.floats, j0, cols, packed_b);
      }
      simd::sgemm_packed(rows, cols, K, pa, packed_b, yd + out_off, OHW, ep);
    }
  });
}

}  // namespace

void kernel_conv_fast(KernelContext& ctx) { run_fast_conv(ctx, false); }
void kernel_fused_conv_fast(KernelContext& ctx) { run_fast_conv(ctx, true); }

}  // namespace pith
