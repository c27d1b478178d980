/* pith.QConv: int32 accumulation of (x - x_zp) * (w - w_zp[m]) over the window (padding
   is x_zp, so it adds nothing), + bias[m]; real = act(acc * multiplier[m]); stored as float
   or requantized (prelude.c). x is uint8 (x_signed = 0) or int8. */
static void pith_qconv(const pith_conv_shape* s, const pith_act* act, const void* x, int x_signed, int32_t x_zp,
                       const int8_t* w, const int32_t* w_zp, const int32_t* bias, const float* multiplier,
                       const pith_qout* out, void* y) {
  const int32_t cg = s->C / s->group, mg = s->M / s->group;
  const uint8_t* xu = (const uint8_t*)x;
  const int8_t* xs = (const int8_t*)x;
  int32_t m, oy, ox, c, ky, kx;
  for (m = 0; m < s->M; ++m) {
    const int32_t g = m / mg, wz = w_zp[m];
    for (oy = 0; oy < s->OH; ++oy)
      for (ox = 0; ox < s->OW; ++ox) {
        int32_t acc = 0;
        for (c = 0; c < cg; ++c)
          for (ky = 0; ky < s->KH; ++ky) {
            const int32_t iy = oy * s->stride_h - s->pad_top + ky * s->dil_h;
            if (iy < 0 || iy >= s->H) continue;
            for (kx = 0; kx < s->KW; ++kx) {
              const int32_t ix = ox * s->stride_w - s->pad_left + kx * s->dil_w;
              const int32_t at = ((g * cg + c) * s->H + iy) * s->W + ix;
              if (ix < 0 || ix >= s->W) continue;
              acc += ((x_signed ? (int32_t)xs[at] : (int32_t)xu[at]) - x_zp) *
                     ((int32_t)w[((m * cg + c) * s->KH + ky) * s->KW + kx] - wz);
            }
          }
        if (bias) acc += bias[m];
        pith_store(out, y, (m * s->OH + oy) * s->OW + ox, pith_activate(act, (float)acc * multiplier[m]));
      }
  }
}
