// ONNX import: constants folded, unused initializers dropped, external data read,
// opset limits and malformed tensors reported with the file and tensor named.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

#include "onnx/import.h"

namespace fs = std::filesystem;
using namespace pith;

namespace {

fs::path temp_dir() {
  fs::path d = fs::temp_directory_path() / ("pith_import_test_" + std::to_string(::getpid()));
  fs::create_directories(d);
  return d;
}

onnx::ValueInfoProto value(const std::string& name, std::vector<int64_t> dims) {
  onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(onnx::TensorProto::FLOAT);
  for (auto d : dims) t->mutable_shape()->add_dim()->set_dim_value(d);
  return v;
}

onnx::ModelProto model_with(onnx::GraphProto g, int64_t opset = 13) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_version(opset);
  *m.mutable_graph() = std::move(g);
  return m;
}

std::string bytes_of(const onnx::ModelProto& m) {
  std::string s;
  m.SerializeToString(&s);
  return s;
}

}  // namespace

TEST(OnnxImport, FoldsConstantsAndDropsUnusedInitializers) {
  onnx::GraphProto g;
  g.set_name("g");
  *g.add_input() = value("X", {2});
  *g.add_output() = value("Y", {2});
  auto* c = g.add_node();
  c->set_op_type("Constant");
  c->add_output("C");
  auto* attr = c->add_attribute();
  attr->set_name("value_floats");
  attr->set_type(onnx::AttributeProto::FLOATS);
  attr->add_floats(1.5f);
  attr->add_floats(-2.f);
  auto* add = g.add_node();
  add->set_op_type("Add");
  add->add_input("X");
  add->add_input("C");
  add->add_output("Y");
  auto* unused = g.add_initializer();
  unused->set_name("W_unused");
  unused->set_data_type(onnx::TensorProto::FLOAT);
  unused->add_dims(1);
  unused->add_float_data(3.f);

  Graph graph = onnx_import::import_bytes(bytes_of(model_with(g)), "m.onnx", ".");
  ASSERT_EQ(graph.nodes.size(), 1u);
  EXPECT_EQ(graph.nodes[0].op_type, "Add");
  ASSERT_TRUE(graph.initializers.count("C"));
  EXPECT_EQ(graph.initializers.at("C").data<float>()[1], -2.f);
  EXPECT_FALSE(graph.initializers.count("W_unused"));
  EXPECT_EQ(graph.opset, 13);
}

TEST(OnnxImport, ReadsExternalData) {
  fs::path dir = temp_dir();
  float values[3] = {1.f, 2.f, 3.f};
  {
    std::ofstream f(dir / "weights.bin", std::ios::binary);
    f.write("padding!", 8);
    f.write(reinterpret_cast<const char*>(values), sizeof values);
  }
  onnx::GraphProto g;
  g.set_name("g");
  *g.add_input() = value("X", {3});
  *g.add_output() = value("Y", {3});
  auto* add = g.add_node();
  add->set_op_type("Add");
  add->add_input("X");
  add->add_input("W");
  add->add_output("Y");
  auto* w = g.add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(3);
  w->set_data_location(onnx::TensorProto::EXTERNAL);
  auto kv = [&](const char* k, const std::string& v) {
    auto* e = w->add_external_data();
    e->set_key(k);
    e->set_value(v);
  };
  kv("location", "weights.bin");
  kv("offset", "8");
  kv("length", "12");
  {
    std::ofstream f(dir / "ext.onnx", std::ios::binary);
    model_with(g).SerializeToOstream(&f);
  }
  Graph graph = onnx_import::import_file((dir / "ext.onnx").string());
  const Tensor& t = graph.initializers.at("W");
  EXPECT_EQ(t.data<float>()[2], 3.f);

  // A location outside the model's folder is refused.
  w->mutable_external_data(0)->set_value("../../etc/passwd");
  EXPECT_THROW(onnx_import::import_bytes(bytes_of(model_with(g)), "evil.onnx", dir.string()), Error);
  // A short file is an error naming the tensor.
  w->mutable_external_data(0)->set_value("weights.bin");
  w->mutable_external_data(1)->set_value("16");
  try {
    onnx_import::import_bytes(bytes_of(model_with(g)), "short.onnx", dir.string());
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("'W'"), std::string::npos) << e.what();
  }
}

TEST(OnnxImport, RejectsTooNewOpsetAndBadTensors) {
  onnx::GraphProto g;
  g.set_name("g");
  *g.add_input() = value("X", {2});
  *g.add_output() = value("X", {2});
  EXPECT_THROW(onnx_import::import_bytes(bytes_of(model_with(g, 99)), "new.onnx", "."), Error);

  auto* w = g.add_initializer();
  w->set_name("W");
  w->set_data_type(onnx::TensorProto::FLOAT);
  w->add_dims(4);
  w->set_raw_data(std::string(7, '\0'));  // 4 floats need 16 bytes
  auto* n = g.add_node();
  n->set_op_type("Add");
  n->add_input("X");
  n->add_input("W");
  n->add_output("Z");
  try {
    onnx_import::import_bytes(bytes_of(model_with(g)), "bad.onnx", ".");
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("bad.onnx"), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("16"), std::string::npos) << e.what();
  }
}

TEST(OnnxImport, ShapeInferenceFillsIntermediateShapes) {
  onnx::GraphProto g;
  g.set_name("g");
  *g.add_input() = value("X", {2, 3});
  *g.add_output() = value("Z", {});
  g.mutable_output(0)->mutable_type()->mutable_tensor_type()->clear_shape();
  auto* r = g.add_node();
  r->set_op_type("Relu");
  r->add_input("X");
  r->add_output("Y");
  auto* t = g.add_node();
  t->set_op_type("Transpose");
  t->add_input("Y");
  t->add_output("Z");
  Graph graph = onnx_import::import_bytes(bytes_of(model_with(g)), "m.onnx", ".");
  const ValueInfo* y = graph.find_value_info("Y");
  ASSERT_TRUE(y && y->shape);
  EXPECT_EQ((*y->shape)[1].value, 3);
  const ValueInfo* z = graph.find_value_info("Z");
  ASSERT_TRUE(z && z->shape);
  EXPECT_EQ((*z->shape)[0].value, 3);
}
