// Graph verification: every value read is produced exactly once (by a graph input,
// an initializer or a node), and nodes can be ordered so that producers come first.
// Errors name the node and value at fault.
#pragma once

#include <vector>

#include "ir/graph.h"

namespace pith {

// Returns node indices in a valid execution order (stable: the file's order when it
// is already topological). `outer` lists names visible from enclosing graphs.
// Throws pith::Error on a cycle, a dangling value or a value defined twice.
std::vector<size_t> topological_order(const Graph& g, const std::vector<std::string>& outer = {});

// Reorders g.nodes topologically and verifies subgraphs recursively.
void verify_and_sort(Graph& g, const std::vector<std::string>& outer = {});

}  // namespace pith
