// int4 weight-only quantization: every Conv/Gemm/MatMul weight becomes 4-bit values in
// blocks of 32, 64 or 128 sharing a float16 scale (core/block_q4.h: along each row of the
// weight's first dimension), which the .pith writer stores as such (4.5, 4.25 or 4.125
// bits per weight) and the reader widens to float32 at load; activations stay float.
// With calibration samples the rounding is GPTQ's (Frantar et al., 2022): layer by layer
// in graph order, on each layer's input as the layers before it were already quantized,
// H = X^T X (damped by 1 % of its mean diagonal); input dimensions are quantized one at a
// time and each one's rounding error, weighted by the Cholesky factor of H^-1, is pushed
// onto the dimensions not yet quantized; a block's scale is set from the weights as they
// are when the block is reached. Without samples, plain round-to-nearest.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"
#include "ir/graph.h"

namespace pith {

struct Int4Options {
  // Weights per scale: 16, 32, 64 or 128. A layer whose rows are shorter than that takes
  // the smaller block that stores it in fewer bytes (a 3x3 depthwise row of 9: 16).
  int64_t block = 32;
  Tensor calibration;  // samples for the graph's one input; empty: round to nearest
  int64_t calibration_samples = 512;
  double damp = 0.01;
};

struct Int4Layer {
  std::string node;
  int64_t weights = 0;
  bool gptq = false;  // false: rounded to nearest (no samples, or a layer GPTQ cannot see)
  int64_t block = 0;  // the block it was quantized in
};

struct Int4Report {
  std::vector<Int4Layer> layers;
  int64_t weights = 0;
};

// Quantizes g's weights in place (their values become exactly q * d); Errors for a bad block
// size or calibration data the model does not take.
Int4Report quantize_int4_weights(Graph& g, const Int4Options& options);

}  // namespace pith
