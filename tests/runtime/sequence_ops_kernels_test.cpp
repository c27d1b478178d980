// Tests for the sequence_ops reference kernels (normalization.cpp, recurrent.cpp,
// image_ops.cpp, resize.cpp, signal.cpp): the cases the ONNX backend suite does not
// cover (bidirectional / reverse recurrences, layouts, crop pads, wrap mode, ...) and
// the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/kernel.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

// ---- normalization ----

TEST(SequenceOpsNormalization, BatchNormFloat16AndOldSpatialAttribute) {
  Tensor x = cast_tensor(f32({1, 2, 3, 4}, {1, 2, 2}), DType::Float16);
  Tensor scale = cast_tensor(f32({1, 2}, {2}), DType::Float16), b = cast_tensor(f32({0, 1}, {2}), DType::Float16);
  Tensor mean = cast_tensor(f32({1, 3}, {2}), DType::Float16), var = cast_tensor(f32({4, 1}, {2}), DType::Float16);
  Tensor y = OpRunner("BatchNormalization", {x, scale, b, mean, var}, 15).f("epsilon", 0).go();
  EXPECT_EQ(y.dtype(), DType::Float16);
  expect_near(y, {0, 0.5, 1, 3}, 1e-3);
  // spatial = 0 (opset 7): parameters per channel and position.
  Tensor xs = f32({1, 2, 3, 4}, {1, 2, 2});
  Tensor p = f32({1, 1, 1, 1}, {2, 2}), z = f32({0, 0, 0, 0}, {2, 2}), m = f32({1, 2, 3, 4}, {2, 2});
  Tensor ys = OpRunner("BatchNormalization", {xs, p, z, m, p}, 7).i("spatial", 0).f("epsilon", 0).go();
  expect_near(ys, {0, 0, 0, 0});
}

TEST(SequenceOpsNormalization, LayerNormStatisticsAndBadScale) {
  Tensor x = f32({1, 3, 2, 6}, {2, 2});
  OpRunner op("LayerNormalization", {x, f32({1, 1}, {2})}, 17, 3);
  op.f("epsilon", 0);
  auto& outs = op.run();
  expect_near(outs[0], {-1, 1, -1, 1});
  EXPECT_EQ(outs[1].shape(), (Shape{2, 1}));
  expect_near(outs[1], {2, 4});
  expect_near(outs[2], {1, 0.5});
  EXPECT_THROW(OpRunner("LayerNormalization", {x, f32({1, 1, 1}, {3})}).go(), Error);
}

TEST(SequenceOpsNormalization, MvnAndLrnErrors) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_THROW(OpRunner("MeanVarianceNormalization", {x}, 13).ints("axes", {4}).go(), Error);
  EXPECT_THROW(OpRunner("LRN", {x}).go(), Error);  // size is required
  EXPECT_THROW(OpRunner("InstanceNormalization", {x, f32({1, 1}, {2}), f32({0}, {1})}).go(), Error);
}

// ---- recurrent ----

// Reverse RNN over X equals forward RNN over X reversed in time (per sequence length).
TEST(SequenceOpsRecurrent, ReverseAndBidirectionalWithSequenceLens) {
  // seq 3, batch 2, input 1, hidden 1
  Tensor x = f32({0.1f, 0.5f, 0.2f, -0.3f, 0.4f, 0.9f}, {3, 2, 1});
  Tensor w = f32({0.7f}, {1, 1, 1}), r = f32({-0.4f}, {1, 1, 1});
  Tensor w2 = f32({0.7f, 0.7f}, {2, 1, 1}), r2 = f32({-0.4f, -0.4f}, {2, 1, 1});
  Tensor lens = Tensor::from_vector<int32_t>({3, 2}, {2});
  auto rnn = [](double h, double xv) { return std::tanh(0.7 * xv - 0.4 * h); };
  OpRunner bi("RNN", {x, w2, r2, Tensor(), lens}, 14, 2);
  bi.s("direction", "bidirectional").i("hidden_size", 1);
  auto& outs = bi.run();
  ASSERT_EQ(outs[0].shape(), (Shape{3, 2, 2, 1}));
  // batch 0 forward: x = .1, .2, .4 ; batch 1 (len 2): x = .5, -.3
  double f0 = rnn(0, 0.1), f1 = rnn(f0, 0.2), f2 = rnn(f1, 0.4);
  double g0 = rnn(0, 0.5), g1 = rnn(g0, -0.3);
  // reverse: batch 0 from t=2 down; batch 1 from t=1 down
  double b2 = rnn(0, 0.4), b1 = rnn(b2, 0.2), b0 = rnn(b1, 0.1);
  double c1 = rnn(0, -0.3), c0 = rnn(c1, 0.5);
  // Y[t][dir][batch]
  expect_near(outs[0], {f0, g0, b0, c0, f1, g1, b1, c1, f2, 0, b2, 0});
  expect_near(outs[1], {f2, g1, b0, c0});
  // A forward-only reverse direction matches the second half.
  Tensor yr = OpRunner("RNN", {x, w, r, Tensor(), lens}, 14).s("direction", "reverse").go();
  expect_near(yr, {b0, c0, b1, c1, b2, 0});
}

