// fuse_qdq: lowers a QDQ graph (QuantizeLinear/DequantizeLinear pairs around float ops,
// as pith's quantizer, ONNX Runtime's and TensorRT's tools write them) to int8 kernels:
//   DQ(x) -> Conv|FusedConv(DQ(w int8), bias[, DQ(r)]) [-> Q] -> pith.QConv (r: a fused
//            residual, per-tensor uint8/int8 like x)
//   DQ(a) -> Gemm|FusedGemm|MatMul(DQ(b int8), bias) [-> Q] -> pith.QGemm
//   DQ(x) -> MaxPool|Flatten|Reshape|Squeeze|Unsqueeze|Transpose -> Q (same scale and
//            zero point)                                   -> the same op on the int8 tensor
//   Q(DQ(x)) with the same scale and zero point            -> x
//   DynamicQuantizeLinear -> MatMulInteger -> Cast -> Mul by the scales -> pith.QGemm (float out)
// x and a are per-tensor uint8/int8; w and b int8 initializers, per-tensor or per output
// channel; a bias is an int32 DQ whose scale is x_scale * w_scale, or a float initializer
// (quantized here). Without a following Q the int8 node writes float32. Afterwards every
// DQ of an initializer that no int8 node reads is folded into a float initializer.
#include <algorithm>
#include <cmath>

#include "passes/pass_util.h"
#include "passes/passes.h"
#include "runtime/kernel.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

struct QParams {
  std::string data, scale, zero_point;  // value names (zero_point may be empty)
  int64_t axis = 1;
  size_t node = 0;
};

// The DequantizeLinear producing v, when there is one with initializer scale/zero point.
std::optional<QParams> dequantized(const Graph& g, const passes::GraphIndex& index, const std::string& v) {
  auto p = index.producer_of(v);
  if (!p) return std::nullopt;
  const Node& n = g.nodes[*p];
  if (!default_domain(n) || n.op_type != "DequantizeLinear" || n.inputs.size() < 2) return std::nullopt;
  const Tensor* scale = passes::find_initializer(g, n.inputs[1]);
  if (!scale || scale->dtype() != DType::Float32) return std::nullopt;
  if (n.has_input(2) && !passes::find_initializer(g, n.inputs[2])) return std::nullopt;
  return QParams{n.inputs[0], n.inputs[1], n.has_input(2) ? n.inputs[2] : "", n.attr_int("axis", 1), *p};
}

// A per-tensor uint8/int8 activation behind a DQ (zero point present).
std::optional<QParams> quantized_activation(const Graph& g, const passes::GraphIndex& index, const std::string& v) {
  auto q = dequantized(g, index, v);
  if (!q || q->zero_point.empty()) return std::nullopt;
  const Tensor* s = passes::find_initializer(g, q->scale);
  const Tensor* z = passes::find_initializer(g, q->zero_point);
  if (s->numel() != 1 || z->numel() != 1 || (z->dtype() != DType::UInt8 && z->dtype() != DType::Int8))
    return std::nullopt;
  return q;
}

// An int8 weight initializer behind a DQ, per tensor or per channel along `channel_axis`.
std::optional<QParams> quantized_weight(const Graph& g, const passes::GraphIndex& index, const std::string& v,
                                        int64_t channel_axis) {
  auto q = dequantized(g, index, v);
  if (!q) return std::nullopt;
  const Tensor* w = passes::find_initializer(g, q->data);
  if (!w || w->dtype() != DType::Int8) return std::nullopt;
  const Tensor* s = passes::find_initializer(g, q->scale);
  if (s->numel() != 1) {
    const int64_t axis = q->axis < 0 ? q->axis + w->rank() : q->axis;
    if (axis != channel_axis || s->numel() != w->dim(channel_axis)) return std::nullopt;
  }
  if (!q->zero_point.empty()) {
    const Tensor* z = passes::find_initializer(g, q->zero_point);
    if (z->dtype() != DType::Int8 || z->numel() != s->numel()) return std::nullopt;
  }
  return q;
}

