// Writes a Graph as a .pith artifact (layout in artifact.h).
#include <zstd.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <set>

#include "artifact/artifact.h"
#include "artifact/pith_generated.h"
#include "core/block_q4.h"
#include "core/file_io.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace pith::artifact {

namespace {

using flatbuffers::FlatBufferBuilder;
using flatbuffers::Offset;

// Concatenates tensor bytes into the one tensor segment, aligned.
struct TensorBlob {
  std::string bytes;
  int64_t elements = 0;
  uint64_t decoded_bytes = 0;  // of the tensors stored coded (palette, 4-bit blocks, halves), as float32

  uint64_t add(const Tensor& t) {
    return add_bytes(std::string(static_cast<const char*>(t.raw()), t.nbytes()), t.numel());
  }
  uint64_t add_coded(const std::string& data, const Tensor& t) {
    decoded_bytes += t.nbytes();
    return add_bytes(data, t.numel());
  }
  uint64_t add_bytes(const std::string& data, int64_t numel) {
    const size_t align = data.size() >= 1024 ? 64 : 16;
    bytes.resize((bytes.size() + align - 1) / align * align, '\0');
    const uint64_t at = bytes.size();
    bytes.append(data);
    elements += numel;
    return at;
  }
};

// The sorted distinct values of a float32 tensor worth storing as palette indices (at
// least 256 elements, at most 256 distinct values, no NaN); false otherwise.
bool palette_codebook(const Tensor& t, std::vector<float>& codebook) {
  if (t.dtype() != DType::Float32 || t.numel() < 256) return false;
  std::vector<float> v(t.data<float>(), t.data<float>() + t.numel());
  for (float x : v)
    if (std::isnan(x)) return false;
  std::sort(v.begin(), v.end());
  v.erase(std::unique(v.begin(), v.end()), v.end());
  if (v.size() > 256) return false;
  codebook = std::move(v);
  return true;
}

// True for a float32 tensor of at least 256 elements whose values are all exact halves.
bool exact_halves(const Tensor& t) {
  if (t.dtype() != DType::Float32 || t.numel() < 256) return false;
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float x = t.data<float>()[i];
    const float back = half_to_float(float_to_half(x));
    if (!(back == x) || (x == 0.0f && std::signbit(x) != std::signbit(back))) return false;
  }
  return true;
}

// Indices into the codebook, `bits` each, packed least significant bit first.
std::string pack_indices(const Tensor& t, const std::vector<float>& codebook, int bits) {
  std::string out(size_t((t.numel() * bits + 7) / 8), '\0');
  for (int64_t i = 0; i < t.numel(); ++i) {
    const float x = t.data<float>()[i];
    const uint32_t idx = uint32_t(std::lower_bound(codebook.begin(), codebook.end(), x) - codebook.begin());
    const int64_t bit = i * bits;
    for (int b = 0; b < bits; ++b)
      if ((idx >> b) & 1) out[size_t((bit + b) / 8)] |= char(1 << ((bit + b) % 8));
  }
  return out;
}

class Writer {
 public:
  explicit Writer(FlatBufferBuilder& b) : b_(b) {}

