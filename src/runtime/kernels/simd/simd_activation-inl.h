// Vectorized fused activations (see runtime/kernels/activation.h for their meaning),
// included by the Highway kernels once per SIMD target (the -inl.h convention).
#if defined(PITH_SIMD_ACTIVATION_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PITH_SIMD_ACTIVATION_INL_H_
#undef PITH_SIMD_ACTIVATION_INL_H_
#else
#define PITH_SIMD_ACTIVATION_INL_H_
#endif

#include <hwy/highway.h>
#include <hwy/contrib/math/math-inl.h>

#include "runtime/kernels/activation.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

template <class D, class V>
HWY_INLINE V Activate(D d, V v, const Activation& act) {
  switch (act.kind) {
    case ActivationKind::None: return v;
    case ActivationKind::Relu: return hn::Max(v, hn::Zero(d));
    case ActivationKind::Clip: return hn::Min(hn::Max(v, hn::Set(d, act.alpha)), hn::Set(d, act.beta));
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
      auto nx = hn::Min(hn::Max(hn::Neg(v), hn::Set(d, -88.0f)), hn::Set(d, 88.0f));
      auto s = hn::Div(hn::Set(d, 1.0f), hn::Add(hn::Set(d, 1.0f), hn::Exp(d, nx)));
      return act.kind == ActivationKind::Sigmoid ? s : hn::Mul(v, s);
    }
    case ActivationKind::Tanh: return hn::Tanh(d, v);
  }
  return v;
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