// The int32 bias for channel scales x_scale * w_scale[c]: the int32 data of a matching DQ,
// or a float initializer quantized into a new initializer. Empty string: no bias.
std::optional<std::string> quantized_bias(Graph& g, const passes::GraphIndex& index, const std::string& v,
                                          const QParams& x, const QParams& w, int64_t channels) {
  if (v.empty()) return std::string();
  const float xs = passes::find_initializer(g, x.scale)->data<float>()[0];
  const Tensor& ws = *passes::find_initializer(g, w.scale);
  auto channel_scale = [&](int64_t c) { return xs * ws.data<float>()[ws.numel() == 1 ? 0 : c]; };
  if (auto q = dequantized(g, index, v)) {
    const Tensor* b = passes::find_initializer(g, q->data);
    const Tensor& bs = *passes::find_initializer(g, q->scale);
    if (!b || b->dtype() != DType::Int32 || b->numel() != channels) return std::nullopt;
    if (!q->zero_point.empty()) {
      const Tensor* z = passes::find_initializer(g, q->zero_point);
      for (int64_t i = 0; i < z->numel(); ++i)
        if (z->as_int64(i) != 0) return std::nullopt;
    }
    for (int64_t c = 0; c < channels; ++c) {
      const float want = channel_scale(c), got = bs.data<float>()[bs.numel() == 1 ? 0 : c];
      if (std::fabs(got - want) > 1e-6f * std::max(std::fabs(want), 1e-30f)) return std::nullopt;
    }
    return q->data;
  }
  const Tensor* b = passes::find_initializer(g, v);
  if (!b || b->dtype() != DType::Float32 || b->numel() != channels) return std::nullopt;
  Tensor q(DType::Int32, {channels});
  for (int64_t c = 0; c < channels; ++c) {
    const double s = channel_scale(c), r = s > 0 ? std::nearbyint(double(b->data<float>()[c]) / s) : 0.0;
    if (std::fabs(r) > 2147483647.0) return std::nullopt;
    q.data<int32_t>()[c] = int32_t(r);
  }
  const std::string name = passes::unique_name(g, v + "_quantized");
  g.initializers[name] = q;
  return name;
}

// The node that alone reads v (once, and v is no graph output).
std::optional<size_t> sole_reader(const passes::GraphIndex& index, const std::string& v) {
  auto it = index.readers.find(v);
  if (it == index.readers.end() || it->second.size() != 1 || !index.only_read_by(v, it->second[0])) return std::nullopt;
  return it->second[0];
}

// The QuantizeLinear that alone reads v (per tensor, initializer scale/zero point).
std::optional<size_t> sole_quantize(const Graph& g, const passes::GraphIndex& index, const std::string& v) {
  auto reader = sole_reader(index, v);
  if (!reader) return std::nullopt;
  const Node& q = g.nodes[*reader];
  if (!default_domain(q) || q.op_type != "QuantizeLinear" || q.inputs.size() < 3 || q.inputs[0] != v)
    return std::nullopt;
  const Tensor* s = passes::find_initializer(g, q.inputs[1]);
  const Tensor* z = passes::find_initializer(g, q.inputs[2]);
  if (!s || !z || s->numel() != 1 || z->numel() != 1 || s->dtype() != DType::Float32) return std::nullopt;
  if (z->dtype() != DType::UInt8 && z->dtype() != DType::Int8) return std::nullopt;
  return reader;
}

bool same_tensor_value(const Graph& g, const std::string& a, const std::string& b) {
  if (a == b) return true;
  const Tensor* x = passes::find_initializer(g, a);
  const Tensor* y = passes::find_initializer(g, b);
  if (!x || !y || x->dtype() != y->dtype() || x->shape() != y->shape()) return false;
  for (int64_t i = 0; i < x->numel(); ++i)
    if (x->as_double(i) != y->as_double(i)) return false;
  return true;
}

