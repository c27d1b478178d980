// Tests for the tensor_ops reference kernels (shape_ops.cpp, data_movement.cpp,
// gather_scatter.cpp, sort_ops.cpp, reduce.cpp, control_flow.cpp, linalg.cpp): the
// tricky corners of the ONNX spec and the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "runtime/kernel.h"
#include "runtime/session.h"

namespace pith {
namespace {

Attribute int_attr(int64_t v) {
  Attribute a;
  a.kind = Attribute::Kind::Int;
  a.i = v;
  return a;
}
Attribute ints_attr(std::vector<int64_t> v) {
  Attribute a;
  a.kind = Attribute::Kind::Ints;
  a.ints = std::move(v);
  return a;
}
Attribute string_attr(std::string v) {
  Attribute a;
  a.kind = Attribute::Kind::String;
  a.s = std::move(v);
  return a;
}

// One node called directly through its registered kernel (no subgraphs).
struct Call {
  Node node;
  int64_t opset;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;

  Call(const std::string& op, std::vector<Tensor> ins, int64_t opset_ = 17, size_t n_out = 1)
      : opset(opset_), inputs(std::move(ins)) {
    node.op_type = op;
    node.name = "t";
    for (size_t i = 0; i < inputs.size(); ++i) node.inputs.push_back(inputs[i].defined() ? "in" + std::to_string(i) : "");
    for (size_t i = 0; i < n_out; ++i) node.outputs.push_back("out" + std::to_string(i));
  }
  Call& set(const std::string& key, Attribute a) {
    node.attributes[key] = std::move(a);
    return *this;
  }
  std::vector<Tensor> run() {
    KernelFn fn = find_kernel("", node.op_type);
    if (!fn) throw std::runtime_error("no kernel registered for " + node.op_type);
    std::vector<const Tensor*> ptrs;
    for (auto& t : inputs) ptrs.push_back(t.defined() ? &t : nullptr);
    outputs.assign(node.outputs.size(), Tensor());
    KernelContext ctx(node, opset, ptrs, outputs, nullptr);
    fn(ctx);
    return outputs;
  }
  Tensor run0() { return run()[0]; }
};

Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }
Tensor i64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector<int64_t>(v, std::move(s)); }
Tensor i64v(std::vector<int64_t> v) {
  Shape s{int64_t(v.size())};
  return Tensor::from_vector<int64_t>(v, s);
}

std::vector<float> floats(const Tensor& t) { return t.to_float_vector(); }
std::vector<int64_t> ints(const Tensor& t) { return t.to_int64_vector(); }

// Expects a pith::Error whose message contains every fragment.
template <typename F>
void expect_error(F&& f, std::vector<std::string> fragments) {
  try {
    f();
    ADD_FAILURE() << "expected a pith::Error";
  } catch (const Error& e) {
    std::string msg = e.what();
    for (auto& frag : fragments) EXPECT_NE(msg.find(frag), std::string::npos) << "message: " << msg;
  }
}

// ---- shape ops ----

TEST(TensorOpsShape, ReshapeZeroCopiesAndMinusOneInfers) {
  Tensor x(DType::Float32, {2, 3, 4});
  Tensor y = Call("Reshape", {x, i64v({0, -1})}, 14).run0();
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  // allowzero: a 0 is a real zero-size dimension
  Tensor empty(DType::Float32, {0, 3});
  Tensor z = Call("Reshape", {empty, i64v({3, 0})}, 14).set("allowzero", int_attr(1)).run0();
  EXPECT_EQ(z.shape(), (Shape{3, 0}));
  // opset < 5 takes the shape attribute
  Tensor w = Call("Reshape", {x}, 4).set("shape", ints_attr({4, -1})).run0();
  EXPECT_EQ(w.shape(), (Shape{4, 6}));
}

TEST(TensorOpsShape, ReshapeRejectsBadShapes) {
  Tensor x(DType::Float32, {2, 3});
  expect_error([&] { Call("Reshape", {x, i64v({-1, -1})}).run(); }, {"more than one -1"});
  expect_error([&] { Call("Reshape", {x, i64v({4, 2})}).run(); }, {"cannot reshape", "[2, 3]"});
}

