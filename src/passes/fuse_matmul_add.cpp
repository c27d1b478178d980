// fuse_matmul_add: MatMul(A, B) + Add(bias) -> Gemm(A, B, bias) when A is known to be
// 2-D, B is a 2-D initializer, the bias is an initializer that broadcasts to the
// MatMul's [M, N] output without changing its shape ([N], [1, N], [M, N], scalar),
// and the MatMul output is read only by the Add. Higher-rank A keeps its MatMul.
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool try_fuse(Graph& g, passes::LazyIndex& lazy, size_t a) {
  const Node& add = g.nodes[a];
  if (add.op_type != "Add" || !default_domain(add) || add.inputs.size() != 2 || add.outputs.size() != 1) return false;
  const passes::GraphIndex& index = lazy.get(g);
  for (size_t side = 0; side < 2; ++side) {
    const std::string& y = add.inputs[side];
    const std::string& bias_name = add.inputs[1 - side];
    auto p = index.producer_of(y);
    if (!p || !index.only_read_by(y, a)) continue;
    const Node& mm = g.nodes[*p];
    if (mm.op_type != "MatMul" || !default_domain(mm) || mm.inputs.size() != 2) continue;
    const Tensor* b = passes::find_initializer(g, mm.inputs[1]);
    const Tensor* bias = passes::find_initializer(g, bias_name);
    if (!b || !bias || b->rank() != 2 || b->dtype() != DType::Float32 || bias->dtype() != DType::Float32) continue;
    if (passes::known_rank(g, mm.inputs[0]) != size_t(2)) continue;
    const int64_t n = b->dim(1);
    // The bias must broadcast into [M, N] leaving it [M, N].
    const Shape& bs = bias->shape();
    if (bs.size() > 2) continue;
    if (!bs.empty() && bs.back() != n && bs.back() != 1) continue;
    if (bs.size() == 2 && bs[0] != 1) {
      auto as = passes::known_shape(g, mm.inputs[0]);
      if (!as || (*as)[0] != bs[0]) continue;
    }
    Node gemm;
    gemm.name = mm.name;
    gemm.op_type = "Gemm";
    gemm.inputs = {mm.inputs[0], mm.inputs[1], bias_name};
    gemm.outputs = {add.outputs[0]};
    g.value_info.erase(y);
    const size_t mm_index = *p;
    g.nodes[a] = std::move(gemm);
    g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(mm_index));
    return true;
  }
  return false;
}

}  // namespace

bool fuse_matmul_add(Graph& g) {
  bool changed = false;
  passes::LazyIndex index;
  for (size_t a = 0; a < g.nodes.size(); ++a) {
    if (try_fuse(g, index, a)) {
      index.invalidate();
      changed = true;
      --a;  // the MatMul before a was removed
    }
  }
  return changed;
}

}  // namespace pith
