// Winograd F(2x2, 3x3) convolution, float32, NCHW (Lavin and Gray, "Fast Algorithms for
// Convolutional Neural Networks", 2016). A 3x3, stride 1, dilation 1, ungrouped
// convolution is computed per 2x2 output tile d -> Y as
//   Y = A^T [ (G g G^T) . (B^T d B) ] A        (. elementwise over the 4x4 tile)
// and the sum over input channels of the elementwise products becomes 16 GEMMs, one
// per element xi of the 4x4 transformed tile:
//   M_xi (M x tiles) = U_xi (M x C) * V_xi (C x tiles)
// 2.25x fewer multiplications than direct convolution, for the price of the transforms.
//
// Layouts (written down so the packing and the kernel agree):
//   packed weights  16 packed-A matrices (sgemm.h), U_xi[m][c] = (G g[m][c] G^T)[xi],
//                   winograd_u_stride(M, C) floats apart, xi = 4 * row + column.
//   padded input    one image, C planes of winograd_padded_h x winograd_padded_w floats:
//                   the input shifted by (pad_top, pad_left), zero elsewhere, so that
//                   tile (ty, tx) reads rows 2ty..2ty+3 and columns 2tx..2tx+3.
//   tiles           2x2 output tiles numbered row-major over tiles_h x tiles_w.
#pragma once

#include <cstddef>
#include <cstdint>

#include "runtime/kernels/activation.h"

namespace pith::simd {

struct WinogradParams {
  int64_t C = 0, H = 0, W = 0;    // input channels and plane
  int64_t M = 0, OH = 0, OW = 0;  // output channels and plane
  int64_t pad_top = 0, pad_left = 0;
  int64_t tiles_h() const { return (OH + 1) / 2; }
  int64_t tiles_w() const { return (OW + 1) / 2; }
  int64_t tiles() const { return tiles_h() * tiles_w(); }
};

size_t winograd_u_stride(int64_t M, int64_t C);
// w: M x C x 3 x 3. out: 16 * winograd_u_stride(M, C) floats.
void winograd_pack_weights(const float* w, int64_t M, int64_t C, float* out);

int64_t winograd_padded_h(const WinogradParams& p);
int64_t winograd_padded_w(const WinogradParams& p);
size_t winograd_padded_floats(const WinogradParams& p);
// x: one image, C x H x W.
void winograd_pad_input(const WinogradParams& p, const float* x, float* padded);

// Tiles per block (a multiple of the GEMM's panel width): one block's transformed
// input, 16 x C x block floats, is sized to stay in the outer caches.
int64_t winograd_block_tiles(const WinogradParams& p);
size_t winograd_block_scratch_floats(const WinogradParams& p, int64_t rows);

// Output channels [m0, m0 + rows) (m0 a multiple of sgemm_mr()) for tiles [t0, t0 + nt),
// nt <= winograd_block_tiles(p): y = conv + bias (M values, or null), + residual (M x OH
// x OW, or null), activation. y and residual are one image. Every output element is
// computed the same way whatever the block and row split, so results do not depend on
// the number of threads.
void winograd_conv_block(const WinogradParams& p, const float* padded, const float* packed_u, int64_t m0, int64_t rows,
                         int64_t t0, int64_t nt, const float* bias, const float* residual, const Activation& act,
                         float* y, float* scratch);

}  // namespace pith::simd
