// Reference kernels for pith.FusedConv and pith.FusedGemm: the ONNX Conv/Gemm kernel
// on the first three inputs, then (FusedConv only) the residual Z added, then the
// activation (runtime/kernels/activation.h) applied in place on the fresh output.
#include "runtime/kernels/activation.h"
#include "runtime/kernels/reference/common.h"

namespace pith {

void kernel_conv(KernelContext&);
void kernel_gemm(KernelContext&);

namespace {

// Runs the ONNX `op` reference kernel `base` over the same node (it ignores the fused
// attributes) with inputs 0..2 and returns its output. The reference one, never the SIMD
// one: tests check the SIMD fused kernels against this. Called directly, not looked up,
// so that a selective build keeping FusedConv keeps its base kernel too.
Tensor run_base(KernelContext& ctx, KernelFn base, const char* op) {
  std::vector<const Tensor*> ins;
  for (size_t i = 0; i < 3; ++i) ins.push_back(ctx.has_input(i) ? &ctx.input(i) : nullptr);
  std::vector<Tensor> outs(1);
  KernelContext inner(ctx.node(), ctx.opset(), std::move(ins), outs, nullptr);
  base(inner);
  KERNEL_CHECK(ctx, outs[0].defined(), op, " produced no output");
  return outs[0];
}

// Adds z (if given) and applies the activation. y is owned by this kernel (the base
// kernels allocate their output), so it is modified in place. Non-float32 outputs are
// computed through float32.
Tensor finish(KernelContext& ctx, Tensor y, const Tensor* z) {
  const Activation act = activation_from_node(ctx.node());
  if (!z && act.kind == ActivationKind::None) return y;
  KERNEL_CHECK(ctx, dtype_is_float(y.dtype()), "fused residual/activation needs a floating-point output, got ",
               dtype_name(y.dtype()));
  const DType orig = y.dtype();
  Tensor yf = orig == DType::Float32 ? y : cast_tensor(y, DType::Float32);
  float* yd = yf.data<float>();
  const int64_t n = yf.numel();
  if (z) {
    KERNEL_CHECK(ctx, z->shape() == yf.shape(), "residual Z has shape ", shape_str(z->shape()),
                 " but the output has shape ", shape_str(yf.shape()));
    KERNEL_CHECK(ctx, z->dtype() == orig, "residual Z has type ", dtype_name(z->dtype()), ", expected ",
                 dtype_name(orig));
    Tensor zf = orig == DType::Float32 ? *z : cast_tensor(*z, DType::Float32);
    const float* zd = zf.data<float>();
    for (int64_t i = 0; i < n; ++i) yd[i] += zd[i];
  }
  if (act.kind != ActivationKind::None) {
    for (int64_t i = 0; i < n; ++i) yd[i] = apply_activation(act, yd[i]);
  }
  return orig == DType::Float32 ? yf : cast_tensor(yf, orig);
}

}  // namespace

void kernel_fused_conv(KernelContext& ctx) {
  Tensor y = run_base(ctx, &kernel_conv, "Conv");
  ctx.set_output(0, finish(ctx, std::move(y), ctx.has_input(3) ? &ctx.input(3) : nullptr));
}

void kernel_fused_gemm(KernelContext& ctx) {
  KERNEL_CHECK(ctx, ctx.num_inputs() <= 3, "FusedGemm takes at most 3 inputs (A, B, C), got ", ctx.num_inputs());
  Tensor y = run_base(ctx, &kernel_gemm, "Gemm");
  ctx.set_output(0, finish(ctx, std::move(y), nullptr));
}

}  // namespace pith
