// The serving input and output pipelines: recipes parse strictly and round-trip; JPEG and
// PNG bytes decode (and any corruption of them is a pith::Error, never a crash); resizing
// matches hand computations; normalization, layout and quantization give the values the
// recipe promises; top-k, NMS and the JSON answers are right and refuse wrong outputs.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <stb/stb_image_write.h>

#include <cmath>
#include <random>

#include "core/error.h"
#include "serve/input_pipeline.h"
#include "serve/output_pipeline.h"

namespace pith::serve {
namespace {

using nlohmann::json;
using ::testing::ElementsAre;
using ::testing::FloatEq;
using ::testing::HasSubstr;
using ::testing::ThrowsMessage;

// Expects `statement` to throw pith::Error whose message contains `text`.
#define EXPECT_ERROR(statement, text) EXPECT_THAT([&] { statement; }, ThrowsMessage<Error>(HasSubstr(text)))

// ---------------------------------------------------------------------------------------------
// Helpers

// A deterministic image whose channels differ, so swapped channels or rows show up.
Image pattern(int64_t w, int64_t h, int64_t c) {
  Image im{w, h, c, std::vector<uint8_t>(size_t(w * h * c))};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t ch = 0; ch < c; ++ch)
        im.pixels[size_t((y * w + x) * c + ch)] = uint8_t((37 * x + 91 * y + 60 * ch) % 256);
  return im;
}

Image random_image(int64_t w, int64_t h, int64_t c, uint32_t seed) {
  std::mt19937 rng(seed);
  Image im{w, h, c, std::vector<uint8_t>(size_t(w * h * c))};
  for (uint8_t& p : im.pixels) p = uint8_t(rng() & 255);
  return im;
}

uint8_t at(const Image& im, int64_t x, int64_t y, int64_t ch = 0) {
  return im.pixels[size_t((y * im.width + x) * im.channels + ch)];
}

void append_bytes(void* context, void* data, int size) {
  auto* out = static_cast<std::vector<uint8_t>*>(context);
  auto* bytes = static_cast<uint8_t*>(data);
  out->insert(out->end(), bytes, bytes + size);
}

std::vector<uint8_t> encode_png(const Image& im) {
  std::vector<uint8_t> out;
  EXPECT_NE(stbi_write_png_to_func(append_bytes, &out, int(im.width), int(im.height), int(im.channels),
                                   im.pixels.data(), int(im.width * im.channels)),
            0);
  return out;
}

std::vector<uint8_t> encode_jpeg(const Image& im, int quality = 95) {
  std::vector<uint8_t> out;
  EXPECT_NE(stbi_write_jpg_to_func(append_bytes, &out, int(im.width), int(im.height), int(im.channels),
                                   im.pixels.data(), quality),
            0);
  return out;
}

// A smooth image: JPEG keeps it close, so decoded pixels can be compared with a tolerance.
Image gradient(int64_t w, int64_t h) {
  Image im{w, h, 3, std::vector<uint8_t>(size_t(w * h * 3))};
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x) {
      uint8_t* p = &im.pixels[size_t((y * w + x) * 3)];
      p[0] = uint8_t(40 + 8 * x);
      p[1] = uint8_t(60 + 6 * y);
      p[2] = 128;
    }
  return im;
}

void put_be32(std::vector<uint8_t>& out, uint32_t v) {
  for (int shift = 24; shift >= 0; shift -= 8) out.push_back(uint8_t(v >> shift));
}

uint32_t crc32(const uint8_t* data, size_t n) {
  uint32_t crc = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) {
    crc ^= data[i];
    for (int b = 0; b < 8; ++b) crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1u)));
  }
  return ~crc;
}

// A PNG signature and IHDR chunk claiming an 8-bit RGB image of the given size, and no data.
std::vector<uint8_t> png_header(uint32_t w, uint32_t h) {
  std::vector<uint8_t> out = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'};
  put_be32(out, 13);
  const size_t type_at = out.size();
  for (char c : std::string("IHDR")) out.push_back(uint8_t(c));
  put_be32(out, w);
  put_be32(out, h);
  for (uint8_t b : {8, 2, 0, 0, 0}) out.push_back(b);  // depth, RGB, deflate, filter, no interlace
  put_be32(out, crc32(out.data() + type_at, out.size() - type_at));
  return out;
}

// A JPEG start-of-image and baseline start-of-frame claiming a w x h, 3-component image.
std::vector<uint8_t> jpeg_header(uint16_t w, uint16_t h) {
  return {0xFF,       0xD8,
          0xFF,       0xC0,
          0x00,       0x11,
          0x08,       uint8_t(h >> 8),
          uint8_t(h), uint8_t(w >> 8),
          uint8_t(w), 0x03,
          0x01,       0x11,
          0x00,       0x02,
          0x11,       0x00,
          0x03,       0x11,
          0x00};
}

// Decodes and reports success; any failure other than pith::Error escapes and fails the test.
bool decodes(const std::vector<uint8_t>& bytes) {
  try {
    Image im = decode_image(bytes.data(), bytes.size(), 3);
    EXPECT_EQ(im.pixels.size(), size_t(im.width * im.height * 3));
    return true;
  } catch (const Error&) {
    return false;
  }
}

InputPipeline pipeline_from(const std::string& text) { return parse_input_pipeline(json::parse(text)); }
OutputPipeline output_from(const std::string& text) { return parse_output_pipeline(json::parse(text)); }

// ---------------------------------------------------------------------------------------------
// Input recipe

TEST(InputPipelineParse, ReadsEveryField) {
  InputPipeline p = pipeline_from(R"({"channels": 3, "height": 224, "width": 200, "resize": "area",
      "resize_shorter": 256, "scale": 0.5, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225],
      "layout": "NHWC", "dtype": "int8", "quant_scale": 0.02, "quant_zero_point": -3})");
  EXPECT_EQ(p.channels, 3);
  EXPECT_EQ(p.height, 224);
  EXPECT_EQ(p.width, 200);
  EXPECT_EQ(p.resize, "area");
  EXPECT_EQ(p.resize_shorter, 256);
  EXPECT_FLOAT_EQ(p.scale, 0.5f);
  EXPECT_THAT(p.mean, ElementsAre(0.485f, 0.456f, 0.406f));
  EXPECT_THAT(p.std, ElementsAre(0.229f, 0.224f, 0.225f));
  EXPECT_EQ(p.layout, "NHWC");
  EXPECT_EQ(p.dtype, DType::Int8);
  EXPECT_FLOAT_EQ(p.quant_scale, 0.02f);
  EXPECT_EQ(p.quant_zero_point, -3);
}

TEST(InputPipelineParse, DefaultsNeedOnlyTheSize) {
  InputPipeline p = pipeline_from(R"({"height": 28, "width": 28})");
  EXPECT_EQ(p.channels, 3);
  EXPECT_EQ(p.resize, "bilinear");
  EXPECT_EQ(p.resize_shorter, 0);
  EXPECT_FLOAT_EQ(p.scale, 1 / 255.f);
  EXPECT_TRUE(p.mean.empty());
  EXPECT_TRUE(p.std.empty());
  EXPECT_EQ(p.layout, "NCHW");
  EXPECT_EQ(p.dtype, DType::Float32);
}

