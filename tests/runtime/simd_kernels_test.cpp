// Every SIMD kernel against its reference kernel, on random shapes (odd sizes, vector
// tails, 1x1 planes), random attributes and edge values, on every SIMD target this
// machine supports; and bitwise identical results for 1, 2 and 3 threads.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "runtime/kernels/simd/sgemm.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

// Uniform in [-1, 1]; with `edge_values`, about one element in 17 is an edge value.
Tensor random_tensor(Shape shape, std::mt19937& rng, bool edge_values = false) {
  if (!edge_values) return uniform_tensor(std::move(shape), rng, -1.f, 1.f);
  Tensor t(DType::Float32, std::move(shape));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const float edges[] = {0.f, -0.f, 1e-30f, -1e20f, 1e20f, 3.f, -3.f, 6.f};
  for (int64_t i = 0; i < t.numel(); ++i) t.data<float>()[i] = rng() % 17 == 0 ? edges[rng() % 8] : u(rng);
  return t;
}

void expect_close(const Tensor& got, const Tensor& want, const std::string& what) {
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    float a = got.data<float>()[i], b = want.data<float>()[i];
    if (std::isnan(b)) {
      ASSERT_TRUE(std::isnan(a)) << what << " element " << i;
      continue;
    }
    ASSERT_NEAR(a, b, 1e-4f * std::max(1.f, std::fabs(b))) << what << " element " << i;
  }
}

