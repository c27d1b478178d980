#include "targets/codegen_c/export_c.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "core/error.h"
#include "ir/analysis.h"
#include "runtime/kernels/activation.h"
#include "runtime/memory/planner.h"

namespace pith::targets {

// Generated at build time from src/targets/codegen_c/kernels/*.c (cmake/embed_files.cmake).
extern const std::vector<std::pair<std::string, std::string>> kCKernelFiles;

namespace {

const std::string& kernel_text(const std::string& file) {
  for (auto& [name, text] : kCKernelFiles)
    if (name == file) return text;
  fail("C export: kernel file ", file, " is not compiled in");
}

std::string c_float(float v) {
  if (std::isnan(v)) return "NAN";
  if (std::isinf(v)) return v > 0 ? "INFINITY" : "(-INFINITY)";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.9g", double(v));
  std::string s = buf;
  if (s.find_first_of(".eEn") == std::string::npos) s += ".0";
  return s + "f";
}

std::string c_int(int64_t v) { return v == INT32_MIN ? "(-2147483647 - 1)" : std::to_string(v); }

bool default_domain(const Node& n) { return n.domain.empty() || n.domain == "ai.onnx"; }

bool is_op(const Node& n, const char* onnx_op, const char* pith_op = nullptr) {
  return (default_domain(n) && n.op_type == onnx_op) || (pith_op && n.domain == "pith" && n.op_type == pith_op);
}

constexpr const char* kNoResidualKernel = "a fused residual input (int8) has no C kernel yet";

// Why emit() cannot take n whatever its inputs are (no kernel for its operator, or a form
// of it without one), or "".
std::string unsupported_by_itself(const Node& n) {
  if (n.domain == "pith" && n.op_type == "QConv" && n.has_input(9)) return kNoResidualKernel;
  for (const char* op : {"Flatten", "Reshape", "Squeeze", "Unsqueeze", "Identity", "Conv", "Gemm", "MatMul", "MaxPool",
                         "GlobalAveragePool", "QuantizeLinear", "Relu"})
    if (is_op(n, op)) return "";
  if (n.domain == "pith" &&
      (n.op_type == "FusedConv" || n.op_type == "FusedGemm" || n.op_type == "QConv" || n.op_type == "QGemm"))
    return "";
  return "no C kernel for this operator";
}

const char* activation_enum(ActivationKind k) {
  switch (k) {
    case ActivationKind::None:
      return "PITH_ACT_NONE";
    case ActivationKind::Relu:
      return "PITH_ACT_RELU";
    case ActivationKind::Clip:
      return "PITH_ACT_CLIP";
    case ActivationKind::LeakyRelu:
      return "PITH_ACT_LEAKY_RELU";
    case ActivationKind::HardSigmoid:
      return "PITH_ACT_HARD_SIGMOID";
    case ActivationKind::HardSwish:
      return "PITH_ACT_HARD_SWISH";
    case ActivationKind::Sigmoid:
      return "PITH_ACT_SIGMOID";
    case ActivationKind::SiLU:
      return "PITH_ACT_SILU";
    case ActivationKind::Tanh:
      return "PITH_ACT_TANH";
  }
  return "PITH_ACT_NONE";
}

const char* c_type(DType t) {
  switch (t) {
    case DType::Float32:
      return "float";
    case DType::UInt8:
      return "uint8_t";
    case DType::Int8:
      return "int8_t";
    default:
      return nullptr;
  }
}

class Emitter {
 public:
  Emitter(const Graph& g, const CExportOptions& o) : g_(g), o_(o) {}