// Replaces node `at` by `node`; removes node `q` (the fused QuantizeLinear) if set.
void replace(Graph& g, size_t at, Node node, std::optional<size_t> q) {
  for (auto& out : g.nodes[at].outputs) g.value_info.erase(out);
  g.nodes[at] = std::move(node);
  if (q) g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(*q));
}

// Builds the int8 node for compute node k; false when the pattern does not match.
bool lower_compute(Graph& g, const passes::GraphIndex& index, size_t k) {
  const Node& c = g.nodes[k];
  const bool conv = (default_domain(c) && c.op_type == "Conv") || (c.domain == "pith" && c.op_type == "FusedConv");
  const bool gemm = (default_domain(c) && c.op_type == "Gemm") || (c.domain == "pith" && c.op_type == "FusedGemm");
  const bool matmul = default_domain(c) && c.op_type == "MatMul";
  if (!(conv || gemm || matmul) || c.outputs.size() != 1 || c.inputs.size() < 2) return false;
  auto x = quantized_activation(g, index, c.inputs[0]);
  if (!x) return false;
  std::optional<QParams> residual;
  if (conv && c.has_input(3)) {
    residual = quantized_activation(g, index, c.inputs[3]);
    if (!residual) return false;  // a float residual: the Conv stays float
  }
  int64_t channel_axis = 0;
  bool trans_b = false;
  if (gemm) {
    if (c.attr_int("transA", 0) != 0 || c.attr_float("alpha", 1.0f) != 1.0f) return false;
    if (c.has_input(2) && c.attr_float("beta", 1.0f) != 1.0f) return false;
    trans_b = c.attr_int("transB", 0) != 0;
    channel_axis = trans_b ? 0 : 1;
  } else if (matmul) {
    channel_axis = 1;
    auto rank = passes::known_rank(g, c.inputs[0]);
    if (!rank || *rank < 2) return false;
  }
  auto w = quantized_weight(g, index, c.inputs[1], channel_axis);
  if (!w) return false;
  const Tensor& wt = *passes::find_initializer(g, w->data);
  if ((gemm || matmul) && wt.rank() != 2) return false;
  const int64_t channels = wt.dim(channel_axis);
  auto bias = quantized_bias(g, index, c.has_input(2) ? c.inputs[2] : "", *x, *w, channels);
  if (!bias) return false;
  std::string zero_w = w->zero_point;
  if (zero_w.empty()) {  // QConv/QGemm want an explicit weight zero point
    zero_w = passes::unique_name(g, w->data + "_zero_point");
    g.initializers[zero_w] = Tensor(DType::Int8, {});
  }
  const Node& cn = g.nodes[k];  // quantized_bias may have grown the initializer map, not the nodes
  Node q_node;
  q_node.name = cn.name;
  q_node.domain = "pith";
  q_node.op_type = conv ? "QConv" : "QGemm";
  q_node.attributes = cn.attributes;
  if (gemm) {
    for (const char* a : {"alpha", "beta", "transA"}) q_node.attributes.erase(a);
  }
  if (matmul || gemm) {
    Attribute t;
    t.kind = Attribute::Kind::Int;
    t.i = trans_b ? 1 : 0;
    q_node.attributes["transB"] = t;
  }
  auto q = sole_quantize(g, index, cn.outputs[0]);
  std::string y_scale, y_zp, output = cn.outputs[0];
  if (q) {
    y_scale = g.nodes[*q].inputs[1];
    y_zp = g.nodes[*q].inputs[2];
    output = g.nodes[*q].outputs[0];
  }
  q_node.inputs = {x->data, x->scale, x->zero_point, w->data, w->scale, zero_w, y_scale, y_zp, *bias};
  if (residual) q_node.inputs.insert(q_node.inputs.end(), {residual->data, residual->scale, residual->zero_point});
  while (!q_node.inputs.empty() && q_node.inputs.back().empty()) q_node.inputs.pop_back();
  q_node.outputs = {output};
  replace(g, k, std::move(q_node), q);
  return true;
}

