// Shared helpers for the kernel and pass unit tests (header-only, namespace
// pith::test_util):
//   - attribute constructors: attr_int, attr_float, attr_string, attr_ints, attr_floats,
//     attr_strings, attr_tensor, attr_graph (all via make_attribute);
//   - tensor constructors f32 / i64 (values and shape);
//   - one_node(): a node "n" with inputs i0.. and outputs o0..; make_node(): any named node;
//   - run_kernel(): one node through a given KernelFn via a KernelContext (optionally
//     with a thread pool); run_one_node_session(): one node as a whole graph through a
//     Session (leading inputs as graph inputs, the rest as initializers, N threads);
//   - OpRunner: builds one node from an op type, Tensor inputs (an undefined Tensor is
//     an omitted optional input), output count, opset, domain and attributes, and runs
//     it through find_kernel (SIMD first), find_reference_kernel or a Session;
//   - uniform_tensor(): uniform random float tensors (from an rng or a seed);
//   - expect_near (elements against a list), expect_bitwise (same shape and bytes);
//   - for_each_target(): runs a body once per SIMD target compiled and supported.
#pragma once

#include <gtest/gtest.h>
#include <hwy/targets.h>

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "runtime/kernel.h"
#include "runtime/session.h"

namespace pith::test_util {

// ---- attributes ----

// An attribute of `kind` with `field` set to `value`.
template <typename T>
Attribute make_attribute(Attribute::Kind kind, T Attribute::*field, std::type_identity_t<T> value) {
  Attribute a;
  a.kind = kind;
  a.*field = std::move(value);
  return a;
}

inline Attribute attr_int(int64_t v) { return make_attribute(Attribute::Kind::Int, &Attribute::i, v); }
inline Attribute attr_float(float v) { return make_attribute(Attribute::Kind::Float, &Attribute::f, v); }
inline Attribute attr_string(std::string v) {
  return make_attribute(Attribute::Kind::String, &Attribute::s, std::move(v));
}
inline Attribute attr_ints(std::vector<int64_t> v) {
  return make_attribute(Attribute::Kind::Ints, &Attribute::ints, std::move(v));
}
inline Attribute attr_floats(std::vector<float> v) {
  return make_attribute(Attribute::Kind::Floats, &Attribute::floats, std::move(v));
}
inline Attribute attr_strings(std::vector<std::string> v) {
  return make_attribute(Attribute::Kind::Strings, &Attribute::strings, std::move(v));
}
inline Attribute attr_tensor(Tensor t) { return make_attribute(Attribute::Kind::Tensor, &Attribute::t, std::move(t)); }
inline Attribute attr_graph(std::shared_ptr<Graph> g) {
  return make_attribute(Attribute::Kind::Graph, &Attribute::g, std::move(g));
}
inline Attribute attr_graph(Graph g) { return attr_graph(std::make_shared<Graph>(std::move(g))); }

// ---- tensors ----

inline Tensor f32(std::vector<float> v, Shape s) { return Tensor::from_vector<float>(v, std::move(s)); }
inline Tensor i64(std::vector<int64_t> v, Shape s) { return Tensor::from_vector<int64_t>(v, std::move(s)); }

// Float32, each element uniform in [lo, hi], drawn in order from `rng`.
inline Tensor uniform_tensor(Shape shape, std::mt19937& rng, float lo = -1.f, float hi = 1.f) {
  Tensor t(DType::Float32, std::move(shape));
  std::uniform_real_distribution<float> dist(lo, hi);
  for (int64_t k = 0; k < t.numel(); ++k) t.data<float>()[k] = dist(rng);
  return t;
}
// The same from a fresh generator seeded with `seed`.
inline Tensor uniform_tensor(Shape shape, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  return uniform_tensor(std::move(shape), rng, lo, hi);
}

// ---- running one node ----

inline std::string numbered(const char* prefix, size_t k) { return prefix + std::to_string(k); }

// A node `op_type` named "n" with inputs "i0".. and outputs "o0"...
inline Node one_node(const std::string& op_type, size_t n_inputs, size_t n_outputs = 1) {
  Node node;
  node.name = "n";
  node.op_type = op_type;
  for (size_t k = 0; k < n_inputs; ++k) node.inputs.push_back(numbered("i", k));
  for (size_t k = 0; k < n_outputs; ++k) node.outputs.push_back(numbered("o", k));
  return node;
}

// A node with the given op, name, value names and attributes (for hand-built graphs).
inline Node make_node(const std::string& op_type, const std::string& name, std::vector<std::string> inputs,
                      std::vector<std::string> outputs, std::map<std::string, Attribute, std::less<>> attributes = {}) {
  Node node;
  node.op_type = op_type;
  node.name = name;
  node.inputs = std::move(inputs);
  node.outputs = std::move(outputs);
  node.attributes = std::move(attributes);
  return node;
}

// Runs `node` through `fn` with `inputs` (undefined: omitted); one output per node output.
inline std::vector<Tensor> run_kernel(KernelFn fn, const Node& node, int64_t opset, const std::vector<Tensor>& inputs,
                                      ThreadPool* pool = nullptr) {
  if (!fn) throw std::runtime_error("no kernel for " + node.op_type);
  std::vector<const Tensor*> ptrs;
  for (auto& t : inputs) ptrs.push_back(t.defined() ? &t : nullptr);
  std::vector<Tensor> outs(node.outputs.size());
  KernelContext ctx(node, opset, ptrs, outs, nullptr, pool);
  fn(ctx);
  return outs;
}

// Runs `node` as a one-node graph through a Session: the first `n_graph_inputs` defined
// inputs are graph inputs (fed on every run), the later ones initializers; the named
// node outputs are the graph outputs. Runs `runs` times (a second run sees cached
// state such as packed weights) and returns the last run's outputs.
inline std::vector<Tensor> run_one_node_session(const Node& node, const std::vector<Tensor>& inputs, int64_t opset,
                                                size_t n_graph_inputs, int threads = 1, int runs = 1) {
  auto g = std::make_shared<Graph>();
  g->opset = opset;
  g->nodes.push_back(node);
  std::map<std::string, Tensor> feeds;
  for (size_t k = 0; k < inputs.size() && k < node.inputs.size(); ++k) {
    if (!inputs[k].defined()) continue;
    if (k < n_graph_inputs) {
      g->inputs.push_back({node.inputs[k], inputs[k].dtype(), std::nullopt});
      feeds[node.inputs[k]] = inputs[k];
    } else {
      g->initializers[node.inputs[k]] = inputs[k];
    }
  }
  for (auto& name : node.outputs)
    if (!name.empty()) g->outputs.push_back({name, DType::Undefined, std::nullopt});
  SessionOptions opt;
  opt.threads = threads;
  Session session(g, opt);
  std::vector<Tensor> outs;
  for (int r = 0; r < runs; ++r) outs = session.run(feeds);
  return outs;
}

// One node built from Tensor inputs; attributes set fluently, e.g.
//   Tensor y = OpRunner("Conv", {x, w}).i("group", 2).ints("pads", {1, 1, 1, 1}).go();
struct OpRunner {
  Node node;
  int64_t opset = 17;
  std::vector<Tensor> inputs;
  std::vector<Tensor> outputs;  // of the last run() / run_reference()

