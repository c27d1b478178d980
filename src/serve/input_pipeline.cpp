#include "serve/input_pipeline.h"

#include <stb/stb_image.h>

#include <algorithm>
#include <array>
#include <climits>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <type_traits>

#include "core/error.h"
#include "serve/json_fields.h"

namespace pith::serve {
namespace {

using nlohmann::json;

constexpr const char* kWhere = "input pipeline";
const FieldReader kFields{kWhere};
constexpr std::array<const char*, 12> kKeys = {"channels",       "height", "width",       "resize",
                                               "resize_shorter", "scale",  "mean",        "std",
                                               "layout",         "dtype",  "quant_scale", "quant_zero_point"};

// ---------------------------------------------------------------------------------------------
// JSON fields

std::string int_range(int64_t lo, int64_t hi) { return detail::concat("an integer in [", lo, ", ", hi, "]"); }

// ---------------------------------------------------------------------------------------------
// Field rules, shared by parse (for values read from JSON) and validate (for values set in code)

const char* const kChannelsRule = "1 (grayscale) or 3 (RGB)";
const char* const kResizeRule = "\"bilinear\" or \"area\"";
const char* const kLayoutRule = "\"NCHW\" or \"NHWC\"";
const char* const kDTypeRule = "\"float32\", \"uint8\" or \"int8\"";

std::string side_rule() { return int_range(1, kMaxInputSide); }
std::string per_channel_rule(int64_t channels) {
  return detail::concat("an array of ", channels, " numbers (one per channel) or empty");
}

struct IntRange {
  int64_t lo, hi;
};
IntRange zero_point_range(DType t) {
  if (t == DType::UInt8) return {0, 255};
  if (t == DType::Int8) return {-128, 127};
  return {INT32_MIN, INT32_MAX};
}

std::string dtype_key(DType t) {
  if (t == DType::Float32) return "float32";
  if (t == DType::UInt8) return "uint8";
  if (t == DType::Int8) return "int8";
  return dtype_name(t);
}

void check_side(const char* key, int64_t v) {
  if (v < 1 || v > kMaxInputSide) kFields.bad_value(key, side_rule(), std::to_string(v));
}

void check_positive_finite(const char* key, float v) {
  if (!(std::isfinite(v) && v > 0)) kFields.bad_value(key, "a finite number > 0", detail::concat(v));
}

void check_per_channel(const char* key, const std::vector<float>& v, int64_t channels, bool nonzero) {
  if (!v.empty() && int64_t(v.size()) != channels)
    kFields.bad_value(key, per_channel_rule(channels), detail::concat(v.size(), " numbers"));
  for (size_t i = 0; i < v.size(); ++i) {
    if (!std::isfinite(v[i]) || (nonzero && v[i] == 0))
      fail(kWhere, ": '", key, "' entries must be finite", nonzero ? " and nonzero" : "", ", got ", v[i], " at index ",
           i);
  }
}

// ---------------------------------------------------------------------------------------------
// Images

// Sides up to 2^24 keep every size product (and the resamplers' integer sums) inside int64.
constexpr int64_t kMaxAnySide = int64_t(1) << 24;

void check_image(const Image& im, const char* what) {
  PITH_CHECK(im.width >= 1 && im.height >= 1 && im.width <= kMaxAnySide && im.height <= kMaxAnySide &&
                 im.channels >= 1 && im.channels <= 4,
             what, ": image is ", im.width, "x", im.height, " with ", im.channels, " channels (expected sides in [1, ",
             kMaxAnySide, "], 1 to 4 channels)");
  PITH_CHECK(int64_t(im.pixels.size()) == im.width * im.height * im.channels, what, ": image ", im.width, "x",
             im.height, "x", im.channels, " holds ", im.pixels.size(), " bytes, expected ",
             im.width * im.height * im.channels);
}

void check_output_size(const char* what, int64_t width, int64_t height) {
  PITH_CHECK(width >= 1 && width <= kMaxInputSide && height >= 1 && height <= kMaxInputSide, what, ": output size ",
             width, "x", height, " must be in [1, ", kMaxInputSide, "] on each side");
}

// The part of a (virtual) resized image that is actually computed: resizing then cropping
// resamples only the crop, so a long thin image never materializes at full resized size.
struct Window {
  int64_t full_width, full_height;  // the resized image
  int64_t x, y, width, height;      // the computed part of it
};

// Bilinear source taps of one output coordinate, as exact rationals over d = 2 * out:
// value = ((d - frac) * p[i0] + frac * p[i1]) / d.
struct LinearTap {
  int64_t i0, i1, frac;
};

// Half-pixel centers: source coordinate c = (o + 0.5) * in / out - 0.5 = ((2o + 1) in - out) / (2 out),
// clamped to [0, in - 1]. Kept as an integer numerator over 2 * out so the result is exact.
std::vector<LinearTap> linear_taps(int64_t in, int64_t out, int64_t first, int64_t count) {
  const int64_t den = 2 * out;
  std::vector<LinearTap> taps(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) {
    int64_t num = (2 * (first + k) + 1) * in - out;
    num = std::clamp<int64_t>(num, 0, (in - 1) * den);
    int64_t i0 = num / den;
    taps[size_t(k)] = {i0, std::min(i0 + 1, in - 1), num - i0 * den};
  }
  return taps;
}

// Rounds num / den to nearest, halves up (num, den >= 0).
inline uint8_t round_div(int64_t num, int64_t den) {
  return uint8_t(std::min<int64_t>((2 * num + den) / (2 * den), 255));
}

Image resample_bilinear(const Image& src, const Window& w) {
  // Every product below is at most 255 * (2 full_width) * (2 full_height), which the callers bound.
  const int64_t dx = 2 * w.full_width, dy = 2 * w.full_height, c = src.channels;
  auto tx = linear_taps(src.width, w.full_width, w.x, w.width);
  auto ty = linear_taps(src.height, w.full_height, w.y, w.height);
  Image out{w.width, w.height, c, std::vector<uint8_t>(size_t(w.width * w.height * c))};
  uint8_t* o = out.pixels.data();
  for (const LinearTap& y : ty) {
    const uint8_t* r0 = src.pixels.data() + y.i0 * src.width * c;
    const uint8_t* r1 = src.pixels.data() + y.i1 * src.width * c;
    for (const LinearTap& x : tx) {
      for (int64_t ch = 0; ch < c; ++ch) {
        int64_t top = (dx - x.frac) * r0[x.i0 * c + ch] + x.frac * r0[x.i1 * c + ch];
        int64_t bottom = (dx - x.frac) * r1[x.i0 * c + ch] + x.frac * r1[x.i1 * c + ch];
        *o++ = round_div((dy - y.frac) * top + y.frac * bottom, dx * dy);
      }
    }
  }
  return out;
}

// Box-filter taps of one output coordinate. In units of 1/out source pixels, source pixel i
// spans [i out, (i + 1) out) and output o spans [o in, (o + 1) in), so overlaps are integers
// and the weights of one output sum to `in`.
struct AreaTaps {
  int64_t first = 0;
  std::vector<int64_t> weights;
};

std::vector<AreaTaps> area_taps(int64_t in, int64_t out, int64_t first, int64_t count) {
  std::vector<AreaTaps> taps(static_cast<size_t>(count));
  for (int64_t k = 0; k < count; ++k) {
    const int64_t begin = (first + k) * in, end = begin + in;
    AreaTaps& t = taps[size_t(k)];
    t.first = begin / out;
    for (int64_t i = t.first; i * out < end; ++i)
      t.weights.push_back(std::min((i + 1) * out, end) - std::max(i * out, begin));
  }
  return taps;
}

Image resample_area(const Image& src, const Window& w) {
  const int64_t c = src.channels, total = src.width * src.height;
  auto tx = area_taps(src.width, w.full_width, w.x, w.width);
  auto ty = area_taps(src.height, w.full_height, w.y, w.height);
  Image out{w.width, w.height, c, std::vector<uint8_t>(size_t(w.width * w.height * c))};
  std::vector<int64_t> acc(static_cast<size_t>(c));
  uint8_t* o = out.pixels.data();
  for (const AreaTaps& y : ty) {
    for (const AreaTaps& x : tx) {
      std::fill(acc.begin(), acc.end(), 0);
      for (size_t j = 0; j < y.weights.size(); ++j) {
        const uint8_t* row = src.pixels.data() + (y.first + int64_t(j)) * src.width * c;
        for (size_t i = 0; i < x.weights.size(); ++i) {
          const uint8_t* p = row + (x.first + int64_t(i)) * c;
          const int64_t weight = y.weights[j] * x.weights[i];
          for (int64_t ch = 0; ch < c; ++ch) acc[size_t(ch)] += weight * p[ch];
        }
      }
      for (int64_t ch = 0; ch < c; ++ch) *o++ = round_div(acc[size_t(ch)], total);
    }
  }
  return out;
}

Image resample(const Image& src, const std::string& method, const Window& w) {
  if (method == "area") return resample_area(src, w);
  return resample_bilinear(src, w);
}

// torchvision's Resize(int): the shorter side becomes `shorter`, the longer one scales by
// the same factor, truncated.
Window shorter_side_window(const Image& im, const InputPipeline& p) {
  const int64_t s = p.resize_shorter;
  int64_t fw = s, fh = s;
  if (im.width <= im.height)
    fh = s * im.height / im.width;
  else
    fw = s * im.width / im.height;
  return {fw, fh, (fw - p.width) / 2, (fh - p.height) / 2, p.width, p.height};
}

// ---------------------------------------------------------------------------------------------
// Pixels to tensor elements: each channel maps 256 pixel values through a lookup table.

float normalized(const InputPipeline& p, int64_t ch, int v) {
  const float mean = p.mean.empty() ? 0.f : p.mean[size_t(ch)];
  const float sd = p.std.empty() ? 1.f : p.std[size_t(ch)];
  return (float(v) * p.scale - mean) / sd;
}

// Quantized like ONNX QuantizeLinear: round half to even, add the zero point, saturate.
template <typename T>
T quantized(float x, const InputPipeline& p) {
  double q = std::nearbyint(double(x / p.quant_scale)) + p.quant_zero_point;
  if (std::isnan(q)) q = p.quant_zero_point;
  return T(std::clamp<double>(q, std::numeric_limits<T>::min(), std::numeric_limits<T>::max()));
}

template <typename T>
Tensor pixels_to_tensor(const Image& im, const InputPipeline& p) {
  const int64_t c = im.channels, h = im.height, w = im.width;
  std::vector<std::array<T, 256>> lut(static_cast<size_t>(c));
  for (int64_t ch = 0; ch < c; ++ch) {
    for (int v = 0; v < 256; ++v) {
      float x = normalized(p, ch, v);
      if constexpr (std::is_same_v<T, float>)
        lut[size_t(ch)][size_t(v)] = x;
      else
        lut[size_t(ch)][size_t(v)] = quantized<T>(x, p);
    }
  }
  const bool nchw = p.layout == "NCHW";
  Tensor t(dtype_of<T>::value, nchw ? Shape{1, c, h, w} : Shape{1, h, w, c});
  T* out = t.data<T>();
  const uint8_t* px = im.pixels.data();
  for (int64_t i = 0; i < h * w; ++i) {
    for (int64_t ch = 0; ch < c; ++ch) {
      T v = lut[size_t(ch)][px[i * c + ch]];
      out[nchw ? ch * h * w + i : i * c + ch] = v;
    }
  }
  return t;
}

bool is_png(const uint8_t* d, size_t n) { return n >= 8 && std::memcmp(d, "\x89PNG\r\n\x1a\n", 8) == 0; }
bool is_jpeg(const uint8_t* d, size_t n) { return n >= 3 && d[0] == 0xFF && d[1] == 0xD8 && d[2] == 0xFF; }

// Debian's stb_image (2.27) writes past its Huffman tables when a JPEG DHT segment declares
// more than 256 codes in one table (upstream 2.28 refuses them). Walk the markers the way the
// decoder does and refuse such tables before stb sees any byte: outside length-prefixed
// segments every 0xFF is a possible marker (entropy-coded data escapes its own 0xFF bytes),
// and each segment stb accepts is exactly as long as it declares. Stops at end of image.
bool jpeg_huffman_tables_fit(const uint8_t* d, size_t n) {
  auto byte = [&](size_t i) -> size_t { return i < n ? d[i] : 0; };  // stb reads 0 past the end
  size_t i = 2;                                                      // after start of image
  while (i < n) {
    if (d[i++] != 0xFF) continue;
    while (i < n && d[i] == 0xFF) ++i;  // fill bytes
    if (i >= n) break;
    const uint8_t marker = d[i++];
    if (marker == 0xD9) break;                                                             // end of image
    if (marker == 0x00 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD8)) continue;  // no length
    const size_t length = byte(i) << 8 | byte(i + 1);
    if (marker == 0xC4) {
      // Tables of (class/id byte, 16 code-length counts, the symbols) until the segment ends.
      for (size_t t = i + 2; t < i + length && t < n;) {
        size_t codes = 0;
        for (size_t k = 1; k <= 16; ++k) codes += byte(t + k);
        if (codes > 256) return false;
        t += 17 + codes;
      }
    }
    i += std::max<size_t>(length, 2);
  }
  return true;
}

[[noreturn]] void corrupt() {
  const char* reason = stbi_failure_reason();
  fail("corrupt image: ", reason ? reason : "unknown decoder error");
}

}  // namespace

