#include "ir/analysis.h"

#include <set>

namespace pith {

std::optional<Shape> static_shape(const Graph& g, const std::string& value) {
  auto it = g.initializers.find(value);
  if (it != g.initializers.end()) return it->second.shape();
  const ValueInfo* v = g.find_value_info(value);
  if (!v || !v->shape) return std::nullopt;
  Shape s;
  for (auto& d : *v->shape) s.push_back(d.known() ? d.value : 1);
  return s;
}

namespace {
const std::set<std::string> kComputeOps = {"Conv",        "ConvTranspose", "Gemm",        "MatMul",
                                           "ConvInteger", "MatMulInteger", "QLinearConv", "QLinearMatMul",
                                           "LSTM",        "GRU",           "RNN"};

// Fused and int8 nodes (pith domain) cost what the op they extend costs; pith.QConv and
// pith.QGemm lay their inputs out as QLinearConv and QLinearMatMul do (weights at 3).
std::string base_compute_op(const Node& node) {
  if (node.domain != "pith") return node.op_type;
  if (node.op_type == "FusedConv") return "Conv";
  if (node.op_type == "FusedGemm") return "Gemm";
  if (node.op_type == "QConv") return "QLinearConv";
  if (node.op_type == "QGemm") return "QLinearMatMul";
  return node.op_type;
}
}  // namespace

std::optional<int64_t> node_macs(const Graph& g, const Node& node) {
  const std::string op = base_compute_op(node);
  if (!kComputeOps.count(op) || node.inputs.empty() || node.outputs.empty()) return std::nullopt;
  if (op == "Conv" || op == "ConvInteger" || op == "QLinearConv") {
    size_t w_index = op == "QLinearConv" ? 3 : 1;
    if (node.inputs.size() <= w_index) return std::nullopt;
    auto w = static_shape(g, node.inputs[w_index]);
    auto y = static_shape(g, node.outputs[0]);
    if (!w || !y || w->size() < 2) return std::nullopt;
    int64_t per_output = 1;
    for (size_t i = 1; i < w->size(); ++i) per_output *= (*w)[i];  // Cin/group * kernel
    return shape_numel(*y) * per_output;
  }
  if (op == "ConvTranspose") {
    auto w = static_shape(g, node.inputs[1]);
    auto x = static_shape(g, node.inputs[0]);
    if (!w || !x || w->size() < 2) return std::nullopt;
    int64_t per_input = 1;
    for (size_t i = 1; i < w->size(); ++i) per_input *= (*w)[i];  // Cout/group * kernel
    return shape_numel(*x) * per_input;
  }
  if (op == "Gemm" || op == "MatMul" || op == "MatMulInteger" || op == "QLinearMatMul") {
    size_t b_index = op == "QLinearMatMul" ? 3 : 1;
    if (node.inputs.size() <= b_index) return std::nullopt;
    auto a = static_shape(g, node.inputs[0]);
    auto y = static_shape(g, node.outputs[0]);
    if (!a || !y || a->empty()) return std::nullopt;
    int64_t k = (op == "Gemm" && node.attr_int("transA", 0)) ? (*a)[0] : a->back();
    return shape_numel(*y) * k;
  }
  // Recurrent: per step, gates * hidden * (input + hidden), for each direction.
  auto x = static_shape(g, node.inputs[0]);
  auto w = node.inputs.size() > 1 ? static_shape(g, node.inputs[1]) : std::nullopt;
  if (!x || !w || x->size() != 3 || w->size() != 3) return std::nullopt;
  int64_t seq = (*x)[0], batch = (*x)[1], input = (*x)[2];
  if (node.attr_int("layout", 0)) std::swap(seq, batch);
  int64_t dirs = (*w)[0], gates_hidden = (*w)[1];
  int64_t hidden = node.attr_int("hidden_size", 0);
  return dirs * seq * batch * gates_hidden * (input + hidden);
}

namespace {
void accumulate(const Graph& g, GraphStats& s) {
  for (auto& node : g.nodes) {
    ++s.nodes;
    ++s.op_counts[(node.domain.empty() ? "" : node.domain + ".") + node.op_type];
    if (kComputeOps.count(base_compute_op(node))) {
      if (auto m = node_macs(g, node))
        s.macs += *m;
      else
        ++s.nodes_without_macs;
    }
    for (auto& [k, a] : node.attributes) {
      if (a.g) accumulate(*a.g, s);
      for (auto& sub : a.graphs) accumulate(*sub, s);
    }
  }
}
}  // namespace

GraphStats analyze(const Graph& g) {
  GraphStats s;
  accumulate(g, s);
  s.parameters = g.parameter_count();
  s.weight_bytes = g.weight_bytes();
  return s;
}

}  // namespace pith
