// eliminate_dead_code: walks back from the graph outputs; nodes that contribute to
// none of them are removed, then initializers nobody reads and value_info entries
// for values that no longer exist. Graph inputs are part of the interface and stay.
#include <unordered_set>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

bool eliminate_dead_code(Graph& g) {
  std::unordered_set<std::string> needed;
  for (auto& v : g.outputs) needed.insert(v.name);
  std::vector<bool> live(g.nodes.size(), false);
  // Nodes are sorted, so one backward sweep sees every reader before its producer.
  for (size_t k = g.nodes.size(); k-- > 0;) {
    const Node& node = g.nodes[k];
    bool used = false;
    for (auto& out : node.outputs) used |= !out.empty() && needed.count(out);
    if (!used) continue;
    live[k] = true;
    for (auto& in : node.inputs)
      if (!in.empty()) needed.insert(in);
    for (auto& [key, a] : node.attributes) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs)
        for (auto& name : outer_scope_names(*sub)) needed.insert(name);
    }
  }
  bool changed = false;
  std::vector<Node> kept;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    if (live[k]) kept.push_back(std::move(g.nodes[k]));
    else changed = true;
  }
  g.nodes = std::move(kept);
  for (auto it = g.initializers.begin(); it != g.initializers.end();) {
    if (!needed.count(it->first)) {
      it = g.initializers.erase(it);
      changed = true;
    } else {
      ++it;
    }
  }
  // value_info of values that are gone (not a change that matters to anyone).
  std::unordered_set<std::string> exists;
  for (auto& node : g.nodes)
    for (auto& out : node.outputs) exists.insert(out);
  for (auto it = g.value_info.begin(); it != g.value_info.end();) {
    if (!exists.count(it->first)) it = g.value_info.erase(it);
    else ++it;
  }
  return changed;
}

}  // namespace pith
