// Tests for the nn reference kernels (gemm_ref, matmul.cpp, conv.cpp, pool.cpp,
// quantize.cpp, einsum.cpp): the shared GEMM against a naive product, convolution
// against a direct loop, opset/attribute corner cases, and the errors bad inputs raise.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/kernel.h"
#include "runtime/kernels/reference/gemm_ref.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

// The default tolerance of expect_near in this file.
constexpr float kTol = 1e-4f;

Tensor randn(Shape s, unsigned seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<float> d;
  Tensor t(DType::Float32, std::move(s));
  for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = d(rng);
  return t;
}

TEST(NnKernels, GemmRefMatchesNaiveAcrossBlocks) {
  const int64_t M = 37, N = 300, K = 260;
  Tensor a = randn({K, M}, 1), b = randn({N, K}, 2), c = randn({M, N}, 3);
  std::vector<float> y(c.data<float>(), c.data<float>() + M * N);
  ref::gemm_f32(true, true, M, N, K, 0.5f, a.data<float>(), M, b.data<float>(), K, 2.0f, y.data(), N);
  for (int64_t m = 0; m < M; m += 5)
    for (int64_t n = 0; n < N; n += 7) {
      double acc = 0;
      for (int64_t k = 0; k < K; ++k) acc += double(a.data<float>()[k * M + m]) * b.data<float>()[n * K + k];
      EXPECT_NEAR(y[size_t(m * N + n)], 0.5 * acc + 2.0 * c.data<float>()[m * N + n], 1e-3);
    }
}

TEST(NnKernels, GemmBroadcastsCAndChecksShapes) {
  Tensor a = Tensor::from_vector<float>({1, 2, 3, 4, 5, 6}, {3, 2});  // transA -> 2x3
  Tensor b = Tensor::from_vector<float>({1, 0, 0, 1, 1, 1}, {2, 3});  // transB -> 3x2
  Tensor c = Tensor::from_vector<float>({10, 20}, {2});
  Tensor y = OpRunner("Gemm", {a, b, c}).i("transA", 1).i("transB", 1).f("alpha", 2).f("beta", 0.5f).go();
  // A^T = [[1,3,5],[2,4,6]], B^T = [[1,1],[0,1],[0,1]] -> A^T B^T = [[1,9],[2,12]]
  expect_near(y, {2 + 5, 18 + 10, 4 + 5, 24 + 10}, kTol);
  Tensor bad = Tensor::from_vector<float>({1, 2, 3}, {3});
  EXPECT_THROW(OpRunner("Gemm", {a, b, bad}).i("transA", 1).i("transB", 1).go(), Error);
  EXPECT_THROW(OpRunner("Gemm", {a, a}).go(), Error);  // 3x2 * 3x2: inner dims differ
}

TEST(NnKernels, MatMulPromotesVectorsAndBroadcastsBatches) {
  Tensor v = Tensor::from_vector<float>({1, 2, 3}, {3});
  EXPECT_EQ(OpRunner("MatMul", {v, v}).go().shape(), Shape{});
  EXPECT_FLOAT_EQ(OpRunner("MatMul", {v, v}).go().data<float>()[0], 14.f);
  Tensor a = randn({2, 1, 4, 3}, 4), b = randn({5, 3, 2}, 5);
  Tensor y = OpRunner("MatMul", {a, b}).go();
  ASSERT_EQ(y.shape(), (Shape{2, 5, 4, 2}));
  for (int64_t p = 0; p < 2; ++p)
    for (int64_t q = 0; q < 5; ++q)
      for (int64_t m = 0; m < 4; ++m)
        for (int64_t n = 0; n < 2; ++n) {
          double acc = 0;
          for (int64_t k = 0; k < 3; ++k) acc += a.data<float>()[(p * 4 + m) * 3 + k] * b.data<float>()[(q * 3 + k) * 2 + n];
          EXPECT_NEAR(y.data<float>()[((p * 5 + q) * 4 + m) * 2 + n], acc, 1e-5);
        }
  Tensor ia = Tensor::from_vector<int32_t>({1, 2, 3, 4}, {2, 2});
  expect_near(OpRunner("MatMul", {ia, ia}).go(), {7, 10, 15, 22}, kTol);
  EXPECT_THROW(OpRunner("MatMul", {a, a}).go(), Error);  // 3 vs 4 inner dims
}

