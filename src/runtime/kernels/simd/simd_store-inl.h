// Partial vector stores for the Highway kernels, included once per SIMD target (the
// -inl.h convention).
#if defined(PITH_SIMD_STORE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PITH_SIMD_STORE_INL_H_
#undef PITH_SIMD_STORE_INL_H_
#else
#define PITH_SIMD_STORE_INL_H_
#endif

#include <hwy/highway.h>

#include <cstdint>
#include <cstring>

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Stores the first n lanes of v at y: a whole vector directly, fewer through a buffer
// (never touching y[n] and beyond, which may belong to another thread's output).
template <class D, typename T>
HWY_INLINE void StoreFirstN(hn::Vec<D> v, D d, int64_t n, T* y) {
  if (n == int64_t(hn::Lanes(d))) {
    hn::StoreU(v, d, y);
    return;
  }
  HWY_ALIGN T buf[HWY_MAX_BYTES / sizeof(T)];
  hn::Store(v, d, buf);
  std::memcpy(y, buf, size_t(n) * sizeof(T));
}

// Loads the first n (<= Lanes(d)) values at x, the other lanes zero; nothing past n is read.
template <class D, typename T>
HWY_INLINE hn::Vec<D> LoadFirstN(D d, int64_t n, const T* x) {
  if (n == int64_t(hn::Lanes(d))) return hn::LoadU(d, x);
  HWY_ALIGN T buf[HWY_MAX_BYTES / sizeof(T)] = {};
  std::memcpy(buf, x, size_t(n) * sizeof(T));
  return hn::Load(d, buf);
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
