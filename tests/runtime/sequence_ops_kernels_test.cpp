// Tests for the sequence_ops reference kernels (normalization.cpp, recurrent.cpp,
// image_ops.cpp, resize.cpp, signal.cpp): the cases the ONNX backend suite does not
// cover (bidirectional / reverse recurrences, layouts, crop pads, wrap mode, ...) and
// the errors bad inputs must raise.
#include <gtest/gtest.h>

#include <cmath>

#include "runtime/kernel.h"

namespace pith {
namespace {

// Runs one node through its registered kernel.
struct SeqOp {
  Node node;
  int64_t opset = 17;
  std::vector<Tensor> ins;
  std::vector<Tensor> outs;

  SeqOp(std::string op, std::vector<Tensor> inputs, int64_t opset_ = 17, size_t n_out = 1) : opset(opset_) {
    node.op_type = std::move(op);
    node.name.assign(1, 'n');
    ins = std::move(inputs);
    for (size_t k = 0; k < ins.size(); ++k) node.inputs.push_back(ins[k].defined() ? name('i', k) : std::string());
    for (size_t k = 0; k < n_out; ++k) node.outputs.push_back(name('o', k));
  }
  static std::string name(char prefix, size_t k) {
    std::string n(1, prefix);
    n += std::to_string(k);
    return n;
  }
  SeqOp& i(const std::string& k, int64_t v) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = v;
    node.attributes[k] = a;
    return *this;
  }
  SeqOp& f(const std::string& k, float v) {
    Attribute a;
    a.kind = Attribute::Kind::Float;
    a.f = v;
    node.attributes[k] = a;
    return *this;
  }
  SeqOp& s(const std::string& k, std::string v) {
    Attribute a;
    a.kind = Attribute::Kind::String;
    a.s = std::move(v);
    node.attributes[k] = a;
    return *this;
  }
  SeqOp& ints(const std::string& k, std::vector<int64_t> v) {
    Attribute a;
    a.kind = Attribute::Kind::Ints;
    a.ints = std::move(v);
    node.attributes[k] = a;
    return *this;
  }
  SeqOp& strings(const std::string& k, std::vector<std::string> v) {
    Attribute a;
    a.kind = Attribute::Kind::Strings;
    a.strings = std::move(v);
    node.attributes[k] = a;
    return *this;
  }
  std::vector<Tensor>& run() {
    KernelFn fn = find_kernel("", node.op_type);
    if (!fn) throw std::runtime_error("no kernel for " + node.op_type);
    std::vector<const Tensor*> ptrs;
    for (auto& t : ins) ptrs.push_back(t.defined() ? &t : nullptr);
    outs.assign(node.outputs.size(), Tensor());
    KernelContext ctx(node, opset, ptrs, outs, nullptr);
    fn(ctx);
    return outs;
  }
  Tensor go() { return run()[0]; }
};

Tensor F(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }
Tensor I64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector<int64_t>(v, std::move(s)); }

void expect_near(const Tensor& got, std::vector<double> want, double tol = 1e-5) {
  ASSERT_EQ(got.numel(), int64_t(want.size()));
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got.as_double(int64_t(k)), want[k], tol) << "element " << k;
}

// ---- normalization ----

TEST(SequenceOpsNormalization, BatchNormFloat16AndOldSpatialAttribute) {
  Tensor x = cast_tensor(F({1, 2, 3, 4}, {1, 2, 2}), DType::Float16);
  Tensor scale = cast_tensor(F({1, 2}, {2}), DType::Float16), b = cast_tensor(F({0, 1}, {2}), DType::Float16);
  Tensor mean = cast_tensor(F({1, 3}, {2}), DType::Float16), var = cast_tensor(F({4, 1}, {2}), DType::Float16);
  Tensor y = SeqOp("BatchNormalization", {x, scale, b, mean, var}, 15).f("epsilon", 0).go();
  EXPECT_EQ(y.dtype(), DType::Float16);
  expect_near(y, {0, 0.5, 1, 3}, 1e-3);
  // spatial = 0 (opset 7): parameters per channel and position.
  Tensor xs = F({1, 2, 3, 4}, {1, 2, 2});
  Tensor p = F({1, 1, 1, 1}, {2, 2}), z = F({0, 0, 0, 0}, {2, 2}), m = F({1, 2, 3, 4}, {2, 2});
  Tensor ys = SeqOp("BatchNormalization", {xs, p, z, m, p}, 7).i("spatial", 0).f("epsilon", 0).go();
  expect_near(ys, {0, 0, 0, 0});
}