// Direct convolution for checking the im2col path.
std::vector<double> naive_conv2d(const Tensor& x, const Tensor& w, int64_t group, int64_t s, int64_t pad,
                                 int64_t dil, int64_t OH, int64_t OW) {
  const int64_t N = x.dim(0), C = x.dim(1), H = x.dim(2), W = x.dim(3), M = w.dim(0), KH = w.dim(2), KW = w.dim(3);
  const int64_t Cg = C / group, Mg = M / group;
  std::vector<double> y(size_t(N * M * OH * OW), 0.0);  // float-rounded sums
  for (int64_t n = 0; n < N; ++n)
    for (int64_t m = 0; m < M; ++m)
      for (int64_t oh = 0; oh < OH; ++oh)
        for (int64_t ow = 0; ow < OW; ++ow) {
          double acc = 0;
          for (int64_t c = 0; c < Cg; ++c)
            for (int64_t kh = 0; kh < KH; ++kh)
              for (int64_t kw = 0; kw < KW; ++kw) {
                const int64_t ih = oh * s - pad + kh * dil, iw = ow * s - pad + kw * dil;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                const int64_t ci = (m / Mg) * Cg + c;
                acc += double(x.data<float>()[((n * C + ci) * H + ih) * W + iw]) *
                       w.data<float>()[((m * Cg + c) * KH + kh) * KW + kw];
              }
          y[size_t(((n * M + m) * OH + oh) * OW + ow)] = float(acc);
        }
  return y;
}

TEST(NnKernels, ConvGroupedStridedDilatedMatchesDirectLoop) {
  Tensor x = randn({2, 4, 9, 8}, 6), w = randn({6, 2, 3, 3}, 7);
  Tensor y = OpRunner("Conv", {x, w}).i("group", 2).ints("strides", {2, 2}).ints("pads", {2, 2, 2, 2})
                 .ints("dilations", {2, 2}).go();
  // out = floor((9 + 4 - 5) / 2) + 1 = 5, floor((8 + 4 - 5) / 2) + 1 = 4
  ASSERT_EQ(y.shape(), (Shape{2, 6, 5, 4}));
  expect_near(y, naive_conv2d(x, w, 2, 2, 2, 2, 5, 4), 1e-4f);
  // Depthwise with SAME_LOWER: output = input size; the extra pad goes first.
  Tensor xd = randn({1, 3, 5, 5}, 8), wd = randn({3, 1, 2, 2}, 9);
  Tensor yd = OpRunner("Conv", {xd, wd}).i("group", 3).s("auto_pad", "SAME_LOWER").go();
  ASSERT_EQ(yd.shape(), (Shape{1, 3, 5, 5}));
  // SAME_LOWER with a 2x2 kernel pads one row/column at the start: y[0,0] = w[1,1] * x[0,0]
  EXPECT_NEAR(yd.data<float>()[0], wd.data<float>()[3] * xd.data<float>()[0], 1e-5);
}

TEST(NnKernels, ConvRejectsBadShapes) {
  Tensor x = randn({1, 3, 5, 5}, 1), w = randn({4, 2, 3, 3}, 2);
  EXPECT_THROW(OpRunner("Conv", {x, w}).go(), Error);                          // 3 channels vs 2
  EXPECT_THROW(OpRunner("Conv", {x, randn({4, 3, 7, 7}, 3)}).go(), Error);     // kernel larger than input
  EXPECT_THROW(OpRunner("Conv", {x, randn({4, 3, 3}, 3)}).go(), Error);        // rank mismatch
  EXPECT_THROW(OpRunner("Conv", {x, randn({4, 3, 3, 3}, 3), randn({3}, 4)}).go(), Error);  // bias size
}

