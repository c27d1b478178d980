/* GlobalAveragePool, float32 (batch 1): each plane summed in double, as the runtime does,
   so the result does not depend on the order of the additions. */
static void pith_global_average_pool_f32(int32_t C, int32_t S, const float* x, float* y) {
  int32_t c, i;
  for (c = 0; c < C; ++c) {
    double s = 0.0;
    for (i = 0; i < S; ++i) s += (double)x[c * S + i];
    y[c] = S > 0 ? (float)(s / (double)S) : 0.0f;
  }
}
