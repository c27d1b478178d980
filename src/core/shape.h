// Shapes: dimension lists with the helpers every kernel needs (element counts,
// strides, numpy broadcasting, axis normalization).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace pith {

using Shape = std::vector<int64_t>;

int64_t shape_numel(const Shape& s);  // 1 for a scalar (rank 0)
std::vector<int64_t> shape_strides(const Shape& s);  // row-major, in elements
std::string shape_str(const Shape& s);  // "[1, 3, 224, 224]"

// numpy broadcasting of two or more shapes; throws pith::Error naming both shapes.
Shape broadcast_shapes(const Shape& a, const Shape& b);

// Strides of `in` seen through the broadcast to `out` (0 where broadcast).
std::vector<int64_t> broadcast_strides(const Shape& in, const Shape& out);

// Maps a possibly negative axis into [0, rank); throws if out of range.
int64_t normalize_axis(int64_t axis, int64_t rank, const char* what = "axis");

}  // namespace pith
