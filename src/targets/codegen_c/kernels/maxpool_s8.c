/* MaxPool, int8 (maxpool.c). */
PITH_MAXPOOL(pith_maxpool_s8, int8_t)
