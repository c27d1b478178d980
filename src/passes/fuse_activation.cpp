// fuse_activation: an activation applied to the output of a Conv or Gemm (or of a
// pith.FusedConv/FusedGemm that has no activation yet) becomes the `activation`
// attribute of a pith.FusedConv/FusedGemm that writes the activation's output:
//   Relu, Clip (bounds constant), LeakyRelu, HardSigmoid, HardSwish, Sigmoid, Tanh
//   Mul(x, Sigmoid(x))                                -> SiLU
//   Mul(x, HardSigmoid(x)) with alpha = 1/6, beta = 1/2 -> HardSwish
// The producer's output must not be read by anyone else (the gate patterns: only by
// the gate and the Mul) nor be a graph output.
#include <algorithm>
#include <cmath>
#include <limits>

#include "passes/pass_util.h"
#include "passes/passes.h"
#include "runtime/kernels/activation.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

// A producer that can take an activation: Conv, Gemm, or a fused node without one.
bool accepts_activation(const Node& n) {
  if (n.outputs.size() != 1 || n.inputs.size() < 2) return false;
  if (default_domain(n)) return n.op_type == "Conv" || n.op_type == "Gemm";
  return n.domain == "pith" && (n.op_type == "FusedConv" || n.op_type == "FusedGemm") &&
         n.attr_string("activation", "").empty();
}

// The activation a single-input node computes, when it is one the fused kernels know.
std::optional<Activation> activation_of(const Graph& g, const Node& n) {
  if (!default_domain(n) || n.inputs.empty() || n.outputs.size() != 1) return std::nullopt;
  const std::string& op = n.op_type;
  Activation a;
  if (op == "Relu") {
    a.kind = ActivationKind::Relu;
  } else if (op == "LeakyRelu") {
    a.kind = ActivationKind::LeakyRelu;
    a.alpha = n.attr_float("alpha", 0.01f);
  } else if (op == "HardSigmoid") {
    a.kind = ActivationKind::HardSigmoid;
    a.alpha = n.attr_float("alpha", 0.2f);
    a.beta = n.attr_float("beta", 0.5f);
  } else if (op == "HardSwish") {
    a.kind = ActivationKind::HardSwish;
  } else if (op == "Sigmoid") {
    a.kind = ActivationKind::Sigmoid;
  } else if (op == "Tanh") {
    a.kind = ActivationKind::Tanh;
  } else if (op == "Clip") {
    a.kind = ActivationKind::Clip;
    a.alpha = -std::numeric_limits<float>::infinity();
    a.beta = std::numeric_limits<float>::infinity();
    if (passes::node_opset(g, n) < 11) {
      a.alpha = n.attr_float("min", a.alpha);
      a.beta = n.attr_float("max", a.beta);
    } else {
      for (size_t i = 1; i < 3; ++i) {
        if (!n.has_input(i)) continue;
        const Tensor* t = passes::find_initializer(g, n.inputs[i]);
        if (!t || t->numel() != 1 || t->dtype() != DType::Float32) return std::nullopt;
        (i == 1 ? a.alpha : a.beta) = t->data<float>()[0];
      }
    }
  } else {
    return std::nullopt;
  }
  if (n.inputs.size() > 1 && op != "Clip") return std::nullopt;
  return a;
}

// The fused node: the producer with the activation attributes, writing `output`.
Node make_fused(const Node& prod, const Activation& a, const std::string& output) {
  Node f = prod;
  f.domain = "pith";
  f.op_type = (prod.op_type == "Conv" || prod.op_type == "FusedConv") ? "FusedConv" : "FusedGemm";
  f.outputs = {output};
  Attribute name;
  name.kind = Attribute::Kind::String;
  name.s = activation_name(a.kind);
  f.attributes["activation"] = name;
  f.attributes.erase("activation_alpha");
  f.attributes.erase("activation_beta");
  if (a.kind == ActivationKind::Clip || a.kind == ActivationKind::LeakyRelu || a.kind == ActivationKind::HardSigmoid) {
    Attribute alpha;
    alpha.kind = Attribute::Kind::Float;
    alpha.f = a.alpha;
    f.attributes["activation_alpha"] = alpha;
  }
  if (a.kind == ActivationKind::Clip || a.kind == ActivationKind::HardSigmoid) {
    Attribute beta;
    beta.kind = Attribute::Kind::Float;
    beta.f = a.beta;
    f.attributes["activation_beta"] = beta;
  }
  return f;
}

