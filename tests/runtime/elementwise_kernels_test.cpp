// Tests for the elementwise reference kernels (unary.cpp, binary.cpp, cast.cpp,
// softmax.cpp): tricky semantics (wrapping, rounding, broadcasting, opset changes)
// and the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/kernel.h"

namespace pith {
namespace {

// Runs one node through its registered kernel.
struct Op {
  Node node;
  int64_t opset = 17;
  std::vector<Tensor> ins;
  std::vector<Tensor> outs;

  Op(std::string op, std::vector<Tensor> inputs, int64_t opset_ = 17, size_t n_out = 1) : opset(opset_) {
    node.op_type = std::move(op);
    node.name = "n";
    ins = std::move(inputs);
    for (size_t i = 0; i < ins.size(); ++i) node.inputs.push_back(ins[i].defined() ? "i" + std::to_string(i) : "");
    for (size_t i = 0; i < n_out; ++i) node.outputs.push_back("o" + std::to_string(i));
  }
  Op& attr_i(const std::string& k, int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = v;
    node.attributes[k] = a;
    return *this;
  }
  Op& attr_f(const std::string& k, float v) {
    Attribute a;
    a.kind = Attribute::Kind::Float;
    a.f = v;
    node.attributes[k] = a;
    return *this;
  }
  Op& attr_s(const std::string& k, std::string v) {
    Attribute a;
    a.kind = Attribute::Kind::String;
    a.s = std::move(v);
    node.attributes[k] = a;
    return *this;
  }
  Tensor go() {
    KernelFn fn = find_kernel("", node.op_type);
    if (!fn) throw std::runtime_error("no kernel for " + node.op_type);
    std::vector<const Tensor*> ptrs;
    for (auto& t : ins) ptrs.push_back(t.defined() ? &t : nullptr);
    outs.assign(node.outputs.size(), Tensor());
    KernelContext ctx(node, opset, ptrs, outs, nullptr);
    fn(ctx);
    return outs[0];
  }
};

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

Tensor F(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }

// ---- unary ----

TEST(ElementwiseUnary, IntegerAbsAndNegWrapInsteadOfOverflowing) {
  const int32_t mn = std::numeric_limits<int32_t>::min();
  Tensor x = Tensor::from_vector<int32_t>({mn, -3, 4}, {3});
  EXPECT_EQ(values<int32_t>(Op("Abs", {x}).go()), (std::vector<int32_t>{mn, 3, 4}));
  EXPECT_EQ(values<int32_t>(Op("Neg", {x}).go()), (std::vector<int32_t>{mn, 3, -4}));
}

TEST(ElementwiseUnary, RoundIsHalfToEvenAndHalfTypesRoundTrip) {
  EXPECT_EQ(values<float>(Op("Round", {F({0.5f, 1.5f, 2.5f, -2.5f, 2.6f}, {5})}).go()),
            (std::vector<float>{0, 2, 2, -2, 3}));
  Tensor h = cast_tensor(F({-1.f, 2.f}, {2}), DType::Float16);
  Tensor y = Op("Relu", {h}).go();
  ASSERT_EQ(y.dtype(), DType::Float16);
  EXPECT_EQ(y.to_float_vector(), (std::vector<float>{0, 2}));
}

TEST(ElementwiseUnary, ClipBoundsMoveFromAttributesToInputsAtOpset11) {
  Tensor x = F({-5, 0, 5}, {3});
  Op old("Clip", {x}, 6);
  old.attr_f("min", -1).attr_f("max", 1);
  EXPECT_EQ(values<float>(old.go()), (std::vector<float>{-1, 0, 1}));
  // min > max: everything becomes max.
  EXPECT_EQ(values<float>(Op("Clip", {x, Tensor::scalar<float>(2), Tensor::scalar<float>(1)}).go()),
            (std::vector<float>{1, 1, 1}));
  // Integers, only max given.
  Tensor xi = Tensor::from_vector<int8_t>({-100, 100}, {2});
  EXPECT_EQ(values<int8_t>(Op("Clip", {xi, Tensor(), Tensor::scalar<int8_t>(7)}).go()),
            (std::vector<int8_t>{-100, 7}));
  EXPECT_THROW(Op("Clip", {x, F({1, 2}, {2})}).go(), Error);
}

TEST(ElementwiseUnary, IsInfHonoursDetectFlags) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = F({inf, -inf, 1.f, std::nanf("")}, {4});
  Op r("IsInf", {x});
  r.attr_i("detect_negative", 0);
  EXPECT_EQ(values<bool>(r.go()), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values<bool>(Op("IsNaN", {x}).go()), (std::vector<bool>{false, false, false, true}));
}

TEST(ElementwiseUnary, RejectsWrongTypes) {
  EXPECT_THROW(Op("Sqrt", {Tensor::from_vector<int32_t>({4}, {1})}).go(), Error);
  EXPECT_THROW(Op("Not", {F({1}, {1})}).go(), Error);
  EXPECT_THROW(Op("Neg", {Tensor::from_vector<uint8_t>({1}, {1})}).go(), Error);
}

// ---- binary ----

TEST(ElementwiseBinary, BroadcastsBothWays) {
  Tensor a = F({1, 2, 3}, {3, 1});
  Tensor b = F({10, 20}, {1, 2});
  Tensor y = Op("Add", {a, b}).go();
  EXPECT_EQ(y.shape(), Shape({3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 21, 12, 22, 13, 23}));
  EXPECT_THROW(Op("Add", {F({1, 2, 3}, {3}), F({1, 2}, {2})}).go(), Error);
  EXPECT_THROW(Op("Add", {F({1}, {1}), Tensor::from_vector<double>({1}, {1})}).go(), Error);
}

TEST(ElementwiseBinary, LegacyBroadcastAlignsAtAxisBeforeOpset7) {
  Tensor a = F({0, 0, 0, 0, 0, 0}, {1, 3, 2});
  Op r("Add", {a, F({1, 2, 3}, {3})}, 6);
  r.attr_i("broadcast", 1).attr_i("axis", 1);
  EXPECT_EQ(values<float>(r.go()), (std::vector<float>{1, 1, 2, 2, 3, 3}));
  Op bad("Mul", {a, F({1, 2, 3}, {3})}, 6);
  bad.attr_i("broadcast", 1).attr_i("axis", 2);
  EXPECT_THROW(bad.go(), Error);
}

TEST(ElementwiseBinary, IntegerDivTruncatesAndThrowsOnZero) {
  Tensor a = Tensor::from_vector<int32_t>({-7, 7, std::numeric_limits<int32_t>::min()}, {3});
  Tensor b = Tensor::from_vector<int32_t>({2, -2, -1}, {3});
  EXPECT_EQ(values<int32_t>(Op("Div", {a, b}).go()),
            (std::vector<int32_t>{-3, -3, std::numeric_limits<int32_t>::min()}));
  EXPECT_THROW(Op("Div", {a, Tensor::scalar<int32_t>(0)}).go(), Error);
  EXPECT_THROW(Op("Mod", {a, Tensor::scalar<int32_t>(0)}).go(), Error);
}

TEST(ElementwiseBinary, ModSignFollowsDivisorUnlessFmod) {
  Tensor a = Tensor::from_vector<int64_t>({-4, 7, -3}, {3});
  Tensor b = Tensor::from_vector<int64_t>({3, -3, -3}, {3});
  EXPECT_EQ(values<int64_t>(Op("Mod", {a, b}).go()), (std::vector<int64_t>{2, -2, 0}));
  Op f("Mod", {a, b});
  f.attr_i("fmod", 1);
  EXPECT_EQ(values<int64_t>(f.go()), (std::vector<int64_t>{-1, 1, 0}));
}

TEST(ElementwiseBinary, PowMixesTypesAndKeepsTheBaseType) {
  Tensor base = Tensor::from_vector<int32_t>({2, 3, -2}, {3});
  Tensor y = Op("Pow", {base, F({0.5f, 2.f, 3.f}, {3})}).go();
  ASSERT_EQ(y.dtype(), DType::Int32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{1, 9, -8}));
  Tensor z = Op("Pow", {F({2, 4}, {2}), Tensor::from_vector<int64_t>({-1, 3}, {2})}).go();
  EXPECT_EQ(values<float>(z), (std::vector<float>{0.5f, 64.f}));
}

