// Recurrent kernels: RNN, GRU and LSTM (forward / reverse / bidirectional, optional
// bias, sequence_lens, initial states, peepholes, custom activations, clip, layout).
// One driver handles all three; the cell update is the only per-op part.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

enum class Cell { Rnn, Gru, Lstm };

struct Activation {
  enum Kind { Relu, Tanh, Sigmoid, Affine, LeakyRelu, ThresholdedRelu, ScaledTanh, HardSigmoid, Elu, Softsign, Softplus };
  Kind kind = Tanh;
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    switch (kind) {
      case Relu: return x > 0 ? x : 0;
      case Tanh: return std::tanh(x);
      case Sigmoid: return 1.0 / (1.0 + std::exp(-x));
      case Affine: return alpha * x + beta;
      case LeakyRelu: return x >= 0 ? x : alpha * x;
      case ThresholdedRelu: return x > alpha ? x : 0;
      case ScaledTanh: return alpha * std::tanh(beta * x);
      case HardSigmoid: return std::max(0.0, std::min(1.0, alpha * x + beta));
      case Elu: return x >= 0 ? x : alpha * (std::exp(x) - 1);
      case Softsign: return x / (1 + std::fabs(x));
      case Softplus: return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    }
    return x;
  }
};

std::string lower(std::string s) {
  for (auto& ch : s) ch = char(std::tolower(static_cast<unsigned char>(ch)));
  return s;
}

// Parses the activations attribute (alpha/beta consumed in order by the functions that
// take them), or returns the defaults, `per_dir` functions for each direction.
std::vector<Activation> parse_activations(const KernelContext& ctx, const std::vector<std::string>& defaults,
                                          int64_t num_dir) {
  std::vector<std::string> names;
  if (const Attribute* a = ctx.node().attr("activations")) names = a->strings;
  const size_t per_dir = defaults.size();
  if (names.empty()) {
    for (int64_t d = 0; d < num_dir; ++d) names.insert(names.end(), defaults.begin(), defaults.end());
  } else if (names.size() == per_dir && num_dir == 2) {
    auto copy = names;
    names.insert(names.end(), copy.begin(), copy.end());
  }
  KERNEL_CHECK(ctx, names.size() == per_dir * size_t(num_dir), "expected ", per_dir * size_t(num_dir),
               " activation functions, got ", names.size());
  const auto alphas = ctx.attr_floats("activation_alpha"), betas = ctx.attr_floats("activation_beta");
  size_t ai = 0, bi = 0;
  auto next_alpha = [&](double d) { return ai < alphas.size() ? double(alphas[ai++]) : d; };
  auto next_beta = [&](double d) { return bi < betas.size() ? double(betas[bi++]) : d; };
  std::vector<Activation> out;
  for (auto& raw : names) {
    const std::string n = lower(raw);
    Activation a;
    if (n == "relu") a.kind = Activation::Relu;
    else if (n == "tanh") a.kind = Activation::Tanh;
    else if (n == "sigmoid") a.kind = Activation::Sigmoid;
    else if (n == "affine") { a.kind = Activation::Affine; a.alpha = next_alpha(1.0); a.beta = next_beta(0.0); }
    else if (n == "leakyrelu") { a.kind = Activation::LeakyRelu; a.alpha = next_alpha(0.01); }
    else if (n == "thresholdedrelu") { a.kind = Activation::ThresholdedRelu; a.alpha = next_alpha(1.0); }
    else if (n == "scaledtanh") { a.kind = Activation::ScaledTanh; a.alpha = next_alpha(1.0); a.beta = next_beta(1.0); }
    else if (n == "hardsigmoid") { a.kind = Activation::HardSigmoid; a.alpha = next_alpha(0.2); a.beta = next_beta(0.5); }
    else if (n == "elu") { a.kind = Activation::Elu; a.alpha = next_alpha(1.0); }
    else if (n == "softsign") a.kind = Activation::Softsign;
    else if (n == "softplus") a.kind = Activation::Softplus;
    else ctx.fail("unsupported activation function '", raw, "'");
    out.push_back(a);
  }
  return out;
}

// Checks that tensor `t` (input `what`) has exactly `want` as its shape.
void expect_shape(const KernelContext& ctx, const Tensor& t, const Shape& want, const char* what) {
  KERNEL_CHECK(ctx, t.shape() == want, what, " must have shape ", shape_str(want), ", got ", shape_str(t.shape()));
}

