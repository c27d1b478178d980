// Signal kernels (opset 17): DFT, STFT, HannWindow, HammingWindow, BlackmanWindow and
// MelWeightMatrix. Transforms are plain O(n^2) DFTs over a twiddle table, in double.
#include <cmath>
#include <vector>

#include "runtime/kernels/reference/common.h"

namespace pith {

namespace {

constexpr double kPi = 3.14159265358979323846;

// Scalar integer input i (a 0-D or one-element tensor).
int64_t scalar_int(const KernelContext& ctx, size_t i, const char* what) {
  const Tensor& t = ctx.input(i);
  KERNEL_CHECK(ctx, t.numel() == 1 && dtype_is_int(t.dtype()), what, " must be an integer scalar, got ",
               dtype_name(t.dtype()), " ", shape_str(t.shape()));
  return t.as_int64(0);
}

double scalar_double(const KernelContext& ctx, size_t i, const char* what) {
  const Tensor& t = ctx.input(i);
  KERNEL_CHECK(ctx, t.numel() == 1, what, " must be a scalar, got shape ", shape_str(t.shape()));
  return t.as_double(0);
}

DType output_datatype(const KernelContext& ctx) {
  const int64_t v = ctx.attr_int("output_datatype", 1);
  const DType dt = DType(int32_t(v));
  KERNEL_CHECK(ctx, v > 0 && v <= 16 && dtype_is_storable(dt) && dt != DType::Bool, "unsupported output_datatype ", v);
  return dt;
}

// One 1-D DFT of n complex inputs (re, im with stride `in_stride` in complex elements,
// `avail` of them present, the rest zero) to `bins` outputs.
struct Dft {
  int64_t n = 0;
  std::vector<double> cosv, sinv;
  explicit Dft(int64_t len) : n(len), cosv(static_cast<size_t>(len)), sinv(static_cast<size_t>(len)) {
    for (int64_t k = 0; k < n; ++k) {
      cosv[size_t(k)] = std::cos(2 * kPi * double(k) / double(n));
      sinv[size_t(k)] = std::sin(2 * kPi * double(k) / double(n));
    }
  }
  // out[k] = sum_j in[j] * exp(-+2 pi i j k / n), scaled by 1/n when inverse.
  void run(const double* re, const double* im, int64_t stride, int64_t avail, int64_t bins, bool inverse,
           double* out_re, double* out_im, int64_t out_stride) const {
    const double sign = inverse ? 1.0 : -1.0;
    for (int64_t k = 0; k < bins; ++k) {
      double sr = 0, si = 0;
      int64_t phase = 0;
      for (int64_t j = 0; j < avail; ++j) {
        const double c = cosv[size_t(phase)], s = sign * sinv[size_t(phase)];
        const double xr = re[j * stride], xi = im ? im[j * stride] : 0.0;
        sr += xr * c - xi * s;
        si += xr * s + xi * c;
        phase += k;
        if (phase >= n) phase %= n;
      }
      if (inverse) {
        sr /= double(n);
        si /= double(n);
      }
      out_re[k * out_stride] = sr;
      out_im[k * out_stride] = si;
    }
  }
};

}  // namespace

// DFT (opset 17): input [batch, ..., 1 | 2] (real or complex), transform along `axis`.
void kernel_dft(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "input must be floating-point, got ", dtype_name(orig));
  const Tensor x = cast_tensor(ctx.input(0), DType::Float64);
  const int64_t rank = x.rank();
  KERNEL_CHECK(ctx, rank >= 2 && (x.dim(-1) == 1 || x.dim(-1) == 2),
               "input must have rank >= 2 with a last dimension of 1 (real) or 2 (complex), got ",
               shape_str(x.shape()));
  const int64_t axis = ctx.attr_int("axis", 1);
  KERNEL_CHECK(ctx, axis >= -(rank - 1) && axis < rank - 1, "axis ", axis, " is out of range for signal rank ",
               rank - 1);
  const int64_t ax = axis < 0 ? axis + rank - 1 : axis;
  const bool inverse = ctx.attr_int("inverse", 0) != 0;
  const bool onesided = ctx.attr_int("onesided", 0) != 0;
  KERNEL_CHECK(ctx, !(inverse && onesided), "onesided inverse DFT is not supported");
  const int64_t len_in = x.dim(ax);
  int64_t n = len_in;
  if (ctx.has_input(1) && ctx.input(1).numel() > 0) n = scalar_int(ctx, 1, "dft_length");
  KERNEL_CHECK(ctx, n >= 1 && n <= (int64_t(1) << 24), "dft_length must be in [1, 2^24], got ", n);
  const int64_t bins = onesided ? n / 2 + 1 : n;
  const bool complex_in = x.dim(-1) == 2;
  Shape out_shape = x.shape();
  out_shape[size_t(ax)] = bins;
  out_shape.back() = 2;
  Tensor out(DType::Float64, out_shape);
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < ax; ++d) outer *= x.dim(d);
  for (int64_t d = ax + 1; d < rank - 1; ++d) inner *= x.dim(d);
  const int64_t cin = complex_in ? 2 : 1;
  const Dft dft(n);
  const double* xp = x.data<double>();
  double* op = out.data<double>();
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t i = 0; i < inner; ++i) {
      const double* base = xp + (a * len_in * inner + i) * cin;
      double* obase = op + (a * bins * inner + i) * 2;
      dft.run(base, complex_in ? base + 1 : nullptr, inner * cin, std::min(len_in, n), bins, inverse, obase, obase + 1,
              inner * 2);
    }
  ctx.set_output(0, cast_tensor(out, orig));
}

