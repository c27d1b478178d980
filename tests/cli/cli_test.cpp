// The CLI's user-facing errors: every bad input ends with exit code 1 and one clear
// message naming the file, node or input at fault; never a crash. Models are built
// here with the ONNX protobuf API so each test shows exactly what is wrong.
#include <gtest/gtest.h>
#include <onnx/onnx_pb.h>

#include <sys/wait.h>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/npy.h"

namespace fs = std::filesystem;

namespace {

struct Result {
  int code = -1;
  std::string output;
};

fs::path scratch() {
  static fs::path dir = [] {
    fs::path d = fs::temp_directory_path() / ("pith_cli_test_" + std::to_string(::getpid()));
    fs::create_directories(d);
    return d;
  }();
  return dir;
}

Result run_pith(const std::string& args) {
  fs::path out = scratch() / "out.txt";
  std::string cmd = std::string(PITH_BINARY) + " " + args + " > " + out.string() + " 2>&1";
  int status = std::system(cmd.c_str());
  Result r;
  r.code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  std::ifstream f(out);
  r.output.assign(std::istreambuf_iterator<char>(f), {});
  return r;
}

onnx::ValueInfoProto tensor_value(const std::string& name, int elem, std::vector<int64_t> dims) {
  onnx::ValueInfoProto v;
  v.set_name(name);
  auto* t = v.mutable_type()->mutable_tensor_type();
  t->set_elem_type(elem);
  auto* shape = t->mutable_shape();
  for (auto d : dims) shape->add_dim()->set_dim_value(d);
  return v;
}

onnx::NodeProto node(const std::string& op, const std::string& name, std::vector<std::string> in,
                     std::vector<std::string> out, const std::string& domain = "") {
  onnx::NodeProto n;
  n.set_op_type(op);
  n.set_name(name);
  n.set_domain(domain);
  for (auto& i : in) n.add_input(i);
  for (auto& o : out) n.add_output(o);
  return n;
}

std::string save(const std::string& file, const onnx::GraphProto& g) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(13);
  *m.mutable_graph() = g;
  fs::path p = scratch() / file;
  std::ofstream f(p, std::ios::binary);
  m.SerializeToOstream(&f);
  return p.string();
}

// X[2,3] -> Relu -> Y
std::string relu_model() {
  onnx::GraphProto g;
  g.set_name("relu");
  *g.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {2, 3});
  *g.add_output() = tensor_value("Y", onnx::TensorProto::FLOAT, {2, 3});
  *g.add_node() = node("Relu", "relu1", {"X"}, {"Y"});
  return save("relu.onnx", g);
}

std::string npy(const std::string& file, const pith::Tensor& t) {
  fs::path p = scratch() / file;
  pith::write_npy(p.string(), t);
  return p.string();
}

std::string default_model() { return std::string(PITH_SOURCE_DIR) + "/models/fashion_cnn.onnx"; }

void expect_error(const Result& r, std::initializer_list<std::string> fragments) {
  EXPECT_EQ(r.code, 1) << r.output;
  for (auto& f : fragments) EXPECT_NE(r.output.find(f), std::string::npos) << "missing '" << f << "' in: " << r.output;
}

}  // namespace

TEST(Cli, RunsTheDefaultModelAndWritesOutputs) {
  fs::path dir = scratch() / "run_out";
  Result r = run_pith("run " + default_model() + " --input " + PITH_SOURCE_DIR + "/models/fashion_cnn_input.npy" +
                      " --output-dir " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  pith::Tensor y = pith::read_npy((dir / "0.npy").string());
  pith::Tensor want = pith::read_npy(std::string(PITH_SOURCE_DIR) + "/models/fashion_cnn_expected.npy");
  ASSERT_EQ(y.shape(), want.shape());
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y.data<float>()[i], want.data<float>()[i], 1e-4);
}

TEST(Cli, InspectReportsTheModel) {
  Result r = run_pith("inspect " + default_model() + " --json");
  ASSERT_EQ(r.code, 0) << r.output;
  for (auto f : {"\"parameters\"", "\"macs\"", "\"weight_bytes\"", "\"Conv\"", "\"unsupported\": []"})
    EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
}

TEST(Cli, InspectKernelsListsWhatTheSessionRuns) {
  Result r = run_pith("inspect " + default_model() + " --kernels");
  ASSERT_EQ(r.code, 0) << r.output;
  // After the graph passes: Conv+Relu fused, one key per line, sorted.
  EXPECT_EQ(r.output.substr(r.output.find('\n') + 1), "Flatten\nGemm\nMaxPool\npith.FusedConv\npith.FusedGemm\n");
  expect_error(run_pith("inspect " + default_model() + " --kernels --json"), {"--kernels and --json are exclusive"});
}

TEST(Cli, BenchPrintsJsonLast) {
  Result r = run_pith("bench " + default_model() + " --iterations 3 --warmup 1 --json");
  ASSERT_EQ(r.code, 0) << r.output;
  std::string last = r.output.substr(r.output.rfind('{'));
  for (auto f : {"median_ms", "min_ms", "p90_ms", "arena_bytes", "weights_bytes", "peak_memory_bytes"})
    EXPECT_NE(last.find(f), std::string::npos) << f;
}

TEST(CliErrors, FileThatIsNotOnnx) {
  fs::path p = scratch() / "notes.onnx";
  std::ofstream(p) << "this is a text file, not a model\n";
  expect_error(run_pith("inspect " + p.string()), {p.string(), "not a valid ONNX model"});
}

