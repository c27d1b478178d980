#include "ir/verify.h"

#include <queue>
#include <set>
#include <unordered_map>
#include <unordered_set>

namespace pith {

std::vector<size_t> topological_order(const Graph& g, const std::vector<std::string>& outer) {
  std::unordered_set<std::string> available(outer.begin(), outer.end());
  std::unordered_map<std::string, size_t> producer;
  for (auto& v : g.inputs) available.insert(v.name);
  for (auto& [n, t] : g.initializers) available.insert(n);
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    for (auto& out : g.nodes[i].outputs) {
      if (out.empty()) continue;
      PITH_CHECK(!producer.count(out), "value '", out, "' is produced twice (by ",
                 g.nodes[producer[out]].describe(), " and ", g.nodes[i].describe(), ")");
      producer[out] = i;
    }
  }
  // Inputs a node needs, including names its subgraphs read from this scope.
  std::vector<std::vector<std::string>> needs(g.nodes.size());
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    auto& node = g.nodes[i];
    for (auto& in : node.inputs) if (!in.empty()) needs[i].push_back(in);
    for (auto& [k, a] : node.attributes) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs)
        for (auto& n : outer_scope_names(*sub)) needs[i].push_back(n);
    }
    for (auto& in : needs[i]) {
      PITH_CHECK(available.count(in) || producer.count(in), node.describe(), " reads value '", in,
                 "', which no node, graph input or initializer produces");
    }
  }
  std::vector<int> pending(g.nodes.size(), 0);
  std::unordered_map<std::string, std::vector<size_t>> consumers;
  for (size_t i = 0; i < g.nodes.size(); ++i) {
    std::set<std::string> uniq(needs[i].begin(), needs[i].end());
    for (auto& in : uniq) {
      if (producer.count(in) && !available.count(in)) {
        ++pending[i];
        consumers[in].push_back(i);
      }
    }
  }
  // Kahn's algorithm with a min-heap so the original order is kept where possible.
  std::priority_queue<size_t, std::vector<size_t>, std::greater<>> ready;
  for (size_t i = 0; i < g.nodes.size(); ++i) if (pending[i] == 0) ready.push(i);
  std::vector<size_t> order;
  while (!ready.empty()) {
    size_t i = ready.top();
    ready.pop();
    order.push_back(i);
    for (auto& out : g.nodes[i].outputs) {
      if (out.empty()) continue;
      for (size_t c : consumers[out]) if (--pending[c] == 0) ready.push(c);
    }
  }
  if (order.size() != g.nodes.size()) {
    for (size_t i = 0; i < g.nodes.size(); ++i) {
      if (pending[i] > 0) fail("the graph has a cycle through ", g.nodes[i].describe());
    }
  }
  for (auto& out : g.outputs) {
    PITH_CHECK(available.count(out.name) || producer.count(out.name), "graph output '", out.name,
               "' is not produced by any node, input or initializer");
  }
  return order;
}

void verify_and_sort(Graph& g, const std::vector<std::string>& outer) {
  auto order = topological_order(g, outer);
  bool sorted = true;
  for (size_t i = 0; i < order.size(); ++i) sorted &= order[i] == i;
  if (!sorted) {
    std::vector<Node> nodes;
    nodes.reserve(g.nodes.size());
    for (size_t i : order) nodes.push_back(std::move(g.nodes[i]));
    g.nodes = std::move(nodes);
  }
  // Subgraphs see everything visible here.
  std::vector<std::string> visible = outer;
  for (auto& v : g.inputs) visible.push_back(v.name);
  for (auto& [n, t] : g.initializers) visible.push_back(n);
  for (auto& node : g.nodes)
    for (auto& o : node.outputs) if (!o.empty()) visible.push_back(o);
  for (auto& node : g.nodes) {
    for (auto& [k, a] : node.attributes) {
      if (a.g) verify_and_sort(*a.g, visible);
      for (auto& sub : a.graphs) verify_and_sort(*sub, visible);
    }
  }
}

}  // namespace pith