// -----------------------------------------------------------------------------------------------
// Pipeline recipe

void validate_input_pipeline(const InputPipeline& p) {
  if (p.channels != 1 && p.channels != 3) kFields.bad_value("channels", kChannelsRule, std::to_string(p.channels));
  check_side("height", p.height);
  check_side("width", p.width);
  if (p.resize != "bilinear" && p.resize != "area") kFields.bad_value("resize", kResizeRule, in_quotes(p.resize));
  // A shorter side below the crop would make the crop larger than the resized image.
  const int64_t least = std::max(p.height, p.width);
  if (p.resize_shorter != 0 && (p.resize_shorter < least || p.resize_shorter > kMaxInputSide))
    kFields.bad_value(
        "resize_shorter",
        detail::concat("0 (off) or an integer in [max(height, width) = ", least, ", ", kMaxInputSide, "]"),
        std::to_string(p.resize_shorter));
  check_positive_finite("scale", p.scale);
  check_per_channel("mean", p.mean, p.channels, false);
  check_per_channel("std", p.std, p.channels, true);
  if (p.layout != "NCHW" && p.layout != "NHWC") kFields.bad_value("layout", kLayoutRule, in_quotes(p.layout));
  if (p.dtype != DType::Float32 && p.dtype != DType::UInt8 && p.dtype != DType::Int8)
    kFields.bad_value("dtype", kDTypeRule, in_quotes(dtype_key(p.dtype)));
  check_positive_finite("quant_scale", p.quant_scale);
  IntRange zp = zero_point_range(p.dtype);
  if (p.quant_zero_point < zp.lo || p.quant_zero_point > zp.hi)
    kFields.bad_value("quant_zero_point", int_range(zp.lo, zp.hi) + " for " + dtype_key(p.dtype),
                      std::to_string(p.quant_zero_point));
}

