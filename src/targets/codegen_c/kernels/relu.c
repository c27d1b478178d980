/* Relu, float32, n values. */
static void pith_relu_f32(int32_t n, const float* x, float* y) {
  int32_t i;
  for (i = 0; i < n; ++i) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}
