// Recurrent kernels: RNN, GRU and LSTM (forward / reverse / bidirectional, optional
// bias, sequence_lens, initial states, peepholes, custom activations, clip, layout).
// One driver handles all three; the cell update is the only per-op part.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <string>
#include <vector>

#include "runtime/kernels/reference/common.h"
#include "runtime/kernels/simd/scratch.h"

namespace pith {

namespace {

enum class Cell { Rnn, Gru, Lstm };

struct Activation {
  enum Kind {
    Relu,
    Tanh,
    Sigmoid,
    Affine,
    LeakyRelu,
    ThresholdedRelu,
    ScaledTanh,
    HardSigmoid,
    Elu,
    Softsign,
    Softplus
  };
  Kind kind = Tanh;
  double alpha = 0, beta = 0;

  double operator()(double x) const {
    switch (kind) {
      case Relu:
        return x > 0 ? x : 0;
      case Tanh:
        return std::tanh(x);
      case Sigmoid:
        return 1.0 / (1.0 + std::exp(-x));
      case Affine:
        return alpha * x + beta;
      case LeakyRelu:
        return x >= 0 ? x : alpha * x;
      case ThresholdedRelu:
        return x > alpha ? x : 0;
      case ScaledTanh:
        return alpha * std::tanh(beta * x);
      case HardSigmoid:
        return std::max(0.0, std::min(1.0, alpha * x + beta));
      case Elu:
        return x >= 0 ? x : alpha * (std::exp(x) - 1);
      case Softsign:
        return x / (1 + std::fabs(x));
      case Softplus:
        return std::log1p(std::exp(-std::fabs(x))) + std::max(x, 0.0);
    }
    return x;
  }
};

// a equals the lower-case b, ignoring case.
bool iequals(const char* a, const char* b) {
  for (; *a && *b; ++a, ++b)
    if (std::tolower(static_cast<unsigned char>(*a)) != *b) return false;
  return !*a && !*b;
}

// The activation functions of every direction (at most 3 per direction, 2 directions).
struct Activations {
  Activation f[6];
  size_t count = 0;
};

// Parses the activations attribute (alpha/beta consumed in order by the functions that
// take them), or returns the defaults, `per_dir` functions for each direction. Reads the
// attributes where they lie: running allocates nothing.
Activations parse_activations(const KernelContext& ctx, const char* const* defaults, size_t per_dir, int64_t num_dir) {
  const Attribute* named = ctx.node().attr("activations");
  const std::vector<std::string>* names = named && !named->strings.empty() ? &named->strings : nullptr;
  const size_t want = per_dir * size_t(num_dir);
  // Given for one direction of a bidirectional cell: the same for both.
  const bool repeat = names && names->size() == per_dir && num_dir == 2;
  const size_t given = names ? (repeat ? want : names->size()) : want;
  KERNEL_CHECK(ctx, given == want, "expected ", want, " activation functions, got ", given);
  const auto alphas = ctx.node().attr_floats_view("activation_alpha");
  const auto betas = ctx.node().attr_floats_view("activation_beta");
  size_t ai = 0, bi = 0;
  auto next_alpha = [&](double d) { return alphas && ai < alphas->size() ? double((*alphas)[ai++]) : d; };
  auto next_beta = [&](double d) { return betas && bi < betas->size() ? double((*betas)[bi++]) : d; };
  Activations out;
  for (size_t i = 0; i < want; ++i) {
    const char* n = names ? (*names)[repeat ? i % per_dir : i].c_str() : defaults[i % per_dir];
    Activation a;
    if (iequals(n, "relu"))
      a.kind = Activation::Relu;
    else if (iequals(n, "tanh"))
      a.kind = Activation::Tanh;
    else if (iequals(n, "sigmoid"))
      a.kind = Activation::Sigmoid;
    else if (iequals(n, "affine")) {
      a.kind = Activation::Affine;
      a.alpha = next_alpha(1.0);
      a.beta = next_beta(0.0);
    } else if (iequals(n, "leakyrelu")) {
      a.kind = Activation::LeakyRelu;
      a.alpha = next_alpha(0.01);
    } else if (iequals(n, "thresholdedrelu")) {
      a.kind = Activation::ThresholdedRelu;
      a.alpha = next_alpha(1.0);
    } else if (iequals(n, "scaledtanh")) {
      a.kind = Activation::ScaledTanh;
      a.alpha = next_alpha(1.0);
      a.beta = next_beta(1.0);
    } else if (iequals(n, "hardsigmoid")) {
      a.kind = Activation::HardSigmoid;
      a.alpha = next_alpha(0.2);
      a.beta = next_beta(0.5);
    } else if (iequals(n, "elu")) {
      a.kind = Activation::Elu;
      a.alpha = next_alpha(1.0);
    } else if (iequals(n, "softsign"))
      a.kind = Activation::Softsign;
    else if (iequals(n, "softplus"))
      a.kind = Activation::Softplus;
    else
      ctx.fail("unsupported activation function '", n, "'");
    out.f[out.count++] = a;
  }
  return out;
}

// The kernel's working arrays, carved from one per-thread scratch buffer that grows to
// the largest request and is then reused (steady-state runs allocate nothing). Sized by
// a first pass over the same requests.
class ScratchCarver {
 public:
  template <typename E>
  E* take(size_t n) {
    E* p = base_ ? reinterpret_cast<E*>(base_ + used_) : nullptr;
    used_ += (n * sizeof(E) + 63) / 64 * 64;
    return p;
  }
  size_t bytes() const { return used_; }
  void start(char* base) {
    base_ = base;
    used_ = 0;
  }

