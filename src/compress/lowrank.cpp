#include "compress/lowrank.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>

#include "compress/weights.h"
#include "core/error.h"
#include "passes/pass_util.h"

namespace pith {

namespace {

// Cyclic Jacobi on the symmetric n x n matrix g (destroyed): eigenvalues into `values`,
// eigenvectors as the columns of q (row-major n x n).
void jacobi_eigen(std::vector<double>& g, int64_t n, std::vector<double>& values, std::vector<double>& q) {
  q.assign(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i) q[size_t(i * n + i)] = 1;
  double total = 0;
  for (double v : g) total += v * v;
  for (int sweep = 0; sweep < 60; ++sweep) {
    double off = 0;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t r = p + 1; r < n; ++r) off += g[size_t(p * n + r)] * g[size_t(p * n + r)];
    if (off <= 1e-24 * total) break;
    for (int64_t p = 0; p < n; ++p)
      for (int64_t r = p + 1; r < n; ++r) {
        const double apr = g[size_t(p * n + r)];
        if (std::fabs(apr) < 1e-300) continue;
        const double app = g[size_t(p * n + p)], arr = g[size_t(r * n + r)];
        const double theta = (arr - app) / (2 * apr);
        const double t = (theta >= 0 ? 1.0 : -1.0) / (std::fabs(theta) + std::sqrt(theta * theta + 1));
        const double c = 1 / std::sqrt(t * t + 1), s = t * c;
        for (int64_t k = 0; k < n; ++k) {  // columns p and r
          const double gkp = g[size_t(k * n + p)], gkr = g[size_t(k * n + r)];
          g[size_t(k * n + p)] = c * gkp - s * gkr;
          g[size_t(k * n + r)] = s * gkp + c * gkr;
        }
        for (int64_t k = 0; k < n; ++k) {  // rows p and r
          const double gpk = g[size_t(p * n + k)], grk = g[size_t(r * n + k)];
          g[size_t(p * n + k)] = c * gpk - s * grk;
          g[size_t(r * n + k)] = s * gpk + c * grk;
        }
        for (int64_t k = 0; k < n; ++k) {
          const double qkp = q[size_t(k * n + p)], qkr = q[size_t(k * n + r)];
          q[size_t(k * n + p)] = c * qkp - s * qkr;
          q[size_t(k * n + r)] = s * qkp + c * qkr;
        }
      }
  }
  values.resize(size_t(n));
  for (int64_t i = 0; i < n; ++i) values[size_t(i)] = g[size_t(i * n + i)];
}

}  // namespace

Svd svd(const std::vector<double>& a, int64_t rows, int64_t cols) {
  // Eigen-decompose the smaller Gram matrix: A A^T (rows <= cols) or A^T A.
  const bool wide = rows <= cols;
  const int64_t n = wide ? rows : cols, m = wide ? cols : rows;
  auto at = [&](int64_t i, int64_t j) { return wide ? a[size_t(i * cols + j)] : a[size_t(j * cols + i)]; };  // n x m
  std::vector<double> g(size_t(n * n), 0.0);
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = i; j < n; ++j) {
      double v = 0;
      for (int64_t k = 0; k < m; ++k) v += at(i, k) * at(j, k);
      g[size_t(i * n + j)] = g[size_t(j * n + i)] = v;
    }
  std::vector<double> values, q;
  jacobi_eigen(g, n, values, q);
  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(), [&](int64_t x, int64_t y) { return values[size_t(x)] > values[size_t(y)]; });
  Svd r;
  r.k = n;
  r.s.resize(size_t(n));
  std::vector<double> left(size_t(n * n)), right(size_t(m * n), 0.0);  // n x k and m x k
  for (int64_t c = 0; c < n; ++c) {
    const int64_t e = order[size_t(c)];
    const double sigma = std::sqrt(std::max(values[size_t(e)], 0.0));
    r.s[size_t(c)] = sigma;
    for (int64_t i = 0; i < n; ++i) left[size_t(i * n + c)] = q[size_t(i * n + e)];
    if (sigma <= 1e-300) continue;
    for (int64_t k = 0; k < m; ++k) {  // right vector = (n x m)^T left / sigma
      double v = 0;
      for (int64_t i = 0; i < n; ++i) v += at(i, k) * left[size_t(i * n + c)];
      right[size_t(k * n + c)] = v / sigma;
    }
  }
  if (wide) {
    r.U = std::move(left);
    r.V = std::move(right);
  } else {
    r.U = std::move(right);
    r.V = std::move(left);
  }
  return r;
}

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

}  // namespace

