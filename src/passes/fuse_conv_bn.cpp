// fuse_conv_bn: BatchNormalization (inference) after a Conv or Gemm whose weights and
// bias are initializers folds into them:
//   s = scale / sqrt(var + epsilon)
//   Conv: W'[m, ...] = W[m, ...] * s[m],  B'[m] = (B[m] - mean[m]) * s[m] + bias[m]
//   Gemm: op(B)'[:, n] = op(B)[:, n] * s[n],  C'[n] = (beta * C[n] - mean[n]) * s[n] + bias[n], beta' = 1
// Requires the producer's output to be read only by the BatchNormalization, float32
// parameters, and per-channel parameters. New weights are new initializers (shared
// ones are never modified in place); the old ones go when dead code is removed.
#include <cmath>

#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

struct BnParams {
  std::vector<double> s, shift;  // y = x * s + shift
};

// Inference BatchNormalization with float32 initializer parameters of `channels` values.
std::optional<BnParams> bn_params(const Graph& g, const Node& bn, int64_t channels) {
  if (bn.op_type != "BatchNormalization" || !(bn.domain.empty() || bn.domain == "ai.onnx")) return std::nullopt;
  if (bn.inputs.size() < 5 || bn.attr_int("training_mode", 0) != 0) return std::nullopt;
  for (size_t o = 1; o < bn.outputs.size(); ++o)
    if (!bn.outputs[o].empty()) return std::nullopt;  // statistics outputs mean training
  const Tensor* p[4];
  for (size_t i = 0; i < 4; ++i) {
    p[i] = passes::find_initializer(g, bn.inputs[i + 1]);
    if (!p[i] || p[i]->dtype() != DType::Float32 || p[i]->numel() != channels) return std::nullopt;
  }
  const double eps = bn.attr_float("epsilon", 1e-5f);
  BnParams r;
  for (int64_t c = 0; c < channels; ++c) {
    const double scale = p[0]->data<float>()[c], bias = p[1]->data<float>()[c];
    const double mean = p[2]->data<float>()[c], var = p[3]->data<float>()[c];
    const double s = scale / std::sqrt(var + eps);
    r.s.push_back(s);
    r.shift.push_back(bias - mean * s);
  }
  return r;
}

// Replaces producer p and BatchNormalization b (p < b) by `fused`, placed at b.
void replace_pair(Graph& g, size_t p, size_t b, Node fused) {
  g.value_info.erase(g.nodes[p].outputs[0]);
  g.nodes[b] = std::move(fused);
  g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(p));
}

bool fuse_conv(Graph& g, size_t p, size_t b, const BnParams& bn) {
  const Node& conv = g.nodes[p];
  const Tensor* w = passes::find_initializer(g, conv.inputs[1]);
  const int64_t m = w->dim(0);
  const Tensor* bias = conv.has_input(2) ? passes::find_initializer(g, conv.inputs[2]) : nullptr;
  if (conv.has_input(2) && (!bias || bias->dtype() != DType::Float32 || bias->numel() != m)) return false;
  Tensor nw(DType::Float32, w->shape());
  const int64_t per = m ? w->numel() / m : 0;
  for (int64_t c = 0; c < m; ++c)
    for (int64_t k = 0; k < per; ++k)
      nw.data<float>()[c * per + k] = float(double(w->data<float>()[c * per + k]) * bn.s[size_t(c)]);
  Tensor nb(DType::Float32, {m});
  for (int64_t c = 0; c < m; ++c) {
    const double b0 = bias ? double(bias->data<float>()[c]) : 0.0;
    nb.data<float>()[c] = float(b0 * bn.s[size_t(c)] + bn.shift[size_t(c)]);
  }
  Node fused = conv;
  const std::string wname = passes::unique_name(g, conv.inputs[1] + "_bn");
  g.initializers[wname] = nw;
  const std::string bname = passes::unique_name(g, (conv.name.empty() ? conv.outputs[0] : conv.name) + "_bn_bias");
  g.initializers[bname] = nb;
  fused.inputs = {conv.inputs[0], wname, bname};
  fused.outputs = {g.nodes[b].outputs[0]};
  replace_pair(g, p, b, std::move(fused));
  return true;
}

