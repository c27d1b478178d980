// Tests for the graph passes (src/passes): for each pass a hand-built graph before and
// after (node counts, op types, names kept), and numerics: the graph run through a
// Session on random inputs before and after the pass, and after optimize().
// Also the fused kernels (pith.FusedConv/FusedGemm) and the activation header.
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "ir/verify.h"
#include "passes/passes.h"
#include "runtime/kernels/activation.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

ValueInfo info(const std::string& name, const Shape& shape, DType dtype = DType::Float32) {
  ValueInfo v;
  v.name = name;
  v.dtype = dtype;
  std::vector<Dim> dims;
  for (int64_t d : shape) dims.push_back(Dim{d, ""});
  v.shape = dims;
  return v;
}

// Builds small graphs: inputs, initializers, nodes, outputs, value_info.
struct Builder {
  Graph g;
  uint32_t seed = 1;

  Builder() {
    g.name = "test";
    g.opset = 13;
  }
  Builder& input(const std::string& name, const Shape& shape) {
    g.inputs.push_back(info(name, shape));
    return *this;
  }
  Builder& output(const std::string& name, const Shape& shape) {
    g.outputs.push_back(info(name, shape));
    return *this;
  }
  Builder& shape(const std::string& name, const Shape& shape, DType dtype = DType::Float32) {
    g.value_info[name] = info(name, shape, dtype);
    return *this;
  }
  Builder& init(const std::string& name, Tensor t) {
    g.initializers[name] = std::move(t);
    return *this;
  }
  Builder& weight(const std::string& name, const Shape& shape, float lo = -1.0f, float hi = 1.0f) {
    return init(name, uniform_tensor(shape, seed++, lo, hi));
  }
  Node& node(const std::string& op, std::vector<std::string> inputs, std::vector<std::string> outputs) {
    Node n;
    n.op_type = op;
    n.name = op + "_" + std::to_string(g.nodes.size());
    n.inputs = std::move(inputs);
    n.outputs = std::move(outputs);
    g.nodes.push_back(std::move(n));
    return g.nodes.back();
  }
};

int count_op(const Graph& g, const std::string& op) {
  int n = 0;
  for (auto& node : g.nodes) n += node.op_type == op;
  return n;
}

std::vector<Tensor> run_graph(const Graph& g, const std::map<std::string, Tensor>& inputs) {
  Session session(std::make_shared<Graph>(g));
  return session.run(inputs);
}

std::map<std::string, Tensor> random_inputs(const Graph& g, uint32_t seed) {
  std::map<std::string, Tensor> ins;
  for (auto& v : g.inputs) {
    Shape s;
    for (auto& d : *v.shape) s.push_back(d.value);
    ins[v.name] = uniform_tensor(s, seed++, -2.0f, 2.0f);
  }
  return ins;
}

// max |a - b| <= tol * max(max |a|, 1e-3), output by output, on random inputs.
void expect_same_outputs(const Graph& before, const Graph& after, double tol = 1e-5) {
  ASSERT_EQ(before.outputs.size(), after.outputs.size());
  for (size_t i = 0; i < before.outputs.size(); ++i) EXPECT_EQ(before.outputs[i].name, after.outputs[i].name);
  for (uint32_t seed : {11u, 12u}) {
    auto ins = random_inputs(before, seed);
    auto want = run_graph(before, ins);
    auto got = run_graph(after, ins);
    ASSERT_EQ(want.size(), got.size());
    for (size_t o = 0; o < want.size(); ++o) {
      ASSERT_EQ(want[o].shape(), got[o].shape()) << "output " << o;
      double max_ref = 0, max_err = 0;
      for (int64_t i = 0; i < want[o].numel(); ++i) {
        max_ref = std::max(max_ref, std::fabs(want[o].as_double(i)));
        max_err = std::max(max_err, std::fabs(want[o].as_double(i) - got[o].as_double(i)));
      }
      EXPECT_LE(max_err, tol * std::max(max_ref, 1e-3)) << "output " << o << " ('" << before.outputs[o].name << "')";
    }
  }
}

