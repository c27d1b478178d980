// What a layer multiplies its weights with, gathered from calibration samples, for the
// techniques that fit weights to data (data-aware pruning, GPTQ): Gram matrices of the
// layer's input rows (Gemm/MatMul) or im2col patches (2-D Conv), and the Cholesky
// routines that solve with them.
#pragma once

#include <cstdint>
#include <vector>

#include "compress/weights.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace pith {

// At most this many im2col patches (evenly spaced) of a Conv's input are used.
constexpr int64_t kMaxPatches = 8192;

// With `x` the layer's input in the graph being changed and `x0` the same input in the
// original graph: H = X^T X and C = X^T X0 (one per group, (K+1) x (K+1) with a
// constant-1 last coordinate so that a refit can move the bias too; double). Refitting to
// C w0 aims at the original layer's outputs, so each layer also corrects what changing
// the layers before it did (SparseGPT's sequential order).
struct Grams {
  std::vector<std::vector<double>> H, C;
  int64_t groups = 1;
};

// False for layers this does not cover (not Conv/Gemm/MatMul, auto_pad, shapes that
// disagree with the layout).
bool input_grams(const Node& n, const Tensor& x, const Tensor& x0, const Tensor& w, const WeightLayout& l, Grams& out);

// In place: A (n x n, symmetric positive definite) -> its lower Cholesky factor L
// (A = L L^T, written over A's lower triangle); false when A is not positive definite.
bool cholesky_factor(std::vector<double>& A, int64_t n);

// Solves A z = b in place by Cholesky (A is overwritten by its factor); false when A is not
// positive definite.
bool cholesky_solve(std::vector<double>& A, int64_t n, std::vector<double>& b);

// In place: A (n x n, symmetric positive definite) -> the upper Cholesky factor U of its
// inverse (A^-1 = U^T U, full matrix, zeros below the diagonal), as GPTQ uses it; false
// when A is not positive definite.
bool inverse_upper_cholesky(std::vector<double>& A, int64_t n);

}  // namespace pith
