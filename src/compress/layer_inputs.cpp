#include "compress/layer_inputs.h"

#include <algorithm>
#include <cmath>

namespace pith {

bool input_grams(const Node& n, const Tensor& x, const Tensor& x0, const Tensor& w, const WeightLayout& l, Grams& out) {
  const int64_t K = l.K, KA = K + 1;
  if (x.shape() != x0.shape()) return false;
  auto accumulate = [&](std::vector<double>& h, std::vector<double>& c, const float* p, const float* p0) {
    for (int64_t i = 0; i < K; ++i) {
      const double pi = p[i];
      if (pi == 0.0) continue;
      double* hr = h.data() + i * KA;
      double* cr = c.data() + i * KA;
      for (int64_t j = 0; j < K; ++j) {
        hr[j] += pi * double(p[j]);
        cr[j] += pi * double(p0[j]);
      }
      hr[K] += pi;
      cr[K] += pi;
    }
    double* hl = h.data() + K * KA;
    double* cl = c.data() + K * KA;
    for (int64_t j = 0; j < K; ++j) {
      hl[j] += double(p[j]);
      cl[j] += double(p0[j]);
    }
    hl[K] += 1.0;
    cl[K] += 1.0;
  };
  const bool conv = n.op_type == "Conv" || n.op_type == "FusedConv";
  if (!conv) {
    if (x.rank() < 1 || x.dim(-1) != K) return false;
    out.groups = 1;
    out.H.assign(1, std::vector<double>(size_t(KA * KA), 0.0));
    out.C = out.H;
    const int64_t rows = x.numel() / K;
    for (int64_t r = 0; r < rows; ++r)
      accumulate(out.H[0], out.C[0], x.data<float>() + r * K, x0.data<float>() + r * K);
    return true;
  }
  if (x.rank() != 4 || w.rank() != 4 || n.attr_string("auto_pad", "NOTSET") != "NOTSET") return false;
  out.groups = n.attr_int("group", 1);
  const int64_t groups = out.groups;
  const int64_t N = x.dim(0), C = x.dim(1), IH = x.dim(2), IW = x.dim(3), KH = w.dim(2), KW = w.dim(3);
  const int64_t Cg = C / groups;
  if (Cg * KH * KW != K) return false;
  const auto pads = n.attr_ints("pads", {0, 0, 0, 0}), strides = n.attr_ints("strides", {1, 1}),
             dil = n.attr_ints("dilations", {1, 1});
  if (pads.size() != 4 || strides.size() != 2 || dil.size() != 2) return false;
  const int64_t OH = (IH + pads[0] + pads[2] - (KH - 1) * dil[0] - 1) / strides[0] + 1;
  const int64_t OW = (IW + pads[1] + pads[3] - (KW - 1) * dil[1] - 1) / strides[1] + 1;
  if (OH <= 0 || OW <= 0) return false;
  const int64_t total = N * OH * OW, step = std::max<int64_t>(1, total / kMaxPatches);
  out.H.assign(size_t(groups), std::vector<double>(size_t(KA * KA), 0.0));
  out.C = out.H;
  std::vector<float> patch(static_cast<size_t>(K)), patch0(static_cast<size_t>(K));
  for (int64_t p = 0; p < total; p += step) {
    const int64_t img = p / (OH * OW), oy = (p / OW) % OH, ox = p % OW;
    for (int64_t gr = 0; gr < groups; ++gr) {
      int64_t k = 0;
      for (int64_t c = 0; c < Cg; ++c)
        for (int64_t ky = 0; ky < KH; ++ky)
          for (int64_t kx = 0; kx < KW; ++kx, ++k) {
            const int64_t iy = oy * strides[0] - pads[0] + ky * dil[0], ix = ox * strides[1] - pads[1] + kx * dil[1];
            const bool inside = iy >= 0 && iy < IH && ix >= 0 && ix < IW;
            const int64_t at = ((img * C + gr * Cg + c) * IH + iy) * IW + ix;
            patch[size_t(k)] = inside ? x.data<float>()[at] : 0.0f;
            patch0[size_t(k)] = inside ? x0.data<float>()[at] : 0.0f;
          }
      accumulate(out.H[size_t(gr)], out.C[size_t(gr)], patch.data(), patch0.data());
    }
  }
  return true;
}

bool cholesky_factor(std::vector<double>& A, int64_t n) {
  for (int64_t j = 0; j < n; ++j) {
    double d = A[size_t(j * n + j)];
    for (int64_t k = 0; k < j; ++k) d -= A[size_t(j * n + k)] * A[size_t(j * n + k)];
    if (!(d > 0)) return false;
    d = std::sqrt(d);
    A[size_t(j * n + j)] = d;
    for (int64_t i = j + 1; i < n; ++i) {
      double v = A[size_t(i * n + j)];
      for (int64_t k = 0; k < j; ++k) v -= A[size_t(i * n + k)] * A[size_t(j * n + k)];
      A[size_t(i * n + j)] = v / d;
    }
  }
  return true;
}

bool cholesky_solve(std::vector<double>& A, int64_t n, std::vector<double>& b) {
  if (!cholesky_factor(A, n)) return false;
  for (int64_t i = 0; i < n; ++i) {  // L y = b
    double v = b[size_t(i)];
    for (int64_t k = 0; k < i; ++k) v -= A[size_t(i * n + k)] * b[size_t(k)];
    b[size_t(i)] = v / A[size_t(i * n + i)];
  }
  for (int64_t i = n - 1; i >= 0; --i) {  // L^T z = y
    double v = b[size_t(i)];
    for (int64_t k = i + 1; k < n; ++k) v -= A[size_t(k * n + i)] * b[size_t(k)];
    b[size_t(i)] = v / A[size_t(i * n + i)];
  }
  return true;
}

bool inverse_upper_cholesky(std::vector<double>& A, int64_t n) {
  if (!cholesky_factor(A, n)) return false;
  // Linv = L^-1 (lower), then A^-1 = Linv^T Linv.
  std::vector<double> linv(size_t(n * n), 0.0);
  for (int64_t c = 0; c < n; ++c) {
    linv[size_t(c * n + c)] = 1.0 / A[size_t(c * n + c)];
    for (int64_t i = c + 1; i < n; ++i) {
      double v = 0;
      for (int64_t k = c; k < i; ++k) v -= A[size_t(i * n + k)] * linv[size_t(k * n + c)];
      linv[size_t(i * n + c)] = v / A[size_t(i * n + i)];
    }
  }
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j <= i; ++j) {
      double v = 0;
      for (int64_t k = i; k < n; ++k) v += linv[size_t(k * n + i)] * linv[size_t(k * n + j)];
      A[size_t(i * n + j)] = A[size_t(j * n + i)] = v;
    }
  if (!cholesky_factor(A, n)) return false;
  for (int64_t i = 0; i < n; ++i)  // U = L^T of the inverse
    for (int64_t j = 0; j < n; ++j) {
      if (j < i) {
        A[size_t(j * n + i)] = A[size_t(i * n + j)];
        A[size_t(i * n + j)] = 0;
      }
    }
  return true;
}

}  // namespace pith
