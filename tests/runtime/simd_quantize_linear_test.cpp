// The SIMD QuantizeLinear / DequantizeLinear kernels against the reference ones, bitwise:
// random shapes (vector tails, empty), uint8 and int8, random and extreme zero points and
// scales, edge values (ties at .5 steps, saturation, +-inf, NaN, -0, huge), 1 and 3
// threads, on every SIMD target; and the cases outside the fast path (per-axis scales,
// other types) falling back to the reference.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>

#include "runtime/kernel.h"
#include "test_util/op_runner.h"

namespace pith {
namespace {

using namespace test_util;

Tensor edgy_floats(int64_t n, float scale, std::mt19937& rng) {
  const float inf = std::numeric_limits<float>::infinity(), nan = std::numeric_limits<float>::quiet_NaN();
  const float edges[] = {0.f,
                         -0.f,
                         inf,
                         -inf,
                         nan,
                         1e30f,
                         -1e30f,
                         0.5f * scale,
                         -0.5f * scale,
                         1.5f * scale,
                         2.5f * scale,
                         -2.5f * scale,
                         127.5f * scale,
                         255.5f * scale,
                         -128.5f * scale,
                         1e-40f};
  std::uniform_real_distribution<float> u(-300.f * scale, 300.f * scale);
  std::uniform_int_distribution<int> steps(-300, 300);
  Tensor t(DType::Float32, {n});
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t r = rng() % 8;
    // Exact multiples of half a step: the ties that round-half-even decides.
    t.data<float>()[i] = r == 0   ? edges[rng() % std::size(edges)]
                         : r == 1 ? (float(steps(rng)) + 0.5f) * scale
                                  : u(rng);
  }
  return t;
}

struct Pools {
  ThreadPool three{3};
};
Pools& pools() {
  static Pools p;
  return p;
}

void check(const Node& node, const std::vector<Tensor>& inputs, const std::string& what) {
  KernelFn fast = find_kernel(node.domain, node.op_type), ref = find_reference_kernel(node.domain, node.op_type);
  ASSERT_NE(fast, ref) << node.op_type << " has no SIMD kernel";
  const Tensor want = run_kernel(ref, node, 19, inputs)[0];
  const Tensor got = run_kernel(fast, node, 19, inputs)[0];
  ASSERT_EQ(got.dtype(), want.dtype()) << what;
  expect_bitwise(got, want, what);
  expect_bitwise(run_kernel(fast, node, 19, inputs, &pools().three)[0], want, what + " (3 threads)");
}

TEST(SimdQuantizeLinear, QuantizeMatchesReferenceBitwise) {
  std::mt19937 rng(5);
  for_each_target([&] {
    for (int trial = 0; trial < 60; ++trial) {
      const bool u8 = trial % 2 == 0;
      const int64_t n = trial == 0 ? 70001 : trial == 1 ? 0 : 1 + int64_t(rng() % 97);
      const float scale = trial % 5 == 0 ? 1.f : std::ldexp(1.f + float(rng() % 1000) / 1000.f, -int(rng() % 12));
      const int32_t zp = trial % 7 == 0 ? (u8 ? 255 : -128) : u8 ? int32_t(rng() % 256) : int32_t(rng() % 256) - 128;
      const Tensor zero = u8 ? Tensor::scalar<uint8_t>(uint8_t(zp)) : Tensor::scalar<int8_t>(int8_t(zp));
      const Tensor x = edgy_floats(n, scale, rng);
      const Tensor s = trial % 3 ? Tensor::scalar<float>(scale) : Tensor::from_vector<float>({scale}, {1});
      check(one_node("QuantizeLinear", 3), {x, s, zero},
            "quantize " + std::string(u8 ? "u8" : "s8") + " n " + std::to_string(n) + " zp " + std::to_string(zp));
    }
    // No zero point: uint8 with zero point 0.
    check(one_node("QuantizeLinear", 2), {edgy_floats(33, 0.1f, rng), Tensor::scalar<float>(0.1f)}, "no zero point");
  });
}

TEST(SimdQuantizeLinear, DequantizeMatchesReferenceBitwise) {
  std::mt19937 rng(6);
  for_each_target([&] {
    for (int trial = 0; trial < 40; ++trial) {
      const bool u8 = trial % 2 == 0;
      const int64_t n = trial == 0 ? 70001 : 1 + int64_t(rng() % 97);
      Tensor x(u8 ? DType::UInt8 : DType::Int8, {n});
      for (int64_t i = 0; i < n; ++i)
        static_cast<uint8_t*>(x.raw())[i] = uint8_t(rng() % 4 == 0 ? 255 * (rng() % 2) : rng());
      const int32_t zp = u8 ? int32_t(rng() % 256) : int32_t(rng() % 256) - 128;
      const Tensor zero = u8 ? Tensor::scalar<uint8_t>(uint8_t(zp)) : Tensor::scalar<int8_t>(int8_t(zp));
      const float scale = std::ldexp(1.f + float(rng() % 1000) / 1000.f, -int(rng() % 12));
      check(one_node("DequantizeLinear", 3), {x, Tensor::scalar<float>(scale), zero},
            "dequantize " + std::string(u8 ? "u8" : "s8") + " n " + std::to_string(n));
    }
  });
}

TEST(SimdQuantizeLinear, PerAxisAndOtherTypesFallBackToTheReference) {
  std::mt19937 rng(7);
  Node q = one_node("QuantizeLinear", 3);
  q.attributes["axis"] = attr_int(0);
  const Tensor x = edgy_floats(6, 0.5f, rng).reshaped({2, 3});
  const Tensor scales = Tensor::from_vector<float>({0.5f, 0.25f}, {2});
  const Tensor zps = Tensor::from_vector<uint8_t>({3, 200}, {2});
  check(q, {x, scales, zps}, "per-axis quantize");
  Node d = one_node("DequantizeLinear", 3);
  check(d,
        {Tensor::from_vector<int32_t>({-5, 7, 1 << 20}, {3}), Tensor::scalar<float>(0.5f), Tensor::scalar<int32_t>(2)},
        "int32 dequantize");
}

}  // namespace
}  // namespace pith
