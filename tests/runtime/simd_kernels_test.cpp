// Every SIMD kernel against its reference kernel, on random shapes (odd sizes, vector
// tails, 1x1 planes), random attributes and edge values, on every SIMD target this
// machine supports; and bitwise identical results for 1, 2 and 3 threads.
#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cmath>
#include <random>

#include "runtime/kernels/simd/sgemm.h"
#include "runtime/session.h"

namespace pith {
namespace {

Tensor random_tensor(Shape shape, std::mt19937& rng, bool edge_values = false) {
  Tensor t(DType::Float32, std::move(shape));
  std::uniform_real_distribution<float> u(-1.f, 1.f);
  const float edges[] = {0.f, -0.f, 1e-30f, -1e20f, 1e20f, 3.f, -3.f, 6.f};
  for (int64_t i = 0; i < t.numel(); ++i)
    t.data<float>()[i] = edge_values && rng() % 17 == 0 ? edges[rng() % 8] : u(rng);
  return t;
}

// Runs `node` once with the given inputs through the reference kernel.
std::vector<Tensor> run_reference(const Node& node, const std::vector<Tensor>& inputs, size_t outputs) {
  std::vector<const Tensor*> ins;
  for (auto& t : inputs) ins.push_back(t.defined() ? &t : nullptr);
  std::vector<Tensor> outs(outputs);
  KernelContext ctx(node, 17, ins, outs, nullptr);
  find_reference_kernel(node.domain, node.op_type)(ctx);
  return outs;
}

// Runs a one-node graph through a Session (SIMD kernels), weights as initializers.
Tensor run_session(const Node& node, const std::vector<Tensor>& inputs, size_t n_runtime_inputs, int threads) {
  auto g = std::make_shared<Graph>();
  g->opset = 17;
  g->nodes.push_back(node);
  for (size_t i = 0; i < inputs.size(); ++i) {
    if (!inputs[i].defined()) continue;
    if (i < n_runtime_inputs) g->inputs.push_back({node.inputs[i], DType::Float32, std::nullopt});
    else g->initializers[node.inputs[i]] = inputs[i];
  }
  g->outputs.push_back({node.outputs[0], DType::Float32, std::nullopt});
  SessionOptions opt;
  opt.threads = threads;
  Session s(g, opt);
  std::map<std::string, Tensor> feeds;
  for (size_t i = 0; i < n_runtime_inputs; ++i) feeds[node.inputs[i]] = inputs[i];
  s.run(feeds);  // twice: the second run uses the cached packed weights
  return s.run(feeds)[0];
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

void expect_bitwise(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape());
  ASSERT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes())) << what;
}

Attribute ints(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}
Attribute integer(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
Attribute str(std::string s) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = std::move(s);
  return a;
}
Attribute real(float f) {
  Attribute a;
  a.kind = Attribute::Kind::Float;
  a.f = f;
  return a;
}

// Runs `body` once per SIMD target Highway compiled and this CPU supports.
template <typename F>
void for_each_target(F&& body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

const char* kActivations[] = {"", "Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "SiLU", "Tanh"};

TEST(SimdKernels, ConvMatchesReferenceOnRandomShapes) {
  std::mt19937 rng(7);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      const int64_t N = 1 + rng() % 2, KH = 1 + rng() % 4, KW = 1 + rng() % 4;
      int64_t group = 1;
      int64_t C = 1 + rng() % 7, M = 1 + rng() % 19;
      switch (rng() % 3) {
        case 1: group = C; M = C; break;  // depthwise
        case 2: group = 1 + rng() % 3; C = group * (1 + rng() % 3); M = group * (1 + rng() % 5); break;
      }
      const int64_t sh = 1 + rng() % 3, sw = 1 + rng() % 3, dh = 1 + rng() % 2, dw = 1 + rng() % 2;
      const int64_t pt = rng() % 3, pl = rng() % 3, pb = rng() % 3, pr = rng() % 3;
      const int64_t H = std::max<int64_t>((KH - 1) * dh + 1 - pt - pb, 1) + rng() % 23;
      const int64_t W = std::max<int64_t>((KW - 1) * dw + 1 - pl - pr, 1) + rng() % 41;
      Node node;
      node.name = "conv";
      const bool fused = rng() % 2;
      node.op_type = fused ? "FusedConv" : "Conv";
      node.domain = fused ? "pith" : "";
      node.inputs = {"X", "W", "B"};
      node.outputs = {"Y"};
      node.attributes["group"] = integer(group);
      node.attributes["strides"] = ints({sh, sw});
      node.attributes["dilations"] = ints({dh, dw});
      node.attributes["pads"] = ints({pt, pl, pb, pr});
      std::vector<Tensor> in = {random_tensor({N, C, H, W}, rng, true), random_tensor({M, C / group, KH, KW}, rng),
                                rng() % 3 ? random_tensor({M}, rng) : Tensor()};
      if (!in[2].defined()) node.inputs[2] = "";
      if (fused) {
        const char* act = kActivations[rng() % 9];
        node.attributes["activation"] = str(act);
        node.attributes["activation_alpha"] = real(std::string(act) == "Clip" ? -0.5f : 0.2f);
        node.attributes["activation_beta"] = real(std::string(act) == "Clip" ? 0.7f : 0.5f);
      }
      Tensor want = run_reference(node, in, 1)[0];
      if (fused && rng() % 2) {  // residual input
        node.inputs.resize(4);
        node.inputs[3] = "Z";
        in.resize(4);
        in[3] = random_tensor(want.shape(), rng);
        want = run_reference(node, in, 1)[0];
      }
      const size_t runtime_inputs = node.inputs.size() == 4 ? 4 : 1;
      if (runtime_inputs == 4 && node.inputs[2].empty()) continue;  // initializer hole: skip
      std::string what = "conv trial " + std::to_string(trial) + " x" + shape_str(in[0].shape()) + " w" +
                         shape_str(in[1].shape()) + " group " + std::to_string(group);
      Tensor one = run_session(node, in, runtime_inputs == 4 ? 1 : 1, 1);
      expect_close(one, want, what);
      expect_bitwise(run_session(node, in, 1, 3), one, what + " (3 threads)");
    }
  });
}