bool fuse_gemm(Graph& g, size_t p, size_t b, const BnParams& bn) {
  const Node& gemm = g.nodes[p];
  const Tensor* w = passes::find_initializer(g, gemm.inputs[1]);
  const bool tb = gemm.attr_int("transB", 0) != 0;
  const int64_t n = tb ? w->dim(0) : w->dim(1), k = tb ? w->dim(1) : w->dim(0);
  if (int64_t(bn.s.size()) != n) return false;
  const Tensor* c = gemm.has_input(2) ? passes::find_initializer(g, gemm.inputs[2]) : nullptr;
  if (gemm.has_input(2)) {
    if (!c || c->dtype() != DType::Float32 || c->rank() > 2) return false;
    if (c->numel() != 1 && c->numel() != n) return false;
    if (c->rank() >= 1 && c->shape().back() != c->numel()) return false;  // [n], [1, n], [1], [1, 1]
  }
  const double beta = gemm.attr_float("beta", 1.0f);
  Tensor nw(DType::Float32, w->shape());
  for (int64_t i = 0; i < k; ++i)
    for (int64_t j = 0; j < n; ++j) {
      const int64_t at = tb ? j * k + i : i * n + j;
      nw.data<float>()[at] = float(double(w->data<float>()[at]) * bn.s[size_t(j)]);
    }
  Tensor nc(DType::Float32, {n});
  for (int64_t j = 0; j < n; ++j) {
    const double c0 = c ? beta * double(c->data<float>()[c->numel() == 1 ? 0 : j]) : 0.0;
    nc.data<float>()[j] = float(c0 * bn.s[size_t(j)] + bn.shift[size_t(j)]);
  }
  Node fused = gemm;
  const std::string wname = passes::unique_name(g, gemm.inputs[1] + "_bn");
  g.initializers[wname] = nw;
  const std::string cname = passes::unique_name(g, (gemm.name.empty() ? gemm.outputs[0] : gemm.name) + "_bn_bias");
  g.initializers[cname] = nc;
  fused.inputs = {gemm.inputs[0], wname, cname};
  fused.outputs = {g.nodes[b].outputs[0]};
  fused.attributes["beta"].kind = Attribute::Kind::Float;
  fused.attributes["beta"].f = 1.0f;
  replace_pair(g, p, b, std::move(fused));
  return true;
}

bool try_fuse(Graph& g, const passes::GraphIndex& index, size_t b) {
  const Node& bn = g.nodes[b];
  if (bn.op_type != "BatchNormalization" || bn.inputs.empty() || bn.outputs.empty()) return false;
  auto p = index.producer_of(bn.inputs[0]);
  if (!p || !index.only_read_by(bn.inputs[0], b)) return false;
  const Node& prod = g.nodes[*p];
  if (!(prod.domain.empty() || prod.domain == "ai.onnx") || prod.outputs.size() != 1) return false;
  if (prod.op_type != "Conv" && prod.op_type != "Gemm") return false;
  if (prod.inputs.size() < 2) return false;
  const Tensor* w = passes::find_initializer(g, prod.inputs[1]);
  if (!w || w->dtype() != DType::Float32 || w->rank() < 2) return false;
  if (prod.op_type == "Conv") {
    auto params = bn_params(g, bn, w->dim(0));
    return params && fuse_conv(g, *p, b, *params);
  }
  const bool tb = prod.attr_int("transB", 0) != 0;
  auto params = bn_params(g, bn, tb ? w->dim(0) : w->dim(1));
  return params && w->rank() == 2 && fuse_gemm(g, *p, b, *params);
}

}  // namespace

bool fuse_conv_bn(Graph& g) {
  bool changed = false;
  passes::LazyIndex index;
  for (size_t b = 0; b < g.nodes.size(); ++b) {
    if (g.nodes[b].op_type != "BatchNormalization") continue;
    if (try_fuse(g, index.get(g), b)) {
      index.invalidate();
      changed = true;
      --b;  // the producer before b was removed; the fused node now sits at b - 1
    }
  }
  return changed;
}

}  // namespace pith