  Offset<fb::TensorRef> tensor(const std::string& name, const Tensor& t) {
    PITH_CHECK(dtype_is_storable(t.dtype()), "tensor '", name, "' has element type ", dtype_name(t.dtype()),
               ", which a .pith artifact cannot hold");
    auto n = b_.CreateSharedString(name);
    auto shape = b_.CreateVector(std::vector<int64_t>(t.shape().begin(), t.shape().end()));
    std::vector<float> codebook;
    int bits = 0;
    if (palette_codebook(t, codebook)) {
      bits = 1;
      while ((size_t(1) << bits) < codebook.size()) ++bits;
    }
    if (bits == 0 || bits > 4) {  // 4-bit blocks beat palettes of more than 16 values
      // From 64 weights: small models are mostly small tensors (depthwise and 1x1 kernels).
      if (t.dtype() == DType::Float32 && t.rank() >= 2 && t.numel() >= 64 && t.dim(0) > 0) {
        const int64_t rows = t.dim(0), K = t.numel() / rows;
        // The smallest exact one: short rows pad a long block more than a short block costs.
        std::vector<int64_t> blocks = {16, 32, 64, 128};
        std::sort(blocks.begin(), blocks.end(),
                  [&](int64_t a, int64_t b) { return q4_encoded_bytes(rows, K, a) < q4_encoded_bytes(rows, K, b); });
        for (int64_t block : blocks) {
          std::string packed(size_t(q4_encoded_bytes(rows, K, block)), '\0');
          if (!encode_q4(t.data<float>(), rows, K, block, reinterpret_cast<uint8_t*>(packed.data()))) continue;
          const uint64_t at = blob.add_coded(packed, t);
          return fb::CreateTensorRef(b_, n, int32_t(t.dtype()), shape, 0, at, packed.size(),
                                     fb::TensorEncoding::BlockQ4, 4, 0, uint32_t(block));
        }
      }
    }
    if (bits > 0) {
      const std::string packed = pack_indices(t, codebook, bits);
      const uint64_t at = blob.add_coded(packed, t);
      auto cb = b_.CreateVector(codebook);
      return fb::CreateTensorRef(b_, n, int32_t(t.dtype()), shape, 0, at, packed.size(), fb::TensorEncoding::Palette,
                                 uint8_t(bits), cb);
    }
    if (exact_halves(t)) {
      std::string halves(size_t(t.numel()) * 2, '\0');
      for (int64_t i = 0; i < t.numel(); ++i) {
        const uint16_t h = float_to_half(t.data<float>()[i]);
        std::memcpy(&halves[size_t(i) * 2], &h, 2);
      }
      const uint64_t at = blob.add_coded(halves, t);
      return fb::CreateTensorRef(b_, n, int32_t(t.dtype()), shape, 0, at, halves.size(), fb::TensorEncoding::Half);
    }
    const uint64_t at = blob.add(t);
    return fb::CreateTensorRef(b_, n, int32_t(t.dtype()), shape, 0, at, t.nbytes());
  }

  Offset<fb::ValueInfo> value_info(const ValueInfo& v) {
    std::vector<Offset<fb::Dim>> dims;
    if (v.shape)
      for (const Dim& d : *v.shape)
        dims.push_back(fb::CreateDim(b_, d.value, d.param.empty() ? 0 : b_.CreateSharedString(d.param)));
    auto name = b_.CreateSharedString(v.name);
    auto shape = b_.CreateVector(dims);
    return fb::CreateValueInfo(b_, name, int32_t(v.dtype), v.shape.has_value(), shape);
  }

  Offset<fb::Attribute> attribute(const std::string& key, const Attribute& a) {
    Offset<flatbuffers::String> s = 0;
    Offset<fb::TensorRef> t = 0;
    Offset<fb::Graph> g = 0;
    Offset<flatbuffers::Vector<float>> floats = 0;
    Offset<flatbuffers::Vector<int64_t>> ints = 0;
    Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> strings = 0;
    Offset<flatbuffers::Vector<Offset<fb::TensorRef>>> tensors = 0;
    Offset<flatbuffers::Vector<Offset<fb::Graph>>> graphs = 0;
    switch (a.kind) {
      case Attribute::Kind::String:
        s = b_.CreateSharedString(a.s);
        break;
      case Attribute::Kind::Tensor:
        t = tensor(key, a.t);
        break;
      case Attribute::Kind::Graph:
        g = graph(*a.g);
        break;
      case Attribute::Kind::Floats:
        floats = b_.CreateVector(a.floats);
        break;
      case Attribute::Kind::Ints:
        ints = b_.CreateVector(a.ints);
        break;
      case Attribute::Kind::Strings:
        strings = b_.CreateVectorOfStrings(a.strings);
        break;
      case Attribute::Kind::Tensors: {
        std::vector<Offset<fb::TensorRef>> v;
        for (auto& x : a.tensors) v.push_back(tensor(key, x));
        tensors = b_.CreateVector(v);
        break;
      }
      case Attribute::Kind::Graphs: {
        std::vector<Offset<fb::Graph>> v;
        for (auto& x : a.graphs) v.push_back(graph(*x));
        graphs = b_.CreateVector(v);
        break;
      }
      default:
        break;
    }
    auto name = b_.CreateSharedString(key);
    return fb::CreateAttribute(b_, name, fb::AttributeKind(int(a.kind)), a.f, a.i, s, t, g, floats, ints, strings,
                               tensors, graphs);
  }

