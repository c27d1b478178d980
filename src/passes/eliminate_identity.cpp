// eliminate_identity: removes nodes whose output is their input unchanged — Identity,
// Dropout at inference (no mask read), Cast to the input's own type, and
// Reshape/Flatten/Squeeze/Unsqueeze/Expand whose input and output have the same fully
// static shape — rewiring their readers to the input. A graph output keeps its name
// (the input value is renamed to it when possible; otherwise the node stays).
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool inference_dropout(const Graph& g, const passes::GraphIndex& index, const Node& node) {
  if (node.has_input(2)) {
    const Tensor* mode = passes::find_initializer(g, node.inputs[2]);
    if (!mode || mode->numel() != 1 || mode->as_double(0) != 0) return false;
  }
  if (node.outputs.size() > 1 && !node.outputs[1].empty()) {
    const std::string& mask = node.outputs[1];
    if (index.num_reads(mask) || index.is_graph_output(mask) || index.subgraph_reads.count(mask)) return false;
  }
  return true;
}

bool is_identity(const Graph& g, const passes::GraphIndex& index, const Node& node) {
  if (!node.domain.empty() && node.domain != "ai.onnx") return false;
  if (node.inputs.empty() || node.inputs[0].empty() || node.outputs.empty() || node.outputs[0].empty())
    return false;
  const std::string& op = node.op_type;
  const std::string& in = node.inputs[0];
  const std::string& out = node.outputs[0];
  if (op == "Identity") return true;
  if (op == "Dropout") return inference_dropout(g, index, node);
  if (op == "Cast") {
    DType t = passes::known_dtype(g, in);
    return t != DType::Undefined && node.has_attr("to") && int64_t(t) == node.attr_int("to", -1);
  }
  if (op == "Reshape" || op == "Flatten" || op == "Squeeze" || op == "Unsqueeze" || op == "Expand") {
    auto a = passes::known_shape(g, in), b = passes::known_shape(g, out);
    return a && b && *a == *b;
  }
  return false;
}

}  // namespace

bool eliminate_identity(Graph& g) {
  bool changed = false;
  passes::LazyIndex index;
  for (size_t n = 0; n < g.nodes.size();) {
    const Node& node = g.nodes[n];
    if (is_identity(g, index.get(g), node) && passes::bypass_node(g, n, node.inputs[0], node.outputs[0])) {
      index.invalidate();
      changed = true;
      continue;  // node n is gone; the next node moved into its place
    }
    ++n;
  }
  return changed;
}

}  // namespace pith
