// optimize: the passes in a sensible order, repeated until none changes the graph.
// Cleanups first (identities, constants, dead code) so that fusions see plain
// producer -> consumer edges; BatchNormalization before activation fusion (BN sits
// between Conv and Relu); residual Add before activation (Conv -> Add -> Relu); QDQ
// lowering last, once activations are fused (DQ -> Conv -> Relu -> Q).
#include "ir/verify.h"
#include "passes/passes.h"

namespace pith {

void optimize(Graph& g) {
  verify_and_sort(g);
  using Pass = bool (*)(Graph&);
  const Pass order[] = {eliminate_identity, fold_constants,    eliminate_dead_code, cancel_transposes, fuse_conv_bn,
                        fuse_matmul_add,    fuse_residual_add, fuse_activation,     fuse_qdq};
  for (int round = 0; round < 16; ++round) {  // converges in 2-3 rounds; the cap is a safety net
    bool changed = false;
    for (Pass pass : order) changed |= pass(g);
    if (!changed) break;
  }
  eliminate_dead_code(g);
  verify_and_sort(g);
}

}  // namespace pith