TEST(ElementwiseBinary, BitShiftAndComparisons) {
  Tensor a = Tensor::from_vector<uint8_t>({1, 255, 16}, {3});
  Tensor s = Tensor::from_vector<uint8_t>({1, 1, 9}, {3});
  Op l("BitShift", {a, s});
  l.attr_s("direction", "LEFT");
  EXPECT_EQ(values<uint8_t>(l.go()), (std::vector<uint8_t>{2, 254, 0}));
  Op bad("BitShift", {a, s});
  bad.attr_s("direction", "UP");
  EXPECT_THROW(bad.go(), Error);
  Tensor g = Op("GreaterOrEqual", {F({1, 2, 3}, {3}), Tensor::scalar<float>(2)}).go();
  EXPECT_EQ(values<bool>(g), (std::vector<bool>{false, true, true}));
  EXPECT_THROW(Op("And", {F({1}, {1}), F({1}, {1})}).go(), Error);
}

TEST(ElementwiseBinary, PReluChannelSlopeBeforeOpset7) {
  Tensor x = F({-1, -1, -1, -1}, {1, 2, 2});
  Tensor slope = F({2, 3}, {2});
  EXPECT_EQ(values<float>(Op("PRelu", {x, slope}, 6).go()), (std::vector<float>{-2, -2, -3, -3}));
  EXPECT_EQ(values<float>(Op("PRelu", {x, slope}, 9).go()), (std::vector<float>{-2, -3, -2, -3}));
  EXPECT_THROW(Op("PRelu", {F({1}, {1}), slope}).go(), Error);  // slope bigger than X
}

