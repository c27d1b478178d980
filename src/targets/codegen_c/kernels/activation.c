/* Fused activations (pith.FusedConv, pith.FusedGemm, the int8 nodes), as the runtime applies them. */
enum {
  PITH_ACT_NONE,
  PITH_ACT_RELU,
  PITH_ACT_CLIP,
  PITH_ACT_LEAKY_RELU,
  PITH_ACT_HARD_SIGMOID,
  PITH_ACT_HARD_SWISH,
  PITH_ACT_SIGMOID,
  PITH_ACT_SILU,
  PITH_ACT_TANH
};

typedef struct {
  int kind;
  float alpha, beta;
} pith_act;

static float pith_activate(const pith_act* a, float x) {
  float r;
  switch (a->kind) {
    case PITH_ACT_RELU:
      return x > 0.0f ? x : 0.0f;
    case PITH_ACT_CLIP:
      return x < a->alpha ? a->alpha : (x > a->beta ? a->beta : x);
    case PITH_ACT_LEAKY_RELU:
      return x >= 0.0f ? x : a->alpha * x;
    case PITH_ACT_HARD_SIGMOID:
      r = a->alpha * x + a->beta;
      return r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r);
    case PITH_ACT_HARD_SWISH:
      r = x / 6.0f + 0.5f;
      return x * (r < 0.0f ? 0.0f : (r > 1.0f ? 1.0f : r));
    case PITH_ACT_SIGMOID:
      return 1.0f / (1.0f + expf(-x));
    case PITH_ACT_SILU:
      return x / (1.0f + expf(-x));
    case PITH_ACT_TANH:
      return tanhf(x);
    default:
      return x;
  }
}