  // Value names repeat (a producer's output is its readers' input): stored once each.
  Offset<flatbuffers::Vector<Offset<flatbuffers::String>>> strings(const std::vector<std::string>& v) {
    std::vector<Offset<flatbuffers::String>> out;
    for (auto& s : v) out.push_back(b_.CreateSharedString(s));
    return b_.CreateVector(out);
  }

  Offset<fb::Node> node(const Node& n) {
    std::vector<Offset<fb::Attribute>> attrs;
    for (auto& [key, a] : n.attributes) attrs.push_back(attribute(key, a));
    auto name = b_.CreateSharedString(n.name);
    auto op = b_.CreateSharedString(n.op_type);
    auto domain = b_.CreateSharedString(n.domain);
    auto ins = strings(n.inputs);
    auto outs = strings(n.outputs);
    auto av = b_.CreateVector(attrs);
    return fb::CreateNode(b_, name, op, domain, ins, outs, av);
  }

  static void collect_value_names(const Graph& g, std::set<std::string>& names) {
    for (auto& n : g.nodes) {
      names.insert(n.inputs.begin(), n.inputs.end());
      names.insert(n.outputs.begin(), n.outputs.end());
      for (auto& [k, a] : n.attributes) {
        if (a.g) collect_value_names(*a.g, names);
        for (auto& sub : a.graphs) collect_value_names(*sub, names);
      }
    }
  }

  Offset<fb::Graph> graph(const Graph& g) {
    std::vector<Offset<fb::Node>> nodes;
    for (auto& n : g.nodes) nodes.push_back(node(n));
    std::vector<Offset<fb::ValueInfo>> ins, outs, infos;
    for (auto& v : g.inputs) ins.push_back(value_info(v));
    for (auto& v : g.outputs) outs.push_back(value_info(v));
    // Only values some node still reads or writes: passes leave entries for values they removed.
    std::set<std::string> used;
    collect_value_names(g, used);
    for (auto& [name, v] : g.value_info)
      if (used.count(name)) infos.push_back(value_info(v));
    std::vector<Offset<fb::TensorRef>> inits;
    for (auto& [name, t] : g.initializers) inits.push_back(tensor(name, t));
    auto name = b_.CreateSharedString(g.name);
    auto nv = b_.CreateVector(nodes);
    auto iv = b_.CreateVector(ins);
    auto ov = b_.CreateVector(outs);
    auto vv = b_.CreateVector(infos);
    auto tv = b_.CreateVector(inits);
    return fb::CreateGraph(b_, name, nv, iv, ov, vv, tv);
  }

  TensorBlob blob;

 private:
  FlatBufferBuilder& b_;
};

constexpr uint64_t align64(uint64_t v) { return (v + 63) / 64 * 64; }

std::string zstd_compress(std::string_view bytes, int level, const std::string& path) {
  std::string out(ZSTD_compressBound(bytes.size()), '\0');
  const size_t n = ZSTD_compress(out.data(), out.size(), bytes.data(), bytes.size(), level);
  PITH_CHECK(!ZSTD_isError(n), path, ": zstd compression failed: ", ZSTD_getErrorName(n));
  out.resize(n);
  return out;
}

}  // namespace

namespace {

// Renames every value but the model's inputs and outputs to a short base-36 name, the
// same way in every subgraph (outer-scope references stay consistent), and clears node and
// subgraph names: a small model's names can outweigh its weights.
class ShortNames {
 public:
  explicit ShortNames(const Graph& top) {
    for (auto& v : top.inputs) keep_.insert(v.name);
    for (auto& v : top.outputs) keep_.insert(v.name);
  }
  void apply(Graph& g) {
    g.name.clear();
    for (auto& v : g.inputs) v.name = rename(v.name);
    for (auto& v : g.outputs) v.name = rename(v.name);
    std::map<std::string, ValueInfo> infos;
    for (auto& [name, v] : g.value_info) {
      ValueInfo r = v;
      r.name = rename(name);
      infos[r.name] = std::move(r);
    }
    g.value_info = std::move(infos);
    std::map<std::string, Tensor> inits;
    for (auto& [name, t] : g.initializers) inits[rename(name)] = t;
    g.initializers = std::move(inits);
    for (auto& n : g.nodes) {
      n.name.clear();
      for (auto& in : n.inputs) in = rename(in);
      for (auto& out : n.outputs) out = rename(out);
      for (auto& [k, a] : n.attributes) {  // subgraphs are shared with the original: copy first
        if (a.g) {
          a.g = std::make_shared<Graph>(*a.g);
          apply(*a.g);
        }
        for (auto& sub : a.graphs) {
          sub = std::make_shared<Graph>(*sub);
          apply(*sub);
        }
      }
    }
  }