  CExport run() {
    PITH_CHECK(!o_.name.empty() && (std::isalpha(static_cast<unsigned char>(o_.name[0])) || o_.name[0] == '_'),
               "C export: '", o_.name, "' is not a C identifier");
    for (char ch : o_.name)
      PITH_CHECK(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_', "C export: '", o_.name,
                 "' is not a C identifier");
    PITH_CHECK(g_.inputs.size() == 1 && g_.outputs.size() == 1,
               "C export needs one input and one output; the model has ", g_.inputs.size(), " and ", g_.outputs.size());
    const ValueInfo& in = g_.inputs[0];
    const ValueInfo& out = g_.outputs[0];
    PITH_CHECK(in.dtype == DType::Float32 && out.dtype == DType::Float32, "C export needs a float32 input and output");
    input_elements_ = numel(in.name);
    root_[in.name] = -1;  // the caller's input buffer
    dtype_[in.name] = DType::Float32;
    // Nodes that read what an unsupported node would have computed are not emitted (only
    // named when they could not be on their own either): the unsupported nodes are the
    // error to report, all of them (below).
    std::set<std::string> not_computed;
    for (size_t i = 0; i < g_.nodes.size(); ++i) {
      const Node& n = g_.nodes[i];
      const size_t before = unsupported_.size();
      const bool skip = std::any_of(n.inputs.begin(), n.inputs.end(), [&](auto& v) { return not_computed.count(v); });
      if (!skip)
        emit(n, int64_t(i));
      else if (const std::string why = unsupported_by_itself(n); !why.empty())
        unsupported_.push_back(n.describe() + ": " + why);
      if (skip || unsupported_.size() > before) not_computed.insert(n.outputs.begin(), n.outputs.end());
    }
    if (!unsupported_.empty()) {
      std::string list;
      for (auto& u : unsupported_) list += "\n  " + u;
      fail("C export cannot handle ", unsupported_.size(), " node(s):", list);
    }
    auto it = root_.find(out.name);
    PITH_CHECK(it != root_.end(), "C export: the model output '", out.name, "' is never computed");
    output_elements_ = numel(out.name);
    if (it->second >= 0) buffers_[size_t(it->second)].last = int64_t(g_.nodes.size());
    const MemoryPlan plan = plan_memory(buffers_, 8);
    return finish(plan, out.name);
  }

 private:
  int64_t numel(const std::string& v) { return shape_numel(shape(v)); }
  // Shapes this export computed (passes may leave new values without value_info), else
  // the graph's.
  Shape shape(const std::string& v) {
    auto it = shapes_.find(v);
    if (it != shapes_.end()) return it->second;
    auto s = static_shape(g_, v);
    PITH_CHECK(s.has_value(), "C export: the shape of '", v, "' is not known");
    return *s;
  }
  const Tensor* init(const std::string& v) {
    auto it = g_.initializers.find(v);
    return it == g_.initializers.end() ? nullptr : &it->second;
  }
  DType dtype_of(const std::string& v) {
    auto it = dtype_.find(v);
    if (it != dtype_.end()) return it->second;
    const ValueInfo* info = g_.find_value_info(v);
    return info ? info->dtype : DType::Undefined;
  }

  // A reference to a runtime value, resolved to a pointer once memory is planned.
  std::string use(const std::string& v, int64_t step, const char* type) {
    auto it = root_.find(v);
    PITH_CHECK(it != root_.end(), "C export: '", v, "' is used before it is computed");
    if (it->second >= 0) buffers_[size_t(it->second)].last = std::max(buffers_[size_t(it->second)].last, step);
    return "@" + std::to_string(it->second) + ":" + type + "@";
  }
  std::string produce(const std::string& v, DType t, int64_t step, const Shape& s) {
    shapes_[v] = s;
    dtype_[v] = t;
    BufferLifetime b;
    b.bytes = size_t(numel(v)) * dtype_size(t);
    b.first = b.last = step;
    buffers_.push_back(b);
    root_[v] = int(buffers_.size()) - 1;
    return "@" + std::to_string(buffers_.size() - 1) + ":" + c_type(t) + "@";
  }

  // A `static const TYPE kN[n]` array of the values value(i) writes (as C literals);
  // returns its name. Empty arrays get one 0 (C has no zero-length arrays).
  template <typename F>
  std::string array(const std::string& type, int64_t n, F&& value) {
    const std::string name = "k" + std::to_string(arrays_++);
    constants_ << "static const " << type << " " << name << "[" << std::max<int64_t>(n, 1) << "] = {";
    for (int64_t i = 0; i < n; ++i) constants_ << (i ? "," : "") << (i % 16 == 0 ? "\n  " : "") << value(i);
    constants_ << (n == 0 ? "0" : "") << "};\n";
    weight_bytes_ += uint64_t(std::max<int64_t>(n, 1)) * (type == "float" || type == "int32_t" ? 4u : 1u);
    return name;
  }
  // An initializer as an array of the given C type, emitted once.
  std::string constant(const std::string& v, const std::string& type) {
    auto it = const_names_.find(v + ":" + type);
    if (it != const_names_.end()) return it->second;
    const Tensor* t = init(v);
    PITH_CHECK(t != nullptr, "C export: '", v, "' must be a constant");
    const std::string name = type == "float"
                                 ? array(type, t->numel(), [&](int64_t i) { return c_float(float(t->as_double(i))); })
                                 : array(type, t->numel(), [&](int64_t i) { return c_int(t->as_int64(i)); });
    return const_names_[v + ":" + type] = name;
  }
  std::string constant_values(const std::vector<float>& v) {
    return array("float", int64_t(v.size()), [&](int64_t i) { return c_float(v[size_t(i)]); });
  }
  std::string constant_ints(const std::vector<int64_t>& v) {
    return array("int32_t", int64_t(v.size()), [&](int64_t i) { return c_int(v[size_t(i)]); });
  }