// Applies one pass to a copy (checking it reports a change), checks numerics against
// the original, and also checks optimize() on the original; returns the pass's result.
Graph apply(const Graph& original, bool (*pass)(Graph&), bool expect_change = true) {
  Graph before = original;
  verify_and_sort(before);
  Graph after = before;
  EXPECT_EQ(pass(after), expect_change);
  verify_and_sort(after);
  expect_same_outputs(before, after);
  Graph optimized = before;
  optimize(optimized);
  expect_same_outputs(before, optimized);
  return after;
}

Graph optimized(const Graph& original) {
  Graph g = original;
  verify_and_sort(g);
  optimize(g);
  return g;
}

// ---- fold_constants ----

TEST(FoldConstants, EvaluatesInitializerOnlyNodes) {
  Builder b;
  b.input("x", {2, 3}).output("y", {2, 3}).weight("a", {2, 3}).weight("c", {2, 3});
  b.node("Add", {"a", "c"}, {"s"});
  b.node("Mul", {"s", "a"}, {"m"});
  b.node("Add", {"x", "m"}, {"y"});
  Graph after = apply(b.g, fold_constants);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Add");
  EXPECT_EQ(after.nodes[0].inputs[1], "m");
  ASSERT_TRUE(after.initializers.count("m"));
  const float* a = b.g.initializers["a"].data<float>();
  const float* c = b.g.initializers["c"].data<float>();
  EXPECT_FLOAT_EQ(after.initializers["m"].data<float>()[4], (a[4] + c[4]) * a[4]);
  eliminate_dead_code(after);
  EXPECT_FALSE(after.initializers.count("s"));
  EXPECT_FALSE(after.initializers.count("c"));
}

TEST(FoldConstants, FoldsStaticShapeSubgraphs) {
  // y = Reshape(x, Concat(Unsqueeze(Gather(Shape(x), 0)), [-1])): [2, 3, 4] -> [2, 12]
  Builder b;
  b.input("x", {2, 3, 4}).output("y", {2, 12});
  b.init("zero", Tensor::scalar<int64_t>(0));
  b.init("axes", Tensor::from_vector<int64_t>({0}, {1}));
  b.init("minus1", Tensor::from_vector<int64_t>({-1}, {1}));
  b.node("Shape", {"x"}, {"shape"});
  b.node("Gather", {"shape", "zero"}, {"batch"}).attributes["axis"] = attr_int(0);
  b.node("Unsqueeze", {"batch", "axes"}, {"batch1"});
  b.node("Concat", {"batch1", "minus1"}, {"target"}).attributes["axis"] = attr_int(0);
  b.node("Reshape", {"x", "target"}, {"y"});
  Graph after = apply(b.g, fold_constants);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Reshape");
  EXPECT_EQ(after.initializers.at("target").to_int64_vector(), (std::vector<int64_t>{2, -1}));
}

TEST(FoldConstants, LeavesDynamicShapesAndTrainingDropout) {
  Builder b;
  b.input("x", {2, 3}).output("y", {2}).output("d", {2, 3});
  b.g.inputs[0].shape->at(0) = Dim{-1, "N"};  // symbolic batch: Shape(x) is not constant
  b.node("Shape", {"x"}, {"y"});
  b.weight("w", {2, 3});
  b.init("ratio", Tensor::scalar<float>(0.5f));
  b.init("train", Tensor::scalar<bool>(true));
  b.node("Dropout", {"w", "ratio", "train"}, {"d"});
  Graph g = b.g;
  verify_and_sort(g);
  EXPECT_FALSE(fold_constants(g));
  EXPECT_EQ(g.nodes.size(), 2u);
}

