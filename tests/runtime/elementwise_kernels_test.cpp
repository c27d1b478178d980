// Tests for the elementwise reference kernels (unary.cpp, binary.cpp, cast.cpp,
// softmax.cpp): tricky semantics (wrapping, rounding, broadcasting, opset changes)
// and the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>

#include "runtime/kernel.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

template <typename T>
std::vector<T> values(const Tensor& t) {
  return std::vector<T>(t.data<T>(), t.data<T>() + t.numel());
}

// ---- unary ----

TEST(ElementwiseUnary, IntegerAbsAndNegWrapInsteadOfOverflowing) {
  const int32_t mn = std::numeric_limits<int32_t>::min();
  Tensor x = Tensor::from_vector<int32_t>({mn, -3, 4}, {3});
  EXPECT_EQ(values<int32_t>(OpRunner("Abs", {x}).go()), (std::vector<int32_t>{mn, 3, 4}));
  EXPECT_EQ(values<int32_t>(OpRunner("Neg", {x}).go()), (std::vector<int32_t>{mn, 3, -4}));
}

TEST(ElementwiseUnary, RoundIsHalfToEvenAndHalfTypesRoundTrip) {
  EXPECT_EQ(values<float>(OpRunner("Round", {f32({0.5f, 1.5f, 2.5f, -2.5f, 2.6f}, {5})}).go()),
            (std::vector<float>{0, 2, 2, -2, 3}));
  Tensor h = cast_tensor(f32({-1.f, 2.f}, {2}), DType::Float16);
  Tensor y = OpRunner("Relu", {h}).go();
  ASSERT_EQ(y.dtype(), DType::Float16);
  EXPECT_EQ(y.to_float_vector(), (std::vector<float>{0, 2}));
}

TEST(ElementwiseUnary, ClipBoundsMoveFromAttributesToInputsAtOpset11) {
  Tensor x = f32({-5, 0, 5}, {3});
  OpRunner old("Clip", {x}, 6);
  old.f("min", -1).f("max", 1);
  EXPECT_EQ(values<float>(old.go()), (std::vector<float>{-1, 0, 1}));
  // min > max: everything becomes max.
  EXPECT_EQ(values<float>(OpRunner("Clip", {x, Tensor::scalar<float>(2), Tensor::scalar<float>(1)}).go()),
            (std::vector<float>{1, 1, 1}));
  // Integers, only max given.
  Tensor xi = Tensor::from_vector<int8_t>({-100, 100}, {2});
  EXPECT_EQ(values<int8_t>(OpRunner("Clip", {xi, Tensor(), Tensor::scalar<int8_t>(7)}).go()),
            (std::vector<int8_t>{-100, 7}));
  EXPECT_THROW(OpRunner("Clip", {x, f32({1, 2}, {2})}).go(), Error);
}

TEST(ElementwiseUnary, IsInfHonoursDetectFlags) {
  const float inf = std::numeric_limits<float>::infinity();
  Tensor x = f32({inf, -inf, 1.f, std::nanf("")}, {4});
  OpRunner r("IsInf", {x});
  r.i("detect_negative", 0);
  EXPECT_EQ(values<bool>(r.go()), (std::vector<bool>{true, false, false, false}));
  EXPECT_EQ(values<bool>(OpRunner("IsNaN", {x}).go()), (std::vector<bool>{false, false, false, true}));
}

TEST(ElementwiseUnary, RejectsWrongTypes) {
  EXPECT_THROW(OpRunner("Sqrt", {Tensor::from_vector<int32_t>({4}, {1})}).go(), Error);
  EXPECT_THROW(OpRunner("Not", {f32({1}, {1})}).go(), Error);
  EXPECT_THROW(OpRunner("Neg", {Tensor::from_vector<uint8_t>({1}, {1})}).go(), Error);
}

// ---- binary ----

TEST(ElementwiseBinary, BroadcastsBothWays) {
  Tensor a = f32({1, 2, 3}, {3, 1});
  Tensor b = f32({10, 20}, {1, 2});
  Tensor y = OpRunner("Add", {a, b}).go();
  EXPECT_EQ(y.shape(), Shape({3, 2}));
  EXPECT_EQ(values<float>(y), (std::vector<float>{11, 21, 12, 22, 13, 23}));
  EXPECT_THROW(OpRunner("Add", {f32({1, 2, 3}, {3}), f32({1, 2}, {2})}).go(), Error);
  EXPECT_THROW(OpRunner("Add", {f32({1}, {1}), Tensor::from_vector<double>({1}, {1})}).go(), Error);
}

TEST(ElementwiseBinary, LegacyBroadcastAlignsAtAxisBeforeOpset7) {
  Tensor a = f32({0, 0, 0, 0, 0, 0}, {1, 3, 2});
  OpRunner r("Add", {a, f32({1, 2, 3}, {3})}, 6);
  r.i("broadcast", 1).i("axis", 1);
  EXPECT_EQ(values<float>(r.go()), (std::vector<float>{1, 1, 2, 2, 3, 3}));
  OpRunner bad("Mul", {a, f32({1, 2, 3}, {3})}, 6);
  bad.i("broadcast", 1).i("axis", 2);
  EXPECT_THROW(bad.go(), Error);
}

