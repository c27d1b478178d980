// Static analysis of a Graph for reporting: operator histogram and multiply-accumulate
// counts from the shapes ONNX shape inference recorded (symbolic dimensions count as 1).
#pragma once

#include <map>
#include <optional>
#include <string>

#include "ir/graph.h"

namespace pith {

// Known shape of a value (input, output, value_info or initializer); symbolic dims -> 1.
std::optional<Shape> static_shape(const Graph& g, const std::string& value);

// MACs of one node; nullopt when shapes are unknown or the op is not compute-bound.
std::optional<int64_t> node_macs(const Graph& g, const Node& node);

struct GraphStats {
  std::map<std::string, int> op_counts;  // op type -> node count (subgraphs included)
  int64_t nodes = 0;
  int64_t parameters = 0;
  size_t weight_bytes = 0;
  int64_t macs = 0;
  int64_t nodes_without_macs = 0;  // compute ops whose shapes were unknown
};

GraphStats analyze(const Graph& g);

}  // namespace pith
