// The .pith artifact: graphs round-trip exactly (tensors of every storable type,
// attributes of every kind, subgraphs, symbolic dimensions, metadata), with and without
// zstd; and every kind of damage is an Error naming the file and the problem: bad magic,
// other format version, truncation, flipped bytes in the model or a segment, a model the
// FlatBuffers verifier rejects, tensor references outside their segment.
#include <gtest/gtest.h>

#include <cstring>
#include <filesystem>
#include <fstream>

#include "artifact/artifact.h"
#include "artifact/pith_generated.h"
#include "artifact/signature.h"
#include "runtime/session.h"
#include "test_util/op_runner.h"
#define XXH_INLINE_ALL
#include <xxhash.h>

namespace pith {
namespace {

using namespace test_util;
namespace fs = std::filesystem;

fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("pith_artifact_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d / name;
}

// x [N, 3] -> Gemm (w, b) -> Relu -> If(cond: then Identity, else Neg) -> y; tensors of
// several dtypes ride along as initializers.
Graph sample_graph() {
  Graph g;
  g.name = "sample";
  g.opset = 13;
  g.domain_opsets = {{"", 13}};
  g.inputs.push_back(ValueInfo{"x", DType::Float32, std::vector<Dim>{Dim{-1, "N"}, Dim{3, ""}}});
  g.outputs.push_back(ValueInfo{"y", DType::Float32, std::vector<Dim>{Dim{-1, "N"}, Dim{4, ""}}});
  g.value_info["h"] = ValueInfo{"h", DType::Float32, std::vector<Dim>{Dim{-1, "N"}, Dim{4, ""}}};
  g.initializers["w"] = uniform_tensor({4, 3}, 1);
  g.initializers["b"] = uniform_tensor({4}, 2);
  g.initializers["cond"] = Tensor::from_vector<bool>({true}, {});
  g.initializers["i8"] = Tensor::from_vector<int8_t>({-128, 0, 127}, {3});
  g.initializers["i64"] = Tensor::from_vector<int64_t>({-5, 1LL << 40}, {2});
  g.initializers["u8_empty"] = Tensor(DType::UInt8, {0, 7});
  Node gemm;
  gemm.name = "gemm";
  gemm.op_type = "Gemm";
  gemm.inputs = {"x", "w", "b"};
  gemm.outputs = {"h0"};
  gemm.attributes["transB"] = attr_int(1);
  gemm.attributes["alpha"] = attr_float(1.0f);
  gemm.attributes["note"] = attr_string("a string attribute");
  gemm.attributes["ints"] = attr_ints({1, -2, 3});
  gemm.attributes["floats"] = attr_floats({0.5f, -1.5f});
  gemm.attributes["strings"] = attr_strings({"a", "", "c"});
  gemm.attributes["tensor"] = attr_tensor(Tensor::from_vector<float>({1, 2, 3}, {3}));
  Node relu;
  relu.op_type = "Relu";
  relu.name = "relu";
  relu.inputs = {"h0"};
  relu.outputs = {"h"};
  auto branch = [](const std::string& op) {
    Graph b;
    b.name = op;
    b.opset = 13;
    b.outputs.push_back(ValueInfo{"out_" + op, DType::Float32, std::nullopt});
    Node n;
    n.op_type = op;
    n.inputs = {"h"};
    n.outputs = {"out_" + op};
    b.nodes.push_back(n);
    return b;
  };
  Node cond;
  cond.op_type = "If";
  cond.name = "if";
  cond.inputs = {"cond"};
  cond.outputs = {"y"};
  cond.attributes["then_branch"] = attr_graph(branch("Identity"));
  cond.attributes["else_branch"] = attr_graph(branch("Neg"));
  g.nodes = {gemm, relu, cond};
  return g;
}

void expect_same_graph(const Graph& a, const Graph& b) {
  ASSERT_EQ(a.nodes.size(), b.nodes.size());
  for (size_t i = 0; i < a.nodes.size(); ++i) {
    EXPECT_EQ(a.nodes[i].op_type, b.nodes[i].op_type);
    EXPECT_EQ(a.nodes[i].name, b.nodes[i].name);
    EXPECT_EQ(a.nodes[i].inputs, b.nodes[i].inputs);
    EXPECT_EQ(a.nodes[i].outputs, b.nodes[i].outputs);
    ASSERT_EQ(a.nodes[i].attributes.size(), b.nodes[i].attributes.size());
    for (auto& [key, at] : a.nodes[i].attributes) {
      const Attribute& bt = b.nodes[i].attributes.at(key);
      EXPECT_EQ(int(at.kind), int(bt.kind)) << key;
      EXPECT_EQ(at.i, bt.i) << key;
      EXPECT_EQ(at.f, bt.f) << key;
      EXPECT_EQ(at.s, bt.s) << key;
      EXPECT_EQ(at.ints, bt.ints) << key;
      EXPECT_EQ(at.floats, bt.floats) << key;
      EXPECT_EQ(at.strings, bt.strings) << key;
      if (at.t.defined()) expect_bitwise(bt.t, at.t, key);
      if (at.g) expect_same_graph(*at.g, *bt.g);
    }
  }
  ASSERT_EQ(a.initializers.size(), b.initializers.size());
  for (auto& [name, t] : a.initializers) expect_bitwise(b.initializers.at(name), t, name);
  ASSERT_EQ(a.inputs.size(), b.inputs.size());
  for (size_t i = 0; i < a.inputs.size(); ++i) {
    EXPECT_EQ(a.inputs[i].name, b.inputs[i].name);
    EXPECT_EQ(a.inputs[i].dtype, b.inputs[i].dtype);
    ASSERT_EQ(a.inputs[i].shape.has_value(), b.inputs[i].shape.has_value());
    if (a.inputs[i].shape)
      for (size_t d = 0; d < a.inputs[i].shape->size(); ++d) {
        EXPECT_EQ((*a.inputs[i].shape)[d].value, (*b.inputs[i].shape)[d].value);
        EXPECT_EQ((*a.inputs[i].shape)[d].param, (*b.inputs[i].shape)[d].param);
      }
  }
  EXPECT_EQ(a.outputs.size(), b.outputs.size());
  EXPECT_EQ(a.value_info.size(), b.value_info.size());
}

TEST(Artifact, RoundTripsAGraphExactlyWithAndWithoutZstd) {
  const Graph g = sample_graph();
  for (bool zstd : {false, true}) {
    const fs::path p = scratch(zstd ? "zstd.pith" : "plain.pith");
    artifact::WriteOptions o;
    o.zstd = zstd;
    o.metadata = {{"name", "sample"}, {"pith_version", "test"}};
    const artifact::WriteStats stats = artifact::write_file(g, p.string(), o);
    EXPECT_EQ(stats.file_bytes, fs::file_size(p));
    EXPECT_FALSE(fs::exists(p.string() + ".tmp"));
    EXPECT_TRUE(artifact::looks_like_artifact(p.string()));
    artifact::Artifact a = artifact::read_file(p.string());
    EXPECT_EQ(a.compressed, zstd);
    // With zstd the model (graph, tensor table, metadata) is coded too: format version 2.
    EXPECT_EQ(a.format_version, zstd ? artifact::kFormatVersion : artifact::kFormatVersionPlainModel);
    EXPECT_EQ(stats.stored_model_bytes < stats.model_bytes, zstd);
    EXPECT_EQ(a.metadata.at("name"), "sample");
    EXPECT_EQ(a.graph.opset, 13);
    expect_same_graph(g, a.graph);
    Tensor x = uniform_tensor({2, 3}, 3);
    Session s1(std::make_shared<Graph>(g)), s2(std::make_shared<Graph>(a.graph));
    expect_bitwise(s2.run({{"x", x}})[0], s1.run({{"x", x}})[0], zstd ? "zstd" : "plain");
  }
}

TEST(Artifact, ShortNamesKeepTheInterfaceAndTheResults) {
  const Graph g = sample_graph();
  const fs::path full = scratch("full_names.pith"), short_p = scratch("short_names.pith");
  artifact::write_file(g, full.string());
  artifact::WriteOptions o;
  o.short_names = true;
  artifact::write_file(g, short_p.string(), o);
  EXPECT_LT(fs::file_size(short_p), fs::file_size(full));
  artifact::Artifact a = artifact::read_file(short_p.string());
  EXPECT_EQ(a.graph.inputs[0].name, "x");
  EXPECT_EQ(a.graph.outputs[0].name, "y");
  EXPECT_EQ(a.graph.nodes[0].name, "");
  EXPECT_EQ(a.graph.initializers.count("w"), 0u);
  EXPECT_EQ(a.graph.initializers.size(), g.initializers.size());
  // The If branches read the outer value "h" under its new name.
  const std::string h = a.graph.nodes[1].outputs[0];
  EXPECT_NE(h, "h");
  EXPECT_EQ(a.graph.nodes[2].attributes.at("then_branch").g->nodes[0].inputs[0], h);
  EXPECT_EQ(g.nodes[2].attributes.at("then_branch").g->nodes[0].inputs[0], "h");  // the original is untouched
  Tensor x = uniform_tensor({2, 3}, 3);
  Session s1(std::make_shared<Graph>(g)), s2(std::make_shared<Graph>(a.graph));
  expect_bitwise(s2.run({{"x", x}})[0], s1.run({{"x", x}})[0], "short names");
}

TEST(Artifact, SegmentsAndTensorsAreAligned) {
  const fs::path p = scratch("aligned.pith");
  artifact::write_file(sample_graph(), p.string());
  artifact::Artifact a = artifact::read_file(p.string());
  for (auto& [name, t] : a.graph.initializers) {
    if (t.nbytes() == 0) continue;
    EXPECT_EQ(reinterpret_cast<uintptr_t>(t.raw()) % 16, 0u) << name;
  }
}

std::string read_bytes(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(f)), {});
}

