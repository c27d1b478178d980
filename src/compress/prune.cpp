#include "compress/prune.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>
#include <numeric>
#include <random>
#include <set>

#include "compress/calibration.h"
#include "compress/layer_inputs.h"
#include "compress/weights.h"

namespace pith {

namespace {

int64_t count_zeros(const Tensor& t) {
  int64_t z = 0;
  for (int64_t i = 0; i < t.numel(); ++i) z += t.data<float>()[i] == 0.0f;
  return z;
}

// Zeroes the `count` smallest-magnitude values of w (a copy is written back).
void zero_smallest(float* w, int64_t n, int64_t count) {
  if (count <= 0) return;
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::nth_element(order.begin(), order.begin() + (count - 1), order.end(), [&](int64_t a, int64_t b) {
    const float fa = std::fabs(w[a]), fb = std::fabs(w[b]);
    return fa < fb || (fa == fb && a < b);  // ties broken by position: deterministic
  });
  for (int64_t i = 0; i < count; ++i) w[order[size_t(i)]] = 0.0f;
}

// Zeroes the 2 smallest |w| of every 4 consecutive weights along each row's input dimension.
void prune_2of4_by_magnitude(const WeightLayout& l, Tensor& w) {
  float* d = w.data<float>();
  for (int64_t r = 0; r < l.rows; ++r)
    for (int64_t k0 = 0; k0 + 4 <= l.K; k0 += 4) {
      int64_t idx[4];
      for (int j = 0; j < 4; ++j) idx[j] = r * l.row_stride + (k0 + j) * l.k_stride;
      std::sort(idx, idx + 4, [&](int64_t a, int64_t b) {
        return std::fabs(d[a]) < std::fabs(d[b]) || (std::fabs(d[a]) == std::fabs(d[b]) && a < b);
      });
      d[idx[0]] = d[idx[1]] = 0.0f;
    }
}

// Data-aware pruning of one layer: per output row, keep by |w_k| * ||x_k|| (within the
// row, or within each group of 4 for 2:4), then refit the kept weights and the bias by
// least squares on the samples (ridge damping of 1 % of the mean diagonal).
void prune_with_data(const PruneOptions& options, double sparsity, const WeightLayout& l, const Grams& grams, Tensor& w,
                     float* bias) {
  float* d = w.data<float>();
  const int64_t K = l.K, KA = K + 1, groups = grams.groups, rows_per_group = l.rows / groups;
  const int64_t keep = K - int64_t(std::floor(sparsity * double(K)));
  for (int64_t r = 0; r < l.rows; ++r) {
    const std::vector<double>& h = grams.H[size_t(r / rows_per_group)];
    const std::vector<double>& cross = grams.C[size_t(r / rows_per_group)];
    auto hh = [&](int64_t i, int64_t j) { return h[size_t(i * KA + j)]; };
    auto cc = [&](int64_t i, int64_t j) { return cross[size_t(i * KA + j)]; };
    double mean_diag = 0;
    for (int64_t k = 0; k < K; ++k) mean_diag += hh(k, k);
    mean_diag /= double(K);
    auto at = [&](int64_t k) -> float& { return d[r * l.row_stride + k * l.k_stride]; };
    std::vector<double> wb(static_cast<size_t>(KA));  // weights, then the bias
    for (int64_t k = 0; k < K; ++k) wb[size_t(k)] = at(k);
    wb[size_t(K)] = bias ? bias[r] : 0.0;
    std::vector<double> score(static_cast<size_t>(K));
    for (int64_t k = 0; k < K; ++k) score[size_t(k)] = std::fabs(wb[size_t(k)]) * std::sqrt(hh(k, k));
    std::vector<char> kept(static_cast<size_t>(K), 0);
    std::vector<int64_t> order(static_cast<size_t>(K));
    std::iota(order.begin(), order.end(), 0);
    auto by_score = [&](int64_t a, int64_t b) {
      return score[size_t(a)] > score[size_t(b)] || (score[size_t(a)] == score[size_t(b)] && a < b);
    };
    if (options.pattern == "2:4") {
      for (int64_t k0 = 0; k0 < K; k0 += 4) {
        const int64_t end = std::min(K, k0 + 4);
        if (end - k0 < 4) {  // a short last group stays dense
          for (int64_t k = k0; k < end; ++k) kept[size_t(k)] = 1;
          continue;
        }
        std::sort(order.begin() + k0, order.begin() + end, by_score);
        kept[size_t(order[size_t(k0)])] = kept[size_t(order[size_t(k0 + 1)])] = 1;
      }
    } else if (keep > 0) {
      std::nth_element(order.begin(), order.begin() + (keep - 1), order.end(), by_score);
      for (int64_t i = 0; i < keep; ++i) kept[size_t(order[size_t(i)])] = 1;
    }
    std::vector<int64_t> J;
    for (int64_t k = 0; k < K; ++k)
      if (kept[size_t(k)]) J.push_back(k);
    if (bias) J.push_back(K);  // the bias is refitted too (a layer that cannot take one fits without)
    // A = H_JJ + damp (on the weights), b = (C wb)_J.
    const int64_t n = int64_t(J.size());
    std::vector<double> A(size_t(n * n)), b(static_cast<size_t>(n));
    for (int64_t i = 0; i < n; ++i) {
      double v = 0;
      for (int64_t k = 0; k < KA; ++k) v += cc(J[size_t(i)], k) * wb[size_t(k)];
      b[size_t(i)] = v;
      for (int64_t j = 0; j < n; ++j) A[size_t(i * n + j)] = hh(J[size_t(i)], J[size_t(j)]);
      if (J[size_t(i)] < K) A[size_t(i * n + i)] += 0.01 * mean_diag + 1e-12;
    }
    const bool solved = mean_diag > 0 && cholesky_solve(A, n, b);
    for (int64_t k = 0; k < K; ++k)
      if (!kept[size_t(k)]) at(k) = 0.0f;
    if (!solved) continue;  // keep the surviving weights as they were
    const int64_t weights_solved = bias ? n - 1 : n;
    for (int64_t i = 0; i < weights_solved; ++i) at(J[size_t(i)]) = float(b[size_t(i)]);
    if (bias) bias[r] = float(b[size_t(n - 1)]);
  }
}

// Per-layer sparsities for the allocation (the total pruned fraction is `sparsity`).
std::vector<double> layer_sparsities(const std::vector<WeightLayout>& layers, const PruneOptions& options) {
  std::vector<double> out(layers.size(), options.sparsity);
  if (options.allocation != "erk" || layers.empty()) return out;
  double total = 0;
  std::vector<double> size(layers.size()), raw(layers.size());
  for (size_t i = 0; i < layers.size(); ++i) {
    size[i] = double(layers[i].rows) * double(layers[i].K);
    raw[i] = (double(layers[i].rows) + double(layers[i].K)) / size[i];
    total += size[i];
  }
  // Find the scale c with sum_i size_i * min(1, c * raw_i) = (1 - sparsity) * total (bisection).
  const double want = (1.0 - options.sparsity) * total;
  double lo = 0, hi = 1;
  auto kept = [&](double c) {
    double k = 0;
    for (size_t i = 0; i < layers.size(); ++i) k += size[i] * std::min(1.0, c * raw[i]);
    return k;
  };
  while (kept(hi) < want && hi < 1e30) hi *= 2;
  for (int it = 0; it < 200; ++it) {
    const double mid = 0.5 * (lo + hi);
    (kept(mid) < want ? lo : hi) = mid;
  }
  for (size_t i = 0; i < layers.size(); ++i) out[i] = 1.0 - std::min(1.0, hi * raw[i]);
  return out;
}

}  // namespace

PruneReport prune_weights(Graph& g, const PruneOptions& options) {
  PITH_CHECK(options.sparsity >= 0.0 && options.sparsity < 1.0, "sparsity must be in [0, 1), got ", options.sparsity);
  PITH_CHECK(options.pattern == "unstructured" || options.pattern == "2:4", "unknown pruning pattern '",
             options.pattern, "' (expected unstructured or 2:4)");
  PITH_CHECK(options.allocation == "uniform" || options.allocation == "global" || options.allocation == "erk",
             "unknown sparsity allocation '", options.allocation, "' (expected uniform, global or erk)");
  PruneReport report;
  std::vector<WeightLayout> layers = weight_layers(g);
  const std::vector<double> sparsity = layer_sparsities(layers, options);
  if (options.calibration.defined() && options.allocation != "global") {
    // Layer by layer in graph order: each layer's input from the original graph and from
    // the graph as pruned so far.
    std::vector<std::string> inputs;
    for (const WeightLayout& l : layers) inputs.push_back(g.nodes[l.index].inputs[0]);
    const auto original = std::make_shared<Graph>(g);
    std::map<std::string, Tensor> acts0 =
        collect_activations(original, options.calibration, inputs, options.calibration_samples);
    for (size_t li = 0; li < layers.size(); ++li) {
      const WeightLayout& l = layers[li];
      const Node& n = g.nodes[l.index];
      const std::string& in = n.inputs[0];
      Tensor x = li == 0 ? acts0.at(in)
                         : collect_activations(std::make_shared<Graph>(g), options.calibration, {in},
                                               options.calibration_samples)
                               .at(in);
      Tensor w = g.initializers.at(l.weight).clone();
      Grams grams;
      if (input_grams(n, x, acts0.at(in), w, l, grams) && l.rows % grams.groups == 0) {
        // The bias is refitted with the weights; a layer without one gets one.
        Tensor b(DType::Float32, {l.rows});
        const bool had_bias = n.has_input(2) && g.initializers.count(n.inputs[2]) &&
                              g.initializers.at(n.inputs[2]).numel() == l.rows &&
                              g.initializers.at(n.inputs[2]).dtype() == DType::Float32;
        if (had_bias) b = g.initializers.at(n.inputs[2]).clone();
        // MatMul has no bias input, nor does a Conv with a fused residual after it.
        const bool can_take_bias = had_bias || (n.inputs.size() <= 3 && n.op_type != "MatMul");
        prune_with_data(options, sparsity[li], l, grams, w, can_take_bias ? b.data<float>() : nullptr);
        if (had_bias) {
          g.initializers[n.inputs[2]] = b;
        } else if (can_take_bias) {
          const std::string name = l.weight + "_refit_bias";
          g.initializers[name] = b;
          Node& mut = g.nodes[l.index];
          mut.inputs.resize(std::max<size_t>(mut.inputs.size(), 3));
          mut.inputs[2] = name;
        }
      } else if (options.pattern == "2:4") {
        prune_2of4_by_magnitude(l, w);
      } else {
        zero_smallest(w.data<float>(), w.numel(), int64_t(std::floor(sparsity[li] * double(w.numel()))));
      }
      g.initializers[l.weight] = w;
    }
  } else if (options.pattern == "2:4") {
    for (const WeightLayout& l : layers) {
      Tensor w = g.initializers.at(l.weight).clone();
      prune_2of4_by_magnitude(l, w);
      g.initializers[l.weight] = w;
    }
  } else if (options.allocation == "global") {
    std::vector<float> mags;
    for (const WeightLayout& l : layers) {
      const Tensor& w = g.initializers.at(l.weight);
      for (int64_t i = 0; i < w.numel(); ++i) mags.push_back(std::fabs(w.data<float>()[i]));
    }
    const int64_t count = int64_t(std::floor(options.sparsity * double(mags.size())));
    if (count > 0) {
      std::nth_element(mags.begin(), mags.begin() + (count - 1), mags.end());
      const float threshold = mags[size_t(count - 1)];
      for (const WeightLayout& l : layers) {
        Tensor w = g.initializers.at(l.weight).clone();
        for (int64_t i = 0; i < w.numel(); ++i)
          if (std::fabs(w.data<float>()[i]) <= threshold) w.data<float>()[i] = 0.0f;
        g.initializers[l.weight] = w;
      }
    }
  } else {
    for (size_t li = 0; li < layers.size(); ++li) {
      Tensor w = g.initializers.at(layers[li].weight).clone();
      zero_smallest(w.data<float>(), w.numel(), int64_t(std::floor(sparsity[li] * double(w.numel()))));
      g.initializers[layers[li].weight] = w;
    }
  }
  for (const WeightLayout& l : layers) {
    const Tensor& w = g.initializers.at(l.weight);
    LayerStats s{l.node, w.numel(), count_zeros(w), 0};
    report.weights += s.weights;
    report.zeros += s.zeros;
    report.layers.push_back(s);
  }
  return report;
}

namespace {

// 1-D k-means of `values` into at most k centroids (sorted), k-means++ initialized.
std::vector<float> kmeans_1d(std::vector<float> values, int k, uint64_t seed, int iterations) {
  std::sort(values.begin(), values.end());
  std::vector<float> distinct = values;
  distinct.erase(std::unique(distinct.begin(), distinct.end()), distinct.end());
  if (int64_t(distinct.size()) <= k) return distinct;
  std::mt19937_64 rng(seed);
  std::vector<float> c{values[size_t(rng() % values.size())]};
  std::vector<double> d2(values.size(), 1e300);  // squared distance to the nearest centroid so far
  while (int(c.size()) < k) {
    double total = 0;
    const double last = c.back();
    for (size_t i = 0; i < values.size(); ++i) {
      d2[i] = std::min(d2[i], (double(values[i]) - last) * (double(values[i]) - last));
      total += d2[i];
    }
    if (total <= 0) break;
    double r = std::uniform_real_distribution<double>(0.0, total)(rng);
    size_t pick = 0;
    for (; pick + 1 < values.size() && r > d2[pick]; ++pick) r -= d2[pick];
    c.push_back(values[pick]);
  }
  std::sort(c.begin(), c.end());
  // Lloyd iterations; values are sorted, so each cluster is a contiguous range found by
  // the midpoints between consecutive centroids.
  for (int it = 0; it < iterations; ++it) {
    std::vector<double> sum(c.size(), 0.0);
    std::vector<int64_t> cnt(c.size(), 0);
    size_t j = 0;
    for (float v : values) {
      while (j + 1 < c.size() && v > 0.5f * (c[j] + c[j + 1])) ++j;
      sum[j] += v;
      ++cnt[j];
    }
    bool moved = false;
    for (size_t q = 0; q < c.size(); ++q) {
      if (!cnt[q]) continue;
      const float nc = float(sum[q] / double(cnt[q]));
      moved |= nc != c[q];
      c[q] = nc;
    }
    std::sort(c.begin(), c.end());
    if (!moved) break;
  }
  c.erase(std::unique(c.begin(), c.end()), c.end());
  return c;
}

float nearest(const std::vector<float>& c, float v) {
  auto it = std::lower_bound(c.begin(), c.end(), v);
  if (it == c.end()) return c.back();
  if (it == c.begin()) return *it;
  const float hi = *it, lo = *(it - 1);
  return (v - lo) <= (hi - v) ? lo : hi;
}

}  // namespace

PruneReport cluster_weights(Graph& g, const ClusterOptions& options) {
  PITH_CHECK(options.clusters >= 2 && options.clusters <= 256, "clusters must be in [2, 256], got ", options.clusters);
  PruneReport report;
  uint64_t layer_seed = options.seed;
  for (const WeightLayout& l : weight_layers(g)) {
    Tensor w = g.initializers.at(l.weight).clone();
    float* d = w.data<float>();
    std::vector<float> nonzero;
    for (int64_t i = 0; i < w.numel(); ++i)
      if (d[i] != 0.0f) nonzero.push_back(d[i]);
    const bool pruned = int64_t(nonzero.size()) < w.numel();
    // A pruned layer keeps 0 exactly as one of its k values.
    std::vector<float> c =
        nonzero.empty() ? std::vector<float>{}
                        : kmeans_1d(nonzero, options.clusters - (pruned ? 1 : 0), layer_seed++, options.iterations);
    for (int64_t i = 0; i < w.numel(); ++i)
      if (d[i] != 0.0f) d[i] = nearest(c, d[i]);
    g.initializers[l.weight] = w;
    std::vector<float> vals(d, d + w.numel());
    std::sort(vals.begin(), vals.end());
    LayerStats s{l.node, w.numel(), count_zeros(w), int64_t(std::unique(vals.begin(), vals.end()) - vals.begin())};
    report.weights += s.weights;
    report.zeros += s.zeros;
    report.layers.push_back(s);
  }
  return report;
}

}  // namespace pith
