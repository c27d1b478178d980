// Evaluation of a model on a dataset: runs it batch by batch over the first axis of the
// data and scores output 0 by top-1 accuracy against labels, or by top-1 agreement and
// SQNR against a reference model's outputs. Shared by `pith eval`, `pith compress` and
// the deploy planner, so every accuracy pith reports is computed the same way.
#pragma once

#include <memory>

#include "core/tensor.h"
#include "ir/graph.h"

namespace pith {

struct PredictOptions {
  int threads = 1;
  // Samples per run; 0 picks the model's batch when its first input dimension is fixed,
  // else 100.
  int64_t batch = 0;
};

// Output 0 for every sample of `data` (first axis = samples), stacked along axis 0.
// The model must have one input; a batch whose shape or dtype the model does not take
// is an Error naming the model input and the data.
Tensor predict(std::shared_ptr<const Graph> graph, const Tensor& data, const PredictOptions& options = {});

// Fraction of rows of `scores` [N, C] (or [N, ..., C], flattened to rows of C) whose argmax
// equals the label; labels are any integer dtype with N values in [0, C).
double top1_accuracy(const Tensor& scores, const Tensor& labels);
// Fraction of rows whose argmax is the same in both.
double top1_agreement(const Tensor& scores, const Tensor& reference);
// Signal-to-quantization-noise ratio in dB: 10 log10(sum ref^2 / sum (ref - x)^2);
// +infinity when the two are equal.
double sqnr_db(const Tensor& x, const Tensor& reference);

}  // namespace pith
