// A compression recipe: which techniques to apply, in the one order they compose in
// (low-rank, prune, cluster, then fp16, int8 or int4; entropy coding is the artifact writer's), and
// the function that applies one to an optimized float graph. `pith compress` runs one
// recipe; the deploy planner runs many and compares them.
#pragma once

#include <nlohmann/json.hpp>
#include <set>
#include <string>

#include "compress/prune.h"
#include "compress/quantize/int8.h"
#include "ir/graph.h"

namespace pith {

struct Recipe {
  std::string quantize;  // "", "fp16", "int8", "int4" (weight-only, GPTQ with calibration) or "dynamic-int8"
  int weight_bits = 8;   // int8: 8, or 7 (weights in [-64, 64])
  int64_t block = 32;    // int4: weights per float16 scale (32, 64, 128)
  CalibrationMethod method = CalibrationMethod::MinMax;
  double percentile = 99.99;
  std::set<std::string> keep_float;  // int8: nodes left in float (mixed precision)
  bool prune = false;
  PruneOptions pruning;  // its calibration field is filled from apply_recipe's samples
  int cluster = 0;       // 0: none; else k in [2, 256]
  double low_rank = 0;   // 0: none; else the energy (fraction of sum sigma^2) each factorized layer keeps
  bool entropy = false;  // zstd-code the artifact's tensors

  // Short and readable, e.g. "prune 0.80 erk + cluster 16 + zstd", "int8 (2 float)".
  std::string label() const;
  // Errors for combinations that do not compose (clustering with quantization, int8
  // without calibration samples) and out-of-range values.
  void validate(bool have_calibration) const;
};

struct RecipeResult {
  Graph lowered;  // as pith runs it (optimize() after the techniques): what an artifact stores
  Graph qdq;      // int8 and dynamic-int8: the graph before lowering (QDQ / MatMulInteger, for ONNX export); else empty
  nlohmann::ordered_json techniques;  // one object per technique applied, with what it did
  Int8Report int8;
};

// Applies `recipe` to `optimized` (a float graph optimize() has run on). `calibration`
// holds samples for its one input (int8 needs them; pruning uses them when given).
RecipeResult apply_recipe(const Graph& optimized, const Recipe& recipe, const Tensor& calibration,
                          const PredictOptions& run = {});

}  // namespace pith