TEST(TensorOpsShape, SqueezeUnsqueezeAttributeBeforeOpset13InputAfter) {
  Tensor x(DType::Float32, {3, 4});
  EXPECT_EQ(Call("Unsqueeze", {x}, 11).set("axes", ints_attr({0, -1})).run0().shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(Call("Unsqueeze", {x, i64v({1})}, 13).run0().shape(), (Shape{3, 1, 4}));
  Tensor y(DType::Float32, {1, 3, 1});
  EXPECT_EQ(Call("Squeeze", {y}, 13).run0().shape(), (Shape{3}));
  EXPECT_EQ(Call("Squeeze", {y, i64v({-1})}, 13).run0().shape(), (Shape{1, 3}));
  expect_error([&] { Call("Squeeze", {y, i64v({1})}, 13).run(); }, {"cannot squeeze axis 1"});
  expect_error([&] { Call("Unsqueeze", {x, i64v({5})}, 13).run(); }, {"axis 5 is out of range"});
}

TEST(TensorOpsShape, ShapeStartEndClampAndDropoutMask) {
  Tensor x(DType::Float32, {2, 3, 4, 5});
  Tensor s = Call("Shape", {x}, 15).set("start", int_attr(-10)).set("end", int_attr(-1)).run0();
  EXPECT_EQ(ints(s), (std::vector<int64_t>{2, 3, 4}));
  auto outs = Call("Dropout", {f32({1, 2}, {2}), Tensor::scalar<float>(0.5f)}, 13, 2).run();
  EXPECT_EQ(floats(outs[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(outs[1].dtype(), DType::Bool);
  EXPECT_TRUE(outs[1].data<bool>()[0] && outs[1].data<bool>()[1]);
}

// ---- data movement ----

TEST(TensorOpsData, SliceNegativeStepsAndClamping) {
  Tensor x = f32({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10});
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  // from the end to the start, every second element
  Tensor y = Call("Slice", {x, i64v({big}), i64v({small}), i64v({0}), i64v({-2})}, 13).run0();
  EXPECT_EQ(floats(y), (std::vector<float>{9, 7, 5, 3, 1}));
  Tensor z = Call("Slice", {x, i64v({-3}), i64v({big})}, 13).run0();
  EXPECT_EQ(floats(z), (std::vector<float>{7, 8, 9}));
  Tensor e = Call("Slice", {x, i64v({20}), i64v({30})}, 13).run0();
  EXPECT_EQ(e.shape(), (Shape{0}));
  // opset < 10: attributes
  Tensor m = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor a = Call("Slice", {m}, 9).set("starts", ints_attr({1})).set("ends", ints_attr({3})).set("axes", ints_attr({1})).run0();
  EXPECT_EQ(floats(a), (std::vector<float>{2, 3, 5, 6}));
  expect_error([&] { Call("Slice", {x, i64v({0}), i64v({1}), i64v({0}), i64v({0})}, 13).run(); }, {"step"});
}

TEST(TensorOpsData, TransposeSplitConcat) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(floats(Call("Transpose", {x}).run0()), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  expect_error([&] { Call("Transpose", {x}).set("perm", ints_attr({0, 0})).run(); }, {"repeats axis"});
  auto parts = Call("Split", {x, i64v({1, 2})}, 13, 2).set("axis", int_attr(1)).run();
  EXPECT_EQ(floats(parts[0]), (std::vector<float>{1, 4}));
  EXPECT_EQ(floats(parts[1]), (std::vector<float>{2, 3, 5, 6}));
  auto old = Call("Split", {x}, 11, 3).set("axis", int_attr(1)).run();
  EXPECT_EQ(floats(old[2]), (std::vector<float>{3, 6}));
  expect_error([&] { Call("Split", {x, i64v({1, 1})}, 13, 2).set("axis", int_attr(1)).run(); }, {"sum to 2"});
  Tensor c = Call("Concat", {x, f32({7, 8}, {2, 1})}).set("axis", int_attr(-1)).run0();
  EXPECT_EQ(floats(c), (std::vector<float>{1, 2, 3, 7, 4, 5, 6, 8}));
  expect_error([&] { Call("Concat", {x, f32({7, 8}, {1, 2})}).set("axis", int_attr(1)).run(); }, {"input 1"});
}

TEST(TensorOpsData, TopKTiesPreferSmallerIndexAndUniqueUnsorted) {
  Tensor x = f32({1, 3, 3, 2, 3}, {5});
  auto o = Call("TopK", {x, i64v({2})}, 11, 2).run();
  EXPECT_EQ(floats(o[0]), (std::vector<float>{3, 3}));
  EXPECT_EQ(ints(o[1]), (std::vector<int64_t>{1, 2}));
  auto s = Call("TopK", {x, i64v({3})}, 11, 2).set("largest", int_attr(0)).run();
  EXPECT_EQ(ints(s[1]), (std::vector<int64_t>{0, 3, 1}));
  expect_error([&] { Call("TopK", {x, i64v({6})}, 11, 2).run(); }, {"k = 6"});
  auto u = Call("Unique", {f32({2, 1, 2, 3, 1}, {5})}, 11, 4).set("sorted", int_attr(0)).run();
  EXPECT_EQ(floats(u[0]), (std::vector<float>{2, 1, 3}));
  EXPECT_EQ(ints(u[1]), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(ints(u[2]), (std::vector<int64_t>{0, 1, 0, 2, 1}));
  EXPECT_EQ(ints(u[3]), (std::vector<int64_t>{2, 2, 1}));
}

TEST(TensorOpsData, CumSumRangeTrilu) {
  Tensor x = f32({1, 2, 3}, {3});
  Tensor c = Call("CumSum", {x, Tensor::scalar<int64_t>(0)}).set("exclusive", int_attr(1)).set("reverse", int_attr(1)).run0();
  EXPECT_EQ(floats(c), (std::vector<float>{5, 3, 0}));
  Tensor r = Call("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4), Tensor::scalar<int32_t>(-3)}).run0();
  EXPECT_EQ(ints(r), (std::vector<int64_t>{10, 7}));
  expect_error([&] { Call("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(1), Tensor::scalar<float>(0)}).run(); },
               {"delta"});
  Tensor m = f32({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  EXPECT_EQ(floats(Call("Trilu", {m, Tensor::scalar<int64_t>(-1)}).set("upper", int_attr(0)).run0()),
            (std::vector<float>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

// ---- gather / scatter ----

TEST(TensorOpsIndex, GatherWrapsNegativeAndRejectsOutOfRange) {
  Tensor data = f32({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor y = Call("Gather", {data, i64v({-1, 0})}).run0();
  EXPECT_EQ(floats(y), (std::vector<float>{5, 6, 1, 2}));
  expect_error([&] { Call("Gather", {data, i64v({3})}).run(); }, {"index 3", "[-3, 2]"});
  expect_error([&] { Call("Gather", {data, i64v({-4})}).run(); }, {"index -4", "[-3, 2]"});
  expect_error([&] { Call("GatherElements", {data, i64({0, 2}, {1, 2})}).set("axis", int_attr(1)).run(); },
               {"index 2", "[-2, 1]"});
}

TEST(TensorOpsIndex, GatherNDBatchDims) {
  Tensor data = f32({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  Tensor y = Call("GatherND", {data, i64({1, 0}, {2, 1})}).set("batch_dims", int_attr(1)).run0();
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(floats(y), (std::vector<float>{2, 3, 4, 5}));
  expect_error([&] { Call("GatherND", {data, i64({0, 5}, {1, 2})}).run(); }, {"index 5", "[-2, 1]"});
}

TEST(TensorOpsIndex, ScatterReductionsAndErrors) {
  Tensor data = f32({1, 1, 1}, {3});
  Tensor y = Call("ScatterElements", {data, i64v({0, 0, -1}), f32({2, 3, 4}, {3})}, 16)
                 .set("reduction", string_attr("add"))
                 .run0();
  EXPECT_EQ(floats(y), (std::vector<float>{6, 1, 5}));
  expect_error([&] { Call("ScatterElements", {data, i64v({3}), f32({1}, {1})}).run(); }, {"index 3", "[-3, 2]"});
  expect_error([&] { Call("Scatter", {data, i64v({-4}), f32({1}, {1})}, 9).run(); }, {"index -4"});
  Tensor m = Call("ScatterND", {data, i64({1, 1}, {2, 1}), f32({2, 5}, {2})}, 16)
                 .set("reduction", string_attr("mul"))
                 .run0();
  EXPECT_EQ(floats(m), (std::vector<float>{1, 10, 1}));
  expect_error([&] { Call("ScatterND", {data, i64({7}, {1, 1}), f32({2}, {1})}).run(); }, {"index 7", "[-3, 2]"});
}

TEST(TensorOpsIndex, OneHotNegativeIndices) {
  Tensor y = Call("OneHot", {i64v({-1, 1}), Tensor::scalar<int64_t>(3), f32({0, 5}, {2})}).run0();
  EXPECT_EQ(floats(y), (std::vector<float>{0, 0, 5, 0, 5, 0}));
}

// ---- reductions ----

TEST(TensorOpsReduce, AxesInputNoopAndEmptyReductions) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(floats(Call("ReduceSum", {x, i64v({-1})}, 13).run0()), (std::vector<float>{6, 15}));
  Tensor keep = Call("ReduceSum", {x, i64v({0})}, 13).run0();
  EXPECT_EQ(keep.shape(), (Shape{1, 3}));
  Tensor noop = Call("ReduceSum", {x, Tensor(DType::Int64, {0})}, 13).set("noop_with_empty_axes", int_attr(1)).run0();
  EXPECT_EQ(noop.shape(), x.shape());
  Tensor all = Call("ReduceMean", {x}, 13).set("keepdims", int_attr(0)).run0();
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_FLOAT_EQ(floats(all)[0], 3.5f);
  Tensor empty(DType::Float32, {2, 0});
  EXPECT_EQ(floats(Call("ReduceSum", {empty, i64v({1})}, 13).run0()), (std::vector<float>{0, 0}));
  EXPECT_EQ(floats(Call("ReduceProd", {empty}, 13).set("axes", ints_attr({1})).run0()), (std::vector<float>{1, 1}));
  float mx = floats(Call("ReduceMax", {empty}, 13).set("axes", ints_attr({1})).run0())[0];
  EXPECT_TRUE(std::isinf(mx) && mx < 0);
  expect_error([&] { Call("ReduceMin", {x}, 13).set("axes", ints_attr({2})).run(); }, {"axis 2 is out of range"});
}

TEST(TensorOpsReduce, HalfPrecisionPromotesAndDemotes) {
  Tensor h(DType::Float16, {2, 2});
  const float vals[] = {1.5f, 2.f, -3.f, 0.25f};
  for (int i = 0; i < 4; ++i) h.data<uint16_t>()[i] = float_to_half(vals[i]);
  Tensor y = Call("ReduceSum", {h, i64v({1})}, 13).set("keepdims", int_attr(0)).run0();
  ASSERT_EQ(y.dtype(), DType::Float16);
  EXPECT_EQ(floats(y), (std::vector<float>{3.5f, -2.75f}));
  Tensor t = Call("TopK", {h, i64v({1})}, 11, 2).run0();
  EXPECT_EQ(floats(t), (std::vector<float>{2.f, 0.25f}));
}

TEST(TensorOpsReduce, ArgMaxSelectLastIndex) {
  Tensor x = f32({2, 5, 5, 1}, {4});
  EXPECT_EQ(ints(Call("ArgMax", {x}).run0()), (std::vector<int64_t>{1}));
  EXPECT_EQ(ints(Call("ArgMax", {x}).set("select_last_index", int_attr(1)).run0()), (std::vector<int64_t>{2}));
  EXPECT_EQ(Call("ArgMin", {x}).set("keepdims", int_attr(0)).run0().shape(), Shape{});
  expect_error([&] { Call("ArgMax", {Tensor(DType::Float32, {0})}).run(); }, {"empty axis"});
}

// ---- control flow ----

ValueInfo info(const std::string& name, DType t) {
  ValueInfo v;
  v.name = name;
  v.dtype = t;
  return v;
}

Node make_node(const std::string& op, std::vector<std::string> ins, std::vector<std::string> outs) {
  Node n;
  n.op_type = op;
  n.name = op + "_" + outs[0];
  n.inputs = std::move(ins);
  n.outputs = std::move(outs);
  return n;
}

Attribute graph_attr(Graph g) {
  Attribute a;
  a.kind = Attribute::Kind::Graph;
  a.g = std::make_shared<Graph>(std::move(g));
  return a;
}

// Loop body: x doubles in length by concatenation; the scan output is the length seen.
Graph loop_body(bool broken) {
  Graph b;
  b.name = "body";
  b.opset = 17;
  b.inputs = {info("iter", DType::Int64), info("cond_in", DType::Bool), info("x_in", DType::Float32)};
  Node cat = make_node("Concat", {"x_in", "x_in"}, {"x_out"});
  cat.attributes["axis"] = int_attr(0);
  b.nodes = {make_node("Identity", {"cond_in"}, {"cond_out"}), cat, make_node("Shape", {"x_in"}, {"len"})};
  b.outputs = {info("cond_out", DType::Bool), info("x_out", DType::Float32)};
  if (!broken) b.outputs.push_back(info("len", DType::Int64));
  return b;
}

std::shared_ptr<Graph> loop_graph(bool broken) {
  auto g = std::make_shared<Graph>();
  g->opset = 17;
  g->inputs = {info("M", DType::Int64), info("x", DType::Float32)};
  Node loop = make_node("Loop", {"M", "", "x"}, {"x_final", "lens"});
  loop.attributes["body"] = graph_attr(loop_body(broken));
  g->nodes = {loop};
  g->outputs = {info("x_final", DType::Float32), info("lens", DType::Int64)};
  return g;
}

TEST(TensorOpsControl, LoopCarriesValuesAndStacksScanOutputs) {
  Session s(loop_graph(false));
  auto out = s.run({{"M", Tensor::scalar<int64_t>(3)}, {"x", f32({1}, {1})}});
  EXPECT_EQ(out[0].shape(), (Shape{8}));
  EXPECT_EQ(out[1].shape(), (Shape{3, 1}));
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{1, 2, 4}));
  // zero iterations: carried value unchanged, empty scan output
  auto none = s.run({{"M", Tensor::scalar<int64_t>(0)}, {"x", f32({1}, {1})}});
  EXPECT_EQ(none[0].shape(), (Shape{1}));
  EXPECT_EQ(none[1].numel(), 0);
}

TEST(TensorOpsControl, LoopRejectsMismatchedBody) {
  Session s(loop_graph(true));
  expect_error([&] { s.run({{"M", Tensor::scalar<int64_t>(2)}, {"x", f32({1}, {1})}}); }, {"Loop", "body"});
}

TEST(TensorOpsControl, IfRunsTheChosenBranchWithOuterScope) {
  auto g = std::make_shared<Graph>();
  g->opset = 17;
  g->inputs = {info("c", DType::Bool), info("x", DType::Float32)};
  Graph then_g, else_g;
  then_g.name = "then";
  then_g.nodes = {make_node("Shape", {"x"}, {"t_out"})};
  then_g.outputs = {info("t_out", DType::Int64)};
  else_g.name = "else";
  else_g.nodes = {make_node("Size", {"x"}, {"e_out"})};
  else_g.outputs = {info("e_out", DType::Int64)};
  Node n = make_node("If", {"c"}, {"y"});
  n.attributes["then_branch"] = graph_attr(then_g);
  n.attributes["else_branch"] = graph_attr(else_g);
  g->nodes = {n};
  g->outputs = {info("y", DType::Int64)};
  Session s(g);
  Tensor x(DType::Float32, {2, 3});
  EXPECT_EQ(ints(s.run({{"c", Tensor::scalar<bool>(true)}, {"x", x}})[0]), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ints(s.run({{"c", Tensor::scalar<bool>(false)}, {"x", x}})[0]), (std::vector<int64_t>{6}));
  expect_error([&] { s.run({{"c", Tensor::from_vector<bool>({true, false}, {2})}, {"x", x}}); }, {"condition"});
}

TEST(TensorOpsMisc, Determinant) {
  Tensor a = Call("Det", {f32({1, 2, 3, 4}, {2, 2})}).run0();
  EXPECT_NEAR(floats(a)[0], -2.f, 1e-5);
  Tensor b = Call("Det", {f32({0, 1, 0, 2, 0, 0, 0, 0, 3}, {1, 3, 3})}).run0();
  EXPECT_NEAR(floats(b)[0], -6.f, 1e-5);
  expect_error([&] { Call("Det", {f32({1, 2}, {1, 2})}).run(); }, {"square"});
}

}  // namespace
}  // namespace pith
