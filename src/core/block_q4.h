// Block-quantized 4-bit weights (the artifact's BlockQ4 encoding, and what int4
// quantization produces). A tensor of R rows (its first dimension) of K values each is
// cut, row by row, into blocks of B consecutive values (B = 32, 64 or 128; the last block
// of a row is zero-padded; B = 16 also serves rows shorter than 32). Each block stores
// one float16 scale d and B signed 4-bit values q in [-8, 7]; value i of the block is q_i * d. In memory a block is
// BlockQ4<B>: value 2j in the low nibble of byte j, value 2j+1 in the high nibble, each as q + 8. Blocks follow each
// other with no padding, row after row. B = 16 is valid too.
#pragma once

#include <cstdint>
#include <cstring>

#include "core/dtype.h"

namespace pith {

template <int B>
struct BlockQ4 {
  uint16_t scale;          // float16 bits
  uint8_t nibbles[B / 2];  // q + 8, two per byte, low nibble first
};
static_assert(sizeof(BlockQ4<16>) == 10, "a 16-value block is 10 bytes (5 bits per weight)");
static_assert(sizeof(BlockQ4<32>) == 18, "a 32-value block is 18 bytes (4.5 bits per weight)");
static_assert(sizeof(BlockQ4<64>) == 34, "a 64-value block is 34 bytes (4.25 bits per weight)");
static_assert(sizeof(BlockQ4<128>) == 66, "a 128-value block is 66 bytes (4.125 bits per weight)");

inline bool valid_q4_block(int64_t block) { return block == 16 || block == 32 || block == 64 || block == 128; }
inline int64_t q4_block_bytes(int64_t block) { return 2 + block / 2; }
inline int64_t q4_encoded_bytes(int64_t rows, int64_t K, int64_t block) {
  return rows * ((K + block - 1) / block) * q4_block_bytes(block);
}

// The scale of a block that holds exactly q * d values (q integers in [-8, 7], d a
// float16), or a negative number when it does not. n <= block values.
float exact_q4_scale(const float* v, int64_t n);

// Encodes rows x K values already exactly representable block by block (exact_q4_scale
// >= 0 for every block); false, with `out` untouched, when one is not.
bool encode_q4(const float* values, int64_t rows, int64_t K, int64_t block, uint8_t* out);
void decode_q4(const uint8_t* in, int64_t rows, int64_t K, int64_t block, float* values);

}  // namespace pith