TEST(FoldConstants, DoesNotInflateTheModel) {
  // Expand of a scalar to 4 MiB stays a node; the small Add before it folds.
  Builder b;
  b.input("x", {1024, 1024}).output("y", {1024, 1024});
  b.init("one", Tensor::scalar<float>(1.0f)).init("two", Tensor::scalar<float>(2.0f));
  b.init("shape", Tensor::from_vector<int64_t>({1024, 1024}, {2}));
  b.node("Add", {"one", "two"}, {"three"});
  b.node("Expand", {"three", "shape"}, {"big"});
  b.node("Mul", {"x", "big"}, {"y"});
  Graph g = b.g;
  verify_and_sort(g);
  EXPECT_TRUE(fold_constants(g));
  EXPECT_EQ(g.nodes.size(), 2u);
  EXPECT_EQ(count_op(g, "Expand"), 1);
}

// ---- eliminate_dead_code ----

TEST(EliminateDeadCode, RemovesUnreadNodesAndInitializers) {
  Builder b;
  b.input("x", {4}).output("y", {4}).weight("unused", {3}).weight("w", {4});
  b.node("Sigmoid", {"x"}, {"dead1"});
  b.node("Add", {"dead1", "w"}, {"dead2"});
  b.node("Relu", {"x"}, {"y"});
  b.shape("dead2", {4});
  Graph after = apply(b.g, eliminate_dead_code);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Relu");
  EXPECT_TRUE(after.initializers.empty());
  EXPECT_TRUE(after.value_info.empty());
}

TEST(EliminateDeadCode, KeepsValuesReadBySubgraphs) {
  Builder b;
  b.input("x", {4}).output("y", {4});
  b.init("cond", Tensor::scalar<bool>(true));
  b.node("Relu", {"x"}, {"r"});
  b.node("Sigmoid", {"x"}, {"s"});
  auto branch = [](const std::string& read) {
    auto body = std::make_shared<Graph>();
    body->name = "branch_" + read;
    body->opset = 13;
    Node id;
    id.op_type = "Identity";
    id.name = "id_" + read;
    id.inputs = {read};
    id.outputs = {"out_" + read};
    body->nodes.push_back(id);
    body->outputs.push_back(info("out_" + read, {4}));
    return attr_graph(body);
  };
  Node& node = b.node("If", {"cond"}, {"y"});
  node.attributes["then_branch"] = branch("r");
  node.attributes["else_branch"] = branch("s");
  Graph after = apply(b.g, eliminate_dead_code, false);
  EXPECT_EQ(after.nodes.size(), 3u);
  Graph all = optimized(b.g);
  EXPECT_EQ(all.nodes.size(), 3u);
}

// ---- eliminate_identity ----

TEST(EliminateIdentity, RewiresAroundNoOps) {
  Builder b;
  b.input("x", {2, 6}).output("y", {2, 6});
  b.init("same", Tensor::from_vector<int64_t>({2, 6}, {2}));
  b.node("Identity", {"x"}, {"a"});
  b.node("Cast", {"a"}, {"c"}).attributes["to"] = attr_int(int64_t(DType::Float32));
  b.node("Dropout", {"c"}, {"d"});
  b.node("Reshape", {"d", "same"}, {"r"});
  b.node("Relu", {"r"}, {"relu"});
  b.node("Identity", {"relu"}, {"y"});  // graph output: Relu takes over the name
  b.shape("a", {2, 6}).shape("c", {2, 6}).shape("d", {2, 6}).shape("r", {2, 6}).shape("relu", {2, 6});
  Graph after = apply(b.g, eliminate_identity);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Relu");
  EXPECT_EQ(after.nodes[0].inputs[0], "x");
  EXPECT_EQ(after.nodes[0].outputs[0], "y");
}

TEST(EliminateIdentity, KeepsInputToOutputIdentityAndRealCasts) {
  Builder b;
  b.input("x", {3}).output("y", {3}).output("z", {3});
  b.g.outputs[1].dtype = DType::Int32;
  b.node("Identity", {"x"}, {"y"});
  b.node("Cast", {"x"}, {"z"}).attributes["to"] = attr_int(int64_t(DType::Int32));
  Graph g = b.g;
  verify_and_sort(g);
  EXPECT_FALSE(eliminate_identity(g));
  EXPECT_EQ(g.nodes.size(), 2u);
}