  std::string act_struct(const Node& n) {
    const Activation a = activation_from_node(n);
    const std::string name = "act" + std::to_string(acts_++);
    constants_ << "static const pith_act " << name << " = {" << activation_enum(a.kind) << ", " << c_float(a.alpha)
               << ", " << c_float(a.beta) << "};\n";
    return name;
  }

  // The geometry of a 2-D convolution (and its output shape, into y).
  std::string conv_shape(const Node& n, const Shape& x, const Shape& w, Shape& y, const std::string& why) {
    if (x.size() != 4 || w.size() != 4 || x[0] != 1) {
      unsupported_.push_back(why + ": only 2-D convolutions of one image are exported");
      return "";
    }
    if (n.attr_string("auto_pad", "NOTSET") != "NOTSET") {
      unsupported_.push_back(why + ": auto_pad is not exported (the graph passes make pads explicit)");
      return "";
    }
    const auto pads = n.attr_ints("pads", {0, 0, 0, 0}), strides = n.attr_ints("strides", {1, 1}),
               dil = n.attr_ints("dilations", {1, 1});
    y = {1, w[0], (x[2] + pads[0] + pads[2] - dil[0] * (w[2] - 1) - 1) / strides[0] + 1,
         (x[3] + pads[1] + pads[3] - dil[1] * (w[3] - 1) - 1) / strides[1] + 1};
    const std::string name = "conv" + std::to_string(convs_++);
    constants_ << "static const pith_conv_shape " << name << " = {" << x[1] << ", " << x[2] << ", " << x[3] << ", "
               << w[0] << ", " << y[2] << ", " << y[3] << ", " << w[2] << ", " << w[3] << ", " << strides[0] << ", "
               << strides[1] << ", " << pads[0] << ", " << pads[1] << ", " << dil[0] << ", " << dil[1] << ", "
               << n.attr_int("group", 1) << "};\n";
    return name;
  }

  // Requantization constants of a QConv/QGemm laid out as QLinearConv's inputs.
  struct Quant {
    std::string multiplier, w_zp, bias, out;
    int x_signed = 0;
    int64_t x_zp = 0;
    DType out_type = DType::Float32;
  };
  bool quant(const Node& n, int64_t channels, const std::string& why, Quant& q) {
    const Tensor *xs = init(n.inputs[1]), *xz = init(n.inputs[2]), *ws = init(n.inputs[4]), *wz = init(n.inputs[5]);
    if (!xs || !xz || !ws || !wz || !init(n.inputs[3]) || init(n.inputs[3])->dtype() != DType::Int8) {
      unsupported_.push_back(why + ": scales, zero points and int8 weights must be constants");
      return false;
    }
    const DType xt = dtype_of(n.inputs[0]);
    if (xt != DType::UInt8 && xt != DType::Int8) {
      unsupported_.push_back(why + ": the input must be uint8 or int8");
      return false;
    }
    q.x_signed = xt == DType::Int8;
    q.x_zp = xz->as_int64(0);
    const float x_scale = float(xs->as_double(0));
    std::vector<float> mult(static_cast<size_t>(channels));
    std::vector<int64_t> wzp(static_cast<size_t>(channels));
    for (int64_t c = 0; c < channels; ++c) {
      mult[size_t(c)] = x_scale * float(ws->as_double(ws->numel() == 1 ? 0 : c));
      wzp[size_t(c)] = wz->as_int64(wz->numel() == 1 ? 0 : c);
    }
    q.multiplier = constant_values(mult);
    q.w_zp = constant_ints(wzp);
    q.bias = n.inputs.size() > 8 && !n.inputs[8].empty() ? constant(n.inputs[8], "int32_t") : "0";
    const std::string name = "qout" + std::to_string(qouts_++);
    if (n.inputs.size() > 7 && !n.inputs[6].empty()) {
      const Tensor *ys = init(n.inputs[6]), *yz = init(n.inputs[7]);
      if (!ys || !yz) {
        unsupported_.push_back(why + ": the output scale and zero point must be constants");
        return false;
      }
      q.out_type = yz->dtype();
      const bool u8 = q.out_type == DType::UInt8;
      constants_ << "static const pith_qout " << name << " = {" << (u8 ? "PITH_OUT_U8" : "PITH_OUT_S8") << ", "
                 << c_float(1.0f / float(ys->as_double(0))) << ", " << yz->as_int64(0) << ", " << (u8 ? 0 : -128)
                 << ", " << (u8 ? 255 : 127) << "};\n";
    } else {
      constants_ << "static const pith_qout " << name << " = {PITH_OUT_F32, 1.0f, 0, 0, 0};\n";
    }
    q.out = name;
    return true;
  }

