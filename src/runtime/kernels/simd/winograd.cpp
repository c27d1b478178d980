// Winograd F(2x2, 3x3) convolution (winograd.h), one source for every Highway target.
// The transforms are vectorized across consecutive tiles of one tile row: with the
// input padded, the four columns of L consecutive tiles are two deinterleaving loads
// per input row, and the 2x2 outputs of L tiles are two interleaving stores per row.
#undef HWY_TARGET_INCLUDE
#define HWY_TARGET_INCLUDE "runtime/kernels/simd/winograd.cpp"
#include <hwy/foreach_target.h>  // IWYU pragma: keep
#include <hwy/highway.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "runtime/kernels/simd/sgemm.h"
#include "runtime/kernels/simd/simd_activation-inl.h"
#include "runtime/kernels/simd/winograd.h"

#ifndef PITH_WINOGRAD_GEOMETRY_ONCE  // this file is compiled once per SIMD target
#define PITH_WINOGRAD_GEOMETRY_ONCE
namespace pith::simd {
namespace {
// Columns past the last tile, so that a partial vector of tiles reads zeros in bounds.
constexpr int64_t kSlackFloats = 64;
// Scratch layout of one block: V (16 transformed input matrices in packed-B panels),
// then M (16 GEMM results, rows x block tiles each), then slack for vector over-reads.
struct BlockLayout {
  int64_t block, v_stride, m_stride, ldm;
};
BlockLayout block_layout(const WinogradParams& p, int64_t rows) {
  BlockLayout b;
  b.block = winograd_block_tiles(p);
  b.v_stride = int64_t(packed_b_floats(b.block, p.C));
  b.ldm = b.block;
  b.m_stride = rows * b.ldm;
  return b;
}
}  // namespace
}  // namespace pith::simd
#endif

HWY_BEFORE_NAMESPACE();
namespace pith::simd {
namespace HWY_NAMESPACE {
namespace hn = hwy::HWY_NAMESPACE;
using DF = hn::ScalableTag<float>;
using VF = hn::Vec<DF>;

// Writes lanes [0, n) of v as tiles jl.. of the packed-B matrix (panels of nr tiles,
// C groups of nr floats each), row c.
HWY_INLINE void StoreTiles(DF d, VF v, float* vmat, int64_t C, int64_t nr, int64_t c, int64_t jl, int64_t n) {
  const int64_t L = int64_t(hn::Lanes(d));
  float* dst = vmat + (jl / nr) * nr * C + c * nr + jl % nr;
  if (n == L && jl % nr + L <= nr) {
    hn::StoreU(v, d, dst);
    return;
  }
  HWY_ALIGN float buf[HWY_MAX_BYTES / sizeof(float)];
  hn::Store(v, d, buf);
  // At most two contiguous pieces: the rest of this panel, then the start of the next.
  const int64_t first = std::min(n, nr - jl % nr);
  std::memcpy(dst, buf, size_t(first) * sizeof(float));
  if (first < n) std::memcpy(vmat + (jl / nr + 1) * nr * C + c * nr, buf + first, size_t(n - first) * sizeof(float));
}

// V_xi for `n` tiles of one tile row starting at tile (ty, tx), block-local index jl.
void TransformInput(const WinogradParams& p, const float* padded, int64_t ty, int64_t tx, int64_t jl, int64_t n,
                    float* v, int64_t v_stride) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d)), nr = sgemm_nr();
  const int64_t ph = winograd_padded_h(p), pw = winograd_padded_w(p);
  for (int64_t done = 0; done < n; done += L) {
    const int64_t cnt = std::min(L, n - done);
    for (int64_t c = 0; c < p.C; ++c) {
      const float* src = padded + c * ph * pw + 2 * ty * pw + 2 * (tx + done);
      VF e[4][4];  // d B for each of the 4 input rows
      for (int r = 0; r < 4; ++r) {
        VF c0, c1, c2, c3;
        hn::LoadInterleaved2(d, src + r * pw, c0, c1);
        hn::LoadInterleaved2(d, src + r * pw + 2, c2, c3);
        e[r][0] = hn::Sub(c0, c2);
        e[r][1] = hn::Add(c1, c2);
        e[r][2] = hn::Sub(c2, c1);
        e[r][3] = hn::Sub(c1, c3);
      }
      for (int j = 0; j < 4; ++j) {  // B^T (d B), column j
        StoreTiles(d, hn::Sub(e[0][j], e[2][j]), v + (0 + j) * v_stride, p.C, nr, c, jl + done, cnt);
        StoreTiles(d, hn::Add(e[1][j], e[2][j]), v + (4 + j) * v_stride, p.C, nr, c, jl + done, cnt);
        StoreTiles(d, hn::Sub(e[2][j], e[1][j]), v + (8 + j) * v_stride, p.C, nr, c, jl + done, cnt);
        StoreTiles(d, hn::Sub(e[1][j], e[3][j]), v + (12 + j) * v_stride, p.C, nr, c, jl + done, cnt);
      }
    }
  }
}

