#include "runtime/kernel.h"

#include <map>

namespace pith {

size_t KernelContext::num_inputs() const {
  size_t n = inputs_.size();
  while (n > 0 && inputs_[n - 1] == nullptr) --n;
  return n;
}

const Tensor& KernelContext::input(size_t i) const {
  if (!has_input(i)) fail("input ", i, " is required but missing");
  return *inputs_[i];
}

Tensor& KernelContext::allocate_output(size_t i, DType dtype, Shape shape) {
  set_output(i, allocator_ ? allocator_->allocate(i, dtype, std::move(shape), true) : Tensor(dtype, std::move(shape)));
  return outputs_[i];
}

Tensor& KernelContext::allocate_output_uninitialized(size_t i, DType dtype, Shape shape) {
  set_output(i, allocator_ ? allocator_->allocate(i, dtype, std::move(shape), false) : Tensor(dtype, std::move(shape)));
  return outputs_[i];
}

void KernelContext::set_output(size_t i, Tensor t) {
  if (i >= outputs_.size()) fail("kernel produced output ", i, " but the node declares ", outputs_.size());
  outputs_[i] = std::move(t);
}

std::vector<Tensor> KernelContext::run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) const {
  if (!runner_) fail("subgraphs cannot run in this context");
  return (*runner_)(body, inputs);
}

// The registry: one line per kernel in kernels.def. Keys are "op" for the default
// ONNX domain and "domain.op" for others (e.g. ai.onnx.preview.training.Adam).
#define PITH_KERNEL(OP, FN) void FN(KernelContext&);
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) void FN(KernelContext&);
#include "runtime/kernels/kernels.def"
#include "runtime/kernels/simd/simd.def"
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN

namespace {
#define PITH_KERNEL(OP, FN) {OP, &FN},
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) {std::string(DOMAIN) + "." + OP, &FN},
const std::map<std::string, KernelFn>& registry() {
  static const std::map<std::string, KernelFn> table = {
#include "runtime/kernels/kernels.def"
  };
  return table;
}
const std::map<std::string, KernelFn>& simd_registry() {
  static const std::map<std::string, KernelFn> table = {
#include "runtime/kernels/simd/simd.def"
  };
  return table;
}
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN

std::string registry_key(const std::string& domain, const std::string& op_type) {
  return domain.empty() || domain == "ai.onnx" ? op_type : domain + "." + op_type;
}
}  // namespace

KernelFn find_kernel(const std::string& domain, const std::string& op_type) {
  auto it = simd_registry().find(registry_key(domain, op_type));
  return it != simd_registry().end() ? it->second : find_reference_kernel(domain, op_type);
}

KernelFn find_reference_kernel(const std::string& domain, const std::string& op_type) {
  auto it = registry().find(registry_key(domain, op_type));
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> registered_ops() {
  std::vector<std::string> ops;
  for (auto& [k, v] : registry()) ops.push_back(k);
  return ops;
}

}  // namespace pith
