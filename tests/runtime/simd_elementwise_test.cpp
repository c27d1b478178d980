// The elementwise, pooling and normalization SIMD kernels (kernels/simd/elementwise.def)
// against their reference kernels: random shapes (odd sizes, vector tails, size-1 dims),
// edge values (0, -0, tiny, large, inf, NaN where defined), random attributes, on every
// SIMD target this machine supports; bitwise identical results for 1, 2 and 3 threads;
// and the cases outside each fast path falling back to the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <random>

#include "runtime/kernel.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

constexpr float kInf = std::numeric_limits<float>::infinity();
constexpr float kNaN = std::numeric_limits<float>::quiet_NaN();

// Uniform in [lo, hi]; with `edges`, about one element in 13 is an edge value (NaN only
// with `nan`; +-1e20 only with `huge`: sums of them cancel differently in another order).
Tensor random_tensor(Shape shape, std::mt19937& rng, bool edges = false, bool nan = false, float lo = -4.f,
                     float hi = 4.f, bool huge = true) {
  if (!edges) return uniform_tensor(std::move(shape), rng, lo, hi);
  Tensor t(DType::Float32, std::move(shape));
  std::uniform_real_distribution<float> u(lo, hi);
  const float values[] = {0.f,  -0.f,  1e-30f, -1e-30f, 1e20f, -1e20f, kInf,   -kInf, 3.f,   -3.f,  6.f,
                          -6.f, 88.7f, 88.8f,  -88.f,   -95.f, 100.f,  -110.f, 0.5f,  -0.5f, 1e-3f, kNaN};
  const size_t n_values = sizeof(values) / sizeof(values[0]) - (nan ? 0 : 1);
  for (int64_t i = 0; i < t.numel(); ++i) {
    float v = u(rng);
    if (rng() % 13 == 0) v = values[rng() % n_values];
    if (!huge && std::fabs(v) == 1e20f) v = 0.f;
    t.data<float>()[i] = v;
  }
  return t;
}

Shape random_shape(std::mt19937& rng, int max_rank = 4, int64_t max_dim = 19) {
  Shape s(size_t(rng() % (max_rank + 1)));
  for (auto& d : s) d = rng() % 4 == 0 ? 1 : 1 + int64_t(rng() % uint32_t(max_dim));
  return s;
}

// How a fast output may differ from the reference.
struct Tolerance {
  double rel = 0, abs = 0;  // |got - want| <= rel * |want| + abs; both 0: bitwise
  bool signed_zero = true;  // whether -0 and +0 must match
};
const Tolerance kBitwise{};

void expect_match(const Tensor& got, const Tensor& want, const Tolerance& tol, const std::string& what) {
  ASSERT_TRUE(got.defined()) << what;
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  ASSERT_EQ(got.shape(), want.shape()) << what;
  for (int64_t i = 0; i < want.numel(); ++i) {
    const float a = got.data<float>()[i], b = want.data<float>()[i];
    if (std::isnan(b) || std::isnan(a)) {
      ASSERT_TRUE(std::isnan(a) && std::isnan(b)) << what << " element " << i << ": got " << a << ", want " << b;
      continue;
    }
    if (tol.rel == 0 && tol.abs == 0) {
      if (tol.signed_zero) {
        ASSERT_EQ(std::signbit(a), std::signbit(b)) << what << " element " << i << ": " << a;
      }
      ASSERT_EQ(a, b) << what << " element " << i;
      continue;
    }
    if (std::isinf(b)) {
      ASSERT_EQ(a, b) << what << " element " << i;
      continue;
    }
    ASSERT_LE(std::fabs(double(a) - double(b)), tol.rel * std::fabs(double(b)) + tol.abs)
        << what << " element " << i << ": got " << a << ", want " << b;
  }
}

struct Pools {
  ThreadPool two{2}, three{3};
};
Pools& pools() {
  static Pools p;
  return p;
}