TEST(InputPipelineParse, RoundTripsThroughJson) {
  InputPipeline p;
  p.channels = 1;
  p.height = 17;
  p.width = 33;
  p.resize = "area";
  p.resize_shorter = 40;
  p.scale = 0.25f;
  p.mean = {0.1f};
  p.std = {0.3f};
  p.layout = "NHWC";
  p.dtype = DType::UInt8;
  p.quant_scale = 0.125f;
  p.quant_zero_point = 7;
  json j = input_pipeline_json(p);
  InputPipeline q = parse_input_pipeline(j);
  EXPECT_EQ(input_pipeline_json(q), j);
  EXPECT_EQ(q.channels, p.channels);
  EXPECT_EQ(q.height, p.height);
  EXPECT_EQ(q.width, p.width);
  EXPECT_EQ(q.resize, p.resize);
  EXPECT_EQ(q.resize_shorter, p.resize_shorter);
  EXPECT_EQ(q.scale, p.scale);
  EXPECT_EQ(q.mean, p.mean);
  EXPECT_EQ(q.std, p.std);
  EXPECT_EQ(q.layout, p.layout);
  EXPECT_EQ(q.dtype, p.dtype);
  EXPECT_EQ(q.quant_scale, p.quant_scale);
  EXPECT_EQ(q.quant_zero_point, p.quant_zero_point);
  EXPECT_EQ(j["dtype"], "uint8");

  InputPipeline defaults;
  defaults.height = defaults.width = 8;
  EXPECT_EQ(input_pipeline_json(parse_input_pipeline(input_pipeline_json(defaults))), input_pipeline_json(defaults));
}

TEST(InputPipelineParse, RejectsBadShapeOfRecipe) {
  EXPECT_ERROR(parse_input_pipeline(json::array()), "input pipeline: expected a JSON object");
  EXPECT_ERROR(pipeline_from(R"({"height": 2, "width": 2, "hieght": 2})"), "unknown key 'hieght'");
  EXPECT_ERROR(pipeline_from(R"({"height": 2, "width": 2, "hieght": 2})"), "allowed: channels, height, width");
  EXPECT_ERROR(pipeline_from(R"({"width": 2})"), "'height' is required");
  EXPECT_ERROR(pipeline_from(R"({"height": 2})"), "'width' is required");
}

TEST(InputPipelineParse, RejectsEveryBadValueNamingTheKey) {
  struct Case {
    const char* fields;
    const char* message;
  };
  const Case cases[] = {
      {R"("channels": 4)", "'channels' must be 1 (grayscale) or 3 (RGB), got 4"},
      {R"("channels": "3")", "'channels' must be 1 (grayscale) or 3 (RGB), got \"3\""},
      {R"("height": 0)", "'height' must be an integer in [1, 16384], got 0"},
      {R"("height": 16385)", "'height' must be an integer in [1, 16384], got 16385"},
      {R"("height": 224.5)", "'height' must be an integer in [1, 16384], got 224.5"},
      {R"("height": 18446744073709551615)", "'height' must be an integer in [1, 16384]"},
      {R"("width": -1)", "'width' must be an integer in [1, 16384], got -1"},
      {R"("width": null)", "'width' must be an integer in [1, 16384], got null"},
      {R"("resize": "cubic")", "input pipeline: 'resize' must be \"bilinear\" or \"area\", got \"cubic\""},
      {R"("resize": 1)", "'resize' must be \"bilinear\" or \"area\", got 1"},
      {R"("resize_shorter": 3)",
       "'resize_shorter' must be 0 (off) or an integer in [max(height, width) = 4, 16384], got 3"},
      {R"("resize_shorter": -1)", "'resize_shorter' must be 0 (off) or an integer in [max(height, width) = 4"},
      {R"("resize_shorter": 20000)", "'resize_shorter' must be 0 (off) or an integer in [max(height, width) = 4"},
      {R"("resize_shorter": "256")", "'resize_shorter' must be 0 (off)"},
      {R"("scale": 0)", "'scale' must be a finite number > 0, got 0"},
      {R"("scale": -1)", "'scale' must be a finite number > 0, got -1"},
      {R"("scale": 1e300)", "'scale' must be a finite number > 0, got inf"},
      {R"("scale": "1/255")", "'scale' must be a finite number > 0, got \"1/255\""},
      {R"("mean": [0.5, 0.5])", "'mean' must be an array of 3 numbers (one per channel) or empty, got 2 numbers"},
      {R"("mean": 0.5)", "'mean' must be an array of 3 numbers"},
      {R"("mean": [0.5, "a", 0.5])", "'mean' must be an array of 3 numbers"},
      {R"("std": [1, 1, 1, 1])", "'std' must be an array of 3 numbers (one per channel) or empty, got 4 numbers"},
      {R"("std": [1, 0, 1])", "'std' entries must be finite and nonzero, got 0 at index 1"},
      {R"("layout": "CHW")", "'layout' must be \"NCHW\" or \"NHWC\", got \"CHW\""},
      {R"("layout": ["NCHW"])", "'layout' must be \"NCHW\" or \"NHWC\", got [\"NCHW\"]"},
      {R"("dtype": "float16")", "'dtype' must be \"float32\", \"uint8\" or \"int8\", got \"float16\""},
      {R"("dtype": 1)", "'dtype' must be \"float32\", \"uint8\" or \"int8\", got 1"},
      {R"("quant_scale": 0)", "'quant_scale' must be a finite number > 0, got 0"},
      {R"("quant_scale": true)", "'quant_scale' must be a finite number > 0, got true"},
      {R"("dtype": "uint8", "quant_zero_point": 256)",
       "'quant_zero_point' must be an integer in [0, 255] for uint8, got 256"},
      {R"("dtype": "uint8", "quant_zero_point": -1)", "'quant_zero_point' must be an integer in [0, 255] for uint8"},
      {R"("dtype": "int8", "quant_zero_point": 128)",
       "'quant_zero_point' must be an integer in [-128, 127] for int8, got 128"},
      {R"("dtype": "int8", "quant_zero_point": 1.5)",
       "'quant_zero_point' must be an integer in [-128, 127] for int8, got 1.5"},
      {R"("quant_zero_point": 3000000000)", "'quant_zero_point' must be an integer in [-2147483648, 2147483647]"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.fields);
    EXPECT_ERROR(pipeline_from(std::string(R"({"height": 4, "width": 4, )") + c.fields + "}"), c.message);
  }
  // Channels change what mean/std must hold.
  EXPECT_ERROR(pipeline_from(R"({"height": 4, "width": 4, "channels": 1, "mean": [0.1, 0.2, 0.3]})"),
               "'mean' must be an array of 1 numbers");
  EXPECT_NO_THROW(pipeline_from(R"({"height": 4, "width": 4, "channels": 1, "mean": [0.1], "std": [0.2]})"));
}

