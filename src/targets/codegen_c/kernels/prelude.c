/* Every exported model starts with this: the headers the kernels use. The kernels compute
   exactly what the pith runtime computes (src/runtime/kernels/activation.h, requantize.h),
   so that int8 outputs match the host bit for bit. Compile with -ffp-contract=off. */
#include <math.h>
#include <stdint.h>
#include <string.h>
