/* A convolution's geometry (NCHW, batch 1). */
typedef struct {
  int32_t C, H, W, M, OH, OW, KH, KW, stride_h, stride_w, pad_top, pad_left, dil_h, dil_w, group;
} pith_conv_shape;