// One output row of `count` floats at out: z (already biased) + residual, activation.
HWY_INLINE void StoreOutputRow(DF d, VF z0, VF z1, const float* res, const Activation& act, float* out, int64_t count) {
  const int64_t L = int64_t(hn::Lanes(d));
  if (count == 2 * L) {
    if (res) {
      VF r0, r1;
      hn::LoadInterleaved2(d, res, r0, r1);
      z0 = hn::Add(z0, r0);
      z1 = hn::Add(z1, r1);
    }
    hn::StoreInterleaved2(Activate(d, z0, act), Activate(d, z1, act), d, out);
    return;
  }
  HWY_ALIGN float buf[2 * HWY_MAX_BYTES / sizeof(float)];
  hn::StoreInterleaved2(z0, z1, d, buf);
  if (res)
    for (int64_t i = 0; i < count; ++i) buf[i] += res[i];
  hn::Store(Activate(d, hn::Load(d, buf), act), d, buf);
  hn::Store(Activate(d, hn::Load(d, buf + L), act), d, buf + L);
  std::memcpy(out, buf, size_t(count) * sizeof(float));
}

// Y = A^T M A for `n` tiles of one tile row, output channel m (block row r).
void TransformOutput(const WinogradParams& p, const float* mres, int64_t m_stride, int64_t ldm, int64_t r, int64_t m,
                     int64_t ty, int64_t tx, int64_t jl, int64_t n, const float* bias, const float* residual,
                     const Activation& act, float* y) {
  const DF d;
  const int64_t L = int64_t(hn::Lanes(d));
  const VF vb = hn::Set(d, bias ? bias[m] : 0.f);
  const int64_t plane = p.OH * p.OW, oy = 2 * ty;
  for (int64_t done = 0; done < n; done += L) {
    const int64_t cnt = std::min(L, n - done);
    const float* src = mres + r * ldm + jl + done;
    VF t0[4], t1[4];  // A^T M, rows 0 and 1
    for (int j = 0; j < 4; ++j) {
      const VF m0 = hn::LoadU(d, src + (0 + j) * m_stride), m1 = hn::LoadU(d, src + (4 + j) * m_stride);
      const VF m2 = hn::LoadU(d, src + (8 + j) * m_stride), m3 = hn::LoadU(d, src + (12 + j) * m_stride);
      t0[j] = hn::Add(hn::Add(m0, m1), m2);
      t1[j] = hn::Sub(hn::Sub(m1, m2), m3);
    }
    const VF y00 = hn::Add(hn::Add(hn::Add(t0[0], t0[1]), t0[2]), vb);
    const VF y01 = hn::Add(hn::Sub(hn::Sub(t0[1], t0[2]), t0[3]), vb);
    const VF y10 = hn::Add(hn::Add(hn::Add(t1[0], t1[1]), t1[2]), vb);
    const VF y11 = hn::Add(hn::Sub(hn::Sub(t1[1], t1[2]), t1[3]), vb);
    const int64_t ox = 2 * (tx + done);
    const int64_t count = std::min(2 * cnt, p.OW - ox);
    const int64_t off = m * plane + oy * p.OW + ox;
    StoreOutputRow(d, y00, y01, residual ? residual + off : nullptr, act, y + off, count);
    if (oy + 1 < p.OH)
      StoreOutputRow(d, y10, y11, residual ? residual + off + p.OW : nullptr, act, y + off + p.OW, count);
  }
}

void ConvBlock(const WinogradParams& p, const float* padded, const float* packed_u, int64_t m0, int64_t rows,
               int64_t t0, int64_t nt, const float* bias, const float* residual, const Activation& act, float* y,
               float* scratch) {
  const BlockLayout b = block_layout(p, rows);
  const int64_t nr = sgemm_nr(), tw = p.tiles_w();
  float* v = scratch;
  float* mres = scratch + 16 * b.v_stride;
  // Tiles past nt in the last panel are computed by the GEMM and dropped: zero them so
  // that no stale value (a denormal, a NaN) slows or trips the arithmetic.
  const int64_t padded_nt = (nt + nr - 1) / nr * nr;
  if (padded_nt > nt) {
    for (int64_t xi = 0; xi < 16; ++xi) {
      float* panel = v + xi * b.v_stride + (nt / nr) * nr * p.C;
      for (int64_t c = 0; c < p.C; ++c)
        std::memset(panel + c * nr + nt % nr, 0, size_t(padded_nt - nt) * sizeof(float));
    }
  }
  // Runs of tiles within one tile row.
  auto for_each_run = [&](auto&& fn) {
    for (int64_t jl = 0; jl < nt;) {
      const int64_t t = t0 + jl, ty = t / tw, tx = t % tw;
      const int64_t n = std::min(nt - jl, tw - tx);
      fn(ty, tx, jl, n);
      jl += n;
    }
  };
  for_each_run(
      [&](int64_t ty, int64_t tx, int64_t jl, int64_t n) { TransformInput(p, padded, ty, tx, jl, n, v, b.v_stride); });
  const GemmEpilogue none;
  const size_t u_stride = winograd_u_stride(p.M, p.C);
  for (int64_t xi = 0; xi < 16; ++xi) {
    sgemm_packed(rows, nt, p.C, packed_u + xi * u_stride + m0 * p.C, v + xi * b.v_stride, mres + xi * b.m_stride, b.ldm,
                 none);
  }
  for (int64_t r = 0; r < rows; ++r) {
    for_each_run([&](int64_t ty, int64_t tx, int64_t jl, int64_t n) {
      TransformOutput(p, mres, b.m_stride, b.ldm, r, m0 + r, ty, tx, jl, n, bias, residual, act, y);
    });
  }
}

}  // namespace HWY_NAMESPACE
}  // namespace pith::simd
HWY_AFTER_NAMESPACE();

