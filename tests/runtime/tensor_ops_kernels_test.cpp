// Tests for the tensor_ops reference kernels (shape_ops.cpp, data_movement.cpp,
// gather_scatter.cpp, sort_ops.cpp, reduce.cpp, control_flow.cpp, linalg.cpp): the
// tricky corners of the ONNX spec and the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <memory>

#include "runtime/kernel.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

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
  Tensor y = OpRunner("Reshape", {x, i64v({0, -1})}, 14).go();
  EXPECT_EQ(y.shape(), (Shape{2, 12}));
  // allowzero: a 0 is a real zero-size dimension
  Tensor empty(DType::Float32, {0, 3});
  Tensor z = OpRunner("Reshape", {empty, i64v({3, 0})}, 14).i("allowzero", 1).go();
  EXPECT_EQ(z.shape(), (Shape{3, 0}));
  // opset < 5 takes the shape attribute
  Tensor w = OpRunner("Reshape", {x}, 4).ints("shape", {4, -1}).go();
  EXPECT_EQ(w.shape(), (Shape{4, 6}));
}

TEST(TensorOpsShape, ReshapeRejectsBadShapes) {
  Tensor x(DType::Float32, {2, 3});
  expect_error([&] { OpRunner("Reshape", {x, i64v({-1, -1})}).run(); }, {"more than one -1"});
  expect_error([&] { OpRunner("Reshape", {x, i64v({4, 2})}).run(); }, {"cannot reshape", "[2, 3]"});
}

TEST(TensorOpsShape, SqueezeUnsqueezeAttributeBeforeOpset13InputAfter) {
  Tensor x(DType::Float32, {3, 4});
  EXPECT_EQ(OpRunner("Unsqueeze", {x}, 11).ints("axes", {0, -1}).go().shape(), (Shape{1, 3, 4, 1}));
  EXPECT_EQ(OpRunner("Unsqueeze", {x, i64v({1})}, 13).go().shape(), (Shape{3, 1, 4}));
  Tensor y(DType::Float32, {1, 3, 1});
  EXPECT_EQ(OpRunner("Squeeze", {y}, 13).go().shape(), (Shape{3}));
  EXPECT_EQ(OpRunner("Squeeze", {y, i64v({-1})}, 13).go().shape(), (Shape{1, 3}));
  expect_error([&] { OpRunner("Squeeze", {y, i64v({1})}, 13).run(); }, {"cannot squeeze axis 1"});
  expect_error([&] { OpRunner("Unsqueeze", {x, i64v({5})}, 13).run(); }, {"axis 5 is out of range"});
}

TEST(TensorOpsShape, ShapeStartEndClampAndDropoutMask) {
  Tensor x(DType::Float32, {2, 3, 4, 5});
  Tensor s = OpRunner("Shape", {x}, 15).i("start", -10).i("end", -1).go();
  EXPECT_EQ(ints(s), (std::vector<int64_t>{2, 3, 4}));
  auto outs = OpRunner("Dropout", {f32({1, 2}, {2}), Tensor::scalar<float>(0.5f)}, 13, 2).run();
  EXPECT_EQ(floats(outs[0]), (std::vector<float>{1, 2}));
  EXPECT_EQ(outs[1].dtype(), DType::Bool);
  EXPECT_TRUE(outs[1].data<bool>()[0] && outs[1].data<bool>()[1]);
}

// ---- data movement ----

