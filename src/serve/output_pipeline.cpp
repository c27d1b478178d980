#include "serve/output_pipeline.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <numeric>

#include "core/error.h"
#include "serve/json_fields.h"

namespace pith::serve {
namespace {

using nlohmann::json;

constexpr const char* kWhere = "output pipeline";
const FieldReader kFields{kWhere};
constexpr std::array<const char*, 8> kKeys = {
    "kind", "softmax", "top_k", "labels", "score_threshold", "iou_threshold", "max_detections", "box_format"};

const char* const kKindRule = "\"raw\", \"classification\" or \"detection\"";
const char* const kBoxFormatRule = "\"xyxy\" or \"cxcywh\"";
const char* const kCountRule = "an integer >= 1";
const char* const kIouRule = "a number in [0, 1]";
const char* const kScoreRule = "a finite number";

// ---------------------------------------------------------------------------------------------
// JSON fields

// ---------------------------------------------------------------------------------------------
// Tensors

std::string describe(const Tensor& t) {
  if (!t.defined()) return "an undefined tensor";
  return detail::concat(dtype_name(t.dtype()), " ", shape_str(t.shape()));
}

// [N, inner] or [1, N, inner] (inner == 0: [N] or [1, N]); returns N, or -1 if the shape differs.
int64_t rows_of(const Tensor& t, int64_t inner) {
  const Shape& s = t.shape();
  const size_t core = inner == 0 ? 1 : 2;
  if (s.size() != core && s.size() != core + 1) return -1;
  if (s.size() == core + 1 && s[0] != 1) return -1;
  if (inner != 0 && s.back() != inner) return -1;
  return s[s.size() - core];
}

std::string label_of(const std::vector<std::string>& labels, int64_t index) {
  return index >= 0 && index < int64_t(labels.size()) ? labels[size_t(index)] : std::string();
}

// The first maximum (ties go to the lower class); NaN scores never win. -1 if all are NaN.
int64_t best_class(const float* row, int64_t classes) {
  int64_t best = -1;
  for (int64_t c = 0; c < classes; ++c)
    if (!std::isnan(row[c]) && (best < 0 || row[c] > row[best])) best = c;
  return best;
}

float iou(const Detection& a, const Detection& b) {
  const float area_a = std::max(0.f, a.x1 - a.x0) * std::max(0.f, a.y1 - a.y0);
  const float area_b = std::max(0.f, b.x1 - b.x0) * std::max(0.f, b.y1 - b.y0);
  if (!(area_a > 0 && area_b > 0)) return 0;
  const float w = std::max(0.f, std::min(a.x1, b.x1) - std::max(a.x0, b.x0));
  const float h = std::max(0.f, std::min(a.y1, b.y1) - std::max(a.y0, b.y0));
  const float inter = w * h;
  return inter / (area_a + area_b - inter);
}

// Every element as a JSON number; 64-bit integers stay exact.
json tensor_data(const Tensor& t) {
  json data = json::array();
  const int64_t n = t.numel();
  if (t.dtype() == DType::UInt64) {
    for (int64_t i = 0; i < n; ++i) data.push_back(t.data<uint64_t>()[i]);
  } else if (dtype_is_int(t.dtype()) || t.dtype() == DType::Bool) {
    for (int64_t i = 0; i < n; ++i) data.push_back(t.as_int64(i));
  } else {
    for (int64_t i = 0; i < n; ++i) data.push_back(t.as_double(i));
  }
  return data;
}

json raw_json(const std::vector<std::string>& names, const std::vector<Tensor>& outputs) {
  json out = json::object();
  for (size_t i = 0; i < outputs.size(); ++i) {
    const Tensor& t = outputs[i];
    PITH_CHECK(t.defined() && dtype_size(t.dtype()) > 0, "raw output: output ", i, " '", names[i],
               "' must be a numeric tensor, got ", describe(t));
    PITH_CHECK(!out.contains(names[i]), "raw output: output name '", names[i], "' appears twice");
    out[names[i]] = {{"dtype", dtype_name(t.dtype())}, {"shape", t.shape()}, {"data", tensor_data(t)}};
  }
  return {{"outputs", out}};
}

json classification_json(const std::vector<std::string>& names, const std::vector<Tensor>& outputs,
                         const OutputPipeline& p) {
  PITH_CHECK(!outputs.empty(), "classification output: expected at least 1 output (class scores), got 0");
  const Tensor& t = outputs[0];
  PITH_CHECK(t.dtype() == DType::Float32 && rows_of(t, 0) >= 1, "classification output: output 0 '", names[0],
             "' must be float32 of shape [1, N] or [N] with N >= 1, got ", describe(t));
  json classes = json::array();
  for (const Classification& c : top_k(t, p.top_k, p.softmax, p.labels))
    classes.push_back({{"index", c.index}, {"score", c.score}, {"label", c.label}});
  return {{"classes", classes}};
}

json detection_json(const std::vector<std::string>& names, const std::vector<Tensor>& outputs,
                    const OutputPipeline& p) {
  PITH_CHECK(outputs.size() >= 2, "detection output: expected at least 2 outputs (boxes, scores), got ",
             outputs.size());
  json detections = json::array();
  for (const Detection& d : decode_detections(outputs[0], outputs[1], p))
    detections.push_back({{"box", {d.x0, d.y0, d.x1, d.y1}}, {"score", d.score}, {"class", d.cls}, {"label", d.label}});
  return {{"detections", detections}};
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Pipeline recipe

void validate_output_pipeline(const OutputPipeline& p) {
  if (p.kind != "raw" && p.kind != "classification" && p.kind != "detection")
    kFields.bad_value("kind", kKindRule, in_quotes(p.kind));
  if (p.top_k < 1) kFields.bad_value("top_k", kCountRule, std::to_string(p.top_k));
  if (!std::isfinite(p.score_threshold))
    kFields.bad_value("score_threshold", kScoreRule, detail::concat(p.score_threshold));
  if (!(p.iou_threshold >= 0 && p.iou_threshold <= 1))
    kFields.bad_value("iou_threshold", kIouRule, detail::concat(p.iou_threshold));
  if (p.max_detections < 1) kFields.bad_value("max_detections", kCountRule, std::to_string(p.max_detections));
  if (p.box_format != "xyxy" && p.box_format != "cxcywh")
    kFields.bad_value("box_format", kBoxFormatRule, in_quotes(p.box_format));
}

OutputPipeline parse_output_pipeline(const json& j) {
  if (!j.is_object()) fail(kWhere, ": expected a JSON object, got ", shown(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(kKeys.begin(), kKeys.end(), [&](const char* k) { return it.key() == k; }) == kKeys.end()) {
      std::string allowed;
      for (const char* k : kKeys) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
      fail(kWhere, ": unknown key '", it.key(), "' (allowed: ", allowed, ")");
    }
  }
  OutputPipeline p;
  if (j.contains("kind")) p.kind = kFields.read_string(j["kind"], "kind", kKindRule);
  if (j.contains("softmax")) p.softmax = kFields.read_bool(j["softmax"], "softmax");
  if (j.contains("top_k")) p.top_k = kFields.read_int(j["top_k"], "top_k", kCountRule);
  if (j.contains("labels")) p.labels = kFields.read_strings(j["labels"], "labels");
  if (j.contains("score_threshold"))
    p.score_threshold = kFields.read_float(j["score_threshold"], "score_threshold", kScoreRule);
  if (j.contains("iou_threshold")) p.iou_threshold = kFields.read_float(j["iou_threshold"], "iou_threshold", kIouRule);
  if (j.contains("max_detections"))
    p.max_detections = kFields.read_int(j["max_detections"], "max_detections", kCountRule);
  if (j.contains("box_format")) p.box_format = kFields.read_string(j["box_format"], "box_format", kBoxFormatRule);
  validate_output_pipeline(p);
  return p;
}

json output_pipeline_json(const OutputPipeline& p) {
  return json{{"kind", p.kind},
              {"softmax", p.softmax},
              {"top_k", p.top_k},
              {"labels", p.labels},
              {"score_threshold", p.score_threshold},
              {"iou_threshold", p.iou_threshold},
              {"max_detections", p.max_detections},
              {"box_format", p.box_format}};
}

// -----------------------------------------------------------------------------------------------
// Classification

std::vector<Classification> top_k(const Tensor& scores, int64_t k, bool softmax,
                                  const std::vector<std::string>& labels) {
  const int64_t n = scores.dtype() == DType::Float32 ? rows_of(scores, 0) : -1;
  PITH_CHECK(n >= 1, "top_k: scores must be float32 of shape [1, N] or [N] with N >= 1, got ", describe(scores));
  PITH_CHECK(k >= 1, "top_k: k must be >= 1, got ", k);
  const float* s = scores.data<float>();
  for (int64_t i = 0; i < n; ++i) PITH_CHECK(!std::isnan(s[i]), "top_k: score ", i, " is NaN");

  std::vector<float> values(s, s + n);
  if (softmax) {
    // exp(x - max) <= 1, so nothing overflows; an infinite logit has no meaningful softmax.
    const float top = *std::max_element(values.begin(), values.end());
    PITH_CHECK(std::isfinite(top) && std::isfinite(*std::min_element(values.begin(), values.end())),
               "top_k: softmax of non-finite scores");
    double sum = 0;
    for (float& v : values) sum += (v = std::exp(v - top));
    for (float& v : values) v = float(v / sum);
  }

  std::vector<int64_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  const size_t count = size_t(std::min(k, n));
  std::partial_sort(order.begin(), order.begin() + count, order.end(), [&](int64_t a, int64_t b) {
    return values[size_t(a)] != values[size_t(b)] ? values[size_t(a)] > values[size_t(b)] : a < b;
  });
  std::vector<Classification> out;
  for (size_t i = 0; i < count; ++i) out.push_back({order[i], values[size_t(order[i])], label_of(labels, order[i])});
  return out;
}

// -----------------------------------------------------------------------------------------------
// Detection

std::vector<Detection> non_max_suppression(std::vector<Detection> candidates, float iou_threshold,
                                           int64_t max_detections) {
  PITH_CHECK(max_detections >= 1, "non_max_suppression: max_detections must be >= 1, got ", max_detections);
  std::erase_if(candidates, [](const Detection& d) { return std::isnan(d.score); });
  std::stable_sort(candidates.begin(), candidates.end(),
                   [](const Detection& a, const Detection& b) { return a.score > b.score; });
  std::vector<Detection> kept;
  for (Detection& c : candidates) {
    if (int64_t(kept.size()) == max_detections) break;
    bool suppressed = std::any_of(kept.begin(), kept.end(),
                                  [&](const Detection& k) { return k.cls == c.cls && iou(k, c) > iou_threshold; });
    if (!suppressed) kept.push_back(std::move(c));
  }
  return kept;
}

std::vector<Detection> decode_detections(const Tensor& boxes, const Tensor& scores, const OutputPipeline& p) {
  validate_output_pipeline(p);
  const int64_t n = boxes.dtype() == DType::Float32 ? rows_of(boxes, 4) : -1;
  PITH_CHECK(n >= 0, "detection output: boxes (output 0) must be float32 of shape [1, N, 4] or [N, 4], got ",
             describe(boxes));
  const int64_t classes = scores.dtype() == DType::Float32 && scores.rank() >= 2 ? scores.shape().back() : 0;
  PITH_CHECK(classes >= 1 && rows_of(scores, classes) == n,
             "detection output: scores (output 1) must be float32 of shape [1, ", n, ", C] or [", n,
             ", C] with C >= 1 (N = ", n, " boxes), got ", describe(scores));

  const float* b = boxes.data<float>();
  const float* s = scores.data<float>();
  const bool center = p.box_format == "cxcywh";
  std::vector<Detection> candidates;
  for (int64_t i = 0; i < n; ++i) {
    const float* row = s + i * classes;
    const int64_t best = best_class(row, classes);
    if (best < 0 || !(row[best] >= p.score_threshold)) continue;
    const float* q = b + i * 4;
    Detection d{q[0], q[1], q[2], q[3], row[best], best, label_of(p.labels, best)};
    if (center) d = {q[0] - q[2] / 2, q[1] - q[3] / 2, q[0] + q[2] / 2, q[1] + q[3] / 2, d.score, d.cls, d.label};
    candidates.push_back(std::move(d));
  }
  return non_max_suppression(std::move(candidates), p.iou_threshold, p.max_detections);
}

// -----------------------------------------------------------------------------------------------
// The answer

json postprocess(const std::vector<std::string>& output_names, const std::vector<Tensor>& outputs,
                 const OutputPipeline& p) {
  validate_output_pipeline(p);
  PITH_CHECK(output_names.size() == outputs.size(), "postprocess: ", output_names.size(), " output names for ",
             outputs.size(), " outputs");
  if (p.kind == "classification") return classification_json(output_names, outputs, p);
  if (p.kind == "detection") return detection_json(output_names, outputs, p);
  return raw_json(output_names, outputs);
}

}  // namespace pith::serve