  void emit(const Node& n, int64_t step) {
    const std::string why = n.describe();
    auto has = [&](size_t i) { return n.inputs.size() > i && !n.inputs[i].empty(); };
    if (is_op(n, "Flatten") || is_op(n, "Reshape") || is_op(n, "Squeeze") || is_op(n, "Unsqueeze") ||
        is_op(n, "Identity")) {
      auto it = root_.find(n.inputs[0]);
      if (it == root_.end()) {
        unsupported_.push_back(why + ": reshapes a constant");
        return;
      }
      root_[n.outputs[0]] = it->second;  // a view of the same bytes
      dtype_[n.outputs[0]] = dtype_of(n.inputs[0]);
      const Shape x = shape(n.inputs[0]);
      if (is_op(n, "Flatten")) {
        const int64_t axis =
            n.attr_int("axis", 1) < 0 ? n.attr_int("axis", 1) + int64_t(x.size()) : n.attr_int("axis", 1);
        int64_t outer = 1;
        for (int64_t i = 0; i < axis && i < int64_t(x.size()); ++i) outer *= x[size_t(i)];
        shapes_[n.outputs[0]] = {outer, shape_numel(x) / std::max<int64_t>(outer, 1)};
      } else if (is_op(n, "Identity")) {
        shapes_[n.outputs[0]] = x;
      } else if (!static_shape(g_, n.outputs[0])) {
        unsupported_.push_back(why + ": the output shape is not known");
        return;
      }
      if (it->second >= 0) buffers_[size_t(it->second)].last = std::max(buffers_[size_t(it->second)].last, step);
      return;
    }
    if (is_op(n, "Conv", "FusedConv")) {
      if (!init(n.inputs[1]) || has(3) || dtype_of(n.inputs[0]) != DType::Float32) {
        unsupported_.push_back(why + ": needs constant weights, float32 input and no fused residual");
        return;
      }
      Shape y;
      const std::string s = conv_shape(n, shape(n.inputs[0]), shape(n.inputs[1]), y, why);
      if (s.empty()) return;
      const std::string w = constant(n.inputs[1], "float"), b = has(2) ? constant(n.inputs[2], "float") : "0";
      const std::string act = act_struct(n), x = use(n.inputs[0], step, "float");
      kernels_.insert("conv_f32.c");
      body_ << "  pith_conv_f32(&" << s << ", &" << act << ", " << x << ", " << w << ", " << b << ", "
            << produce(n.outputs[0], DType::Float32, step, y) << ");\n";
      return;
    }
    if (is_op(n, "Gemm", "FusedGemm") || is_op(n, "MatMul")) {
      const Shape a = shape(n.inputs[0]);
      const Tensor* w = init(n.inputs[1]);
      const bool matmul = is_op(n, "MatMul");
      if (!w || w->rank() != 2 || a.size() != 2 || dtype_of(n.inputs[0]) != DType::Float32 ||
          (!matmul && (n.attr_int("transA", 0) || n.attr_float("alpha", 1) != 1 || n.attr_float("beta", 1) != 1))) {
        unsupported_.push_back(why + ": needs a 2-D float32 input, a constant 2-D weight, alpha = beta = 1, no transA");
        return;
      }
      const int trans_b = matmul ? 0 : int(n.attr_int("transB", 0));
      const int64_t N = trans_b ? w->dim(0) : w->dim(1), K = trans_b ? w->dim(1) : w->dim(0);
      std::string b = "0";
      if (!matmul && has(2)) {
        const Tensor* c = init(n.inputs[2]);
        if (!c || c->numel() != N) {
          unsupported_.push_back(why + ": the bias must be a constant of one value per output");
          return;
        }
        b = constant(n.inputs[2], "float");
      }
      const std::string wc = constant(n.inputs[1], "float"), act = act_struct(n), x = use(n.inputs[0], step, "float");
      kernels_.insert("gemm_f32.c");
      body_ << "  pith_gemm_f32(" << a[0] << ", " << N << ", " << K << ", " << trans_b << ", &" << act << ", " << x
            << ", " << wc << ", " << b << ", " << produce(n.outputs[0], DType::Float32, step, {a[0], N}) << ");\n";
      return;
    }
    if (n.domain == "pith" && n.op_type == "QConv") {
      if (n.has_input(9)) {
        unsupported_.push_back(why + ": " + kNoResidualKernel);
        return;
      }
      const Shape x = shape(n.inputs[0]), w = shape(n.inputs[3]);
      Shape y;
      const std::string s = conv_shape(n, x, w, y, why);
      Quant q;
      if (s.empty() || !quant(n, w[0], why, q)) return;
      const std::string wc = constant(n.inputs[3], "int8_t"), act = act_struct(n), xv = use(n.inputs[0], step, "void");
      kernels_.insert("qconv.c");
      body_ << "  pith_qconv(&" << s << ", &" << act << ", " << xv << ", " << q.x_signed << ", " << q.x_zp << ", " << wc
            << ", " << q.w_zp << ", " << q.bias << ", " << q.multiplier << ", &" << q.out << ", "
            << produce(n.outputs[0], q.out_type, step, y) << ");\n";
      return;
    }
    if (n.domain == "pith" && n.op_type == "QGemm") {
      const Shape a = shape(n.inputs[0]);
      const Tensor* w = init(n.inputs[3]);
      if (!w || w->rank() != 2 || a.size() != 2) {
        unsupported_.push_back(why + ": needs a 2-D input and a constant 2-D weight");
        return;
      }
      const int trans_b = int(n.attr_int("transB", 0));
      const int64_t N = trans_b ? w->dim(0) : w->dim(1), K = trans_b ? w->dim(1) : w->dim(0);
      Quant q;
      if (!quant(n, N, why, q)) return;
      const std::string wc = constant(n.inputs[3], "int8_t"), act = act_struct(n), xv = use(n.inputs[0], step, "void");
      kernels_.insert("qgemm.c");
      body_ << "  pith_qgemm(" << a[0] << ", " << N << ", " << K << ", " << trans_b << ", &" << act << ", " << xv
            << ", " << q.x_signed << ", " << q.x_zp << ", " << wc << ", " << q.w_zp << ", " << q.bias << ", "
            << q.multiplier << ", &" << q.out << ", " << produce(n.outputs[0], q.out_type, step, {a[0], N}) << ");\n";
      return;
    }
    if (is_op(n, "MaxPool")) {
      const DType t = dtype_of(n.inputs[0]);
      const Shape x = shape(n.inputs[0]);
      const auto k = n.attr_ints("kernel_shape", {});
      if (!c_type(t) || x.size() != 4 || x[0] != 1 || k.size() != 2 || n.outputs.size() > 1 ||
          n.attr_string("auto_pad", "NOTSET") != "NOTSET" || n.attr_int("storage_order", 0) != 0) {
        unsupported_.push_back(why + ": only 2-D MaxPool of one image, explicit pads, no indices");
        return;
      }
      const auto pads = n.attr_ints("pads", {0, 0, 0, 0}), strides = n.attr_ints("strides", {1, 1}),
                 dil = n.attr_ints("dilations", {1, 1});
      const bool ceil_mode = n.attr_int("ceil_mode", 0) != 0;
      auto out_dim = [&](int64_t in, int64_t i) {
        const int64_t span = in + pads[size_t(i)] + pads[size_t(i) + 2] - dil[size_t(i)] * (k[size_t(i)] - 1) - 1;
        return (ceil_mode ? (span + strides[size_t(i)] - 1) / strides[size_t(i)] : span / strides[size_t(i)]) + 1;
      };
      const Shape y = {1, x[1], out_dim(x[2], 0), out_dim(x[3], 1)};
      const char* fn = t == DType::Float32 ? "pith_maxpool_f32"
                       : t == DType::UInt8 ? "pith_maxpool_u8"
                                           : "pith_maxpool_s8";
      const std::string xv = use(n.inputs[0], step, c_type(t));
      kernels_.insert(t == DType::Float32 ? "maxpool_f32.c" : t == DType::UInt8 ? "maxpool_u8.c" : "maxpool_s8.c");
      body_ << "  " << fn << "(" << x[1] << ", " << x[2] << ", " << x[3] << ", " << y[2] << ", " << y[3] << ", " << k[0]
            << ", " << k[1] << ", " << strides[0] << ", " << strides[1] << ", " << pads[0] << ", " << pads[1] << ", "
            << dil[0] << ", " << dil[1] << ", " << xv << ", " << produce(n.outputs[0], t, step, y) << ");\n";
      return;
    }
    if (is_op(n, "GlobalAveragePool")) {
      const Shape x = shape(n.inputs[0]);
      if (x.size() < 3 || x[0] != 1 || dtype_of(n.inputs[0]) != DType::Float32) {
        unsupported_.push_back(why + ": only float32 pooling of one image");
        return;
      }
      int64_t S = 1;
      for (size_t i = 2; i < x.size(); ++i) S *= x[i];
      const std::string xv = use(n.inputs[0], step, "float");
      kernels_.insert("global_average_pool.c");
      Shape y(x.size(), 1);
      y[1] = x[1];
      body_ << "  pith_global_average_pool_f32(" << x[1] << ", " << S << ", " << xv << ", "
            << produce(n.outputs[0], DType::Float32, step, y) << ");\n";
      return;
    }
    if (is_op(n, "QuantizeLinear")) {
      const Tensor *s = init(n.inputs[1]), *z = has(2) ? init(n.inputs[2]) : nullptr;
      if (!s || s->numel() != 1 || (has(2) && (!z || z->numel() != 1)) || dtype_of(n.inputs[0]) != DType::Float32 ||
          (z && z->dtype() != DType::UInt8 && z->dtype() != DType::Int8)) {
        unsupported_.push_back(why + ": only per-tensor float32 -> uint8/int8 with constant scale and zero point");
        return;
      }
      const DType t = z ? z->dtype() : DType::UInt8;
      const std::string xv = use(n.inputs[0], step, "float");
      kernels_.insert("quantize_linear.c");
      body_ << "  pith_quantize_linear(" << numel(n.inputs[0]) << ", " << xv << ", " << c_float(float(s->as_double(0)))
            << ", " << (z ? z->as_int64(0) : 0) << ", " << (t == DType::Int8) << ", "
            << produce(n.outputs[0], t, step, shape(n.inputs[0])) << ");\n";
      return;
    }
    if (is_op(n, "Relu") && dtype_of(n.inputs[0]) == DType::Float32) {
      const std::string xv = use(n.inputs[0], step, "float");
      kernels_.insert("relu.c");
      body_ << "  pith_relu_f32(" << numel(n.inputs[0]) << ", " << xv << ", "
            << produce(n.outputs[0], DType::Float32, step, shape(n.inputs[0])) << ");\n";
      return;
    }
    unsupported_.push_back(why + ": no C kernel for this operator");
  }