// Removes the nodes in `gone` (indices) and puts `fused` at index `at` (the last of the
// pattern, so every value the fused node reads is computed before it).
void rewrite(Graph& g, std::vector<size_t> gone, size_t at, Node fused) {
  for (size_t k : gone)
    for (auto& out : g.nodes[k].outputs) g.value_info.erase(out);
  g.nodes[at] = std::move(fused);
  std::sort(gone.rbegin(), gone.rend());
  for (size_t k : gone) g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(k));
}

bool near(float a, float b) { return std::fabs(a - b) <= 1e-6f; }

// Mul(x, gate(x)) at node m with x produced by p: the gate is Sigmoid (-> SiLU) or
// HardSigmoid(1/6, 1/2) (-> HardSwish).
bool try_gate(Graph& g, const passes::GraphIndex& index, size_t m) {
  const Node& mul = g.nodes[m];
  if (mul.op_type != "Mul" || !default_domain(mul) || mul.inputs.size() != 2 || mul.outputs.size() != 1) return false;
  for (size_t side = 0; side < 2; ++side) {
    const std::string& x = mul.inputs[side];
    const std::string& gv = mul.inputs[1 - side];
    if (x == gv) continue;
    auto p = index.producer_of(x), q = index.producer_of(gv);
    if (!p || !q || !accepts_activation(g.nodes[*p])) continue;
    const Node& gate = g.nodes[*q];
    if (gate.inputs.size() != 1 || gate.inputs[0] != x) continue;
    if (!index.only_read_by(gv, m) || index.num_reads(gv) != 1) continue;
    // x is read exactly by the gate and the Mul.
    if (index.is_graph_output(x) || index.subgraph_reads.count(x) || index.num_reads(x) != 2) continue;
    auto act = activation_of(g, gate);
    if (!act) continue;
    Activation fused_act;
    if (act->kind == ActivationKind::Sigmoid) {
      fused_act.kind = ActivationKind::SiLU;
    } else if (act->kind == ActivationKind::HardSigmoid && near(act->alpha, 1.0f / 6.0f) && near(act->beta, 0.5f)) {
      fused_act.kind = ActivationKind::HardSwish;
    } else {
      continue;
    }
    if (!passes::float32_or_unknown(g, g.nodes[*p])) continue;
    Node fused = make_fused(g.nodes[*p], fused_act, mul.outputs[0]);
    rewrite(g, {*p, *q}, m, std::move(fused));
    return true;
  }
  return false;
}

bool try_single(Graph& g, const passes::GraphIndex& index, size_t k) {
  const Node& node = g.nodes[k];
  auto act = activation_of(g, node);
  if (!act) return false;
  const std::string& x = node.inputs[0];
  auto p = index.producer_of(x);
  if (!p || !accepts_activation(g.nodes[*p]) || !index.only_read_by(x, k)) return false;
  if (!passes::float32_or_unknown(g, g.nodes[*p])) return false;
  // Sigmoid on a value also gated by a Mul is the SiLU pattern, handled by try_gate.
  Node fused = make_fused(g.nodes[*p], *act, node.outputs[0]);
  rewrite(g, {*p}, k, std::move(fused));
  return true;
}

}  // namespace

bool fuse_activation(Graph& g) {
  bool changed = false;
  passes::LazyIndex lazy;
  for (size_t k = 0; k < g.nodes.size();) {
    const std::string& op = g.nodes[k].op_type;
    if (op == "Mul" || activation_of(g, g.nodes[k])) {
      const passes::GraphIndex& index = lazy.get(g);
      // Patterns are anchored at their last node and every removed node precedes it, so
      // earlier anchors stay unmatched; go on after the fused node.
      size_t removed = try_gate(g, index, k) ? 2 : try_single(g, index, k) ? 1 : 0;
      if (removed) {
        lazy.invalidate();
        changed = true;
        k = k - removed + 1;
        continue;
      }
    }
    ++k;
  }
  return changed;
}

}  // namespace pith
