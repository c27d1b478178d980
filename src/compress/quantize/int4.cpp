#include "compress/quantize/int4.h"

#include <algorithm>
#include <cmath>
#include <memory>

#include "compress/calibration.h"
#include "compress/layer_inputs.h"
#include "compress/weights.h"
#include "core/block_q4.h"

namespace pith {

namespace {

// The float16 scale for a block whose values are v: its largest magnitude maps to 7, or
// to -8 when that value is negative (so all 16 levels are used).
float block_scale(const double* v, int64_t n, int64_t stride) {
  double a = 0, extreme = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double x = v[i * stride];
    if (std::fabs(x) > a) a = std::fabs(x), extreme = x;
  }
  if (a == 0) return 0;
  const float d = float(std::min(extreme < 0 ? a / 8 : a / 7, 65504.0));
  return half_to_float(float_to_half(d));
}

float quantize_value(double w, float d) {
  if (d == 0) return 0;
  const float q = std::clamp(std::nearbyint(float(w) / d), -8.0f, 7.0f) + 0.0f;
  return q * d;
}

// One layer: W is rows x K (double, row-major: W[r * K + k] = weight of output r, input
// k); `U` (K x K) the upper Cholesky factor of H^-1 for its rows, or empty to round to
// nearest. Blocks run along memory rows: along k when the weight's rows are contiguous,
// else (a [K, N] MatMul weight) along r for each k.
void quantize_layer(std::vector<double>& W, int64_t rows, int64_t K, int64_t r0, int64_t r1, bool blocks_along_k,
                    int64_t block, const std::vector<double>& U) {
  std::vector<float> scale(size_t(rows), 0.0f);
  for (int64_t i = 0; i < K; ++i) {
    if (blocks_along_k && i % block == 0) {
      for (int64_t r = r0; r < r1; ++r)
        scale[size_t(r)] = block_scale(&W[size_t(r * K + i)], std::min(block, K - i), 1);
    } else if (!blocks_along_k) {
      // Blocks of `block` rows (counted over all rows, as the tensor stores them).
      for (int64_t b0 = 0; b0 < rows; b0 += block) {
        const int64_t n = std::min(block, rows - b0);
        const float d = block_scale(&W[size_t(b0 * K + i)], n, K);
        for (int64_t r = b0; r < b0 + n; ++r) scale[size_t(r)] = d;
      }
    }
    for (int64_t r = r0; r < r1; ++r) {
      double& w = W[size_t(r * K + i)];
      const double q = quantize_value(w, scale[size_t(r)]);
      if (!U.empty()) {
        const double err = (w - q) / U[size_t(i * K + i)];
        for (int64_t j = i + 1; j < K; ++j) W[size_t(r * K + j)] -= err * U[size_t(i * K + j)];
      }
      w = q;
    }
  }
}

}  // namespace

Int4Report quantize_int4_weights(Graph& g, const Int4Options& options) {
  PITH_CHECK(valid_q4_block(options.block), "int4 blocks must hold 16, 32, 64 or 128 weights, got ", options.block);
  Int4Report report;
  const std::vector<WeightLayout> layers = weight_layers(g);
  for (const WeightLayout& l : layers) {
    const Node& n = g.nodes[l.index];
    Tensor w = g.initializers.at(l.weight).clone();
    const int64_t rows = l.rows, K = l.K;
    std::vector<double> W(size_t(rows * K));
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k) W[size_t(r * K + k)] = w.data<float>()[r * l.row_stride + k * l.k_stride];
    // A [K, N] weight's blocks run along its rows in memory, that is along outputs here.
    const bool blocks_along_k = l.k_stride == 1;
    const int64_t memory_rows = blocks_along_k ? rows : K, memory_row = blocks_along_k ? K : rows;
    int64_t block = options.block;  // the block up to the one asked for that stores this layer smallest
    for (int64_t b = 16; b < options.block; b *= 2)
      if (q4_encoded_bytes(memory_rows, memory_row, b) < q4_encoded_bytes(memory_rows, memory_row, block)) block = b;
    bool gptq = false;
    Grams grams;
    if (options.calibration.defined()) {
      const std::string& in = n.inputs[0];
      const Tensor x =
          collect_activations(std::make_shared<Graph>(g), options.calibration, {in}, options.calibration_samples)
              .at(in);
      gptq = input_grams(n, x, x, w, l, grams) && rows % grams.groups == 0;
    }
    const int64_t group_rows = gptq ? rows / grams.groups : rows;
    for (int64_t gr = 0; gr < (gptq ? grams.groups : 1); ++gr) {
      std::vector<double> U;
      if (gptq) {
        // H over the K inputs (the Gram matrix carries a constant column for the bias last).
        const std::vector<double>& HA = grams.H[size_t(gr)];
        U.assign(size_t(K * K), 0.0);
        double mean_diag = 0;
        for (int64_t i = 0; i < K; ++i) {
          for (int64_t j = 0; j < K; ++j) U[size_t(i * K + j)] = HA[size_t(i * (K + 1) + j)];
          mean_diag += U[size_t(i * K + i)] / double(K);
        }
        for (int64_t i = 0; i < K; ++i) {
          if (U[size_t(i * K + i)] == 0) {  // an input that is always 0: its weights do not matter
            U[size_t(i * K + i)] = 1;
            for (int64_t r = gr * group_rows; r < (gr + 1) * group_rows; ++r) W[size_t(r * K + i)] = 0;
          }
          U[size_t(i * K + i)] += options.damp * std::max(mean_diag, 1e-12);
        }
        if (!inverse_upper_cholesky(U, K)) U.clear();  // not positive definite: round to nearest
      }
      quantize_layer(W, rows, K, gr * group_rows, (gr + 1) * group_rows, blocks_along_k, block, U);
      gptq = gptq && !U.empty();
    }
    for (int64_t r = 0; r < rows; ++r)
      for (int64_t k = 0; k < K; ++k) w.data<float>()[r * l.row_stride + k * l.k_stride] = float(W[size_t(r * K + k)]);
    g.initializers[l.weight] = w;
    report.layers.push_back({l.node, w.numel(), gptq, block});
    report.weights += w.numel();
  }
  return report;
}

}  // namespace pith
