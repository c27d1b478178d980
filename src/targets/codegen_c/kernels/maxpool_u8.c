/* MaxPool, uint8 (maxpool.c). */
PITH_MAXPOOL(pith_maxpool_u8, uint8_t)