// ---- fuse_conv_bn ----

void add_bn(Builder& b, const std::string& in, const std::string& out, int64_t c) {
  b.weight(out + "_scale", {c}, 0.5f, 1.5f).weight(out + "_bias", {c}).weight(out + "_mean", {c});
  b.weight(out + "_var", {c}, 0.1f, 2.0f);
  b.node("BatchNormalization", {in, out + "_scale", out + "_bias", out + "_mean", out + "_var"}, {out})
      .attributes["epsilon"] = attr_float(1e-3f);
}

TEST(FuseConvBn, FoldsBatchNormIntoConvAndGemm) {
  Builder b;
  b.input("x", {1, 3, 8, 8}).output("y", {1, 4, 8, 8}).output("g", {2, 6});
  b.input("v", {2, 5});
  b.weight("w", {4, 3, 3, 3}).weight("bias", {4});
  b.node("Conv", {"x", "w", "bias"}, {"conv"}).attributes["pads"] = attr_ints({1, 1, 1, 1});
  add_bn(b, "conv", "y", 4);
  b.weight("gw", {6, 5}).weight("gc", {6});
  Node& gemm = b.node("Gemm", {"v", "gw", "gc"}, {"gemm"});
  gemm.attributes["transB"] = attr_int(1);
  gemm.attributes["alpha"] = attr_float(0.5f);
  gemm.attributes["beta"] = attr_float(2.0f);
  add_bn(b, "gemm", "g", 6);
  Graph after = apply(b.g, fuse_conv_bn);
  EXPECT_EQ(after.nodes.size(), 2u);
  EXPECT_EQ(count_op(after, "BatchNormalization"), 0);
  EXPECT_EQ(count_op(after, "Conv"), 1);
  EXPECT_EQ(count_op(after, "Gemm"), 1);
}

TEST(FuseConvBn, ConvWithoutBiasAndSharedOutput) {
  Builder b;
  b.input("x", {1, 2, 5, 5}).output("y", {1, 3, 3, 3});
  b.weight("w", {3, 2, 3, 3});
  b.node("Conv", {"x", "w"}, {"conv"});
  add_bn(b, "conv", "y", 3);
  Graph after = apply(b.g, fuse_conv_bn);
  EXPECT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].inputs.size(), 3u);  // a bias appears

  // The Conv output read by someone else: no fusion.
  b.node("Relu", {"conv"}, {"y2"});
  b.output("y2", {1, 3, 3, 3});
  Graph g = b.g;
  verify_and_sort(g);
  EXPECT_FALSE(fuse_conv_bn(g));
}

// ---- fuse_matmul_add ----

TEST(FuseMatMulAdd, TwoDimensionalBecomesGemm) {
  Builder b;
  b.input("x", {3, 5}).output("y", {3, 4});
  b.weight("w", {5, 4}).weight("bias", {4});
  b.node("MatMul", {"x", "w"}, {"mm"});
  b.node("Add", {"bias", "mm"}, {"y"});
  Graph after = apply(b.g, fuse_matmul_add);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Gemm");
  EXPECT_EQ(after.nodes[0].outputs[0], "y");
}

TEST(FuseMatMulAdd, HigherRankKeepsMatMul) {
  Builder b;
  b.input("x", {2, 3, 5}).output("y", {2, 3, 4});
  b.weight("w", {5, 4}).weight("bias", {4});
  b.node("MatMul", {"x", "w"}, {"mm"});
  b.node("Add", {"mm", "bias"}, {"y"});
  Graph after = apply(b.g, fuse_matmul_add, false);
  EXPECT_EQ(count_op(after, "MatMul"), 1);
}

// ---- fuse_activation ----

struct ActCase {
  std::string op;
  std::string fused;  // expected `activation`
};