TEST(TensorOpsData, SliceNegativeStepsAndClamping) {
  Tensor x = f32({0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, {10});
  const int64_t big = std::numeric_limits<int64_t>::max(), small = std::numeric_limits<int64_t>::min();
  // from the end to the start, every second element
  Tensor y = OpRunner("Slice", {x, i64v({big}), i64v({small}), i64v({0}), i64v({-2})}, 13).go();
  EXPECT_EQ(floats(y), (std::vector<float>{9, 7, 5, 3, 1}));
  Tensor z = OpRunner("Slice", {x, i64v({-3}), i64v({big})}, 13).go();
  EXPECT_EQ(floats(z), (std::vector<float>{7, 8, 9}));
  Tensor e = OpRunner("Slice", {x, i64v({20}), i64v({30})}, 13).go();
  EXPECT_EQ(e.shape(), (Shape{0}));
  // opset < 10: attributes
  Tensor m = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor a = OpRunner("Slice", {m}, 9).ints("starts", {1}).ints("ends", {3}).ints("axes", {1}).go();
  EXPECT_EQ(floats(a), (std::vector<float>{2, 3, 5, 6}));
  expect_error([&] { OpRunner("Slice", {x, i64v({0}), i64v({1}), i64v({0}), i64v({0})}, 13).run(); }, {"step"});
}

TEST(TensorOpsData, TransposeSplitConcat) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(floats(OpRunner("Transpose", {x}).go()), (std::vector<float>{1, 4, 2, 5, 3, 6}));
  expect_error([&] { OpRunner("Transpose", {x}).ints("perm", {0, 0}).run(); }, {"repeats axis"});
  auto parts = OpRunner("Split", {x, i64v({1, 2})}, 13, 2).i("axis", 1).run();
  EXPECT_EQ(floats(parts[0]), (std::vector<float>{1, 4}));
  EXPECT_EQ(floats(parts[1]), (std::vector<float>{2, 3, 5, 6}));
  auto old = OpRunner("Split", {x}, 11, 3).i("axis", 1).run();
  EXPECT_EQ(floats(old[2]), (std::vector<float>{3, 6}));
  expect_error([&] { OpRunner("Split", {x, i64v({1, 1})}, 13, 2).i("axis", 1).run(); }, {"sum to 2"});
  Tensor c = OpRunner("Concat", {x, f32({7, 8}, {2, 1})}).i("axis", -1).go();
  EXPECT_EQ(floats(c), (std::vector<float>{1, 2, 3, 7, 4, 5, 6, 8}));
  expect_error([&] { OpRunner("Concat", {x, f32({7, 8}, {1, 2})}).i("axis", 1).run(); }, {"input 1"});
}

TEST(TensorOpsData, TopKTiesPreferSmallerIndexAndUniqueUnsorted) {
  Tensor x = f32({1, 3, 3, 2, 3}, {5});
  auto o = OpRunner("TopK", {x, i64v({2})}, 11, 2).run();
  EXPECT_EQ(floats(o[0]), (std::vector<float>{3, 3}));
  EXPECT_EQ(ints(o[1]), (std::vector<int64_t>{1, 2}));
  auto s = OpRunner("TopK", {x, i64v({3})}, 11, 2).i("largest", 0).run();
  EXPECT_EQ(ints(s[1]), (std::vector<int64_t>{0, 3, 1}));
  expect_error([&] { OpRunner("TopK", {x, i64v({6})}, 11, 2).run(); }, {"k = 6"});
  auto u = OpRunner("Unique", {f32({2, 1, 2, 3, 1}, {5})}, 11, 4).i("sorted", 0).run();
  EXPECT_EQ(floats(u[0]), (std::vector<float>{2, 1, 3}));
  EXPECT_EQ(ints(u[1]), (std::vector<int64_t>{0, 1, 3}));
  EXPECT_EQ(ints(u[2]), (std::vector<int64_t>{0, 1, 0, 2, 1}));
  EXPECT_EQ(ints(u[3]), (std::vector<int64_t>{2, 2, 1}));
}

TEST(TensorOpsData, CumSumRangeTrilu) {
  Tensor x = f32({1, 2, 3}, {3});
  Tensor c = OpRunner("CumSum", {x, Tensor::scalar<int64_t>(0)}).i("exclusive", 1).i("reverse", 1).go();
  EXPECT_EQ(floats(c), (std::vector<float>{5, 3, 0}));
  Tensor r =
      OpRunner("Range", {Tensor::scalar<int32_t>(10), Tensor::scalar<int32_t>(4), Tensor::scalar<int32_t>(-3)}).go();
  EXPECT_EQ(ints(r), (std::vector<int64_t>{10, 7}));
  expect_error(
      [&] {
        OpRunner("Range", {Tensor::scalar<float>(0), Tensor::scalar<float>(1), Tensor::scalar<float>(0)}).run();
      },
      {"delta"});
  Tensor m = f32({1, 2, 3, 4, 5, 6, 7, 8, 9}, {3, 3});
  EXPECT_EQ(floats(OpRunner("Trilu", {m, Tensor::scalar<int64_t>(-1)}).i("upper", 0).go()),
            (std::vector<float>{0, 0, 0, 4, 0, 0, 7, 8, 0}));
}

// ---- gather / scatter ----

