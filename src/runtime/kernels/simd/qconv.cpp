// Fast int8 kernels for pith.QConv (2-D NCHW, any grouping; depthwise exactly through the
// float depthwise kernel) and pith.QGemm, on the int8 GEMM of qgemm.h. Weights are packed
// once per node (kept in the node's state).
// QConv: per image and group, output column blocks of im2col(X) packed in qgemm.h's
// layout, times the packed weights, requantized on the way out with the fused residual
// (inputs 9-11) when there is one. QGemm computes Y^T = W * A^T (the weights as the
// packed left operand); a single row of A is a matrix-vector product instead. Work
// splits over tiles by index, so results are identical for any thread count. Weights
// with nonzero zero points, other ranks and types go to the reference kernels.
#include <algorithm>
#include <cstring>
#include <memory>

#include "runtime/kernel.h"
#include "runtime/kernels/requantize.h"
#include "runtime/kernels/simd/conv_shape.h"
#include "runtime/kernels/simd/depthwise.h"
#include "runtime/kernels/simd/qgemm.h"
#include "runtime/kernels/simd/quantize_linear.h"
#include "runtime/kernels/simd/scratch.h"

namespace pith {

void kernel_quantized_conv(KernelContext& ctx);  // reference
void kernel_quantized_gemm(KernelContext& ctx);  // reference

namespace {

// Output columns per task: enough to amortize the weight panel loads, small enough to
// keep the packed block in L1/L2 and to give every thread work.
constexpr int64_t kBlockCols = 192;

bool zero_weight_zero_point(const KernelContext& ctx) {
  if (!ctx.has_input(5)) return true;
  const Tensor& z = ctx.input(5);
  if (z.dtype() != DType::Int8) return false;
  for (int64_t i = 0; i < z.numel(); ++i)
    if (z.data<int8_t>()[i] != 0) return false;
  return true;
}

struct PackedWeights {
  const void* source = nullptr;  // W data the packing came from (nullptr: not packed yet)
  Shape shape;
  int64_t mr = 0, k_group = 0, group_stride = 0;  // the layout it was packed for (qgemm.h)
  std::vector<int32_t> packed;                    // per group, packed A (qgemm.h)
  std::vector<int8_t> rows_nk;                    // QGemm with transB = 0: W transposed to [N, K] for the one-row path
};

// What a node keeps between runs: its packed weights and its requantization (both
// derived from initializers only, so computed once).
struct NodeState {
  PackedWeights weights;
  std::vector<float> depthwise_weights;  // W as floats (depthwise through the float kernel)
  const void* depthwise_source = nullptr;
  Requantize rq;
  const void* rq_source[2] = {nullptr, nullptr};  // x_scale and w_scale data it came from
};

// The node's state when the Session keeps one, else nullptr.
NodeState* node_state(KernelContext& ctx) {
  std::shared_ptr<void>* slot = ctx.node_state();
  if (!slot) return nullptr;
  if (!*slot) *slot = std::make_shared<NodeState>();
  return static_cast<NodeState*>(slot->get());
}

// The requantization of the node's scales, computed once when they are all initializers.
const Requantize& requantization(KernelContext& ctx, int64_t channels) {
  bool constant = ctx.input_is_constant(1) && ctx.input_is_constant(4);
  for (size_t i : {6, 7, 10, 11}) constant = constant && (!ctx.has_input(i) || ctx.input_is_constant(i));
  NodeState* st = constant ? node_state(ctx) : nullptr;
  if (st && st->rq_source[0] == ctx.input(1).raw() && st->rq_source[1] == ctx.input(4).raw() &&
      int64_t(st->rq.multiplier.size()) == channels)
    return st->rq;
  if (!st) {
    thread_local Requantize fresh;
    fresh = read_requantize(ctx, channels);
    return fresh;
  }
  st->rq = read_requantize(ctx, channels);
  st->rq_source[0] = ctx.input(1).raw();
  st->rq_source[1] = ctx.input(4).raw();
  return st->rq;
}

// Packs W (rows x K per group, element (m, k) at w[m * rs + k * cs]) once per node.
const PackedWeights& packed(KernelContext& ctx, const Tensor& w, int64_t groups, int64_t rows, int64_t K, int64_t rs,
                            int64_t cs, int64_t group_offset) {
  NodeState* st = ctx.input_is_constant(3) ? node_state(ctx) : nullptr;
  if (st && st->weights.source == w.raw() && st->weights.shape == w.shape() && st->weights.mr == simd::qgemm_mr() &&
      st->weights.k_group == simd::qgemm_k_group())
    return st->weights;
  thread_local PackedWeights uncached;
  PackedWeights& pw = st ? st->weights : uncached;
  pw.source = w.raw();
  pw.shape = w.shape();
  pw.mr = simd::qgemm_mr();
  pw.k_group = simd::qgemm_k_group();
  pw.group_stride = int64_t(simd::packed_qa_words(rows, K));
  pw.packed.resize(size_t(pw.group_stride * groups));
  for (int64_t g = 0; g < groups; ++g)
    simd::pack_qa(w.data<int8_t>() + g * group_offset, rs, cs, rows, K, pw.packed.data() + g * pw.group_stride);
  pw.rows_nk.clear();
  if (groups == 1 && cs != 1 && rows > 1) {  // a transposed source: keep [rows, K] too
    pw.rows_nk.resize(size_t(rows * K));
    for (int64_t m = 0; m < rows; ++m)
      for (int64_t k = 0; k < K; ++k) pw.rows_nk[size_t(m * K + k)] = w.data<int8_t>()[m * rs + k * cs];
  }
  return pw;
}

using QConvShape = simd::Conv2DShape;

bool read_shape(KernelContext& ctx, const Tensor& x, const Tensor& w, QConvShape& s) {
  return simd::read_conv2d_shape(ctx, x.shape(), w.shape(), s) && s.K() < 65536;
}

// The input rows a block of output columns [j0, j0 + nc) reads, for one group: its Cg
// planes' rows from the first output row's top tap to the last one's bottom tap, each
// padded left and right to the columns the taps reach, the padding (and rows outside the
// plane) holding the zero point (real value 0).
struct PaddedRows {
  int64_t first_out_row = 0;   // output row whose top tap reads padded row 0
  int64_t rows = 0, cols = 0;  // per plane
  static PaddedRows of(const QConvShape& s, int64_t j0, int64_t nc) {
    PaddedRows r;
    r.first_out_row = j0 / s.OW;
    const int64_t last_out_row = (j0 + nc - 1) / s.OW;
    r.rows = (last_out_row - r.first_out_row) * s.sh + (s.KH - 1) * s.dh + 1;
    r.cols = (s.OW - 1) * s.sw + (s.KW - 1) * s.dw + 1;
    return r;
  }
  int64_t bytes(const QConvShape& s) const { return s.Cg() * rows * cols; }
};

// Bytes past the end of the im2col and padded-rows buffers that im2col_block may touch.
constexpr size_t kIm2colSlack = 16;

template <typename T>
void pad_rows(const QConvShape& s, const T* x, const PaddedRows& r, T zero, T* out) {
  std::fill(out, out + r.bytes(s), zero);
  const int64_t iy0 = r.first_out_row * s.sh - s.pt;
  const int64_t n = std::max<int64_t>(0, std::min(s.W, r.cols - s.pl));  // input columns inside
  for (int64_t c = 0; c < s.Cg(); ++c)
    for (int64_t i = 0; i < r.rows; ++i) {
      const int64_t iy = iy0 + i;
      if (iy < 0 || iy >= s.H || n == 0) continue;
      std::memcpy(out + (c * r.rows + i) * r.cols + s.pl, x + (c * s.H + iy) * s.W, size_t(n) * sizeof(T));
    }
}

// im2col of output columns [j0, j0 + nc) for one group from its padded rows: out is
// K x nc, row (c, ky, kx) a run of padded input per output row, with no bounds to test.
template <typename T>
void im2col_block(const QConvShape& s, const T* padded, const PaddedRows& r, int64_t j0, int64_t nc, T* out) {
  int64_t k = 0;
  for (int64_t c = 0; c < s.Cg(); ++c) {
    const T* plane = padded + c * r.rows * r.cols;
    for (int64_t ky = 0; ky < s.KH; ++ky)
      for (int64_t kx = 0; kx < s.KW; ++kx, ++k) {
        T* dst = out + k * nc;
        int64_t oy = j0 / s.OW, ox = j0 % s.OW;
        for (int64_t t = 0; t < nc;) {
          const int64_t len = std::min(nc - t, s.OW - ox);
          const T* src = plane + ((oy - r.first_out_row) * s.sh + ky * s.dh) * r.cols + ox * s.sw + kx * s.dw;
          T* d = dst + t;
          // Runs are short (one output row). Stride 1: in 16-byte pieces, the last one
          // whole (what it writes past the run is written again by the next run or row;
          // both buffers have kIm2colSlack bytes of room). A constant stride of 2 (the
          // stems) lets the compiler vectorize the even-byte gather.
          if (s.sw == 1)
            for (int64_t i = 0; i < len; i += 16) std::memcpy(d + i, src + i, 16);
          else if (s.sw == 2)
            for (int64_t i = 0; i < len; ++i) d[i] = src[i * 2];
          else
            for (int64_t i = 0; i < len; ++i) d[i] = src[i * s.sw];
          t += len;
          ox = 0;
          ++oy;
        }
      }
  }
}

// The fused residual's codes of output plane p (image * M + channel), or null.
const void* residual_plane(const KernelContext& ctx, const QConvShape& s, int64_t p) {
  if (!ctx.has_input(9)) return nullptr;
  return static_cast<const char*>(ctx.input(9).raw()) + p * s.OH * s.OW;
}

// Depthwise convolution with int32 accumulators, one (image, channel) plane per task: per
// output row, each tap's weight times a run of input pixels; then the plane is
// requantized in one pass. For filters of more than kMaxExactTaps taps.
template <typename T>
void run_qdepthwise_int32(KernelContext& ctx, const QConvShape& s, const Requantize& rq) {
  const Tensor& x = ctx.input(0);
  const int8_t* w = ctx.input(3).data<int8_t>();
  const int32_t* bias = ctx.has_input(8) ? ctx.input(8).data<int32_t>() : nullptr;
  const int32_t zp = int32_t(ctx.input(2).as_int64(0));
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, {s.N, s.M, s.OH, s.OW});
  const size_t esize = rq.quantized_output ? 1 : sizeof(float);
  const int64_t taps = s.KH * s.KW;
  auto planes = [&](int64_t begin, int64_t end) {
    int32_t* plane_acc = reinterpret_cast<int32_t*>(simd::thread_scratch(size_t(s.OH * s.OW) + 16));
    for (int64_t p = begin; p < end; ++p) {
      const int64_t c = p % s.C;
      const T* plane = x.data<T>() + p * s.H * s.W;
      const int8_t* wc = w + c * taps;
      char* out = static_cast<char*>(y.raw()) + size_t(p * s.OH * s.OW) * esize;
      for (int64_t oy = 0; oy < s.OH; ++oy) {
        int32_t* acc = plane_acc + oy * s.OW;
        std::fill(acc, acc + s.OW, 0);
        for (int64_t ky = 0; ky < s.KH; ++ky) {
          const int64_t iy = oy * s.sh - s.pt + ky * s.dh;
          if (iy < 0 || iy >= s.H) continue;
          const T* row = plane + iy * s.W;
          for (int64_t kx = 0; kx < s.KW; ++kx) {
            const int32_t wv = wc[ky * s.KW + kx];
            if (wv == 0) continue;
            const int64_t ix0 = kx * s.dw - s.pl;  // input column of output 0
            // Outputs [lo, hi) read inside the row: 0 <= ix0 + ox * sw < W.
            const int64_t lo = ix0 >= 0 ? 0 : (-ix0 + s.sw - 1) / s.sw;
            const int64_t hi = ix0 >= s.W ? 0 : std::min(s.OW, (s.W - 1 - ix0) / s.sw + 1);
            if (s.sw == 1) {
              for (int64_t ox = lo; ox < hi; ++ox) acc[ox] += wv * (int32_t(row[ix0 + ox]) - zp);
            } else {
              for (int64_t ox = lo; ox < hi; ++ox) acc[ox] += wv * (int32_t(row[ix0 + ox * s.sw]) - zp);
            }
          }
        }
      }
      simd::requantize_row(plane_acc, s.OH * s.OW, bias ? bias[c] : 0, c, rq, out, residual_plane(ctx, s, p));
    }
  };
  if (ThreadPool* pool = ctx.thread_pool(); pool && s.N * s.C > 1)
    pool->parallel_for(s.N * s.C, 1, planes);
  else
    planes(0, s.N * s.C);
}

// Depthwise convolution through the float depthwise kernel (depthwise.h), exactly: with
// |x - zp| <= 255 and |w| <= 128 every product is below 2^15, so the sum of up to 512 taps
// stays below 2^24 and float holds every partial sum exactly, in any order: the float
// accumulator equals the int32 one bit for bit. Planes are widened to float on the fly,
// the weights once per node.
constexpr int64_t kMaxExactTaps = 512;
// Floats of input (or output) planes widened per call of the float kernel: 32 KB.
constexpr int64_t kDepthwiseRunFloats = 8192;

const std::vector<float>& depthwise_weights(KernelContext& ctx, const Tensor& w) {
  NodeState* st = ctx.input_is_constant(3) ? node_state(ctx) : nullptr;
  thread_local std::vector<float> uncached;
  std::vector<float>& wf = st ? st->depthwise_weights : uncached;
  if (st && st->depthwise_source == w.raw() && int64_t(wf.size()) == w.numel()) return wf;
  wf.assign(w.data<int8_t>(), w.data<int8_t>() + w.numel());
  if (st) st->depthwise_source = w.raw();
  return wf;
}

template <typename T>
void run_qdepthwise(KernelContext& ctx, const QConvShape& s, const Requantize& rq) {
  const int64_t taps = s.KH * s.KW;
  if (taps > kMaxExactTaps) return run_qdepthwise_int32<T>(ctx, s, rq);
  const Tensor& x = ctx.input(0);
  const std::vector<float>& wf = depthwise_weights(ctx, ctx.input(3));
  const int32_t* bias = ctx.has_input(8) ? ctx.input(8).data<int32_t>() : nullptr;
  const int32_t zp = int32_t(ctx.input(2).as_int64(0));
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, {s.N, s.M, s.OH, s.OW});
  const size_t esize = rq.quantized_output ? 1 : sizeof(float);
  const simd::DepthwiseParams p = simd::depthwise_params(s);
  const int64_t acc_bound = taps * 255 * 128;        // |x - zp| <= 255, |w| <= 128
  if (taps <= simd::kDepthwiseRequantizedMaxTaps) {  // the float kernel reads the codes and requantizes
    simd::DepthwiseRequantization q;
    q.rq = &rq;
    q.multiplier = rq.multiplier.data();
    q.bias = bias;
    q.residual = ctx.has_input(9) ? ctx.input(9).raw() : nullptr;
    q.out = y.raw();
    q.acc_bound = acc_bound;
    const int64_t scratch_floats = simd::depthwise_scratch_floats(p);
    auto planes = [&](int64_t begin, int64_t end) {
      simd::depthwise_conv2d_requantized(p, s.C, begin, end, x.raw(), std::is_same_v<T, int8_t>, zp, wf.data(), q,
                                         simd::thread_scratch(size_t(scratch_floats)));
    };
    if (ThreadPool* pool = ctx.thread_pool(); pool && s.N * s.C > 1)
      pool->parallel_for(s.N * s.C, 1, planes);
    else
      planes(0, s.N * s.C);
    return;
  }
  // Larger filters: planes widened to float, the float kernel's plane of accumulators
  // (partial sums in its passes), then requantized.
  auto rounded = [](int64_t n) { return (n + 15) / 16 * 16; };  // keeps each part 64-byte aligned
  // Planes go to the float kernel in runs of one image's consecutive channels (one call
  // sets up its geometry once: small planes, as MobileNet's 7x7 ones, are many).
  const int64_t in_plane = s.H * s.W, out_plane = s.OH * s.OW;
  const int64_t run_planes = std::max<int64_t>(1, kDepthwiseRunFloats / std::max(in_plane, out_plane));
  const int64_t in_floats = rounded(run_planes * in_plane), acc_floats = rounded(run_planes * out_plane);
  const int64_t scratch_floats = simd::depthwise_scratch_floats(p);
  auto planes = [&](int64_t begin, int64_t end) {
    float* xf = simd::thread_scratch(size_t(in_floats + acc_floats + scratch_floats));
    float* acc = xf + in_floats;
    float* scratch = acc + acc_floats;
    for (int64_t i0 = begin; i0 < end;) {
      const int64_t c0 = i0 % s.C, count = std::min({end - i0, s.C - c0, run_planes});
      const T* plane = x.data<T>() + i0 * in_plane;
      if constexpr (std::is_same_v<T, uint8_t>)
        simd::dequantize_u8(plane, count * in_plane, 1.0f, zp, xf);
      else
        simd::dequantize_s8(plane, count * in_plane, 1.0f, zp, xf);
      // Channels c0 .. c0 + count - 1: the filters from c0 on, no wrap past the last channel.
      simd::depthwise_conv2d(p, s.C, 0, count, xf, wf.data() + c0 * taps, nullptr, nullptr, Activation{}, acc, scratch);
      for (int64_t j = 0; j < count; ++j) {
        const int64_t i = i0 + j, c = c0 + j;
        char* out = static_cast<char*>(y.raw()) + size_t(i * out_plane) * esize;
        simd::requantize_row_f32(acc + j * out_plane, out_plane, bias ? bias[c] : 0, c, rq, out,
                                 residual_plane(ctx, s, i));
      }
      i0 += count;
    }
  };
  if (ThreadPool* pool = ctx.thread_pool(); pool && s.N * s.C > 1)
    pool->parallel_for(s.N * s.C, 1, planes);
  else
    planes(0, s.N * s.C);
}

