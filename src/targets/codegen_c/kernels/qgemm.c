/* pith.QGemm, M rows: acc = sum_k (x[r][k] - x_zp) * (W(n, k) - w_zp[n]) + bias[n];
   real = act(acc * multiplier[n]); W is int8 [N, K] (trans_b) or [K, N]. */
static void pith_qgemm(int32_t M, int32_t N, int32_t K, int trans_b, const pith_act* act, const void* x, int x_signed,
                       int32_t x_zp, const int8_t* w, const int32_t* w_zp, const int32_t* bias, const float* multiplier,
                       const pith_qout* out, void* y) {
  const uint8_t* xu = (const uint8_t*)x;
  const int8_t* xs = (const int8_t*)x;
  int32_t r, n, k;
  for (r = 0; r < M; ++r)
    for (n = 0; n < N; ++n) {
      int32_t acc = 0;
      for (k = 0; k < K; ++k)
        acc += ((x_signed ? (int32_t)xs[r * K + k] : (int32_t)xu[r * K + k]) - x_zp) *
               ((int32_t)(trans_b ? w[n * K + k] : w[k * N + n]) - w_zp[n]);
      if (bias) acc += bias[n];
      pith_store(out, y, r * N + n, pith_activate(act, (float)acc * multiplier[n]));
    }
}
