#include "compress/quantize/int8.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <memory>

#include "ir/verify.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool float32_or_unknown(const Graph& g, const std::string& v) {
  const DType t = passes::known_dtype(g, v);
  return t == DType::Float32 || t == DType::Undefined;
}

enum class Kind { Conv, Gemm, MatMul };

struct Target {
  size_t node;
  Kind kind;
  int64_t channel_axis;  // of the weight
  bool trans_b = false;
};

// Why node n cannot be quantized, or an empty string (with `t` filled) when it can.
std::string check_target(const Graph& g, size_t n, Target& t) {
  const Node& node = g.nodes[n];
  const bool conv =
      (default_domain(node) && node.op_type == "Conv") || (node.domain == "pith" && node.op_type == "FusedConv");
  const bool gemm =
      (default_domain(node) && node.op_type == "Gemm") || (node.domain == "pith" && node.op_type == "FusedGemm");
  const bool matmul = default_domain(node) && node.op_type == "MatMul";
  if (!(conv || gemm || matmul)) return "not a Conv, Gemm or MatMul";
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return "unexpected inputs";
  const Tensor* w = passes::find_initializer(g, node.inputs[1]);
  if (!w) return "the weight is not an initializer";
  if (w->dtype() != DType::Float32) return "the weight is not float32";
  if (!float32_or_unknown(g, node.inputs[0])) return "the input is not float32";
  t.node = n;
  if (conv) {
    if (node.has_input(3) && !float32_or_unknown(g, node.inputs[3])) return "the residual input is not float32";
    if (w->rank() < 3) return "the weight has rank < 3";
    t.kind = Kind::Conv;
    t.channel_axis = 0;
  } else if (gemm) {
    if (node.attr_int("transA", 0) != 0) return "transA = 1";
    if (node.attr_float("alpha", 1.0f) != 1.0f) return "alpha != 1";
    if (w->rank() != 2) return "the weight is not 2-D";
    t.kind = Kind::Gemm;
    t.trans_b = node.attr_int("transB", 0) != 0;
    t.channel_axis = t.trans_b ? 0 : 1;
  } else {
    auto rank = passes::known_rank(g, node.inputs[0]);
    if (w->rank() != 2) return "the weight is not 2-D";
    if (!rank || *rank < 2) return "the input's rank is unknown or < 2";
    t.kind = Kind::MatMul;
    t.channel_axis = 1;
  }
  if (node.has_input(2)) {
    const Tensor* b = passes::find_initializer(g, node.inputs[2]);
    if (!b || b->dtype() != DType::Float32) return "the bias is not a float32 initializer";
    if (b->numel() != w->dim(t.channel_axis)) return "the bias is not one value per output channel";
    if (t.kind == Kind::Gemm && node.attr_float("beta", 1.0f) != 1.0f) return "beta != 1";
  }
  return "";
}

bool is_passthrough(const Node& n) {
  if (!default_domain(n) || n.inputs.empty() || n.outputs.empty()) return false;
  const std::string& op = n.op_type;
  if (op == "MaxPool") return n.outputs.size() == 1 || n.outputs[1].empty();
  return op == "Flatten" || op == "Reshape" || op == "Squeeze" || op == "Unsqueeze" || op == "Transpose";
}

Tensor scalar_like(DType dtype, double v) {
  Tensor t(dtype, {});
  switch (dtype) {
    case DType::Float32:
      t.data<float>()[0] = float(v);
      break;
    case DType::UInt8:
      t.data<uint8_t>()[0] = uint8_t(v);
      break;
    case DType::Int8:
      t.data<int8_t>()[0] = int8_t(v);
      break;
    default:
      fail("scalar_like: unsupported dtype");
  }
  return t;
}

struct ActivationParams {
  float scale = 1;
  int32_t zero_point = 0;
  std::string scale_name, zero_point_name;
};

// uint8 asymmetric parameters for [lo, hi] (lo <= 0 <= hi).
ActivationParams uint8_params(Range r) {
  ActivationParams p;
  const double width = double(r.hi) - double(r.lo);
  p.scale = width > 0 ? float(width / 255.0) : 1.0f;
  p.zero_point = int32_t(std::clamp(std::nearbyint(-double(r.lo) / double(p.scale)), 0.0, 255.0));
  return p;
}

ValueInfo with_dtype(const Graph& g, const std::string& of, const std::string& name, DType dtype) {
  const ValueInfo* info = g.find_value_info(of);
  ValueInfo v = info ? *info : ValueInfo{};
  v.name = name;
  v.dtype = dtype;
  return v;
}

Node make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
               std::vector<std::string> outputs, int64_t axis = -1) {
  Node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  if (axis >= 0) {
    Attribute a;
    a.kind = Attribute::Kind::Int;
    a.i = axis;
    n.attributes["axis"] = a;
  }
  return n;
}

}  // namespace