TEST(InputPipelineParse, ValidateCatchesRecipesBuiltInCode) {
  InputPipeline p;
  p.height = p.width = 4;
  EXPECT_NO_THROW(validate_input_pipeline(p));
  p.dtype = DType::Float16;
  EXPECT_ERROR(validate_input_pipeline(p), "'dtype' must be \"float32\", \"uint8\" or \"int8\", got \"float16\"");
  p.dtype = DType::Float32;
  p.std = {1, std::nanf(""), 1};
  EXPECT_ERROR(validate_input_pipeline(p), "'std' entries must be finite and nonzero, got nan at index 1");
}

// ---------------------------------------------------------------------------------------------
// Decoding

TEST(DecodeImage, PngIsLossless) {
  Image src = pattern(13, 7, 3);
  std::vector<uint8_t> png = encode_png(src);
  Image im = decode_image(png.data(), png.size(), 3);
  EXPECT_EQ(im.width, 13);
  EXPECT_EQ(im.height, 7);
  EXPECT_EQ(im.channels, 3);
  EXPECT_EQ(im.pixels, src.pixels);
}

TEST(DecodeImage, JpegIsCloseToTheSource) {
  Image src = gradient(16, 16);
  std::vector<uint8_t> jpg = encode_jpeg(src);
  ASSERT_GE(jpg.size(), 3u);
  EXPECT_EQ(jpg[0], 0xFF);
  Image im = decode_image(jpg.data(), jpg.size(), 3);
  ASSERT_EQ(im.width, 16);
  ASSERT_EQ(im.height, 16);
  ASSERT_EQ(im.channels, 3);
  double error = 0;
  for (size_t i = 0; i < im.pixels.size(); ++i) error += std::abs(int(im.pixels[i]) - int(src.pixels[i]));
  EXPECT_LT(error / double(im.pixels.size()), 4.0);
}

TEST(DecodeImage, ConvertsBetweenGrayAndRgb) {
  // RGB -> gray: luminance, within rounding of the BT.601 weights.
  Image rgb = pattern(9, 5, 3);
  std::vector<uint8_t> png = encode_png(rgb);
  Image gray = decode_image(png.data(), png.size(), 1);
  ASSERT_EQ(gray.channels, 1);
  ASSERT_EQ(gray.pixels.size(), size_t(9 * 5));
  for (int64_t y = 0; y < 5; ++y)
    for (int64_t x = 0; x < 9; ++x) {
      double luma = 0.299 * at(rgb, x, y, 0) + 0.587 * at(rgb, x, y, 1) + 0.114 * at(rgb, x, y, 2);
      EXPECT_NEAR(at(gray, x, y), luma, 2.0) << x << "," << y;
    }
  // Gray -> RGB: the value in every channel.
  Image one = pattern(6, 4, 1);
  std::vector<uint8_t> gray_png = encode_png(one);
  Image three = decode_image(gray_png.data(), gray_png.size(), 3);
  ASSERT_EQ(three.channels, 3);
  for (int64_t y = 0; y < 4; ++y)
    for (int64_t x = 0; x < 6; ++x)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(at(three, x, y, c), at(one, x, y));
  // RGBA -> RGB drops alpha.
  Image rgba = pattern(3, 3, 4);
  std::vector<uint8_t> rgba_png = encode_png(rgba);
  Image no_alpha = decode_image(rgba_png.data(), rgba_png.size(), 3);
  for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(at(no_alpha, 2, 1, c), at(rgba, 2, 1, c));
}

TEST(DecodeImage, RefusesEmptyUnknownAndCorruptBytes) {
  EXPECT_ERROR(decode_image(nullptr, 0, 3), "empty image");
  const uint8_t one = 0xFF;
  EXPECT_ERROR(decode_image(&one, 0, 3), "empty image");
  EXPECT_ERROR(decode_image(&one, 1, 3), "unsupported image format (expected JPEG or PNG)");
  const std::string gif = "GIF89a\x01\x00\x01\x00\x00\x00\x00";
  EXPECT_ERROR(decode_image(reinterpret_cast<const uint8_t*>(gif.data()), gif.size(), 3),
               "unsupported image format (expected JPEG or PNG)");
  const std::string bmp = "BM\x3a\x00\x00\x00\x00\x00\x00\x00\x36\x00\x00\x00";
  EXPECT_ERROR(decode_image(reinterpret_cast<const uint8_t*>(bmp.data()), bmp.size(), 3), "unsupported image format");

  std::vector<uint8_t> png = encode_png(pattern(8, 8, 3));
  std::vector<uint8_t> garbage(64, 0xAB);  // the signature, then junk
  std::copy(png.begin(), png.begin() + 8, garbage.begin());
  EXPECT_ERROR(decode_image(garbage.data(), garbage.size(), 3), "corrupt image: ");
  EXPECT_ERROR(decode_image(png.data(), png.size() / 2, 3), "corrupt image: ");
  std::vector<uint8_t> jpg = encode_jpeg(gradient(8, 8));
  EXPECT_ERROR(decode_image(jpg.data(), 3, 3), "corrupt image: ");
  EXPECT_ERROR(decode_image(png.data(), png.size(), 2), "channels must be 1 or 3");
}

TEST(DecodeImage, RefusesOversizedHeadersBeforeDecoding) {
  std::vector<uint8_t> big_png = png_header(9000, 9000);
  EXPECT_ERROR(decode_image(big_png.data(), big_png.size(), 3), "image is 9000x9000, larger than the 8192x8192 limit");
  std::vector<uint8_t> tall_png = png_header(16, 8193);
  EXPECT_ERROR(decode_image(tall_png.data(), tall_png.size(), 3), "image is 16x8193");
  std::vector<uint8_t> big_jpg = jpeg_header(8200, 100);
  EXPECT_ERROR(decode_image(big_jpg.data(), big_jpg.size(), 3), "image is 8200x100, larger than the 8192x8192 limit");
  // At the limit the header passes; the missing pixel data is then reported as corrupt.
  std::vector<uint8_t> edge_png = png_header(8192, 8192);
  EXPECT_ERROR(decode_image(edge_png.data(), edge_png.size(), 3), "corrupt image: ");
}

// Inserts a segment (marker, big-endian length including itself, payload) after start of image.
std::vector<uint8_t> with_segment(std::vector<uint8_t> jpg, uint8_t marker, const std::vector<uint8_t>& payload) {
  std::vector<uint8_t> seg = {0xFF, marker, uint8_t((payload.size() + 2) >> 8), uint8_t(payload.size() + 2)};
  seg.insert(seg.end(), payload.begin(), payload.end());
  jpg.insert(jpg.begin() + 2, seg.begin(), seg.end());
  return jpg;
}

TEST(DecodeImage, RefusesHuffmanTablesWithTooManyCodes) {
  const std::vector<uint8_t> jpg = encode_jpeg(gradient(8, 8));
  // One table whose 16 counts declare 16 * 32 = 512 codes; a JPEG table holds at most 256.
  std::vector<uint8_t> table = {0x00};
  table.resize(17, 32);
  std::vector<uint8_t> bad = with_segment(jpg, 0xC4, table);
  EXPECT_ERROR(decode_image(bad.data(), bad.size(), 3), "corrupt image: bad Huffman table (more than 256 codes)");
  // The same bytes inside an application segment are payload, not a table: the image decodes.
  std::vector<uint8_t> payload = {'p', 'i', 't', 'h', 0, 0xFF, 0xC4, 0x00, 0x13};
  payload.insert(payload.end(), table.begin(), table.end());
  std::vector<uint8_t> app = with_segment(jpg, 0xE1, payload);
  EXPECT_EQ(decode_image(app.data(), app.size(), 3).width, 8);
}

