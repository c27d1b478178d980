// Tensor: a typed, shaped block of memory. Copies are shallow (shared storage);
// clone() makes a deep copy. A tensor either owns its buffer or views memory it
// does not own (an mmapped weight segment, an arena slot).
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "core/dtype.h"
#include "core/error.h"
#include "core/shape.h"

namespace pith {

class Tensor {
 public:
  Tensor() = default;
  // Allocates zero-filled storage.
  Tensor(DType dtype, Shape shape);
  // Views external memory (not owned; must outlive the tensor and its copies).
  static Tensor view(DType dtype, Shape shape, void* data);
  // Views memory inside a block kept alive by `owner` (an arena slot, a mapped file).
  static Tensor view(DType dtype, Shape shape, void* data, std::shared_ptr<void> owner);

  template <typename T>
  static Tensor from_vector(const std::vector<T>& values, Shape shape) {
    Tensor t(dtype_of<T>::value, std::move(shape));
    PITH_CHECK(size_t(t.numel()) == values.size(), "from_vector: ", values.size(), " values for shape ",
               shape_str(t.shape()));
    if constexpr (std::is_same_v<T, bool>) {
      for (size_t i = 0; i < values.size(); ++i) t.data<bool>()[i] = values[i];
    } else {
      std::copy(values.begin(), values.end(), t.data<T>());
    }
    return t;
  }
  template <typename T>
  static Tensor scalar(T v) {
    return from_vector<T>({v}, {});
  }

  bool defined() const { return dtype_ != DType::Undefined; }
  DType dtype() const { return dtype_; }
  const Shape& shape() const { return shape_; }
  int64_t rank() const { return int64_t(shape_.size()); }
  int64_t dim(int64_t i) const { return shape_[normalize_axis(i, rank())]; }
  int64_t numel() const { return shape_numel(shape_); }
  size_t nbytes() const { return size_t(numel()) * dtype_size(dtype_); }

  void* raw() { return data_; }
  const void* raw() const { return data_; }
  template <typename T>
  T* data() {
    return static_cast<T*>(data_);
  }
  template <typename T>
  const T* data() const {
    return static_cast<const T*>(data_);
  }

  Tensor clone() const;
  // Same storage, new shape of the same element count.
  Tensor reshaped(Shape shape) const;

  // Element i converted to double / int64 (any numeric dtype); for shape inputs etc.
  double as_double(int64_t i) const;
  int64_t as_int64(int64_t i) const;
  Shape to_int64_vector() const;  // in place for up to Shape::kInline elements
  std::vector<float> to_float_vector() const;

 private:
  DType dtype_ = DType::Undefined;
  Shape shape_;
  std::shared_ptr<void> storage_;
  void* data_ = nullptr;
};

// Converts every element to `to` (ONNX Cast semantics: float->int truncates, to bool is != 0).
Tensor cast_tensor(const Tensor& t, DType to);

}  // namespace pith