TEST(SequenceOpsNormalization, LayerNormStatisticsAndBadScale) {
  Tensor x = F({1, 3, 2, 6}, {2, 2});
  SeqOp op("LayerNormalization", {x, F({1, 1}, {2})}, 17, 3);
  op.f("epsilon", 0);
  auto& outs = op.run();
  expect_near(outs[0], {-1, 1, -1, 1});
  EXPECT_EQ(outs[1].shape(), (Shape{2, 1}));
  expect_near(outs[1], {2, 4});
  expect_near(outs[2], {1, 0.5});
  EXPECT_THROW(SeqOp("LayerNormalization", {x, F({1, 1, 1}, {3})}).go(), Error);
}

TEST(SequenceOpsNormalization, MvnAndLrnErrors) {
  Tensor x = F({1, 2, 3, 4}, {1, 1, 2, 2});
  EXPECT_THROW(SeqOp("MeanVarianceNormalization", {x}, 13).ints("axes", {4}).go(), Error);
  EXPECT_THROW(SeqOp("LRN", {x}).go(), Error);  // size is required
  EXPECT_THROW(SeqOp("InstanceNormalization", {x, F({1, 1}, {2}), F({0}, {1})}).go(), Error);
}

// ---- recurrent ----

// Reverse RNN over X equals forward RNN over X reversed in time (per sequence length).
TEST(SequenceOpsRecurrent, ReverseAndBidirectionalWithSequenceLens) {
  // seq 3, batch 2, input 1, hidden 1
  Tensor x = F({0.1f, 0.5f, 0.2f, -0.3f, 0.4f, 0.9f}, {3, 2, 1});
  Tensor w = F({0.7f}, {1, 1, 1}), r = F({-0.4f}, {1, 1, 1});
  Tensor w2 = F({0.7f, 0.7f}, {2, 1, 1}), r2 = F({-0.4f, -0.4f}, {2, 1, 1});
  Tensor lens = Tensor::from_vector<int32_t>({3, 2}, {2});
  auto rnn = [](double h, double xv) { return std::tanh(0.7 * xv - 0.4 * h); };
  SeqOp bi("RNN", {x, w2, r2, Tensor(), lens}, 14, 2);
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
  Tensor yr = SeqOp("RNN", {x, w, r, Tensor(), lens}, 14).s("direction", "reverse").go();
  expect_near(yr, {b0, c0, b1, c1, b2, 0});
}

TEST(SequenceOpsRecurrent, LstmLayoutOneMatchesLayoutZero) {
  const int64_t S = 2, B = 3, I = 2, H = 2;
  std::vector<float> xv, wv, rv;
  for (int k = 0; k < S * B * I; ++k) xv.push_back(0.1f * float(k % 7) - 0.3f);
  for (int k = 0; k < 4 * H * I; ++k) wv.push_back(0.05f * float(k % 5) - 0.1f);
  for (int k = 0; k < 4 * H * H; ++k) rv.push_back(0.03f * float(k % 4));
  Tensor x0 = F(xv, {S, B, I});
  std::vector<float> x1v(xv.size());
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < B; ++b)
      for (int64_t k = 0; k < I; ++k) x1v[size_t((b * S + t) * I + k)] = xv[size_t((t * B + b) * I + k)];
  Tensor w = F(wv, {1, 4 * H, I}), r = F(rv, {1, 4 * H, H});
  SeqOp a("LSTM", {x0, w, r}, 14, 3);
  a.i("hidden_size", H);
  auto ya = a.run();
  SeqOp b("LSTM", {F(x1v, {B, S, I}), w, r}, 14, 3);
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
  Tensor x = F({1.0f}, {1, 1, 1});
  Tensor w = F({0.5f, -0.5f, 1.0f}, {1, 3, 1}), r = F({0.2f, 0.3f, 0.4f}, {1, 3, 1});
  Tensor bias = F({0.1f, 0.1f, 0.1f, 0.2f, 0.2f, 0.2f}, {1, 6});
  Tensor h0 = F({0.5f}, {1, 1, 1});
  auto sig = [](double v) { return 1 / (1 + std::exp(-v)); };
  double z = sig(0.5 + 0.2 * 0.5 + 0.3), rr = sig(-0.5 + 0.3 * 0.5 + 0.3);
  double hl = std::tanh(1.0 + 0.1 + rr * (0.4 * 0.5 + 0.2));
  double hn = std::tanh(1.0 + 0.1 + 0.4 * (rr * 0.5) + 0.2);
  SeqOp lbr("GRU", {x, w, r, bias, Tensor(), h0}, 14);
  Tensor y1 = lbr.i("hidden_size", 1).i("linear_before_reset", 1).go();
  expect_near(y1, {(1 - z) * hl + z * 0.5});
  Tensor y0 = SeqOp("GRU", {x, w, r, bias, Tensor(), h0}, 14).i("hidden_size", 1).go();
  expect_near(y0, {(1 - z) * hn + z * 0.5});
  // Bad W shape, bad activation, bad sequence length.
  EXPECT_THROW(SeqOp("GRU", {x, F({1, 2}, {1, 2, 1}), r}).i("hidden_size", 1).go(), Error);
  EXPECT_THROW(SeqOp("GRU", {x, w, r}).strings("activations", {"Bogus", "Tanh"}).go(), Error);
  Tensor lens = Tensor::from_vector<int32_t>({5}, {1});
  EXPECT_THROW(SeqOp("GRU", {x, w, r, Tensor(), lens}).go(), Error);
}

