// int4 weight-only quantization on a small CNN: every weight lands on the 4-bit block
// grid (so the artifact stores it in 4.5 bits and reads back the same model bit for bit),
// GPTQ's error compensation beats plain rounding on the data it saw, and each method's
// SQNR is pinned in a narrow band (a ratchet).
#include <gtest/gtest.h>

#include <filesystem>

#include "artifact/artifact.h"
#include "compress/evaluate.h"
#include "compress/quantize/int4.h"
#include "core/block_q4.h"
#include "runtime/session.h"
#include "test_util/small_cnn.h"

namespace pith {
namespace {

using namespace test_util;

double output_sqnr(const Graph& g, const Graph& base, const Tensor& x) {
  return sqnr_db(predict(std::make_shared<Graph>(g), x), predict(std::make_shared<Graph>(base), x));
}

TEST(QuantizeInt4, WeightsLandOnTheBlockGridAndTheArtifactStoresThemInFourBits) {
  const Graph base = small_cnn();
  for (int64_t block : {16, 32, 64, 128}) {
    Graph g = base;
    Int4Options options;
    options.block = block;
    options.calibration = images(128, 1);
    const Int4Report report = quantize_int4_weights(g, options);
    ASSERT_EQ(report.layers.size(), 3u);
    for (auto& l : report.layers) EXPECT_TRUE(l.gptq) << l.node;
    const char* names[] = {"w1", "w2", "w3"};  // conv, fc1, fc2, as the report lists them
    for (size_t i = 0; i < 3; ++i) {
      const Tensor& w = g.initializers.at(names[i]);
      const int64_t rows = w.dim(0), K = w.numel() / rows, b = report.layers[i].block;
      EXPECT_LE(b, block);
      std::vector<uint8_t> bytes(size_t(q4_encoded_bytes(rows, K, b)));
      EXPECT_TRUE(encode_q4(w.data<float>(), rows, K, b, bytes.data())) << names[i] << " block " << b;
    }
    EXPECT_EQ(report.layers[2].block, 16);  // fc2's rows hold 16 weights
    const std::string path = (std::filesystem::temp_directory_path() / "pith_int4_test.pith").string();
    const artifact::WriteStats stats = artifact::write_file(g, path);
    // The three weights are coded (the biases, under 64 values, are not): 19,444 bytes of
    // float32 tensors become at most 8 x 18 (w1 rows of 18) + 2,720 (w2) + 5 x 18 (w3 rows
    // of 16) + 116 bytes, plus alignment.
    EXPECT_EQ(stats.decoded_tensor_bytes, (144u + 4608 + 80) * 4);
    EXPECT_LT(stats.tensor_bytes, 3300u) << block;
    artifact::Artifact a = artifact::read_file(path);
    Tensor x = images(8, 9);
    Session s1(std::make_shared<Graph>(g)), s2(std::make_shared<Graph>(a.graph));
    const Tensor y1 = s1.run({{"input", x}})[0].clone(), y2 = s2.run({{"input", x}})[0];
    ASSERT_EQ(y1.nbytes(), y2.nbytes());
    EXPECT_EQ(std::memcmp(y1.raw(), y2.raw(), y1.nbytes()), 0) << "block " << block;
    std::filesystem::remove(path);
  }
}

TEST(QuantizeInt4, GptqBeatsRoundingToNearestRatchet) {
  const Graph base = small_cnn();
  const Tensor calib = images(128, 3), test = images(64, 4);
  Graph rtn = base, gptq = base;
  Int4Options options;
  quantize_int4_weights(rtn, options);
  options.calibration = calib;
  quantize_int4_weights(gptq, options);
  const double r = output_sqnr(rtn, base, test), q = output_sqnr(gptq, base, test);
  EXPECT_GT(q, r + 1.0) << "GPTQ " << q << " dB, round to nearest " << r << " dB";
  // Measured when written (dB): round to nearest 19.70, GPTQ 27.27.
  EXPECT_NEAR(r, 19.70, 0.3);
  EXPECT_NEAR(q, 27.27, 0.3);
}

TEST(QuantizeInt4, RejectsBadBlocksAndData) {
  Graph g = small_cnn();
  Int4Options options;
  options.block = 48;
  EXPECT_THROW(quantize_int4_weights(g, options), Error);
  options.block = 32;
  options.calibration = Tensor(DType::Float32, {4, 3, 12, 12});
  EXPECT_THROW(quantize_int4_weights(g, options), Error);
}

}  // namespace
}  // namespace pith
