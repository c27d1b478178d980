// Dynamic int8 quantization of Gemm and MatMul layers (the form ONNX Runtime's
// quantize_dynamic writes): weights int8, symmetric, one scale per output column,
// stored once; activations quantized at run time, per tensor, from their own min and max.
// Each quantized layer becomes standard ONNX ops, so the result also runs elsewhere:
//   DynamicQuantizeLinear(A) -> (A_q uint8, a_scale, a_zero_point)
//   MatMulInteger(A_q, W_q [K, N] int8, a_zero_point) -> int32
//   Cast(float) * (a_scale * w_scale[n])  [+ bias]  [Relu]
// No calibration data is needed. pith's fuse_qdq pass lowers each MatMulInteger, Cast
// and scale to one pith.QGemm with a float output (the same arithmetic, bit for bit).
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace pith {

struct DynamicInt8Report {
  std::vector<std::string> layers;                           // quantized nodes
  std::vector<std::pair<std::string, std::string>> skipped;  // node, why it stayed float
};

// Quantizes an optimized float graph (optimize() has run) in place.
DynamicInt8Report quantize_int8_dynamic(Graph& g);

}  // namespace pith
