// The kernel interface. A kernel computes one node: it reads its input tensors and
// attributes from a KernelContext and sets its outputs. Kernels are plain functions
// registered in kernels/kernels.def (one line each); the Session picks one per node.
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"
#include "core/thread_pool.h"
#include "ir/graph.h"

namespace pith {

class KernelContext;
using KernelFn = void (*)(KernelContext&);

// Where a node's outputs are allocated (the Session's arena, or the heap).
class OutputAllocator {
 public:
  virtual ~OutputAllocator() = default;
  virtual Tensor allocate(size_t output, DType dtype, Shape shape, bool zero_fill) = 0;
};

// Runs a subgraph (If/Loop/Scan bodies) with the given inputs; outer-scope values resolve
// against the enclosing run. Provided by the Session.
using SubgraphRunner = std::function<std::vector<Tensor>(const Graph& body, const std::vector<Tensor>& inputs)>;

class KernelContext {
 public:
  // `inputs` (nullptr: an omitted input) and `outputs` must outlive the context.
  KernelContext(const Node& node, int64_t opset, const std::vector<const Tensor*>& inputs, std::vector<Tensor>& outputs,
                const SubgraphRunner* runner, ThreadPool* pool = nullptr, std::shared_ptr<void>* state = nullptr)
      : node_(node), opset_(opset), inputs_(inputs), outputs_(outputs), runner_(runner), pool_(pool), state_(state) {}

  const Node& node() const { return node_; }
  int64_t opset() const { return opset_; }

  size_t num_inputs() const;  // trailing omitted optional inputs excluded
  bool has_input(size_t i) const { return i < inputs_.size() && inputs_[i] != nullptr; }
  // The i-th input; throws an Error naming the node if it is missing.
  const Tensor& input(size_t i) const;

  size_t num_outputs() const { return outputs_.size(); }
  // False when the node leaves the i-th output unnamed (optional outputs).
  bool wants_output(size_t i) const { return i < node_.outputs.size() && !node_.outputs[i].empty(); }
  // A zero-filled output tensor (in the Session's arena once memory is planned).
  Tensor& allocate_output(size_t i, DType dtype, Shape shape);
  // The same without zero-filling, for kernels that write every element.
  Tensor& allocate_output_uninitialized(size_t i, DType dtype, Shape shape);
  void set_allocator(OutputAllocator* allocator) { allocator_ = allocator; }
  void set_output(size_t i, Tensor t);

  int64_t attr_int(std::string_view k, int64_t d) const { return node_.attr_int(k, d); }
  float attr_float(std::string_view k, float d) const { return node_.attr_float(k, d); }
  std::string attr_string(std::string_view k, const std::string& d) const { return node_.attr_string(k, d); }
  // In place (a Shape) for lists of up to Shape::kInline values, so reading the usual
  // strides, pads and axes allocates nothing.
  Shape attr_ints(std::string_view k, Shape d = {}) const;
  std::vector<float> attr_floats(std::string_view k, std::vector<float> d = {}) const {
    return node_.attr_floats(k, std::move(d));
  }
  bool has_attr(std::string_view k) const { return node_.has_attr(k); }

  std::vector<Tensor> run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) const;

  // True when input i is a graph initializer: the same tensor, unchanged, on every run
  // (kernels may cache work derived from it, such as packed weights).
  bool input_is_constant(size_t i) const { return i < 64 && ((constant_inputs_ >> i) & 1); }
  void set_constant_inputs(uint64_t mask) { constant_inputs_ = mask; }

  // The Session's threads (nullptr: run on the calling thread only).
  ThreadPool* thread_pool() const { return pool_; }

  // Per-node state that lives as long as the Session (e.g. weights packed once for a
  // SIMD kernel). nullptr when the caller keeps no state (then kernels recompute it).
  std::shared_ptr<void>* node_state() const { return state_; }

  // Throws an Error prefixed with the node's description.
  template <typename... Parts>
  [[noreturn]] void fail(Parts&&... parts) const {
    ::pith::fail(node_.describe(), ": ", std::forward<Parts>(parts)...);
  }

 private:
  const Node& node_;
  int64_t opset_;
  const std::vector<const Tensor*>& inputs_;
  std::vector<Tensor>& outputs_;
  const SubgraphRunner* runner_;
  ThreadPool* pool_;
  std::shared_ptr<void>* state_;
  uint64_t constant_inputs_ = 0;
  OutputAllocator* allocator_ = nullptr;
};

// Kernel lookup by domain and op type; nullptr when pith has no kernel for it. The
// SIMD kernel when there is one (it falls back to the reference for cases it does not
// cover), else the reference kernel.
KernelFn find_kernel(const std::string& domain, const std::string& op_type);
// The portable reference kernel only (tests compare SIMD kernels against it).
KernelFn find_reference_kernel(const std::string& domain, const std::string& op_type);
std::vector<std::string> registered_ops();
// The registry key of an operator: "Conv" in the default ONNX domain, "pith.FusedConv" in
// others. A selective build lists these (src/runtime/kernel_registry.cpp).
std::string kernel_key(const std::string& domain, const std::string& op_type);

}  // namespace pith

// Checks a condition inside a kernel; the error names the node.
#define KERNEL_CHECK(ctx, cond, ...)      \
  do {                                    \
    if (!(cond)) (ctx).fail(__VA_ARGS__); \
  } while (0)