template <typename T>
std::vector<T> to_vec(const Tensor& t) {
  std::vector<T> v(static_cast<size_t>(t.numel()));
  for (int64_t i = 0; i < t.numel(); ++i) v[size_t(i)] = T(t.as_double(i));
  return v;
}

// dot(a, b) over n contiguous elements.
template <typename A, typename B>
inline double dot(const A* a, const B* b, int64_t n) {
  double s = 0;
  for (int64_t k = 0; k < n; ++k) s += double(a[k]) * double(b[k]);
  return s;
}

template <typename T>
void run_recurrent(KernelContext& ctx, Cell cell, DType ct, DType orig) {
  const int64_t G = cell == Cell::Rnn ? 1 : cell == Cell::Gru ? 3 : 4;
  const int64_t layout = ctx.opset() >= 14 ? ctx.attr_int("layout", 0) : 0;
  KERNEL_CHECK(ctx, layout == 0 || layout == 1, "layout must be 0 or 1, got ", layout);
  const Tensor x = ref::promote(ctx.input(0));
  const Tensor w = ref::promote(ctx.input(1));
  const Tensor r = ref::promote(ctx.input(2));
  KERNEL_CHECK(ctx, x.rank() == 3, "X must be 3-D, got shape ", shape_str(x.shape()));
  KERNEL_CHECK(ctx, w.rank() == 3 && r.rank() == 3, "W and R must be 3-D, got ", shape_str(w.shape()), " and ",
               shape_str(r.shape()));
  const int64_t S = layout == 0 ? x.dim(0) : x.dim(1);
  const int64_t Bn = layout == 0 ? x.dim(1) : x.dim(0);
  const int64_t I = x.dim(2);
  const std::string direction = ctx.attr_string("direction", "forward");
  KERNEL_CHECK(ctx, direction == "forward" || direction == "reverse" || direction == "bidirectional",
               "direction must be forward, reverse or bidirectional, got '", direction, "'");
  const int64_t D = direction == "bidirectional" ? 2 : 1;
  const int64_t H = ctx.attr_int("hidden_size", r.dim(2));
  KERNEL_CHECK(ctx, H > 0 && H < (int64_t(1) << 32), "hidden_size must be positive, got ", H);
  expect_shape(ctx, w, {D, G * H, I}, "W");
  expect_shape(ctx, r, {D, G * H, H}, "R");
  const int64_t GH = G * H;

  std::vector<T> bias(static_cast<size_t>(D * 2 * GH), T(0));
  if (ctx.has_input(3)) {
    expect_shape(ctx, ctx.input(3), {D, 2 * GH}, "B");
    bias = to_vec<T>(ctx.input(3));
  }
  std::vector<int64_t> lens(static_cast<size_t>(Bn), S);
  if (ctx.has_input(4)) {
    const Tensor& sl = ctx.input(4);
    expect_shape(ctx, sl, {Bn}, "sequence_lens");
    lens = sl.to_int64_vector();
    for (int64_t l : lens) KERNEL_CHECK(ctx, l >= 0 && l <= S, "sequence_lens entry ", l, " is outside [0, ", S, "]");
  }
  const Shape state_shape = layout == 0 ? Shape{D, Bn, H} : Shape{Bn, D, H};
  // States are kept as [D][B][H] internally.
  auto read_state = [&](size_t i, const char* what) {
    std::vector<T> v(static_cast<size_t>(D * Bn * H), T(0));
    if (!ctx.has_input(i)) return v;
    const Tensor t = ref::promote(ctx.input(i));
    expect_shape(ctx, t, state_shape, what);
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < Bn; ++b)
        for (int64_t h = 0; h < H; ++h) {
          const int64_t src = layout == 0 ? (d * Bn + b) * H + h : (b * D + d) * H + h;
          v[size_t((d * Bn + b) * H + h)] = t.data<T>()[src];
        }
    return v;
  };
  std::vector<T> h0 = read_state(5, "initial_h");
  std::vector<T> c0;
  std::vector<T> peep(static_cast<size_t>(D * 3 * H), T(0));
  if (cell == Cell::Lstm) {
    c0 = read_state(6, "initial_c");
    if (ctx.has_input(7)) {
      expect_shape(ctx, ctx.input(7), {D, 3 * H}, "P");
      peep = to_vec<T>(ctx.input(7));
    }
  }
  const bool has_clip = ctx.has_attr("clip");
  const double clip = ctx.attr_float("clip", 0.0f);
  KERNEL_CHECK(ctx, !has_clip || clip > 0, "clip must be positive, got ", clip);
  auto clipped = [&](double v) { return has_clip ? std::max(-clip, std::min(clip, v)) : v; };
  const bool linear_before_reset = cell == Cell::Gru && ctx.attr_int("linear_before_reset", 0) != 0;
  const bool input_forget = cell == Cell::Lstm && ctx.attr_int("input_forget", 0) != 0;
  std::vector<std::string> defaults = cell == Cell::Rnn   ? std::vector<std::string>{"Tanh"}
                                      : cell == Cell::Gru ? std::vector<std::string>{"Sigmoid", "Tanh"}
                                                          : std::vector<std::string>{"Sigmoid", "Tanh", "Tanh"};
  const auto acts = parse_activations(ctx, defaults, D);
  const size_t nact = defaults.size();

  // X as [S][B][I].
  std::vector<T> xs(static_cast<size_t>(S * Bn * I));
  const T* xp = x.data<T>();
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < Bn; ++b) {
      const T* src = xp + (layout == 0 ? (t * Bn + b) * I : (b * S + t) * I);
      std::copy(src, src + I, xs.begin() + (t * Bn + b) * I);
    }

  std::vector<T> y(static_cast<size_t>(S * D * Bn * H), T(0));  // [S][D][B][H]
  std::vector<T> yh(static_cast<size_t>(D * Bn * H)), yc(static_cast<size_t>(D * Bn * H));
  std::vector<double> xw(static_cast<size_t>(GH)), rh(static_cast<size_t>(GH));
  std::vector<T> hprev(static_cast<size_t>(Bn * H)), cprev(static_cast<size_t>(Bn * H));
  std::vector<T> hnew(static_cast<size_t>(H)), cnew(static_cast<size_t>(H));
  std::vector<double> rhprev(static_cast<size_t>(H));
  const T* wp = w.data<T>();
  const T* rp = r.data<T>();
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const T* W = wp + d * GH * I;
    const T* R = rp + d * GH * H;
    const T* Wb = bias.data() + d * 2 * GH;
    const T* Rb = Wb + GH;
    const T* P = peep.data() + d * 3 * H;
    const Activation* f = acts.data() + size_t(d) * nact;
    std::copy(h0.begin() + d * Bn * H, h0.begin() + (d + 1) * Bn * H, hprev.begin());
    if (cell == Cell::Lstm) std::copy(c0.begin() + d * Bn * H, c0.begin() + (d + 1) * Bn * H, cprev.begin());
    for (int64_t s = 0; s < S; ++s) {
      for (int64_t b = 0; b < Bn; ++b) {
        const int64_t len = lens[size_t(b)];
        if (s >= len) continue;
        const int64_t t = reverse ? len - 1 - s : s;
        const T* xt = xs.data() + (t * Bn + b) * I;
        T* hp = hprev.data() + b * H;
        T* cp = cprev.data() + b * H;
        for (int64_t g = 0; g < GH; ++g) xw[size_t(g)] = dot(xt, W + g * I, I) + double(Wb[g]);
        if (cell == Cell::Rnn) {
          for (int64_t h = 0; h < H; ++h)
            hnew[size_t(h)] = T(f[0](clipped(xw[size_t(h)] + dot(hp, R + h * H, H) + double(Rb[h]))));
        } else if (cell == Cell::Gru) {
          // gates z, r, h
          for (int64_t g = 0; g < 2 * H; ++g)
            rh[size_t(g)] = f[0](clipped(xw[size_t(g)] + dot(hp, R + g * H, H) + double(Rb[g])));
          const T* Rh = R + 2 * H * H;
          if (linear_before_reset) {
            for (int64_t h = 0; h < H; ++h)
              hnew[size_t(h)] = T(f[1](clipped(xw[size_t(2 * H + h)] +
                                               rh[size_t(H + h)] * (dot(hp, Rh + h * H, H) + double(Rb[2 * H + h])))));
          } else {
            for (int64_t k = 0; k < H; ++k) rhprev[size_t(k)] = rh[size_t(H + k)] * double(hp[k]);
            for (int64_t h = 0; h < H; ++h)
              hnew[size_t(h)] = T(f[1](clipped(xw[size_t(2 * H + h)] + dot(rhprev.data(), Rh + h * H, H) +
                                               double(Rb[2 * H + h]))));
          }
          for (int64_t h = 0; h < H; ++h) {
            const double z = rh[size_t(h)];
            hnew[size_t(h)] = T((1 - z) * double(hnew[size_t(h)]) + z * double(hp[h]));
          }
        } else {
          // gates i, o, f, c; peepholes i, o, f
          for (int64_t g = 0; g < GH; ++g) rh[size_t(g)] = xw[size_t(g)] + dot(hp, R + g * H, H) + double(Rb[g]);
          for (int64_t h = 0; h < H; ++h) {
            const double cprv = double(cp[h]);
            const double it = f[0](clipped(rh[size_t(h)] + double(P[h]) * cprv));
            const double ft = input_forget ? 1.0 - it : f[0](clipped(rh[size_t(2 * H + h)] + double(P[2 * H + h]) * cprv));
            const double ctil = f[1](clipped(rh[size_t(3 * H + h)]));
            const double ct_ = ft * cprv + it * ctil;
            const double ot = f[0](clipped(rh[size_t(H + h)] + double(P[H + h]) * ct_));
            cnew[size_t(h)] = T(ct_);
            hnew[size_t(h)] = T(ot * f[2](ct_));
          }
          std::copy(cnew.begin(), cnew.end(), cp);
        }
        std::copy(hnew.begin(), hnew.end(), hp);
        std::copy(hnew.begin(), hnew.end(), y.begin() + ((t * D + d) * Bn + b) * H);
      }
    }
    std::copy(hprev.begin(), hprev.end(), yh.begin() + d * Bn * H);
    if (cell == Cell::Lstm) std::copy(cprev.begin(), cprev.end(), yc.begin() + d * Bn * H);
  }

  // Outputs, in the requested layout.
  if (ctx.num_outputs() > 0 && ctx.wants_output(0)) {
    Tensor out(ct, layout == 0 ? Shape{S, D, Bn, H} : Shape{Bn, S, D, H});
    T* op = out.data<T>();
    for (int64_t t = 0; t < S; ++t)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t b = 0; b < Bn; ++b) {
          const int64_t dst = layout == 0 ? ((t * D + d) * Bn + b) * H : ((b * S + t) * D + d) * H;
          std::copy(y.begin() + ((t * D + d) * Bn + b) * H, y.begin() + ((t * D + d) * Bn + b + 1) * H, op + dst);
        }
    ctx.set_output(0, ref::demote(out, orig));
  }
  auto emit_state = [&](size_t o, const std::vector<T>& v) {
    if (ctx.num_outputs() <= o || !ctx.wants_output(o)) return;
    Tensor out(ct, state_shape);
    T* op = out.data<T>();
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < Bn; ++b) {
        const int64_t dst = layout == 0 ? (d * Bn + b) * H : (b * D + d) * H;
        std::copy(v.begin() + (d * Bn + b) * H, v.begin() + (d * Bn + b + 1) * H, op + dst);
      }
    ctx.set_output(o, ref::demote(out, orig));
  };
  emit_state(1, yh);
  if (cell == Cell::Lstm) emit_state(2, yc);
}

void recurrent(KernelContext& ctx, Cell cell) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "X must be floating-point, got ", dtype_name(orig));
  const DType ct = ref::is_half(orig) ? DType::Float32 : orig;
  for (size_t i : {1, 2, 3, 5, 6, 7})
    if (ctx.has_input(i))
      KERNEL_CHECK(ctx, ctx.input(i).dtype() == orig, "input ", i, " must have the element type of X (",
                   dtype_name(orig), "), got ", dtype_name(ctx.input(i).dtype()));
  ref::dispatch_float(ctx, ct, [&](auto tag) {
    using T = typename decltype(tag)::type;
    run_recurrent<T>(ctx, cell, ct, orig);
  });
}

}  // namespace

void kernel_rnn(KernelContext& ctx) { recurrent(ctx, Cell::Rnn); }
void kernel_gru(KernelContext& ctx) { recurrent(ctx, Cell::Gru); }
void kernel_lstm(KernelContext& ctx) { recurrent(ctx, Cell::Lstm); }

}  // namespace pith