 private:
  std::string rename(const std::string& name) {
    if (name.empty() || keep_.count(name)) return name;
    auto [it, fresh] = names_.emplace(name, "");
    if (fresh) {
      size_t i = names_.size() - 1;
      std::string s;
      do {
        s += "0123456789abcdefghijklmnopqrstuvwxyz"[i % 36];
        i /= 36;
      } while (i);
      it->second = "_" + s;
      while (keep_.count(it->second)) it->second += "_";
    }
    return it->second;
  }
  std::set<std::string> keep_;
  std::map<std::string, std::string> names_;
};

}  // namespace

WriteStats write_file(const Graph& g, const std::string& path, const WriteOptions& options) {
  FlatBufferBuilder b(1 << 16);
  Writer w(b);
  Graph renamed;
  if (options.short_names) {
    renamed = g;
    ShortNames(g).apply(renamed);
  }
  auto graph = w.graph(options.short_names ? renamed : g);
  std::string stored = w.blob.bytes;
  if (options.zstd && !stored.empty()) stored = zstd_compress(stored, options.zstd_level, path);
  std::vector<Offset<fb::OpsetImport>> opsets;
  for (auto& [domain, version] : g.domain_opsets)
    opsets.push_back(fb::CreateOpsetImport(b, b.CreateString(domain), version));
  std::vector<Offset<fb::Metadata>> meta;
  for (auto& [k, v] : options.metadata) meta.push_back(fb::CreateMetadata(b, b.CreateString(k), b.CreateString(v)));
  auto opsets_v = b.CreateVector(opsets);
  auto meta_v = b.CreateVector(meta);
  // Segment offsets count from Header::segments_offset, so the model does not depend on its own size.
  std::vector<Offset<fb::Segment>> segs;
  segs.push_back(fb::CreateSegment(b, 0, stored.size(), w.blob.bytes.size(),
                                   options.zstd ? fb::Compression::Zstd : fb::Compression::None,
                                   XXH64(stored.data(), stored.size(), 0)));
  auto segs_v = b.CreateVector(segs);
  b.Finish(fb::CreateModel(b, g.opset, opsets_v, graph, segs_v, meta_v), "PITH");
  std::string_view model(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  Header h{};
  std::memcpy(h.magic, kMagic, 4);
  h.format_version = kFormatVersionPlainModel;
  std::string coded_model;
  if (options.zstd) {
    coded_model = zstd_compress(model, options.zstd_level, path);
    if (coded_model.size() < model.size()) {  // version 2 only when it pays
      h.format_version = kFormatVersion;
      h.model_raw_size = model.size();
      model = coded_model;
    }
  }
  const uint64_t seg_offset = align64(sizeof(Header) + model.size());
  h.model_offset = sizeof(Header);
  h.model_size = model.size();
  h.model_xxhash64 = XXH64(model.data(), model.size(), 0);
  h.segments_offset = seg_offset;

  const std::string pad(seg_offset - sizeof(Header) - model.size(), '\0');
  write_file_atomically(path, {std::string_view(reinterpret_cast<const char*>(&h), sizeof h), model, pad, stored});
  WriteStats stats;
  stats.model_bytes = b.GetSize();
  stats.stored_model_bytes = model.size();
  stats.file_bytes = seg_offset + stored.size();
  stats.tensor_bytes = w.blob.bytes.size();
  stats.stored_tensor_bytes = stored.size();
  stats.parameters = w.blob.elements;
  stats.decoded_tensor_bytes = w.blob.decoded_bytes;
  return stats;
}

}  // namespace pith::artifact
