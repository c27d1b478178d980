// Low-rank factorization: a Gemm/MatMul weight or a 1x1 Conv weight W (N outputs x K
// inputs) is replaced by its truncated SVD, W ~ (U_r S_r) V_r^T, as two layers in a row:
// K -> r (V_r^T) then r -> N (U_r S_r, with the original bias and fused activation). Only
// where r (N + K) <= 0.8 N K, so that both the weights and the MACs shrink by a fifth at
// least; other layers are reported as kept. The rank is the smallest that keeps a given fraction of the squared
// singular values (energy), or a given fraction of the full rank.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "ir/graph.h"

namespace pith {

struct LowRankOptions {
  double energy = 0;         // in (0, 1]: keep this fraction of sum sigma^2 (when > 0)
  double rank_fraction = 0;  // in (0, 1]: else keep ceil(fraction * min(N, K)) singular values
};

struct LowRankLayer {
  std::string node;
  int64_t outputs = 0, inputs = 0, rank = 0;
  double energy_kept = 0;
};

struct LowRankReport {
  std::vector<LowRankLayer> layers;                       // factorized
  std::vector<std::pair<std::string, std::string>> kept;  // node, why it was left whole
  int64_t weights_before = 0, weights_after = 0;          // of the factorized layers
};

// Factorizes g's eligible layers in place (g optimized: fused nodes allowed). Errors for
// options outside their ranges.
LowRankReport factorize_low_rank(Graph& g, const LowRankOptions& options);

// Singular values (descending) and vectors of the rows x cols matrix `a` (row-major):
// a = U diag(s) V^T with U rows x k, V cols x k, k = min(rows, cols), by Jacobi
// eigen-decomposition of the smaller Gram matrix (double precision).
struct Svd {
  int64_t k = 0;
  std::vector<double> s, U, V;  // U: rows x k, V: cols x k, both row-major
};
Svd svd(const std::vector<double>& a, int64_t rows, int64_t cols);

}  // namespace pith