// 1000 truncations and 1000 bit flips of a valid PNG and of a valid JPEG: each decodes or
// throws pith::Error (the sanitizer build turns any memory error into a failure).
TEST(DecodeImage, DamagedBytesNeverCrash) {
  const std::vector<uint8_t> valid[] = {encode_png(random_image(12, 10, 3, 7)), encode_jpeg(gradient(24, 17), 80)};
  std::mt19937 rng(20240611);
  for (const std::vector<uint8_t>& original : valid) {
    ASSERT_TRUE(decodes(original));
    int errors = 0;
    for (int i = 0; i < 1000; ++i) {
      std::vector<uint8_t> cut(original.begin(), original.begin() + rng() % original.size());
      errors += !decodes(cut);
    }
    EXPECT_GT(errors, 0);
    for (int i = 0; i < 1000; ++i) {
      std::vector<uint8_t> flipped = original;
      const int flips = 1 + int(rng() % 4);
      for (int f = 0; f < flips; ++f) flipped[rng() % flipped.size()] ^= uint8_t(1u << (rng() % 8));
      decodes(flipped);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Resizing

// Bilinear with half-pixel centers, computed the plain way for each output pixel.
double bilinear_reference(const Image& im, int64_t w, int64_t h, int64_t x, int64_t y, int64_t c) {
  auto source = [](int64_t o, int64_t in, int64_t out, int64_t& i0, int64_t& i1, double& f) {
    double s = std::clamp((o + 0.5) * double(in) / double(out) - 0.5, 0.0, double(in - 1));
    i0 = int64_t(std::floor(s));
    i1 = std::min(i0 + 1, in - 1);
    f = s - double(i0);
  };
  int64_t x0, x1, y0, y1;
  double fx, fy;
  source(x, im.width, w, x0, x1, fx);
  source(y, im.height, h, y0, y1, fy);
  double top = (1 - fx) * at(im, x0, y0, c) + fx * at(im, x1, y0, c);
  double bottom = (1 - fx) * at(im, x0, y1, c) + fx * at(im, x1, y1, c);
  return (1 - fy) * top + fy * bottom;
}

void expect_rounded(const Image& out, const Image& in, int64_t x, int64_t y, int64_t c, double exact) {
  // Only an exact .5 tie could differ from the reference's floating point; allow it either way.
  double frac = exact - std::floor(exact);
  if (std::abs(frac - 0.5) < 1e-9)
    EXPECT_NEAR(at(out, x, y, c), exact, 0.5 + 1e-9) << x << "," << y << "," << c;
  else
    EXPECT_EQ(at(out, x, y, c), uint8_t(std::floor(exact + 0.5))) << x << "," << y << "," << c;
}

TEST(Resize, BilinearMatchesScalarComputation) {
  for (auto [sw, sh, dw, dh] :
       std::vector<std::array<int64_t, 4>>{{5, 3, 7, 4}, {4, 4, 2, 2}, {7, 5, 3, 2}, {1, 1, 3, 2}, {3, 1, 1, 5}}) {
    SCOPED_TRACE(testing::Message() << sw << "x" << sh << " -> " << dw << "x" << dh);
    Image in = random_image(sw, sh, 3, uint32_t(sw * 100 + dw));
    Image out = resize_bilinear(in, dw, dh);
    ASSERT_EQ(out.width, dw);
    ASSERT_EQ(out.height, dh);
    ASSERT_EQ(out.channels, 3);
    for (int64_t y = 0; y < dh; ++y)
      for (int64_t x = 0; x < dw; ++x)
        for (int64_t c = 0; c < 3; ++c) expect_rounded(out, in, x, y, c, bilinear_reference(in, dw, dh, x, y, c));
  }
}

TEST(Resize, BilinearByHand) {
  // 4x4 -> 2x2: centers land between source pixels, so each output is its 2x2 block mean.
  Image grid{4, 4, 1, {0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150}};
  EXPECT_THAT(resize_bilinear(grid, 2, 2).pixels, ElementsAre(25, 45, 105, 125));
  // 5x3 -> 7x4, output (3, 1): source x = 3.5 * 5/7 - 0.5 = 2 exactly, y = 1.5 * 3/4 - 0.5 = 0.625,
  // so 0.375 * p(2, 0) + 0.625 * p(2, 1) = 0.375 * 100 + 0.625 * 201 = 163.125 -> 163. Output (0, 0)
  // clamps to the corner pixel.
  Image small{5, 3, 1, std::vector<uint8_t>(15, 0)};
  small.pixels[2] = 100;      // p(2, 0)
  small.pixels[5 + 2] = 201;  // p(2, 1)
  small.pixels[0] = 77;
  Image out = resize_bilinear(small, 7, 4);
  EXPECT_EQ(at(out, 3, 1), 163);
  EXPECT_EQ(at(out, 0, 0), 77);
}

TEST(Resize, IdentityKeepsPixels) {
  Image in = random_image(9, 6, 3, 3);
  EXPECT_EQ(resize_bilinear(in, 9, 6).pixels, in.pixels);
  EXPECT_EQ(resize_area(in, 9, 6).pixels, in.pixels);
}

TEST(Resize, AreaHalvingGivesBlockMeans) {
  Image in = random_image(6, 4, 3, 11);
  Image out = resize_area(in, 3, 2);
  ASSERT_EQ(out.pixels.size(), size_t(3 * 2 * 3));
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        int sum = at(in, 2 * x, 2 * y, c) + at(in, 2 * x + 1, 2 * y, c) + at(in, 2 * x, 2 * y + 1, c) +
                  at(in, 2 * x + 1, 2 * y + 1, c);
        EXPECT_EQ(at(out, x, y, c), (sum + 2) / 4) << x << "," << y << "," << c;  // mean, halves up
      }
}

TEST(Resize, AreaFractionalByHand) {
  // 3 -> 2: output 0 covers source [0, 1.5): (a + b / 2) / 1.5; output 1 covers [1.5, 3).
  Image row{3, 1, 1, {10, 20, 41}};
  EXPECT_THAT(resize_area(row, 2, 1).pixels, ElementsAre(13, 34));  // 40/3 = 13.3, 102/3 = 34
  // 3x3 -> 2x2: output (0, 0) covers [0, 1.5)^2: (p00 + p10/2 + p01/2 + p11/4) / 2.25.
  Image sq{3, 3, 1, {90, 30, 0, 60, 200, 0, 0, 0, 0}};
  // (90 + 15 + 30 + 50) / 2.25 = 82.2 -> 82; output (1, 1) covers [1.5, 3)^2: 200/4 / 2.25 = 22.2 -> 22.
  Image out = resize_area(sq, 2, 2);
  EXPECT_EQ(at(out, 0, 0), 82);
  EXPECT_EQ(at(out, 1, 1), 22);
  // Upscaling 2 -> 3: the middle output covers [2/3, 4/3), a third of each source pixel.
  Image two{2, 1, 1, {10, 50}};
  EXPECT_THAT(resize_area(two, 3, 1).pixels, ElementsAre(10, 30, 50));
}

TEST(Resize, AreaMatchesIntegratedOverlap) {
  Image in = random_image(7, 5, 2, 5);
  const int64_t w = 3, h = 4;
  Image out = resize_area(in, w, h);
  auto overlap = [](double a0, double a1, double b0, double b1) {
    return std::max(0.0, std::min(a1, b1) - std::max(a0, b0));
  };
  for (int64_t y = 0; y < h; ++y)
    for (int64_t x = 0; x < w; ++x)
      for (int64_t c = 0; c < 2; ++c) {
        double sx = 7.0 / w, sy = 5.0 / h, sum = 0;
        for (int64_t j = 0; j < 5; ++j)
          for (int64_t i = 0; i < 7; ++i)
            sum += overlap(x * sx, (x + 1) * sx, double(i), i + 1.0) *
                   overlap(y * sy, (y + 1) * sy, double(j), j + 1.0) * at(in, i, j, c);
        expect_rounded(out, in, x, y, c, sum / (sx * sy));
      }
}

TEST(Resize, RejectsBadSizes) {
  Image in = pattern(4, 4, 3);
  EXPECT_ERROR(resize_bilinear(in, 0, 4), "resize_bilinear: output size 0x4");
  EXPECT_ERROR(resize_area(in, 4, 20000), "resize_area: output size 4x20000");
  Image broken = in;
  broken.pixels.pop_back();
  EXPECT_ERROR(resize_bilinear(broken, 2, 2), "holds 47 bytes, expected 48");
}

TEST(CenterCrop, TakesTheMiddleRoundingDown) {
  Image in = pattern(7, 5, 3);
  Image out = center_crop(in, 4, 2);  // offset (1, 1)
  ASSERT_EQ(out.width, 4);
  ASSERT_EQ(out.height, 2);
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 4; ++x)
      for (int64_t c = 0; c < 3; ++c) EXPECT_EQ(at(out, x, y, c), at(in, x + 1, y + 1, c));
  Image even = pattern(6, 6, 1);
  Image mid = center_crop(even, 3, 3);  // (6 - 3) / 2 = 1.5 -> 1
  EXPECT_EQ(at(mid, 0, 0), at(even, 1, 1));
  EXPECT_EQ(at(mid, 2, 2), at(even, 3, 3));
  EXPECT_EQ(center_crop(in, 7, 5).pixels, in.pixels);
  EXPECT_ERROR(center_crop(in, 8, 5), "center_crop: crop 8x5 does not fit in the 7x5 image");
  EXPECT_ERROR(center_crop(in, 7, 0), "center_crop: crop 7x0");
}

// ---------------------------------------------------------------------------------------------
// Image to tensor

InputPipeline sized(int64_t w, int64_t h, int64_t c = 3) {
  InputPipeline p;
  p.width = w;
  p.height = h;
  p.channels = c;
  return p;
}

TEST(ImageToTensor, LaysOutNchwAndNhwc) {
  Image im = pattern(3, 2, 3);
  InputPipeline p = sized(3, 2);
  p.scale = 1;
  Tensor nchw = image_to_tensor(im, p);
  EXPECT_EQ(nchw.dtype(), DType::Float32);
  EXPECT_EQ(nchw.shape(), (Shape{1, 3, 2, 3}));
  p.layout = "NHWC";
  Tensor nhwc = image_to_tensor(im, p);
  EXPECT_EQ(nhwc.shape(), (Shape{1, 2, 3, 3}));
  for (int64_t y = 0; y < 2; ++y)
    for (int64_t x = 0; x < 3; ++x)
      for (int64_t c = 0; c < 3; ++c) {
        EXPECT_EQ(nchw.data<float>()[(c * 2 + y) * 3 + x], float(at(im, x, y, c)));
        EXPECT_EQ(nhwc.data<float>()[(y * 3 + x) * 3 + c], float(at(im, x, y, c)));
      }
}

TEST(ImageToTensor, NormalizesPerChannel) {
  Image im{2, 1, 3, {0, 255, 51, 255, 0, 102}};
  InputPipeline p = sized(2, 1);
  p.mean = {0.5f, 0.25f, 0.f};
  p.std = {0.25f, 0.5f, 2.f};
  p.layout = "NHWC";
  Tensor t = image_to_tensor(im, p);
  const float* v = t.data<float>();
  EXPECT_FLOAT_EQ(v[0], -2.f);  // (0 - 0.5) / 0.25
  EXPECT_FLOAT_EQ(v[1], 1.5f);  // (1 - 0.25) / 0.5
  EXPECT_FLOAT_EQ(v[2], 0.1f);  // (0.2 - 0) / 2
  EXPECT_FLOAT_EQ(v[3], 2.f);
  EXPECT_FLOAT_EQ(v[4], -0.5f);
  EXPECT_FLOAT_EQ(v[5], 0.2f);
  // No mean/std: just the scale.
  Tensor plain = image_to_tensor(im, sized(2, 1));
  EXPECT_THAT(plain.to_float_vector(), ElementsAre(0.f, 1.f, 1.f, 0.f, FloatEq(0.2f), FloatEq(0.4f)));  // NCHW
}

Image all_gray_values() {
  Image im{256, 1, 1, std::vector<uint8_t>(256)};
  for (int v = 0; v < 256; ++v) im.pixels[size_t(v)] = uint8_t(v);
  return im;
}

TEST(ImageToTensor, Uint8WithUnitScalesGivesRawPixels) {
  InputPipeline p = sized(256, 1, 1);
  p.dtype = DType::UInt8;
  p.quant_scale = 1 / 255.f;
  Tensor t = image_to_tensor(all_gray_values(), p);
  ASSERT_EQ(t.dtype(), DType::UInt8);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(t.data<uint8_t>()[v], v);
}

TEST(ImageToTensor, QuantizesWithZeroPointAndClamps) {
  Image gray = all_gray_values();
  // int8, zero point -128: v - 128 exactly.
  InputPipeline p = sized(256, 1, 1);
  p.dtype = DType::Int8;
  p.quant_scale = 1 / 255.f;
  p.quant_zero_point = -128;
  Tensor t = image_to_tensor(gray, p);
  ASSERT_EQ(t.dtype(), DType::Int8);
  for (int v = 0; v < 256; ++v) EXPECT_EQ(t.data<int8_t>()[v], v - 128);
  // Normalized to [-1, 1] then quantized with scale 1/255: beyond [-128, 127] clamps.
  p.mean = {0.5f};
  p.std = {0.5f};
  p.quant_zero_point = 0;
  t = image_to_tensor(gray, p);
  EXPECT_EQ(t.data<int8_t>()[0], -128);
  EXPECT_EQ(t.data<int8_t>()[255], 127);
  EXPECT_EQ(t.data<int8_t>()[128], int8_t(std::nearbyint((128 / 255.f - 0.5f) / 0.5f / (1 / 255.f))));
  // uint8, same normalization: negative values clamp to 0, the top to 255.
  p.dtype = DType::UInt8;
  t = image_to_tensor(gray, p);
  EXPECT_EQ(t.data<uint8_t>()[0], 0);
  EXPECT_EQ(t.data<uint8_t>()[100], 0);
  EXPECT_EQ(t.data<uint8_t>()[255], 255);
  // uint8 with scale 1/127 and zero point 128: q = round(x * 127) + 128.
  p.quant_scale = 1 / 127.f;
  p.quant_zero_point = 128;
  t = image_to_tensor(gray, p);
  EXPECT_EQ(t.data<uint8_t>()[0], 1);
  EXPECT_EQ(t.data<uint8_t>()[255], 255);
  for (int v = 0; v < 256; ++v) {
    float x = (v / 255.f - 0.5f) / 0.5f;
    EXPECT_EQ(t.data<uint8_t>()[v], uint8_t(std::clamp(std::nearbyint(x / (1 / 127.f)) + 128.f, 0.f, 255.f))) << v;
  }
}

TEST(ImageToTensor, ResizesStraightOrShorterSideThenCrops) {
  Image wide = random_image(40, 20, 3, 21);
  InputPipeline p = sized(8, 8);
  p.scale = 1;
  // Straight resize.
  Tensor t = image_to_tensor(wide, p);
  Image straight = resize_bilinear(wide, 8, 8);
  EXPECT_EQ(t.data<float>()[0], float(straight.pixels[0]));
  EXPECT_EQ(t.data<float>()[2 * 64 + 63], float(at(straight, 7, 7, 2)));
  // Shorter side to 10 (40x20 -> 20x10), then the 8x8 center crop at (6, 1); for both methods
  // and both orientations this equals resizing in full and cropping.
  p.resize_shorter = 10;
  p.layout = "NHWC";
  for (const char* method : {"bilinear", "area"}) {
    p.resize = method;
    for (const Image& im : {wide, random_image(15, 33, 3, 22)}) {
      SCOPED_TRACE(method);
      const bool landscape = im.width > im.height;
      const int64_t fw = landscape ? 10 * im.width / im.height : 10, fh = landscape ? 10 : 10 * im.height / im.width;
      Image full = p.resize == "area" ? resize_area(im, fw, fh) : resize_bilinear(im, fw, fh);
      Image crop = center_crop(full, 8, 8);
      Tensor r = image_to_tensor(im, p);
      ASSERT_EQ(r.shape(), (Shape{1, 8, 8, 3}));
      for (size_t i = 0; i < crop.pixels.size(); ++i) ASSERT_EQ(r.data<float>()[i], float(crop.pixels[i])) << i;
    }
  }
}

TEST(ImageToTensor, RefusesMismatchedChannelsAndBadRecipes) {
  Image gray = pattern(4, 4, 1);
  EXPECT_ERROR(image_to_tensor(gray, sized(4, 4)),
               "image_to_tensor: image has 1 channels, the input pipeline expects 3");
  InputPipeline bad = sized(4, 4);
  bad.layout = "CHW";
  EXPECT_ERROR(image_to_tensor(pattern(4, 4, 3), bad), "'layout' must be \"NCHW\" or \"NHWC\"");
  EXPECT_ERROR(image_to_tensor(pattern(4, 4, 3), InputPipeline{}), "'height' must be an integer in [1, 16384], got 0");
}

TEST(PreprocessImage, DecodesThenConverts) {
  Image src = random_image(10, 6, 3, 31);
  std::vector<uint8_t> png = encode_png(src);
  InputPipeline p = pipeline_from(R"({"height": 4, "width": 5, "mean": [0.5, 0.5, 0.5], "std": [0.2, 0.2, 0.2]})");
  Tensor t = preprocess_image(png.data(), png.size(), p);
  Tensor expected = image_to_tensor(src, p);
  ASSERT_EQ(t.shape(), (Shape{1, 3, 4, 5}));
  for (int64_t i = 0; i < t.numel(); ++i) EXPECT_EQ(t.data<float>()[i], expected.data<float>()[i]);
  // Grayscale models get converted input.
  p = pipeline_from(R"({"height": 3, "width": 5, "channels": 1})");
  EXPECT_EQ(preprocess_image(png.data(), png.size(), p).shape(), (Shape{1, 1, 3, 5}));
  EXPECT_ERROR(preprocess_image(png.data(), 5, p), "unsupported image format");
}

// ---------------------------------------------------------------------------------------------
// Output recipe

TEST(OutputPipelineParse, ReadsAndRoundTrips) {
  OutputPipeline p = output_from(R"({"kind": "detection", "softmax": true, "top_k": 3, "labels": ["cat", "dog"],
      "score_threshold": 0.5, "iou_threshold": 0.6, "max_detections": 10, "box_format": "cxcywh"})");
  EXPECT_EQ(p.kind, "detection");
  EXPECT_TRUE(p.softmax);
  EXPECT_EQ(p.top_k, 3);
  EXPECT_THAT(p.labels, ElementsAre("cat", "dog"));
  EXPECT_FLOAT_EQ(p.score_threshold, 0.5f);
  EXPECT_FLOAT_EQ(p.iou_threshold, 0.6f);
  EXPECT_EQ(p.max_detections, 10);
  EXPECT_EQ(p.box_format, "cxcywh");
  json j = output_pipeline_json(p);
  OutputPipeline q = parse_output_pipeline(j);
  EXPECT_EQ(output_pipeline_json(q), j);
  EXPECT_EQ(q.labels, p.labels);
  EXPECT_EQ(q.score_threshold, p.score_threshold);
  EXPECT_EQ(q.iou_threshold, p.iou_threshold);

  OutputPipeline defaults = output_from("{}");
  EXPECT_EQ(defaults.kind, "raw");
  EXPECT_EQ(defaults.top_k, 5);
  EXPECT_EQ(output_pipeline_json(parse_output_pipeline(output_pipeline_json(defaults))),
            output_pipeline_json(defaults));
}

