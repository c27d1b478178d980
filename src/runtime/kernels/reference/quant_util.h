// Small helpers shared by the quantized reference kernels: round-half-to-even with
// saturation into an 8/16/32-bit integer type.
#pragma once

#include <cmath>
#include <cstdint>
#include <limits>

namespace pith::ref {

// saturate(round_half_even(v) + zero_point) into T (NaN counts as 0).
template <typename T>
inline T saturate_round(float v, int32_t zero_point) {
  double r = (std::isnan(v) ? 0.0 : double(std::nearbyint(v))) + double(zero_point);
  constexpr double lo = double(std::numeric_limits<T>::lowest()), hi = double(std::numeric_limits<T>::max());
  if (r < lo) r = lo;
  if (r > hi) r = hi;
  return T(r);
}

}  // namespace pith::ref
