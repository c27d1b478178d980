/* QuantizeLinear, float32 -> uint8/int8, one scale: y = saturate(round(x / scale) + zp). */
static void pith_quantize_linear(int32_t n, const float* x, float scale, int32_t zero_point, int to_signed, void* y) {
  int32_t i;
  for (i = 0; i < n; ++i) {
    if (to_signed)
      ((int8_t*)y)[i] = (int8_t)pith_round_saturate(x[i] / scale, zero_point, -128, 127);
    else
      ((uint8_t*)y)[i] = (uint8_t)pith_round_saturate(x[i] / scale, zero_point, 0, 255);
  }
}
