// Static int8 quantization, written as a QDQ graph (QuantizeLinear/DequantizeLinear pairs,
// the form ONNX Runtime and TensorRT consume). Weights of Conv, Gemm and MatMul (with an
// initializer weight) become int8, symmetric, one scale per output channel, range
// [-127, 127]; biases int32 with scale x_scale * w_scale[c]; the activations those nodes
// read become uint8 with a per-tensor scale and zero point from calibration.
// Data movement between them (MaxPool, Flatten, Reshape, Squeeze, Unsqueeze, Transpose)
// shares its input's parameters, so that it can run on the int8 tensor. Graph outputs
// stay float. pith's fuse_qdq pass lowers the result to int8 kernels.
#pragma once

#include <set>
#include <string>
#include <vector>

#include "compress/calibration.h"
#include "ir/graph.h"

namespace pith {

struct Int8Options {
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.99;         // for CalibrationMethod::Percentile
  std::set<std::string> keep_float;  // node names left in float (mixed precision)
  // Largest weight magnitude: 127 (8 bits), or 64 so that a u8 x s8 pair sum fits int16
  // (255 * 64 * 2 < 32768): x86 AVX2 without VNNI multiplies with saturating 16-bit
  // pair sums (vpmaddubsw), so ONNX Runtime is exact there only on such weights.
  int weight_max = 127;
  PredictOptions run;  // threads and batch of the calibration runs
};

struct QuantizedLayer {
  std::string node, op;  // op: Conv, Gemm or MatMul (fused forms reported by base op)
  int64_t channels = 0;  // output channels with their own weight scale
  float input_scale = 0;
  int32_t input_zero_point = 0;
};

struct Int8Report {
  std::vector<QuantizedLayer> layers;
  std::vector<std::pair<std::string, std::string>> skipped;  // node, why it stayed float
  size_t quantized_activations = 0;                          // tensors given a Q/DQ pair
};

// Symmetric int8 weights, one scale per index of `channel_axis` (0, or 1 of a 2-D weight):
// scale = max |w| / wmax (1 for an all-zero channel), codes round(w / scale) clamped to
// [-wmax, wmax]. Shared by the static and dynamic int8 quantizers.
struct SymmetricWeights {
  Tensor codes;   // int8, w's shape
  Tensor scales;  // float32, one per channel
};
SymmetricWeights quantize_weights_symmetric(const Tensor& w, int64_t channel_axis, int wmax);

// Quantizes an optimized float graph (optimize() has run) in place; `calibration` holds
// samples for the graph's one input (first axis = samples). Errors name the problem
// (no input, calibration data of the wrong shape or dtype).
Int8Report quantize_int8_static(Graph& g, const Tensor& calibration, const Int8Options& options = {});

}  // namespace pith