TEST(CliErrors, TruncatedOnnx) {
  std::ifstream in(default_model(), std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  fs::path p = scratch() / "truncated.onnx";
  std::ofstream(p, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size() / 2));
  expect_error(run_pith("run " + p.string()), {p.string(), "not a valid ONNX model"});
}

TEST(CliErrors, MissingFileAndBadUsage) {
  expect_error(run_pith("run /nonexistent/model.onnx"), {"/nonexistent/model.onnx", "no such file"});
  expect_error(run_pith("run " + relu_model() + " --bogus 3"), {"unknown option --bogus"});
  expect_error(run_pith("frobnicate"), {"unknown command 'frobnicate'"});
  expect_error(run_pith("bench " + relu_model() + " --iterations zero"), {"--iterations", "integer"});
}

TEST(CliErrors, UnsupportedOperatorsAreAllReportedUpFront) {
  onnx::GraphProto g;
  g.set_name("custom");
  *g.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {2});
  *g.add_output() = tensor_value("Z", onnx::TensorProto::FLOAT, {2});
  *g.add_node() = node("FancyOp", "fancy", {"X"}, {"Y"});
  *g.add_node() = node("Wobble", "wob", {"Y"}, {"Z"}, "com.example");
  std::string model = save("custom.onnx", g);
  std::string x = npy("x2.npy", pith::Tensor(pith::DType::Float32, {2}));
  expect_error(run_pith("run " + model + " --input " + x),
               {"2 unsupported operators", "FancyOp (node 'fancy', opset 13)", "com.example.Wobble (node 'wob'"});
  Result r = run_pith("inspect " + model);
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.output.find("FancyOp"), std::string::npos);
  // No runtime build could run it, so there is no kernel list to give.
  expect_error(run_pith("inspect " + model + " --kernels"), {"custom.onnx", "no kernel for FancyOp", "node 'fancy'"});
}

TEST(CliErrors, InputOfWrongShapeOrDtype) {
  std::string model = relu_model();
  expect_error(
      run_pith("run " + model + " --input " + npy("bad_shape.npy", pith::Tensor(pith::DType::Float32, {3, 2}))),
      {"input 'X'", "expected shape [2, 3]", "got [3, 2]"});
  expect_error(run_pith("run " + model + " --input " + npy("bad_type.npy", pith::Tensor(pith::DType::Int32, {2, 3}))),
               {"input 'X'", "expected element type float32", "got int32"});
  fs::path garbage = scratch() / "garbage.npy";
  std::ofstream(garbage) << "nope";
  expect_error(run_pith("run " + model + " --input " + garbage.string()), {garbage.string(), "not a .npy file"});
}

TEST(CliErrors, MissingAndExtraInputs) {
  onnx::GraphProto g;
  g.set_name("add");
  *g.add_input() = tensor_value("A", onnx::TensorProto::FLOAT, {2});
  *g.add_input() = tensor_value("B", onnx::TensorProto::FLOAT, {2});
  *g.add_output() = tensor_value("C", onnx::TensorProto::FLOAT, {2});
  *g.add_node() = node("Sum", "sum", {"A", "B"}, {"C"});
  std::string model = save("two_inputs.onnx", g);
  std::string a = npy("a.npy", pith::Tensor(pith::DType::Float32, {2}));
  expect_error(run_pith("run " + model + " --input " + a), {"missing input 'B'"});
  expect_error(run_pith("run " + model + " --input " + a + " --input " + a + " --input " + a), {"only 2 input(s)"});
  expect_error(run_pith("run " + model + " --input A=" + a + " --input Q=" + a), {"no input named 'Q'"});
}

TEST(CliErrors, GraphWithACycleOrADanglingValue) {
  onnx::GraphProto cyc;
  cyc.set_name("cycle");
  *cyc.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {2});
  *cyc.add_output() = tensor_value("Z", onnx::TensorProto::FLOAT, {2});
  *cyc.add_node() = node("Add", "first", {"X", "Z"}, {"Y"});
  *cyc.add_node() = node("Relu", "second", {"Y"}, {"Z"});
  expect_error(run_pith("inspect " + save("cycle.onnx", cyc)), {"cycle.onnx", "cycle through", "'first'"});

  onnx::GraphProto dang;
  dang.set_name("dangling");
  *dang.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {2});
  *dang.add_output() = tensor_value("Y", onnx::TensorProto::FLOAT, {2});
  *dang.add_node() = node("Add", "adder", {"X", "ghost"}, {"Y"});
  expect_error(run_pith("inspect " + save("dangling.onnx", dang)), {"dangling.onnx", "'adder'", "'ghost'"});
}

TEST(CliErrors, OutOfRangeGatherIndex) {
  onnx::GraphProto g;
  g.set_name("gather");
  *g.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {4});
  *g.add_input() = tensor_value("I", onnx::TensorProto::INT64, {1});
  *g.add_output() = tensor_value("Y", onnx::TensorProto::FLOAT, {1});
  *g.add_node() = node("Gather", "pick", {"X", "I"}, {"Y"});
  std::string model = save("gather.onnx", g);
  std::string x = npy("x4.npy", pith::Tensor(pith::DType::Float32, {4}));
  std::string idx = npy("idx.npy", pith::Tensor::from_vector<int64_t>({7}, {1}));
  expect_error(run_pith("run " + model + " --input X=" + x + " --input I=" + idx), {"Gather node 'pick'", "7"});
}

namespace {
std::string bundled(const std::string& file) { return std::string(PITH_SOURCE_DIR) + "/models/" + file; }
}  // namespace

