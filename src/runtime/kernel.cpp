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
  set_output(i, Tensor(dtype, std::move(shape)));
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
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN

namespace {
const std::map<std::string, KernelFn>& registry() {
  static const std::map<std::string, KernelFn> table = {
#define PITH_KERNEL(OP, FN) {OP, &FN},
#define PITH_KERNEL_DOMAIN(DOMAIN, OP, FN) {std::string(DOMAIN) + "." + OP, &FN},
#include "runtime/kernels/kernels.def"
#undef PITH_KERNEL
#undef PITH_KERNEL_DOMAIN
  };
  return table;
}
}  // namespace

KernelFn find_kernel(const std::string& domain, const std::string& op_type) {
  std::string key = domain.empty() || domain == "ai.onnx" ? op_type : domain + "." + op_type;
  auto it = registry().find(key);
  return it == registry().end() ? nullptr : it->second;
}

std::vector<std::string> registered_ops() {
  std::vector<std::string> ops;
  for (auto& [k, v] : registry()) ops.push_back(k);
  return ops;
}

}  // namespace pith
