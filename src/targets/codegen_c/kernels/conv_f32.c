/* Conv, float32: y[m] = act(b[m] + sum over the window of x * w), direct loops. */
static void pith_conv_f32(const pith_conv_shape* s, const pith_act* act, const float* x, const float* w, const float* b,
                          float* y) {
  const int32_t cg = s->C / s->group, mg = s->M / s->group;
  int32_t m, oy, ox, c, ky, kx;
  for (m = 0; m < s->M; ++m) {
    const int32_t g = m / mg;
    for (oy = 0; oy < s->OH; ++oy)
      for (ox = 0; ox < s->OW; ++ox) {
        float acc = b ? b[m] : 0.0f;
        for (c = 0; c < cg; ++c)
          for (ky = 0; ky < s->KH; ++ky) {
            const int32_t iy = oy * s->stride_h - s->pad_top + ky * s->dil_h;
            if (iy < 0 || iy >= s->H) continue;
            for (kx = 0; kx < s->KW; ++kx) {
              const int32_t ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
              if (ix < 0 || ix >= s->W) continue;
              acc += x[((g * cg + c) * s->H + iy) * s->W + ix] * w[((m * cg + c) * s->KH + ky) * s->KW + kx];
            }
          }
        y[(m * s->OH + oy) * s->OW + ox] = pith_activate(act, acc);
      }
  }
}