SymmetricWeights quantize_weights_symmetric(const Tensor& w, int64_t channel_axis, int wmax) {
  PITH_CHECK(w.dtype() == DType::Float32 && (channel_axis == 0 || (channel_axis == 1 && w.rank() == 2)),
             "symmetric weight quantization takes float32 weights per axis 0, or axis 1 of a 2-D weight");
  const int64_t M = w.dim(channel_axis);
  const int64_t inner = channel_axis == 0 ? w.numel() / M : 1;  // stride of the channel index
  auto channel_of = [&](int64_t i) { return channel_axis == 0 ? i / inner : i % M; };
  std::vector<float> max_abs(size_t(M), 0.0f);
  for (int64_t i = 0; i < w.numel(); ++i)
    max_abs[size_t(channel_of(i))] = std::max(max_abs[size_t(channel_of(i))], std::fabs(w.data<float>()[i]));
  SymmetricWeights q{Tensor(DType::Int8, w.shape()), Tensor(DType::Float32, {M})};
  for (int64_t c = 0; c < M; ++c)
    q.scales.data<float>()[c] = max_abs[size_t(c)] > 0 ? max_abs[size_t(c)] / float(wmax) : 1.0f;
  for (int64_t i = 0; i < w.numel(); ++i) {
    const float r = std::nearbyint(w.data<float>()[i] / q.scales.data<float>()[channel_of(i)]);
    q.codes.data<int8_t>()[i] = int8_t(std::clamp(r, -float(wmax), float(wmax)));
  }
  return q;
}