TEST(Cli, CompressesTheDefaultModelToInt8AndEvaluatesIt) {
  const fs::path out = scratch() / "fashion_int8.onnx";
  const fs::path report = scratch() / "fashion_int8.json";
  Result r = run_pith("compress " + default_model() + " -o " + out.string() + " --quantize int8 --calibration " +
                      bundled("fashion_cnn_input.npy") + " --data " + bundled("fashion_cnn_input.npy") + " --labels " +
                      bundled("fashion_cnn_labels.npy") + " --report " + report.string());
  ASSERT_EQ(r.code, 0) << r.output;
  ASSERT_TRUE(fs::exists(out));
  EXPECT_FALSE(fs::exists(out.string() + ".tmp"));
  for (auto f : {"\"ratio\"", "\"quantized_layers\":4", "\"accuracy_before\":1", "\"accuracy_after\":1", "\"sqnr_db\""})
    EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
  std::ifstream rep(report);
  std::string text((std::istreambuf_iterator<char>(rep)), {});
  EXPECT_NE(text.find("\"techniques\""), std::string::npos) << text;
  // int8 weights: the file is close to 4x smaller.
  EXPECT_LT(fs::file_size(out) * 3.5, fs::file_size(default_model()));

  Result e = run_pith("eval " + out.string() + " --data " + bundled("fashion_cnn_input.npy") + " --labels " +
                      bundled("fashion_cnn_labels.npy") + " --reference " + default_model() + " --json");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("\"accuracy\":1,"), std::string::npos) << e.output;
  EXPECT_NE(e.output.find("\"agreement\":1,"), std::string::npos) << e.output;
}

TEST(Cli, CompressesTheDefaultModelToDynamicInt8) {
  for (const char* ext : {".pith", ".onnx"}) {
    const fs::path out = scratch() / (std::string("fashion_dynamic") + ext);
    Result r = run_pith("compress " + default_model() + " -o " + out.string() + " --quantize dynamic-int8 --data " +
                        bundled("fashion_cnn_input.npy") + " --labels " + bundled("fashion_cnn_labels.npy"));
    ASSERT_EQ(r.code, 0) << r.output;
    for (auto f : {"\"name\":\"dynamic-int8\"", "\"quantized_layers\":2", "\"accuracy_after\":1"})
      EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
    Result e = run_pith("eval " + out.string() + " --data " + bundled("fashion_cnn_input.npy") + " --labels " +
                        bundled("fashion_cnn_labels.npy") + " --json");
    ASSERT_EQ(e.code, 0) << e.output;
    EXPECT_NE(e.output.find("\"accuracy\":1,"), std::string::npos) << e.output;
  }
}

TEST(CliErrors, CompressRejectsBadCalibrationAndOptionsWithoutWritingAnything) {
  const fs::path out = scratch() / "never_written.onnx";
  const std::string base = "compress " + default_model() + " -o " + out.string() + " --quantize int8";
  const std::string calib = " --calibration " + bundled("fashion_cnn_input.npy");
  auto check = [&](const std::string& args, std::initializer_list<std::string> fragments) {
    expect_error(run_pith(args), fragments);
    EXPECT_FALSE(fs::exists(out)) << args;
    EXPECT_FALSE(fs::exists(out.string() + ".tmp")) << args;
  };
  check(base + " --calibration " + npy("calib_shape.npy", pith::Tensor(pith::DType::Float32, {4, 3, 28, 28})),
        {"calibration", "dimension 1 = 1"});
  check(base + " --calibration " + npy("calib_dtype.npy", pith::Tensor(pith::DType::Int64, {4, 1, 28, 28})),
        {"calibration data is int64", "float32"});
  check(base + " --calibration " + npy("calib_rank.npy", pith::Tensor(pith::DType::Float32, {4, 784})),
        {"calibration data has shape [4, 784]", "rank 4"});
  check(base + calib + " --calibration-method median", {"unknown calibration method 'median'"});
  check(base, {"needs --calibration"});
  check("compress " + default_model() + " -o " + out.string() + " --quantize int3" + calib, {"--quantize int3"});
  check("compress " + default_model() + " -o " + out.string() + " --quantize dynamic-int8" + calib,
        {"dynamic-int8 takes no --calibration"});
  check(base + calib + " --weight-bits 9", {"--weight-bits must be 7 or 8"});
  check(base + calib + " --percentile 20", {"--percentile must be a number in (50, 100]"});
  check("compress " + default_model() + " -o " + (scratch() / "x.bin").string() + " --quantize int8" + calib,
        {"output must end in .pith (artifact) or .onnx"});
  check(base + calib + " --entropy", {"--entropy needs a .pith output"});
  const std::string pith_out = (scratch() / "never_written.pith").string();
  auto check_pith = [&](const std::string& opts, std::initializer_list<std::string> fragments) {
    expect_error(run_pith("compress " + default_model() + " -o " + pith_out + " " + opts), fragments);
    EXPECT_FALSE(fs::exists(pith_out)) << opts;
  };
  check_pith("--prune 1.0", {"--prune must be a fraction in [0, 1)"});
  check_pith("--prune -0.2", {"--prune must be a fraction in [0, 1)"});
  check_pith("--prune half", {"--prune must be a fraction in [0, 1)"});
  check_pith("--prune 0.5 --prune-pattern 4:8", {"--prune-pattern must be unstructured or 2:4"});
  check_pith("--prune 0.5 --prune-allocation random", {"--prune-allocation must be uniform, global or erk"});
  check_pith("--cluster 1", {"--cluster must be in [2, 256]"});
  check_pith("--cluster 300", {"--cluster must be in [2, 256]"});
  check_pith("--cluster 16 --quantize int8" + calib, {"does not combine with --quantize"});
  check("compress " + default_model() + " -o " + out.string() + " --quantize fp16",
        {"--quantize fp16 needs a .pith output"});
  check_pith("--prune 0.5 --calibration " + npy("prune_calib.npy", pith::Tensor(pith::DType::Float32, {4, 3, 28, 28})),
             {"calibration", "dimension 1 = 1"});
  check("compress " + default_model() + " -o " + out.string() + " --quantize int4",
        {"--quantize int4 needs a .pith output"});
  check_pith("--quantize int4 --block 48", {"--block must be 16, 32, 64 or 128, got 48"});
  check_pith("--low-rank 1.5", {"--low-rank is the fraction of each layer's energy to keep, in (0, 1]"});
  check_pith("--low-rank 0", {"--low-rank is the fraction"});
  check_pith("--quantize int8 --block 64" + calib, {"--block goes with --quantize int4"});
  check_pith(
      "--quantize int4 --calibration " + npy("int4_calib.npy", pith::Tensor(pith::DType::Float32, {4, 3, 28, 28})),
      {"calibration", "dimension 1 = 1"});
  check("compress " + default_model() + " -o " + out.string(), {"nothing to do for an ONNX output"});
  check("compress " + default_model() + " --quantize int8" + calib, {"-o OUT is required"});
  check(base + calib + " --data " + bundled("fashion_cnn_input.npy") + " --labels " +
            npy("labels_short.npy", pith::Tensor(pith::DType::Int64, {3})),
        {"labels have 3 values", "8 predictions"});
}