TEST(NnKernels, ConvTransposeStridesAndOutputShape) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3}, {1, 1, 3});
  Tensor w = Tensor::from_vector<float>({1, 1}, {1, 1, 2});
  // stride 2, kernel 2: each input spreads over two outputs without overlap.
  expect_near(OpRunner("ConvTranspose", {x, w}).ints("strides", {2}).go(), {1, 1, 2, 2, 3, 3}, kTol);
  // output_shape larger than the full result pads at the end.
  Tensor y = OpRunner("ConvTranspose", {x, w}).ints("strides", {2}).ints("output_shape", {7}).go();
  expect_near(y, {1, 1, 2, 2, 3, 3, 0}, kTol);
  // pads crop the full result.
  expect_near(OpRunner("ConvTranspose", {x, w}).ints("strides", {2}).ints("pads", {1, 1}).go(), {1, 2, 2, 3}, kTol);
  EXPECT_THROW(OpRunner("ConvTranspose", {x, Tensor::from_vector<float>({1, 1}, {2, 1, 1})}).go(), Error);
}

TEST(NnKernels, MaxPoolIndicesColumnMajorAndInt8) {
  Tensor x = Tensor::from_vector<float>({1, 9, 3, 4, 5, 6, 7, 8, 2}, {1, 1, 3, 3});
  OpRunner op("MaxPool", {x}, 17, 2);
  op.ints("kernel_shape", {2, 2}).i("storage_order", 1);
  Tensor y = op.go();
  expect_near(y, {9, 9, 8, 8}, kTol);
  // column-major flat index of (h, w) is h + w * 3: 9 at (0,1) -> 3, 8 at (2,1) -> 5
  EXPECT_EQ(op.outputs[1].to_int64_vector(), (std::vector<int64_t>{3, 3, 5, 5}));
  Tensor xi = Tensor::from_vector<int8_t>({-5, -3, -128, -7}, {1, 1, 4});
  Tensor yi = OpRunner("MaxPool", {xi}).ints("kernel_shape", {2}).ints("strides", {2}).go();
  EXPECT_EQ(yi.dtype(), DType::Int8);
  EXPECT_EQ(yi.to_int64_vector(), (std::vector<int64_t>{-3, -7}));
  EXPECT_THROW(OpRunner("MaxPool", {x}).go(), Error);  // kernel_shape missing
}

TEST(NnKernels, AveragePoolPaddingCountsAndCeilMode) {
  Tensor x = Tensor::from_vector<float>({1, 2, 3, 4}, {1, 1, 4});
  // kernel 3, stride 2, pads 1: windows [pad,1,2] and [2,3,4]; the divisor depends on count_include_pad.
  Tensor a = OpRunner("AveragePool", {x}).ints("kernel_shape", {3}).ints("strides", {2}).ints("pads", {1, 1}).go();
  expect_near(a, {1.5f, 3.f}, kTol);  // (1+2)/2, (2+3+4)/3
  Tensor b = OpRunner("AveragePool", {x}).ints("kernel_shape", {3}).ints("strides", {2}).ints("pads", {1, 1})
                 .i("count_include_pad", 1).go();
  expect_near(b, {1.f, 3.f}, kTol);
  Tensor c = OpRunner("AveragePool", {x}).ints("kernel_shape", {2}).ints("strides", {3}).i("ceil_mode", 1).go();
  expect_near(c, {1.5f, 4.f}, kTol);  // the last window holds only x[3]
  EXPECT_THROW(OpRunner("AveragePool", {x}).ints("kernel_shape", {2, 2}).go(), Error);
}

