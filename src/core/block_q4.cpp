#include "core/block_q4.h"

#include <algorithm>
#include <cmath>
#include <vector>

namespace pith {

namespace {

bool same_bits(float a, float b) { return std::memcmp(&a, &b, sizeof a) == 0; }

}  // namespace

float exact_q4_scale(const float* v, int64_t n) {
  float a = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (!std::isfinite(v[i])) return -1;
    a = std::max(a, std::fabs(v[i]));
  }
  if (a == 0) {
    for (int64_t i = 0; i < n; ++i)
      if (!same_bits(v[i], 0.0f)) return -1;  // -0 would decode as +0
    return 0;
  }
  // The largest magnitude is |q| * d for some |q| in [1, 8]: try each.
  for (int q_max = 8; q_max >= 1; --q_max) {
    const float d = a / float(q_max);
    if (!same_bits(half_to_float(float_to_half(d)), d)) continue;
    bool exact = true;
    for (int64_t i = 0; i < n && exact; ++i) {
      const float q = std::nearbyint(v[i] / d) + 0.0f;  // -0 -> +0: decoding never gives -0
      exact = q >= -8 && q <= 7 && same_bits(q * d, v[i]);
    }
    if (exact) return d;
  }
  return -1;
}

bool encode_q4(const float* values, int64_t rows, int64_t K, int64_t block, uint8_t* out) {
  const int64_t blocks = (K + block - 1) / block, bytes = q4_block_bytes(block);
  std::vector<float> scales(size_t(rows * blocks));
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      const int64_t k0 = b * block, n = std::min(block, K - k0);
      const float d = exact_q4_scale(values + r * K + k0, n);
      if (d < 0) return false;
      scales[size_t(r * blocks + b)] = d;
    }
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      uint8_t* p = out + (r * blocks + b) * bytes;
      const float d = scales[size_t(r * blocks + b)];
      const uint16_t h = float_to_half(d);
      std::memcpy(p, &h, 2);
      std::memset(p + 2, 0x88, size_t(block / 2));  // padding decodes as q = 0
      const int64_t k0 = b * block, n = std::min(block, K - k0);
      for (int64_t i = 0; i < n; ++i) {
        const int q = d == 0 ? 0 : int(std::nearbyint(values[r * K + k0 + i] / d));
        uint8_t& byte = p[2 + i / 2];
        byte = uint8_t(i % 2 ? (byte & 0x0f) | ((q + 8) << 4) : (byte & 0xf0) | (q + 8));
      }
    }
  return true;
}

void decode_q4(const uint8_t* in, int64_t rows, int64_t K, int64_t block, float* values) {
  const int64_t blocks = (K + block - 1) / block, bytes = q4_block_bytes(block);
  for (int64_t r = 0; r < rows; ++r)
    for (int64_t b = 0; b < blocks; ++b) {
      const uint8_t* p = in + (r * blocks + b) * bytes;
      uint16_t h;
      std::memcpy(&h, p, 2);
      const float d = half_to_float(h);
      const int64_t k0 = b * block, n = std::min(block, K - k0);
      for (int64_t i = 0; i < n; ++i) {
        const int nibble = i % 2 ? p[2 + i / 2] >> 4 : p[2 + i / 2] & 0x0f;
        values[r * K + k0 + i] = float(nibble - 8) * d;
      }
    }
}

}  // namespace pith