template <typename T>
void run_qconv(KernelContext& ctx, const QConvShape& s, const Requantize& rq) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  const int32_t* bias = ctx.has_input(8) ? ctx.input(8).data<int32_t>() : nullptr;
  const T zp = T(ctx.input(2).as_int64(0));
  const int64_t Mg = s.Mg(), K = s.K(), O = s.OH * s.OW;
  const PackedWeights& pw = packed(ctx, w, s.group, Mg, K, K, 1, Mg * K);
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, {s.N, s.M, s.OH, s.OW});
  const size_t esize = rq.quantized_output ? 1 : sizeof(float);
  const int64_t blocks = (O + kBlockCols - 1) / kBlockCols;
  const int64_t tasks = s.N * s.group * blocks;
  const bool pointwise = s.pointwise();
  auto task = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t b = t % blocks, g = (t / blocks) % s.group, n = t / (blocks * s.group);
      const int64_t j0 = b * kBlockCols, nc = std::min(kBlockCols, O - j0);
      const T* xg = x.data<T>() + (n * s.C + g * s.Cg()) * s.H * s.W;
      const PaddedRows rows = pointwise ? PaddedRows{} : PaddedRows::of(s, j0, nc);
      const size_t col_bytes = pointwise ? 0 : size_t(K * nc) + kIm2colSlack;
      const size_t pad_bytes = pointwise ? 0 : size_t(rows.bytes(s)) + kIm2colSlack;
      const size_t packed_words = simd::packed_qb_words(nc, K);
      float* scratch = simd::thread_scratch((col_bytes + 3) / 4 + (pad_bytes + 3) / 4 + packed_words + 16);
      int32_t* pb = reinterpret_cast<int32_t*>(scratch);
      T* col = reinterpret_cast<T*>(pb + packed_words);
      const T* src = xg + j0;
      int64_t rs = s.H * s.W;
      if (!pointwise) {
        T* padded = col + (col_bytes + 3) / 4 * 4;
        pad_rows(s, xg, rows, zp, padded);
        im2col_block(s, padded, rows, j0, nc, col);
        src = col;
        rs = nc;
      }
      int32_t b_offset;
      if constexpr (std::is_same_v<T, uint8_t>)
        b_offset = simd::pack_qb_u8(src, rs, 1, K, nc, int32_t(zp), pb);
      else
        b_offset = simd::pack_qb_s8(src, rs, 1, K, nc, int32_t(zp), pb);
      simd::QgemmOutput out;
      const size_t at = size_t((n * s.M + g * Mg) * O + j0);
      out.data = static_cast<char*>(y.raw()) + at * esize;
      out.row_stride = O;
      out.col_stride = 1;
      if (ctx.has_input(9)) out.residual = static_cast<const char*>(ctx.input(9).raw()) + at;
      simd::qgemm_packed(Mg, nc, K, pw.packed.data() + g * pw.group_stride, pb, b_offset, bias, rq, g * Mg, out);
    }
  };
  if (ThreadPool* pool = ctx.thread_pool(); pool && tasks > 1)
    pool->parallel_for(tasks, 1, task);
  else
    task(0, tasks);
}

}  // namespace