// The fast kernel against the reference, and the fast kernel bitwise the same on 1, 2
// and 3 threads. Compares output 0.
void check(const Node& node, int64_t opset, const std::vector<Tensor>& inputs, const Tolerance& tol,
           const std::string& what) {
  KernelFn fast = find_kernel(node.domain, node.op_type);
  KernelFn ref = find_reference_kernel(node.domain, node.op_type);
  ASSERT_NE(fast, nullptr) << node.op_type;
  ASSERT_NE(fast, ref) << node.op_type << " has no SIMD kernel";
  const Tensor want = run_kernel(ref, node, opset, inputs)[0];
  const Tensor got = run_kernel(fast, node, opset, inputs)[0];
  expect_match(got, want, tol, what);
  expect_bitwise(run_kernel(fast, node, opset, inputs, &pools().two)[0], got, what + " (2 threads)");
  expect_bitwise(run_kernel(fast, node, opset, inputs, &pools().three)[0], got, what + " (3 threads)");
}

const Tolerance kExpTol{2e-6, 1e-30};
// alpha * x + beta may be one fused multiply-add in the SIMD code (the compiler
// contracts it on FMA targets): one rounding fewer than the reference.
const Tolerance kAffineTol{1e-6, 1e-7};

struct UnaryCase {
  const char* op;
  Tolerance tol;
};

TEST(SimdElementwise, UnaryMatchesReference) {
  const UnaryCase cases[] = {
      {"Relu", kBitwise},      {"LeakyRelu", kBitwise},  {"HardSigmoid", kAffineTol},
      {"HardSwish", kBitwise}, {"Sqrt", kBitwise},       {"Neg", kBitwise},
      {"Abs", kBitwise},       {"Reciprocal", kBitwise}, {"Sigmoid", kExpTol},
      {"Tanh", kExpTol},       {"Exp", kExpTol},         {"Erf", kExpTol},
  };
  std::mt19937 rng(11);
  for_each_target([&] {
    for (const auto& c : cases) {
      for (int trial = 0; trial < 12; ++trial) {
        Node node = one_node(c.op, 1);
        Shape shape = trial == 0 ? Shape{70001} : random_shape(rng);  // one big tensor: threads
        if (std::string(c.op) == "LeakyRelu" && trial % 2) node.attributes["alpha"] = attr_float(0.3f);
        if (std::string(c.op) == "HardSigmoid" && trial % 2) {
          node.attributes["alpha"] = attr_float(0.1666667f);
          node.attributes["beta"] = attr_float(0.45f);
        }
        check(node, 17, {random_tensor(shape, rng, true, true)}, c.tol, std::string(c.op) + " " + shape_str(shape));
      }
    }
  });
}

TEST(SimdElementwise, UnaryEdgeValuesAndDenseRanges) {
  // Every edge value in every lane position, and dense sweeps of the ranges where the
  // approximations switch formulas.
  std::vector<float> v = {0.f,        -0.f,  1e-30f, -1e-30f,    1e-40f, 1e20f,  -1e20f, kInf,
                          -kInf,      kNaN,  -kNaN,  3.f,        -3.f,   6.f,    -6.f,   88.72283f,
                          88.72284f,  88.8f, -87.f,  -88.f,      -95.f,  -103.f, -104.f, -105.f,
                          0.4999999f, 0.5f,  -0.5f,  0.5000001f, 4.f,    -4.f,   10.f,   -10.f};
  for (float x = -12.f; x <= 12.f; x += 0.0137f) v.push_back(x);
  Tensor t(DType::Float32, {int64_t(v.size())});
  std::memcpy(t.data<float>(), v.data(), v.size() * sizeof(float));
  for_each_target([&] {
    for (const char* op : {"Relu", "LeakyRelu", "HardSwish", "Sqrt", "Neg", "Abs", "Reciprocal"})
      check(one_node(op, 1), 17, {t}, kBitwise, op);
    check(one_node("HardSigmoid", 1), 17, {t}, kAffineTol, "HardSigmoid");
    for (const char* op : {"Sigmoid", "Tanh", "Exp", "Erf"}) check(one_node(op, 1), 17, {t}, kExpTol, op);
  });
}

