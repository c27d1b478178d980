// A small CNN with fixed random weights and matching image-like data, shared by the
// compression and deploy tests.
#pragma once

#include "passes/passes.h"
#include "test_util/op_runner.h"

namespace pith::test_util {

inline ValueInfo info(const std::string& name, std::vector<Dim> dims, DType dtype = DType::Float32) {
  return ValueInfo{name, dtype, dims};
}

// input [N,2,12,12] -> Conv 3x3 (8) + Relu -> MaxPool 2 -> Flatten -> Gemm 288x16 + Relu
// -> Gemm 16x5 -> logits. Weights uniform, biases small; optimized (activations fused).
inline Graph small_cnn() {
  Graph g;
  g.name = "small_cnn";
  g.opset = 13;
  Dim n{-1, "N"};
  g.inputs.push_back(info("input", {n, Dim{2, ""}, Dim{12, ""}, Dim{12, ""}}));
  g.outputs.push_back(info("logits", {n, Dim{5, ""}}));
  g.initializers["w1"] = uniform_tensor({8, 2, 3, 3}, 11, -0.5f, 0.5f);
  g.initializers["b1"] = uniform_tensor({8}, 12, -0.1f, 0.1f);
  g.initializers["w2"] = uniform_tensor({16, 288}, 13, -0.1f, 0.1f);
  g.initializers["b2"] = uniform_tensor({16}, 14, -0.1f, 0.1f);
  g.initializers["w3"] = uniform_tensor({5, 16}, 15, -0.5f, 0.5f);
  g.initializers["b3"] = uniform_tensor({5}, 16, -0.1f, 0.1f);
  g.nodes.push_back(make_node("Conv", "conv", {"input", "w1", "b1"}, {"c"}, {{"pads", attr_ints({1, 1, 1, 1})}}));
  g.nodes.push_back(make_node("Relu", "relu1", {"c"}, {"r"}));
  g.nodes.push_back(make_node("MaxPool", "pool", {"r"}, {"p"},
                              {{"kernel_shape", attr_ints({2, 2})}, {"strides", attr_ints({2, 2})}}));
  g.nodes.push_back(make_node("Flatten", "flatten", {"p"}, {"f"}));
  g.nodes.push_back(make_node("Gemm", "fc1", {"f", "w2", "b2"}, {"h"}, {{"transB", attr_int(1)}}));
  g.nodes.push_back(make_node("Relu", "relu2", {"h"}, {"hr"}));
  g.nodes.push_back(make_node("Gemm", "fc2", {"hr", "w3", "b3"}, {"logits"}, {{"transB", attr_int(1)}}));
  optimize(g);
  return g;
}

inline Tensor images(int64_t n, uint32_t seed) {
  Tensor t = uniform_tensor({n, 2, 12, 12}, seed, 0.0f, 1.0f);
  for (int64_t i = 0; i < t.numel(); i += 3) t.data<float>()[i] = 0;  // some exact zeros, as backgrounds
  return t;
}

}  // namespace pith::test_util