TEST(SequenceOpsRecurrent, LstmLayoutOneMatchesLayoutZero) {
  const int64_t S = 2, B = 3, I = 2, H = 2;
  std::vector<float> xv, wv, rv;
  for (int k = 0; k < S * B * I; ++k) xv.push_back(0.1f * float(k % 7) - 0.3f);
  for (int k = 0; k < 4 * H * I; ++k) wv.push_back(0.05f * float(k % 5) - 0.1f);
  for (int k = 0; k < 4 * H * H; ++k) rv.push_back(0.03f * float(k % 4));
  Tensor x0 = f32(xv, {S, B, I});
  std::vector<float> x1v(xv.size());
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < I; ++k) x1v[size_t((b * S + t) * I + k)] = xv[size_t((t * B + b) * I + k)];
  Tensor w = f32(wv, {1, 4 * H, I}), r = f32(rv, {1, 4 * H, H});
  OpRunner a("LSTM", {x0, w, r}, 14, 3);
  a.i("hidden_size", H);
  auto ya = a.run();
  OpRunner b("LSTM", {f32(x1v, {B, S, I}), w, r}, 14, 3);
  b.i("hidden_size", H).i("layout", 1);
  auto yb = b.run();
  ASSERT_EQ(yb[0].shape(), (Shape{B, S, 1, H}));
  ASSERT_EQ(yb[2].shape(), (Shape{B, 1, H}));
  for (int64_t t = 0; t < S; ++t)
    for (int64_t bb = 0; bb < B; ++bb)
      for (int64_t h = 0; h < H; ++h)
        EXPECT_NEAR(ya[0].as_double((t * B + bb) * H + h), yb[0].as_double((bb * S + t) * H + h), 1e-6);
  for (int64_t k = 0; k < B * H; ++k) EXPECT_NEAR(ya[2].as_double(k), yb[2].as_double(k), 1e-6);
}

TEST(SequenceOpsRecurrent, GruLinearBeforeResetAndErrors) {
  // One step, hidden 1, input 1: W = [z, r, h], R = [z, r, h], B = [Wb(3), Rb(3)].
  Tensor x = f32({1.0f}, {1, 1, 1});
  Tensor w = f32({0.5f, -0.5f, 1.0f}, {1, 3, 1}), r = f32({0.2f, 0.3f, 0.4f}, {1, 3, 1});
  Tensor bias = f32({0.1f, 0.1f, 0.1f, 0.2f, 0.2f, 0.2f}, {1, 6});
  Tensor h0 = f32({0.5f}, {1, 1, 1});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  double z = sig(0.5 + 0.2 * 0.5 + 0.3), rr = sig(-0.5 + 0.3 * 0.5 + 0.3);
  double hl = std::tanh(1.0 + 0.1 + rr * (0.4 * 0.5 + 0.2));
  double hn = std::tanh(1.0 + 0.1 + 0.4 * (rr * 0.5) + 0.2);
  OpRunner lbr("GRU", {x, w, r, bias, Tensor(), h0}, 14);
  Tensor y1 = lbr.i("hidden_size", 1).i("linear_before_reset", 1).go();
  expect_near(y1, {(1 - z) * hl + z * 0.5});
  Tensor y0 = OpRunner("GRU", {x, w, r, bias, Tensor(), h0}, 14).i("hidden_size", 1).go();
  expect_near(y0, {(1 - z) * hn + z * 0.5});
  // Bad W shape, bad activation, bad sequence length.
  EXPECT_THROW(OpRunner("GRU", {x, f32({1, 2}, {1, 2, 1}), r}).i("hidden_size", 1).go(), Error);
  EXPECT_THROW(OpRunner("GRU", {x, w, r}).strings("activations", {"Bogus", "Tanh"}).go(), Error);
  Tensor lens = Tensor::from_vector<int32_t>({5}, {1});
  EXPECT_THROW(OpRunner("GRU", {x, w, r, Tensor(), lens}).go(), Error);
}

