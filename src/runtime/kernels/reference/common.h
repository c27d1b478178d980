// Helpers shared by the reference kernels: dtype dispatch, float16 promotion,
// numpy-broadcast iteration. Reference kernels favour clarity over speed; the
// SIMD kernels (kernels/simd) are tested against them.
#pragma once

#include <cmath>
#include <cstdint>
#include <type_traits>

#include "core/tensor.h"
#include "runtime/kernel.h"

namespace pith::ref {

template <typename T>
struct type_tag {
  using type = T;
};

// Calls f(type_tag<T>{}) for the C++ type of a numeric dtype. float16/bfloat16 are
// not dispatched here: kernels promote them to float32 (see promote/demote).
template <typename F>
void dispatch_numeric(const KernelContext& ctx, DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      f(type_tag<float>{});
      break;
    case DType::Float64:
      f(type_tag<double>{});
      break;
    case DType::Int8:
      f(type_tag<int8_t>{});
      break;
    case DType::UInt8:
      f(type_tag<uint8_t>{});
      break;
    case DType::Int16:
      f(type_tag<int16_t>{});
      break;
    case DType::UInt16:
      f(type_tag<uint16_t>{});
      break;
    case DType::Int32:
      f(type_tag<int32_t>{});
      break;
    case DType::UInt32:
      f(type_tag<uint32_t>{});
      break;
    case DType::Int64:
      f(type_tag<int64_t>{});
      break;
    case DType::UInt64:
      f(type_tag<uint64_t>{});
      break;
    default:
      ctx.fail("unsupported element type ", dtype_name(t));
  }
}

// Numeric types plus bool (for copy-like ops: Gather, Concat, Transpose...).
template <typename F>
void dispatch_all(const KernelContext& ctx, DType t, F&& f) {
  switch (t) {
    case DType::Bool:
      f(type_tag<bool>{});
      break;
    case DType::Float16:
    case DType::BFloat16:
      f(type_tag<uint16_t>{});
      break;
    default:
      dispatch_numeric(ctx, t, std::forward<F>(f));
  }
}

template <typename F>
void dispatch_float(const KernelContext& ctx, DType t, F&& f) {
  switch (t) {
    case DType::Float32:
      f(type_tag<float>{});
      break;
    case DType::Float64:
      f(type_tag<double>{});
      break;
    default:
      ctx.fail("expected a floating-point tensor, got ", dtype_name(t));
  }
}

inline bool is_half(DType t) { return t == DType::Float16 || t == DType::BFloat16; }
// float16/bfloat16 -> float32 (other dtypes returned unchanged).
inline Tensor promote(const Tensor& t) { return is_half(t.dtype()) ? cast_tensor(t, DType::Float32) : t; }
// float32 -> the original half type, when the op's inputs were half.
inline Tensor demote(const Tensor& t, DType original) { return is_half(original) ? cast_tensor(t, original) : t; }

// Visits every element of a broadcast of up to three inputs to `out_shape`, calling
// f(out_index, in0_offset, in1_offset, in2_offset). The innermost dimension is a
// tight loop, so this is fast enough for reference use.
template <typename F>
void for_each_broadcast(const Shape& out_shape, const std::vector<Shape>& in_shapes, F&& f) {
  const size_t rank = out_shape.size();
  const int64_t total = shape_numel(out_shape);
  if (total == 0) return;
  std::vector<Shape> strides;
  for (auto& s : in_shapes) strides.push_back(broadcast_strides(s, out_shape));
  while (strides.size() < 3) strides.push_back(Shape(rank, 0));
  if (rank == 0) {
    f(int64_t(0), int64_t(0), int64_t(0), int64_t(0));
    return;
  }
  const int64_t inner = out_shape[rank - 1];
  const int64_t s0 = strides[0][rank - 1], s1 = strides[1][rank - 1], s2 = strides[2][rank - 1];
  Shape idx(rank, 0);
  int64_t o0 = 0, o1 = 0, o2 = 0;
  for (int64_t base = 0; base < total; base += inner) {
    for (int64_t j = 0; j < inner; ++j) f(base + j, o0 + j * s0, o1 + j * s1, o2 + j * s2);
    // advance the outer index
    for (size_t d = rank - 1; d-- > 0;) {
      ++idx[d];
      o0 += strides[0][d];
      o1 += strides[1][d];
      o2 += strides[2][d];
      if (idx[d] < out_shape[d]) break;
      o0 -= strides[0][d] * idx[d];
      o1 -= strides[1][d] * idx[d];
      o2 -= strides[2][d] * idx[d];
      idx[d] = 0;
    }
  }
}

// Reads an optional int64-list input (e.g. axes) with a fallback to the attribute.
Shape int_list_input_or_attr(const KernelContext& ctx, size_t input, const std::string& attr);

}  // namespace pith::ref