LowRankReport factorize_low_rank(Graph& g, const LowRankOptions& options) {
  PITH_CHECK(options.energy > 0 || options.rank_fraction > 0, "low-rank needs an energy or a rank fraction");
  PITH_CHECK(options.energy <= 1 && options.rank_fraction <= 1 && options.energy >= 0 && options.rank_fraction >= 0,
             "low-rank energy and rank fraction must be in (0, 1], got ", options.energy, " and ",
             options.rank_fraction);
  LowRankReport report;
  const std::vector<WeightLayout> layers = weight_layers(g);
  std::vector<Node> out_nodes;
  std::map<size_t, std::pair<Node, Node>> replace;  // node index -> (first, second)
  for (const WeightLayout& l : layers) {
    const Node& n = g.nodes[l.index];
    const Tensor& w = g.initializers.at(l.weight);
    const bool conv = n.op_type == "Conv" || n.op_type == "FusedConv";
    const bool matmul = default_domain(n) && n.op_type == "MatMul";
    if (conv && (w.rank() != 4 || w.dim(2) != 1 || w.dim(3) != 1 || n.attr_int("group", 1) != 1)) {
      report.kept.push_back({l.node, "only 1x1 convolutions without groups are factorized"});
      continue;
    }
    if (!conv && n.has_attr("transA") && n.attr_int("transA", 0)) {
      report.kept.push_back({l.node, "transA is not factorized"});
      continue;
    }
    if (n.inputs.size() > 3 && !n.inputs[3].empty()) {
      report.kept.push_back({l.node, "a fused residual input"});
      continue;
    }
    const int64_t N = l.rows, K = l.K, full = std::min(N, K);
    std::vector<double> a(size_t(N * K));
    for (int64_t r = 0; r < N; ++r)
      for (int64_t k = 0; k < K; ++k) a[size_t(r * K + k)] = w.data<float>()[r * l.row_stride + k * l.k_stride];
    const Svd d = svd(a, N, K);
    double total = 0;
    for (double s : d.s) total += s * s;
    int64_t rank = full;
    if (options.energy > 0) {
      double kept = 0;
      for (rank = 0; rank < full && (total == 0 || kept < options.energy * total - 1e-12 * total); ++rank)
        kept += d.s[size_t(rank)] * d.s[size_t(rank)];
      rank = std::max<int64_t>(rank, 1);
    } else {
      rank = std::max<int64_t>(1, int64_t(std::ceil(options.rank_fraction * double(full))));
    }
    if (5 * rank * (N + K) > 4 * N * K) {  // two layers must save at least a fifth to be worth it
      report.kept.push_back({l.node, "rank " + std::to_string(rank) + " of " + std::to_string(N) + "x" +
                                         std::to_string(K) + " would not shrink it by a fifth"});
      continue;
    }
    double kept = 0;
    for (int64_t i = 0; i < rank; ++i) kept += d.s[size_t(i)] * d.s[size_t(i)];
    // First: K -> rank (V_r^T); second: rank -> N (U_r S_r), each laid out like the original.
    Tensor first, second;
    if (conv) {
      first = Tensor(DType::Float32, {rank, K, 1, 1});
      second = Tensor(DType::Float32, {N, rank, 1, 1});
    } else if (matmul || n.attr_int("transB", 0) == 0) {  // [K, N] weights
      first = Tensor(DType::Float32, {K, rank});
      second = Tensor(DType::Float32, {rank, N});
    } else {
      first = Tensor(DType::Float32, {rank, K});
      second = Tensor(DType::Float32, {N, rank});
    }
    const bool kn = !conv && (matmul || n.attr_int("transB", 0) == 0);
    for (int64_t c = 0; c < rank; ++c) {
      for (int64_t k = 0; k < K; ++k)
        first.data<float>()[kn ? k * rank + c : c * K + k] = float(d.V[size_t(k * d.k + c)]);
      for (int64_t r = 0; r < N; ++r)
        second.data<float>()[kn ? c * N + r : r * rank + c] = float(d.U[size_t(r * d.k + c)] * d.s[size_t(c)]);
    }
    const std::string w1 = passes::unique_name(g, l.weight + "_lowrank_in");
    g.initializers[w1] = first;
    const std::string w2 = passes::unique_name(g, l.weight + "_lowrank_out");
    g.initializers[w2] = second;
    const std::string mid = passes::unique_name(g, n.outputs[0] + "_lowrank");
    Node a_node;
    a_node.name = n.name + "_lowrank_in";
    a_node.op_type = conv ? "Conv" : matmul ? "MatMul" : "Gemm";
    a_node.inputs = {n.inputs[0], w1};
    a_node.outputs = {mid};
    if (conv) {
      for (const char* attr : {"pads", "strides", "dilations", "auto_pad"})
        if (n.has_attr(attr)) a_node.attributes[attr] = n.attributes.at(attr);
    } else if (!matmul && n.has_attr("transB")) {
      a_node.attributes["transB"] = n.attributes.at("transB");
    }
    // The intermediate's shape: the output's, with `rank` channels (for MACs and exports).
    if (const ValueInfo* vi = g.find_value_info(n.outputs[0]); vi && vi->shape && !vi->shape->empty()) {
      ValueInfo m = *vi;
      m.name = mid;
      (*m.shape)[conv ? 1 : m.shape->size() - 1] = Dim{rank, ""};
      g.value_info[mid] = m;
    }
    Node b_node = n;  // keeps the op, bias, activation and the output
    b_node.inputs[0] = mid;
    b_node.inputs[1] = w2;
    if (conv) {
      for (const char* attr : {"pads", "strides", "dilations", "auto_pad"}) b_node.attributes.erase(attr);
    }
    replace[l.index] = {a_node, b_node};
    report.layers.push_back({l.node, N, K, rank, total > 0 ? kept / total : 1.0});
    report.weights_before += N * K;
    report.weights_after += rank * (N + K);
  }
  std::set<std::string> replaced_weights;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto it = replace.find(i);
    if (it == replace.end()) {
      out_nodes.push_back(g.nodes[i]);
      continue;
    }
    replaced_weights.insert(g.nodes[i].inputs[1]);
    out_nodes.push_back(it->second.first);
    out_nodes.push_back(it->second.second);
  }
  g.nodes = std::move(out_nodes);
  for (auto& name : replaced_weights) {  // drop the original weights nothing reads now
    bool used = false;
    for (auto& n : g.nodes) used |= std::find(n.inputs.begin(), n.inputs.end(), name) != n.inputs.end();
    if (!used) g.initializers.erase(name);
  }
  return report;
}

}  // namespace pith
