// fuse_residual_add: Add(conv_out, z) where conv_out comes from a Conv (or a FusedConv
// with neither activation nor residual), is read only by that Add, and z is known to
// have exactly conv_out's static shape -> pith.FusedConv(X, W, B, z) writing the Add's
// output. fuse_activation can then absorb a following Relu (the ResNet block tail).
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool plain_conv(const Node& n) {
  if (n.outputs.size() != 1 || n.inputs.size() < 2) return false;
  if (default_domain(n)) return n.op_type == "Conv";
  return n.domain == "pith" && n.op_type == "FusedConv" && n.attr_string("activation", "").empty() &&
         !n.has_input(3);
}

bool try_fuse(Graph& g, passes::LazyIndex& lazy, size_t a) {
  const Node& add = g.nodes[a];
  if (add.op_type != "Add" || !default_domain(add) || add.inputs.size() != 2 || add.outputs.size() != 1) return false;
  const passes::GraphIndex& index = lazy.get(g);
  for (size_t side = 0; side < 2; ++side) {
    const std::string& y = add.inputs[side];
    const std::string& z = add.inputs[1 - side];
    if (y == z) continue;
    auto p = index.producer_of(y);
    if (!p || !plain_conv(g.nodes[*p]) || !index.only_read_by(y, a)) continue;
    auto ys = passes::known_shape(g, y), zs = passes::known_shape(g, z);
    if (!ys || !zs || *ys != *zs) continue;
    if (!passes::float32_or_unknown(g, g.nodes[*p])) continue;
    DType zt = passes::known_dtype(g, z);
    if (zt != DType::Undefined && zt != DType::Float32) continue;
    Node fused = g.nodes[*p];
    fused.domain = "pith";
    fused.op_type = "FusedConv";
    fused.inputs.resize(3);  // an omitted bias stays "" (optional)
    fused.inputs.push_back(z);
    fused.outputs = {add.outputs[0]};
    g.value_info.erase(y);
    const size_t conv_index = *p;
    g.nodes[a] = std::move(fused);
    g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(conv_index));
    return true;
  }
  return false;
}

}  // namespace

bool fuse_residual_add(Graph& g) {
  bool changed = false;
  passes::LazyIndex index;
  for (size_t a = 0; a < g.nodes.size(); ++a) {
    if (try_fuse(g, index, a)) {
      index.invalidate();
      changed = true;
      --a;  // the Conv before a was removed
    }
  }
  return changed;
}

}  // namespace pith