TEST(OutputPipelineParse, RejectsEveryBadValueNamingTheKey) {
  EXPECT_ERROR(parse_output_pipeline(json("raw")), "output pipeline: expected a JSON object, got \"raw\"");
  EXPECT_ERROR(output_from(R"({"knd": "raw"})"), "output pipeline: unknown key 'knd' (allowed: kind, softmax");
  struct Case {
    const char* text;
    const char* message;
  };
  const Case cases[] = {
      {R"({"kind": "segmentation"})",
       "output pipeline: 'kind' must be \"raw\", \"classification\" or \"detection\", got \"segmentation\""},
      {R"({"kind": 2})", "'kind' must be \"raw\", \"classification\" or \"detection\", got 2"},
      {R"({"softmax": "yes"})", "'softmax' must be true or false, got \"yes\""},
      {R"({"top_k": 0})", "'top_k' must be an integer >= 1, got 0"},
      {R"({"top_k": 2.5})", "'top_k' must be an integer >= 1, got 2.5"},
      {R"({"labels": "cat"})", "'labels' must be an array of strings, got \"cat\""},
      {R"({"labels": ["cat", 3]})", "'labels' must be an array of strings, got 3 at index 1"},
      {R"({"score_threshold": "high"})", "'score_threshold' must be a finite number, got \"high\""},
      {R"({"score_threshold": 1e300})", "'score_threshold' must be a finite number, got inf"},
      {R"({"iou_threshold": 1.5})", "'iou_threshold' must be a number in [0, 1], got 1.5"},
      {R"({"iou_threshold": -0.1})", "'iou_threshold' must be a number in [0, 1], got -0.1"},
      {R"({"max_detections": 0})", "'max_detections' must be an integer >= 1, got 0"},
      {R"({"max_detections": "10"})", "'max_detections' must be an integer >= 1, got \"10\""},
      {R"({"box_format": "xywh"})", "'box_format' must be \"xyxy\" or \"cxcywh\", got \"xywh\""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    EXPECT_ERROR(output_from(c.text), c.message);
  }
  OutputPipeline coded;
  coded.kind = "segmentation";
  EXPECT_ERROR(validate_output_pipeline(coded), "'kind' must be");
}

// ---------------------------------------------------------------------------------------------
// Classification

TEST(TopK, OrdersByScoreTiesToLowerIndex) {
  Tensor scores = Tensor::from_vector<float>({0.1f, 0.9f, 0.5f, 0.9f, 0.2f}, {1, 5});
  std::vector<Classification> top = top_k(scores, 3, false, {"a", "b", "c"});
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].index, 1);
  EXPECT_EQ(top[1].index, 3);
  EXPECT_EQ(top[2].index, 2);
  EXPECT_FLOAT_EQ(top[0].score, 0.9f);
  EXPECT_EQ(top[0].label, "b");
  EXPECT_EQ(top[1].label, "");  // no label for index 3
  EXPECT_EQ(top[2].label, "c");
  // k beyond N gives all of them; rank 1 works too.
  std::vector<Classification> all = top_k(scores.reshaped({5}), 10, false, {});
  ASSERT_EQ(all.size(), 5u);
  EXPECT_EQ(all[4].index, 0);
}