TEST(NnKernels, GlobalAndLpPools) {
  Tensor x = Tensor::from_vector<float>({3, 4, -1, 1}, {1, 2, 2});
  expect_near(OpRunner("GlobalAveragePool", {x}).go(), {3.5f, 0.f}, kTol);
  expect_near(OpRunner("GlobalMaxPool", {x}).go(), {4.f, 1.f}, kTol);
  expect_near(OpRunner("GlobalLpPool", {x}).go(), {5.f, std::sqrt(2.f)}, kTol);
  expect_near(OpRunner("LpPool", {x}).ints("kernel_shape", {2}).i("p", 1).go(), {7.f, 2.f}, kTol);
  EXPECT_THROW(OpRunner("GlobalAveragePool", {Tensor::from_vector<float>({1, 2}, {2})}).go(), Error);
}

TEST(NnKernels, MaxUnpoolScattersAndChecksIndices) {
  Tensor x = Tensor::from_vector<float>({5, 6}, {1, 1, 2});
  Tensor idx = Tensor::from_vector<int64_t>({1, 2}, {1, 1, 2});
  expect_near(OpRunner("MaxUnpool", {x, idx}).ints("kernel_shape", {2}).ints("strides", {2}).go(), {0, 5, 6, 0}, kTol);
  Tensor bad = Tensor::from_vector<int64_t>({1, 4}, {1, 1, 2});
  EXPECT_THROW(OpRunner("MaxUnpool", {x, bad}).ints("kernel_shape", {2}).ints("strides", {2}).go(), Error);
}

TEST(NnKernels, QuantizeRoundsHalfToEvenAndSaturates) {
  Tensor x = Tensor::from_vector<float>({2.5f, 3.5f, -2.5f, 1000.f, -1000.f, 0.49f}, {6});
  Tensor s = Tensor::scalar<float>(1.f);
  Tensor y = OpRunner("QuantizeLinear", {x, s, Tensor::scalar<int8_t>(0)}).go();
  EXPECT_EQ(y.dtype(), DType::Int8);
  EXPECT_EQ(y.to_int64_vector(), (std::vector<int64_t>{2, 4, -2, 127, -128, 0}));
  Tensor yu = OpRunner("QuantizeLinear", {x, s}).go();  // default uint8, zero point 0
  EXPECT_EQ(yu.dtype(), DType::UInt8);
  EXPECT_EQ(yu.to_int64_vector(), (std::vector<int64_t>{2, 4, 0, 255, 0, 0}));
  // per-axis along axis 1
  Tensor xa = Tensor::from_vector<float>({1, 1, 1, 1}, {2, 2});
  Tensor sa = Tensor::from_vector<float>({1.f, 0.5f}, {2});
  Tensor za = Tensor::from_vector<uint8_t>({10, 20}, {2});
  EXPECT_EQ(OpRunner("QuantizeLinear", {xa, sa, za}).go().to_int64_vector(), (std::vector<int64_t>{11, 22, 11, 22}));
  Tensor dq = OpRunner("DequantizeLinear", {Tensor::from_vector<uint8_t>({11, 22, 10, 20}, {2, 2}), sa, za}).go();
  expect_near(dq, {1, 1, 0, 0}, kTol);
  EXPECT_THROW(OpRunner("QuantizeLinear", {xa, sa, Tensor::from_vector<uint8_t>({1, 2, 3}, {3})}).go(), Error);
  EXPECT_THROW(OpRunner("QuantizeLinear", {xa, Tensor::from_vector<float>({1, 1, 1}, {3})}).go(), Error);
}

TEST(NnKernels, DynamicQuantizeLinearRange) {
  OpRunner op("DynamicQuantizeLinear", {Tensor::from_vector<float>({0.f, 2.f, -3.f, 2.1f}, {4})}, 17, 3);
  Tensor y = op.go();
  const float scale = op.outputs[1].data<float>()[0];
  EXPECT_NEAR(scale, 5.1f / 255.f, 1e-7);
  EXPECT_EQ(op.outputs[2].as_int64(0), 150);  // round(3 / 0.02) = 150
  EXPECT_EQ(y.to_int64_vector(), (std::vector<int64_t>{150, 250, 0, 255}));
}