  // Pointers for the planned offsets.
  std::string resolve(const std::string& code, const MemoryPlan& plan) {
    std::string out;
    size_t at = 0;
    while (true) {
      const size_t a = code.find('@', at);
      if (a == std::string::npos) break;
      const size_t colon = code.find(':', a), b = code.find('@', a + 1);
      out += code.substr(at, a - at);
      const int buffer = std::stoi(code.substr(a + 1, colon - a - 1));
      const std::string type = code.substr(colon + 1, b - colon - 1);
      if (buffer < 0)
        out += "input";
      else
        out += "(" + type + "*)(pith_arena.bytes + " + std::to_string(plan.offsets[size_t(buffer)]) + ")";
      at = b + 1;
    }
    return out + code.substr(at);
  }

  CExport finish(const MemoryPlan& plan, const std::string& output) {
    CExport r;
    r.arena_bytes = std::max<uint64_t>(plan.arena_bytes, 8);
    r.weight_bytes = weight_bytes_;
    r.input_elements = input_elements_;
    r.output_elements = output_elements_;
    const std::string N = o_.name, U = [&] {
      std::string u = o_.name;
      for (char& ch : u) ch = char(std::toupper(static_cast<unsigned char>(ch)));
      return u;
    }();
    std::ostringstream h;
    h << "/* " << N << ".h: generated by pith export --format c" << (o_.source.empty() ? "" : " from " + o_.source)
      << ".\n   " << N << "_run() reads " << input_elements_ << " float32 values (input '" << g_.inputs[0].name
      << "', shape " << shape_str(shape(g_.inputs[0].name)) << ") and writes " << output_elements_ << " (output '"
      << g_.outputs[0].name << "', shape " << shape_str(shape(g_.outputs[0].name))
      << ").\n   It uses one static arena of " << r.arena_bytes << " bytes, allocates nothing, prints nothing,\n"
      << "   and is not reentrant (one call at a time). */\n"
      << "#ifndef " << U << "_H\n#define " << U << "_H\n\n"
      << "#define " << U << "_INPUT_ELEMENTS " << input_elements_ << "\n"
      << "#define " << U << "_OUTPUT_ELEMENTS " << output_elements_ << "\n"
      << "#define " << U << "_ARENA_BYTES " << r.arena_bytes << "\n\n"
      << "#ifdef __cplusplus\nextern \"C\" {\n#endif\n"
      << "/* Returns 0. */\nint " << N << "_run(const float* input, float* output);\n"
      << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
    std::ostringstream c;
    c << "/* " << N << ".c: generated by pith export --format c" << (o_.source.empty() ? "" : " from " + o_.source)
      << ". C99; build with -ffp-contract=off\n   so that int8 results equal the pith runtime's bit for bit. */\n"
      << "#include \"" << N << ".h\"\n\n"
      << kernel_text("prelude.c") << "\n";
    // What each kernel needs emitted before it (files in codegen_c/kernels).
    static const std::map<std::string, std::vector<std::string>> needs = {
        {"conv_f32.c", {"activation.c", "conv_shape.c"}},
        {"qconv.c", {"activation.c", "conv_shape.c", "quantized.c"}},
        {"gemm_f32.c", {"activation.c"}},
        {"qgemm.c", {"activation.c", "quantized.c"}},
        {"quantize_linear.c", {"quantized.c"}},
        {"maxpool_f32.c", {"maxpool.c"}},
        {"maxpool_u8.c", {"maxpool.c"}},
        {"maxpool_s8.c", {"maxpool.c"}}};
    std::vector<std::string> order;
    auto add = [&](const std::string& k) {
      if (std::find(order.begin(), order.end(), k) == order.end()) order.push_back(k);
    };
    for (const std::string& k : kernels_) {
      auto it = needs.find(k);
      if (it != needs.end())
        for (auto& d : it->second) add(d);
      add(k);
    }
    for (const std::string& k : order) {
      c << kernel_text(k) << "\n";
      r.kernels.push_back(k);
    }
    c << "/* weights and constants (flash) */\n"
      << constants_.str() << "\n"
      << "/* every intermediate tensor (RAM), placed by pith's memory planner */\n"
      << "static union {\n  double align;\n  uint8_t bytes[" << r.arena_bytes << "];\n} pith_arena;\n\n"
      << "int " << N << "_run(const float* input, float* output) {\n"
      << resolve(body_.str(), plan) << "  memcpy(output, "
      << resolve(use(output, int64_t(g_.nodes.size()), "float"), plan) << ", sizeof(float) * " << output_elements_
      << ");\n  return 0;\n}\n";
    r.header = h.str();
    r.source = c.str();
    return r;
  }

  const Graph& g_;
  const CExportOptions& o_;
  std::map<std::string, int> root_;  // value -> buffer (-1: the caller's input)
  std::map<std::string, DType> dtype_;
  std::map<std::string, Shape> shapes_;
  std::vector<BufferLifetime> buffers_;
  std::ostringstream constants_, body_;
  std::set<std::string> kernels_;
  std::map<std::string, std::string> const_names_;
  std::vector<std::string> unsupported_;
  uint64_t weight_bytes_ = 0;
  int64_t input_elements_ = 0, output_elements_ = 0;
  int acts_ = 0, convs_ = 0, qouts_ = 0, arrays_ = 0;
};

}  // namespace

CExport export_c(const Graph& lowered, const CExportOptions& options) { return Emitter(lowered, options).run(); }

}  // namespace pith::targets