// STFT (opset 17): frames of the signal [batch, length, 1 | 2], windowed, then DFT.
void kernel_stft(KernelContext& ctx) {
  const DType orig = ctx.input(0).dtype();
  KERNEL_CHECK(ctx, dtype_is_float(orig), "signal must be floating-point, got ", dtype_name(orig));
  const Tensor x = cast_tensor(ctx.input(0), DType::Float64);
  KERNEL_CHECK(ctx, x.rank() == 3 && (x.dim(2) == 1 || x.dim(2) == 2),
               "signal must have shape [batch, length, 1 | 2], got ", shape_str(x.shape()));
  const int64_t step = scalar_int(ctx, 1, "frame_step");
  KERNEL_CHECK(ctx, step >= 1, "frame_step must be positive, got ", step);
  std::vector<double> window;
  if (ctx.has_input(2)) {
    const Tensor& w = ctx.input(2);
    KERNEL_CHECK(ctx, w.rank() == 1, "window must be 1-D, got shape ", shape_str(w.shape()));
    for (int64_t i = 0; i < w.numel(); ++i) window.push_back(w.as_double(i));
  }
  int64_t flen = int64_t(window.size());
  if (ctx.has_input(3)) {
    flen = scalar_int(ctx, 3, "frame_length");
    KERNEL_CHECK(ctx, window.empty() || int64_t(window.size()) == flen, "window length ", window.size(),
                 " differs from frame_length ", flen);
  }
  KERNEL_CHECK(ctx, flen >= 1 && flen <= (int64_t(1) << 24),
               "frame_length (or the window) must be given and in [1, 2^24]");
  if (window.empty()) window.assign(static_cast<size_t>(flen), 1.0);
  const int64_t batch = x.dim(0), length = x.dim(1), cin = x.dim(2);
  KERNEL_CHECK(ctx, length >= flen, "signal length ", length, " is shorter than frame_length ", flen);
  const bool onesided = ctx.attr_int("onesided", 1) != 0;
  const int64_t frames = (length - flen) / step + 1;
  const int64_t bins = onesided ? flen / 2 + 1 : flen;
  Tensor out(DType::Float64, {batch, frames, bins, 2});
  const Dft dft(flen);
  std::vector<double> re(static_cast<size_t>(flen)), im(static_cast<size_t>(flen));
  const double* xp = x.data<double>();
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t f = 0; f < frames; ++f) {
      for (int64_t j = 0; j < flen; ++j) {
        const double* s = xp + ((b * length) + f * step + j) * cin;
        re[size_t(j)] = s[0] * window[size_t(j)];
        im[size_t(j)] = cin == 2 ? s[1] * window[size_t(j)] : 0.0;
      }
      double* o = out.data<double>() + ((b * frames + f) * bins) * 2;
      dft.run(re.data(), im.data(), 1, flen, bins, false, o, o + 1, 2);
    }
  ctx.set_output(0, cast_tensor(out, orig));
}

