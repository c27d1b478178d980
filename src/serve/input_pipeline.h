// The serving input pipeline: how an encoded image a client sends (JPEG or PNG bytes)
// becomes a model's input tensor. The artifact declares the recipe (an InputPipeline, as
// JSON); this module validates it, decodes the image, resizes / crops it and normalizes,
// lays out and quantizes the pixels. Every bad recipe or bad image is a pith::Error that
// says what was wrong; no byte string a client sends can crash the decoder.
#pragma once

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "core/dtype.h"
#include "core/tensor.h"

namespace pith::serve {

// Limits: a model input side, and a decoded image side (decoding is refused beyond it,
// before any pixel memory is allocated).
constexpr int64_t kMaxInputSide = 16384;
constexpr int64_t kMaxImageSide = 8192;

struct InputPipeline {
  int64_t channels = 3;             // 1 = grayscale, 3 = RGB; decoded images are converted to this
  int64_t height = 0, width = 0;    // the model input's spatial size (required)
  std::string resize = "bilinear";  // "bilinear" or "area"
  int64_t resize_shorter = 0;       // 0: straight to height x width; else shorter side to this, then center crop
  float scale = 1 / 255.f;          // x = pixel * scale, then (x - mean[c]) / std[c]
  std::vector<float> mean, std;     // per channel; empty = 0 and 1
  std::string layout = "NCHW";      // "NCHW" or "NHWC"
  DType dtype = DType::Float32;     // Float32, UInt8 or Int8
  float quant_scale = 1;            // UInt8/Int8: q = clamp(round(x / quant_scale) + quant_zero_point)
  int32_t quant_zero_point = 0;
};

// Parses the artifact's JSON recipe (keys are the field names; "dtype" is "float32",
// "uint8" or "int8"). Unknown keys and bad values throw pith::Error naming the key and
// what is allowed.
InputPipeline parse_input_pipeline(const nlohmann::json& j);
// Every field, in the form parse_input_pipeline reads back.
nlohmann::json input_pipeline_json(const InputPipeline& p);
// Throws pith::Error if a pipeline built in code breaks a rule parse_input_pipeline enforces.
void validate_input_pipeline(const InputPipeline& p);

// An 8-bit image, HWC interleaved: pixels.size() == width * height * channels.
struct Image {
  int64_t width = 0, height = 0, channels = 0;
  std::vector<uint8_t> pixels;
};

// Decodes JPEG or PNG bytes to `channels` (1 or 3) 8-bit channels. Throws pith::Error for
// empty input, any other format, images over kMaxImageSide on a side, and corrupt data.
Image decode_image(const uint8_t* data, size_t size, int64_t channels);

// Bilinear resampling with half-pixel centers (OpenCV INTER_LINEAR, PIL without
// antialiasing); edges clamp; results round to nearest.
Image resize_bilinear(const Image& image, int64_t width, int64_t height);
// Box filter: each output pixel is the mean of the exact (fractional) source area it
// covers, computed in integers, so integer downscales give exact block means (rounded half up).
Image resize_area(const Image& image, int64_t width, int64_t height);
// The width x height window at offset ((W - width) / 2, (H - height) / 2), rounded down.
Image center_crop(const Image& image, int64_t width, int64_t height);

// Resizes (and crops) per the pipeline, then scales, normalizes, lays out and converts:
// shape [1, C, H, W] (NCHW) or [1, H, W, C] (NHWC). image.channels must equal p.channels and
// neither side may exceed kMaxImageSide. With resize_shorter only the crop is resampled.
Tensor image_to_tensor(const Image& image, const InputPipeline& p);
// decode_image + image_to_tensor.
Tensor preprocess_image(const uint8_t* data, size_t size, const InputPipeline& p);

}  // namespace pith::serve
