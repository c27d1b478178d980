// Static int8 quantization end to end on a small CNN with fixed random weights and
// data: the QDQ graph it writes, its lowering to int8 kernels (fuse_qdq), and how
// close the int8 model stays to the float one. The SQNR of each calibration method is
// pinned in a narrow band (a ratchet: a change that moves it must say why).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compress/evaluate.h"
#include "compress/quantize/dynamic_int8.h"
#include "compress/quantize/int8.h"
#include "passes/passes.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"
#include "test_util/small_cnn.h"

namespace pith {
namespace {

using namespace test_util;

int count(const Graph& g, const std::string& op) {
  int c = 0;
  for (auto& node : g.nodes) c += node.op_type == op;
  return c;
}

TEST(QuantizeInt8, WritesAQdqGraphWithInt8WeightsAndInt32Biases) {
  Graph g = small_cnn();
  Int8Report report = quantize_int8_static(g, images(64, 1));
  EXPECT_EQ(report.layers.size(), 3u);
  EXPECT_TRUE(report.skipped.empty());
  // input, the conv output (MaxPool's input), the pool output (Flatten's), the Flatten
  // output (fc1's) and fc1's output (fc2's input).
  EXPECT_EQ(report.quantized_activations, 5u);
  EXPECT_EQ(count(g, "QuantizeLinear"), 5);
  EXPECT_EQ(count(g, "DequantizeLinear"), 5 + 3 + 3);  // activations, weights, biases
  int int8_weights = 0, int32_biases = 0;
  for (auto& [name, t] : g.initializers) {
    int8_weights += t.dtype() == DType::Int8;
    int32_biases += t.dtype() == DType::Int32;
  }
  EXPECT_EQ(int8_weights, 3);
  EXPECT_EQ(int32_biases, 3);
  // MaxPool and Flatten share the parameters of the conv output they move.
  const Node* pool_q = nullptr;
  for (auto& node : g.nodes)
    if (node.op_type == "QuantizeLinear" && node.inputs[0] == "p") pool_q = &node;
  ASSERT_NE(pool_q, nullptr);
  for (auto& node : g.nodes)
    if (node.op_type == "QuantizeLinear" && node.inputs[0].rfind("r", 0) == 0 && node.inputs[0] != "p") {
      EXPECT_EQ(node.inputs[1], pool_q->inputs[1]);
    }
}

TEST(QuantizeInt8, LowersToInt8KernelsThatMatchTheQdqGraph) {
  Graph qdq = small_cnn();
  quantize_int8_static(qdq, images(64, 1));
  Graph lowered = qdq;
  optimize(lowered);
  EXPECT_EQ(count(lowered, "QConv"), 1);
  EXPECT_EQ(count(lowered, "QGemm"), 2);
  EXPECT_EQ(count(lowered, "FusedConv") + count(lowered, "FusedGemm") + count(lowered, "Conv"), 0);
  EXPECT_EQ(count(lowered, "QuantizeLinear"), 1);    // the graph input
  EXPECT_EQ(count(lowered, "DequantizeLinear"), 0);  // fc2 writes float logits
  for (auto& node : lowered.nodes) {
    if (node.op_type == "MaxPool") {
      EXPECT_EQ(node.inputs[0].find("dequantized"), std::string::npos);
    }
  }

  // The int8 kernels compute what the QDQ graph means, up to float rounding in the
  // QDQ path's float convolution: the logits agree to a fraction of a percent.
  Tensor x = images(32, 2);
  Tensor a = predict(std::make_shared<Graph>(qdq), x), b = predict(std::make_shared<Graph>(lowered), x);
  EXPECT_GT(sqnr_db(b, a), 45.0);
  EXPECT_EQ(top1_agreement(b, a), 1.0);
}

TEST(QuantizeInt8, StaysCloseToTheFloatModelRatchetPerMethod) {
  Graph base = small_cnn();
  Tensor calib = images(128, 3), test = images(64, 4);
  Tensor want = predict(std::make_shared<Graph>(base), test);
  struct Band {
    CalibrationMethod method;
    double lo, hi;
  };
  // Measured when written (dB): minmax 41.52, percentile 41.95, entropy 33.23, mse 42.70.
  for (auto [method, lo, hi] :
       {Band{CalibrationMethod::MinMax, 41.2, 41.8}, Band{CalibrationMethod::Percentile, 41.6, 42.3},
        Band{CalibrationMethod::Entropy, 32.9, 33.6}, Band{CalibrationMethod::MSE, 42.4, 43.0}}) {
    Graph g = base;
    Int8Options options;
    options.method = method;
    quantize_int8_static(g, calib, options);
    optimize(g);
    const double q = sqnr_db(predict(std::make_shared<Graph>(g), test), want);
    EXPECT_GE(q, lo) << calibration_method_name(method);
    EXPECT_LE(q, hi) << calibration_method_name(method);
  }
}

TEST(QuantizeInt8, SevenBitWeightsAndKeptLayers) {
  Graph g = small_cnn();
  Int8Options options;
  options.weight_max = 64;
  options.keep_float = {"fc2"};
  Int8Report report = quantize_int8_static(g, images(32, 5), options);
  EXPECT_EQ(report.layers.size(), 2u);
  ASSERT_EQ(report.skipped.size(), 1u);
  EXPECT_EQ(report.skipped[0].first, "fc2");
  EXPECT_EQ(report.skipped[0].second, "kept in float (requested)");
  for (auto& [name, t] : g.initializers) {
    if (t.dtype() != DType::Int8) continue;
    for (int64_t i = 0; i < t.numel(); ++i) EXPECT_LE(std::abs(int(t.data<int8_t>()[i])), 64) << name;
  }
  optimize(g);
  EXPECT_EQ(count(g, "QGemm"), 1);
  EXPECT_GE(count(g, "FusedGemm") + count(g, "Gemm"), 1);  // fc2 in float
}

// A residual block (Conv + Relu, Conv, Add of the first output, Relu: optimized into a
// FusedConv with a residual input): the residual is quantized like any activation and the
// second convolution lowers to a QConv that adds it in int8's epilogue.
TEST(QuantizeInt8, QuantizesConvolutionsWithAFusedResidual) {
  Graph g;
  g.name = "residual_cnn";
  g.opset = 13;
  Dim n{1, ""};  // static shapes: the residual Add fuses only where both shapes are known
  for (const char* v : {"c2", "r1"}) g.value_info[v] = info(v, {n, Dim{8, ""}, Dim{12, ""}, Dim{12, ""}});
  g.inputs.push_back(info("input", {n, Dim{2, ""}, Dim{12, ""}, Dim{12, ""}}));
  g.outputs.push_back(info("logits", {n, Dim{5, ""}}));
  g.initializers["w1"] = uniform_tensor({8, 2, 3, 3}, 21, -0.5f, 0.5f);
  g.initializers["b1"] = uniform_tensor({8}, 22, -0.1f, 0.1f);
  g.initializers["w2"] = uniform_tensor({8, 8, 3, 3}, 23, -0.2f, 0.2f);
  g.initializers["b2"] = uniform_tensor({8}, 24, -0.1f, 0.1f);
  g.initializers["w3"] = uniform_tensor({5, 1152}, 25, -0.05f, 0.05f);
  g.initializers["b3"] = uniform_tensor({5}, 26, -0.1f, 0.1f);
  const Attribute pads = attr_ints({1, 1, 1, 1});
  g.nodes.push_back(make_node("Conv", "conv1", {"input", "w1", "b1"}, {"c1"}, {{"pads", pads}}));
  g.nodes.push_back(make_node("Relu", "relu1", {"c1"}, {"r1"}));
  g.nodes.push_back(make_node("Conv", "conv2", {"r1", "w2", "b2"}, {"c2"}, {{"pads", pads}}));
  g.nodes.push_back(make_node("Add", "add", {"c2", "r1"}, {"s"}));
  g.nodes.push_back(make_node("Relu", "relu2", {"s"}, {"r2"}));
  g.nodes.push_back(make_node("Flatten", "flatten", {"r2"}, {"f"}));
  g.nodes.push_back(make_node("Gemm", "fc", {"f", "w3", "b3"}, {"logits"}, {{"transB", attr_int(1)}}));
  optimize(g);
  ASSERT_EQ(count(g, "FusedConv"), 2);
  const Graph base = g;
  Int8Report report = quantize_int8_static(g, images(64, 7));
  EXPECT_EQ(report.layers.size(), 3u);
  EXPECT_TRUE(report.skipped.empty());
  Graph lowered = g;
  optimize(lowered);
  EXPECT_EQ(count(lowered, "QConv"), 2);
  EXPECT_EQ(count(lowered, "FusedConv") + count(lowered, "Conv") + count(lowered, "Add"), 0);
  int with_residual = 0;
  for (auto& node : lowered.nodes) with_residual += node.op_type == "QConv" && node.has_input(9);
  EXPECT_EQ(with_residual, 1);
  // The int8 graph computes what the QDQ graph means, and stays close to the float model.
  Tensor x = images(32, 8);
  Tensor want = predict(std::make_shared<Graph>(base), x);
  Tensor qdq = predict(std::make_shared<Graph>(g), x), int8 = predict(std::make_shared<Graph>(lowered), x);
  EXPECT_GT(sqnr_db(int8, qdq), 45.0);
  EXPECT_EQ(top1_agreement(int8, qdq), 1.0);
  EXPECT_GT(sqnr_db(int8, want), 25.0);
}

// Dynamic int8: the Gemm layers become DynamicQuantizeLinear + MatMulInteger + scales
// (standard ONNX), lowered to pith.QGemm with the same bits; the conv stays float.
TEST(QuantizeInt8, DynamicInt8QuantizesGemmLayersAndLowersThemToQGemm) {
  Graph g = small_cnn();
  const Graph base = g;
  DynamicInt8Report report = quantize_int8_dynamic(g);
  ASSERT_EQ(report.layers.size(), 2u);  // fc1 (with its Relu) and fc2
  EXPECT_EQ(count(g, "DynamicQuantizeLinear"), 2);
  EXPECT_EQ(count(g, "MatMulInteger"), 2);
  EXPECT_EQ(count(g, "FusedGemm") + count(g, "Gemm"), 0);
  Graph lowered = g;
  optimize(lowered);
  EXPECT_EQ(count(lowered, "QGemm"), 2);
  EXPECT_EQ(count(lowered, "MatMulInteger") + count(lowered, "Cast"), 0);
  Tensor x = images(32, 9);
  Tensor want = predict(std::make_shared<Graph>(base), x);
  Tensor standard = predict(std::make_shared<Graph>(g), x), fast = predict(std::make_shared<Graph>(lowered), x);
  expect_bitwise(fast, standard, "QGemm against the ONNX ops it replaces");
  EXPECT_GT(sqnr_db(fast, want), 30.0);
  EXPECT_EQ(top1_agreement(fast, want), 1.0);
}

TEST(QuantizeInt8, RejectsCalibrationDataTheModelCannotTake) {
  Graph g = small_cnn();
  EXPECT_THROW(quantize_int8_static(g, Tensor(DType::Float32, {4, 3, 12, 12})), Error);
  EXPECT_THROW(quantize_int8_static(g, Tensor(DType::Int64, {4, 2, 12, 12})), Error);
  EXPECT_THROW(quantize_int8_static(g, Tensor(DType::Float32, {4, 288})), Error);
  Int8Options bad;
  bad.weight_max = 200;
  EXPECT_THROW(quantize_int8_static(g, images(4, 1), bad), Error);
}

}  // namespace
}  // namespace pith
