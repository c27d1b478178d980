// The serving output pipeline: how a model's output tensors become the JSON answer an
// HTTP client receives. The artifact declares the recipe (an OutputPipeline, as JSON):
// "raw" returns every output as numbers, "classification" the top-k classes of output 0,
// "detection" the boxes of outputs 0 (boxes) and 1 (class scores) after non-maximum
// suppression. Bad recipes and outputs of the wrong count, shape or dtype are pith::Error
// naming what was expected.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pith::serve {

struct OutputPipeline {
  std::string kind = "raw";         // "raw" | "classification" | "detection"
  bool softmax = false;             // classification: turn logits into probabilities first
  int64_t top_k = 5;                // classification: classes returned (fewer if the model has fewer)
  std::vector<std::string> labels;  // class index -> name; missing entries give an empty label
  float score_threshold = 0.25f;    // detection: keep boxes whose best class score is >= this
  float iou_threshold = 0.45f;      // detection: suppress same-class boxes overlapping more than this
  int64_t max_detections = 100;     // detection: at most this many boxes, best first
  std::string box_format = "xyxy";  // detection: "xyxy" (corners) or "cxcywh" (center, size)
};

// Parses the artifact's JSON recipe (keys are the field names). Unknown keys and bad values
// throw pith::Error naming the key and what is allowed.
OutputPipeline parse_output_pipeline(const nlohmann::json& j);
// Every field, in the form parse_output_pipeline reads back.
nlohmann::json output_pipeline_json(const OutputPipeline& p);
// Throws pith::Error if a pipeline built in code breaks a rule parse_output_pipeline enforces.
void validate_output_pipeline(const OutputPipeline& p);

struct Classification {
  int64_t index;
  float score;
  std::string label;
};

// The min(k, N) best entries of a float32 [1, N] or [N] score tensor, best first, ties to
// the lower index. With `softmax`, scores are probabilities (computed after subtracting the
// maximum, so large logits do not overflow). NaN scores are an error.
std::vector<Classification> top_k(const Tensor& scores, int64_t k, bool softmax,
                                  const std::vector<std::string>& labels);

struct Detection {
  float x0, y0, x1, y1;  // corners, x0 <= x1 and y0 <= y1 for a well-formed box
  float score;
  int64_t cls;
  std::string label;
};

// Greedy non-maximum suppression within each class: candidates by descending score (equal
// scores keep their input order); a candidate is dropped when its IoU with a kept box of the
// same class exceeds iou_threshold. A box of zero area overlaps nothing. Candidates with a
// NaN score cannot be ranked and are dropped. Returns at most max_detections, best first.
std::vector<Detection> non_max_suppression(std::vector<Detection> candidates, float iou_threshold,
                                           int64_t max_detections);

// boxes: float32 [1, N, 4] or [N, 4] in p.box_format; scores: float32 [1, N, C] or [N, C].
// Each box takes its best class (ties to the lower class), boxes scoring below
// p.score_threshold are dropped, the rest go through non_max_suppression. Boxes come back xyxy.
std::vector<Detection> decode_detections(const Tensor& boxes, const Tensor& scores, const OutputPipeline& p);

// The JSON answer:
//   raw:            {"outputs": {name: {"dtype": "float32", "shape": [...], "data": [...]}}}
//   classification: {"classes": [{"index", "score", "label"}]}           from outputs[0]
//   detection:      {"detections": [{"box": [x0, y0, x1, y1], "score", "class", "label"}]}
//                   from outputs[0] (boxes) and outputs[1] (scores)
// Classification and detection ignore outputs after the ones they read.
nlohmann::json postprocess(const std::vector<std::string>& output_names, const std::vector<Tensor>& outputs,
                           const OutputPipeline& p);

}  // namespace pith::serve
