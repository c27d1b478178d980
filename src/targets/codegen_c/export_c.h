// C export for microcontrollers: a lowered graph (as a .pith artifact holds it) becomes one
// self-contained C99 source and its header. Weights are `static const` arrays (they stay in
// flash), every intermediate tensor lives in one static arena placed by the runtime's memory
// planner (runtime/memory/planner.h), and only the kernels the model uses are emitted
// (codegen_c/kernels/*.c, one per operator, compiled into pith). The inference function
// allocates nothing and prints nothing. Supported: Conv/pith.FusedConv and Gemm/pith.FusedGemm
// in float32 (with their fused activation), pith.QConv and pith.QGemm (int8), MaxPool (float32,
// uint8, int8), GlobalAveragePool, QuantizeLinear, Relu, and Flatten/Reshape/Squeeze/Unsqueeze/
// Identity as views; one float32 input and one float32 output, static shapes (batch 1).
// int8 kernels compute exactly what the runtime computes (prelude.c), so outputs are equal
// bit for bit when built with -ffp-contract=off; float32 ones differ by summation order only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "ir/graph.h"

namespace pith::targets {

struct CExportOptions {
  std::string name = "model";  // C identifier prefix: NAME_run, NAME_INPUT_ELEMENTS, ...
  std::string source;          // what it was made from (a comment in both files)
};

struct CExport {
  std::string header, source;  // NAME.h, NAME.c
  uint64_t arena_bytes = 0, weight_bytes = 0;
  int64_t input_elements = 0, output_elements = 0;
  std::vector<std::string> kernels;  // the kernel files emitted
};

// Errors name every node the export cannot handle (all at once) and anything else it needs
// (one input and output, float32, static shapes, a valid C name).
CExport export_c(const Graph& lowered, const CExportOptions& options);

}  // namespace pith::targets
