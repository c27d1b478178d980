#include "onnx/import.h"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>
#include <onnx/onnx_pb.h>
#include <onnx/shape_inference/implementation.h>

#include <filesystem>
#include <fstream>
#include <set>

#include "ir/verify.h"

namespace pith::onnx_import {

namespace {

// Reads the whole file into one buffer sized up front (a stringstream grew and then
// copied it: three times the model's size in fresh pages, slow to fault in).
std::string read_file(const std::string& path) {
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  PITH_CHECK(f, path, ": cannot open file");
  const std::streamoff size = f.tellg();
  PITH_CHECK(size >= 0, path, ": cannot read file");
  std::string bytes(size_t(size), '\0');
  f.seekg(0);
  PITH_CHECK(f.read(bytes.data(), size), path, ": cannot read file");
  return bytes;
}

template <typename Msg>
bool parse_message(Msg& msg, const std::string& bytes) {
  google::protobuf::io::ArrayInputStream raw(bytes.data(), int(bytes.size()));
  google::protobuf::io::CodedInputStream coded(&raw);
  coded.SetTotalBytesLimit(INT32_MAX);
  return msg.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
}

struct Context {
  std::string source;    // file name for errors
  std::string base_dir;  // external data
  int64_t opset = 0;
  std::map<std::string, int64_t> domain_opsets;
};

DType convert_dtype(int32_t t, const std::string& where) {
  DType d = DType(t);
  PITH_CHECK(dtype_is_storable(d), where, ": element type ", dtype_name(d), " (ONNX type ", t, ") is not supported");
  return d;
}

template <typename Src>
void copy_field(Tensor& t, const Src& field, const std::string& where) {
  PITH_CHECK(int64_t(field.size()) == t.numel(), where, ": tensor has ", field.size(), " values for shape ",
             shape_str(t.shape()));
  switch (t.dtype()) {
    case DType::Float32:
      for (int i = 0; i < field.size(); ++i) t.data<float>()[i] = float(field[i]);
      break;
    case DType::Float64:
      for (int i = 0; i < field.size(); ++i) t.data<double>()[i] = double(field[i]);
      break;
    case DType::Int8:
      for (int i = 0; i < field.size(); ++i) t.data<int8_t>()[i] = int8_t(field[i]);
      break;
    case DType::UInt8:
      for (int i = 0; i < field.size(); ++i) t.data<uint8_t>()[i] = uint8_t(field[i]);
      break;
    case DType::Int16:
      for (int i = 0; i < field.size(); ++i) t.data<int16_t>()[i] = int16_t(field[i]);
      break;
    case DType::UInt16:
    case DType::Float16:
    case DType::BFloat16:
      for (int i = 0; i < field.size(); ++i) t.data<uint16_t>()[i] = uint16_t(field[i]);
      break;
    case DType::Int32:
      for (int i = 0; i < field.size(); ++i) t.data<int32_t>()[i] = int32_t(field[i]);
      break;
    case DType::UInt32:
      for (int i = 0; i < field.size(); ++i) t.data<uint32_t>()[i] = uint32_t(field[i]);
      break;
    case DType::Int64:
      for (int i = 0; i < field.size(); ++i) t.data<int64_t>()[i] = int64_t(field[i]);
      break;
    case DType::UInt64:
      for (int i = 0; i < field.size(); ++i) t.data<uint64_t>()[i] = uint64_t(field[i]);
      break;
    case DType::Bool:
      for (int i = 0; i < field.size(); ++i) t.data<bool>()[i] = field[i] != 0;
      break;
    default:
      fail(where, ": unsupported tensor type");
  }
}

Tensor convert_tensor(const onnx::TensorProto& p, const std::string& base_dir, const std::string& where_prefix) {
  std::string where = where_prefix + " tensor '" + p.name() + "'";
  DType dtype = convert_dtype(p.data_type(), where);
  Shape shape(p.dims().begin(), p.dims().end());
  for (int64_t d : shape) PITH_CHECK(d >= 0, where, ": negative dimension in ", shape_str(shape));
  Tensor t(dtype, shape);
  const size_t nbytes = t.nbytes();
  if (p.data_location() == onnx::TensorProto::EXTERNAL) {
    std::string location;
    int64_t offset = 0, length = -1;
    for (auto& kv : p.external_data()) {
      if (kv.key() == "location")
        location = kv.value();
      else if (kv.key() == "offset")
        offset = std::stoll(kv.value());
      else if (kv.key() == "length")
        length = std::stoll(kv.value());
    }
    PITH_CHECK(!location.empty(), where, ": external data without a location");
    PITH_CHECK(location.find("..") == std::string::npos && location[0] != '/', where, ": external data location '",
               location, "' must be a path inside the model's folder");
    std::string path = (std::filesystem::path(base_dir) / location).string();
    std::ifstream f(path, std::ios::binary);
    PITH_CHECK(f, where, ": cannot open external data file ", path);
    if (length < 0) length = int64_t(nbytes);
    PITH_CHECK(size_t(length) == nbytes, where, ": external data length ", length, " but shape ", shape_str(shape),
               " needs ", nbytes, " bytes");
    f.seekg(offset);
    f.read(static_cast<char*>(t.raw()), std::streamsize(nbytes));
    PITH_CHECK(f.gcount() == std::streamsize(nbytes), where, ": external data file ", path, " is shorter than offset ",
               offset, " + ", nbytes, " bytes");
    return t;
  }
  if (p.has_raw_data()) {
    PITH_CHECK(p.raw_data().size() == nbytes, where, ": raw data has ", p.raw_data().size(), " bytes, shape ",
               shape_str(shape), " of ", dtype_name(dtype), " needs ", nbytes);
    if (nbytes) std::memcpy(t.raw(), p.raw_data().data(), nbytes);
    if (dtype == DType::Bool) {  // normalize to 0/1
      for (int64_t i = 0; i < t.numel(); ++i) t.data<uint8_t>()[i] = t.data<uint8_t>()[i] != 0;
    }
    return t;
  }
  switch (dtype) {
    case DType::Float32:
      copy_field(t, p.float_data(), where);
      break;
    case DType::Float64:
      copy_field(t, p.double_data(), where);
      break;
    case DType::Int64:
      copy_field(t, p.int64_data(), where);
      break;
    case DType::UInt32:
    case DType::UInt64:
      copy_field(t, p.uint64_data(), where);
      break;
    default:
      copy_field(t, p.int32_data(), where);
      break;
  }
  return t;
}

ValueInfo convert_value_info(const onnx::ValueInfoProto& v) {
  ValueInfo info;
  info.name = v.name();
  if (v.type().has_tensor_type()) {
    auto& tt = v.type().tensor_type();
    info.dtype = DType(tt.elem_type());
    if (tt.has_shape()) {
      std::vector<Dim> dims;
      for (auto& d : tt.shape().dim()) {
        Dim dim;
        if (d.has_dim_value())
          dim.value = d.dim_value();
        else if (d.has_dim_param())
          dim.param = d.dim_param();
        dims.push_back(dim);
      }
      info.shape = dims;
    }
  }
  return info;
}

Graph convert_graph(const onnx::GraphProto& gp, const Context& ctx, bool top_level,
                    onnx::GraphProto* consume = nullptr);

Attribute convert_attribute(const onnx::AttributeProto& a, const Context& ctx, const std::string& where) {
  Attribute out;
  using A = onnx::AttributeProto;
  switch (a.type()) {
    case A::FLOAT:
      out.kind = Attribute::Kind::Float;
      out.f = a.f();
      break;
    case A::INT:
      out.kind = Attribute::Kind::Int;
      out.i = a.i();
      break;
    case A::STRING:
      out.kind = Attribute::Kind::String;
      out.s = a.s();
      break;
    case A::TENSOR:
      out.kind = Attribute::Kind::Tensor;
      out.t = convert_tensor(a.t(), ctx.base_dir, where);
      break;
    case A::GRAPH:
      out.kind = Attribute::Kind::Graph;
      out.g = std::make_shared<Graph>(convert_graph(a.g(), ctx, false));
      break;
    case A::FLOATS:
      out.kind = Attribute::Kind::Floats;
      out.floats.assign(a.floats().begin(), a.floats().end());
      break;
    case A::INTS:
      out.kind = Attribute::Kind::Ints;
      out.ints.assign(a.ints().begin(), a.ints().end());
      break;
    case A::STRINGS:
      out.kind = Attribute::Kind::Strings;
      out.strings.assign(a.strings().begin(), a.strings().end());
      break;
    case A::TENSORS:
      out.kind = Attribute::Kind::Tensors;
      for (auto& t : a.tensors()) out.tensors.push_back(convert_tensor(t, ctx.base_dir, where));
      break;
    case A::GRAPHS:
      out.kind = Attribute::Kind::Graphs;
      for (auto& g : a.graphs()) out.graphs.push_back(std::make_shared<Graph>(convert_graph(g, ctx, false)));
      break;
    default:
      fail(where, ": attribute '", a.name(), "' has an unsupported type (", int(a.type()), ")");
  }
  return out;
}

// A Constant node's value as a tensor.
Tensor constant_value(const Node& node) {
  if (auto* a = node.attr("value")) return a->t;
  if (auto* a = node.attr("value_float")) return Tensor::scalar<float>(a->f);
  if (auto* a = node.attr("value_int")) return Tensor::scalar<int64_t>(a->i);
  if (auto* a = node.attr("value_floats")) return Tensor::from_vector<float>(a->floats, {int64_t(a->floats.size())});
  if (auto* a = node.attr("value_ints")) return Tensor::from_vector<int64_t>(a->ints, {int64_t(a->ints.size())});
  fail(node.describe(),
       ": Constant without a supported value attribute (sparse and string constants are not supported)");
}

// Frees a converted initializer's bytes (clearing a protobuf field keeps its capacity).
void release_tensor_data(onnx::TensorProto& t) {
  std::string().swap(*t.mutable_raw_data());
  google::protobuf::RepeatedField<float>().Swap(t.mutable_float_data());
  google::protobuf::RepeatedField<int32_t>().Swap(t.mutable_int32_data());
  google::protobuf::RepeatedField<int64_t>().Swap(t.mutable_int64_data());
  google::protobuf::RepeatedField<double>().Swap(t.mutable_double_data());
  google::protobuf::RepeatedField<uint64_t>().Swap(t.mutable_uint64_data());
}

// With `consume` (the same graph, owned by the caller), each initializer's bytes are freed
// once converted, so that the weights are never held twice (the peak memory of loading a
// model is then about its size, not twice it).
Graph convert_graph(const onnx::GraphProto& gp, const Context& ctx, bool top_level, onnx::GraphProto* consume) {
  Graph g;
  g.name = gp.name();
  g.opset = ctx.opset;
  g.domain_opsets = ctx.domain_opsets;
  std::string where = ctx.source + (top_level ? "" : " (subgraph '" + gp.name() + "')");
  for (int i = 0; i < gp.initializer_size(); ++i) {
    const onnx::TensorProto& t = gp.initializer(i);
    PITH_CHECK(!t.name().empty(), where, ": an initializer has no name");
    g.initializers[t.name()] = convert_tensor(t, ctx.base_dir, where + ": initializer");
    if (consume) release_tensor_data(*consume->mutable_initializer(i));
  }
  PITH_CHECK(gp.sparse_initializer_size() == 0, where, ": sparse initializers are not supported");
  for (auto& v : gp.input()) {
    if (g.initializers.count(v.name())) continue;  // IR < 4 lists initializers as inputs too
    ValueInfo info = convert_value_info(v);
    if (top_level) {
      PITH_CHECK(v.type().has_tensor_type(), where, ": input '", v.name(),
                 "' is not a tensor (sequence, map and optional inputs are not supported)");
      PITH_CHECK(dtype_is_storable(info.dtype), where, ": input '", v.name(), "' has element type ",
                 dtype_name(info.dtype), ", which is not supported");
    }
    g.inputs.push_back(info);
  }
  for (auto& v : gp.output()) g.outputs.push_back(convert_value_info(v));
  for (auto& v : gp.value_info()) g.value_info[v.name()] = convert_value_info(v);
  for (auto& np : gp.node()) {
    Node node;
    node.name = np.name();
    node.op_type = np.op_type();
    node.domain = np.domain() == "ai.onnx" ? "" : np.domain();
    node.inputs.assign(np.input().begin(), np.input().end());
    node.outputs.assign(np.output().begin(), np.output().end());
    std::string node_where = where + ": " + node.describe();
    for (auto& a : np.attribute()) {
      PITH_CHECK(a.ref_attr_name().empty(), node_where, ": attribute references (functions) are not supported");
      node.attributes[a.name()] = convert_attribute(a, ctx, node_where);
    }
    if (node.op_type == "Constant" && node.domain.empty() && node.outputs.size() == 1) {
      g.initializers[node.outputs[0]] = constant_value(node);
      continue;
    }
    g.nodes.push_back(std::move(node));
  }
  if (top_level) {
    // Drop initializers nothing reads.
    std::set<std::string> used;
    std::function<void(const Graph&)> mark = [&](const Graph& sub) {
      for (auto& n : sub.nodes) {
        for (auto& in : n.inputs) used.insert(in);
        for (auto& [k, a] : n.attributes) {
          if (a.g) mark(*a.g);
          for (auto& s : a.graphs) mark(*s);
        }
      }
      for (auto& o : sub.outputs) used.insert(o.name);
    };
    mark(g);
    for (auto it = g.initializers.begin(); it != g.initializers.end();) {
      it = used.count(it->first) ? std::next(it) : g.initializers.erase(it);
    }
  }
  return g;
}

// Converts a parsed model, freeing its initializers' bytes as they are converted.
Graph import_model(onnx::ModelProto& model, const std::string& source, const std::string& base_dir,
                   const ImportOptions& options) {
  PITH_CHECK(model.has_graph(), source, ": not a valid ONNX model (no graph)");
  PITH_CHECK(model.ir_version() > 0, source, ": not a valid ONNX model (no ir_version)");
  Context ctx;
  ctx.source = source;
  ctx.base_dir = base_dir;
  for (auto& op : model.opset_import()) {
    std::string domain = op.domain() == "ai.onnx" ? "" : op.domain();
    ctx.domain_opsets[domain] = op.version();
    if (domain.empty()) ctx.opset = op.version();
  }
  if (model.opset_import_size() == 0) ctx.opset = 1;  // IR 1-2 models had no opset_import
  PITH_CHECK(ctx.opset <= kMaxOpset, source, ": default-domain opset ", ctx.opset,
             " is newer than pith supports (up to ", kMaxOpset, ")");
  if (options.infer_shapes) {
    try {
      onnx::shape_inference::InferShapes(model);
    } catch (const std::exception&) {
      // Inference is best effort: shapes are resolved at run time anyway.
    }
  }
  Graph g = convert_graph(model.graph(), ctx, true, model.mutable_graph());
  try {
    verify_and_sort(g);
  } catch (const Error& e) {
    fail(source, ": ", e.what());
  }
  return g;
}

constexpr const char* kUnparsable =
    ": not a valid ONNX model (the protobuf could not be parsed; is the file truncated or of another format?)";

}  // namespace

Graph import_bytes(const std::string& bytes, const std::string& source, const std::string& base_dir,
                   const ImportOptions& options) {
  onnx::ModelProto model;
  PITH_CHECK(!bytes.empty(), source, ": file is empty, not an ONNX model");
  PITH_CHECK(parse_message(model, bytes), source, kUnparsable);
  return import_model(model, source, base_dir, options);
}

Graph import_file(const std::string& path, const ImportOptions& options) {
  PITH_CHECK(std::filesystem::exists(path), path, ": no such file");
  std::ifstream f(path, std::ios::binary | std::ios::ate);
  PITH_CHECK(f, path, ": cannot open file");
  const std::streamoff size = f.tellg();
  PITH_CHECK(size >= 0 && std::filesystem::is_regular_file(path), path, ": cannot read file");
  PITH_CHECK(size > 0, path, ": file is empty, not an ONNX model");
  f.seekg(0);
  // Parsed from the stream: the file's bytes are never held beside the parsed model.
  onnx::ModelProto model;
  {
    google::protobuf::io::IstreamInputStream raw(&f);
    google::protobuf::io::CodedInputStream coded(&raw);
    coded.SetTotalBytesLimit(INT32_MAX);
    const bool parsed = model.ParseFromCodedStream(&coded) && coded.ConsumedEntireMessage();
    PITH_CHECK(!f.bad(), path, ": cannot read file");
    PITH_CHECK(parsed, path, kUnparsable);
  }
  std::string dir = std::filesystem::path(path).parent_path().string();
  return import_model(model, path, dir.empty() ? "." : dir, options);
}

Tensor read_tensor_file(const std::string& path) {
  std::string bytes = read_file(path);
  onnx::TensorProto p;
  PITH_CHECK(parse_message(p, bytes), path, ": not a serialized ONNX TensorProto");
  std::string dir = std::filesystem::path(path).parent_path().string();
  return convert_tensor(p, dir, path + ":");
}

}  // namespace pith::onnx_import