TEST(FuseActivation, EveryActivationAfterConv) {
  for (const ActCase& c : {ActCase{"Relu", "Relu"}, ActCase{"Clip", "Clip"}, ActCase{"LeakyRelu", "LeakyRelu"},
                           ActCase{"HardSigmoid", "HardSigmoid"}, ActCase{"HardSwish", "HardSwish"},
                           ActCase{"Sigmoid", "Sigmoid"}, ActCase{"Tanh", "Tanh"}}) {
    SCOPED_TRACE(c.op);
    Builder b;
    b.g.opset = 14;  // HardSwish
    b.input("x", {1, 2, 6, 6}).output("y", {1, 4, 6, 6});
    b.weight("w", {4, 2, 3, 3}).weight("bias", {4});
    b.node("Conv", {"x", "w", "bias"}, {"conv"}).attributes["pads"] = attr_ints({1, 1, 1, 1});
    if (c.op == "Clip") {
      b.init("lo", Tensor::scalar<float>(0.0f)).init("hi", Tensor::scalar<float>(0.5f));
      b.node("Clip", {"conv", "lo", "hi"}, {"y"});
    } else {
      Node& act = b.node(c.op, {"conv"}, {"y"});
      if (c.op == "LeakyRelu") act.attributes["alpha"] = attr_float(0.3f);
      if (c.op == "HardSigmoid") act.attributes["beta"] = attr_float(0.6f);
    }
    Graph after = apply(b.g, fuse_activation);
    ASSERT_EQ(after.nodes.size(), 1u);
    EXPECT_EQ(after.nodes[0].domain, "pith");
    EXPECT_EQ(after.nodes[0].op_type, "FusedConv");
    EXPECT_EQ(after.nodes[0].attr_string("activation", "?"), c.fused);
    EXPECT_EQ(after.nodes[0].outputs[0], "y");
  }
}

TEST(FuseActivation, GemmAndGatePatterns) {
  Builder b;
  b.input("x", {1, 3, 5, 5}).input("v", {2, 4});
  b.output("silu", {1, 2, 5, 5}).output("hswish", {1, 2, 5, 5}).output("gr", {2, 3});
  b.weight("w1", {2, 3, 1, 1}).weight("w2", {2, 3, 1, 1}).weight("gw", {4, 3});
  b.node("Conv", {"x", "w1"}, {"c1"});
  b.node("Sigmoid", {"c1"}, {"s1"});
  b.node("Mul", {"c1", "s1"}, {"silu"});
  b.node("Conv", {"x", "w2"}, {"c2"});
  Node& hs = b.node("HardSigmoid", {"c2"}, {"h2"});
  hs.attributes["alpha"] = attr_float(1.0f / 6.0f);
  hs.attributes["beta"] = attr_float(0.5f);
  b.node("Mul", {"h2", "c2"}, {"hswish"});
  b.node("Gemm", {"v", "gw"}, {"gm"});
  b.node("Relu", {"gm"}, {"gr"});
  Graph after = apply(b.g, fuse_activation);
  ASSERT_EQ(after.nodes.size(), 3u);
  EXPECT_EQ(after.nodes[0].attr_string("activation", ""), "SiLU");
  EXPECT_EQ(after.nodes[1].attr_string("activation", ""), "HardSwish");
  EXPECT_EQ(after.nodes[2].op_type, "FusedGemm");
  EXPECT_EQ(after.nodes[2].attr_string("activation", ""), "Relu");
}

TEST(FuseActivation, KeepsIntermediatesOthersRead) {
  Builder b;
  b.input("x", {1, 1, 4, 4}).output("y", {1, 1, 4, 4}).output("conv", {1, 1, 4, 4});
  b.weight("w", {1, 1, 1, 1});
  b.node("Conv", {"x", "w"}, {"conv"});
  b.node("Relu", {"conv"}, {"y"});
  Graph after = apply(b.g, fuse_activation, false);
  EXPECT_EQ(after.nodes.size(), 2u);
}

// ---- fuse_residual_add ----

