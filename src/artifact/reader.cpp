// Reads a .pith artifact (layout in artifact.h): maps the file, verifies it completely,
// and builds the Graph with tensors viewing the mapping (or decoded zstd segments).
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zstd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>

#include "artifact/artifact.h"
#include "artifact/pith_generated.h"
#include "core/block_q4.h"
#include "ir/verify.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace pith::artifact {

namespace {

struct Mapping {
  void* data = nullptr;
  size_t size = 0;
  ~Mapping() {
    if (data && data != MAP_FAILED) munmap(data, size);
  }
};

std::shared_ptr<Mapping> map_file(const std::string& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  PITH_CHECK(fd >= 0, path, ": cannot open file");
  struct stat st {};
  if (fstat(fd, &st) != 0) {
    ::close(fd);
    fail(path, ": cannot read file");
  }
  auto m = std::make_shared<Mapping>();
  m->size = size_t(st.st_size);
  if (m->size > 0) {
    m->data = mmap(nullptr, m->size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (m->data == MAP_FAILED) {
      ::close(fd);
      m->data = nullptr;
      fail(path, ": cannot map file");
    }
  }
  ::close(fd);
  return m;
}

// A decoded segment: bytes valid as long as `owner` lives.
struct Bytes {
  const uint8_t* data = nullptr;
  uint64_t size = 0;
  std::shared_ptr<void> owner;
};

class Reader {
 public:
  Reader(const std::string& path, std::vector<Bytes> segments) : path_(path), segments_(std::move(segments)) {}

  // The FlatBuffers verifier checks a vector's length word (4-byte aligned) but not that
  // 8-byte elements are 8-byte aligned: a damaged file must not make us load them misaligned.
  // (Empty vectors are exempt: the builder does not align them, and nothing is loaded.)
  template <typename T>
  const flatbuffers::Vector<T>* aligned(const flatbuffers::Vector<T>* v, const std::string& what) {
    PITH_CHECK(!v || v->size() == 0 || reinterpret_cast<uintptr_t>(v->data()) % alignof(T) == 0, path_, ": corrupt (",
               what, " misaligned)");
    return v;
  }

  Tensor tensor(const fb::TensorRef* r, const std::string& where) {
    PITH_CHECK(r, path_, ": ", where, ": missing tensor");
    const std::string name = r->name() ? r->name()->str() : "";
    const std::string at = where + " tensor '" + name + "'";
    const DType dtype = DType(r->dtype());
    PITH_CHECK(dtype_is_storable(dtype), path_, ": ", at, ": element type ", r->dtype(), " is not supported");
    Shape shape;
    uint64_t numel = 1;
    if (aligned(r->shape(), at + " shape"))
      for (int64_t d : *r->shape()) {
        PITH_CHECK(d >= 0 && d < (int64_t(1) << 40), path_, ": ", at, ": bad dimension ", d);
        shape.push_back(d);
        PITH_CHECK(numel <= (uint64_t(1) << 40) / std::max<uint64_t>(1, uint64_t(d)), path_, ": ", at,
                   ": too many elements");
        numel *= uint64_t(d);
      }
    const bool palette = r->encoding() == fb::TensorEncoding::Palette;
    const bool half = r->encoding() == fb::TensorEncoding::Half;
    const bool q4 = r->encoding() == fb::TensorEncoding::BlockQ4;
    PITH_CHECK(palette || half || q4 || r->encoding() == fb::TensorEncoding::Raw, path_, ": ", at,
               ": unknown encoding ", int(r->encoding()));
    PITH_CHECK(!(half || q4) || dtype == DType::Float32, path_, ": ", at, ": ", half ? "half" : "4-bit block",
               " encoding of a ", dtype_name(dtype), " tensor");
    const int bits = r->bits();
    const int64_t block = r->block();
    if (q4) {
      PITH_CHECK(valid_q4_block(block) && shape.size() >= 2 && shape[0] > 0, path_, ": ", at,
                 ": bad 4-bit blocks (block ", block, ", shape ", shape_str(shape), ")");
      const int64_t rows = shape[0], K = int64_t(numel) / rows;
      PITH_CHECK(r->size() == uint64_t(q4_encoded_bytes(rows, K, block)), path_, ": ", at, ": ", r->size(),
                 " bytes for ", rows, " rows of ", K, " values in 4-bit blocks of ", block);
    } else if (palette) {
      PITH_CHECK(dtype == DType::Float32 && bits >= 1 && bits <= 8 && r->codebook() && r->codebook()->size() >= 1 &&
                     r->codebook()->size() <= (1u << bits),
                 path_, ": ", at, ": bad palette (", bits, " bits, ", r->codebook() ? r->codebook()->size() : 0,
                 " codebook values, type ", dtype_name(dtype), ")");
      PITH_CHECK(r->size() == (numel * uint64_t(bits) + 7) / 8, path_, ": ", at, ": ", r->size(), " bytes for ", numel,
                 " indices of ", bits, " bits");
    } else {
      const uint64_t element = half ? 2 : dtype_size(dtype);
      PITH_CHECK(r->size() == numel * element, path_, ": ", at, ": ", r->size(), " bytes for shape ", shape_str(shape),
                 " of ", half ? "float16-coded float32" : dtype_name(dtype));
    }
    PITH_CHECK(r->segment() < segments_.size(), path_, ": ", at, ": segment ", r->segment(), " does not exist");
    const Bytes& seg = segments_[r->segment()];
    PITH_CHECK(r->offset() <= seg.size && r->size() <= seg.size - r->offset(), path_, ": ", at, ": bytes [",
               r->offset(), ", +", r->size(), ") lie outside its segment of ", seg.size, " bytes");
    void* p = const_cast<uint8_t*>(seg.data + r->offset());
    if (q4) {
      Tensor t(DType::Float32, shape);
      decode_q4(static_cast<const uint8_t*>(p), shape[0], int64_t(numel) / shape[0], block, t.data<float>());
      return t;
    }
    if (half) {  // widen to float32
      Tensor t(DType::Float32, shape);
      for (uint64_t i = 0; i < numel; ++i) {
        uint16_t h;
        std::memcpy(&h, static_cast<const uint8_t*>(p) + i * 2, 2);
        t.data<float>()[i] = half_to_float(h);
      }
      return t;
    }
    if (palette) {  // decode the indices through the codebook
      const auto* packed = static_cast<const uint8_t*>(p);
      const auto& codebook = *r->codebook();
      Tensor t(DType::Float32, shape);
      float* out = t.data<float>();
      const uint32_t mask = (1u << bits) - 1;
      for (uint64_t i = 0; i < numel; ++i) {
        const uint64_t bit = i * uint64_t(bits), byte = bit / 8;
        uint32_t word = packed[byte];
        if (byte + 1 < r->size()) word |= uint32_t(packed[byte + 1]) << 8;
        const uint32_t idx = (word >> (bit % 8)) & mask;
        PITH_CHECK(idx < codebook.size(), path_, ": ", at, ": palette index ", idx, " of element ", i,
                   " is past the codebook's ", codebook.size(), " values");
        out[i] = codebook[idx];
      }
      return t;
    }
    if (reinterpret_cast<uintptr_t>(p) % dtype_size(dtype) != 0) {  // unaligned: copy (writers align)
      Tensor t(dtype, shape);
      std::memcpy(t.raw(), p, r->size());
      return t;
    }
    return Tensor::view(dtype, shape, p, seg.owner);
  }

  ValueInfo value_info(const fb::ValueInfo* v) {
    ValueInfo info;
    info.name = v->name() ? v->name()->str() : "";
    info.dtype = DType(v->dtype());
    if (v->has_shape()) {
      std::vector<Dim> dims;
      if (v->shape())
        for (const fb::Dim* d : *v->shape()) dims.push_back(Dim{d->value(), d->param() ? d->param()->str() : ""});
      info.shape = dims;
    }
    return info;
  }

  Attribute attribute(const fb::Attribute* a, const std::string& where) {
    Attribute out;
    const int kind = int(a->kind());
    PITH_CHECK(kind >= 0 && kind <= int(Attribute::Kind::Graphs), path_, ": ", where, ": unknown attribute kind ",
               kind);
    out.kind = Attribute::Kind(kind);
    out.f = a->f();
    out.i = a->i();
    if (a->s()) out.s = a->s()->str();
    if (a->t()) out.t = tensor(a->t(), where);
    if (a->g()) out.g = std::make_shared<Graph>(graph(a->g(), where));
    if (a->floats()) out.floats.assign(a->floats()->begin(), a->floats()->end());
    if (aligned(a->ints(), where + " attribute ints")) out.ints.assign(a->ints()->begin(), a->ints()->end());
    if (a->strings())
      for (auto* s : *a->strings()) out.strings.push_back(s->str());
    if (a->tensors())
      for (auto* t : *a->tensors()) out.tensors.push_back(tensor(t, where));
    if (a->graphs())
      for (auto* g : *a->graphs()) out.graphs.push_back(std::make_shared<Graph>(graph(g, where)));
    return out;
  }

  Graph graph(const fb::Graph* fg, const std::string& where) {
    PITH_CHECK(fg, path_, ": ", where, ": missing graph");
    Graph g;
    g.name = fg->name() ? fg->name()->str() : "";
    g.opset = opset;
    g.domain_opsets = domain_opsets;
    auto strings = [](const flatbuffers::Vector<flatbuffers::Offset<flatbuffers::String>>* v) {
      std::vector<std::string> out;
      if (v)
        for (auto* s : *v) out.push_back(s->str());
      return out;
    };
    if (fg->initializers())
      for (auto* t : *fg->initializers()) g.initializers[t->name() ? t->name()->str() : ""] = tensor(t, where);
    if (fg->inputs())
      for (auto* v : *fg->inputs()) g.inputs.push_back(value_info(v));
    if (fg->outputs())
      for (auto* v : *fg->outputs()) g.outputs.push_back(value_info(v));
    if (fg->value_info())
      for (auto* v : *fg->value_info()) {
        ValueInfo info = value_info(v);
        g.value_info[info.name] = info;
      }
    if (fg->nodes())
      for (auto* n : *fg->nodes()) {
        Node node;
        node.name = n->name() ? n->name()->str() : "";
        node.op_type = n->op_type() ? n->op_type()->str() : "";
        node.domain = n->domain() ? n->domain()->str() : "";
        node.inputs = strings(n->inputs());
        node.outputs = strings(n->outputs());
        if (n->attributes())
          for (auto* a : *n->attributes())
            node.attributes[a->name() ? a->name()->str() : ""] = attribute(a, where + ": " + node.describe());
        g.nodes.push_back(std::move(node));
      }
    return g;
  }

  int64_t opset = 0;
  std::map<std::string, int64_t> domain_opsets;

 private:
  std::string path_;
  std::vector<Bytes> segments_;
};

// A graph description beyond this is not a model pith wrote (the weights are in segments).
constexpr uint64_t kMaxModelBytes = uint64_t(1) << 30;

std::shared_ptr<void> aligned_buffer(size_t bytes) {
  void* p = std::aligned_alloc(64, std::max<size_t>(64, (bytes + 63) / 64 * 64));
  if (!p) throw std::bad_alloc();
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}

}  // namespace

bool looks_like_artifact(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  char magic[4] = {};
  return f.read(magic, 4) && std::memcmp(magic, kMagic, 4) == 0;
}

Artifact read_file(const std::string& path) {
  std::shared_ptr<Mapping> map = map_file(path);
  const auto* base = static_cast<const uint8_t*>(map->data);
  PITH_CHECK(map->size >= sizeof(Header), path, ": too short for a .pith artifact (", map->size, " bytes)");
  Header h;
  std::memcpy(&h, base, sizeof h);
  PITH_CHECK(std::memcmp(h.magic, kMagic, 4) == 0, path, ": not a .pith artifact (bad magic)");
  PITH_CHECK(h.format_version == kFormatVersionPlainModel || h.format_version == kFormatVersion, path,
             ": .pith format version ", h.format_version, "; this pith reads versions ", kFormatVersionPlainModel,
             " and ", kFormatVersion);
  PITH_CHECK(
      h.model_offset >= sizeof(Header) && h.model_offset <= map->size && h.model_size <= map->size - h.model_offset,
      path, ": truncated or corrupt (the model lies outside the file)");
  PITH_CHECK(h.segments_offset % 64 == 0 && h.segments_offset >= h.model_offset + h.model_size &&
                 h.segments_offset <= map->size,
             path, ": corrupt (bad segment offset)");
  const uint8_t* model = base + h.model_offset;
  PITH_CHECK(XXH64(model, h.model_size, 0) == h.model_xxhash64, path, ": corrupt (model checksum mismatch)");
  size_t model_size = h.model_size;
  std::shared_ptr<void> decoded_model;  // the model's bytes when zstd-coded (version 2)
  if (h.format_version == kFormatVersion && h.model_raw_size != 0) {
    PITH_CHECK(h.model_raw_size <= kMaxModelBytes, path, ": corrupt (a model of ", h.model_raw_size, " bytes)");
    PITH_CHECK(ZSTD_getFrameContentSize(model, h.model_size) == h.model_raw_size, path,
               ": corrupt (the model's zstd frame size disagrees)");
    decoded_model = aligned_buffer(h.model_raw_size);
    const size_t n = ZSTD_decompress(decoded_model.get(), h.model_raw_size, model, h.model_size);
    PITH_CHECK(!ZSTD_isError(n) && n == h.model_raw_size, path, ": corrupt (the model does not decode)");
    model = static_cast<const uint8_t*>(decoded_model.get());
    model_size = h.model_raw_size;
  }
  flatbuffers::Verifier verifier(model, model_size);
  PITH_CHECK(fb::VerifyModelBuffer(verifier), path, ": corrupt (the FlatBuffers verifier rejects the model)");
  const fb::Model* m = fb::GetModel(model);

  std::vector<Bytes> segments;
  bool compressed = false;
  if (m->segments()) {
    for (const fb::Segment* s : *m->segments()) {
      const size_t i = segments.size();
      const uint64_t avail = map->size - h.segments_offset;
      PITH_CHECK(s->offset() % 64 == 0 && s->offset() <= avail && s->stored_size() <= avail - s->offset(), path,
                 ": truncated or corrupt (segment ", i, " lies outside the file)");
      const uint8_t* p = base + h.segments_offset + s->offset();
      PITH_CHECK(XXH64(p, s->stored_size(), 0) == s->xxhash64(), path, ": corrupt (segment ", i, " checksum mismatch)");
      Bytes b;
      if (s->compression() == fb::Compression::None) {
        PITH_CHECK(s->raw_size() == s->stored_size(), path, ": corrupt (segment ", i, " sizes disagree)");
        b.data = p;
        b.size = s->stored_size();
        b.owner = map;
      } else if (s->compression() == fb::Compression::Zstd) {
        compressed = true;
        const unsigned long long content = ZSTD_getFrameContentSize(p, s->stored_size());
        PITH_CHECK(content == s->raw_size(), path, ": corrupt (segment ", i, " zstd frame size disagrees)");
        PITH_CHECK(s->raw_size() < (uint64_t(1) << 40), path, ": segment ", i, " is too large");
        std::shared_ptr<void> owner = aligned_buffer(s->raw_size());
        void* out = owner.get();
        const size_t n = ZSTD_decompress(out, s->raw_size(), p, s->stored_size());
        PITH_CHECK(!ZSTD_isError(n) && n == s->raw_size(), path, ": corrupt (segment ", i, " does not decode)");
        b.data = static_cast<const uint8_t*>(out);
        b.size = s->raw_size();
        b.owner = owner;
      } else {
        fail(path, ": segment ", i, " uses an unknown compression (", int(s->compression()), ")");
      }
      segments.push_back(std::move(b));
    }
  }
  Reader reader(path, std::move(segments));
  reader.opset = m->opset();
  if (m->opsets())
    for (auto* o : *m->opsets()) reader.domain_opsets[o->domain() ? o->domain()->str() : ""] = o->version();
  Artifact a;
  a.format_version = h.format_version;
  a.compressed = compressed || decoded_model != nullptr;
  a.graph = reader.graph(m->graph(), "graph");
  if (m->metadata())
    for (auto* kv : *m->metadata())
      a.metadata[kv->key() ? kv->key()->str() : ""] = kv->value() ? kv->value()->str() : "";
  try {
    verify_and_sort(a.graph);
  } catch (const Error& e) {
    fail(path, ": ", e.what());
  }
  return a;
}

}  // namespace pith::artifact
