// fold_constants: evaluates nodes whose inputs are all initializers with the reference
// kernels and stores their outputs as initializers. Shape and Size of a value whose
// shape is fully static become constants, so shape subgraphs fold away once shapes
// are known. Nondeterministic ops (Random*, Bernoulli, Multinomial, training-mode
// Dropout), sequence/optional ops and nodes with subgraphs are left alone, and so are
// nodes whose result would be much larger than their inputs (Expand, Tile, ...).
#include <algorithm>

#include "passes/pass_util.h"
#include "passes/passes.h"
#include "runtime/kernel.h"

namespace pith {

namespace {

constexpr size_t kMaxGrowthBytes = size_t(1) << 20;  // a folded result may add up to 1 MiB

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool deterministic(const Graph& g, const Node& node) {
  const std::string& op = node.op_type;
  if (starts_with(op, "Random") || op == "Bernoulli" || op == "Multinomial") return false;
  if (op == "Dropout" && node.has_input(2)) {
    const Tensor* mode = passes::find_initializer(g, node.inputs[2]);
    if (!mode || mode->numel() != 1 || mode->as_double(0) != 0) return false;
  }
  return true;
}

bool foldable_kind(const Node& node) {
  const std::string& op = node.op_type;
  // Quantized weights stay int8 for the int8 kernels (fuse_qdq folds the DQs they do not read).
  if (op == "DequantizeLinear") return false;
  if (starts_with(op, "Sequence") || op == "SplitToSequence" || op == "ConcatFromSequence" ||
      starts_with(op, "Optional"))
    return false;
  for (auto& [key, a] : node.attributes)
    if (a.g || !a.graphs.empty()) return false;
  return true;
}

// Shape/Size of a value with a fully static shape, or an undefined tensor.
Tensor static_shape_value(const Graph& g, const Node& node) {
  if (!node.domain.empty() || node.inputs.empty() || node.inputs[0].empty()) return {};
  if (node.op_type != "Shape" && node.op_type != "Size") return {};
  auto shape = passes::known_shape(g, node.inputs[0]);
  if (!shape) return {};
  if (node.op_type == "Size") return Tensor::scalar<int64_t>(shape_numel(*shape));
  const int64_t rank = int64_t(shape->size());
  auto clamp_axis = [&](int64_t a) {
    if (a < 0) a += rank;
    return std::clamp<int64_t>(a, 0, rank);
  };
  int64_t start = clamp_axis(node.attr_int("start", 0));
  int64_t end = node.has_attr("end") ? clamp_axis(node.attr_int("end", rank)) : rank;
  std::vector<int64_t> dims;
  for (int64_t i = start; i < end; ++i) dims.push_back((*shape)[size_t(i)]);
  return Tensor::from_vector<int64_t>(dims, {int64_t(dims.size())});
}

// Runs the node's kernel on its initializer inputs; empty when it cannot be folded.
std::vector<Tensor> evaluate(const Graph& g, const Node& node) {
  if (!deterministic(g, node) || !foldable_kind(node)) return {};
  if (node.inputs.empty() && node.op_type != "Constant") return {};
  std::vector<const Tensor*> ins;
  size_t in_bytes = 0;
  for (auto& name : node.inputs) {
    if (name.empty()) {
      ins.push_back(nullptr);
      continue;
    }
    const Tensor* t = passes::find_initializer(g, name);
    if (!t) return {};
    ins.push_back(t);
    in_bytes += t->nbytes();
  }
  KernelFn fn = find_kernel(node.domain, node.op_type);
  if (!fn) return {};
  std::vector<Tensor> outs(node.outputs.size());
  try {
    KernelContext ctx(node, passes::node_opset(g, node), ins, outs, nullptr);
    fn(ctx);
  } catch (const Error&) {
    return {};  // leave it to the runtime, which reports the error with context
  }
  size_t out_bytes = 0;
  for (size_t o = 0; o < outs.size(); ++o) {
    if (node.outputs[o].empty()) continue;
    if (!outs[o].defined()) return {};
    out_bytes += outs[o].nbytes();
  }
  if (out_bytes > in_bytes + kMaxGrowthBytes) return {};
  return outs;
}

}  // namespace

bool fold_constants(Graph& g) {
  std::vector<bool> folded(g.nodes.size(), false);
  bool changed = false;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    std::vector<Tensor> outs;
    if (Tensor s = static_shape_value(g, node); s.defined()) {
      outs.push_back(s);
    } else {
      outs = evaluate(g, node);
    }
    if (outs.empty()) continue;
    for (size_t o = 0; o < node.outputs.size(); ++o) {
      const std::string& name = node.outputs[o];
      if (name.empty()) continue;
      g.initializers[name] = outs[o];
      g.value_info.erase(name);
    }
    folded[n] = true;
    changed = true;
  }
  if (!changed) return false;
  std::vector<Node> kept;
  for (size_t n = 0; n < g.nodes.size(); ++n)
    if (!folded[n]) kept.push_back(std::move(g.nodes[n]));
  g.nodes = std::move(kept);
  return true;
}

}  // namespace pith