// The dynamic int8 pattern (compress/quantize/dynamic_int8.h):
//   (A_q, a_scale, a_zp) = DynamicQuantizeLinear(A)
//   Mul(Cast<float>(MatMulInteger(A_q, W int8 [K, N], a_zp)), Mul(a_scale, w_scale))
// -> pith.QGemm(A_q, a_scale, a_zp, W, w_scale, 0) writing the Mul's output: the same
// float(acc) * (a_scale * w_scale[n]), bit for bit. Node k is the MatMulInteger.
bool lower_dynamic(Graph& g, const passes::GraphIndex& index, size_t k) {
  const Node& mm = g.nodes[k];
  if (!default_domain(mm) || mm.op_type != "MatMulInteger" || mm.inputs.size() < 3 || mm.has_input(3) ||
      mm.outputs.size() != 1)
    return false;
  auto dql = index.producer_of(mm.inputs[0]);
  if (!dql) return false;
  const Node& d = g.nodes[*dql];
  if (!default_domain(d) || d.op_type != "DynamicQuantizeLinear" || d.outputs.size() != 3 ||
      d.outputs[0] != mm.inputs[0] || d.outputs[2] != mm.inputs[2])
    return false;
  const Tensor* w = passes::find_initializer(g, mm.inputs[1]);
  if (!w || w->dtype() != DType::Int8 || w->rank() != 2) return false;
  auto cast = sole_reader(index, mm.outputs[0]);
  if (!cast || !default_domain(g.nodes[*cast]) || g.nodes[*cast].op_type != "Cast" ||
      g.nodes[*cast].attr_int("to", 0) != 1)
    return false;
  auto mul = sole_reader(index, g.nodes[*cast].outputs[0]);
  if (!mul || !default_domain(g.nodes[*mul]) || g.nodes[*mul].op_type != "Mul" || g.nodes[*mul].inputs.size() != 2)
    return false;
  const Node& m = g.nodes[*mul];
  const std::string& scales = m.inputs[0] == g.nodes[*cast].outputs[0] ? m.inputs[1] : m.inputs[0];
  auto sp = index.producer_of(scales);
  if (!sp || !default_domain(g.nodes[*sp]) || g.nodes[*sp].op_type != "Mul" || g.nodes[*sp].inputs.size() != 2)
    return false;
  const Node& s = g.nodes[*sp];
  if (s.inputs[0] != d.outputs[1]) return false;  // a_scale * w_scale, in that order (the products' rounding)
  const Tensor* ws = passes::find_initializer(g, s.inputs[1]);
  if (!ws || ws->dtype() != DType::Float32 || ws->rank() > 1 || (ws->numel() != 1 && ws->numel() != w->dim(1)))
    return false;
  Node q;
  q.name = mm.name;
  q.domain = "pith";
  q.op_type = "QGemm";
  q.attributes["transB"].kind = Attribute::Kind::Int;
  q.attributes["transB"].i = 0;
  const std::string zero = passes::unique_name(g, mm.inputs[1] + "_zero_point");
  g.initializers[zero] = Tensor(DType::Int8, {});
  q.inputs = {mm.inputs[0], d.outputs[1], d.outputs[2], mm.inputs[1], s.inputs[1], zero};
  q.outputs = {m.outputs[0]};
  const size_t c = *cast, u = *mul;
  for (auto& out : g.nodes[k].outputs) g.value_info.erase(out);
  g.value_info.erase(g.nodes[c].outputs[0]);
  g.nodes[k] = std::move(q);
  g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(std::max(c, u)));  // both after k (sorted nodes)
  g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(std::min(c, u)));
  return true;
}