TEST(ElementwiseBinary, IntegerDivTruncatesAndThrowsOnZero) {
  Tensor a = Tensor::from_vector<int32_t>({-7, 7, std::numeric_limits<int32_t>::min()}, {3});
  Tensor b = Tensor::from_vector<int32_t>({2, -2, -1}, {3});
  EXPECT_EQ(values<int32_t>(OpRunner("Div", {a, b}).go()),
            (std::vector<int32_t>{-3, -3, std::numeric_limits<int32_t>::min()}));
  EXPECT_THROW(OpRunner("Div", {a, Tensor::scalar<int32_t>(0)}).go(), Error);
  EXPECT_THROW(OpRunner("Mod", {a, Tensor::scalar<int32_t>(0)}).go(), Error);
}

TEST(ElementwiseBinary, ModSignFollowsDivisorUnlessFmod) {
  Tensor a = Tensor::from_vector<int64_t>({-4, 7, -3}, {3});
  Tensor b = Tensor::from_vector<int64_t>({3, -3, -3}, {3});
  EXPECT_EQ(values<int64_t>(OpRunner("Mod", {a, b}).go()), (std::vector<int64_t>{2, -2, 0}));
  OpRunner f("Mod", {a, b});
  f.i("fmod", 1);
  EXPECT_EQ(values<int64_t>(f.go()), (std::vector<int64_t>{-1, 1, 0}));
}

TEST(ElementwiseBinary, PowMixesTypesAndKeepsTheBaseType) {
  Tensor base = Tensor::from_vector<int32_t>({2, 3, -2}, {3});
  Tensor y = OpRunner("Pow", {base, f32({0.5f, 2.f, 3.f}, {3})}).go();
  ASSERT_EQ(y.dtype(), DType::Int32);
  EXPECT_EQ(values<int32_t>(y), (std::vector<int32_t>{1, 9, -8}));
  Tensor z = OpRunner("Pow", {f32({2, 4}, {2}), Tensor::from_vector<int64_t>({-1, 3}, {2})}).go();
  EXPECT_EQ(values<float>(z), (std::vector<float>{0.5f, 64.f}));
}

TEST(ElementwiseBinary, BitShiftAndComparisons) {
  Tensor a = Tensor::from_vector<uint8_t>({1, 255, 16}, {3});
  Tensor s = Tensor::from_vector<uint8_t>({1, 1, 9}, {3});
  OpRunner l("BitShift", {a, s});
  l.s("direction", "LEFT");
  EXPECT_EQ(values<uint8_t>(l.go()), (std::vector<uint8_t>{2, 254, 0}));
  OpRunner bad("BitShift", {a, s});
  bad.s("direction", "UP");
  EXPECT_THROW(bad.go(), Error);
  Tensor g = OpRunner("GreaterOrEqual", {f32({1, 2, 3}, {3}), Tensor::scalar<float>(2)}).go();
  EXPECT_EQ(values<bool>(g), (std::vector<bool>{false, true, true}));
  EXPECT_THROW(OpRunner("And", {f32({1}, {1}), f32({1}, {1})}).go(), Error);
}

TEST(ElementwiseBinary, PReluChannelSlopeBeforeOpset7) {
  Tensor x = f32({-1, -1, -1, -1}, {1, 2, 2});
  Tensor slope = f32({2, 3}, {2});
  EXPECT_EQ(values<float>(OpRunner("PRelu", {x, slope}, 6).go()), (std::vector<float>{-2, -2, -3, -3}));
  EXPECT_EQ(values<float>(OpRunner("PRelu", {x, slope}, 9).go()), (std::vector<float>{-2, -3, -2, -3}));
  EXPECT_THROW(OpRunner("PRelu", {f32({1}, {1}), slope}).go(), Error);  // slope bigger than X
}

TEST(ElementwiseVariadic, MaxMeanAndWhereBroadcast) {
  Tensor m = OpRunner("Max", {f32({1, 5}, {2}), f32({3}, {1}), f32({0, 0, 9, 0}, {2, 2})}).go();
  EXPECT_EQ(m.shape(), Shape({2, 2}));
  EXPECT_EQ(values<float>(m), (std::vector<float>{3, 5, 9, 5}));
  EXPECT_EQ(values<float>(OpRunner("Mean", {f32({1, 2}, {2}), f32({3, 6}, {2})}).go()), (std::vector<float>{2, 4}));
  EXPECT_THROW(OpRunner("Sum", {Tensor::from_vector<int32_t>({1}, {1})}).go(), Error);
  Tensor c = Tensor::from_vector<bool>({true, false}, {2, 1});
  Tensor w = OpRunner("Where", {c, f32({1, 2}, {2}), Tensor::scalar<float>(0)}).go();
  EXPECT_EQ(values<float>(w), (std::vector<float>{1, 2, 0, 0}));
  EXPECT_THROW(OpRunner("Where", {f32({1}, {1}), f32({1}, {1}), f32({1}, {1})}).go(), Error);
}