InputPipeline parse_input_pipeline(const json& j) {
  if (!j.is_object()) fail(kWhere, ": expected a JSON object, got ", shown(j));
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find_if(kKeys.begin(), kKeys.end(), [&](const char* k) { return it.key() == k; }) == kKeys.end()) {
      std::string allowed;
      for (const char* k : kKeys) allowed += (allowed.empty() ? "" : ", ") + std::string(k);
      fail(kWhere, ": unknown key '", it.key(), "' (allowed: ", allowed, ")");
    }
  }
  for (const char* k : {"height", "width"})
    if (!j.contains(k)) fail(kWhere, ": '", k, "' is required (", side_rule(), ")");

  InputPipeline p;
  if (j.contains("channels")) p.channels = kFields.read_int(j["channels"], "channels", kChannelsRule);
  p.height = kFields.read_int(j["height"], "height", side_rule());
  p.width = kFields.read_int(j["width"], "width", side_rule());
  if (j.contains("resize")) p.resize = kFields.read_string(j["resize"], "resize", kResizeRule);
  if (j.contains("resize_shorter"))
    p.resize_shorter =
        kFields.read_int(j["resize_shorter"], "resize_shorter", "0 (off) or an integer >= max(height, width)");
  if (j.contains("scale")) p.scale = kFields.read_float(j["scale"], "scale", "a finite number > 0");
  if (j.contains("mean")) p.mean = kFields.read_floats(j["mean"], "mean", per_channel_rule(p.channels));
  if (j.contains("std")) p.std = kFields.read_floats(j["std"], "std", per_channel_rule(p.channels));
  if (j.contains("layout")) p.layout = kFields.read_string(j["layout"], "layout", kLayoutRule);
  if (j.contains("dtype")) {
    std::string d = kFields.read_string(j["dtype"], "dtype", kDTypeRule);
    if (d == "float32")
      p.dtype = DType::Float32;
    else if (d == "uint8")
      p.dtype = DType::UInt8;
    else if (d == "int8")
      p.dtype = DType::Int8;
    else
      kFields.bad_value("dtype", kDTypeRule, in_quotes(d));
  }
  if (j.contains("quant_scale"))
    p.quant_scale = kFields.read_float(j["quant_scale"], "quant_scale", "a finite number > 0");
  if (j.contains("quant_zero_point")) {
    IntRange zp = zero_point_range(p.dtype);
    std::string rule = int_range(zp.lo, zp.hi) + " for " + dtype_key(p.dtype);
    int64_t v = kFields.read_int(j["quant_zero_point"], "quant_zero_point", rule);
    if (v < zp.lo || v > zp.hi) kFields.bad_value("quant_zero_point", rule, std::to_string(v));
    p.quant_zero_point = int32_t(v);
  }
  validate_input_pipeline(p);
  return p;
}

