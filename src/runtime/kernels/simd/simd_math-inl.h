// Vectorized float32 math with the edge behaviour of the C library (inf, NaN, overflow),
// for the elementwise and softmax kernels. Included once per SIMD target (-inl.h).
//   ExpF(d, x)  e^x: hwy::Exp (1 ULP) with overflow to +inf and NaN passed through.
//   ErfF(d, x)  erf(x): odd Taylor polynomial for |x| < 0.5, Abramowitz & Stegun 7.1.26
//               (|error| < 1.5e-7) above; NaN passed through.
#if defined(PITH_SIMD_MATH_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PITH_SIMD_MATH_INL_H_
#undef PITH_SIMD_MATH_INL_H_
#else
#define PITH_SIMD_MATH_INL_H_
#endif

#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include <limits>

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// Largest float whose exponential is finite (ln(FLT_MAX) rounded down).
constexpr float kExpOverflow = 88.72283172607421875f;

template <class D, class V>
HWY_INLINE V ExpF(D d, V x) {
  const V limit = hn::Set(d, kExpOverflow);
  const V y = hn::Exp(d, hn::Min(x, limit));  // below -104 hwy::Exp gives 0 (as expf underflows)
  const V big = hn::IfThenElse(hn::Gt(x, limit), hn::Set(d, std::numeric_limits<float>::infinity()), y);
  return hn::IfThenElse(hn::IsNaN(x), x, big);
}

template <class D, class V>
HWY_INLINE V ErfF(D d, V x) {
  const V ax = hn::Abs(x);
  // erf(x) = 2/sqrt(pi) * sum_n (-1)^n x^(2n+1) / (n! (2n+1)), through n = 6.
  const V x2 = hn::Mul(x, x);
  V p = hn::Set(d, 1.2055332981789664e-4f);
  p = hn::MulAdd(p, x2, hn::Set(d, -8.548327023450852e-4f));
  p = hn::MulAdd(p, x2, hn::Set(d, 5.223977625442188e-3f));
  p = hn::MulAdd(p, x2, hn::Set(d, -2.6866170645131252e-2f));
  p = hn::MulAdd(p, x2, hn::Set(d, 1.1283791670955126e-1f));
  p = hn::MulAdd(p, x2, hn::Set(d, -3.7612638903183754e-1f));
  p = hn::MulAdd(p, x2, hn::Set(d, 1.1283791670955126f));
  const V small = hn::Mul(x, p);
  // 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-x^2), t = 1 / (1 + p |x|).
  const V one = hn::Set(d, 1.0f);
  const V t = hn::Div(one, hn::MulAdd(hn::Set(d, 0.3275911f), ax, one));
  V q = hn::Set(d, 1.061405429f);
  q = hn::MulAdd(q, t, hn::Set(d, -1.453152027f));
  q = hn::MulAdd(q, t, hn::Set(d, 1.421413741f));
  q = hn::MulAdd(q, t, hn::Set(d, -0.284496736f));
  q = hn::MulAdd(q, t, hn::Set(d, 0.254829592f));
  const V e = hn::Exp(d, hn::Neg(hn::Mul(ax, ax)));  // 0 once x^2 > 104 (erf is 1 there)
  const V large = hn::NegMulAdd(hn::Mul(q, t), e, one);
  const V r = hn::IfThenElse(hn::Lt(ax, hn::Set(d, 0.5f)), small, hn::CopySign(large, x));
  return hn::IfThenElse(hn::IsNaN(x), x, r);
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
