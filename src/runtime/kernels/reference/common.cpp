#include "runtime/kernels/reference/common.h"

namespace pith::ref {

Shape int_list_input_or_attr(const KernelContext& ctx, size_t input, const std::string& attr) {
  if (ctx.has_input(input)) return ctx.input(input).to_int64_vector();
  return ctx.attr_ints(attr);
}

}  // namespace pith::ref
