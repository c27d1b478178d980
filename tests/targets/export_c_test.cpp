// The C export of small graphs: what the files declare, that only the kernels used are
// emitted, that the arena is the memory plan's, and that what it cannot export is named
// (every node at once). The numbers themselves are checked on a Cortex-M4 under QEMU
// (scripts/test-cortex-m4.sh: int8 bit for bit, float32 within 1e-5 of the runtime).
#include <gtest/gtest.h>

#include "compress/quantize/int8.h"
#include "targets/codegen_c/export_c.h"
#include "test_util/small_cnn.h"

namespace pith::targets {
namespace {

using namespace test_util;

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

TEST(ExportC, FloatModelDeclaresItsSizesAndOnlyItsKernels) {
  const Graph g = small_cnn();  // Conv+Relu, MaxPool, Flatten, Gemm+Relu, Gemm
  CExportOptions o;
  o.name = "small";
  o.source = "small_cnn";
  const CExport e = export_c(g, o);
  EXPECT_EQ(e.input_elements, 2 * 12 * 12);
  EXPECT_EQ(e.output_elements, 5);
  EXPECT_TRUE(contains(e.header, "#define SMALL_INPUT_ELEMENTS 288"));
  EXPECT_TRUE(contains(e.header, "#define SMALL_OUTPUT_ELEMENTS 5"));
  EXPECT_TRUE(contains(e.header, "#define SMALL_ARENA_BYTES " + std::to_string(e.arena_bytes)));
  EXPECT_TRUE(contains(e.header, "int small_run(const float* input, float* output);"));
  EXPECT_TRUE(contains(e.source, "static const float k0["));
  EXPECT_TRUE(contains(e.source, "static union {"));
  EXPECT_TRUE(contains(e.source, "pith_conv_f32(") && contains(e.source, "pith_gemm_f32("));
  EXPECT_FALSE(contains(e.source, "pith_qconv(") || contains(e.source, "pith_round_saturate"));
  EXPECT_FALSE(contains(e.source, "malloc") || contains(e.source, "printf"));
  EXPECT_EQ(e.kernels, (std::vector<std::string>{"activation.c", "conv_shape.c", "conv_f32.c", "gemm_f32.c",
                                                 "maxpool.c", "maxpool_f32.c"}));
  // Weights: 8*2*3*3 + 8 + 16*288 + 16 + 5*16 + 5 floats.
  EXPECT_EQ(e.weight_bytes, 4u * (144 + 8 + 4608 + 16 + 80 + 5));
  // Conv output (8x12x12 floats) and the pooled copy (8x6x6) are alive together.
  EXPECT_GE(e.arena_bytes, 4u * (8 * 144 + 8 * 36));
  EXPECT_LE(e.arena_bytes, 4u * (8 * 144 + 8 * 36) + 64);
}

TEST(ExportC, Int8ModelUsesTheInt8KernelsAndTheirRequantization) {
  Graph g = small_cnn();
  quantize_int8_static(g, images(32, 1));
  optimize(g);
  const CExport e = export_c(g, {});
  EXPECT_TRUE(contains(e.source, "pith_quantize_linear(288, input,"));
  EXPECT_TRUE(contains(e.source, "pith_qconv(") && contains(e.source, "pith_qgemm("));
  EXPECT_TRUE(contains(e.source, "pith_maxpool_u8("));
  EXPECT_TRUE(contains(e.source, "static const int8_t "));
  EXPECT_TRUE(contains(e.source, "PITH_OUT_F32"));  // the last layer writes float logits
  EXPECT_TRUE(contains(e.header, "int model_run("));
}

TEST(ExportC, NamesEveryNodeItCannotExport) {
  Graph g = small_cnn();
  Node softmax = make_node("Softmax", "probabilities", {"logits"}, {"p"});
  g.nodes.push_back(softmax);
  Node sin = make_node("Sin", "wave", {"p"}, {"q"});
  g.nodes.push_back(sin);
  g.outputs[0].name = "q";
  try {
    export_c(g, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(contains(m, "cannot handle 2 node(s)")) << m;
    EXPECT_TRUE(contains(m, "probabilities") && contains(m, "wave")) << m;
  }
  // An int8 convolution with a fused residual has no C kernel: named, though the nodes
  // after it read its output.
  Graph q = small_cnn();
  quantize_int8_static(q, images(32, 1));
  optimize(q);
  for (auto& n : q.nodes)
    if (n.op_type == "QConv") {
      q.initializers["r_scale"] = Tensor::scalar<float>(0.1f);
      q.initializers["r_zero_point"] = Tensor::scalar<uint8_t>(0);
      n.inputs.resize(9);
      n.inputs.insert(n.inputs.end(), {n.inputs[0], "r_scale", "r_zero_point"});
    }
  try {
    export_c(q, {});
    FAIL() << "expected an error";
  } catch (const Error& e) {
    const std::string m = e.what();
    EXPECT_TRUE(contains(m, "cannot handle 1 node(s)") && contains(m, "fused residual")) << m;
  }
  CExportOptions bad;
  bad.name = "9lives";
  EXPECT_THROW(export_c(small_cnn(), bad), Error);
  bad.name = "has-dash";
  EXPECT_THROW(export_c(small_cnn(), bad), Error);
}

}  // namespace
}  // namespace pith::targets
