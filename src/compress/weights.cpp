#include "compress/weights.h"

#include <algorithm>
#include <set>

namespace pith {

namespace {
bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }
}  // namespace

std::vector<WeightLayout> weight_layers(const Graph& g) {
  std::vector<WeightLayout> out;
  std::set<std::string> seen;
  for (const Node& n : g.nodes) {
    const bool conv = (default_domain(n) && n.op_type == "Conv") || (n.domain == "pith" && n.op_type == "FusedConv");
    const bool gemm = (default_domain(n) && n.op_type == "Gemm") || (n.domain == "pith" && n.op_type == "FusedGemm");
    const bool matmul = default_domain(n) && n.op_type == "MatMul";
    if (!(conv || gemm || matmul) || n.inputs.size() < 2) continue;
    auto it = g.initializers.find(n.inputs[1]);
    if (it == g.initializers.end() || it->second.dtype() != DType::Float32 || !seen.insert(n.inputs[1]).second)
      continue;
    const Tensor& w = it->second;
    WeightLayout l;
    l.node = n.name.empty() ? n.describe() : n.name;
    l.weight = n.inputs[1];
    l.index = size_t(&n - g.nodes.data());
    if (conv && w.rank() >= 3) {
      l.rows = w.dim(0);
      l.K = w.numel() / std::max<int64_t>(1, l.rows);
      l.row_stride = l.K;
    } else if (w.rank() == 2 && gemm && n.attr_int("transB", 0) != 0) {
      l.rows = w.dim(0);
      l.K = w.dim(1);
      l.row_stride = l.K;
    } else if (w.rank() == 2 && (gemm || matmul)) {
      l.rows = w.dim(1);
      l.K = w.dim(0);
      l.row_stride = 1;
      l.k_stride = l.rows;
    } else {
      continue;
    }
    out.push_back(l);
  }
  return out;
}

}  // namespace pith
