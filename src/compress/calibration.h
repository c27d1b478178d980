// Calibration: runs a float model over sample inputs, records the range and a histogram
// of chosen intermediate tensors, and picks each tensor's quantization range by one of
// the usual methods:
//   minmax      the observed [min, max]
//   percentile  clip the tails holding (100 - p)% of the values (p = 99.99 by default)
//   entropy     the range whose 8-bit quantized histogram is closest to the observed one
//               in Kullback-Leibler divergence (TensorRT's calibrator)
//   mse         the range that minimises the expected squared quantization error
// Every range contains 0, so that 0 is exactly representable (zero padding, ReLU).
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "compress/evaluate.h"
#include "core/tensor.h"
#include "ir/graph.h"

namespace pith {

enum class CalibrationMethod { MinMax, Percentile, Entropy, MSE };

// "minmax", "percentile", "entropy" (or "kl"), "mse"; anything else is an Error listing them.
CalibrationMethod parse_calibration_method(const std::string& name);
const char* calibration_method_name(CalibrationMethod method);

struct TensorStats {
  float min = 0, max = 0;          // over every calibration sample
  float hist_lo = 0, hist_hi = 0;  // the histogram spans [hist_lo, hist_hi] = [min(min,0), max(max,0)]
  std::vector<double> histogram;   // counts per equal-width bin
  int64_t count = 0;
};

constexpr int kCalibrationBins = 2048;

// Runs `graph` over `data` (first axis = samples) twice (ranges, then histograms) and
// returns the statistics of each named value (graph inputs, or outputs of any node).
std::map<std::string, TensorStats> collect_tensor_stats(std::shared_ptr<const Graph> graph, const Tensor& data,
                                                        const std::vector<std::string>& values,
                                                        const PredictOptions& options = {});

// The named values themselves over the first `max_samples` samples of `data`, each
// stacked along axis 0 (for layer-wise reconstruction, which needs the inputs a layer sees).
std::map<std::string, Tensor> collect_activations(std::shared_ptr<const Graph> graph, const Tensor& data,
                                                  const std::vector<std::string>& values, int64_t max_samples,
                                                  const PredictOptions& options = {});

struct Range {
  float lo = 0, hi = 0;  // lo <= 0 <= hi
};

// The clipping range `method` picks for a tensor quantized to `levels` steps (256 for 8 bits).
Range choose_range(const TensorStats& stats, CalibrationMethod method, int levels = 256, double percentile = 99.99);

}  // namespace pith