void kernel_quantized_conv_fast(KernelContext& ctx) {
  const Tensor& x = ctx.input(0);
  const Tensor& w = ctx.input(3);
  QConvShape s{};
  const bool ok = (x.dtype() == DType::UInt8 || x.dtype() == DType::Int8) && w.dtype() == DType::Int8 &&
                  ctx.input(2).numel() == 1 && ctx.input(2).dtype() == x.dtype() && zero_weight_zero_point(ctx) &&
                  (!ctx.has_input(8) || (ctx.input(8).dtype() == DType::Int32 && ctx.input(8).numel() == w.dim(0))) &&
                  read_shape(ctx, x, w, s) &&
                  (!ctx.has_input(9) || ctx.input(9).shape() == Shape{s.N, s.M, s.OH, s.OW});
  if (!ok) return kernel_quantized_conv(ctx);  // the reference kernel handles the rest, or says what is wrong
  const Requantize& rq = requantization(ctx, s.M);
  if (s.depthwise()) {
    if (x.dtype() == DType::UInt8)
      run_qdepthwise<uint8_t>(ctx, s, rq);
    else
      run_qdepthwise<int8_t>(ctx, s, rq);
  } else if (x.dtype() == DType::UInt8) {
    run_qconv<uint8_t>(ctx, s, rq);
  } else {
    run_qconv<int8_t>(ctx, s, rq);
  }
}