TEST(NnKernels, IntegerMatMulAndConvWithZeroPoints) {
  Tensor a = Tensor::from_vector<uint8_t>({2, 3, 4, 5}, {2, 2});
  Tensor b = Tensor::from_vector<int8_t>({1, -1, 2, 0}, {2, 2});
  Tensor azp = Tensor::from_vector<uint8_t>({1, 2}, {2});  // per row
  Tensor y = OpRunner("MatMulInteger", {a, b, azp}).go();
  EXPECT_EQ(y.dtype(), DType::Int32);
  // (a - zp) = [[1,2],[2,3]]; * b = [[5,-1],[8,-2]]
  EXPECT_EQ(y.to_int64_vector(), (std::vector<int64_t>{5, -1, 8, -2}));
  // ConvInteger pads with the zero point: centered padding is 0.
  Tensor x = Tensor::from_vector<uint8_t>({3, 3}, {1, 1, 2});
  Tensor w = Tensor::from_vector<uint8_t>({1, 1}, {1, 1, 2});
  Tensor yc = OpRunner("ConvInteger", {x, w, Tensor::scalar<uint8_t>(1)}).ints("pads", {1, 1}).go();
  EXPECT_EQ(yc.to_int64_vector(), (std::vector<int64_t>{2, 4, 2}));
  EXPECT_THROW(OpRunner("MatMulInteger", {a, b, Tensor::from_vector<uint8_t>({1, 2, 3}, {3})}).go(), Error);
  EXPECT_THROW(OpRunner("ConvInteger", {Tensor::from_vector<float>({1, 2}, {1, 1, 2}), w}).go(), Error);
}

TEST(NnKernels, QLinearMatMulRequantizes) {
  Tensor a = Tensor::from_vector<uint8_t>({10, 20}, {1, 2});
  Tensor b = Tensor::from_vector<uint8_t>({1, 3}, {2, 1});
  Tensor y = OpRunner("QLinearMatMul", {a, Tensor::scalar<float>(0.5f), Tensor::scalar<uint8_t>(0), b,
                                    Tensor::scalar<float>(1.f), Tensor::scalar<uint8_t>(1), Tensor::scalar<float>(2.f),
                                    Tensor::scalar<uint8_t>(5)})
                 .go();
  // (10*0 + 20*2) * 0.5 * 1 / 2 = 10 -> + 5
  EXPECT_EQ(y.to_int64_vector(), (std::vector<int64_t>{15}));
}

TEST(NnKernels, EinsumDiagonalEllipsisAndImplicitOutput) {
  Tensor m = Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2});
  expect_near(OpRunner("Einsum", {m}).s("equation", "ii").go(), {5}, kTol);
  expect_near(OpRunner("Einsum", {m}).s("equation", "ii->i").go(), {1, 4}, kTol);
  // implicit output sorts labels: ij
  expect_near(OpRunner("Einsum", {m}).s("equation", "ji").go(), {1, 3, 2, 4}, kTol);
  expect_near(OpRunner("Einsum", {m, m}).s("equation", "ij,jk").go(), {7, 10, 15, 22}, kTol);
  // ellipsis broadcasting: [2,1,2,2] x [3,2,2] -> [2,3,2,2]
  Tensor a = randn({2, 1, 2, 2}, 11), b = randn({3, 2, 2}, 12);
  Tensor y = OpRunner("Einsum", {a, b}).s("equation", "...ij,...jk->...ik").go();
  Tensor ref = OpRunner("MatMul", {a, b}).go();
  ASSERT_EQ(y.shape(), ref.shape());
  for (int64_t k = 0; k < y.numel(); ++k) EXPECT_NEAR(y.data<float>()[k], ref.data<float>()[k], 1e-5);
  EXPECT_THROW(OpRunner("Einsum", {m, randn({3, 2}, 1)}).s("equation", "ij,jk->ik").go(), Error);
  EXPECT_THROW(OpRunner("Einsum", {m}).s("equation", "ijk->i").go(), Error);
  EXPECT_THROW(OpRunner("Einsum", {m}).s("equation", "ij->iz").go(), Error);
}

}  // namespace
}  // namespace pith