TEST(SimdElementwise, ClipBoundsFromInputsAndAttributes) {
  std::mt19937 rng(12);
  auto scalar = [](float f, Shape s = {}) {
    Tensor t(DType::Float32, std::move(s));
    t.data<float>()[0] = f;
    return t;
  };
  for_each_target([&] {
    for (int trial = 0; trial < 24; ++trial) {
      const Shape shape = random_shape(rng);
      const Tensor x = random_tensor(shape, rng, true, true);
      const float lo = -1.f - float(rng() % 3), hi = trial % 7 == 0 ? lo - 1.f : 1.f + float(rng() % 5);
      // Opset 13: optional inputs (either may be missing or empty-named).
      Node n13 = one_node("Clip", 3);
      std::vector<Tensor> ins = {x, scalar(lo), scalar(hi, trial % 2 ? Shape{} : Shape{1})};
      if (trial % 3 == 1) {
        n13.inputs[1] = "";
        ins[1] = Tensor();
      }
      if (trial % 4 == 2) {
        n13.inputs.resize(2);
        ins.resize(2);
      }
      check(n13, 13, ins, kBitwise, "Clip-13 " + shape_str(shape));
      // Opset 6: attributes, either may be absent.
      Node n6 = one_node("Clip", 1);
      if (trial % 3 != 0) n6.attributes["min"] = attr_float(lo);
      if (trial % 3 != 1) n6.attributes["max"] = attr_float(hi);
      check(n6, 6, {x}, kBitwise, "Clip-6 " + shape_str(shape));
    }
  });
}

TEST(SimdElementwise, PowSquare) {
  std::mt19937 rng(13);
  for_each_target([&] {
    for (int trial = 0; trial < 12; ++trial) {
      const Shape shape = trial == 0 ? Shape{40000} : random_shape(rng);
      Tensor e;
      switch (trial % 3) {
        case 0:
          e = Tensor(DType::Float32, {});
          e.data<float>()[0] = 2.f;
          break;
        case 1:
          e = Tensor(DType::Int64, {1});
          e.data<int64_t>()[0] = 2;
          break;
        default:
          e = Tensor(DType::Float32, {1});
          e.data<float>()[0] = trial % 2 ? 3.f : 2.f;
          break;  // 3: fallback
      }
      check(one_node("Pow", 2), 17, {random_tensor(shape, rng, true, true), e}, kBitwise, "Pow " + shape_str(shape));
    }
  });
}

// Shapes for a binary op: same shape, scalars, per-channel, last-dim, outer products,
// and patterns that need the reference fallback. Sides are swapped at random.
std::pair<Shape, Shape> binary_shapes(std::mt19937& rng, int kind) {
  auto dim = [&] { return rng() % 5 == 0 ? int64_t(1) : 1 + int64_t(rng() % 23); };
  const int64_t N = 1 + rng() % 3, C = dim(), H = dim(), W = dim();
  std::pair<Shape, Shape> s;
  switch (kind % 9) {
    case 0:
      s = {{N, C, H, W}, {N, C, H, W}};
      break;
    case 1:
      s = {{N, C, H, W}, {}};
      break;
    case 2:
      s = {{N, C, H, W}, {1}};
      break;
    case 3:
      s = {{N, C, H, W}, {1, C, 1, 1}};
      break;
    case 4:
      s = {{N, C, H, W}, {C, 1, 1}};
      break;
    case 5:
      s = {{N, H, W}, {W}};
      break;
    case 6:
      s = {{N, 1, W}, {1, C, 1}};
      break;  // outer product
    case 7:
      s = {{N, 1, H, 1}, {1, C, 1, W}};
      break;  // four merged dims: fallback
    default:
      s = {random_shape(rng, 3, 9), random_shape(rng, 3, 9)};
      break;
  }
  if (rng() % 2) std::swap(s.first, s.second);
  return s;
}

TEST(SimdElementwise, BinaryBroadcastsMatchReference) {
  std::mt19937 rng(14);
  for_each_target([&] {
    for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
      for (int trial = 0; trial < 40; ++trial) {
        auto [sa, sb] = binary_shapes(rng, trial);
        if (trial == 0) sa = sb = {3, 64, 17, 19};  // big enough to split among threads
        if (trial == 1) {
          sa = {1, 96, 56, 56};
          sb = {1, 96, 1, 1};
        }
        Shape out;
        try {
          out = broadcast_shapes(sa, sb);
        } catch (const Error&) {
          continue;  // random shapes that do not broadcast
        }
        check(one_node(op, 2), 17, {random_tensor(sa, rng, true, true), random_tensor(sb, rng, true, true)}, kBitwise,
              std::string(op) + " " + shape_str(sa) + " " + shape_str(sb));
      }
    }
  });
}