fs::path write_bytes(const std::string& name, const std::string& bytes) {
  const fs::path p = scratch(name);
  std::ofstream(p, std::ios::binary) << bytes;
  return p;
}

void expect_rejected(const fs::path& p, const std::string& fragment) {
  try {
    artifact::read_file(p.string());
    FAIL() << "expected an error for " << p;
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find(p.string()), std::string::npos) << e.what();
  }
}

// The file with its model bytes replaced by a pattern and the model checksum made to match.
std::string with_garbage_model(const std::string& bytes) {
  artifact::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  std::string garbage = bytes;
  for (uint64_t i = 0; i < h.model_size; ++i) garbage[sizeof h + i] = char(0xA5 ^ (i * 7));
  h.model_xxhash64 = XXH64(garbage.data() + sizeof h, h.model_size, 0);
  std::memcpy(garbage.data(), &h, sizeof h);
  return garbage;
}

TEST(Artifact, DamageIsReportedNeverTrusted) {
  const fs::path good = scratch("good.pith");
  artifact::write_file(sample_graph(), good.string());
  const std::string bytes = read_bytes(good);
  artifact::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);

  std::string bad_magic = bytes;
  bad_magic[0] = 'X';
  expect_rejected(write_bytes("magic.pith", bad_magic), "bad magic");

  std::string version = bytes;
  const uint32_t v3 = 3;
  std::memcpy(&version[4], &v3, 4);
  expect_rejected(write_bytes("version.pith", version), "format version 3; this pith reads versions 1 and 2");

  expect_rejected(write_bytes("short.pith", bytes.substr(0, 20)), "too short");
  expect_rejected(write_bytes("cut_model.pith", bytes.substr(0, sizeof h + h.model_size / 2)), "truncated or corrupt");
  expect_rejected(write_bytes("cut_segment.pith", bytes.substr(0, bytes.size() - 8)), "segment 0 lies outside");

  std::string model_flip = bytes;
  model_flip[sizeof h + h.model_size / 2] ^= 0x40;
  expect_rejected(write_bytes("model_flip.pith", model_flip), "model checksum mismatch");

  std::string seg_flip = bytes;
  seg_flip[h.segments_offset + 3] ^= 0x01;
  expect_rejected(write_bytes("segment_flip.pith", seg_flip), "segment 0 checksum mismatch");

  // A model with a correct checksum that is not a valid FlatBuffer.
  expect_rejected(write_bytes("garbage.pith", with_garbage_model(bytes)), "FlatBuffers verifier");
}