TEST(TopK, SoftmaxIsStableAndSumsToOne) {
  Tensor logits = Tensor::from_vector<float>({1000.f, 1002.f, 1001.f}, {1, 3});
  std::vector<Classification> top = top_k(logits, 3, true, {});
  ASSERT_EQ(top.size(), 3u);
  EXPECT_EQ(top[0].index, 1);
  EXPECT_EQ(top[1].index, 2);
  EXPECT_EQ(top[2].index, 0);
  double sum = 0;
  for (auto& c : top) {
    EXPECT_TRUE(std::isfinite(c.score));
    sum += c.score;
  }
  EXPECT_NEAR(sum, 1.0, 1e-6);
  EXPECT_NEAR(top[0].score, 1 / (1 + std::exp(-1.0) + std::exp(-2.0)), 1e-6);
  // Equal logits: equal probabilities, ties still by index.
  std::vector<Classification> even = top_k(Tensor::from_vector<float>({3.f, 3.f}, {2}), 2, true, {});
  EXPECT_FLOAT_EQ(even[0].score, 0.5f);
  EXPECT_EQ(even[0].index, 0);
}

TEST(TopK, RefusesBadScores) {
  EXPECT_ERROR(top_k(Tensor::from_vector<float>({1, 2, 3, 4}, {2, 2}), 1, false, {}),
               "top_k: scores must be float32 of shape [1, N] or [N] with N >= 1, got float32 [2, 2]");
  EXPECT_ERROR(top_k(Tensor::from_vector<int64_t>({1, 2}, {2}), 1, false, {}), "got int64 [2]");
  EXPECT_ERROR(top_k(Tensor(DType::Float32, {1, 0}), 1, false, {}), "with N >= 1");
  EXPECT_ERROR(top_k(Tensor::from_vector<float>({1, 2}, {2}), 0, false, {}), "top_k: k must be >= 1, got 0");
  EXPECT_ERROR(top_k(Tensor::from_vector<float>({1, std::nanf("")}, {2}), 1, false, {}), "top_k: score 1 is NaN");
  EXPECT_ERROR(top_k(Tensor::from_vector<float>({1, INFINITY}, {2}), 1, true, {}), "softmax of non-finite scores");
}