void kernel_quantized_gemm_fast(KernelContext& ctx) {
  const Tensor& a = ctx.input(0);
  const Tensor& b = ctx.input(3);
  const bool trans_b = ctx.attr_int("transB", 0) != 0;
  const bool ok = a.dtype() == DType::UInt8 && b.dtype() == DType::Int8 && a.rank() >= 2 && b.rank() == 2 &&
                  ctx.input(2).numel() == 1 && ctx.input(2).dtype() == DType::UInt8 && zero_weight_zero_point(ctx);
  if (!ok) return kernel_quantized_gemm(ctx);
  const int64_t K = a.dim(-1), N = trans_b ? b.dim(0) : b.dim(1), rows = a.numel() / std::max<int64_t>(K, 1);
  if ((trans_b ? b.dim(1) : b.dim(0)) != K || K >= 65536 ||
      (ctx.has_input(8) && (ctx.input(8).dtype() != DType::Int32 || ctx.input(8).numel() != N)))
    return kernel_quantized_gemm(ctx);
  const Requantize& rq = requantization(ctx, N);
  const int32_t* bias = ctx.has_input(8) ? ctx.input(8).data<int32_t>() : nullptr;
  // W as the left operand: element (n, k) at b[n * K + k] (transB) or b[k * N + n].
  const PackedWeights& pw = packed(ctx, b, 1, N, K, trans_b ? K : 1, trans_b ? 1 : N, 0);
  Shape ys = a.shape();
  ys.back() = N;
  Tensor& y = ctx.allocate_output_uninitialized(0, rq.output_dtype, ys);
  const size_t esize = rq.quantized_output ? 1 : sizeof(float);
  const uint8_t zp = uint8_t(ctx.input(2).as_int64(0));
  if (rows == 1) {  // a classifier on one sample: matrix-vector product over W's rows
    // [N, K] row-major: B itself with transB (or a single column), else the transposed copy.
    const int8_t* w = pw.rows_nk.empty() ? b.data<int8_t>() : pw.rows_nk.data();
    int16_t* x = reinterpret_cast<int16_t*>(simd::thread_scratch(size_t(K + 1) / 2 + 16, 1));
    for (int64_t k = 0; k < K; ++k) x[k] = int16_t(int32_t(a.data<uint8_t>()[k]) - int32_t(zp));
    auto rows_task = [&](int64_t n0, int64_t n1) { simd::qgemv_rows(n0, n1, K, w, K, x, bias, rq, y.raw()); };
    if (ThreadPool* pool = ctx.thread_pool(); pool && N >= 64)
      pool->parallel_for(N, 16, rows_task);
    else
      rows_task(0, N);
    return;
  }
  const int64_t mr = simd::qgemm_mr();
  const int64_t row_blocks = (rows + kBlockCols - 1) / kBlockCols;
  const int64_t panels = (N + mr - 1) / mr;
  // Tasks: (row block, group of weight panels); a few panels per task keep the packed
  // activations reused while giving two threads work on a single row.
  const int64_t panels_per_task = std::max<int64_t>(1, std::min<int64_t>(8, panels / 2));
  const int64_t panel_tasks = (panels + panels_per_task - 1) / panels_per_task;
  const int64_t tasks = row_blocks * panel_tasks;
  auto task = [&](int64_t begin, int64_t end) {
    for (int64_t t = begin; t < end; ++t) {
      const int64_t rb = t / panel_tasks, pt = t % panel_tasks;
      const int64_t r0 = rb * kBlockCols, nr = std::min(kBlockCols, rows - r0);
      const int64_t m0 = pt * panels_per_task * mr, mc = std::min(panels_per_task * mr, N - m0);
      int32_t* pb = reinterpret_cast<int32_t*>(simd::thread_scratch(simd::packed_qb_words(nr, K) + 16));
      const int32_t b_offset = simd::pack_qb_u8(a.data<uint8_t>() + r0 * K, 1, K, K, nr, int32_t(zp), pb);
      simd::QgemmOutput out;
      out.data = static_cast<char*>(y.raw()) + size_t(r0 * N + m0) * esize;
      out.row_stride = 1;
      out.col_stride = N;
      simd::qgemm_packed(mc, nr, K, pw.packed.data() + m0 / mr * simd::packed_qa_panel_words(K), pb, b_offset, bias, rq,
                         m0, out);
    }
  };
  if (ThreadPool* pool = ctx.thread_pool(); pool && tasks > 1)
    pool->parallel_for(tasks, 1, task);
  else
    task(0, tasks);
}

}  // namespace pith
