// Identity: the output is the input (shared storage; kernels never write their inputs).
#include "runtime/kernels/reference/common.h"

namespace pith {

void kernel_identity(KernelContext& ctx) { ctx.set_output(0, ctx.input(0)); }

}  // namespace pith
