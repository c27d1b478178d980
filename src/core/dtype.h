// Element types. The numbering follows ONNX TensorProto.DataType so that import
// and export need no table; pith supports the numeric ones (no strings).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>

namespace pith {

enum class DType : int32_t {
  Undefined = 0,
  Float32 = 1,
  UInt8 = 2,
  Int8 = 3,
  UInt16 = 4,
  Int16 = 5,
  Int32 = 6,
  Int64 = 7,
  String = 8,
  Bool = 9,
  Float16 = 10,
  Float64 = 11,
  UInt32 = 12,
  UInt64 = 13,
  BFloat16 = 16,
};

// Bytes per element; 0 for Undefined and String (not storable in a Tensor).
size_t dtype_size(DType t);
const char* dtype_name(DType t);  // "float32", "int64", ...
bool dtype_is_float(DType t);     // float16, bfloat16, float32, float64
bool dtype_is_signed_int(DType t);
bool dtype_is_unsigned_int(DType t);
inline bool dtype_is_int(DType t) { return dtype_is_signed_int(t) || dtype_is_unsigned_int(t); }
bool dtype_is_storable(DType t);

// IEEE half and bfloat16 stored as raw bits; converted through float.
struct half_t { uint16_t bits; };
struct bfloat16_t { uint16_t bits; };

float half_to_float(uint16_t h);
uint16_t float_to_half(float f);  // round to nearest even, with inf/nan/subnormals
inline float bfloat16_to_float(uint16_t b) {
  uint32_t u = uint32_t(b) << 16;
  float f;
  std::memcpy(&f, &u, 4);
  return f;
}
uint16_t float_to_bfloat16(float f);  // round to nearest even

template <typename T> struct dtype_of;
template <> struct dtype_of<float> { static constexpr DType value = DType::Float32; };
template <> struct dtype_of<double> { static constexpr DType value = DType::Float64; };
template <> struct dtype_of<half_t> { static constexpr DType value = DType::Float16; };
template <> struct dtype_of<bfloat16_t> { static constexpr DType value = DType::BFloat16; };
template <> struct dtype_of<int8_t> { static constexpr DType value = DType::Int8; };
template <> struct dtype_of<uint8_t> { static constexpr DType value = DType::UInt8; };
template <> struct dtype_of<int16_t> { static constexpr DType value = DType::Int16; };
template <> struct dtype_of<uint16_t> { static constexpr DType value = DType::UInt16; };
template <> struct dtype_of<int32_t> { static constexpr DType value = DType::Int32; };
template <> struct dtype_of<uint32_t> { static constexpr DType value = DType::UInt32; };
template <> struct dtype_of<int64_t> { static constexpr DType value = DType::Int64; };
template <> struct dtype_of<uint64_t> { static constexpr DType value = DType::UInt64; };
template <> struct dtype_of<bool> { static constexpr DType value = DType::Bool; };

}  // namespace pith
