#include "onnx/export.h"

#include <onnx/onnx_pb.h>

#include <cmath>
#include <cstring>
#include <set>

#include "core/file_io.h"
#include "runtime/kernels/activation.h"

namespace pith::onnx_export {

namespace {

void set_tensor(onnx::TensorProto& p, const std::string& name, const Tensor& t) {
  p.set_name(name);
  p.set_data_type(int32_t(t.dtype()));
  for (int64_t d : t.shape()) p.add_dims(d);
  PITH_CHECK(dtype_is_storable(t.dtype()), "tensor '", name, "' has element type ", dtype_name(t.dtype()),
             ", which cannot be exported");
  p.set_raw_data(std::string(static_cast<const char*>(t.raw()), t.nbytes()));
}

void set_value_info(onnx::ValueInfoProto& p, const ValueInfo& v) {
  p.set_name(v.name);
  auto* tt = p.mutable_type()->mutable_tensor_type();
  if (v.dtype != DType::Undefined) tt->set_elem_type(int32_t(v.dtype));
  if (v.shape) {
    auto* shape = tt->mutable_shape();
    for (const Dim& d : *v.shape) {
      auto* dim = shape->add_dim();
      if (d.known())
        dim->set_dim_value(d.value);
      else if (!d.param.empty())
        dim->set_dim_param(d.param);
    }
  }
}

// Emits nodes into a GraphProto, expanding pith's fused nodes into standard ones.
class Writer {
 public:
  Writer(const Graph& g, onnx::GraphProto& out) : g_(g), out_(out) {
    for (auto& [name, t] : g.initializers) used_.insert(name);
    for (auto& n : g.nodes)
      for (auto& v : n.outputs) used_.insert(v);
    for (auto& v : g.inputs) used_.insert(v.name);
  }

  void write_graph();

 private:
  std::string fresh(const std::string& base) {
    std::string name = base;
    for (int i = 1; used_.count(name); ++i) name = base + "_" + std::to_string(i);
    used_.insert(name);
    return name;
  }

  std::string constant(const std::string& base, const Tensor& t) {
    const std::string name = fresh(base);
    set_tensor(*out_.add_initializer(), name, t);
    return name;
  }

  onnx::NodeProto& add(const std::string& op, const std::string& name, const std::vector<std::string>& inputs,
                       const std::vector<std::string>& outputs) {
    onnx::NodeProto& n = *out_.add_node();
    n.set_op_type(op);
    n.set_name(name);
    for (auto& i : inputs) n.add_input(i);
    for (auto& o : outputs) n.add_output(o);
    return n;
  }

  void write_node(const Node& node);
  void write_activation(const Node& node, const Activation& a, const std::string& in, const std::string& out);