json input_pipeline_json(const InputPipeline& p) {
  return json{{"channels", p.channels},
              {"height", p.height},
              {"width", p.width},
              {"resize", p.resize},
              {"resize_shorter", p.resize_shorter},
              {"scale", p.scale},
              {"mean", p.mean},
              {"std", p.std},
              {"layout", p.layout},
              {"dtype", dtype_key(p.dtype)},
              {"quant_scale", p.quant_scale},
              {"quant_zero_point", p.quant_zero_point}};
}

// -----------------------------------------------------------------------------------------------
// Decoding

Image decode_image(const uint8_t* data, size_t size, int64_t channels) {
  PITH_CHECK(channels == 1 || channels == 3, "decode_image: channels must be 1 or 3, got ", channels);
  if (data == nullptr || size == 0) fail("empty image (0 bytes)");
  if (!is_png(data, size) && !is_jpeg(data, size)) fail("unsupported image format (expected JPEG or PNG)");
  PITH_CHECK(size <= size_t(INT_MAX), "image too large: ", size, " bytes");
  const int len = int(size);
  if (is_jpeg(data, size) && !jpeg_huffman_tables_fit(data, size))
    fail("corrupt image: bad Huffman table (more than 256 codes)");

  // Read the header first so an image that claims to be huge allocates nothing.
  int w = 0, h = 0, comp = 0;
  if (!stbi_info_from_memory(data, len, &w, &h, &comp)) corrupt();
  if (w < 1 || h < 1) fail("corrupt image: ", w, "x", h, " pixels");
  if (w > kMaxImageSide || h > kMaxImageSide)
    fail("image is ", w, "x", h, ", larger than the ", kMaxImageSide, "x", kMaxImageSide, " limit");

  std::unique_ptr<stbi_uc, void (*)(void*)> pixels(stbi_load_from_memory(data, len, &w, &h, &comp, int(channels)),
                                                   stbi_image_free);
  if (!pixels) corrupt();
  // The header was re-read by the decoder; never trust that it agreed with the first read.
  if (w < 1 || h < 1 || w > kMaxImageSide || h > kMaxImageSide) fail("corrupt image: inconsistent header");
  Image im{w, h, channels, {}};
  im.pixels.assign(pixels.get(), pixels.get() + size_t(w) * size_t(h) * size_t(channels));
  return im;
}

