// The int8 kernels: pith.QConv and pith.QGemm, SIMD against reference on random shapes
// (odd sizes, tails of the row and two-vector tiles, K odd and even, groups and
// depthwise, one-row products, strides,
// padding, dilations), random zero points and edge values (0 and 255 activations, -127
// and 127 weights; the largest accumulators K < 2^16 allows), quantized and float
// outputs, fused residuals, on every SIMD target (AVX-512 VNNI's byte quads included); exact results
// (Relu/Clip/no activation; activations through exp agree within one step), and bitwise
// identical for 1 and 3 threads. Also QConv against ONNX's QLinearConv.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include "runtime/kernels/simd/qgemm.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

Tensor random_u8(Shape shape, std::mt19937& rng) {
  Tensor t(DType::UInt8, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint32_t r = rng() % 16;
    t.data<uint8_t>()[i] = r == 0 ? 0 : r == 1 ? 255 : uint8_t(rng() % 256);
  }
  return t;
}

Tensor random_s8(Shape shape, std::mt19937& rng) {
  Tensor t(DType::Int8, std::move(shape));
  for (int64_t i = 0; i < t.numel(); ++i) {
    const uint32_t r = rng() % 16;
    t.data<int8_t>()[i] = r == 0 ? -127 : r == 1 ? 127 : int8_t(int(rng() % 255) - 127);
  }
  return t;
}

Tensor scalar_f(float v) { return Tensor::scalar<float>(v); }
Tensor scalar_u8(uint8_t v) { return Tensor::scalar<uint8_t>(v); }

Tensor random_scales(int64_t n, std::mt19937& rng) {
  std::uniform_real_distribution<float> u(0.002f, 0.02f);
  Tensor t(DType::Float32, {n});
  for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = u(rng);
  return t;
}

Tensor random_bias(int64_t n, std::mt19937& rng) {
  Tensor t(DType::Int32, {n});
  for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = int32_t(rng() % 20001) - 10000;
  return t;
}

const char* kActs[] = {"", "Relu", "Clip", "LeakyRelu", "HardSwish", "SiLU"};

// Exact for activations without exp; within one quantization step (or 1e-5 relative for
// float outputs) for the others, whose SIMD exp differs from std::exp in the last bits.
void expect_match(const Tensor& got, const Tensor& want, bool exact, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  if (exact) {
    expect_bitwise(got, want, what);
    return;
  }
  for (int64_t i = 0; i < got.numel(); ++i) {
    const double a = got.as_double(i), b = want.as_double(i);
    const double tol = got.dtype() == DType::Float32 ? 1e-5 * std::max(1.0, std::fabs(b)) : 1.0;
    ASSERT_LE(std::fabs(a - b), tol) << what << " element " << i;
  }
}

void set_outputs(OpRunner& op, std::mt19937& rng, bool quantized, const std::string& act) {
  if (quantized) {
    op.input(scalar_f(0.05f + float(rng() % 100) / 400.0f)).input(scalar_u8(uint8_t(rng() % 256)));
  } else {
    op.input(Tensor()).input(Tensor());
  }
  op.s("activation", act);
  op.f("activation_alpha", act == "Clip" ? -0.5f : 0.1f);
  op.f("activation_beta", act == "Clip" ? 2.0f : 0.5f);
}

