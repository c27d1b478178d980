/* Requantization shared by the int8 kernels and QuantizeLinear. */
/* round half to even, then add the zero point and saturate to [lo, hi]; NaN -> zero point */
static int32_t pith_round_saturate(float v, int32_t zero_point, int32_t lo, int32_t hi) {
  float r = v != v ? 0.0f : nearbyintf(v);
  if (r < (float)(lo - zero_point)) return lo;
  if (r > (float)(hi - zero_point)) return hi;
  return (int32_t)r + zero_point;
}

/* Where a quantized kernel writes: float32, or uint8/int8 through a scale and zero point. */
enum { PITH_OUT_F32, PITH_OUT_U8, PITH_OUT_S8 };

typedef struct {
  int kind;
  float inv_scale;
  int32_t zero_point, lo, hi;
} pith_qout;

static void pith_store(const pith_qout* q, void* y, int32_t i, float real) {
  if (q->kind == PITH_OUT_F32)
    ((float*)y)[i] = real;
  else if (q->kind == PITH_OUT_U8)
    ((uint8_t*)y)[i] = (uint8_t)pith_round_saturate(real * q->inv_scale, q->zero_point, q->lo, q->hi);
  else
    ((int8_t*)y)[i] = (int8_t)pith_round_saturate(real * q->inv_scale, q->zero_point, q->lo, q->hi);
}
