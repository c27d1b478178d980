#include "core/tensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>

namespace pith {

namespace {
// 64-byte alignment: what SIMD kernels and mmapped weight segments assume.
std::shared_ptr<void> allocate(size_t bytes) {
  size_t padded = (bytes + 63) / 64 * 64;
  if (padded == 0) padded = 64;
  void* p = std::aligned_alloc(64, padded);
  if (!p) throw std::bad_alloc();
  std::memset(p, 0, padded);
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}
}  // namespace

Tensor::Tensor(DType dtype, Shape shape) : dtype_(dtype), shape_(std::move(shape)) {
  PITH_CHECK(dtype_is_storable(dtype), "tensors of type ", dtype_name(dtype), " are not supported");
  for (int64_t d : shape_) PITH_CHECK(d >= 0, "negative dimension in shape ", shape_str(shape_));
  storage_ = allocate(nbytes());
  data_ = storage_.get();
}

Tensor Tensor::view(DType dtype, Shape shape, void* data) {
  Tensor t;
  t.dtype_ = dtype;
  t.shape_ = std::move(shape);
  t.data_ = data;
  return t;
}

Tensor Tensor::view(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner) {
  Tensor t = view(dtype, std::move(shape), data);
  t.storage_ = std::move(owner);
  return t;
}

Tensor Tensor::clone() const {
  Tensor t(dtype_, shape_);
  if (nbytes()) std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::reshaped(Shape shape) const {
  PITH_CHECK(shape_numel(shape) == numel(), "cannot reshape ", shape_str(shape_), " to ", shape_str(shape));
  Tensor t = *this;
  t.shape_ = std::move(shape);
  return t;
}

double Tensor::as_double(int64_t i) const {
  switch (dtype_) {
    case DType::Float32:
      return data<float>()[i];
    case DType::Float64:
      return data<double>()[i];
    case DType::Float16:
      return half_to_float(data<uint16_t>()[i]);
    case DType::BFloat16:
      return bfloat16_to_float(data<uint16_t>()[i]);
    case DType::Int8:
      return data<int8_t>()[i];
    case DType::UInt8:
      return data<uint8_t>()[i];
    case DType::Int16:
      return data<int16_t>()[i];
    case DType::UInt16:
      return data<uint16_t>()[i];
    case DType::Int32:
      return data<int32_t>()[i];
    case DType::UInt32:
      return data<uint32_t>()[i];
    case DType::Int64:
      return double(data<int64_t>()[i]);
    case DType::UInt64:
      return double(data<uint64_t>()[i]);
    case DType::Bool:
      return data<bool>()[i] ? 1.0 : 0.0;
    default:
      fail("cannot read elements of a ", dtype_name(dtype_), " tensor");
  }
}

int64_t Tensor::as_int64(int64_t i) const {
  switch (dtype_) {
    case DType::Int64:
      return data<int64_t>()[i];
    case DType::Int32:
      return data<int32_t>()[i];
    case DType::UInt64:
      return int64_t(data<uint64_t>()[i]);
    default:
      return int64_t(as_double(i));
  }
}

Shape Tensor::to_int64_vector() const {
  Shape v(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) v[size_t(i)] = as_int64(i);
  return v;
}

std::vector<float> Tensor::to_float_vector() const {
  std::vector<float> v(static_cast<size_t>(numel()));
  for (int64_t i = 0; i < numel(); ++i) v[size_t(i)] = float(as_double(i));
  return v;
}

namespace {
template <typename To>
To convert_from_double(double v) {
  if constexpr (std::is_same_v<To, bool>) {
    return v != 0.0;
  } else if constexpr (std::is_floating_point_v<To>) {
    return To(v);
  } else {
    if (std::isnan(v)) return To(0);
    // Saturate instead of UB on out-of-range conversions.
    if (v >= double(std::numeric_limits<To>::max())) return std::numeric_limits<To>::max();
    if (v <= double(std::numeric_limits<To>::lowest())) return std::numeric_limits<To>::lowest();
    return To(v);
  }
}

template <typename To>
void convert_all(const Tensor& src, Tensor& dst) {
  To* out = dst.data<To>();
  int64_t n = src.numel();
  if (src.dtype() == DType::Int64 || src.dtype() == DType::UInt64) {
    // Avoid precision loss through double for 64-bit integers.
    for (int64_t i = 0; i < n; ++i) {
      if constexpr (std::is_integral_v<To> && !std::is_same_v<To, bool>) {
        out[i] = src.dtype() == DType::Int64 ? To(src.data<int64_t>()[i]) : To(src.data<uint64_t>()[i]);
      } else {
        out[i] = src.dtype() == DType::Int64 ? convert_from_double<To>(double(src.data<int64_t>()[i]))
                                             : convert_from_double<To>(double(src.data<uint64_t>()[i]));
      }
    }
    return;
  }
  for (int64_t i = 0; i < n; ++i) out[i] = convert_from_double<To>(src.as_double(i));
}
}  // namespace

Tensor cast_tensor(const Tensor& t, DType to) {
  if (t.dtype() == to) return t.clone();
  Tensor out(to, t.shape());
  switch (to) {
    case DType::Float32:
      convert_all<float>(t, out);
      break;
    case DType::Float64:
      convert_all<double>(t, out);
      break;
    case DType::Int8:
      convert_all<int8_t>(t, out);
      break;
    case DType::UInt8:
      convert_all<uint8_t>(t, out);
      break;
    case DType::Int16:
      convert_all<int16_t>(t, out);
      break;
    case DType::UInt16:
      convert_all<uint16_t>(t, out);
      break;
    case DType::Int32:
      convert_all<int32_t>(t, out);
      break;
    case DType::UInt32:
      convert_all<uint32_t>(t, out);
      break;
    case DType::Int64:
      convert_all<int64_t>(t, out);
      break;
    case DType::UInt64:
      convert_all<uint64_t>(t, out);
      break;
    case DType::Bool:
      convert_all<bool>(t, out);
      break;
    case DType::Float16: {
      uint16_t* o = out.data<uint16_t>();
      for (int64_t i = 0; i < t.numel(); ++i) o[i] = float_to_half(float(t.as_double(i)));
      break;
    }
    case DType::BFloat16: {
      uint16_t* o = out.data<uint16_t>();
      for (int64_t i = 0; i < t.numel(); ++i) o[i] = float_to_bfloat16(float(t.as_double(i)));
      break;
    }
    default:
      fail("cannot cast to ", dtype_name(to));
  }
  return out;
}

}  // namespace pith