TEST(SimdKernels, GemmAndMatMulMatchReference) {
  std::mt19937 rng(11);
  for_each_target([&] {
    for (int trial = 0; trial < 30; ++trial) {
      const int64_t M = 1 + rng() % 37, N = 1 + rng() % 70, K = 1 + rng() % 50;
      const bool ta = rng() % 2, tb = rng() % 2, fused = rng() % 2;
      Node node;
      node.name = "gemm";
      node.op_type = fused ? "FusedGemm" : "Gemm";
      node.domain = fused ? "pith" : "";
      node.inputs = {"A", "B", "C"};
      node.outputs = {"Y"};
      node.attributes["transA"] = integer(ta);
      node.attributes["transB"] = integer(tb);
      if (fused) node.attributes["activation"] = str(kActivations[rng() % 9]);
      Shape c_shape = rng() % 3 == 0 ? Shape{N} : rng() % 2 ? Shape{M, N} : Shape{M, 1};
      std::vector<Tensor> in = {random_tensor(ta ? Shape{K, M} : Shape{M, K}, rng, true),
                                random_tensor(tb ? Shape{N, K} : Shape{K, N}, rng), random_tensor(c_shape, rng)};
      Tensor want = run_reference(node, in, 1)[0];
      std::string what = "gemm " + std::to_string(M) + "x" + std::to_string(N) + "x" + std::to_string(K);
      Tensor one = run_session(node, in, 1, 1);
      expect_close(one, want, what);
      expect_bitwise(run_session(node, in, 1, 2), one, what + " (2 threads)");

      Node mm;
      mm.name = "mm";
      mm.op_type = "MatMul";
      mm.inputs = {"A", "B"};
      mm.outputs = {"Y"};
      std::vector<Tensor> mi = {random_tensor({1 + int64_t(rng() % 3), M, K}, rng), random_tensor({K, N}, rng)};
      Tensor mwant = run_reference(mm, mi, 1)[0];
      Tensor mone = run_session(mm, mi, 1, 1);
      expect_close(mone, mwant, "matmul");
      expect_bitwise(run_session(mm, mi, 1, 3), mone, "matmul (3 threads)");
    }
  });
}

TEST(SimdKernels, SgemmReachesEveryTailSize) {
  std::mt19937 rng(3);
  for_each_target([&] {
    const int64_t mr = simd::sgemm_mr(), nr = simd::sgemm_nr();
    for (int64_t M : {int64_t(1), mr - 1, mr, mr + 1, 3 * mr + 2}) {
      for (int64_t N : {int64_t(1), nr - 1, nr, nr + 1, 2 * nr + 3}) {
        for (int64_t K : {1, 2, 17}) {
          if (M < 1 || N < 1) continue;
          Tensor a = random_tensor({M, K}, rng), b = random_tensor({K, N}, rng);
          std::vector<float> pa(simd::packed_a_floats(M, K)), pb(simd::packed_b_floats(N, K)), c(size_t(M * N));
          simd::pack_a(a.data<float>(), K, 1, M, K, pa.data());
          simd::pack_b(b.data<float>(), N, 1, K, N, pb.data());
          simd::sgemm_packed(M, N, K, pa.data(), pb.data(), c.data(), N, simd::GemmEpilogue{});
          for (int64_t i = 0; i < M; ++i)
            for (int64_t j = 0; j < N; ++j) {
              double want = 0;
              for (int64_t k = 0; k < K; ++k) want += double(a.data<float>()[i * K + k]) * b.data<float>()[k * N + j];
              ASSERT_NEAR(c[size_t(i * N + j)], want, 1e-4) << M << "x" << N << "x" << K;
            }
        }
      }
    }
  });
}

}  // namespace
}  // namespace pith