TEST(Artifact, ACodedModelThatDoesNotDecodeIsRejected) {
  const fs::path good = scratch("coded_model.pith");
  artifact::WriteOptions o;
  o.zstd = true;
  artifact::write_file(sample_graph(), good.string(), o);
  const std::string bytes = read_bytes(good);
  artifact::Header h;
  std::memcpy(&h, bytes.data(), sizeof h);
  ASSERT_EQ(h.format_version, 2u);
  ASSERT_GT(h.model_raw_size, h.model_size);
  auto with_header = [&](const artifact::Header& changed) {
    std::string b = bytes;
    std::memcpy(b.data(), &changed, sizeof changed);
    return b;
  };
  artifact::Header wrong_size = h;
  wrong_size.model_raw_size += 1;
  expect_rejected(write_bytes("coded_size.pith", with_header(wrong_size)), "zstd frame size disagrees");
  artifact::Header huge = h;
  huge.model_raw_size = uint64_t(1) << 40;
  expect_rejected(write_bytes("coded_huge.pith", with_header(huge)), "a model of 1099511627776 bytes");
  // Bytes that checksum right but are no zstd frame.
  expect_rejected(write_bytes("coded_garbage.pith", with_garbage_model(bytes)), "zstd frame size disagrees");
}

TEST(Artifact, TensorReferencesOutsideTheirSegmentAreRejected) {
  // A well-formed, checksummed file whose one tensor claims bytes past its segment.
  flatbuffers::FlatBufferBuilder b;
  auto shape = b.CreateVector(std::vector<int64_t>{1000});
  auto t = fb::CreateTensorRef(b, b.CreateString("w"), int32_t(DType::Float32), shape, 0, 0, 4000);
  std::vector<flatbuffers::Offset<fb::TensorRef>> inits{t};
  auto graph = fb::CreateGraph(b, b.CreateString("g"), 0, 0, 0, 0, b.CreateVector(inits));
  const std::string seg(64, '\0');
  std::vector<flatbuffers::Offset<fb::Segment>> segs{
      fb::CreateSegment(b, 0, seg.size(), seg.size(), fb::Compression::None, XXH64(seg.data(), seg.size(), 0))};
  b.Finish(fb::CreateModel(b, 13, 0, graph, b.CreateVector(segs), 0), "PITH");
  artifact::Header h{};
  std::memcpy(h.magic, artifact::kMagic, 4);
  h.format_version = artifact::kFormatVersion;
  h.model_offset = sizeof h;
  h.model_size = b.GetSize();
  h.model_xxhash64 = XXH64(b.GetBufferPointer(), b.GetSize(), 0);
  h.segments_offset = (sizeof h + b.GetSize() + 63) / 64 * 64;
  std::string file(reinterpret_cast<const char*>(&h), sizeof h);
  file.append(reinterpret_cast<const char*>(b.GetBufferPointer()), b.GetSize());
  file.resize(h.segments_offset, '\0');
  file += seg;
  expect_rejected(write_bytes("outside.pith", file), "outside its segment");
}

