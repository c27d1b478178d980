// The int8 kernels' requantization epilogue (runtime/kernels/requantize.h) for one SIMD
// target, with the output type and the activation fixed at compile time so that the
// per-vector work is only arithmetic: no branches on the node's settings, its constants
// broadcast once. Codes are rounded by adding 1.5 * 2^23 (the float's last bit is then
// the integer's, rounded to nearest even like std::nearbyint) after clamping to the
// output's range, which gives the same codes as rounding first; NaN becomes 0 as in the
// reference (only the activations through Activate's switch can produce one). With a
// quantized output, Relu and Clip are folded into that clamp: y_scale is positive, so
// rounding x * (1 / y_scale) is monotonic in x, and clipping x to [a, b] before the
// multiplication equals clipping the product to [a / y_scale, b / y_scale] (both rounded
// products) after it. Included by qgemm.cpp and depthwise.cpp (the -inl.h convention).
#if defined(PITH_SIMD_REQUANTIZE_INL_H_) == defined(HWY_TARGET_TOGGLE)
#ifdef PITH_SIMD_REQUANTIZE_INL_H_
#undef PITH_SIMD_REQUANTIZE_INL_H_
#else
#define PITH_SIMD_REQUANTIZE_INL_H_
#endif

#include <hwy/highway.h>

#include <algorithm>
#include <utility>

#include "runtime/kernels/requantize.h"
#include "runtime/kernels/simd/simd_activation-inl.h"
#include "runtime/kernels/simd/simd_store-inl.h"

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;

// The activations other than None, Relu and Clip, out of line: one copy per file and
// target instead of one per epilogue (Tanh's and exp's polynomials were most of the
// int8 kernels' code on aarch64).
namespace {
HWY_NOINLINE hn::Vec<hn::ScalableTag<float>> ActivateOutOfLine(hn::Vec<hn::ScalableTag<float>> v,
                                                               const Activation& act) {
  return Activate(hn::ScalableTag<float>(), v, act);
}
}  // namespace

enum class OutKind { Float, U8, S8 };
// Activations applied inline; Any goes through Activate's switch (the rarer kinds).
enum class FixedActivation { None, Relu, Clip, Any };

template <OutKind kOut, FixedActivation kAct>
class Epilogue {
 public:
  using D32 = hn::ScalableTag<int32_t>;
  using DF = hn::Repartition<float, D32>;
  using V32 = hn::Vec<D32>;
  using VF = hn::Vec<DF>;
  static constexpr size_t kOutputBytes = kOut == OutKind::Float ? sizeof(float) : 1;
  // Relu and Clip become the codes' clamp (see the header comment).
  static constexpr bool kActivationInClamp =
      kOut != OutKind::Float && (kAct == FixedActivation::Relu || kAct == FixedActivation::Clip);

  explicit Epilogue(const Requantize& rq)
      : activation_(rq.activation),
        alpha_(hn::Set(DF(), rq.activation.alpha)),
        beta_(hn::Set(DF(), rq.activation.beta)),
        inv_y_scale_(hn::Set(DF(), rq.inv_y_scale)),
        lo_(hn::Set(DF(), CodeBounds(rq).first)),
        hi_(hn::Set(DF(), CodeBounds(rq).second)),
        magic_(hn::Set(DF(), 12582912.0f)),
        code_offset_(hn::Set(D32(), 0x4B400000 - rq.y_zero_point)),
        residual_s8_(rq.residual_dtype == DType::Int8),
        residual_scale_(hn::Set(DF(), rq.residual_scale)),
        residual_zero_point_(hn::Set(D32(), rq.residual_zero_point)) {}

  // Writes n (<= lanes) outputs at y for accumulators acc of one channel (its bias and
  // multiplier broadcast), with the fused residual's n codes at r (null: none).
  HWY_INLINE void Store(V32 acc, V32 bias, VF multiplier, int64_t n, char* y, const void* r) const {
    StoreSum(hn::ConvertTo(DF(), hn::Add(acc, bias)), multiplier, n, y, r);
  }
  // The same for sum = float(acc + bias), already formed (exactly) by the caller.
  HWY_INLINE void StoreSum(VF sum, VF multiplier, int64_t n, char* y, const void* r) const {
    const VF real = RealOfSum(sum, multiplier, n, r);
    if constexpr (kOut == OutKind::Float) {
      StoreFirstN(real, DF(), n, reinterpret_cast<float*>(y));
    } else {
      StoreCodes(Codes(real), n, y);
    }
  }

  // The real values (requantize.h's order of operations), which Codes turns into codes;
  // with kActivationInClamp, the activation is left to Codes.
  HWY_INLINE VF Real(V32 acc, V32 bias, VF multiplier, int64_t n, const void* r) const {
    return RealOfSum(hn::ConvertTo(DF(), hn::Add(acc, bias)), multiplier, n, r);
  }
  HWY_INLINE VF RealOfSum(VF sum, VF multiplier, int64_t n, const void* r) const {
    VF v = hn::Mul(sum, multiplier);
    if (r) v = hn::Add(v, Residual(r, n));
    if constexpr (kActivationInClamp) return v;
    return Activate(v);
  }

  // The output codes of real values, as int32 (in the output type's range).
  HWY_INLINE V32 Codes(VF real) const {
    VF t = hn::Mul(real, inv_y_scale_);
    // Only the other activations can make NaN from finite values (SiLU of -inf is
    // -inf * 0): read_requantize bounds the scales so that the others' reals are finite.
    if constexpr (kAct == FixedActivation::Any) t = hn::IfThenZeroElse(hn::IsNaN(t), t);
    t = hn::Min(hn::Max(t, lo_), hi_);
    return hn::Sub(hn::BitCast(D32(), hn::Add(t, magic_)), code_offset_);
  }

