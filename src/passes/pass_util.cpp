#include "passes/pass_util.h"

#include <algorithm>

namespace pith::passes {

GraphIndex::GraphIndex(const Graph& g) {
  for (auto& v : g.inputs) graph_inputs.insert(v.name);
  for (auto& v : g.outputs) graph_outputs.insert(v.name);
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    for (auto& in : node.inputs)
      if (!in.empty()) readers[in].push_back(n);
    for (auto& out : node.outputs)
      if (!out.empty()) producer[out] = n;
    for (auto& [key, a] : node.attributes) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs)
        for (auto& name : outer_scope_names(*sub)) subgraph_reads.insert(name);
    }
  }
}

size_t GraphIndex::num_reads(const std::string& v) const {
  auto it = readers.find(v);
  return it == readers.end() ? 0 : it->second.size();
}

bool GraphIndex::only_read_by(const std::string& v, size_t n) const {
  if (graph_outputs.count(v) || subgraph_reads.count(v)) return false;
  auto it = readers.find(v);
  if (it == readers.end() || it->second.empty()) return false;
  return std::all_of(it->second.begin(), it->second.end(), [&](size_t r) { return r == n; });
}

std::optional<size_t> GraphIndex::producer_of(const std::string& v) const {
  auto it = producer.find(v);
  if (it == producer.end()) return std::nullopt;
  return it->second;
}

std::optional<Shape> known_shape(const Graph& g, const std::string& v) {
  if (const Tensor* t = find_initializer(g, v)) return t->shape();
  const ValueInfo* info = g.find_value_info(v);
  if (!info || !info->shape) return std::nullopt;
  Shape s;
  for (auto& d : *info->shape) {
    if (!d.known()) return std::nullopt;
    s.push_back(d.value);
  }
  return s;
}

std::optional<size_t> known_rank(const Graph& g, const std::string& v) {
  if (const Tensor* t = find_initializer(g, v)) return t->shape().size();
  const ValueInfo* info = g.find_value_info(v);
  if (!info || !info->shape) return std::nullopt;
  return info->shape->size();
}

DType known_dtype(const Graph& g, const std::string& v) {
  if (const Tensor* t = find_initializer(g, v)) return t->dtype();
  const ValueInfo* info = g.find_value_info(v);
  return info ? info->dtype : DType::Undefined;
}

const Tensor* find_initializer(const Graph& g, const std::string& v) {
  auto it = g.initializers.find(v);
  return it == g.initializers.end() ? nullptr : &it->second;
}

std::string unique_name(const Graph& g, const std::string& base) {
  std::unordered_set<std::string> used;
  for (auto& v : g.inputs) used.insert(v.name);
  for (auto& v : g.outputs) used.insert(v.name);
  for (auto& [name, info] : g.value_info) used.insert(name);
  for (auto& [name, t] : g.initializers) used.insert(name);
  for (auto& node : g.nodes) {
    for (auto& s : node.inputs) used.insert(s);
    for (auto& s : node.outputs) used.insert(s);
  }
  if (!used.count(base)) return base;
  for (int i = 1;; ++i) {
    std::string name = base + "_" + std::to_string(i);
    if (!used.count(name)) return name;
  }
}

bool bypass_node(Graph& g, size_t n, std::string in, std::string out) {
  GraphIndex index(g);
  if (in == out || index.subgraph_reads.count(out)) return false;
  if (!index.is_graph_output(out)) {
    for (auto& node : g.nodes)
      for (auto& s : node.inputs)
        if (s == out) s = in;
    g.value_info.erase(out);
    g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(n));
    return true;
  }
  // `out` is a graph output: give its name to `in`, which must be a private intermediate.
  auto producer = index.producer_of(in);
  if (!producer || index.is_graph_output(in) || index.graph_inputs.count(in) || index.subgraph_reads.count(in) ||
      g.initializers.count(in))
    return false;
  for (auto& s : g.nodes[*producer].outputs)
    if (s == in) s = out;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (k == n) continue;
    for (auto& s : g.nodes[k].inputs)
      if (s == in) s = out;
  }
  g.value_info.erase(in);
  g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(n));
  return true;
}

int64_t node_opset(const Graph& g, const Node& node) {
  auto it = g.domain_opsets.find(node.domain);
  return it != g.domain_opsets.end() ? it->second : g.opset;  // as the Session does
}

bool float32_or_unknown(const Graph& g, const Node& node) {
  for (const std::string* v : {&node.outputs[0], node.inputs.size() > 1 ? &node.inputs[1] : nullptr}) {
    if (!v || v->empty()) continue;
    DType t = known_dtype(g, *v);
    if (t != DType::Undefined && t != DType::Float32) return false;
  }
  return true;
}

}  // namespace pith::passes
