// cancel_transposes: Transpose(Transpose(x, p1), p2) is Transpose(x, q) with
// q[j] = p1[p2[j]]. When q is the identity the pair goes away (the second node's
// readers read x); otherwise the second node reads x with perm q (the first one is
// removed later as dead code when nothing else reads it). A single Transpose with an
// identity perm is removed too. A missing perm (reverse the axes) needs a known rank.
#include <numeric>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool is_transpose(const Node& n) {
  return n.op_type == "Transpose" && (n.domain.empty() || n.domain == "ai.onnx") && n.inputs.size() == 1 &&
         n.outputs.size() == 1 && !n.inputs[0].empty();
}

std::optional<std::vector<int64_t>> perm_of(const Graph& g, const Node& n) {
  if (n.has_attr("perm")) return n.attr_ints("perm");
  auto rank = passes::known_rank(g, n.inputs[0]);
  if (!rank) return std::nullopt;
  std::vector<int64_t> p(*rank);
  for (size_t i = 0; i < *rank; ++i) p[i] = int64_t(*rank - 1 - i);
  return p;
}

bool is_identity(const std::vector<int64_t>& p) {
  for (size_t i = 0; i < p.size(); ++i)
    if (p[i] != int64_t(i)) return false;
  return true;
}

bool valid_perm(const std::vector<int64_t>& p) {
  std::vector<bool> seen(p.size(), false);
  for (int64_t v : p) {
    if (v < 0 || v >= int64_t(p.size()) || seen[size_t(v)]) return false;
    seen[size_t(v)] = true;
  }
  return true;
}

}  // namespace

bool cancel_transposes(Graph& g) {
  bool changed = false;
  passes::LazyIndex lazy;
  for (size_t k = 0; k < g.nodes.size();) {
    if (!is_transpose(g.nodes[k])) {
      ++k;
      continue;
    }
    auto p2 = perm_of(g, g.nodes[k]);
    if (!p2 || !valid_perm(*p2)) {
      ++k;
      continue;
    }
    if (is_identity(*p2)) {
      if (passes::bypass_node(g, k, g.nodes[k].inputs[0], g.nodes[k].outputs[0])) {
        lazy.invalidate();
        changed = true;
        continue;
      }
      ++k;
      continue;
    }
    const passes::GraphIndex& index = lazy.get(g);
    auto prev = index.producer_of(g.nodes[k].inputs[0]);
    std::optional<std::vector<int64_t>> p1;
    if (prev && is_transpose(g.nodes[*prev])) p1 = perm_of(g, g.nodes[*prev]);
    if (!p1 || !valid_perm(*p1) || p1->size() != p2->size()) {
      ++k;
      continue;
    }
    std::vector<int64_t> q(p2->size());
    for (size_t j = 0; j < q.size(); ++j) q[j] = (*p1)[size_t((*p2)[j])];
    const std::string x = g.nodes[*prev].inputs[0];
    if (is_identity(q)) {
      if (passes::bypass_node(g, k, x, g.nodes[k].outputs[0])) {
        lazy.invalidate();
        changed = true;
        continue;
      }
      ++k;
      continue;
    }
    Node& t = g.nodes[k];
    t.inputs[0] = x;
    Attribute perm;
    perm.kind = Attribute::Kind::Ints;
    perm.ints = q;
    t.attributes["perm"] = perm;
    lazy.invalidate();
    changed = true;
    ++k;
  }
  return changed;
}

}  // namespace pith