Int8Report quantize_int8_static(Graph& g, const Tensor& calibration, const Int8Options& options) {
  Int8Report report;
  const int wmax = options.weight_max;
  PITH_CHECK(wmax >= 1 && wmax <= 127, "int8 weight range must be in [1, 127], got ", wmax);
  PITH_CHECK(g.inputs.size() == 1, "int8 quantization needs a model with one input; this one has ", g.inputs.size());
  PITH_CHECK(g.opset >= 13,
             "int8 quantization writes per-channel QuantizeLinear/DequantizeLinear (opset 13); the "
             "model has opset ",
             g.opset);
  std::vector<Target> targets;
  for (size_t n = 0; n < g.nodes.size(); ++n) {
    const Node& node = g.nodes[n];
    Target t{};
    std::string why = check_target(g, n, t);
    const bool candidate = why != "not a Conv, Gemm or MatMul";
    if (candidate && options.keep_float.count(node.name)) why = "kept in float (requested)";
    if (why.empty())
      targets.push_back(t);
    else if (candidate)
      report.skipped.push_back({node.name.empty() ? node.describe() : node.name, why});
  }

  // Activations to quantize: the inputs of the targets, then, backwards through data
  // movement, the inputs of those ops (sharing their parameters).
  passes::GraphIndex index(g);
  std::map<std::string, std::string> head;  // quantized value -> the value whose range it uses
  std::vector<std::string> order;           // in discovery order (deterministic)
  std::vector<std::string> work;
  for (const Target& t : targets) {
    const Node& node = g.nodes[t.node];
    work.push_back(node.inputs[0]);
    if (t.kind == Kind::Conv && node.has_input(3)) work.push_back(node.inputs[3]);  // a fused residual
  }
  while (!work.empty()) {
    std::string v = work.back();
    work.pop_back();
    if (head.count(v)) continue;
    head[v] = v;
    order.push_back(v);
    if (auto p = index.producer_of(v); p && is_passthrough(g.nodes[*p]) && float32_or_unknown(g, g.nodes[*p].inputs[0]))
      work.push_back(g.nodes[*p].inputs[0]);
  }
  // A data-movement output shares the parameters of its (quantized) input's head.
  std::function<std::string(const std::string&)> find_head = [&](const std::string& v) -> std::string {
    auto p = index.producer_of(v);
    if (p && is_passthrough(g.nodes[*p]) && head.count(g.nodes[*p].inputs[0])) return find_head(g.nodes[*p].inputs[0]);
    return v;
  };
  std::vector<std::string> heads;
  for (auto& v : order) {
    head[v] = find_head(v);
    if (head[v] == v) heads.push_back(v);
  }

  auto frozen = std::make_shared<Graph>(g);
  std::map<std::string, TensorStats> stats = collect_tensor_stats(frozen, calibration, heads, options.run);
  std::map<std::string, ActivationParams> params;
  for (auto& h : heads) {
    ActivationParams p = uint8_params(choose_range(stats.at(h), options.method, 256, options.percentile));
    p.scale_name = passes::unique_name(g, h + "_scale");
    g.initializers[p.scale_name] = scalar_like(DType::Float32, p.scale);
    p.zero_point_name = passes::unique_name(g, h + "_zero_point");
    g.initializers[p.zero_point_name] = scalar_like(DType::UInt8, p.zero_point);
    params[h] = p;
  }

  // Q/DQ pairs: every node reading a quantized value reads its dequantized copy.
  std::map<std::string, std::string> dequantized_name;
  for (auto& v : order) {
    const ActivationParams& p = params.at(head.at(v));
    const std::string q = passes::unique_name(g, v + "_quantized");
    g.value_info[q] = with_dtype(g, v, q, DType::UInt8);
    const std::string dq = passes::unique_name(g, v + "_dequantized");
    g.value_info[dq] = with_dtype(g, v, dq, DType::Float32);
    dequantized_name[v] = dq;
    for (auto& node : g.nodes)
      for (auto& in : node.inputs)
        if (in == v) in = dq;
    g.nodes.push_back(make_node("QuantizeLinear", v + "_quantize", {v, p.scale_name, p.zero_point_name}, {q}));
    g.nodes.push_back(make_node("DequantizeLinear", v + "_dequantize", {q, p.scale_name, p.zero_point_name}, {dq}));
  }
  report.quantized_activations = order.size();

  // Weights (int8, symmetric, per output channel) and biases (int32).
  for (const Target& t : targets) {
    Node& node = g.nodes[t.node];
    const std::string x = node.inputs[0];
    auto xd =
        std::find_if(dequantized_name.begin(), dequantized_name.end(), [&](const auto& kv) { return kv.second == x; });
    PITH_CHECK(xd != dequantized_name.end(), node.describe(), ": input was not quantized");
    const ActivationParams& xp = params.at(head.at(xd->first));
    const std::string w_name = node.inputs[1];
    const Tensor& w = g.initializers.at(w_name);
    const int64_t M = w.dim(t.channel_axis);
    // Zero points are left out (ONNX's default is 0): symmetric weights and biases need none.
    SymmetricWeights sw = quantize_weights_symmetric(w, t.channel_axis, wmax);
    const Tensor& wq = sw.codes;
    const Tensor& ws = sw.scales;
    const std::string base = node.name.empty() ? w_name : node.name;
    const std::string wq_name = passes::unique_name(g, w_name + "_quantized");
    g.initializers[wq_name] = wq;
    const std::string ws_name = passes::unique_name(g, w_name + "_scale");
    g.initializers[ws_name] = ws;
    const std::string wd_name = passes::unique_name(g, w_name + "_dequantized");
    std::vector<Node> added;
    added.push_back(
        make_node("DequantizeLinear", base + "_weight_dequantize", {wq_name, ws_name}, {wd_name}, t.channel_axis));
    g.value_info[wd_name] = ValueInfo{wd_name, DType::Float32, std::nullopt};
    std::string bd_name;
    if (node.has_input(2)) {
      const Tensor b = g.initializers.at(node.inputs[2]);
      Tensor bq(DType::Int32, {M}), bs(DType::Float32, {M});
      for (int64_t c = 0; c < M; ++c) {
        bs.data<float>()[c] = xp.scale * ws.data<float>()[c];
        const double r = std::nearbyint(double(b.data<float>()[c]) / double(bs.data<float>()[c]));
        bq.data<int32_t>()[c] = int32_t(std::clamp(r, -2147483647.0, 2147483647.0));
      }
      const std::string& b_name = node.inputs[2];
      const std::string bq_name = passes::unique_name(g, b_name + "_quantized");
      g.initializers[bq_name] = bq;
      const std::string bs_name = passes::unique_name(g, b_name + "_scale");
      g.initializers[bs_name] = bs;
      bd_name = passes::unique_name(g, b_name + "_dequantized");
      added.push_back(make_node("DequantizeLinear", base + "_bias_dequantize", {bq_name, bs_name}, {bd_name}, 0));
      g.value_info[bd_name] = ValueInfo{bd_name, DType::Float32, std::nullopt};
    }
    Node& target = g.nodes[t.node];
    target.inputs[1] = wd_name;
    if (!bd_name.empty()) target.inputs[2] = bd_name;
    QuantizedLayer layer;
    layer.node = target.name.empty() ? target.describe() : target.name;
    layer.op = t.kind == Kind::Conv ? "Conv" : t.kind == Kind::Gemm ? "Gemm" : "MatMul";
    layer.channels = M;
    layer.input_scale = xp.scale;
    layer.input_zero_point = xp.zero_point;
    report.layers.push_back(layer);
    for (auto& a : added) g.nodes.push_back(std::move(a));
  }
  verify_and_sort(g);  // the new nodes were appended; dead-code elimination needs sorted nodes
  eliminate_dead_code(g);
  return report;
}

}  // namespace pith