  explicit OpRunner(const std::string& op_type, std::vector<Tensor> ins = {}, int64_t opset_ = 17, size_t n_outputs = 1)
      : node(one_node(op_type, 0, n_outputs)), opset(opset_) {
    for (auto& t : ins) input(std::move(t));
  }

  // Appends an input; an undefined Tensor is an omitted optional input (empty name).
  OpRunner& input(Tensor t) {
    node.inputs.push_back(t.defined() ? numbered("i", inputs.size()) : std::string());
    inputs.push_back(std::move(t));
    return *this;
  }
  OpRunner& domain(std::string d) {
    node.domain = std::move(d);
    return *this;
  }
  OpRunner& attr(const std::string& key, Attribute a) {
    node.attributes[key] = std::move(a);
    return *this;
  }
  OpRunner& i(const std::string& key, int64_t v) { return attr(key, attr_int(v)); }
  OpRunner& f(const std::string& key, float v) { return attr(key, attr_float(v)); }
  OpRunner& s(const std::string& key, std::string v) { return attr(key, attr_string(std::move(v))); }
  OpRunner& ints(const std::string& key, std::vector<int64_t> v) { return attr(key, attr_ints(std::move(v))); }
  OpRunner& floats(const std::string& key, std::vector<float> v) { return attr(key, attr_floats(std::move(v))); }
  OpRunner& strings(const std::string& key, std::vector<std::string> v) {
    return attr(key, attr_strings(std::move(v)));
  }
  OpRunner& tensor(const std::string& key, Tensor v) { return attr(key, attr_tensor(std::move(v))); }

  // Through the registered kernel (the SIMD one where there is one).
  std::vector<Tensor>& run(ThreadPool* pool = nullptr) {
    outputs = run_kernel(find_kernel(node.domain, node.op_type), node, opset, inputs, pool);
    return outputs;
  }
  // Through the portable reference kernel.
  std::vector<Tensor>& run_reference() {
    outputs = run_kernel(find_reference_kernel(node.domain, node.op_type), node, opset, inputs);
    return outputs;
  }
  // Output 0 of run().
  Tensor go() { return run()[0]; }
  // Through a one-node Session (see run_one_node_session); by default every input is a
  // graph input.
  std::vector<Tensor> run_session(size_t n_graph_inputs = std::numeric_limits<size_t>::max(), int threads = 1,
                                  int runs = 1) const {
    return run_one_node_session(node, inputs, opset, n_graph_inputs, threads, runs);
  }
};

// ---- comparisons ----

// Element k of `got` (as double) within `tol` of want[k], for every k.
inline void expect_near(const Tensor& got, const std::vector<double>& want, double tol = 1e-5) {
  ASSERT_EQ(got.numel(), int64_t(want.size()));
  for (size_t k = 0; k < want.size(); ++k) EXPECT_NEAR(got.as_double(int64_t(k)), want[k], tol) << "element " << k;
}

// Same shape and the same bytes.
inline void expect_bitwise(const Tensor& a, const Tensor& b, const std::string& what) {
  ASSERT_EQ(a.shape(), b.shape()) << what;
  ASSERT_EQ(0, std::memcmp(a.raw(), b.raw(), a.nbytes())) << what;
}

// Runs `body` once per SIMD target Highway compiled and this CPU supports.
template <typename F>
void for_each_target(F&& body) {
  for (int64_t target : hwy::SupportedAndGeneratedTargets()) {
    hwy::SetSupportedTargetsForTest(target);
    SCOPED_TRACE(hwy::TargetName(target));
    body();
  }
  hwy::SetSupportedTargetsForTest(0);
}

}  // namespace pith::test_util
