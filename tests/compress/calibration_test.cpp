// Range selection of the calibration methods on fixed synthetic distributions: each
// method's range and the SQNR of 8-bit quantization with it are pinned in narrow bands
// (a ratchet: a change that moves them must say why).
#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "compress/calibration.h"

namespace pith {
namespace {

TensorStats stats_of(const std::vector<float>& v) {
  TensorStats s;
  s.min = *std::min_element(v.begin(), v.end());
  s.max = *std::max_element(v.begin(), v.end());
  s.hist_lo = std::min(s.min, 0.0f);
  s.hist_hi = std::max(s.max, 0.0f);
  s.histogram.assign(kCalibrationBins, 0.0);
  for (float x : v) {
    int64_t b = int64_t((double(x) - s.hist_lo) / (double(s.hist_hi) - s.hist_lo) * kCalibrationBins);
    s.histogram[size_t(std::clamp<int64_t>(b, 0, kCalibrationBins - 1))] += 1;
  }
  s.count = int64_t(v.size());
  return s;
}

// SQNR (dB) of uint8 quantization of v over range r.
double quantized_sqnr(const std::vector<float>& v, Range r) {
  const double scale = (double(r.hi) - r.lo) / 255.0, zp = std::nearbyint(-r.lo / scale);
  double sig = 0, noise = 0;
  for (float x : v) {
    double q = std::clamp(std::nearbyint(x / scale) + zp, 0.0, 255.0);
    double d = (q - zp) * scale - x;
    sig += double(x) * x;
    noise += d * d;
  }
  return 10 * std::log10(sig / noise);
}

std::vector<float> relu_gaussian(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.f, 1.f);
  std::vector<float> v(n);
  for (auto& x : v) x = std::max(0.f, normal(rng));
  return v;
}

std::vector<float> laplace_with_outliers(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::exponential_distribution<float> e(1.f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (rng() & 1 ? 1.f : -1.f) * e(rng);
  v[0] = 40.f;  // a few far outliers stretch min/max
  v[1] = -35.f;
  return v;
}

std::vector<float> uniform_with_zeros(size_t n, uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<float> u(0.f, 1.f);
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = (i % 2) ? u(rng) : 0.f;  // half exact zeros, as image backgrounds
  return v;
}

TEST(Calibration, ParsesMethodNamesAndRejectsOthers) {
  EXPECT_EQ(parse_calibration_method("minmax"), CalibrationMethod::MinMax);
  EXPECT_EQ(parse_calibration_method("kl"), CalibrationMethod::Entropy);
  EXPECT_EQ(parse_calibration_method("mse"), CalibrationMethod::MSE);
  try {
    parse_calibration_method("median");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("minmax, percentile, entropy or mse"), std::string::npos) << e.what();
  }
}

TEST(Calibration, EveryRangeContainsZero) {
  for (auto method :
       {CalibrationMethod::MinMax, CalibrationMethod::Percentile, CalibrationMethod::Entropy, CalibrationMethod::MSE}) {
    std::vector<float> pos(1000);
    for (size_t i = 0; i < pos.size(); ++i) pos[i] = 2.0f + float(i) / 1000;
    Range r = choose_range(stats_of(pos), method);
    EXPECT_EQ(r.lo, 0.0f);
    EXPECT_GT(r.hi, 2.0f);
  }
}

TEST(Calibration, UniformDataIsNotClipped) {
  auto v = uniform_with_zeros(200000, 1);
  auto s = stats_of(v);
  for (auto method :
       {CalibrationMethod::MinMax, CalibrationMethod::Percentile, CalibrationMethod::Entropy, CalibrationMethod::MSE}) {
    Range r = choose_range(s, method);
    EXPECT_EQ(r.lo, 0.0f) << calibration_method_name(method);
    EXPECT_GT(r.hi, 0.97f) << calibration_method_name(method);
    EXPECT_GT(quantized_sqnr(v, r), 45.0) << calibration_method_name(method);
  }
}

TEST(Calibration, OutliersAreClippedByTheClippingMethods) {
  auto v = laplace_with_outliers(200000, 2);
  auto s = stats_of(v);
  const std::vector<float> bulk(v.begin() + 2, v.end());  // without the two outliers
  const Range full = choose_range(s, CalibrationMethod::MinMax);
  EXPECT_EQ(full.hi, 40.0f);
  EXPECT_EQ(full.lo, -35.0f);
  // Percentile and entropy give up the outliers for the resolution of the bulk.
  for (auto method : {CalibrationMethod::Percentile, CalibrationMethod::Entropy}) {
    Range r = choose_range(s, method);
    EXPECT_LT(r.hi, 20.0f) << calibration_method_name(method);
    EXPECT_GT(quantized_sqnr(bulk, r), quantized_sqnr(bulk, full) + 6.0) << calibration_method_name(method);
  }
  // MSE minimises the total error, outliers included: never worse than min/max on it.
  EXPECT_GE(quantized_sqnr(v, choose_range(s, CalibrationMethod::MSE)), quantized_sqnr(v, full) - 0.05);
}

TEST(Calibration, RatchetOnReluGaussian) {
  auto v = relu_gaussian(200000, 3);
  auto s = stats_of(v);
  struct Expect {
    CalibrationMethod method;
    double sqnr_lo, sqnr_hi;
  };
  // Measured when the methods were written: minmax 44.61 dB (range 5.21), percentile 41.84
  // (3.75), entropy 44.43 (4.19), mse 44.92 (4.41).
  for (auto [method, lo, hi] :
       {Expect{CalibrationMethod::MinMax, 44.4, 44.8}, Expect{CalibrationMethod::Percentile, 41.6, 42.1},
        Expect{CalibrationMethod::Entropy, 44.2, 44.7}, Expect{CalibrationMethod::MSE, 44.7, 45.2}}) {
    const double q = quantized_sqnr(v, choose_range(s, method));
    EXPECT_GE(q, lo) << calibration_method_name(method);
    EXPECT_LE(q, hi) << calibration_method_name(method);
  }
}

}  // namespace
}  // namespace pith