TEST(ElementwiseVariadic, MaxMeanAndWhereBroadcast) {
  Tensor m = Op("Max", {F({1, 5}, {2}), F({3}, {1}), F({0, 0, 9, 0}, {2, 2})}).go();
  EXPECT_EQ(m.shape(), Shape({2, 2}));
  EXPECT_EQ(values<float>(m), (std::vector<float>{3, 5, 9, 5}));
  EXPECT_EQ(values<float>(Op("Mean", {F({1, 2}, {2}), F({3, 6}, {2})}).go()), (std::vector<float>{2, 4}));
  EXPECT_THROW(Op("Sum", {Tensor::from_vector<int32_t>({1}, {1})}).go(), Error);
  Tensor c = Tensor::from_vector<bool>({true, false}, {2, 1});
  Tensor w = Op("Where", {c, F({1, 2}, {2}), Tensor::scalar<float>(0)}).go();
  EXPECT_EQ(values<float>(w), (std::vector<float>{1, 2, 0, 0}));
  EXPECT_THROW(Op("Where", {F({1}, {1}), F({1}, {1}), F({1}, {1})}).go(), Error);
}

// ---- cast ----

TEST(ElementwiseCast, ConvertsAndRejectsStrings) {
  Op c("Cast", {F({-1.7f, 2.9f, 0.f}, {3})});
  c.attr_i("to", int64_t(DType::Int32));
  EXPECT_EQ(values<int32_t>(c.go()), (std::vector<int32_t>{-1, 2, 0}));
  Op b("Cast", {F({-1.7f, 0.f}, {2})});
  b.attr_i("to", int64_t(DType::Bool));
  EXPECT_EQ(values<bool>(b.go()), (std::vector<bool>{true, false}));
  Op legacy("Cast", {F({2.5f}, {1})}, 1);
  legacy.attr_s("to", "DOUBLE");
  EXPECT_EQ(legacy.go().dtype(), DType::Float64);
  Tensor like = Op("CastLike", {F({1.5f}, {1}), Tensor(DType::Float16, {0})}).go();
  EXPECT_EQ(like.dtype(), DType::Float16);
  Op s("Cast", {F({1}, {1})});
  s.attr_i("to", int64_t(DType::String));
  EXPECT_THROW(s.go(), Error);
}