TEST(SimdElementwise, FallbacksGiveTheReferenceResult) {
  std::mt19937 rng(15);
  // Other dtypes.
  Tensor ia(DType::Int32, {5, 7}), ib(DType::Int32, {7});
  for (int64_t i = 0; i < ia.numel(); ++i) ia.data<int32_t>()[i] = int32_t(rng() % 100) - 50;
  for (int64_t i = 0; i < ib.numel(); ++i) ib.data<int32_t>()[i] = int32_t(rng() % 9) + 1;
  for (const char* op : {"Add", "Sub", "Mul", "Div"}) {
    const Node node = one_node(op, 2);
    const Tensor want = run_kernel(find_reference_kernel("", op), node, 17, {ia, ib})[0];
    const Tensor got = run_kernel(find_kernel("", op), node, 17, {ia, ib})[0];
    expect_bitwise(got, want, op);
  }
  for (const char* op : {"Relu", "Neg", "Abs"}) {
    const Node node = one_node(op, 1);
    expect_bitwise(run_kernel(find_kernel("", op), node, 17, {ia})[0],
                   run_kernel(find_reference_kernel("", op), node, 17, {ia})[0], op);
  }
  // Pre-opset-7 broadcasting with an axis.
  Node legacy = one_node("Add", 2);
  legacy.attributes["broadcast"] = attr_int(1);
  legacy.attributes["axis"] = attr_int(1);
  const Tensor a = random_tensor({2, 3, 4, 5}, rng), b = random_tensor({3}, rng);
  expect_bitwise(run_kernel(find_kernel("", "Add"), legacy, 6, {a, b})[0],
                 run_kernel(find_reference_kernel("", "Add"), legacy, 6, {a, b})[0], "legacy Add");
  // Shapes that do not broadcast: the reference's error.
  EXPECT_THROW(
      run_kernel(find_kernel("", "Mul"), one_node("Mul", 2), 17, {random_tensor({2, 3}, rng), random_tensor({4}, rng)}),
      Error);
  // MaxPool with Indices.
  Node mp = one_node("MaxPool", 1, 2);
  mp.attributes["kernel_shape"] = attr_ints({3, 3});
  mp.attributes["strides"] = attr_ints({2, 2});
  const Tensor x = random_tensor({1, 3, 9, 10}, rng);
  auto got = run_kernel(find_kernel("", "MaxPool"), mp, 17, {x});
  auto want = run_kernel(find_reference_kernel("", "MaxPool"), mp, 17, {x});
  expect_bitwise(got[0], want[0], "MaxPool Y");
  expect_bitwise(got[1], want[1], "MaxPool Indices");
  // LayerNormalization with Mean / InvStdDev.
  Node ln = one_node("LayerNormalization", 3, 3);
  const Tensor lx = random_tensor({4, 10}, rng), ls = random_tensor({10}, rng), lb = random_tensor({10}, rng);
  got = run_kernel(find_kernel("", "LayerNormalization"), ln, 17, {lx, ls, lb});
  want = run_kernel(find_reference_kernel("", "LayerNormalization"), ln, 17, {lx, ls, lb});
  for (int o = 0; o < 3; ++o) expect_bitwise(got[size_t(o)], want[size_t(o)], "LayerNorm output " + std::to_string(o));
  // Softmax along a middle axis (opset 13).
  Node sm = one_node("Softmax", 1);
  sm.attributes["axis"] = attr_int(1);
  const Tensor sx = random_tensor({2, 5, 3}, rng);
  expect_bitwise(run_kernel(find_kernel("", "Softmax"), sm, 13, {sx})[0],
                 run_kernel(find_reference_kernel("", "Softmax"), sm, 13, {sx})[0], "Softmax axis 1");
}