namespace {

// Generalized cosine window a0 - a1 cos(2 pi n / N) + a2 cos(4 pi n / N).
void cosine_window(KernelContext& ctx, double a0, double a1, double a2) {
  const int64_t size = scalar_int(ctx, 0, "size");
  KERNEL_CHECK(ctx, size >= 0 && size < (int64_t(1) << 31), "size must be non-negative, got ", size);
  const bool periodic = ctx.attr_int("periodic", 1) != 0;
  const double denom = double(periodic ? size : size - 1);
  Tensor w(DType::Float64, {size});
  for (int64_t i = 0; i < size; ++i) {
    const double t = denom > 0 ? 2 * kPi * double(i) / denom : 0.0;
    w.data<double>()[i] = denom > 0 ? a0 - a1 * std::cos(t) + a2 * std::cos(2 * t) : 1.0;
  }
  ctx.set_output(0, cast_tensor(w, output_datatype(ctx)));
}

}  // namespace

void kernel_hannwindow(KernelContext& ctx) { cosine_window(ctx, 0.5, 0.5, 0.0); }
void kernel_hammingwindow(KernelContext& ctx) { cosine_window(ctx, 25.0 / 46.0, 21.0 / 46.0, 0.0); }
void kernel_blackmanwindow(KernelContext& ctx) { cosine_window(ctx, 0.42, 0.5, 0.08); }

// MelWeightMatrix (opset 17): triangular filters, [dft_length / 2 + 1, num_mel_bins].
void kernel_melweightmatrix(KernelContext& ctx) {
  const int64_t mel_bins = scalar_int(ctx, 0, "num_mel_bins");
  const int64_t dft_length = scalar_int(ctx, 1, "dft_length");
  const int64_t sample_rate = scalar_int(ctx, 2, "sample_rate");
  const double lower = scalar_double(ctx, 3, "lower_edge_hertz");
  const double upper = scalar_double(ctx, 4, "upper_edge_hertz");
  KERNEL_CHECK(ctx, mel_bins > 0 && dft_length > 0 && sample_rate > 0,
               "num_mel_bins, dft_length and sample_rate must be positive");
  KERNEL_CHECK(ctx, lower >= 0 && upper >= lower, "need 0 <= lower_edge_hertz <= upper_edge_hertz");
  KERNEL_CHECK(ctx, mel_bins < (int64_t(1) << 20) && dft_length < (int64_t(1) << 30),
               "num_mel_bins or dft_length too large");
  const int64_t spec_bins = dft_length / 2 + 1;
  const double low_mel = 2595 * std::log10(1 + lower / 700), high_mel = 2595 * std::log10(1 + upper / 700);
  const double mel_step = (high_mel - low_mel) / double(mel_bins + 2);
  Shape points(static_cast<size_t>(mel_bins + 2));
  for (int64_t i = 0; i < mel_bins + 2; ++i) {
    const double hz = 700 * (std::pow(10.0, (double(i) * mel_step + low_mel) / 2595) - 1);
    const double bin = std::floor(double(dft_length + 1) * hz / double(sample_rate));
    KERNEL_CHECK(ctx, std::isfinite(bin) && std::fabs(bin) < 1e15, "invalid mel edge frequencies");
    points[size_t(i)] = int64_t(bin);
  }
  Tensor out(DType::Float64, {spec_bins, mel_bins});
  double* op = out.data<double>();
  for (int64_t i = 0; i < mel_bins; ++i) {
    const int64_t lo = points[size_t(i)], center = points[size_t(i + 1)], hi = points[size_t(i + 2)];
    KERNEL_CHECK(ctx, lo >= 0 && hi < spec_bins, "mel filter ", i, " spans bins [", lo, ", ", hi,
                 "] outside the spectrogram's ", spec_bins, " bins (upper_edge_hertz too high?)");
    if (center == lo) {
      op[center * mel_bins + i] = 1;
    } else {
      for (int64_t j = lo; j <= center; ++j) op[j * mel_bins + i] = double(j - lo) / double(center - lo);
    }
    if (hi > center)
      for (int64_t j = center; j < hi; ++j) op[j * mel_bins + i] = double(hi - j) / double(hi - center);
  }
  ctx.set_output(0, cast_tensor(out, output_datatype(ctx)));
}

}  // namespace pith
