/* Gemm, float32, M rows: y[r][n] = act(b[n] + sum_k x[r][k] * W(n, k)); W is [N, K]
   (trans_b) or [K, N]; b is N values or absent. */
static void pith_gemm_f32(int32_t M, int32_t N, int32_t K, int trans_b, const pith_act* act, const float* x,
                          const float* w, const float* b, float* y) {
  int32_t r, n, k;
  for (r = 0; r < M; ++r)
    for (n = 0; n < N; ++n) {
      float acc = 0.0f;
      for (k = 0; k < K; ++k) acc += x[r * K + k] * (trans_b ? w[n * K + k] : w[k * N + n]);
      if (b) acc += b[n];
      y[r * N + n] = pith_activate(act, acc);
    }
}