  // Narrows n codes to the output's bytes (exact: they are in range).
  HWY_INLINE void StoreCodes(V32 codes, int64_t n, char* y) const {
    const hn::Rebind<uint8_t, D32> du8;
    const hn::Rebind<int8_t, D32> ds8;
#if HWY_TARGET == HWY_AVX3 || HWY_TARGET == HWY_AVX3_DL
    // One vpmovusdb / vpmovsdb (Highway's DemoteTo packs twice and permutes).
    if constexpr (kOut == OutKind::U8)
      StoreFirstN(hn::Vec<decltype(du8)>{_mm512_cvtusepi32_epi8(codes.raw)}, du8, n, reinterpret_cast<uint8_t*>(y));
    else
      StoreFirstN(hn::Vec<decltype(ds8)>{_mm512_cvtsepi32_epi8(codes.raw)}, ds8, n, reinterpret_cast<int8_t*>(y));
#else
    if constexpr (kOut == OutKind::U8)
      StoreFirstN(hn::DemoteTo(du8, codes), du8, n, reinterpret_cast<uint8_t*>(y));
    else
      StoreFirstN(hn::DemoteTo(ds8, codes), ds8, n, reinterpret_cast<int8_t*>(y));
#endif
  }

 private:
  HWY_INLINE VF Activate(VF v) const {
    const DF df;
    if constexpr (kAct == FixedActivation::None) return v;
    if constexpr (kAct == FixedActivation::Relu) return hn::Max(v, hn::Zero(df));
    if constexpr (kAct == FixedActivation::Clip) return hn::Min(hn::Max(v, alpha_), beta_);
    if constexpr (kAct == FixedActivation::Any) return ActivateOutOfLine(v, activation_);
  }

  // The clamp of x / y_scale before rounding, relative to the zero point: the output
  // type's range, narrowed to the activation's [alpha, beta] / y_scale when it is folded
  // in (an empty intersection clips everything to the range's end it lies beyond).
  static std::pair<float, float> CodeBounds(const Requantize& rq) {
    float lo = float(rq.q_min - rq.y_zero_point), hi = float(rq.q_max - rq.y_zero_point);
    if constexpr (kActivationInClamp) {
      const float a = kAct == FixedActivation::Relu ? 0.0f : rq.activation.alpha * rq.inv_y_scale;
      const float b = kAct == FixedActivation::Relu ? hi : rq.activation.beta * rq.inv_y_scale;
      if (b < lo) return {lo, lo};
      if (a > hi) return {hi, hi};
      lo = std::max(lo, a);
      hi = std::min(hi, b);
    }
    return {lo, hi};
  }

  // The residual's real values of its n codes at r.
  HWY_INLINE VF Residual(const void* r, int64_t n) const {
    const D32 d32;
    const hn::Rebind<uint8_t, D32> du8;
    const hn::Rebind<int8_t, D32> ds8;
    const V32 codes = residual_s8_ ? hn::PromoteTo(d32, LoadFirstN(ds8, n, static_cast<const int8_t*>(r)))
                                   : hn::PromoteTo(d32, LoadFirstN(du8, n, static_cast<const uint8_t*>(r)));
    return hn::Mul(hn::ConvertTo(DF(), hn::Sub(codes, residual_zero_point_)), residual_scale_);
  }

  Activation activation_;
  VF alpha_, beta_, inv_y_scale_, lo_, hi_, magic_;
  V32 code_offset_;  // the bits of 1.5 * 2^23 less the output's zero point
  bool residual_s8_;
  VF residual_scale_;
  V32 residual_zero_point_;
};

// Calls fn(epilogue) with the Epilogue for rq's output type and activation.
template <class Fn>
HWY_INLINE void WithEpilogue(const Requantize& rq, const Fn& fn) {
  auto with_activation = [&](auto out) {
    constexpr OutKind kOut = decltype(out)::value;
    switch (rq.activation.kind) {
      case ActivationKind::None:
        return fn(Epilogue<kOut, FixedActivation::None>(rq));
      case ActivationKind::Relu:
        return fn(Epilogue<kOut, FixedActivation::Relu>(rq));
      case ActivationKind::Clip:
        return fn(Epilogue<kOut, FixedActivation::Clip>(rq));
      default:
        return fn(Epilogue<kOut, FixedActivation::Any>(rq));
    }
  };
  if (!rq.quantized_output)
    with_activation(std::integral_constant<OutKind, OutKind::Float>());
  else if (rq.output_dtype == DType::UInt8)
    with_activation(std::integral_constant<OutKind, OutKind::U8>());
  else  // int8 outputs are rare (pith's quantizer writes uint8): one generic copy
    fn(Epilogue<OutKind::S8, FixedActivation::Any>(rq));
}

// The same with the activation always through Activate's switch (Relu and Clip too: the
// same codes, since folding them into the clamp is exact): three instantiations instead
// of twelve, for the paths that are not hot (the runtime's size).
template <class Fn>
HWY_INLINE void WithGenericEpilogue(const Requantize& rq, const Fn& fn) {
  if (!rq.quantized_output)
    fn(Epilogue<OutKind::Float, FixedActivation::Any>(rq));
  else if (rq.output_dtype == DType::UInt8)
    fn(Epilogue<OutKind::U8, FixedActivation::Any>(rq));
  else
    fn(Epilogue<OutKind::S8, FixedActivation::Any>(rq));
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#endif  // include guard toggle
