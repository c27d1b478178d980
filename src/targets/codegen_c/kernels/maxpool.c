/* MaxPool (NCHW, batch 1), one definition for each element type (maxpool_f32.c, _u8, _s8):
   windows clipped to the input (padding never wins), so ceil_mode only shows in the
   output size. */
#define PITH_MAXPOOL(NAME, T)                                                                                   \
  static void NAME(int32_t C, int32_t H, int32_t W, int32_t OH, int32_t OW, int32_t KH, int32_t KW, int32_t sh, \
                   int32_t sw, int32_t pt, int32_t pl, int32_t dh, int32_t dw, const T* x, T* y) {              \
    int32_t c, oy, ox, ky, kx;                                                                                  \
    for (c = 0; c < C; ++c)                                                                                     \
      for (oy = 0; oy < OH; ++oy)                                                                               \
        for (ox = 0; ox < OW; ++ox) {                                                                           \
          int have = 0;                                                                                         \
          T best = 0;                                                                                           \
          for (ky = 0; ky < KH; ++ky) {                                                                         \
            const int32_t iy = oy * sh - pt + ky * dh;                                                          \
            if (iy < 0 || iy >= H) continue;                                                                    \
            for (kx = 0; kx < KW; ++kx) {                                                                       \
              const int32_t ix = ox * sw - pl + kx * dw;                                                        \
              T v;                                                                                              \
              if (ix < 0 || ix >= W) continue;                                                                  \
              v = x[(c * H + iy) * W + ix];                                                                     \
              if (!have || v > best) best = v, have = 1;                                                        \
            }                                                                                                   \
          }                                                                                                     \
          y[(c * OH + oy) * OW + ox] = best;                                                                    \
        }                                                                                                       \
  }
