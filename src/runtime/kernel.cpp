#include "runtime/kernel.h"

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

Shape KernelContext::attr_ints(std::string_view k, Shape d) const {
  const auto v = node_.attr_ints_view(k);
  return v ? Shape(v->data(), v->data() + v->size()) : d;
}

std::vector<Tensor> KernelContext::run_subgraph(const Graph& body, const std::vector<Tensor>& inputs) const {
  if (!runner_) fail("subgraphs cannot run in this context");
  return (*runner_)(body, inputs);
}

}  // namespace pith