TEST(TensorOpsIndex, GatherWrapsNegativeAndRejectsOutOfRange) {
  Tensor data = f32({1, 2, 3, 4, 5, 6}, {3, 2});
  Tensor y = OpRunner("Gather", {data, i64v({-1, 0})}).go();
  EXPECT_EQ(floats(y), (std::vector<float>{5, 6, 1, 2}));
  expect_error([&] { OpRunner("Gather", {data, i64v({3})}).run(); }, {"index 3", "[-3, 2]"});
  expect_error([&] { OpRunner("Gather", {data, i64v({-4})}).run(); }, {"index -4", "[-3, 2]"});
  expect_error(
      [&] {
        OpRunner("GatherElements", {data, i64({0, 2}, {1, 2})}).i("axis", 1).run();
      },
      {"index 2", "[-2, 1]"});
}

TEST(TensorOpsIndex, GatherNDBatchDims) {
  Tensor data = f32({0, 1, 2, 3, 4, 5, 6, 7}, {2, 2, 2});
  Tensor y = OpRunner("GatherND", {data, i64({1, 0}, {2, 1})}).i("batch_dims", 1).go();
  EXPECT_EQ(y.shape(), (Shape{2, 2}));
  EXPECT_EQ(floats(y), (std::vector<float>{2, 3, 4, 5}));
  expect_error([&] { OpRunner("GatherND", {data, i64({0, 5}, {1, 2})}).run(); }, {"index 5", "[-2, 1]"});
}

TEST(TensorOpsIndex, ScatterReductionsAndErrors) {
  Tensor data = f32({1, 1, 1}, {3});
  Tensor y = OpRunner("ScatterElements", {data, i64v({0, 0, -1}), f32({2, 3, 4}, {3})}, 16).s("reduction", "add").go();
  EXPECT_EQ(floats(y), (std::vector<float>{6, 1, 5}));
  expect_error([&] { OpRunner("ScatterElements", {data, i64v({3}), f32({1}, {1})}).run(); }, {"index 3", "[-3, 2]"});
  expect_error([&] { OpRunner("Scatter", {data, i64v({-4}), f32({1}, {1})}, 9).run(); }, {"index -4"});
  Tensor m = OpRunner("ScatterND", {data, i64({1, 1}, {2, 1}), f32({2, 5}, {2})}, 16).s("reduction", "mul").go();
  EXPECT_EQ(floats(m), (std::vector<float>{1, 10, 1}));
  expect_error([&] { OpRunner("ScatterND", {data, i64({7}, {1, 1}), f32({2}, {1})}).run(); }, {"index 7", "[-3, 2]"});
}

TEST(TensorOpsIndex, OneHotNegativeIndices) {
  Tensor y = OpRunner("OneHot", {i64v({-1, 1}), Tensor::scalar<int64_t>(3), f32({0, 5}, {2})}).go();
  EXPECT_EQ(floats(y), (std::vector<float>{0, 0, 5, 0, 5, 0}));
}

// ---- reductions ----

TEST(TensorOpsReduce, AxesInputNoopAndEmptyReductions) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(floats(OpRunner("ReduceSum", {x, i64v({-1})}, 13).go()), (std::vector<float>{6, 15}));
  Tensor keep = OpRunner("ReduceSum", {x, i64v({0})}, 13).go();
  EXPECT_EQ(keep.shape(), (Shape{1, 3}));
  Tensor noop = OpRunner("ReduceSum", {x, Tensor(DType::Int64, {0})}, 13).i("noop_with_empty_axes", 1).go();
  EXPECT_EQ(noop.shape(), x.shape());
  Tensor all = OpRunner("ReduceMean", {x}, 13).i("keepdims", 0).go();
  EXPECT_EQ(all.shape(), Shape{});
  EXPECT_FLOAT_EQ(floats(all)[0], 3.5f);
  Tensor empty(DType::Float32, {2, 0});
  EXPECT_EQ(floats(OpRunner("ReduceSum", {empty, i64v({1})}, 13).go()), (std::vector<float>{0, 0}));
  EXPECT_EQ(floats(OpRunner("ReduceProd", {empty}, 13).ints("axes", {1}).go()), (std::vector<float>{1, 1}));
  float mx = floats(OpRunner("ReduceMax", {empty}, 13).ints("axes", {1}).go())[0];
  EXPECT_TRUE(std::isinf(mx) && mx < 0);
  expect_error([&] { OpRunner("ReduceMin", {x}, 13).ints("axes", {2}).run(); }, {"axis 2 is out of range"});
}