  const Graph& g_;
  onnx::GraphProto& out_;
  std::set<std::string> used_;
};

void set_attribute(onnx::AttributeProto& p, const std::string& name, const Attribute& a);

void write_subgraph(onnx::GraphProto& out, const Graph& g) { Writer(g, out).write_graph(); }

void set_attribute(onnx::AttributeProto& p, const std::string& name, const Attribute& a) {
  using A = onnx::AttributeProto;
  p.set_name(name);
  switch (a.kind) {
    case Attribute::Kind::Float:
      p.set_type(A::FLOAT);
      p.set_f(a.f);
      break;
    case Attribute::Kind::Int:
      p.set_type(A::INT);
      p.set_i(a.i);
      break;
    case Attribute::Kind::String:
      p.set_type(A::STRING);
      p.set_s(a.s);
      break;
    case Attribute::Kind::Tensor:
      p.set_type(A::TENSOR);
      set_tensor(*p.mutable_t(), "", a.t);
      break;
    case Attribute::Kind::Graph:
      p.set_type(A::GRAPH);
      write_subgraph(*p.mutable_g(), *a.g);
      break;
    case Attribute::Kind::Floats:
      p.set_type(A::FLOATS);
      for (float f : a.floats) p.add_floats(f);
      break;
    case Attribute::Kind::Ints:
      p.set_type(A::INTS);
      for (int64_t i : a.ints) p.add_ints(i);
      break;
    case Attribute::Kind::Strings:
      p.set_type(A::STRINGS);
      for (auto& s : a.strings) p.add_strings(s);
      break;
    case Attribute::Kind::Tensors:
      p.set_type(A::TENSORS);
      for (auto& t : a.tensors) set_tensor(*p.add_tensors(), "", t);
      break;
    case Attribute::Kind::Graphs:
      p.set_type(A::GRAPHS);
      for (auto& sub : a.graphs) write_subgraph(*p.add_graphs(), *sub);
      break;
  }
}

void Writer::write_activation(const Node& node, const Activation& a, const std::string& in, const std::string& out) {
  const std::string base = node.name.empty() ? out : node.name;
  auto float_attr = [](onnx::NodeProto& n, const char* key, float v) {
    Attribute at;
    at.kind = Attribute::Kind::Float;
    at.f = v;
    set_attribute(*n.add_attribute(), key, at);
  };
  switch (a.kind) {
    case ActivationKind::None:
      fail("internal: no activation to write");
    case ActivationKind::Relu:
      add("Relu", base + "_relu", {in}, {out});
      return;
    case ActivationKind::Tanh:
      add("Tanh", base + "_tanh", {in}, {out});
      return;
    case ActivationKind::Sigmoid:
      add("Sigmoid", base + "_sigmoid", {in}, {out});
      return;
    case ActivationKind::LeakyRelu:
      float_attr(add("LeakyRelu", base + "_leaky_relu", {in}, {out}), "alpha", a.alpha);
      return;
    case ActivationKind::HardSigmoid: {
      auto& n = add("HardSigmoid", base + "_hard_sigmoid", {in}, {out});
      float_attr(n, "alpha", a.alpha);
      float_attr(n, "beta", a.beta);
      return;
    }
    case ActivationKind::Clip: {
      PITH_CHECK(g_.opset >= 11, node.describe(), ": a fused Clip needs opset 11 to export, the model has ", g_.opset);
      std::vector<std::string> ins{in};
      ins.push_back(std::isinf(a.alpha) ? "" : constant(base + "_clip_min", Tensor::scalar<float>(a.alpha)));
      if (!std::isinf(a.beta)) ins.push_back(constant(base + "_clip_max", Tensor::scalar<float>(a.beta)));
      add("Clip", base + "_clip", ins, {out});
      return;
    }
    case ActivationKind::HardSwish: {
      if (g_.opset >= 14) {
        add("HardSwish", base + "_hard_swish", {in}, {out});
        return;
      }
      const std::string gate = fresh(base + "_hard_sigmoid_out");
      auto& n = add("HardSigmoid", base + "_hard_sigmoid", {in}, {gate});
      float_attr(n, "alpha", 1.0f / 6.0f);
      float_attr(n, "beta", 0.5f);
      add("Mul", base + "_hard_swish", {in, gate}, {out});
      return;
    }
    case ActivationKind::SiLU: {
      const std::string gate = fresh(base + "_sigmoid_out");
      add("Sigmoid", base + "_sigmoid", {in}, {gate});
      add("Mul", base + "_silu", {in, gate}, {out});
      return;
    }
  }
}

void Writer::write_node(const Node& node) {
  const bool fused = node.domain == "pith" && (node.op_type == "FusedConv" || node.op_type == "FusedGemm");
  if (!fused) {
    PITH_CHECK(node.domain != "pith", node.describe(), ": pith's internal operator ", node.op_type,
               " has no ONNX form (export the model before its int8 lowering)");
    onnx::NodeProto& n = add(node.op_type, node.name, node.inputs, node.outputs);
    if (!node.domain.empty()) n.set_domain(node.domain);
    for (auto& [key, a] : node.attributes) set_attribute(*n.add_attribute(), key, a);
    return;
  }
  const bool conv = node.op_type == "FusedConv";
  const Activation act = activation_from_node(node);
  const bool residual = conv && node.has_input(3);
  const std::string out = node.outputs.at(0);
  const std::string base_out =
      (residual || act.kind != ActivationKind::None) ? fresh(out + (conv ? "_conv" : "_gemm")) : out;
  std::vector<std::string> ins(node.inputs.begin(), node.inputs.begin() + std::min<size_t>(3, node.inputs.size()));
  while (!ins.empty() && ins.back().empty()) ins.pop_back();
  onnx::NodeProto& base = add(conv ? "Conv" : "Gemm", node.name, ins, {base_out});
  for (auto& [key, a] : node.attributes)
    if (key != "activation" && key != "activation_alpha" && key != "activation_beta")
      set_attribute(*base.add_attribute(), key, a);
  std::string cur = base_out;
  if (residual) {
    const std::string sum = act.kind != ActivationKind::None ? fresh(out + "_sum") : out;
    add("Add", (node.name.empty() ? out : node.name) + "_residual", {cur, node.inputs[3]}, {sum});
    cur = sum;
  }
  if (act.kind != ActivationKind::None) write_activation(node, act, cur, out);
}

void Writer::write_graph() {
  out_.set_name(g_.name.empty() ? "pith" : g_.name);
  for (auto& v : g_.inputs) set_value_info(*out_.add_input(), v);
  for (auto& v : g_.outputs) set_value_info(*out_.add_output(), v);
  for (auto& [name, t] : g_.initializers) set_tensor(*out_.add_initializer(), name, t);
  for (auto& node : g_.nodes) write_node(node);
  // Intermediate value_info is left out: consumers infer it, and it would add a few
  // percent to a small quantized model.
}

}  // namespace

std::string export_bytes(const Graph& g, const ExportOptions& options) {
  onnx::ModelProto model;
  model.set_ir_version(8);
  model.set_producer_name(options.producer_name);
  if (!options.doc_string.empty()) model.set_doc_string(options.doc_string);
  auto* opset = model.add_opset_import();
  opset->set_domain("");
  opset->set_version(g.opset);
  for (auto& [domain, version] : g.domain_opsets) {
    if (domain.empty() || domain == "pith") continue;
    auto* o = model.add_opset_import();
    o->set_domain(domain);
    o->set_version(version);
  }
  Writer(g, *model.mutable_graph()).write_graph();
  std::string bytes;
  PITH_CHECK(model.SerializeToString(&bytes), "ONNX export: the model could not be serialized (over 2 GB?)");
  return bytes;
}

void export_file(const Graph& g, const std::string& path, const ExportOptions& options) {
  write_file_atomically(path, {export_bytes(g, options)});
}

}  // namespace pith::onnx_export