TEST(SimdPool, GlobalPoolsMatchReference) {
  std::mt19937 rng(16);
  for_each_target([&] {
    for (const char* op : {"GlobalAveragePool", "GlobalMaxPool"}) {
      for (int trial = 0; trial < 20; ++trial) {
        Shape s = {1 + int64_t(rng() % 2), 1 + int64_t(rng() % 40)};
        const int spatial = trial % 5 == 4 ? 1 : 2 + int(trial % 7 == 6);
        for (int k = 0; k < spatial; ++k) s.push_back(1 + int64_t(rng() % 17));
        if (trial == 0) s = {1, 96, 56, 56};
        const bool is_max = std::string(op) == "GlobalMaxPool";
        // Averages: no huge values (double sums in another order would lose other bits).
        check(one_node(op, 1), 17, {random_tensor(s, rng, is_max)},
              is_max ? Tolerance{0, 0, false} : Tolerance{1e-6, 0}, std::string(op) + " " + shape_str(s));
      }
    }
  });
}

TEST(SimdPool, WindowedPoolsMatchReference) {
  std::mt19937 rng(17);
  for_each_target([&] {
    for (int trial = 0; trial < 160; ++trial) {
      const bool is_max = trial % 2 == 0;
      Node node = one_node(is_max ? "MaxPool" : "AveragePool", 1);
      const int64_t KH = 1 + rng() % 5, KW = 1 + rng() % 5, sh = 1 + rng() % 3;
      const int64_t sw = trial < 16 ? 2 : 1 + rng() % 3;  // stride 2 has a vector deinterleave
      const int64_t dh = is_max || trial % 4 == 1 ? 1 + rng() % 2 : 1, dw = dh == 1 ? 1 + rng() % 2 : 1;
      node.attributes["kernel_shape"] = attr_ints({KH, KW});
      node.attributes["strides"] = attr_ints({sh, sw});
      if (dh != 1 || dw != 1) node.attributes["dilations"] = attr_ints({dh, dw});
      const int64_t pt = rng() % KH, pl = rng() % KW, pb = rng() % KH, pr = rng() % KW;
      switch (rng() % 6) {
        case 0:
          node.attributes["auto_pad"] = attr_string("SAME_UPPER");
          break;
        case 1:
          node.attributes["auto_pad"] = attr_string("SAME_LOWER");
          break;
        case 2:
          node.attributes["auto_pad"] = attr_string("VALID");
          break;
        default:
          node.attributes["pads"] = attr_ints({pt, pl, pb, pr});
          break;
      }
      if (rng() % 2) node.attributes["ceil_mode"] = attr_int(1);
      if (!is_max && rng() % 2) node.attributes["count_include_pad"] = attr_int(1);
      const int64_t H = (KH - 1) * dh + 1 + rng() % 20, W = (KW - 1) * dw + 1 + rng() % (trial < 16 ? 90 : 37);
      Shape s = {1 + int64_t(rng() % 2), 1 + int64_t(rng() % 5), H, W};
      if (trial == 0) s = {1, 64, 56, 56};
      if (trial == 2) s = {1, 5, std::max<int64_t>(H, 13), std::max<int64_t>(W, 111)};  // SqueezeNet-like odd rows
      if (trial == 4) s = {1, 3, H, std::max<int64_t>(W, 13)};  // narrower than a vector: tails over-read then not
      // Averages of [-1, 1] values: float sums against the reference's double.
      const Tensor x = is_max ? random_tensor(s, rng, true) : random_tensor(s, rng, false, false, -1.f, 1.f);
      check(node, 19, {x}, is_max ? Tolerance{0, 0, false} : Tolerance{1e-6, 1e-6},
            node.op_type + " " + shape_str(s) + " k" + std::to_string(KH) + "x" + std::to_string(KW) + " s" +
                std::to_string(sh) + "x" + std::to_string(sw) + " d" + std::to_string(dh) + "x" + std::to_string(dw));
    }
  });
}