 private:
  char* base_ = nullptr;
  size_t used_ = 0;
};

// Checks that tensor `t` (input `what`) has exactly `want` as its shape.
void expect_shape(const KernelContext& ctx, const Tensor& t, const Shape& want, const char* what) {
  KERNEL_CHECK(ctx, t.shape() == want, what, " must have shape ", shape_str(want), ", got ", shape_str(t.shape()));
}

template <typename T>
void copy_converted(const Tensor& t, T* out) {
  for (int64_t i = 0; i < t.numel(); ++i) out[i] = T(t.as_double(i));
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

  // Working arrays: biases, sequence lengths, initial states and peepholes, X as
  // [S][B][I], Y as [S][D][B][H], the final states and one step's gates and states.
  ScratchCarver carve;
  T *bias, *h0, *c0, *peep, *xs, *y, *yh, *yc, *hprev, *cprev, *hnew, *cnew;
  double *xw, *rh, *rhprev;
  int64_t* lens;
  auto carve_all = [&] {
    bias = carve.take<T>(size_t(D * 2 * GH));
    lens = carve.take<int64_t>(size_t(Bn));
    h0 = carve.take<T>(size_t(D * Bn * H));
    c0 = carve.take<T>(size_t(D * Bn * H));
    peep = carve.take<T>(size_t(D * 3 * H));
    xs = carve.take<T>(size_t(S * Bn * I));
    y = carve.take<T>(size_t(S * D * Bn * H));
    yh = carve.take<T>(size_t(D * Bn * H));
    yc = carve.take<T>(size_t(D * Bn * H));
    hprev = carve.take<T>(size_t(Bn * H));
    cprev = carve.take<T>(size_t(Bn * H));
    hnew = carve.take<T>(size_t(H));
    cnew = carve.take<T>(size_t(H));
    xw = carve.take<double>(size_t(GH));
    rh = carve.take<double>(size_t(GH));
    rhprev = carve.take<double>(size_t(H));
  };
  carve_all();
  carve.start(reinterpret_cast<char*>(simd::thread_scratch((carve.bytes() + sizeof(float) - 1) / sizeof(float))));
  carve_all();

  std::fill_n(bias, D * 2 * GH, T(0));
  if (ctx.has_input(3)) {
    expect_shape(ctx, ctx.input(3), {D, 2 * GH}, "B");
    copy_converted<T>(ctx.input(3), bias);
  }
  std::fill_n(lens, Bn, S);
  if (ctx.has_input(4)) {
    const Tensor& sl = ctx.input(4);
    expect_shape(ctx, sl, {Bn}, "sequence_lens");
    for (int64_t b = 0; b < Bn; ++b) {
      lens[b] = sl.as_int64(b);
      KERNEL_CHECK(ctx, lens[b] >= 0 && lens[b] <= S, "sequence_lens entry ", lens[b], " is outside [0, ", S, "]");
    }
  }
  const Shape state_shape = layout == 0 ? Shape{D, Bn, H} : Shape{Bn, D, H};
  // States are kept as [D][B][H] internally.
  auto read_state = [&](size_t i, const char* what, T* v) {
    std::fill_n(v, D * Bn * H, T(0));
    if (!ctx.has_input(i)) return;
    const Tensor t = ref::promote(ctx.input(i));
    expect_shape(ctx, t, state_shape, what);
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < Bn; ++b)
        for (int64_t h = 0; h < H; ++h) {
          const int64_t src = layout == 0 ? (d * Bn + b) * H + h : (b * D + d) * H + h;
          v[(d * Bn + b) * H + h] = t.data<T>()[src];
        }
  };
  read_state(5, "initial_h", h0);
  std::fill_n(peep, D * 3 * H, T(0));
  if (cell == Cell::Lstm) {
    read_state(6, "initial_c", c0);
    if (ctx.has_input(7)) {
      expect_shape(ctx, ctx.input(7), {D, 3 * H}, "P");
      copy_converted<T>(ctx.input(7), peep);
    }
  }
  const bool has_clip = ctx.has_attr("clip");
  const double clip = ctx.attr_float("clip", 0.0f);
  KERNEL_CHECK(ctx, !has_clip || clip > 0, "clip must be positive, got ", clip);
  auto clipped = [&](double v) { return has_clip ? std::max(-clip, std::min(clip, v)) : v; };
  const bool linear_before_reset = cell == Cell::Gru && ctx.attr_int("linear_before_reset", 0) != 0;
  const bool input_forget = cell == Cell::Lstm && ctx.attr_int("input_forget", 0) != 0;
  static const char* const kRnnDefaults[] = {"Tanh"};
  static const char* const kGruDefaults[] = {"Sigmoid", "Tanh"};
  static const char* const kLstmDefaults[] = {"Sigmoid", "Tanh", "Tanh"};
  const char* const* defaults = cell == Cell::Rnn ? kRnnDefaults : cell == Cell::Gru ? kGruDefaults : kLstmDefaults;
  const size_t nact = size_t(G == 4 ? 3 : G == 3 ? 2 : 1);
  const Activations acts = parse_activations(ctx, defaults, nact, D);

