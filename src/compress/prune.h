// Weight pruning and clustering of the layers that carry the weights (Conv, Gemm and
// MatMul with an initializer weight, fused forms included); biases are left alone.
//
// Pruning sets weights to exactly 0:
//   unstructured  the smallest |w| of each layer until the layer's fraction is zero (the
//                 fractions per layer follow PruneOptions::allocation)
//   2:4           in every group of 4 consecutive weights along a layer's input dimension,
//                 the 2 smallest (50 %, the pattern sparse tensor cores accelerate)
// With calibration data both patterns choose and refit by the layer's inputs (below).
// Clustering replaces each layer's weights by the nearest of k shared values found by
// 1-D k-means (k-means++ initialization with a fixed seed, Lloyd iterations); a pruned
// layer keeps 0 as one of its k values, exactly. The .pith writer stores a float tensor
// with at most 256 distinct values as packed b-bit indices plus a codebook
// (src/artifact/artifact.h), so clustering is what makes the file smaller; zstd
// (--entropy) then codes the runs of zero indices pruning leaves.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "compress/evaluate.h"
#include "ir/graph.h"

namespace pith {

struct PruneOptions {
  double sparsity = 0.5;                 // fraction of weights set to 0, in [0, 1)
  std::string pattern = "unstructured";  // "unstructured" or "2:4"
  // How the sparsity spreads over layers: "uniform" (each layer the same fraction),
  // "global" (one magnitude threshold over all layers), or "erk" (Erdos-Renyi-Kernel, as
  // in RigL: layer density proportional to (fan_in + fan_out) / (fan_in * fan_out), so
  // large layers are pruned hardest and small ones may stay dense; total as requested).
  std::string allocation = "uniform";
  // With calibration samples (for the graph's one input), pruning is layer-wise and
  // data-aware: each output row keeps the weights with the largest |w| * ||x|| (x the
  // layer's input over the samples; Wanda's score), and the kept weights and the bias
  // are refitted by least squares so that the layer's outputs on the samples stay closest
  // to the original layer's (min ||X' w' + b' - (X w + b)||, X' the input with the layers
  // before already pruned; ridge-damped, solved exactly per row). Layers go in graph order.
  Tensor calibration;
  int64_t calibration_samples = 512;
};

struct LayerStats {
  std::string node;
  int64_t weights = 0;
  int64_t zeros = 0;
  int64_t distinct = 0;  // distinct values after clustering (0 when not clustered)
};

struct PruneReport {
  std::vector<LayerStats> layers;
  int64_t weights = 0, zeros = 0;
};

// Prunes g's weight initializers in place; Errors for a sparsity outside [0, 1) or an
// unknown pattern.
PruneReport prune_weights(Graph& g, const PruneOptions& options);

struct ClusterOptions {
  int clusters = 16;  // k, in [2, 256]
  uint64_t seed = 0;
  int iterations = 40;
};

// Clusters g's weight initializers in place; Errors for k outside [2, 256].
PruneReport cluster_weights(Graph& g, const ClusterOptions& options);

}  // namespace pith
