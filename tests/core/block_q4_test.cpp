// The 4-bit block format: values that are q * d round-trip exactly for every block size
// and odd row lengths; anything else (an off-grid value, -0, NaN) is refused, so the
// artifact writer only ever uses it losslessly.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "core/block_q4.h"

namespace pith {
namespace {

// rows x K values on the grid of a random float16 scale per block.
std::vector<float> on_grid(int64_t rows, int64_t K, int64_t block, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> q(-8, 7);
  std::uniform_real_distribution<float> scale(1e-4f, 2.0f);
  std::vector<float> v(size_t(rows * K));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t k0 = 0; k0 < K; k0 += block) {
      const float d = half_to_float(float_to_half(scale(rng)));
      for (int64_t k = k0; k < std::min(K, k0 + block); ++k) v[size_t(r * K + k)] = float(q(rng)) * d + 0.0f;
    }
  return v;
}

TEST(BlockQ4, RoundTripsExactlyOnRandomShapes) {
  for (int64_t block : {16, 32, 64, 128})
    for (auto [rows, K] : std::vector<std::pair<int64_t, int64_t>>{{1, 1}, {3, 25}, {7, 100}, {2, 128}, {5, 300}}) {
      SCOPED_TRACE(std::to_string(block) + " " + std::to_string(rows) + "x" + std::to_string(K));
      const std::vector<float> v = on_grid(rows, K, block, uint32_t(block * 1000 + K));
      std::vector<uint8_t> bytes(size_t(q4_encoded_bytes(rows, K, block)));
      ASSERT_TRUE(encode_q4(v.data(), rows, K, block, bytes.data()));
      std::vector<float> back(v.size(), -1.0f);
      decode_q4(bytes.data(), rows, K, block, back.data());
      for (size_t i = 0; i < v.size(); ++i) ASSERT_EQ(std::memcmp(&back[i], &v[i], 4), 0) << i;
    }
}

TEST(BlockQ4, TheLayoutIsTheDocumentedOne) {
  // One block of 32: scale 0.5, q = -8, -7, ..., 7, -8, ...
  std::vector<float> v(32);
  for (int i = 0; i < 32; ++i) v[size_t(i)] = float(i % 16 - 8) * 0.5f + 0.0f;
  BlockQ4<32> b{};
  ASSERT_TRUE(encode_q4(v.data(), 1, 32, 32, reinterpret_cast<uint8_t*>(&b)));
  EXPECT_EQ(half_to_float(b.scale), 0.5f);
  EXPECT_EQ(b.nibbles[0], 0x10);  // q0 = -8 -> 0 (low), q1 = -7 -> 1 (high)
  EXPECT_EQ(b.nibbles[7], 0xfe);  // q14 = 6 -> 14, q15 = 7 -> 15
}

TEST(BlockQ4, RefusesValuesOffTheGrid) {
  std::vector<float> v = on_grid(2, 64, 32, 7);
  std::vector<uint8_t> bytes(size_t(q4_encoded_bytes(2, 64, 32)), 0xab);
  const std::vector<uint8_t> untouched = bytes;
  for (float bad : {0.1234567f, -0.0f, std::nanf(""), INFINITY}) {
    std::vector<float> w = v;
    w[40] = bad;
    EXPECT_FALSE(encode_q4(w.data(), 2, 64, 32, bytes.data())) << bad;
    EXPECT_EQ(bytes, untouched);
  }
  // Scales that are not float16 values, and 9 levels above the largest.
  const float third[2] = {1.0f / 3.0f, 0};
  EXPECT_LT(exact_q4_scale(third, 2), 0);
  const float zeros[3] = {0, 0, 0};
  EXPECT_EQ(exact_q4_scale(zeros, 3), 0.0f);
  const float wide[2] = {16.0f, 1.0f};  // would need q = 16
  EXPECT_LT(exact_q4_scale(wide, 2), 0);
}

}  // namespace
}  // namespace pith