// DQ -> data-movement op -> Q with the same parameters: the op runs on the int8 tensor.
bool lower_passthrough(Graph& g, const passes::GraphIndex& index, size_t k) {
  const Node& n = g.nodes[k];
  static const char* kOps[] = {"MaxPool", "Flatten", "Reshape", "Squeeze", "Unsqueeze", "Transpose"};
  if (!default_domain(n) ||
      std::none_of(std::begin(kOps), std::end(kOps), [&](const char* op) { return n.op_type == op; }))
    return false;
  if (n.inputs.empty() || n.outputs.empty() ||
      (n.op_type == "MaxPool" && n.outputs.size() > 1 && !n.outputs[1].empty()))
    return false;
  if (n.op_type == "MaxPool" && passes::node_opset(g, n) < 12) return false;  // int8 MaxPool needs opset 12
  auto x = quantized_activation(g, index, n.inputs[0]);
  if (!x) return false;
  auto q = sole_quantize(g, index, n.outputs[0]);
  if (!q) return false;
  const Node& qn = g.nodes[*q];
  if (!same_tensor_value(g, qn.inputs[1], x->scale) || !same_tensor_value(g, qn.inputs[2], x->zero_point)) return false;
  Node lowered = n;
  lowered.inputs[0] = x->data;
  lowered.outputs = {qn.outputs[0]};
  replace(g, k, std::move(lowered), q);
  return true;
}

// Q(DQ(x)) with equal parameters: readers of the Q read x.
bool cancel_requantize(Graph& g, const passes::GraphIndex& index, size_t k) {
  const Node& n = g.nodes[k];
  if (!default_domain(n) || n.op_type != "QuantizeLinear" || n.inputs.size() < 3) return false;
  auto x = quantized_activation(g, index, n.inputs[0]);
  if (!x || !same_tensor_value(g, n.inputs[1], x->scale) || !same_tensor_value(g, n.inputs[2], x->zero_point))
    return false;
  if (n.attr_int("axis", 1) != g.nodes[x->node].attr_int("axis", 1) &&
      passes::find_initializer(g, x->scale)->numel() != 1)
    return false;
  return passes::bypass_node(g, k, x->data, n.outputs[0]);
}

// Folds DequantizeLinear nodes of initializers that no int8 node consumes.
bool fold_weight_dequantize(Graph& g) {
  passes::GraphIndex index(g);
  bool changed = false;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node& n = g.nodes[k];
    if (!default_domain(n) || n.op_type != "DequantizeLinear" || n.outputs.size() != 1) continue;
    bool constant = true;
    for (auto& in : n.inputs) constant = constant && (in.empty() || passes::find_initializer(g, in));
    if (!constant || index.num_reads(n.outputs[0]) == 0 || index.subgraph_reads.count(n.outputs[0]) ||
        index.is_graph_output(n.outputs[0]))
      continue;
    KernelFn fn = find_reference_kernel(n.domain, n.op_type);
    std::vector<const Tensor*> ins;
    for (auto& in : n.inputs) ins.push_back(in.empty() ? nullptr : passes::find_initializer(g, in));
    std::vector<Tensor> outs(1);
    KernelContext ctx(n, passes::node_opset(g, n), ins, outs, nullptr);
    fn(ctx);
    g.initializers[n.outputs[0]] = outs[0];
    g.value_info.erase(n.outputs[0]);
    g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(k));
    --k;
    changed = true;
  }
  return changed;
}

}  // namespace

bool fuse_qdq(Graph& g) {
  bool changed = false;
  passes::LazyIndex lazy;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const std::string& op = g.nodes[k].op_type;
    if (op == "DequantizeLinear" || op == "Constant") continue;
    const passes::GraphIndex& index = lazy.get(g);
    if (lower_compute(g, index, k) || lower_passthrough(g, index, k) || lower_dynamic(g, index, k)) {
      lazy.invalidate();
      changed = true;
    } else if (cancel_requantize(g, index, k)) {
      lazy.invalidate();
      changed = true;
      --k;  // node k was removed
    }
  }
  changed |= fold_weight_dequantize(g);
  return changed;
}

}  // namespace pith
