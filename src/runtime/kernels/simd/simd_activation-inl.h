// Vectorized fused activations (see runtime/kernels/activation.h for their meaning),
// included by the Highway kernels once per SIMD target (the -inl.h convention).
#if defined(PITH_SIMD_ACTIVATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PITH_SIMD_ACTIVATION_INL_H_
#undef PITH_SIMD_ACTIVATION_INL_H_
#else
#define PITH_SIMD_ACTIVATION_INL_H_
#endif

#include <hwy/contrib/math/math-inl.h>
#include <hwy/highway.h>

#include "runtime/kernels/activation.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// e^x for x in [-87, 88] (callers clamp), relative error below 1e-6: 2^n * 2^f with
// n = round(x log2 e) put in the exponent field and 2^f, f in [-1/2, 1/2], from its
// degree-6 Taylor polynomial (truncation error 1.2e-7). About half the work of the
// correctly rounded hwy::Exp, which dominated convolutions fused with SiLU.
// n is rounded by adding 1.5 * 2^23 (|t| < 2^22; round half to even like hn::Round), which
// also leaves n's integer in the sum's low bits: no float-to-int conversion (whose x86
// overflow fix-ups cost as much as the rounding).
template <class D, class V>
HWY_INLINE V FastExp(D d, V x) {
  const hn::RebindToSigned<D> di;
  const V magic = hn::Set(d, 12582912.0f);
  const V t = hn::Mul(x, hn::Set(d, 1.44269504088896341f));
  const V shifted = hn::Add(t, magic);
  const V n = hn::Sub(shifted, magic);
  const V f = hn::Sub(t, n);
  V p = hn::Set(d, 1.5403530393381606e-4f);
  p = hn::MulAdd(p, f, hn::Set(d, 1.3333558146428443e-3f));
  p = hn::MulAdd(p, f, hn::Set(d, 9.6181291076284772e-3f));
  p = hn::MulAdd(p, f, hn::Set(d, 5.5504108664821580e-2f));
  p = hn::MulAdd(p, f, hn::Set(d, 2.4022650695910071e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, 6.9314718055994531e-1f));
  p = hn::MulAdd(p, f, hn::Set(d, 1.0f));
  // The sum's bits are those of 1.5 * 2^23 (0x4B400000) plus n: less that, plus the bias.
  const auto bits = hn::ShiftLeft<23>(hn::Add(hn::BitCast(di, shifted), hn::Set(di, 127 - 0x4B400000)));
  return hn::Mul(p, hn::BitCast(d, bits));
}

template <class D, class V>
HWY_INLINE V Activate(D d, V v, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None:
      return v;
    case ActivationKind::Relu:
      return hn::Max(v, hn::Zero(d));
    case ActivationKind::Clip:
      return hn::Min(hn::Max(v, hn::Set(d, act.alpha)), hn::Set(d, act.beta));
    case ActivationKind::LeakyRelu:
      return hn::IfThenElse(hn::Lt(v, hn::Zero(d)), hn::Mul(v, hn::Set(d, act.alpha)), v);
    case ActivationKind::HardSigmoid:
      return hn::Min(hn::Max(hn::MulAdd(v, hn::Set(d, act.alpha), hn::Set(d, act.beta)), hn::Zero(d)),
                     hn::Set(d, 1.0f));
    case ActivationKind::HardSwish: {
      auto g = hn::MulAdd(v, hn::Set(d, 1.0f / 6.0f), hn::Set(d, 0.5f));
      return hn::Mul(v, hn::Min(hn::Max(g, hn::Zero(d)), hn::Set(d, 1.0f)));
    }
    case ActivationKind::Sigmoid:
    case ActivationKind::SiLU: {
      // 1 / (1 + exp(-x)); the clamp keeps exp finite (sigmoid saturates far earlier).
      auto nx = hn::Min(hn::Max(hn::Neg(v), hn::Set(d, -87.0f)), hn::Set(d, 88.0f));
      auto s = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), FastExp(d, nx)));
      return act.kind == ActivationKind::Sigmoid ? s : hn::Mul(v, s);
    }
    case ActivationKind::Tanh:
      return hn::Tanh(d, v);
  }
  return v;
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