// ---- image / geometry ----

TEST(SequenceOpsImage, PadCropReflectWrapAndOldAttribute) {
  Tensor x = f32({1, 2, 3, 4, 5, 6}, {2, 3});
  // Opset 11+: crop one column on the left, reflect-pad one on the right.
  Tensor crop = OpRunner("Pad", {x, i64({0, -1, 0, 1}, {4})}, 13).s("mode", "reflect").go();
  ASSERT_EQ(crop.shape(), (Shape{2, 3}));
  expect_near(crop, {2, 3, 2, 5, 6, 5});
  Tensor wrap = OpRunner("Pad", {x, i64({0, 2, 0, 0}, {4})}, 19).s("mode", "wrap").go();
  expect_near(wrap, {2, 3, 1, 2, 3, 5, 6, 4, 5, 6});
  // Opset 2: pads and value as attributes.
  Tensor c = OpRunner("Pad", {x}, 2).ints("pads", {1, 0, 0, 0}).f("value", 9).go();
  expect_near(c, {9, 9, 9, 1, 2, 3, 4, 5, 6});
  // int32 with constant_value input.
  Tensor xi = Tensor::from_vector<int32_t>({1, 2}, {2});
  Tensor ci = OpRunner("Pad", {xi, i64({1, 1}, {2}), Tensor::from_vector<int32_t>({7}, {})}, 13).go();
  expect_near(ci, {7, 1, 2, 7});
  EXPECT_THROW(OpRunner("Pad", {x, i64({0, -4, 0, 0}, {4})}, 13).go(), Error);
  EXPECT_THROW(OpRunner("Pad", {x, i64({0, 1}, {2})}, 13).go(), Error);
}

TEST(SequenceOpsImage, ResizeModesAndErrors) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor near = OpRunner("Resize", {x, Tensor(), Tensor(), i64({1, 1, 3, 3}, {4})}, 13)
                    .s("coordinate_transformation_mode", "asymmetric")
                    .s("nearest_mode", "floor")
                    .go();
  expect_near(near, {1, 1, 2, 1, 1, 2, 3, 3, 4});
  Tensor lin = OpRunner("Resize", {x, Tensor(), f32({1, 1, 1, 2}, {4})}, 13)
                   .s("mode", "linear")
                   .s("coordinate_transformation_mode", "align_corners")
                   .go();
  ASSERT_EQ(lin.shape(), (Shape{1, 1, 2, 4}));
  expect_near(lin, {1, 1 + 1.0 / 3, 1 + 2.0 / 3, 2, 3, 3 + 1.0 / 3, 3 + 2.0 / 3, 4});
  // Upsample-7 with the scales attribute on int64 data.
  OpRunner up("Upsample", {i64({5, 6}, {1, 2})}, 7);
  up.floats("scales", {2, 2});
  Tensor u = up.go();
  EXPECT_EQ(u.dtype(), DType::Int64);
  expect_near(u, {5, 5, 6, 6, 5, 5, 6, 6});
  // Both scales and sizes; neither; wrong scales length.
  EXPECT_THROW(OpRunner("Resize", {x, Tensor(), f32({1, 1, 2, 2}, {4}), i64({1, 1, 4, 4}, {4})}, 13).go(), Error);
  EXPECT_THROW(OpRunner("Resize", {x}, 13).go(), Error);
  EXPECT_THROW(OpRunner("Resize", {x, Tensor(), f32({2, 2}, {2})}, 13).go(), Error);
}

TEST(SequenceOpsImage, DepthSpaceRoundTripAndErrors) {
  std::vector<float> v;
  for (int k = 0; k < 16; ++k) v.push_back(float(k));
  Tensor x = f32(v, {1, 4, 2, 2});
  for (const char* mode : {"DCR", "CRD"}) {
    Tensor s = OpRunner("DepthToSpace", {x}, 13).i("blocksize", 2).s("mode", mode).go();
    ASSERT_EQ(s.shape(), (Shape{1, 1, 4, 4}));
    if (std::string(mode) == "DCR") {
      Tensor back = OpRunner("SpaceToDepth", {s}, 13).i("blocksize", 2).go();
      expect_near(back, std::vector<double>(v.begin(), v.end()));
    }
  }
  EXPECT_THROW(OpRunner("DepthToSpace", {f32({1, 2, 3}, {1, 3, 1, 1})}).i("blocksize", 2).go(), Error);
  EXPECT_THROW(OpRunner("SpaceToDepth", {f32({1, 2, 3}, {1, 1, 1, 3})}).i("blocksize", 2).go(), Error);
}

