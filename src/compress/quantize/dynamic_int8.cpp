#include "compress/quantize/dynamic_int8.h"

#include <algorithm>
#include <map>

#include "compress/quantize/int8.h"
#include "ir/verify.h"
#include "passes/pass_util.h"
#include "passes/passes.h"

namespace pith {

namespace {

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

Node make_node(const std::string& op, const std::string& name, std::vector<std::string> inputs,
               std::vector<std::string> outputs) {
  Node n;
  n.op_type = op;
  n.name = name;
  n.inputs = std::move(inputs);
  n.outputs = std::move(outputs);
  return n;
}

// Why node n cannot be quantized ("" when it can); trans_b tells how its weight is laid out.
std::string check_layer(const Graph& g, const Node& node, bool& trans_b) {
  const bool gemm =
      (default_domain(node) && node.op_type == "Gemm") || (node.domain == "pith" && node.op_type == "FusedGemm");
  const bool matmul = default_domain(node) && node.op_type == "MatMul";
  if (!gemm && !matmul) return "not a Gemm or MatMul";
  if (node.inputs.size() < 2 || node.outputs.size() != 1) return "unexpected inputs";
  const Tensor* w = passes::find_initializer(g, node.inputs[1]);
  if (!w || w->dtype() != DType::Float32 || w->rank() != 2) return "the weight is not a 2-D float32 initializer";
  const DType t = passes::known_dtype(g, node.inputs[0]);
  if (t != DType::Float32 && t != DType::Undefined) return "the input is not float32";
  trans_b = false;
  if (matmul) {  // a Gemm's input is 2-D by definition
    auto rank = passes::known_rank(g, node.inputs[0]);
    if (!rank || *rank < 2) return "the input's rank is unknown or < 2";
  }
  if (gemm) {
    if (node.attr_int("transA", 0) != 0 || node.attr_float("alpha", 1.0f) != 1.0f) return "transA or alpha";
    trans_b = node.attr_int("transB", 0) != 0;
    const std::string act = node.attr_string("activation", "");
    if (!act.empty() && act != "Relu") return "its fused activation " + act + " (only Relu is written out)";
    if (node.has_input(2)) {
      const Tensor* b = passes::find_initializer(g, node.inputs[2]);
      const int64_t N = trans_b ? w->dim(0) : w->dim(1);
      if (!b || b->dtype() != DType::Float32 || b->numel() != N) return "the bias is not one float per output";
      if (node.attr_float("beta", 1.0f) != 1.0f) return "beta != 1";
    }
  }
  return "";
}

}  // namespace

DynamicInt8Report quantize_int8_dynamic(Graph& g) {
  DynamicInt8Report report;
  const bool opset_ok = g.opset >= 11;                              // DynamicQuantizeLinear, MatMulInteger
  std::map<std::string, std::vector<std::string>> quantized_input;  // A -> (A_q, scale, zero point)
  std::vector<Node> added;
  std::vector<size_t> replaced;
  for (size_t k = 0; k < g.nodes.size(); ++k) {
    const Node node = g.nodes[k];
    const std::string label = node.name.empty() ? node.describe() : node.name;
    bool trans_b = false;
    std::string why = check_layer(g, node, trans_b);
    if (why == "not a Gemm or MatMul") continue;
    if (why.empty() && !opset_ok) why = "the model's opset is below 11";
    if (!why.empty()) {
      report.skipped.push_back({label, why});
      continue;
    }
    const Tensor& w = *passes::find_initializer(g, node.inputs[1]);
    const int64_t K = trans_b ? w.dim(1) : w.dim(0), N = trans_b ? w.dim(0) : w.dim(1);
    SymmetricWeights sw = quantize_weights_symmetric(w, trans_b ? 0 : 1, 127);  // per output column
    Tensor wq = sw.codes;
    if (trans_b) {  // MatMulInteger takes W as [K, N]
      wq = Tensor(DType::Int8, {K, N});
      for (int64_t n = 0; n < N; ++n)
        for (int64_t kk = 0; kk < K; ++kk) wq.data<int8_t>()[kk * N + n] = sw.codes.data<int8_t>()[n * K + kk];
    }
    const Tensor& ws = sw.scales;
    const std::string base = node.name.empty() ? node.outputs[0] : node.name;
    const std::string& a = node.inputs[0];
    if (!quantized_input.count(a)) {
      std::vector<std::string> q = {passes::unique_name(g, a + "_quantized"), passes::unique_name(g, a + "_scale"),
                                    passes::unique_name(g, a + "_zero_point")};
      g.value_info[q[0]] = ValueInfo{q[0], DType::UInt8, std::nullopt};
      g.value_info[q[1]] = ValueInfo{q[1], DType::Float32, std::nullopt};
      g.value_info[q[2]] = ValueInfo{q[2], DType::UInt8, std::nullopt};
      added.push_back(make_node("DynamicQuantizeLinear", a + "_dynamic_quantize", {a}, q));
      quantized_input[a] = q;
    }
    const std::vector<std::string>& q = quantized_input[a];
    auto value = [&](const std::string& suffix, DType t) {
      const std::string v = passes::unique_name(g, base + suffix);
      g.value_info[v] = ValueInfo{v, t, std::nullopt};
      return v;
    };
    const std::string wq_name = passes::unique_name(g, node.inputs[1] + "_quantized");
    g.initializers[wq_name] = wq;
    const std::string ws_name = passes::unique_name(g, node.inputs[1] + "_scale");
    g.initializers[ws_name] = ws;
    const std::string acc = value("_int32", DType::Int32), accf = value("_int32_float", DType::Float32);
    const std::string scale = value("_scales", DType::Float32);
    const bool bias = node.has_input(2), relu = node.attr_string("activation", "") == "Relu";
    const std::string out = node.outputs[0];
    const std::string scaled = bias || relu ? value("_scaled", DType::Float32) : out;
    added.push_back(make_node("MatMulInteger", base + "_matmul_integer", {q[0], wq_name, q[2]}, {acc}));
    Node cast = make_node("Cast", base + "_cast", {acc}, {accf});
    cast.attributes["to"].kind = Attribute::Kind::Int;
    cast.attributes["to"].i = 1;  // FLOAT
    added.push_back(cast);
    added.push_back(make_node("Mul", base + "_scales", {q[1], ws_name}, {scale}));
    added.push_back(make_node("Mul", base + "_scale", {accf, scale}, {scaled}));
    std::string cur = scaled;
    if (bias) {
      const Tensor& b = *passes::find_initializer(g, node.inputs[2]);
      const std::string b_name = passes::unique_name(g, node.inputs[2] + "_vector");
      g.initializers[b_name] = b.reshaped({N});
      const std::string sum = relu ? value("_biased", DType::Float32) : out;
      added.push_back(make_node("Add", base + "_bias", {cur, b_name}, {sum}));
      cur = sum;
    }
    if (relu) added.push_back(make_node("Relu", base + "_relu", {cur}, {out}));
    replaced.push_back(k);
    report.layers.push_back(label);
  }
  for (auto it = replaced.rbegin(); it != replaced.rend(); ++it) g.nodes.erase(g.nodes.begin() + std::ptrdiff_t(*it));
  for (auto& n : added) g.nodes.push_back(std::move(n));
  verify_and_sort(g);  // the new nodes were appended; dead-code elimination needs sorted nodes
  eliminate_dead_code(g);
  return report;
}

}  // namespace pith
