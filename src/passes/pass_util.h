// Helpers shared by the graph passes (not part of the passes' interface).
#pragma once

#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "ir/graph.h"

namespace pith::passes {

// Who produces and who reads each value of the top-level graph. Rebuild it after a
// rewrite (passes are small and graphs have hundreds of nodes).
struct GraphIndex {
  std::unordered_map<std::string, size_t> producer;                 // value -> node index
  std::unordered_map<std::string, std::vector<size_t>> readers;     // value -> node per read
  std::unordered_set<std::string> subgraph_reads;                   // read from If/Loop/Scan bodies
  std::unordered_set<std::string> graph_inputs, graph_outputs;

  explicit GraphIndex(const Graph& g);

  bool is_graph_output(const std::string& v) const { return graph_outputs.count(v) != 0; }
  // Number of node-input reads of v (a node reading it twice counts twice).
  size_t num_reads(const std::string& v) const;
  // True when v is read only by node n (any number of times), by no subgraph, and is
  // not a graph output: the value is private to the producer -> n edge.
  bool only_read_by(const std::string& v, size_t n) const;
  // The node producing v, or nullopt (graph input, initializer, unknown).
  std::optional<size_t> producer_of(const std::string& v) const;
};

// A GraphIndex built on first use and dropped after each rewrite, so a pass that scans
// many candidates but rewrites few builds it rarely.
class LazyIndex {
 public:
  const GraphIndex& get(const Graph& g) {
    if (!index_) index_.emplace(g);
    return *index_;
  }
  void invalidate() { index_.reset(); }

 private:
  std::optional<GraphIndex> index_;
};

// The shape of v when every dimension is a known integer (initializers, graph
// inputs/outputs, value_info); nullopt otherwise.
std::optional<Shape> known_shape(const Graph& g, const std::string& v);
// The rank of v when known.
std::optional<size_t> known_rank(const Graph& g, const std::string& v);
// The element type of v when known, DType::Undefined otherwise.
DType known_dtype(const Graph& g, const std::string& v);
// The initializer named v, or nullptr.
const Tensor* find_initializer(const Graph& g, const std::string& v);

// A value name not used anywhere in g, derived from base.
std::string unique_name(const Graph& g, const std::string& base);

// Removes node n, whose output `out` carries the same tensor as its input `in`
// (same type, shape and data), rewiring readers. Keeps graph output names: when `out`
// is a graph output, `in` is renamed to `out` instead (if `in` is a plain
// intermediate). Returns false (graph untouched) when that is not possible.
bool bypass_node(Graph& g, size_t n, std::string in, std::string out);

// Opset the node runs with (its domain's opset, else the model's).
int64_t node_opset(const Graph& g, const Node& node);

// True when the node's element type is not known to be anything but float32 (the
// fused kernels compute activations in float32).
bool float32_or_unknown(const Graph& g, const Node& node);

}  // namespace pith::passes