// -----------------------------------------------------------------------------------------------
// Geometry

Image resize_bilinear(const Image& image, int64_t width, int64_t height) {
  check_image(image, "resize_bilinear");
  check_output_size("resize_bilinear", width, height);
  return resample_bilinear(image, {width, height, 0, 0, width, height});
}

Image resize_area(const Image& image, int64_t width, int64_t height) {
  check_image(image, "resize_area");
  check_output_size("resize_area", width, height);
  return resample_area(image, {width, height, 0, 0, width, height});
}

Image center_crop(const Image& image, int64_t width, int64_t height) {
  check_image(image, "center_crop");
  PITH_CHECK(width >= 1 && height >= 1 && width <= image.width && height <= image.height, "center_crop: crop ", width,
             "x", height, " does not fit in the ", image.width, "x", image.height, " image");
  const int64_t x0 = (image.width - width) / 2, y0 = (image.height - height) / 2, c = image.channels;
  Image out{width, height, c, std::vector<uint8_t>(size_t(width * height * c))};
  for (int64_t y = 0; y < height; ++y) {
    const uint8_t* row = image.pixels.data() + ((y0 + y) * image.width + x0) * c;
    std::copy(row, row + width * c, out.pixels.data() + y * width * c);
  }
  return out;
}

// -----------------------------------------------------------------------------------------------
// Tensor

