/* MaxPool, float32 (maxpool.c). */
PITH_MAXPOOL(pith_maxpool_f32, float)