TEST(CliErrors, EvalRejectsBadLabelsAndUsage) {
  const std::string base = "eval " + default_model() + " --data " + bundled("fashion_cnn_input.npy");
  expect_error(run_pith(base), {"--labels Y.npy", "--reference MODEL"});
  expect_error(run_pith("eval " + default_model() + " --labels " + bundled("fashion_cnn_labels.npy")),
               {"--data X.npy is required"});
  expect_error(run_pith(base + " --labels " + npy("labels3.npy", pith::Tensor(pith::DType::Int64, {3}))),
               {"3 labels for 8 samples"});
  pith::Tensor bad = pith::Tensor::from_vector<int64_t>({0, 1, 2, 3, 4, 5, 6, 12}, {8});
  expect_error(run_pith(base + " --labels " + npy("labels_range.npy", bad)), {"label 7 is 12", "10 classes"});
  expect_error(run_pith(base + " --labels " + npy("labels_float.npy", pith::Tensor(pith::DType::Float32, {8}))),
               {"labels are float32", "integers"});
  expect_error(run_pith("eval " + default_model() + " --data " +
                        npy("data_shape.npy", pith::Tensor(pith::DType::Float32, {2, 1, 5, 5})) + " --labels " +
                        npy("labels2.npy", pith::Tensor(pith::DType::Int64, {2}))),
               {"input 'input'", "expected shape [N, 1, 28, 28]", "got [2, 1, 5, 5]"});
}

// Real data: the default model quantized to int8 with 512 training images keeps its
// accuracy on the 10,000 Fashion-MNIST test images (scripts/test.sh writes the sets with
// tools/train_compress_models.py --data-only).
TEST(Cli, Int8KeepsTheDefaultModelsAccuracyOnTheTestSet) {
  const std::string dir = PITH_FASHION_DIR;
  ASSERT_TRUE(fs::exists(dir + "/test_images.npy"))
      << "run /usr/bin/python3 tools/train_compress_models.py --out build/fashion --data-only";
  const fs::path out = scratch() / "fashion_int8_full.onnx";
  Result r = run_pith("compress " + default_model() + " -o " + out.string() + " --quantize int8 --calibration " + dir +
                      "/calibration.npy --data " + dir + "/test_images.npy --labels " + dir + "/test_labels.npy");
  ASSERT_EQ(r.code, 0) << r.output;
  auto number = [&](const std::string& key) {
    const size_t at = r.output.find("\"" + key + "\":");
    EXPECT_NE(at, std::string::npos) << key << " in " << r.output;
    return at == std::string::npos ? 0.0 : std::stod(r.output.substr(at + key.size() + 3));
  };
  const double before = number("accuracy_before"), after = number("accuracy_after");
  EXPECT_NEAR(before, 0.9088, 1e-4);  // models/README.md
  EXPECT_GE(after, before - 0.005) << "int8 lost more than 0.5 points";
  EXPECT_GE(number("agreement"), 0.99);
  EXPECT_GE(number("sqnr_db"), 35.0);
}