// ---- image / geometry ----

TEST(SequenceOpsImage, PadCropReflectWrapAndOldAttribute) {
  Tensor x = F({1, 2, 3, 4, 5, 6}, {2, 3});
  // Opset 11+: crop one column on the left, reflect-pad one on the right.
  Tensor crop = SeqOp("Pad", {x, I64({0, -1, 0, 1}, {4})}, 13).s("mode", "reflect").go();
  ASSERT_EQ(crop.shape(), (Shape{2, 3}));
  expect_near(crop, {2, 3, 2, 5, 6, 5});
  Tensor wrap = SeqOp("Pad", {x, I64({0, 2, 0, 0}, {4})}, 19).s("mode", "wrap").go();
  expect_near(wrap, {2, 3, 1, 2, 3, 5, 6, 4, 5, 6});
  // Opset 2: pads and value as attributes.
  Tensor c = SeqOp("Pad", {x}, 2).ints("pads", {1, 0, 0, 0}).f("value", 9).go();
  expect_near(c, {9, 9, 9, 1, 2, 3, 4, 5, 6});
  // int32 with constant_value input.
  Tensor xi = Tensor::from_vector<int32_t>({1, 2}, {2});
  Tensor ci = SeqOp("Pad", {xi, I64({1, 1}, {2}), Tensor::from_vector<int32_t>({7}, {})}, 13).go();
  expect_near(ci, {7, 1, 2, 7});
  EXPECT_THROW(SeqOp("Pad", {x, I64({0, -4, 0, 0}, {4})}, 13).go(), Error);
  EXPECT_THROW(SeqOp("Pad", {x, I64({0, 1}, {2})}, 13).go(), Error);
}

TEST(SequenceOpsImage, ResizeModesAndErrors) {
  Tensor x = F({1, 2, 3, 4}, {1, 1, 2, 2});
  Tensor near = SeqOp("Resize", {x, Tensor(), Tensor(), I64({1, 1, 3, 3}, {4})}, 13)
                    .s("coordinate_transformation_mode", "asymmetric")
                    .s("nearest_mode", "floor")
                    .go();
  expect_near(near, {1, 1, 2, 1, 1, 2, 3, 3, 4});
  Tensor lin = SeqOp("Resize", {x, Tensor(), F({1, 1, 1, 2}, {4})}, 13)
                   .s("mode", "linear")
                   .s("coordinate_transformation_mode", "align_corners")
                   .go();
  ASSERT_EQ(lin.shape(), (Shape{1, 1, 2, 4}));
  expect_near(lin, {1, 1 + 1.0 / 3, 1 + 2.0 / 3, 2, 3, 3 + 1.0 / 3, 3 + 2.0 / 3, 4});
  // Upsample-7 with the scales attribute on int64 data.
  SeqOp up("Upsample", {I64({5, 6}, {1, 2})}, 7);
  Attribute sc;
  sc.kind = Attribute::Kind::Floats;
  sc.floats = {2, 2};
  up.node.attributes["scales"] = sc;
  Tensor u = up.go();
  EXPECT_EQ(u.dtype(), DType::Int64);
  expect_near(u, {5, 5, 6, 6, 5, 5, 6, 6});
  // Both scales and sizes; neither; wrong scales length.
  EXPECT_THROW(SeqOp("Resize", {x, Tensor(), F({1, 1, 2, 2}, {4}), I64({1, 1, 4, 4}, {4})}, 13).go(), Error);
  EXPECT_THROW(SeqOp("Resize", {x}, 13).go(), Error);
  EXPECT_THROW(SeqOp("Resize", {x, Tensor(), F({2, 2}, {2})}, 13).go(), Error);
}