TEST(SequenceOpsImage, GridSampleRoiAlignNmsErrors) {
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  // Grid at the pixel centres (align_corners = 1 puts -1/1 on the corners).
  Tensor grid = f32({-1, -1, 1, -1, -1, 1, 1, 1}, {1, 2, 2, 2});
  expect_near(OpRunner("GridSample", {x, grid}, 16).i("align_corners", 1).go(), {1, 2, 3, 4});
  EXPECT_THROW(OpRunner("GridSample", {x, f32({0, 0, 0}, {1, 1, 1, 3})}, 16).go(), Error);
  Tensor rois = f32({0, 0, 1, 1}, {1, 4});
  EXPECT_THROW(OpRunner("RoiAlign", {x, rois, i64({3}, {1})}, 16).go(), Error);
  // Two overlapping boxes (IoU 0.67) and a far one, one class.
  Tensor boxes = f32({0, 0, 1, 1, 0, 0.2f, 1, 1.2f, 5, 5, 6, 6}, {1, 3, 4});
  Tensor scores = f32({0.9f, 0.8f, 0.7f}, {1, 1, 3});
  Tensor sel = OpRunner("NonMaxSuppression", {boxes, scores, i64({10}, {1}), f32({0.5f}, {1})}, 11).go();
  ASSERT_EQ(sel.shape(), (Shape{2, 3}));
  expect_near(sel, {0, 0, 0, 0, 0, 2});
  EXPECT_THROW(OpRunner("NonMaxSuppression", {boxes, f32({1, 2}, {1, 1, 2})}, 11).go(), Error);
}

TEST(SequenceOpsImage, NonFiniteCoordinatesAreSafe) {
  const float nan = std::nanf("");
  Tensor x = f32({1, 2, 3, 4}, {1, 1, 2, 2});
  for (const char* pad : {"zeros", "border", "reflection"}) {
    Tensor g = OpRunner("GridSample", {x, f32({nan, 0, 1e30f, -1e30f}, {1, 1, 2, 2})}, 16).s("padding_mode", pad).go();
    expect_near(g, {0, 0});
  }
  EXPECT_THROW(OpRunner("RoiAlign", {x, f32({0, 0, nan, 1}, {1, 4}), i64({0}, {1})}, 16).go(), Error);
  Tensor boxes = f32({0, 0, 1, 1, 0, 0, 1, 1}, {1, 2, 4});
  Tensor sel = OpRunner("NonMaxSuppression", {boxes, f32({nan, 0.5f}, {1, 1, 2}), i64({5}, {1})}, 11).go();
  expect_near(sel, {0, 0, 1});
  EXPECT_THROW(OpRunner("Resize", {x, Tensor(), f32({1, 1, nan, 2}, {4})}, 13).go(), Error);
}

// ---- signal ----

TEST(SequenceOpsSignal, DftRoundTripAndWindows) {
  Tensor x = f32({1, 2, 3, 4, 5}, {1, 5, 1});
  Tensor spec = OpRunner("DFT", {x}, 17).go();
  ASSERT_EQ(spec.shape(), (Shape{1, 5, 2}));
  EXPECT_NEAR(spec.as_double(0), 15, 1e-5);
  Tensor back = OpRunner("DFT", {spec}, 17).i("inverse", 1).go();
  expect_near(back, {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, 1e-5);
  Tensor one = OpRunner("DFT", {x}, 17).i("onesided", 1).go();
  EXPECT_EQ(one.shape(), (Shape{1, 3, 2}));
  EXPECT_THROW(OpRunner("DFT", {x, i64({0}, {})}, 17).go(), Error);
  Tensor hann = OpRunner("HannWindow", {Tensor::from_vector<int32_t>({4}, {})}, 17).go();
  expect_near(hann, {0, 0.5, 1, 0.5});
  EXPECT_THROW(OpRunner("HannWindow", {f32({4}, {})}, 17).go(), Error);
}

}  // namespace
}  // namespace pith