const char* kActivations[] = {"", "Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "SiLU", "Tanh"};

// Sets a random fused activation (with the parameters Clip, LeakyRelu and HardSigmoid
// take) on a pith.FusedConv; returns its name.
std::string set_random_activation(OpRunner& conv, std::mt19937& rng) {
  const std::string act = kActivations[rng() % 9];
  conv.s("activation", act);
  conv.f("activation_alpha", act == "Clip" ? -0.5f : 0.2f);
  conv.f("activation_beta", act == "Clip" ? 0.7f : 0.5f);
  return act;
}

// The reference output of a pith.FusedConv, after giving it a random residual input
// half of the time.
Tensor reference_maybe_with_residual(OpRunner& conv, std::mt19937& rng) {
  Tensor want = conv.run_reference()[0];
  if (rng() % 2) {
    conv.input(random_tensor(want.shape(), rng));
    want = conv.run_reference()[0];
  }
  return want;
}

TEST(SimdKernels, ConvMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(7);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t N = 1 + rng() % 2, KH = 1 + rng() % 4, KW = 1 + rng() % 4;
      int64_t group = 1;
      int64_t C = 1 + rng() % 7, M = 1 + rng() % 19;
      switch (rng() % 3) {
        case 1:
          group = C;
          M = C;
          break;  // depthwise
        case 2:
          group = 1 + rng() % 3;
          C = group * (1 + rng() % 3);
          M = group * (1 + rng() % 5);
          break;
      }
      const int64_t sh = 1 + rng() % 3, sw = 1 + rng() % 3, dh = 1 + rng() % 2, dw = 1 + rng() % 2;
      const int64_t pt = rng() % 3, pl = rng() % 3, pb = rng() % 3, pr = rng() % 3;
      const int64_t H = std::max<int64_t>((KH - 1) * dh + 1 - pt - pb, 1) + rng() % 23;
      const int64_t W = std::max<int64_t>((KW - 1) * dw + 1 - pl - pr, 1) + rng() % 41;
      const bool fused = rng() % 2;
      // X, W and an optional bias B (an omitted input when undefined).
      OpRunner conv(fused ? "FusedConv" : "Conv",
                    {random_tensor({N, C, H, W}, rng, true), random_tensor({M, C / group, KH, KW}, rng),
                     rng() % 3 ? random_tensor({M}, rng) : Tensor()});
      conv.domain(fused ? "pith" : "").i("group", group).ints("strides", {sh, sw}).ints("dilations", {dh, dw});
      conv.ints("pads", {pt, pl, pb, pr});
      if (fused) {
        set_random_activation(conv, rng);
      }
      Tensor want = conv.run_reference()[0];
      if (fused && rng() % 2) {  // residual input
        conv.input(random_tensor(want.shape(), rng));
        want = conv.run_reference()[0];
      }
      const size_t runtime_inputs = conv.node.inputs.size() == 4 ? 4 : 1;
      if (runtime_inputs == 4 && conv.node.inputs[2].empty()) continue;  // initializer hole: skip
      std::string what = "conv trial " + std::to_string(trial) + " x" + shape_str(conv.inputs[0].shape()) + " w" +
                         shape_str(conv.inputs[1].shape()) + " group " + std::to_string(group);
      // X a graph input, the rest initializers; run twice (the second uses the cached packed weights).
      Tensor one = conv.run_session(1, 1, 2)[0];
      expect_close(one, want, what);
      expect_bitwise(conv.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

// The depthwise kernel's paths: 3x3 and 5x5 filters at strides 1 and 2 (compile-time
// geometry), 7x7 (a tap table), filters of more than 64 taps (summed in passes); output
// rows of one, two and four vectors or more, ending in a partial vector or not, plane
// heights that leave a partial block of rows, and rows so short that a whole-vector
// store spans several of them; two images, so planes of other channels follow.
TEST(SimdKernels, DepthwiseMatchesReferenceOnEveryPath) {
  for_each_target([&] {
    // The same cases on every target, whatever targets the build has: with edge values
    // some sums cancel down to where the order of the terms shows, and the cases drawn
    // must not move when a target is added (AVX3_DL's shifted AVX2's onto such a case).
    std::mt19937 rng(11);
    for (int64_t k : {3, 5, 7, 9}) {
      for (int64_t stride : {1, 2}) {
        for (int64_t W : {1, 3, 7, 8, 14, 16, 28, 33, 56, 70, 131}) {
          const int64_t C = 3, H = 1 + rng() % 13, pad = k / 2;
          OpRunner conv("FusedConv", {random_tensor({2, C, H, W}, rng, true), random_tensor({C, 1, k, k}, rng),
                                      random_tensor({C}, rng)});
          conv.domain("pith").i("group", C).ints("strides", {stride, stride}).ints("pads", {pad, pad, pad, pad});
          conv.s("activation", rng() % 2 ? "Relu" : "SiLU");
          Tensor want = reference_maybe_with_residual(conv, rng);
          std::string what = "depthwise " + std::to_string(k) + "x" + std::to_string(k) + " stride " +
                             std::to_string(stride) + " x" + shape_str(conv.inputs[0].shape());
          Tensor one = conv.run_session(1, 1, 2)[0];
          expect_close(one, want, what);
          expect_bitwise(conv.run_session(1, 2, 2)[0], one, what + " (2 threads)");
        }
      }
    }
  });
}

// Convolutions with at most 64 output channels per group (and not depthwise, 1x1 stride 1
// or Winograd) read B in place from the padded planes (an implicit GEMM): groups of 16
// channels at strides 1 and 2, 3-channel stems, 7x7 stride 2, 1x1 stride 2, dilation,
// K past one slice of 256, output channels that leave a partial panel, rows ending in a
// partial vector; bitwise identical for 1, 2 and 3 threads.
TEST(SimdKernels, ImplicitGemmConvMatchesReference) {
  struct Case {
    int64_t N, C, M, group, k, stride, dilation, H, W;
  };
  const Case cases[] = {
      {1, 32, 32, 2, 3, 1, 1, 14, 14}, {2, 48, 48, 3, 3, 2, 1, 15, 17}, {1, 3, 32, 1, 3, 2, 1, 33, 40},
      {1, 3, 13, 1, 7, 2, 1, 21, 37},  {1, 24, 64, 1, 1, 2, 1, 9, 31},  {1, 12, 7, 1, 5, 1, 1, 11, 19},
      {1, 40, 20, 2, 5, 1, 1, 6, 5},   {1, 8, 24, 1, 3, 1, 2, 12, 33},  {2, 64, 64, 1, 3, 1, 1, 3, 1},
  };
  std::mt19937 rng(17);
  for_each_target([&] {
    for (const Case& c : cases) {
      const int64_t pad = (c.k - 1) * c.dilation / 2;
      // No edge values: sums of hundreds of terms with a +-1e20 among them cancel
      // differently in any other order (the random-shape test has them on short sums).
      OpRunner conv("FusedConv", {random_tensor({c.N, c.C, c.H, c.W}, rng),
                                  random_tensor({c.M, c.C / c.group, c.k, c.k}, rng), random_tensor({c.M}, rng)});
      conv.domain("pith").i("group", c.group).ints("strides", {c.stride, c.stride});
      conv.ints("dilations", {c.dilation, c.dilation}).ints("pads", {pad, pad, pad, pad});
      const std::string act = set_random_activation(conv, rng);
      Tensor want = reference_maybe_with_residual(conv, rng);
      const std::string what = "implicit gemm x" + shape_str(conv.inputs[0].shape()) + " w" +
                               shape_str(conv.inputs[1].shape()) + " group " + std::to_string(c.group) + " stride " +
                               std::to_string(c.stride) + " act " + act;
      Tensor one = conv.run_session(1, 1, 2)[0];
      expect_close(one, want, what);
      expect_bitwise(conv.run_session(1, 2, 2)[0], one, what + " (2 threads)");
      expect_bitwise(conv.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

// 3x3 stride-1 convolutions with enough channels take the Winograd F(2x2, 3x3) path:
// odd and even planes (partial tiles on the right and bottom), tile rows shorter and
// longer than a vector, several tile blocks, asymmetric and zero padding, a batch of
// two, two groups, residual and activations; bitwise identical for 1, 2 and 3 threads.
TEST(SimdKernels, WinogradConvMatchesReference) {
  std::mt19937 rng(13);
  for_each_target([&] {
    for (int trial = 0; trial < 12; ++trial) {
      const int64_t N = 1 + trial % 2, group = 1 + trial % 3 / 2;  // groups of >= 32 channels too
      const int64_t C = group * (32 + rng() % 30), M = group * (16 + rng() % 24);
      const int64_t H = 3 + rng() % 40, W = 4 + rng() % 45;
      const int64_t pt = rng() % 2, pl = rng() % 2, pb = rng() % 2, pr = rng() % 2;
      if ((H + pt + pb - 2) * (W + pl + pr - 2) < 16) continue;
      // No edge values: a 1e20 in a tile would set the tolerance's scale for every element.
      OpRunner conv("FusedConv", {random_tensor({N, C, H, W}, rng), random_tensor({M, C / group, 3, 3}, rng),
                                  random_tensor({M}, rng)});
      conv.domain("pith").i("group", group).ints("pads", {pt, pl, pb, pr});
      const std::string act = set_random_activation(conv, rng);
      Tensor want = reference_maybe_with_residual(conv, rng);
      std::string what = "winograd trial " + std::to_string(trial) + " x" + shape_str(conv.inputs[0].shape()) + " w" +
                         shape_str(conv.inputs[1].shape()) + " group " + std::to_string(group) + " act " + act;
      Tensor one = conv.run_session(1, 1, 2)[0];
      // Winograd reorders the sums: a few ulps of the larger terms, checked relative to
      // the scale of the convolution before its activation (as the zoo test checks
      // whole models against their largest output).
      OpRunner plain = conv;
      plain.s("activation", "");
      Tensor pre = plain.run_reference()[0];
      float scale = 1.f;
      for (int64_t i = 0; i < pre.numel(); ++i) scale = std::max(scale, std::fabs(pre.data<float>()[i]));
      for (int64_t i = 0; i < want.numel(); ++i) {
        const float a = one.data<float>()[i], b = want.data<float>()[i];
        if (std::isnan(b)) {
          ASSERT_TRUE(std::isnan(a)) << what << " element " << i;
          continue;
        }
        ASSERT_NEAR(a, b, 1e-5f * scale) << what << " element " << i;
      }
      expect_bitwise(conv.run_session(1, 2, 2)[0], one, what + " (2 threads)");
      expect_bitwise(conv.run_session(1, 3, 2)[0], one, what + " (3 threads)");
    }
  });
}

TEST(SimdKernels, GemmAndMatMulMatchReference) {
  std::mt19937 rng(11);
  for_each_target([&] {
    for (int trial = 0; trial < 30; ++trial) {
      const int64_t M = 1 + rng() % 37, N = 1 + rng() % 70, K = 1 + rng() % 50;
      const bool ta = rng() % 2, tb = rng() % 2, fused = rng() % 2;
      OpRunner gemm(fused ? "FusedGemm" : "Gemm");
      gemm.domain(fused ? "pith" : "").i("transA", ta).i("transB", tb);
      if (fused) gemm.s("activation", kActivations[rng() % 9]);
      Shape c_shape = rng() % 3 == 0 ? Shape{N} : rng() % 2 ? Shape{M, N} : Shape{M, 1};
      gemm.input(random_tensor(ta ? Shape{K, M} : Shape{M, K}, rng, true));
      gemm.input(random_tensor(tb ? Shape{N, K} : Shape{K, N}, rng));
      gemm.input(random_tensor(c_shape, rng));
      Tensor want = gemm.run_reference()[0];
      std::string what = "gemm " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
      Tensor one = gemm.run_session(1, 1, 2)[0];
      expect_close(one, want, what);
      expect_bitwise(gemm.run_session(1, 2, 2)[0], one, what + " (2 threads)");

      OpRunner mm("MatMul", {random_tensor({1 + int64_t(rng() % 3), M, K}, rng), random_tensor({K, N}, rng)});
      Tensor mwant = mm.run_reference()[0];
      Tensor mone = mm.run_session(1, 1, 2)[0];
      expect_close(mone, mwant, "matmul");
      expect_bitwise(mm.run_session(1, 3, 2)[0], mone, "matmul (3 threads)");
    }
  });
}

// Batched MatMul (both operands with batch dims, as in attention) runs one SGEMM per
// batch: equal batch dims, broadcast ones (size 1 or missing on either side), odd sizes;
// both operands graph inputs (B packed per call) and B an initializer.
TEST(SimdKernels, BatchedMatMulMatchesReference) {
  std::mt19937 rng(29);
  const std::vector<std::pair<Shape, Shape>> batches = {{{4}, {4}}, {{2, 3}, {2, 3}}, {{2, 1}, {1, 3}},
                                                        {{}, {3}},  {{5}, {1}},       {{1}, {2, 4}}};
  for_each_target([&] {
    for (auto& [ab, bb] : batches) {
      const int64_t M = 1 + rng() % 70, N = 1 + rng() % 70, K = 1 + rng() % 40;
      Shape as = ab, bs = bb;
      as.insert(as.end(), {M, K});
      bs.insert(bs.end(), {K, N});
      OpRunner mm("MatMul", {random_tensor(as, rng, true), random_tensor(bs, rng)});
      Tensor want = mm.run_reference()[0];
      const std::string what = "matmul " + shape_str(as) + " x " + shape_str(bs);
      Tensor one = mm.run_session(2, 1, 2)[0];
      expect_close(one, want, what);
      expect_bitwise(mm.run_session(2, 2, 2)[0], one, what + " (2 threads)");
      expect_close(mm.run_session(1, 3, 2)[0], want, what + " (B an initializer, 3 threads)");
    }
  });
}

// One-row Gemm with weights stored [N, K] takes the GEMV path: odd K (vector tails),
// N not a multiple of 4 (row groups), with and without bias, with activations, and
// large enough to be split across threads.
TEST(SimdKernels, OneRowGemmMatchesReference) {
  std::mt19937 rng(23);
  for_each_target([&] {
    for (int64_t K : {1, 7, 16, 33, 300}) {
      for (int64_t N : {1, 3, 5, 64, 259}) {
        const bool fused = rng() % 2, bias = rng() % 3 != 0;
        OpRunner gemm(fused ? "FusedGemm" : "Gemm");
        gemm.domain(fused ? "pith" : "").i("transB", 1);
        if (fused) gemm.s("activation", kActivations[rng() % 9]);
        gemm.input(random_tensor({1, K}, rng, true));
        gemm.input(random_tensor({N, K}, rng));
        gemm.input(bias ? random_tensor(rng() % 2 ? Shape{N} : Shape{1, N}, rng) : Tensor());
        Tensor want = gemm.run_reference()[0];
        std::string what = "gemv " + std::to_string(N) + "x" + std::to_string(K);
        Tensor one = gemm.run_session(1, 1, 2)[0];
        expect_close(one, want, what);
        expect_bitwise(gemm.run_session(1, 2, 2)[0], one, what + " (2 threads)");
      }
    }
  });
}

TEST(SimdKernels, SgemmReachesEveryTailSize) {
  std::mt19937 rng(3);
  for_each_target([&] {
    const int64_t mr = simd::sgemm_mr(), nr = simd::sgemm_nr();
    // Every last-panel height (the 2-, 4-, 8- and full-row tiles), last panels of one vector
    // (nr / 2) or less and of more, and K within one slice and past it (512).
    for (int64_t M : {int64_t(1), int64_t(2), int64_t(3), int64_t(4), int64_t(5), int64_t(8), mr - 1, mr, mr + 1,
                      mr + 2, mr + 3, mr + 4, mr + 7, 3 * mr + 2}) {
      for (int64_t N : {int64_t(1), nr / 2, nr / 2 + 1, nr - 1, nr, nr + 1, nr + nr / 2, 2 * nr + 3}) {
        for (int64_t K : {1, 2, 17, 300, 600}) {
          if (M < 1 || N < 1) continue;
          Tensor a = random_tensor({M, K}, rng), b = random_tensor({K, N}, rng);
          std::vector<float> pa(simd::packed_a_floats(M, K)), pb(simd::packed_b_floats(N, K)), c(size_t(M * N));
          simd::pack_a(a.data<float>(), K, 1, M, K, pa.data());
          simd::pack_b(b.data<float>(), N, 1, K, N, pb.data());
          simd::sgemm_packed(M, N, K, pa.data(), pb.data(), c.data(), N, simd::GemmEpilogue{});
          // B's rows in place, in a shuffled order with gaps, as a table says (the implicit
          // GEMM); each row followed by nr floats its last partial vector may read.
          const int64_t row = N + nr;
          std::vector<int64_t> offsets(static_cast<size_t>(K));
          for (int64_t k = 0; k < K; ++k) offsets[size_t(k)] = ((k * 7) % K) * row;
          std::vector<float> rows(size_t(K * row), 1e30f), d(size_t(M * N));
          for (int64_t k = 0; k < K; ++k) std::copy_n(b.data<float>() + k * N, N, rows.begin() + offsets[size_t(k)]);
          simd::sgemm_offset_b(M, N, K, pa.data(), rows.data(), offsets.data(), d.data(), N, simd::GemmEpilogue{});
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double want = 0;
              for (int64_t k = 0; k < K; ++k) want += double(a.data<float>()[i * K + k]) * b.data<float>()[k * N + j];
              ASSERT_NEAR(c[size_t(i * N + j)], want, 1e-4) << M << "x" << N << "x" << K;
              ASSERT_NEAR(d[size_t(i * N + j)], want, 1e-4) << "offsets " << M << "x" << N << "x" << K;
            }
        }
      }
    }
  });
}

}  // namespace
}  // namespace pith