TEST(QuantizedKernels, QConvMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(21);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t N = 1 + rng() % 2, KH = 1 + rng() % 4, KW = 1 + rng() % 4;
      int64_t group = 1, C = 1 + rng() % 9, M = 1 + rng() % 20;
      switch (rng() % 3) {
        case 1:  // depthwise (its own kernel)
          group = C = M = 2 + rng() % 7;
          break;
        case 2:
          group = 1 + rng() % 3;
          C = group * (1 + rng() % 3);
          M = group * (1 + rng() % 8);
          break;
      }
      const int64_t sh = 1 + rng() % 2, sw = 1 + rng() % 3, dh = 1 + rng() % 2, dw = 1 + rng() % 2;
      const int64_t pt = rng() % 3, pl = rng() % 3, pb = rng() % 3, pr = rng() % 3;
      const int64_t H = std::max<int64_t>((KH - 1) * dh + 1 - pt - pb, 1) + rng() % 17;
      const int64_t W = std::max<int64_t>((KW - 1) * dw + 1 - pl - pr, 1) + rng() % 37;
      const bool quantized = rng() % 4 != 0;
      const std::string act = kActs[rng() % 6];
      OpRunner conv("QConv", {random_u8({N, C, H, W}, rng), scalar_f(0.01f), scalar_u8(uint8_t(rng() % 256)),
                              random_s8({M, C / group, KH, KW}, rng), random_scales(M, rng), Tensor(DType::Int8, {M})});
      conv.domain("pith").i("group", group).ints("strides", {sh, sw}).ints("dilations", {dh, dw});
      conv.ints("pads", {pt, pl, pb, pr});
      set_outputs(conv, rng, quantized, act);
      if (rng() % 3) conv.input(random_bias(M, rng));
      Tensor want = conv.run_reference()[0];
      const std::string what = "qconv trial " + std::to_string(trial) + " x" + shape_str(conv.inputs[0].shape()) +
                               " w" + shape_str(conv.inputs[3].shape()) + " group " + std::to_string(group) + " act '" +
                               act + "'";
      const bool exact = act.empty() || act == "Relu" || act == "Clip" || act == "LeakyRelu";
      // X a graph input, the rest initializers; run twice (the second uses the packed weights).
      Tensor one = conv.run_session(1, 1, 2)[0];
      expect_match(one, want, exact, what);
      expect_bitwise(conv.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

// A fused residual (inputs 9-11, uint8 or int8 like the output's shape) added before the
// activation: GEMM tiles, depthwise planes (float and int32 paths), vector tails.
TEST(QuantizedKernels, QConvWithResidualMatchesReference) {
  std::mt19937 rng(26);
  for_each_target([&] {
    for (int trial = 0; trial < 30; ++trial) {
      const int64_t N = 1 + rng() % 2, KH = 1 + rng() % 3, KW = 1 + rng() % 3, s = 1 + rng() % 2;
      int64_t group = 1, C = 1 + rng() % 9, M = 1 + rng() % 30;
      if (rng() % 3 == 0) group = C = M = 2 + rng() % 7;  // depthwise
      const int64_t H = KH + rng() % 15, W = KW + rng() % 35;
      const int64_t OH = (H - KH) / s + 1, OW = (W - KW) / s + 1;
      const bool quantized = rng() % 4 != 0, s8 = rng() % 2;
      const std::string act = kActs[rng() % 3];  // none, Relu, Clip: exact
      OpRunner conv("QConv", {random_u8({N, C, H, W}, rng), scalar_f(0.01f), scalar_u8(uint8_t(rng() % 256)),
                              random_s8({M, C / group, KH, KW}, rng), random_scales(M, rng), Tensor(DType::Int8, {M})});
      conv.domain("pith").i("group", group).ints("strides", {s, s});
      set_outputs(conv, rng, quantized, act);
      conv.input(rng() % 3 ? random_bias(M, rng) : Tensor());
      conv.input(s8 ? random_s8({N, M, OH, OW}, rng) : random_u8({N, M, OH, OW}, rng));
      conv.input(scalar_f(0.02f + float(rng() % 100) / 1000.0f));
      conv.input(s8 ? Tensor::scalar<int8_t>(int8_t(int(rng() % 256) - 128)) : scalar_u8(uint8_t(rng() % 256)));
      const std::string what = "residual trial " + std::to_string(trial) + " x" + shape_str(conv.inputs[0].shape()) +
                               " w" + shape_str(conv.inputs[3].shape()) + (s8 ? " int8" : " uint8") + " act '" + act +
                               "'";
      Tensor want = conv.run_reference()[0];
      Tensor one = conv.run_session(1, 1, 2)[0];
      expect_bitwise(one, want, what);
      expect_bitwise(conv.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

// Scales whose products could overflow a real value (and so make NaN) are refused.
TEST(QuantizedKernels, QConvRejectsScalesOutOfRange) {
  std::mt19937 rng(29);
  for (const float x_scale : {1e30f, std::numeric_limits<float>::infinity(), std::nanf("")}) {
    OpRunner conv("QConv", {random_u8({1, 3, 5, 5}, rng), scalar_f(x_scale), scalar_u8(3), random_s8({4, 3, 3, 3}, rng),
                            random_scales(4, rng), Tensor(DType::Int8, {4})});
    conv.domain("pith");
    EXPECT_THROW(conv.go(), Error) << x_scale;
    EXPECT_THROW(conv.run_reference(), Error) << x_scale;
  }
}

// With a quantized output, Relu and Clip are folded into the codes' clamp: Clip ranges
// inside the output's range, overlapping either end, and wholly beyond either end.
TEST(QuantizedKernels, ClipFoldedIntoTheCodesClampMatchesReference) {
  std::mt19937 rng(28);
  const std::pair<float, float> clips[] = {{-0.5f, 2.0f},      {0.25f, 0.5f}, {-100.0f, 100.0f}, {-10.0f, -5.0f},
                                           {1000.0f, 2000.0f}, {-3.0f, 0.0f}, {0.0f, 0.0f}};
  for_each_target([&] {
    for (auto [alpha, beta] : clips)
      for (const bool s8 : {false, true})
        for (const int zp : {0, 77, 255}) {
          OpRunner conv(
              "QConv",
              {random_u8({1, 5, 6, 37}, rng), scalar_f(0.01f), scalar_u8(uint8_t(rng() % 256)),
               random_s8({13, 5, 3, 3}, rng), random_scales(13, rng), Tensor(DType::Int8, {13}), scalar_f(0.02f),
               s8 ? Tensor::scalar<int8_t>(int8_t(zp - 128)) : scalar_u8(uint8_t(zp)), random_bias(13, rng)});
          conv.domain("pith").ints("pads", {1, 1, 1, 1}).s("activation", "Clip");
          conv.f("activation_alpha", alpha).f("activation_beta", beta);
          const std::string what = "clip [" + std::to_string(alpha) + ", " + std::to_string(beta) + "] zero point " +
                                   std::to_string(zp) + (s8 ? " int8" : " uint8");
          expect_bitwise(conv.run_session(1, 1, 2)[0], conv.run_reference()[0], what);
        }
  });
}

TEST(QuantizedKernels, QConvRejectsAMismatchedResidual) {
  std::mt19937 rng(27);
  auto conv = [&](Tensor residual, Tensor zero_point) {
    OpRunner op("QConv", {random_u8({1, 3, 5, 5}, rng), scalar_f(0.01f), scalar_u8(3), random_s8({4, 3, 3, 3}, rng),
                          random_scales(4, rng), Tensor(DType::Int8, {4}), Tensor(), Tensor(), Tensor(),
                          std::move(residual), scalar_f(0.1f), std::move(zero_point)});
    op.domain("pith");
    return op;
  };
  EXPECT_NO_THROW(conv(random_u8({1, 4, 3, 3}, rng), scalar_u8(0)).go());
  EXPECT_THROW(conv(random_u8({1, 4, 3, 4}, rng), scalar_u8(0)).go(), Error);               // shape
  EXPECT_THROW(conv(random_u8({1, 4, 3, 3}, rng), Tensor::scalar<int8_t>(0)).go(), Error);  // zero point type
  EXPECT_THROW(conv(Tensor(DType::Float32, {1, 4, 3, 3}), scalar_f(0)).go(), Error);        // float residual
}

// Depthwise through the float kernel must stay exact at the extremes it relies on:
// |x - zp| = 255 against weights of -128 on 3x3, 5x5 and 7x7 filters (the largest
// accumulators a plane can have), int8 activations too; filters of more than 64 taps take
// the float plane path and those of more than 512 the int32 one.
TEST(QuantizedKernels, QConvDepthwiseIsExactAtTheExtremes) {
  std::mt19937 rng(23);
  for_each_target([&] {
    for (int trial = 0; trial < 12; ++trial) {
      // 3x3 to 7x7 (the one-pass kernel), 9x9 (more than 64 taps: a float plane, then
      // requantized) and 23x23 (more than 512: int32 accumulators).
      const int64_t k = trial % 4 == 3 ? (trial % 8 == 3 ? 23 : 9) : 3 + 2 * (trial % 3);
      const int64_t C = 3 + trial % 4, s = 1 + trial % 2;
      const int64_t H = k + int64_t(rng() % 20), W = k + int64_t(rng() % 30);
      const bool s8 = trial % 2 == 1;
      Tensor x(s8 ? DType::Int8 : DType::UInt8, {1, C, H, W});
      // Mostly the extreme code, so that many taps meet the largest product.
      for (int64_t i = 0; i < x.numel(); ++i) {
        const uint8_t v = rng() % 4 ? (s8 ? uint8_t(127) : uint8_t(255)) : uint8_t(rng());
        static_cast<uint8_t*>(x.raw())[i] = v;
      }
      Tensor w(DType::Int8, {C, 1, k, k});
      for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = rng() % 4 ? int8_t(-128) : int8_t(rng());
      const Tensor zp = s8 ? Tensor::scalar<int8_t>(-128) : Tensor::scalar<uint8_t>(0);
      OpRunner conv("QConv", {x, scalar_f(0.01f), zp, w, random_scales(C, rng), Tensor(DType::Int8, {C})});
      conv.domain("pith").i("group", C).ints("strides", {s, s});
      conv.ints("pads", {k / 2, k / 2, k / 2, k / 2});
      set_outputs(conv, rng, /*quantized=*/false, "");  // float output: the accumulator itself, scaled
      Tensor bias = random_bias(C, rng);
      if (trial % 3 == 2)  // biases past 2^24: the sum with the accumulator is formed in int32
        for (int64_t c = 0; c < C; ++c) bias.data<int32_t>()[c] += (c % 2 ? 1 : -1) * (1 << 25);
      conv.input(bias);
      const std::string what = "depthwise " + std::to_string(k) + "x" + std::to_string(k) + (s8 ? " int8" : " uint8");
      expect_bitwise(conv.run_session(1, 1, 2)[0], conv.run_reference()[0], what);
    }
  });
}

TEST(QuantizedKernels, QGemmMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(22);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      // One row a third of the time (the matrix-vector path), else a GEMM.
      const int64_t rows = rng() % 3 == 0 ? 1 : 1 + rng() % 40, K = 1 + rng() % 300, N = 1 + rng() % 70;
      const bool trans_b = rng() % 2, quantized = rng() % 3 != 0, rank3 = rows > 1 && rng() % 4 == 0;
      const std::string act = kActs[rng() % 6];
      Shape as = rank3 ? Shape{2, rows, K} : Shape{rows, K};
      OpRunner gemm("QGemm",
                    {random_u8(as, rng), scalar_f(0.01f), scalar_u8(uint8_t(rng() % 256)),
                     random_s8(trans_b ? Shape{N, K} : Shape{K, N}, rng),
                     rng() % 2 ? random_scales(N, rng) : Tensor::scalar<float>(0.01f), Tensor(DType::Int8, {})});
      gemm.domain("pith").i("transB", trans_b);
      set_outputs(gemm, rng, quantized, act);
      if (rng() % 3) gemm.input(random_bias(N, rng));
      Tensor want = gemm.run_reference()[0];
      const std::string what = "qgemm trial " + std::to_string(trial) + " a" + shape_str(as) + " N " +
                               std::to_string(N) + " transB " + std::to_string(trans_b) + " act '" + act + "'";
      const bool exact = act.empty() || act == "Relu" || act == "Clip" || act == "LeakyRelu";
      Tensor one = gemm.run_session(1, 1, 2)[0];
      expect_match(one, want, exact, what);
      expect_bitwise(gemm.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

// The largest accumulators the int8 GEMM can meet, |x - zp| = 255 against weights of -128
// over K up to 65535 (in the byte-quad layout the product of the codes, up to 255 * 128 *
// K, and the zero-point correction both come near 2^31): 1x1 QConv on uint8 and int8
// activations and QGemm, float outputs so that the accumulator itself is compared, K odd,
// a multiple of four and not, 13 rows (a partial row panel).
TEST(QuantizedKernels, QConvAndQGemmAreExactAtTheExtremes) {
  std::mt19937 rng(25);
  struct Case {
    bool s8;
    int zero_point, code;
  };
  const Case cases[] = {{false, 255, 0}, {false, 0, 255}, {true, 127, -128}, {true, -128, 127}};
  for_each_target([&] {
    for (const int64_t K : {3, 37, 4099, 65535})
      for (const Case& c : cases) {
        const int64_t M = 13, H = K > 5000 ? 1 : 3, W = K > 5000 ? 3 : 5;
        Tensor x(c.s8 ? DType::Int8 : DType::UInt8, {1, K, H, W});
        for (int64_t i = 0; i < x.numel(); ++i)  // mostly the extreme code
          static_cast<uint8_t*>(x.raw())[i] = rng() % 8 ? uint8_t(c.code) : uint8_t(rng());
        Tensor w(DType::Int8, {M, K, 1, 1});
        for (int64_t i = 0; i < w.numel(); ++i) w.data<int8_t>()[i] = rng() % 8 ? int8_t(-128) : int8_t(rng());
        const Tensor zp =
            c.s8 ? Tensor::scalar<int8_t>(int8_t(c.zero_point)) : Tensor::scalar<uint8_t>(uint8_t(c.zero_point));
        const std::string what = "K " + std::to_string(K) + (c.s8 ? " int8" : " uint8") + " zero point " +
                                 std::to_string(c.zero_point) + " code " + std::to_string(c.code);
        OpRunner conv("QConv", {x, scalar_f(0.01f), zp, w, random_scales(M, rng), Tensor(DType::Int8, {M})});
        conv.domain("pith");
        set_outputs(conv, rng, /*quantized=*/false, "");
        expect_bitwise(conv.run_session(1, 1, 2)[0], conv.run_reference()[0], "qconv " + what);
        if (c.s8) continue;  // QGemm's fast path takes uint8 activations
        Tensor a(DType::UInt8, {5, K});
        for (int64_t i = 0; i < a.numel(); ++i) a.data<uint8_t>()[i] = rng() % 8 ? uint8_t(c.code) : uint8_t(rng());
        Tensor b(DType::Int8, {M, K});
        std::memcpy(b.raw(), w.raw(), size_t(M * K));
        OpRunner gemm("QGemm", {a, scalar_f(0.01f), zp, b, random_scales(M, rng), Tensor(DType::Int8, {})});
        gemm.domain("pith").i("transB", 1);
        set_outputs(gemm, rng, /*quantized=*/false, "");
        expect_bitwise(gemm.run_session(1, 1, 2)[0], gemm.run_reference()[0], "qgemm " + what);
      }
  });
}

// DynamicQuantizeLinear (the dynamic int8 layers' activations): vectorized range and
// quantization against the reference on odd sizes, one-signed data, zeros, NaN and inf.
TEST(QuantizedKernels, DynamicQuantizeLinearMatchesReference) {
  std::mt19937 rng(30);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t n = 1 + rng() % 300;
      Tensor x(DType::Float32, {1, n});
      std::uniform_real_distribution<float> u(trial % 4 == 1 ? 0.0f : -3.0f, trial % 4 == 2 ? 0.0f : 5.0f);
      for (int64_t i = 0; i < n; ++i) x.data<float>()[i] = trial % 4 == 3 ? 0.0f : u(rng);
      if (trial % 5 == 4) x.data<float>()[rng() % n] = std::nanf("");
      if (trial % 13 == 12) x.data<float>()[rng() % n] = std::numeric_limits<float>::infinity();
      OpRunner op("DynamicQuantizeLinear", {x}, 17, 3);
      const std::vector<Tensor> fast = op.run(), want = op.run_reference();
      const std::string what = "dynamic quantize trial " + std::to_string(trial) + " n " + std::to_string(n);
      ASSERT_EQ(fast.size(), 3u);
      for (size_t k = 0; k < 3; ++k) expect_bitwise(fast[k], want[k], what + " output " + std::to_string(k));
    }
  });
}

TEST(QuantizedKernels, EightBitMaxPoolMatchesReference) {
  std::mt19937 rng(24);
  for (int trial = 0; trial < 60; ++trial) {
    const int64_t KH = 1 + rng() % 3, KW = 1 + rng() % 3, sh = 1 + rng() % 2, sw = 1 + rng() % 3;
    const int64_t dh = 1 + rng() % 2, dw = 1 + rng() % 2;
    const int64_t pt = rng() % KH, pl = rng() % KW;  // pads smaller than the kernel
    const int64_t H = (KH - 1) * dh + 1 + rng() % 13, W = (KW - 1) * dw + 1 + rng() % 29;
    Tensor x = rng() % 2 ? random_u8({1 + int64_t(rng() % 2), 1 + int64_t(rng() % 5), H, W}, rng)
                         : random_s8({1, 1 + int64_t(rng() % 5), H, W}, rng);
    OpRunner pool("MaxPool", {x});
    pool.ints("kernel_shape", {KH, KW}).ints("strides", {sh, sw}).ints("dilations", {dh, dw});
    pool.ints("pads", {pt, pl, pt, pl}).i("ceil_mode", int64_t(rng() % 2));
    const std::string what =
        "maxpool trial " + std::to_string(trial) + " " + dtype_name(x.dtype()) + shape_str(x.shape());
    const Tensor fast = pool.run()[0];
    const Tensor want = pool.run_reference()[0];
    expect_bitwise(fast, want, what);
  }
}

TEST(QuantizedKernels, QConvAgreesWithQLinearConv) {
  // Same inputs: QLinearConv folds x_scale * w_scale / y_scale into one factor, QConv keeps
  // two multiplications, so they may differ by one step on rare ties.
  std::mt19937 rng(23);
  Tensor x = random_u8({1, 5, 9, 11}, rng), w = random_s8({7, 5, 3, 3}, rng), ws = random_scales(7, rng);
  Tensor b = random_bias(7, rng);
  std::vector<Tensor> ins = {
      x, scalar_f(0.01f), scalar_u8(17), w, ws, Tensor(DType::Int8, {7}), scalar_f(0.3f), scalar_u8(100), b};
  OpRunner q("QConv", ins), ql("QLinearConv", ins);
  q.domain("pith").ints("pads", {1, 1, 1, 1});
  ql.ints("pads", {1, 1, 1, 1});
  Tensor a = q.run()[0], c = ql.run_reference()[0];
  ASSERT_EQ(a.shape(), c.shape());
  int64_t differ = 0;
  for (int64_t i = 0; i < a.numel(); ++i) {
    const int d = int(a.data<uint8_t>()[i]) - int(c.data<uint8_t>()[i]);
    ASSERT_LE(std::abs(d), 1) << i;
    differ += d != 0;
  }
  EXPECT_LE(differ, a.numel() / 50);
}

}  // namespace
}  // namespace pith

namespace pith {
namespace {

// FNV-1a of a tensor's bytes.
uint64_t fnv1a(const Tensor& t) {
  uint64_t h = 1469598103934665603ull;
  const auto* p = static_cast<const unsigned char*>(t.raw());
  for (size_t i = 0; i < t.nbytes(); ++i) h = (h ^ p[i]) * 1099511628211ull;
  return h;
}

// The int8 kernels give the same bits on every ISA: a fixed QConv (quantized output, with and
// without a fused residual) and a fixed QGemm (float output), built from integers only, hash
// to values pinned on x86-64 and checked again under qemu-aarch64 (NEON) by scripts/test-aarch64.sh, on every SIMD
// target.
TEST(QuantizedKernels, ResultsAreTheSameBitsOnEveryIsa) {
  std::mt19937 rng(7);  // its raw output is specified by the standard, unlike distributions
  auto u8 = [&](Shape s) {
    Tensor t(DType::UInt8, std::move(s));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = uint8_t(rng() % 256);
    return t;
  };
  auto s8 = [&](Shape s) {
    Tensor t(DType::Int8, std::move(s));
    for (int64_t i = 0; i < t.numel(); ++i) t.data<int8_t>()[i] = int8_t(int(rng() % 255) - 127);
    return t;
  };
  auto scales = [&](int64_t n) {
    Tensor t(DType::Float32, {n});
    for (int64_t i = 0; i < n; ++i) t.data<float>()[i] = 0.002f + float(rng() % 1000) * 1e-5f;
    return t;
  };
  auto bias = [&](int64_t n) {
    Tensor t(DType::Int32, {n});
    for (int64_t i = 0; i < n; ++i) t.data<int32_t>()[i] = int32_t(rng() % 20001) - 10000;
    return t;
  };
  const Tensor x = u8({1, 5, 13, 11}), w = s8({12, 5, 3, 3}), ws = scales(12), b = bias(12);
  const Tensor a = u8({3, 77}), wg = s8({9, 77}), wgs = scales(9), bg = bias(9);
  const Tensor r = u8({1, 12, 7, 11});
  for_each_target([&] {
    OpRunner conv("QConv", {x, scalar_f(0.0125f), scalar_u8(131), w, ws, Tensor(DType::Int8, {12}), scalar_f(0.3f),
                            scalar_u8(17), b});
    conv.domain("pith").ints("pads", {1, 1, 1, 1}).ints("strides", {2, 1}).s("activation", "Relu");
    EXPECT_EQ(fnv1a(conv.run_session(1, 1, 2)[0]), 0xbee8ee7a0c40a1f2ull) << "QConv";
    OpRunner residual("QConv", {x, scalar_f(0.0125f), scalar_u8(131), w, ws, Tensor(DType::Int8, {12}), scalar_f(0.3f),
                                scalar_u8(17), b, r, scalar_f(0.07f), scalar_u8(121)});
    residual.domain("pith").ints("pads", {1, 1, 1, 1}).ints("strides", {2, 1}).s("activation", "Relu");
    EXPECT_EQ(fnv1a(residual.run_session(1, 1, 2)[0]), 0x7c127d8af3db86dbull) << "QConv with a residual";
    OpRunner gemm("QGemm",
                  {a, scalar_f(0.02f), scalar_u8(128), wg, wgs, Tensor(DType::Int8, {9}), Tensor(), Tensor(), bg});
    gemm.domain("pith").i("transB", 1);
    EXPECT_EQ(fnv1a(gemm.run_session(1, 1, 2)[0]), 0x1047d0de03b0f2baull) << "QGemm";
  });
}

}  // namespace
}  // namespace pith