TEST(Cli, CompressWritesAPithArtifactThatEveryCommandReads) {
  const fs::path out = scratch() / "fashion_int8.pith";
  Result r = run_pith("compress " + default_model() + " -o " + out.string() +
                      " --quantize int8 --entropy --calibration " + bundled("fashion_cnn_input.npy"));
  ASSERT_EQ(r.code, 0) << r.output;
  for (auto f : {"\"bits_per_weight\"", "\"name\":\"entropy\"", "\"name\":\"int8\""})
    EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
  EXPECT_LT(fs::file_size(out) * 3.9, fs::file_size(default_model()));  // int8 + zstd
  Result inspect = run_pith("inspect " + out.string());
  ASSERT_EQ(inspect.code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("pith.QConv"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("artifact   unsigned"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("techniques: [{\"name\":\"int8\""), std::string::npos) << inspect.output;
  const fs::path dir = scratch() / "pith_run_out";
  Result run = run_pith("run " + out.string() + " --input " + bundled("fashion_cnn_input.npy") + " --output-dir " +
                        dir.string());
  ASSERT_EQ(run.code, 0) << run.output;
  Result e = run_pith("eval " + out.string() + " --data " + bundled("fashion_cnn_input.npy") + " --labels " +
                      bundled("fashion_cnn_labels.npy") + " --json");
  ASSERT_EQ(e.code, 0) << e.output;
  EXPECT_NE(e.output.find("\"accuracy\":1,"), std::string::npos) << e.output;
  // fp16 weights: about half the size, the same predictions.
  const fs::path half = scratch() / "fashion_fp16.pith";
  Result h = run_pith("compress " + default_model() + " -o " + half.string() + " --quantize fp16 --data " +
                      bundled("fashion_cnn_input.npy") + " --labels " + bundled("fashion_cnn_labels.npy"));
  ASSERT_EQ(h.code, 0) << h.output;
  EXPECT_NE(h.output.find("\"name\":\"fp16\""), std::string::npos) << h.output;
  EXPECT_NE(h.output.find("\"accuracy_after\":1,"), std::string::npos) << h.output;
  EXPECT_LT(fs::file_size(half) * 1.9, fs::file_size(default_model()));
  // A float model converts to an artifact too, and back to ONNX-equal outputs.
  const fs::path fp32 = scratch() / "fashion_fp32.pith";
  ASSERT_EQ(run_pith("compress " + default_model() + " -o " + fp32.string()).code, 0);
  const fs::path dir2 = scratch() / "pith_run_fp32";
  ASSERT_EQ(run_pith("run " + fp32.string() + " --input " + bundled("fashion_cnn_input.npy") + " --output-dir " +
                     dir2.string())
                .code,
            0);
  pith::Tensor y = pith::read_npy((dir2 / "0.npy").string());
  pith::Tensor want = pith::read_npy(bundled("fashion_cnn_expected.npy"));
  for (int64_t i = 0; i < y.numel(); ++i) EXPECT_NEAR(y.data<float>()[i], want.data<float>()[i], 1e-4);
}

TEST(CliErrors, DamagedArtifact) {
  const fs::path good = scratch() / "to_damage.pith";
  ASSERT_EQ(run_pith("compress " + default_model() + " -o " + good.string()).code, 0);
  std::string bytes;
  {
    std::ifstream f(good, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  const fs::path bad = scratch() / "damaged.pith";
  std::ofstream(bad, std::ios::binary) << bytes.substr(0, bytes.size() - 100);
  expect_error(run_pith("run " + bad.string() + " --input " + bundled("fashion_cnn_input.npy")),
               {bad.string(), "truncated or corrupt"});
  bytes[bytes.size() - 50] ^= 0x10;
  std::ofstream(bad, std::ios::binary | std::ios::trunc) << bytes;
  expect_error(run_pith("inspect " + bad.string()), {bad.string(), "checksum mismatch"});
}

TEST(Cli, SignedArtifactsVerifyAndRun) {
  const std::string key = (scratch() / "signer").string();
  ASSERT_EQ(run_pith("keygen " + key).code, 0);
  EXPECT_EQ(fs::status(key + ".key").permissions() & fs::perms::others_read, fs::perms::none);
  const fs::path model = scratch() / "signed.pith";
  ASSERT_EQ(run_pith("compress " + default_model() + " -o " + model.string()).code, 0);
  const auto unsigned_bytes = fs::file_size(model);
  Result s = run_pith("sign " + model.string() + " --key " + key + ".key");
  ASSERT_EQ(s.code, 0) << s.output;
  EXPECT_EQ(fs::file_size(model), unsigned_bytes + 112);
  ASSERT_EQ(run_pith("sign " + model.string() + " --key " + key + ".key").code, 0);  // re-signing replaces
  EXPECT_EQ(fs::file_size(model), unsigned_bytes + 112);
  Result v = run_pith("verify " + model.string() + " --public-key " + key + ".pub");
  ASSERT_EQ(v.code, 0) << v.output;
  EXPECT_NE(v.output.find("signature valid"), std::string::npos) << v.output;
  Result r = run_pith("run " + model.string() + " --input " + bundled("fashion_cnn_input.npy") + " --public-key " +
                      key + ".pub");
  EXPECT_EQ(r.code, 0) << r.output;
  Result i = run_pith("inspect " + model.string() + " --json");
  ASSERT_EQ(i.code, 0) << i.output;
  EXPECT_NE(i.output.find("\"signed\": true"), std::string::npos) << i.output;
  EXPECT_NE(i.output.find("\"source\": \"fashion_cnn.onnx\""), std::string::npos) << i.output;
}

TEST(CliErrors, UnsignedOrTamperedArtifactsAreRefused) {
  const std::string key = (scratch() / "refuser").string(), other = (scratch() / "other").string();
  ASSERT_EQ(run_pith("keygen " + key).code, 0);
  ASSERT_EQ(run_pith("keygen " + other).code, 0);
  const fs::path model = scratch() / "to_sign.pith";
  ASSERT_EQ(run_pith("compress " + default_model() + " -o " + model.string()).code, 0);
  expect_error(run_pith("verify " + model.string() + " --public-key " + key + ".pub"), {"not signed"});
  expect_error(run_pith("run " + model.string() + " --input " + bundled("fashion_cnn_input.npy") + " --public-key " +
                        key + ".pub"),
               {model.string(), "not signed"});
  ASSERT_EQ(run_pith("sign " + model.string() + " --key " + key + ".key").code, 0);
  expect_error(run_pith("verify " + model.string() + " --public-key " + other + ".pub"), {"signed by another key"});
  std::string bytes;
  {
    std::ifstream f(model, std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(f), {});
  }
  bytes[100] ^= 0x01;  // inside the model description
  const fs::path tampered = scratch() / "tampered.pith";
  std::ofstream(tampered, std::ios::binary) << bytes;
  expect_error(run_pith("verify " + tampered.string() + " --public-key " + key + ".pub"),
               {"signature does not match the contents"});
  expect_error(run_pith("bench " + tampered.string() + " --public-key " + key + ".pub"), {"does not match"});
  expect_error(run_pith("run " + default_model() + " --public-key " + key + ".pub"),
               {"--public-key needs a signed .pith artifact"});
  expect_error(run_pith("sign " + default_model() + " --key " + key + ".key"), {"not a .pith artifact"});
  expect_error(run_pith("sign " + model.string() + " --key " + key + ".pub"), {"not a secret key"});
  expect_error(run_pith("sign " + model.string()), {"usage: pith sign"});
}

namespace {

// The first n Fashion-MNIST test images and labels (build/fashion, made by scripts/test.sh).
std::pair<std::string, std::string> fashion_subset(int64_t n) {
  const std::string dir = PITH_FASHION_DIR;
  pith::Tensor images = pith::read_npy(dir + "/test_images.npy"), labels = pith::read_npy(dir + "/test_labels.npy");
  pith::Shape is = images.shape(), ls = labels.shape();
  is[0] = ls[0] = n;
  return {npy("deploy_images.npy", pith::Tensor::view(images.dtype(), is, images.raw())),
          npy("deploy_labels.npy", pith::Tensor::view(labels.dtype(), ls, labels.raw()))};
}

// input [N,1,8,8] -> Conv 3x3 (4, pads 1) -> Relu -> Flatten -> Gemm 256x10 -> logits, with
// fixed pseudo-random weights, and matching random images: a model every deploy candidate
// builds in milliseconds.
std::pair<std::string, std::string> tiny_cnn_and_data() {
  uint32_t state = 12345;
  auto next = [&] {
    state = state * 1664525u + 1013904223u;
    return float(state >> 8) / float(1 << 24) - 0.5f;
  };
  auto init = [&](onnx::GraphProto& g, const std::string& name, std::vector<int64_t> dims) {
    onnx::TensorProto* t = g.add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    int64_t n = 1;
    for (auto d : dims) t->add_dims(d), n *= d;
    for (int64_t i = 0; i < n; ++i) t->add_float_data(next());
  };
  onnx::GraphProto g;
  g.set_name("tiny_cnn");
  auto in = tensor_value("input", onnx::TensorProto::FLOAT, {1, 1, 8, 8});
  in.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
  *g.add_input() = in;
  auto out = tensor_value("logits", onnx::TensorProto::FLOAT, {1, 10});
  out.mutable_type()->mutable_tensor_type()->mutable_shape()->mutable_dim(0)->set_dim_param("N");
  *g.add_output() = out;
  init(g, "w1", {4, 1, 3, 3});
  init(g, "b1", {4});
  init(g, "w2", {10, 256});
  init(g, "b2", {10});
  auto conv = node("Conv", "conv", {"input", "w1", "b1"}, {"c"});
  auto* pads = conv.add_attribute();
  pads->set_name("pads");
  pads->set_type(onnx::AttributeProto::INTS);
  for (int i = 0; i < 4; ++i) pads->add_ints(1);
  *g.add_node() = conv;
  *g.add_node() = node("Relu", "relu", {"c"}, {"r"});
  *g.add_node() = node("Flatten", "flatten", {"r"}, {"f"});
  auto gemm = node("Gemm", "fc", {"f", "w2", "b2"}, {"logits"});
  auto* tb = gemm.add_attribute();
  tb->set_name("transB");
  tb->set_type(onnx::AttributeProto::INT);
  tb->set_i(1);
  *g.add_node() = gemm;
  pith::Tensor x(pith::DType::Float32, {64, 1, 8, 8});
  for (int64_t i = 0; i < x.numel(); ++i) x.data<float>()[i] = next() + 0.5f;
  return {save("tiny_cnn.onnx", g), npy("tiny_images.npy", x)};
}

std::string read_text(const fs::path& p) {
  std::ifstream f(p);
  return std::string(std::istreambuf_iterator<char>(f), {});
}

}  // namespace

TEST(Cli, ProfilesListsTheDevicesAndTheSourceOfEachFigure) {
  Result all = run_pith("profiles");
  ASSERT_EQ(all.code, 0) << all.output;
  for (auto name : {"android-snapdragon-8-gen-2", "iphone-a16", "raspberry-pi-4", "raspberry-pi-5", "jetson-nano",
                    "jetson-orin-nano", "intel-nuc", "cortex-m4", "cortex-m7", "esp32-s3", "arduino-nano-33-ble-sense"})
    EXPECT_NE(all.output.find(name), std::string::npos) << name << " in " << all.output;
  Result one = run_pith("profiles cortex-m4");
  ASSERT_EQ(one.code, 0) << one.output;
  for (auto f : {"ultra_low", "192 KiB", "sources", "int8_gops_per_core:"})
    EXPECT_NE(one.output.find(f), std::string::npos) << f << " in " << one.output;
  expect_error(run_pith("profiles toaster"), {"unknown target profile 'toaster'", "cortex-m4"});
}

TEST(Cli, DeployFindsAnArtifactThatFitsAndReportsTheSearch) {
  ASSERT_TRUE(fs::exists(std::string(PITH_FASHION_DIR) + "/test_images.npy"))
      << "run /usr/bin/python3 tools/train_compress_models.py --out build/fashion --data-only";
  auto [images, labels] = fashion_subset(500);
  const fs::path dir = scratch() / "deploy_m4";
  // The default model is 415 KiB of fp32 weights: a 100 KiB budget needs compression.
  Result r =
      run_pith("deploy " + default_model() + " --target cortex-m4 --max-size-mb 0.1 --max-accuracy-drop 1.5" +
               " --optimize size --iterations 5 --data " + images + " --labels " + labels + " -o " + dir.string());
  ASSERT_EQ(r.code, 0) << r.output;
  EXPECT_NE(r.output.find("deploy: [1] fp32"), std::string::npos) << r.output;  // progress on stderr
  ASSERT_TRUE(fs::exists(dir / "model.pith"));
  EXPECT_LE(fs::file_size(dir / "model.pith"), 0.1 * 1024 * 1024);
  const std::string json = read_text(dir / "report.json");
  for (auto f : {"\"status\": \"chosen\"", "\"status\": \"rejected\"", "\"target_latency_ms\"", "\"energy_mj\"",
                 "\"memory_bytes\"", "size 417", "(--max-size-mb)", "\"name\": \"cortex-m4\""})
    EXPECT_NE(json.find(f), std::string::npos) << f << " in report.json";
  const std::string html = read_text(dir / "report.html");
  EXPECT_NE(html.find("<svg"), std::string::npos);
  EXPECT_NE(html.find("Fits: candidate"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir / (".candidates-" + std::to_string(::getpid()))));
  for (auto& e : fs::directory_iterator(dir))
    EXPECT_EQ(e.path().filename().string().rfind(".candidates", 0), std::string::npos) << "left behind: " << e.path();

  // The artifact runs, says what it was made for, and scores what the report says.
  Result inspect = run_pith("inspect " + (dir / "model.pith").string());
  ASSERT_EQ(inspect.code, 0) << inspect.output;
  EXPECT_NE(inspect.output.find("target: cortex-m4"), std::string::npos) << inspect.output;
  EXPECT_NE(inspect.output.find("metrics: {"), std::string::npos) << inspect.output;
}

TEST(CliErrors, DeployExitsThreeWhenNothingFitsAndNamesTheBudgets) {
  auto [model, images] = tiny_cnn_and_data();
  const fs::path dir = scratch() / "deploy_impossible";
  fs::create_directories(dir);
  std::ofstream(dir / "model.pith") << "from an earlier run";  // must not survive a run that chose nothing
  // No labels: scored by agreement with the fp32 model, which only fp32 itself fully meets.
  Result r = run_pith("deploy " + model + " --target cortex-m4 --max-size-mb 0.001 --max-latency-ms 0.000001" +
                      " --iterations 3 --data " + images + " -o " + dir.string());
  EXPECT_EQ(r.code, 3) << r.output;
  for (auto f : {"nothing fits cortex-m4", "closest:", "size ", "(--max-size-mb)", "latency ", "(--max-latency-ms)"})
    EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
  EXPECT_FALSE(fs::exists(dir / "model.pith"));
  EXPECT_NE(read_text(dir / "report.json").find("\"result\": \"nothing fits\""), std::string::npos);
  EXPECT_NE(read_text(dir / "report.html").find("Nothing fits"), std::string::npos);
}

TEST(CliErrors, DeployRejectsBadOptionsAndProfiles) {
  auto [m, images] = tiny_cnn_and_data();
  const std::string data = " --data " + images, out = " -o " + (scratch() / "dep_bad").string();
  pith::Tensor labels_tensor(pith::DType::Int64, {64});
  const std::string labels = npy("tiny_labels.npy", labels_tensor);
  expect_error(run_pith("deploy " + m + data + out), {"--target PROFILE is required"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4" + out), {"--data X.npy is required"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4" + data), {"-o DIR is required"});
  expect_error(run_pith("deploy " + m + " --target mainframe" + data + out),
               {"unknown target profile 'mainframe'", "raspberry-pi-4"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4 --max-size-mb -2" + data + out),
               {"--max-size-mb must be a positive number, got '-2'"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4 --min-accuracy 120" + data + out),
               {"--min-accuracy is a percentage"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4 --optimize cost" + data + out),
               {"--optimize must be speed, size or balanced, got 'cost'"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4" + data + " -o " + images), {"is not a directory"});
  expect_error(run_pith("deploy " + m + " --target cortex-m4 --data " + labels + out),
               {"the data does not fit the model: data is int64 but model input 'input' takes float32"});
  // A profile file with a field missing, and one that is not JSON.
  const fs::path broken = scratch() / "broken.json";
  std::ofstream(broken) << R"({"name": "x", "description": "d", "kind": "mcu", "ram": "64 KiB"})";
  expect_error(run_pith("deploy " + m + " --target " + broken.string() + data + out),
               {broken.string(), "missing field \"storage\""});
  const fs::path garbage = scratch() / "garbage.json";
  std::ofstream(garbage) << "{ram: lots";
  expect_error(run_pith("profiles " + garbage.string()), {garbage.string(), "not valid JSON"});
  const fs::path units = scratch() / "units.json";
  std::ofstream(units) << R"({"name": "x", "description": "d", "kind": "mcu", "ram": "64 parsecs"})";
  expect_error(run_pith("profiles " + units.string()), {"\"ram\"", "unknown unit 'parsecs'"});
}

TEST(Cli, ExportWritesACSourceAndHeader) {
  auto [model, images] = tiny_cnn_and_data();
  const fs::path dir = scratch() / "export_c";
  Result r = run_pith("export " + model + " --format c -o " + dir.string() + " --name tiny");
  ASSERT_EQ(r.code, 0) << r.output;
  for (auto f : {"\"arena_bytes\":", "\"kernels\":[\"activation.c\"", "conv_f32.c", "gemm_f32.c"})
    EXPECT_NE(r.output.find(f), std::string::npos) << f << " in " << r.output;
  const std::string h = read_text(dir / "tiny.h"), c = read_text(dir / "tiny.c");
  EXPECT_NE(h.find("#define TINY_INPUT_ELEMENTS 64"), std::string::npos) << h;
  EXPECT_NE(h.find("#define TINY_OUTPUT_ELEMENTS 10"), std::string::npos) << h;
  EXPECT_NE(c.find("int tiny_run(const float* input, float* output) {"), std::string::npos);
}

TEST(CliErrors, ExportRejectsBadFormatsNamesAndModels) {
  auto [model, images] = tiny_cnn_and_data();
  const std::string out = " -o " + (scratch() / "export_bad").string();
  expect_error(run_pith("export " + model + out), {"--format must be c or onnx, got ''"});
  expect_error(run_pith("export " + model + " --format rust" + out), {"--format must be c or onnx, got 'rust'"});
  expect_error(run_pith("export " + model + " --format c"), {"-o is required"});
  expect_error(run_pith("export " + model + " --format c -o " + images), {"exists and is not a directory"});
  expect_error(run_pith("export " + model + " --format c --name 3d" + out), {"'3d' is not a C identifier"});
  expect_error(run_pith("export " + model + " --format onnx -o " + (scratch() / "x.txt").string()),
               {"must end in .onnx"});
  // A model with an operator the C export has no kernel for.
  onnx::GraphProto g;
  g.set_name("soft");
  *g.add_input() = tensor_value("X", onnx::TensorProto::FLOAT, {1, 10});
  *g.add_output() = tensor_value("Y", onnx::TensorProto::FLOAT, {1, 10});
  *g.add_node() = node("Softmax", "probabilities", {"X"}, {"Y"});
  expect_error(run_pith("export " + save("softmax.onnx", g) + " --format c" + out),
               {"C export cannot handle 1 node(s)", "probabilities", "no C kernel for this operator"});
  EXPECT_FALSE(fs::exists(scratch() / "export_bad" / "model.c"));
}

TEST(CliErrors, ServeRefusesBadFoldersSettingsAndOptions) {
  expect_error(run_pith("serve"), {"usage: pith serve --models DIR"});
  expect_error(run_pith("serve --models /nonexistent/models"), {"--models /nonexistent/models: not a folder"});
  const fs::path dir = scratch() / "serve_models";
  fs::create_directories(dir);
  Result c = run_pith("compress " + relu_model() + " -o " + (dir / "relu.pith").string());
  ASSERT_EQ(c.code, 0) << c.output;
  expect_error(run_pith("serve --models " + dir.string() + " --port 70000"), {"--port must be in [0, 65535]"});
  expect_error(run_pith("serve --models " + dir.string() + " --workers 0"), {"--workers"});
  expect_error(run_pith("serve --models " + dir.string() + " --deadline-ms -1"), {"--deadline-ms must be a positive"});
  std::ofstream(dir / "relu.json") << R"({"workers": 2, "colour": "blue"})";
  expect_error(run_pith("serve --models " + dir.string()), {"relu.json", "unknown setting \"colour\""});
  std::ofstream(dir / "relu.json") << R"({"workers": 2,)";
  expect_error(run_pith("serve --models " + dir.string()), {"relu.json", "not valid JSON"});
  std::ofstream(dir / "relu.json") << R"({"input_pipeline": {"height": 8, "width": 8, "resize": "cubic"}})";
  expect_error(run_pith("serve --models " + dir.string()), {"model 'relu'", "resize"});
  fs::remove(dir / "relu.json");
  std::ofstream(dir / "broken.pith") << "PITH not really";
  expect_error(run_pith("serve --models " + dir.string()), {"model 'broken'", "broken.pith"});
}

TEST(CliErrors, CompressChecksServingPipelinesAndStoresThem) {
  const fs::path dir = scratch() / "pipelines";
  fs::create_directories(dir);
  std::ofstream(dir / "in.json") << R"({"channels": 1, "height": 2, "width": 3, "layout": "NHWC"})";
  std::ofstream(dir / "out.json") << R"({"kind": "classification", "top_k": 2, "labels": ["a", "b"]})";
  std::ofstream(dir / "bad.json") << R"({"kind": "segmentation"})";
  const std::string out = (dir / "relu.pith").string();
  expect_error(
      run_pith("compress " + relu_model() + " -o " + out + " --output-pipeline " + (dir / "bad.json").string()),
      {"--output-pipeline", "bad.json", "kind"});
  expect_error(run_pith("compress " + relu_model() + " -o " + (dir / "relu.onnx").string() + " --input-pipeline " +
                        (dir / "in.json").string()),
               {"need a .pith output"});
  EXPECT_FALSE(fs::exists(out));
  Result r = run_pith("compress " + relu_model() + " -o " + out + " --input-pipeline " + (dir / "in.json").string() +
                      " --output-pipeline " + (dir / "out.json").string());
  ASSERT_EQ(r.code, 0) << r.output;
  std::ifstream f(out, std::ios::binary);
  const std::string bytes(std::istreambuf_iterator<char>(f), {});
  EXPECT_NE(bytes.find("input_pipeline"), std::string::npos);
  EXPECT_NE(bytes.find("\"layout\":\"NHWC\""), std::string::npos);
  EXPECT_NE(bytes.find("\"kind\":\"classification\""), std::string::npos);
}