TEST(TensorOpsReduce, HalfPrecisionPromotesAndDemotes) {
  Tensor h(DType::Float16, {2, 2});
  const float vals[] = {1.5f, 2.f, -3.f, 0.25f};
  for (int i = 0; i < 4; ++i) h.data<uint16_t>()[i] = float_to_half(vals[i]);
  Tensor y = OpRunner("ReduceSum", {h, i64v({1})}, 13).i("keepdims", 0).go();
  ASSERT_EQ(y.dtype(), DType::Float16);
  EXPECT_EQ(floats(y), (std::vector<float>{3.5f, -2.75f}));
  Tensor t = OpRunner("TopK", {h, i64v({1})}, 11, 2).go();
  EXPECT_EQ(floats(t), (std::vector<float>{2.f, 0.25f}));
}

TEST(TensorOpsReduce, ArgMaxSelectLastIndex) {
  Tensor x = f32({2, 5, 5, 1}, {4});
  EXPECT_EQ(ints(OpRunner("ArgMax", {x}).go()), (std::vector<int64_t>{1}));
  EXPECT_EQ(ints(OpRunner("ArgMax", {x}).i("select_last_index", 1).go()), (std::vector<int64_t>{2}));
  EXPECT_EQ(OpRunner("ArgMin", {x}).i("keepdims", 0).go().shape(), Shape{});
  expect_error([&] { OpRunner("ArgMax", {Tensor(DType::Float32, {0})}).run(); }, {"empty axis"});
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

// Loop body: x doubles in length by concatenation; the scan output is the length seen.
Graph loop_body(bool broken) {
  Graph b;
  b.name = "body";
  b.opset = 17;
  b.inputs = {info("iter", DType::Int64), info("cond_in", DType::Bool), info("x_in", DType::Float32)};
  Node cat = make_node("Concat", {"x_in", "x_in"}, {"x_out"});
  cat.attributes["axis"] = attr_int(0);
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
  loop.attributes["body"] = attr_graph(loop_body(broken));
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

// Session::run with inputs by position: the same outputs as by name, written into the
// caller's vector (reused run after run), and the same checks: a wrong input count
// or type is an error that names it, and the Session stays usable.
TEST(TensorOpsControl, PositionalRunMatchesNamedRunAndChecksInputs) {
  Session s(loop_graph(false));
  const Tensor m = Tensor::scalar<int64_t>(3), x = f32({1}, {1});
  auto named = s.run({{"M", m}, {"x", x}});
  std::vector<Tensor> out;
  for (int i = 0; i < 2; ++i) {
    s.run({m, x}, out);
    ASSERT_EQ(out.size(), 2u);
    EXPECT_EQ(out[0].shape(), named[0].shape());
    EXPECT_EQ(ints(out[1]), ints(named[1]));
  }
  expect_error([&] { s.run({m}, out); }, {"expected 2 inputs, got 1"});
  expect_error([&] { s.run({x, x}, out); }, {"input 'M'", "element type"});
  s.run({m, x}, out);
  EXPECT_EQ(ints(out[1]), (std::vector<int64_t>{1, 2, 4}));
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
  n.attributes["then_branch"] = attr_graph(then_g);
  n.attributes["else_branch"] = attr_graph(else_g);
  g->nodes = {n};
  g->outputs = {info("y", DType::Int64)};
  Session s(g);
  Tensor x(DType::Float32, {2, 3});
  EXPECT_EQ(ints(s.run({{"c", Tensor::scalar<bool>(true)}, {"x", x}})[0]), (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(ints(s.run({{"c", Tensor::scalar<bool>(false)}, {"x", x}})[0]), (std::vector<int64_t>{6}));
  expect_error([&] { s.run({{"c", Tensor::from_vector<bool>({true, false}, {2})}, {"x", x}}); }, {"condition"});
}

// A Concat of NCHW tensors along channels (every dimension before the axis 1): the memory
// plan has the producers write straight into the output and the Concat copies only what
// is not in place: a repeated input, a graph input, an input already placed in another
// Concat, a Concat along a later axis. Nested Concats, a negative axis, and a placed
// input read again after the Concats (its space must stay reserved until then).
TEST(TensorOpsData, ConcatInputsAreWrittenInPlaceByTheMemoryPlan) {
  auto concat = [](std::vector<std::string> ins, const std::string& out, int64_t axis) {
    Node n = make_node("Concat", std::move(ins), {out});
    n.attributes["axis"] = attr_int(axis);
    return n;
  };
  auto g = std::make_shared<Graph>();
  g->opset = 17;
  g->inputs = {info("x", DType::Float32)};
  g->nodes = {make_node("Relu", {"x"}, {"a"}), make_node("Neg", {"x"}, {"b"}),  concat({"a", "b", "a", "x"}, "c", 1),
              concat({"c", "b"}, "d", -3),     make_node("Abs", {"d"}, {"dd"}), make_node("Exp", {"x"}, {"g"}),
              make_node("Neg", {"g"}, {"h"}),  concat({"g", "h"}, "i", 2),      make_node("Sigmoid", {"a"}, {"e"}),
              concat({"g", "h"}, "j", 1)};
  g->outputs = {info("dd", DType::Float32), info("i", DType::Float32), info("e", DType::Float32),
                info("j", DType::Float32),  info("b", DType::Float32), info("g", DType::Float32)};
  // x is 1x4xHx4: at H = 4 every input is 256 bytes and starts 64-byte aligned. From run 3
  // H = 2: every tensor would fit the slot planned for H = 4, but the Concats' ranges
  // would no longer be where their inputs lie, so that run takes the heap and the next
  // plans again (runs 4 and 5).
  Session s(g);
  for (int run = 0; run < 6; ++run) {
    const int64_t H = run < 3 ? 4 : 2, plane = H * 4;
    std::vector<float> xv(size_t(4 * plane));
    for (size_t k = 0; k < xv.size(); ++k) xv[k] = float(int(k % 9) - 4) * 0.5f;
    auto map = [&](float (*f)(float)) {
      std::vector<float> r;
      for (float v : xv) r.push_back(f(v));
      return r;
    };
    const auto relu = map([](float v) { return v > 0 ? v : 0.0f; }), neg = map([](float v) { return -v; });
    const auto ex = map([](float v) { return std::exp(v); });
    std::vector<float> dd, i, e, j;
    for (const std::vector<float>* part :
         std::initializer_list<const std::vector<float>*>{&relu, &neg, &relu, &xv, &neg})
      for (float v : *part) dd.push_back(std::fabs(v));
    for (int64_t ch = 0; ch < 4; ++ch) {
      for (int64_t k = 0; k < plane; ++k) i.push_back(ex[size_t(ch * plane + k)]);
      for (int64_t k = 0; k < plane; ++k) i.push_back(-ex[size_t(ch * plane + k)]);
    }
    for (float v : relu) e.push_back(1.0f / (1.0f + std::exp(-v)));
    j = ex;
    for (float v : ex) j.push_back(-v);

    auto out = s.run({{"x", f32(xv, {1, 4, H, 4})}});
    EXPECT_EQ(out[0].shape(), (Shape{1, 20, H, 4}));
    EXPECT_EQ(floats(out[0]), dd) << "run " << run;
    EXPECT_EQ(floats(out[1]), i) << "run " << run;
    const auto got_e = floats(out[2]);
    for (size_t k = 0; k < e.size(); ++k) EXPECT_NEAR(got_e[k], e[k], 1e-6) << "run " << run;
    EXPECT_EQ(floats(out[3]), j) << "run " << run;
    EXPECT_EQ(floats(out[4]), neg) << "run " << run;
    EXPECT_EQ(floats(out[5]), ex) << "run " << run;
    EXPECT_EQ(s.last_run_stats().used_arena, run != 0 && run != 3 && run != 4) << "run " << run;
    if (s.last_run_stats().used_arena) EXPECT_EQ(out[5].raw(), out[3].raw());  // g was written where j starts
  }
}

TEST(TensorOpsMisc, Determinant) {
  Tensor a = OpRunner("Det", {f32({1, 2, 3, 4}, {2, 2})}).go();
  EXPECT_NEAR(floats(a)[0], -2.f, 1e-5);
  Tensor b = OpRunner("Det", {f32({0, 1, 0, 2, 0, 0, 0, 0, 3}, {1, 3, 3})}).go();
  EXPECT_NEAR(floats(b)[0], -6.f, 1e-5);
  expect_error([&] { OpRunner("Det", {f32({1, 2}, {1, 2})}).run(); }, {"square"});
}

}  // namespace
}  // namespace pith