  const T* xp = x.data<T>();
  for (int64_t t = 0; t < S; ++t)
    for (int64_t b = 0; b < Bn; ++b) {
      const T* src = xp + (layout == 0 ? (t * Bn + b) * I : (b * S + t) * I);
      std::copy(src, src + I, xs + (t * Bn + b) * I);
    }

  std::fill_n(y, S * D * Bn * H, T(0));  // [S][D][B][H]
  const T* wp = w.data<T>();
  const T* rp = r.data<T>();
  for (int64_t d = 0; d < D; ++d) {
    const bool reverse = direction == "reverse" || d == 1;
    const T* W = wp + d * GH * I;
    const T* R = rp + d * GH * H;
    const T* Wb = bias + d * 2 * GH;
    const T* Rb = Wb + GH;
    const T* P = peep + d * 3 * H;
    const Activation* f = acts.f + size_t(d) * nact;
    std::copy(h0 + d * Bn * H, h0 + (d + 1) * Bn * H, hprev);
    if (cell == Cell::Lstm) std::copy(c0 + d * Bn * H, c0 + (d + 1) * Bn * H, cprev);
    for (int64_t s = 0; s < S; ++s) {
      for (int64_t b = 0; b < Bn; ++b) {
        const int64_t len = lens[b];
        if (s >= len) continue;
        const int64_t t = reverse ? len - 1 - s : s;
        const T* xt = xs + (t * Bn + b) * I;
        T* hp = hprev + b * H;
        T* cp = cprev + b * H;
        for (int64_t g = 0; g < GH; ++g) xw[g] = dot(xt, W + g * I, I) + double(Wb[g]);
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
              hnew[size_t(h)] =
                  T(f[1](clipped(xw[size_t(2 * H + h)] + dot(rhprev, Rh + h * H, H) + double(Rb[2 * H + h]))));
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
            const double ft =
                input_forget ? 1.0 - it : f[0](clipped(rh[size_t(2 * H + h)] + double(P[2 * H + h]) * cprv));
            const double ctil = f[1](clipped(rh[size_t(3 * H + h)]));
            const double ct_ = ft * cprv + it * ctil;
            const double ot = f[0](clipped(rh[size_t(H + h)] + double(P[H + h]) * ct_));
            cnew[size_t(h)] = T(ct_);
            hnew[size_t(h)] = T(ot * f[2](ct_));
          }
          std::copy(cnew, cnew + H, cp);
        }
        std::copy(hnew, hnew + H, hp);
        std::copy(hnew, hnew + H, y + ((t * D + d) * Bn + b) * H);
      }
    }
    std::copy(hprev, hprev + Bn * H, yh + d * Bn * H);
    if (cell == Cell::Lstm) std::copy(cprev, cprev + Bn * H, yc + d * Bn * H);
  }

  // Outputs, in the requested layout: in the Session's arena unless they need converting
  // back to a 16-bit type.
  const bool demote = ct != orig;
  Tensor scratch_out;
  auto output = [&](size_t o, const Shape& shape) -> Tensor& {
    return demote ? scratch_out : ctx.allocate_output_uninitialized(o, ct, shape);
  };
  if (ctx.num_outputs() > 0 && ctx.wants_output(0)) {
    if (demote) scratch_out = Tensor(ct, layout == 0 ? Shape{S, D, Bn, H} : Shape{Bn, S, D, H});
    Tensor& out = output(0, layout == 0 ? Shape{S, D, Bn, H} : Shape{Bn, S, D, H});
    T* op = out.data<T>();
    for (int64_t t = 0; t < S; ++t)
      for (int64_t d = 0; d < D; ++d)
        for (int64_t b = 0; b < Bn; ++b) {
          const int64_t dst = layout == 0 ? ((t * D + d) * Bn + b) * H : ((b * S + t) * D + d) * H;
          std::copy(y + ((t * D + d) * Bn + b) * H, y + ((t * D + d) * Bn + b + 1) * H, op + dst);
        }
    if (demote) ctx.set_output(0, ref::demote(out, orig));
  }
  auto emit_state = [&](size_t o, const T* v) {
    if (ctx.num_outputs() <= o || !ctx.wants_output(o)) return;
    if (demote) scratch_out = Tensor(ct, state_shape);
    Tensor& out = output(o, state_shape);
    T* op = out.data<T>();
    for (int64_t d = 0; d < D; ++d)
      for (int64_t b = 0; b < Bn; ++b) {
        const int64_t dst = layout == 0 ? (d * Bn + b) * H : (b * D + d) * H;
        std::copy(v + (d * Bn + b) * H, v + (d * Bn + b + 1) * H, op + dst);
      }
    if (demote) ctx.set_output(o, ref::demote(out, orig));
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