// ---------------------------------------------------------------------------------------------
// Detection

Detection box(float x0, float y0, float x1, float y1, float score, int64_t cls = 0) {
  return {x0, y0, x1, y1, score, cls, ""};
}

TEST(Nms, SuppressesOverlapsWithinAClassOnly) {
  std::vector<Detection> kept = non_max_suppression(
      {box(0, 0, 10, 10, 0.8f), box(1, 1, 11, 11, 0.9f), box(1, 1, 11, 11, 0.7f, 1), box(50, 50, 60, 60, 0.3f)}, 0.5f,
      100);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].score, 0.9f);  // beat the 0.8 box it overlaps
  EXPECT_EQ(kept[1].cls, 1);             // same place, other class: kept
  EXPECT_FLOAT_EQ(kept[2].score, 0.3f);  // no overlap
}

TEST(Nms, ThresholdIsStrictOnIou) {
  // Inter 50, union 150: IoU 1/3.
  std::vector<Detection> pair = {box(0, 0, 10, 10, 0.9f), box(5, 0, 15, 10, 0.8f)};
  EXPECT_EQ(non_max_suppression(pair, 0.3f, 10).size(), 1u);
  EXPECT_EQ(non_max_suppression(pair, 0.34f, 10).size(), 2u);
  // Identical boxes have IoU 1, which no threshold below 1 lets through.
  EXPECT_EQ(non_max_suppression({box(0, 0, 4, 4, 0.9f), box(0, 0, 4, 4, 0.5f)}, 0.99f, 10).size(), 1u);
  // Zero-area boxes overlap nothing.
  EXPECT_EQ(non_max_suppression({box(0, 0, 0, 10, 0.9f), box(0, 0, 0, 10, 0.8f)}, 0.0f, 10).size(), 2u);
}

TEST(Nms, CapsAtMaxDetectionsBestFirstAndIsStable) {
  std::vector<Detection> boxes;
  for (int i = 0; i < 6; ++i) boxes.push_back(box(20.f * i, 0, 20.f * i + 10, 10, i == 2 || i == 4 ? 0.9f : 0.1f * i));
  boxes[5].label = "last";
  std::vector<Detection> kept = non_max_suppression(boxes, 0.5f, 3);
  ASSERT_EQ(kept.size(), 3u);
  EXPECT_FLOAT_EQ(kept[0].x0, 40.f);  // the first of the two 0.9 boxes
  EXPECT_FLOAT_EQ(kept[1].x0, 80.f);
  EXPECT_EQ(kept[2].label, "last");  // 0.5
  boxes[0].score = std::nanf("");
  EXPECT_EQ(non_max_suppression(boxes, 0.5f, 100).size(), 5u);  // NaN cannot be ranked
  EXPECT_ERROR(non_max_suppression(boxes, 0.5f, 0), "max_detections must be >= 1, got 0");
}