TEST(FuseResidualAdd, ResNetBlockTailBecomesOneNode) {
  Builder b;
  b.input("x", {1, 4, 6, 6}).output("y", {1, 4, 6, 6});
  b.weight("w", {4, 4, 3, 3}).weight("bias", {4});
  b.node("Conv", {"x", "w", "bias"}, {"conv"}).attributes["pads"] = attr_ints({1, 1, 1, 1});
  b.node("Add", {"x", "conv"}, {"sum"});
  b.node("Relu", {"sum"}, {"y"});
  b.shape("conv", {1, 4, 6, 6}).shape("sum", {1, 4, 6, 6});
  Graph after = apply(b.g, fuse_residual_add);
  ASSERT_EQ(after.nodes.size(), 2u);
  EXPECT_EQ(after.nodes[0].op_type, "FusedConv");
  EXPECT_EQ(after.nodes[0].inputs.size(), 4u);
  EXPECT_EQ(after.nodes[0].inputs[3], "x");

  Graph all = optimized(b.g);
  ASSERT_EQ(all.nodes.size(), 1u);
  EXPECT_EQ(all.nodes[0].attr_string("activation", ""), "Relu");
  EXPECT_EQ(all.nodes[0].outputs[0], "y");
}

TEST(FuseResidualAdd, NeedsKnownEqualShapes) {
  Builder b;
  b.input("x", {1, 2, 4, 4}).input("z", {1, 1, 4, 4}).output("y", {1, 2, 4, 4});
  b.weight("w", {2, 2, 1, 1});
  b.node("Conv", {"x", "w"}, {"conv"});
  b.node("Add", {"conv", "z"}, {"y"});  // z broadcasts: not a residual
  b.shape("conv", {1, 2, 4, 4});
  apply(b.g, fuse_residual_add, false);
}

// ---- cancel_transposes ----

TEST(CancelTransposes, InversePairsVanish) {
  Builder b;
  b.input("x", {2, 3, 4}).output("y", {2, 3, 4});
  b.node("Relu", {"x"}, {"r"});
  b.node("Transpose", {"r"}, {"t1"}).attributes["perm"] = attr_ints({1, 2, 0});
  b.node("Transpose", {"t1"}, {"y"}).attributes["perm"] = attr_ints({2, 0, 1});
  Graph after = apply(b.g, cancel_transposes);
  eliminate_dead_code(after);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].op_type, "Relu");
  EXPECT_EQ(after.nodes[0].outputs[0], "y");
}

TEST(CancelTransposes, ChainsMergeIntoOne) {
  Builder b;
  b.input("x", {2, 3, 4, 5}).output("y", {3, 5, 2, 4});
  b.node("Transpose", {"x"}, {"t1"}).attributes["perm"] = attr_ints({1, 0, 3, 2});  // [3, 2, 5, 4]
  b.node("Transpose", {"t1"}, {"y"}).attributes["perm"] = attr_ints({0, 2, 1, 3});  // [3, 5, 2, 4]
  Graph after = apply(b.g, cancel_transposes);
  eliminate_dead_code(after);
  ASSERT_EQ(after.nodes.size(), 1u);
  EXPECT_EQ(after.nodes[0].inputs[0], "x");
  EXPECT_EQ(after.nodes[0].attr_ints("perm"), (std::vector<int64_t>{1, 3, 0, 2}));
}

// ---- fused kernels and activations ----

TEST(FusedKernels, ConvWithResidualAndClipMatchesUnfused) {
  Builder b;
  b.input("x", {1, 3, 5, 5}).input("z", {1, 2, 3, 3}).output("y", {1, 2, 3, 3});
  b.weight("w", {2, 3, 3, 3}).weight("bias", {2});
  Node& f = b.node("FusedConv", {"x", "w", "bias", "z"}, {"y"});
  f.domain = "pith";
  f.attributes["activation"] = attr_string("Clip");
  f.attributes["activation_alpha"] = attr_float(-0.5f);
  f.attributes["activation_beta"] = attr_float(0.7f);
  Builder u;
  u.g = b.g;
  u.g.nodes.clear();
  u.node("Conv", {"x", "w", "bias"}, {"c"});
  u.node("Add", {"c", "z"}, {"s"});
  u.init("lo", Tensor::scalar<float>(-0.5f)).init("hi", Tensor::scalar<float>(0.7f));
  u.node("Clip", {"s", "lo", "hi"}, {"y"});
  expect_same_outputs(u.g, b.g);
}