#if HWY_ONCE
namespace pith::simd {
HWY_EXPORT(ConvBlock);

size_t winograd_u_stride(int64_t M, int64_t C) { return packed_a_floats(M, C); }

void winograd_pack_weights(const float* w, int64_t M, int64_t C, float* out) {
  // U = G g G^T with G = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1].
  static const float G[4][3] = {{1.f, 0.f, 0.f}, {.5f, .5f, .5f}, {.5f, -.5f, .5f}, {0.f, 0.f, 1.f}};
  std::vector<float> u(size_t(16 * M * C));
  for (int64_t m = 0; m < M; ++m) {
    for (int64_t c = 0; c < C; ++c) {
      const float* g = w + (m * C + c) * 9;
      float gg[4][3];  // G g
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 3; ++j) gg[i][j] = G[i][0] * g[0 * 3 + j] + G[i][1] * g[1 * 3 + j] + G[i][2] * g[2 * 3 + j];
      for (int i = 0; i < 4; ++i)
        for (int j = 0; j < 4; ++j)
          u[size_t(((i * 4 + j) * M + m) * C + c)] = gg[i][0] * G[j][0] + gg[i][1] * G[j][1] + gg[i][2] * G[j][2];
    }
  }
  const size_t stride = winograd_u_stride(M, C);
  for (int64_t xi = 0; xi < 16; ++xi) pack_a(u.data() + xi * M * C, C, 1, M, C, out + xi * stride);
}

int64_t winograd_padded_h(const WinogradParams& p) { return 2 * p.tiles_h() + 2; }
int64_t winograd_padded_w(const WinogradParams& p) { return 2 * p.tiles_w() + 2 + kSlackFloats; }
size_t winograd_padded_floats(const WinogradParams& p) {
  return size_t(p.C * winograd_padded_h(p) * winograd_padded_w(p));
}

void winograd_pad_input(const WinogradParams& p, const float* x, float* padded) {
  const int64_t ph = winograd_padded_h(p), pw = winograd_padded_w(p);
  std::memset(padded, 0, winograd_padded_floats(p) * sizeof(float));
  // Input columns [x0, x1) land inside the padded row; rows likewise.
  const int64_t x0 = std::max<int64_t>(0, -p.pad_left), x1 = std::min(p.W, pw - p.pad_left);
  for (int64_t c = 0; c < p.C; ++c) {
    for (int64_t iy = std::max<int64_t>(0, -p.pad_top); iy < p.H && iy + p.pad_top < ph; ++iy) {
      if (x1 > x0)
        std::memcpy(padded + (c * ph + iy + p.pad_top) * pw + x0 + p.pad_left, x + (c * p.H + iy) * p.W + x0,
                    size_t(x1 - x0) * sizeof(float));
    }
  }
}

int64_t winograd_block_tiles(const WinogradParams& p) {
  const int64_t nr = sgemm_nr();
  const int64_t want = std::clamp<int64_t>(16384 / std::max<int64_t>(p.C, 1), nr, 128);
  return std::min(want / nr * nr, (p.tiles() + nr - 1) / nr * nr);
}

size_t winograd_block_scratch_floats(const WinogradParams& p, int64_t rows) {
  const BlockLayout b = block_layout(p, rows);
  return size_t(16 * b.v_stride + 16 * b.m_stride + kSlackFloats);
}

void winograd_conv_block(const WinogradParams& p, const float* padded, const float* packed_u, int64_t m0, int64_t rows,
                         int64_t t0, int64_t nt, const float* bias, const float* residual, const Activation& act,
                         float* y, float* scratch) {
  HWY_DYNAMIC_DISPATCH(ConvBlock)(p, padded, packed_u, m0, rows, t0, nt, bias, residual, act, y, scratch);
}

}  // namespace pith::simd
#endif