// ---- cast ----

TEST(ElementwiseCast, ConvertsAndRejectsStrings) {
  OpRunner c("Cast", {f32({-1.7f, 2.9f, 0.f}, {3})});
  c.i("to", int64_t(DType::Int32));
  EXPECT_EQ(values<int32_t>(c.go()), (std::vector<int32_t>{-1, 2, 0}));
  OpRunner b("Cast", {f32({-1.7f, 0.f}, {2})});
  b.i("to", int64_t(DType::Bool));
  EXPECT_EQ(values<bool>(b.go()), (std::vector<bool>{true, false}));
  OpRunner legacy("Cast", {f32({2.5f}, {1})}, 1);
  legacy.s("to", "DOUBLE");
  EXPECT_EQ(legacy.go().dtype(), DType::Float64);
  Tensor like = OpRunner("CastLike", {f32({1.5f}, {1}), Tensor(DType::Float16, {0})}).go();
  EXPECT_EQ(like.dtype(), DType::Float16);
  OpRunner s("Cast", {f32({1}, {1})});
  s.i("to", int64_t(DType::String));
  EXPECT_THROW(s.go(), Error);
}

// ---- softmax family ----

TEST(ElementwiseSoftmax, AxisSemanticsChangeAtOpset13) {
  Tensor x = f32({0, 0, 0, 0}, {1, 2, 2});
  // Opset 11: coerced to [1, 4] at axis 1, so each element is 1/4.
  EXPECT_EQ(values<float>(OpRunner("Softmax", {x}, 11).go()), (std::vector<float>{.25f, .25f, .25f, .25f}));
  // Opset 13: along the last axis only.
  EXPECT_EQ(values<float>(OpRunner("Softmax", {x}, 13).go()), (std::vector<float>{.5f, .5f, .5f, .5f}));
  Tensor big = f32({1000, 1000}, {1, 2});
  auto ls = values<float>(OpRunner("LogSoftmax", {big}).go());
  EXPECT_NEAR(ls[0], -std::log(2.f), 1e-6);
  Tensor h = OpRunner("Hardmax", {f32({3, 1, 3, 0, 2, 5}, {2, 3})}).go();
  EXPECT_EQ(values<float>(h), (std::vector<float>{1, 0, 0, 0, 0, 1}));
  OpRunner bad("Softmax", {x}, 13);
  bad.i("axis", 3);
  EXPECT_THROW(bad.go(), Error);
}

TEST(ElementwiseLoss, NllMeanUsesWeightsAndIgnoreIndex) {
  // input [N=2, C=3], log-probabilities
  Tensor x = f32({-1, -2, -3, -4, -5, -6}, {2, 3});
  Tensor t = Tensor::from_vector<int64_t>({2, 0}, {2});
  Tensor w = f32({1, 1, 3}, {3});
  // mean: (3*3 + 1*4) / (3 + 1)
  EXPECT_FLOAT_EQ(OpRunner("NegativeLogLikelihoodLoss", {x, t, w}).go().data<float>()[0], 13.f / 4.f);
  OpRunner ii("NegativeLogLikelihoodLoss", {x, t, w});
  ii.i("ignore_index", 0);
  EXPECT_FLOAT_EQ(ii.go().data<float>()[0], 3.f);
  OpRunner none("NegativeLogLikelihoodLoss", {x, t});
  none.s("reduction", "none");
  EXPECT_EQ(values<float>(none.go()), (std::vector<float>{3, 4}));
  Tensor out_of_range = Tensor::from_vector<int64_t>({3, 0}, {2});
  EXPECT_THROW(OpRunner("NegativeLogLikelihoodLoss", {x, out_of_range}).go(), Error);
  EXPECT_THROW(OpRunner("NegativeLogLikelihoodLoss", {x, Tensor::from_vector<int64_t>({0}, {1})}).go(), Error);
}

TEST(ElementwiseLoss, SoftmaxCrossEntropyReturnsLogProb) {
  Tensor x = f32({0, 0, 1000, 1000}, {2, 2});
  Tensor t = Tensor::from_vector<int32_t>({1, 0}, {2});
  OpRunner r("SoftmaxCrossEntropyLoss", {x, t}, 13, 2);
  r.s("reduction", "sum");
  EXPECT_NEAR(r.go().data<float>()[0], 2 * std::log(2.f), 1e-5);
  ASSERT_TRUE(r.outputs[1].defined());
  EXPECT_EQ(r.outputs[1].shape(), Shape({2, 2}));
  EXPECT_NEAR(r.outputs[1].data<float>()[3], -std::log(2.f), 1e-6);
  OpRunner bad("SoftmaxCrossEntropyLoss", {x, t});
  bad.s("reduction", "avg");
  EXPECT_THROW(bad.go(), Error);
}

}  // namespace
}  // namespace pith