TEST(SimdNorm, SoftmaxMatchesReference) {
  std::mt19937 rng(18);
  for_each_target([&] {
    for (const char* op : {"Softmax", "LogSoftmax"}) {
      for (int trial = 0; trial < 30; ++trial) {
        Shape s = random_shape(rng, 4, 40);
        if (s.empty()) s = {1 + int64_t(rng() % 70)};
        if (trial == 0) s = {4, 65, 65};
        if (trial == 1) s = {3, 1000};
        Node node = one_node(op, 1);
        int64_t opset = 13;
        if (trial % 3 == 1) {
          opset = 11;  // 2-D coercion at `axis`; rows of at most ~2000 (the reference's
                       // float sum of longer rows drifts from any other summation order)
          int64_t axis = int64_t(rng() % s.size()), len = shape_numel(Shape(s.begin() + axis, s.end()));
          while (len > 2000) len /= s[size_t(axis++)];
          node.attributes["axis"] = attr_int(axis);
        } else if (trial % 3 == 2) {
          node.attributes["axis"] = attr_int(-1);
        }
        const Tensor x =
            trial % 5 == 4 ? random_tensor(s, rng, true, true) : random_tensor(s, rng, false, false, -8.f, 8.f);
        check(node, opset, {x}, Tolerance{2e-6, 2e-6}, std::string(op) + " " + shape_str(s));
      }
    }
  });
}

TEST(SimdNorm, LayerNormalizationMatchesReference) {
  std::mt19937 rng(19);
  for_each_target([&] {
    for (int trial = 0; trial < 30; ++trial) {
      Shape s = random_shape(rng, 3, 40);
      s.push_back(1 + int64_t(rng() % 200));
      if (trial == 0) s = {1, 197, 192};
      const int64_t rank = int64_t(s.size());
      const int64_t axis = trial % 4 == 1 ? int64_t(rng() % rank) : -1;
      const int64_t a = axis < 0 ? axis + rank : axis;
      const Shape inner(s.begin() + a, s.end());
      Node node = one_node("LayerNormalization", trial % 3 == 0 ? 2 : 3);
      node.attributes["axis"] = attr_int(axis);
      if (trial % 2) node.attributes["epsilon"] = attr_float(1e-6f);
      std::vector<Tensor> ins = {random_tensor(s, rng, trial % 7 == 3, false, -4.f, 4.f, false),
                                 random_tensor(inner, rng)};
      if (node.inputs.size() == 3) ins.push_back(random_tensor(inner, rng));
      check(node, 17, ins, Tolerance{1e-6, 1e-6}, "LayerNorm " + shape_str(s) + " axis " + std::to_string(axis));
    }
  });
}

TEST(SimdNorm, ReduceMeanMatchesReference) {
  std::mt19937 rng(20);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      Shape s = random_shape(rng, 4, 30);
      if (s.empty()) s = {7};
      if (trial == 0) s = {1, 65, 128};
      const int64_t r = int64_t(s.size());
      std::vector<int64_t> axes;
      switch (trial % 4) {
        case 0:
          axes = {-1};
          break;
        case 1:
          for (int64_t k = r - 1 - int64_t(rng() % r); k < r; ++k) axes.push_back(k);
          break;  // trailing
        case 2:
          axes = {int64_t(rng() % r)};
          break;  // any one axis
        default:
          break;  // all axes
      }
      std::string axes_str = " axes";
      for (int64_t k : axes) {
        axes_str += ' ';
        axes_str += std::to_string(k);
      }
      Node node = one_node("ReduceMean", 1);
      const bool keep = trial % 3 != 2;
      node.attributes["keepdims"] = attr_int(keep);
      const Tensor x = random_tensor(s, rng, trial % 5 == 1, false, -4.f, 4.f, false);
      if (trial % 2) {
        node.attributes["axes"] = attr_ints(axes);
        check(node, 13, {x}, Tolerance{1e-6, 1e-30}, "ReduceMean-13 " + shape_str(s) + axes_str);
      } else {
        Tensor at(DType::Int64, {int64_t(axes.size())});
        for (size_t k = 0; k < axes.size(); ++k) at.data<int64_t>()[k] = axes[k];
        Node n18 = one_node("ReduceMean", axes.empty() ? 1 : 2);
        n18.attributes = node.attributes;
        check(n18, 18, axes.empty() ? std::vector<Tensor>{x} : std::vector<Tensor>{x, at}, Tolerance{1e-6, 1e-30},
              "ReduceMean-18 " + shape_str(s) + axes_str);
      }
    }
  });
}

}  // namespace
}  // namespace pith