TEST(SequenceOpsImage, DepthSpaceRoundTripAndErrors) {
  std::vector<float> v;
  for (int k = 0; k < 16; ++k) v.push_back(float(k));
  Tensor x = F(v, {1, 4, 2, 2});
  for (const char* mode : {"DCR", "CRD"}) {
    Tensor s = SeqOp("DepthToSpace", {x}, 13).i("blocksize", 2).s("mode", mode).go();
    ASSERT_EQ(s.shape(), (Shape{1, 1, 4, 4}));
    if (std::string(mode) == "DCR") {
      Tensor back = SeqOp("SpaceToDepth", {s}, 13).i("blocksize", 2).go();
      expect_near(back, std::vector<double>(v.begin(), v.end()));
    }
  }
  EXPECT_THROW(SeqOp("DepthToSpace", {F({1, 2, 3}, {1, 3, 1, 1})}).i("blocksize", 2).go(), Error);
  EXPECT_THROW(SeqOp("SpaceToDepth", {F({1, 2, 3}, {1, 1, 1, 3})}).i("blocksize", 2).go(), Error);
}

TEST(SequenceOpsImage, GridSampleRoiAlignNmsErrors) {
  Tensor x = F({1, 2, 3, 4}, {1, 1, 2, 2});
  // Grid at the pixel centres (align_corners = 1 puts -1/1 on the corners).
  Tensor grid = F({-1, -1, 1, -1, -1, 1, 1, 1}, {1, 2, 2, 2});
  expect_near(SeqOp("GridSample", {x, grid}, 16).i("align_corners", 1).go(), {1, 2, 3, 4});
  EXPECT_THROW(SeqOp("GridSample", {x, F({0, 0, 0}, {1, 1, 1, 3})}, 16).go(), Error);
  Tensor rois = F({0, 0, 1, 1}, {1, 4});
  EXPECT_THROW(SeqOp("RoiAlign", {x, rois, I64({3}, {1})}, 16).go(), Error);
  // Two overlapping boxes (IoU 0.67) and a far one, one class.
  Tensor boxes = F({0, 0, 1, 1, 0, 0.2f, 1, 1.2f, 5, 5, 6, 6}, {1, 3, 4});
  Tensor scores = F({0.9f, 0.8f, 0.7f}, {1, 1, 3});
  Tensor sel = SeqOp("NonMaxSuppression", {boxes, scores, I64({10}, {1}), F({0.5f}, {1})}, 11).go();
  ASSERT_EQ(sel.shape(), (Shape{2, 3}));
  expect_near(sel, {0, 0, 0, 0, 0, 2});
  EXPECT_THROW(SeqOp("NonMaxSuppression", {boxes, F({1, 2}, {1, 1, 2})}, 11).go(), Error);
}

TEST(SequenceOpsImage, NonFiniteCoordinatesAreSafe) {
  const float nan = std::nanf("");
  Tensor x = F({1, 2, 3, 4}, {1, 1, 2, 2});
  for (const char* pad : {"zeros", "border", "reflection"}) {
    Tensor g = SeqOp("GridSample", {x, F({nan, 0, 1e30f, -1e30f}, {1, 1, 2, 2})}, 16).s("padding_mode", pad).go();
    expect_near(g, {0, 0});
  }
  EXPECT_THROW(SeqOp("RoiAlign", {x, F({0, 0, nan, 1}, {1, 4}), I64({0}, {1})}, 16).go(), Error);
  Tensor boxes = F({0, 0, 1, 1, 0, 0, 1, 1}, {1, 2, 4});
  Tensor sel = SeqOp("NonMaxSuppression", {boxes, F({nan, 0.5f}, {1, 1, 2}), I64({5}, {1})}, 11).go();
  expect_near(sel, {0, 0, 1});
  EXPECT_THROW(SeqOp("Resize", {x, Tensor(), F({1, 1, nan, 2}, {4})}, 13).go(), Error);
}

// ---- signal ----

TEST(SequenceOpsSignal, DftRoundTripAndWindows) {
  Tensor x = F({1, 2, 3, 4, 5}, {1, 5, 1});
  Tensor spec = SeqOp("DFT", {x}, 17).go();
  ASSERT_EQ(spec.shape(), (Shape{1, 5, 2}));
  EXPECT_NEAR(spec.as_double(0), 15, 1e-5);
  Tensor back = SeqOp("DFT", {spec}, 17).i("inverse", 1).go();
  expect_near(back, {1, 0, 2, 0, 3, 0, 4, 0, 5, 0}, 1e-5);
  Tensor one = SeqOp("DFT", {x}, 17).i("onesided", 1).go();
  EXPECT_EQ(one.shape(), (Shape{1, 3, 2}));
  EXPECT_THROW(SeqOp("DFT", {x, I64({0}, {})}, 17).go(), Error);
  Tensor hann = SeqOp("HannWindow", {Tensor::from_vector<int32_t>({4}, {})}, 17).go();
  expect_near(hann, {0, 0.5, 1, 0.5});
  EXPECT_THROW(SeqOp("HannWindow", {F({4}, {})}, 17).go(), Error);
}

}  // namespace
}  // namespace pith
