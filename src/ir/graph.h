// The intermediate representation: a Graph of Nodes connected by named Values.
// Plain data, no protobuf: the importer fills it, passes rewrite it, the runtime
// compiles it. Value names are the edges; an empty input name is an omitted
// optional input (as in ONNX).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/tensor.h"

namespace pith {

struct Graph;

struct Attribute {
  enum class Kind { Float, Int, String, Tensor, Graph, Floats, Ints, Strings, Tensors, Graphs };
  Kind kind = Kind::Int;
  float f = 0;
  int64_t i = 0;
  std::string s;
  Tensor t;
  std::shared_ptr<Graph> g;
  std::vector<float> floats;
  std::vector<int64_t> ints;
  std::vector<std::string> strings;
  std::vector<Tensor> tensors;
  std::vector<std::shared_ptr<Graph>> graphs;
};

// A dimension is either known (value >= 0) or symbolic (value -1, named by `param`).
struct Dim {
  int64_t value = -1;
  std::string param;
  bool known() const { return value >= 0; }
};

struct ValueInfo {
  std::string name;
  DType dtype = DType::Undefined;
  std::optional<std::vector<Dim>> shape;  // nullopt: rank unknown
};

struct Node {
  std::string name;
  std::string op_type;
  std::string domain;  // "" for the default ONNX domain
  std::vector<std::string> inputs;
  std::vector<std::string> outputs;
  // Looked up by string_view (a transparent comparator): a kernel reading an attribute
  // by a long literal name builds no std::string (nor allocates one).
  std::map<std::string, Attribute, std::less<>> attributes;

  bool has_attr(std::string_view key) const { return attributes.find(key) != attributes.end(); }
  int64_t attr_int(std::string_view key, int64_t fallback) const;
  float attr_float(std::string_view key, float fallback) const;
  std::string attr_string(std::string_view key, const std::string& fallback) const;
  std::vector<int64_t> attr_ints(std::string_view key, std::vector<int64_t> fallback = {}) const;
  std::vector<float> attr_floats(std::string_view key, std::vector<float> fallback = {}) const;
  // The values of an int or ints (float or floats) attribute where they lie, not copied;
  // nullopt when absent. Throws naming the node when the attribute is of another kind.
  std::optional<std::span<const int64_t>> attr_ints_view(std::string_view key) const;
  std::optional<std::span<const float>> attr_floats_view(std::string_view key) const;
  const Attribute* attr(std::string_view key) const;
  // Number of inputs actually given (trailing omitted ones excluded).
  size_t num_inputs() const;
  bool has_input(size_t i) const { return i < inputs.size() && !inputs[i].empty(); }
  // "Conv 'conv1'" — how errors refer to a node.
  std::string describe() const;
};

struct Graph {
  std::string name;
  int64_t opset = 0;  // default-domain opset of the model
  std::map<std::string, int64_t> domain_opsets;
  std::vector<Node> nodes;
  std::vector<ValueInfo> inputs;  // runtime inputs (initializers excluded)
  std::vector<ValueInfo> outputs;
  std::map<std::string, ValueInfo> value_info;  // inferred types/shapes of intermediates
  std::map<std::string, Tensor> initializers;

  const ValueInfo* find_value_info(const std::string& name) const;
  int64_t parameter_count() const;
  size_t weight_bytes() const;
};

// Subgraph helpers: names a subgraph reads from enclosing scopes.
std::vector<std::string> outer_scope_names(const Graph& g);

}  // namespace pith
