// Low-rank factorization: the SVD reconstructs matrices (exactly at full rank, and a
// matrix of rank r from r singular values), the rank follows the energy or fraction asked,
// layers are split only where that shrinks them, and the split model computes what the
// truncated weights mean; its output SQNR on the small CNN is pinned (a ratchet).
#include <gtest/gtest.h>

#include <random>

#include "compress/evaluate.h"
#include "compress/lowrank.h"
#include "test_util/small_cnn.h"

namespace pith {
namespace {

using namespace test_util;

std::vector<double> random_matrix(int64_t rows, int64_t cols, int64_t rank, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> n(0, 1);
  std::vector<double> a(size_t(rows * cols), 0.0), u(size_t(rows * rank)), v(size_t(cols * rank));
  for (auto& x : u) x = n(rng);
  for (auto& x : v) x = n(rng);
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      for (int64_t k = 0; k < rank; ++k) a[size_t(i * cols + j)] += u[size_t(i * rank + k)] * v[size_t(j * rank + k)];
  return a;
}

double reconstruction_error(const std::vector<double>& a, const Svd& d, int64_t rows, int64_t cols, int64_t rank) {
  double err = 0, norm = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      double v = 0;
      for (int64_t k = 0; k < rank; ++k) v += d.U[size_t(i * d.k + k)] * d.s[size_t(k)] * d.V[size_t(j * d.k + k)];
      err += (v - a[size_t(i * cols + j)]) * (v - a[size_t(i * cols + j)]);
      norm += a[size_t(i * cols + j)] * a[size_t(i * cols + j)];
    }
  return std::sqrt(err / norm);
}

TEST(LowRank, SvdReconstructsWideTallAndLowRankMatrices) {
  for (auto [rows, cols] : std::vector<std::pair<int64_t, int64_t>>{{7, 13}, {13, 7}, {1, 5}, {16, 16}}) {
    const auto a = random_matrix(rows, cols, std::min(rows, cols), uint32_t(rows * 100 + cols));
    const Svd d = svd(a, rows, cols);
    ASSERT_EQ(d.k, std::min(rows, cols));
    for (int64_t i = 1; i < d.k; ++i) EXPECT_GE(d.s[size_t(i - 1)], d.s[size_t(i)]);
    EXPECT_LT(reconstruction_error(a, d, rows, cols, d.k), 1e-9) << rows << "x" << cols;
  }
  const auto a = random_matrix(20, 30, 3, 5);  // rank 3
  const Svd d = svd(a, 20, 30);
  EXPECT_LT(reconstruction_error(a, d, 20, 30, 3), 1e-9);
  EXPECT_LT(d.s[3], 1e-6 * d.s[0]);
}

TEST(LowRank, SplitsOnlyWhereItShrinksAndKeepsTheOutputs) {
  const Graph base = small_cnn();  // conv 8x18 (3x3: kept), fc1 16x288, fc2 5x16
  Graph g = base;
  LowRankOptions o;
  o.rank_fraction = 0.25;
  const LowRankReport r = factorize_low_rank(g, o);
  // fc1 (16 x 288) at rank 4 and fc2 (5 x 16) at rank 2 both shrink; the 3x3 conv is kept.
  ASSERT_EQ(r.layers.size(), 2u);
  EXPECT_EQ(r.layers[0].node, "fc1");
  EXPECT_EQ(r.layers[0].rank, 4);
  EXPECT_EQ(r.layers[1].rank, 2);
  EXPECT_EQ(r.weights_before, 16 * 288 + 5 * 16);
  EXPECT_EQ(r.weights_after, 4 * (16 + 288) + 2 * (5 + 16));
  ASSERT_EQ(r.kept.size(), 1u);
  EXPECT_EQ(r.kept[0].first, "conv");
  EXPECT_EQ(g.nodes.size(), base.nodes.size() + 2);
  EXPECT_EQ(g.initializers.count("w2") + g.initializers.count("w3"), 0u);  // replaced by their factors
  const Tensor x = images(32, 3);
  const Tensor want = predict(std::make_shared<Graph>(base), x), got = predict(std::make_shared<Graph>(g), x);
  // Measured when written: 2.10 dB (random weights have a flat spectrum; a quarter of the rank loses most).
  EXPECT_NEAR(sqnr_db(got, want), 2.10, 0.3);
  // A weight of rank 3 is found to be rank 3 by its energy, and split without loss.
  Graph exact = base;
  const auto w = random_matrix(16, 288, 3, 9);
  Tensor& w2 = exact.initializers.at("w2");
  for (int64_t i = 0; i < w2.numel(); ++i) w2.data<float>()[i] = float(0.01 * w[size_t(i)]);
  const Tensor exact_want = predict(std::make_shared<Graph>(exact), x);
  o.rank_fraction = 0;
  o.energy = 0.999999;
  const LowRankReport e = factorize_low_rank(exact, o);
  ASSERT_EQ(e.layers.size(), 1u);
  EXPECT_EQ(e.layers[0].rank, 3);
  EXPECT_GT(sqnr_db(predict(std::make_shared<Graph>(exact), x), exact_want), 60.0);
}

TEST(LowRank, RejectsBadOptions) {
  Graph g = small_cnn();
  EXPECT_THROW(factorize_low_rank(g, LowRankOptions{}), Error);
  EXPECT_THROW(factorize_low_rank(g, LowRankOptions{1.5, 0}), Error);
  EXPECT_THROW(factorize_low_rank(g, LowRankOptions{0, -0.5}), Error);
}

}  // namespace
}  // namespace pith