// ---- softmax family ----

TEST(ElementwiseSoftmax, AxisSemanticsChangeAtOpset13) {
  Tensor x = F({0, 0, 0, 0}, {1, 2, 2});
  // Opset 11: coerced to [1, 4] at axis 1, so each element is 1/4.
  EXPECT_EQ(values<float>(Op("Softmax", {x}, 11).go()), (std::vector<float>{.25f, .25f, .25f, .25f}));
  // Opset 13: along the last axis only.
  EXPECT_EQ(values<float>(Op("Softmax", {x}, 13).go()), (std::vector<float>{.5f, .5f, .5f, .5f}));
  Tensor big = F({1000, 1000}, {1, 2});
  auto ls = values<float>(Op("LogSoftmax", {big}).go());
  EXPECT_NEAR(ls[0], -std::log(2.f), 1e-6);
  Tensor h = Op("Hardmax", {F({3, 1, 3, 0, 2, 5}, {2, 3})}).go();
  EXPECT_EQ(values<float>(h), (std::vector<float>{1, 0, 0, 0, 0, 1}));
  Op bad("Softmax", {x}, 13);
  bad.attr_i("axis", 3);
  EXPECT_THROW(bad.go(), Error);
}

TEST(ElementwiseLoss, NllMeanUsesWeightsAndIgnoreIndex) {
  // input [N=2, C=3], log-probabilities
  Tensor x = F({-1, -2, -3, -4, -5, -6}, {2, 3});
  Tensor t = Tensor::from_vector<int64_t>({2, 0}, {2});
  Tensor w = F({1, 1, 3}, {3});
  // mean: (3*3 + 1*4) / (3 + 1)
  EXPECT_FLOAT_EQ(Op("NegativeLogLikelihoodLoss", {x, t, w}).go().data<float>()[0], 13.f / 4.f);
  Op ii("NegativeLogLikelihoodLoss", {x, t, w});
  ii.attr_i("ignore_index", 0);
  EXPECT_FLOAT_EQ(ii.go().data<float>()[0], 3.f);
  Op none("NegativeLogLikelihoodLoss", {x, t});
  none.attr_s("reduction", "none");
  EXPECT_EQ(values<float>(none.go()), (std::vector<float>{3, 4}));
  Tensor out_of_range = Tensor::from_vector<int64_t>({3, 0}, {2});
  EXPECT_THROW(Op("NegativeLogLikelihoodLoss", {x, out_of_range}).go(), Error);
  EXPECT_THROW(Op("NegativeLogLikelihoodLoss", {x, Tensor::from_vector<int64_t>({0}, {1})}).go(), Error);
}

TEST(ElementwiseLoss, SoftmaxCrossEntropyReturnsLogProb) {
  Tensor x = F({0, 0, 1000, 1000}, {2, 2});
  Tensor t = Tensor::from_vector<int32_t>({1, 0}, {2});
  Op r("SoftmaxCrossEntropyLoss", {x, t}, 13, 2);
  r.attr_s("reduction", "sum");
  EXPECT_NEAR(r.go().data<float>()[0], 2 * std::log(2.f), 1e-5);
  ASSERT_TRUE(r.outs[1].defined());
  EXPECT_EQ(r.outs[1].shape(), Shape({2, 2}));
  EXPECT_NEAR(r.outs[1].data<float>()[3], -std::log(2.f), 1e-6);
  Op bad("SoftmaxCrossEntropyLoss", {x, t});
  bad.attr_s("reduction", "avg");
  EXPECT_THROW(bad.go(), Error);
}

}  // namespace
}  // namespace pith
