/* Runs the exported model (model.h) on the images in inputs.h and prints every output
   value's float32 bits, one line each ("out IMAGE INDEX BITS"), for tests/mcu/compare.py. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "inputs.h"
#include "model.h"

int main(void) {
  static float out[MODEL_OUTPUT_ELEMENTS];
  int i, j;
  for (i = 0; i < TEST_IMAGES; ++i) {
    if (model_run(test_images[i], out) != 0) return 2;
    for (j = 0; j < MODEL_OUTPUT_ELEMENTS; ++j) {
      uint32_t bits;
      memcpy(&bits, &out[j], sizeof bits);
      printf("out %d %d %08lx\n", i, j, (unsigned long)bits);
    }
  }
  printf("done\n");
  return 0;
}