TEST(FusedKernels, UnknownActivationIsAnErrorNamingTheNode) {
  Node n;
  n.name = "conv7";
  n.op_type = "FusedConv";
  n.domain = "pith";
  n.attributes["activation"] = attr_string("Swish");
  try {
    activation_from_node(n);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("conv7"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("Swish"), std::string::npos) << e.what();
  }
  Activation silu{ActivationKind::SiLU, 0, 0};
  EXPECT_NEAR(apply_activation(silu, 2.0f), 2.0f / (1.0f + std::exp(-2.0f)), 1e-6);
  EXPECT_EQ(apply_activation(Activation{ActivationKind::Relu, 0, 0}, -3.0f), 0.0f);
}

TEST(Optimize, ConstantAndPassThroughOutputsStayValid) {
  Builder b;
  b.input("x", {3}).output("y", {3}).output("c", {3}).output("same", {3});
  b.weight("a", {3}).weight("d", {3});
  b.node("Add", {"x", "x"}, {"y"});
  b.node("Mul", {"a", "d"}, {"c"});
  b.node("Identity", {"x"}, {"same"});
  Graph g = optimized(b.g);
  expect_same_outputs(b.g, g);
  EXPECT_EQ(g.nodes.size(), 2u);  // Add, and the Identity that keeps "same" a graph output
  EXPECT_TRUE(g.initializers.count("c"));
}

TEST(Optimize, SmallCnnEndToEnd) {
  // Conv-BN-Relu, Conv-BN + residual + Relu, global pool, flatten, MatMul+Add, Identity out.
  Builder b;
  b.input("x", {1, 3, 8, 8}).output("out", {1, 5});
  b.weight("w1", {4, 3, 3, 3});
  b.node("Conv", {"x", "w1"}, {"c1"}).attributes["pads"] = attr_ints({1, 1, 1, 1});
  add_bn(b, "c1", "b1", 4);
  b.node("Relu", {"b1"}, {"r1"});
  b.weight("w2", {4, 4, 3, 3}).weight("bias2", {4});
  b.node("Conv", {"r1", "w2", "bias2"}, {"c2"}).attributes["pads"] = attr_ints({1, 1, 1, 1});
  add_bn(b, "c2", "b2", 4);
  b.node("Add", {"b2", "r1"}, {"s"});
  b.node("Relu", {"s"}, {"r2"});
  b.node("GlobalAveragePool", {"r2"}, {"p"});
  b.node("Flatten", {"p"}, {"f"});
  b.weight("fw", {4, 5}).weight("fb", {5});
  b.node("MatMul", {"f", "fw"}, {"mm"});
  b.node("Add", {"mm", "fb"}, {"logits"});
  b.node("Identity", {"logits"}, {"out"});
  for (auto* v : {"c1", "b1", "r1", "c2", "b2", "s", "r2"}) b.shape(v, {1, 4, 8, 8});
  b.shape("p", {1, 4, 1, 1}).shape("f", {1, 4}).shape("mm", {1, 5}).shape("logits", {1, 5});
  Graph g = optimized(b.g);
  expect_same_outputs(b.g, g);
  EXPECT_EQ(g.nodes.size(), 5u);
  EXPECT_EQ(count_op(g, "FusedConv"), 2);
  EXPECT_EQ(count_op(g, "Gemm"), 1);
  EXPECT_EQ(count_op(g, "BatchNormalization"), 0);
  EXPECT_EQ(count_op(g, "Relu"), 0);
  EXPECT_EQ(g.nodes.back().outputs[0], "out");
}

}  // namespace
}  // namespace pith
