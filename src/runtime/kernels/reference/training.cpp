// Optimizer update rules from the ai.onnx.preview.training domain: Adagrad, Momentum
// and Adam. Each takes a learning rate R, an update count T, then n tensors each of
// parameters, gradients and optimizer state, and returns the updated tensors.
#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

// Splits inputs 2.. into `groups` equal runs (X..., G..., state...).
size_t group_size(KernelContext& ctx, size_t groups) {
  size_t n = ctx.num_inputs();
  KERNEL_CHECK(ctx, n >= 2 + groups && (n - 2) % groups == 0, "expects R, T and ", groups,
               " equally long lists of tensors, got ", n, " inputs");
  return (n - 2) / groups;
}

void check_same_shape(KernelContext& ctx, size_t a, size_t b) {
  KERNEL_CHECK(ctx, ctx.input(a).shape() == ctx.input(b).shape(), "inputs ", a, " and ", b,
               " must have the same shape, got ", shape_str(ctx.input(a).shape()), " and ",
               shape_str(ctx.input(b).shape()));
}

template <typename F>
void update_each(KernelContext& ctx, size_t n, size_t states, F&& f) {
  for (size_t i = 0; i < n; ++i) {
    const Tensor& x = ctx.input(2 + i);
    KERNEL_CHECK(ctx, x.dtype() == DType::Float32 || x.dtype() == DType::Float64,
                 "expects float32 or float64 tensors, got ", dtype_name(x.dtype()));
    std::vector<size_t> in = {2 + i, 2 + n + i};
    for (size_t s = 0; s < states; ++s) in.push_back(2 + (2 + s) * n + i);
    for (size_t k : in) check_same_shape(ctx, 2 + i, k);
    std::vector<Tensor> out;
    for (size_t s = 0; s <= states; ++s) out.push_back(Tensor(x.dtype(), x.shape()));
    for (int64_t e = 0; e < x.numel(); ++e) {
      double vals[4] = {0, 0, 0, 0}, res[3] = {0, 0, 0};
      for (size_t k = 0; k < in.size(); ++k) vals[k] = ctx.input(in[k]).as_double(e);
      f(vals, res);
      for (size_t s = 0; s <= states; ++s) {
        if (x.dtype() == DType::Float32) out[s].data<float>()[e] = float(res[s]);
        else out[s].data<double>()[e] = res[s];
      }
    }
    for (size_t s = 0; s <= states; ++s) ctx.set_output(s * n + i, out[s]);
  }
}

}  // namespace

void kernel_adagrad(KernelContext& ctx) {
  size_t n = group_size(ctx, 3);
  double r = ctx.input(0).as_double(0);
  double t = double(ctx.input(1).as_int64(0));
  double decay = ctx.attr_float("decay_factor", 0.f), eps = ctx.attr_float("epsilon", 1e-6f);
  double norm = ctx.attr_float("norm_coefficient", 0.f);
  double rate = r / (1 + t * decay);
  update_each(ctx, n, 1, [&](const double* v, double* out) {
    double g = norm * v[0] + v[1];
    double h = v[2] + g * g;
    out[0] = v[0] - rate * g / (std::sqrt(h) + eps);
    out[1] = h;
  });
}

void kernel_momentum(KernelContext& ctx) {
  size_t n = group_size(ctx, 3);
  double r = ctx.input(0).as_double(0);
  int64_t t = ctx.input(1).as_int64(0);
  double alpha = ctx.attr_float("alpha", 0.f), beta = ctx.attr_float("beta", 0.f);
  double norm = ctx.attr_float("norm_coefficient", 0.f);
  std::string mode = ctx.attr_string("mode", "standard");
  KERNEL_CHECK(ctx, mode == "standard" || mode == "nesterov", "mode must be 'standard' or 'nesterov', got '", mode, "'");
  double beta_adjusted = t > 0 ? beta : 1.0;
  update_each(ctx, n, 1, [&](const double* v, double* out) {
    double g = norm * v[0] + v[1];
    double vel = alpha * v[2] + beta_adjusted * g;
    out[0] = mode == "standard" ? v[0] - r * vel : v[0] - r * (g + alpha * vel);
    out[1] = vel;
  });
}

void kernel_adam(KernelContext& ctx) {
  size_t n = group_size(ctx, 4);
  double r = ctx.input(0).as_double(0);
  int64_t t = ctx.input(1).as_int64(0);
  double alpha = ctx.attr_float("alpha", 0.9f), beta = ctx.attr_float("beta", 0.999f);
  double eps = ctx.attr_float("epsilon", 1e-6f), norm = ctx.attr_float("norm_coefficient", 0.f);
  double norm_post = ctx.attr_float("norm_coefficient_post", 0.f);
  double rate = t > 0 ? r * std::sqrt(1 - std::pow(beta, double(t))) / (1 - std::pow(alpha, double(t))) : r;
  update_each(ctx, n, 2, [&](const double* v, double* out) {
    double g = norm * v[0] + v[1];
    double m = alpha * v[2] + (1 - alpha) * g;
    double h = beta * v[3] + (1 - beta) * g * g;
    double x = v[0] - rate * m / (std::sqrt(h) + eps);
    out[0] = (1 - norm_post) * x;
    out[1] = m;
    out[2] = h;
  });
}

}  // namespace pith