TEST(Artifact, ExactHalvesAreStoredInSixteenBits) {
  Graph g = sample_graph();
  Tensor w = uniform_tensor({64, 3}, 9);
  for (int64_t i = 0; i < w.numel(); ++i) w.data<float>()[i] = half_to_float(float_to_half(w.data<float>()[i]));
  g.initializers["halves"] = w;  // 192 elements: too few, stays raw
  Tensor big = uniform_tensor({1024}, 10);
  for (int64_t i = 0; i < big.numel(); ++i) big.data<float>()[i] = half_to_float(float_to_half(big.data<float>()[i]));
  g.initializers["big_halves"] = big;                         // exact halves: 2 bytes each
  g.initializers["big_floats"] = uniform_tensor({1024}, 11);  // not halves: 4 bytes each
  const fs::path p = scratch("halves.pith");
  const artifact::WriteStats stats = artifact::write_file(g, p.string());
  const artifact::WriteStats plain = artifact::write_file(sample_graph(), scratch("plain_for_halves.pith").string());
  EXPECT_NEAR(double(stats.tensor_bytes - plain.tensor_bytes), 192 * 4 + 1024 * 2 + 1024 * 4, 3 * 64.0);
  artifact::Artifact a = artifact::read_file(p.string());
  for (const char* name : {"halves", "big_halves", "big_floats"})
    expect_bitwise(a.graph.initializers.at(name), g.initializers.at(name), name);
}

TEST(Artifact, WritingNowhereFailsCleanly) {
  const std::string p = (scratch("no_such_dir") / "x.pith").string();
  EXPECT_THROW(artifact::write_file(sample_graph(), p), Error);
  EXPECT_FALSE(fs::exists(p + ".tmp"));
}

}  // namespace
}  // namespace pith

namespace pith {
namespace {

TEST(ArtifactSignature, SignedFilesStillReadAndVerify) {
  const std::string key = scratch("unit_key").string();
  artifact::generate_keypair(key);
  const std::string p = scratch("signed_unit.pith").string();
  artifact::write_file(sample_graph(), p);
  EXPECT_EQ(artifact::check_signature(p, key + ".pub"), artifact::SignatureStatus::Unsigned);
  artifact::sign_file(p, key + ".key");
  EXPECT_EQ(artifact::check_signature(p, key + ".pub"), artifact::SignatureStatus::Valid);
  EXPECT_EQ(artifact::unsigned_size(p) + sizeof(artifact::SignatureTrailer), std::filesystem::file_size(p));
  artifact::Artifact a = artifact::read_file(p);  // the trailer does not disturb reading
  EXPECT_EQ(a.graph.nodes.size(), sample_graph().nodes.size());
}

}  // namespace
}  // namespace pith
