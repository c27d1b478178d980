// The weights the compression techniques work on: float32 initializers read as the
// weight (input 1) of a Conv, Gemm or MatMul (fused forms included), each once, with how
// its elements group by output row and input dimension.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace pith {

struct WeightLayout {
  std::string node, weight;  // the first node reading it; the initializer's name
  size_t index = 0;          // of that node in g.nodes
  // Element (row r, input k) is at r * row_stride + k * k_stride.
  int64_t rows = 0, K = 0, row_stride = 0, k_stride = 1;
};

std::vector<WeightLayout> weight_layers(const Graph& g);

}  // namespace pith
