#include "ir/graph.h"

#include <set>

namespace pith {

const Attribute* Node::attr(std::string_view key) const {
  auto it = attributes.find(key);
  return it == attributes.end() ? nullptr : &it->second;
}

int64_t Node::attr_int(std::string_view key, int64_t fallback) const {
  const Attribute* a = attr(key);
  if (!a) return fallback;
  PITH_CHECK(a->kind == Attribute::Kind::Int, describe(), ": attribute '", key, "' must be an int");
  return a->i;
}

float Node::attr_float(std::string_view key, float fallback) const {
  const Attribute* a = attr(key);
  if (!a) return fallback;
  if (a->kind == Attribute::Kind::Int) return float(a->i);
  PITH_CHECK(a->kind == Attribute::Kind::Float, describe(), ": attribute '", key, "' must be a float");
  return a->f;
}

std::string Node::attr_string(std::string_view key, const std::string& fallback) const {
  const Attribute* a = attr(key);
  if (!a) return fallback;
  PITH_CHECK(a->kind == Attribute::Kind::String, describe(), ": attribute '", key, "' must be a string");
  return a->s;
}

std::optional<std::span<const int64_t>> Node::attr_ints_view(std::string_view key) const {
  const Attribute* a = attr(key);
  if (!a) return std::nullopt;
  if (a->kind == Attribute::Kind::Int) return std::span<const int64_t>(&a->i, 1);
  PITH_CHECK(a->kind == Attribute::Kind::Ints, describe(), ": attribute '", key, "' must be a list of ints");
  return std::span<const int64_t>(a->ints);
}

std::optional<std::span<const float>> Node::attr_floats_view(std::string_view key) const {
  const Attribute* a = attr(key);
  if (!a) return std::nullopt;
  if (a->kind == Attribute::Kind::Float) return std::span<const float>(&a->f, 1);
  PITH_CHECK(a->kind == Attribute::Kind::Floats, describe(), ": attribute '", key, "' must be a list of floats");
  return std::span<const float>(a->floats);
}

std::vector<int64_t> Node::attr_ints(std::string_view key, std::vector<int64_t> fallback) const {
  const auto v = attr_ints_view(key);
  return v ? std::vector<int64_t>(v->begin(), v->end()) : fallback;
}

std::vector<float> Node::attr_floats(std::string_view key, std::vector<float> fallback) const {
  const auto v = attr_floats_view(key);
  return v ? std::vector<float>(v->begin(), v->end()) : fallback;
}

size_t Node::num_inputs() const {
  size_t n = inputs.size();
  while (n > 0 && inputs[n - 1].empty()) --n;
  return n;
}

std::string Node::describe() const {
  return op_type + " node '" + (name.empty() ? (outputs.empty() ? std::string("?") : outputs[0]) : name) + "'";
}

const ValueInfo* Graph::find_value_info(const std::string& n) const {
  for (auto& v : inputs)
    if (v.name == n) return &v;
  for (auto& v : outputs)
    if (v.name == n) return &v;
  auto it = value_info.find(n);
  return it == value_info.end() ? nullptr : &it->second;
}

int64_t Graph::parameter_count() const {
  int64_t n = 0;
  for (auto& [name, t] : initializers) n += t.numel();
  return n;
}

size_t Graph::weight_bytes() const {
  size_t n = 0;
  for (auto& [name, t] : initializers) n += t.nbytes();
  return n;
}

namespace {
void collect_outer(const Graph& g, std::set<std::string>& defined, std::set<std::string>& used,
                   std::vector<std::string>& order) {
  for (auto& v : g.inputs) defined.insert(v.name);
  for (auto& [n, t] : g.initializers) defined.insert(n);
  for (auto& node : g.nodes) {
    for (auto& in : node.inputs) {
      if (!in.empty() && !defined.count(in) && used.insert(in).second) order.push_back(in);
    }
    for (auto& [k, a] : node.attributes) {
      std::vector<std::shared_ptr<Graph>> subs = a.graphs;
      if (a.g) subs.push_back(a.g);
      for (auto& sub : subs) {
        for (auto& n : outer_scope_names(*sub)) {
          if (!defined.count(n) && used.insert(n).second) order.push_back(n);
        }
      }
    }
    for (auto& out : node.outputs) defined.insert(out);
  }
  for (auto& v : g.outputs) {
    if (!defined.count(v.name) && used.insert(v.name).second) order.push_back(v.name);
  }
}
}  // namespace

std::vector<std::string> outer_scope_names(const Graph& g) {
  std::set<std::string> defined, used;
  std::vector<std::string> order;
  collect_outer(g, defined, used, order);
  return order;
}

}  // namespace pith