Tensor image_to_tensor(const Image& image, const InputPipeline& p) {
  validate_input_pipeline(p);
  check_image(image, "image_to_tensor");
  PITH_CHECK(image.channels == p.channels, "image_to_tensor: image has ", image.channels,
             " channels, the input pipeline expects ", p.channels);
  // Full-size resize bounds for resample_bilinear's integer products: the shorter side is at
  // most kMaxInputSide and the longer at most kMaxInputSide * kMaxImageSide (~2^27), so
  // 255 * 2^15 * 2^28 stays far below 2^63. Larger (hand-built) images are refused.
  PITH_CHECK(image.width <= kMaxImageSide && image.height <= kMaxImageSide, "image_to_tensor: image ", image.width, "x",
             image.height, " is larger than the ", kMaxImageSide, "x", kMaxImageSide, " limit");
  Window w = p.resize_shorter > 0 ? shorter_side_window(image, p) : Window{p.width, p.height, 0, 0, p.width, p.height};
  Image r = resample(image, p.resize, w);
  if (p.dtype == DType::UInt8) return pixels_to_tensor<uint8_t>(r, p);
  if (p.dtype == DType::Int8) return pixels_to_tensor<int8_t>(r, p);
  return pixels_to_tensor<float>(r, p);
}

Tensor preprocess_image(const uint8_t* data, size_t size, const InputPipeline& p) {
  validate_input_pipeline(p);  // before decoding: a bad recipe is not the client's fault
  return image_to_tensor(decode_image(data, size, p.channels), p);
}

}  // namespace pith::serve