TEST(DecodeDetections, BestClassThresholdAndBoxFormats) {
  OutputPipeline p;
  p.kind = "detection";
  p.labels = {"cat", "dog"};
  p.score_threshold = 0.5f;
  Tensor boxes = Tensor::from_vector<float>({0, 0, 10, 10, 100, 100, 120, 130, 0, 0, 5, 5}, {1, 3, 4});
  Tensor scores = Tensor::from_vector<float>({0.2f, 0.7f, 0.5f, 0.5f, 0.4f, 0.1f}, {1, 3, 2});
  std::vector<Detection> d = decode_detections(boxes, scores, p);
  ASSERT_EQ(d.size(), 2u);  // the third box scores 0.4 < 0.5
  EXPECT_EQ(d[0].cls, 1);
  EXPECT_EQ(d[0].label, "dog");
  EXPECT_FLOAT_EQ(d[0].score, 0.7f);
  EXPECT_EQ(d[1].cls, 0);  // tie 0.5 / 0.5 goes to class 0; 0.5 >= threshold is kept
  EXPECT_EQ(d[1].label, "cat");
  EXPECT_FLOAT_EQ(d[1].x1, 120.f);
  EXPECT_FLOAT_EQ(d[1].y1, 130.f);

  p.box_format = "cxcywh";
  p.score_threshold = 0;
  std::vector<Detection> c = decode_detections(Tensor::from_vector<float>({10, 20, 4, 6}, {1, 4}),
                                               Tensor::from_vector<float>({0.6f}, {1, 1}), p);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FLOAT_EQ(c[0].x0, 8.f);
  EXPECT_FLOAT_EQ(c[0].y0, 17.f);
  EXPECT_FLOAT_EQ(c[0].x1, 12.f);
  EXPECT_FLOAT_EQ(c[0].y1, 23.f);
  EXPECT_EQ(c[0].label, "cat");
  // No boxes: nothing found.
  EXPECT_TRUE(decode_detections(Tensor(DType::Float32, {0, 4}), Tensor(DType::Float32, {0, 2}), p).empty());
}

TEST(DecodeDetections, RefusesWrongShapesAndDtypes) {
  OutputPipeline p;
  Tensor scores = Tensor(DType::Float32, {1, 3, 2});
  EXPECT_ERROR(decode_detections(Tensor(DType::Float32, {1, 3, 5}), scores, p),
               "boxes (output 0) must be float32 of shape [1, N, 4] or [N, 4], got float32 [1, 3, 5]");
  EXPECT_ERROR(decode_detections(Tensor(DType::Float32, {2, 3, 4}), scores, p), "got float32 [2, 3, 4]");
  EXPECT_ERROR(decode_detections(Tensor(DType::Int32, {3, 4}), scores, p), "got int32 [3, 4]");
  EXPECT_ERROR(decode_detections(Tensor(DType::Float32, {1, 4, 4}), scores, p),
               "scores (output 1) must be float32 of shape [1, 4, C] or [4, C] with C >= 1 (N = 4 boxes), got float32 "
               "[1, 3, 2]");
  EXPECT_ERROR(decode_detections(Tensor(DType::Float32, {3, 4}), Tensor(DType::Float32, {3, 0}), p), "with C >= 1");
  EXPECT_ERROR(decode_detections(Tensor(DType::Float32, {3, 4}), Tensor(DType::Float32, {3}), p), "got float32 [3]");
}

// ---------------------------------------------------------------------------------------------
// The JSON answer

TEST(Postprocess, RawGivesEveryOutputAsNumbers) {
  std::vector<Tensor> outs = {Tensor::from_vector<float>({1.5f, -2.f, 0.25f, 4.f}, {2, 2}),
                              Tensor::from_vector<int64_t>({-3, 9007199254740993LL}, {2}),
                              Tensor::from_vector<uint8_t>({7}, {1, 1}), Tensor::from_vector<bool>({true, false}, {2})};
  json j = postprocess({"logits", "ids", "byte", "mask"}, outs, OutputPipeline{});
  EXPECT_EQ(j, json::parse(R"({"outputs": {
      "logits": {"dtype": "float32", "shape": [2, 2], "data": [1.5, -2.0, 0.25, 4.0]},
      "ids": {"dtype": "int64", "shape": [2], "data": [-3, 9007199254740993]},
      "byte": {"dtype": "uint8", "shape": [1, 1], "data": [7]},
      "mask": {"dtype": "bool", "shape": [2], "data": [1, 0]}}})"));
}

TEST(Postprocess, ClassificationGivesTopClasses) {
  OutputPipeline p = output_from(R"({"kind": "classification", "top_k": 2, "labels": ["zero", "one", "two"]})");
  json j = postprocess({"probs"}, {Tensor::from_vector<float>({0.25f, 0.125f, 0.625f}, {1, 3})}, p);
  EXPECT_EQ(j, json::parse(R"({"classes": [{"index": 2, "score": 0.625, "label": "two"},
                                           {"index": 0, "score": 0.25, "label": "zero"}]})"));
}

TEST(Postprocess, DetectionGivesBoxes) {
  OutputPipeline p = output_from(R"({"kind": "detection", "labels": ["person"], "score_threshold": 0.5})");
  Tensor boxes = Tensor::from_vector<float>({0, 0, 10, 10, 1, 1, 10, 10, 20, 20, 30, 30}, {1, 3, 4});
  Tensor scores = Tensor::from_vector<float>({0.75f, 0.5f, 0.25f}, {1, 3, 1});
  json j = postprocess({"boxes", "scores"}, {boxes, scores}, p);
  // The second box overlaps the first (IoU 0.81) and the third is below the threshold.
  EXPECT_EQ(j, json::parse(R"({"detections": [{"box": [0.0, 0.0, 10.0, 10.0], "score": 0.75, "class": 0,
                                               "label": "person"}]})"));
}

TEST(Postprocess, RefusesWrongOutputs) {
  OutputPipeline cls = output_from(R"({"kind": "classification"})");
  OutputPipeline det = output_from(R"({"kind": "detection"})");
  Tensor v = Tensor::from_vector<float>({1, 2}, {1, 2});
  EXPECT_ERROR(postprocess({"a", "b"}, {v}, cls), "postprocess: 2 output names for 1 outputs");
  EXPECT_ERROR(postprocess({}, {}, cls), "classification output: expected at least 1 output (class scores), got 0");
  EXPECT_ERROR(
      postprocess({"logits"}, {Tensor::from_vector<int32_t>({1, 2}, {1, 2})}, cls),
      "classification output: output 0 'logits' must be float32 of shape [1, N] or [N] with N >= 1, got int32 [1, 2]");
  EXPECT_ERROR(postprocess({"logits"}, {Tensor(DType::Float32, {2, 2})}, cls), "got float32 [2, 2]");
  EXPECT_ERROR(postprocess({"boxes"}, {v}, det),
               "detection output: expected at least 2 outputs (boxes, scores), got 1");
  EXPECT_ERROR(postprocess({"boxes", "scores"}, {v, v}, det), "boxes (output 0) must be float32 of shape [1, N, 4]");
  EXPECT_ERROR(postprocess({"x"}, {Tensor()}, OutputPipeline{}), "raw output: output 0 'x' must be a numeric tensor");
  EXPECT_ERROR(postprocess({"x", "x"}, {v, v}, OutputPipeline{}), "output name 'x' appears twice");
  OutputPipeline bad;
  bad.kind = "mask";
  EXPECT_ERROR(postprocess({"x"}, {v}, bad), "'kind' must be");
}

}  // namespace
}  // namespace pith::serve
