// ONNX export: pith graphs written as ONNX and read back give the same outputs; fused
// nodes come back as standard operators (and fuse again on import); a quantized graph
// travels as QDQ and lowers to the same int8 kernels; internal int8 nodes are refused.
#include <gtest/gtest.h>

#include "compress/quantize/int8.h"
#include "onnx/export.h"
#include "onnx/import.h"
#include "passes/passes.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

ValueInfo info(const std::string& name, const Shape& shape) {
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim{d, ""});
  return ValueInfo{name, DType::Float32, dims};
}

Node fused_conv(const std::string& name, const std::string& in, const std::string& w, const std::string& out,
                const std::string& act, float alpha = 0, float beta = 0, const std::string& residual = "") {
  Node n;
  n.name = name;
  n.domain = "pith";
  n.op_type = "FusedConv";
  n.inputs = {in, w, ""};
  if (!residual.empty()) n.inputs.push_back(residual);
  n.outputs = {out};
  n.attributes["pads"] = attr_ints({1, 1, 1, 1});
  n.attributes["activation"] = attr_string(act);
  if (act == "Clip" || act == "LeakyRelu" || act == "HardSigmoid") n.attributes["activation_alpha"] = attr_float(alpha);
  if (act == "Clip" || act == "HardSigmoid") n.attributes["activation_beta"] = attr_float(beta);
  return n;
}

std::vector<double> values(const Tensor& t) {
  std::vector<double> v(size_t(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = t.as_double(i);
  return v;
}

std::vector<Tensor> run(const Graph& g, const Tensor& x) {
  Session s(std::make_shared<Graph>(g));
  return s.run({{g.inputs[0].name, x}});
}

int count(const Graph& g, const std::string& op) {
  int c = 0;
  for (auto& n : g.nodes) c += n.op_type == op;
  return c;
}

TEST(OnnxExport, FusedNodesRoundTripWithTheSameOutputs) {
  Graph g;
  g.name = "acts";
  g.opset = 13;
  g.inputs.push_back(info("x", {1, 4, 6, 6}));
  g.outputs.push_back(info("y", {1, 4, 6, 6}));
  const char* acts[] = {"Relu", "Clip", "LeakyRelu", "HardSigmoid", "HardSwish", "Sigmoid", "SiLU", "Tanh", ""};
  std::string cur = "x";
  int k = 0;
  for (const char* act : acts) {
    const std::string w = "w" + std::to_string(k), out = k == 8 ? "y" : "v" + std::to_string(k);
    g.initializers[w] = uniform_tensor({4, 4, 3, 3}, uint32_t(k + 1), -0.4f, 0.4f);
    const std::string residual = k == 8 ? "x" : "";  // the last one adds the graph input back
    g.nodes.push_back(fused_conv("conv" + std::to_string(k), cur, w, out, act,
                                 std::string(act) == "Clip" ? -0.5f : 0.1f, std::string(act) == "Clip" ? 0.5f : 0.4f,
                                 residual));
    cur = out;
    ++k;
  }
  const std::string bytes = onnx_export::export_bytes(g);
  Graph back = onnx_import::import_bytes(bytes, "exported", ".");
  EXPECT_EQ(count(back, "FusedConv"), 0);
  EXPECT_EQ(count(back, "Conv"), 9);
  EXPECT_EQ(count(back, "Add"), 1);
  Tensor x = uniform_tensor({1, 4, 6, 6}, 99);
  Tensor want = run(g, x)[0], got = run(back, x)[0];
  expect_near(got, values(want), 1e-5);
  optimize(back);  // standard ops fuse back
  EXPECT_EQ(count(back, "FusedConv"), 9);
  expect_near(run(back, x)[0], values(want), 1e-5);
}

TEST(OnnxExport, QuantizedGraphTravelsAsQdqAndLowersTheSameWay) {
  Graph g;
  g.name = "q";
  g.opset = 13;
  g.inputs.push_back(
      ValueInfo{"x", DType::Float32, std::vector<Dim>{Dim{-1, "N"}, Dim{4, ""}, Dim{6, ""}, Dim{6, ""}}});
  g.outputs.push_back(
      ValueInfo{"y", DType::Float32, std::vector<Dim>{Dim{-1, "N"}, Dim{4, ""}, Dim{6, ""}, Dim{6, ""}}});
  g.initializers["w"] = uniform_tensor({4, 4, 3, 3}, 5, -0.4f, 0.4f);
  g.nodes.push_back(fused_conv("conv", "x", "w", "y", "Relu"));
  Graph q = g;
  quantize_int8_static(q, uniform_tensor({16, 4, 6, 6}, 6, 0.f, 1.f));
  Graph back = onnx_import::import_bytes(onnx_export::export_bytes(q), "exported", ".");
  EXPECT_EQ(count(back, "QuantizeLinear"), 1);
  EXPECT_EQ(count(back, "DequantizeLinear"), 2);  // activation and weight (no bias)
  Graph lowered_here = q, lowered_back = back;
  optimize(lowered_here);
  optimize(lowered_back);
  EXPECT_EQ(count(lowered_back, "QConv"), 1);
  Tensor x = uniform_tensor({2, 4, 6, 6}, 7, 0.f, 1.f);
  expect_bitwise(run(lowered_back, x)[0], run(lowered_here, x)[0], "int8 conv after the round trip");

  // The lowered graph has internal int8 nodes, which have no ONNX form.
  try {
    onnx_export::export_bytes(lowered_here);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("QConv"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("before its int8 lowering"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace pith
